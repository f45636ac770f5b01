/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * os_wait: the one place the daemon blocks (poll(2)) and the signals that wake it.
 * Signal handlers only set a flag; the loop takes the flags after poll returns (no
 * self-pipe, no signalfd: docs/architecture.md). The handlers are installed without
 * SA_RESTART so a signal ends poll early with EINTR; the loop's timeout is at most 1 s
 * anyway.
 *
 * Owns: poll, sigaction, the pending-signal flags (file scope by necessity: a signal
 * handler has nowhere else to write).
 */
#ifndef OS_WAIT_H
#define OS_WAIT_H

#include <poll.h>
#include <stddef.h>

enum os_sig { OS_SIG_TERM = 1u << 0, OS_SIG_HUP = 1u << 1 };

/* poll(2); returns its result, or -errno (-EINTR when a signal arrived). */
int os_poll(struct pollfd *fds, size_t n, int timeout_ms);

/* SIGTERM and SIGINT set OS_SIG_TERM, SIGHUP sets OS_SIG_HUP; SIGPIPE is ignored. */
int os_signals_install(void);
/* The pending signals (enum os_sig bits), cleared. */
unsigned os_signals_take(void);
/* For tests: pretend a signal arrived. */
void os_signals_raise(unsigned bits);

#endif
