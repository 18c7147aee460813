/* Description: the reactor's timer heap fires every timer once, in deadline order, and survives
 * re-arming and cancelling from callbacks. */
#include "testutil.h"

#include "rlerr.h"
#include "timer.h"

struct fired {
	int64_t order[4096];
	int n;
	struct timer_heap *heap;
	struct timer *cancel_me; /* a callback cancels this one */
	struct timer *rearm_me;	 /* ...and re-arms this one 1000 later */
};

static struct fired *g_fired;

static void on_fire(struct timer *t)
{
	struct fired *f = g_fired;
	f->order[f->n++] = t->tm_deadline_ms;
	if (f->cancel_me && f->cancel_me != t) {
		timer_cancel(f->heap, f->cancel_me);
		f->cancel_me = NULL;
	}
	if (f->rearm_me == t) {
		f->rearm_me = NULL;
		assert_int_equal(timer_arm(f->heap, t, t->tm_deadline_ms + 1000), 0);
	}
}

static void test_fires_in_order_randomized(void **state)
{
	(void)state;
	uint64_t seed = tu_seed(0x7133);
	for (int round = 0; round < 50; round++) {
		struct timer_heap h;
		timer_heap_init(&h, 4096);
		static struct timer ts[1000];
		static struct fired f;
		memset(&f, 0, sizeof(f));
		g_fired = &f;
		f.heap = &h;
		int n = 1 + (int)(tu_rand(&seed) % 1000);
		bool cancelled[1000] = {0};
		for (int i = 0; i < n; i++) {
			timer_init(&ts[i], on_fire, NULL);
			assert_int_equal(timer_arm(&h, &ts[i], (int64_t)(tu_rand(&seed) % 500)), 0);
		}
		/* Move some, cancel some. */
		for (int i = 0; i < n / 4; i++) {
			int k = (int)(tu_rand(&seed) % (uint64_t)n);
			if (tu_rand(&seed) & 1) {
				timer_cancel(&h, &ts[k]);
				cancelled[k] = true;
			} else {
				assert_int_equal(
					timer_arm(&h, &ts[k], (int64_t)(tu_rand(&seed) % 500)), 0);
				cancelled[k] = false;
			}
		}
		int live = 0;
		for (int i = 0; i < n; i++)
			live += !cancelled[i];
		int64_t next = timer_next(&h);
		for (int i = 0; i < n; i++)
			if (!cancelled[i])
				assert_true(ts[i].tm_deadline_ms >= next);
		/* Firing in two steps: nothing after `now` fires early. */
		int first = timer_run(&h, 249);
		for (int i = 0; i < f.n; i++)
			assert_true(f.order[i] <= 249);
		int second = timer_run(&h, 1000);
		assert_int_equal(first + second, live);
		assert_int_equal(f.n, live);
		for (int i = 1; i < f.n; i++)
			assert_true(f.order[i - 1] <= f.order[i]);
		assert_int_equal(timer_next(&h), -1);
		for (int i = 0; i < n; i++)
			assert_false(timer_armed(&ts[i]));
		timer_heap_deinit(&h);
	}
}

static void test_callbacks_cancel_and_rearm(void **state)
{
	(void)state;
	struct timer_heap h;
	timer_heap_init(&h, 16);
	struct timer a, b, c;
	static struct fired f;
	memset(&f, 0, sizeof(f));
	g_fired = &f;
	f.heap = &h;
	timer_init(&a, on_fire, NULL);
	timer_init(&b, on_fire, NULL);
	timer_init(&c, on_fire, NULL);
	timer_arm(&h, &a, 10);
	timer_arm(&h, &b, 20);
	timer_arm(&h, &c, 30);
	f.cancel_me = &b; /* a's callback cancels b */
	f.rearm_me = &c;  /* c re-arms itself at 1030 */
	assert_int_equal(timer_run(&h, 100), 2);
	assert_int_equal(f.n, 2);
	assert_int_equal(f.order[0], 10);
	assert_int_equal(f.order[1], 30);
	assert_false(timer_armed(&b));
	assert_true(timer_armed(&c));
	assert_int_equal(timer_next(&h), 1030);
	assert_int_equal(timer_run(&h, 1029), 0);
	assert_int_equal(timer_run(&h, 1030), 1);
	timer_heap_deinit(&h);
}

static void test_bounded(void **state)
{
	(void)state;
	struct timer_heap h;
	timer_heap_init(&h, 3);
	struct timer t[4];
	for (int i = 0; i < 4; i++)
		timer_init(&t[i], on_fire, NULL);
	for (int i = 0; i < 3; i++)
		assert_int_equal(timer_arm(&h, &t[i], i), 0);
	assert_int_equal(timer_arm(&h, &t[3], 9), RL_EFULL);
	assert_false(timer_armed(&t[3]));
	/* Re-arming an armed timer does not need a new slot. */
	assert_int_equal(timer_arm(&h, &t[0], 50), 0);
	assert_int_equal(timer_next(&h), 1);
	timer_heap_deinit(&h);
	for (int i = 0; i < 3; i++)
		assert_false(timer_armed(&t[i]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fires_in_order_randomized),
		cmocka_unit_test(test_callbacks_cancel_and_rearm),
		cmocka_unit_test(test_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
