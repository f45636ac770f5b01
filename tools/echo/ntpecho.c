/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ntpecho: the ceiling of gnomon's server benchmark (scripts/bench-server.sh). The least
 * work a UDP server on Linux can do per NTP answer: one thread, one socket, recvmmsg and
 * sendmmsg in batches of 64, no clock reads, no validation, no per-client state. The
 * answer is the request with the mode flipped from 3 to 4 and the request's transmit
 * timestamp copied into the origin field (RFC 5905 §8), so that a client can match it.
 * It is not an NTP server: its answers carry no time.
 *
 * Usage: ntpecho [-a ADDR] [-p PORT] [-r BYTES] [-T SECONDS] [-F]
 * Binds ADDR (default 127.0.0.1) port PORT (default 12404); -r sets the socket's receive
 * buffer (SO_RCVBUFFORCE, else SO_RCVBUF; default: the system's). Ends on SIGTERM/SIGINT
 * or after SECONDS (default 900), whichever comes first; prints what it did on stderr.
 * -F: the kernel features gnomond's server socket uses (src/os/net_linux.c), to measure
 * what they cost the kernel: bound to the wildcard address, IP_PKTINFO on receive, each
 * answer sent from the address its request came to (an IP_PKTINFO control message), and
 * software receive timestamps (SO_TIMESTAMPING), all received control messages read, and
 * DF with the path MTU ignored (IP_PMTUDISC_PROBE, which makes the kernel send IP ID 0).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define BUF_LEN 1024
#define NTP_LEN 48
#define CTRL_LEN 256

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig) { (void)sig; stop_flag = 1; }

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1";
	unsigned long port = 12404, limit_s = 900, rcvbuf = 0;
	int c, features = 0;
	while ((c = getopt(argc, argv, "a:p:r:T:F")) != -1) {
		switch (c) {
		case 'a': addr = optarg; break;
		case 'p': port = strtoul(optarg, NULL, 10); break;
		case 'r': rcvbuf = strtoul(optarg, NULL, 10); break;
		case 'T': limit_s = strtoul(optarg, NULL, 10); break;
		case 'F': features = 1; break;
		default:
			fprintf(stderr, "usage: ntpecho [-a ADDR] [-p PORT] [-r BYTES] [-T SECONDS] [-F]\n");
			return 2;
		}
	}
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (port == 0 || port > 65535 || limit_s == 0 || rcvbuf > (1ul << 30) ||
	    inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "ntpecho: bad address, port, buffer size or time limit\n");
		return 2;
	}
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (features) {
		int one = 1, ts = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
		int probe = IP_PMTUDISC_PROBE;
		sa.sin_addr.s_addr = htonl(INADDR_ANY);
		if (fd < 0 || setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) != 0 ||
		    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &ts, sizeof ts) != 0 ||
		    setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &probe, sizeof probe) != 0) {
			perror("ntpecho: -F socket options");
			return 2;
		}
	}
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		perror("ntpecho: socket/bind");
		return 2;
	}
	if (rcvbuf > 0) {
		int sz = (int)rcvbuf;
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz) != 0)
			(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
	}
	/* the time bound: SIGALRM interrupts the blocking recvmmsg (no SA_RESTART) */
	struct sigaction act;
	memset(&act, 0, sizeof act);
	act.sa_handler = on_signal;
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	sigaction(SIGALRM, &act, NULL);
	alarm((unsigned)limit_s);

	static uint8_t buf[BATCH][BUF_LEN];
	static struct iovec iov[BATCH];
	static struct sockaddr_in from[BATCH];
	static struct mmsghdr msg[BATCH];
	static union {
		char buf[CTRL_LEN];
		struct cmsghdr align;
	} ctrl[BATCH], out_ctrl[BATCH];
	uint64_t rx = 0, tx = 0, calls = 0, stamps = 0;
	while (!stop_flag) {
		for (int i = 0; i < BATCH; i++) {
			iov[i].iov_base = buf[i];
			iov[i].iov_len = BUF_LEN;
			msg[i].msg_hdr.msg_name = &from[i];
			msg[i].msg_hdr.msg_namelen = sizeof from[i];
			msg[i].msg_hdr.msg_iov = &iov[i];
			msg[i].msg_hdr.msg_iovlen = 1;
			msg[i].msg_hdr.msg_control = features ? ctrl[i].buf : NULL;
			msg[i].msg_hdr.msg_controllen = features ? sizeof ctrl[i].buf : 0;
		}
		int n = recvmmsg(fd, msg, BATCH, MSG_WAITFORONE, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("ntpecho: recvmmsg");
			break;
		}
		calls++;
		rx += (uint64_t)n;
		int m = 0;
		for (int i = 0; i < n; i++) {
			if (msg[i].msg_len < NTP_LEN)
				continue;   /* nothing to flip: not answered */
			uint8_t *p = buf[i];
			p[0] = (uint8_t)((p[0] & 0xf8) | 4);   /* mode 4: server */
			memcpy(p + 24, p + 40, 8);             /* origin = request's transmit */
			iov[i].iov_len = NTP_LEN;
			if (features) {
				/* read what gnomond reads: the destination address and the stamp;
				 * answer from that address */
				struct in_pktinfo pi;
				int have_pi = 0;
				struct msghdr *mh = &msg[i].msg_hdr;
				for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
					if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
						memcpy(&pi, CMSG_DATA(cm), sizeof pi);
						have_pi = 1;
					} else if (cm->cmsg_level == SOL_SOCKET &&
						   cm->cmsg_type == SCM_TIMESTAMPING) {
						stamps++;
					}
				}
				mh->msg_control = NULL;
				mh->msg_controllen = 0;
				if (have_pi) {
					struct in_pktinfo spi;
					memset(&spi, 0, sizeof spi);
					spi.ipi_spec_dst = pi.ipi_addr;
					memset(out_ctrl[i].buf, 0, sizeof out_ctrl[i].buf);
					mh->msg_control = out_ctrl[i].buf;
					mh->msg_controllen = CMSG_SPACE(sizeof spi);
					struct cmsghdr *cm = CMSG_FIRSTHDR(mh);
					cm->cmsg_level = IPPROTO_IP;
					cm->cmsg_type = IP_PKTINFO;
					cm->cmsg_len = CMSG_LEN(sizeof spi);
					memcpy(CMSG_DATA(cm), &spi, sizeof spi);
				}
			}
			if (m != i)
				msg[m] = msg[i];
			msg[m].msg_hdr.msg_iov->iov_len = NTP_LEN;
			m++;
		}
		int done = 0;
		while (done < m) {
			int r = sendmmsg(fd, msg + done, (unsigned)(m - done), 0);
			if (r <= 0)
				break;   /* a full send buffer drops the rest, as a real server would */
			done += r;
		}
		tx += (uint64_t)done;
	}
	fprintf(stderr, "ntpecho: received %" PRIu64 ", answered %" PRIu64 ", %" PRIu64
		" recvmmsg calls, %" PRIu64 " receive timestamps\n", rx, tx, calls, stamps);
	return 0;
}
