/* Description: isr rule by rule: HW = min LEO over the maximal ISR and never lower, strict min ISR
 * on the committed ISR, pending additions and shrinks, rejected proposals, Kafka's caught-up rule
 * (both branches), shrink after lag_max_ms, expansion conditions, one proposal at a time, acks=all
 * waiters (order, NOT_ENOUGH_REPLICAS, NOT_LEADER, cancel), the KIP-101/KIP-279 truncation point in
 * every case including a seeded check against constructed logs, and the follower HW. */
#include "testutil.h"

#include "isr.h"

#define LAG_MS 1000

static const int32_t R3[] = {1, 2, 3};

/* ---- helpers -------------------------------------------------------------- */

struct tw {
	struct isr_waiter w;
	int verdict; /* -1 not called */
	int order;
};

static int g_order;

static void tw_done(struct isr_waiter *w, int verdict)
{
	struct tw *t = w->iw_ctx;
	assert_int_equal(t->verdict, -1); /* called once */
	t->verdict = verdict;
	t->order = ++g_order;
}

static void tw_init(struct tw *t, int64_t target)
{
	memset(t, 0, sizeof(*t));
	t->w.iw_target = target;
	t->w.iw_done = tw_done;
	t->w.iw_ctx = t;
	t->verdict = -1;
}

/* Broker 1 leads epoch 5 (partition epoch 10) of replicas {1,2,3} with
 * this committed ISR, its durable end at `leo`, at time `now`. */
static void lead(struct isr_partition *ip, int32_t min_isr, const int32_t *isr, int32_t n_isr,
		 int64_t hw, int64_t leo, int64_t now)
{
	isr_init(ip, 1, R3, 3, min_isr, LAG_MS, hw);
	isr_become_leader(ip, 5, 10, isr, n_isr, NULL, 0, leo, now);
}

static int32_t ids(const struct isr_partition *ip, bool maximal, int32_t *out)
{
	return maximal ? isr_maximal(ip, out) : isr_committed(ip, out);
}

static void expect_ids(const struct isr_partition *ip, bool maximal, const int32_t *want, int32_t n)
{
	int32_t got[ISR_MAX_REPLICAS];
	assert_int_equal(ids(ip, maximal, got), n);
	for (int32_t i = 0; i < n; i++)
		assert_int_equal(got[i], want[i]);
}

/* ---- set-up, roles ------------------------------------------------------- */

static void test_init_and_become_leader(void **state)
{
	(void)state;
	struct isr_partition ip;
	isr_init(&ip, 2, R3, 3, 2, LAG_MS, 7);
	assert_int_equal(ip.ip_role, ISR_ROLE_NONE);
	assert_int_equal(ip.ip_leader, -1);
	assert_int_equal(ip.ip_hw, 7);
	assert_int_equal(isr_replica(&ip, 3)->ir_leo, -1);
	assert_null(isr_replica(&ip, 9));
	assert_false(isr_accepts_acks_all(&ip));

	isr_become_leader(&ip, 4, 9, R3, 3, NULL, 0, 20, 500);
	assert_int_equal(ip.ip_role, ISR_ROLE_LEADER);
	assert_int_equal(ip.ip_leader, 2);
	assert_int_equal(ip.ip_epoch_start, 20);
	assert_int_equal(ip.ip_leader_leo, 20);
	assert_int_equal(ip.ip_hw, 7); /* kept: followers' LEOs are unknown */
	assert_int_equal(isr_replica(&ip, 2)->ir_leo, 20);
	assert_int_equal(isr_replica(&ip, 1)->ir_leo, -1);
	/* Followers are caught up as of now: a grace period of lag_max_ms. */
	assert_int_equal(isr_replica(&ip, 1)->ir_last_caught_up_ms, 500);
	assert_int_equal(isr_tick(&ip, 500 + LAG_MS), 0);
	assert_true(isr_accepts_acks_all(&ip));
}

static void test_unknown_or_misplaced_fetch_ignored(void **state)
{
	(void)state;
	struct isr_partition ip;
	lead(&ip, 2, R3, 3, 0, 10, 0);
	assert_int_equal(isr_follower_fetch(&ip, 9, 10, 1), 0); /* not a replica */
	assert_int_equal(isr_follower_fetch(&ip, 1, 10, 1), 0); /* the leader itself */
	assert_int_equal(isr_replica(&ip, 1)->ir_leo, 10);
	isr_become_follower(&ip, 2, 6, 11, R3, 3, NULL, 0);
	assert_int_equal(isr_follower_fetch(&ip, 3, 10, 2), 0); /* not leading */
	assert_int_equal(isr_replica(&ip, 3)->ir_leo, -1);
	assert_int_equal(isr_leader_leo(&ip, 12), 0);
	assert_int_equal(isr_tick(&ip, 5000), 0);
}

static void test_set_replicas_keeps_state(void **state)
{
	(void)state;
	struct isr_partition ip;
	lead(&ip, 1, R3, 3, 0, 10, 0);
	isr_follower_fetch(&ip, 2, 8, 5);
	const int32_t next[] = {1, 2, 4};
	isr_set_replicas(&ip, next, 3);
	assert_int_equal(ip.ip_nreplicas, 3);
	assert_int_equal(isr_replica(&ip, 2)->ir_leo, 8);
	assert_true(isr_replica(&ip, 2)->ir_in_isr);
	assert_null(isr_replica(&ip, 3));
	assert_int_equal(isr_replica(&ip, 4)->ir_leo, -1);
	assert_false(isr_replica(&ip, 4)->ir_in_isr);
}

/* ---- the high watermark ------------------------------------------------------ */

static void test_hw_is_min_leo_over_maximal_isr(void **state)
{
	(void)state;
	struct isr_partition ip;
	lead(&ip, 2, R3, 3, 0, 10, 0);
	assert_int_equal(isr_follower_fetch(&ip, 2, 7, 1) & ISR_HW_ADVANCED, 0); /* 3 unknown */
	assert_int_equal(ip.ip_hw, 0);
	assert_true(isr_follower_fetch(&ip, 3, 5, 2) & ISR_HW_ADVANCED);
	assert_int_equal(ip.ip_hw, 5);
	isr_follower_fetch(&ip, 2, 10, 3);
	assert_int_equal(ip.ip_hw, 5); /* 3 holds it back */
	isr_follower_fetch(&ip, 3, 9, 4);
	assert_int_equal(ip.ip_hw, 9);
	assert_int_equal(isr_leader_leo(&ip, 12), 0); /* followers are at 10 and 9 */
	isr_follower_fetch(&ip, 2, 15, 5);
	isr_follower_fetch(&ip, 3, 15, 6);
	assert_int_equal(ip.ip_hw, 12); /* the leader's own durable end bounds it */
	assert_true(isr_leader_leo(&ip, 15) & ISR_HW_ADVANCED);
	assert_int_equal(ip.ip_hw, 15);
}

static void test_hw_never_decreases(void **state)
{
	(void)state;
	struct isr_partition ip;
	lead(&ip, 2, R3, 3, 0, 10, 0);
	isr_follower_fetch(&ip, 2, 10, 1);
	isr_follower_fetch(&ip, 3, 9, 1);
	assert_int_equal(ip.ip_hw, 9);
	/* A follower that reports less (it restarted, or a stale report). */
	assert_int_equal(isr_follower_fetch(&ip, 3, 4, 2) & ISR_HW_ADVANCED, 0);
	assert_int_equal(ip.ip_hw, 9);
	/* A committed shrink removing the slowest member does not lower it... */
	const int32_t isr12[] = {1, 2};
	isr_change_committed(&ip, isr12, 2, NULL, 0, 11);
	assert_int_equal(ip.ip_hw, 10);
	/* ...nor does a commit adding a member whose LEO is below it. */
	isr_change_committed(&ip, R3, 3, NULL, 0, 12);
	assert_int_equal(ip.ip_hw, 10);
	/* Role changes keep it. */
	isr_become_follower(&ip, 2, 6, 13, R3, 3, NULL, 0);
	assert_int_equal(ip.ip_hw, 10);
	isr_follower_hw(&ip, 3, 20); /* a stale fetch response */
	assert_int_equal(ip.ip_hw, 10);
	isr_become_leader(&ip, 7, 14, R3, 3, NULL, 0, 10, 5);
	assert_int_equal(ip.ip_hw, 10);
	isr_follower_fetch(&ip, 2, 0, 6);
	isr_follower_fetch(&ip, 3, 0, 6);
	assert_int_equal(ip.ip_hw, 10);
}

static void test_strict_min_isr(void **state)
{
	(void)state;
	struct isr_partition ip;
	const int32_t isr1[] = {1};
	lead(&ip, 2, isr1, 1, 0, 10, 0);
	assert_int_equal(isr_leader_leo(&ip, 12), 0);
	assert_int_equal(ip.ip_hw, 0); /* ISR {1} < 2: frozen even for the leader's own data */
	assert_false(isr_accepts_acks_all(&ip));
	const int32_t isr12[] = {1, 2};
	isr_change_committed(&ip, isr12, 2, NULL, 0, 11);
	assert_int_equal(ip.ip_hw, 0); /* 2's LEO is unknown */
	assert_true(isr_follower_fetch(&ip, 2, 8, 1) & ISR_HW_ADVANCED);
	assert_int_equal(ip.ip_hw, 8);
	/* A committed shrink below the minimum freezes it again. */
	const int32_t elr2[] = {2};
	isr_change_committed(&ip, isr1, 1, elr2, 1, 12);
	assert_true(isr_replica(&ip, 2)->ir_in_elr);
	isr_leader_leo(&ip, 20);
	isr_follower_fetch(&ip, 2, 20, 2);
	assert_int_equal(ip.ip_hw, 8);
	/* With min ISR 1 a lone leader commits at once. */
	lead(&ip, 1, isr1, 1, 0, 10, 0);
	assert_int_equal(ip.ip_hw, 10);
}

static void test_pending_addition_counts_at_once(void **state)
{
	(void)state;
	struct isr_partition ip;
	const int32_t isr12[] = {1, 2};
	lead(&ip, 2, isr12, 2, 0, 10, 0);
	isr_follower_fetch(&ip, 2, 10, 1);
	assert_int_equal(ip.ip_hw, 10);
	assert_true(isr_follower_fetch(&ip, 3, 10, 2) & ISR_PROPOSE);
	int32_t prop[ISR_MAX_REPLICAS];
	assert_int_equal(isr_proposal(&ip, prop, 2), 3);
	assert_int_equal(prop[2], 3);
	assert_true(ip.ip_change_pending);
	assert_true(isr_replica(&ip, 3)->ir_pending_add);
	expect_ids(&ip, true, R3, 3);
	expect_ids(&ip, false, isr12, 2);
	isr_leader_leo(&ip, 20);
	isr_follower_fetch(&ip, 2, 20, 3);
	assert_int_equal(ip.ip_hw, 10); /* 3, not yet committed, holds it at 10 */
	isr_follower_fetch(&ip, 3, 16, 4);
	assert_int_equal(ip.ip_hw, 16);
	isr_change_committed(&ip, R3, 3, NULL, 0, 11);
	assert_false(ip.ip_change_pending);
	assert_false(isr_replica(&ip, 3)->ir_pending_add);
	expect_ids(&ip, false, R3, 3);
}

/* The committed ISR, not the maximal one, decides whether the HW may move:
 * the controller still has ISR {1} and ELR {3} until it commits the
 * addition, and 3 must keep holding everything below the HW. */
static void test_pending_addition_does_not_unfreeze(void **state)
{
	(void)state;
	struct isr_partition ip;
	const int32_t isr1[] = {1}, elr3[] = {3}, isr12[] = {1, 2};
	isr_init(&ip, 1, R3, 3, 2, LAG_MS, 4);
	isr_become_leader(&ip, 5, 10, isr1, 1, elr3, 1, 10, 0);
	assert_true(isr_follower_fetch(&ip, 2, 10, 1) & ISR_PROPOSE);
	int32_t prop[ISR_MAX_REPLICAS];
	assert_int_equal(isr_proposal(&ip, prop, 1), 2);
	assert_true(isr_accepts_acks_all(&ip)); /* maximal {1,2} */
	struct tw t;
	tw_init(&t, 10);
	isr_waiter_add(&ip, &t.w);
	assert_int_equal(isr_follower_fetch(&ip, 2, 10, 2) & ISR_HW_ADVANCED, 0);
	assert_int_equal(ip.ip_hw, 4);
	isr_waiters_release(&ip);
	assert_int_equal(t.verdict, -1); /* waits for the commit */
	assert_true(isr_change_committed(&ip, isr12, 2, NULL, 0, 11) & ISR_HW_ADVANCED);
	assert_int_equal(ip.ip_hw, 10);
	isr_waiters_release(&ip);
	assert_int_equal(t.verdict, ISR_OK);
}

static void test_pending_shrink_waits_for_commit(void **state)
{
	(void)state;
	struct isr_partition ip;
	lead(&ip, 2, R3, 3, 0, 10, 0);
	isr_follower_fetch(&ip, 2, 10, 0);
	isr_follower_fetch(&ip, 3, 10, 0);
	assert_int_equal(ip.ip_hw, 10);
	isr_leader_leo(&ip, 20);
	isr_follower_fetch(&ip, 2, 20, 500);
	assert_int_equal(isr_tick(&ip, LAG_MS), 0);
	assert_true(isr_tick(&ip, LAG_MS + 1) & ISR_PROPOSE); /* 3: caught up at 0 */
	int32_t prop[ISR_MAX_REPLICAS];
	const int32_t isr12[] = {1, 2};
	assert_int_equal(isr_proposal(&ip, prop, LAG_MS + 1), 2);
	assert_memory_equal(prop, isr12, sizeof(isr12));
	/* Until the controller commits, 3 still counts. */
	expect_ids(&ip, true, R3, 3);
	isr_follower_fetch(&ip, 2, 20, LAG_MS + 2);
	assert_int_equal(ip.ip_hw, 10);
	assert_true(isr_change_committed(&ip, isr12, 2, NULL, 0, 11) & ISR_HW_ADVANCED);
	assert_int_equal(ip.ip_hw, 20);
	expect_ids(&ip, true, isr12, 2);
}

static void test_rejected_proposal(void **state)
{
	(void)state;
	struct isr_partition ip;
	int32_t prop[ISR_MAX_REPLICAS];
	const int32_t isr12[] = {1, 2};
	/* A rejected addition leaves the maximal ISR, and the HW may move on. */
	lead(&ip, 2, isr12, 2, 0, 10, 0);
	isr_follower_fetch(&ip, 2, 10, 1);
	assert_true(isr_follower_fetch(&ip, 3, 10, 1) & ISR_PROPOSE);
	isr_proposal(&ip, prop, 1);
	isr_leader_leo(&ip, 20);
	isr_follower_fetch(&ip, 2, 20, 2);
	assert_int_equal(ip.ip_hw, 10);
	assert_true(isr_change_rejected(&ip) & ISR_HW_ADVANCED);
	assert_int_equal(ip.ip_hw, 20);
	assert_false(ip.ip_change_pending);
	assert_false(isr_replica(&ip, 3)->ir_pending_add);
	expect_ids(&ip, true, isr12, 2);
	assert_int_equal(ip.ip_partition_epoch, 10);
	/* Nothing pending: a second answer changes nothing. */
	assert_int_equal(isr_change_rejected(&ip), 0);
	/* A rejected shrink: the ISR stays, and the next tick proposes again. */
	lead(&ip, 2, R3, 3, 0, 10, 0);
	assert_true(isr_tick(&ip, LAG_MS + 1) & ISR_PROPOSE);
	assert_int_equal(isr_proposal(&ip, prop, LAG_MS + 1), 1);
	assert_int_equal(isr_change_rejected(&ip), 0);
	expect_ids(&ip, false, R3, 3);
	assert_true(isr_tick(&ip, LAG_MS + 2) & ISR_PROPOSE);
}

static void test_stale_commit_ignored(void **state)
{
	(void)state;
	struct isr_partition ip;
	int32_t prop[ISR_MAX_REPLICAS];
	const int32_t isr12[] = {1, 2};
	lead(&ip, 2, isr12, 2, 0, 10, 0);
	isr_follower_fetch(&ip, 3, 10, 1);
	isr_proposal(&ip, prop, 1);
	/* The state this leader started from, delivered again. */
	assert_int_equal(isr_change_committed(&ip, isr12, 2, NULL, 0, 10), 0);
	assert_true(ip.ip_change_pending);
	assert_true(isr_replica(&ip, 3)->ir_pending_add);
	assert_int_equal(isr_change_committed(&ip, R3, 3, NULL, 0, 11), 0);
	assert_false(ip.ip_change_pending);
	assert_int_equal(ip.ip_partition_epoch, 11);
}

/* ---- caught up, shrink, expand -------------------------------------------------- */

static void test_caught_up_rule_both_branches(void **state)
{
	(void)state;
	struct isr_partition ip;
	lead(&ip, 2, R3, 3, 0, 10, 0);
	const struct isr_replica *r2 = isr_replica(&ip, 2);
	/* Branch 1: reaches the leader's LEO now -> caught up as of now. */
	isr_follower_fetch(&ip, 2, 10, 100);
	assert_int_equal(r2->ir_last_caught_up_ms, 100);
	assert_int_equal(r2->ir_last_fetch_leader_leo, 10);
	/* Branch 2: behind the LEO (20) but at the LEO of its previous fetch
	 * (10) -> caught up as of that previous fetch. */
	isr_leader_leo(&ip, 20);
	isr_follower_fetch(&ip, 2, 15, 200);
	assert_int_equal(r2->ir_last_caught_up_ms, 100);
	isr_leader_leo(&ip, 30);
	isr_follower_fetch(&ip, 2, 20, 300); /* >= 20, its previous fetch's leader LEO */
	assert_int_equal(r2->ir_last_caught_up_ms, 200);
	/* Neither: below both -> unchanged. */
	isr_leader_leo(&ip, 40);
	isr_follower_fetch(&ip, 2, 25, 400); /* previous leader LEO was 30 */
	assert_int_equal(r2->ir_last_caught_up_ms, 200);
	assert_int_equal(r2->ir_last_fetch_ms, 400);
	assert_int_equal(r2->ir_last_fetch_leader_leo, 40);
	assert_int_equal(r2->ir_leo, 25);
	/* The first fetch after becoming leader has no previous fetch. */
	lead(&ip, 2, R3, 3, 0, 10, 1000);
	isr_follower_fetch(&ip, 2, 5, 1500);
	assert_int_equal(isr_replica(&ip, 2)->ir_last_caught_up_ms, 1000); /* the grace */
}

static void test_shrink_after_lag_max(void **state)
{
	(void)state;
	struct isr_partition ip;
	int32_t prop[ISR_MAX_REPLICAS];
	lead(&ip, 2, R3, 3, 0, 10, 0);
	isr_follower_fetch(&ip, 2, 10, 300); /* caught up at 300 */
	isr_follower_fetch(&ip, 3, 10, 600); /* caught up at 600 */
	isr_leader_leo(&ip, 50);
	assert_int_equal(isr_tick(&ip, 300 + LAG_MS), 0); /* exactly lag_max_ms: still in */
	assert_true(isr_tick(&ip, 301 + LAG_MS) & ISR_PROPOSE);
	const int32_t isr13[] = {1, 3};
	assert_int_equal(isr_proposal(&ip, prop, 301 + LAG_MS), 2);
	assert_memory_equal(prop, isr13, sizeof(isr13));
	/* Silence from every follower: both go in one proposal. */
	lead(&ip, 2, R3, 3, 0, 10, 0);
	assert_true(isr_tick(&ip, 1 + LAG_MS) & ISR_PROPOSE);
	assert_int_equal(isr_proposal(&ip, prop, 1 + LAG_MS), 1);
	assert_int_equal(prop[0], 1);
}

/* The leader appends all the time; each follower fetches every 300 ms and
 * reaches only what the leader had at its previous fetch. By the second
 * branch it is caught up as of its previous fetch, so it never lags by
 * more than 300 ms, and lag_max_ms is 1000. */
static void test_follower_keeping_up_never_removed(void **state)
{
	(void)state;
	struct isr_partition ip;
	lead(&ip, 2, R3, 3, 0, 0, 0);
	int64_t leo = 0, seen2 = 0, seen3 = 0;
	for (int64_t t = 0; t <= 100000; t += 50) {
		leo += 5;
		assert_int_equal(isr_leader_leo(&ip, leo) & ISR_PROPOSE, 0);
		if (t % 300 == 0) {
			int64_t prev = ip.ip_leader_leo;
			assert_int_equal(isr_follower_fetch(&ip, 2, seen2, t) & ISR_PROPOSE, 0);
			seen2 = prev;
		}
		if (t % 300 == 150) {
			int64_t prev = ip.ip_leader_leo;
			assert_int_equal(isr_follower_fetch(&ip, 3, seen3, t) & ISR_PROPOSE, 0);
			seen3 = prev;
		}
		assert_int_equal(isr_tick(&ip, t), 0);
	}
	assert_false(ip.ip_change_pending);
	assert_true(ip.ip_hw > 9000); /* and the HW kept moving */
}

static void test_expand_conditions(void **state)
{
	(void)state;
	struct isr_partition ip;
	int32_t prop[ISR_MAX_REPLICAS];
	const int32_t isr12[] = {1, 2};
	/* HW 4 (inherited), epoch start 10, 3 outside the ISR. */
	isr_init(&ip, 1, R3, 3, 2, LAG_MS, 4);
	isr_become_leader(&ip, 5, 10, isr12, 2, NULL, 0, 10, 0);
	assert_int_equal(isr_follower_fetch(&ip, 3, 3, 1) & ISR_PROPOSE, 0); /* below the HW */
	assert_int_equal(isr_follower_fetch(&ip, 3, 6, 2) & ISR_PROPOSE, 0); /* below epoch start */
	assert_int_equal(isr_tick(&ip, 3), 0);
	assert_true(isr_follower_fetch(&ip, 3, 10, 4) & ISR_PROPOSE); /* both, caught up */
	assert_int_equal(isr_proposal(&ip, prop, 4), 3);
	assert_memory_equal(prop, R3, sizeof(R3));

	/* Past the epoch start and caught up, but below the HW (20): it may
	 * lack committed records. */
	isr_init(&ip, 1, R3, 3, 2, LAG_MS, 0);
	isr_become_leader(&ip, 5, 10, isr12, 2, NULL, 0, 10, 0);
	isr_leader_leo(&ip, 20);
	isr_follower_fetch(&ip, 2, 20, 1);
	assert_int_equal(ip.ip_hw, 20);
	assert_int_equal(isr_follower_fetch(&ip, 3, 15, 2) & ISR_PROPOSE, 0);
	assert_int_equal(isr_tick(&ip, 3), 0);
	assert_true(isr_follower_fetch(&ip, 3, 20, 4) & ISR_PROPOSE);

	/* LEO >= HW and >= epoch start, but not caught up: behind the LEO and
	 * its last caught-up time (the grace from t=0) is older than
	 * lag_max_ms. (ISR {1} alone, so that nothing is shrunk meanwhile.) */
	const int32_t isr1[] = {1};
	isr_init(&ip, 1, R3, 3, 2, LAG_MS, 4);
	isr_become_leader(&ip, 5, 10, isr1, 1, NULL, 0, 10, 0);
	isr_leader_leo(&ip, 30);
	assert_int_equal(isr_follower_fetch(&ip, 3, 12, 2000) & ISR_PROPOSE, 0);
	assert_int_equal(isr_tick(&ip, 2001), 0);
	assert_true(isr_follower_fetch(&ip, 3, 30, 2100) & ISR_PROPOSE); /* caught up now */

	/* A proposal not taken is offered again by the next tick. */
	isr_init(&ip, 1, R3, 3, 2, LAG_MS, 0);
	isr_become_leader(&ip, 5, 10, isr12, 2, NULL, 0, 0, 0);
	assert_true(isr_follower_fetch(&ip, 3, 0, 1) & ISR_PROPOSE);
	assert_true(isr_tick(&ip, 2) & ISR_PROPOSE);
}

static void test_one_proposal_at_a_time(void **state)
{
	(void)state;
	struct isr_partition ip;
	int32_t prop[ISR_MAX_REPLICAS];
	lead(&ip, 1, R3, 3, 0, 10, 0);
	isr_follower_fetch(&ip, 2, 10, 0);
	isr_follower_fetch(&ip, 3, 10, 600);
	assert_true(isr_tick(&ip, LAG_MS + 1) & ISR_PROPOSE);
	assert_int_equal(isr_proposal(&ip, prop, LAG_MS + 1), 2); /* {1,3} */
	/* 3 lags as well now: nothing until the answer. */
	assert_int_equal(isr_tick(&ip, LAG_MS + 700), 0);
	assert_int_equal(isr_follower_fetch(&ip, 2, 10, LAG_MS + 701) & ISR_PROPOSE, 0);
	const int32_t isr13[] = {1, 3};
	isr_change_committed(&ip, isr13, 2, NULL, 0, 11);
	assert_true(isr_tick(&ip, LAG_MS + 702) & ISR_PROPOSE);
	/* Shrinks go before additions: 2 may join again, but this proposal
	 * only removes 3. */
	assert_int_equal(isr_proposal(&ip, prop, LAG_MS + 702), 1);
	assert_int_equal(prop[0], 1);
}

/* ---- acks=all waiters ------------------------------------------------------------- */

static void test_waiters_released_in_order(void **state)
{
	(void)state;
	struct isr_partition ip;
	lead(&ip, 2, R3, 3, 0, 20, 0);
	struct tw t[4];
	const int64_t target[4] = {5, 5, 7, 12};
	g_order = 0;
	for (int i = 0; i < 4; i++) {
		tw_init(&t[i], target[i]);
		isr_waiter_add(&ip, &t[i].w);
	}
	isr_follower_fetch(&ip, 2, 6, 1);
	isr_follower_fetch(&ip, 3, 6, 1);
	isr_waiters_release(&ip);
	assert_int_equal(t[0].verdict, ISR_OK);
	assert_int_equal(t[1].verdict, ISR_OK);
	assert_int_equal(t[0].order, 1);
	assert_int_equal(t[1].order, 2);
	assert_int_equal(t[2].verdict, -1); /* HW 6 does not cover offset 6 (target 7) */
	isr_follower_fetch(&ip, 2, 12, 2);
	isr_follower_fetch(&ip, 3, 12, 2);
	isr_waiters_release(&ip);
	assert_int_equal(t[2].verdict, ISR_OK);
	assert_int_equal(t[3].verdict, ISR_OK);
	assert_int_equal(t[2].order, 3);
	assert_int_equal(t[3].order, 4);
	assert_null(ip.ip_waiters_head);
	/* Already covered: answered at once. */
	struct tw now;
	tw_init(&now, 12);
	isr_waiter_add(&ip, &now.w);
	assert_int_equal(now.verdict, ISR_OK);
	assert_false(now.w.iw_linked);
}

static void test_waiters_fail_when_isr_below_min(void **state)
{
	(void)state;
	struct isr_partition ip;
	int32_t prop[ISR_MAX_REPLICAS];
	lead(&ip, 2, R3, 3, 0, 20, 0);
	isr_follower_fetch(&ip, 2, 4, 0);
	isr_follower_fetch(&ip, 3, 4, 0);
	assert_int_equal(ip.ip_hw, 4);
	struct tw b, c;
	tw_init(&b, 15);
	tw_init(&c, 18);
	isr_waiter_add(&ip, &b.w);
	isr_waiter_add(&ip, &c.w);
	/* Both followers lag (behind the LEO since the grace at t=0). */
	assert_true(isr_tick(&ip, LAG_MS + 1) & ISR_PROPOSE);
	assert_int_equal(isr_proposal(&ip, prop, LAG_MS + 1), 1);
	isr_waiters_release(&ip); /* pending shrink: the maximal ISR is still 3 */
	assert_int_equal(b.verdict, -1);
	const int32_t isr1[] = {1}, elr23[] = {2, 3};
	isr_change_committed(&ip, isr1, 1, elr23, 2, 11);
	assert_false(isr_accepts_acks_all(&ip));
	isr_waiters_release(&ip);
	assert_int_equal(b.verdict, ISR_FAIL_NOT_ENOUGH_REPLICAS);
	assert_int_equal(c.verdict, ISR_FAIL_NOT_ENOUGH_REPLICAS);
	assert_null(ip.ip_waiters_head);
	assert_null(ip.ip_waiters_tail);
}

static void test_waiters_covered_complete_before_failing(void **state)
{
	(void)state;
	struct isr_partition ip;
	const int32_t isr12[] = {1, 2}, isr1[] = {1};
	lead(&ip, 2, isr12, 2, 0, 20, 0);
	struct tw a, b;
	tw_init(&a, 10);
	tw_init(&b, 20);
	isr_waiter_add(&ip, &a.w);
	isr_waiter_add(&ip, &b.w);
	isr_follower_fetch(&ip, 2, 10, 1); /* HW 10, not released yet */
	isr_change_committed(&ip, isr1, 1, NULL, 0, 11);
	isr_waiters_release(&ip);
	assert_int_equal(a.verdict, ISR_OK); /* committed: its record is safe */
	assert_int_equal(b.verdict, ISR_FAIL_NOT_ENOUGH_REPLICAS);
}

static void test_waiters_fail_on_role_change(void **state)
{
	(void)state;
	struct isr_partition ip;
	lead(&ip, 2, R3, 3, 0, 20, 0);
	struct tw a, b;
	tw_init(&a, 10);
	tw_init(&b, 12);
	isr_waiter_add(&ip, &a.w);
	isr_waiter_add(&ip, &b.w);
	isr_become_follower(&ip, 2, 6, 11, R3, 3, NULL, 0);
	assert_int_equal(a.verdict, ISR_FAIL_NOT_LEADER);
	assert_int_equal(b.verdict, ISR_FAIL_NOT_LEADER);
	assert_null(ip.ip_waiters_head);
	/* A follower takes no waiter. */
	struct tw c;
	tw_init(&c, 30);
	isr_waiter_add(&ip, &c.w);
	assert_int_equal(c.verdict, ISR_FAIL_NOT_LEADER);
	/* A new term of the same leader fails the old term's waiters too. */
	isr_become_leader(&ip, 7, 12, R3, 3, NULL, 0, 20, 5);
	struct tw d;
	tw_init(&d, 15);
	isr_waiter_add(&ip, &d.w);
	isr_become_leader(&ip, 8, 13, R3, 3, NULL, 0, 20, 6);
	assert_int_equal(d.verdict, ISR_FAIL_NOT_LEADER);
}

static void test_waiter_cancel(void **state)
{
	(void)state;
	struct isr_partition ip;
	lead(&ip, 1, R3, 3, 0, 20, 0);
	struct tw t[3];
	for (int i = 0; i < 3; i++) {
		tw_init(&t[i], 5 + i);
		isr_waiter_add(&ip, &t[i].w);
	}
	isr_waiter_cancel(&ip, &t[1].w);
	assert_false(t[1].w.iw_linked);
	isr_waiter_cancel(&ip, &t[1].w); /* twice: nothing */
	isr_waiter_cancel(&ip, &t[2].w); /* the tail */
	assert_ptr_equal(ip.ip_waiters_tail, &t[0].w);
	isr_follower_fetch(&ip, 2, 10, 1);
	isr_follower_fetch(&ip, 3, 10, 1);
	isr_waiters_release(&ip);
	assert_int_equal(t[0].verdict, ISR_OK);
	assert_int_equal(t[1].verdict, -1); /* a cancelled waiter is never called */
	assert_int_equal(t[2].verdict, -1);
	assert_null(ip.ip_waiters_head);
}

/* A callback that adds the next waiter (a pipelined producer). */
static struct isr_partition *g_ip;
static struct tw g_next;

static void tw_done_chain(struct isr_waiter *w, int verdict)
{
	tw_done(w, verdict);
	if (g_next.verdict == -1 && !g_next.w.iw_linked)
		isr_waiter_add(g_ip, &g_next.w);
}

static void test_waiter_added_from_callback(void **state)
{
	(void)state;
	struct isr_partition ip;
	lead(&ip, 1, R3, 3, 0, 20, 0);
	g_ip = &ip;
	struct tw a;
	tw_init(&a, 5);
	a.w.iw_done = tw_done_chain;
	tw_init(&g_next, 8);
	isr_waiter_add(&ip, &a.w);
	isr_follower_fetch(&ip, 2, 6, 1);
	isr_follower_fetch(&ip, 3, 6, 1);
	isr_waiters_release(&ip);
	assert_int_equal(a.verdict, ISR_OK);
	assert_true(g_next.w.iw_linked); /* above the HW: waits */
	assert_int_equal(g_next.verdict, -1);
	isr_become_follower(&ip, 2, 6, 12, R3, 3, NULL, 0);
	assert_int_equal(g_next.verdict, ISR_FAIL_NOT_LEADER);
}

/* ---- truncation (KIP-101, KIP-279) --------------------------------------------------- */

/* The leader's answer, as epoch_cache_end_offset gives it. */
static void leader_answer(const struct isr_epoch_entry *h, int32_t n, int64_t leo, int32_t epoch,
			  int32_t *found, int64_t *end)
{
	*found = -1;
	*end = -1;
	if (epoch < 0 || n == 0 || epoch > h[n - 1].iee_epoch)
		return;
	if (epoch == h[n - 1].iee_epoch) {
		*found = epoch;
		*end = leo;
		return;
	}
	int32_t i = n - 1;
	while (i >= 0 && h[i].iee_epoch > epoch)
		i--;
	*found = i < 0 ? epoch : h[i].iee_epoch;
	*end = h[i + 1].iee_start_offset;
}

/* The whole exchange: ask, answer, repeat. Returns the final action. */
static int dance(const struct isr_epoch_entry *f, int32_t nf, int64_t f_leo, int64_t f_hw,
		 const struct isr_epoch_entry *l, int32_t nl, int64_t l_leo, int64_t *offset,
		 int *rounds)
{
	int32_t asked = isr_first_epoch_query(f, nf);
	for (int round = 1; round <= nf + 2; round++) {
		int32_t found, ep;
		int64_t end;
		leader_answer(l, nl, l_leo, asked, &found, &end);
		int act = isr_truncation_point(f, nf, f_leo, f_hw, asked, found, end, offset, &ep);
		if (act != ISR_ASK_AGAIN) {
			*rounds = round;
			return act;
		}
		assert_true(ep < asked);
		asked = ep;
	}
	fail_msg("the truncation dance did not end");
	return -1;
}

#define H(...) ((const struct isr_epoch_entry[]){__VA_ARGS__})

static void test_first_epoch_query(void **state)
{
	(void)state;
	assert_int_equal(isr_first_epoch_query(NULL, 0), -1);
	assert_int_equal(isr_first_epoch_query(H({1, 0}, {3, 5}), 2), 3);
}

static void test_truncation_same_epoch(void **state)
{
	(void)state;
	int64_t off;
	int32_t ep;
	const struct isr_epoch_entry *f = H({1, 0}, {2, 5});
	/* The leader has more of epoch 2: nothing to cut, never above the LEO. */
	assert_int_equal(isr_truncation_point(f, 2, 8, 0, 2, 2, 12, &off, &ep), ISR_TRUNCATE_AT);
	assert_int_equal(off, 8);
	/* The leader's epoch 2 ended at 6: the rest of ours diverges. */
	assert_int_equal(isr_truncation_point(f, 2, 8, 0, 2, 2, 6, &off, &ep), ISR_TRUNCATE_AT);
	assert_int_equal(off, 6);
	/* An older local epoch: the shorter of the two ends. */
	assert_int_equal(isr_truncation_point(f, 2, 8, 0, 2, 1, 6, &off, &ep), ISR_TRUNCATE_AT);
	assert_int_equal(off, 5);
	assert_int_equal(isr_truncation_point(f, 2, 8, 0, 2, 1, 3, &off, &ep), ISR_TRUNCATE_AT);
	assert_int_equal(off, 3);
	/* Our epoch 1 ended before the leader's history began (epoch_cache's
	 * "epoch < first" answer names our epoch with its first start). */
	assert_int_equal(isr_truncation_point(f, 2, 8, 0, 1, 1, 4, &off, &ep), ISR_TRUNCATE_AT);
	assert_int_equal(off, 4);
}

static void test_truncation_unknown_epoch(void **state)
{
	(void)state;
	int64_t off;
	int32_t ep;
	/* The leader's largest epoch <= 3 is 2, which we never had: ask about
	 * our epoch below 2. */
	const struct isr_epoch_entry *f = H({1, 0}, {3, 5});
	assert_int_equal(isr_truncation_point(f, 2, 8, 0, 3, 2, 7, &off, &ep), ISR_ASK_AGAIN);
	assert_int_equal(ep, 1);
	assert_int_equal(isr_truncation_point(f, 2, 8, 0, 1, 1, 4, &off, &ep), ISR_TRUNCATE_AT);
	assert_int_equal(off, 4);
	/* No local epoch below it: truncate to the start of our history. */
	const struct isr_epoch_entry *g = H({3, 5});
	assert_int_equal(isr_truncation_point(g, 1, 8, 0, 3, 2, 9, &off, &ep), ISR_TRUNCATE_AT);
	assert_int_equal(off, 5);
	/* The leader knows nothing <= asked (-1): step down, or to the start. */
	const struct isr_epoch_entry *h = H({1, 0}, {4, 10});
	assert_int_equal(isr_truncation_point(h, 2, 12, 0, 4, -1, -1, &off, &ep), ISR_ASK_AGAIN);
	assert_int_equal(ep, 1);
	assert_int_equal(isr_truncation_point(h, 2, 12, 0, 1, -1, -1, &off, &ep), ISR_TRUNCATE_AT);
	assert_int_equal(off, 0);
	assert_int_equal(isr_truncation_point(H({4, 10}), 1, 12, 0, 4, -1, -1, &off, &ep),
			 ISR_TRUNCATE_AT);
	assert_int_equal(off, 10);
	/* An empty history (an empty log): nothing to cut. */
	assert_int_equal(isr_truncation_point(NULL, 0, 0, 0, -1, -1, -1, &off, &ep),
			 ISR_TRUNCATE_AT);
	assert_int_equal(off, 0);
}

static void test_truncation_below_hw_reported(void **state)
{
	(void)state;
	int64_t off;
	int32_t ep;
	const struct isr_epoch_entry *f = H({1, 0}, {2, 5});
	assert_int_equal(isr_truncation_point(f, 2, 8, 7, 2, 1, 6, &off, &ep), ISR_BELOW_HW);
	assert_int_equal(off, 5);
	/* At the HW exactly is fine. */
	assert_int_equal(isr_truncation_point(f, 2, 8, 5, 2, 1, 6, &off, &ep), ISR_TRUNCATE_AT);
	assert_int_equal(off, 5);
	/* Never above the local LEO, even with an HW above it (a broken caller)
	 * the point is clamped and reported. */
	assert_int_equal(isr_truncation_point(f, 2, 8, 9, 2, 2, 100, &off, &ep), ISR_BELOW_HW);
	assert_int_equal(off, 8);
}

/* KIP-101 scenario 1: follower B has m2 (offset 1) but its HW is still 1
 * when it restarts; leader A then dies and B is elected. Truncating to its
 * HW would lose acknowledged m2. By epoch, B keeps it. */
static void test_kip101_scenario1(void **state)
{
	(void)state;
	int64_t off;
	int rounds;
	const struct isr_epoch_entry *a = H({0, 0});
	const struct isr_epoch_entry *b = H({0, 0});
	assert_int_equal(dance(b, 1, 2, 1, a, 1, 2, &off, &rounds), ISR_TRUNCATE_AT);
	assert_int_equal(off, 2); /* not 1 */
	assert_int_equal(rounds, 1);
}

/* KIP-101 scenario 2: A and B lose power; B (with only m1) comes back
 * first, leads epoch 1 and writes m3 at offset 1; A comes back with m2 at
 * offset 1 and follows B. By HW, A might keep m2 (diverged for good); by
 * epoch, A learns epoch 0 ended at 1 on B and cuts m2. */
static void test_kip101_scenario2(void **state)
{
	(void)state;
	int64_t off;
	int rounds;
	const struct isr_epoch_entry *a = H({0, 0});
	const struct isr_epoch_entry *b = H({0, 0}, {1, 1});
	assert_int_equal(dance(a, 1, 2, 1, b, 2, 2, &off, &rounds), ISR_TRUNCATE_AT);
	assert_int_equal(off, 1);
}

/* KIP-279: fast double failover. Epoch 0: A has m1 m2, B has m1. B leads
 * epoch 1 and writes m3 at 1, unreplicated. A leads epoch 2 and writes m4
 * at 2. B follows A and asks about epoch 1, which A never saw: A answers
 * (0, 2), its largest epoch <= 1 and where it ended. KIP-101 alone would
 * truncate B to 2 and keep m3 at 1 against A's m2; with the epoch, B cuts
 * at 1. */
static void test_kip279_fast_double_failover(void **state)
{
	(void)state;
	int64_t off;
	int rounds;
	const struct isr_epoch_entry *a = H({0, 0}, {2, 2});
	const struct isr_epoch_entry *b = H({0, 0}, {1, 1});
	assert_int_equal(dance(b, 2, 2, 1, a, 2, 3, &off, &rounds), ISR_TRUNCATE_AT);
	assert_int_equal(off, 1);
	/* The leader's answer names an epoch B lacks: B steps down and asks
	 * again. B: 0@0, 3@4 (len 8). A: 0@0, 2@3, 4@5 (len 9). */
	const struct isr_epoch_entry *b2 = H({0, 0}, {3, 4});
	const struct isr_epoch_entry *a2 = H({0, 0}, {2, 3}, {4, 5});
	assert_int_equal(dance(b2, 2, 8, 0, a2, 3, 9, &off, &rounds), ISR_TRUNCATE_AT);
	assert_int_equal(off, 3);
	assert_int_equal(rounds, 2);
}

/* Seeded: two logs with a common prefix, then each side's own epochs (one
 * leader per epoch; both may hold different lengths of the last common
 * epoch). The dance must find exactly the common length. */
static void build_side(uint64_t *rs, const int32_t *prefix_ep, int64_t plen, int64_t extra_last,
		       const int32_t *own, int nown, int32_t *log_ep, int64_t *len,
		       struct isr_epoch_entry *h, int32_t *nh)
{
	*len = 0;
	*nh = 0;
	for (int64_t o = 0; o < plen + extra_last; o++) {
		int32_t e = o < plen ? prefix_ep[o] : prefix_ep[plen - 1];
		if (*nh == 0 || h[*nh - 1].iee_epoch != e)
			h[(*nh)++] = (struct isr_epoch_entry){e, o};
		log_ep[(*len)++] = e;
	}
	for (int k = 0; k < nown; k++) {
		int64_t cnt = 1 + (int64_t)(tu_rand(rs) % 3);
		h[(*nh)++] = (struct isr_epoch_entry){own[k], *len};
		for (int64_t j = 0; j < cnt; j++)
			log_ep[(*len)++] = own[k];
	}
}

static void test_truncation_against_constructed_logs(void **state)
{
	(void)state;
	uint64_t rs = tu_seed(0x1517);
	for (int iter = 0; iter < 20000; iter++) {
		int32_t prefix[32];
		int64_t plen = (int64_t)(tu_rand(&rs) % 12);
		int32_t e = 0;
		for (int64_t o = 0; o < plen; o++) {
			e += (int32_t)(tu_rand(&rs) % 3 == 0);
			prefix[o] = e;
		}
		int32_t own_a[16], own_b[16];
		int na = 0, nb = 0;
		for (int32_t x = e + 1; x < e + 12; x++) {
			unsigned who = (unsigned)(tu_rand(&rs) % 3);
			if (who == 0)
				own_a[na++] = x;
			else if (who == 1)
				own_b[nb++] = x;
		}
		int64_t xa = plen ? (int64_t)(tu_rand(&rs) % 3) : 0;
		int64_t xb = plen ? (int64_t)(tu_rand(&rs) % 3) : 0;
		int32_t la[128], lb[128];
		struct isr_epoch_entry ha[64], hb[64];
		int64_t lena, lenb;
		int32_t nha, nhb;
		build_side(&rs, prefix, plen, xa, own_a, na, la, &lena, ha, &nha);
		build_side(&rs, prefix, plen, xb, own_b, nb, lb, &lenb, hb, &nhb);
		int64_t common = plen + (xa < xb ? xa : xb);
		int64_t off;
		int rounds;
		/* b follows a, with its HW anywhere up to the common part. */
		int64_t hw = (int64_t)(tu_rand(&rs) % (uint64_t)(common + 1));
		int act = dance(hb, nhb, lenb, hw, ha, nha, lena, &off, &rounds);
		if (act != ISR_TRUNCATE_AT || off != common)
			fail_msg("iter %d: act %d offset %lld, want %lld (plen %lld xa %lld xb "
				 "%lld)",
				 iter, act, (long long)off, (long long)common, (long long)plen,
				 (long long)xa, (long long)xb);
		assert_true(rounds <= nhb + 1);
		for (int64_t o = 0; o < common; o++) /* sanity of the construction */
			assert_int_equal(la[o], lb[o]);
		/* An HW above the common part means committed data would go. */
		if (common < lenb) {
			act = dance(hb, nhb, lenb, common + 1, ha, nha, lena, &off, &rounds);
			assert_int_equal(act, ISR_BELOW_HW);
			assert_int_equal(off, common);
		}
	}
}

/* ---- a follower's HW ---------------------------------------------------------------- */

static void test_follower_hw(void **state)
{
	(void)state;
	struct isr_partition ip;
	isr_init(&ip, 2, R3, 3, 2, LAG_MS, 0);
	isr_become_follower(&ip, 1, 5, 10, R3, 3, NULL, 0);
	isr_follower_hw(&ip, 10, 7); /* capped by what it has */
	assert_int_equal(ip.ip_hw, 7);
	isr_follower_hw(&ip, 5, 20); /* a stale response: never lower */
	assert_int_equal(ip.ip_hw, 7);
	isr_follower_hw(&ip, 12, 20);
	assert_int_equal(ip.ip_hw, 12);
	isr_follower_hw(&ip, 30, 11); /* its log shorter than its HW: kept */
	assert_int_equal(ip.ip_hw, 12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_and_become_leader),
		cmocka_unit_test(test_unknown_or_misplaced_fetch_ignored),
		cmocka_unit_test(test_set_replicas_keeps_state),
		cmocka_unit_test(test_hw_is_min_leo_over_maximal_isr),
		cmocka_unit_test(test_hw_never_decreases),
		cmocka_unit_test(test_strict_min_isr),
		cmocka_unit_test(test_pending_addition_counts_at_once),
		cmocka_unit_test(test_pending_addition_does_not_unfreeze),
		cmocka_unit_test(test_pending_shrink_waits_for_commit),
		cmocka_unit_test(test_rejected_proposal),
		cmocka_unit_test(test_stale_commit_ignored),
		cmocka_unit_test(test_caught_up_rule_both_branches),
		cmocka_unit_test(test_shrink_after_lag_max),
		cmocka_unit_test(test_follower_keeping_up_never_removed),
		cmocka_unit_test(test_expand_conditions),
		cmocka_unit_test(test_one_proposal_at_a_time),
		cmocka_unit_test(test_waiters_released_in_order),
		cmocka_unit_test(test_waiters_fail_when_isr_below_min),
		cmocka_unit_test(test_waiters_covered_complete_before_failing),
		cmocka_unit_test(test_waiters_fail_on_role_change),
		cmocka_unit_test(test_waiter_cancel),
		cmocka_unit_test(test_waiter_added_from_callback),
		cmocka_unit_test(test_first_epoch_query),
		cmocka_unit_test(test_truncation_same_epoch),
		cmocka_unit_test(test_truncation_unknown_epoch),
		cmocka_unit_test(test_truncation_below_hw_reported),
		cmocka_unit_test(test_kip101_scenario1),
		cmocka_unit_test(test_kip101_scenario2),
		cmocka_unit_test(test_kip279_fast_double_failover),
		cmocka_unit_test(test_truncation_against_constructed_logs),
		cmocka_unit_test(test_follower_hw),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
