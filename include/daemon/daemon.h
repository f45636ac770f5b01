/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * daemon: wires one running gnomond together: the clock seam (system clock, or the
 * software clock of -X), the engine, the poll loop, the server sockets, the association
 * sockets (through exec), the control socket, the pid file, the drift file and the leap
 * file; the configured sources through srcmgr (numeric addresses with getaddrinfo, names
 * and pools with c-ares in the loop); runs the loop until SIGTERM/SIGINT (or, with -q, until the clock
 * was set once) and cleans up: drift file written, pid file and control socket removed.
 *
 * Owns: the lifetime of every object above. Does not own the command line (main.c) or the
 * configuration (loaded by cfgload before).
 */
#ifndef DAEMON_H
#define DAEMON_H

#include <stdbool.h>

#include "cfg.h"

struct daemon_opts {
	bool foreground;        /* -n */
	bool debug;             /* -d: debug log to stderr */
	bool panic_ok;          /* -g: the first correction may exceed the panic threshold */
	bool once;              /* -q: set the clock once and exit */
	bool slew_only;         /* -x: step threshold 600 s */
	bool no_clock;          /* -X: never touch the system clock */
	bool no_sandbox;        /* --no-sandbox */
	const char *user;       /* -u */
	const char *pidfile;    /* -p, overrides the configuration's pidfile */
	bool log_to_stderr;     /* the log goes to stderr (-d, -q): refusals are not repeated
	                         * there */
	const char *dns_servers;/* testing aid: c-ares servers ("127.0.0.1:12753") from the
	                         * environment (GNOMON_DNS_SERVERS); NULL = /etc/resolv.conf */
};

#define DAEMON_ONCE_TIMEOUT_S 300 /* -q gives up after this long without setting the clock */

/* Run the daemon on cfg until it is told to stop. Returns the process exit status.
 * Refuses to start (status 1, a clear message) when another gnomond runs: the pid file
 * is locked by another process, or something answers on the control socket, or (when the
 * system clock is steered, not with -X) the NTP port is taken. */
int daemon_run(const struct daemon_opts *opts, const struct cfg *cfg);

/* The message for a pid file locked by pid (0: unknown): to the log, and to stderr when
 * the log goes elsewhere. main uses it before detaching. */
void daemon_refuse_locked(const struct daemon_opts *opts, const char *pidfile, long pid);

#endif
