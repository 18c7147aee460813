/*
 * kp_produce — Produce v3-7 (classic encodings; v9 is the first flexible
 * version). Layout, per Kafka's ProduceRequest/Response.json:
 *
 * Request
 *   transactional_id  nullable string   (v3+)
 *   acks              int16
 *   timeout_ms        int32
 *   topic_data        [name string,
 *                      partition_data [index int32,
 *                                      records nullable bytes (int32 length)]]
 *
 * Response
 *   responses         [name string,
 *                      partition_responses [index int32, error_code int16,
 *                                           base_offset int64,
 *                                           log_append_time_ms int64 (v2+),
 *                                           log_start_offset int64 (v5+)]]
 *   throttle_time_ms  int32 (v1+), at the end
 *
 * v4-v7 change semantics only (v4: KAFKA_STORAGE_ERROR may appear, v5 adds
 * log_start_offset, v7 allows zstd), so the layout has one branch.
 */
#include "kp_produce.h"

#include "kp_api.h"

#define MIN_TOPIC	       6 /* name, partitions count */
#define MIN_PARTITION	       8 /* index, records length */
#define MIN_PARTITION_RESPONSE 22

static const int16_t API = KP_API_PRODUCE;

int kp_produce_request_decode(struct kp_reader *r, int16_t version, struct kp_produce_request *req)
{
	if (kp_api_begin_decode(r, API, version))
		return r->kr_err;
	req->transactional_id = kp_read_nullable_string(r);
	req->acks = kp_read_int16(r);
	req->timeout_ms = kp_read_int32(r);
	req->topic_data = kp_read_struct_array(r, false, MIN_TOPIC, sizeof(*req->topic_data),
					       &req->topic_data_count);
	for (int32_t i = 0; i < req->topic_data_count && !r->kr_err; i++) {
		struct kp_produce_topic_data *t = &req->topic_data[i];
		t->name = kp_read_string(r);
		t->partition_data =
			kp_read_struct_array(r, false, MIN_PARTITION, sizeof(*t->partition_data),
					     &t->partition_data_count);
		for (int32_t j = 0; j < t->partition_data_count && !r->kr_err; j++) {
			t->partition_data[j].index = kp_read_int32(r);
			t->partition_data[j].records = kp_read_records(r);
		}
	}
	return kp_reader_finish(r);
}

int kp_produce_request_encode(struct kp_writer *w, int16_t version,
			      const struct kp_produce_request *req)
{
	if (kp_api_begin_encode(w, API, version))
		return w->kw_err;
	kp_write_nullable_string(w, req->transactional_id);
	kp_write_int16(w, req->acks);
	kp_write_int32(w, req->timeout_ms);
	kp_write_array_begin(w, req->topic_data, req->topic_data_count, false);
	for (int32_t i = 0; i < req->topic_data_count && !w->kw_err; i++) {
		const struct kp_produce_topic_data *t = &req->topic_data[i];
		kp_write_string(w, t->name);
		kp_write_array_begin(w, t->partition_data, t->partition_data_count, false);
		for (int32_t j = 0; j < t->partition_data_count && !w->kw_err; j++) {
			kp_write_int32(w, t->partition_data[j].index);
			kp_write_records(w, t->partition_data[j].records);
		}
	}
	return w->kw_err;
}

static void decode_partition_response(struct kp_reader *r, int16_t version,
				      struct kp_produce_partition_response *p)
{
	p->index = kp_read_int32(r);
	p->error_code = kp_read_int16(r);
	p->base_offset = kp_read_int64(r);
	p->log_append_time_ms = kp_read_int64(r); /* v2+: every version here */
	p->log_start_offset = version >= 5 ? kp_read_int64(r) : -1;
}

int kp_produce_response_decode(struct kp_reader *r, int16_t version,
			       struct kp_produce_response *resp)
{
	if (kp_api_begin_decode(r, API, version))
		return r->kr_err;
	resp->responses = kp_read_struct_array(r, false, MIN_TOPIC, sizeof(*resp->responses),
					       &resp->responses_count);
	for (int32_t i = 0; i < resp->responses_count && !r->kr_err; i++) {
		struct kp_produce_topic_response *t = &resp->responses[i];
		t->name = kp_read_string(r);
		t->partition_responses = kp_read_struct_array(r, false, MIN_PARTITION_RESPONSE,
							      sizeof(*t->partition_responses),
							      &t->partition_responses_count);
		for (int32_t j = 0; j < t->partition_responses_count && !r->kr_err; j++)
			decode_partition_response(r, version, &t->partition_responses[j]);
	}
	resp->throttle_time_ms = kp_read_int32(r);
	return kp_reader_finish(r);
}

int kp_produce_response_encode(struct kp_writer *w, int16_t version,
			       const struct kp_produce_response *resp)
{
	if (kp_api_begin_encode(w, API, version))
		return w->kw_err;
	kp_write_array_begin(w, resp->responses, resp->responses_count, false);
	for (int32_t i = 0; i < resp->responses_count && !w->kw_err; i++) {
		const struct kp_produce_topic_response *t = &resp->responses[i];
		kp_write_string(w, t->name);
		kp_write_array_begin(w, t->partition_responses, t->partition_responses_count,
				     false);
		for (int32_t j = 0; j < t->partition_responses_count && !w->kw_err; j++) {
			const struct kp_produce_partition_response *p = &t->partition_responses[j];
			kp_write_int32(w, p->index);
			kp_write_int16(w, p->error_code);
			kp_write_int64(w, p->base_offset);
			kp_write_int64(w, p->log_append_time_ms);
			if (version >= 5)
				kp_write_int64(w, p->log_start_offset);
		}
	}
	kp_write_int32(w, resp->throttle_time_ms);
	return w->kw_err;
}
