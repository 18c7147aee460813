/*
 * kp_listoffsets — ListOffsets v0-2 (classic encodings; v6 is the first
 * flexible version). Layout, per Kafka's ListOffsetsRequest/Response.json:
 *
 * Request
 *   replica_id       int32
 *   isolation_level  int8                              v2+
 *   topics           [name string,
 *                     partitions [partition_index int32, timestamp int64,
 *                                 max_num_offsets int32 (v0 only)]]
 *
 * Response
 *   throttle_time_ms int32                             v2+
 *   topics           [name string,
 *                     partitions [partition_index int32, error_code int16,
 *                                 old_style_offsets [int64] (v0 only),
 *                                 timestamp int64 (v1+), offset int64 (v1+)]]
 */
#include "kp_listoffsets.h"

#include "kp_api.h"

#define MIN_TOPIC	       6  /* name, partitions count */
#define MIN_PARTITION	       12 /* index, timestamp */
#define MIN_PARTITION_RESPONSE 10 /* index, error, offsets count (v0) */

static const int16_t API = KP_API_LIST_OFFSETS;

int kp_listoffsets_request_decode(struct kp_reader *r, int16_t version,
				  struct kp_listoffsets_request *req)
{
	if (kp_api_begin_decode(r, API, version))
		return r->kr_err;
	req->replica_id = kp_read_int32(r);
	req->isolation_level = version >= 2 ? kp_read_int8(r) : 0;
	req->topics =
		kp_read_struct_array(r, false, MIN_TOPIC, sizeof(*req->topics), &req->topics_count);
	for (int32_t i = 0; i < req->topics_count && !r->kr_err; i++) {
		struct kp_listoffsets_topic *t = &req->topics[i];
		t->name = kp_read_string(r);
		t->partitions = kp_read_struct_array(r, false, MIN_PARTITION,
						     sizeof(*t->partitions), &t->partitions_count);
		for (int32_t j = 0; j < t->partitions_count && !r->kr_err; j++) {
			struct kp_listoffsets_partition *p = &t->partitions[j];
			p->partition_index = kp_read_int32(r);
			p->timestamp = kp_read_int64(r);
			p->max_num_offsets = version == 0 ? kp_read_int32(r) : 1;
		}
	}
	return kp_reader_finish(r);
}

int kp_listoffsets_request_encode(struct kp_writer *w, int16_t version,
				  const struct kp_listoffsets_request *req)
{
	if (kp_api_begin_encode(w, API, version))
		return w->kw_err;
	kp_write_int32(w, req->replica_id);
	if (version >= 2)
		kp_write_int8(w, req->isolation_level);
	kp_write_array_begin(w, req->topics, req->topics_count, false);
	for (int32_t i = 0; i < req->topics_count && !w->kw_err; i++) {
		const struct kp_listoffsets_topic *t = &req->topics[i];
		kp_write_string(w, t->name);
		kp_write_array_begin(w, t->partitions, t->partitions_count, false);
		for (int32_t j = 0; j < t->partitions_count && !w->kw_err; j++) {
			const struct kp_listoffsets_partition *p = &t->partitions[j];
			kp_write_int32(w, p->partition_index);
			kp_write_int64(w, p->timestamp);
			if (version == 0)
				kp_write_int32(w, p->max_num_offsets);
		}
	}
	return w->kw_err;
}

static void decode_partition_response(struct kp_reader *r, int16_t version,
				      struct kp_listoffsets_partition_response *p)
{
	p->partition_index = kp_read_int32(r);
	p->error_code = kp_read_int16(r);
	p->old_style_offsets = NULL;
	p->old_style_offsets_count = 0;
	if (version == 0)
		p->old_style_offsets = kp_read_int64_array(r, false, &p->old_style_offsets_count);
	p->timestamp = version >= 1 ? kp_read_int64(r) : -1;
	p->offset = version >= 1 ? kp_read_int64(r) : -1;
}

int kp_listoffsets_response_decode(struct kp_reader *r, int16_t version,
				   struct kp_listoffsets_response *resp)
{
	if (kp_api_begin_decode(r, API, version))
		return r->kr_err;
	resp->throttle_time_ms = version >= 2 ? kp_read_int32(r) : 0;
	resp->topics = kp_read_struct_array(r, false, MIN_TOPIC, sizeof(*resp->topics),
					    &resp->topics_count);
	for (int32_t i = 0; i < resp->topics_count && !r->kr_err; i++) {
		struct kp_listoffsets_topic_response *t = &resp->topics[i];
		t->name = kp_read_string(r);
		t->partitions = kp_read_struct_array(r, false, MIN_PARTITION_RESPONSE,
						     sizeof(*t->partitions), &t->partitions_count);
		for (int32_t j = 0; j < t->partitions_count && !r->kr_err; j++)
			decode_partition_response(r, version, &t->partitions[j]);
	}
	return kp_reader_finish(r);
}

static void encode_partition_response(struct kp_writer *w, int16_t version,
				      const struct kp_listoffsets_partition_response *p)
{
	kp_write_int32(w, p->partition_index);
	kp_write_int16(w, p->error_code);
	if (version == 0)
		kp_write_int64_array(w, false, p->old_style_offsets, p->old_style_offsets_count);
	if (version >= 1) {
		kp_write_int64(w, p->timestamp);
		kp_write_int64(w, p->offset);
	}
}

int kp_listoffsets_response_encode(struct kp_writer *w, int16_t version,
				   const struct kp_listoffsets_response *resp)
{
	if (kp_api_begin_encode(w, API, version))
		return w->kw_err;
	if (version >= 2)
		kp_write_int32(w, resp->throttle_time_ms);
	kp_write_array_begin(w, resp->topics, resp->topics_count, false);
	for (int32_t i = 0; i < resp->topics_count && !w->kw_err; i++) {
		const struct kp_listoffsets_topic_response *t = &resp->topics[i];
		kp_write_string(w, t->name);
		kp_write_array_begin(w, t->partitions, t->partitions_count, false);
		for (int32_t j = 0; j < t->partitions_count && !w->kw_err; j++)
			encode_partition_response(w, version, &t->partitions[j]);
	}
	return w->kw_err;
}
