/*
 * produce — the Produce handler: validate, append in place, answer when
 * the acks level is met.
 *
 * Per partition of the request:
 *   1. find (or auto-create) the partition;
 *   2. validate every batch without decoding records on the hot path:
 *      length, magic 2, CRC-32C (CORRUPT_MESSAGE when it fails or the
 *      batch is cut short; INVALID_RECORD for a magic other than 2),
 *      size <= the topic's max_message_bytes (MESSAGE_TOO_LARGE), no
 *      transactional or control batches (replog has no transactions yet:
 *      INVALID_RECORD), lastOffsetDelta == recordsCount - 1 as producers
 *      send it, and for uncompressed batches the record framing and offset
 *      deltas (INVALID_RECORD); compressed batches are stored as sent;
 *   3. append as leader: offsets and the leader epoch are stamped into the
 *      request's own bytes, which stay alive until the write completes;
 *   4. wait: acks=0 for the write only (no response is ever sent); acks=1
 *      for the write, or for its fdatasync when the flush policy flushes
 *      every append; acks=all for the high watermark to pass the batch
 *      (isr/: NOT_ENOUGH_REPLICAS before appending when the ISR is below
 *      min_insync_replicas, NOT_ENOUGH_REPLICAS_AFTER_APPEND if it falls
 *      below while waiting, NOT_LEADER_OR_FOLLOWER if leadership is lost,
 *      KAFKA_STORAGE_ERROR if the write or its fsync failed: a storage
 *      error fails every waiter of the partition with it, never an
 *      acknowledgement, and crash-stops the broker, replica.c).
 * Only the leader accepts writes, and only while its lease from the
 * controller is valid.
 * The response is sent when every partition is done, or at timeout_ms with
 * REQUEST_TIMED_OUT for those still waiting (their outcome is then unknown
 * to the client, as in Kafka).
 */
#include <string.h>

#include "api.h"
#include "batch.h"
#include "blog.h"
#include "broker.h"
#include "cluster.h"
#include "conn.h"
#include "kp_api.h"
#include "partition.h"
#include "record.h"
#include "replica.h"
#include "rlassert.h"
#include "rlerr.h"

struct produce_state;

struct produce_part {
	struct produce_state *pp_state;
	struct kp_produce_partition_response *pp_resp;
	struct partition *pp_part; /* valid while pp_isr_wait is linked */
	struct plog_append pp_append;
	struct pwait pp_wait;	       /* acks=1 */
	struct isr_waiter pp_isr_wait; /* acks=all */
	int pp_pending;		       /* the write, and the wait for the acks level */
};

struct produce_state {
	struct kreq *ps_rq;
	union kp_response_body ps_resp;
	struct produce_part **ps_parts; /* per topic of the request */
	int ps_pending;			/* partitions not done */
	bool ps_answered;
};

static void produce_answer(struct produce_state *ps)
{
	struct kreq *rq = ps->ps_rq;
	if (ps->ps_answered)
		return;
	ps->ps_answered = true;
	if (rq->rq_body.produce.acks == 0)
		kreq_silent(rq);
	else
		kreq_respond(rq, &ps->ps_resp);
	if (timer_armed(&rq->rq_timer)) {
		timer_cancel(&rq->rq_conn->cn_broker->b_reactor.re_timers, &rq->rq_timer);
		kreq_unref(rq); /* the timer's reference, last: rq may go now */
	}
}

static void produce_part_done(struct produce_part *pp)
{
	struct produce_state *ps = pp->pp_state;
	if (--pp->pp_pending > 0)
		return;
	if (--ps->ps_pending == 0)
		produce_answer(ps);
}

static void produce_written(struct plog_append *pa, int res)
{
	struct produce_part *pp = pa->pa_ctx;
	struct kreq *rq = pp->pp_state->ps_rq;
	if (res < 0 && !pp->pp_state->ps_answered) {
		pp->pp_resp->error_code = KP_ERR_KAFKA_STORAGE_ERROR;
		pp->pp_resp->base_offset = -1;
	}
	produce_part_done(pp);
	kreq_unref(rq);
}

static void produce_acked(struct pwait *w, int err)
{
	struct produce_part *pp = w->pw_ctx;
	struct kreq *rq = pp->pp_state->ps_rq;
	if (err && !pp->pp_state->ps_answered) {
		pp->pp_resp->error_code = (int16_t)err;
		pp->pp_resp->base_offset = -1;
	}
	produce_part_done(pp);
	kreq_unref(rq);
}

static void produce_isr_acked(struct isr_waiter *w, int verdict)
{
	static const int16_t errs[] = {
		[ISR_OK] = KP_ERR_NONE,
		[ISR_FAIL_NOT_ENOUGH_REPLICAS] = KP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND,
		[ISR_FAIL_NOT_LEADER] = KP_ERR_NOT_LEADER_OR_FOLLOWER,
		[ISR_FAIL_CANCELLED] = KP_ERR_REQUEST_TIMED_OUT,
	};
	struct produce_part *pp = w->iw_ctx;
	int err = verdict >= 0 && verdict <= ISR_FAIL_CANCELLED ? errs[verdict]
								: KP_ERR_UNKNOWN_SERVER_ERROR;
	/* The leadership was given up because the log failed
	 * (replica_storage_failed): say so. */
	if (err == KP_ERR_NOT_LEADER_OR_FOLLOWER && pp->pp_part->pt_storage_error)
		err = KP_ERR_KAFKA_STORAGE_ERROR;
	produce_acked(&pp->pp_wait, err);
}

static void produce_timeout(struct timer *t)
{
	struct kreq *rq = t->tm_ctx;
	struct produce_state *ps = rq->rq_handler_state;
	struct kp_produce_response *r = &ps->ps_resp.produce;
	/* Partitions still waiting: the outcome is unknown to the client. */
	for (int32_t i = 0; i < r->responses_count; i++)
		for (int32_t j = 0; j < r->responses[i].partition_responses_count; j++) {
			struct produce_part *pp = &ps->ps_parts[i][j];
			if (pp->pp_pending > 0)
				pp->pp_resp->error_code = KP_ERR_REQUEST_TIMED_OUT;
			/* Stop waiting for the HW: the answer is going now. */
			if (pp->pp_isr_wait.iw_linked) {
				isr_waiter_cancel(&pp->pp_part->pt_isr, &pp->pp_isr_wait);
				produce_part_done(pp);
				kreq_unref(ps->ps_rq);
			}
		}
	produce_answer(ps);
	kreq_unref(rq); /* the timer's reference */
}

/* Kafka error for a batch that fails validation. */
static int produce_batch_error(int rc)
{
	switch (rc) {
	case RL_EMAGIC:
		return KP_ERR_INVALID_RECORD;
	case RL_EINVAL_RECORD:
		return KP_ERR_INVALID_RECORD;
	default:
		return KP_ERR_CORRUPT_MESSAGE; /* CRC, truncation, impossible header */
	}
}

/* Validate the batches of one partition's records. */
static int produce_validate(const struct topic *t, const struct kp_records *rec)
{
	if (rec->len <= 0)
		return KP_ERR_INVALID_RECORD;
	if (rec->len > t->tp_cfg.tc_segment_bytes)
		return KP_ERR_RECORD_LIST_TOO_LARGE;
	struct batch_iter it;
	struct batch_header h;
	const uint8_t *b;
	size_t size;
	int rc;
	batch_iter_init(&it, rec->ptr, (size_t)rec->len);
	while ((rc = batch_iter_next(&it, &h, &b, &size)) == 1) {
		if (size > (size_t)t->tp_cfg.tc_max_message_bytes)
			return KP_ERR_MESSAGE_TOO_LARGE;
		if (h.bh_attributes & (BATCH_ATTR_TRANSACTIONAL | BATCH_ATTR_CONTROL))
			return KP_ERR_INVALID_RECORD;
		if (h.bh_records_count <= 0 || h.bh_last_offset_delta != h.bh_records_count - 1)
			return KP_ERR_INVALID_RECORD;
		if (batch_codec(&h) == BATCH_CODEC_NONE &&
		    record_validate(b + BATCH_HEADER_BYTES, size - BATCH_HEADER_BYTES,
				    h.bh_records_count, h.bh_last_offset_delta, NULL) < 0)
			return KP_ERR_INVALID_RECORD;
	}
	return rc < 0 ? produce_batch_error(rc) : KP_ERR_NONE;
}

static int produce_append_error(int rc)
{
	switch (rc) {
	case RL_EFENCED:
		return KP_ERR_KAFKA_STORAGE_ERROR;
	case RL_ETOO_LARGE:
		return KP_ERR_RECORD_LIST_TOO_LARGE;
	case RL_EORDER:
		return KP_ERR_NOT_LEADER_OR_FOLLOWER;
	default:
		return rc <= RL_EBASE && rc > RL_ELAST ? produce_batch_error(rc)
						       : KP_ERR_KAFKA_STORAGE_ERROR;
	}
}

/* Validate, append and register the wait for one partition. */
static void produce_partition(struct broker *b, struct produce_state *ps, struct produce_part *pp,
			      const struct kp_str topic, const struct kp_produce_partition_data *pd)
{
	struct kreq *rq = ps->ps_rq;
	struct kp_produce_partition_response *pr = pp->pp_resp;
	int16_t acks = rq->rq_body.produce.acks;
	pr->index = pd->index;
	pr->base_offset = -1;
	pr->log_append_time_ms = -1;
	pr->log_start_offset = -1;
	if (acks != 0 && acks != 1 && acks != -1) {
		pr->error_code = KP_ERR_INVALID_REQUIRED_ACKS;
		return;
	}
	int err = KP_ERR_NONE;
	char why[256];
	if (!topics_valid_name(topic.ptr, topic.len, why, sizeof(why))) {
		pr->error_code = KP_ERR_INVALID_TOPIC_EXCEPTION;
		return;
	}
	struct partition *p = api_leader_partition(b, topic.ptr, topic.len, pd->index, &err);
	if (!p) {
		pr->error_code = (int16_t)err;
		return;
	}
	if (!cluster_lease_valid(b)) {
		/* Cut off from the controller: another leader may be elected. */
		pr->error_code = KP_ERR_NOT_LEADER_OR_FOLLOWER;
		return;
	}
	if (acks == -1 && !isr_accepts_acks_all(&p->pt_isr)) {
		pr->error_code = KP_ERR_NOT_ENOUGH_REPLICAS;
		return;
	}
	err = produce_validate(p->pt_topic, &pd->records);
	if (err) {
		pr->error_code = (int16_t)err;
		return;
	}
	pp->pp_append = (struct plog_append){.pa_done = produce_written, .pa_ctx = pp};
	int rc = plog_append_leader(p->pt_log, &pp->pp_append, pd->records.ptr,
				    (size_t)pd->records.len, p->pt_leader_epoch);
	if (rc < 0) {
		pr->error_code = (int16_t)produce_append_error(rc);
		/* A segment roll or a leader-epoch checkpoint failed on disk. */
		if (broker_is_storage_error(rc))
			replica_storage_failed(b, p, "append", rc);
		return;
	}
	pr->base_offset = pp->pp_append.pa_base_offset;
	pr->log_start_offset = plog_start_offset(p->pt_log);
	p->pt_metrics.mp_bytes_in += (uint64_t)pd->records.len;
	p->pt_metrics.mp_records_in +=
		(uint64_t)(pp->pp_append.pa_last_offset - pp->pp_append.pa_base_offset + 1);
	ps->ps_pending++;
	pp->pp_pending = 1;
	kreq_ref(rq); /* the write */
	if (acks == 0)
		return;
	pp->pp_pending++;
	kreq_ref(rq); /* the wait */
	pp->pp_wait = (struct pwait){.pw_target = pp->pp_append.pa_last_offset + 1,
				     .pw_done = produce_acked,
				     .pw_ctx = pp};
	if (acks == -1) {
		pp->pp_part = p;
		pp->pp_isr_wait = (struct isr_waiter){.iw_target = pp->pp_wait.pw_target,
						      .iw_done = produce_isr_acked,
						      .iw_ctx = pp};
		isr_waiter_add(&p->pt_isr, &pp->pp_isr_wait);
	} else if (p->pt_flush_every_append)
		partition_wait_flushed(p, &pp->pp_wait);
	else
		partition_wait_written(p, &pp->pp_wait);
}

static void produce_run(struct broker *b, struct kreq *rq);

#define PRODUCE_CREATE_WAIT_MS 3000

/* Topics of the request the metadata does not know yet, creation asked. */
static bool produce_needs_topics(struct broker *b, const struct kp_produce_request *req)
{
	bool wait = false;
	for (int32_t i = 0; i < req->topic_data_count; i++) {
		struct kp_str name = req->topic_data[i].name;
		const struct meta_topic *t = meta_topic(cluster_image(b), name.ptr, name.len);
		if (!t) {
			wait = api_auto_create(b, name.ptr, name.len) || wait;
			continue;
		}
		for (int32_t p = 0; p < t->mt_npartitions; p++)
			if (t->mt_parts[p].mp_leader < 0 && wait)
				return true;
	}
	return wait;
}

void produce_handle(struct broker *b, struct kreq *rq)
{
	/* Topics created on first use (auto_create_topics): wait for them
	 * (bounded) so the first produce succeeds, as Kafka users expect. */
	const struct kp_produce_request *req = &rq->rq_body.produce;
	if (produce_needs_topics(b, req)) {
		struct kp_str *names =
			kreq_alloc(rq, (size_t)req->topic_data_count, sizeof(*names));
		for (int32_t i = 0; names && i < req->topic_data_count; i++)
			names[i] = req->topic_data[i].name;
		/* Held: later requests must not overtake it. */
		if (names && api_wait_topics(b, rq, names, req->topic_data_count,
					     PRODUCE_CREATE_WAIT_MS, true, produce_run))
			return;
	}
	produce_run(b, rq);
}

static void produce_run(struct broker *b, struct kreq *rq)
{
	const struct kp_produce_request *req = &rq->rq_body.produce;
	struct produce_state *ps = kreq_alloc(rq, 1, sizeof(*ps));
	struct kp_produce_response *r = ps ? &ps->ps_resp.produce : NULL;
	if (ps) {
		ps->ps_rq = rq;
		r->responses = kreq_alloc(rq, (size_t)req->topic_data_count, sizeof(*r->responses));
	}
	if (!ps || (req->topic_data_count > 0 && !r->responses)) {
		conn_close(rq->rq_conn, "no memory for a Produce response");
		return;
	}
	rq->rq_handler_state = ps;
	r->responses_count = req->topic_data_count;
	ps->ps_parts = kreq_alloc(rq, (size_t)req->topic_data_count, sizeof(*ps->ps_parts));
	if (req->topic_data_count > 0 && !ps->ps_parts) {
		conn_close(rq->rq_conn, "no memory for a Produce response");
		return;
	}
	ps->ps_pending = 1; /* held while partitions are being set up */
	for (int32_t i = 0; i < req->topic_data_count; i++) {
		const struct kp_produce_topic_data *td = &req->topic_data[i];
		struct kp_produce_topic_response *tr = &r->responses[i];
		tr->name = td->name;
		tr->partition_responses = kreq_alloc(rq, (size_t)td->partition_data_count,
						     sizeof(*tr->partition_responses));
		struct produce_part *pps =
			kreq_alloc(rq, (size_t)td->partition_data_count, sizeof(*pps));
		if (td->partition_data_count > 0 && (!tr->partition_responses || !pps)) {
			conn_close(rq->rq_conn, "no memory for a Produce response");
			return;
		}
		tr->partition_responses_count = td->partition_data_count;
		ps->ps_parts[i] = pps;
		for (int32_t j = 0; j < td->partition_data_count; j++) {
			pps[j].pp_state = ps;
			pps[j].pp_resp = &tr->partition_responses[j];
			produce_partition(b, ps, &pps[j], td->name, &td->partition_data[j]);
		}
	}
	if (req->acks != 0 && ps->ps_pending > 1) {
		int64_t timeout = req->timeout_ms > 0 ? req->timeout_ms : 0;
		rq->rq_timer.tm_fn = produce_timeout;
		if (timer_arm(&b->b_reactor.re_timers, &rq->rq_timer,
			      b->b_reactor.re_now_ms + timeout) == 0)
			kreq_ref(rq); /* the timer */
	}
	if (--ps->ps_pending == 0)
		produce_answer(ps);
}
