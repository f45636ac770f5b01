/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * os_wait: poll(2) and flag-setting signal handlers (see os_wait.h).
 */
#include "os_wait.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

static volatile sig_atomic_t g_term, g_hup;

int os_poll(struct pollfd *fds, size_t n, int timeout_ms)
{
	int r = poll(fds, (nfds_t)n, timeout_ms);
	return r < 0 ? -errno : r;
}

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		g_hup = 1;
	else
		g_term = 1;
}

int os_signals_install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	sa.sa_flags = 0; /* no SA_RESTART: poll returns EINTR at once */
	if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0 ||
	    sigaction(SIGHUP, &sa, NULL) < 0)
		return -errno;
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) < 0)
		return -errno;
	return 0;
}

unsigned os_signals_take(void)
{
	unsigned bits = 0;
	if (g_term) {
		g_term = 0;
		bits |= OS_SIG_TERM;
	}
	if (g_hup) {
		g_hup = 0;
		bits |= OS_SIG_HUP;
	}
	return bits;
}

void os_signals_raise(unsigned bits)
{
	if (bits & OS_SIG_TERM)
		g_term = 1;
	if (bits & OS_SIG_HUP)
		g_hup = 1;
}
