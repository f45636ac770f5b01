/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sch: the daemon's one event loop: file descriptors with callbacks, and a timer queue (a
 * binary heap) on the monotonic clock. Nothing else blocks; there are no threads. The loop
 * is steppable: sch_run_once performs exactly one poll and dispatches what it returned, so
 * tests (and the daemon's own outer loop, which checks signals and clock steps between
 * iterations) drive it one iteration at a time.
 *
 * Ordering: ready descriptors are dispatched first, in registration order; then every timer
 * whose deadline has passed fires, earliest first (ties in the order they were added). A
 * timer added by a callback during this iteration fires in a later one, so a callback that
 * re-arms itself cannot starve the loop. A poll never waits longer than SCH_MAX_WAIT_MS,
 * so signal flags are looked at at least twice a second.
 *
 * Owns: the poll set and the timers. Does not own the descriptors (callers open and close
 * them) nor any clock but the one it is given.
 */
#ifndef SCH_H
#define SCH_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A signal that arrives between the loop's look at the flags and poll() is only seen when
 * poll returns (no self-pipe, no ppoll: docs/architecture.md), so this bounds the time to
 * act on SIGTERM. The issue asks for an exit within 1 s: half of that leaves room for the
 * clean-up. */
#define SCH_MAX_WAIT_MS 500
#define SCH_MAX_FDS 64

struct sch;

typedef void (*sch_fd_cb)(void *ctx, int fd, short revents);
typedef void (*sch_timer_cb)(void *ctx, uint64_t timer_id, int64_t now_mono_ns);

/* The system underneath, injectable for tests; NULL members = os_poll / os_mono_ns. */
struct sch_sys {
	int (*poll)(void *ctx, struct pollfd *fds, size_t n, int timeout_ms); /* or -errno */
	int64_t (*mono_ns)(void *ctx);
	void *ctx;
};

struct sch *sch_new(const struct sch_sys *sys);
void sch_free(struct sch *s);

/* Watch fd for events (POLLIN, POLLOUT). Re-adding an fd replaces its callback and events.
 * Returns 0, or -1 when SCH_MAX_FDS are watched already. */
int sch_fd_add(struct sch *s, int fd, short events, sch_fd_cb cb, void *ctx);
void sch_fd_events(struct sch *s, int fd, short events);
/* Stop watching fd (safe from inside any callback). */
void sch_fd_del(struct sch *s, int fd);
size_t sch_fd_count(const struct sch *s);

/* A one-shot timer at deadline_mono_ns. Returns its id (> 0), 0 on allocation failure. */
uint64_t sch_timer_add(struct sch *s, int64_t deadline_mono_ns, sch_timer_cb cb, void *ctx);
/* Cancel a pending timer; false if it already fired or never existed. */
bool sch_timer_cancel(struct sch *s, uint64_t id);
/* Earliest pending deadline, INT64_MAX if none. */
int64_t sch_next_deadline(const struct sch *s);
size_t sch_timer_count(const struct sch *s);

int64_t sch_now(const struct sch *s);

/* One iteration: poll for at most min(time to the next timer, max_wait_ms, SCH_MAX_WAIT_MS)
 * (max_wait_ms < 0: no extra limit), dispatch ready descriptors, fire due timers. Returns
 * the number of callbacks made, or -errno if poll failed for a reason other than EINTR (a
 * signal: 0 is returned and the caller looks at its flags). */
int sch_run_once(struct sch *s, int max_wait_ms);

#endif
