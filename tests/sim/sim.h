/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sim: the deterministic discrete-event simulator. Runs complete gnomon engines (eng.h)
 * on simulated clocks and links in one process, seeded and reproducible.
 *
 * Models (the same ones the accuracy targets in docs/accuracy.md were measured under):
 *   - true time: the simulator's event clock, nanoseconds from the start of the run;
 *   - a client node's oscillator ("base"): initial offset, a constant frequency error and a
 *     random walk on the frequency (each simulated second the fractional frequency moves by
 *     a normal step of standard deviation `wander`); its monotonic clock is that oscillator,
 *     which steps never move;
 *   - its kernel: kclk (Linux's adjtimex model) between the oscillator and the disciplined
 *     clock the engine reads (nanosecond reads);
 *   - links: per direction a constant delay, plus an exponential with a given mean, plus a
 *     fixed asymmetry on the client→server direction, loss, and a fraction of packets
 *     delayed by an extra spike;
 *   - servers: perfect (true time), false (true time + an offset), or vanishing (no answers
 *     between two instants), answering mode 3 requests as a stratum-1 NTP server would;
 *   - further gnomon nodes ([gnomon]), each a complete engine on its own simulated clock,
 *     which the client (or each other) may use as sources: chains and peering machines;
 *   - a disturbed guest (H2): a suspend (both of the node's clocks stand still for hours,
 *     datagrams reaching it meanwhile are lost; at resume its guest agent sets the real-time
 *     clock to UTC plus a residual error, an external step the simulated daemon notices as
 *     gnomond does, by the real-time clock jumping against CLOCK_MONOTONIC) and a pause or
 *     live migration (both clocks stand still, nothing is set at resume);
 *   - a leap second (H2): true time runs on; UTC, which the servers keep and the offsets are
 *     measured against, repeats 23:59:59 (insert) or skips it (delete) at the end of the
 *     month the run starts in; the servers announce it (LI) during that last day.
 *
 * Metrics (of the client; sampled once per simulated second: offset = its disciplined clock
 * minus true time): RMS and largest |offset| after the warm-up (the first hour), the time
 * until |offset| < 1 ms, the time from which it stays < 100 µs, steps, packets sent per
 * hour, and the offset at a chosen instant (the end of an outage).
 *
 * Owns: the scenario description and its file format (sim_scn_*), one run (sim_run), and
 * summaries over seeds. Does not own the engine or the kernel model (kclk).
 */
#ifndef SIM_H
#define SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kclk.h"
#include "sim_rng.h"

#define SIM_MAX_SERVERS 8
#define SIM_MAX_GNOMONS 7          /* gnomon nodes besides the measured client */
/* A node reference in a source list: a server is its index, a gnomon node (0 = the
 * client, 1.. the [gnomon] sections) SIM_REF_GNOMON + its index. */
#define SIM_REF_GNOMON 100
#define SIM_MAX_SOURCES (SIM_MAX_SERVERS + SIM_MAX_GNOMONS + 1)
#define SIM_NS_PER_S 1000000000LL
#define SIM_T0_UNIX_S 1780272000LL  /* true time's origin: 2026-06-01 00:00:00 UTC */
#define SIM_MONO_AT_START_NS (300 * SIM_NS_PER_S) /* the node booted 5 minutes before */

/* --- a simulated node's clocks: oscillator → kernel (kclk) → disciplined clock ---
 * True time t is nanoseconds from the start of the run. The oscillator's fractional
 * frequency error is constant within each true second and moves by a normal random-walk
 * step (σ = wander) at each second boundary. The monotonic clock is the oscillator (steps
 * never move it); the disciplined clock is kclk over the oscillator. */
struct sim_osc {
	int64_t t0;             /* true ns of the current second's start */
	int64_t base;           /* oscillator reading at t0, ns */
	double frac;            /* sub-ns remainder, [0, 1) */
	double freq;            /* fractional frequency error in this second */
	double wander;
	struct sim_rng rng;
};

#define SIM_MAX_PAUSES 2

/* The node stands still (its oscillator, hence every clock of it, does not advance) for
 * true time in (start, start + len). */
struct sim_pause {
	int64_t start, len;     /* true ns */
};

struct sim_clock {
	struct sim_osc osc;
	struct kclk kclk;
	int64_t mono_off;       /* mono = oscillator - mono_off */
	bool mono_linux;        /* mono = disciplined clock without its jumps, as Linux's
	                         * CLOCK_MONOTONIC (slewed with the clock, never stepped) */
	struct sim_pause pause[SIM_MAX_PAUSES]; /* in time order, not overlapping */
	unsigned n_pause;
};

/* Initial offset of the disciplined clock from true time, oscillator frequency error. The
 * wander's random walk draws from (seed, stream). */
void sim_clock_init(struct sim_clock *c, double offset_s, double freq_ppm, double wander,
		    uint64_t seed, uint64_t stream);
/* The same with true time's origin t0_unix_ns instead of SIM_T0_UNIX_S. */
void sim_clock_init_at(struct sim_clock *c, int64_t t0_unix_ns, double offset_s, double freq_ppm,
		       double wander, uint64_t seed, uint64_t stream);
/* Add a pause (after sim_clock_init, before the first reading; in time order). False if
 * the table is full or it overlaps or precedes the last one. */
bool sim_clock_add_pause(struct sim_clock *c, int64_t start, int64_t len);
/* The node's own elapsed time at true time t: t minus the paused time before it. */
int64_t sim_clock_local(const struct sim_clock *c, int64_t t);
/* The first true time at which the node's own elapsed time reaches local. */
int64_t sim_clock_true_at(const struct sim_clock *c, int64_t local);
bool sim_clock_paused(const struct sim_clock *c, int64_t t);
/* Readings at true time t (t never goes backwards). */
int64_t sim_clock_base(struct sim_clock *c, int64_t t);
int64_t sim_clock_mono(struct sim_clock *c, int64_t t);
int64_t sim_clock_real(struct sim_clock *c, int64_t t);
/* True time as a Unix-epoch gn_time_ns. */
static inline int64_t sim_true_ns(int64_t t) { return SIM_T0_UNIX_S * SIM_NS_PER_S + t; }
#define SIM_NAME_MAX 64

enum sim_srv_kind { SIM_SRV_PERFECT, SIM_SRV_FALSE, SIM_SRV_VANISH };

struct sim_link {
	double delay_s;         /* constant part, each way */
	double jitter_s;        /* mean of the exponential part, each way */
	double asym_s;          /* added to the client→server direction only */
	double loss;            /* probability a packet is lost, each way */
	double spike_frac;      /* fraction of packets delayed by spike_s more */
	double spike_s;
};

struct sim_server_spec {
	char name[SIM_NAME_MAX];    /* for `sources`; default s1, s2, ... */
	enum sim_srv_kind kind;
	double offset_s;        /* its clock minus true time (false tickers) */
	double vanish_start_s, vanish_end_s; /* SIM_SRV_VANISH: silent in [start, end) */
	uint8_t stratum;        /* 1 */
	char refid[5];          /* "GPS" */
	int8_t precision_log2;  /* -20 */
	double rootdelay_s, rootdisp_s;
	double proc_s;          /* between receive and transmit timestamps */
	struct sim_link link;
};

/* A gnomon node: the measured client, or another engine ([gnomon] sections) that others
 * may use as a source (a stratum-2 chain, peering VMs). */
struct sim_client_spec {
	char name[SIM_NAME_MAX];    /* "client" for the client; required for [gnomon] */
	int sources[SIM_MAX_SOURCES]; /* node references (SIM_REF_GNOMON); default all servers */
	unsigned n_sources;
	char sources_text[256];     /* as written, resolved after parsing */
	struct sim_link link;       /* the path to this node when others use it as a source */
	double offset_s;        /* initial offset of the clock */
	double freq_ppm;        /* oscillator frequency error, positive = fast */
	double wander;          /* σ of the per-second random-walk step of the fractional frequency */
	int8_t minpoll, maxpoll;
	bool iburst;
	int8_t precision_log2;
	bool have_drift;        /* a drift file was read with drift_ppm */
	double drift_ppm;
	bool tx_timestamps;     /* hand the engine a transmit timestamp for each request */
	bool mono_linux;        /* `mono = linux`: the monotonic clock is slewed as Linux's
	                         * CLOCK_MONOTONIC; default `raw`: the oscillator itself */
	int discipline;         /* eng_params.discipline: 0 gnomon (default), 1 the RFC PLL/FLL */
	/* A disturbed guest (0 = none): suspended at suspend_at_s for suspend_s (both clocks
	 * stand still); at resume, if resume_set, its guest agent sets the real-time clock to
	 * UTC + resume_error_s (an external step); paused (migrated) at migrate_at_s for
	 * migrate_s, nothing set at resume. */
	double suspend_at_s, suspend_s;
	bool resume_set;
	double resume_error_s;
	double migrate_at_s, migrate_s;
};

/* Figures measured elsewhere under the same models, for the table (0 = not known). */
struct sim_targets {
	double chrony_rms_us, chrony_max_us, chrony_lock_s, chrony_stay_s;
	double ntpsec_rms_us, ntpsec_lock_s;
	double goal_ratio;      /* gnomon's RMS at most this × chrony's (0.7) */
};

struct sim_scenario {
	char name[SIM_NAME_MAX];
	char description[200];
	double duration_s;
	double warmup_s;        /* metrics of RMS and max start here (3600) */
	unsigned seeds;         /* 5 */
	uint64_t seed_base;     /* seeds are seed_base, seed_base + 1, ... */
	double report_at_s;     /* also report |offset| at this instant (0 = none) */
	char compare_to[SIM_NAME_MAX]; /* RMS must stay within compare_ratio × that run's */
	double compare_ratio;
	struct sim_client_spec client;      /* the measured node */
	struct sim_client_spec gnomons[SIM_MAX_GNOMONS]; /* other engines */
	unsigned n_gnomons;
	struct sim_server_spec servers[SIM_MAX_SERVERS];
	unsigned n_servers;
	struct sim_targets targets;
	int64_t start_unix_s;   /* `start_date`: true time's origin (SIM_T0_UNIX_S) */
	int leap;               /* `leap`: 1 insert, -1 delete a leap second at the end of the
	                         * month the run starts in; 0 none */
	unsigned steps_expected; /* steps per seed the scenario means to cause (its disturbance);
	                         * the table does not flag them */
};

/* Defaults (the client model of the accuracy table; no servers). */
void sim_scn_defaults(struct sim_scenario *scn);
/* Parse a scenario file's text: `[scenario]`, `[client]`, `[target]` sections, one
 * `[server]` section per server and one `[gnomon]` section per further engine,
 * `key = value` lines, `#` comments. Returns false with a "line N: ..." message in err. */
bool sim_scn_parse(struct sim_scenario *scn, const char *text, char *err, size_t errlen);
bool sim_scn_load(struct sim_scenario *scn, const char *path, char *err, size_t errlen);

/* One run's figures. */
struct sim_result {
	uint64_t seed;
	double rms_s;           /* RMS of |offset| after the warm-up */
	double max_abs_s;       /* largest |offset| after the warm-up */
	double lock_1ms_s;      /* first sample with |offset| < 1 ms (-1: never) */
	double stay_100us_s;    /* from here on |offset| < 100 µs (-1: not at the end) */
	double report_offset_s; /* offset at report_at_s */
	unsigned steps;
	unsigned other_steps;   /* steps of the other gnomon nodes */
	uint64_t client_sent;   /* requests the client sent */
	uint64_t client_received; /* datagrams delivered to the client */
	double pkts_per_h;
	uint64_t samples;
	uint64_t events;
	uint64_t logs;          /* ENG_ACT_LOG actions */
	uint64_t dropped_no_socket; /* replies to a closed client socket */
	double final_freq_ppm;  /* the kernel's frequency at the end */
	uint64_t adj_count;     /* ENG_ACT_CLOCK_ADJ executed */
	uint64_t adj_refused;   /* of which the kernel would refuse (EINVAL: tick out of range) */
	uint64_t adj_clamped;   /* of which asked a frequency beyond ±500 ppm */
	double final_offset_s;
	/* the client's disturbance (suspend/migrate resume, leap second), if any */
	double event_s;         /* its instant, true s from the start (-1: none) */
	double ev_lock_s;       /* from it to the first |offset| < 1 ms (-1: never) */
	double ev_stay_1ms_s;   /* from it until |offset| stays < 1 ms to the end (-1: not at the end) */
	double ev_max_s;        /* largest |offset| from 60 s after ev_lock_s on */
	double ev_poll_s;       /* the client's (system) poll interval at it */
	uint64_t ev_sent_60s;   /* requests the client sent in the first 60 s after it */
	unsigned ext_steps;     /* external steps the simulated daemon noticed and reported */
	unsigned kernel_leaps;  /* leap seconds the client's kernel inserted or deleted */
	unsigned restarts_ext, jumps, jump_alarms, eng_kernel_leaps; /* eng_status */
	unsigned panic_s;       /* seconds the client's engine was in panic */
	unsigned falseticker_s; /* seconds some source of the client showed 'x' */
	uint64_t dropped_paused; /* datagrams that reached the client while it stood still */
};

struct sim_opts {
	FILE *log;              /* engine log lines and trace (NULL = quiet) */
	bool trace;             /* also every clock action */
	FILE *samples;          /* per-second lines (NULL = none): t_s, offset_s, the disciplined
	                         * clock's rate against true time in ppm, and the engine's view:
	                         * its offset estimate (s), poll (log2 s), sync state */
	double duration_s;      /* overrides the scenario's if > 0 */
	double dump_every_s;    /* > 0: every so often, each gnomon node's status and sources
	                         * (as gnomonctl would show them) to log */
};

/* Run one seed. Returns false (with err) if the engine could not be set up. */
bool sim_run(const struct sim_scenario *scn, uint64_t seed, const struct sim_opts *opts,
	     struct sim_result *out, char *err, size_t errlen);

/* One packet's trip over a link: false if lost, else its delay. up: client → server, the
 * direction the asymmetry applies to. */
bool sim_link_draw(struct sim_rng *rng, const struct sim_link *m, bool up, int64_t *delay_ns);

/* Over seeds: the scenario's one line. */
struct sim_summary {
	unsigned n;
	double rms_us;          /* mean over seeds of the RMS */
	double max_us;          /* largest of any seed */
	double lock_1ms_s;      /* median (-1 if any seed never) */
	double stay_100us_s;    /* median (-1 if the median seed never) */
	unsigned steps;         /* total over seeds, of every gnomon node */
	double pkts_per_h;      /* mean */
	double report_us;       /* mean |offset| at report_at_s */
	double report_max_us;   /* largest |offset| at report_at_s */
	/* a disturbance (sim_result event_s): */
	bool has_event;
	double ev_lock_s;       /* median */
	double ev_stay_1ms_s;   /* median (-1 if the median seed ends above) */
	double ev_max_us;       /* largest of any seed */
	unsigned ext_steps, kernel_leaps, jumps, panic_s; /* totals */
};
void sim_summarize(const struct sim_result *r, unsigned n, struct sim_summary *out);

/* Run every seed of the scenario and summarise. results may be NULL, else has room for
 * scn->seeds entries. */
bool sim_run_scenario(const struct sim_scenario *scn, const struct sim_opts *opts,
		      struct sim_result *results, struct sim_summary *sum, char *err, size_t errlen);

/* One line: "name  rms .. max .. <1ms .. <100us .. steps .. pkts/h ..". */
void sim_summary_line(const struct sim_scenario *scn, const struct sim_summary *s, char *buf, size_t cap);

/* --- recorded figures (tests/sim/scenarios/recorded.txt) ---
 * One line per scenario: name rms_us max_us lock_1ms_s stay_100us_s steps pkts_per_h. */
struct sim_recorded {
	char name[SIM_NAME_MAX];
	double rms_us, max_us, lock_1ms_s, stay_100us_s, steps, pkts_per_h;
};
/* Returns the number of entries read (up to max), or -1 with err. */
int sim_recorded_load(const char *path, struct sim_recorded *out, int max, char *err, size_t errlen);

#endif
