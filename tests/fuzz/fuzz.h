/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz: the shared harness of the fuzz targets (tests/fuzz/fuzz_*.c, docs/fuzzing.md).
 *
 * Each target defines LLVMFuzzerTestOneInput and nothing else global. It is built two ways:
 * with clang's libFuzzer (scripts/fuzz.sh, -DGNOMON_FUZZ=ON), and with replay_main.c as an
 * ordinary executable that replays the target's corpus (plus seeded mutations) under ctest
 * and under the ASan+UBSan build of the suite.
 *
 * Owns: the invariant check (FUZZ_CHECK: print where, then abort, so libFuzzer and the
 * replayer both record the input), and a deterministic in-memory crypto seam for the
 * targets that need one (auth, leap): no OpenSSL in the fuzz targets, so they link the
 * pure core only.
 * Does not own: any I/O beyond the failure message.
 */
#ifndef GNOMON_FUZZ_H
#define GNOMON_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline _Noreturn void fuzz_fail_(const char *cond, const char *file, int line)
{
	fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", file, line, cond);
	fflush(stderr);
	abort();
}

/* An invariant the code under test must keep for every input. */
#define FUZZ_CHECK(cond) \
	do { if (!(cond)) fuzz_fail_(#cond, __FILE__, __LINE__); } while (0)

/* --- a fake crypto seam (struct auth_crypto) ---
 * Deterministic and cheap, and sensitive to every input octet: a 64-bit FNV-1a over
 * alg ‖ a ‖ b (or key ‖ msg), stretched to 20 octets. Not a MAC, only a function the
 * targets can compute twice. With ctx pointing at a struct fuzz_seam, `fail` makes every
 * call fail (the seam-unavailable path) and `zero_sha1` makes SHA-1 return 20 zero octets
 * (so a fuzzer can write a leap-seconds.list whose "#h 0 0 0 0 0" verifies). */
struct fuzz_seam {
	bool fail;
	bool zero_sha1;
	unsigned calls;
};

static inline uint64_t fuzz_fnv(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static inline void fuzz_stretch(uint64_t h, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= h >> 29;
		h *= 0xbf58476d1ce4e5b9ULL;
		h ^= h >> 32;
		out[i] = (uint8_t)h;
	}
}

static inline bool fuzz_seam_digest(void *ctx, enum auth_alg alg, const uint8_t *a,
				    size_t a_len, const uint8_t *b, size_t b_len, uint8_t *out)
{
	struct fuzz_seam *s = ctx;
	if (s) {
		s->calls++;
		if (s->fail)
			return false;
	}
	size_t n = auth_digest_len(alg);
	if (n == 0 || (a == NULL && a_len != 0) || (b == NULL && b_len != 0))
		return false;
	if (alg == AUTH_ALG_SHA1 && s && s->zero_sha1) {
		memset(out, 0, n);
		return true;
	}
	uint8_t tag = (uint8_t)alg;
	uint64_t h = fuzz_fnv(0xcbf29ce484222325ULL, &tag, 1);
	if (a_len)
		h = fuzz_fnv(h, a, a_len);
	if (b_len)
		h = fuzz_fnv(h, b, b_len);
	fuzz_stretch(h, out, n);
	return true;
}

static inline bool fuzz_seam_cmac(void *ctx, const uint8_t key[AUTH_CMAC_KEY_LEN],
				  const uint8_t *msg, size_t msg_len, uint8_t out[16])
{
	struct fuzz_seam *s = ctx;
	if (s) {
		s->calls++;
		if (s->fail)
			return false;
	}
	if (msg == NULL && msg_len != 0)
		return false;
	uint8_t tag = AUTH_ALG_AES128_CMAC;
	uint64_t h = fuzz_fnv(0xcbf29ce484222325ULL, &tag, 1);
	h = fuzz_fnv(h, key, AUTH_CMAC_KEY_LEN);
	if (msg_len)
		h = fuzz_fnv(h, msg, msg_len);
	fuzz_stretch(h, out, 16);
	return true;
}

static inline struct auth_crypto fuzz_seam_crypto(struct fuzz_seam *s)
{
	struct auth_crypto c = { .digest = fuzz_seam_digest, .cmac = fuzz_seam_cmac, .ctx = s };
	return c;
}

#endif
