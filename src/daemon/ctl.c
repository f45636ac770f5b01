/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ctl: the read-only control socket (protocol in ctl.h). Requests are parsed with the
 * strict JSON reader; replies are built with the JSON writer from eng_status, eng_sources
 * and eng_server_stats. Each client goes through: reading (POLLIN, until a newline, EOF,
 * the size limit or the deadline) → writing (POLLOUT, until the reply is out) → closed.
 */
#include "ctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gn_assert.h"
#include "json.h"
#include "os_log.h"
#include "os_unix.h"
#include "pkt.h"

#define CTL_MAX_NODES 64
#define CTL_MAX_SOURCES_REPLY CFG_MAX_SOURCES

struct ctl_client {
	bool used;
	int fd;
	char in[CTL_MAX_REQUEST + 1];
	size_t in_len;
	char *out;
	size_t out_len, out_off;
	uint64_t timer;
	struct ctl *c;
};

struct ctl {
	struct sch *sch;
	int lfd;
	char path[256];
	struct ctl_source src;
	struct ctl_client clients[CTL_MAX_CLIENTS];
	char *reply;                /* CTL_MAX_REPLY scratch for building replies */
	struct ctl_stats st;
};

const char *ctl_state_name(enum eng_sync_state s)
{
	switch (s) {
	case ENG_UNSYNC: return "unsynchronised";
	case ENG_SYNC: return "synchronised";
	case ENG_HOLDOVER: return "holdover";
	case ENG_PANIC: return "panic";
	}
	return "unknown";
}

static const char *leap_name(uint8_t li)
{
	switch (li) {
	case 0: return "none";
	case 1: return "insert";
	case 2: return "delete";
	default: return "unsynchronised";
	}
}

/* The reference ID as ntpq shows it: four ASCII characters at stratum 0, 1 and 16 (kiss
 * codes, reference clock names), an IPv4 address otherwise (RFC 5905 §7.3). */
static void refid_str(uint32_t refid, uint8_t stratum, char *buf, size_t cap)
{
	if (stratum <= 1 || stratum >= 16) {
		char s[5];
		size_t n = 0;
		for (int i = 3; i >= 0; i--) {
			unsigned char ch = (unsigned char)(refid >> (8 * i));
			if (ch == 0)
				break;
			s[n++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
		}
		s[n] = '\0';
		snprintf(buf, cap, "%s", s);
	} else {
		snprintf(buf, cap, "%u.%u.%u.%u", refid >> 24, (refid >> 16) & 255, (refid >> 8) & 255,
			 refid & 255);
	}
}

static void error_reply(struct json_w *w, const char *msg)
{
	json_w_obj_begin(w);
	json_w_key(w, "version");
	json_w_int(w, CTL_PROTOCOL_VERSION);
	json_w_key(w, "error");
	json_w_str(w, msg);
	json_w_obj_end(w);
}

static void write_status(const struct ctl_source *src, const struct eng_now *now, struct json_w *w)
{
	struct eng_status es;
	char refid[32];
	eng_status(src->eng, now, &es);
	refid_str(es.refid, es.stratum, refid, sizeof refid);
	json_w_obj_begin(w);
	json_w_key(w, "state"); json_w_str(w, ctl_state_name(es.state));
	json_w_key(w, "leap"); json_w_str(w, leap_name(es.leap));
	json_w_key(w, "stratum"); json_w_uint(w, es.stratum);
	json_w_key(w, "refid"); json_w_str(w, refid);
	json_w_key(w, "reftime_unix_s");
	if (es.reftime == 0)
		json_w_null(w);
	else
		json_w_double(w, (double)ntp_ts64_to_ns(es.reftime, now->real_ns) / 1e9);
	json_w_key(w, "sys_peer"); json_w_uint(w, es.sys_peer_assoc);
	json_w_key(w, "offset_s"); json_w_double(w, es.offset_s);
	json_w_key(w, "jitter_s"); json_w_double(w, es.jitter_s);
	json_w_key(w, "frequency_ppm"); json_w_double(w, es.frequency_ppm);
	json_w_key(w, "wander_ppm"); json_w_double(w, es.freq_wander_ppm);
	json_w_key(w, "rootdelay_s"); json_w_double(w, es.rootdelay_s);
	json_w_key(w, "rootdisp_s"); json_w_double(w, es.rootdisp_s);
	json_w_key(w, "poll_log2"); json_w_int(w, es.poll_log2);
	json_w_key(w, "precision_log2"); json_w_int(w, es.precision_log2);
	json_w_key(w, "panic_reason"); json_w_str(w, es.panic_reason);
	/* what disturbed the clock since start (docs/leap-dns-drift.md: suspend, migration,
	 * leap seconds) */
	json_w_key(w, "disturbances");
	json_w_obj_begin(w);
	json_w_key(w, "external_steps"); json_w_uint(w, es.restarts_ext);
	json_w_key(w, "jumps"); json_w_uint(w, es.jumps);
	json_w_key(w, "jump_alarms"); json_w_uint(w, es.jump_alarms);
	json_w_key(w, "kernel_leaps"); json_w_uint(w, es.kernel_leaps);
	json_w_obj_end(w);
	json_w_key(w, "clock"); json_w_str(w, src->clock_mode ? src->clock_mode : "system");
	/* `disable ntp`: the engine selects and serves but never steers the clock. */
	json_w_key(w, "clock_discipline"); json_w_str(w, es.ntp_disabled ? "disabled" : "enabled");
	struct clk_state ks;
	if (src->clock && os_clock_state(src->clock, &ks) == 0) {
		json_w_key(w, "kernel");
		json_w_obj_begin(w);
		json_w_key(w, "frequency_ppm"); json_w_double(w, ks.freq_ppm);
		json_w_key(w, "tick_us"); json_w_int(w, ks.tick_us);
		json_w_key(w, "offset_ns"); json_w_int(w, ks.offset_ns);
		json_w_key(w, "status"); json_w_uint(w, ks.status);
		json_w_key(w, "unsync"); json_w_bool(w, (ks.status & CLK_STA_UNSYNC) != 0);
		json_w_key(w, "maxerror_us"); json_w_int(w, ks.maxerror_us);
		json_w_key(w, "esterror_us"); json_w_int(w, ks.esterror_us);
		json_w_key(w, "state"); json_w_int(w, ks.state);
		json_w_obj_end(w);
	}
	json_w_key(w, "uptime_s"); json_w_double(w, (double)(now->mono_ns - src->start_mono_ns) / 1e9);
	json_w_key(w, "daemon_version"); json_w_str(w, GNOMON_VERSION);
	json_w_obj_end(w);
}

static void write_sources(const struct ctl_source *src, const struct eng_now *now, struct json_w *w)
{
	struct eng_source_info *si = calloc(CTL_MAX_SOURCES_REPLY, sizeof *si);
	size_t n = si ? eng_sources(src->eng, now, si, CTL_MAX_SOURCES_REPLY) : 0;
	if (n > CTL_MAX_SOURCES_REPLY)
		n = CTL_MAX_SOURCES_REPLY;
	json_w_arr_begin(w);
	for (size_t i = 0; i < n; i++) {
		const struct eng_source_info *s = &si[i];
		char addr[64], refid[32], tally[2] = { s->tally ? s->tally : ' ', 0 };
		char kod[sizeof s->kod + 1];
		memcpy(kod, s->kod, sizeof s->kod);
		kod[sizeof s->kod] = '\0';
		gn_addr_str(&s->addr, addr, sizeof addr);
		refid_str(s->refid, s->stratum, refid, sizeof refid);
		json_w_obj_begin(w);
		json_w_key(w, "assoc_id"); json_w_uint(w, s->assoc_id);
		json_w_key(w, "address"); json_w_str(w, addr);
		json_w_key(w, "port"); json_w_uint(w, s->addr.port);
		if (src->cfg && s->cfg_index < src->cfg->n_sources) {
			json_w_key(w, "name");
			json_w_str(w, src->cfg->sources[s->cfg_index].host);
		}
		json_w_key(w, "tally"); json_w_str(w, tally);
		json_w_key(w, "stratum"); json_w_uint(w, s->stratum);
		json_w_key(w, "refid"); json_w_str(w, refid);
		json_w_key(w, "poll_log2"); json_w_int(w, s->poll_log2);
		json_w_key(w, "reach"); json_w_uint(w, s->reach);
		json_w_key(w, "last_rx_ago_s");
		if (s->last_rx_mono_ns == 0)
			json_w_null(w);
		else
			json_w_double(w, (double)(now->mono_ns - s->last_rx_mono_ns) / 1e9);
		json_w_key(w, "delay_s"); json_w_double(w, s->delay_s);
		json_w_key(w, "offset_s"); json_w_double(w, s->offset_s);
		json_w_key(w, "jitter_s"); json_w_double(w, s->jitter_s);
		json_w_key(w, "disp_s"); json_w_double(w, s->disp_s);
		json_w_key(w, "sent"); json_w_uint(w, s->sent);
		json_w_key(w, "received"); json_w_uint(w, s->received);
		json_w_key(w, "dropped"); json_w_uint(w, s->dropped);
		json_w_key(w, "kod"); json_w_str(w, kod);
		json_w_obj_end(w);
	}
	json_w_arr_end(w);
	free(si);
}

static void write_serverstats(const struct ctl_source *src, struct json_w *w)
{
	const struct srv_stats *ss = eng_server_stats(src->eng);
	struct srv_stats zero;
	if (!ss) {
		memset(&zero, 0, sizeof zero);
		ss = &zero;
	}
	json_w_obj_begin(w);
	json_w_key(w, "received"); json_w_uint(w, ss->received);
	json_w_key(w, "answered"); json_w_uint(w, ss->answered);
	json_w_key(w, "kod_sent"); json_w_uint(w, ss->kod_sent);
	json_w_key(w, "verdicts");
	json_w_obj_begin(w);
	for (int v = 0; v < SRV_VERDICT__COUNT; v++) {
		const char *name = srv_verdict_name((enum srv_verdict)v);
		char key[48];
		snprintf(key, sizeof key, "%s", name && name[0] ? name : "unknown");
		json_w_key(w, key);
		json_w_uint(w, ss->verdicts[v]);
	}
	json_w_obj_end(w);
	json_w_key(w, "mru_entries"); json_w_uint(w, ss->mru_entries);
	json_w_key(w, "mru_evictions"); json_w_uint(w, ss->mru_evictions);
	json_w_key(w, "mru_untracked"); json_w_uint(w, ss->mru_untracked);
	json_w_obj_end(w);
}

/* Fills w; returns NULL on success or the error sentence. */
static const char *handle(const struct ctl_source *src, const char *req, size_t len, struct json_w *w)
{
	struct json_node nodes[CTL_MAX_NODES];
	struct json_doc doc;
	char cmd[32];
	int64_t ver;

	if (!json_parse(&doc, req, len, nodes, CTL_MAX_NODES))
		return "the request is not valid JSON";
	if (json_type_of(&doc, 0) != JSON_OBJECT)
		return "the request must be a JSON object";
	int v = json_obj_get(&doc, 0, "version");
	if (v < 0)
		return "the request has no \"version\" (this daemon speaks version 1)";
	if (!json_int(&doc, v, &ver) || ver != CTL_PROTOCOL_VERSION)
		return "unsupported protocol version (this daemon speaks version 1)";
	int c = json_obj_get(&doc, 0, "command");
	if (c < 0 || !json_str(&doc, c, cmd, sizeof cmd))
		return "the request has no \"command\" string (known: status, sources, serverstats)";
	for (int k = doc.nodes[0].first_child; k >= 0; k = doc.nodes[k].next) {
		char key[32];
		if (!json_str(&doc, k, key, sizeof key) ||
		    (strcmp(key, "version") != 0 && strcmp(key, "command") != 0))
			return "unknown member in the request (only \"version\" and \"command\")";
	}

	struct eng_now now;
	if (os_clock_read(src->clock, &now.real_ns, &now.mono_ns) != 0)
		return "cannot read the clock";
	if (strcmp(cmd, "status") == 0) {
		json_w_obj_begin(w);
		json_w_key(w, "version"); json_w_int(w, CTL_PROTOCOL_VERSION);
		json_w_key(w, "command"); json_w_str(w, cmd);
		json_w_key(w, "status");
		write_status(src, &now, w);
		json_w_obj_end(w);
	} else if (strcmp(cmd, "sources") == 0) {
		json_w_obj_begin(w);
		json_w_key(w, "version"); json_w_int(w, CTL_PROTOCOL_VERSION);
		json_w_key(w, "command"); json_w_str(w, cmd);
		json_w_key(w, "sources");
		write_sources(src, &now, w);
		json_w_obj_end(w);
	} else if (strcmp(cmd, "serverstats") == 0) {
		json_w_obj_begin(w);
		json_w_key(w, "version"); json_w_int(w, CTL_PROTOCOL_VERSION);
		json_w_key(w, "command"); json_w_str(w, cmd);
		json_w_key(w, "serverstats");
		write_serverstats(src, w);
		json_w_obj_end(w);
	} else {
		return "unknown command (known: status, sources, serverstats)";
	}
	if (!json_w_ok(w))
		return "the reply does not fit";
	return NULL;
}

static size_t handle_request(const struct ctl_source *src, const char *req, size_t len, char *out,
			     size_t cap, const char **errp)
{
	struct json_w w;
	REQUIRE(cap >= 256);
	json_w_init(&w, out, cap);
	const char *err = handle(src, req, len, &w);
	*errp = err;
	if (err) {
		json_w_init(&w, out, cap);
		error_reply(&w, err);
	}
	if (w.len + 1 < cap) {
		out[w.len++] = '\n';
		out[w.len] = '\0';
	}
	return w.len;
}

size_t ctl_handle_request(const struct ctl_source *src, const char *req, size_t len, char *out,
			  size_t cap)
{
	const char *err;
	return handle_request(src, req, len, out, cap, &err);
}

/* ---------------------------------------------------------------- connections */

static void client_close(struct ctl_client *cl)
{
	struct ctl *c = cl->c;
	if (!cl->used)
		return;
	sch_fd_del(c->sch, cl->fd);
	os_fd_close(cl->fd);
	if (cl->timer)
		sch_timer_cancel(c->sch, cl->timer);
	free(cl->out);
	memset(cl, 0, sizeof *cl);
	cl->fd = -1;
	cl->c = c;
}

static void client_write(struct ctl_client *cl)
{
	while (cl->out_off < cl->out_len) {
		ssize_t r = os_fd_write(cl->fd, cl->out + cl->out_off, cl->out_len - cl->out_off);
		if (r == -EAGAIN || r == -EWOULDBLOCK)
			return; /* wait for POLLOUT */
		if (r <= 0) {
			client_close(cl);
			return;
		}
		cl->out_off += (size_t)r;
	}
	cl->c->st.answered++;
	client_close(cl);
}

static void client_reply(struct ctl_client *cl, const char *text, size_t len)
{
	cl->out = malloc(len);
	if (!cl->out) {
		client_close(cl);
		return;
	}
	memcpy(cl->out, text, len);
	cl->out_len = len;
	cl->out_off = 0;
	sch_fd_events(cl->c->sch, cl->fd, POLLOUT);
	client_write(cl);
}

static void client_error(struct ctl_client *cl, const char *msg)
{
	char buf[512];
	struct json_w w;
	json_w_init(&w, buf, sizeof buf - 1);
	error_reply(&w, msg);
	buf[w.len++] = '\n';
	cl->c->st.bad_requests++;
	log_limited(LOG_KEY_CTL_BAD, LOG_INFO, "control socket: bad request: %s", msg);
	client_reply(cl, buf, w.len);
}

static void client_request(struct ctl_client *cl)
{
	struct ctl *c = cl->c;
	const char *err;
	size_t n = handle_request(&c->src, cl->in, cl->in_len, c->reply, CTL_MAX_REPLY, &err);
	if (err) {
		c->st.bad_requests++;
		log_limited(LOG_KEY_CTL_BAD, LOG_INFO, "control socket: bad request: %s", err);
	}
	client_reply(cl, c->reply, n);
}

static void client_io(void *ctx, int fd, short revents)
{
	struct ctl_client *cl = ctx;
	(void)fd;
	if (cl->out) {
		if (revents & (POLLOUT | POLLERR | POLLHUP))
			client_write(cl);
		return;
	}
	if (!(revents & (POLLIN | POLLERR | POLLHUP)))
		return;
	size_t room = CTL_MAX_REQUEST - cl->in_len; /* > 0: a full buffer was refused below */
	ssize_t r = os_fd_read(cl->fd, cl->in + cl->in_len, room);
	if (r == -EAGAIN || r == -EWOULDBLOCK || r == -EINTR)
		return;
	if (r < 0) {
		client_close(cl);
		return;
	}
	if (r == 0) {
		if (cl->in_len == 0) {
			client_close(cl); /* connected and left without a word */
			return;
		}
		client_request(cl);
		return;
	}
	cl->in_len += (size_t)r;
	cl->in[cl->in_len] = '\0';
	char *nl = memchr(cl->in, '\n', cl->in_len);
	if (nl) {
		if ((size_t)(nl - cl->in) + 1 != cl->in_len) {
			client_error(cl, "one request per connection");
			return;
		}
		client_request(cl);
	} else if (cl->in_len == CTL_MAX_REQUEST) {
		client_error(cl, "the request is larger than 4096 bytes");
	}
}

static void client_timeout(void *ctx, uint64_t id, int64_t now_mono_ns)
{
	struct ctl_client *cl = ctx;
	(void)id;
	(void)now_mono_ns;
	cl->timer = 0;
	cl->c->st.timeouts++;
	log_limited(LOG_KEY_CTL_BAD, LOG_INFO, "control socket: client too slow, closed");
	client_close(cl);
}

static void on_accept(void *ctx, int fd, short revents)
{
	struct ctl *c = ctx;
	(void)fd;
	(void)revents;
	for (int k = 0; k < CTL_MAX_CLIENTS; k++) {
		int cfd = os_unix_accept(c->lfd);
		if (cfd < 0)
			return;
		struct ctl_client *cl = NULL;
		for (int i = 0; i < CTL_MAX_CLIENTS; i++)
			if (!c->clients[i].used) {
				cl = &c->clients[i];
				break;
			}
		if (!cl) {
			static const char busy[] =
				"{\"version\":1,\"error\":\"too many control clients; try again\"}\n";
			(void)os_fd_write(cfd, busy, sizeof busy - 1);
			os_fd_close(cfd);
			c->st.refused_busy++;
			log_limited(LOG_KEY_CTL_FULL, LOG_INFO, "control socket: too many clients");
			continue;
		}
		if (sch_fd_add(c->sch, cfd, POLLIN, client_io, cl) != 0) {
			os_fd_close(cfd);
			c->st.refused_busy++;
			continue;
		}
		memset(cl, 0, sizeof *cl);
		cl->used = true;
		cl->fd = cfd;
		cl->c = c;
		cl->timer = sch_timer_add(c->sch, sch_now(c->sch) + CTL_CLIENT_TIMEOUT_NS, client_timeout, cl);
		c->st.accepted++;
	}
}

struct ctl *ctl_new(struct sch *sch, const char *path, const struct ctl_source *src, int *err)
{
	struct ctl *c = calloc(1, sizeof *c);
	if (!c || !(c->reply = malloc(CTL_MAX_REPLY))) {
		free(c);
		if (err)
			*err = -ENOMEM;
		return NULL;
	}
	c->sch = sch;
	c->src = *src;
	snprintf(c->path, sizeof c->path, "%s", path);
	for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
		c->clients[i].fd = -1;
		c->clients[i].c = c;
	}
	c->lfd = os_unix_listen(path, CTL_SOCKET_MODE);
	if (c->lfd < 0 || sch_fd_add(sch, c->lfd, POLLIN, on_accept, c) != 0) {
		if (err)
			*err = c->lfd < 0 ? c->lfd : -EMFILE;
		if (c->lfd >= 0) {
			os_fd_close(c->lfd);
			os_unlink(path);
		}
		free(c->reply);
		free(c);
		return NULL;
	}
	return c;
}

void ctl_free(struct ctl *c)
{
	if (!c)
		return;
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		client_close(&c->clients[i]);
	sch_fd_del(c->sch, c->lfd);
	os_fd_close(c->lfd);
	os_unlink(c->path);
	free(c->reply);
	free(c);
}

const struct ctl_stats *ctl_stats(const struct ctl *c) { return &c->st; }
