/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cfg: the ntp.conf parser and the typed configuration it produces.
 *
 * Owns: the syntax of ntp.conf as classic ntpd and NTPsec accept it plus gnomon's own
 * directives, the `struct cfg` that every other module reads, defaults where the file is
 * silent, normalised printing (`gnomond -t`) and equality (parse → print → parse).
 * Errors carry file:line:column and the token, with a suggestion for a misspelling.
 *
 * Does not own: reading files. `includefile` and the top-level file are read through
 * `cfg_read_fn`, which the daemon implements with the OS layer and tests with strings.
 * Nor does it resolve names or open key files: it records what the file says.
 *
 * Directives: server pool peer (iburst burst prefer noselect true minpoll maxpoll key
 * version port, -4/-6), refclock, fudge (with server 127.127.T.U), tos, tinker, restrict,
 * discard, limit, mru, keys, trustedkey, requestkey, controlkey, driftfile, leapfile,
 * logfile, statsdir, statistics, filegen, includefile, enable, disable, interface/nic, and
 * gnomon's port, controlsocket, pidfile. Severity: an unknown word, a malformed line, or a
 * known-but-unimplemented feature whose absence would weaken security or clock safety
 * (crypto, nts, autokey, ippeerlimit, tinker stepback/stepfwd, `key N` while auth is not
 * available) is an ERROR; a known-but-unimplemented harmless directive or option
 * (broadcast, manycastclient, logconfig, xleave, ...) is a WARNING naming it.
 *
 * Fixed-size arrays keep the struct flat: it can be compared with cfg_equal, copied, and
 * built without allocation; the limits are far above any real ntp.conf.
 */
#ifndef CFG_H
#define CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CFG_MAX_SOURCES 64
#define CFG_MAX_RESTRICT 256
#define CFG_MAX_INTERFACE 32
#define CFG_MAX_REFCLOCKS 16
#define CFG_MAX_KEYRANGES 64
#define CFG_MAX_STATS 8
#define CFG_MAX_DIAG 64          /* diagnostics kept; more are counted only */
#define CFG_PATH_MAX 256
#define CFG_HOST_MAX 256
#define CFG_INCLUDE_DEPTH 5
#define CFG_MAX_INCLUDES 32      /* includefile lines followed in one parse, in all */
#define CFG_LINE_MAX 4096        /* bytes in one line; longer is an error */
#define CFG_MAX_TOKENS 64        /* words in one line; more is an error */
#define CFG_FILE_MAX (1024 * 1024) /* bytes in one configuration file (cfgload) */

#define CFG_DEFAULT_FILE "/etc/gnomon.conf"
#define CFG_DEFAULT_CONTROLSOCKET "/run/gnomon/gnomond.sock"
#define CFG_DEFAULT_PIDFILE "/run/gnomon/gnomond.pid"
#define CFG_DEFAULT_LEAPFILE "/usr/share/zoneinfo/leap-seconds.list"
#define CFG_DEFAULT_PORT 123    /* RFC 5905 §7.2 */

/* An address with prefix: family 4 or 6; addr in network byte order (first 4 octets for
 * IPv4). */
struct cfg_prefix {
	uint8_t family;         /* 4 or 6 */
	uint8_t addr[16];
	uint8_t prefix_len;     /* 0..32 or 0..128 */
};

enum cfg_src_kind { CFG_SRC_SERVER, CFG_SRC_POOL, CFG_SRC_PEER };

struct cfg_source {
	enum cfg_src_kind kind;
	char host[CFG_HOST_MAX];    /* name or numeric address as written */
	uint16_t port;              /* gnomon's `port N`, default 123 */
	int8_t family;              /* 0 any, 4 (-4), 6 (-6) */
	bool iburst, burst, prefer, noselect, true_ /* `true`: never a falseticker */;
	int8_t minpoll, maxpoll;    /* log2 s; defaults 6 and 10 (RFC 5905 §7.2) */
	uint32_t key;               /* 0 = none */
	uint8_t version;            /* 1..4, default 4 */
	unsigned line;
};

/* restrict flags (ntpd's access control, docs: "Access Control Commands") */
enum cfg_res_flag {
	CFG_RES_IGNORE   = 1u << 0,
	CFG_RES_NOSERVE  = 1u << 1,
	CFG_RES_NOQUERY  = 1u << 2,
	CFG_RES_NOMODIFY = 1u << 3,
	CFG_RES_NOPEER   = 1u << 4,
	CFG_RES_NOTRAP   = 1u << 5,
	CFG_RES_NOTRUST  = 1u << 6,
	CFG_RES_LIMITED  = 1u << 7,
	CFG_RES_KOD      = 1u << 8,
	CFG_RES_NOMRULIST = 1u << 9,
	CFG_RES_NOEPEER  = 1u << 10,
	CFG_RES_VERSION  = 1u << 11,  /* deny packets not of the current version */
	CFG_RES_NTPPORT  = 1u << 12,  /* match only source port 123 */
};

enum cfg_res_match { CFG_RES_DEFAULT, CFG_RES_PREFIX, CFG_RES_SOURCE };

struct cfg_restrict {
	enum cfg_res_match match;
	uint8_t family;             /* DEFAULT: 0 both, 4 (-4) or 6 (-6); PREFIX: of prefix */
	struct cfg_prefix prefix;   /* PREFIX only */
	uint32_t flags;             /* enum cfg_res_flag */
	unsigned line;
};

/* Rate limit for `limited` (ntpd `discard`, NTPsec `limit`). */
struct cfg_ratelimit {
	int8_t average_log2;        /* minimum average headway, log2 s; ntpd default 3 (8 s) */
	int8_t minimum_log2;        /* minimum headway, log2 s; ntpd default 1 (2 s) */
	uint16_t burst;             /* packets allowed at once above the average; default 8 */
	int8_t kod_log2;            /* one KoD per 2^kod s at most per client; default 3 */
	bool set;                   /* a discard/limit line was present */
};

/* The client table behind `limited` and monitoring (ntpd's `mru` directive). */
struct cfg_mru {
	uint32_t maxdepth;          /* entries at most; 0 = derived from maxmem */
	uint32_t maxmem_kib;        /* memory for the table; ntpd default 1024 */
	uint32_t mindepth;          /* entries always kept before age eviction; ntpd 600 */
	uint32_t maxage_s;          /* entries older than this may be reused; ntpd 64 */
	uint32_t minage_s;          /* a newcomer may evict only entries older than this; 64 */
};

struct cfg_tos {
	uint8_t minclock;   /* default 3 (RFC 5905 §7.2 MINCLOCK) */
	uint8_t minsane;    /* default 1 */
	uint8_t maxclock;   /* default 10 */
	double maxdist_s;   /* default 1.5 s (RFC 5905 §7.2 MAXDIST) */
	uint8_t orphan;     /* 0 = off; else orphan stratum */
	double orphanwait_s;/* default 300 s */
};

struct cfg_tinker {
	double step_s;      /* default 0.128 (RFC 5905 §11.3 STEPT); 0 = never step */
	double stepout_s;   /* default 300 (ntpd; RFC 5905 WATCH 900) */
	double panic_s;     /* default 1000 (RFC 5905 §11.3 PANICT); 0 = no panic check */
};

struct cfg_keyrange { uint32_t lo, hi; };

enum cfg_if_action { CFG_IF_LISTEN, CFG_IF_IGNORE, CFG_IF_DROP };
enum cfg_if_what { CFG_IF_ALL, CFG_IF_WILDCARD, CFG_IF_IPV4, CFG_IF_IPV6, CFG_IF_PREFIX, CFG_IF_NAME };
struct cfg_interface {
	enum cfg_if_action action;
	enum cfg_if_what what;
	struct cfg_prefix prefix;   /* CFG_IF_PREFIX */
	char name[32];              /* CFG_IF_NAME: an interface name such as eth0 */
	unsigned line;
};

/* A reference clock, from NTPsec's `refclock NAME unit N ...` or the classic
 * `server 127.127.T.U` + `fudge` (T mapped to a name: 20 nmea, 22 pps, 28 shm, 46 gpsd,
 * 1 local). The drivers come later; the parser keeps what was said. */
struct cfg_refclock {
	char driver[16];            /* "shm", "pps", "gpsd", "nmea", "local", ... */
	uint8_t unit;
	bool prefer, noselect;
	int8_t minpoll, maxpoll;    /* log2 s, 0..17; defaults 6 and 10 */
	int8_t stratum;             /* -1 = driver default */
	uint32_t refid;             /* 0 = driver default; 4 ASCII octets, first in the top
				     * octet, NUL-padded ("GPS" = 0x47505300) */
	double time1_s, time2_s;    /* fudge offsets */
	uint8_t flags;              /* flag1..flag4 as bits 0..3 */
	int8_t flags_set;           /* which of flag1..4 were given */
	char path[CFG_PATH_MAX];
	char ppspath[CFG_PATH_MAX];
	uint32_t baud;
	uint32_t mode;
	bool classic;               /* came from server 127.127.T.U */
	unsigned line;
};

enum cfg_enable_flag {
	CFG_EN_AUTH = 1u << 0, CFG_EN_MONITOR = 1u << 1, CFG_EN_NTP = 1u << 2,
	CFG_EN_KERNEL = 1u << 3, CFG_EN_STATS = 1u << 4, CFG_EN_CALIBRATE = 1u << 5,
};

enum cfg_stat { CFG_STAT_LOOP = 1u << 0, CFG_STAT_PEER = 1u << 1, CFG_STAT_CLOCK = 1u << 2,
	CFG_STAT_SYS = 1u << 3, CFG_STAT_RAW = 1u << 4, CFG_STAT_PROTO = 1u << 5 };

struct cfg {
	struct cfg_source sources[CFG_MAX_SOURCES];
	unsigned n_sources;
	struct cfg_restrict restricts[CFG_MAX_RESTRICT];
	unsigned n_restricts;
	struct cfg_ratelimit ratelimit;
	struct cfg_mru mru;
	struct cfg_tos tos;
	struct cfg_tinker tinker;
	struct cfg_interface interfaces[CFG_MAX_INTERFACE];
	unsigned n_interfaces;
	struct cfg_refclock refclocks[CFG_MAX_REFCLOCKS];
	unsigned n_refclocks;

	char keys[CFG_PATH_MAX];            /* key file; "" = none */
	struct cfg_keyrange trustedkeys[CFG_MAX_KEYRANGES];
	unsigned n_trustedkeys;
	uint32_t requestkey, controlkey;    /* 0 = none */

	char driftfile[CFG_PATH_MAX];       /* "" = none (the default) */
	char leapfile[CFG_PATH_MAX];        /* default CFG_DEFAULT_LEAPFILE if present */
	char logfile[CFG_PATH_MAX];         /* "" = syslog */
	char statsdir[CFG_PATH_MAX];
	uint32_t statistics;                /* enum cfg_stat */
	uint32_t enable_set, enable_clear;  /* enum cfg_enable_flag, as written */

	uint16_t port;                      /* where gnomon listens; default 123 */
	char controlsocket[CFG_PATH_MAX];
	char pidfile[CFG_PATH_MAX];
};

/* --- diagnostics --- */
enum cfg_severity { CFG_WARNING, CFG_ERROR };
struct cfg_diag {
	enum cfg_severity severity;
	char file[CFG_PATH_MAX];
	unsigned line, column;   /* 1-based; column of the offending token */
	char message[256];       /* includes the token and any "did you mean" */
};
struct cfg_diags {
	struct cfg_diag d[CFG_MAX_DIAG];
	unsigned n;              /* kept */
	unsigned n_errors, n_warnings; /* all, kept or not */
};

/* Reads a whole file for includefile. Returns a buffer the parser frees with free_fn, or
 * NULL with a message in err. */
typedef char *(*cfg_read_fn)(void *ctx, const char *path, size_t *len, char *err, size_t errlen);
struct cfg_reader {
	cfg_read_fn read;
	void (*free_fn)(void *ctx, char *buf);
	void *ctx;
};

/* What the rest of gnomon can do yet, which decides whether some lines are accepted.
 *
 * auth_available: false until the auth module (keys, MACs) is wired into the daemon. While
 * false, `key N` on a server/pool/peer line is an ERROR (refuse to start rather than run
 * that association unauthenticated); `keys`/`trustedkey`/`requestkey`/`controlkey` are
 * still parsed and checked. To lift the rule, set CFG_AUTH_AVAILABLE to true (cfg_parse and
 * cfgload use it) or call cfg_parse_ex with auth_available = true.
 *
 * refclocks_available: false until the drivers exist. While false a `refclock` or
 * `server 127.127.T.U` line is accepted with a WARNING that it will not run. */
#define CFG_AUTH_AVAILABLE false
#define CFG_REFCLOCKS_AVAILABLE false
struct cfg_parse_opts {
	bool auth_available;
	bool refclocks_available;
};

/* Fill cfg with the defaults used where the file is silent. */
void cfg_defaults(struct cfg *cfg);

/* Parse text (the contents of `file`) into cfg, which should hold cfg_defaults().
 * `reader` may be NULL, then includefile is an error. Returns the number of errors
 * (0 = may start); warnings and errors are appended to diags (a diagnostic inside an
 * included file names that file as written on the includefile line). text need not be
 * NUL-terminated and may hold NULs (reported as errors); nothing past len is read.
 * diags should be zeroed before the first call. */
unsigned cfg_parse(struct cfg *cfg, const char *file, const char *text, size_t len,
		   const struct cfg_reader *reader, struct cfg_diags *diags);

/* cfg_parse with explicit options (cfg_parse uses CFG_AUTH_AVAILABLE and
 * CFG_REFCLOCKS_AVAILABLE). */
unsigned cfg_parse_ex(struct cfg *cfg, const char *file, const char *text, size_t len,
		      const struct cfg_reader *reader, const struct cfg_parse_opts *opts,
		      struct cfg_diags *diags);

/* "file:line:column: error|warning: message" into buf (NUL-terminated, truncated at cap).
 * Returns buf. */
const char *cfg_diag_format(const struct cfg_diag *d, char *buf, size_t cap);

/* A classic refclock type number (the T of 127.127.T.U) as its NTPsec driver name, or NULL
 * for an unknown type; and back (0 if the name is unknown). */
const char *cfg_refclock_name(unsigned type);
unsigned cfg_refclock_type(const char *name);

/* Print cfg in normalised ntp.conf form into buf (NUL-terminated, truncated at cap).
 * Returns the length it needed, as snprintf does. Parsing the output gives an equal cfg. */
size_t cfg_print(const struct cfg *cfg, char *buf, size_t cap);

/* True if two configurations are the same apart from line numbers. */
bool cfg_equal(const struct cfg *a, const struct cfg *b);

/* True if key id is trusted by a `trustedkey` line. */
bool cfg_key_trusted(const struct cfg *cfg, uint32_t keyid);

#endif
