/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * replay_main: runs a libFuzzer target without libFuzzer (docs/fuzzing.md).
 *
 *   fuzz_NAME_replay [-m MUTATIONS] [-s SEED] [-l MAXLEN] PATH...
 *
 * Every PATH is a file or a directory (its regular files, not recursive, in name order).
 * Each input is passed to LLVMFuzzerTestOneInput once as it is, then MUTATIONS times
 * mutated by a seeded pseudo-random generator (bit flips, byte sets, inserts, deletes,
 * chunk copies, splices with another input, truncation, big-endian interesting values), so
 * a ctest run is reproducible: the same seed gives the same inputs. Every input sits in a
 * heap buffer of exactly its size, so a read past the end is caught by ASan.
 *
 * A failing target aborts; a signal handler then writes the input to
 * ./replay-crash-<pid>.bin and says which file and mutation produced it.
 * Exit status: 0 when every input ran, 1 on a usage or read error.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

#define REPLAY_MAX_FILES 4096
#define REPLAY_DEFAULT_MAXLEN 65536

struct input {
	char *name;
	uint8_t *data;
	size_t len;
};

/* What is running now, for the crash handler. */
static const uint8_t *cur_data;
static size_t cur_len;
static const char *cur_name;
static long cur_mutation = -1;

static void write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w <= 0)
			return;
		c += w;
		n -= (size_t)w;
	}
}

static void write_str(int fd, const char *s)
{
	write_all(fd, s, strlen(s));
}

static void write_num(int fd, long v)
{
	char b[24];
	size_t i = sizeof b;
	bool neg = v < 0;
	unsigned long u = neg ? (unsigned long)-v : (unsigned long)v;
	do {
		b[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u && i > 1);
	if (neg)
		b[--i] = '-';
	write_all(fd, b + i, sizeof b - i);
}

static void on_crash(int sig)
{
	char path[64] = "replay-crash-";
	size_t n = strlen(path);
	long pid = (long)getpid();
	char digits[24];
	size_t d = 0;
	do {
		digits[d++] = (char)('0' + pid % 10);
		pid /= 10;
	} while (pid && d < sizeof digits);
	while (d > 0 && n < sizeof path - 5)
		path[n++] = digits[--d];
	memcpy(path + n, ".bin", 5);
	write_str(2, "replay: crashed (signal ");
	write_num(2, sig);
	write_str(2, ") on ");
	write_str(2, cur_name ? cur_name : "?");
	if (cur_mutation >= 0) {
		write_str(2, " mutation ");
		write_num(2, cur_mutation);
	}
	write_str(2, ", ");
	write_num(2, (long)cur_len);
	write_str(2, " octets");
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0 && cur_data) {
		write_all(fd, cur_data, cur_len);
		close(fd);
		write_str(2, ", written to ");
		write_str(2, path);
	}
	write_str(2, "\n");
	signal(sig, SIG_DFL);
	raise(sig);
}

static bool read_file(const char *path, struct input *in)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return false;
	}
	size_t cap = 4096, len = 0;
	uint8_t *buf = malloc(cap);
	while (buf) {
		size_t r = fread(buf + len, 1, cap - len, f);
		len += r;
		if (len < cap)
			break;
		uint8_t *nb = realloc(buf, cap * 2);
		if (!nb) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = nb;
		cap *= 2;
	}
	bool err = ferror(f) != 0;
	fclose(f);
	if (!buf || err) {
		free(buf);
		fprintf(stderr, "replay: %s: read error\n", path);
		return false;
	}
	in->name = strdup(path);
	in->data = buf;
	in->len = len;
	return in->name != NULL;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool add_path(const char *path, struct input *ins, size_t *n)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return false;
	}
	if (!S_ISDIR(st.st_mode)) {
		if (*n >= REPLAY_MAX_FILES) {
			fprintf(stderr, "replay: more than %d inputs\n", REPLAY_MAX_FILES);
			return false;
		}
		if (!read_file(path, &ins[*n]))
			return false;
		(*n)++;
		return true;
	}
	DIR *dir = opendir(path);
	if (!dir) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return false;
	}
	char **names = NULL;
	size_t nn = 0, cap = 0;
	bool ok = true;
	struct dirent *de;
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		size_t l = strlen(path) + strlen(de->d_name) + 2;
		char *full = malloc(l);
		if (!full) {
			ok = false;
			break;
		}
		snprintf(full, l, "%s/%s", path, de->d_name);
		if (stat(full, &st) != 0 || !S_ISREG(st.st_mode)) {
			free(full);
			continue;
		}
		if (nn == cap) {
			cap = cap ? cap * 2 : 64;
			char **nnames = realloc(names, cap * sizeof *names);
			if (!nnames) {
				free(full);
				ok = false;
				break;
			}
			names = nnames;
		}
		names[nn++] = full;
	}
	closedir(dir);
	if (names)
		qsort(names, nn, sizeof *names, cmp_names);
	for (size_t i = 0; i < nn; i++) {
		if (ok) {
			if (*n >= REPLAY_MAX_FILES) {
				fprintf(stderr, "replay: more than %d inputs\n", REPLAY_MAX_FILES);
				ok = false;
			} else if (read_file(names[i], &ins[*n])) {
				(*n)++;
			} else {
				ok = false;
			}
		}
		free(names[i]);
	}
	free(names);
	return ok;
}

/* --- a small seeded mutator (xorshift64*) --- */
static uint64_t rng_state;

static uint64_t rng(void)
{
	uint64_t x = rng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static size_t rng_below(size_t n)
{
	return n ? (size_t)(rng() % n) : 0;
}

static const uint8_t interesting8[] = { 0x00, 0x01, 0x7f, 0x80, 0xff, '\n', ' ', '#', '"',
					'\\', ':', '{', '[', '0', '9', 0x23, 0x24, 0xe4 };
static const uint16_t interesting16[] = { 0, 1, 4, 12, 16, 20, 24, 28, 48, 0x7fff, 0x8000,
					  0xffff, 468, 469, 1024 };

/* Mutate buf[0..len) in place (capacity cap) and return the new length. */
static size_t mutate(uint8_t *buf, size_t len, size_t cap, const struct input *ins, size_t n)
{
	unsigned rounds = 1 + (unsigned)rng_below(4);
	for (unsigned r = 0; r < rounds; r++) {
		switch (rng_below(9)) {
		case 0: /* flip a bit */
			if (len)
				buf[rng_below(len)] ^= (uint8_t)(1u << rng_below(8));
			break;
		case 1: /* set a random byte */
			if (len)
				buf[rng_below(len)] = (uint8_t)rng();
			break;
		case 2: /* set an interesting byte */
			if (len)
				buf[rng_below(len)] = interesting8[rng_below(sizeof interesting8)];
			break;
		case 3: { /* insert bytes */
			size_t k = 1 + rng_below(8);
			if (len + k > cap)
				break;
			size_t at = rng_below(len + 1);
			memmove(buf + at + k, buf + at, len - at);
			uint8_t b = rng_below(2) ? (uint8_t)rng()
						 : interesting8[rng_below(sizeof interesting8)];
			for (size_t i = 0; i < k; i++)
				buf[at + i] = b;
			len += k;
			break;
		}
		case 4: { /* delete a range */
			if (!len)
				break;
			size_t at = rng_below(len);
			size_t k = 1 + rng_below(len - at < 16 ? len - at : 16);
			memmove(buf + at, buf + at + k, len - at - k);
			len -= k;
			break;
		}
		case 5: { /* copy a chunk over another place */
			if (len < 2)
				break;
			size_t from = rng_below(len), to = rng_below(len);
			size_t k = 1 + rng_below(32);
			if (k > len - from)
				k = len - from;
			if (k > len - to)
				k = len - to;
			memmove(buf + to, buf + from, k);
			break;
		}
		case 6: { /* splice: the tail of another input from a random point */
			const struct input *o = &ins[rng_below(n)];
			size_t at = rng_below(len + 1);
			size_t from = rng_below(o->len + 1);
			size_t k = o->len - from;
			if (at + k > cap)
				k = cap - at;
			memcpy(buf + at, o->data + from, k);
			len = at + k;
			break;
		}
		case 7: /* truncate */
			len = rng_below(len + 1);
			break;
		case 8: { /* a 16-bit big-endian interesting value (lengths, counts) */
			if (len < 2)
				break;
			size_t at = rng_below(len - 1);
			uint16_t v = interesting16[rng_below(sizeof interesting16 / sizeof interesting16[0])];
			buf[at] = (uint8_t)(v >> 8);
			buf[at + 1] = (uint8_t)v;
			break;
		}
		}
	}
	return len;
}

/* Run the target on an exactly sized copy of data[0..len). */
static void run_one(const uint8_t *data, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy) {
		fprintf(stderr, "replay: out of memory\n");
		exit(1);
	}
	if (len)
		memcpy(copy, data, len);
	cur_data = copy;
	cur_len = len;
	LLVMFuzzerTestOneInput(copy, len);
	cur_data = NULL;
	free(copy);
}

static void usage(void)
{
	fprintf(stderr, "usage: replay [-m MUTATIONS] [-s SEED] [-l MAXLEN] PATH...\n");
}

int main(int argc, char **argv)
{
	long mutations = 0;
	unsigned long long seed = 1;
	size_t maxlen = REPLAY_DEFAULT_MAXLEN;
	int opt;
	while ((opt = getopt(argc, argv, "m:s:l:")) != -1) {
		char *end;
		switch (opt) {
		case 'm':
			mutations = strtol(optarg, &end, 10);
			if (*end || mutations < 0) {
				usage();
				return 1;
			}
			break;
		case 's':
			seed = strtoull(optarg, &end, 10);
			if (*end) {
				usage();
				return 1;
			}
			break;
		case 'l': {
			long l = strtol(optarg, &end, 10);
			if (*end || l < 1) {
				usage();
				return 1;
			}
			maxlen = (size_t)l;
			break;
		}
		default:
			usage();
			return 1;
		}
	}
	if (optind >= argc) {
		usage();
		return 1;
	}
	struct input *ins = calloc(REPLAY_MAX_FILES, sizeof *ins);
	if (!ins)
		return 1;
	size_t n = 0;
	for (int i = optind; i < argc; i++)
		if (!add_path(argv[i], ins, &n))
			return 1;
	if (n == 0) {
		fprintf(stderr, "replay: no inputs\n");
		return 1;
	}
	signal(SIGABRT, on_crash);
	signal(SIGSEGV, on_crash);
	signal(SIGBUS, on_crash);
	signal(SIGFPE, on_crash);
	signal(SIGILL, on_crash);

	rng_state = seed * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL;
	if (rng_state == 0)
		rng_state = 1;
	size_t cap = maxlen;
	for (size_t i = 0; i < n; i++)
		if (ins[i].len > cap)
			cap = ins[i].len;
	cap += 64;
	uint8_t *buf = malloc(cap);
	if (!buf)
		return 1;
	unsigned long runs = 0;
	for (size_t i = 0; i < n; i++) {
		cur_name = ins[i].name;
		cur_mutation = -1;
		run_one(ins[i].data, ins[i].len);
		runs++;
		for (long m = 0; m < mutations; m++) {
			cur_mutation = m;
			memcpy(buf, ins[i].data, ins[i].len);
			size_t len = mutate(buf, ins[i].len, cap, ins, n);
			if (len > maxlen)
				len = maxlen;
			run_one(buf, len);
			runs++;
		}
	}
	printf("replay: %zu inputs, %ld mutations each (seed %llu): %lu runs, no failure\n", n,
	       mutations, seed, runs);
	for (size_t i = 0; i < n; i++) {
		free(ins[i].name);
		free(ins[i].data);
	}
	free(ins);
	free(buf);
	return 0;
}
