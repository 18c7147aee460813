/*
 * metadata — the ApiVersions and Metadata handlers: what the broker
 * supports and where every partition lives.
 *
 * Metadata advertises `broker.advertised` (default: the listen address):
 * clients reconnect to exactly that host:port, so it must be reachable
 * from them. On one broker every partition's leader, replica set and ISR
 * is this broker; a partition whose log is fenced by a disk error is
 * reported without a leader (LEADER_NOT_AVAILABLE) and with this broker
 * as an offline replica.
 *
 * Requested topics that do not exist are created when auto_create_topics
 * is on and the request allows it (always for Metadata v0-v3, the
 * allow_auto_topic_creation flag from v4). Asking for all topics never
 * creates any.
 */
#include <string.h>

#include "api.h"
#include "broker.h"
#include "conn.h"
#include "kp_api.h"
#include "kp_message.h"

void api_versions_handle(struct broker *b, struct kreq *rq)
{
	(void)b;
	union kp_response_body resp;
	struct kp_apiversions_response *r = &resp.api_versions;
	memset(r, 0, sizeof(*r));
	const struct kp_apiversions_request *req = &rq->rq_body.api_versions;
	if (rq->rq_hdr.request_api_version >= 3 &&
	    (!kp_apiversions_software_valid(req->client_software_name) ||
	     !kp_apiversions_software_valid(req->client_software_version))) {
		/* KIP-511: librdkafka then retries with v0. */
		r->error_code = KP_ERR_INVALID_REQUEST;
		kreq_respond(rq, &resp);
		return;
	}
	int n;
	const struct api_entry *t = api_table(&n);
	r->api_keys = kreq_alloc(rq, (size_t)n, sizeof(*r->api_keys));
	if (!r->api_keys) {
		conn_close(rq->rq_conn, "no memory for an ApiVersions response");
		return;
	}
	for (int i = 0; i < n; i++)
		r->api_keys[i] = (struct kp_apiversions_api_version){.api_key = t[i].ae_key,
								     .min_version = t[i].ae_min,
								     .max_version = t[i].ae_max};
	r->api_keys_count = n;
	kreq_respond(rq, &resp);
}

static int metadata_fill_partitions(struct broker *b, struct kreq *rq,
				    struct kp_metadata_response_topic *out, struct topic *t)
{
	int32_t self = b->b_cfg.bc_id;
	int32_t n = t->tp_partition_count;
	out->partitions = kreq_alloc(rq, (size_t)n, sizeof(*out->partitions));
	int32_t *ids = kreq_alloc(rq, 2, sizeof(int32_t));
	if (!out->partitions || !ids)
		return -1;
	ids[0] = self; /* replicas and ISR: this broker */
	ids[1] = self; /* offline replicas, when fenced */
	out->partitions_count = n;
	for (int32_t i = 0; i < n; i++) {
		struct kp_metadata_response_partition *p = &out->partitions[i];
		const struct partition *part = &t->tp_parts[i];
		p->partition_index = i;
		p->leader_epoch = part->pt_leader_epoch;
		p->replica_nodes = ids;
		p->replica_nodes_count = 1;
		if (part->pt_storage_error) {
			p->error_code = KP_ERR_LEADER_NOT_AVAILABLE;
			p->leader_id = -1;
			p->isr_nodes_count = 0;
			p->offline_replicas = ids + 1;
			p->offline_replicas_count = 1;
		} else {
			p->leader_id = self;
			p->isr_nodes = ids;
			p->isr_nodes_count = 1;
		}
	}
	return 0;
}

static void metadata_fill_topic(struct broker *b, struct kreq *rq,
				struct kp_metadata_response_topic *out, struct kp_str name,
				struct topic *t, int err)
{
	out->topic_authorized_operations = INT32_MIN;
	if (!t) {
		out->error_code = (int16_t)err;
		out->name = name;
		return;
	}
	out->name = (struct kp_str){t->tp_name, t->tp_name_len};
	if (metadata_fill_partitions(b, rq, out, t) < 0) {
		out->error_code = KP_ERR_UNKNOWN_SERVER_ERROR;
		out->partitions_count = 0;
	}
}

void metadata_handle(struct broker *b, struct kreq *rq)
{
	const struct kp_metadata_request *req = &rq->rq_body.metadata;
	int16_t version = rq->rq_hdr.request_api_version;
	union kp_response_body resp;
	struct kp_metadata_response *r = &resp.metadata;
	memset(r, 0, sizeof(*r));
	r->brokers = kreq_alloc(rq, 1, sizeof(*r->brokers));
	if (!r->brokers) {
		conn_close(rq->rq_conn, "no memory for a Metadata response");
		return;
	}
	r->brokers[0] = (struct kp_metadata_response_broker){
		.node_id = b->b_cfg.bc_id,
		.host = kp_str_from_cstr(b->b_adv_host),
		.port = b->b_adv_port,
		.rack = KP_STR_NULL,
	};
	r->brokers_count = 1;
	r->cluster_id = kp_str_from_cstr(b->b_cluster_id);
	r->controller_id = b->b_cfg.bc_id;
	r->cluster_authorized_operations = INT32_MIN;

	if (kp_metadata_wants_all_topics(version, req)) {
		uint32_t n = topics_count(b->b_topics);
		r->topics = kreq_alloc(rq, n, sizeof(*r->topics));
		r->topics_count = r->topics ? (int32_t)n : 0;
		for (uint32_t i = 0; i < (uint32_t)r->topics_count; i++) {
			struct topic *t = topics_at(b->b_topics, i);
			metadata_fill_topic(b, rq, &r->topics[i], KP_STR_NULL, t, 0);
		}
	} else {
		bool create = version < 4 || req->allow_auto_topic_creation;
		r->topics = kreq_alloc(rq, (size_t)req->topics_count, sizeof(*r->topics));
		r->topics_count = r->topics ? req->topics_count : 0;
		for (int32_t i = 0; i < r->topics_count; i++) {
			struct kp_str name = req->topics[i].name;
			int err = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
			struct topic *t = name.len > 0
						  ? api_topic(b, name.ptr, name.len, create, &err)
						  : NULL;
			if (name.len <= 0)
				err = KP_ERR_INVALID_TOPIC_EXCEPTION;
			metadata_fill_topic(b, rq, &r->topics[i], name, t, err);
		}
	}
	kreq_respond(rq, &resp);
}
