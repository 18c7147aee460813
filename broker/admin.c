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
 * Both are answered by the controller only (NOT_CONTROLLER elsewhere: Kafka
 * admin clients send them to the controller Metadata names), once the
 * controller's records are durable. Replicas are assigned round-robin over
 * the live brokers with leaders spread evenly (controller.c).
 *
 * DeleteTopics: UNKNOWN_TOPIC_OR_PARTITION for a topic that is not there;
 * otherwise the topic disappears from the metadata, and every broker
 * removes its files once idle.
 */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "broker.h"
#include "cluster.h"
#include "conn.h"
#include "controller.h"
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

/* One CreateTopics or DeleteTopics request, answered when the controller
 * has made every topic's records durable. */
struct admin_state {
	struct kreq *as_rq;
	union kp_response_body as_resp;
	int as_pending;
};

struct admin_item {
	struct admin_state *ai_state;
	int32_t ai_index;
};

static void admin_finish(struct admin_state *as)
{
	if (--as->as_pending > 0)
		return;
	kreq_respond(as->as_rq, &as->as_resp);
	kreq_unref(as->as_rq);
}

static void admin_created(void *ctx, int err, const char *msg, int64_t value)
{
	struct admin_item *ai = ctx;
	struct admin_state *as = ai->ai_state;
	(void)value;
	struct kp_createtopics_topic_result *r = &as->as_resp.create_topics.topics[ai->ai_index];
	r->error_code = (int16_t)err;
	r->error_message = err && msg ? admin_message(as->as_rq, msg) : KP_STR_NULL;
	admin_finish(as);
}

static void admin_deleted(void *ctx, int err, const char *msg, int64_t value)
{
	struct admin_item *ai = ctx;
	(void)msg;
	(void)value;
	ai->ai_state->as_resp.delete_topics.responses[ai->ai_index].error_code = (int16_t)err;
	admin_finish(ai->ai_state);
}

static struct admin_state *admin_begin(struct kreq *rq, int32_t n, struct admin_item **items)
{
	struct admin_state *as = kreq_alloc(rq, 1, sizeof(*as));
	*items = n ? kreq_alloc(rq, (size_t)n, sizeof(**items)) : NULL;
	if (!as || (n && !*items))
		return NULL;
	as->as_rq = rq;
	as->as_pending = 1; /* held while the topics are handed out */
	kreq_ref(rq);
	return as;
}

void createtopics_handle(struct broker *b, struct kreq *rq)
{
	const struct kp_createtopics_request *req = &rq->rq_body.create_topics;
	int16_t version = rq->rq_hdr.request_api_version;
	struct admin_item *items;
	struct admin_state *as = admin_begin(rq, req->topics_count, &items);
	struct kp_createtopics_response *r = as ? &as->as_resp.create_topics : NULL;
	if (r)
		r->topics = kreq_alloc(rq, (size_t)req->topics_count, sizeof(*r->topics));
	if (!as || (req->topics_count && !r->topics)) {
		conn_close(rq->rq_conn, "no memory for a CreateTopics response");
		if (as)
			kreq_unref(rq);
		return;
	}
	r->topics_count = req->topics_count;
	struct controller *ctl = cluster_controller(b);
	for (int32_t i = 0; i < req->topics_count; i++) {
		const struct kp_createtopics_topic *t = &req->topics[i];
		char msg[ADMIN_MSG_MAX] = "";
		int err = 0;
		struct topic_config tc;
		r->topics[i].name = t->name;
		if (!ctl) {
			snprintf(msg, sizeof(msg),
				 "this broker is not the controller (broker %d is)",
				 cluster_controller_id(b));
			err = KP_ERR_NOT_CONTROLLER;
		} else if (admin_named_twice(req, i)) {
			snprintf(msg, sizeof(msg), "topic \"%.*s\" is named more than once",
				 t->name.len > 0 ? t->name.len : 0, t->name.ptr ? t->name.ptr : "");
			err = KP_ERR_INVALID_REQUEST;
		} else if (!topics_valid_name(t->name.ptr, t->name.len, msg, sizeof(msg))) {
			err = KP_ERR_INVALID_TOPIC_EXCEPTION;
		} else if ((err = admin_topic_config(b, version, t, &tc, msg, sizeof(msg))) == 0 &&
			   topic_config_validate(&tc, b->b_cfg.bc_broker_count, msg, sizeof(msg)) <
				   0) {
			err = tc.tc_replication_factor > b->b_cfg.bc_broker_count
				      ? KP_ERR_INVALID_REPLICATION_FACTOR
				      : KP_ERR_INVALID_CONFIG;
		}
		if (err) {
			r->topics[i].error_code = (int16_t)err;
			r->topics[i].error_message = admin_message(rq, msg);
			continue;
		}
		items[i] = (struct admin_item){.ai_state = as, .ai_index = i};
		as->as_pending++;
		ctl_create_topic(ctl, t->name.ptr, t->name.len, &tc, req->validate_only,
				 admin_created, &items[i]);
	}
	admin_finish(as);
}

void deletetopics_handle(struct broker *b, struct kreq *rq)
{
	const struct kp_deletetopics_request *req = &rq->rq_body.delete_topics;
	struct admin_item *items;
	struct admin_state *as = admin_begin(rq, req->topic_names_count, &items);
	struct kp_deletetopics_response *r = as ? &as->as_resp.delete_topics : NULL;
	if (r)
		r->responses =
			kreq_alloc(rq, (size_t)req->topic_names_count, sizeof(*r->responses));
	if (!as || (req->topic_names_count && !r->responses)) {
		conn_close(rq->rq_conn, "no memory for a DeleteTopics response");
		if (as)
			kreq_unref(rq);
		return;
	}
	r->responses_count = req->topic_names_count;
	struct controller *ctl = cluster_controller(b);
	for (int32_t i = 0; i < req->topic_names_count; i++) {
		struct kp_str name = req->topic_names[i];
		r->responses[i].name = name;
		if (!ctl) {
			r->responses[i].error_code = KP_ERR_NOT_CONTROLLER;
			continue;
		}
		items[i] = (struct admin_item){.ai_state = as, .ai_index = i};
		as->as_pending++;
		ctl_delete_topic(ctl, name.ptr, name.len > 0 ? name.len : 0, admin_deleted,
				 &items[i]);
	}
	admin_finish(as);
}
