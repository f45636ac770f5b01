/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Tests for net_linux and the daemon's receive/answer path, over the real loopback
 * interface (ports 12110-12119):
 *   - a request sent to 127.0.0.2 reaches the wildcard-bound server socket with a kernel
 *     RX timestamp and its destination address, and the answer leaves from 127.0.0.2;
 *   - batches: recvmmsg returns 16 at a time, sendmmsg sends them, the sendmsg fallback too;
 *   - the same for ::1 (where the machine has IPv6);
 *   - client sockets: connected, random port, ECONNREFUSED when nothing listens, kernel TX
 *     timestamps from the error queue;
 *   - the real loop (sch) with the real engine (exec): a client request to 127.0.0.2 is
 *     answered from 127.0.0.2 with a receive timestamp taken from the kernel's RX stamp,
 *     and the engine's poll of a source leaves from a fresh connected socket.
 * The system clock is never touched: the engine runs on the -X software clock.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cfg.h"
#include "eng.h"
#include "exec.h"
#include "os_clock.h"
#include "os_log.h"
#include "os_net.h"
#include "os_random.h"
#include "os_wait.h"
#include "sch.h"

#define S 1000000000LL
#define MS 1000000LL

static int64_t real_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * S + ts.tv_nsec;
}

static struct gn_addr addr(const char *s, uint16_t port)
{
	struct gn_addr a;
	assert_true(gn_addr_parse(s, port, &a));
	return a;
}

static bool wait_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return os_poll(&p, 1, ms) == 1;
}

/* Receive everything that arrives within ms into rx (up to n). */
static int recv_all(struct os_net *net, int fd, struct os_net_rx *rx, int n, int ms)
{
	int got = 0;
	while (got < n && wait_readable(fd, ms)) {
		int r = os_net_recv(net, fd, rx + got, (size_t)(n - got));
		assert_true(r >= 0);
		if (r == 0)
			break;
		got += r;
	}
	return got;
}

/* The kernel turns receive timestamping on for the whole system shortly after the first
 * socket asks (a deferred static key), so the very first datagrams may come without a
 * stamp (the daemon then reads the clock instead). Send probes until one is stamped. */
static void warm_up_timestamps(struct os_net *net, int srv, int cli, const struct gn_addr *to)
{
	struct os_net_rx *rx = calloc(OS_NET_BATCH, sizeof *rx);
	uint8_t probe = 0;
	bool stamped = false;
	for (int i = 0; i < 100 && !stamped; i++) {
		struct os_net_tx tx = { .buf = &probe, .len = 1, .to = *to };
		assert_int_equal(os_net_send(net, cli, &tx, 1, false), 1);
		if (!wait_readable(srv, 100))
			continue;
		int n = os_net_recv(net, srv, rx, OS_NET_BATCH);
		for (int k = 0; k < n; k++)
			stamped = stamped || rx[k].have_kernel_ts;
		if (!stamped)
			usleep(10000);
	}
	free(rx);
	assert_true(stamped);
}

static void check_answer_from_dest(int family, const char *dest, uint16_t port)
{
	struct os_net net = { 0 };
	bool forced;
	int srv = os_net_open_server(family, port, OS_NET_RCVBUF_BYTES, &forced);
	if (srv < 0 && family == GN_AF_INET6) {
		skip(); /* no IPv6 on this machine: the daemon only warns, as here */
		return;
	}
	assert_true(srv >= 0);
	/* A client: an unconnected socket on an ephemeral port, so it sees the answer's source. */
	int cli = os_net_open_server(family, 0, 0, NULL);
	assert_true(cli >= 0);
	struct gn_addr cli_local;
	assert_int_equal(os_net_local_addr(cli, &cli_local), 0);

	struct gn_addr dst = addr(dest, port);
	warm_up_timestamps(&net, srv, cli, &dst);
	uint8_t req[48] = { 0x23 };
	struct os_net_tx tx = { .buf = req, .len = sizeof req, .to = dst };
	int64_t before = real_ns();
	assert_int_equal(os_net_send(&net, cli, &tx, 1, false), 1);

	struct os_net_rx *rx = calloc(OS_NET_BATCH, sizeof *rx);
	assert_int_equal(recv_all(&net, srv, rx, 1, 1000), 1);
	assert_int_equal(rx[0].len, 48);
	assert_true(rx[0].have_kernel_ts);
	assert_true(rx[0].kernel_ts_ns >= before - 10 * MS && rx[0].kernel_ts_ns <= real_ns());
	assert_true(gn_addr_equal(&rx[0].local, &(struct gn_addr){ 0 }) == false);
	struct gn_addr want_local = addr(dest, 0);
	assert_true(gn_addr_same_host(&rx[0].local, &want_local));
	assert_int_equal(rx[0].from.port, cli_local.port);
	assert_true(rx[0].ifindex > 0);

	/* Answer from the address the request came to. */
	uint8_t ans[48] = { 0x24 };
	struct os_net_tx out = { .buf = ans, .len = sizeof ans, .to = rx[0].from,
				 .local = rx[0].local, .ifindex = rx[0].ifindex };
	assert_int_equal(os_net_send(&net, srv, &out, 1, false), 1);
	assert_int_equal(recv_all(&net, cli, rx, 1, 1000), 1);
	assert_int_equal(rx[0].buf[0], 0x24);
	struct gn_addr want_from = addr(dest, port);
	char a1[64], a2[64];
	if (!gn_addr_equal(&rx[0].from, &want_from))
		fail_msg("answer came from %s port %u, not %s port %u",
			 gn_addr_str(&rx[0].from, a1, sizeof a1), rx[0].from.port,
			 gn_addr_str(&want_from, a2, sizeof a2), port);
	free(rx);
	os_net_close(cli);
	os_net_close(srv);
}

static void test_answer_from_127_0_0_2(void **state)
{
	(void)state;
	check_answer_from_dest(GN_AF_INET, "127.0.0.2", 12110);
}

static void test_answer_from_ipv6_loopback(void **state)
{
	(void)state;
	check_answer_from_dest(GN_AF_INET6, "::1", 12111);
}

static void batch(bool no_sendmmsg, uint16_t port)
{
	struct os_net net = { .no_sendmmsg = no_sendmmsg };
	int srv = os_net_open_server(GN_AF_INET, port, OS_NET_RCVBUF_BYTES, NULL);
	int cli = os_net_open_server(GN_AF_INET, 0, OS_NET_RCVBUF_BYTES, NULL);
	assert_true(srv >= 0 && cli >= 0);
	struct gn_addr dst = addr("127.0.0.1", port);
	warm_up_timestamps(&net, srv, cli, &dst);
	uint8_t bufs[20][48];
	struct os_net_tx tx[20];
	for (int i = 0; i < 20; i++) {
		memset(bufs[i], i, 48);
		tx[i] = (struct os_net_tx){ .buf = bufs[i], .len = 48, .to = addr("127.0.0.1", port) };
	}
	assert_int_equal(os_net_send(&net, cli, tx, 16, false), 16);
	assert_int_equal(os_net_send(&net, cli, tx + 16, 4, false), 4);
	struct os_net_rx *rx = calloc(20, sizeof *rx);
	assert_true(wait_readable(srv, 1000));
	usleep(20000); /* let all 20 arrive */
	assert_int_equal(os_net_recv(&net, srv, rx, 16), 16); /* one recvmmsg, a full batch */
	assert_int_equal(os_net_recv(&net, srv, rx + 16, 16), 4);
	assert_int_equal(os_net_recv(&net, srv, rx, 16), 0); /* drained, no blocking */
	for (int i = 0; i < 20; i++) {
		assert_int_equal(rx[i].buf[0], i);
		assert_true(rx[i].have_kernel_ts);
	}
	/* Answer all: 16 + 4. */
	struct os_net_tx out[16];
	for (int i = 0; i < 16; i++)
		out[i] = (struct os_net_tx){ .buf = rx[i].buf, .len = 48, .to = rx[i].from,
					     .local = rx[i].local };
	assert_int_equal(os_net_send(&net, srv, out, 16, false), 16);
	assert_int_equal(recv_all(&net, cli, rx, 20, 300), 16);
	free(rx);
	os_net_close(cli);
	os_net_close(srv);
}

static void test_batches_sendmmsg(void **state)
{
	(void)state;
	batch(false, 12112);
}

static void test_batches_sendmsg_fallback(void **state)
{
	(void)state;
	batch(true, 12113);
}

static void test_client_socket(void **state)
{
	(void)state;
	struct os_net net = { 0 };
	/* Nothing listens on 12114: the kernel's ICMP port unreachable surfaces as an error. */
	struct gn_addr dead = addr("127.0.0.1", 12114);
	int c = os_net_open_client(&dead);
	assert_true(c >= 0);
	struct gn_addr local;
	assert_int_equal(os_net_local_addr(c, &local), 0);
	assert_true(local.port != 0 && local.port != 123); /* an ephemeral port (RFC 9109) */
	uint8_t req[48] = { 0x23 };
	struct os_net_tx tx = { .buf = req, .len = 48 };
	assert_int_equal(os_net_send(&net, c, &tx, 1, true), 1);
	struct pollfd p = { .fd = c, .events = POLLIN };
	assert_int_equal(os_poll(&p, 1, 1000), 1);
	assert_true(p.revents & POLLERR);
	bool refused = false;
	gn_time_ns ts;
	for (int i = 0; i < 4; i++) {
		int r = os_net_read_errqueue(c, &ts);
		if (r == -ECONNREFUSED)
			refused = true;
		if (r <= 0)
			break;
	}
	if (!refused) {
		struct os_net_rx rx;
		refused = os_net_recv(&net, c, &rx, 1) == -ECONNREFUSED;
	}
	assert_true(refused);
	os_net_close(c);

	/* A listening server: the request arrives, and a TX timestamp comes back. */
	int srv = os_net_open_server(GN_AF_INET, 12115, 0, NULL);
	assert_true(srv >= 0);
	struct gn_addr to = addr("127.0.0.1", 12115);
	int probe = os_net_open_server(GN_AF_INET, 0, 0, NULL);
	warm_up_timestamps(&net, srv, probe, &to);
	os_net_close(probe);
	c = os_net_open_client(&to);
	assert_true(c >= 0);
	int64_t before = real_ns();
	assert_int_equal(os_net_send(&net, c, &tx, 1, true), 1);
	struct os_net_rx rx;
	assert_true(wait_readable(srv, 1000));
	assert_int_equal(os_net_recv(&net, srv, &rx, 1), 1);
	assert_true(rx.have_kernel_ts);
	p = (struct pollfd){ .fd = c, .events = 0 };
	assert_int_equal(os_poll(&p, 1, 1000), 1); /* POLLERR: the error queue has the stamp */
	assert_int_equal(os_net_read_errqueue(c, &ts), 1);
	assert_true(ts >= before - 10 * MS && ts <= rx.kernel_ts_ns);
	os_net_close(c);
	os_net_close(srv);
}

static void test_resolve_numeric(void **state)
{
	(void)state;
	struct gn_addr a;
	assert_true(os_net_resolve_numeric("192.0.2.1", 123, 0, &a));
	assert_int_equal(a.family, GN_AF_INET);
	assert_int_equal(a.port, 123);
	assert_true(os_net_resolve_numeric("2001:db8::1", 4123, 6, &a));
	assert_int_equal(a.family, GN_AF_INET6);
	assert_false(os_net_resolve_numeric("192.0.2.1", 123, 6, &a)); /* -6 on a v4 address */
	assert_false(os_net_resolve_numeric("pool.ntp.org", 123, 0, &a)); /* names: not here */
}

/* ---- the real loop with the real engine ---- */

struct loop_fx {
	struct cfg *cfg;
	struct os_clock *clock;
	struct eng *eng;
	struct sch *sch;
	struct exec *x;
	struct os_net net;
};

static void test_loop_answers_from_dest(void **state)
{
	(void)state;
	struct loop_fx f;
	memset(&f, 0, sizeof f);
	log_init("test", OS_LOG_STDERR, NULL, LOG_WARNING);
	f.cfg = calloc(1, sizeof *f.cfg);
	cfg_defaults(f.cfg);
	f.cfg->port = 12116;
	f.cfg->n_sources = 1;
	f.cfg->sources[0].kind = CFG_SRC_SERVER;
	snprintf(f.cfg->sources[0].host, sizeof f.cfg->sources[0].host, "127.0.0.1");
	f.cfg->sources[0].port = 12117;
	f.cfg->sources[0].minpoll = 6;
	f.cfg->sources[0].maxpoll = 10;
	f.cfg->sources[0].version = 4;
	f.clock = os_clock_soft_new(NULL); /* never the system clock in a test */
	struct eng_params p;
	memset(&p, 0, sizeof p);
	p.cfg = f.cfg;
	p.rng = os_random_rng();
	p.precision_log2 = -20;
	struct eng_now now;
	assert_int_equal(os_clock_read(f.clock, &now.real_ns, &now.mono_ns), 0);
	f.eng = eng_new(&p, &now);
	f.sch = sch_new(NULL);
	struct exec_params xp = { .eng = f.eng, .sch = f.sch, .clock = f.clock, .net = &f.net,
				  .cfg = f.cfg };
	f.x = exec_new(&xp);
	assert_non_null(f.eng);
	assert_non_null(f.x);
	int srv = os_net_open_server(GN_AF_INET, 12116, OS_NET_RCVBUF_BYTES, NULL);
	assert_true(srv >= 0);
	assert_true(exec_add_server_fd(f.x, srv));

	/* The upstream the engine will poll: a plain socket of ours. */
	int upstream = os_net_open_server(GN_AF_INET, 12117, 0, NULL);
	assert_true(upstream >= 0);
	struct gn_addr up = addr("127.0.0.1", 12117);
	assert_true(eng_add_source_addr(f.eng, &now, 0, &up) > 0);
	exec_run_actions(f.x);

	/* A client request to 127.0.0.2. */
	int cli = os_net_open_server(GN_AF_INET, 0, 0, NULL);
	uint8_t req[48];
	memset(req, 0, sizeof req);
	req[0] = 0 << 6 | 4 << 3 | 3; /* LI 0, VN 4, mode 3 */
	const uint8_t xmt[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	memcpy(&req[40], xmt, 8);
	struct os_net_tx tx = { .buf = req, .len = 48, .to = addr("127.0.0.2", 12116) };
	int64_t sent_at = real_ns();
	assert_int_equal(os_net_send(&f.net, cli, &tx, 1, false), 1);

	struct os_net_rx rx;
	bool answered = false, polled = false;
	for (int i = 0; i < 200 && !(answered && polled); i++) {
		assert_true(sch_run_once(f.sch, 10) >= 0);
		if (!answered && os_net_recv(&f.net, cli, &rx, 1) == 1) {
			answered = true;
			struct gn_addr want = addr("127.0.0.2", 12116);
			assert_true(gn_addr_equal(&rx.from, &want));
			assert_int_equal(rx.len, 48);
			assert_int_equal(rx.buf[0] & 7, 4);           /* mode 4 */
			assert_int_equal(rx.buf[0] >> 6, 3);          /* unsynchronised */
			assert_memory_equal(&rx.buf[24], xmt, 8);     /* origin = our transmit */
			/* T2, the receive timestamp, came from the kernel's RX stamp: close to when
			 * we sent, and not after the transmit timestamp T3. */
			gn_time_ns t2 = ntp_ts64_to_ns(ntp_ts64_load(&rx.buf[32]), sent_at);
			gn_time_ns t3 = ntp_ts64_to_ns(ntp_ts64_load(&rx.buf[40]), sent_at);
			assert_true(t2 >= sent_at - 50 * MS && t2 <= sent_at + 500 * MS);
			assert_true(t3 >= t2);
		}
		if (!polled && os_net_recv(&f.net, upstream, &rx, 1) == 1) {
			polled = true;
			assert_int_equal(rx.buf[0] & 7, 3); /* the engine's client request */
			assert_true(rx.from.port != 12116); /* from its own socket, not the server's */
		}
	}
	assert_true(answered);
	assert_true(polled);

	/* A burst of 20 requests: all answered (in sendmmsg batches), none lost. */
	struct os_net_tx burst[16];
	for (int i = 0; i < 16; i++)
		burst[i] = tx;
	assert_int_equal(os_net_send(&f.net, cli, burst, 16, false), 16);
	assert_int_equal(os_net_send(&f.net, cli, burst, 4, false), 4);
	int got = 0;
	for (int i = 0; i < 200 && got < 20; i++) {
		assert_true(sch_run_once(f.sch, 10) >= 0);
		struct os_net_rx *br = calloc(OS_NET_BATCH, sizeof *br);
		int n = os_net_recv(&f.net, cli, br, OS_NET_BATCH);
		for (int k = 0; k < n; k++)
			assert_int_equal(br[k].buf[0] & 7, 4);
		got += n > 0 ? n : 0;
		free(br);
	}
	assert_int_equal(got, 20);
	const struct exec_stats *st = exec_stats(f.x);
	assert_true(st->rx_kernel_ts >= 20); /* the burst came with kernel receive stamps */
	assert_true(st->client_sockets_opened >= 1);

	os_net_close(cli);
	os_net_close(upstream);
	exec_free(f.x); /* closes srv */
	eng_free(f.eng);
	sch_free(f.sch);
	os_clock_free(f.clock);
	free(f.cfg);
}

/* The local addresses (for the loop test's refids): loopback is up in any test
 * environment, so 127.0.0.1 is among them; a tiny cap is respected. */
static void test_local_addrs(void **state)
{
	(void)state;
	struct gn_addr a[64];
	int n = os_net_local_addrs(a, 64);
	assert_true(n >= 1);
	bool lo = false;
	for (int i = 0; i < n; i++) {
		assert_true(a[i].family == GN_AF_INET || a[i].family == GN_AF_INET6);
		assert_int_equal(a[i].port, 0);
		if (a[i].family == GN_AF_INET && a[i].addr[0] == 127 && a[i].addr[1] == 0 &&
		    a[i].addr[2] == 0 && a[i].addr[3] == 1)
			lo = true;
	}
	assert_true(lo);
	assert_int_equal(os_net_local_addrs(a, 1), 1);
	assert_int_equal(os_net_local_addrs(a, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_local_addrs),
		cmocka_unit_test(test_answer_from_127_0_0_2),
		cmocka_unit_test(test_answer_from_ipv6_loopback),
		cmocka_unit_test(test_batches_sendmmsg),
		cmocka_unit_test(test_batches_sendmsg_fallback),
		cmocka_unit_test(test_client_socket),
		cmocka_unit_test(test_resolve_numeric),
		cmocka_unit_test(test_loop_answers_from_dest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
