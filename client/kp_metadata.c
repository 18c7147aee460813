/*
 * kp_metadata — Metadata v0-8 (classic encodings only; v9 is the first
 * flexible version). Layout, per Kafka's MetadataRequest/Response.json:
 *
 * Request
 *   topics                      [name string]   v0: array, empty = all topics
 *                                               v1+: nullable, null = all, empty = none
 *   allow_auto_topic_creation   bool            v4+
 *   include_cluster_authorized_operations bool  v8+ (Kafka removes it in v11)
 *   include_topic_authorized_operations   bool  v8+
 *
 * Response
 *   throttle_time_ms  int32                                      v3+
 *   brokers           [node_id int32, host string, port int32,
 *                      rack nullable string (v1+)]
 *   cluster_id        nullable string                            v2+
 *   controller_id     int32                                      v1+
 *   topics            [error_code int16, name string, is_internal bool (v1+),
 *                      partitions [error_code int16, partition_index int32,
 *                                  leader_id int32, leader_epoch int32 (v7+),
 *                                  replica_nodes [int32], isr_nodes [int32],
 *                                  offline_replicas [int32] (v5+)],
 *                      topic_authorized_operations int32 (v8+)]
 *   cluster_authorized_operations int32                          v8+
 *
 * Array counts are checked against the bytes left at these minimum
 * element sizes, which bounds the arena use by the frame size.
 */
#include "kp_metadata.h"

#include "kp_api.h"

#define MIN_REQ_TOPIC	   2  /* name */
#define MIN_RESP_BROKER	   10 /* node_id, host, port */
#define MIN_RESP_TOPIC	   8  /* error_code, name, partitions count */
#define MIN_RESP_PARTITION 18 /* error, index, leader, two counts */

static const int16_t API = KP_API_METADATA;

/* ------------------------------------------------------------ request */

int kp_metadata_request_decode(struct kp_reader *r, int16_t version,
			       struct kp_metadata_request *req)
{
	if (kp_api_begin_decode(r, API, version))
		return r->kr_err;
	req->topics = kp_read_struct_array(r, version >= 1, MIN_REQ_TOPIC, sizeof(*req->topics),
					   &req->topics_count);
	for (int32_t i = 0; i < req->topics_count && !r->kr_err; i++)
		req->topics[i].name = kp_read_string(r);
	req->allow_auto_topic_creation = version >= 4 ? kp_read_bool(r) : true;
	req->include_cluster_authorized_operations = version >= 8 ? kp_read_bool(r) : false;
	req->include_topic_authorized_operations = version >= 8 ? kp_read_bool(r) : false;
	return kp_reader_finish(r);
}

int kp_metadata_request_encode(struct kp_writer *w, int16_t version,
			       const struct kp_metadata_request *req)
{
	if (kp_api_begin_encode(w, API, version))
		return w->kw_err;
	kp_write_array_begin(w, req->topics, req->topics_count, version >= 1);
	for (int32_t i = 0; i < req->topics_count && !w->kw_err; i++)
		kp_write_string(w, req->topics[i].name);
	if (version >= 4)
		kp_write_bool(w, req->allow_auto_topic_creation);
	if (version >= 8) {
		kp_write_bool(w, req->include_cluster_authorized_operations);
		kp_write_bool(w, req->include_topic_authorized_operations);
	}
	return w->kw_err;
}

bool kp_metadata_wants_all_topics(int16_t version, const struct kp_metadata_request *req)
{
	return req->topics_count < 0 || (version == 0 && req->topics_count == 0);
}

/* ----------------------------------------------------------- response */

static void decode_broker(struct kp_reader *r, int16_t version,
			  struct kp_metadata_response_broker *b)
{
	b->node_id = kp_read_int32(r);
	b->host = kp_read_string(r);
	b->port = kp_read_int32(r);
	b->rack = version >= 1 ? kp_read_nullable_string(r) : KP_STR_NULL;
}

static void decode_partition(struct kp_reader *r, int16_t version,
			     struct kp_metadata_response_partition *p)
{
	p->error_code = kp_read_int16(r);
	p->partition_index = kp_read_int32(r);
	p->leader_id = kp_read_int32(r);
	p->leader_epoch = version >= 7 ? kp_read_int32(r) : -1;
	p->replica_nodes = kp_read_int32_array(r, false, &p->replica_nodes_count);
	p->isr_nodes = kp_read_int32_array(r, false, &p->isr_nodes_count);
	p->offline_replicas = NULL;
	p->offline_replicas_count = 0;
	if (version >= 5)
		p->offline_replicas = kp_read_int32_array(r, false, &p->offline_replicas_count);
}

static void decode_topic(struct kp_reader *r, int16_t version, struct kp_metadata_response_topic *t)
{
	t->error_code = kp_read_int16(r);
	t->name = kp_read_string(r);
	t->is_internal = version >= 1 ? kp_read_bool(r) : false;
	t->partitions = kp_read_struct_array(r, false, MIN_RESP_PARTITION, sizeof(*t->partitions),
					     &t->partitions_count);
	for (int32_t i = 0; i < t->partitions_count && !r->kr_err; i++)
		decode_partition(r, version, &t->partitions[i]);
	t->topic_authorized_operations = version >= 8 ? kp_read_int32(r) : INT32_MIN;
}

int kp_metadata_response_decode(struct kp_reader *r, int16_t version,
				struct kp_metadata_response *resp)
{
	if (kp_api_begin_decode(r, API, version))
		return r->kr_err;
	resp->throttle_time_ms = version >= 3 ? kp_read_int32(r) : 0;
	resp->brokers = kp_read_struct_array(r, false, MIN_RESP_BROKER, sizeof(*resp->brokers),
					     &resp->brokers_count);
	for (int32_t i = 0; i < resp->brokers_count && !r->kr_err; i++)
		decode_broker(r, version, &resp->brokers[i]);
	resp->cluster_id = version >= 2 ? kp_read_nullable_string(r) : KP_STR_NULL;
	resp->controller_id = version >= 1 ? kp_read_int32(r) : -1;
	resp->topics = kp_read_struct_array(r, false, MIN_RESP_TOPIC, sizeof(*resp->topics),
					    &resp->topics_count);
	for (int32_t i = 0; i < resp->topics_count && !r->kr_err; i++)
		decode_topic(r, version, &resp->topics[i]);
	resp->cluster_authorized_operations = version >= 8 ? kp_read_int32(r) : INT32_MIN;
	return kp_reader_finish(r);
}

static void encode_partition(struct kp_writer *w, int16_t version,
			     const struct kp_metadata_response_partition *p)
{
	kp_write_int16(w, p->error_code);
	kp_write_int32(w, p->partition_index);
	kp_write_int32(w, p->leader_id);
	if (version >= 7)
		kp_write_int32(w, p->leader_epoch);
	kp_write_int32_array(w, false, p->replica_nodes, p->replica_nodes_count);
	kp_write_int32_array(w, false, p->isr_nodes, p->isr_nodes_count);
	if (version >= 5)
		kp_write_int32_array(w, false, p->offline_replicas, p->offline_replicas_count);
}

static void encode_topic(struct kp_writer *w, int16_t version,
			 const struct kp_metadata_response_topic *t)
{
	kp_write_int16(w, t->error_code);
	kp_write_string(w, t->name);
	if (version >= 1)
		kp_write_bool(w, t->is_internal);
	kp_write_array_begin(w, t->partitions, t->partitions_count, false);
	for (int32_t i = 0; i < t->partitions_count && !w->kw_err; i++)
		encode_partition(w, version, &t->partitions[i]);
	if (version >= 8)
		kp_write_int32(w, t->topic_authorized_operations);
}

int kp_metadata_response_encode(struct kp_writer *w, int16_t version,
				const struct kp_metadata_response *resp)
{
	if (kp_api_begin_encode(w, API, version))
		return w->kw_err;
	if (version >= 3)
		kp_write_int32(w, resp->throttle_time_ms);
	kp_write_array_begin(w, resp->brokers, resp->brokers_count, false);
	for (int32_t i = 0; i < resp->brokers_count && !w->kw_err; i++) {
		const struct kp_metadata_response_broker *b = &resp->brokers[i];
		kp_write_int32(w, b->node_id);
		kp_write_string(w, b->host);
		kp_write_int32(w, b->port);
		if (version >= 1)
			kp_write_nullable_string(w, b->rack);
	}
	if (version >= 2)
		kp_write_nullable_string(w, resp->cluster_id);
	if (version >= 1)
		kp_write_int32(w, resp->controller_id);
	kp_write_array_begin(w, resp->topics, resp->topics_count, false);
	for (int32_t i = 0; i < resp->topics_count && !w->kw_err; i++)
		encode_topic(w, version, &resp->topics[i]);
	if (version >= 8)
		kp_write_int32(w, resp->cluster_authorized_operations);
	return w->kw_err;
}
