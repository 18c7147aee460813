/*
 * fetch — the Fetch handler: long polling, read only below the high
 * watermark, whole batches.
 *
 * A fetch is answered at once when any partition has an error, when
 * max_wait_ms is 0, or when at least min_bytes are readable below the HW
 * across its partitions. Otherwise it is parked: it watches each of its
 * partitions and sets a timer at max_wait_ms (capped by
 * limits.max_fetch_wait_ms); an HW move re-checks it; the timer answers
 * with whatever is there.
 *
 * Answering reads in two passes: first the slices each partition can
 * serve (whole batches, at most partition_max_bytes per partition and
 * max_bytes in all, except that the first batch of the first partition
 * with data is always returned whole, KIP-74, so a consumer can make
 * progress past a batch bigger than its limits), then one buffer of the
 * total size and a copy of every slice into it.
 *
 * Followers (replica_id >= 0) read everything written on the leader, not
 * only below the HW; the offset each one fetches from is recorded as its
 * LEO (isr/: it may move the HW and the ISR). They fetch from the leader
 * only.
 *
 * Consumers (replica_id < 0) read from the leader or from a follower
 * (fetch from replica, KIP-392): a broker serves a consumer from its own
 * replica when it leads the partition, or when it is one of the
 * partition's replicas by the current metadata and is following (not a
 * replica that refused to truncate or fell behind the leader's log start:
 * those hold a history the leader no longer has). Either way a consumer
 * reads only below this replica's own HW. A follower's HW is the one it
 * learned from the leader's fetch answers, capped by what it has made
 * durable itself (fetcher.c, isr_follower_hw), so it never runs ahead of
 * the leader's and only covers records this replica holds; it moves when a
 * fetch answer arrives, and partition_hw_moved() wakes the consumer fetches
 * parked here exactly as the leader's HW moves wake those parked on the
 * leader. The leader reports an HW move only with its next answer, which
 * it holds up to the fetcher's max wait (500 ms) when there is no new data:
 * a follower shows a write that long after the leader does.
 *
 * A follower lags the leader: its HW (and its log end, while catching up)
 * may be below a position a consumer already reached on the leader.
 * OFFSET_OUT_OF_RANGE would make the client reset its position, so on a
 * follower an offset at or above its HW — even above its log end — is
 * answered with no records, no error and the follower's HW, after the
 * usual long poll: the consumer stays where it is and gets the records
 * once this replica has them and knows them committed. The price: a
 * position beyond the leader's log end too is never refused by a
 * follower; the leader (or ListOffsets to it) is what says
 * OFFSET_OUT_OF_RANGE there. Below the log start a follower answers
 * OFFSET_OUT_OF_RANGE as the leader does. The leader's rule that a new
 * leader answers LEADER_NOT_AVAILABLE until its HW reaches the start of
 * its epoch has no follower counterpart: a follower's HW is its own and
 * only moves forward (but for the truncation that joins an unclean
 * election's history, fetcher.c).
 *
 * Errors per partition: NOT_LEADER_OR_FOLLOWER (not a replica here, or
 * a replica that may not serve), UNKNOWN_TOPIC_OR_PARTITION,
 * OFFSET_OUT_OF_RANGE (below the log start; on the leader also above the
 * log end), FENCED_LEADER_EPOCH and UNKNOWN_LEADER_EPOCH (the request's
 * current_leader_epoch, v9+, is older or newer than the leader epoch this
 * replica knows, on a follower as on the leader), LEADER_NOT_AVAILABLE (a
 * new leader's HW not yet at its epoch start), KAFKA_STORAGE_ERROR.
 * preferred_read_replica is always -1: the leader does not send consumers
 * to a follower; a client that goes to one on its own is served. Sessions
 * (KIP-227) are not kept: session_id 0 tells clients to send full
 * fetches.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "blog.h"
#include "broker.h"
#include "cluster.h"
#include "conn.h"
#include "kp_api.h"
#include "meta.h"
#include "partition.h"
#include "replica.h"
#include "rlerr.h"

#define FETCH_MAX_RESPONSE_BYTES       (64 << 20)
#define FETCH_MAX_SLICES_PER_PARTITION 16

struct fetch_state;

struct fetch_part {
	struct fetch_state *fp_state;
	int16_t fp_refused;	       /* a follower's fetch refused at arrival */
	const struct kp_str *fp_topic; /* in the request */
	const struct kp_fetch_partition *fp_req;
	struct kp_fetch_partition_data *fp_resp;
	struct pwatch fp_watch;
};

struct fetch_state {
	struct kreq *fs_rq;
	union kp_response_body fs_resp;
	struct fetch_part *fs_parts;
	int32_t fs_nparts;
	bool fs_parked;
	bool fs_answered;
};

/* Followers read everything written; consumers only below the HW. */
static bool fetch_is_replica(const struct fetch_part *fp)
{
	return fp->fp_state->fs_rq->rq_body.fetch.replica_id >= 0;
}

/* May this broker's follower replica p answer consumers? Only while the
 * current metadata names this broker among the partition's replicas (a
 * replica removed from the assignment keeps its log until it is dropped)
 * and while it follows; one that refused to truncate (PFS_FAILED) holds
 * records the leader does not. */
static bool fetch_follower_serves(struct broker *b, const struct partition *p)
{
	if (p->pt_isr.ip_role != ISR_ROLE_FOLLOWER || p->pt_fetch_state == PFS_FAILED)
		return false;
	const struct meta_partition *mp = meta_partition(cluster_image(b), p->pt_topic->tp_name,
							 p->pt_topic->tp_name_len, p->pt_index);
	return mp && meta_ids_contain(mp->mp_replicas, mp->mp_nreplicas, b->b_cfg.bc_id);
}

/* The replica a consumer reads from: this broker's, if it leads the
 * partition or follows it (see the header), in current_leader_epoch (-1:
 * any). Else NULL with *err: what api_partition() says, then
 * UNKNOWN_LEADER_EPOCH (the caller is ahead of us: checked first, as in
 * api_leader_partition_at), NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH
 * (the caller is behind). */
static struct partition *fetch_consumer_partition(struct broker *b, const struct fetch_part *fp,
						  int *err)
{
	int32_t epoch = fp->fp_req->current_leader_epoch;
	struct partition *p =
		api_partition(b, fp->fp_topic->ptr, fp->fp_topic->len, fp->fp_req->partition, err);
	if (!p)
		return NULL;
	if (epoch > p->pt_leader_epoch) {
		*err = KP_ERR_UNKNOWN_LEADER_EPOCH;
		return NULL;
	}
	if (!replica_is_leader(p) && !fetch_follower_serves(b, p)) {
		*err = KP_ERR_NOT_LEADER_OR_FOLLOWER;
		return NULL;
	}
	if (epoch >= 0 && epoch < p->pt_leader_epoch) {
		*err = KP_ERR_FENCED_LEADER_EPOCH;
		return NULL;
	}
	return p;
}

static int64_t fetch_limit(const struct fetch_part *fp, const struct partition *p)
{
	return fetch_is_replica(fp) ? plog_written_offset(p->pt_log) : p->pt_hw;
}

/* Check one partition: a Kafka error, or 0 with *avail = bytes readable. */
static int fetch_check(struct broker *b, const struct fetch_part *fp, struct partition **out,
		       int64_t *avail)
{
	int err;
	*avail = 0;
	*out = NULL;
	if (fp->fp_refused)
		return fp->fp_refused;
	struct partition *p =
		fetch_is_replica(fp)
			? api_leader_partition_at(b, fp->fp_topic->ptr, fp->fp_topic->len,
						  fp->fp_req->partition,
						  fp->fp_req->current_leader_epoch, &err)
			: fetch_consumer_partition(b, fp, &err);
	*out = p;
	if (!p)
		return err;
	bool leader = replica_is_leader(p);
	/* A new leader's HW starts where it learned it, possibly below what
	 * the previous leader showed: consumers wait (retriable) until it
	 * reaches the start of this epoch, as ListOffsets does (KIP-207). */
	if (leader && !fetch_is_replica(fp) && p->pt_hw < p->pt_isr.ip_epoch_start) {
		*out = NULL;
		return KP_ERR_LEADER_NOT_AVAILABLE;
	}
	int64_t off = fp->fp_req->fetch_offset;
	if (off < plog_start_offset(p->pt_log))
		return KP_ERR_OFFSET_OUT_OF_RANGE;
	/* Above a follower's log end: it lags, the consumer waits (header). */
	if (leader && off > plog_end_offset(p->pt_log))
		return KP_ERR_OFFSET_OUT_OF_RANGE;
	int64_t limit = fetch_limit(fp, p);
	if (off >= limit)
		return 0;
	struct plog_slice s;
	int rc = plog_read(p->pt_log, off, (uint32_t)fp->fp_req->partition_max_bytes, limit, true,
			   &s);
	if (rc < 0)
		return KP_ERR_KAFKA_STORAGE_ERROR;
	if (rc == 1) {
		*avail = s.ps_len;
		plog_slice_release(&s);
	}
	return 0;
}

static void fetch_fill_meta(struct kp_fetch_partition_data *pd, const struct partition *p)
{
	pd->high_watermark = p ? p->pt_hw : -1;
	pd->last_stable_offset = p ? p->pt_hw : -1;
	pd->log_start_offset = p ? plog_start_offset(p->pt_log) : -1;
	pd->aborted_transactions_count = -1; /* no transactions: null */
	pd->preferred_read_replica = -1;
	pd->records = (struct kp_bytes){NULL, 0};
}

struct fetch_slices {
	struct plog_slice fsl_s[FETCH_MAX_SLICES_PER_PARTITION];
	int fsl_n;
};

/* Pass 1 for one partition: the slices to send, below `limit`. */
static uint64_t fetch_collect(struct partition *p, const struct kp_fetch_partition *fr,
			      int64_t limit, uint64_t budget_left, bool first_data,
			      struct fetch_slices *sl)
{
	uint64_t part_left = (uint64_t)(fr->partition_max_bytes > 0 ? fr->partition_max_bytes : 0);
	if (part_left > budget_left)
		part_left = budget_left;
	uint64_t got = 0;
	int64_t off = fr->fetch_offset;
	sl->fsl_n = 0;
	while (off < limit && sl->fsl_n < FETCH_MAX_SLICES_PER_PARTITION) {
		struct plog_slice *s = &sl->fsl_s[sl->fsl_n];
		bool min_one = first_data && got == 0;
		uint32_t max =
			part_left - got > UINT32_MAX ? UINT32_MAX : (uint32_t)(part_left - got);
		if (plog_read(p->pt_log, off, max, limit, min_one, s) != 1)
			break;
		if (s->ps_len == 0) {
			plog_slice_release(s);
			break;
		}
		got += s->ps_len;
		off = s->ps_next_offset;
		sl->fsl_n++;
		if (got >= part_left)
			break;
	}
	return got;
}

static void fetch_unwatch_all(struct fetch_state *fs)
{
	for (int32_t i = 0; i < fs->fs_nparts; i++)
		partition_unwatch(&fs->fs_parts[i].fp_watch);
}

static void fetch_answer(struct broker *b, struct fetch_state *fs)
{
	struct kreq *rq = fs->fs_rq;
	if (fs->fs_answered)
		return;
	fs->fs_answered = true;
	fetch_unwatch_all(fs);
	const struct kp_fetch_request *req = &rq->rq_body.fetch;
	uint64_t budget = req->max_bytes > 0 ? (uint64_t)req->max_bytes : 0;
	if (budget > FETCH_MAX_RESPONSE_BYTES)
		budget = FETCH_MAX_RESPONSE_BYTES;
	struct fetch_slices *slices = calloc((size_t)fs->fs_nparts, sizeof(*slices));
	uint64_t total = 0;
	for (int32_t i = 0; slices && i < fs->fs_nparts; i++) {
		struct fetch_part *fp = &fs->fs_parts[i];
		struct partition *p;
		int64_t avail;
		int err = fetch_check(b, fp, &p, &avail);
		fp->fp_resp->partition_index = fp->fp_req->partition;
		fp->fp_resp->error_code = (int16_t)err;
		fetch_fill_meta(fp->fp_resp, p);
		if (err || !p || total >= budget)
			continue;
		uint64_t got = fetch_collect(p, fp->fp_req, fetch_limit(fp, p), budget - total,
					     total == 0, &slices[i]);
		total += got;
		if (req->replica_id < 0 && slices[i].fsl_n > 0) { /* consumers, not replicas */
			const struct fetch_slices *sl = &slices[i];
			int64_t from = sl->fsl_s[0].ps_first_offset > fp->fp_req->fetch_offset
					       ? sl->fsl_s[0].ps_first_offset
					       : fp->fp_req->fetch_offset;
			p->pt_metrics.mp_bytes_out += got;
			p->pt_metrics.mp_records_out +=
				(uint64_t)(sl->fsl_s[sl->fsl_n - 1].ps_next_offset - from);
		}
	}
	uint8_t *data = slices && total ? malloc(total) : NULL;
	uint64_t at = 0;
	for (int32_t i = 0; slices && i < fs->fs_nparts; i++) {
		struct fetch_slices *sl = &slices[i];
		uint64_t start = at;
		for (int k = 0; k < sl->fsl_n; k++) {
			struct plog_slice *s = &sl->fsl_s[k];
			if (data && plog_slice_copy(s, data + at, s->ps_len) == (int64_t)s->ps_len)
				at += s->ps_len;
			else
				fs->fs_parts[i].fp_resp->error_code = KP_ERR_KAFKA_STORAGE_ERROR;
			plog_slice_release(s);
		}
		if (at > start)
			fs->fs_parts[i].fp_resp->records =
				(struct kp_bytes){data + start, (int32_t)(at - start)};
	}
	free(slices);
	rq->rq_data = data;
	timer_cancel(&b->b_reactor.re_timers, &rq->rq_timer);
	kreq_respond(rq, &fs->fs_resp);
	if (fs->fs_parked) {
		fs->fs_parked = false;
		kreq_unref(rq); /* the parking's reference, last */
	}
}

/* Is the fetch satisfied now? */
static bool fetch_ready(struct broker *b, struct fetch_state *fs)
{
	const struct kp_fetch_request *req = &fs->fs_rq->rq_body.fetch;
	if (req->max_wait_ms <= 0 || b->b_serving_stopped)
		return true;
	int64_t bytes = 0;
	for (int32_t i = 0; i < fs->fs_nparts; i++) {
		struct partition *p;
		int64_t avail;
		if (fetch_check(b, &fs->fs_parts[i], &p, &avail))
			return true;
		bytes += avail;
	}
	return bytes >= (req->min_bytes > 0 ? req->min_bytes : 1);
}

static void fetch_watch_all(struct broker *b, struct fetch_state *fs)
{
	for (int32_t i = 0; i < fs->fs_nparts; i++) {
		struct fetch_part *fp = &fs->fs_parts[i];
		int err;
		struct partition *p = api_partition(b, fp->fp_topic->ptr, fp->fp_topic->len,
						    fp->fp_req->partition, &err);
		if (p && !fp->fp_watch.pwt_part)
			partition_watch(p, &fp->fp_watch);
	}
}

static void fetch_wake(struct pwatch *w)
{
	struct fetch_part *fp = w->pwt_ctx;
	struct fetch_state *fs = fp->fp_state;
	struct broker *b = fs->fs_rq->rq_conn->cn_broker;
	if (fs->fs_answered)
		return;
	if (fetch_ready(b, fs))
		fetch_answer(b, fs);
	else
		fetch_watch_all(b, fs);
}

static void fetch_timeout(struct timer *t)
{
	struct kreq *rq = t->tm_ctx;
	fetch_answer(rq->rq_conn->cn_broker, rq->rq_handler_state);
}

/* The connection closed while the fetch was parked. */
static void fetch_cancel(struct kreq *rq)
{
	struct fetch_state *fs = rq->rq_handler_state;
	if (!fs || !fs->fs_parked)
		return;
	fs->fs_answered = true;
	fetch_unwatch_all(fs);
	timer_cancel(&rq->rq_conn->cn_broker->b_reactor.re_timers, &rq->rq_timer);
	fs->fs_parked = false;
	kreq_unref(rq);
}

void fetch_handle(struct broker *b, struct kreq *rq)
{
	const struct kp_fetch_request *req = &rq->rq_body.fetch;
	struct fetch_state *fs = kreq_alloc(rq, 1, sizeof(*fs));
	int32_t n = 0;
	for (int32_t i = 0; i < req->topics_count; i++)
		n += req->topics[i].partitions_count;
	struct kp_fetch_response *r = fs ? &fs->fs_resp.fetch : NULL;
	if (fs) {
		fs->fs_rq = rq;
		fs->fs_parts = n ? kreq_alloc(rq, (size_t)n, sizeof(*fs->fs_parts)) : NULL;
		r->responses = kreq_alloc(rq, (size_t)req->topics_count, sizeof(*r->responses));
	}
	if (!fs || (n && !fs->fs_parts) || (req->topics_count && !r->responses)) {
		conn_close(rq->rq_conn, "no memory for a Fetch response");
		return;
	}
	rq->rq_handler_state = fs;
	r->responses_count = req->topics_count;
	for (int32_t i = 0, k = 0; i < req->topics_count; i++) {
		const struct kp_fetch_topic *ft = &req->topics[i];
		struct kp_fetch_topic_response *tr = &r->responses[i];
		tr->topic = ft->topic;
		tr->partitions =
			kreq_alloc(rq, (size_t)ft->partitions_count, sizeof(*tr->partitions));
		if (ft->partitions_count && !tr->partitions) {
			conn_close(rq->rq_conn, "no memory for a Fetch response");
			return;
		}
		tr->partitions_count = ft->partitions_count;
		for (int32_t j = 0; j < ft->partitions_count; j++, k++) {
			struct fetch_part *fp = &fs->fs_parts[k];
			fp->fp_state = fs;
			fp->fp_topic = &ft->topic;
			fp->fp_req = &ft->partitions[j];
			fp->fp_resp = &tr->partitions[j];
			fp->fp_watch = (struct pwatch){.pwt_wake = fetch_wake, .pwt_ctx = fp};
		}
	}
	fs->fs_nparts = n;
	if (req->replica_id >= 0) {
		/* A follower's fetch offset is its LEO: record it once, now. An
		 * entry refused here is answered with that error. */
		for (int32_t i = 0; i < n; i++) {
			struct fetch_part *fp = &fs->fs_parts[i];
			int err;
			struct partition *p = api_partition(b, fp->fp_topic->ptr, fp->fp_topic->len,
							    fp->fp_req->partition, &err);
			if (p)
				err = replica_follower_fetch(b, p, req->replica_id,
							     fp->fp_req->current_leader_epoch,
							     fp->fp_req->fetch_offset);
			fp->fp_refused = (int16_t)err;
		}
	}
	if (fetch_ready(b, fs)) {
		fetch_answer(b, fs);
		return;
	}
	int64_t wait = req->max_wait_ms;
	if (wait > b->b_cfg.bc_max_fetch_wait_ms)
		wait = b->b_cfg.bc_max_fetch_wait_ms;
	rq->rq_timer.tm_fn = fetch_timeout;
	rq->rq_cancel = fetch_cancel;
	if (timer_arm(&b->b_reactor.re_timers, &rq->rq_timer, b->b_reactor.re_now_ms + wait) < 0) {
		fetch_answer(b, fs);
		return;
	}
	fs->fs_parked = true;
	kreq_ref(rq); /* held while parked */
	fetch_watch_all(b, fs);
}
