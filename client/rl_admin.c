/*
 * rl_admin — the admin side of libreplog and write receipts (API in
 * replog.h): topics, the cluster, discarded writes, receipt status, and the
 * names of errors and statuses.
 *
 * What it owns: one rl_client and the arrays handed out by the last
 * describe/discarded call (valid until the next call on the admin).
 *
 * Receipt status: the receipt's batch CRC-32C is the write's identity (it
 * covers everything the producer wrote and nothing the broker stamps), so
 * the question "is my write still there?" is answered by reading, from the
 * leader, the batch that now holds the receipt's offset. The leader serves
 * consumers only below its high watermark, so a batch it returns is
 * committed: the same CRC means COMMITTED; another CRC means another write
 * won that offset for good, so DISCARDED. Nothing returned means the
 * offset is not below the high watermark (yet): PENDING.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "kp_api.h"
#include "rl_core.h"

int rl_list_offset(struct rl_client *cl, const char *topic, int32_t partition, int64_t when,
		   int64_t *offset, struct replog_error *err);

#define RL_ADMIN_CREATE_VERSION 4
#define RL_ADMIN_DELETE_VERSION 3

struct replog_admin {
	struct rl_client cl;
	struct replog_partition_info *parts;
	struct replog_broker_info *brokers;
	struct replog_discarded_info *discarded;
	size_t ndiscarded, discarded_cap;
};

/* ---- names ---------------------------------------------------------------- */

const char *replog_err_name(int code)
{
	switch (code) {
	case REPLOG_OK:
		return "REPLOG_OK";
	case REPLOG_ERR_ARG:
		return "REPLOG_ERR_ARG";
	case REPLOG_ERR_NOMEM:
		return "REPLOG_ERR_NOMEM";
	case REPLOG_ERR_TIMEOUT:
		return "REPLOG_ERR_TIMEOUT";
	case REPLOG_ERR_TRANSPORT:
		return "REPLOG_ERR_TRANSPORT";
	case REPLOG_ERR_UNKNOWN_TOPIC:
		return "REPLOG_ERR_UNKNOWN_TOPIC";
	case REPLOG_ERR_QUEUE_FULL:
		return "REPLOG_ERR_QUEUE_FULL";
	case REPLOG_ERR_BROKER:
		return "REPLOG_ERR_BROKER";
	case REPLOG_ERR_TOO_LARGE:
		return "REPLOG_ERR_TOO_LARGE";
	case REPLOG_ERR_TRUNCATED:
		return "REPLOG_ERR_TRUNCATED";
	case REPLOG_ERR_OUT_OF_RANGE:
		return "REPLOG_ERR_OUT_OF_RANGE";
	case REPLOG_ERR_STATE:
		return "REPLOG_ERR_STATE";
	case REPLOG_ERR_PROTOCOL:
		return "REPLOG_ERR_PROTOCOL";
	case REPLOG_ERR_DESTROYED:
		return "REPLOG_ERR_DESTROYED";
	default:
		return "REPLOG_ERR_UNKNOWN";
	}
}

const char *replog_receipt_status_name(int status)
{
	switch (status) {
	case REPLOG_RECEIPT_COMMITTED:
		return "COMMITTED";
	case REPLOG_RECEIPT_PENDING:
		return "PENDING";
	case REPLOG_RECEIPT_DISCARDED:
		return "DISCARDED";
	case REPLOG_RECEIPT_EXPIRED:
		return "EXPIRED";
	default:
		return "?";
	}
}

int replog_receipt_format(const struct replog_receipt *r, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s:%" PRId32 ":%" PRId64 ":%" PRId32 ":%08" PRIx32, r->topic,
			 r->partition, r->offset, r->leader_epoch, r->batch_crc);
	return n < 0 || (size_t)n >= cap ? -1 : n;
}

int replog_receipt_parse(const char *text, struct replog_receipt *r)
{
	memset(r, 0, sizeof(*r));
	const char *end = text + strlen(text);
	while (end > text && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	const char *sep[4];
	const char *q = end;
	for (int i = 3; i >= 0; i--) {
		while (q > text && q[-1] != ':')
			q--;
		if (q == text)
			return REPLOG_ERR_ARG;
		sep[i] = q - 1;
		q--;
	}
	size_t tl = (size_t)(sep[0] - text);
	if (tl == 0 || tl > REPLOG_TOPIC_MAX)
		return REPLOG_ERR_ARG;
	memcpy(r->topic, text, tl);
	char num[4][32];
	for (int i = 0; i < 4; i++) {
		const char *a = sep[i] + 1, *b = i < 3 ? sep[i + 1] : end;
		if (b <= a || (size_t)(b - a) >= sizeof(num[i]))
			return REPLOG_ERR_ARG;
		memcpy(num[i], a, (size_t)(b - a));
		num[i][b - a] = '\0';
	}
	char *e;
	errno = 0;
	long long part = strtoll(num[0], &e, 10);
	if (*e || part < 0 || part > INT32_MAX)
		return REPLOG_ERR_ARG;
	long long off = strtoll(num[1], &e, 10);
	if (*e || off < 0 || errno)
		return REPLOG_ERR_ARG;
	long long ep = strtoll(num[2], &e, 10);
	if (*e || ep < -1 || ep > INT32_MAX)
		return REPLOG_ERR_ARG;
	unsigned long long crc = strtoull(num[3], &e, 16);
	if (*e || crc > UINT32_MAX)
		return REPLOG_ERR_ARG;
	r->partition = (int32_t)part;
	r->offset = off;
	r->leader_epoch = (int32_t)ep;
	r->batch_crc = (uint32_t)crc;
	return REPLOG_OK;
}

/* ---- life ----------------------------------------------------------------- */

replog_admin *replog_admin_new(const struct replog_config *cfg, struct replog_error *err)
{
	replog_admin *a = calloc(1, sizeof(*a));
	if (!a) {
		rl_fail(err, REPLOG_ERR_NOMEM, 0, "out of memory");
		return NULL;
	}
	if (rl_client_init(&a->cl, cfg, err)) {
		free(a);
		return NULL;
	}
	return a;
}

void replog_admin_destroy(replog_admin *a)
{
	if (!a)
		return;
	rl_client_deinit(&a->cl);
	free(a->parts);
	free(a->brokers);
	free(a->discarded);
	free(a);
}

/* ---- topics --------------------------------------------------------------- */

struct rl_topic_result {
	int16_t kerr;
	char msg[200];
};

static void rl_copy_result(struct rl_topic_result *tr, int16_t code, const struct kp_str *msg)
{
	tr->kerr = code;
	if (msg && msg->len > 0)
		snprintf(tr->msg, sizeof(tr->msg), "%.*s", msg->len, msg->ptr);
}

static int rl_take_create(void *ctx, const union kp_response_body *resp, struct replog_error *err)
{
	const struct kp_createtopics_response *r = &resp->create_topics;
	if (r->topics_count < 1)
		return rl_fail(err, REPLOG_ERR_PROTOCOL, 0, "empty CreateTopics answer");
	rl_copy_result(ctx, r->topics[0].error_code, &r->topics[0].error_message);
	return REPLOG_OK;
}

static int rl_take_delete(void *ctx, const union kp_response_body *resp, struct replog_error *err)
{
	const struct kp_deletetopics_response *r = &resp->delete_topics;
	if (r->responses_count < 1)
		return rl_fail(err, REPLOG_ERR_PROTOCOL, 0, "empty DeleteTopics answer");
	rl_copy_result(ctx, r->responses[0].error_code, NULL);
	return REPLOG_OK;
}

/* Send a controller request, following NOT_CONTROLLER within the timeout. */
static int rl_controller_call(replog_admin *a, int16_t api, int16_t version,
			      const union kp_request_body *req, rl_take_cb take,
			      struct rl_topic_result *tr, const char *what, const char *topic,
			      struct replog_error *err)
{
	int64_t end = rl_now_ms() + a->cl.cfg.request_timeout_ms;
	for (;;) {
		int rc = rl_metadata_refresh(&a->cl, NULL, 0, false, err);
		if (rc)
			return rc;
		memset(tr, 0, sizeof(*tr));
		rc = a->cl.controller >= 0
			     ? rl_call(&a->cl, a->cl.controller, api, version, req, take, tr, err)
			     : REPLOG_ERR_TRANSPORT;
		bool again = rc != 0 || tr->kerr == KP_ERR_NOT_CONTROLLER;
		if (!again)
			break;
		if (rl_now_ms() >= end)
			return rc ? rc
				  : rl_fail(err, REPLOG_ERR_TIMEOUT, tr->kerr,
					    "%s \"%s\": no active controller within %d ms", what,
					    topic, a->cl.cfg.request_timeout_ms);
		rl_client_poll(&a->cl, a->cl.cfg.retry_backoff_ms);
	}
	if (tr->kerr)
		return rl_fail(err,
			       tr->kerr == KP_ERR_UNKNOWN_TOPIC_OR_PARTITION
				       ? REPLOG_ERR_UNKNOWN_TOPIC
				       : REPLOG_ERR_BROKER,
			       tr->kerr, "%s \"%s\": %s%s%s", what, topic, kp_error_name(tr->kerr),
			       tr->msg[0] ? ": " : "", tr->msg);
	return REPLOG_OK;
}

int replog_admin_create_topic(replog_admin *a, const char *topic, int32_t partitions,
			      int16_t replication_factor, int min_insync_replicas,
			      struct replog_error *err)
{
	if (!topic || !*topic || strlen(topic) > REPLOG_TOPIC_MAX)
		return rl_fail(err, REPLOG_ERR_ARG, 0, "create topic: a name of 1..%d characters",
			       REPLOG_TOPIC_MAX);
	char minisr[16];
	snprintf(minisr, sizeof(minisr), "%d", min_insync_replicas);
	struct kp_createtopics_config conf = {.name = KP_STR("min.insync.replicas"),
					      .value = kp_str_from_cstr(minisr)};
	struct kp_createtopics_topic t = {
		.name = kp_str_from_cstr(topic),
		.num_partitions = partitions,
		.replication_factor = replication_factor,
		.configs = min_insync_replicas > 0 ? &conf : NULL,
		.configs_count = min_insync_replicas > 0 ? 1 : 0,
	};
	union kp_request_body req = {.create_topics = {
					     .topics = &t,
					     .topics_count = 1,
					     .timeout_ms = a->cl.cfg.request_timeout_ms,
				     }};
	struct rl_topic_result tr;
	int rc = rl_controller_call(a, KP_API_CREATE_TOPICS, RL_ADMIN_CREATE_VERSION, &req,
				    rl_take_create, &tr, "create topic", topic, err);
	if (rc)
		return rc;
	/* Wait until every partition has a leader. */
	int64_t end = rl_now_ms() + a->cl.cfg.request_timeout_ms;
	for (;;) {
		struct rl_topic_meta *m = NULL;
		if (rl_metadata_refresh(&a->cl, &topic, 1, false, NULL) == 0)
			m = rl_topic(&a->cl, topic);
		bool led = m && m->nparts > 0 && m->kerr == 0;
		for (int32_t i = 0; led && i < m->nparts; i++)
			led = m->parts[i].leader >= 0;
		if (led)
			return REPLOG_OK;
		if (rl_now_ms() >= end)
			return rl_fail(
				err, REPLOG_ERR_TIMEOUT, 0,
				"create topic \"%s\": created, but not every partition has a "
				"leader after %d ms",
				topic, a->cl.cfg.request_timeout_ms);
		rl_client_poll(&a->cl, 50);
	}
}

int replog_admin_delete_topic(replog_admin *a, const char *topic, struct replog_error *err)
{
	if (!topic || !*topic)
		return rl_fail(err, REPLOG_ERR_ARG, 0, "delete topic: no name");
	struct kp_str name = kp_str_from_cstr(topic);
	union kp_request_body req = {.delete_topics = {
					     .topic_names = &name,
					     .topic_names_count = 1,
					     .timeout_ms = a->cl.cfg.request_timeout_ms,
				     }};
	struct rl_topic_result tr;
	return rl_controller_call(a, KP_API_DELETE_TOPICS, RL_ADMIN_DELETE_VERSION, &req,
				  rl_take_delete, &tr, "delete topic", topic, err);
}

int replog_admin_describe_topic(replog_admin *a, const char *topic, struct replog_topic_info *out,
				struct replog_error *err)
{
	memset(out, 0, sizeof(*out));
	int rc = rl_metadata_refresh(&a->cl, &topic, 1, false, err);
	if (rc)
		return rc;
	struct rl_topic_meta *m = rl_topic(&a->cl, topic);
	if (!m || m->kerr || m->nparts == 0)
		return rl_fail(err, REPLOG_ERR_UNKNOWN_TOPIC,
			       m && m->kerr ? m->kerr : KP_ERR_UNKNOWN_TOPIC_OR_PARTITION,
			       "topic \"%s\" does not exist", topic);
	free(a->parts);
	a->parts = calloc((size_t)m->nparts, sizeof(*a->parts));
	if (!a->parts)
		return rl_fail(err, REPLOG_ERR_NOMEM, 0, "out of memory");
	snprintf(out->name, sizeof(out->name), "%s", m->name);
	out->npartitions = m->nparts;
	out->partitions = a->parts;
	for (int32_t i = 0; i < m->nparts; i++) {
		const struct rl_part_meta *p = &m->parts[i];
		struct replog_partition_info *o = &a->parts[i];
		o->partition = i;
		o->kafka_error = p->kerr;
		o->leader = p->leader;
		o->leader_epoch = p->leader_epoch;
		o->nreplicas = p->nreplicas;
		memcpy(o->replicas, p->replicas, sizeof(o->replicas));
		o->nisr = p->nisr;
		memcpy(o->isr, p->isr, sizeof(o->isr));
	}
	return REPLOG_OK;
}

int replog_admin_describe_cluster(replog_admin *a, struct replog_cluster_info *out,
				  struct replog_error *err)
{
	memset(out, 0, sizeof(*out));
	int rc = rl_metadata_refresh(&a->cl, NULL, 0, false, err);
	if (rc)
		return rc;
	int n = 0;
	for (int i = 0; i < a->cl.nconns; i++)
		n += a->cl.conns[i]->id >= 0;
	free(a->brokers);
	a->brokers = calloc(n ? (size_t)n : 1, sizeof(*a->brokers));
	if (!a->brokers)
		return rl_fail(err, REPLOG_ERR_NOMEM, 0, "out of memory");
	for (int i = 0; i < a->cl.nconns; i++) {
		const struct rl_conn *c = a->cl.conns[i];
		if (c->id < 0)
			continue;
		struct replog_broker_info *b = &a->brokers[out->nbrokers++];
		b->id = c->id;
		const char *colon = strrchr(c->addr, ':');
		snprintf(b->host, sizeof(b->host), "%.*s", (int)(colon - c->addr), c->addr);
		b->port = atoi(colon + 1);
	}
	snprintf(out->cluster_id, sizeof(out->cluster_id), "%s", a->cl.cluster_id);
	out->controller = a->cl.controller;
	out->brokers = a->brokers;
	return REPLOG_OK;
}

/* ---- discarded writes ----------------------------------------------------- */

struct rl_disc_take {
	replog_admin *a;
	int32_t broker;
};

static int rl_take_discarded(void *ctx, const union kp_response_body *resp,
			     struct replog_error *err)
{
	struct rl_disc_take *dt = ctx;
	replog_admin *a = dt->a;
	const struct kp_replog_discarded_response *r = &resp->replog_list_discarded;
	for (int32_t i = 0; i < r->entries_count; i++) {
		if (a->ndiscarded == a->discarded_cap) {
			size_t cap = a->discarded_cap ? a->discarded_cap * 2 : 64;
			struct replog_discarded_info *n = realloc(a->discarded, cap * sizeof(*n));
			if (!n)
				return rl_fail(err, REPLOG_ERR_NOMEM, 0, "out of memory");
			a->discarded = n;
			a->discarded_cap = cap;
		}
		const struct kp_replog_discarded_entry *e = &r->entries[i];
		struct replog_discarded_info *o = &a->discarded[a->ndiscarded++];
		memset(o, 0, sizeof(*o));
		o->broker = dt->broker;
		snprintf(o->topic, sizeof(o->topic), "%.*s", e->topic.len, e->topic.ptr);
		o->partition = e->partition;
		snprintf(o->reason, sizeof(o->reason), "%.*s", e->reason.len, e->reason.ptr);
		o->time_ms = e->time_ms;
		o->first_offset = e->first_offset;
		o->next_offset = e->next_offset;
		o->epoch_min = e->epoch_min;
		o->epoch_max = e->epoch_max;
		o->bytes = e->bytes;
	}
	return REPLOG_OK;
}

int replog_admin_discarded(replog_admin *a, const char *topic,
			   const struct replog_discarded_info **out, size_t *count,
			   struct replog_error *err)
{
	*out = NULL;
	*count = 0;
	int rc = rl_metadata_refresh(&a->cl, NULL, 0, false, err);
	if (rc)
		return rc;
	a->ndiscarded = 0;
	struct kp_str name = topic ? kp_str_from_cstr(topic) : KP_STR_NULL;
	union kp_request_body req = {.replog_list_discarded = {
					     .topics = topic ? &name : NULL,
					     .topics_count = topic ? 1 : -1,
				     }};
	int asked = 0, answered = 0;
	for (int i = 0; i < a->cl.nconns; i++) {
		struct rl_conn *c = a->cl.conns[i];
		if (c->id < 0)
			continue;
		asked++;
		struct rl_disc_take dt = {.a = a, .broker = c->id};
		if (rl_call(&a->cl, c->id, KP_API_REPLOG_LIST_DISCARDED, 0, &req, rl_take_discarded,
			    &dt, err) == 0)
			answered++;
	}
	if (asked > 0 && answered == 0)
		return err ? err->code : REPLOG_ERR_TRANSPORT;
	*out = a->discarded;
	*count = a->ndiscarded;
	return REPLOG_OK;
}

/* ---- receipts ------------------------------------------------------------- */

struct rl_status_take {
	const struct replog_receipt *rc;
	int16_t kerr;
	int64_t hw, log_start;
	bool found;
	uint32_t crc;
	int32_t epoch;
};

static int rl_take_status(void *ctx, const union kp_response_body *resp, struct replog_error *err)
{
	struct rl_status_take *st = ctx;
	const struct kp_fetch_response *r = &resp->fetch;
	if (r->responses_count < 1 || r->responses[0].partitions_count < 1)
		return rl_fail(err, REPLOG_ERR_PROTOCOL, 0, "empty Fetch answer");
	const struct kp_fetch_partition_data *d = &r->responses[0].partitions[0];
	st->kerr = d->error_code;
	st->hw = d->high_watermark;
	st->log_start = d->log_start_offset;
	struct batch_iter it;
	struct batch_header h;
	const uint8_t *batch;
	size_t size;
	if (d->records.len <= 0)
		return REPLOG_OK;
	batch_iter_init(&it, d->records.ptr, (size_t)d->records.len);
	while (batch_iter_next(&it, &h, &batch, &size) == 1) {
		if (h.bh_base_offset <= st->rc->offset && batch_last_offset(&h) >= st->rc->offset) {
			st->found = true;
			st->crc = h.bh_crc;
			st->epoch = h.bh_partition_leader_epoch;
			break;
		}
	}
	return REPLOG_OK;
}

static int rl_status_once(replog_admin *a, const struct replog_receipt *rc, int *status,
			  int32_t *stored_epoch, struct replog_error *err)
{
	struct rl_topic_meta *t;
	int r = rl_topic_get(&a->cl, rc->topic, false, &t, err);
	if (r)
		return r;
	if (rc->partition >= t->nparts)
		return rl_fail(err, REPLOG_ERR_UNKNOWN_TOPIC, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION,
			       "topic \"%s\" has no partition %d", rc->topic, rc->partition);
	int32_t leader = t->parts[rc->partition].leader;
	if (leader < 0)
		return rl_fail(err, REPLOG_ERR_BROKER, KP_ERR_LEADER_NOT_AVAILABLE,
			       "%s[%d] has no leader now", rc->topic, rc->partition);
	struct kp_fetch_partition fp = {
		.partition = rc->partition,
		.current_leader_epoch = -1,
		.fetch_offset = rc->offset,
		.log_start_offset = -1,
		.partition_max_bytes = 1, /* the first batch comes whole (KIP-74) */
	};
	struct kp_fetch_topic ft = {
		.topic = kp_str_from_cstr(rc->topic), .partitions = &fp, .partitions_count = 1};
	union kp_request_body req = {.fetch = {
					     .replica_id = -1,
					     .max_wait_ms = 0,
					     .min_bytes = 0,
					     .max_bytes = 1,
					     .session_epoch = -1,
					     .topics = &ft,
					     .topics_count = 1,
					     .rack_id = KP_STR(""),
				     }};
	struct rl_status_take st = {.rc = rc};
	r = rl_call(&a->cl, leader, KP_API_FETCH, RL_FETCH_VERSION, &req, rl_take_status, &st, err);
	if (r)
		return r;
	if (st.kerr == KP_ERR_OFFSET_OUT_OF_RANGE) {
		*status =
			st.log_start > rc->offset ? REPLOG_RECEIPT_EXPIRED : REPLOG_RECEIPT_PENDING;
		return REPLOG_OK;
	}
	if (st.kerr)
		return rl_fail(err, REPLOG_ERR_BROKER, st.kerr, "%s[%d]: broker %d answered %s",
			       rc->topic, rc->partition, leader, kp_error_name(st.kerr));
	if (!st.found) {
		*status = REPLOG_RECEIPT_PENDING;
		return REPLOG_OK;
	}
	*status = st.crc == rc->batch_crc ? REPLOG_RECEIPT_COMMITTED : REPLOG_RECEIPT_DISCARDED;
	if (stored_epoch && *status == REPLOG_RECEIPT_COMMITTED)
		*stored_epoch = st.epoch;
	return REPLOG_OK;
}

int replog_receipt_status(replog_admin *a, const struct replog_receipt *receipt, int *status,
			  int32_t *stored_epoch, struct replog_error *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
	if (!receipt || receipt->offset < 0 || receipt->partition < 0 || !receipt->topic[0])
		return rl_fail(err, REPLOG_ERR_ARG, 0,
			       "a receipt with a topic, a partition and an "
			       "offset is needed");
	if (stored_epoch)
		*stored_epoch = -1;
	int64_t end = rl_now_ms() + a->cl.cfg.request_timeout_ms;
	for (;;) {
		int rc = rl_status_once(a, receipt, status, stored_epoch, err);
		bool retry = rc == REPLOG_ERR_BROKER && err && rl_kafka_retriable(err->kafka_code);
		if (!retry || rl_now_ms() >= end)
			return rc;
		rl_client_poll(&a->cl, a->cl.cfg.retry_backoff_ms);
		rl_metadata_refresh(&a->cl, (const char *const[]){receipt->topic}, 1, false, NULL);
	}
}

int replog_receipt_wait(replog_admin *a, const struct replog_receipt *receipt, int timeout_ms,
			int *status, int32_t *stored_epoch, struct replog_error *err)
{
	int64_t end = rl_now_ms() + timeout_ms;
	for (;;) {
		int rc = replog_receipt_status(a, receipt, status, stored_epoch, err);
		if (rc || *status != REPLOG_RECEIPT_PENDING || rl_now_ms() >= end)
			return rc;
		rl_client_poll(&a->cl, 50);
	}
}
