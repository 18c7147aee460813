/*
 * kp_epoch — OffsetForLeaderEpoch v0-3 (classic encodings; v4 is the first
 * flexible version). Layout, per Kafka's OffsetForLeaderEpoch*.json:
 *
 * Request
 *   replica_id  int32                                       v3+
 *   topics      [topic string,
 *                partitions [partition int32,
 *                            current_leader_epoch int32 (v2+),
 *                            leader_epoch int32]]
 * Response
 *   throttle_time_ms int32                                  v2+
 *   topics      [topic string,
 *                partitions [error_code int16, partition int32,
 *                            leader_epoch int32 (v1+), end_offset int64]]
 */
#include "kp_epoch.h"

#include "kp_api.h"

#define MIN_TOPIC      6  /* name, partitions count */
#define MIN_PARTITION  8  /* partition, leader_epoch */
#define MIN_END_OFFSET 14 /* error, partition, end_offset */

static const int16_t API = KP_API_OFFSET_FOR_LEADER_EPOCH;

int kp_epoch_request_decode(struct kp_reader *r, int16_t version, struct kp_epoch_request *req)
{
	if (kp_api_begin_decode(r, API, version))
		return r->kr_err;
	req->replica_id = version >= 3 ? kp_read_int32(r) : KP_EPOCH_REPLICA_DEBUG;
	req->topics =
		kp_read_struct_array(r, false, MIN_TOPIC, sizeof(*req->topics), &req->topics_count);
	for (int32_t i = 0; i < req->topics_count && !r->kr_err; i++) {
		struct kp_epoch_topic *t = &req->topics[i];
		t->topic = kp_read_string(r);
		t->partitions = kp_read_struct_array(r, false, MIN_PARTITION,
						     sizeof(*t->partitions), &t->partitions_count);
		for (int32_t j = 0; j < t->partitions_count && !r->kr_err; j++) {
			struct kp_epoch_partition *p = &t->partitions[j];
			p->partition = kp_read_int32(r);
			p->current_leader_epoch = version >= 2 ? kp_read_int32(r) : -1;
			p->leader_epoch = kp_read_int32(r);
		}
	}
	return kp_reader_finish(r);
}

int kp_epoch_request_encode(struct kp_writer *w, int16_t version,
			    const struct kp_epoch_request *req)
{
	if (kp_api_begin_encode(w, API, version))
		return w->kw_err;
	if (version >= 3)
		kp_write_int32(w, req->replica_id);
	kp_write_array_begin(w, req->topics, req->topics_count, false);
	for (int32_t i = 0; i < req->topics_count && !w->kw_err; i++) {
		const struct kp_epoch_topic *t = &req->topics[i];
		kp_write_string(w, t->topic);
		kp_write_array_begin(w, t->partitions, t->partitions_count, false);
		for (int32_t j = 0; j < t->partitions_count && !w->kw_err; j++) {
			const struct kp_epoch_partition *p = &t->partitions[j];
			kp_write_int32(w, p->partition);
			if (version >= 2)
				kp_write_int32(w, p->current_leader_epoch);
			kp_write_int32(w, p->leader_epoch);
		}
	}
	return w->kw_err;
}

int kp_epoch_response_decode(struct kp_reader *r, int16_t version, struct kp_epoch_response *resp)
{
	if (kp_api_begin_decode(r, API, version))
		return r->kr_err;
	resp->throttle_time_ms = version >= 2 ? kp_read_int32(r) : 0;
	resp->topics = kp_read_struct_array(r, false, MIN_TOPIC, sizeof(*resp->topics),
					    &resp->topics_count);
	for (int32_t i = 0; i < resp->topics_count && !r->kr_err; i++) {
		struct kp_epoch_topic_result *t = &resp->topics[i];
		t->topic = kp_read_string(r);
		t->partitions = kp_read_struct_array(r, false, MIN_END_OFFSET,
						     sizeof(*t->partitions), &t->partitions_count);
		for (int32_t j = 0; j < t->partitions_count && !r->kr_err; j++) {
			struct kp_epoch_end_offset *p = &t->partitions[j];
			p->error_code = kp_read_int16(r);
			p->partition = kp_read_int32(r);
			p->leader_epoch = version >= 1 ? kp_read_int32(r) : -1;
			p->end_offset = kp_read_int64(r);
		}
	}
	return kp_reader_finish(r);
}

int kp_epoch_response_encode(struct kp_writer *w, int16_t version,
			     const struct kp_epoch_response *resp)
{
	if (kp_api_begin_encode(w, API, version))
		return w->kw_err;
	if (version >= 2)
		kp_write_int32(w, resp->throttle_time_ms);
	kp_write_array_begin(w, resp->topics, resp->topics_count, false);
	for (int32_t i = 0; i < resp->topics_count && !w->kw_err; i++) {
		const struct kp_epoch_topic_result *t = &resp->topics[i];
		kp_write_string(w, t->topic);
		kp_write_array_begin(w, t->partitions, t->partitions_count, false);
		for (int32_t j = 0; j < t->partitions_count && !w->kw_err; j++) {
			const struct kp_epoch_end_offset *p = &t->partitions[j];
			kp_write_int16(w, p->error_code);
			kp_write_int32(w, p->partition);
			if (version >= 1)
				kp_write_int32(w, p->leader_epoch);
			kp_write_int64(w, p->end_offset);
		}
	}
	return w->kw_err;
}
