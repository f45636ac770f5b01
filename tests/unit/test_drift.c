/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_drift: the drift file in a real temporary directory. Reading at start (absent,
 * sane, garbage, out of range, a directory, a symlink loop, too long: a warning and no
 * value, never a crash), the atomic replacement (a new inode renamed over the old one: a
 * hard link to the old file keeps the old text; no temporary file left; a stale temporary
 * file or a symlink in its place is dealt with), the once-an-hour policy through the
 * module, a failing write (retried no sooner than the interval), and the write at exit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "drift.h"
#include "os_atomic.h"
#include "os_file.h"
#include "os_log.h"

#define S 1000000000LL
#define H (3600 * S)

static char dir[256];
static char logpath[300];

static int setup(void **state)
{
	(void)state;
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof dir, "%s/gnomon-drift-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	snprintf(logpath, sizeof logpath, "%s/log", dir);
	log_init("test_drift", OS_LOG_FILE, logpath, LOG_DEBUG);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	log_fini();
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void path_of(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", dir, name);
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *get(const char *path)
{
	size_t len;
	char err[128];
	return os_file_read(path, 1 << 16, &len, err, sizeof err);
}

/* Lines of the log containing needle (the log file is shared by the tests). */
static unsigned log_count(const char *needle)
{
	char *text = get(logpath);
	unsigned n = 0;
	for (const char *p = text; p && (p = strstr(p, needle)); p++)
		n++;
	free(text);
	return n;
}

static void test_load(void **state)
{
	(void)state;
	char p[300];
	double ppm = 99;
	path_of(p, sizeof p, "load.drift");
	struct drift *d = drift_new(p, NULL);
	assert_non_null(d);
	assert_string_equal(drift_path(d), p);

	/* absent: no value, an info line, no warning */
	assert_false(drift_load(d, 0, &ppm));
	assert_true(ppm == 0.0);
	assert_int_equal(log_count("none yet"), 1);

	put(p, "-17.250\n");
	assert_true(drift_load(d, 0, &ppm));
	assert_true(ppm == -17.25);

	/* chrony's two numbers */
	put(p, "3.5 0.02\n");
	assert_true(drift_load(d, 0, &ppm));
	assert_true(ppm == 3.5);

	unsigned w0 = log_count("[warning]");
	put(p, "garbage\n");
	assert_false(drift_load(d, 0, &ppm));
	assert_true(ppm == 0.0);
	assert_int_equal(log_count("not a number"), 1);
	put(p, "612.5\n");
	assert_false(drift_load(d, 0, &ppm));
	assert_int_equal(log_count("outside"), 1);
	put(p, "");
	assert_false(drift_load(d, 0, &ppm));
	assert_int_equal(log_count("empty"), 1);
	/* binary junk (an SD card's bad block) */
	FILE *f = fopen(p, "we");
	for (int i = 0; i < 3000; i++)
		fputc((i * 37) & 0xff, f);
	fclose(f);
	assert_false(drift_load(d, 0, &ppm));
	/* too long */
	f = fopen(p, "we");
	for (int i = 0; i < 5000; i++)
		fputc(' ', f);
	fclose(f);
	assert_false(drift_load(d, 0, &ppm));
	assert_int_equal(log_count("larger than"), 1);
	drift_free(d);

	/* a directory where the file should be */
	path_of(p, sizeof p, "adir");
	assert_int_equal(mkdir(p, 0755), 0);
	d = drift_new(p, NULL);
	assert_false(drift_load(d, 0, &ppm));
	assert_int_equal(log_count("not a regular file"), 1);
	drift_free(d);

	/* a symlink loop */
	char q[300];
	path_of(p, sizeof p, "loop1");
	path_of(q, sizeof q, "loop2");
	assert_int_equal(symlink(q, p), 0);
	assert_int_equal(symlink(p, q), 0);
	d = drift_new(p, NULL);
	assert_false(drift_load(d, 0, &ppm));
	drift_free(d);
	assert_int_equal(log_count("[warning]"), w0 + 7);
}

static void test_atomic_replace(void **state)
{
	(void)state;
	char p[300], oldl[300], tmp[320];
	path_of(p, sizeof p, "atomic.drift");
	path_of(oldl, sizeof oldl, "atomic.old");
	snprintf(tmp, sizeof tmp, "%s%s", p, OS_ATOMIC_TMP_SUFFIX);
	char err[256];

	assert_int_equal(os_atomic_write(p, "1.000\n", 6, 0644, err, sizeof err), 0);
	struct stat st1, st2;
	assert_int_equal(stat(p, &st1), 0);
	assert_int_equal(st1.st_mode & 0777, 0644 & ~(mode_t)022 & 0777);
	assert_int_equal(link(p, oldl), 0);

	assert_int_equal(os_atomic_write(p, "2.000\n", 6, 0644, err, sizeof err), 0);
	assert_int_equal(stat(p, &st2), 0);
	assert_true(st1.st_ino != st2.st_ino);  /* renamed over, not rewritten in place */
	char *a = get(p), *b = get(oldl);
	assert_string_equal(a, "2.000\n");
	assert_string_equal(b, "1.000\n");
	free(a);
	free(b);
	assert_int_not_equal(access(tmp, F_OK), 0);

	/* a stale temporary file from a crash */
	put(tmp, "half a val");
	assert_int_equal(os_atomic_write(p, "3.000\n", 6, 0600, err, sizeof err), 0);
	assert_int_not_equal(access(tmp, F_OK), 0);
	a = get(p);
	assert_string_equal(a, "3.000\n");
	free(a);
	assert_int_equal(stat(p, &st2), 0);
	assert_int_equal(st2.st_mode & 0777, 0600);

	/* a symlink planted as the temporary file is removed, its target untouched */
	char victim[300];
	path_of(victim, sizeof victim, "victim");
	put(victim, "precious\n");
	assert_int_equal(symlink(victim, tmp), 0);
	assert_int_equal(os_atomic_write(p, "4.000\n", 6, 0644, err, sizeof err), 0);
	a = get(victim);
	assert_string_equal(a, "precious\n");
	free(a);
	a = get(p);
	assert_string_equal(a, "4.000\n");
	free(a);
	struct stat lst;
	assert_int_equal(lstat(p, &lst), 0);
	assert_true(S_ISREG(lst.st_mode));

	/* failures: -errno and the step named, nothing left behind */
	char nodir[300];
	path_of(nodir, sizeof nodir, "missing/x.drift");
	assert_int_equal(os_atomic_write(nodir, "1\n", 2, 0644, err, sizeof err), -ENOENT);
	assert_non_null(strstr(err, "create"));
	assert_non_null(strstr(err, "missing/x.drift.tmp"));
	/* the target is a directory: rename fails, the temporary file is removed */
	char adir[300], adirtmp[320];
	path_of(adir, sizeof adir, "target-dir");
	assert_int_equal(mkdir(adir, 0755), 0);
	char inner[320];
	snprintf(inner, sizeof inner, "%s/keep", adir);
	put(inner, "x");   /* non-empty: rename(2) of a file over it fails */
	assert_true(os_atomic_write(adir, "1\n", 2, 0644, err, sizeof err) < 0);
	assert_non_null(strstr(err, "rename"));
	snprintf(adirtmp, sizeof adirtmp, "%s%s", adir, OS_ATOMIC_TMP_SUFFIX);
	assert_int_not_equal(access(adirtmp, F_OK), 0);
	/* a path too long */
	char longp[5000];
	memset(longp, 'a', sizeof longp - 1);
	longp[sizeof longp - 1] = '\0';
	assert_int_equal(os_atomic_write(longp, "1\n", 2, 0644, err, sizeof err), -ENAMETOOLONG);
	/* an empty write is a valid (empty) file */
	assert_int_equal(os_atomic_write(p, "", 0, 0644, err, sizeof err), 0);
	assert_int_equal(stat(p, &st2), 0);
	assert_int_equal(st2.st_size, 0);
}

static void test_policy_through_module(void **state)
{
	(void)state;
	char p[300];
	path_of(p, sizeof p, "policy.drift");
	struct drift *d = drift_new(p, NULL);
	double ppm;
	assert_false(drift_load(d, 0, &ppm));

	/* no file: the first value is written */
	assert_int_equal(drift_update(d, 12.3456, 10 * S), DRIFTPOL_WRITE_FIRST);
	char *t = get(p);
	assert_string_equal(t, "12.346\n");
	free(t);
	struct stat st1, st2;
	assert_int_equal(stat(p, &st1), 0);
	/* within the hour nothing is written, even a large change */
	for (int64_t now = 74 * S; now < 10 * S + H; now += 64 * S)
		assert_false(driftpol_is_write(drift_update(d, 40.0, now)));
	assert_int_equal(stat(p, &st2), 0);
	assert_true(st1.st_ino == st2.st_ino);
	assert_int_equal(drift_stats(d)->writes, 1);
	/* the hour passed: the changed value is written */
	assert_int_equal(drift_update(d, 40.0, 10 * S + H), DRIFTPOL_WRITE_CHANGED);
	t = get(p);
	assert_string_equal(t, "40.000\n");
	free(t);
	/* settled: never rewritten */
	for (int64_t now = 10 * S + H; now < 10 * S + 10 * H; now += 64 * S)
		drift_update(d, 40.0001, now);
	assert_int_equal(drift_stats(d)->writes, 2);
	/* out of range values are refused */
	assert_int_equal(drift_update(d, 900.0, 20 * H), DRIFTPOL_SKIP_INVALID);
	/* exit: the latest valid value if it differs */
	assert_int_equal(drift_update(d, 40.2, 20 * H + S), DRIFTPOL_WRITE_INTERVAL);
	assert_int_equal(drift_update(d, 40.3, 20 * H + 2 * S), DRIFTPOL_SKIP_TOO_SOON);
	assert_int_equal(drift_flush(d, 20 * H + 3 * S), DRIFTPOL_WRITE_EXIT);
	t = get(p);
	assert_string_equal(t, "40.300\n");
	free(t);
	assert_int_equal(drift_flush(d, 20 * H + 4 * S), DRIFTPOL_SKIP_UNCHANGED);
	assert_int_equal(drift_stats(d)->writes, 4);
	drift_free(d);

	/* a value read at start counts as written: a restart loop does not rewrite */
	d = drift_new(p, NULL);
	assert_true(drift_load(d, 0, &ppm));
	assert_true(ppm == 40.3);
	assert_int_equal(drift_update(d, 45.0, 64 * S), DRIFTPOL_SKIP_TOO_SOON);
	assert_int_equal(drift_update(d, 45.0, H), DRIFTPOL_WRITE_CHANGED);
	drift_free(d);
	/* nothing seen: nothing flushed */
	d = drift_new(p, NULL);
	assert_int_equal(drift_flush(d, 0), DRIFTPOL_SKIP_INVALID);
	drift_free(d);
}

static void test_write_failure(void **state)
{
	(void)state;
	char sub[300], p[320];
	path_of(sub, sizeof sub, "later");
	snprintf(p, sizeof p, "%s/drift", sub);
	struct drift *d = drift_new(p, NULL);
	unsigned before = log_count("drift file not written");
	/* the directory does not exist: counted, logged, no crash */
	assert_int_equal(drift_update(d, 5.0, S), DRIFTPOL_WRITE_FIRST);
	assert_int_equal(drift_stats(d)->write_failures, 1);
	assert_int_equal(drift_stats(d)->last_errno, ENOENT);
	assert_int_equal(log_count("drift file not written"), before + 1);
	/* not retried on every update */
	assert_int_equal(drift_update(d, 5.0, 65 * S), DRIFTPOL_SKIP_TOO_SOON);
	assert_int_equal(drift_stats(d)->write_failures, 1);
	/* the directory appears; an hour after the failure the write goes through */
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(drift_update(d, 5.0, S + H - 1), DRIFTPOL_SKIP_TOO_SOON);
	assert_int_equal(drift_update(d, 5.0, S + H), DRIFTPOL_WRITE_FIRST);
	assert_int_equal(drift_stats(d)->writes, 1);
	char *t = get(p);
	assert_string_equal(t, "5.000\n");
	free(t);
	drift_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_atomic_replace),
		cmocka_unit_test(test_policy_through_module),
		cmocka_unit_test(test_write_failure),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
