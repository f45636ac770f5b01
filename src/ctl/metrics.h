/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * metrics: `gnomonctl metrics`, the daemon's status, sources and server counters in the
 * Prometheus text exposition format (version 0.0.4: `# HELP` and `# TYPE` before each
 * family, one sample per line, label values escaped), for node_exporter's textfile
 * collector or any scraper that runs a command, and from there Grafana.
 *
 * Owns: the metric names, their types and help texts, and the mapping from the control
 * protocol's JSON replies (docs/control-protocol.md) to them. Does not talk to the
 * daemon: gnomonctl fetches the three replies and hands them in.
 */
#ifndef GNOMONCTL_METRICS_H
#define GNOMONCTL_METRICS_H

#include <stdio.h>

#include "json.h"

/* The replies to "status", "sources" and "serverstats" (each a parsed document whose root
 * is node 0). Writes every metric to out; returns 0, or 1 with a sentence on stderr when a
 * reply lacks its object. A field missing from a reply (an older daemon) leaves its
 * metric out. */
int metrics_render(FILE *out, const struct json_doc *status, const struct json_doc *sources,
		   const struct json_doc *serverstats);

#endif
