/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_dns: name resolution through c-ares in a poll loop, against a real DNS server the
 * test starts on loopback: dnsmasq (Debian dnsmasq-base) on 127.0.0.1:12553, knowing only
 * what the test gives it (--no-resolv --no-hosts, an --addn-hosts file, --local=/test/).
 *   - "pool.test" has four A records and one AAAA: all come back, with the port asked for;
 *   - the same through the daemon's loop (sch) instead of the loop-agnostic calls;
 *   - the pool replacement story: addresses from DNS fill a pool of maxclock 3, one
 *     dropped (unreachable) is replaced by the spare, the next drop asks DNS again, which
 *     brings a new address after dnsmasq reloads its hosts file;
 *   - a name that does not exist: NXDOMAIN, warned once, retried, the resolver healthy;
 *   - no server listening (127.0.0.1:12554): each attempt fails, one warning only, the
 *     pause doubles up to the cap; then a dnsmasq appears there: one notice, result.
 *   - cancel, bad names, a full table.
 * dnsmasq is killed on every path (group teardown and atexit). Every wait is bounded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dns.h"
#include "os_file.h"
#include "os_log.h"
#include "pool.h"
#include "sch.h"

#define PORT_DNS 12553
#define PORT_NONE 12554             /* nothing listens here until the last test */
#define MS 1000000LL

static char tmpdir[256];
static char logpath[300];
static char hostspath[300];
static char dnsmasq_bin[64];
static pid_t dnsmasq_pid[2] = { -1, -1 };

static int64_t mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void stop_dnsmasq(int which)
{
	if (dnsmasq_pid[which] <= 0)
		return;
	kill(dnsmasq_pid[which], SIGTERM);
	int st;
	for (int i = 0; i < 200; i++) {          /* 2 s, then SIGKILL */
		if (waitpid(dnsmasq_pid[which], &st, WNOHANG) == dnsmasq_pid[which]) {
			dnsmasq_pid[which] = -1;
			return;
		}
		usleep(10000);
	}
	kill(dnsmasq_pid[which], SIGKILL);
	waitpid(dnsmasq_pid[which], &st, 0);
	dnsmasq_pid[which] = -1;
}

static void stop_all(void)
{
	stop_dnsmasq(0);
	stop_dnsmasq(1);
}

static void write_hosts(const char *text)
{
	FILE *f = fopen(hostspath, "we");
	if (!f)
		fail_msg("cannot write %s", hostspath);
	fputs(text, f);
	fclose(f);
}

/* A bare DNS query for one.test A; true once any answer comes back within 200 ms. */
static bool probe(uint16_t port)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0)
		return false;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	static const uint8_t q[] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
				     3, 'o', 'n', 'e', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1 };
	bool ok = false;
	if (sendto(s, q, sizeof q, 0, (struct sockaddr *)&sin, sizeof sin) == (ssize_t)sizeof q) {
		struct pollfd p = { .fd = s, .events = POLLIN };
		uint8_t buf[512];
		if (poll(&p, 1, 200) == 1 && recv(s, buf, sizeof buf, 0) >= 12)
			ok = buf[0] == 0x12 && buf[1] == 0x34;
	}
	close(s);
	return ok;
}

static void start_dnsmasq(int which, uint16_t port)
{
	char portarg[32], hostsarg[320], pidarg[320], logarg[320];
	snprintf(portarg, sizeof portarg, "--port=%u", port);
	snprintf(hostsarg, sizeof hostsarg, "--addn-hosts=%s", hostspath);
	snprintf(pidarg, sizeof pidarg, "--pid-file=%s/dnsmasq%d.pid", tmpdir, which);
	snprintf(logarg, sizeof logarg, "--log-facility=%s/dnsmasq%d.log", tmpdir, which);
	pid_t pid = fork();
	if (pid < 0)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
		}
		/* Dies with the test even if the test crashes. As root, dnsmasq would drop to
		 * "nobody", which clears the death signal: keep it root (loopback only). */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		char *argv[] = { dnsmasq_bin, "--keep-in-foreground", "--conf-file=/dev/null",
				 "--no-resolv", "--no-hosts", hostsarg, "--local=/test/",
				 "--listen-address=127.0.0.1", "--bind-interfaces", portarg, pidarg,
				 logarg, "--cache-size=0", getuid() == 0 ? "--user=root" : NULL, NULL };
		execv(dnsmasq_bin, argv);
		_exit(127);
	}
	dnsmasq_pid[which] = pid;
	for (int i = 0; i < 50; i++) {            /* 50 probes of up to 200 ms: 10 s */
		if (probe(port))
			return;
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			dnsmasq_pid[which] = -1;
			fail_msg("dnsmasq exited at start (status %d); see %s", st, tmpdir);
		}
		usleep(20000);
	}
	fail_msg("dnsmasq did not answer on port %u", port);
}

static int group_setup(void **state)
{
	(void)state;
	if (access("/usr/sbin/dnsmasq", X_OK) == 0)
		snprintf(dnsmasq_bin, sizeof dnsmasq_bin, "/usr/sbin/dnsmasq");
	else if (access("/usr/bin/dnsmasq", X_OK) == 0)
		snprintf(dnsmasq_bin, sizeof dnsmasq_bin, "/usr/bin/dnsmasq");
	if (!dnsmasq_bin[0]) {
		const char *ci = getenv("CI");
		fprintf(stderr, "test_dns: dnsmasq not installed (Debian package dnsmasq-base; "
				"scripts/install-deps.sh installs it)\n");
		exit(ci && strcmp(ci, "true") == 0 ? 1 : 77);
	}
	const char *t = getenv("TMPDIR");
	snprintf(tmpdir, sizeof tmpdir, "%s/gnomon-dns-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpdir))
		return -1;
	chmod(tmpdir, 0755);
	snprintf(logpath, sizeof logpath, "%s/log", tmpdir);
	snprintf(hostspath, sizeof hostspath, "%s/hosts", tmpdir);
	log_init("test_dns", OS_LOG_FILE, logpath, LOG_DEBUG);
	atexit(stop_all);
	write_hosts("127.0.0.31 pool.test\n127.0.0.32 pool.test\n127.0.0.33 pool.test\n"
		    "127.0.0.34 pool.test\nfd00::31 pool.test\n127.0.0.41 one.test\n");
	chmod(hostspath, 0644);
	start_dnsmasq(0, PORT_DNS);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	stop_all();
	log_fini();
	if (getenv("GNOMON_KEEP_TMP")) {          /* for debugging: keep logs */
		fprintf(stderr, "test_dns: kept %s\n", tmpdir);
		return 0;
	}
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static unsigned log_count(const char *needle)
{
	size_t len;
	char err[64];
	char *text = os_file_read(logpath, 1 << 22, &len, err, sizeof err);
	unsigned n = 0;
	for (const char *p = text; p && (p = strstr(p, needle)); p++)
		n++;
	free(text);
	return n;
}

/* --- a result sink --- */

#define MAX_RESULTS 64
struct sink {
	unsigned n_ok, n_fail;
	char name[DNS_NAME_MAX + 1];
	struct dns_result last;
	struct gn_addr addrs[DNS_MAX_ADDRS];
	size_t n_addrs;
	int64_t fail_at[MAX_RESULTS];
	int64_t retry_at[MAX_RESULTS];
	int status[MAX_RESULTS];
};

static void on_result(void *ctx, const struct dns_result *r)
{
	struct sink *s = ctx;
	s->last = *r;
	assert_non_null(r->name);
	snprintf(s->name, sizeof s->name, "%s", r->name);
	s->last.name = s->name;
	if (r->ok) {
		s->n_ok++;
		s->n_addrs = r->n;
		memcpy(s->addrs, r->addrs, r->n * sizeof r->addrs[0]);
		s->last.addrs = s->addrs;
	} else {
		if (s->n_fail < MAX_RESULTS) {
			s->fail_at[s->n_fail] = mono();
			s->retry_at[s->n_fail] = r->retry_at_mono_ns;
			s->status[s->n_fail] = r->status;
		}
		s->n_fail++;
		assert_non_null(r->error);
		assert_true(r->retry_at_mono_ns > 0);
	}
	assert_non_null(r->name);
}

/* The loop-agnostic way: poll the module's fds until cond or max_ms. */
static void run(struct dns *d, const unsigned *counter, unsigned want, int max_ms)
{
	int64_t end = mono() + max_ms * MS;
	while (*counter < want && mono() < end) {
		struct pollfd fds[DNS_MAX_FDS];
		size_t n = dns_pollfds(d, fds, DNS_MAX_FDS);
		int64_t now = mono();
		int64_t dl = dns_next_deadline(d, now);
		int64_t wait_ms = dl == INT64_MAX ? 50 : (dl - now) / MS + 1;
		if (wait_ms > 50)
			wait_ms = 50;
		int r = poll(fds, n, (int)wait_ms);
		assert_true(r >= 0 || errno == EINTR);
		dns_process(d, fds, n, mono());
	}
}

static struct dns *mk(uint16_t port, struct sink *s, int64_t retry_min_ms, int64_t retry_max_ms)
{
	char servers[64], err[160];
	snprintf(servers, sizeof servers, "127.0.0.1:%u", port);
	struct dns_params p = { .servers = servers, .lookups = "b", .no_search = true,
				.timeout_ms = 300, .tries = 1,
				.retry_min_ns = retry_min_ms * MS, .retry_max_ns = retry_max_ms * MS };
	struct dns *d = dns_new(&p, on_result, s, err, sizeof err);
	if (!d)
		fail_msg("dns_new: %s", err);
	return d;
}

static bool has(const struct gn_addr *a, size_t n, const char *text, uint16_t port)
{
	struct gn_addr want;
	assert_true(gn_addr_parse(text, port, &want));
	for (size_t i = 0; i < n; i++)
		if (gn_addr_equal(&a[i], &want))
			return true;
	return false;
}

static void test_pool_name(void **state)
{
	(void)state;
	struct sink s = { 0 };
	struct dns *d = mk(PORT_DNS, &s, 50, 1000);
	uint32_t id = dns_resolve(d, "pool.test", 123, mono());
	assert_true(id > 0);
	assert_int_equal(s.n_ok, 0);                /* never from inside dns_resolve */
	assert_int_equal(dns_pending(d), 1);
	assert_true(dns_next_deadline(d, mono()) != INT64_MAX);
	run(d, &s.n_ok, 1, 5000);
	assert_int_equal(s.n_ok, 1);
	assert_int_equal(s.n_fail, 0);
	assert_int_equal(s.last.id, id);
	assert_string_equal(s.last.name, "pool.test");
	assert_int_equal(s.n_addrs, 5);
	assert_true(has(s.addrs, s.n_addrs, "127.0.0.31", 123));
	assert_true(has(s.addrs, s.n_addrs, "127.0.0.32", 123));
	assert_true(has(s.addrs, s.n_addrs, "127.0.0.33", 123));
	assert_true(has(s.addrs, s.n_addrs, "127.0.0.34", 123));
	assert_true(has(s.addrs, s.n_addrs, "fd00::31", 123));
	assert_int_equal(dns_stats(d)->health, DNS_HEALTH_OK);
	assert_int_equal(dns_stats(d)->health_logs, 0);
	assert_int_equal(dns_pending(d), 0);
	assert_int_equal(dns_next_deadline(d, mono()), INT64_MAX);
	assert_false(dns_cancel(d, id));            /* finished */

	/* IPv4 only */
	dns_free(d);
	char err[128];
	struct dns_params p = { .servers = "127.0.0.1:12553", .lookups = "b", .no_search = true,
				.family = GN_AF_INET };
	d = dns_new(&p, on_result, &s, err, sizeof err);
	assert_non_null(d);
	assert_true(dns_resolve(d, "pool.test", 4123, mono()) > 0);
	run(d, &s.n_ok, 2, 5000);
	assert_int_equal(s.n_ok, 2);
	assert_int_equal(s.n_addrs, 4);
	assert_true(has(s.addrs, s.n_addrs, "127.0.0.34", 4123));
	dns_free(d);
}

/* The daemon's loop: sch owns the poll; nothing to call but sch_run_once. */
static void test_through_sch(void **state)
{
	(void)state;
	struct sink s = { 0 };
	struct sch *sch = sch_new(NULL);
	assert_non_null(sch);
	struct dns *d = mk(PORT_DNS, &s, 50, 1000);
	assert_int_equal(dns_attach_sch(d, sch), 0);
	assert_true(dns_resolve(d, "one.test", 123, sch_now(sch)) > 0);
	assert_true(dns_resolve(d, "pool.test", 123, sch_now(sch)) > 0);
	assert_true(sch_fd_count(sch) >= 1);        /* c-ares's socket is in the loop */
	for (int i = 0; i < 200 && s.n_ok < 2; i++)
		assert_true(sch_run_once(sch, 50) >= 0);
	assert_int_equal(s.n_ok, 2);
	dns_free(d);
	assert_int_equal(sch_fd_count(sch), 0);     /* sockets left the loop */
	assert_int_equal(sch_timer_count(sch), 0);
	sch_free(sch);
}

/* Pool replacement with real DNS: maxclock 3, four addresses; drops are replaced. */
static void test_pool_replacement(void **state)
{
	(void)state;
	struct sink s = { 0 };
	struct dns *d = mk(PORT_DNS, &s, 50, 1000);
	static struct pool pool;
	pool_init(&pool);
	const unsigned maxclock = 3;
	unsigned total = 0;
	uint32_t next_assoc = 1;
	struct gn_addr in_use[8];
	uint32_t ids[8];

	/* first query */
	int64_t now = mono();
	assert_true(pool_want_query(&pool, pool_room(maxclock, total), now));
	pool_query_started(&pool, now);
	assert_true(dns_resolve(d, "pool.test", 123, now) > 0);
	run(d, &s.n_ok, 1, 5000);
	assert_int_equal(s.n_ok, 1);
	pool_query_done(&pool, pool_offer(&pool, s.addrs, s.n_addrs), mono());
	size_t k = pool_pick(&pool, pool_room(maxclock, total), NULL, 0, in_use, 8);
	assert_int_equal(k, 3);
	for (size_t i = 0; i < k; i++) {
		ids[i] = next_assoc++;
		assert_true(pool_bind(&pool, &in_use[i], ids[i]));
	}
	total = 3;

	/* associations 2 and 3 stay unreachable: replaced by the two spares, no DNS */
	struct gn_addr repl[4];
	for (int i = 1; i <= 2; i++) {
		assert_true(pool_retire(&pool, ids[i]));
		total--;
		assert_false(pool_want_query(&pool, pool_room(maxclock, total), mono() + 10000 * MS));
		assert_int_equal(pool_pick(&pool, pool_room(maxclock, total), NULL, 0, repl, 4), 1);
		for (size_t j = 0; j < 3; j++)
			assert_false(gn_addr_same_host(&repl[0], &in_use[j]));
		ids[i] = next_assoc++;
		assert_true(pool_bind(&pool, &repl[0], ids[i]));
		total++;
	}
	assert_int_equal(pool_count(&pool, POOL_ADDR_SPARE), 0);

	/* association 1 is a falseticker: no spare left, DNS is asked again (after the
	 * pacing second) and brings nothing new... */
	assert_true(pool_retire(&pool, ids[0]));
	total--;
	now = mono();
	if (now < pool_next_query(&pool))
		now = pool_next_query(&pool);
	assert_true(pool_want_query(&pool, pool_room(maxclock, total), now));
	pool_query_started(&pool, now);
	assert_true(dns_resolve(d, "pool.test", 123, mono()) > 0);
	run(d, &s.n_ok, 2, 5000);
	assert_int_equal(s.n_ok, 2);
	unsigned fresh = pool_offer(&pool, s.addrs, s.n_addrs);
	assert_int_equal(fresh, 0);
	pool_query_done(&pool, fresh, now);
	assert_int_equal(pool_pick(&pool, pool_room(maxclock, total), NULL, 0, repl, 4), 0);

	/* ...until the zone changes (dnsmasq reloads its hosts file on SIGHUP) */
	write_hosts("127.0.0.31 pool.test\n127.0.0.32 pool.test\n127.0.0.35 pool.test\n"
		    "127.0.0.41 one.test\n");
	assert_int_equal(kill(dnsmasq_pid[0], SIGHUP), 0);
	bool seen = false;
	for (int attempt = 0; attempt < 20 && !seen; attempt++) {
		usleep(50000);
		unsigned before = s.n_ok;
		assert_true(dns_resolve(d, "pool.test", 123, mono()) > 0);
		run(d, &s.n_ok, before + 1, 5000);
		seen = has(s.addrs, s.n_addrs, "127.0.0.35", 123);
	}
	assert_true(seen);
	fresh = pool_offer(&pool, s.addrs, s.n_addrs);
	assert_int_equal(fresh, 1);
	pool_query_done(&pool, fresh, mono());
	assert_int_equal(pool_pick(&pool, pool_room(maxclock, total), NULL, 0, repl, 4), 1);
	assert_true(has(repl, 1, "127.0.0.35", 123));
	assert_true(pool_bind(&pool, &repl[0], next_assoc++));
	total++;
	assert_int_equal(pool_count(&pool, POOL_ADDR_IN_USE), 3);
	assert_int_equal(pool_count(&pool, POOL_ADDR_RETIRED), 3);

	/* restore the zone for the other tests */
	write_hosts("127.0.0.31 pool.test\n127.0.0.32 pool.test\n127.0.0.33 pool.test\n"
		    "127.0.0.34 pool.test\nfd00::31 pool.test\n127.0.0.41 one.test\n");
	kill(dnsmasq_pid[0], SIGHUP);
	dns_free(d);
}

static void test_nxdomain(void **state)
{
	(void)state;
	struct sink s = { 0 };
	struct dns *d = mk(PORT_DNS, &s, 50, 200);
	unsigned before = log_count("cannot resolve gone.test");
	uint32_t id = dns_resolve(d, "gone.test", 123, mono());
	assert_true(id > 0);
	run(d, &s.n_fail, 3, 5000);
	assert_true(s.n_fail >= 3);
	assert_int_equal(s.n_ok, 0);
	assert_string_equal(s.last.name, "gone.test");
	assert_false(s.last.ok);
	/* a server answered: the resolver is fine, the name is not; said once */
	assert_int_equal(dns_stats(d)->health, DNS_HEALTH_OK);
	assert_int_equal(dns_stats(d)->health_logs, 0);
	assert_int_equal(dns_stats(d)->name_logs, 1);
	assert_int_equal(log_count("cannot resolve gone.test"), before + 1);
	struct dns_req_info info;
	assert_true(dns_request_info(d, id, &info));
	assert_true(info.attempts >= 3);
	assert_true(dns_cancel(d, id));
	assert_false(dns_request_info(d, id, &info));
	assert_int_equal(dns_pending(d), 0);
	dns_free(d);
}

static void test_no_server_then_server(void **state)
{
	(void)state;
	struct sink s = { 0 };
	/* pauses 100, 200, 400, 800, 800 ms: the cap stands in for the hour */
	struct dns *d = mk(PORT_NONE, &s, 100, 800);
	unsigned warn_before = log_count("DNS unavailable");
	unsigned notice_before = log_count("DNS works again");
	uint32_t id = dns_resolve(d, "pool.test", 123, mono());
	assert_true(id > 0);
	run(d, &s.n_fail, 6, 15000);
	assert_true(s.n_fail >= 6);
	assert_int_equal(s.n_ok, 0);
	assert_int_equal(dns_stats(d)->health, DNS_HEALTH_FAILING);
	/* said once, though it failed six times */
	assert_int_equal(dns_stats(d)->health_logs, 1);
	assert_int_equal(log_count("DNS unavailable"), warn_before + 1);
	assert_true(dns_stats(d)->failures >= 6);
	/* the pause doubles, then stays at the cap */
	int64_t want_ms[] = { 100, 200, 400, 800, 800, 800 };
	for (int i = 0; i < 6; i++) {
		int64_t pause = s.retry_at[i] - s.fail_at[i];
		assert_true(pause <= want_ms[i] * MS);
		assert_true(pause >= want_ms[i] * MS - 100 * MS);
	}
	struct dns_req_info info;
	assert_true(dns_request_info(d, id, &info));
	assert_int_equal(info.pause_ns, 800 * MS);
	assert_true(info.attempts >= 6);

	/* the daemon keeps going: another name fails too, nothing more is logged */
	assert_true(dns_resolve(d, "one.test", 123, mono()) > 0);
	unsigned f = s.n_fail;
	run(d, &s.n_fail, f + 2, 5000);
	assert_int_equal(log_count("DNS unavailable"), warn_before + 1);

	/* a server appears: the next retries succeed, one notice */
	start_dnsmasq(1, PORT_NONE);
	run(d, &s.n_ok, 2, 10000);
	assert_int_equal(s.n_ok, 2);
	assert_int_equal(dns_stats(d)->health, DNS_HEALTH_OK);
	assert_int_equal(dns_stats(d)->health_logs, 2);
	assert_int_equal(log_count("DNS works again"), notice_before + 1);
	assert_int_equal(dns_pending(d), 0);
	stop_dnsmasq(1);
	dns_free(d);
}

static void test_cancel_and_limits(void **state)
{
	(void)state;
	struct sink s = { 0 };
	struct dns *d = mk(PORT_DNS, &s, 50, 100);
	assert_int_equal(dns_resolve(d, "", 123, mono()), 0);
	assert_int_equal(dns_resolve(d, "a b.test", 123, mono()), 0);
	assert_int_equal(dns_resolve(d, "a\nb.test", 123, mono()), 0);
	char longname[300];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	assert_int_equal(dns_resolve(d, longname, 123, mono()), 0);

	/* cancelled in flight: its answer is never delivered */
	uint32_t id = dns_resolve(d, "pool.test", 123, mono());
	assert_true(dns_cancel(d, id));
	assert_false(dns_cancel(d, id));
	uint32_t id2 = dns_resolve(d, "one.test", 123, mono());
	run(d, &s.n_ok, 1, 5000);
	assert_int_equal(s.n_ok, 1);
	assert_int_equal(s.last.id, id2);
	assert_int_equal(s.n_addrs, 1);
	/* let the cancelled one finish inside c-ares */
	int64_t end = mono() + 500 * MS;
	while (mono() < end)
		run(d, &s.n_ok, 2, 50);
	assert_int_equal(s.n_ok, 1);

	/* a full table refuses more */
	unsigned got = 0;
	for (int i = 0; i < DNS_MAX_REQUESTS + 5; i++)
		if (dns_resolve(d, "one.test", 123, mono()))
			got++;
	assert_int_equal(got, DNS_MAX_REQUESTS);
	assert_int_equal(dns_pending(d), DNS_MAX_REQUESTS);
	run(d, &s.n_ok, 1 + DNS_MAX_REQUESTS, 10000);
	assert_int_equal(s.n_ok, 1 + DNS_MAX_REQUESTS);
	dns_free(d);

	/* a malformed server list is refused at creation */
	char err[160];
	struct dns_params p = { .servers = "not an address" };
	assert_null(dns_new(&p, on_result, &s, err, sizeof err));
	assert_non_null(strstr(err, "not an address"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pool_name),
		cmocka_unit_test(test_through_sch),
		cmocka_unit_test(test_pool_replacement),
		cmocka_unit_test(test_nxdomain),
		cmocka_unit_test(test_no_server_then_server),
		cmocka_unit_test(test_cancel_and_limits),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
