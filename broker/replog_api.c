/*
 * replog_api — handlers of replog's own inter-broker APIs (client/kp_replog.h):
 *
 *   ReplogBrokerRegister, ReplogBrokerHeartbeat, ReplogAlterPartition
 *       served by the controller (NOT_CONTROLLER elsewhere) through
 *       controller.c; register and alter answer once their records are
 *       durable, heartbeats at once;
 *   ReplogDescribeReplicas, ReplogListDiscarded
 *       served by every broker about the replicas it holds: their roles,
 *       offsets (log start, end, flushed, HW), the ISR as this replica knows
 *       it, the leader's view of each follower, and the writes truncation
 *       discarded (discarded/). `replog topics describe` and `replog
 *       discarded` ask every broker and put the answers together.
 */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "broker.h"
#include "cluster.h"
#include "conn.h"
#include "controller.h"
#include "quorum.h"
#include "kp_api.h"
#include "partition.h"
#include "replica.h"

/* ---- controller APIs ---------------------------------------------------- */

static void replog_registered(void *ctx, int err, const char *msg, int64_t value)
{
	struct kreq *rq = ctx;
	union kp_response_body resp;
	struct kp_replog_register_response *r = &resp.replog_broker_register;
	memset(r, 0, sizeof(*r));
	r->error_code = (int16_t)err;
	r->broker_epoch = err ? -1 : value;
	r->controller_epoch = 0;
	r->error_message = KP_STR_NULL;
	if (msg) {
		size_t n = strlen(msg);
		char *m = kreq_alloc(rq, n + 1, 1);
		if (m) {
			memcpy(m, msg, n + 1);
			r->error_message = (struct kp_str){m, (int32_t)n};
		}
	}
	if (!rq->rq_orphan)
		kreq_respond(rq, &resp);
	kreq_unref(rq);
}

void replog_register_handle(struct broker *b, struct kreq *rq)
{
	struct controller *ctl = cluster_controller(b);
	kreq_ref(rq);
	if (!ctl) {
		replog_registered(rq, KP_ERR_NOT_CONTROLLER, "not the controller", -1);
		return;
	}
	ctl_register(ctl, &rq->rq_body.replog_broker_register, replog_registered, rq);
}

void replog_heartbeat_handle(struct broker *b, struct kreq *rq)
{
	struct controller *ctl = cluster_controller(b);
	union kp_response_body resp;
	if (!ctl) {
		memset(&resp, 0, sizeof(resp));
		resp.replog_broker_heartbeat.error_code = KP_ERR_NOT_CONTROLLER;
	} else {
		ctl_heartbeat(ctl, &rq->rq_body.replog_broker_heartbeat,
			      &resp.replog_broker_heartbeat);
	}
	kreq_respond(rq, &resp);
}

struct replog_alter_state {
	struct kreq *ra_rq;
	union kp_response_body ra_resp;
	int ra_pending;
};

struct replog_alter_item {
	struct replog_alter_state *ri_state;
	struct kp_replog_alter_partition_result *ri_out;
	const struct kp_str *ri_topic;
};

static void replog_alter_finish(struct replog_alter_state *ra)
{
	if (--ra->ra_pending > 0)
		return;
	if (!ra->ra_rq->rq_orphan)
		kreq_respond(ra->ra_rq, &ra->ra_resp);
	kreq_unref(ra->ra_rq);
}

static void replog_altered(void *ctx, int err, const char *msg, int64_t value)
{
	struct replog_alter_item *ri = ctx;
	struct kreq *rq = ri->ri_state->ra_rq;
	(void)msg;
	(void)value;
	ri->ri_out->error_code = (int16_t)err;
	/* The state now committed (or still current, on refusal). */
	struct controller *ctl = cluster_controller(rq->rq_conn->cn_broker);
	const struct meta_partition *mp =
		ctl ? meta_partition(ctl_image(ctl), ri->ri_topic->ptr, ri->ri_topic->len,
				     ri->ri_out->partition_index)
		    : NULL;
	if (mp) {
		ri->ri_out->leader_id = mp->mp_leader;
		ri->ri_out->leader_epoch = mp->mp_leader_epoch;
		ri->ri_out->partition_epoch = mp->mp_partition_epoch;
		int32_t *isr = kreq_alloc(rq, (size_t)mp->mp_nisr, sizeof(int32_t));
		int32_t *elr = kreq_alloc(rq, (size_t)mp->mp_nelr, sizeof(int32_t));
		if (isr)
			memcpy(isr, mp->mp_isr, (size_t)mp->mp_nisr * sizeof(int32_t));
		if (elr)
			memcpy(elr, mp->mp_elr, (size_t)mp->mp_nelr * sizeof(int32_t));
		ri->ri_out->isr = isr;
		ri->ri_out->isr_count = isr ? mp->mp_nisr : 0;
		ri->ri_out->elr = elr;
		ri->ri_out->elr_count = elr ? mp->mp_nelr : 0;
	}
	replog_alter_finish(ri->ri_state);
}

void replog_alter_handle(struct broker *b, struct kreq *rq)
{
	const struct kp_replog_alter_request *req = &rq->rq_body.replog_alter_partition;
	struct controller *ctl = cluster_controller(b);
	struct replog_alter_state *ra = kreq_alloc(rq, 1, sizeof(*ra));
	struct kp_replog_alter_response *r = ra ? &ra->ra_resp.replog_alter_partition : NULL;
	if (r)
		r->topics = kreq_alloc(rq, (size_t)req->topics_count, sizeof(*r->topics));
	if (!ra || (req->topics_count && !r->topics)) {
		conn_close(rq->rq_conn, "no memory for an AlterPartition response");
		return;
	}
	ra->ra_rq = rq;
	ra->ra_pending = 1;
	kreq_ref(rq);
	r->topics_count = req->topics_count;
	if (!ctl)
		r->error_code = KP_ERR_NOT_CONTROLLER;
	for (int32_t i = 0; ctl && i < req->topics_count; i++) {
		const struct kp_replog_alter_topic *t = &req->topics[i];
		struct kp_replog_alter_topic_result *tr = &r->topics[i];
		tr->name = t->name;
		tr->partitions =
			kreq_alloc(rq, (size_t)t->partitions_count, sizeof(*tr->partitions));
		struct replog_alter_item *items =
			kreq_alloc(rq, (size_t)t->partitions_count, sizeof(*items));
		if (t->partitions_count && (!tr->partitions || !items))
			break;
		tr->partitions_count = t->partitions_count;
		for (int32_t j = 0; j < t->partitions_count; j++) {
			tr->partitions[j].partition_index = t->partitions[j].partition_index;
			tr->partitions[j].leader_id = -1;
			items[j] = (struct replog_alter_item){ra, &tr->partitions[j], &t->name};
			ra->ra_pending++;
			ctl_alter_partition(ctl, req->broker_id, req->broker_epoch, t->name.ptr,
					    t->name.len, &t->partitions[j], replog_altered,
					    &items[j]);
		}
	}
	replog_alter_finish(ra);
}

/* ---- about the replicas here -------------------------------------------- */

static bool replog_wanted_topic(const struct kp_replog_describe_request *req, const struct topic *t,
				const struct kp_replog_describe_topic **which)
{
	*which = NULL;
	if (req->topics_count < 0)
		return true;
	for (int32_t i = 0; i < req->topics_count; i++)
		if (req->topics[i].name.len == t->tp_name_len &&
		    memcmp(req->topics[i].name.ptr, t->tp_name, (size_t)t->tp_name_len) == 0) {
			*which = &req->topics[i];
			return true;
		}
	return false;
}

static bool replog_wanted_partition(const struct kp_replog_describe_topic *which, int32_t p)
{
	if (!which || which->partitions_count < 0)
		return true;
	for (int32_t i = 0; i < which->partitions_count; i++)
		if (which->partitions[i] == p)
			return true;
	return false;
}

static int32_t *replog_ids(struct kreq *rq, const int32_t *ids, int32_t n, int32_t *count)
{
	int32_t *out = kreq_alloc(rq, (size_t)n, sizeof(int32_t));
	if (out)
		memcpy(out, ids, (size_t)n * sizeof(int32_t));
	*count = out ? n : 0;
	return out;
}

static void replog_describe_one(struct broker *b, struct kreq *rq, struct partition *p,
				struct kp_replog_replica *out)
{
	const struct isr_partition *ip = &p->pt_isr;
	int32_t ids[ISR_MAX_REPLICAS], n;
	out->partition_index = p->pt_index;
	out->role = ip->ip_role == ISR_ROLE_LEADER     ? KP_REPLOG_ROLE_LEADER
		    : ip->ip_role == ISR_ROLE_FOLLOWER ? KP_REPLOG_ROLE_FOLLOWER
						       : KP_REPLOG_ROLE_NONE;
	out->leader_id = ip->ip_leader;
	out->leader_epoch = p->pt_leader_epoch;
	out->partition_epoch = ip->ip_partition_epoch;
	out->log_start_offset = plog_start_offset(p->pt_log);
	out->log_end_offset = plog_end_offset(p->pt_log);
	out->flushed_offset = plog_flushed_offset(p->pt_log);
	out->high_watermark = p->pt_hw;
	out->error_code = (int16_t)p->pt_storage_error;
	out->discarded_events = (int32_t)p->pt_discard_events;
	out->discarded_records = p->pt_discard_records;
	for (n = 0; n < ip->ip_nreplicas; n++)
		ids[n] = ip->ip_replicas[n].ir_id;
	out->replicas = replog_ids(rq, ids, n, &out->replicas_count);
	n = isr_committed(ip, ids);
	out->isr = replog_ids(rq, ids, n, &out->isr_count);
	n = 0;
	for (int32_t i = 0; i < ip->ip_nreplicas; i++)
		if (ip->ip_replicas[i].ir_in_elr)
			ids[n++] = ip->ip_replicas[i].ir_id;
	out->elr = replog_ids(rq, ids, n, &out->elr_count);
	if (ip->ip_role != ISR_ROLE_LEADER || ip->ip_nreplicas <= 1)
		return;
	out->followers = kreq_alloc(rq, (size_t)ip->ip_nreplicas, sizeof(*out->followers));
	for (int32_t i = 0; out->followers && i < ip->ip_nreplicas; i++) {
		const struct isr_replica *r = &ip->ip_replicas[i];
		if (r->ir_id == ip->ip_self)
			continue;
		out->followers[out->followers_count++] = (struct kp_replog_follower){
			.replica_id = r->ir_id,
			.log_end_offset = r->ir_leo,
			.caught_up_ms_ago =
				r->ir_last_caught_up_ms >= 0
					? b->b_reactor.re_now_ms - r->ir_last_caught_up_ms
					: -1,
		};
	}
}

void replog_describe_handle(struct broker *b, struct kreq *rq)
{
	const struct kp_replog_describe_request *req = &rq->rq_body.replog_describe_replicas;
	union kp_response_body resp;
	struct kp_replog_describe_response *r = &resp.replog_describe_replicas;
	memset(r, 0, sizeof(*r));
	r->broker_id = b->b_cfg.bc_id;
	uint32_t nt = topics_count(b->b_topics);
	r->topics = kreq_alloc(rq, nt, sizeof(*r->topics));
	for (uint32_t i = 0; r->topics && i < nt; i++) {
		struct topic *t = topics_at(b->b_topics, i);
		const struct kp_replog_describe_topic *which;
		if (t->tp_parts[0].pt_internal || !replog_wanted_topic(req, t, &which))
			continue;
		struct kp_replog_replica_topic *tr = &r->topics[r->topics_count];
		tr->name = (struct kp_str){t->tp_name, t->tp_name_len};
		tr->partitions =
			kreq_alloc(rq, (size_t)t->tp_partition_count, sizeof(*tr->partitions));
		for (int32_t p = 0; tr->partitions && p < t->tp_partition_count; p++)
			if (t->tp_parts[p].pt_log && replog_wanted_partition(which, p))
				replog_describe_one(b, rq, &t->tp_parts[p],
						    &tr->partitions[tr->partitions_count++]);
		if (tr->partitions_count > 0)
			r->topics_count++;
	}
	kreq_respond(rq, &resp);
}

struct replog_discard_ctx {
	struct kreq *rd_rq;
	struct kp_replog_discarded_response *rd_resp;
	int32_t rd_cap;
	const struct topic *rd_topic;
	int32_t rd_partition;
};

static struct kp_str replog_copy(struct kreq *rq, const char *s)
{
	size_t n = strlen(s);
	char *m = kreq_alloc(rq, n + 1, 1);
	if (!m)
		return KP_STR("");
	memcpy(m, s, n + 1);
	return (struct kp_str){m, (int32_t)n};
}

static int replog_discard_cb(void *ctx, const struct discard_info *di)
{
	struct replog_discard_ctx *rd = ctx;
	struct kp_replog_discarded_response *r = rd->rd_resp;
	if (r->entries_count >= rd->rd_cap)
		return 1;
	r->entries[r->entries_count++] = (struct kp_replog_discarded_entry){
		.topic = {rd->rd_topic->tp_name, rd->rd_topic->tp_name_len},
		.partition = rd->rd_partition,
		.name = replog_copy(rd->rd_rq, di->di_name),
		.reason = replog_copy(rd->rd_rq, di->di_reason),
		.detail = replog_copy(rd->rd_rq, di->di_detail),
		.time_ms = di->di_time_ms,
		.first_offset = di->di_first_offset,
		.next_offset = di->di_next_offset,
		.batches = (int32_t)di->di_batches,
		.bytes = (int64_t)di->di_bytes,
		.epoch_min = di->di_epoch_min,
		.epoch_max = di->di_epoch_max,
	};
	return 0;
}

void replog_discarded_handle(struct broker *b, struct kreq *rq)
{
	const struct kp_replog_discarded_request *req = &rq->rq_body.replog_list_discarded;
	union kp_response_body resp;
	struct kp_replog_discarded_response *r = &resp.replog_list_discarded;
	memset(r, 0, sizeof(*r));
	r->broker_id = b->b_cfg.bc_id;
	struct replog_discard_ctx rd = {.rd_rq = rq, .rd_resp = r, .rd_cap = REPLOG_DISCARDED_MAX};
	r->entries = kreq_alloc(rq, (size_t)rd.rd_cap, sizeof(*r->entries));
	uint32_t nt = topics_count(b->b_topics);
	for (uint32_t i = 0; r->entries && i < nt; i++) {
		struct topic *t = topics_at(b->b_topics, i);
		bool wanted = req->topics_count < 0;
		for (int32_t k = 0; !wanted && k < req->topics_count; k++)
			wanted =
				req->topics[k].len == t->tp_name_len &&
				memcmp(req->topics[k].ptr, t->tp_name, (size_t)t->tp_name_len) == 0;
		if (!wanted || t->tp_parts[0].pt_internal)
			continue;
		rd.rd_topic = t;
		for (int32_t p = 0; p < t->tp_partition_count; p++) {
			if (!t->tp_parts[p].pt_log)
				continue;
			rd.rd_partition = p;
			discard_list(plog_dir_fd(t->tp_parts[p].pt_log), replog_discard_cb, &rd);
		}
	}
	kreq_respond(rq, &resp);
}

void replog_raft_handle(struct broker *b, struct kreq *rq)
{
	union kp_response_body resp;
	memset(&resp, 0, sizeof(resp));
	resp.replog_raft.error_code = (int16_t)qr_recv(cluster_quorum(b), &rq->rq_body.replog_raft);
	kreq_respond(rq, &resp);
}

static void *replog_alloc(void *ctx, size_t n, size_t size)
{
	return kreq_alloc(ctx, n, size);
}

void replog_quorum_handle(struct broker *b, struct kreq *rq)
{
	union kp_response_body resp;
	struct kp_replog_describe_quorum_response *r = &resp.replog_describe_quorum;
	memset(r, 0, sizeof(*r));
	r->broker_id = b->b_cfg.bc_id;
	struct quorum *q = cluster_quorum(b);
	if (!q) {
		r->error_code = KP_ERR_BROKER_NOT_AVAILABLE;
		kreq_respond(rq, &resp);
		return;
	}
	qr_describe(q, r, replog_alloc, rq);
	const struct meta_image *mi = cluster_image(b);
	r->metadata_offset = mi->mi_next_offset;
	struct controller *ctl = cluster_controller(b);
	r->brokers = mi->mi_nbrokers ? kreq_alloc(rq, (size_t)mi->mi_nbrokers, sizeof(*r->brokers))
				     : NULL;
	for (int i = 0; r->brokers && i < mi->mi_nbrokers; i++) {
		const struct meta_broker *mb = &mi->mi_brokers[i];
		r->brokers[r->brokers_count++] = (struct kp_replog_quorum_broker){
			.id = mb->mb_id,
			.address = kp_str_from_cstr(mb->mb_address),
			.broker_epoch = mb->mb_epoch,
			.registered = mb->mb_registered,
			.fenced = mb->mb_fenced,
			.shutting_down = mb->mb_shutting_down,
			.session_ms_ago = ctl ? ctl_session_age_ms(ctl, mb->mb_id) : -1,
		};
	}
	kreq_respond(rq, &resp);
}
