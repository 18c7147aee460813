/*
 * replica — role changes and the leader's side of the ISR protocol (see
 * replica.h; the rules themselves are in isr/isr.h).
 */
#include "replica.h"

#include <stdio.h>

#include "blog.h"
#include "broker.h"
#include "cluster.h"
#include "fetcher.h"
#include "kp_api.h"
#include "rlerr.h"

/* How long the leader waits for the controller's answer to an ISR change
 * before sending it again. */
#define REPLICA_ALTER_RESEND_MS 5000

static int64_t replica_now(const struct broker *b)
{
	return b->b_reactor.re_now_ms;
}

void replica_after_isr(struct broker *b, struct partition *p, int flags)
{
	/* Not only on ISR_HW_ADVANCED: becoming leader may move it too. */
	partition_hw_moved(p);
	isr_waiters_release(&p->pt_isr);
	if ((flags & ISR_PROPOSE) && replica_now(b) >= p->pt_alter_quiet_until_ms) {
		int32_t isr[ISR_MAX_REPLICAS];
		int32_t n = isr_proposal(&p->pt_isr, isr, replica_now(b));
		p->pt_alter_resend_ms = replica_now(b) + REPLICA_ALTER_RESEND_MS;
		cluster_alter_partition(b, p, isr, n);
	}
}

void replica_storage_failed(struct broker *b, struct partition *p, const char *op, int err)
{
	if (!p->pt_storage_failed) {
		p->pt_storage_failed = true;
		p->pt_storage_error = KP_ERR_KAFKA_STORAGE_ERROR;
		/* Nothing this log holds past what was acknowledged may be
		 * acknowledged now: produce requests waiting on it (acks=1 and
		 * acks=all, whose ISR waiters fail here) get KAFKA_STORAGE_ERROR
		 * (produce.c maps the lost leadership to it), followers are
		 * refused (not the leader any more), this replica stops
		 * following. */
		isr_become_follower(&p->pt_isr, -1, p->pt_leader_epoch,
				    p->pt_isr.ip_partition_epoch, NULL, 0, NULL, 0);
		fetcher_unfollow(p);
		partition_fail_all(p, KP_ERR_KAFKA_STORAGE_ERROR);
	}
	broker_storage_failed(b, p->pt_topic->tp_name, p->pt_index, plog_dir_fd(p->pt_log), op,
			      err);
}

void replica_on_progress(void *ctx, struct partition *p)
{
	struct broker *b = ctx;
	if (partition_progress(p)) {
		/* The log is fenced (a write or fsync failed). */
		replica_storage_failed(b, p, NULL, plog_error(p->pt_log));
		return;
	}
	if (replica_is_leader(p))
		replica_after_isr(b, p, isr_leader_leo(&p->pt_isr, partition_durable_end(p)));
	else if (p->pt_isr.ip_role == ISR_ROLE_FOLLOWER)
		fetcher_progress(p);
}

static void replica_become_leader(struct broker *b, struct partition *p,
				  const struct meta_partition *mp)
{
	fetcher_unfollow(p);
	int rc = plog_begin_epoch(p->pt_log, mp->mp_leader_epoch);
	if (rc < 0 && broker_is_storage_error(rc)) {
		/* The leader-epoch checkpoint could not be written or fsynced. */
		replica_storage_failed(b, p, "leader-epoch checkpoint", rc);
		return;
	}
	if (rc < 0) {
		char b1[BLOG_I64_BUF];
		blog(BLOG_ERROR, "leader_epoch_not_recorded", "topic", p->pt_topic->tp_name,
		     "partition", blog_i64(b1, p->pt_index), "error", rl_strerror(rc), NULL);
		p->pt_storage_error = KP_ERR_KAFKA_STORAGE_ERROR;
		return;
	}
	isr_become_leader(&p->pt_isr, mp->mp_leader_epoch, mp->mp_partition_epoch, mp->mp_isr,
			  mp->mp_nisr, mp->mp_elr, mp->mp_nelr, partition_durable_end(p),
			  replica_now(b));
	p->pt_leader_epoch = mp->mp_leader_epoch;
	char b1[BLOG_I64_BUF], b2[BLOG_I64_BUF], b3[BLOG_I64_BUF], b4[BLOG_I64_BUF], isr[256];
	meta_ids_format(isr, sizeof(isr), mp->mp_isr, mp->mp_nisr);
	blog(BLOG_INFO, "became_leader", "topic", p->pt_topic->tp_name, "partition",
	     blog_i64(b1, p->pt_index), "leader_epoch", blog_i64(b2, mp->mp_leader_epoch),
	     "log_end", blog_i64(b3, plog_end_offset(p->pt_log)), "hw", blog_i64(b4, p->pt_hw),
	     "isr", isr, NULL);
	replica_after_isr(b, p, isr_leader_leo(&p->pt_isr, partition_durable_end(p)));
}

static void replica_become_follower(struct broker *b, struct partition *p,
				    const struct meta_partition *mp)
{
	bool was_leader = replica_is_leader(p);
	/* Produce requests waiting here will not be acknowledged by this replica. */
	partition_fail_all(p, KP_ERR_NOT_LEADER_OR_FOLLOWER);
	isr_become_follower(&p->pt_isr, mp->mp_leader, mp->mp_leader_epoch, mp->mp_partition_epoch,
			    mp->mp_isr, mp->mp_nisr, mp->mp_elr, mp->mp_nelr);
	p->pt_leader_epoch = mp->mp_leader_epoch;
	fetcher_unfollow(p);
	if (mp->mp_leader >= 0)
		fetcher_follow(b, p, mp->mp_leader);
	if (was_leader)
		cluster_heartbeat_soon(b);
	char b1[BLOG_I64_BUF], b2[BLOG_I64_BUF], b3[BLOG_I64_BUF];
	blog(was_leader ? BLOG_INFO : BLOG_DEBUG, "became_follower", "topic", p->pt_topic->tp_name,
	     "partition", blog_i64(b1, p->pt_index), "leader", blog_i64(b2, mp->mp_leader),
	     "leader_epoch", blog_i64(b3, mp->mp_leader_epoch), NULL);
}

void replica_apply(struct broker *b, struct partition *p, const struct meta_topic *t,
		   const struct meta_partition *mp)
{
	int32_t self = b->b_cfg.bc_id;
	if (p->pt_isr.ip_nreplicas == 0)
		isr_init(&p->pt_isr, self, mp->mp_replicas, mp->mp_nreplicas,
			 t->mt_cfg.tc_min_insync_replicas, b->b_cfg.bc_lag_max_ms, p->pt_hw);
	else
		isr_set_replicas(&p->pt_isr, mp->mp_replicas, mp->mp_nreplicas);
	if (p->pt_storage_error)
		return;
	bool new_term = p->pt_leader_epoch != mp->mp_leader_epoch;
	if (mp->mp_leader == self) {
		if (!replica_is_leader(p) || new_term)
			replica_become_leader(b, p, mp);
		else
			replica_after_isr(b, p,
					  isr_change_committed(&p->pt_isr, mp->mp_isr, mp->mp_nisr,
							       mp->mp_elr, mp->mp_nelr,
							       mp->mp_partition_epoch));
		return;
	}
	if (p->pt_isr.ip_role != ISR_ROLE_FOLLOWER || new_term ||
	    p->pt_isr.ip_leader != mp->mp_leader)
		replica_become_follower(b, p, mp);
	else
		isr_become_follower(&p->pt_isr, mp->mp_leader, mp->mp_leader_epoch,
				    mp->mp_partition_epoch, mp->mp_isr, mp->mp_nisr, mp->mp_elr,
				    mp->mp_nelr);
}

void replica_stop(struct broker *b, struct partition *p, int err)
{
	(void)b;
	isr_become_follower(&p->pt_isr, -1, p->pt_leader_epoch, p->pt_isr.ip_partition_epoch, NULL,
			    0, NULL, 0);
	fetcher_unfollow(p);
	partition_fail_all(p, err);
}

int replica_follower_fetch(struct broker *b, struct partition *p, int32_t replica,
			   int32_t current_leader_epoch, int64_t fetch_offset)
{
	if (current_leader_epoch > p->pt_leader_epoch)
		return KP_ERR_UNKNOWN_LEADER_EPOCH; /* first: see api_leader_partition_at */
	if (!replica_is_leader(p))
		return KP_ERR_NOT_LEADER_OR_FOLLOWER;
	if (current_leader_epoch >= 0 && current_leader_epoch < p->pt_leader_epoch)
		return KP_ERR_FENCED_LEADER_EPOCH;
	if (!isr_replica(&p->pt_isr, replica))
		return KP_ERR_NOT_LEADER_OR_FOLLOWER;
	if (fetch_offset < plog_start_offset(p->pt_log) ||
	    fetch_offset > plog_end_offset(p->pt_log))
		return KP_ERR_OFFSET_OUT_OF_RANGE;
	replica_after_isr(b, p,
			  isr_follower_fetch(&p->pt_isr, replica, fetch_offset, replica_now(b)));
	return 0;
}

void replica_tick(struct broker *b, struct partition *p)
{
	if (!replica_is_leader(p) || p->pt_storage_error)
		return;
	struct isr_partition *ip = &p->pt_isr;
	int64_t now = replica_now(b);
	for (int32_t i = 0; i < ip->ip_nreplicas; i++)
		isr_set_eligible(ip, ip->ip_replicas[i].ir_id,
				 cluster_broker_may_join(b, ip->ip_replicas[i].ir_id));
	/* No answer (or a failed one): the same proposal again, at the same
	 * epochs, so at most one copy can ever be applied. */
	if (ip->ip_change_pending && now >= p->pt_alter_resend_ms) {
		p->pt_alter_resend_ms = now + REPLICA_ALTER_RESEND_MS;
		cluster_alter_partition(b, p, ip->ip_proposed_isr, ip->ip_nproposed);
	}
	replica_after_isr(b, p, isr_tick(ip, now));
}
