/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sch: poll loop and timer heap (see sch.h). The heap is ordered by (deadline, sequence
 * number), so equal deadlines fire in the order they were added.
 */
#include "sch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gn_assert.h"
#include "os_clock.h"
#include "os_wait.h"

struct sch_fd {
	int fd;
	short events;
	bool dead;
	sch_fd_cb cb;
	void *ctx;
};

struct sch_timer {
	int64_t deadline_ns;
	uint64_t seq;           /* also the id */
	sch_timer_cb cb;
	void *ctx;
};

struct sch {
	struct sch_sys sys;
	struct sch_fd fds[SCH_MAX_FDS];
	size_t n_fds;
	/* poll's array, fds[i] at pfd[i]: rebuilt only when the set changed (a busy server's
	 * loop wakes hundreds of thousands of times a second with the same descriptors) */
	struct pollfd pfd[SCH_MAX_FDS];
	size_t n_pfd;
	bool fds_changed;
	struct sch_timer *heap;
	size_t n_timers, cap_timers;
	uint64_t next_seq;
	int64_t now_ns;
};

static int sys_poll(void *ctx, struct pollfd *fds, size_t n, int timeout_ms)
{
	(void)ctx;
	return os_poll(fds, n, timeout_ms);
}

static int64_t sys_mono(void *ctx)
{
	(void)ctx;
	return os_mono_ns();
}

struct sch *sch_new(const struct sch_sys *sys)
{
	struct sch *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->sys.poll = sys && sys->poll ? sys->poll : sys_poll;
	s->sys.mono_ns = sys && sys->mono_ns ? sys->mono_ns : sys_mono;
	s->sys.ctx = sys ? sys->ctx : NULL;
	s->next_seq = 1;
	s->now_ns = s->sys.mono_ns(s->sys.ctx);
	return s;
}

void sch_free(struct sch *s)
{
	if (!s)
		return;
	free(s->heap);
	free(s);
}

int64_t sch_now(const struct sch *s) { return s->now_ns; }

/* ---- descriptors ---- */

static struct sch_fd *find_fd(struct sch *s, int fd)
{
	for (size_t i = 0; i < s->n_fds; i++)
		if (s->fds[i].fd == fd && !s->fds[i].dead)
			return &s->fds[i];
	return NULL;
}

int sch_fd_add(struct sch *s, int fd, short events, sch_fd_cb cb, void *ctx)
{
	REQUIRE(fd >= 0 && cb != NULL);
	struct sch_fd *f = find_fd(s, fd);
	if (!f) {
		if (s->n_fds >= SCH_MAX_FDS)
			return -1;
		f = &s->fds[s->n_fds++];
	}
	f->fd = fd;
	f->events = events;
	f->dead = false;
	f->cb = cb;
	f->ctx = ctx;
	s->fds_changed = true;
	return 0;
}

void sch_fd_events(struct sch *s, int fd, short events)
{
	struct sch_fd *f = find_fd(s, fd);
	if (f) {
		f->events = events;
		s->fds_changed = true;
	}
}

void sch_fd_del(struct sch *s, int fd)
{
	struct sch_fd *f = find_fd(s, fd);
	if (f) {
		f->dead = true; /* compacted after dispatch; the descriptor may be reused at once */
		s->fds_changed = true;
	}
}

static void compact_fds(struct sch *s)
{
	size_t o = 0;
	for (size_t i = 0; i < s->n_fds; i++)
		if (!s->fds[i].dead)
			s->fds[o++] = s->fds[i];
	s->n_fds = o;
}

size_t sch_fd_count(const struct sch *s)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n_fds; i++)
		n += !s->fds[i].dead;
	return n;
}

/* ---- timers ---- */

static bool t_less(const struct sch_timer *a, const struct sch_timer *b)
{
	return a->deadline_ns < b->deadline_ns ||
	       (a->deadline_ns == b->deadline_ns && a->seq < b->seq);
}

static void t_swap(struct sch_timer *a, struct sch_timer *b)
{
	struct sch_timer t = *a;
	*a = *b;
	*b = t;
}

static void sift_up(struct sch *s, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!t_less(&s->heap[i], &s->heap[p]))
			break;
		t_swap(&s->heap[i], &s->heap[p]);
		i = p;
	}
}

static void sift_down(struct sch *s, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < s->n_timers && t_less(&s->heap[l], &s->heap[m]))
			m = l;
		if (r < s->n_timers && t_less(&s->heap[r], &s->heap[m]))
			m = r;
		if (m == i)
			return;
		t_swap(&s->heap[i], &s->heap[m]);
		i = m;
	}
}

static void heap_remove(struct sch *s, size_t i)
{
	s->n_timers--;
	if (i == s->n_timers)
		return;
	s->heap[i] = s->heap[s->n_timers];
	sift_down(s, i);
	sift_up(s, i);
}

uint64_t sch_timer_add(struct sch *s, int64_t deadline_mono_ns, sch_timer_cb cb, void *ctx)
{
	REQUIRE(cb != NULL);
	if (s->n_timers == s->cap_timers) {
		size_t nc = s->cap_timers ? s->cap_timers * 2 : 16;
		struct sch_timer *h = realloc(s->heap, nc * sizeof *h);
		if (!h)
			return 0;
		s->heap = h;
		s->cap_timers = nc;
	}
	struct sch_timer *t = &s->heap[s->n_timers++];
	t->deadline_ns = deadline_mono_ns;
	t->seq = s->next_seq++;
	t->cb = cb;
	t->ctx = ctx;
	sift_up(s, s->n_timers - 1);
	return s->next_seq - 1;
}

bool sch_timer_cancel(struct sch *s, uint64_t id)
{
	for (size_t i = 0; i < s->n_timers; i++) {
		if (s->heap[i].seq == id) {
			heap_remove(s, i);
			return true;
		}
	}
	return false;
}

int64_t sch_next_deadline(const struct sch *s)
{
	return s->n_timers ? s->heap[0].deadline_ns : INT64_MAX;
}

size_t sch_timer_count(const struct sch *s) { return s->n_timers; }

/* ---- the loop ---- */

int sch_run_once(struct sch *s, int max_wait_ms)
{
	int calls = 0;

	if (s->fds_changed) {
		compact_fds(s);
		for (size_t i = 0; i < s->n_fds; i++) {
			s->pfd[i].fd = s->fds[i].fd;
			s->pfd[i].events = s->fds[i].events;
			s->pfd[i].revents = 0;
		}
		s->n_pfd = s->n_fds;
		s->fds_changed = false;
	}
	size_t n = s->n_pfd;
	struct pollfd *pfd = s->pfd;

	int64_t now = s->sys.mono_ns(s->sys.ctx);
	int64_t wait_ms = SCH_MAX_WAIT_MS;
	if (max_wait_ms >= 0 && max_wait_ms < wait_ms)
		wait_ms = max_wait_ms;
	if (s->n_timers) {
		int64_t until = s->heap[0].deadline_ns - now;
		if (until <= 0)
			wait_ms = 0;
		else if ((until + 999999) / 1000000 < wait_ms)
			wait_ms = (until + 999999) / 1000000; /* round up: never wake early */
	}

	int r = s->sys.poll(s->sys.ctx, pfd, n, (int)wait_ms);
	if (r < 0 && r != -EINTR)
		return r;
	s->now_ns = s->sys.mono_ns(s->sys.ctx);

	if (r > 0) {
		/* Descriptors added by callbacks land beyond n: not dispatched this time. */
		for (size_t k = 0; k < n; k++) {
			if (pfd[k].revents == 0)
				continue;
			struct sch_fd *f = &s->fds[k]; /* not moved until the next compaction */
			if (f->dead || f->fd != pfd[k].fd)
				continue; /* removed by an earlier callback in this iteration */
			f->cb(f->ctx, f->fd, pfd[k].revents);
			calls++;
		}
	}

	/* Fire due timers that existed before this point, earliest first. */
	uint64_t seq_limit = s->next_seq;
	while (s->n_timers && s->heap[0].deadline_ns <= s->now_ns && s->heap[0].seq < seq_limit) {
		struct sch_timer t = s->heap[0];
		heap_remove(s, 0);
		t.cb(t.ctx, t.seq, s->now_ns);
		calls++;
	}
	return calls;
}
