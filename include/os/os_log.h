/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * os_log: the daemon's log, to syslog, to stderr (-d) or to a file (`logfile`), with the
 * small vocabulary of OpenNTPD: log_warn (appends strerror(errno)), log_warnx, log_notice,
 * log_info, log_debug, and fatal/fatalx for start-up only. Levels are syslog's (LOG_ERR ..
 * LOG_DEBUG).
 *
 * Rate limiting: log_limited(key, ...) writes the first message of a key, then at most one
 * per OS_LOG_LIMIT_INTERVAL_S, and says how many were suppressed; so one hostile packet per
 * second never writes one log line per second.
 *
 * Owns: one process-wide log sink. This is the one module with file-scope state: a process
 * has one syslog connection and one stderr, and every layer above must be able to log
 * without threading a handle through pure code (the core logs only through actions).
 */
#ifndef OS_LOG_H
#define OS_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

#define OS_LOG_LIMIT_INTERVAL_S 60   /* one line per key per minute at most */
#define OS_LOG_LIMIT_KEYS 64         /* distinct keys tracked; beyond, the oldest is reused */

enum os_log_dest { OS_LOG_STDERR, OS_LOG_SYSLOG, OS_LOG_FILE };

/* Start logging. path is used for OS_LOG_FILE (falls back to stderr with a warning).
 * max_level: messages above it (numerically) are dropped, e.g. LOG_INFO or LOG_DEBUG. */
void log_init(const char *ident, enum os_log_dest dest, const char *path, int max_level);
/* SIGHUP: close and reopen the log file (after logrotate). */
void log_reopen(void);
void log_fini(void);
void log_set_max_level(int max_level);

void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Rate-limited by key (same key = same event). Returns true if the line was written. */
bool log_limited(uint32_t key, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Keys the daemon itself uses for log_limited (the engine's keys are below 0x80000000). */
#define LOG_KEY_DAEMON 0x80000000u
#define LOG_KEY_CTL_BAD (LOG_KEY_DAEMON | 1)       /* a bad control request */
#define LOG_KEY_NET_RECV (LOG_KEY_DAEMON | 2)      /* recvmmsg failed */
#define LOG_KEY_NET_SEND (LOG_KEY_DAEMON | 3)      /* send failed */
#define LOG_KEY_NET_SOCK (LOG_KEY_DAEMON | 4)      /* client socket could not be opened */
#define LOG_KEY_CLOCK (LOG_KEY_DAEMON | 5)         /* clock adjustment failed */
#define LOG_KEY_CTL_FULL (LOG_KEY_DAEMON | 6)      /* too many control clients */
#define LOG_KEY_STEP_SEEN (LOG_KEY_DAEMON | 7)     /* external clock step noticed */
#define LOG_KEY_DRIFT (LOG_KEY_DAEMON | 8)         /* drift file write failed */
#define LOG_KEY_CLOCK_RANGE (LOG_KEY_DAEMON | 9)   /* an adjustment out of the kernel's range */

#endif
