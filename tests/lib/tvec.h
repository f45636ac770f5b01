/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tvec: access to the golden vectors in tests/data/vectors (see its README.md) for C tests.
 *
 * Owns: finding the data directory (env GNOMON_TEST_DATA, set by ctest, else the source
 * tree's tests/data), loading one vector file, and decoding the vectors' text forms: hex
 * payloads, "ssssssss.ffffffff" timestamps, 8-digit hex short-format values.
 *
 * Does not own: JSON parsing (tjson.h) or any judgement of the packets (the tests do that).
 */
#ifndef TVEC_H
#define TVEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tjson.h"

/* The seven vector files, in a fixed order. */
extern const char *const tvec_files[];
extern const size_t tvec_n_files;

/* Path of a file under the test data directory, e.g. tvec_path("vectors/auth.json").
 * Returns a static buffer (tests are single-threaded). */
const char *tvec_path(const char *rel);

/* Load tests/data/vectors/<name>; aborts the test program with a message on failure
 * (missing test data is a broken checkout, not a skip). */
struct tjson *tvec_load(const char *name);

/* The "vectors" array of a loaded file, and packets[] of one vector. */
const struct tjson *tvec_vectors(const struct tjson *file);
const struct tjson *tvec_packets(const struct tjson *vector);

/* Hex to bytes. Returns the byte count, or -1 if odd length, a bad digit or > cap. */
long tvec_hex(const char *hex, uint8_t *out, size_t cap);
/* "eeacaa7e.26808800" -> 0xeeacaa7e26808800. False if malformed. */
bool tvec_ts64(const char *s, uint64_t *out);
/* "00010000" -> 0x00010000. False if not exactly 8 hex digits. */
bool tvec_u32hex(const char *s, uint32_t *out);

#endif
