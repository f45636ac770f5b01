/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * os_log: syslog, stderr or a file, with per-key rate limiting. File-scope state by
 * necessity (see os_log.h). Time for the rate limiter comes from CLOCK_MONOTONIC, so a
 * clock step cannot unmute or mute a key; stderr and file lines carry a UTC wall-clock
 * stamp from CLOCK_REALTIME for people reading them.
 */
#include "os_log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct limit_slot {
	uint32_t key;
	bool used;
	int64_t window_start_ns;
	uint64_t suppressed;
	int64_t last_use_ns;
};

static struct {
	enum os_log_dest dest;
	char ident[32];
	char path[256];
	FILE *file;
	int max_level;
	bool syslog_open;
	struct limit_slot slots[OS_LOG_LIMIT_KEYS];
} g_log = { .dest = OS_LOG_STDERR, .ident = "gnomond", .max_level = LOG_INFO };

static int64_t mono_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static const char *level_name(int level)
{
	switch (level) {
	case LOG_EMERG: case LOG_ALERT: case LOG_CRIT: case LOG_ERR: return "error";
	case LOG_WARNING: return "warning";
	case LOG_NOTICE: return "notice";
	case LOG_INFO: return "info";
	default: return "debug";
	}
}

void log_init(const char *ident, enum os_log_dest dest, const char *path, int max_level)
{
	log_fini();
	snprintf(g_log.ident, sizeof g_log.ident, "%s", ident ? ident : "gnomond");
	g_log.max_level = max_level;
	g_log.dest = dest;
	memset(g_log.slots, 0, sizeof g_log.slots);
	if (dest == OS_LOG_SYSLOG) {
		openlog(g_log.ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
		g_log.syslog_open = true;
	} else if (dest == OS_LOG_FILE) {
		snprintf(g_log.path, sizeof g_log.path, "%s", path ? path : "");
		g_log.file = fopen(g_log.path, "ae");
		if (!g_log.file) {
			int e = errno;
			g_log.dest = OS_LOG_STDERR;
			log_warnx("cannot open log file %s: %s; logging to stderr", g_log.path, strerror(e));
		} else {
			setvbuf(g_log.file, NULL, _IOLBF, 0);
		}
	}
}

void log_reopen(void)
{
	if (g_log.dest != OS_LOG_FILE)
		return;
	if (g_log.file)
		fclose(g_log.file);
	g_log.file = fopen(g_log.path, "ae");
	if (!g_log.file) {
		int e = errno;
		g_log.dest = OS_LOG_STDERR;
		log_warnx("cannot reopen log file %s: %s; logging to stderr", g_log.path, strerror(e));
		return;
	}
	setvbuf(g_log.file, NULL, _IOLBF, 0);
}

void log_fini(void)
{
	if (g_log.file) {
		fclose(g_log.file);
		g_log.file = NULL;
	}
	if (g_log.syslog_open) {
		closelog();
		g_log.syslog_open = false;
	}
}

void log_set_max_level(int max_level) { g_log.max_level = max_level; }

static void vlog(int level, const char *fmt, va_list ap)
{
	char line[1024];
	if (level > g_log.max_level)
		return;
	vsnprintf(line, sizeof line, fmt, ap);
	/* Never pass control characters from the network or a config file through. */
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = '?';
	if (g_log.dest == OS_LOG_SYSLOG) {
		syslog(level, "%s", line);
		return;
	}
	FILE *f = g_log.dest == OS_LOG_FILE && g_log.file ? g_log.file : stderr;
	struct timespec ts;
	struct tm tm;
	char stamp[32] = "";
	if (clock_gettime(CLOCK_REALTIME, &ts) == 0 && gmtime_r(&ts.tv_sec, &tm))
		strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(f, "%s %s[%s]: %s\n", stamp, g_log.ident, level_name(level), line);
	fflush(f);
}

void log_msg(int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	char buf[900];
	int e = errno;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	log_msg(LOG_WARNING, "%s: %s", buf, strerror(e));
}

#define LOG_FORWARD(name, level) \
	void name(const char *fmt, ...) \
	{ \
		va_list ap; \
		va_start(ap, fmt); \
		vlog(level, fmt, ap); \
		va_end(ap); \
	}
LOG_FORWARD(log_warnx, LOG_WARNING)
LOG_FORWARD(log_notice, LOG_NOTICE)
LOG_FORWARD(log_info, LOG_INFO)
LOG_FORWARD(log_debug, LOG_DEBUG)

_Noreturn void fatal(const char *fmt, ...)
{
	char buf[900];
	int e = errno;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	log_msg(LOG_ERR, "%s: %s", buf, strerror(e));
	exit(1);
}

_Noreturn void fatalx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(LOG_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}

bool log_limited(uint32_t key, int level, const char *fmt, ...)
{
	int64_t now = mono_ns();
	const int64_t interval = (int64_t)OS_LOG_LIMIT_INTERVAL_S * 1000000000LL;
	struct limit_slot *s = NULL, *oldest = &g_log.slots[0];
	if (level > g_log.max_level)
		return false;
	for (size_t i = 0; i < OS_LOG_LIMIT_KEYS; i++) {
		struct limit_slot *c = &g_log.slots[i];
		if (c->used && c->key == key) {
			s = c;
			break;
		}
		if (!c->used || (oldest->used && c->last_use_ns < oldest->last_use_ns))
			oldest = c;
	}
	uint64_t suppressed = 0;
	if (s && now - s->window_start_ns < interval) {
		s->suppressed++;
		s->last_use_ns = now;
		return false;
	}
	if (s) {
		suppressed = s->suppressed;
	} else {
		s = oldest;
		s->used = true;
		s->key = key;
	}
	s->window_start_ns = now;
	s->last_use_ns = now;
	s->suppressed = 0;

	char buf[900];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (suppressed > 0)
		log_msg(level, "%s (%llu similar messages suppressed)", buf, (unsigned long long)suppressed);
	else
		log_msg(level, "%s", buf);
	return true;
}
