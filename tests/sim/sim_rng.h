/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sim_rng: the simulator's seeded random numbers (xoshiro256** seeded through splitmix64,
 * both public-domain algorithms by Blackman and Vigna, written here from their papers).
 * Deterministic on every platform for the integer and uniform draws; normal and exponential
 * variates go through libm (log, sqrt, cos).
 *
 * Owns: one generator's state. Each independent random process in the simulator (a
 * node's oscillator wander, each link direction, each engine's own randomness) gets its
 * own stream, derived from the run seed and a stream number, so adding events of one kind
 * never shifts the draws of another.
 */
#ifndef SIM_RNG_H
#define SIM_RNG_H

#include <stddef.h>
#include <stdint.h>

struct sim_rng {
	uint64_t s[4];
};

/* Seed from a run seed and a stream number. */
void sim_rng_seed(struct sim_rng *r, uint64_t seed, uint64_t stream);
uint64_t sim_rng_u64(struct sim_rng *r);
/* Uniform on [0, 1), 53 bits. */
double sim_rng_uniform(struct sim_rng *r);
/* Normal with mean 0 and standard deviation sigma. */
double sim_rng_normal(struct sim_rng *r, double sigma);
/* Exponential with the given mean (0 gives 0). */
double sim_rng_exp(struct sim_rng *r, double mean);
/* Fill buf with random octets (the engine's ntp_random_fn: ctx is a struct sim_rng). */
void sim_rng_fill(void *ctx, void *buf, size_t len);

#endif
