/*
 * admin — the CreateTopics and DeleteTopics handlers.
 *
 * CreateTopics: per topic, Kafka's checks and error codes: a valid name
 * (INVALID_TOPIC_EXCEPTION), not already there (TOPIC_ALREADY_EXISTS), a
 * positive partition count or -1 for the default (INVALID_PARTITIONS), a
 * replication factor the cluster can hold or -1 (INVALID_REPLICATION_FACTOR),
 * manual assignments only with both counts -1 and only onto known brokers
 * (INVALID_REPLICA_ASSIGNMENT), topic configs by Kafka's names with their
 * ranges (INVALID_CONFIG, the message naming the key), and a topic named
 * twice in one request (INVALID_REQUEST). validate_only checks everything
 * and creates nothing. Every error carries a message (v1+).
 *
 * DeleteTopics: UNKNOWN_TOPIC_OR_PARTITION for a topic that is not there;
 * otherwise the topic disappears at once and its files once idle.
 */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "broker.h"
#include "conn.h"
#include "kp_api.h"

#define ADMIN_MSG_MAX 256

static struct kp_str admin_message(struct kreq *rq, const char *msg)
{
	size_t n = strlen(msg);
	char *m = kreq_alloc(rq, n + 1, 1);
	if (!m)
		return KP_STR_NULL;
	memcpy(m, msg, n);
	return (struct kp_str){m, (int32_t)n};
}

static bool admin_named_twice(const struct kp_createtopics_request *req, int32_t i)
{
	for (int32_t j = 0; j < req->topics_count; j++)
		if (j != i && kp_str_eq(req->topics[j].name, req->topics[i].name))
			return true;
	return false;
}

/* Build the topic's settings from the request. Returns a Kafka error code
 * (with msg) or 0. */
static int admin_topic_config(struct broker *b, int16_t version,
			      const struct kp_createtopics_topic *t, struct topic_config *tc,
			      char *msg, size_t cap)
{
	*tc = b->b_cfg.bc_topic_defaults;
	if (t->assignments_count > 0) {
		if (t->num_partitions != -1 || t->replication_factor != -1) {
			snprintf(msg, cap,
				 "with replica assignments, num_partitions and "
				 "replication_factor must be -1");
			return KP_ERR_INVALID_REQUEST;
		}
		tc->tc_partitions = t->assignments_count;
		for (int32_t i = 0; i < t->assignments_count; i++) {
			const struct kp_createtopics_assignment *a = &t->assignments[i];
			if (a->partition_index != i || a->broker_ids_count != 1 ||
			    a->broker_ids[0] != b->b_cfg.bc_id) {
				snprintf(msg, cap,
					 "replica assignment for partition %d is not possible: "
					 "partitions 0..n-1 each on broker %d (the only broker)",
					 a->partition_index, b->b_cfg.bc_id);
				return KP_ERR_INVALID_REPLICA_ASSIGNMENT;
			}
		}
		tc->tc_replication_factor = 1;
	} else {
		if (t->num_partitions == -1 && version >= 4) {
			/* the default */
		} else if (t->num_partitions <= 0) {
			snprintf(msg, cap, "number of partitions must be positive, got %d",
				 t->num_partitions);
			return KP_ERR_INVALID_PARTITIONS;
		} else {
			tc->tc_partitions = t->num_partitions;
		}
		if (t->replication_factor == -1 && version >= 4) {
			/* the default */
		} else if (t->replication_factor <= 0) {
			snprintf(msg, cap, "replication factor must be positive, got %d",
				 t->replication_factor);
			return KP_ERR_INVALID_REPLICATION_FACTOR;
		} else {
			tc->tc_replication_factor = t->replication_factor;
		}
	}
	for (int32_t i = 0; i < t->configs_count; i++) {
		const struct kp_createtopics_config *c = &t->configs[i];
		if (c->value.len < 0)
			continue; /* null: keep the default */
		if (topic_config_set(tc, c->name.ptr, c->name.len, c->value.ptr, c->value.len, msg,
				     cap) < 0)
			return KP_ERR_INVALID_CONFIG;
	}
	return 0;
}

static int admin_create_one(struct broker *b, struct kreq *rq,
			    const struct kp_createtopics_topic *t, char *msg, size_t cap)
{
	const struct kp_createtopics_request *req = &rq->rq_body.create_topics;
	int16_t version = rq->rq_hdr.request_api_version;
	if (!topics_valid_name(t->name.ptr, t->name.len, msg, cap))
		return KP_ERR_INVALID_TOPIC_EXCEPTION;
	if (topics_find(b->b_topics, t->name.ptr, t->name.len)) {
		snprintf(msg, cap, "topic \"%.*s\" already exists", t->name.len, t->name.ptr);
		return KP_ERR_TOPIC_ALREADY_EXISTS;
	}
	struct topic_config tc;
	int err = admin_topic_config(b, version, t, &tc, msg, cap);
	if (err)
		return err;
	if (req->validate_only) {
		if (tc.tc_replication_factor > b->b_cfg.bc_broker_count) {
			snprintf(msg, cap, "replication factor %d is not possible with %d broker%s",
				 tc.tc_replication_factor, b->b_cfg.bc_broker_count,
				 b->b_cfg.bc_broker_count == 1 ? "" : "s");
			return KP_ERR_INVALID_REPLICATION_FACTOR;
		}
		if (topic_config_validate(&tc, b->b_cfg.bc_broker_count, msg, cap) < 0)
			return KP_ERR_INVALID_CONFIG;
		return 0;
	}
	return topics_create(b->b_topics, t->name.ptr, t->name.len, &tc, NULL, msg, cap);
}

void createtopics_handle(struct broker *b, struct kreq *rq)
{
	const struct kp_createtopics_request *req = &rq->rq_body.create_topics;
	union kp_response_body resp;
	struct kp_createtopics_response *r = &resp.create_topics;
	memset(r, 0, sizeof(*r));
	r->topics = kreq_alloc(rq, (size_t)req->topics_count, sizeof(*r->topics));
	if (req->topics_count && !r->topics) {
		conn_close(rq->rq_conn, "no memory for a CreateTopics response");
		return;
	}
	r->topics_count = req->topics_count;
	for (int32_t i = 0; i < req->topics_count; i++) {
		const struct kp_createtopics_topic *t = &req->topics[i];
		char msg[ADMIN_MSG_MAX] = "";
		int err;
		if (admin_named_twice(req, i)) {
			snprintf(msg, sizeof(msg), "topic \"%.*s\" is named more than once",
				 t->name.len > 0 ? t->name.len : 0, t->name.ptr ? t->name.ptr : "");
			err = KP_ERR_INVALID_REQUEST;
		} else {
			err = admin_create_one(b, rq, t, msg, sizeof(msg));
		}
		r->topics[i].name = t->name;
		r->topics[i].error_code = (int16_t)err;
		r->topics[i].error_message = err ? admin_message(rq, msg) : KP_STR_NULL;
	}
	kreq_respond(rq, &resp);
}

void deletetopics_handle(struct broker *b, struct kreq *rq)
{
	const struct kp_deletetopics_request *req = &rq->rq_body.delete_topics;
	union kp_response_body resp;
	struct kp_deletetopics_response *r = &resp.delete_topics;
	memset(r, 0, sizeof(*r));
	r->responses = kreq_alloc(rq, (size_t)req->topic_names_count, sizeof(*r->responses));
	if (req->topic_names_count && !r->responses) {
		conn_close(rq->rq_conn, "no memory for a DeleteTopics response");
		return;
	}
	r->responses_count = req->topic_names_count;
	for (int32_t i = 0; i < req->topic_names_count; i++) {
		struct kp_str name = req->topic_names[i];
		struct topic *t =
			name.len > 0 ? topics_find(b->b_topics, name.ptr, name.len) : NULL;
		r->responses[i].name = name;
		r->responses[i].error_code = t ? (int16_t)topics_delete(b->b_topics, t)
					       : KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	}
	kreq_respond(rq, &resp);
}
