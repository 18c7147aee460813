/*
 * timer — deadlines for the reactor: a binary min-heap of caller-owned
 * struct timer entries (no allocation per timer; the heap array grows by
 * doubling up to a bound set at init). The reactor sleeps in io_uring until
 * the earliest deadline and then runs every expired timer.
 *
 * A timer is either armed (th_idx < heap count) or not (th_idx ==
 * TIMER_IDLE). Arming an armed timer moves it. Callbacks may arm or cancel
 * any timer, including their own.
 */
#ifndef REPLOG_TIMER_H
#define REPLOG_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#define TIMER_IDLE UINT32_MAX

struct timer;
typedef void (*timer_fn)(struct timer *t);

struct timer {
	int64_t tm_deadline_ms;
	timer_fn tm_fn;
	void *tm_ctx;	 /* borrowed: the owner's context */
	uint32_t tm_idx; /* heap slot, TIMER_IDLE when not armed */
};

struct timer_heap {
	struct timer **th_heap; /* owned array of borrowed timers */
	uint32_t th_count;
	uint32_t th_cap;
	uint32_t th_max;
};

void timer_heap_init(struct timer_heap *h, uint32_t max_timers);
void timer_heap_deinit(struct timer_heap *h);

void timer_init(struct timer *t, timer_fn fn, void *ctx);
/* Arm (or move) t to fire at deadline_ms. Returns 0 or -ENOMEM / RL_EFULL. */
int timer_arm(struct timer_heap *h, struct timer *t, int64_t deadline_ms);
void timer_cancel(struct timer_heap *h, struct timer *t);
static inline bool timer_armed(const struct timer *t)
{
	return t->tm_idx != TIMER_IDLE;
}
/* Earliest deadline, or -1 when nothing is armed. */
int64_t timer_next(const struct timer_heap *h);
/* Fire every timer whose deadline <= now_ms (each unarmed before its
 * callback). Returns how many fired. */
int timer_run(struct timer_heap *h, int64_t now_ms);

#endif
