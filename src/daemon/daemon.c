/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * daemon: one running gnomond, from configuration to clean exit (see daemon.h).
 *
 * Start-up order: pid file, locked (one instance: a second gnomond with the same pid file
 * refuses to start) → clock seam and its precision → drift file → leap file → engine →
 * loop → control socket (a warning if it cannot be opened, but refusal to start if another
 * daemon answers on it) → server sockets (a family that cannot be opened is a warning; a
 * port in use is fatal when we steer the system clock: two daemons must not both steer
 * it) → leap table to the engine → sources (srcmgr: numeric now, names through c-ares in
 * the loop, pools). Nothing is sent and the clock is not touched before every refusal
 * check has passed. Then the loop: one poll per iteration, signals and external clock
 * steps looked at in between, never more than a second apart.
 */
#include "daemon.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto_openssl.h"
#include "ctl.h"
#include "drift.h"
#include "eng.h"
#include "exec.h"
#include "leapfile.h"
#include "os_clock.h"
#include "os_log.h"
#include "os_net.h"
#include "os_proc.h"
#include "os_random.h"
#include "os_wait.h"
#include "sch.h"
#include "srcmgr.h"

/* The leap file is re-read hourly (leapfile.h); a changed table goes to the engine. */
struct leap_ctx {
	struct leapfile *lf;
	struct eng *eng;
	struct exec *x;
	struct sch *sch;
	uint64_t timer;
};

static void leap_timer_cb(void *ctx, uint64_t id, int64_t now_mono_ns)
{
	struct leap_ctx *lc = ctx;
	struct eng_now now;
	(void)id;
	lc->timer = 0;
	if (exec_now(lc->x, &now) == 0 && leapfile_refresh(lc->lf, now.real_ns, now.mono_ns)) {
		eng_set_leap_table(lc->eng, &now, leapfile_table(lc->lf));
		exec_run_actions(lc->x);
	}
	int64_t next = leapfile_next_check(lc->lf);
	if (next <= now_mono_ns)
		next = now_mono_ns + (int64_t)LEAPFILE_RECHECK_S * GN_NS_PER_S;
	lc->timer = sch_timer_add(lc->sch, next, leap_timer_cb, lc);
}

/* A reason not to start: to the log, and to stderr too when the log goes elsewhere (the
 * user who typed the command sees why). */
static void refuse(const struct daemon_opts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void refuse(const struct daemon_opts *o, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log_warnx("%s", msg);
	if (!o->log_to_stderr)
		fprintf(stderr, "gnomond: %s\n", msg);
}

void daemon_refuse_locked(const struct daemon_opts *o, const char *pidfile, long pid)
{
	if (pid > 0)
		refuse(o, "another gnomond (pid %ld) is running: %s is locked; not starting", pid,
		       pidfile);
	else
		refuse(o, "another gnomond is running: %s is locked; not starting", pidfile);
}

/* False if the daemon must not start: the NTP port is taken while we would steer the
 * system clock (another NTP daemon runs: both would steer it). */
static bool open_servers(const struct daemon_opts *o, const struct cfg *cfg, struct exec *x,
			 bool steers_system_clock)
{
	static const int fams[2] = { GN_AF_INET, GN_AF_INET6 };
	int opened = 0;
	for (int i = 0; i < 2; i++) {
		bool forced = true;
		int fd = os_net_open_server(fams[i], cfg->port, OS_NET_RCVBUF_BYTES, &forced);
		if (fd == -EADDRINUSE && steers_system_clock) {
			refuse(o, "UDP port %u (IPv%d) is in use: another NTP daemon is running and "
			       "steering the clock; not starting (stop it first, or run with -X)",
			       cfg->port, fams[i]);
			return false;
		}
		if (fd < 0) {
			log_warnx("cannot open the IPv%d server socket on port %u: %s; not serving "
				  "IPv%d", fams[i], cfg->port, strerror(-fd), fams[i]);
			continue;
		}
		if (!forced)
			log_warnx("IPv%d: SO_RCVBUFFORCE refused (needs CAP_NET_ADMIN); the receive "
				  "buffer is limited by net.core.rmem_max", fams[i]);
		if (!exec_add_server_fd(x, fd)) {
			os_net_close(fd);
			log_warnx("IPv%d server socket: the loop is full", fams[i]);
			continue;
		}
		opened++;
	}
	if (opened == 0)
		log_warnx("no server socket could be opened: not serving time, client only");
	else
		log_info("serving NTP on UDP port %u", cfg->port);
	return true;
}

/* The loop test (RFC 5905 §8 TEST12): our own addresses as refids, from the interfaces
 * as they are at start (addresses added later are not included; a restart picks them up).
 * Loopback addresses are left out: every daemon on the host has them, so a source on
 * 127.0.0.1 that is synchronised to another source on 127.0.0.1 would look like a loop. */
static void fill_local_refids(struct eng_params *p)
{
	struct gn_addr a[64];
	int n = os_net_local_addrs(a, sizeof a / sizeof a[0]);
	if (n < 0) {
		log_warnx("cannot list the local addresses: %s; the loop test knows none of them",
			  strerror(-n));
		return;
	}
	for (int i = 0; i < n && p->n_local_refids < ENG_MAX_LOCAL_REFIDS; i++) {
		if (gn_addr_is_loopback(&a[i]))
			continue;
		uint32_t r = eng_addr_refid_crypto(p->crypto, &a[i]);
		bool dup = r == 0;
		for (unsigned k = 0; k < p->n_local_refids && !dup; k++)
			dup = p->local_refids[k] == r;
		if (!dup)
			p->local_refids[p->n_local_refids++] = r;
	}
	log_debug("loop test: %u local address(es) as refids", p->n_local_refids);
}

/* -q (ntpd -q, ntpdate's job): done once the engine is synchronised. The engine slews by
 * rate (frequency and tick), which would go on after we exit, so the rate is put back to
 * what it was at start and the offset the engine measured is applied in one go: a step
 * above the step threshold (600 s with -x), else the kernel's single-shot slew, which ends
 * by itself. A step the engine made already counts as the correction. */
static bool once_done(const struct daemon_opts *o, const struct cfg *cfg, struct os_clock *clock,
		      struct eng *eng, struct exec *x, const struct clk_state *start)
{
	struct eng_now now;
	struct eng_status es;
	if (exec_now(x, &now) != 0)
		return false;
	eng_status(eng, &now, &es);
	if (es.state != ENG_SYNC)
		return false;
	struct clk_adj rate = { .modes = CLK_ADJ_FREQ | CLK_ADJ_TICK, .freq_ppm = start->freq_ppm,
				.tick_us = start->tick_us ? start->tick_us : CLK_NOMINAL_TICK_US };
	if (os_clock_adjust(clock, &rate, NULL) != 0)
		log_warnx("-q: cannot put the clock's rate back");
	if (exec_clock_was_set(x) && fabs(es.offset_s) < 1e-3)
		return true;
	double step_s = o->slew_only ? 600.0 : cfg->tinker.step_s;
	int64_t off_ns = gn_s_to_ns(es.offset_s);
	int r;
	if (step_s > 0 && fabs(es.offset_s) >= step_s) {
		r = os_clock_step(clock, off_ns);
		log_notice("-q: offset %+.6f s: %s", es.offset_s, r == 0 ? "stepped" : strerror(-r));
	} else {
		struct clk_adj ss = { .modes = CLK_ADJ_SINGLESHOT, .offset_ns = off_ns };
		r = os_clock_adjust(clock, &ss, NULL);
		log_notice("-q: offset %+.6f s: %s", es.offset_s,
			   r == 0 ? "slewing it away (500 ppm)" : strerror(-r));
	}
	return true;
}

int daemon_run(const struct daemon_opts *o, const struct cfg *cfg)
{
	int status = 0;
	struct os_clock *clock = NULL;
	struct eng *eng = NULL;
	struct sch *sch = NULL;
	struct exec *x = NULL;
	struct ctl *ctl = NULL;
	struct drift *drift = NULL;
	struct srcmgr *sm = NULL;
	struct crypto_openssl *co = NULL;
	struct auth_crypto seam;
	struct leap_ctx lc = { 0 };
	struct os_net net = { 0 };
	const char *pidfile = o->pidfile ? o->pidfile : cfg->pidfile;
	int pid_fd = -1;

	if (os_signals_install() != 0)
		log_warn("cannot install signal handlers");

	/* One instance: the pid file's lock, held until we exit (the kernel drops it however
	 * the process ends, so a crash leaves no stale lock). */
	if (!o->once && pidfile && pidfile[0]) {
		long holder = 0;
		pid_fd = os_pidfile_lock(pidfile, &holder);
		if (pid_fd == -EWOULDBLOCK) {
			daemon_refuse_locked(o, pidfile, holder);
			return 1;
		}
		if (pid_fd < 0)
			log_warnx("cannot write and lock the pid file %s: %s; a second instance "
				  "would not be noticed through it", pidfile, strerror(-pid_fd));
	}

	/* -q sets the clock once (ntpdate's job): not while a running gnomond steers it. It
	 * only probes the lock, so two -q runs do not exclude each other. */
	if (o->once && pidfile && pidfile[0]) {
		long holder = 0;
		if (os_pidfile_probe(pidfile, &holder) == 1) {
			daemon_refuse_locked(o, pidfile, holder);
			return 1;
		}
	}

	clock = o->no_clock ? os_clock_soft_new(NULL) : os_clock_linux_new(NULL);
	if (!clock) {
		log_warnx("cannot initialise the clock");
		return 1;
	}
	int8_t precision = os_clock_precision_log2(clock);

	struct eng_params params;
	memset(&params, 0, sizeof params);
	params.cfg = cfg;
	params.rng = os_random_rng();
	params.precision_log2 = precision;
	params.allow_first_panic = o->panic_ok;
	params.slew_only = o->slew_only;
	params.rng.fill(params.rng.ctx, params.srv_secret, sizeof params.srv_secret);
	params.have_srv_secret = true; /* the server's MRU hash key (srv_set_secret) */
	/* OpenSSL behind auth.h's seam: MD5 for IPv6 refids (RFC 5905 §7.3), SHA-1 for the
	 * leap file; EVP's providers only if an AES-CMAC is ever needed (crypto_openssl.h). */
	memset(&seam, 0, sizeof seam);
	co = crypto_openssl_new();
	if (co) {
		seam = crypto_openssl_seam(co);
		params.crypto = &seam;
	} else {
		log_warnx("out of memory for the crypto seam: IPv6 refids are a local hash");
	}
	fill_local_refids(&params);
	struct eng_now now;
	if (os_clock_read(clock, &now.real_ns, &now.mono_ns) != 0) {
		log_warn("cannot read the clock");
		status = 1;
		goto out;
	}
	if (cfg->driftfile[0]) {
		drift = drift_new(cfg->driftfile, NULL);
		if (!drift)
			log_warnx("drift file %s: path too long or out of memory; not kept",
				  cfg->driftfile);
	}
	params.have_drift = drift && drift_load(drift, now.mono_ns, &params.drift_ppm);
	if (params.have_drift)
		log_info("drift file %s: %+.3f ppm", cfg->driftfile, params.drift_ppm);
	/* The leap file (leapfile.h): read now, handed to the engine, re-read hourly. */
	if (cfg->leapfile[0]) {
		if (!co)
			log_warnx("leap file %s: no crypto seam (out of memory); the file cannot be "
				  "checked and is not used", cfg->leapfile);
		else {
			seam = crypto_openssl_seam(co);
			lc.lf = leapfile_new(cfg->leapfile, &seam);
			if (!lc.lf)
				log_warnx("leap file %s: path too long or out of memory; not used",
					  cfg->leapfile);
		}
	}
	bool leap_changed = false;
	if (lc.lf)
		(void)leapfile_load(lc.lf, now.real_ns, now.mono_ns, &leap_changed);
	eng = eng_new(&params, &now);
	sch = sch_new(NULL);
	if (!eng || !sch) {
		log_warnx("out of memory");
		status = 1;
		goto out;
	}
	struct exec_params xp = { .eng = eng, .sch = sch, .clock = clock, .net = &net, .cfg = cfg,
				  .drift = drift };
	x = exec_new(&xp);
	if (!x) {
		log_warnx("out of memory");
		status = 1;
		goto out;
	}

	if (o->user || !o->no_sandbox)
		log_info("privilege drop and seccomp are not implemented yet%s%s: running as uid %ld",
			 o->user ? "; -u " : "", o->user ? o->user : "", (long)getuid());
	/* The control socket before anything is sent: another daemon answering on it means
	 * another gnomond runs (with another pid file, or none). */
	if (!o->once && cfg->controlsocket[0]) {
		struct ctl_source cs = {
			.eng = eng, .clock = clock, .cfg = cfg, .start_mono_ns = now.mono_ns,
			.clock_mode = clock->name,
		};
		int err = 0;
		ctl = ctl_new(sch, cfg->controlsocket, &cs, &err);
		if (!ctl && err == -EADDRINUSE) {
			refuse(o, "another gnomond is running: it answers on the control socket %s; "
			       "not starting", cfg->controlsocket);
			status = 1;
			goto out;
		}
		if (!ctl)
			log_warnx("cannot open the control socket %s: %s; running without it",
				  cfg->controlsocket, strerror(-err));
	}
	if (!o->once && !open_servers(o, cfg, x, clock->touches_system)) {
		status = 1;
		goto out;
	}
	if (lc.lf) {
		lc.x = x;
		lc.sch = sch;
		lc.eng = eng;
		if (leap_changed)
			eng_set_leap_table(eng, &now, leapfile_table(lc.lf));
		lc.timer = sch_timer_add(sch, leapfile_next_check(lc.lf), leap_timer_cb, &lc);
	}
	struct srcmgr_params smp = { .eng = eng, .exec = x, .sch = sch, .cfg = cfg,
				     .dns_servers = o->dns_servers };
	sm = srcmgr_new(&smp);
	if (!sm) {
		log_warnx("out of memory");
		status = 1;
		goto out;
	}
	srcmgr_start(sm);

	log_notice("gnomond %s started: %s clock, precision 2^%d s%s", GNOMON_VERSION,
		   clock->name, precision, o->once ? ", setting the clock once (-q)" : "");
	exec_run_actions(x);

	struct clk_state start_state;
	if (os_clock_state(clock, &start_state) != 0) {
		memset(&start_state, 0, sizeof start_state);
		start_state.freq_ppm = params.have_drift ? params.drift_ppm : 0.0;
		start_state.tick_us = CLK_NOMINAL_TICK_US;
	}
	int64_t once_deadline = now.mono_ns + (int64_t)DAEMON_ONCE_TIMEOUT_S * GN_NS_PER_S;
	for (;;) {
		int r = sch_run_once(sch, -1);
		if (r < 0) {
			log_warnx("poll failed: %s", strerror(-r));
			status = 1;
			break;
		}
		unsigned sig = os_signals_take();
		if (sig & OS_SIG_TERM) {
			log_notice("terminating on signal");
			break;
		}
		if (sig & OS_SIG_HUP) {
			log_reopen();
			log_info("SIGHUP: log reopened");
		}
		exec_check_external_step(x);
		if (o->once) {
			if (once_done(o, cfg, clock, eng, x, &start_state)) {
				log_notice("-q: the clock was set; exiting");
				break;
			}
			if (sch_now(sch) > once_deadline) {
				log_warnx("-q: no usable answer within %d s; the clock was not set",
					  DAEMON_ONCE_TIMEOUT_S);
				status = 1;
				break;
			}
		}
	}

out:
	/* The drift file gets the last frequency the engine reported, if it changed. */
	if (drift)
		drift_flush(drift, sch ? sch_now(sch) : now.mono_ns);
	drift_free(drift);
	srcmgr_free(sm); /* before the loop: it removes the resolver's sockets from it */
	if (lc.timer)
		sch_timer_cancel(sch, lc.timer);
	leapfile_free(lc.lf);
	crypto_openssl_free(co);
	ctl_free(ctl);
	exec_free(x);
	eng_free(eng);
	sch_free(sch);
	os_clock_free(clock);
	os_pidfile_release(pid_fd, pidfile);
	log_info("gnomond exiting with status %d", status);
	return status;
}
