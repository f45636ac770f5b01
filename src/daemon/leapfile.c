/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * leapfile: reading, verifying and re-reading the leap second file (see leapfile.h).
 */
#include "leapfile.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "gn_assert.h"
#include "os_file.h"
#include "os_log.h"

#define NS_PER_S 1000000000LL

struct leapfile {
	char path[PATH_MAX];
	const struct auth_crypto *crypto;
	bool have;
	struct leap_table table;
	struct leap_table scratch;
	int64_t next_check_mono_ns;
	/* the last refusal logged, so a broken file is not reported every hour */
	enum leap_err last_err;
	int last_errno;
	unsigned last_line;
};

struct leapfile *leapfile_new(const char *path, const struct auth_crypto *crypto)
{
	REQUIRE(path != NULL && path[0] != '\0' && crypto != NULL);
	if (strlen(path) >= PATH_MAX)
		return NULL;
	struct leapfile *lf = calloc(1, sizeof *lf);
	if (!lf)
		return NULL;
	memcpy(lf->path, path, strlen(path) + 1);
	lf->crypto = crypto;
	lf->last_err = LEAP_OK;
	return lf;
}

void leapfile_free(struct leapfile *lf)
{
	free(lf);
}

const struct leap_table *leapfile_table(const struct leapfile *lf)
{
	return lf->have ? &lf->table : NULL;
}

int64_t leapfile_next_check(const struct leapfile *lf)
{
	return lf->next_check_mono_ns;
}

/* Log a refusal unless it is the same as the last one. */
static void refused(struct leapfile *lf, enum leap_err e, int err_no, unsigned line,
		    const char *why)
{
	if (e == lf->last_err && err_no == lf->last_errno && line == lf->last_line)
		return;
	lf->last_err = e;
	lf->last_errno = err_no;
	lf->last_line = line;
	const char *keep = lf->have ? "; keeping the table read before" :
				      "; following the sources' leap bits";
	if (err_no == ENOENT) {
		log_info("no leap second file %s%s", lf->path, keep);
		return;
	}
	if (line)
		log_warnx("leap second file %s refused (%s): line %u: %s%s", lf->path,
			  leap_err_name(e), line, why, keep);
	else
		log_warnx("leap second file %s refused (%s): %s%s", lf->path, leap_err_name(e),
			  why, keep);
}

enum leap_err leapfile_load(struct leapfile *lf, gn_time_ns now_real_ns, int64_t now_mono_ns,
			    bool *changed)
{
	REQUIRE(lf != NULL && changed != NULL);
	*changed = false;
	lf->next_check_mono_ns = now_mono_ns + LEAPFILE_RECHECK_S * NS_PER_S;
	char err[128];
	size_t len = 0;
	errno = 0;
	char *text = os_file_read(lf->path, LEAP_MAX_FILE_LEN, &len, err, sizeof err);
	if (!text) {
		int e = errno ? errno : EIO;
		refused(lf, LEAP_ERR_CORRUPT, e, 0, err);
		return LEAP_ERR_CORRUPT;
	}
	struct leap_error le;
	enum leap_err r = leap_parse(text, len, lf->crypto, &lf->scratch, &le);
	free(text);
	if (r != LEAP_OK) {
		refused(lf, r, 0, le.line, le.msg);
		return r;
	}
	bool same = lf->have && memcmp(&lf->scratch, &lf->table, sizeof lf->table) == 0;
	lf->last_err = LEAP_OK;
	lf->last_errno = 0;
	lf->last_line = 0;
	if (!same) {
		lf->table = lf->scratch;
		lf->have = true;
		*changed = true;
		const struct leap_table *t = &lf->table;
		char upd[40], exp[40];
		leap_fmt_utc(leap_ntp_s_to_ns(t->updated_ntp_s), upd, sizeof upd);
		leap_fmt_utc(leap_ntp_s_to_ns(t->expires_ntp_s), exp, sizeof exp);
		int32_t tai = 0;
		(void)leap_tai_utc(t, now_real_ns, &tai);
		log_info("leap second file %s: %u entries, TAI-UTC now %d s, updated %.10s, "
			 "expire%s %.10s", lf->path, t->n, (int)tai, upd,
			 leap_expired(t, now_real_ns) ? "d" : "s", exp);
	}
	return leap_check(&lf->table, now_real_ns);
}

bool leapfile_refresh(struct leapfile *lf, gn_time_ns now_real_ns, int64_t now_mono_ns)
{
	REQUIRE(lf != NULL);
	if (now_mono_ns < lf->next_check_mono_ns)
		return false;
	bool changed = false;
	(void)leapfile_load(lf, now_real_ns, now_mono_ns, &changed);
	return changed;
}
