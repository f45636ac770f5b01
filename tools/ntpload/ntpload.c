/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ntpload: a load generator for NTP servers, for gnomon's server benchmark
 * (scripts/bench-server.sh). Written for gnomon from RFC 5905 and the Linux man pages.
 * The design follows the idea of the load generator in the project's shared area
 * (open-loop schedule, token in the transmit timestamp, skipping instead of bursting
 * when late), but the code is new.
 *
 * What it does: sends NTPv4 client requests (mode 3, RFC 5905 §7.3) to one IPv4 target
 * at an offered rate (or as fast as possible), from many source addresses (per-message
 * IP_PKTINFO on sendmmsg: every address of 127.0.0.0/8 is local on Linux loopback), and
 * matches each answer to its request by the origin timestamp (RFC 5905 §8: the server
 * copies the request's transmit timestamp into the answer's origin timestamp).
 * Prints what was sent, answered, lost, the latency distribution and the kernel's
 * receive-buffer drops in this network namespace, as text or one JSON object (-j).
 *
 * Bounded: at most -t seconds of sending (<= 120), -n requests, then -w seconds of
 * draining (<= 10). Refuses targets outside 127.0.0.0/8.
 *
 * Not: a client (no clock filter), a validator of timestamps, an IPv6 tool.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NTP_LEN 48              /* RFC 5905 §7.3 header without extensions */
#define MAX_BATCH 256
#define MAX_SOCKS 256
#define RX_LEN 512
#define RING_BITS 21            /* outstanding requests tracked: 2^21 (5 s at 400k/s) */
#define RING_SIZE (1u << RING_BITS)
#define HIST_US 1000000         /* latency histogram: 1 us bins up to 1 s */
#define QUANTUM_NS 100000       /* a due request waits at most 100 us for its batch */
#define MAX_SEND_S 120.0
#define MAX_DRAIN_S 10.0

struct slot { uint64_t token; uint64_t sent_ns; };

struct opts {
	struct sockaddr_in target;
	double rate, seconds, drain_s, late_s;
	uint64_t count;
	unsigned socks, batch, naddr;
	struct in_addr src0;
	bool json, have_src;
};

struct stats {
	uint64_t sent, send_fail, skipped, received, matched, valid, kod, unsync;
	uint64_t short_, wrong_src, bad_hdr, unmatched;
	uint64_t max_stall_ns;
	double send_s;
	long long rcvbuf0, rcvbuf1, inerr0, inerr1;
};

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig) { (void)sig; stop_flag = 1; }

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t rng_state;
static uint64_t rng_next(void)   /* xorshift64*: only needs to be unpredictable-ish */
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

/* Udp RcvbufErrors and InErrors from /proc/net/snmp (this network namespace). */
static void udp_errors(long long *rcvbuf, long long *inerr)
{
	*rcvbuf = -1;
	*inerr = -1;
	FILE *f = fopen("/proc/net/snmp", "r");
	if (!f)
		return;
	char hdr[1024], val[1024];
	while (fgets(hdr, sizeof hdr, f)) {
		if (strncmp(hdr, "Udp:", 4) != 0 || !fgets(val, sizeof val, f))
			continue;
		char *sh, *sv;
		char *h = strtok_r(hdr, " \n", &sh), *v = strtok_r(val, " \n", &sv);
		while (h && v) {
			if (!strcmp(h, "RcvbufErrors"))
				*rcvbuf = atoll(v);
			else if (!strcmp(h, "InErrors"))
				*inerr = atoll(v);
			h = strtok_r(NULL, " \n", &sh);
			v = strtok_r(NULL, " \n", &sv);
		}
		break;
	}
	fclose(f);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: ntpload [options] TARGET_IPV4\n"
		"  -p PORT   target port (123)\n"
		"  -r RATE   offered requests/s; 0 = as fast as possible (0)\n"
		"  -t SEC    seconds of sending, <= %.0f (3)\n"
		"  -n COUNT  stop after COUNT requests (no limit)\n"
		"  -w SEC    seconds of draining after the send phase, <= %.0f (0.5)\n"
		"  -l SEC    lateness after which due requests are skipped, not burst (0.001)\n"
		"  -c N      sockets (source ports), <= %d (16)\n"
		"  -b N      requests per sendmmsg, <= %d (64)\n"
		"  -S ADDR   first source address (127.x.y.z), one per request in turn\n"
		"  -a N      number of consecutive source addresses from -S (1)\n"
		"  -j        one JSON object on stdout\n",
		MAX_SEND_S, MAX_DRAIN_S, MAX_SOCKS, MAX_BATCH);
}

static int parse(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof *o);
	o->seconds = 3;
	o->drain_s = 0.5;
	o->late_s = 0.001;
	o->socks = 16;
	o->batch = 64;
	o->naddr = 1;
	unsigned port = 123;
	int c;
	while ((c = getopt(argc, argv, "p:r:t:n:w:l:c:b:S:a:jh")) != -1) {
		switch (c) {
		case 'p': port = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'r': o->rate = strtod(optarg, NULL); break;
		case 't': o->seconds = strtod(optarg, NULL); break;
		case 'n': o->count = strtoull(optarg, NULL, 10); break;
		case 'w': o->drain_s = strtod(optarg, NULL); break;
		case 'l': o->late_s = strtod(optarg, NULL); break;
		case 'c': o->socks = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'b': o->batch = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'S':
			if (inet_pton(AF_INET, optarg, &o->src0) != 1) {
				fprintf(stderr, "ntpload: bad source address %s\n", optarg);
				return -1;
			}
			o->have_src = true;
			break;
		case 'a': o->naddr = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'j': o->json = true; break;
		default: usage(); return -1;
		}
	}
	if (optind != argc - 1) {
		usage();
		return -1;
	}
	o->target.sin_family = AF_INET;
	o->target.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, argv[optind], &o->target.sin_addr) != 1) {
		fprintf(stderr, "ntpload: target must be a numeric IPv4 address\n");
		return -1;
	}
	if ((ntohl(o->target.sin_addr.s_addr) >> 24) != 127) {
		fprintf(stderr, "ntpload: refusing a target outside 127.0.0.0/8\n");
		return -1;
	}
	if (port == 0 || port > 65535 || o->rate < 0 || o->rate > 1e8 ||
	    !(o->seconds > 0 && o->seconds <= MAX_SEND_S) ||
	    !(o->drain_s >= 0 && o->drain_s <= MAX_DRAIN_S) || o->late_s < 0 ||
	    o->socks < 1 || o->socks > MAX_SOCKS || o->batch < 1 || o->batch > MAX_BATCH ||
	    o->naddr < 1) {
		fprintf(stderr, "ntpload: option out of range (see -h)\n");
		return -1;
	}
	if (o->naddr > 1 && !o->have_src) {
		fprintf(stderr, "ntpload: -a needs -S\n");
		return -1;
	}
	if (o->have_src) {
		uint32_t first = ntohl(o->src0.s_addr);
		if ((first >> 24) != 127 || (uint64_t)first + o->naddr > 0x7fffffffu) {
			fprintf(stderr, "ntpload: source addresses must stay inside 127.0.0.0/8\n");
			return -1;
		}
	}
	return 0;
}

/* Percentile from the histogram, in microseconds (bin index = us). */
static double hist_pct(const uint32_t *hist, uint64_t n, double p)
{
	if (n == 0)
		return 0;
	uint64_t want = (uint64_t)(p * (double)n), acc = 0;
	if (want >= n)
		want = n - 1;
	for (uint32_t i = 0; i <= HIST_US; i++) {
		acc += hist[i];
		if (acc > want)
			return i;
	}
	return HIST_US;
}

int main(int argc, char **argv)
{
	struct opts o;
	if (parse(argc, argv, &o) != 0)
		return 2;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	struct slot *ring = calloc(RING_SIZE, sizeof *ring);
	uint32_t *hist = calloc(HIST_US + 1, sizeof *hist);
	if (!ring || !hist) {
		fprintf(stderr, "ntpload: out of memory\n");
		return 2;
	}
	rng_state = mono_ns() ^ ((uint64_t)getpid() << 32) ^ 0x9E3779B97F4A7C15ULL;

	int fds[MAX_SOCKS];
	struct pollfd pfd[MAX_SOCKS];
	for (unsigned i = 0; i < o.socks; i++) {
		fds[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fds[i] < 0) {
			perror("ntpload: socket");
			return 2;
		}
		int sz = 4 << 20;
		if (setsockopt(fds[i], SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz) != 0)
			(void)setsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
		if (setsockopt(fds[i], SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof sz) != 0)
			(void)setsockopt(fds[i], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
		struct sockaddr_in any = { .sin_family = AF_INET };   /* 0.0.0.0:ephemeral */
		if (bind(fds[i], (struct sockaddr *)&any, sizeof any) != 0) {
			perror("ntpload: bind");
			return 2;
		}
		pfd[i].fd = fds[i];
		pfd[i].events = POLLIN;
	}

	/* send side: one buffer and one control block per batch slot */
	static uint8_t txbuf[MAX_BATCH][NTP_LEN];
	static union { char buf[CMSG_SPACE(sizeof(struct in_pktinfo))]; struct cmsghdr align; }
		txctl[MAX_BATCH];
	static struct iovec txiov[MAX_BATCH];
	static struct mmsghdr txmsg[MAX_BATCH];
	for (unsigned i = 0; i < MAX_BATCH; i++) {
		memset(txbuf[i], 0, NTP_LEN);
		txbuf[i][0] = (0 << 6) | (4 << 3) | 3;   /* LI 0, VN 4, mode 3 (client) */
		txbuf[i][2] = 6;                          /* poll 2^6 s */
		txbuf[i][3] = (uint8_t)(int8_t)-20;       /* precision ~1 us */
		txiov[i].iov_base = txbuf[i];
		txiov[i].iov_len = NTP_LEN;
		txmsg[i].msg_hdr.msg_name = &o.target;
		txmsg[i].msg_hdr.msg_namelen = sizeof o.target;
		txmsg[i].msg_hdr.msg_iov = &txiov[i];
		txmsg[i].msg_hdr.msg_iovlen = 1;
		if (o.have_src) {
			txmsg[i].msg_hdr.msg_control = txctl[i].buf;
			txmsg[i].msg_hdr.msg_controllen = sizeof txctl[i].buf;
			struct cmsghdr *cm = CMSG_FIRSTHDR(&txmsg[i].msg_hdr);
			cm->cmsg_level = IPPROTO_IP;
			cm->cmsg_type = IP_PKTINFO;
			cm->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
		}
	}
	/* receive side */
	static uint8_t rxbuf[MAX_BATCH][RX_LEN];
	static struct iovec rxiov[MAX_BATCH];
	static struct sockaddr_in rxfrom[MAX_BATCH];
	static struct mmsghdr rxmsg[MAX_BATCH];

	struct stats st;
	memset(&st, 0, sizeof st);
	udp_errors(&st.rcvbuf0, &st.inerr0);

	const uint32_t src_first = o.have_src ? ntohl(o.src0.s_addr) : 0;
	const uint64_t quantum = QUANTUM_NS, late_ns = (uint64_t)(o.late_s * 1e9);
	uint64_t seq = 0;          /* requests scheduled so far: sent + skipped + failed */
	uint64_t lat_sum_ns = 0;
	unsigned next_sock = 0;
	const uint64_t t0 = mono_ns();
	const uint64_t t_end = t0 + (uint64_t)(o.seconds * 1e9);
	uint64_t t_last = t0, t_send_end = t0;
	bool sending = true;
	uint64_t t_drain_end = 0;

	for (;;) {
		uint64_t now = mono_ns();
		if (sending && now - t_last > st.max_stall_ns)
			st.max_stall_ns = now - t_last;
		t_last = now;
		if (sending && (now >= t_end || stop_flag || (o.count && seq >= o.count))) {
			sending = false;
			t_send_end = now;
			t_drain_end = now + (uint64_t)(o.drain_s * 1e9);
		}
		if (!sending && (now >= t_drain_end || st.matched >= st.sent))
			break;

		/* how many requests to send now */
		unsigned n = 0;
		int64_t wait_ns = -1;   /* poll timeout: -1 = until due (computed below) */
		if (sending) {
			if (o.rate <= 0) {
				n = o.batch;
				wait_ns = 0;
			} else {
				uint64_t due = (uint64_t)((double)(now - t0) * o.rate / 1e9);
				if (o.count && due > o.count)
					due = o.count;
				/* skip requests that are more than late_ns overdue */
				if (due > seq) {
					uint64_t oldest_ns = t0 + (uint64_t)((double)seq * 1e9 / o.rate);
					if (now - oldest_ns > late_ns + quantum) {
						uint64_t ontime = (uint64_t)((double)(now - late_ns - t0) *
									     o.rate / 1e9);
						if (ontime > seq) {
							st.skipped += ontime - seq;
							seq = ontime;
						}
					}
				}
				uint64_t backlog = due > seq ? due - seq : 0;
				if (backlog >= o.batch) {
					n = o.batch;
				} else if (backlog > 0) {
					uint64_t oldest_ns = t0 + (uint64_t)((double)seq * 1e9 / o.rate);
					if (now - oldest_ns >= quantum)
						n = (unsigned)backlog;
				}
				if (n == 0) {
					/* sleep until a batch is due or the oldest waited a quantum */
					uint64_t next_ns = t0 + (uint64_t)((double)(seq + 1) * 1e9 / o.rate) +
							   quantum;
					uint64_t full_ns = t0 + (uint64_t)((double)(seq + o.batch) * 1e9 / o.rate);
					if (full_ns < next_ns)
						next_ns = full_ns;
					wait_ns = next_ns > now ? (int64_t)(next_ns - now) : 0;
					if (t_end > now && (int64_t)(t_end - now) < wait_ns)
						wait_ns = (int64_t)(t_end - now);
				} else {
					wait_ns = 0;
				}
			}
			if (o.count && seq + n > o.count)
				n = (unsigned)(o.count - seq);
		} else {
			wait_ns = (int64_t)(t_drain_end > now ? t_drain_end - now : 0);
		}

		if (n > 0) {
			for (unsigned i = 0; i < n; i++) {
				uint64_t k = seq + i;
				/* random high bits (never 0), ring index in the low bits */
				uint64_t token = (rng_next() << RING_BITS) | (1ULL << 63) |
						 (k & (RING_SIZE - 1));
				memcpy(&txbuf[i][40], &token, 8);   /* transmit timestamp */
				ring[k & (RING_SIZE - 1)].token = token;
				if (o.have_src) {
					struct cmsghdr *cm = CMSG_FIRSTHDR(&txmsg[i].msg_hdr);
					struct in_pktinfo pi;
					memset(&pi, 0, sizeof pi);
					pi.ipi_spec_dst.s_addr = htonl(src_first + (uint32_t)(k % o.naddr));
					memcpy(CMSG_DATA(cm), &pi, sizeof pi);
				}
			}
			uint64_t ts = mono_ns();
			for (unsigned i = 0; i < n; i++)
				ring[(seq + i) & (RING_SIZE - 1)].sent_ns = ts;
			int r = sendmmsg(fds[next_sock], txmsg, n, 0);
			unsigned ok = r > 0 ? (unsigned)r : 0;
			st.sent += ok;
			if (ok < n) {
				/* the rest failed (buffer full or an error): not retried */
				st.send_fail += n - ok;
				for (unsigned i = ok; i < n; i++)
					ring[(seq + i) & (RING_SIZE - 1)].token = 0;
			}
			seq += n;
			next_sock = (next_sock + 1) % o.socks;
		}

		/* receive whatever is there; sleep in ppoll when nothing is due */
		struct timespec to = { 0, 0 };
		if (wait_ns > 0) {
			to.tv_sec = wait_ns / 1000000000;
			to.tv_nsec = wait_ns % 1000000000;
		}
		int pr = ppoll(pfd, o.socks, &to, NULL);
		if (pr < 0 && errno != EINTR) {
			perror("ntpload: ppoll");
			return 2;
		}
		if (pr <= 0)
			continue;
		for (unsigned s = 0; s < o.socks; s++) {
			if (!(pfd[s].revents & POLLIN))
				continue;
			for (int round = 0; round < 4; round++) {
				for (unsigned i = 0; i < o.batch; i++) {
					rxiov[i].iov_base = rxbuf[i];
					rxiov[i].iov_len = RX_LEN;
					rxmsg[i].msg_hdr.msg_name = &rxfrom[i];
					rxmsg[i].msg_hdr.msg_namelen = sizeof rxfrom[i];
					rxmsg[i].msg_hdr.msg_iov = &rxiov[i];
					rxmsg[i].msg_hdr.msg_iovlen = 1;
					rxmsg[i].msg_hdr.msg_control = NULL;
					rxmsg[i].msg_hdr.msg_controllen = 0;
				}
				int r = recvmmsg(fds[s], rxmsg, o.batch, MSG_DONTWAIT, NULL);
				if (r <= 0)
					break;
				uint64_t trx = mono_ns();
				for (int i = 0; i < r; i++) {
					const uint8_t *p = rxbuf[i];
					st.received++;
					if (rxmsg[i].msg_len < NTP_LEN) {
						st.short_++;
						continue;
					}
					if (rxfrom[i].sin_addr.s_addr != o.target.sin_addr.s_addr ||
					    rxfrom[i].sin_port != o.target.sin_port) {
						st.wrong_src++;
						continue;
					}
					unsigned vn = (p[0] >> 3) & 7, mode = p[0] & 7;
					if (vn != 4 || mode != 4) {
						st.bad_hdr++;
						continue;
					}
					uint64_t org;
					memcpy(&org, p + 24, 8);   /* origin timestamp */
					struct slot *sl = &ring[org & (RING_SIZE - 1)];
					if (org == 0 || sl->token != org) {
						st.unmatched++;
						continue;
					}
					sl->token = 0;   /* a duplicate does not match twice */
					st.matched++;
					uint64_t lat = trx - sl->sent_ns;
					lat_sum_ns += lat;
					uint64_t us = lat / 1000;
					hist[us > HIST_US ? HIST_US : us]++;
					unsigned li = p[0] >> 6, stratum = p[1];
					if (stratum == 0) {
						bool printable = true;
						for (int j = 12; j < 16; j++)
							if (p[j] < 0x20 || p[j] > 0x7e)
								printable = false;
						if (printable)
							st.kod++;
						else
							st.unsync++;
					} else if (stratum > 15 || li == 3) {
						st.unsync++;
					} else {
						st.valid++;
					}
				}
				if ((unsigned)r < o.batch)
					break;
			}
		}
	}
	if (sending)
		t_send_end = mono_ns();
	st.send_s = (double)(t_send_end - t0) / 1e9;
	udp_errors(&st.rcvbuf1, &st.inerr1);

	uint64_t lost = st.sent - st.matched;
	double loss_pct = st.sent ? 100.0 * (double)lost / (double)st.sent : 0;
	double resp_rate = st.send_s > 0 ? (double)st.matched / st.send_s : 0;
	double send_rate = st.send_s > 0 ? (double)st.sent / st.send_s : 0;
	double p50 = hist_pct(hist, st.matched, 0.50), p90 = hist_pct(hist, st.matched, 0.90);
	double p99 = hist_pct(hist, st.matched, 0.99), p999 = hist_pct(hist, st.matched, 0.999);
	double mean = st.matched ? (double)lat_sum_ns / (double)st.matched / 1000.0 : 0;
	long long rcvbuf = st.rcvbuf0 >= 0 && st.rcvbuf1 >= 0 ? st.rcvbuf1 - st.rcvbuf0 : -1;
	long long inerr = st.inerr0 >= 0 && st.inerr1 >= 0 ? st.inerr1 - st.inerr0 : -1;
	uint64_t invalid = st.short_ + st.wrong_src + st.bad_hdr + st.unmatched;
	if (o.json) {
		printf("{\"offered_rate\":%.0f,\"send_s\":%.4f,\"send_rate\":%.1f,"
		       "\"sent\":%" PRIu64 ",\"send_fail\":%" PRIu64 ",\"skipped_late\":%" PRIu64 ","
		       "\"received\":%" PRIu64 ",\"matched\":%" PRIu64 ",\"valid\":%" PRIu64 ","
		       "\"kod\":%" PRIu64 ",\"unsync\":%" PRIu64 ",\"invalid\":%" PRIu64 ","
		       "\"lost\":%" PRIu64 ",\"loss_pct\":%.4f,\"response_rate\":%.1f,"
		       "\"latency_us\":{\"p50\":%.0f,\"p90\":%.0f,\"p99\":%.0f,\"p999\":%.0f,"
		       "\"mean\":%.1f},\"max_stall_us\":%.0f,\"udp_rcvbuf_errors\":%lld,"
		       "\"udp_in_errors\":%lld,\"sources\":%u}\n",
		       o.rate, st.send_s, send_rate, st.sent, st.send_fail, st.skipped,
		       st.received, st.matched, st.valid, st.kod, st.unsync, invalid, lost,
		       loss_pct, resp_rate, p50, p90, p99, p999, mean,
		       (double)st.max_stall_ns / 1000.0, rcvbuf, inerr, o.naddr);
	} else {
		char tbuf[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &o.target.sin_addr, tbuf, sizeof tbuf);
		printf("target         %s:%u, %u sockets, batch %u, %u source address(es)\n",
		       tbuf, ntohs(o.target.sin_port), o.socks, o.batch, o.naddr);
		printf("offered        %s%.0f/s, achieved send rate %.0f/s over %.3f s\n",
		       o.rate > 0 ? "" : "as fast as possible; ", o.rate, send_rate, st.send_s);
		printf("sent           %" PRIu64 " (failed %" PRIu64 ", skipped late %" PRIu64 ")\n",
		       st.sent, st.send_fail, st.skipped);
		printf("answered       %" PRIu64 " of %" PRIu64 " received (valid %" PRIu64
		       ", KoD %" PRIu64 ", unsynchronised %" PRIu64 ")\n",
		       st.matched, st.received, st.valid, st.kod, st.unsync);
		printf("invalid        %" PRIu64 " (short %" PRIu64 ", wrong source %" PRIu64
		       ", bad header %" PRIu64 ", unmatched %" PRIu64 ")\n",
		       invalid, st.short_, st.wrong_src, st.bad_hdr, st.unmatched);
		printf("lost           %" PRIu64 " (%.3f %%)\n", lost, loss_pct);
		printf("response rate  %.0f/s\n", resp_rate);
		printf("latency us     p50 %.0f  p90 %.0f  p99 %.0f  p99.9 %.0f  mean %.1f\n",
		       p50, p90, p99, p999, mean);
		printf("generator      longest stall %.1f ms\n", (double)st.max_stall_ns / 1e6);
		printf("kernel         UDP RcvbufErrors %lld, InErrors %lld (this netns)\n",
		       rcvbuf, inerr);
	}
	return 0;
}
