/*
 * timer — a binary min-heap of deadlines (contract in timer.h).
 */
#include "timer.h"

#include <errno.h>
#include <stdlib.h>

#include "rlassert.h"
#include "rlerr.h"

void timer_heap_init(struct timer_heap *h, uint32_t max_timers)
{
	*h = (struct timer_heap){.th_max = max_timers};
}

void timer_heap_deinit(struct timer_heap *h)
{
	for (uint32_t i = 0; i < h->th_count; i++)
		h->th_heap[i]->tm_idx = TIMER_IDLE;
	free(h->th_heap);
	*h = (struct timer_heap){0};
}

void timer_init(struct timer *t, timer_fn fn, void *ctx)
{
	*t = (struct timer){.tm_fn = fn, .tm_ctx = ctx, .tm_idx = TIMER_IDLE};
}

static void timer_place(struct timer_heap *h, uint32_t i, struct timer *t)
{
	h->th_heap[i] = t;
	t->tm_idx = i;
}

static void timer_sift_up(struct timer_heap *h, uint32_t i)
{
	struct timer *t = h->th_heap[i];
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		if (h->th_heap[parent]->tm_deadline_ms <= t->tm_deadline_ms)
			break;
		timer_place(h, i, h->th_heap[parent]);
		i = parent;
	}
	timer_place(h, i, t);
}

static void timer_sift_down(struct timer_heap *h, uint32_t i)
{
	struct timer *t = h->th_heap[i];
	for (;;) {
		uint32_t l = 2 * i + 1, m = i;
		int64_t best = t->tm_deadline_ms;
		if (l < h->th_count && h->th_heap[l]->tm_deadline_ms < best)
			m = l, best = h->th_heap[l]->tm_deadline_ms;
		if (l + 1 < h->th_count && h->th_heap[l + 1]->tm_deadline_ms < best)
			m = l + 1;
		if (m == i)
			break;
		timer_place(h, i, h->th_heap[m]);
		i = m;
	}
	timer_place(h, i, t);
}

void timer_cancel(struct timer_heap *h, struct timer *t)
{
	if (t->tm_idx == TIMER_IDLE)
		return;
	uint32_t i = t->tm_idx;
	RL_ASSERT(i < h->th_count && h->th_heap[i] == t);
	t->tm_idx = TIMER_IDLE;
	struct timer *last = h->th_heap[--h->th_count];
	if (i == h->th_count)
		return;
	timer_place(h, i, last);
	timer_sift_up(h, i);
	timer_sift_down(h, last->tm_idx);
}

int timer_arm(struct timer_heap *h, struct timer *t, int64_t deadline_ms)
{
	timer_cancel(h, t);
	if (h->th_count == h->th_cap) {
		if (h->th_cap >= h->th_max)
			return RL_EFULL;
		uint32_t ncap = h->th_cap ? h->th_cap * 2 : 64;
		if (ncap > h->th_max)
			ncap = h->th_max;
		struct timer **n = realloc(h->th_heap, ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		h->th_heap = n;
		h->th_cap = ncap;
	}
	t->tm_deadline_ms = deadline_ms;
	timer_place(h, h->th_count++, t);
	timer_sift_up(h, t->tm_idx);
	return 0;
}

int64_t timer_next(const struct timer_heap *h)
{
	return h->th_count ? h->th_heap[0]->tm_deadline_ms : -1;
}

int timer_run(struct timer_heap *h, int64_t now_ms)
{
	int fired = 0;
	while (h->th_count && h->th_heap[0]->tm_deadline_ms <= now_ms) {
		struct timer *t = h->th_heap[0];
		timer_cancel(h, t);
		fired++;
		t->tm_fn(t);
	}
	return fired;
}
