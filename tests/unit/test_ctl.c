/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Tests for ctl, the control socket, over a real Unix socket driven by the real loop:
 * status/sources/serverstats replies carry "version": 1 and the engine's view; garbage,
 * wrong versions, unknown commands, extra members, oversized requests get a clear JSON
 * error; a silent client is closed after its deadline; one client too many is turned
 * away; the loop is never blocked meanwhile; random input to the request handler never
 * crashes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "cfg.h"
#include "ctl.h"
#include "eng.h"
#include "json.h"
#include "os_clock.h"
#include "os_log.h"
#include "os_random.h"
#include "os_unix.h"
#include "sch.h"

struct fx {
	char dir[64], path[128];
	struct cfg *cfg;
	struct os_clock *clock;
	struct eng *eng;
	struct sch *sch;
	struct ctl *ctl;
	struct ctl_source src;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/gnomon-test-ctl-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/sub/ctl.sock", f->dir); /* parent created */
	log_init("test", OS_LOG_STDERR, NULL, LOG_ERR);
	f->cfg = calloc(1, sizeof *f->cfg);
	cfg_defaults(f->cfg);
	f->cfg->n_sources = 1;
	snprintf(f->cfg->sources[0].host, sizeof f->cfg->sources[0].host, "192.0.2.7");
	f->cfg->sources[0].port = 123;
	f->cfg->sources[0].minpoll = 6;
	f->cfg->sources[0].maxpoll = 10;
	f->cfg->sources[0].version = 4;
	f->clock = os_clock_soft_new(NULL);
	struct eng_params p;
	memset(&p, 0, sizeof p);
	p.cfg = f->cfg;
	p.rng = os_random_rng();
	p.precision_log2 = -21;
	struct eng_now now;
	assert_int_equal(os_clock_read(f->clock, &now.real_ns, &now.mono_ns), 0);
	f->eng = eng_new(&p, &now);
	struct gn_addr a;
	assert_true(gn_addr_parse("192.0.2.7", 123, &a));
	assert_true(eng_add_source_addr(f->eng, &now, 0, &a) > 0);
	eng_clear_actions(f->eng);
	f->sch = sch_new(NULL);
	f->src = (struct ctl_source){ .eng = f->eng, .clock = f->clock, .cfg = f->cfg,
				      .start_mono_ns = now.mono_ns, .clock_mode = "software (-X)" };
	int err = 0;
	f->ctl = ctl_new(f->sch, f->path, &f->src, &err);
	assert_non_null(f->ctl);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	ctl_free(f->ctl);
	assert_int_equal(access(f->path, F_OK), -1); /* the socket is removed */
	char sub[160];
	snprintf(sub, sizeof sub, "%s/sub", f->dir);
	rmdir(sub);
	rmdir(f->dir);
	sch_free(f->sch);
	eng_free(f->eng);
	os_clock_free(f->clock);
	free(f->cfg);
	free(f);
	return 0;
}

static int connect_to(struct fx *f)
{
	int fd = os_unix_connect(f->path);
	assert_true(fd >= 0);
	return fd;
}

/* Send req (may be NULL), then run the loop until the server closes; returns the reply. */
static char *exchange(struct fx *f, int fd, const char *req, size_t len, int max_iter)
{
	size_t off = 0;
	char *reply = calloc(1, CTL_MAX_REPLY);
	size_t got = 0;
	bool closed = false;
	for (int i = 0; i < max_iter && !closed; i++) {
		if (req && off < len) {
			ssize_t w = os_fd_write(fd, req + off, len - off);
			if (w > 0)
				off += (size_t)w;
		}
		assert_true(sch_run_once(f->sch, 10) >= 0);
		for (;;) {
			ssize_t r = os_fd_read(fd, reply + got, CTL_MAX_REPLY - 1 - got);
			if (r > 0) {
				got += (size_t)r;
				continue;
			}
			if (r == 0 || (r < 0 && r != -EAGAIN))
				closed = true;
			break;
		}
	}
	assert_true(closed);
	reply[got] = '\0';
	os_fd_close(fd);
	return reply;
}

static char *ask(struct fx *f, const char *req)
{
	return exchange(f, connect_to(f), req, strlen(req), 100);
}

static void expect_error(struct fx *f, const char *req, const char *needle)
{
	char *r = ask(f, req);
	struct json_node n[16];
	struct json_doc d;
	if (!json_parse(&d, r, strlen(r), n, 16))
		fail_msg("reply is not JSON: %s", r);
	int64_t v;
	assert_true(json_int(&d, json_obj_get(&d, 0, "version"), &v));
	assert_int_equal(v, 1);
	char e[256];
	assert_true(json_str(&d, json_obj_get(&d, 0, "error"), e, sizeof e));
	if (!strstr(e, needle))
		fail_msg("error '%s' does not mention '%s'", e, needle);
	free(r);
}

static void test_status(void **state)
{
	struct fx *f = *state;
	char *r = ask(f, "{\"version\":1,\"command\":\"status\"}\n");
	struct json_node n[128];
	struct json_doc d;
	assert_true(json_parse(&d, r, strlen(r), n, 128));
	int64_t v;
	assert_true(json_int(&d, json_obj_get(&d, 0, "version"), &v));
	assert_int_equal(v, 1);
	int st = json_obj_get(&d, 0, "status");
	char s[64];
	assert_true(json_str(&d, json_obj_get(&d, st, "state"), s, sizeof s));
	assert_string_equal(s, "unsynchronised");
	assert_true(json_int(&d, json_obj_get(&d, st, "stratum"), &v));
	assert_int_equal(v, 16);
	assert_true(json_int(&d, json_obj_get(&d, st, "precision_log2"), &v));
	assert_int_equal(v, -21);
	assert_true(json_str(&d, json_obj_get(&d, st, "clock"), s, sizeof s));
	assert_string_equal(s, "software (-X)");
	assert_true(json_str(&d, json_obj_get(&d, st, "clock_discipline"), s, sizeof s));
	assert_string_equal(s, "enabled");
	assert_int_equal(json_type_of(&d, json_obj_get(&d, json_obj_get(&d, st, "kernel"), "unsync")),
			 JSON_TRUE);
	int dist = json_obj_get(&d, st, "disturbances");
	assert_true(json_int(&d, json_obj_get(&d, dist, "external_steps"), &v));
	assert_int_equal(v, 0);
	free(r);
	assert_int_equal(ctl_stats(f->ctl)->answered, 1);

	/* someone else stepped the clock (a resumed guest's agent): the count shows it */
	struct eng_now now;
	assert_int_equal(os_clock_read(f->clock, &now.real_ns, &now.mono_ns), 0);
	eng_on_clock_stepped(f->eng, &now, 5000000000LL, true);
	eng_clear_actions(f->eng);
	r = ask(f, "{\"version\":1,\"command\":\"status\"}\n");
	assert_true(json_parse(&d, r, strlen(r), n, 128));
	st = json_obj_get(&d, 0, "status");
	dist = json_obj_get(&d, st, "disturbances");
	assert_true(json_int(&d, json_obj_get(&d, dist, "external_steps"), &v));
	assert_int_equal(v, 1);
	assert_true(json_int(&d, json_obj_get(&d, dist, "jumps"), &v));
	assert_int_equal(v, 0);
	assert_true(json_int(&d, json_obj_get(&d, dist, "kernel_leaps"), &v));
	assert_int_equal(v, 0);
	free(r);
}

static void test_sources_and_serverstats(void **state)
{
	struct fx *f = *state;
	/* No newline: the end of the request is the client shutting its writing side. */
	int fd = connect_to(f);
	const char *req = "{\"command\":\"sources\",\"version\":1}";
	assert_int_equal(os_fd_write(fd, req, strlen(req)), (ssize_t)strlen(req));
	shutdown(fd, SHUT_WR);
	char *r = exchange(f, fd, NULL, 0, 100);
	struct json_node n[128];
	struct json_doc d;
	assert_true(json_parse(&d, r, strlen(r), n, 128));
	int arr = json_obj_get(&d, 0, "sources");
	assert_int_equal(json_type_of(&d, arr), JSON_ARRAY);
	assert_int_equal(d.nodes[arr].n_children, 1);
	char s[64];
	assert_true(json_str(&d, json_obj_get(&d, d.nodes[arr].first_child, "address"), s, sizeof s));
	assert_string_equal(s, "192.0.2.7");
	free(r);

	r = ask(f, "{\"version\":1,\"command\":\"serverstats\"}\n");
	assert_true(json_parse(&d, r, strlen(r), n, 128));
	int ss = json_obj_get(&d, 0, "serverstats");
	assert_int_equal(json_type_of(&d, json_obj_get(&d, ss, "received")), JSON_NUMBER);
	assert_int_equal(json_type_of(&d, json_obj_get(&d, ss, "verdicts")), JSON_OBJECT);
	free(r);
}

static void test_bad_requests(void **state)
{
	struct fx *f = *state;
	expect_error(f, "hello\n", "not valid JSON");
	expect_error(f, "\x01\x02\xff\xfe\n", "not valid JSON");
	expect_error(f, "[1,2]\n", "must be a JSON object");
	expect_error(f, "{\"command\":\"status\"}\n", "version");
	expect_error(f, "{\"version\":2,\"command\":\"status\"}\n", "version");
	expect_error(f, "{\"version\":\"1\",\"command\":\"status\"}\n", "version");
	expect_error(f, "{\"version\":1}\n", "command");
	expect_error(f, "{\"version\":1,\"command\":\"settime\"}\n", "unknown command");
	expect_error(f, "{\"version\":1,\"command\":\"status\",\"set\":1}\n", "unknown member");
	expect_error(f, "{\"version\":1,\"command\":\"status\"}\n{}\n", "one request");
	/* Oversized: 5000 bytes without a newline. */
	char *big = malloc(5001);
	memset(big, ' ', 5000);
	big[0] = '{';
	big[5000] = '\0';
	expect_error(f, big, "larger than 4096");
	free(big);
	assert_true(ctl_stats(f->ctl)->bad_requests >= 11);
	/* Still serving. */
	free(ask(f, "{\"version\":1,\"command\":\"status\"}\n"));
}

static void test_slow_client_closed(void **state)
{
	struct fx *f = *state;
	int slow = connect_to(f);
	int64_t t0 = os_mono_ns();
	/* Meanwhile others are served: the loop does not wait for the slow one. */
	free(ask(f, "{\"version\":1,\"command\":\"status\"}\n"));
	assert_true(os_mono_ns() - t0 < CTL_CLIENT_TIMEOUT_NS);
	char *r = exchange(f, slow, "{\"vers", 6, 400); /* a few bytes, then silence */
	int64_t el = os_mono_ns() - t0;
	assert_true(el >= CTL_CLIENT_TIMEOUT_NS - 100000000LL);
	assert_true(el < CTL_CLIENT_TIMEOUT_NS + 2000000000LL);
	assert_string_equal(r, ""); /* closed without an answer */
	free(r);
	assert_int_equal(ctl_stats(f->ctl)->timeouts, 1);
}

static void test_too_many_clients(void **state)
{
	struct fx *f = *state;
	int fds[CTL_MAX_CLIENTS + 1];
	for (int i = 0; i <= CTL_MAX_CLIENTS; i++) {
		fds[i] = connect_to(f);
		assert_true(sch_run_once(f->sch, 5) >= 0);
	}
	char buf[256];
	ssize_t n = -1;
	for (int i = 0; i < 50 && n <= 0; i++) {
		assert_true(sch_run_once(f->sch, 5) >= 0);
		n = os_fd_read(fds[CTL_MAX_CLIENTS], buf, sizeof buf - 1);
	}
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "too many"));
	for (int i = 0; i <= CTL_MAX_CLIENTS; i++)
		os_fd_close(fds[i]);
	for (int i = 0; i < 5; i++)
		assert_true(sch_run_once(f->sch, 5) >= 0);
	/* The slots are free again. */
	free(ask(f, "{\"version\":1,\"command\":\"status\"}\n"));
}

/* `disable ntp`: the status says the clock discipline is off. */
static void test_status_ntp_disabled(void **state)
{
	struct fx *f = *state;
	struct cfg *cfg = calloc(1, sizeof *cfg);
	*cfg = *f->cfg;
	cfg->enable_clear |= CFG_EN_NTP;
	struct eng_params p;
	memset(&p, 0, sizeof p);
	p.cfg = cfg;
	p.rng = os_random_rng();
	p.precision_log2 = -21;
	struct eng_now now;
	assert_int_equal(os_clock_read(f->clock, &now.real_ns, &now.mono_ns), 0);
	struct eng *eng = eng_new(&p, &now);
	assert_non_null(eng);
	struct ctl_source src = f->src;
	src.eng = eng;
	char *out = malloc(CTL_MAX_REPLY);
	const char *req = "{\"version\":1,\"command\":\"status\"}\n";
	size_t n = ctl_handle_request(&src, req, strlen(req), out, CTL_MAX_REPLY);
	struct json_node nodes[128];
	struct json_doc d;
	assert_true(json_parse(&d, out, n, nodes, 128));
	char s[64];
	int st = json_obj_get(&d, 0, "status");
	assert_true(json_str(&d, json_obj_get(&d, st, "clock_discipline"), s, sizeof s));
	assert_string_equal(s, "disabled");
	free(out);
	eng_free(eng);
	free(cfg);
}

/* A second server on a live control socket is refused (-EADDRINUSE) and leaves the
 * first alone; a stale socket (nobody listening) is taken over. */
static void test_live_socket_not_taken(void **state)
{
	struct fx *f = *state;
	int err = 0;
	assert_int_equal(os_unix_probe(f->path), 1);
	assert_null(ctl_new(f->sch, f->path, &f->src, &err));
	assert_int_equal(err, -EADDRINUSE);
	char *r = ask(f, "{\"version\":1,\"command\":\"status\"}\n");
	assert_non_null(strstr(r, "\"status\""));
	free(r);

	char stale[200];
	snprintf(stale, sizeof stale, "%s/stale.sock", f->dir);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_un sun;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	assert_true(strlen(stale) < sizeof sun.sun_path);
	memcpy(sun.sun_path, stale, strlen(stale) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	close(fd); /* bound, never listening, closed: the path is a stale socket */
	assert_int_equal(os_unix_probe(stale), 0);
	struct ctl *c2 = ctl_new(f->sch, stale, &f->src, &err);
	assert_non_null(c2);
	assert_int_equal(os_unix_probe(stale), 1);
	ctl_free(c2);
	assert_int_equal(access(stale, F_OK), -1);
	assert_int_equal(os_unix_probe(stale), 0); /* ENOENT: nothing there */
}

static void test_handler_random_input(void **state)
{
	struct fx *f = *state;
	char *out = malloc(CTL_MAX_REPLY);
	uint8_t in[300];
	unsigned seed = 12345;
	for (int i = 0; i < 2000; i++) {
		size_t len = (seed = seed * 1103515245u + 12345u) % sizeof in;
		for (size_t k = 0; k < len; k++) {
			seed = seed * 1103515245u + 12345u;
			/* Mostly JSON-ish characters, so the parser gets deep. */
			static const char alpha[] = "{}[]\":,0123456789.eE-+truefalsnl \\u\n";
			in[k] = (seed >> 16) % 4 ? (uint8_t)alpha[(seed >> 8) % (sizeof alpha - 1)]
						 : (uint8_t)(seed >> 8);
		}
		size_t n = ctl_handle_request(&f->src, (const char *)in, len, out, CTL_MAX_REPLY);
		assert_true(n > 0 && out[n - 1] == '\n');
		assert_non_null(strstr(out, "\"version\":1"));
	}
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sources_and_serverstats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_client_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_clients, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handler_random_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_ntp_disabled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_live_socket_not_taken, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
