/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sim_rng: xoshiro256** and splitmix64 (see sim_rng.h), plus the variates the simulator's
 * models need.
 */
#include "sim_rng.h"

#include <math.h>
#include <string.h>

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void sim_rng_seed(struct sim_rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed * 0xd1342543de82ef95ULL ^ (stream + 0x632be59bd9b4e019ULL) * 0x9e3779b97f4a7c15ULL;
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
	if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0)
		r->s[0] = 1;
}

uint64_t sim_rng_u64(struct sim_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double sim_rng_uniform(struct sim_rng *r)
{
	return (double)(sim_rng_u64(r) >> 11) * 0x1.0p-53;
}

double sim_rng_normal(struct sim_rng *r, double sigma)
{
	/* Box-Muller; u1 in (0, 1] so the log is finite. */
	double u1 = 1.0 - sim_rng_uniform(r);
	double u2 = sim_rng_uniform(r);
	return sigma * sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

double sim_rng_exp(struct sim_rng *r, double mean)
{
	double u = 1.0 - sim_rng_uniform(r); /* (0, 1] */
	return -mean * log(u);
}

void sim_rng_fill(void *ctx, void *buf, size_t len)
{
	struct sim_rng *r = ctx;
	uint8_t *p = buf;
	while (len > 0) {
		uint64_t v = sim_rng_u64(r);
		size_t n = len < 8 ? len : 8;
		memcpy(p, &v, n);
		p += n;
		len -= n;
	}
}
