/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * daemon: one running gnomond, from configuration to clean exit (see daemon.h).
 *
 * Start-up order: clock seam and its precision → drift file → leap file → engine → loop →
 * server sockets (a family that cannot be opened is a warning) → leap table to the engine
 * → sources (srcmgr: numeric now, names through c-ares in the loop, pools) → control
 * socket (a warning if it cannot be opened) → pid file. Then the loop: one poll per iteration,
 * signals and external clock steps looked at in between, never more than a second apart.
 */
#include "daemon.h"

#include <errno.h>
#include <math.h>
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

static void open_servers(const struct cfg *cfg, struct exec *x)
{
	static const int fams[2] = { GN_AF_INET, GN_AF_INET6 };
	int opened = 0;
	for (int i = 0; i < 2; i++) {
		bool forced = true;
		int fd = os_net_open_server(fams[i], cfg->port, OS_NET_RCVBUF_BYTES, &forced);
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
	bool pid_written = false;

	if (os_signals_install() != 0)
		log_warn("cannot install signal handlers");

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
	memset(&seam, 0, sizeof seam);
	if (cfg->leapfile[0]) {
		co = crypto_openssl_new();
		if (!co || !crypto_openssl_has(co, AUTH_ALG_SHA1))
			log_warnx("leap file %s: SHA-1 is not available from OpenSSL; the file cannot "
				  "be checked and is not used", cfg->leapfile);
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
	if (!o->once)
		open_servers(cfg, x);
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

	if (!o->once && cfg->controlsocket[0]) {
		struct ctl_source cs = {
			.eng = eng, .clock = clock, .cfg = cfg, .start_mono_ns = now.mono_ns,
			.clock_mode = clock->name,
		};
		int err = 0;
		ctl = ctl_new(sch, cfg->controlsocket, &cs, &err);
		if (!ctl)
			log_warnx("cannot open the control socket %s: %s; running without it",
				  cfg->controlsocket, strerror(-err));
	}
	if (!o->once && pidfile && pidfile[0]) {
		int r = os_pidfile_write(pidfile);
		if (r < 0)
			log_warnx("cannot write pid file %s: %s", pidfile, strerror(-r));
		else
			pid_written = true;
	}

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
	if (pid_written)
		os_pidfile_remove(pidfile);
	log_info("gnomond exiting with status %d", status);
	return status;
}
