/*
 * kp_fetch — Fetch v4-11 (classic encodings; v12 is the first flexible
 * version). Layout, per Kafka's FetchRequest/Response.json:
 *
 * Request
 *   replica_id        int32
 *   max_wait_ms       int32
 *   min_bytes         int32
 *   max_bytes         int32                       v3+
 *   isolation_level   int8                        v4+
 *   session_id        int32                       v7+
 *   session_epoch     int32                       v7+
 *   topics            [topic string,
 *                      partitions [partition int32,
 *                                  current_leader_epoch int32 (v9+),
 *                                  fetch_offset int64,
 *                                  log_start_offset int64 (v5+),
 *                                  partition_max_bytes int32]]
 *   forgotten_topics_data [topic string, partitions [int32]]   v7+
 *   rack_id           string                      v11+
 *
 * Response
 *   throttle_time_ms  int32                       v1+
 *   error_code        int16                       v7+
 *   session_id        int32                       v7+
 *   responses         [topic string,
 *                      partitions [partition_index int32, error_code int16,
 *                                  high_watermark int64,
 *                                  last_stable_offset int64 (v4+),
 *                                  log_start_offset int64 (v5+),
 *                                  aborted_transactions nullable
 *                                    [producer_id int64, first_offset int64] (v4+),
 *                                  preferred_read_replica int32 (v11+),
 *                                  records nullable bytes]]
 */
#include "kp_fetch.h"

#include "kp_api.h"

#define MIN_TOPIC	   6  /* name, partitions count */
#define MIN_PARTITION	   16 /* partition, fetch_offset, partition_max_bytes */
#define MIN_FORGOTTEN	   6  /* name, partitions count */
#define MIN_PARTITION_DATA 30 /* index, error, hw, lso, aborted count, records length */
#define MIN_ABORTED	   16

static const int16_t API = KP_API_FETCH;

/* ------------------------------------------------------------ request */

static void decode_partition(struct kp_reader *r, int16_t version, struct kp_fetch_partition *p)
{
	p->partition = kp_read_int32(r);
	p->current_leader_epoch = version >= 9 ? kp_read_int32(r) : -1;
	p->fetch_offset = kp_read_int64(r);
	p->log_start_offset = version >= 5 ? kp_read_int64(r) : -1;
	p->partition_max_bytes = kp_read_int32(r);
}

static void decode_topic(struct kp_reader *r, int16_t version, struct kp_fetch_topic *t)
{
	t->topic = kp_read_string(r);
	t->partitions = kp_read_struct_array(r, false, MIN_PARTITION, sizeof(*t->partitions),
					     &t->partitions_count);
	for (int32_t i = 0; i < t->partitions_count && !r->kr_err; i++)
		decode_partition(r, version, &t->partitions[i]);
}

int kp_fetch_request_decode(struct kp_reader *r, int16_t version, struct kp_fetch_request *req)
{
	if (kp_api_begin_decode(r, API, version))
		return r->kr_err;
	req->replica_id = kp_read_int32(r);
	req->max_wait_ms = kp_read_int32(r);
	req->min_bytes = kp_read_int32(r);
	req->max_bytes = kp_read_int32(r);
	req->isolation_level = kp_read_int8(r);
	req->session_id = version >= 7 ? kp_read_int32(r) : 0;
	req->session_epoch = version >= 7 ? kp_read_int32(r) : -1;
	req->topics =
		kp_read_struct_array(r, false, MIN_TOPIC, sizeof(*req->topics), &req->topics_count);
	for (int32_t i = 0; i < req->topics_count && !r->kr_err; i++)
		decode_topic(r, version, &req->topics[i]);
	req->forgotten_topics_data = NULL;
	req->forgotten_topics_data_count = 0;
	if (version >= 7)
		req->forgotten_topics_data = kp_read_struct_array(
			r, false, MIN_FORGOTTEN, sizeof(*req->forgotten_topics_data),
			&req->forgotten_topics_data_count);
	for (int32_t i = 0; i < req->forgotten_topics_data_count && !r->kr_err; i++) {
		struct kp_fetch_forgotten_topic *f = &req->forgotten_topics_data[i];
		f->topic = kp_read_string(r);
		f->partitions = kp_read_int32_array(r, false, &f->partitions_count);
	}
	req->rack_id = version >= 11 ? kp_read_string(r) : KP_STR("");
	return kp_reader_finish(r);
}

static void encode_partition(struct kp_writer *w, int16_t version,
			     const struct kp_fetch_partition *p)
{
	kp_write_int32(w, p->partition);
	if (version >= 9)
		kp_write_int32(w, p->current_leader_epoch);
	kp_write_int64(w, p->fetch_offset);
	if (version >= 5)
		kp_write_int64(w, p->log_start_offset);
	kp_write_int32(w, p->partition_max_bytes);
}

int kp_fetch_request_encode(struct kp_writer *w, int16_t version,
			    const struct kp_fetch_request *req)
{
	if (kp_api_begin_encode(w, API, version))
		return w->kw_err;
	kp_write_int32(w, req->replica_id);
	kp_write_int32(w, req->max_wait_ms);
	kp_write_int32(w, req->min_bytes);
	kp_write_int32(w, req->max_bytes);
	kp_write_int8(w, req->isolation_level);
	if (version >= 7) {
		kp_write_int32(w, req->session_id);
		kp_write_int32(w, req->session_epoch);
	}
	kp_write_array_begin(w, req->topics, req->topics_count, false);
	for (int32_t i = 0; i < req->topics_count && !w->kw_err; i++) {
		const struct kp_fetch_topic *t = &req->topics[i];
		kp_write_string(w, t->topic);
		kp_write_array_begin(w, t->partitions, t->partitions_count, false);
		for (int32_t j = 0; j < t->partitions_count && !w->kw_err; j++)
			encode_partition(w, version, &t->partitions[j]);
	}
	if (version >= 7) {
		kp_write_array_begin(w, req->forgotten_topics_data,
				     req->forgotten_topics_data_count, false);
		for (int32_t i = 0; i < req->forgotten_topics_data_count && !w->kw_err; i++) {
			const struct kp_fetch_forgotten_topic *f = &req->forgotten_topics_data[i];
			kp_write_string(w, f->topic);
			kp_write_int32_array(w, false, f->partitions, f->partitions_count);
		}
	}
	if (version >= 11)
		kp_write_string(w, req->rack_id);
	return w->kw_err;
}

/* ----------------------------------------------------------- response */

static void decode_partition_data(struct kp_reader *r, int16_t version,
				  struct kp_fetch_partition_data *p)
{
	p->partition_index = kp_read_int32(r);
	p->error_code = kp_read_int16(r);
	p->high_watermark = kp_read_int64(r);
	p->last_stable_offset = kp_read_int64(r);
	p->log_start_offset = version >= 5 ? kp_read_int64(r) : -1;
	p->aborted_transactions =
		kp_read_struct_array(r, true, MIN_ABORTED, sizeof(*p->aborted_transactions),
				     &p->aborted_transactions_count);
	for (int32_t i = 0; i < p->aborted_transactions_count && !r->kr_err; i++) {
		p->aborted_transactions[i].producer_id = kp_read_int64(r);
		p->aborted_transactions[i].first_offset = kp_read_int64(r);
	}
	p->preferred_read_replica = version >= 11 ? kp_read_int32(r) : -1;
	p->records = kp_read_nullable_bytes(r);
}

int kp_fetch_response_decode(struct kp_reader *r, int16_t version, struct kp_fetch_response *resp)
{
	if (kp_api_begin_decode(r, API, version))
		return r->kr_err;
	resp->throttle_time_ms = kp_read_int32(r);
	resp->error_code = version >= 7 ? kp_read_int16(r) : 0;
	resp->session_id = version >= 7 ? kp_read_int32(r) : 0;
	resp->responses = kp_read_struct_array(r, false, MIN_TOPIC, sizeof(*resp->responses),
					       &resp->responses_count);
	for (int32_t i = 0; i < resp->responses_count && !r->kr_err; i++) {
		struct kp_fetch_topic_response *t = &resp->responses[i];
		t->topic = kp_read_string(r);
		t->partitions = kp_read_struct_array(r, false, MIN_PARTITION_DATA,
						     sizeof(*t->partitions), &t->partitions_count);
		for (int32_t j = 0; j < t->partitions_count && !r->kr_err; j++)
			decode_partition_data(r, version, &t->partitions[j]);
	}
	return kp_reader_finish(r);
}

static void encode_partition_data(struct kp_writer *w, int16_t version,
				  const struct kp_fetch_partition_data *p)
{
	kp_write_int32(w, p->partition_index);
	kp_write_int16(w, p->error_code);
	kp_write_int64(w, p->high_watermark);
	kp_write_int64(w, p->last_stable_offset);
	if (version >= 5)
		kp_write_int64(w, p->log_start_offset);
	kp_write_array_begin(w, p->aborted_transactions, p->aborted_transactions_count, true);
	for (int32_t i = 0; i < p->aborted_transactions_count && !w->kw_err; i++) {
		kp_write_int64(w, p->aborted_transactions[i].producer_id);
		kp_write_int64(w, p->aborted_transactions[i].first_offset);
	}
	if (version >= 11)
		kp_write_int32(w, p->preferred_read_replica);
	kp_write_nullable_bytes(w, p->records);
}

int kp_fetch_response_encode(struct kp_writer *w, int16_t version,
			     const struct kp_fetch_response *resp)
{
	if (kp_api_begin_encode(w, API, version))
		return w->kw_err;
	kp_write_int32(w, resp->throttle_time_ms);
	if (version >= 7) {
		kp_write_int16(w, resp->error_code);
		kp_write_int32(w, resp->session_id);
	}
	kp_write_array_begin(w, resp->responses, resp->responses_count, false);
	for (int32_t i = 0; i < resp->responses_count && !w->kw_err; i++) {
		const struct kp_fetch_topic_response *t = &resp->responses[i];
		kp_write_string(w, t->topic);
		kp_write_array_begin(w, t->partitions, t->partitions_count, false);
		for (int32_t j = 0; j < t->partitions_count && !w->kw_err; j++)
			encode_partition_data(w, version, &t->partitions[j]);
	}
	return w->kw_err;
}
