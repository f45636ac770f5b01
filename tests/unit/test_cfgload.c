/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Tests for daemon/cfgload and os/os_file: real files in a temporary directory, what
 * `gnomond -t -c FILE` prints (cfgload_check), includefile relative to the top-level file,
 * missing and oversized files, and every shipped configuration in conf/ and
 * tests/data/conf/ passing while every file in tests/data/conf-broken/ fails with the
 * error its "# expect:" line names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfgload.h"
#include "os_file.h"

static char tmpdir[256];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/gnomon-cfgload-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	DIR *d = opendir(tmpdir);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			char p[512];
			snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(tmpdir);
	return 0;
}

static const char *write_file(const char *name, const char *text, size_t len)
{
	static char path[512];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
	return path;
}

struct capture {
	char *out, *err;
	size_t out_len, err_len;
	FILE *fo, *fe;
};

static void cap_open(struct capture *c)
{
	memset(c, 0, sizeof *c);
	c->fo = open_memstream(&c->out, &c->out_len);
	c->fe = open_memstream(&c->err, &c->err_len);
	assert_non_null(c->fo);
	assert_non_null(c->fe);
}

static void cap_close(struct capture *c)
{
	fclose(c->fo);
	fclose(c->fe);
}

static void cap_free(struct capture *c)
{
	free(c->out);
	free(c->err);
}

static int check(const char *path, struct capture *c)
{
	cap_open(c);
	int rc = cfgload_check(path, c->fo, c->fe);
	cap_close(c);
	return rc;
}

static void test_check_ok(void **state)
{
	(void)state;
	const char *t = "pool 0.pool.ntp.org iburst\nrestrict default kod limited nomodify nopeer noquery\n"
			"broadcast 192.0.2.255\n";
	char path[512];
	snprintf(path, sizeof path, "%s", write_file("ok.conf", t, strlen(t)));
	struct capture c;
	assert_int_equal(check(path, &c), 0);
	assert_non_null(strstr(c.out, "pool 0.pool.ntp.org iburst\n"));
	assert_non_null(strstr(c.out, "restrict default noquery nomodify nopeer limited kod\n"));
	assert_non_null(strstr(c.out, "\nconfiguration OK\n"));
	/* the warning for an unimplemented directive names file, line and column */
	char want[600];
	snprintf(want, sizeof want, "%s:3:1: warning: 'broadcast'", path);
	assert_non_null(strstr(c.err, want));
	cap_free(&c);

	struct cfg cfg;
	FILE *devnull = fopen("/dev/null", "w");
	assert_true(cfgload(path, &cfg, devnull));
	fclose(devnull);
	assert_int_equal(cfg.n_sources, 1);
	assert_int_equal(cfg.n_restricts, 1);
	/* the leapfile default is Debian's tzdata file, only when it is there */
	if (os_file_readable(CFG_DEFAULT_LEAPFILE))
		assert_string_equal(cfg.leapfile, CFG_DEFAULT_LEAPFILE);
	else
		assert_string_equal(cfg.leapfile, "");
	assert_string_equal(cfg.driftfile, "");
	assert_string_equal(cfg.pidfile, CFG_DEFAULT_PIDFILE);
	assert_string_equal(cfg.controlsocket, CFG_DEFAULT_CONTROLSOCKET);
}

static void test_check_errors(void **state)
{
	(void)state;
	const char *t = "server a.example\n\nrestrict default nomodfy\nfrobnicate\n";
	char path[512];
	snprintf(path, sizeof path, "%s", write_file("bad.conf", t, strlen(t)));
	struct capture c;
	assert_int_equal(check(path, &c), 1);
	assert_null(strstr(c.out, "configuration OK"));
	char want[600];
	snprintf(want, sizeof want, "%s:3:18: error: unknown restrict flag 'nomodfy'; did you mean 'nomodify'?\n", path);
	assert_non_null(strstr(c.err, want));
	snprintf(want, sizeof want, "%s:4:1: error: unknown directive 'frobnicate'", path);
	assert_non_null(strstr(c.err, want));
	assert_non_null(strstr(c.err, "2 errors: configuration not OK"));
	cap_free(&c);

	struct cfg cfg;
	FILE *devnull = fopen("/dev/null", "w");
	assert_false(cfgload(path, &cfg, devnull));
	fclose(devnull);
}

static void test_missing_and_special_files(void **state)
{
	(void)state;
	struct capture c;
	char path[512];
	snprintf(path, sizeof path, "%s/does-not-exist.conf", tmpdir);
	assert_int_equal(check(path, &c), 1);
	assert_non_null(strstr(c.err, "cannot read configuration: No such file or directory"));
	cap_free(&c);
	assert_int_equal(check(tmpdir, &c), 1);
	assert_non_null(strstr(c.err, "not a regular file"));
	cap_free(&c);

	/* os_file_read: size limit and NUL-terminated buffer with exact length */
	const char bin[] = "ab\0cd";
	snprintf(path, sizeof path, "%s", write_file("bin", bin, 5));
	char err[200];
	size_t len;
	char *b = os_file_read(path, 5, &len, err, sizeof err);
	assert_non_null(b);
	assert_int_equal(len, 5);
	assert_memory_equal(b, bin, 5);
	assert_int_equal(b[5], '\0');
	free(b);
	assert_null(os_file_read(path, 4, &len, err, sizeof err));
	assert_non_null(strstr(err, "larger than 4 bytes"));
	assert_true(os_file_readable(path));

	/* a NUL byte in a configuration file is an error with its position */
	const char nul[] = "server a\nserver b\0c\n";
	snprintf(path, sizeof path, "%s", write_file("nul.conf", nul, sizeof nul - 1));
	assert_int_equal(check(path, &c), 1);
	char want[600];
	snprintf(want, sizeof want, "%s:2:9: error: NUL byte", path);
	assert_non_null(strstr(c.err, want));
	cap_free(&c);
}

static void test_includefile_relative(void **state)
{
	(void)state;
	const char *inc = "server inc.example iburst\nrestrict default nomodfy\n";
	write_file("inc.conf", inc, strlen(inc));
	const char *top = "includefile inc.conf\nserver top.example\n";
	char path[512];
	snprintf(path, sizeof path, "%s", write_file("top.conf", top, strlen(top)));
	struct capture c;
	assert_int_equal(check(path, &c), 1);
	/* errors inside the included file name it as written, with its own line */
	assert_non_null(strstr(c.err, "inc.conf:2:18: error: unknown restrict flag 'nomodfy'"));
	cap_free(&c);

	const char *inc2 = "server inc.example iburst\n";
	write_file("inc.conf", inc2, strlen(inc2));
	assert_int_equal(check(path, &c), 0);
	char *a = strstr(c.out, "server inc.example iburst\n");
	char *b = strstr(c.out, "server top.example\n");
	assert_non_null(a);
	assert_non_null(b);
	assert_true(a < b);
	cap_free(&c);
}

static const char *srcdir(void)
{
	const char *s = getenv("GNOMON_SRCDIR");
	return s ? s : ".";
}

/* Every shipped and real-world file passes; every broken file fails as its header says. */
static void test_all_data_files(void **state)
{
	(void)state;
	static const char *const good[] = { "conf", "tests/data/conf" };
	unsigned n = 0;
	for (int g = 0; g < 3; g++) {
		char dir[1024];
		snprintf(dir, sizeof dir, "%s/%s", srcdir(), g < 2 ? good[g] : "tests/data/conf-broken");
		DIR *d = opendir(dir);
		assert_non_null(d);
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			size_t l = strlen(e->d_name);
			if (l < 6 || strcmp(e->d_name + l - 5, ".conf") != 0)
				continue;
			char path[2048];
			snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
			struct capture c;
			int rc = check(path, &c);
			if (g < 2) {
				if (rc != 0)
					fprintf(stderr, "%s:\n%s", path, c.err);
				assert_int_equal(rc, 0);
				assert_non_null(strstr(c.out, "configuration OK\n"));
			} else {
				char err[200];
				size_t len;
				char *text = os_file_read(path, 65536, &len, err, sizeof err);
				assert_non_null(text);
				assert_true(strncmp(text, "# expect: ", 10) == 0);
				char *nl = strchr(text, '\n');
				assert_non_null(nl);
				*nl = '\0';
				if (rc != 1 || !strstr(c.err, text + 10))
					fprintf(stderr, "%s: expected '%s', got:\n%s", path, text + 10, c.err);
				assert_int_equal(rc, 1);
				assert_non_null(strstr(c.err, text + 10));
				free(text);
			}
			cap_free(&c);
			n++;
		}
		closedir(d);
	}
	assert_true(n >= 15);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_ok),
		cmocka_unit_test(test_check_errors),
		cmocka_unit_test(test_missing_and_special_files),
		cmocka_unit_test(test_includefile_relative),
		cmocka_unit_test(test_all_data_files),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
