/*
 * listoffsets — the ListOffsets handler: earliest (-2), latest (-1) and by
 * timestamp, per partition.
 *
 * "Latest" is the high watermark, never the log end: a consumer told to
 * start at the end must not be handed an offset it could not read yet.
 * A timestamp lookup answers the first offset whose record timestamp is
 * at or after it, below the HW (exact for uncompressed batches, the
 * batch's first offset for compressed ones), or -1/-1 when there is none.
 * Version 0 answers in its old form: a list with one offset.
 */
#include <string.h>

#include "api.h"
#include "broker.h"
#include "conn.h"
#include "kp_api.h"
#include "partition.h"
#include "replica.h"

#define LISTOFFSETS_EARLIEST (-2)
#define LISTOFFSETS_LATEST   (-1)

static void listoffsets_one(struct broker *b, struct kreq *rq, struct kp_str topic,
			    const struct kp_listoffsets_partition *in,
			    struct kp_listoffsets_partition_response *out)
{
	int err;
	out->partition_index = in->partition_index;
	out->timestamp = -1;
	out->offset = -1;
	struct partition *p =
		api_leader_partition(b, topic.ptr, topic.len, in->partition_index, &err);
	if (!p) {
		out->error_code = (int16_t)err;
		return;
	}
	int64_t offset = -1, ts = -1;
	if (in->timestamp == LISTOFFSETS_EARLIEST) {
		offset = plog_start_offset(p->pt_log);
	} else if (in->timestamp == LISTOFFSETS_LATEST) {
		/* KIP-207: a new leader whose HW has not reached the start of its
		 * epoch may be behind what the previous leader answered; rather
		 * than a lower "latest", say "not yet" (retriable). */
		if (p->pt_hw < p->pt_isr.ip_epoch_start) {
			out->error_code = KP_ERR_LEADER_NOT_AVAILABLE;
			return;
		}
		offset = p->pt_hw;
	} else if (in->timestamp >= 0) {
		int rc =
			plog_offset_for_timestamp(p->pt_log, in->timestamp, p->pt_hw, &offset, &ts);
		if (rc < 0) {
			out->error_code = KP_ERR_KAFKA_STORAGE_ERROR;
			return;
		}
		if (rc == 0)
			offset = ts = -1;
	} else {
		out->error_code = KP_ERR_INVALID_REQUEST;
		return;
	}
	if (rq->rq_hdr.request_api_version == 0) {
		if (offset >= 0 && in->max_num_offsets > 0) {
			out->old_style_offsets = kreq_alloc(rq, 1, sizeof(int64_t));
			if (out->old_style_offsets) {
				out->old_style_offsets[0] = offset;
				out->old_style_offsets_count = 1;
			}
		}
		return;
	}
	out->offset = offset;
	out->timestamp = ts;
}

void listoffsets_handle(struct broker *b, struct kreq *rq)
{
	const struct kp_listoffsets_request *req = &rq->rq_body.list_offsets;
	union kp_response_body resp;
	struct kp_listoffsets_response *r = &resp.list_offsets;
	memset(r, 0, sizeof(*r));
	r->topics = kreq_alloc(rq, (size_t)req->topics_count, sizeof(*r->topics));
	if (req->topics_count && !r->topics) {
		conn_close(rq->rq_conn, "no memory for a ListOffsets response");
		return;
	}
	r->topics_count = req->topics_count;
	for (int32_t i = 0; i < req->topics_count; i++) {
		const struct kp_listoffsets_topic *t = &req->topics[i];
		struct kp_listoffsets_topic_response *tr = &r->topics[i];
		tr->name = t->name;
		tr->partitions =
			kreq_alloc(rq, (size_t)t->partitions_count, sizeof(*tr->partitions));
		if (t->partitions_count && !tr->partitions) {
			conn_close(rq->rq_conn, "no memory for a ListOffsets response");
			return;
		}
		tr->partitions_count = t->partitions_count;
		for (int32_t j = 0; j < t->partitions_count; j++)
			listoffsets_one(b, rq, t->name, &t->partitions[j], &tr->partitions[j]);
	}
	kreq_respond(rq, &resp);
}
