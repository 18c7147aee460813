/*
 * isr — the replication rules of one partition (see isr.h for the API).
 *
 * What this module owns: for the leader, every replica's reported LEO and
 * fetch times, the committed ISR and pending proposal, the high watermark
 * and the acks=all waiters; for a follower, its HW as learned from the
 * leader; for both, where a follower's log stops agreeing with a leader's.
 * It does no I/O, reads no clock (now_ms is passed in), never allocates,
 * and every loop is bounded by the replica count, the history length or
 * the waiter list.
 *
 * The rules, and why each one exists:
 *
 * 1. HW = min LEO over the *maximal* ISR (committed ISR + pending
 *    additions), with the leader's own durable end always in the min.
 *    KIP-497 made the controller the only writer of the ISR; while an
 *    AlterPartition is in flight the leader cannot know whether it has
 *    committed, so it counts the larger set: an addition at once (the
 *    controller may already have it in the ISR, hence electable), a
 *    removal only once committed (the controller may still elect it).
 *    So every record below the HW is on every replica of whatever ISR the
 *    controller holds (Vanlightly's TLA+ invariant: leader maximal ISR ⊇
 *    controller ISR, "else we can lose data").
 *
 * 2. Strict min ISR (KIP-966): the HW advances only while the *committed*
 *    ISR has at least min_insync_replicas members, for every kind of write.
 *    Replicas the controller removes from an ISR that would fall below the
 *    minimum become eligible leaders (ELR), and that is only safe if
 *    nothing becomes committed that they lack: with the HW frozen, they
 *    hold all of it. The controller clears the ELR only when it commits an
 *    ISR back at the minimum, so a pending addition must not unfreeze the
 *    HW: with ISR {1}, ELR {3}, a proposal adding 2 makes the maximal ISR
 *    {1,2}; counting that would commit records 3 lacks, and if 1 died
 *    before the controller saw the proposal, 3 would be elected without
 *    them (the model test finds this in a few seeds). Kafka does the same:
 *    Partition.isUnderMinIsr counts partitionState.isr, which for a
 *    PendingExpandIsr is the last committed ISR. The minimum for accepting
 *    or failing acks=all waiters stays on the maximal ISR (rule 5): with a
 *    pending addition a waiter may wait for the commit.
 *
 * 3. The HW never decreases on a broker: not on a new leader (it keeps
 *    what it knew as follower), not when an ISR commit arrives, not when
 *    a follower hears a lower HW from a stale response. The visible end
 *    of the log never moves backwards (KIP-207/KIP-392).
 *
 * 4. Caught up (Kafka's Replica.updateFetchState): a fetch that reaches
 *    the leader's LEO makes the follower caught up as of now; one that
 *    reaches the leader's LEO as of the follower's previous fetch makes it
 *    caught up as of that previous fetch. A follower that keeps fetching
 *    while the leader keeps appending is therefore never more than one
 *    fetch interval behind. A committed member whose last caught-up time
 *    is older than lag_max_ms is proposed for removal
 *    (replica.lag.time.max.ms, KIP-537). A replica outside the ISR is
 *    proposed for addition when its LEO reaches the HW (it holds every
 *    committed record) and the start of this leader's epoch (its log has
 *    been reconciled with this leader's: KAFKA-7128; a new leader's HW
 *    can lag behind what the previous leader committed), and it is caught
 *    up (last caught up within lag_max_ms). Shrinks are proposed before
 *    additions; one proposal is in flight at a time (KIP-497).
 *
 * 5. acks=all (DESIGN §4): a waiter completes when the HW reaches its
 *    target, fails NOT_ENOUGH_REPLICAS when the maximal ISR drops below
 *    the minimum while it waits (Kafka's NOT_ENOUGH_REPLICAS_AFTER_APPEND:
 *    ambiguous, the record may still commit), and NOT_LEADER when the
 *    leadership ends. Waiters are kept in target order, so release is a
 *    walk from the head.
 *
 * 6. Truncation by epoch, never by HW (KIP-101, KIP-279): a follower
 *    finds the last offset where its (epoch, offset) history agrees with
 *    the leader's by asking "end offset of epoch E" (answered like
 *    epoch_cache_end_offset: the largest epoch <= E the leader knows and
 *    where it ends) until the answered epoch is one it has too. Truncating
 *    to the local HW loses acknowledged data (KIP-101 scenario 1) or keeps
 *    diverged logs forever (scenario 2); comparing offsets without epochs
 *    breaks under fast double failover (KIP-279). A point below the local
 *    HW would remove committed data: it is reported (ISR_BELOW_HW), never
 *    silently applied.
 */
#include "isr.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

/* Always on: a broken replication invariant means data can no longer be
 * trusted. Prints the condition and where before aborting. */
#define ISR_ASSERT(cond)                                                                           \
	do {                                                                                       \
		if (__builtin_expect(!(cond), 0)) {                                                \
			fprintf(stderr, "replog: isr assertion failed: %s at %s:%d (%s)\n", #cond, \
				__FILE__, __LINE__, __func__);                                     \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

_Static_assert(ISR_MAX_REPLICAS > 0 && ISR_MAX_REPLICAS <= 1024, "replica bound");

/* ---- replicas ----------------------------------------------------------- */

static int32_t isr_index(const struct isr_partition *ip, int32_t id)
{
	for (int32_t i = 0; i < ip->ip_nreplicas; i++) {
		if (ip->ip_replicas[i].ir_id == id)
			return i;
	}
	return -1;
}

static void isr_replica_reset(struct isr_replica *r, int32_t id)
{
	r->ir_id = id;
	r->ir_leo = -1;
	r->ir_last_fetch_ms = -1;
	r->ir_last_fetch_leader_leo = -1;
	r->ir_last_caught_up_ms = -1;
	r->ir_in_isr = false;
	r->ir_pending_add = false;
	r->ir_in_elr = false;
	r->ir_ineligible = false;
}

static bool isr_in_maximal(const struct isr_replica *r)
{
	return r->ir_in_isr || r->ir_pending_add;
}

static int32_t isr_count_maximal(const struct isr_partition *ip)
{
	int32_t n = 0;
	for (int32_t i = 0; i < ip->ip_nreplicas; i++)
		n += isr_in_maximal(&ip->ip_replicas[i]);
	return n;
}

static int32_t isr_count_committed(const struct isr_partition *ip)
{
	int32_t n = 0;
	for (int32_t i = 0; i < ip->ip_nreplicas; i++)
		n += ip->ip_replicas[i].ir_in_isr;
	return n;
}

/* Committed ISR and ELR membership from the controller's lists; pending
 * state is dropped (the caller decides when that is right). Ids that are
 * not replicas here are ignored. */
static void isr_apply_membership(struct isr_partition *ip, const int32_t *isr, int32_t n_isr,
				 const int32_t *elr, int32_t n_elr)
{
	ISR_ASSERT(n_isr >= 0 && n_isr <= ISR_MAX_REPLICAS && (n_isr == 0 || isr));
	ISR_ASSERT(n_elr >= 0 && n_elr <= ISR_MAX_REPLICAS && (n_elr == 0 || elr));
	for (int32_t i = 0; i < ip->ip_nreplicas; i++) {
		struct isr_replica *r = &ip->ip_replicas[i];
		r->ir_in_isr = false;
		r->ir_in_elr = false;
		r->ir_pending_add = false;
	}
	for (int32_t k = 0; k < n_isr; k++) {
		int32_t i = isr_index(ip, isr[k]);
		if (i >= 0)
			ip->ip_replicas[i].ir_in_isr = true;
	}
	for (int32_t k = 0; k < n_elr; k++) {
		int32_t i = isr_index(ip, elr[k]);
		if (i >= 0)
			ip->ip_replicas[i].ir_in_elr = true;
	}
	ip->ip_change_pending = false;
	ip->ip_nproposed = 0;
}

/* ---- the high watermark ------------------------------------------------- */

/* Strict min ISR (rule 2), counted over the committed ISR: a pending
 * addition must not unfreeze the HW, or it would commit records that the
 * ELR (kept by the controller while its ISR is below the minimum) lacks. */
static bool isr_min_isr_met(const struct isr_partition *ip)
{
	return isr_count_committed(ip) >= ip->ip_min_isr;
}

/* Rule 1 and 3: move the HW up to the min LEO of the maximal ISR when
 * allowed. Returns ISR_HW_ADVANCED or 0. */
static int isr_update_hw(struct isr_partition *ip)
{
	if (ip->ip_role != ISR_ROLE_LEADER || !isr_min_isr_met(ip))
		return 0;
	int64_t hw = ip->ip_leader_leo;
	for (int32_t i = 0; i < ip->ip_nreplicas; i++) {
		const struct isr_replica *r = &ip->ip_replicas[i];
		if (r->ir_id != ip->ip_self && isr_in_maximal(r) && r->ir_leo < hw)
			hw = r->ir_leo;
	}
	if (hw <= ip->ip_hw)
		return 0;
	ip->ip_hw = hw;
	ISR_ASSERT(ip->ip_hw <= ip->ip_leader_leo);
	return ISR_HW_ADVANCED;
}

/* ---- waiters ------------------------------------------------------------ */

static void isr_waiter_unlink(struct isr_partition *ip, struct isr_waiter *w)
{
	if (w->iw_prev)
		w->iw_prev->iw_next = w->iw_next;
	else
		ip->ip_waiters_head = w->iw_next;
	if (w->iw_next)
		w->iw_next->iw_prev = w->iw_prev;
	else
		ip->ip_waiters_tail = w->iw_prev;
	w->iw_prev = w->iw_next = NULL;
	w->iw_linked = false;
}

/* Fail every waiter linked now with `verdict`. The list is detached first,
 * so a callback that adds a waiter neither sees it failed nor loops. */
static void isr_waiters_fail_all(struct isr_partition *ip, int verdict)
{
	struct isr_waiter *w = ip->ip_waiters_head;
	ip->ip_waiters_head = ip->ip_waiters_tail = NULL;
	while (w) {
		struct isr_waiter *next = w->iw_next;
		w->iw_prev = w->iw_next = NULL;
		w->iw_linked = false;
		w->iw_done(w, verdict);
		w = next;
	}
}

void isr_waiter_add(struct isr_partition *ip, struct isr_waiter *w)
{
	ISR_ASSERT(w && w->iw_done && !w->iw_linked);
	if (ip->ip_hw >= w->iw_target) {
		w->iw_done(w, ISR_OK);
		return;
	}
	if (ip->ip_role != ISR_ROLE_LEADER) {
		w->iw_done(w, ISR_FAIL_NOT_LEADER);
		return;
	}
	struct isr_waiter *tail = ip->ip_waiters_tail;
	ISR_ASSERT(!tail || tail->iw_target <= w->iw_target);
	w->iw_prev = tail;
	w->iw_next = NULL;
	w->iw_linked = true;
	if (tail)
		tail->iw_next = w;
	else
		ip->ip_waiters_head = w;
	ip->ip_waiters_tail = w;
}

void isr_waiter_cancel(struct isr_partition *ip, struct isr_waiter *w)
{
	ISR_ASSERT(w);
	if (w->iw_linked)
		isr_waiter_unlink(ip, w);
}

void isr_waiters_release(struct isr_partition *ip)
{
	/* Covered waiters first: their records are committed, whatever the
	 * ISR does next. Each pass unlinks the head; a waiter added from a
	 * callback is either completed at once or linked with a target above
	 * the HW, so the walk ends. */
	struct isr_waiter *w;
	while ((w = ip->ip_waiters_head) && w->iw_target <= ip->ip_hw) {
		isr_waiter_unlink(ip, w);
		w->iw_done(w, ISR_OK);
	}
	if (ip->ip_waiters_head && isr_count_maximal(ip) < ip->ip_min_isr)
		isr_waiters_fail_all(ip, ISR_FAIL_NOT_ENOUGH_REPLICAS);
}

/* ---- set-up and role changes ------------------------------------------- */

void isr_init(struct isr_partition *ip, int32_t self, const int32_t *replicas, int32_t n,
	      int32_t min_isr, int64_t lag_max_ms, int64_t hw)
{
	ISR_ASSERT(ip && replicas && n > 0 && n <= ISR_MAX_REPLICAS);
	ISR_ASSERT(min_isr >= 1 && lag_max_ms > 0 && hw >= 0);
	ip->ip_self = self;
	ip->ip_role = ISR_ROLE_NONE;
	ip->ip_leader = -1;
	ip->ip_leader_epoch = -1;
	ip->ip_partition_epoch = -1;
	ip->ip_min_isr = min_isr;
	ip->ip_lag_max_ms = lag_max_ms;
	ip->ip_nreplicas = 0;
	for (int32_t i = 0; i < n; i++) {
		ISR_ASSERT(isr_index(ip, replicas[i]) < 0); /* no id twice */
		isr_replica_reset(&ip->ip_replicas[i], replicas[i]);
		ip->ip_nreplicas = i + 1;
	}
	ip->ip_hw = hw;
	ip->ip_leader_leo = -1;
	ip->ip_epoch_start = -1;
	ip->ip_change_pending = false;
	ip->ip_nproposed = 0;
	ip->ip_change_sent_ms = -1;
	ip->ip_waiters_head = ip->ip_waiters_tail = NULL;
}

void isr_become_leader(struct isr_partition *ip, int32_t leader_epoch, int32_t partition_epoch,
		       const int32_t *isr, int32_t n_isr, const int32_t *elr, int32_t n_elr,
		       int64_t leader_leo, int64_t now_ms)
{
	ISR_ASSERT(leader_epoch >= 0 && leader_epoch >= ip->ip_leader_epoch);
	ISR_ASSERT(leader_leo >= 0);
	isr_waiters_fail_all(ip, ISR_FAIL_NOT_LEADER);
	ip->ip_role = ISR_ROLE_LEADER;
	ip->ip_leader = ip->ip_self;
	ip->ip_leader_epoch = leader_epoch;
	ip->ip_partition_epoch = partition_epoch;
	isr_apply_membership(ip, isr, n_isr, elr, n_elr);
	ip->ip_leader_leo = leader_leo;
	ip->ip_epoch_start = leader_leo;
	for (int32_t i = 0; i < ip->ip_nreplicas; i++) {
		struct isr_replica *r = &ip->ip_replicas[i];
		bool self = r->ir_id == ip->ip_self;
		r->ir_leo = self ? leader_leo : -1;
		r->ir_last_fetch_ms = -1;
		r->ir_last_fetch_leader_leo = -1;
		r->ir_last_caught_up_ms = now_ms; /* grace period: lag_max_ms from now */
	}
	(void)isr_update_hw(ip); /* a lone-member ISR may commit at once */
}

void isr_become_follower(struct isr_partition *ip, int32_t leader, int32_t leader_epoch,
			 int32_t partition_epoch, const int32_t *isr, int32_t n_isr,
			 const int32_t *elr, int32_t n_elr)
{
	ISR_ASSERT(leader != ip->ip_self);
	isr_waiters_fail_all(ip, ISR_FAIL_NOT_LEADER);
	ip->ip_role = ISR_ROLE_FOLLOWER;
	ip->ip_leader = leader;
	ip->ip_leader_epoch = leader_epoch;
	ip->ip_partition_epoch = partition_epoch;
	isr_apply_membership(ip, isr, n_isr, elr, n_elr);
	ip->ip_leader_leo = -1;
	ip->ip_epoch_start = -1;
}

void isr_set_replicas(struct isr_partition *ip, const int32_t *replicas, int32_t n)
{
	ISR_ASSERT(replicas && n > 0 && n <= ISR_MAX_REPLICAS);
	struct isr_replica next[ISR_MAX_REPLICAS];
	for (int32_t i = 0; i < n; i++) {
		int32_t old = isr_index(ip, replicas[i]);
		if (old >= 0)
			next[i] = ip->ip_replicas[old];
		else
			isr_replica_reset(&next[i], replicas[i]);
	}
	for (int32_t i = 0; i < n; i++)
		ip->ip_replicas[i] = next[i];
	ip->ip_nreplicas = n;
}

/* ---- the leader's view -------------------------------------------------- */

static bool isr_lagging(const struct isr_partition *ip, const struct isr_replica *r, int64_t now_ms)
{
	return now_ms - r->ir_last_caught_up_ms > ip->ip_lag_max_ms;
}

/* Rule 4, addition: may this replica outside the ISR join it? */
static bool isr_may_join(const struct isr_partition *ip, const struct isr_replica *r,
			 int64_t now_ms)
{
	return !isr_in_maximal(r) && !r->ir_ineligible && r->ir_leo >= 0 &&
	       r->ir_leo >= ip->ip_hw && r->ir_leo >= ip->ip_epoch_start &&
	       r->ir_last_caught_up_ms >= 0 && !isr_lagging(ip, r, now_ms);
}

/* Compute the next proposal into ip_proposed_isr: the committed ISR minus
 * lagging followers if any lag, else plus every replica that may join.
 * The leader itself is always kept. Returns ISR_PROPOSE or 0. */
static int isr_prepare(struct isr_partition *ip, int64_t now_ms)
{
	if (ip->ip_role != ISR_ROLE_LEADER || ip->ip_change_pending)
		return 0; /* ip_proposed_isr keeps the one in flight (for a resend) */
	ip->ip_nproposed = 0;
	bool shrink = false, grow = false;
	for (int32_t i = 0; i < ip->ip_nreplicas; i++) {
		const struct isr_replica *r = &ip->ip_replicas[i];
		if (r->ir_id != ip->ip_self && r->ir_in_isr && isr_lagging(ip, r, now_ms))
			shrink = true;
		else if (r->ir_id != ip->ip_self && isr_may_join(ip, r, now_ms))
			grow = true;
	}
	if (!shrink && !grow)
		return 0;
	int32_t n = 0;
	for (int32_t i = 0; i < ip->ip_nreplicas; i++) {
		const struct isr_replica *r = &ip->ip_replicas[i];
		bool keep;
		if (r->ir_id == ip->ip_self)
			keep = true;
		else if (shrink)
			keep = r->ir_in_isr && !isr_lagging(ip, r, now_ms);
		else
			keep = r->ir_in_isr || isr_may_join(ip, r, now_ms);
		if (keep)
			ip->ip_proposed_isr[n++] = r->ir_id;
	}
	ISR_ASSERT(n >= 1 && n <= ip->ip_nreplicas);
	ip->ip_nproposed = n;
	return ISR_PROPOSE;
}

void isr_set_eligible(struct isr_partition *ip, int32_t replica, bool eligible)
{
	int32_t i = isr_index(ip, replica);
	if (i >= 0)
		ip->ip_replicas[i].ir_ineligible = !eligible;
}

int isr_leader_leo(struct isr_partition *ip, int64_t leo)
{
	if (ip->ip_role != ISR_ROLE_LEADER)
		return 0;
	ISR_ASSERT(leo >= ip->ip_leader_leo); /* a leader's durable end only grows */
	ip->ip_leader_leo = leo;
	int32_t i = isr_index(ip, ip->ip_self);
	if (i >= 0)
		ip->ip_replicas[i].ir_leo = leo;
	return isr_update_hw(ip);
}

int isr_follower_fetch(struct isr_partition *ip, int32_t replica, int64_t fetch_offset,
		       int64_t now_ms)
{
	int32_t i = isr_index(ip, replica);
	if (ip->ip_role != ISR_ROLE_LEADER || i < 0 || replica == ip->ip_self || fetch_offset < 0)
		return 0;
	struct isr_replica *r = &ip->ip_replicas[i];
	/* Rule 4: caught up as of now, as of the previous fetch, or not. */
	int64_t caught = -1;
	if (fetch_offset >= ip->ip_leader_leo)
		caught = now_ms;
	else if (r->ir_last_fetch_ms >= 0 && fetch_offset >= r->ir_last_fetch_leader_leo)
		caught = r->ir_last_fetch_ms;
	if (caught > r->ir_last_caught_up_ms)
		r->ir_last_caught_up_ms = caught;
	r->ir_last_fetch_ms = now_ms;
	r->ir_last_fetch_leader_leo = ip->ip_leader_leo;
	r->ir_leo = fetch_offset;
	return isr_update_hw(ip) | isr_prepare(ip, now_ms);
}

int isr_tick(struct isr_partition *ip, int64_t now_ms)
{
	return isr_prepare(ip, now_ms);
}

int32_t isr_proposal(struct isr_partition *ip, int32_t *out, int64_t now_ms)
{
	ISR_ASSERT(ip->ip_role == ISR_ROLE_LEADER && !ip->ip_change_pending);
	ISR_ASSERT(ip->ip_nproposed > 0 && out);
	for (int32_t k = 0; k < ip->ip_nproposed; k++) {
		int32_t i = isr_index(ip, ip->ip_proposed_isr[k]);
		ISR_ASSERT(i >= 0);
		if (!ip->ip_replicas[i].ir_in_isr)
			ip->ip_replicas[i].ir_pending_add = true; /* counts at once */
		out[k] = ip->ip_proposed_isr[k];
	}
	ip->ip_change_pending = true;
	ip->ip_change_sent_ms = now_ms;
	return ip->ip_nproposed;
}

int isr_change_committed(struct isr_partition *ip, const int32_t *isr, int32_t n_isr,
			 const int32_t *elr, int32_t n_elr, int32_t partition_epoch)
{
	if (partition_epoch <= ip->ip_partition_epoch)
		return 0; /* stale: this or a newer state was applied already */
	isr_apply_membership(ip, isr, n_isr, elr, n_elr);
	ip->ip_partition_epoch = partition_epoch;
	return isr_update_hw(ip);
}

int isr_change_rejected(struct isr_partition *ip)
{
	if (!ip->ip_change_pending)
		return 0;
	for (int32_t i = 0; i < ip->ip_nreplicas; i++)
		ip->ip_replicas[i].ir_pending_add = false;
	ip->ip_change_pending = false;
	ip->ip_nproposed = 0;
	return isr_update_hw(ip);
}

int32_t isr_maximal(const struct isr_partition *ip, int32_t *out)
{
	int32_t n = 0;
	for (int32_t i = 0; i < ip->ip_nreplicas; i++) {
		if (isr_in_maximal(&ip->ip_replicas[i]))
			out[n++] = ip->ip_replicas[i].ir_id;
	}
	return n;
}

int32_t isr_committed(const struct isr_partition *ip, int32_t *out)
{
	int32_t n = 0;
	for (int32_t i = 0; i < ip->ip_nreplicas; i++) {
		if (ip->ip_replicas[i].ir_in_isr)
			out[n++] = ip->ip_replicas[i].ir_id;
	}
	return n;
}

bool isr_accepts_acks_all(const struct isr_partition *ip)
{
	return ip->ip_role == ISR_ROLE_LEADER && isr_count_maximal(ip) >= ip->ip_min_isr;
}

const struct isr_replica *isr_replica(const struct isr_partition *ip, int32_t id)
{
	int32_t i = isr_index(ip, id);
	return i < 0 ? NULL : &ip->ip_replicas[i];
}

/* ---- a follower's truncation -------------------------------------------- */

/* The history must be what epoch_cache keeps: strictly increasing epochs
 * and start offsets. */
static void isr_check_history(const struct isr_epoch_entry *local, int32_t n)
{
	ISR_ASSERT(n >= 0 && (n == 0 || local));
	for (int32_t i = 1; i < n; i++) {
		ISR_ASSERT(local[i].iee_epoch > local[i - 1].iee_epoch);
		ISR_ASSERT(local[i].iee_start_offset > local[i - 1].iee_start_offset);
	}
}

/* Index of the largest local epoch strictly below `epoch`, or -1. */
static int32_t isr_local_below(const struct isr_epoch_entry *local, int32_t n, int32_t epoch)
{
	int32_t i = n - 1;
	while (i >= 0 && local[i].iee_epoch >= epoch)
		i--;
	return i;
}

/* Index of `epoch` in the local history, or -1. */
static int32_t isr_local_find(const struct isr_epoch_entry *local, int32_t n, int32_t epoch)
{
	int32_t i = n - 1;
	while (i >= 0 && local[i].iee_epoch > epoch)
		i--;
	return i >= 0 && local[i].iee_epoch == epoch ? i : -1;
}

int32_t isr_first_epoch_query(const struct isr_epoch_entry *local, int32_t n)
{
	isr_check_history(local, n);
	return n > 0 ? local[n - 1].iee_epoch : -1;
}

int isr_truncation_point(const struct isr_epoch_entry *local, int32_t n, int64_t local_leo,
			 int64_t local_hw, int32_t asked, int32_t leader_epoch, int64_t leader_end,
			 int64_t *offset, int32_t *epoch)
{
	ISR_ASSERT(offset && epoch && local_leo >= 0);
	isr_check_history(local, n);
	int64_t local_start = n > 0 ? local[0].iee_start_offset : 0;
	int64_t point;
	*offset = -1;
	*epoch = -1;
	int32_t i = leader_epoch < 0 ? -1 : isr_local_find(local, n, leader_epoch);
	if (i >= 0) {
		/* Same epoch on both sides: one leader wrote it, so the logs
		 * agree up to where the shorter of the two ends it. */
		int64_t local_end = i + 1 < n ? local[i + 1].iee_start_offset : local_leo;
		point = leader_end < local_end ? leader_end : local_end;
	} else {
		/* The leader knows nothing <= asked, or its answer names an
		 * epoch we never had: step down to our epoch below that (below
		 * asked as well, so that every round asks about a smaller
		 * epoch and the dance ends within n rounds). */
		int32_t bound = leader_epoch < 0 || leader_epoch > asked ? asked : leader_epoch;
		int32_t j = isr_local_below(local, n, bound);
		if (j >= 0) {
			*epoch = local[j].iee_epoch;
			return ISR_ASK_AGAIN;
		}
		point = local_start;
	}
	if (point > local_leo)
		point = local_leo;
	if (point < 0)
		point = 0;
	*offset = point;
	return point < local_hw ? ISR_BELOW_HW : ISR_TRUNCATE_AT;
}

void isr_follower_hw(struct isr_partition *ip, int64_t leader_hw, int64_t local_leo)
{
	int64_t hw = leader_hw < local_leo ? leader_hw : local_leo;
	if (hw > ip->ip_hw)
		ip->ip_hw = hw;
}
