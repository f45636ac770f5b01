/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ctl: the control socket server. A Unix stream socket speaking a small versioned,
 * read-only protocol: the client sends one JSON object (ended by a newline or by closing
 * its writing side), the server answers with one JSON object and closes.
 *
 *   request:  {"version": 1, "command": "status" | "sources" | "serverstats"}
 *   reply:    {"version": 1, "command": "...", "status": {...}}      (or "sources": [...],
 *             "serverstats": {...})
 *   error:    {"version": 1, "error": "a plain sentence"}
 *
 * Version 1 is read-only: no request can change the daemon, so the socket may be
 * world-accessible (as ntpq -p is). Bad requests (garbage, too large, too slow, too many
 * clients) get a clear error reply or are closed, are counted and logged at most once a
 * minute, and never block the loop: every descriptor is non-blocking, every client has a
 * deadline, and requests and replies are bounded in size.
 *
 * Owns: the listening socket, the client connections, the socket path (removed on free).
 * Does not own: the engine, the clock, the loop (borrowed).
 */
#ifndef CTL_H
#define CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eng.h"
#include "os_clock.h"
#include "sch.h"

#define CTL_PROTOCOL_VERSION 1
#define CTL_MAX_REQUEST 4096          /* bytes; larger is refused */
#define CTL_MAX_REPLY (256 * 1024)    /* bytes */
#define CTL_MAX_CLIENTS 4             /* keeps all descriptors under 20 (exec.h) */
#define CTL_CLIENT_TIMEOUT_NS (2LL * 1000000000LL)
#define CTL_SOCKET_MODE 0666

struct ctl;

/* What the replies are made of. */
struct ctl_source {
	struct eng *eng;
	struct os_clock *clock;
	const struct cfg *cfg;
	int64_t start_mono_ns;
	const char *clock_mode;       /* "system" or "software (-X)" */
};

struct ctl_stats {
	uint64_t accepted, answered, bad_requests, timeouts, refused_busy;
};

/* Listen on path. Returns NULL (errno-style reason in *err, negative) if the socket cannot
 * be opened: the caller warns and runs without it. */
struct ctl *ctl_new(struct sch *sch, const char *path, const struct ctl_source *src, int *err);
void ctl_free(struct ctl *c);
const struct ctl_stats *ctl_stats(const struct ctl *c);

/* Answer one request text (no I/O): writes the reply JSON into out (NUL-terminated) and
 * returns its length; exposed for tests and fuzzing. */
size_t ctl_handle_request(const struct ctl_source *src, const char *req, size_t len, char *out,
			  size_t cap);

/* The state names used on the wire. */
const char *ctl_state_name(enum eng_sync_state s);

#endif
