/*
 * isr — the replication state machine of one partition, as pure logic: no
 * I/O, no clock (callers pass now_ms), no allocation. The broker feeds it
 * events (its own log grew, a follower fetched, the controller committed a
 * change) and acts on what it answers (advance the HW, propose an ISR
 * change, complete or fail acks=all waiters, truncate a follower's log).
 * Every replication rule lives here so that it can be tested
 * deterministically, including by a randomized model (tests/unit).
 *
 * Terms (DESIGN.md §4, ../shared/reference/REPLICATION_ANCHORS.md):
 *   LEO       a replica's log end offset as it counts for commitment: its
 *             durable end (fsynced, or written under `replicated`
 *             durability). A follower's is the fetch offset it sends,
 *             because it only fetches past what it has made durable.
 *   ISR       the in-sync replicas the controller has committed; the
 *             leader is always in it while it leads.
 *   maximal ISR  the committed ISR plus additions proposed and not yet
 *             committed: while a change is pending, the HW and acks=all
 *             count against it (a shrink takes effect only when the
 *             controller commits it; an addition counts at once).
 *   HW        the high watermark: min LEO over the maximal ISR, advanced
 *             only while the committed ISR has at least
 *             min_insync_replicas members (strict min ISR; a pending
 *             addition must not unfreeze it, or records could commit that
 *             the ELR lacks — Kafka's isUnderMinIsr also counts the
 *             committed ISR). It never decreases.
 *   ELR       eligible leader replicas (KIP-966): members the controller
 *             removed from an ISR that would otherwise fall below min ISR;
 *             they hold everything below the HW. Kept by the controller;
 *             carried here for describing the partition.
 *
 * Caught up (Kafka's rule): a follower is caught up as of a fetch when its
 * fetch offset reaches the leader's LEO at that fetch (then as of now), or
 * the leader's LEO at its previous fetch (then as of that previous fetch).
 * A follower whose last caught-up time is older than lag_max_ms is proposed
 * for removal; a follower outside the ISR whose LEO reaches the HW and the
 * start offset of the current leader epoch, and that is caught up (last
 * caught-up time within lag_max_ms), is proposed for addition. One
 * proposal at a time.
 *
 * Threading: one owner; nothing here locks.
 */
#ifndef REPLOG_ISR_H
#define REPLOG_ISR_H

#include <stdbool.h>
#include <stdint.h>

#define ISR_MAX_REPLICAS 64

enum isr_role {
	ISR_ROLE_NONE = 0, /* not a replica, or offline here */
	ISR_ROLE_LEADER,
	ISR_ROLE_FOLLOWER,
};

struct isr_replica {
	int32_t ir_id;
	int64_t ir_leo;			  /* durable end as last reported; -1 unknown */
	int64_t ir_last_fetch_ms;	  /* -1 never */
	int64_t ir_last_fetch_leader_leo; /* the leader's LEO at that fetch */
	int64_t ir_last_caught_up_ms;
	bool ir_in_isr;	     /* committed ISR */
	bool ir_pending_add; /* proposed addition, counts in the maximal ISR */
	bool ir_in_elr;
	bool ir_ineligible; /* the controller would refuse it (fenced, leaving) */
};

struct isr_partition {
	int32_t ip_self;   /* this broker */
	int ip_role;	   /* enum isr_role */
	int32_t ip_leader; /* -1 none */
	int32_t ip_leader_epoch;
	int32_t ip_partition_epoch;
	int32_t ip_min_isr;
	int64_t ip_lag_max_ms;
	int32_t ip_nreplicas;
	struct isr_replica ip_replicas[ISR_MAX_REPLICAS]; /* in assignment order: [0] preferred */
	int64_t ip_hw;
	int64_t ip_leader_leo;	/* leader: its own durable end */
	int64_t ip_epoch_start; /* leader: its LEO when it became leader */
	bool ip_change_pending;
	int32_t ip_proposed_isr[ISR_MAX_REPLICAS];
	int32_t ip_nproposed;
	int64_t ip_change_sent_ms;
	struct isr_waiter *ip_waiters_head, *ip_waiters_tail; /* acks=all, by target */
};

/* ---- set-up and role changes ------------------------------------------ */

/* A partition with these replicas (assignment order), no role yet, HW hw. */
void isr_init(struct isr_partition *ip, int32_t self, const int32_t *replicas, int32_t n,
	      int32_t min_isr, int64_t lag_max_ms, int64_t hw);

/* This broker leads `leader_epoch`. `isr`/`elr` as committed by the
 * controller; `leader_leo` is this replica's durable end now (it becomes
 * ip_epoch_start). Followers start with unknown LEOs and are counted as
 * caught up as of now (a grace period of lag_max_ms). The HW is kept
 * (never lowered). Pending waiters from an earlier term are failed with
 * ISR_FAIL_NOT_LEADER. */
void isr_become_leader(struct isr_partition *ip, int32_t leader_epoch, int32_t partition_epoch,
		       const int32_t *isr, int32_t n_isr, const int32_t *elr, int32_t n_elr,
		       int64_t leader_leo, int64_t now_ms);

/* This broker follows `leader` (or no one: leader -1) in `leader_epoch`.
 * Waiters are failed with ISR_FAIL_NOT_LEADER. */
void isr_become_follower(struct isr_partition *ip, int32_t leader, int32_t leader_epoch,
			 int32_t partition_epoch, const int32_t *isr, int32_t n_isr,
			 const int32_t *elr, int32_t n_elr);

/* Replace the assignment (replicas) keeping what is known of each one. */
void isr_set_replicas(struct isr_partition *ip, const int32_t *replicas, int32_t n);

/* ---- the leader's view ------------------------------------------------- */

/* Results of events, as bits. */
#define ISR_HW_ADVANCED 0x1 /* ip_hw moved: release waiters, wake fetches */
#define ISR_PROPOSE	0x2 /* isr_proposal() has a change for the controller */

/* The leader's own durable end moved. Returns ISR_* bits. */
/* May `replica` be proposed for addition? Not while the controller would
 * refuse it (KIP-841: fenced, or in controlled shutdown): proposing it
 * would only be refused again and again. Eligible by default. */
void isr_set_eligible(struct isr_partition *ip, int32_t replica, bool eligible);
int isr_leader_leo(struct isr_partition *ip, int64_t leo);

/* A follower fetched at `fetch_offset` (its durable end). Unknown replica
 * ids are ignored (returns 0). Returns ISR_* bits. */
int isr_follower_fetch(struct isr_partition *ip, int32_t replica, int64_t fetch_offset,
		       int64_t now_ms);

/* Periodic: is a follower past lag_max_ms (shrink) or caught up (expand)?
 * Returns ISR_PROPOSE when a proposal is ready and none is pending. */
int isr_tick(struct isr_partition *ip, int64_t now_ms);

/* The proposal to send to the controller: the full new ISR (ids). Only
 * valid right after ISR_PROPOSE. Marks it pending (proposed additions join
 * the maximal ISR now). Returns its size. */
int32_t isr_proposal(struct isr_partition *ip, int32_t *out, int64_t now_ms);

/* The controller answered. Committed: the new ISR and partition epoch
 * (from the controller's reply or the metadata it published); a partition
 * epoch not above ip_partition_epoch is stale and ignored (re-applying an
 * old state would drop a newer pending addition). Rejected: the proposal is
 * dropped. Both return ISR_* bits (a commit can move the HW).
 * The caller applies a reply only to the proposal it answers: keep the
 * ip_leader_epoch and ip_partition_epoch current at isr_proposal() and drop
 * the reply if either has changed since. And only a refusal that proves no
 * copy of the proposal was or will be applied may call isr_change_rejected:
 * a refusal at the current epochs (an ineligible replica, KIP-841) after
 * which the controller bumps the partition epoch. A refusal because the
 * epochs are stale says nothing about an earlier copy (a resend) that may
 * have been committed: keep the proposal pending, its additions counting,
 * until the newer metadata arrives (isr_change_committed, a role change),
 * as Kafka does for INVALID_UPDATE_VERSION. Dropping a pending addition the
 * controller did commit lets the HW pass a member of its ISR; the model
 * test finds that for each of these three mistakes. */
int isr_change_committed(struct isr_partition *ip, const int32_t *isr, int32_t n_isr,
			 const int32_t *elr, int32_t n_elr, int32_t partition_epoch);
int isr_change_rejected(struct isr_partition *ip);

/* Ids in the maximal ISR; returns the count. */
int32_t isr_maximal(const struct isr_partition *ip, int32_t *out);
int32_t isr_committed(const struct isr_partition *ip, int32_t *out);
/* May an acks=all append start? (maximal ISR >= min ISR, and leader) */
bool isr_accepts_acks_all(const struct isr_partition *ip);
const struct isr_replica *isr_replica(const struct isr_partition *ip, int32_t id);

/* ---- acks=all waiters -------------------------------------------------- */

enum isr_verdict {
	ISR_OK = 0,
	ISR_FAIL_NOT_ENOUGH_REPLICAS = 1, /* the ISR fell below min ISR while waiting */
	ISR_FAIL_NOT_LEADER = 2,	  /* leadership lost while waiting */
	ISR_FAIL_CANCELLED = 3,		  /* isr_waiter_cancel (timeout, close) */
};

struct isr_waiter {
	int64_t iw_target; /* done when ip_hw >= target */
	void (*iw_done)(struct isr_waiter *w, int verdict);
	void *iw_ctx;
	struct isr_waiter *iw_prev, *iw_next;
	bool iw_linked;
};

/* Wait until the HW reaches w->iw_target (called at once with ISR_OK if it
 * already has, else at once with ISR_FAIL_NOT_LEADER if this broker does
 * not lead). Targets must not decrease from one call to the next (the
 * leader appends in order). */
void isr_waiter_add(struct isr_partition *ip, struct isr_waiter *w);
/* Remove without calling iw_done (timeouts: the caller answers). */
void isr_waiter_cancel(struct isr_partition *ip, struct isr_waiter *w);
/* Complete what the HW now covers; fail every waiter with
 * ISR_FAIL_NOT_ENOUGH_REPLICAS if the maximal ISR is below min ISR. Call
 * after any event that returned ISR_HW_ADVANCED or changed the ISR. */
void isr_waiters_release(struct isr_partition *ip);

/* ---- a follower's truncation (KIP-101/KIP-279) ------------------------- */

struct isr_epoch_entry {
	int32_t iee_epoch;
	int64_t iee_start_offset;
};

enum isr_truncate_action {
	ISR_TRUNCATE_AT = 0, /* truncate the log to *offset (may equal the LEO: nothing) */
	ISR_ASK_AGAIN = 1,   /* ask the leader about *epoch instead */
	ISR_BELOW_HW = 2,    /* the divergence is below the local HW: committed
			      * data would go; only allowed after an unclean
			      * election, otherwise refuse and report */
};

/* Which epoch to ask the leader about first: the latest in the local
 * history, or -1 for an empty history (then truncate to 0... nothing). */
int32_t isr_first_epoch_query(const struct isr_epoch_entry *local, int32_t n);

/* Given the leader's answer to "end offset of epoch `asked`" — the largest
 * epoch it knows <= asked (`leader_epoch`, -1 if none) and that epoch's end
 * offset (`leader_end`) — and the follower's own history, LEO and HW:
 * where does the follower's log stop agreeing with the leader's?
 *   - leader knows no epoch <= asked (-1): the follower's history from
 *     `asked` on is unknown to the leader: ask again about the local epoch
 *     before `asked`, or truncate to the start of the local history when
 *     there is none before it;
 *   - leader_epoch == a local epoch: the logs agree up to
 *     min(leader_end, the local end of that epoch) — truncate there;
 *   - leader_epoch is not a local epoch: ask about the largest local epoch
 *     below leader_epoch (or truncate to the local start if none).
 * The result is never above local_leo. If it is below local_hw the action
 * is ISR_BELOW_HW (with *offset set). */
int isr_truncation_point(const struct isr_epoch_entry *local, int32_t n, int64_t local_leo,
			 int64_t local_hw, int32_t asked, int32_t leader_epoch, int64_t leader_end,
			 int64_t *offset, int32_t *epoch);

/* A follower learned the leader's HW from a fetch response: its own HW
 * becomes min(leader_hw, local_leo) if that is higher (never lower). */
void isr_follower_hw(struct isr_partition *ip, int64_t leader_hw, int64_t local_leo);

#endif
