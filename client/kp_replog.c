/*
 * kp_replog — replog's private APIs (keys 10000-10006), version 0 only,
 * flexible at v0. Layout (all integers big-endian; "string" is a compact
 * string, uvarint(len + 1) then bytes; "[x]" is a compact array,
 * uvarint(count + 1) then elements, 0 = null where marked nullable; "tags"
 * is a tagged-field section, uvarint count then (uvarint tag, uvarint size,
 * bytes) triples, 0x00 when empty):
 *
 * 10000 ReplogBrokerRegister
 *   Request   broker_id int32, incarnation_id uuid (16 bytes), address
 *             string, clean_shutdown bool (1 byte), tags
 *   Response  error_code int16, error_message nullable string,
 *             broker_epoch int64, controller_epoch int32, tags
 *
 * 10001 ReplogBrokerHeartbeat
 *   Request   broker_id int32, broker_epoch int64, metadata_offset int64,
 *             want_shutdown bool, tags
 *   Response  error_code int16, lease_ms int32, is_fenced bool,
 *             shutdown_ready bool, controller_epoch int32, tags
 *
 * 10002 ReplogAlterPartition
 *   Request   broker_id int32, broker_epoch int64,
 *             topics [name string,
 *                     partitions [partition_index int32, leader_epoch int32,
 *                                 partition_epoch int32, new_isr [int32],
 *                                 tags],
 *                     tags],
 *             tags
 *   Response  error_code int16,
 *             topics [name string,
 *                     partitions [partition_index int32, error_code int16,
 *                                 leader_id int32, leader_epoch int32,
 *                                 partition_epoch int32, isr [int32],
 *                                 elr [int32], tags],
 *                     tags],
 *             tags
 *
 * 10003 ReplogDescribeReplicas
 *   Request   topics nullable [name string, partitions nullable [int32],
 *                              tags],
 *             tags
 *   Response  error_code int16, broker_id int32,
 *             topics [name string,
 *                     partitions [partition_index int32, role int8,
 *                                 leader_id int32, leader_epoch int32,
 *                                 partition_epoch int32,
 *                                 log_start_offset int64,
 *                                 log_end_offset int64, flushed_offset int64,
 *                                 high_watermark int64, replicas [int32],
 *                                 isr [int32], elr [int32],
 *                                 followers [replica_id int32,
 *                                            log_end_offset int64,
 *                                            caught_up_ms_ago int64, tags],
 *                                 discarded_events int32,
 *                                 discarded_records int64, error_code int16,
 *                                 tags],
 *                     tags],
 *             tags
 *
 * 10004 ReplogListDiscarded
 *   Request   topics nullable [string], tags
 *   Response  error_code int16, broker_id int32,
 *             entries [topic string, partition int32, name string,
 *                      reason string, detail string, time_ms int64,
 *                      first_offset int64, next_offset int64, batches int32,
 *                      bytes int64, epoch_min int32, epoch_max int32, tags],
 *             tags
 *
 * 10005 ReplogRaft
 *   Request   from_id int32, from_address string, message bytes (compact:
 *             uvarint(len + 1) then bytes; broker/raftmsg.h's encoding), tags
 *   Response  error_code int16, tags
 *
 * 10006 ReplogDescribeQuorum
 *   Request   tags
 *   Response  error_code int16, broker_id int32, leader_id int32, state int8,
 *             term int64, commit_index int64, last_applied int64,
 *             last_index int64, snapshot_index int64, metadata_offset int64,
 *             members [id int32, role int8, match_index int64,
 *                      last_contact_ms_ago int64, tags],
 *             brokers [id int32, address string, broker_epoch int64,
 *                      registered bool, fenced bool, shutting_down bool,
 *                      session_ms_ago int64, tags],
 *             tags
 *
 * A heartbeat request, for example: 00000003 (broker 3)
 * 0000000000000007 (epoch 7) 00000000000004d2 (offset 1234) 00 (no
 * shutdown) 00 (no tags) — 22 bytes after a request header v2.
 *
 * What makes a body valid is what kp_codec.c checks field by field, plus:
 * nothing after the last field (KP_ETRAILING otherwise), and a null only in
 * the two nullable arrays and error_message. Every array count is checked
 * against the bytes left at its smallest element (the MIN_* sizes below;
 * 4 for int32 lists, 1 for strings), so decoding needs at most 16 arena
 * bytes per frame byte (x86-64: a 3-byte empty topic becomes a 48-byte
 * struct, a 1-byte string a 16-byte view; every other element 3.4x or
 * less), plus up to 7 bytes of alignment per array.
 */
#include "kp_replog.h"

#include "kp_api.h"

/* Smallest encoding of one element of each struct array, in bytes: every
 * string and array empty, every tag section 0x00. */
#define MIN_ALTER_TOPIC	    3  /* name, partitions, tags */
#define MIN_ALTER_PARTITION 14 /* 3 x int32, new_isr, tags */
#define MIN_ALTER_RESULT    21 /* int32, int16, 3 x int32, isr, elr, tags */
#define MIN_DESCRIBE_TOPIC  3  /* name, partitions, tags */
#define MIN_REPLICA_TOPIC   3  /* name, partitions, tags */
#define MIN_REPLICA	    68 /* see below */
#define MIN_FOLLOWER	    21 /* int32, 2 x int64, tags */
#define MIN_DISCARDED_ENTRY 53 /* see below */
#define MIN_QUORUM_MEMBER   22 /* int32, int8, 2 x int64, tags */
#define MIN_QUORUM_BROKER   25 /* int32, address, int64, 3 x bool, int64, tags */

/* index, role, 3 x int32, 4 x int64, 4 arrays, int32, int64, int16, tags */
_Static_assert(MIN_REPLICA == 4 + 1 + 3 * 4 + 4 * 8 + 4 + 4 + 8 + 2 + 1, "replica size");
/* 4 strings, partition, 3 x int64, batches, bytes, 2 x int32, tags */
_Static_assert(MIN_DISCARDED_ENTRY == 4 + 4 + 3 * 8 + 4 + 8 + 2 * 4 + 1, "entry size");
_Static_assert(MIN_QUORUM_MEMBER == 4 + 1 + 2 * 8 + 1, "member size");
_Static_assert(MIN_QUORUM_BROKER == 4 + 1 + 8 + 3 + 8 + 1, "broker size");

const char *kp_replog_role_name(int8_t role)
{
	switch (role) {
	case KP_REPLOG_ROLE_NONE:
		return "none";
	case KP_REPLOG_ROLE_LEADER:
		return "leader";
	case KP_REPLOG_ROLE_FOLLOWER:
		return "follower";
	default:
		return "unknown";
	}
}

/* ------------------------------------------------ ReplogBrokerRegister */

int kp_replog_register_request_decode(struct kp_reader *r, int16_t version,
				      struct kp_replog_register_request *req)
{
	if (kp_api_begin_decode(r, KP_API_REPLOG_BROKER_REGISTER, version))
		return r->kr_err;
	req->broker_id = kp_read_int32(r);
	req->incarnation_id = kp_read_uuid(r);
	req->address = kp_read_string(r);
	req->clean_shutdown = kp_read_bool(r);
	req->tags = kp_read_tags(r);
	return kp_reader_finish(r);
}

int kp_replog_register_request_encode(struct kp_writer *w, int16_t version,
				      const struct kp_replog_register_request *req)
{
	if (kp_api_begin_encode(w, KP_API_REPLOG_BROKER_REGISTER, version))
		return w->kw_err;
	kp_write_int32(w, req->broker_id);
	kp_write_uuid(w, &req->incarnation_id);
	kp_write_string(w, req->address);
	kp_write_bool(w, req->clean_shutdown);
	kp_write_tags(w, req->tags);
	return w->kw_err;
}

int kp_replog_register_response_decode(struct kp_reader *r, int16_t version,
				       struct kp_replog_register_response *resp)
{
	if (kp_api_begin_decode(r, KP_API_REPLOG_BROKER_REGISTER, version))
		return r->kr_err;
	resp->error_code = kp_read_int16(r);
	resp->error_message = kp_read_nullable_string(r);
	resp->broker_epoch = kp_read_int64(r);
	resp->controller_epoch = kp_read_int32(r);
	resp->tags = kp_read_tags(r);
	return kp_reader_finish(r);
}

int kp_replog_register_response_encode(struct kp_writer *w, int16_t version,
				       const struct kp_replog_register_response *resp)
{
	if (kp_api_begin_encode(w, KP_API_REPLOG_BROKER_REGISTER, version))
		return w->kw_err;
	kp_write_int16(w, resp->error_code);
	kp_write_nullable_string(w, resp->error_message);
	kp_write_int64(w, resp->broker_epoch);
	kp_write_int32(w, resp->controller_epoch);
	kp_write_tags(w, resp->tags);
	return w->kw_err;
}

/* ----------------------------------------------- ReplogBrokerHeartbeat */

int kp_replog_heartbeat_request_decode(struct kp_reader *r, int16_t version,
				       struct kp_replog_heartbeat_request *req)
{
	if (kp_api_begin_decode(r, KP_API_REPLOG_BROKER_HEARTBEAT, version))
		return r->kr_err;
	req->broker_id = kp_read_int32(r);
	req->broker_epoch = kp_read_int64(r);
	req->metadata_offset = kp_read_int64(r);
	req->want_shutdown = kp_read_bool(r);
	req->tags = kp_read_tags(r);
	return kp_reader_finish(r);
}

int kp_replog_heartbeat_request_encode(struct kp_writer *w, int16_t version,
				       const struct kp_replog_heartbeat_request *req)
{
	if (kp_api_begin_encode(w, KP_API_REPLOG_BROKER_HEARTBEAT, version))
		return w->kw_err;
	kp_write_int32(w, req->broker_id);
	kp_write_int64(w, req->broker_epoch);
	kp_write_int64(w, req->metadata_offset);
	kp_write_bool(w, req->want_shutdown);
	kp_write_tags(w, req->tags);
	return w->kw_err;
}

int kp_replog_heartbeat_response_decode(struct kp_reader *r, int16_t version,
					struct kp_replog_heartbeat_response *resp)
{
	if (kp_api_begin_decode(r, KP_API_REPLOG_BROKER_HEARTBEAT, version))
		return r->kr_err;
	resp->error_code = kp_read_int16(r);
	resp->lease_ms = kp_read_int32(r);
	resp->is_fenced = kp_read_bool(r);
	resp->shutdown_ready = kp_read_bool(r);
	resp->controller_epoch = kp_read_int32(r);
	resp->tags = kp_read_tags(r);
	return kp_reader_finish(r);
}

int kp_replog_heartbeat_response_encode(struct kp_writer *w, int16_t version,
					const struct kp_replog_heartbeat_response *resp)
{
	if (kp_api_begin_encode(w, KP_API_REPLOG_BROKER_HEARTBEAT, version))
		return w->kw_err;
	kp_write_int16(w, resp->error_code);
	kp_write_int32(w, resp->lease_ms);
	kp_write_bool(w, resp->is_fenced);
	kp_write_bool(w, resp->shutdown_ready);
	kp_write_int32(w, resp->controller_epoch);
	kp_write_tags(w, resp->tags);
	return w->kw_err;
}

/* ------------------------------------------------ ReplogAlterPartition */

int kp_replog_alter_request_decode(struct kp_reader *r, int16_t version,
				   struct kp_replog_alter_request *req)
{
	if (kp_api_begin_decode(r, KP_API_REPLOG_ALTER_PARTITION, version))
		return r->kr_err;
	req->broker_id = kp_read_int32(r);
	req->broker_epoch = kp_read_int64(r);
	req->topics = kp_read_struct_array(r, false, MIN_ALTER_TOPIC, sizeof(*req->topics),
					   &req->topics_count);
	for (int32_t i = 0; i < req->topics_count && !r->kr_err; i++) {
		struct kp_replog_alter_topic *t = &req->topics[i];
		t->name = kp_read_string(r);
		t->partitions = kp_read_struct_array(r, false, MIN_ALTER_PARTITION,
						     sizeof(*t->partitions), &t->partitions_count);
		for (int32_t j = 0; j < t->partitions_count && !r->kr_err; j++) {
			struct kp_replog_alter_partition *p = &t->partitions[j];
			p->partition_index = kp_read_int32(r);
			p->leader_epoch = kp_read_int32(r);
			p->partition_epoch = kp_read_int32(r);
			p->new_isr = kp_read_int32_array(r, false, &p->new_isr_count);
			p->tags = kp_read_tags(r);
		}
		t->tags = kp_read_tags(r);
	}
	req->tags = kp_read_tags(r);
	return kp_reader_finish(r);
}

int kp_replog_alter_request_encode(struct kp_writer *w, int16_t version,
				   const struct kp_replog_alter_request *req)
{
	if (kp_api_begin_encode(w, KP_API_REPLOG_ALTER_PARTITION, version))
		return w->kw_err;
	kp_write_int32(w, req->broker_id);
	kp_write_int64(w, req->broker_epoch);
	kp_write_array_begin(w, req->topics, req->topics_count, false);
	for (int32_t i = 0; i < req->topics_count && !w->kw_err; i++) {
		const struct kp_replog_alter_topic *t = &req->topics[i];
		kp_write_string(w, t->name);
		kp_write_array_begin(w, t->partitions, t->partitions_count, false);
		for (int32_t j = 0; j < t->partitions_count && !w->kw_err; j++) {
			const struct kp_replog_alter_partition *p = &t->partitions[j];
			kp_write_int32(w, p->partition_index);
			kp_write_int32(w, p->leader_epoch);
			kp_write_int32(w, p->partition_epoch);
			kp_write_int32_array(w, false, p->new_isr, p->new_isr_count);
			kp_write_tags(w, p->tags);
		}
		kp_write_tags(w, t->tags);
	}
	kp_write_tags(w, req->tags);
	return w->kw_err;
}

int kp_replog_alter_response_decode(struct kp_reader *r, int16_t version,
				    struct kp_replog_alter_response *resp)
{
	if (kp_api_begin_decode(r, KP_API_REPLOG_ALTER_PARTITION, version))
		return r->kr_err;
	resp->error_code = kp_read_int16(r);
	resp->topics = kp_read_struct_array(r, false, MIN_ALTER_TOPIC, sizeof(*resp->topics),
					    &resp->topics_count);
	for (int32_t i = 0; i < resp->topics_count && !r->kr_err; i++) {
		struct kp_replog_alter_topic_result *t = &resp->topics[i];
		t->name = kp_read_string(r);
		t->partitions = kp_read_struct_array(r, false, MIN_ALTER_RESULT,
						     sizeof(*t->partitions), &t->partitions_count);
		for (int32_t j = 0; j < t->partitions_count && !r->kr_err; j++) {
			struct kp_replog_alter_partition_result *p = &t->partitions[j];
			p->partition_index = kp_read_int32(r);
			p->error_code = kp_read_int16(r);
			p->leader_id = kp_read_int32(r);
			p->leader_epoch = kp_read_int32(r);
			p->partition_epoch = kp_read_int32(r);
			p->isr = kp_read_int32_array(r, false, &p->isr_count);
			p->elr = kp_read_int32_array(r, false, &p->elr_count);
			p->tags = kp_read_tags(r);
		}
		t->tags = kp_read_tags(r);
	}
	resp->tags = kp_read_tags(r);
	return kp_reader_finish(r);
}

int kp_replog_alter_response_encode(struct kp_writer *w, int16_t version,
				    const struct kp_replog_alter_response *resp)
{
	if (kp_api_begin_encode(w, KP_API_REPLOG_ALTER_PARTITION, version))
		return w->kw_err;
	kp_write_int16(w, resp->error_code);
	kp_write_array_begin(w, resp->topics, resp->topics_count, false);
	for (int32_t i = 0; i < resp->topics_count && !w->kw_err; i++) {
		const struct kp_replog_alter_topic_result *t = &resp->topics[i];
		kp_write_string(w, t->name);
		kp_write_array_begin(w, t->partitions, t->partitions_count, false);
		for (int32_t j = 0; j < t->partitions_count && !w->kw_err; j++) {
			const struct kp_replog_alter_partition_result *p = &t->partitions[j];
			kp_write_int32(w, p->partition_index);
			kp_write_int16(w, p->error_code);
			kp_write_int32(w, p->leader_id);
			kp_write_int32(w, p->leader_epoch);
			kp_write_int32(w, p->partition_epoch);
			kp_write_int32_array(w, false, p->isr, p->isr_count);
			kp_write_int32_array(w, false, p->elr, p->elr_count);
			kp_write_tags(w, p->tags);
		}
		kp_write_tags(w, t->tags);
	}
	kp_write_tags(w, resp->tags);
	return w->kw_err;
}

/* ---------------------------------------------- ReplogDescribeReplicas */

int kp_replog_describe_request_decode(struct kp_reader *r, int16_t version,
				      struct kp_replog_describe_request *req)
{
	if (kp_api_begin_decode(r, KP_API_REPLOG_DESCRIBE_REPLICAS, version))
		return r->kr_err;
	req->topics = kp_read_struct_array(r, true, MIN_DESCRIBE_TOPIC, sizeof(*req->topics),
					   &req->topics_count);
	for (int32_t i = 0; i < req->topics_count && !r->kr_err; i++) {
		struct kp_replog_describe_topic *t = &req->topics[i];
		t->name = kp_read_string(r);
		t->partitions = kp_read_int32_array(r, true, &t->partitions_count);
		t->tags = kp_read_tags(r);
	}
	req->tags = kp_read_tags(r);
	return kp_reader_finish(r);
}

int kp_replog_describe_request_encode(struct kp_writer *w, int16_t version,
				      const struct kp_replog_describe_request *req)
{
	if (kp_api_begin_encode(w, KP_API_REPLOG_DESCRIBE_REPLICAS, version))
		return w->kw_err;
	kp_write_array_begin(w, req->topics, req->topics_count, true);
	for (int32_t i = 0; i < req->topics_count && !w->kw_err; i++) {
		const struct kp_replog_describe_topic *t = &req->topics[i];
		kp_write_string(w, t->name);
		kp_write_int32_array(w, true, t->partitions, t->partitions_count);
		kp_write_tags(w, t->tags);
	}
	kp_write_tags(w, req->tags);
	return w->kw_err;
}

static void read_replica(struct kp_reader *r, struct kp_replog_replica *p)
{
	p->partition_index = kp_read_int32(r);
	p->role = kp_read_int8(r);
	p->leader_id = kp_read_int32(r);
	p->leader_epoch = kp_read_int32(r);
	p->partition_epoch = kp_read_int32(r);
	p->log_start_offset = kp_read_int64(r);
	p->log_end_offset = kp_read_int64(r);
	p->flushed_offset = kp_read_int64(r);
	p->high_watermark = kp_read_int64(r);
	p->replicas = kp_read_int32_array(r, false, &p->replicas_count);
	p->isr = kp_read_int32_array(r, false, &p->isr_count);
	p->elr = kp_read_int32_array(r, false, &p->elr_count);
	p->followers = kp_read_struct_array(r, false, MIN_FOLLOWER, sizeof(*p->followers),
					    &p->followers_count);
	for (int32_t k = 0; k < p->followers_count && !r->kr_err; k++) {
		struct kp_replog_follower *f = &p->followers[k];
		f->replica_id = kp_read_int32(r);
		f->log_end_offset = kp_read_int64(r);
		f->caught_up_ms_ago = kp_read_int64(r);
		f->tags = kp_read_tags(r);
	}
	p->discarded_events = kp_read_int32(r);
	p->discarded_records = kp_read_int64(r);
	p->error_code = kp_read_int16(r);
	p->tags = kp_read_tags(r);
}

static void write_replica(struct kp_writer *w, const struct kp_replog_replica *p)
{
	kp_write_int32(w, p->partition_index);
	kp_write_int8(w, p->role);
	kp_write_int32(w, p->leader_id);
	kp_write_int32(w, p->leader_epoch);
	kp_write_int32(w, p->partition_epoch);
	kp_write_int64(w, p->log_start_offset);
	kp_write_int64(w, p->log_end_offset);
	kp_write_int64(w, p->flushed_offset);
	kp_write_int64(w, p->high_watermark);
	kp_write_int32_array(w, false, p->replicas, p->replicas_count);
	kp_write_int32_array(w, false, p->isr, p->isr_count);
	kp_write_int32_array(w, false, p->elr, p->elr_count);
	kp_write_array_begin(w, p->followers, p->followers_count, false);
	for (int32_t k = 0; k < p->followers_count && !w->kw_err; k++) {
		const struct kp_replog_follower *f = &p->followers[k];
		kp_write_int32(w, f->replica_id);
		kp_write_int64(w, f->log_end_offset);
		kp_write_int64(w, f->caught_up_ms_ago);
		kp_write_tags(w, f->tags);
	}
	kp_write_int32(w, p->discarded_events);
	kp_write_int64(w, p->discarded_records);
	kp_write_int16(w, p->error_code);
	kp_write_tags(w, p->tags);
}

int kp_replog_describe_response_decode(struct kp_reader *r, int16_t version,
				       struct kp_replog_describe_response *resp)
{
	if (kp_api_begin_decode(r, KP_API_REPLOG_DESCRIBE_REPLICAS, version))
		return r->kr_err;
	resp->error_code = kp_read_int16(r);
	resp->broker_id = kp_read_int32(r);
	resp->topics = kp_read_struct_array(r, false, MIN_REPLICA_TOPIC, sizeof(*resp->topics),
					    &resp->topics_count);
	for (int32_t i = 0; i < resp->topics_count && !r->kr_err; i++) {
		struct kp_replog_replica_topic *t = &resp->topics[i];
		t->name = kp_read_string(r);
		t->partitions = kp_read_struct_array(r, false, MIN_REPLICA, sizeof(*t->partitions),
						     &t->partitions_count);
		for (int32_t j = 0; j < t->partitions_count && !r->kr_err; j++)
			read_replica(r, &t->partitions[j]);
		t->tags = kp_read_tags(r);
	}
	resp->tags = kp_read_tags(r);
	return kp_reader_finish(r);
}

int kp_replog_describe_response_encode(struct kp_writer *w, int16_t version,
				       const struct kp_replog_describe_response *resp)
{
	if (kp_api_begin_encode(w, KP_API_REPLOG_DESCRIBE_REPLICAS, version))
		return w->kw_err;
	kp_write_int16(w, resp->error_code);
	kp_write_int32(w, resp->broker_id);
	kp_write_array_begin(w, resp->topics, resp->topics_count, false);
	for (int32_t i = 0; i < resp->topics_count && !w->kw_err; i++) {
		const struct kp_replog_replica_topic *t = &resp->topics[i];
		kp_write_string(w, t->name);
		kp_write_array_begin(w, t->partitions, t->partitions_count, false);
		for (int32_t j = 0; j < t->partitions_count && !w->kw_err; j++)
			write_replica(w, &t->partitions[j]);
		kp_write_tags(w, t->tags);
	}
	kp_write_tags(w, resp->tags);
	return w->kw_err;
}

/* ------------------------------------------------- ReplogListDiscarded */

int kp_replog_discarded_request_decode(struct kp_reader *r, int16_t version,
				       struct kp_replog_discarded_request *req)
{
	if (kp_api_begin_decode(r, KP_API_REPLOG_LIST_DISCARDED, version))
		return r->kr_err;
	req->topics = kp_read_string_array(r, true, &req->topics_count);
	req->tags = kp_read_tags(r);
	return kp_reader_finish(r);
}

int kp_replog_discarded_request_encode(struct kp_writer *w, int16_t version,
				       const struct kp_replog_discarded_request *req)
{
	if (kp_api_begin_encode(w, KP_API_REPLOG_LIST_DISCARDED, version))
		return w->kw_err;
	kp_write_string_array(w, true, req->topics, req->topics_count);
	kp_write_tags(w, req->tags);
	return w->kw_err;
}

int kp_replog_discarded_response_decode(struct kp_reader *r, int16_t version,
					struct kp_replog_discarded_response *resp)
{
	if (kp_api_begin_decode(r, KP_API_REPLOG_LIST_DISCARDED, version))
		return r->kr_err;
	resp->error_code = kp_read_int16(r);
	resp->broker_id = kp_read_int32(r);
	resp->entries = kp_read_struct_array(r, false, MIN_DISCARDED_ENTRY, sizeof(*resp->entries),
					     &resp->entries_count);
	for (int32_t i = 0; i < resp->entries_count && !r->kr_err; i++) {
		struct kp_replog_discarded_entry *e = &resp->entries[i];
		e->topic = kp_read_string(r);
		e->partition = kp_read_int32(r);
		e->name = kp_read_string(r);
		e->reason = kp_read_string(r);
		e->detail = kp_read_string(r);
		e->time_ms = kp_read_int64(r);
		e->first_offset = kp_read_int64(r);
		e->next_offset = kp_read_int64(r);
		e->batches = kp_read_int32(r);
		e->bytes = kp_read_int64(r);
		e->epoch_min = kp_read_int32(r);
		e->epoch_max = kp_read_int32(r);
		e->tags = kp_read_tags(r);
	}
	resp->tags = kp_read_tags(r);
	return kp_reader_finish(r);
}

int kp_replog_discarded_response_encode(struct kp_writer *w, int16_t version,
					const struct kp_replog_discarded_response *resp)
{
	if (kp_api_begin_encode(w, KP_API_REPLOG_LIST_DISCARDED, version))
		return w->kw_err;
	kp_write_int16(w, resp->error_code);
	kp_write_int32(w, resp->broker_id);
	kp_write_array_begin(w, resp->entries, resp->entries_count, false);
	for (int32_t i = 0; i < resp->entries_count && !w->kw_err; i++) {
		const struct kp_replog_discarded_entry *e = &resp->entries[i];
		kp_write_string(w, e->topic);
		kp_write_int32(w, e->partition);
		kp_write_string(w, e->name);
		kp_write_string(w, e->reason);
		kp_write_string(w, e->detail);
		kp_write_int64(w, e->time_ms);
		kp_write_int64(w, e->first_offset);
		kp_write_int64(w, e->next_offset);
		kp_write_int32(w, e->batches);
		kp_write_int64(w, e->bytes);
		kp_write_int32(w, e->epoch_min);
		kp_write_int32(w, e->epoch_max);
		kp_write_tags(w, e->tags);
	}
	kp_write_tags(w, resp->tags);
	return w->kw_err;
}

/* ---------------------------------------------------------- ReplogRaft */

int kp_replog_raft_request_decode(struct kp_reader *r, int16_t version,
				  struct kp_replog_raft_request *req)
{
	if (kp_api_begin_decode(r, KP_API_REPLOG_RAFT, version))
		return r->kr_err;
	req->from_id = kp_read_int32(r);
	req->from_address = kp_read_string(r);
	req->message = kp_read_bytes(r);
	req->tags = kp_read_tags(r);
	return kp_reader_finish(r);
}

int kp_replog_raft_request_encode(struct kp_writer *w, int16_t version,
				  const struct kp_replog_raft_request *req)
{
	if (kp_api_begin_encode(w, KP_API_REPLOG_RAFT, version))
		return w->kw_err;
	kp_write_int32(w, req->from_id);
	kp_write_string(w, req->from_address);
	kp_write_bytes(w, req->message);
	kp_write_tags(w, req->tags);
	return w->kw_err;
}

int kp_replog_raft_response_decode(struct kp_reader *r, int16_t version,
				   struct kp_replog_raft_response *resp)
{
	if (kp_api_begin_decode(r, KP_API_REPLOG_RAFT, version))
		return r->kr_err;
	resp->error_code = kp_read_int16(r);
	resp->tags = kp_read_tags(r);
	return kp_reader_finish(r);
}

int kp_replog_raft_response_encode(struct kp_writer *w, int16_t version,
				   const struct kp_replog_raft_response *resp)
{
	if (kp_api_begin_encode(w, KP_API_REPLOG_RAFT, version))
		return w->kw_err;
	kp_write_int16(w, resp->error_code);
	kp_write_tags(w, resp->tags);
	return w->kw_err;
}

/* ------------------------------------------------ ReplogDescribeQuorum */

int kp_replog_quorum_request_decode(struct kp_reader *r, int16_t version,
				    struct kp_replog_describe_quorum_request *req)
{
	if (kp_api_begin_decode(r, KP_API_REPLOG_DESCRIBE_QUORUM, version))
		return r->kr_err;
	req->tags = kp_read_tags(r);
	return kp_reader_finish(r);
}

int kp_replog_quorum_request_encode(struct kp_writer *w, int16_t version,
				    const struct kp_replog_describe_quorum_request *req)
{
	if (kp_api_begin_encode(w, KP_API_REPLOG_DESCRIBE_QUORUM, version))
		return w->kw_err;
	kp_write_tags(w, req->tags);
	return w->kw_err;
}

int kp_replog_quorum_response_decode(struct kp_reader *r, int16_t version,
				     struct kp_replog_describe_quorum_response *resp)
{
	if (kp_api_begin_decode(r, KP_API_REPLOG_DESCRIBE_QUORUM, version))
		return r->kr_err;
	resp->error_code = kp_read_int16(r);
	resp->broker_id = kp_read_int32(r);
	resp->leader_id = kp_read_int32(r);
	resp->state = kp_read_int8(r);
	resp->term = kp_read_int64(r);
	resp->commit_index = kp_read_int64(r);
	resp->last_applied = kp_read_int64(r);
	resp->last_index = kp_read_int64(r);
	resp->snapshot_index = kp_read_int64(r);
	resp->metadata_offset = kp_read_int64(r);
	resp->members = kp_read_struct_array(r, false, MIN_QUORUM_MEMBER, sizeof(*resp->members),
					     &resp->members_count);
	for (int32_t i = 0; i < resp->members_count && !r->kr_err; i++) {
		struct kp_replog_quorum_member *m = &resp->members[i];
		m->id = kp_read_int32(r);
		m->role = kp_read_int8(r);
		m->match_index = kp_read_int64(r);
		m->last_contact_ms_ago = kp_read_int64(r);
		m->tags = kp_read_tags(r);
	}
	resp->brokers = kp_read_struct_array(r, false, MIN_QUORUM_BROKER, sizeof(*resp->brokers),
					     &resp->brokers_count);
	for (int32_t i = 0; i < resp->brokers_count && !r->kr_err; i++) {
		struct kp_replog_quorum_broker *b = &resp->brokers[i];
		b->id = kp_read_int32(r);
		b->address = kp_read_string(r);
		b->broker_epoch = kp_read_int64(r);
		b->registered = kp_read_bool(r);
		b->fenced = kp_read_bool(r);
		b->shutting_down = kp_read_bool(r);
		b->session_ms_ago = kp_read_int64(r);
		b->tags = kp_read_tags(r);
	}
	resp->tags = kp_read_tags(r);
	return kp_reader_finish(r);
}

int kp_replog_quorum_response_encode(struct kp_writer *w, int16_t version,
				     const struct kp_replog_describe_quorum_response *resp)
{
	if (kp_api_begin_encode(w, KP_API_REPLOG_DESCRIBE_QUORUM, version))
		return w->kw_err;
	kp_write_int16(w, resp->error_code);
	kp_write_int32(w, resp->broker_id);
	kp_write_int32(w, resp->leader_id);
	kp_write_int8(w, resp->state);
	kp_write_int64(w, resp->term);
	kp_write_int64(w, resp->commit_index);
	kp_write_int64(w, resp->last_applied);
	kp_write_int64(w, resp->last_index);
	kp_write_int64(w, resp->snapshot_index);
	kp_write_int64(w, resp->metadata_offset);
	kp_write_array_begin(w, resp->members, resp->members_count, false);
	for (int32_t i = 0; i < resp->members_count && !w->kw_err; i++) {
		const struct kp_replog_quorum_member *m = &resp->members[i];
		kp_write_int32(w, m->id);
		kp_write_int8(w, m->role);
		kp_write_int64(w, m->match_index);
		kp_write_int64(w, m->last_contact_ms_ago);
		kp_write_tags(w, m->tags);
	}
	kp_write_array_begin(w, resp->brokers, resp->brokers_count, false);
	for (int32_t i = 0; i < resp->brokers_count && !w->kw_err; i++) {
		const struct kp_replog_quorum_broker *b = &resp->brokers[i];
		kp_write_int32(w, b->id);
		kp_write_string(w, b->address);
		kp_write_int64(w, b->broker_epoch);
		kp_write_bool(w, b->registered);
		kp_write_bool(w, b->fenced);
		kp_write_bool(w, b->shutting_down);
		kp_write_int64(w, b->session_ms_ago);
		kp_write_tags(w, b->tags);
	}
	kp_write_tags(w, resp->tags);
	return w->kw_err;
}
