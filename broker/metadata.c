/*
 * metadata — the ApiVersions and Metadata handlers: what the broker
 * supports and where every partition lives.
 *
 * Metadata answers from this broker's image of the cluster metadata: the
 * live brokers at the addresses they registered (`broker.advertised`:
 * clients reconnect to exactly that host:port), the controller, and per
 * partition its leader (-1 with LEADER_NOT_AVAILABLE when offline), leader
 * epoch, replicas, ISR and the replicas that are down.
 *
 * A broker that has not caught up with the metadata since it started (its
 * own registration not yet applied) holds its answer until it has (at most
 * the auto-creation wait), and meanwhile calls a topic it does not know
 * LEADER_NOT_AVAILABLE, never UNKNOWN_TOPIC_OR_PARTITION: a client told
 * that forgets the topic's partitions (librdkafka does).
 *
 * Requested topics that do not exist are created when auto_create_topics
 * is on and the request allows it (always for Metadata v0-v3, the
 * allow_auto_topic_creation flag from v4): the controller is asked, and the
 * answer waits (up to 3 s) until the topic's partitions have leaders, so
 * the client can use it at once. Asking for all topics never creates any.
 */
#include <string.h>

#include "api.h"
#include "broker.h"
#include "cluster.h"
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
	int n = api_advertise(rq, &r->api_keys);
	if (n < 0) {
		conn_close(rq->rq_conn, "no memory for an ApiVersions response");
		return;
	}
	r->api_keys_count = n;
	kreq_respond(rq, &resp);
}

#define METADATA_CREATE_WAIT_MS 3000

static int metadata_fill_partitions(struct broker *b, struct kreq *rq,
				    struct kp_metadata_response_topic *out,
				    const struct meta_topic *t)
{
	const struct meta_image *mi = cluster_image(b);
	int32_t n = t->mt_npartitions;
	out->partitions = kreq_alloc(rq, (size_t)n, sizeof(*out->partitions));
	if (!out->partitions)
		return -1;
	out->partitions_count = n;
	for (int32_t i = 0; i < n; i++) {
		struct kp_metadata_response_partition *p = &out->partitions[i];
		const struct meta_partition *mp = &t->mt_parts[i];
		p->partition_index = i;
		p->leader_epoch = mp->mp_leader_epoch;
		p->leader_id = mp->mp_leader;
		if (mp->mp_leader < 0)
			p->error_code = KP_ERR_LEADER_NOT_AVAILABLE;
		/* The arrays point into the image, which outlives the encoding. */
		p->replica_nodes = (int32_t *)mp->mp_replicas;
		p->replica_nodes_count = mp->mp_nreplicas;
		p->isr_nodes = (int32_t *)mp->mp_isr;
		p->isr_nodes_count = mp->mp_nisr;
		int32_t *offline = kreq_alloc(rq, (size_t)mp->mp_nreplicas, sizeof(int32_t));
		int32_t k = 0;
		for (int32_t r = 0; offline && r < mp->mp_nreplicas; r++)
			if (!meta_broker_alive(mi, mp->mp_replicas[r]))
				offline[k++] = mp->mp_replicas[r];
		p->offline_replicas = offline;
		p->offline_replicas_count = k;
		if (!p->error_code && k > 0)
			p->error_code = KP_ERR_NONE; /* usable: the leader is up */
	}
	return 0;
}

static void metadata_fill_topic(struct broker *b, struct kreq *rq,
				struct kp_metadata_response_topic *out, struct kp_str name,
				const struct meta_topic *t, int err)
{
	out->topic_authorized_operations = INT32_MIN;
	if (!t) {
		out->error_code = (int16_t)err;
		out->name = name;
		return;
	}
	out->name = (struct kp_str){t->mt_name, t->mt_name_len};
	if (metadata_fill_partitions(b, rq, out, t) < 0) {
		out->error_code = KP_ERR_UNKNOWN_SERVER_ERROR;
		out->partitions_count = 0;
	}
}

static bool metadata_fill_brokers(struct broker *b, struct kreq *rq, struct kp_metadata_response *r)
{
	const struct meta_image *mi = cluster_image(b);
	r->brokers = kreq_alloc(rq, (size_t)mi->mi_nbrokers + 2, sizeof(*r->brokers));
	if (!r->brokers)
		return false;
	int n = 0;
	bool self = false;
	for (int i = 0; i < mi->mi_nbrokers; i++) {
		const struct meta_broker *mb = &mi->mi_brokers[i];
		char host[CONFIG_HOSTPORT_MAX];
		uint16_t port;
		if (!meta_broker_alive(mi, mb->mb_id) ||
		    config_parse_hostport(mb->mb_address, host, sizeof(host), &port) < 0)
			continue;
		char *h = kreq_alloc(rq, strlen(host) + 1, 1);
		if (!h)
			return false;
		memcpy(h, host, strlen(host) + 1);
		r->brokers[n++] = (struct kp_metadata_response_broker){.node_id = mb->mb_id,
								       .host = kp_str_from_cstr(h),
								       .port = port,
								       .rack = KP_STR_NULL};
		self = self || mb->mb_id == b->b_cfg.bc_id;
	}
	if (!self) /* not registered yet: clients must still be able to reach us */
		r->brokers[n++] = (struct kp_metadata_response_broker){
			.node_id = b->b_cfg.bc_id,
			.host = kp_str_from_cstr(b->b_adv_host),
			.port = b->b_adv_port,
			.rack = KP_STR_NULL};
	/* A controller-only process never registers, yet admin clients send
	 * CreateTopics to the controller Metadata names: list it too. */
	int32_t ctl = cluster_controller_id(b);
	bool listed = false;
	for (int i = 0; i < n; i++)
		listed = listed || r->brokers[i].node_id == ctl;
	const char *addr = ctl >= 0 && !listed ? cluster_broker_address(b, ctl) : NULL;
	char host[CONFIG_HOSTPORT_MAX];
	uint16_t port;
	if (addr && config_parse_hostport(addr, host, sizeof(host), &port) == 0) {
		char *h = kreq_alloc(rq, strlen(host) + 1, 1);
		if (!h)
			return false;
		memcpy(h, host, strlen(host) + 1);
		r->brokers[n++] = (struct kp_metadata_response_broker){.node_id = ctl,
								       .host = kp_str_from_cstr(h),
								       .port = port,
								       .rack = KP_STR_NULL};
	}
	r->brokers_count = n;
	return true;
}

static void metadata_answer(struct broker *b, struct kreq *rq)
{
	const struct kp_metadata_request *req = &rq->rq_body.metadata;
	int16_t version = rq->rq_hdr.request_api_version;
	const struct meta_image *mi = cluster_image(b);
	union kp_response_body resp;
	struct kp_metadata_response *r = &resp.metadata;
	memset(r, 0, sizeof(*r));
	if (!metadata_fill_brokers(b, rq, r)) {
		conn_close(rq->rq_conn, "no memory for a Metadata response");
		return;
	}
	r->cluster_id = b->b_cluster_id[0] ? kp_str_from_cstr(b->b_cluster_id) : KP_STR_NULL;
	r->controller_id = cluster_controller_id(b);
	r->cluster_authorized_operations = INT32_MIN;
	if (kp_metadata_wants_all_topics(version, req)) {
		r->topics = kreq_alloc(rq, mi->mi_ntopics, sizeof(*r->topics));
		r->topics_count = r->topics ? (int32_t)mi->mi_ntopics : 0;
		for (int32_t i = 0; i < r->topics_count; i++)
			metadata_fill_topic(b, rq, &r->topics[i], KP_STR_NULL, mi->mi_order[i], 0);
	} else {
		r->topics = kreq_alloc(rq, (size_t)req->topics_count, sizeof(*r->topics));
		r->topics_count = r->topics ? req->topics_count : 0;
		for (int32_t i = 0; i < r->topics_count; i++) {
			struct kp_str name = req->topics[i].name;
			const struct meta_topic *t = meta_topic(mi, name.ptr, name.len);
			char why[256];
			int err = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
			if (!t && !cluster_caught_up(b))
				err = KP_ERR_LEADER_NOT_AVAILABLE; /* not learned yet: retry */
			else if (!t && (name.len <= 0 ||
					!topics_valid_name(name.ptr, name.len, why, sizeof(why))))
				err = KP_ERR_INVALID_TOPIC_EXCEPTION;
			else if (!t && b->b_cfg.bc_auto_create_topics &&
				 (version < 4 || req->allow_auto_topic_creation))
				err = KP_ERR_LEADER_NOT_AVAILABLE; /* being created: retry */
			metadata_fill_topic(b, rq, &r->topics[i], name, t, err);
		}
	}
	kreq_respond(rq, &resp);
}

void metadata_handle(struct broker *b, struct kreq *rq)
{
	const struct kp_metadata_request *req = &rq->rq_body.metadata;
	int16_t version = rq->rq_hdr.request_api_version;
	bool all = kp_metadata_wants_all_topics(version, req);
	/* Just started: the image may not hold what the cluster has yet.
	 * Answer once caught up (briefly), rather than tell a client that its
	 * topics are gone. */
	bool wait = !cluster_caught_up(b);
	if (!all && b->b_cfg.bc_auto_create_topics &&
	    (version < 4 || req->allow_auto_topic_creation)) {
		for (int32_t i = 0; i < req->topics_count; i++) {
			struct kp_str name = req->topics[i].name;
			if (!meta_topic(cluster_image(b), name.ptr, name.len) &&
			    api_auto_create(b, name.ptr, name.len))
				wait = true;
		}
	}
	int32_t n = all ? 0 : req->topics_count;
	struct kp_str *names = wait ? kreq_alloc(rq, (size_t)n + 1, sizeof(*names)) : NULL;
	if (names) {
		/* Answer when caught up and the new topics have leaders (or at
		 * the deadline). */
		for (int32_t i = 0; i < n; i++)
			names[i] = req->topics[i].name;
		if (api_wait_topics(b, rq, names, n, METADATA_CREATE_WAIT_MS, false,
				    metadata_answer))
			return;
	}
	metadata_answer(b, rq);
}
