/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gnomonctl: the read-only control tool. Sends one version-1 JSON request to gnomond's
 * control socket and renders the reply as a table, or passes the JSON through (-j).
 * Errors are plain sentences on stderr with a non-zero exit status.
 *
 * Owns: the command line, finding the socket (-s, else `controlsocket` from the
 * configuration, else the default), rendering. Does not own the protocol's meaning (the
 * daemon's ctl.c defines the replies).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "json.h"
#include "metrics.h"
#include "os_clock.h"
#include "os_file.h"
#include "os_unix.h"
#include "os_wait.h"

#define PROTOCOL_VERSION 1
#define MAX_REPLY (512 * 1024)
#define MAX_NODES 16384
#define TIMEOUT_MS 5000

static void usage(FILE *f)
{
	fprintf(f,
		"usage: gnomonctl [-c CONFIG | -s SOCKET] [-j] COMMAND\n"
		"  -c, --config FILE   read the control socket's path from this configuration\n"
		"  -s, --socket PATH   the control socket (default " CFG_DEFAULT_CONTROLSOCKET ")\n"
		"  -j, --json          print the daemon's JSON reply as it is\n"
		"commands:\n"
		"  status              the system variables: synchronisation, stratum, offset, ...\n"
		"  sources             the sources, as ntpq -p shows them\n"
		"  serverstats         the server's counters\n"
		"  metrics             all of the above in the Prometheus text format\n");
}

static char *read_inc(void *ctx, const char *path, size_t *len, char *err, size_t errlen)
{
	(void)ctx;
	return os_file_read(path, CFG_FILE_MAX, len, err, errlen);
}

static void free_inc(void *ctx, char *buf)
{
	(void)ctx;
	free(buf);
}

/* The control socket named by a configuration file; false with a sentence on failure. */
static bool socket_from_config(const char *path, char *out, size_t cap, bool must)
{
	char err[200];
	size_t len;
	char *text = os_file_read(path, CFG_FILE_MAX, &len, err, sizeof err);
	if (!text) {
		if (must)
			fprintf(stderr, "gnomonctl: cannot read the configuration %s: %s.\n", path, err);
		return false;
	}
	struct cfg *cfg = calloc(1, sizeof *cfg);
	struct cfg_diags *ds = calloc(1, sizeof *ds);
	bool ok = false;
	if (cfg && ds) {
		struct cfg_reader rd = { .read = read_inc, .free_fn = free_inc, .ctx = NULL };
		cfg_defaults(cfg);
		/* Errors elsewhere in the file do not matter here: only controlsocket is used. */
		(void)cfg_parse(cfg, path, text, len, &rd, ds);
		snprintf(out, cap, "%s", cfg->controlsocket);
		ok = true;
	}
	free(cfg);
	free(ds);
	free(text);
	return ok;
}

static int64_t ms_left(int64_t deadline_ns)
{
	int64_t left = (deadline_ns - os_mono_ns()) / 1000000;
	return left < 0 ? 0 : left;
}

/* Send the request and read the whole reply. Returns its length or -1 (sentence printed). */
static long transact(const char *sock, const char *req, char *reply, size_t cap)
{
	int fd = os_unix_connect(sock);
	if (fd < 0) {
		if (fd == -ENOENT || fd == -ECONNREFUSED)
			fprintf(stderr, "gnomonctl: cannot connect to %s: %s. Is gnomond running?\n",
				sock, strerror(-fd));
		else
			fprintf(stderr, "gnomonctl: cannot connect to %s: %s.\n", sock, strerror(-fd));
		return -1;
	}
	int64_t deadline = os_mono_ns() + (int64_t)TIMEOUT_MS * 1000000;
	size_t off = 0, len = strlen(req);
	while (off < len) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		if (os_poll(&p, 1, (int)ms_left(deadline)) <= 0) {
			fprintf(stderr, "gnomonctl: gnomond did not take the request within %d s.\n",
				TIMEOUT_MS / 1000);
			os_fd_close(fd);
			return -1;
		}
		ssize_t w = os_fd_write(fd, req + off, len - off);
		if (w < 0 && w != -EAGAIN) {
			fprintf(stderr, "gnomonctl: cannot send the request: %s.\n", strerror((int)-w));
			os_fd_close(fd);
			return -1;
		}
		if (w > 0)
			off += (size_t)w;
	}
	size_t got = 0;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int pr = os_poll(&p, 1, (int)ms_left(deadline));
		if (pr <= 0) {
			fprintf(stderr, "gnomonctl: no complete answer from gnomond within %d s.\n",
				TIMEOUT_MS / 1000);
			os_fd_close(fd);
			return -1;
		}
		if (got + 1 >= cap) {
			fprintf(stderr, "gnomonctl: the answer is larger than %zu bytes.\n", cap);
			os_fd_close(fd);
			return -1;
		}
		ssize_t r = os_fd_read(fd, reply + got, cap - 1 - got);
		if (r == -EAGAIN || r == -EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "gnomonctl: cannot read the answer: %s.\n", strerror((int)-r));
			os_fd_close(fd);
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	os_fd_close(fd);
	reply[got] = '\0';
	return (long)got;
}

/* ---- rendering ---- */


static bool get_num(const struct json_doc *d, int obj, const char *key, double *v)
{
	return json_num(d, json_obj_get(d, obj, key), v);
}

static const char *get_str(const struct json_doc *d, int obj, const char *key, char *buf, size_t cap)
{
	if (!json_str(d, json_obj_get(d, obj, key), buf, cap))
		snprintf(buf, cap, "-");
	return buf;
}

static void print_num(const struct json_doc *d, int obj, const char *label, const char *key,
		      bool sign, int decimals, const char *unit)
{
	double v;
	printf("%-18s ", label);
	if (get_num(d, obj, key, &v)) {
		if (sign)
			printf("%+.*f%s\n", decimals, v, unit);
		else
			printf("%.*f%s\n", decimals, v, unit);
	} else {
		printf("-\n");
	}
}

static int render_status(const struct json_doc *d, int root)
{
	char s[256];
	double v;
	int st = json_obj_get(d, root, "status");
	if (json_type_of(d, st) != JSON_OBJECT) {
		fprintf(stderr, "gnomonctl: the answer has no status.\n");
		return 1;
	}
	printf("%-18s %s\n", "state:", get_str(d, st, "state", s, sizeof s));
	printf("%-18s %s\n", "leap:", get_str(d, st, "leap", s, sizeof s));
	print_num(d, st, "stratum:", "stratum", false, 0, "");
	printf("%-18s %s\n", "refid:", get_str(d, st, "refid", s, sizeof s));
	printf("%-18s ", "reference time:");
	if (get_num(d, st, "reftime_unix_s", &v)) {
		time_t t = (time_t)v;
		struct tm tm;
		char tb[64];
		if (gmtime_r(&t, &tm) && strftime(tb, sizeof tb, "%Y-%m-%d %H:%M:%S UTC", &tm))
			printf("%s\n", tb);
		else
			printf("%.3f\n", v);
	} else {
		printf("never\n");
	}
	if (get_num(d, st, "sys_peer", &v) && v > 0)
		printf("%-18s association %.0f\n", "system peer:", v);
	else
		printf("%-18s none\n", "system peer:");
	print_num(d, st, "offset:", "offset_s", true, 9, " s");
	print_num(d, st, "jitter:", "jitter_s", false, 9, " s");
	print_num(d, st, "frequency:", "frequency_ppm", true, 3, " ppm");
	print_num(d, st, "wander:", "wander_ppm", false, 3, " ppm");
	print_num(d, st, "root delay:", "rootdelay_s", false, 6, " s");
	print_num(d, st, "root dispersion:", "rootdisp_s", false, 6, " s");
	if (get_num(d, st, "poll_log2", &v))
		printf("%-18s 2^%.0f s\n", "poll interval:", v);
	if (get_num(d, st, "precision_log2", &v))
		printf("%-18s 2^%.0f s\n", "precision:", v);
	printf("%-18s %s\n", "clock:", get_str(d, st, "clock", s, sizeof s));
	/* Older daemons do not send it: say nothing then. */
	if (json_str(d, json_obj_get(d, st, "clock_discipline"), s, sizeof s) && s[0])
		printf("%-18s %s\n", "clock discipline:",
		       strcmp(s, "disabled") == 0 ? "disabled (disable ntp)" : s);
	int k = json_obj_get(d, st, "kernel");
	if (json_type_of(d, k) == JSON_OBJECT) {
		int u = json_obj_get(d, k, "unsync");
		printf("%-18s %s\n", "kernel status:",
		       json_type_of(d, u) == JSON_TRUE ? "unsynchronised (STA_UNSYNC)" : "synchronised");
		print_num(d, k, "kernel frequency:", "frequency_ppm", true, 3, " ppm");
		print_num(d, k, "kernel maxerror:", "maxerror_us", false, 0, " us");
	}
	if (json_str(d, json_obj_get(d, st, "panic_reason"), s, sizeof s) && s[0])
		printf("%-18s %s\n", "panic:", s);
	/* Older daemons do not send it: say nothing then. */
	int dist = json_obj_get(d, st, "disturbances");
	if (json_type_of(d, dist) == JSON_OBJECT) {
		double ext = 0, jumps = 0, alarms = 0, leaps = 0;
		(void)get_num(d, dist, "external_steps", &ext);
		(void)get_num(d, dist, "jumps", &jumps);
		(void)get_num(d, dist, "jump_alarms", &alarms);
		(void)get_num(d, dist, "kernel_leaps", &leaps);
		printf("%-18s %.0f external step(s), %.0f jump(s) of every source, "
		       "%.0f unconfirmed jump(s), %.0f leap second(s)\n",
		       "disturbances:", ext, jumps, alarms, leaps);
	}
	print_num(d, st, "uptime:", "uptime_s", false, 0, " s");
	printf("%-18s %s\n", "daemon version:", get_str(d, st, "daemon_version", s, sizeof s));
	return 0;
}

static int render_sources(const struct json_doc *d, int root)
{
	int arr = json_obj_get(d, root, "sources");
	if (json_type_of(d, arr) != JSON_ARRAY) {
		fprintf(stderr, "gnomonctl: the answer has no sources.\n");
		return 1;
	}
	printf("     remote                refid      st when poll reach   delay   offset  jitter\n");
	printf("==================================================================================\n");
	for (int e = d->nodes[arr].first_child; e >= 0; e = d->nodes[e].next) {
		char addr[80], name[80], refid[16], tally[4], when[16];
		double st = 16, poll = 0, reach = 0, delay = 0, off = 0, jit = 0, ago, port = 0;
		get_str(d, e, "address", addr, sizeof addr);
		get_str(d, e, "refid", refid, sizeof refid);
		get_str(d, e, "tally", tally, sizeof tally);
		get_num(d, e, "port", &port);
		get_num(d, e, "stratum", &st);
		get_num(d, e, "poll_log2", &poll);
		get_num(d, e, "reach", &reach);
		get_num(d, e, "delay_s", &delay);
		get_num(d, e, "offset_s", &off);
		get_num(d, e, "jitter_s", &jit);
		if (get_num(d, e, "last_rx_ago_s", &ago))
			snprintf(when, sizeof when, "%.0f", ago);
		else
			snprintf(when, sizeof when, "-");
		if (port != 123)
			snprintf(name, sizeof name, "%.60s:%u", addr, (unsigned)port);
		else
			snprintf(name, sizeof name, "%s", addr);
		printf("%c%-25.25s %-10.10s %2.0f %4s %4.0f %5o %7.3f %+8.3f %7.3f\n",
		       tally[0] ? tally[0] : ' ', name, refid, st, when,
		       (double)(1u << ((unsigned)poll & 31)), (unsigned)reach, delay * 1e3, off * 1e3,
		       jit * 1e3);
	}
	return 0;
}

static int render_serverstats(const struct json_doc *d, int root)
{
	int o = json_obj_get(d, root, "serverstats");
	if (json_type_of(d, o) != JSON_OBJECT) {
		fprintf(stderr, "gnomonctl: the answer has no server counters.\n");
		return 1;
	}
	for (int k = d->nodes[o].first_child; k >= 0; k = d->nodes[k].next) {
		char key[64];
		double v;
		int val = d->nodes[k].first_child;
		json_str(d, k, key, sizeof key);
		if (json_type_of(d, val) == JSON_OBJECT) {
			printf("%s:\n", key);
			for (int k2 = d->nodes[val].first_child; k2 >= 0; k2 = d->nodes[k2].next) {
				char key2[64];
				json_str(d, k2, key2, sizeof key2);
				if (json_num(d, d->nodes[k2].first_child, &v))
					printf("  %-22s %.0f\n", key2, v);
			}
		} else if (json_num(d, val, &v)) {
			printf("%-24s %.0f\n", key, v);
		}
	}
	return 0;
}

/* One request and its parsed reply. */
struct reply {
	char *text;
	long len;
	struct json_node *nodes;
	struct json_doc doc;
};

/* Asks cmd; 0 with the reply parsed and checked (protocol version, no error), else 1 with
 * a sentence on stderr (with -j a refusal's JSON is printed too). */
static int fetch(const char *path, const char *cmd, bool json, struct reply *r)
{
	char req[128];
	snprintf(req, sizeof req, "{\"version\":%d,\"command\":\"%s\"}\n", PROTOCOL_VERSION, cmd);
	r->text = malloc(MAX_REPLY);
	r->nodes = calloc(MAX_NODES, sizeof *r->nodes);
	if (!r->text || !r->nodes) {
		fprintf(stderr, "gnomonctl: out of memory.\n");
		return 1;
	}
	r->len = transact(path, req, r->text, MAX_REPLY);
	if (r->len < 0)
		return 1;
	if (!json_parse(&r->doc, r->text, (size_t)r->len, r->nodes, MAX_NODES)) {
		fprintf(stderr, "gnomonctl: the answer from gnomond is not valid JSON (%s).\n",
			r->doc.err);
		return 1;
	}
	double ver;
	if (!json_num(&r->doc, json_obj_get(&r->doc, 0, "version"), &ver) || ver != PROTOCOL_VERSION) {
		fprintf(stderr, "gnomonctl: gnomond answered in a protocol version this gnomonctl "
				"does not know.\n");
		return 1;
	}
	char err[512];
	if (json_str(&r->doc, json_obj_get(&r->doc, 0, "error"), err, sizeof err)) {
		if (json)
			fputs(r->text, stdout);
		fprintf(stderr, "gnomonctl: gnomond refused the request: %s.\n", err);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *sock = NULL;
	bool json = false;
	int c;
	while ((c = getopt_long(argc, argv, "c:s:jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 's': sock = optarg; break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("gnomonctl %s\n", GNOMON_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (config && sock) {
		fprintf(stderr, "gnomonctl: give either -c or -s, not both.\n");
		return 2;
	}
	if (optind + 1 != argc) {
		fprintf(stderr, optind == argc ? "gnomonctl: no command given.\n"
					       : "gnomonctl: one command at a time.\n");
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[optind];
	bool metrics = strcmp(cmd, "metrics") == 0;
	if (strcmp(cmd, "status") != 0 && strcmp(cmd, "sources") != 0 &&
	    strcmp(cmd, "serverstats") != 0 && !metrics) {
		fprintf(stderr, "gnomonctl: unknown command '%s' (known: status, sources, "
				"serverstats, metrics).\n", cmd);
		return 2;
	}
	if (metrics && json) {
		fprintf(stderr, "gnomonctl: metrics has no JSON form (-j): use status, sources and "
				"serverstats.\n");
		return 2;
	}

	char path[CFG_PATH_MAX];
	if (sock) {
		snprintf(path, sizeof path, "%s", sock);
	} else if (config) {
		if (!socket_from_config(config, path, sizeof path, true))
			return 1;
	} else if (!os_file_readable(CFG_DEFAULT_FILE) ||
		   !socket_from_config(CFG_DEFAULT_FILE, path, sizeof path, false)) {
		snprintf(path, sizeof path, "%s", CFG_DEFAULT_CONTROLSOCKET);
	}
	if (path[0] == '\0') {
		fprintf(stderr, "gnomonctl: the configuration names no control socket.\n");
		return 1;
	}

	/* metrics asks the three questions, one connection each */
	static const char *const all[] = { "status", "sources", "serverstats" };
	const char *const *cmds = metrics ? all : &cmd;
	size_t n_cmds = metrics ? 3 : 1;
	struct reply r[3];
	memset(r, 0, sizeof r);
	int status = 1;
	for (size_t i = 0; i < n_cmds; i++) {
		if (fetch(path, cmds[i], json, &r[i]) != 0)
			goto out;
	}
	if (json) {
		fputs(r[0].text, stdout);
		if (r[0].len > 0 && r[0].text[r[0].len - 1] != '\n')
			putchar('\n');
		status = 0;
	} else if (metrics) {
		status = metrics_render(stdout, &r[0].doc, &r[1].doc, &r[2].doc);
	} else if (strcmp(cmd, "status") == 0) {
		status = render_status(&r[0].doc, 0);
	} else if (strcmp(cmd, "sources") == 0) {
		status = render_sources(&r[0].doc, 0);
	} else {
		status = render_serverstats(&r[0].doc, 0);
	}
out:
	for (size_t i = 0; i < 3; i++) {
		free(r[i].text);
		free(r[i].nodes);
	}
	if (fflush(stdout) != 0 && status == 0) {
		fprintf(stderr, "gnomonctl: cannot write the output.\n");
		status = 1;
	}
	return status;
}
