/*
 * rl_consumer — the consumer of libreplog (API in replog.h).
 *
 * What it owns: the assigned partitions, each with its position (the next
 * offset to return), the leader epoch of the last message returned, the
 * broker it is read from (its "source": the leader, or with
 * REPLOG_FETCH_REPLICA a replica chosen once and kept while it answers),
 * the high watermark that source last reported, and the messages fetched
 * but not yet returned.
 *
 * Invariants:
 *  - a position moves only forward, by messages returned, except through
 *    replog_consumer_seek/assign: a fetch from a source that is behind
 *    returns nothing (brokers serve only below their HW), it never moves
 *    the position back;
 *  - when the metadata shows a new leader epoch for a partition that has
 *    returned messages, the new leader is asked (OffsetForLeaderEpoch) where
 *    the epoch of the last message returned ends; if that is below the
 *    position, the log was truncated under the consumer: the partition
 *    stops with REPLOG_ERR_TRUNCATED instead of silently re-reading;
 *  - one Fetch in flight per broker, covering all its partitions.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_api.h"
#include "rl_core.h"

struct rl_cpart {
	struct rl_cpart *next;
	char topic[REPLOG_TOPIC_MAX + 1];
	int32_t partition;
	int64_t position;
	int32_t last_epoch;  /* of the last message returned; -1 none */
	int32_t known_epoch; /* leader epoch of the metadata last used */
	int32_t source;	     /* broker read from; -1 = to choose */
	bool leader_only;    /* after a read-your-writes fallback */
	int64_t hw;	     /* of the source, from its last answer; -1 unknown */
	bool inflight;
	int stopped; /* a replog_err that stops this partition until a seek */
	int stopped_kafka;
	char stopped_why[REPLOG_TOPIC_MAX + 256];
};

struct rl_msgref {
	struct rl_cpart *part;
	int64_t offset;
	int32_t epoch;
	int64_t ts;
	int64_t key_off, value_off; /* into data; -1 = null */
	size_t key_len, value_len;
};

struct replog_consumer {
	struct rl_client cl;
	struct rl_cpart *parts;
	struct rl_msgref *refs;
	size_t nrefs, refs_cap;
	uint8_t *data;
	size_t data_len, data_cap;
	struct replog_message *out;
	size_t out_cap;
	bool returned; /* refs were handed out by the last poll */
	uint8_t *scratch;
	size_t scratch_cap;
	bool need_metadata;
	int64_t metadata_at_ms;
	int wait_ms; /* max_wait of the next fetches */
	unsigned rng;
	bool fetching[RL_MAX_BROKERS];
	int32_t fetching_id[RL_MAX_BROKERS];
};

struct rl_freq {
	replog_consumer *c;
	int32_t broker;
	int n;
	struct rl_cpart *parts[];
};

static struct rl_cpart *rl_cpart(const replog_consumer *c, const char *topic, int32_t partition)
{
	for (struct rl_cpart *p = c->parts; p; p = p->next)
		if (p->partition == partition && strcmp(p->topic, topic) == 0)
			return p;
	return NULL;
}

/* ---- choosing where to read ----------------------------------------------- */

static bool rl_broker_alive(struct rl_client *cl, int32_t id)
{
	struct rl_conn *c = id >= 0 ? rl_client_conn(cl, id) : NULL;
	return c && (c->state != RL_CONN_DOWN || c->failures == 0);
}

static int32_t rl_choose_source(replog_consumer *c, struct rl_cpart *p)
{
	struct rl_topic_meta *t = rl_topic(&c->cl, p->topic);
	if (!t || p->partition >= t->nparts)
		return -1;
	const struct rl_part_meta *m = &t->parts[p->partition];
	if (c->cl.cfg.fetch_from == REPLOG_FETCH_LEADER || p->leader_only)
		return m->leader;
	int32_t want = c->cl.cfg.preferred_replica;
	for (int32_t i = 0; i < m->nreplicas; i++)
		if (m->replicas[i] == want && rl_broker_alive(&c->cl, want))
			return want;
	for (int32_t i = 0; i < m->nreplicas; i++)
		if (m->replicas[i] == p->source && rl_broker_alive(&c->cl, p->source))
			return p->source; /* sticky */
	if (m->nreplicas == 0)
		return m->leader;
	c->rng = c->rng * 1103515245u + 12345u;
	int32_t pick = m->replicas[(c->rng >> 8) % (uint32_t)m->nreplicas];
	return rl_broker_alive(&c->cl, pick) ? pick : m->leader;
}

/* ---- collecting messages -------------------------------------------------- */

static int64_t rl_keep_bytes(replog_consumer *c, const uint8_t *b, int32_t len)
{
	if (len < 0)
		return -1;
	if (c->data_len + (size_t)len > c->data_cap) {
		size_t cap = c->data_cap ? c->data_cap : 1 << 20;
		while (cap < c->data_len + (size_t)len)
			cap *= 2;
		uint8_t *n = realloc(c->data, cap);
		if (!n)
			return -2;
		c->data = n;
		c->data_cap = cap;
	}
	memcpy(c->data + c->data_len, b, (size_t)len);
	c->data_len += (size_t)len;
	return (int64_t)(c->data_len - (size_t)len);
}

struct rl_collect {
	replog_consumer *c;
	struct rl_cpart *part;
};

static int rl_collect_one(void *ctx, const struct rl_record_view *r, int32_t epoch)
{
	struct rl_collect *cc = ctx;
	replog_consumer *c = cc->c;
	if (r->offset < cc->part->position)
		return 0;
	if (c->nrefs == c->refs_cap) {
		size_t cap = c->refs_cap ? c->refs_cap * 2 : 1024;
		struct rl_msgref *n = realloc(c->refs, cap * sizeof(*n));
		if (!n)
			return REPLOG_ERR_NOMEM;
		c->refs = n;
		c->refs_cap = cap;
	}
	int64_t k = rl_keep_bytes(c, r->key, r->key_len);
	int64_t v = rl_keep_bytes(c, r->value, r->value_len);
	if (k == -2 || v == -2)
		return REPLOG_ERR_NOMEM;
	c->refs[c->nrefs++] = (struct rl_msgref){
		.part = cc->part,
		.offset = r->offset,
		.epoch = epoch,
		.ts = r->timestamp_ms,
		.key_off = k,
		.value_off = v,
		.key_len = r->key_len > 0 ? (size_t)r->key_len : 0,
		.value_len = r->value_len > 0 ? (size_t)r->value_len : 0,
	};
	cc->part->position = r->offset + 1;
	cc->part->last_epoch = epoch;
	return 0;
}

__attribute__((format(printf, 4, 5))) static void rl_stop_part(struct rl_cpart *p, int code,
							       int kerr, const char *fmt, ...)
{
	p->stopped = code;
	p->stopped_kafka = kerr;
	int n = snprintf(p->stopped_why, sizeof(p->stopped_why), "%s[%d]: ", p->topic,
			 p->partition);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->stopped_why + n, sizeof(p->stopped_why) - (size_t)n, fmt, ap);
	va_end(ap);
}

static void rl_fetch_part_answer(replog_consumer *c, struct rl_cpart *p, int32_t broker,
				 const struct kp_fetch_partition_data *d)
{
	if (d->error_code == KP_ERR_OFFSET_OUT_OF_RANGE) {
		rl_stop_part(p, REPLOG_ERR_OUT_OF_RANGE, d->error_code,
			     "offset %lld is outside the log (log start %lld)",
			     (long long)p->position, (long long)d->log_start_offset);
		return;
	}
	if (d->error_code != 0) {
		/* Leader moved, epoch changed, replica gone: look again. */
		p->source = -1;
		c->need_metadata = true;
		return;
	}
	if (broker == p->source)
		p->hw = d->high_watermark;
	if (d->records.len <= 0)
		return;
	struct rl_collect cc = {.c = c, .part = p};
	int64_t next = rl_records_walk(d->records.ptr, (size_t)d->records.len, p->position,
				       &c->scratch, &c->scratch_cap, rl_collect_one, &cc);
	if (next < 0)
		rl_stop_part(p, REPLOG_ERR_PROTOCOL, 0,
			     "a corrupt batch at or after offset %lld (code %lld)",
			     (long long)p->position, (long long)next);
	else if (next > p->position)
		p->position = next; /* past control batches */
}

static void rl_fetch_done(void *ctx, int err, const union kp_response_body *resp)
{
	struct rl_freq *fq = ctx;
	replog_consumer *c = fq->c;
	for (int i = 0; i < RL_MAX_BROKERS; i++)
		if (c->fetching[i] && c->fetching_id[i] == fq->broker)
			c->fetching[i] = false;
	for (int i = 0; i < fq->n; i++) {
		struct rl_cpart *p = fq->parts[i];
		if (!p)
			continue; /* unassigned meanwhile */
		if (p->source != fq->broker)
			continue; /* abandoned (read-your-writes fallback) */
		p->inflight = false;
		if (err || !resp) {
			p->source = -1;
			c->need_metadata = true;
			continue;
		}
		const struct kp_fetch_response *fr = &resp->fetch;
		for (int32_t t = 0; t < fr->responses_count; t++) {
			const struct kp_fetch_topic_response *tr = &fr->responses[t];
			if ((size_t)tr->topic.len != strlen(p->topic) ||
			    memcmp(tr->topic.ptr, p->topic, (size_t)tr->topic.len) != 0)
				continue;
			for (int32_t k = 0; k < tr->partitions_count; k++)
				if (tr->partitions[k].partition_index == p->partition)
					rl_fetch_part_answer(c, p, fq->broker, &tr->partitions[k]);
		}
	}
	free(fq);
}

/* ---- validation after a leader change ------------------------------------- */

struct rl_epoch_take {
	int16_t kerr;
	int32_t epoch;
	int64_t end;
};

static int rl_take_epoch(void *ctx, const union kp_response_body *resp, struct replog_error *err)
{
	struct rl_epoch_take *et = ctx;
	const struct kp_epoch_response *r = &resp->offset_for_leader_epoch;
	if (r->topics_count < 1 || r->topics[0].partitions_count < 1)
		return rl_fail(err, REPLOG_ERR_PROTOCOL, 0, "empty OffsetForLeaderEpoch answer");
	et->kerr = r->topics[0].partitions[0].error_code;
	et->epoch = r->topics[0].partitions[0].leader_epoch;
	et->end = r->topics[0].partitions[0].end_offset;
	return REPLOG_OK;
}

/* The leader epoch moved since this partition last fetched: check that the
 * log still holds everything below the position. */
static void rl_validate(replog_consumer *c, struct rl_cpart *p, const struct rl_part_meta *m)
{
	if (p->last_epoch < 0 || m->leader < 0) {
		p->known_epoch = m->leader_epoch;
		return;
	}
	struct kp_epoch_partition ep = {.partition = p->partition,
					.current_leader_epoch = -1,
					.leader_epoch = p->last_epoch};
	struct kp_epoch_topic et = {
		.topic = kp_str_from_cstr(p->topic), .partitions = &ep, .partitions_count = 1};
	union kp_request_body req = {
		.offset_for_leader_epoch = {.replica_id = -1, .topics = &et, .topics_count = 1}};
	struct rl_epoch_take take = {0};
	struct replog_error e;
	if (rl_call(&c->cl, m->leader, KP_API_OFFSET_FOR_LEADER_EPOCH, RL_EPOCH_VERSION, &req,
		    rl_take_epoch, &take, &e))
		return; /* try again at the next round */
	if (take.kerr != 0) {
		c->need_metadata = true;
		return;
	}
	p->known_epoch = m->leader_epoch;
	if (take.end >= 0 && take.end < p->position)
		rl_stop_part(p, REPLOG_ERR_TRUNCATED, 0,
			     "the new leader's log ends at %lld for the epoch of the last "
			     "message read, below the position %lld: records read were truncated",
			     (long long)take.end, (long long)p->position);
}

/* ---- the loop ------------------------------------------------------------- */

static void rl_consumer_refresh(replog_consumer *c, int64_t now)
{
	if (!c->need_metadata || now < c->metadata_at_ms || c->cl.in_poll)
		return;
	c->need_metadata = false;
	c->metadata_at_ms = now + c->cl.cfg.retry_backoff_ms;
	const char *names[64];
	int n = 0;
	for (struct rl_cpart *p = c->parts; p && n < 64; p = p->next) {
		bool seen = false;
		for (int i = 0; i < n; i++)
			seen |= strcmp(names[i], p->topic) == 0;
		if (!seen)
			names[n++] = p->topic;
	}
	struct replog_error e;
	c->cl.in_poll = true;
	if (rl_metadata_refresh(&c->cl, names, n, false, &e))
		c->need_metadata = true;
	c->cl.in_poll = false;
	for (struct rl_cpart *p = c->parts; p; p = p->next) {
		struct rl_topic_meta *t = rl_topic(&c->cl, p->topic);
		if (!t || p->partition >= t->nparts || p->stopped || p->inflight)
			continue;
		const struct rl_part_meta *m = &t->parts[p->partition];
		if (m->leader_epoch > p->known_epoch)
			rl_validate(c, p, m);
	}
}

static bool rl_broker_fetching(const replog_consumer *c, int32_t id)
{
	for (int i = 0; i < RL_MAX_BROKERS; i++)
		if (c->fetching[i] && c->fetching_id[i] == id)
			return true;
	return false;
}

static void rl_fetch_from(replog_consumer *c, struct rl_conn *conn)
{
	int n = 0;
	for (struct rl_cpart *p = c->parts; p; p = p->next)
		n += p->source == conn->id && !p->inflight && !p->stopped;
	if (n == 0 || rl_broker_fetching(c, conn->id))
		return;
	struct rl_freq *fq = calloc(1, sizeof(*fq) + (size_t)n * sizeof(struct rl_cpart *));
	struct kp_fetch_topic *ft = calloc((size_t)n, sizeof(*ft));
	struct kp_fetch_partition *fp = calloc((size_t)n, sizeof(*fp));
	int slot = -1;
	for (int i = 0; i < RL_MAX_BROKERS && slot < 0; i++)
		if (!c->fetching[i])
			slot = i;
	if (!fq || !ft || !fp || slot < 0) {
		free(fq);
		free(ft);
		free(fp);
		return;
	}
	fq->c = c;
	fq->broker = conn->id;
	for (struct rl_cpart *p = c->parts; p; p = p->next) {
		if (p->source != conn->id || p->inflight || p->stopped)
			continue;
		fp[fq->n] = (struct kp_fetch_partition){
			.partition = p->partition,
			.current_leader_epoch = p->known_epoch,
			.fetch_offset = p->position,
			.log_start_offset = -1,
			.partition_max_bytes = c->cl.cfg.fetch_max_bytes,
		};
		ft[fq->n] = (struct kp_fetch_topic){.topic = kp_str_from_cstr(p->topic),
						    .partitions = &fp[fq->n],
						    .partitions_count = 1};
		fq->parts[fq->n++] = p;
	}
	union kp_request_body req = {.fetch = {
					     .replica_id = -1,
					     .max_wait_ms = c->wait_ms,
					     .min_bytes = 1,
					     .max_bytes = c->cl.cfg.fetch_max_bytes * 4,
					     .isolation_level = 0,
					     .session_id = 0,
					     .session_epoch = -1,
					     .topics = ft,
					     .topics_count = fq->n,
					     .rack_id = KP_STR(""),
				     }};
	int rc = rl_conn_request(&c->cl, conn, KP_API_FETCH, RL_FETCH_VERSION, &req, rl_fetch_done,
				 fq);
	free(ft);
	free(fp);
	if (rc < 0) {
		free(fq);
		return;
	}
	for (int i = 0; i < fq->n; i++)
		fq->parts[i]->inflight = true;
	c->fetching[slot] = true;
	c->fetching_id[slot] = conn->id;
}

static void rl_consumer_round(replog_consumer *c, int wait_ms)
{
	int64_t now = rl_now_ms();
	rl_consumer_refresh(c, now);
	for (struct rl_cpart *p = c->parts; p; p = p->next) {
		if (p->stopped || p->inflight)
			continue;
		int32_t s = rl_choose_source(c, p);
		if (s != p->source) {
			p->source = s;
			p->hw = -1;
		}
		if (s < 0 || !rl_client_conn(&c->cl, s))
			c->need_metadata = true;
	}
	for (int i = 0; i < c->cl.nconns; i++) {
		struct rl_conn *conn = c->cl.conns[i];
		if (conn->id >= 0 && rl_conn_usable(conn, now))
			rl_fetch_from(c, conn);
	}
	rl_client_poll(&c->cl, wait_ms);
}

static void rl_release_returned(replog_consumer *c)
{
	if (!c->returned)
		return;
	c->returned = false;
	c->nrefs = 0;
	c->data_len = 0;
}

static int rl_first_stopped(replog_consumer *c, struct replog_error *err)
{
	for (struct rl_cpart *p = c->parts; p; p = p->next)
		if (p->stopped)
			return rl_fail(err, p->stopped, p->stopped_kafka, "%s", p->stopped_why);
	return REPLOG_OK;
}

int replog_consumer_poll(replog_consumer *c, int timeout_ms, const struct replog_message **msgs,
			 size_t *count, struct replog_error *err)
{
	*msgs = NULL;
	*count = 0;
	if (err)
		memset(err, 0, sizeof(*err));
	rl_release_returned(c);
	if (!c->parts)
		return rl_fail(err, REPLOG_ERR_STATE, 0, "poll: no partition is assigned");
	int64_t end = rl_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	c->wait_ms = c->cl.cfg.fetch_max_wait_ms;
	while (c->nrefs == 0) {
		if (rl_first_stopped(c, NULL))
			return rl_first_stopped(c, err);
		int64_t left = end - rl_now_ms();
		rl_consumer_round(c, left <= 0 ? 0 : left < 100 ? (int)left : 100);
		if (left <= 0)
			break;
	}
	if (c->nrefs > c->out_cap) {
		struct replog_message *n = realloc(c->out, c->nrefs * sizeof(*n));
		if (!n)
			return rl_fail(err, REPLOG_ERR_NOMEM, 0, "out of memory");
		c->out = n;
		c->out_cap = c->nrefs;
	}
	for (size_t i = 0; i < c->nrefs; i++) {
		const struct rl_msgref *r = &c->refs[i];
		c->out[i] = (struct replog_message){
			.topic = r->part->topic,
			.partition = r->part->partition,
			.offset = r->offset,
			.leader_epoch = r->epoch,
			.timestamp_ms = r->ts,
			.key = r->key_off >= 0 ? c->data + r->key_off : NULL,
			.key_len = r->key_len,
			.value = r->value_off >= 0 ? c->data + r->value_off : NULL,
			.value_len = r->value_len,
		};
	}
	*msgs = c->out;
	*count = c->nrefs;
	c->returned = true;
	return c->nrefs ? REPLOG_OK : rl_first_stopped(c, err);
}

/* ---- assignment ----------------------------------------------------------- */

struct rl_list_take {
	int16_t kerr;
	int64_t offset;
};

static int rl_take_list(void *ctx, const union kp_response_body *resp, struct replog_error *err)
{
	struct rl_list_take *lt = ctx;
	const struct kp_listoffsets_response *r = &resp->list_offsets;
	if (r->topics_count < 1 || r->topics[0].partitions_count < 1)
		return rl_fail(err, REPLOG_ERR_PROTOCOL, 0, "empty ListOffsets answer");
	lt->kerr = r->topics[0].partitions[0].error_code;
	lt->offset = r->topics[0].partitions[0].offset;
	return REPLOG_OK;
}

/* ListOffsets against the leader: -2 earliest, -1 latest (the HW), or a
 * timestamp. Retries while the leader moves, within the request timeout. */
int rl_list_offset(struct rl_client *cl, const char *topic, int32_t partition, int64_t when,
		   int64_t *offset, struct replog_error *err);
int rl_list_offset(struct rl_client *cl, const char *topic, int32_t partition, int64_t when,
		   int64_t *offset, struct replog_error *err)
{
	int64_t end = rl_now_ms() + cl->cfg.request_timeout_ms;
	for (int attempt = 0;; attempt++) {
		struct rl_topic_meta *t;
		int rc = rl_topic_get(cl, topic, false, &t, err);
		if (rc)
			return rc;
		if (partition < 0 || partition >= t->nparts)
			return rl_fail(err, REPLOG_ERR_UNKNOWN_TOPIC,
				       KP_ERR_UNKNOWN_TOPIC_OR_PARTITION,
				       "topic \"%s\" has no partition %d (it has %d)", topic,
				       partition, t->nparts);
		int32_t leader = t->parts[partition].leader;
		struct kp_listoffsets_partition lp = {
			.partition_index = partition, .timestamp = when, .max_num_offsets = 1};
		struct kp_listoffsets_topic lt = {
			.name = kp_str_from_cstr(topic), .partitions = &lp, .partitions_count = 1};
		union kp_request_body req = {
			.list_offsets = {.replica_id = -1, .topics = &lt, .topics_count = 1}};
		struct rl_list_take take = {0};
		rc = leader >= 0 ? rl_call(cl, leader, KP_API_LIST_OFFSETS, RL_LISTOFF_VERSION,
					   &req, rl_take_list, &take, err)
				 : REPLOG_ERR_TRANSPORT;
		if (rc == 0 && take.kerr == 0) {
			*offset = take.offset;
			return REPLOG_OK;
		}
		if (rc == 0 && !rl_kafka_retriable(take.kerr))
			return rl_fail(err, REPLOG_ERR_BROKER, take.kerr,
				       "ListOffsets for %s[%d]: %s", topic, partition,
				       kp_error_name(take.kerr));
		if (rl_now_ms() >= end)
			return rl_fail(err, REPLOG_ERR_TIMEOUT, take.kerr,
				       "ListOffsets for %s[%d]: no leader answered within %d ms",
				       topic, partition, cl->cfg.request_timeout_ms);
		rl_client_poll(cl, cl->cfg.retry_backoff_ms);
		rl_metadata_refresh(cl, &topic, 1, false, NULL);
	}
}

static int rl_set_position(replog_consumer *c, const char *topic, int32_t partition, int64_t when,
			   bool create, struct replog_error *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
	if (!topic || !*topic || strlen(topic) > REPLOG_TOPIC_MAX)
		return rl_fail(err, REPLOG_ERR_ARG, 0, "a topic name of 1..%d characters",
			       REPLOG_TOPIC_MAX);
	struct rl_cpart *p = rl_cpart(c, topic, partition);
	if (!p && !create)
		return rl_fail(err, REPLOG_ERR_STATE, 0, "%s[%d] is not assigned", topic,
			       partition);
	int64_t offset = when;
	struct rl_topic_meta *t;
	int rc = rl_topic_get(&c->cl, topic, false, &t, err);
	if (rc)
		return rc;
	if (partition < 0 || partition >= t->nparts)
		return rl_fail(err, REPLOG_ERR_UNKNOWN_TOPIC, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION,
			       "topic \"%s\" has no partition %d (it has %d): "
			       "UNKNOWN_TOPIC_OR_PARTITION",
			       topic, partition, t->nparts);
	if (when < 0 && (rc = rl_list_offset(&c->cl, topic, partition, when, &offset, err)))
		return rc;
	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p)
			return rl_fail(err, REPLOG_ERR_NOMEM, 0, "out of memory");
		snprintf(p->topic, sizeof(p->topic), "%s", topic);
		p->partition = partition;
		p->source = -1;
		p->hw = -1;
		p->known_epoch = -1;
		p->next = c->parts;
		c->parts = p;
		/* The metadata may have been asked again by ListOffsets. */
		const struct rl_topic_meta *md = rl_topic(&c->cl, topic);
		if (md && partition < md->nparts)
			p->known_epoch = md->parts[partition].leader_epoch;
	}
	p->position = offset;
	p->last_epoch = -1;
	p->stopped = 0;
	/* Messages fetched for the old position are dropped. */
	size_t keep = 0;
	for (size_t i = 0; i < c->nrefs; i++)
		if (c->refs[i].part != p)
			c->refs[keep++] = c->refs[i];
	if (!c->returned)
		c->nrefs = keep;
	return REPLOG_OK;
}

int replog_consumer_assign(replog_consumer *c, const char *topic, int32_t partition, int64_t offset,
			   struct replog_error *err)
{
	if (offset < REPLOG_OFFSET_EARLIEST)
		return rl_fail(err, REPLOG_ERR_ARG, 0,
			       "assign: offset %lld (>= 0, or EARLIEST -2, LATEST -1)",
			       (long long)offset);
	return rl_set_position(c, topic, partition, offset, true, err);
}

int replog_consumer_seek(replog_consumer *c, const char *topic, int32_t partition, int64_t offset,
			 struct replog_error *err)
{
	if (offset < REPLOG_OFFSET_EARLIEST)
		return rl_fail(err, REPLOG_ERR_ARG, 0, "seek: offset %lld", (long long)offset);
	return rl_set_position(c, topic, partition, offset, false, err);
}

int replog_consumer_seek_timestamp(replog_consumer *c, const char *topic, int32_t partition,
				   int64_t timestamp_ms, struct replog_error *err)
{
	if (!rl_cpart(c, topic, partition))
		return rl_fail(err, REPLOG_ERR_STATE, 0, "%s[%d] is not assigned", topic,
			       partition);
	if (timestamp_ms < 0)
		return rl_fail(err, REPLOG_ERR_ARG, 0, "seek: timestamp %lld",
			       (long long)timestamp_ms);
	int64_t offset;
	int rc = rl_list_offset(&c->cl, topic, partition, timestamp_ms, &offset, err);
	if (rc)
		return rc;
	if (offset < 0) /* no record that late: the end */
		rc = rl_list_offset(&c->cl, topic, partition, -1, &offset, err);
	return rc ? rc : rl_set_position(c, topic, partition, offset, false, err);
}

int replog_consumer_unassign(replog_consumer *c, const char *topic, int32_t partition)
{
	for (struct rl_cpart **pp = &c->parts; *pp; pp = &(*pp)->next) {
		struct rl_cpart *p = *pp;
		if (p->partition != partition || strcmp(p->topic, topic) != 0)
			continue;
		if (p->inflight) /* its answer would land in freed memory: forget the fetch */
			rl_client_fail_all(&c->cl, REPLOG_ERR_STATE, "partition unassigned");
		*pp = p->next;
		free(p);
		return REPLOG_OK;
	}
	return REPLOG_ERR_STATE;
}

int replog_consumer_position(const replog_consumer *c, const char *topic, int32_t partition,
			     int64_t *offset, int32_t *leader_epoch)
{
	const struct rl_cpart *p = rl_cpart(c, topic, partition);
	if (!p)
		return REPLOG_ERR_STATE;
	if (offset)
		*offset = p->position;
	if (leader_epoch)
		*leader_epoch = p->last_epoch;
	return REPLOG_OK;
}

int32_t replog_consumer_source(const replog_consumer *c, const char *topic, int32_t partition)
{
	const struct rl_cpart *p = rl_cpart(c, topic, partition);
	return p ? p->source : -1;
}

int replog_consumer_read_your_writes(replog_consumer *c, const struct replog_receipt *receipt,
				     int timeout_ms, struct replog_error *err)
{
	struct rl_cpart *p = rl_cpart(c, receipt->topic, receipt->partition);
	if (!p)
		return rl_fail(err, REPLOG_ERR_STATE, 0, "read_your_writes: %s[%d] is not assigned",
			       receipt->topic, receipt->partition);
	rl_release_returned(c);
	int64_t start = rl_now_ms();
	int64_t end = start + timeout_ms;
	c->wait_ms = 50;
	while (p->hw <= receipt->offset) {
		int64_t now = rl_now_ms();
		if (now >= end) {
			c->wait_ms = c->cl.cfg.fetch_max_wait_ms;
			return rl_fail(err, REPLOG_ERR_TIMEOUT, 0,
				       "read_your_writes: %s[%d] offset %lld not below the high "
				       "watermark of broker %d (%lld) within %d ms",
				       p->topic, p->partition, (long long)receipt->offset,
				       p->source, (long long)p->hw, timeout_ms);
		}
		if (!p->leader_only && now - start >= c->cl.cfg.read_your_writes_fallback_ms &&
		    c->cl.cfg.fetch_from == REPLOG_FETCH_REPLICA) {
			p->leader_only = true; /* the replica is too far behind */
			c->need_metadata = true;
			p->inflight = false; /* do not wait for its answer */
			p->source = -1;
			p->hw = -1;
		}
		if (p->stopped)
			return rl_fail(err, p->stopped, p->stopped_kafka, "%s", p->stopped_why);
		rl_consumer_round(c, 50);
	}
	c->wait_ms = c->cl.cfg.fetch_max_wait_ms;
	return REPLOG_OK;
}

replog_consumer *replog_consumer_new(const struct replog_config *cfg, struct replog_error *err)
{
	replog_consumer *c = calloc(1, sizeof(*c));
	if (!c) {
		rl_fail(err, REPLOG_ERR_NOMEM, 0, "out of memory");
		return NULL;
	}
	if (rl_client_init(&c->cl, cfg, err)) {
		free(c);
		return NULL;
	}
	c->rng = (unsigned)rl_now_ms() ^ (unsigned)(uintptr_t)c;
	c->wait_ms = c->cl.cfg.fetch_max_wait_ms;
	return c;
}

void replog_consumer_destroy(replog_consumer *c)
{
	if (!c)
		return;
	rl_client_fail_all(&c->cl, REPLOG_ERR_STATE, "consumer destroyed");
	for (struct rl_cpart *p = c->parts, *n; p; p = n) {
		n = p->next;
		free(p);
	}
	rl_client_deinit(&c->cl);
	free(c->refs);
	free(c->data);
	free(c->out);
	free(c->scratch);
	free(c);
}
