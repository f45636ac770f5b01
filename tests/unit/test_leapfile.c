/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_leapfile: the daemon's leap second file. Loading Debian's file, a missing file,
 * refusals (bad hash, bad line) with one log line each however often re-read, a refused
 * update keeping the good table, an updated file picked up at the hourly re-read, an
 * expired file kept (the decision falls back to the sources).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto_openssl.h"
#include "leapfile.h"
#include "os_file.h"
#include "os_log.h"
#include "tcrypto.h"

#define S 1000000000LL
#define H (3600 * S)
#define NOW_2020 (1577836800LL * S)     /* 2020-01-01: both test files valid */

static char dir[256], logpath[300], target[300];

static int setup(void **state)
{
	if (tcrypto_setup(state) != 0)
		return -1;
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof dir, "%s/gnomon-leapfile-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	snprintf(logpath, sizeof logpath, "%s/log", dir);
	snprintf(target, sizeof target, "%s/leap-seconds.list", dir);
	log_init("test_leapfile", OS_LOG_FILE, logpath, LOG_DEBUG);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	log_fini();
	tcrypto_teardown(state);
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Install tests/data/leap/<name> as the file under test. */
static void install(const char *name)
{
	const char *data = getenv("GNOMON_TEST_DATA");
	char src[512], err[128];
	snprintf(src, sizeof src, "%s/leap/%s", data ? data : "tests/data", name);
	size_t len;
	char *text = os_file_read(src, 1 << 20, &len, err, sizeof err);
	if (!text)
		fail_msg("%s: %s", src, err);
	FILE *f = fopen(target, "we");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
	free(text);
}

static unsigned log_count(const char *needle)
{
	size_t len;
	char err[64];
	char *text = os_file_read(logpath, 1 << 20, &len, err, sizeof err);
	unsigned n = 0;
	for (const char *p = text; p && (p = strstr(p, needle)); p++)
		n++;
	free(text);
	return n;
}

static void test_lifecycle(void **state)
{
	(void)state;
	unlink(target);
	struct leapfile *lf = leapfile_new(target, &tcrypto.seam);
	assert_non_null(lf);
	bool changed = true;

	/* absent: info, no table */
	assert_int_equal(leapfile_load(lf, NOW_2020, 0, &changed), LEAP_ERR_CORRUPT);
	assert_false(changed);
	assert_null(leapfile_table(lf));
	assert_int_equal(log_count("no leap second file"), 1);
	assert_int_equal(log_count("[warning]"), 0);
	/* nothing to do before the hour */
	assert_false(leapfile_refresh(lf, NOW_2020, H - 1));
	assert_int_equal(leapfile_next_check(lf), H);

	/* the file appears: picked up at the hourly re-read */
	install("leap-seconds.list");
	assert_false(leapfile_refresh(lf, NOW_2020, H - 1));
	assert_true(leapfile_refresh(lf, NOW_2020, H));
	const struct leap_table *t = leapfile_table(lf);
	assert_non_null(t);
	assert_int_equal(t->n, 28);
	assert_int_equal(log_count("28 entries, TAI-UTC now 37 s"), 1);
	assert_int_equal(log_count("expires 2026-06-28"), 1);
	/* the same file again: no change, no log */
	assert_false(leapfile_refresh(lf, NOW_2020, 2 * H));
	assert_int_equal(log_count("28 entries"), 1);

	/* damaged: refused once in the log, the good table kept */
	install("leap-seconds-badhash.list");
	for (int i = 3; i < 10; i++)
		assert_false(leapfile_refresh(lf, NOW_2020, i * H));
	assert_int_equal(log_count("refused (bad hash)"), 1);
	assert_int_equal(log_count("keeping the table read before"), 1);
	assert_int_equal(leapfile_table(lf)->n, 28);
	install("leap-seconds-badline.list");
	assert_false(leapfile_refresh(lf, NOW_2020, 10 * H));
	assert_int_equal(log_count("refused (corrupt): line 112"), 1);
	install("leap-seconds-nohash.list");
	assert_false(leapfile_refresh(lf, NOW_2020, 11 * H));
	assert_int_equal(log_count("refused (no hash)"), 1);
	assert_int_equal(leapfile_table(lf), t);
	assert_int_equal(t->n, 28);

	/* a different good file: taken (here an older one; a real update works the same) */
	install("leap-seconds-expired-2016.list");
	assert_true(leapfile_refresh(lf, NOW_2020, 12 * H));
	assert_int_equal(leapfile_table(lf)->n, 27);
	assert_int_equal(log_count("27 entries"), 1);
	assert_int_equal(log_count("expired 2016-12-28"), 1);
	/* expired is reported as such, and kept */
	assert_int_equal(leapfile_load(lf, NOW_2020, 13 * H, &changed), LEAP_ERR_EXPIRED);
	assert_false(changed);
	assert_non_null(leapfile_table(lf));
	/* back to the current file: valid */
	install("leap-seconds.list");
	assert_int_equal(leapfile_load(lf, NOW_2020, 14 * H, &changed), LEAP_OK);
	assert_true(changed);
	/* the bad hash comes back: logged again (a new refusal after a good read) */
	install("leap-seconds-badhash.list");
	assert_false(leapfile_refresh(lf, NOW_2020, 15 * H));
	assert_int_equal(log_count("refused (bad hash)"), 2);
	leapfile_free(lf);

	/* a directory: a warning, not a crash */
	lf = leapfile_new(dir, &tcrypto.seam);
	assert_int_equal(leapfile_load(lf, NOW_2020, 0, &changed), LEAP_ERR_CORRUPT);
	assert_int_equal(log_count("not a regular file"), 1);
	leapfile_free(lf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lifecycle),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
