/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Tests for os_log: lines go to the log file with their level; levels above the maximum are
 * dropped; log_limited writes the first line of a key and suppresses the rest within the
 * interval (one hostile packet per second must not write one line per second), keys are
 * independent, and more keys than slots reuse the oldest; control characters from the
 * network never reach the log; SIGHUP's reopen follows a rotated file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "os_log.h"

static char g_path[64];

static int count_lines(const char *needle)
{
	FILE *f = fopen(g_path, "r");
	char line[2048];
	int n = 0;
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (strstr(line, needle))
			n++;
	fclose(f);
	return n;
}

static int setup(void **state)
{
	(void)state;
	snprintf(g_path, sizeof g_path, "/tmp/gnomon-test-log-XXXXXX");
	int fd = mkstemp(g_path);
	assert_true(fd >= 0);
	close(fd);
	log_init("gnomond", OS_LOG_FILE, g_path, LOG_INFO);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	log_fini();
	unlink(g_path);
	return 0;
}

static void test_levels(void **state)
{
	(void)state;
	log_info("hello %d", 42);
	log_debug("not shown");
	log_warnx("careful");
	assert_int_equal(count_lines("gnomond[info]: hello 42"), 1);
	assert_int_equal(count_lines("not shown"), 0);
	assert_int_equal(count_lines("gnomond[warning]: careful"), 1);
	log_set_max_level(LOG_DEBUG);
	log_debug("now shown");
	assert_int_equal(count_lines("gnomond[debug]: now shown"), 1);
}

static void test_rate_limit(void **state)
{
	(void)state;
	int written = 0;
	for (int i = 0; i < 100; i++)
		written += log_limited(7, LOG_WARNING, "bad packet from 192.0.2.%d", i);
	assert_int_equal(written, 1);
	assert_int_equal(count_lines("bad packet from"), 1);
	/* Another key is another event. */
	assert_true(log_limited(8, LOG_WARNING, "other event"));
	assert_false(log_limited(8, LOG_WARNING, "other event"));
	/* More keys than slots: the oldest slot is reused, nothing crashes, lines stay few. */
	for (uint32_t k = 100; k < 100 + 3 * OS_LOG_LIMIT_KEYS; k++)
		log_limited(k, LOG_INFO, "key %u", k);
	assert_int_equal(count_lines("key "), 3 * OS_LOG_LIMIT_KEYS);
	/* Dropped by level: not written, not counted as written. */
	assert_false(log_limited(9, LOG_DEBUG, "debug event"));
}

static void test_control_characters(void **state)
{
	(void)state;
	log_info("evil\nname\x1b[31m");
	assert_int_equal(count_lines("evil?name?[31m"), 1);
}

static void test_reopen(void **state)
{
	(void)state;
	char rotated[80];
	snprintf(rotated, sizeof rotated, "%s.1", g_path);
	log_info("before rotation");
	assert_int_equal(rename(g_path, rotated), 0);
	log_reopen();
	log_info("after rotation");
	assert_int_equal(count_lines("after rotation"), 1);
	assert_int_equal(count_lines("before rotation"), 0);
	unlink(rotated);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_levels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control_characters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
