/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gnomond: the command line. Options keep the meanings sysadmins know from ntpd (-c, -n, -d,
 * -g, -q, -x, -u, -p) plus gnomon's own (-t, -X, --no-sandbox). Parses, loads the
 * configuration (cfgload), starts logging, detaches unless -n, and hands over to daemon_run.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgload.h"
#include "daemon.h"
#include "os_log.h"
#include "os_proc.h"
#include "srcmgr.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: gnomond [-c FILE] [-n] [-d] [-t] [-g] [-q] [-x] [-X] [-u USER] [-p PIDFILE]\n"
		"               [--no-sandbox] [--version] [--help]\n"
		"  -c, --config FILE    configuration file (default " CFG_DEFAULT_FILE ")\n"
		"  -n, --foreground     do not detach\n"
		"  -d, --debug          debug log to stderr (implies -n)\n"
		"  -t, --check          check the configuration, print it normalised, and exit\n"
		"  -g, --panic-gate     allow the first correction to exceed the panic threshold\n"
		"  -q, --once           set the clock once and exit\n"
		"  -x, --slew           slew only: step threshold 600 s\n"
		"  -X, --no-clock       never change the system clock: discipline a software clock\n"
		"  -u, --user USER      user to run as (privilege drop comes in a later version)\n"
		"  -p, --pidfile FILE   pid file (default from the configuration)\n"
		"      --no-sandbox     skip privilege drop and seccomp (for simulators)\n"
		"      --version        print the version and exit\n"
		"      --help           print this help and exit\n");
}

int main(int argc, char **argv)
{
	enum { OPT_NO_SANDBOX = 256, OPT_VERSION, OPT_HELP };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'n' },
		{ "debug", no_argument, NULL, 'd' },
		{ "check", no_argument, NULL, 't' },
		{ "panic-gate", no_argument, NULL, 'g' },
		{ "once", no_argument, NULL, 'q' },
		{ "slew", no_argument, NULL, 'x' },
		{ "no-clock", no_argument, NULL, 'X' },
		{ "user", required_argument, NULL, 'u' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "no-sandbox", no_argument, NULL, OPT_NO_SANDBOX },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon_opts o;
	const char *config = CFG_DEFAULT_FILE;
	bool check = false;
	int c;

	memset(&o, 0, sizeof o);
	while ((c = getopt_long(argc, argv, "c:ndtgqxXu:p:", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'n': o.foreground = true; break;
		case 'd': o.debug = true; o.foreground = true; break;
		case 't': check = true; break;
		case 'g': o.panic_ok = true; break;
		case 'q': o.once = true; break;
		case 'x': o.slew_only = true; break;
		case 'X': o.no_clock = true; break;
		case 'u': o.user = optarg; break;
		case 'p': o.pidfile = optarg; break;
		case OPT_NO_SANDBOX: o.no_sandbox = true; break;
		case OPT_VERSION: printf("gnomond %s\n", GNOMON_VERSION); return 0;
		case OPT_HELP: usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "gnomond: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (check)
		return cfgload_check(config, stdout, stderr);
	/* Testing aid (docs/leap-dns-drift.md): point c-ares at a test's DNS server. */
	o.dns_servers = getenv(SRCMGR_ENV_DNS_SERVERS);

	struct cfg *cfg = calloc(1, sizeof *cfg);
	if (!cfg) {
		fprintf(stderr, "gnomond: out of memory\n");
		return 1;
	}
	if (!cfgload(config, cfg, stderr)) {
		fprintf(stderr, "gnomond: %s has errors; not starting (gnomond -t -c %s shows them)\n",
			config, config);
		free(cfg);
		return 1;
	}

	if (o.debug)
		log_init("gnomond", OS_LOG_STDERR, NULL, LOG_DEBUG);
	else if (cfg->logfile[0])
		log_init("gnomond", OS_LOG_FILE, cfg->logfile, LOG_INFO);
	else if (o.foreground && !o.once)
		log_init("gnomond", OS_LOG_SYSLOG, NULL, LOG_INFO);
	else if (o.once)
		log_init("gnomond", OS_LOG_STDERR, NULL, LOG_NOTICE);
	else
		log_init("gnomond", OS_LOG_SYSLOG, NULL, LOG_INFO);

	o.log_to_stderr = o.debug || (o.once && !cfg->logfile[0]);
	if (!o.foreground && !o.once) {
		/* Refuse before detaching, while the user still sees stderr: the lock itself is
		 * taken after (fcntl locks do not pass through fork), and checked again then. */
		const char *pidfile = o.pidfile ? o.pidfile : cfg->pidfile;
		long holder = 0;
		if (pidfile && pidfile[0] && os_pidfile_probe(pidfile, &holder) == 1) {
			daemon_refuse_locked(&o, pidfile, holder);
			log_fini();
			free(cfg);
			return 1;
		}
		int r = os_daemonize();
		if (r < 0) {
			log_warnx("cannot detach: %s", strerror(-r));
			free(cfg);
			return 1;
		}
	}
	int status = daemon_run(&o, cfg);
	log_fini();
	free(cfg);
	return status;
}
