/*
 * epochs — the OffsetForLeaderEpoch handler (KIP-101/KIP-279): "where does
 * leader epoch E end in your log?", asked by followers finding where their
 * log diverges from the leader's (and by consumers checking for truncation,
 * KIP-320).
 *
 * Only the leader answers (NOT_LEADER_OR_FOLLOWER elsewhere), after the
 * current_leader_epoch check (v2+: FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH).
 * The answer comes from the log's epoch history exactly as Kafka's cache
 * answers it (log/epoch_cache.h): the largest known epoch <= E and the start
 * of the next one, or the log end for the current epoch.
 */
#include <string.h>

#include "api.h"
#include "broker.h"
#include "conn.h"
#include "kp_api.h"
#include "partition.h"

static void epochs_one(struct broker *b, struct kp_str topic, const struct kp_epoch_partition *in,
		       struct kp_epoch_end_offset *out)
{
	int err;
	out->partition = in->partition;
	out->leader_epoch = -1;
	out->end_offset = -1;
	struct partition *p = api_leader_partition_at(b, topic.ptr, topic.len, in->partition,
						      in->current_leader_epoch, &err);
	if (!p) {
		out->error_code = (int16_t)err;
		return;
	}
	epoch_cache_end_offset(plog_epochs(p->pt_log), in->leader_epoch, plog_end_offset(p->pt_log),
			       &out->leader_epoch, &out->end_offset);
}

void epochs_handle(struct broker *b, struct kreq *rq)
{
	const struct kp_epoch_request *req = &rq->rq_body.offset_for_leader_epoch;
	union kp_response_body resp;
	struct kp_epoch_response *r = &resp.offset_for_leader_epoch;
	memset(r, 0, sizeof(*r));
	r->topics = kreq_alloc(rq, (size_t)req->topics_count, sizeof(*r->topics));
	if (req->topics_count && !r->topics) {
		conn_close(rq->rq_conn, "no memory for an OffsetForLeaderEpoch response");
		return;
	}
	r->topics_count = req->topics_count;
	for (int32_t i = 0; i < req->topics_count; i++) {
		const struct kp_epoch_topic *t = &req->topics[i];
		struct kp_epoch_topic_result *tr = &r->topics[i];
		tr->topic = t->topic;
		tr->partitions =
			kreq_alloc(rq, (size_t)t->partitions_count, sizeof(*tr->partitions));
		if (t->partitions_count && !tr->partitions) {
			conn_close(rq->rq_conn, "no memory for an OffsetForLeaderEpoch response");
			return;
		}
		tr->partitions_count = t->partitions_count;
		for (int32_t j = 0; j < t->partitions_count; j++)
			epochs_one(b, t->topic, &t->partitions[j], &tr->partitions[j]);
	}
	kreq_respond(rq, &resp);
}
