/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * metrics: the control protocol's replies as Prometheus text (see metrics.h). Names follow
 * Prometheus' conventions: a gnomon_ prefix, base units in the name (_seconds), _total on
 * counters; a source is labelled by its association ID, address and configured name.
 */
#include "metrics.h"

#include <stdbool.h>
#include <string.h>

/* One metric taken from a JSON field of an object. */
struct field {
	const char *key;        /* in the reply */
	const char *name;       /* after gnomon_ (and source_ / server_ by table) */
	const char *type;       /* "gauge" or "counter" */
	const char *help;
};

static const struct field status_fields[] = {
	{ "stratum", "stratum", "gauge", "Stratum served (16: not synchronised)." },
	{ "offset_s", "offset_seconds", "gauge", "Combined offset of the sources from this clock, seconds." },
	{ "jitter_s", "jitter_seconds", "gauge", "System jitter, seconds (RFC 5905 11.2.3)." },
	{ "frequency_ppm", "frequency_ppm", "gauge", "Frequency correction of the clock, ppm." },
	{ "wander_ppm", "wander_ppm", "gauge", "Estimated frequency wander, ppm." },
	{ "rootdelay_s", "root_delay_seconds", "gauge", "Root delay served, seconds." },
	{ "rootdisp_s", "root_dispersion_seconds", "gauge", "Root dispersion at the last update, seconds." },
	{ "poll_log2", "poll_log2", "gauge", "System poll interval, log2 seconds." },
	{ "precision_log2", "precision_log2", "gauge", "Clock precision, log2 seconds." },
	{ "uptime_s", "uptime_seconds", "gauge", "Seconds since gnomond started." },
};

static const struct field disturbance_fields[] = {
	{ "external_steps", "external_steps_total", "counter", "Steps of the clock made outside gnomond." },
	{ "jumps", "jumps_total", "counter", "Times every source jumped at once (paused or migrated machine)." },
	{ "jump_alarms", "jump_alarms_total", "counter", "Jumps of one source that a burst did not confirm." },
	{ "kernel_leaps", "kernel_leaps_total", "counter", "Leap seconds inserted or deleted by the kernel." },
};

static const struct field source_fields[] = {
	{ "stratum", "stratum", "gauge", "The source's stratum." },
	{ "poll_log2", "poll_log2", "gauge", "Poll interval, log2 seconds." },
	{ "reach", "reach", "gauge", "Reach register (8 bits, the last 8 polls)." },
	{ "last_rx_ago_s", "last_rx_age_seconds", "gauge", "Seconds since the last answer." },
	{ "delay_s", "delay_seconds", "gauge", "Round-trip delay of the selected sample, seconds." },
	{ "offset_s", "offset_seconds", "gauge", "Offset of the source from this clock, seconds." },
	{ "jitter_s", "jitter_seconds", "gauge", "Jitter of the clock filter, seconds." },
	{ "disp_s", "dispersion_seconds", "gauge", "Dispersion, seconds." },
	{ "sent", "requests_sent_total", "counter", "Requests sent to the source." },
	{ "received", "answers_received_total", "counter", "Packets received from the source." },
	{ "dropped", "answers_dropped_total", "counter", "Packets from the source that failed a test of RFC 5905 section 8." },
};

static const struct field server_fields[] = {
	{ "received", "requests_total", "counter", "Datagrams that came to the server sockets." },
	{ "answered", "answers_total", "counter", "Normal answers sent." },
	{ "kod_sent", "kod_sent_total", "counter", "RATE kisses sent." },
	{ "mru_entries", "mru_entries", "gauge", "Clients in the rate limiter's table." },
	{ "mru_capacity", "mru_capacity", "gauge", "Clients the table can hold." },
	{ "mru_evictions", "mru_evictions_total", "counter", "Clients evicted from the table." },
	{ "mru_untracked", "mru_untracked_total", "counter", "Requests from clients the table had no room for." },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void family(FILE *out, const char *prefix, const struct field *f)
{
	fprintf(out, "# HELP gnomon_%s%s %s\n# TYPE gnomon_%s%s %s\n", prefix, f->name, f->help,
		prefix, f->name, f->type);
}

/* A label value as the exposition format wants it: \ " and newline escaped. */
static void put_label_value(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', out);
		if (*s == '\n') {
			fputs("\\n", out);
			continue;
		}
		fputc(*s, out);
	}
}

static bool num_of(const struct json_doc *d, int obj, const char *key, double *v)
{
	return json_num(d, json_obj_get(d, obj, key), v);
}

/* The fields of one object, each a family of its own with one unlabelled sample. */
static void simple(FILE *out, const struct json_doc *d, int obj, const char *prefix,
		   const struct field *fs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		double v;
		if (!num_of(d, obj, fs[i].key, &v))
			continue;
		family(out, prefix, &fs[i]);
		fprintf(out, "gnomon_%s%s %.17g\n", prefix, fs[i].name, v);
	}
}

static int need_object(const struct json_doc *d, const char *key, int *obj)
{
	*obj = json_obj_get(d, 0, key);
	if (json_type_of(d, *obj) == (strcmp(key, "sources") == 0 ? JSON_ARRAY : JSON_OBJECT))
		return 0;
	fprintf(stderr, "gnomonctl: the answer has no %s.\n", key);
	return 1;
}

static void render_status(FILE *out, const struct json_doc *d, int st)
{
	char state[32] = "", clock[64] = "", ver[32] = "";
	json_str(d, json_obj_get(d, st, "state"), state, sizeof state);
	json_str(d, json_obj_get(d, st, "clock"), clock, sizeof clock);
	json_str(d, json_obj_get(d, st, "daemon_version"), ver, sizeof ver);
	fputs("# HELP gnomon_info The daemon's version and clock.\n# TYPE gnomon_info gauge\n", out);
	fputs("gnomon_info{version=\"", out);
	put_label_value(out, ver);
	fputs("\",clock=\"", out);
	put_label_value(out, clock);
	fputs("\"} 1\n", out);
	fputs("# HELP gnomon_synchronised 1 while the clock is synchronised to a source "
	      "(holdover included), else 0.\n# TYPE gnomon_synchronised gauge\n", out);
	fprintf(out, "gnomon_synchronised %d\n",
		strcmp(state, "synchronised") == 0 || strcmp(state, "holdover") == 0);
	fputs("# HELP gnomon_state The synchronisation state (the one with value 1).\n"
	      "# TYPE gnomon_state gauge\n", out);
	static const char *const states[] = { "unsynchronised", "synchronised", "holdover", "panic" };
	for (size_t i = 0; i < N(states); i++)
		fprintf(out, "gnomon_state{state=\"%s\"} %d\n", states[i], strcmp(state, states[i]) == 0);
	double sys_peer;
	if (num_of(d, st, "sys_peer", &sys_peer)) {
		fputs("# HELP gnomon_system_peer_assoc Association ID of the system peer (0: none)."
		      "\n# TYPE gnomon_system_peer_assoc gauge\n", out);
		fprintf(out, "gnomon_system_peer_assoc %.0f\n", sys_peer);
	}
	simple(out, d, st, "", status_fields, N(status_fields));
	int dist = json_obj_get(d, st, "disturbances");
	if (json_type_of(d, dist) == JSON_OBJECT)
		simple(out, d, dist, "", disturbance_fields, N(disturbance_fields));
}

static void source_labels(FILE *out, const struct json_doc *d, int src)
{
	char addr[64] = "", name[300] = "";
	double id = 0, port = 0;
	num_of(d, src, "assoc_id", &id);
	num_of(d, src, "port", &port);
	json_str(d, json_obj_get(d, src, "address"), addr, sizeof addr);
	json_str(d, json_obj_get(d, src, "name"), name, sizeof name);
	fprintf(out, "{assoc=\"%.0f\",address=\"", id);
	put_label_value(out, addr);
	fprintf(out, "\",port=\"%.0f\",name=\"", port);
	put_label_value(out, name);
	fputs("\"}", out);
}

static void render_sources(FILE *out, const struct json_doc *d, int arr)
{
	/* one family at a time, every source's sample in it (the format wants a family's
	 * samples together) */
	for (size_t i = 0; i < N(source_fields); i++) {
		bool head = false;
		for (int s = d->nodes[arr].first_child; s >= 0; s = d->nodes[s].next) {
			double v;
			if (!num_of(d, s, source_fields[i].key, &v))
				continue; /* e.g. last_rx_ago_s before the first answer (null) */
			if (!head) {
				family(out, "source_", &source_fields[i]);
				head = true;
			}
			fprintf(out, "gnomon_source_%s", source_fields[i].name);
			source_labels(out, d, s);
			fprintf(out, " %.17g\n", v);
		}
	}
	bool head = false;
	for (int s = d->nodes[arr].first_child; s >= 0; s = d->nodes[s].next) {
		char tally[8] = "";
		if (!json_str(d, json_obj_get(d, s, "tally"), tally, sizeof tally))
			continue;
		if (!head) {
			fputs("# HELP gnomon_source_selected 1 for the system peer ('*'), else 0.\n"
			      "# TYPE gnomon_source_selected gauge\n", out);
			head = true;
		}
		fputs("gnomon_source_selected", out);
		source_labels(out, d, s);
		fprintf(out, " %d\n", tally[0] == '*');
	}
}

static void render_server(FILE *out, const struct json_doc *d, int ss)
{
	simple(out, d, ss, "server_", server_fields, N(server_fields));
	int v = json_obj_get(d, ss, "verdicts");
	if (json_type_of(d, v) != JSON_OBJECT)
		return;
	fputs("# HELP gnomon_server_verdicts_total Requests by outcome: answered, kissed, or "
	      "dropped and why.\n# TYPE gnomon_server_verdicts_total counter\n", out);
	for (int k = d->nodes[v].first_child; k >= 0; k = d->nodes[k].next) {
		char key[64];
		double n;
		if (!json_str(d, k, key, sizeof key) || !json_num(d, d->nodes[k].first_child, &n))
			continue;
		fputs("gnomon_server_verdicts_total{verdict=\"", out);
		put_label_value(out, key);
		fprintf(out, "\"} %.0f\n", n);
	}
}

int metrics_render(FILE *out, const struct json_doc *status, const struct json_doc *sources,
		   const struct json_doc *serverstats)
{
	int st, src, ss;
	if (need_object(status, "status", &st) || need_object(sources, "sources", &src) ||
	    need_object(serverstats, "serverstats", &ss))
		return 1;
	render_status(out, status, st);
	render_sources(out, sources, src);
	render_server(out, serverstats, ss);
	return 0;
}
