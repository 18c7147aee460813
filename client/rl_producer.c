/*
 * rl_producer — the producer of libreplog (API in replog.h).
 *
 * What it owns: per topic and partition, the open batch being filled
 * (batch_builder into a buffer of 2 x batch_bytes, the second half being
 * zstd's scratch), a FIFO of sealed batches waiting to go, and at most one
 * batch in flight. A batch is sealed when it reaches batch_bytes, when it
 * is linger_ms old, or on flush. Sealed batches of every partition led by
 * one broker go in one Produce request, at most max_in_flight requests per
 * connection.
 *
 * Invariants:
 *  - one batch per partition in flight: a retry is sent before any later
 *    batch of its partition, so acknowledgements keep produce order;
 *  - every record is called back exactly once (receipt or error), and the
 *    bytes it holds count against buffer_bytes until then;
 *  - a batch whose send fails in a retriable way (leader moved, not enough
 *    replicas, connection lost, timeout) goes back to the head of its
 *    partition's queue with a backoff (retry_backoff_ms doubling to 1 s)
 *    and a metadata refresh, until delivery_timeout_ms from its first
 *    record; other errors fail it at once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "batch_builder.h"
#include "kp_api.h"
#include "rl_core.h"
#include "rlerr.h"

#define RL_RECORD_OVERHEAD 32 /* varints and attributes of one record, at most */
#define RL_MAX_RETRY_MS	   1000

struct rl_slot {
	replog_delivery_cb cb;
	void *opaque;
};

struct rl_ppart;

struct rl_batch {
	struct rl_batch *next;
	struct rl_ppart *part;
	uint8_t *buf;
	size_t cap;
	size_t limit; /* seal at this many record bytes */
	struct batch_builder bb;
	int64_t size; /* after finish */
	struct rl_slot *slots;
	int32_t nslots, slots_cap;
	int64_t bytes; /* counted against buffer_bytes */
	int64_t created_ms;
	int attempts;
	int64_t retry_at_ms;
	int32_t epoch_sent;
	uint32_t crc;
};

struct rl_ptopic;

struct rl_ppart {
	struct rl_ptopic *topic;
	int32_t index;
	struct rl_batch *open;
	struct rl_batch *head, *tail; /* sealed, waiting */
	struct rl_batch *inflight;
};

struct rl_ptopic {
	char name[REPLOG_TOPIC_MAX + 1];
	int32_t nparts;
	struct rl_ppart *parts;
	int32_t sticky;
	struct rl_ptopic *next;
};

struct replog_producer {
	struct rl_client cl;
	struct rl_ptopic *topics;
	int64_t queued_bytes;
	int64_t outstanding; /* records not yet called back */
	int callbacks;	     /* run since the last poll began */
	bool need_metadata;
	int64_t metadata_at_ms;
	bool destroying;
	unsigned rng;
};

struct rl_preq {
	replog_producer *p;
	int n;
	struct rl_batch *batches[];
};

/* ---- partitioner ---------------------------------------------------------- */

uint32_t replog_murmur2(const void *key, size_t len)
{
	const uint8_t *d = key;
	const uint32_t seed = 0x9747b28c, m = 0x5bd1e995;
	const int r = 24;
	uint32_t h = seed ^ (uint32_t)len;
	size_t n4 = len / 4;
	for (size_t i = 0; i < n4; i++) {
		const uint8_t *q = d + i * 4;
		uint32_t k = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 |
			     (uint32_t)q[3] << 24;
		k *= m;
		k ^= k >> r;
		k *= m;
		h *= m;
		h ^= k;
	}
	const uint8_t *tail = d + n4 * 4;
	switch (len & 3) {
	case 3:
		h ^= (uint32_t)tail[2] << 16;
		/* fall through */
	case 2:
		h ^= (uint32_t)tail[1] << 8;
		/* fall through */
	case 1:
		h ^= tail[0];
		h *= m;
	}
	h ^= h >> 13;
	h *= m;
	h ^= h >> 15;
	return h;
}

int32_t replog_partition_for_key(const void *key, size_t key_len, int32_t partitions)
{
	if (partitions <= 0)
		return -1;
	return (int32_t)((replog_murmur2(key, key_len) & 0x7fffffff) % (uint32_t)partitions);
}

/* ---- batches -------------------------------------------------------------- */

static void rl_batch_free(struct rl_batch *b)
{
	free(b->buf);
	free(b->slots);
	free(b);
}

static struct rl_batch *rl_batch_new(replog_producer *p, struct rl_ppart *part, size_t limit,
				     int64_t ts)
{
	struct rl_batch *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->part = part;
	b->limit = limit;
	b->cap = 2 * limit + BATCH_HEADER_BYTES;
	b->buf = malloc(b->cap);
	b->created_ms = rl_now_ms();
	if (!b->buf) {
		free(b);
		return NULL;
	}
	int codec = p->cl.cfg.compression == REPLOG_COMPRESSION_ZSTD ? BATCH_CODEC_ZSTD
								     : BATCH_CODEC_NONE;
	batch_builder_init(&b->bb, b->buf, b->cap, codec, ts, -1, -1, -1);
	return b;
}

/* Run one record's callback and release what it held. */
static void rl_deliver(replog_producer *p, const struct rl_slot *s, int err,
		       const struct replog_error *e, const struct replog_receipt *rc)
{
	p->outstanding--;
	p->callbacks++;
	if (!s->cb)
		return;
	struct replog_delivery d = {.err = err, .error = e, .receipt = rc};
	s->cb(&d, s->opaque);
}

static void rl_batch_done(replog_producer *p, struct rl_batch *b, int err,
			  const struct replog_error *e, int64_t base_offset)
{
	struct replog_receipt rc = {
		.partition = b->part->index,
		.leader_epoch = b->epoch_sent,
		.batch_crc = b->crc,
	};
	snprintf(rc.topic, sizeof(rc.topic), "%s", b->part->topic->name);
	for (int32_t i = 0; i < b->nslots; i++) {
		rc.offset = base_offset >= 0 ? base_offset + i : -1;
		rl_deliver(p, &b->slots[i], err, e, err ? NULL : &rc);
	}
	p->queued_bytes -= b->bytes;
	rl_batch_free(b);
}

static void rl_seal(replog_producer *p, struct rl_ppart *part)
{
	struct rl_batch *b = part->open;
	if (!b)
		return;
	part->open = NULL;
	int64_t size = batch_builder_finish(&b->bb);
	if (size < 0) { /* cannot happen for a batch with records; fail it loudly */
		struct replog_error e;
		rl_fail(&e, REPLOG_ERR_ARG, 0, "cannot finish a batch for %s[%d]: %s",
			part->topic->name, part->index, rl_strerror((int)size));
		rl_batch_done(p, b, e.code, &e, -1);
		return;
	}
	b->size = size;
	b->crc = be32_load(b->buf + BATCH_OFF_CRC);
	if (part->tail)
		part->tail->next = b;
	else
		part->head = b;
	part->tail = b;
	if (part->topic->sticky == part->index && part->topic->nparts > 1) {
		p->rng = p->rng * 1103515245u + 12345u;
		part->topic->sticky = (int32_t)((p->rng >> 8) % (uint32_t)part->topic->nparts);
	}
}

/* ---- topics --------------------------------------------------------------- */

static struct rl_ptopic *rl_ptopic(replog_producer *p, const char *name, struct replog_error *err)
{
	for (struct rl_ptopic *t = p->topics; t; t = t->next)
		if (strcmp(t->name, name) == 0)
			return t;
	struct rl_topic_meta *md;
	if (rl_topic_get(&p->cl, name, p->cl.cfg.auto_create_topics, &md, err))
		return NULL;
	struct rl_ptopic *t = calloc(1, sizeof(*t));
	if (t)
		t->parts = calloc((size_t)md->nparts, sizeof(*t->parts));
	if (!t || !t->parts) {
		free(t);
		rl_fail(err, REPLOG_ERR_NOMEM, 0, "out of memory");
		return NULL;
	}
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->nparts = md->nparts;
	for (int32_t i = 0; i < t->nparts; i++) {
		t->parts[i].topic = t;
		t->parts[i].index = i;
	}
	p->rng = p->rng * 1103515245u + 12345u;
	t->sticky = (int32_t)((p->rng >> 8) % (uint32_t)t->nparts);
	t->next = p->topics;
	p->topics = t;
	return t;
}

/* ---- sending -------------------------------------------------------------- */

static void rl_produce_done(void *ctx, int err, const union kp_response_body *resp);

static bool rl_part_ready(const struct rl_ppart *part, int64_t now)
{
	return part->head && !part->inflight && part->head->retry_at_ms <= now;
}

/* Send the ready batches of every partition whose leader is `leader`. */
static void rl_send_to(replog_producer *p, struct rl_conn *c, int64_t now)
{
	struct rl_client *cl = &p->cl;
	int budget = 256;
	struct rl_preq *rq = malloc(sizeof(*rq) + (size_t)budget * sizeof(struct rl_batch *));
	if (!rq)
		return;
	rq->p = p;
	rq->n = 0;
	int64_t bytes = 0;
	for (struct rl_ptopic *t = p->topics; t; t = t->next) {
		struct rl_topic_meta *md = rl_topic(cl, t->name);
		if (!md)
			continue;
		for (int32_t i = 0; i < t->nparts && i < md->nparts && rq->n < budget; i++) {
			struct rl_ppart *part = &t->parts[i];
			if (md->parts[i].leader != c->id || !rl_part_ready(part, now))
				continue;
			if (rq->n > 0 && bytes + part->head->size > RL_MAX_REQUEST / 2)
				continue;
			struct rl_batch *b = part->head;
			part->head = b->next;
			if (!part->head)
				part->tail = NULL;
			b->next = NULL;
			part->inflight = b;
			b->epoch_sent = md->parts[i].leader_epoch;
			rq->batches[rq->n++] = b;
			bytes += b->size;
		}
	}
	if (rq->n == 0) {
		free(rq);
		return;
	}
	/* One topic entry per batch is valid Kafka (duplicates of a topic name
	 * are allowed) and keeps the encoding simple. */
	struct kp_produce_topic_data *td = calloc((size_t)rq->n, sizeof(*td));
	struct kp_produce_partition_data *pd = calloc((size_t)rq->n, sizeof(*pd));
	int rc = -ENOMEM;
	if (td && pd) {
		for (int i = 0; i < rq->n; i++) {
			struct rl_batch *b = rq->batches[i];
			pd[i].index = b->part->index;
			pd[i].records = (struct kp_records){b->buf, (int32_t)b->size};
			td[i].name = kp_str_from_cstr(b->part->topic->name);
			td[i].partition_data = &pd[i];
			td[i].partition_data_count = 1;
		}
		union kp_request_body req = {.produce = {
						     .transactional_id = KP_STR_NULL,
						     .acks = (int16_t)cl->cfg.acks,
						     .timeout_ms = cl->cfg.request_timeout_ms,
						     .topic_data = td,
						     .topic_data_count = rq->n,
					     }};
		rc = rl_conn_request(cl, c, KP_API_PRODUCE, RL_PRODUCE_VERSION, &req,
				     rl_produce_done, rq);
	}
	free(td);
	free(pd);
	if (rc < 0) { /* not queued: put the batches back, in order */
		for (int i = rq->n - 1; i >= 0; i--) {
			struct rl_batch *b = rq->batches[i];
			b->part->inflight = NULL;
			b->next = b->part->head;
			b->part->head = b;
			if (!b->part->tail)
				b->part->tail = b;
		}
		free(rq);
	}
}

/* Batches waiting for a partition whose leader is unknown or not among the
 * brokers known: the metadata must be asked again. */
static void rl_check_leaders(replog_producer *p, int64_t now)
{
	for (struct rl_ptopic *t = p->topics; t && !p->need_metadata; t = t->next) {
		struct rl_topic_meta *md = rl_topic(&p->cl, t->name);
		for (int32_t i = 0; i < t->nparts; i++) {
			if (!rl_part_ready(&t->parts[i], now))
				continue;
			if (!md || i >= md->nparts || md->parts[i].leader < 0 ||
			    !rl_client_conn(&p->cl, md->parts[i].leader)) {
				p->need_metadata = true;
				break;
			}
		}
	}
}

static void rl_send_ready(replog_producer *p)
{
	int64_t now = rl_now_ms();
	rl_check_leaders(p, now);
	for (int i = 0; i < p->cl.nconns; i++) {
		struct rl_conn *c = p->cl.conns[i];
		if (c->id < 0 || !rl_conn_usable(c, now))
			continue;
		if (rl_conn_inflight(c) >= p->cl.cfg.max_in_flight)
			continue;
		rl_send_to(p, c, now);
	}
}

/* A batch whose send failed in a retriable way: back to the head of its
 * queue, unless its time is up. */
static void rl_retry_or_fail(replog_producer *p, struct rl_batch *b, int err, int kerr,
			     const char *why)
{
	struct rl_ppart *part = b->part;
	part->inflight = NULL;
	int64_t now = rl_now_ms();
	p->need_metadata = true;
	if (now - b->created_ms >= p->cl.cfg.delivery_timeout_ms || p->destroying) {
		struct replog_error e;
		rl_fail(&e, err, kerr, "%s[%d]: not delivered within delivery_timeout_ms (%d): %s",
			part->topic->name, part->index, p->cl.cfg.delivery_timeout_ms, why);
		rl_batch_done(p, b, err, &e, -1);
		return;
	}
	int64_t backoff = (int64_t)p->cl.cfg.retry_backoff_ms
			  << (b->attempts < 10 ? b->attempts : 10);
	if (backoff > RL_MAX_RETRY_MS)
		backoff = RL_MAX_RETRY_MS;
	b->attempts++;
	b->retry_at_ms = now + backoff;
	b->next = part->head;
	part->head = b;
	if (!part->tail)
		part->tail = b;
}

static const struct kp_produce_partition_response *
rl_find_presp(const struct kp_produce_response *r, const struct rl_batch *b)
{
	for (int32_t i = 0; i < r->responses_count; i++) {
		const struct kp_produce_topic_response *t = &r->responses[i];
		if ((size_t)t->name.len != strlen(b->part->topic->name) ||
		    memcmp(t->name.ptr, b->part->topic->name, (size_t)t->name.len) != 0)
			continue;
		for (int32_t k = 0; k < t->partition_responses_count; k++)
			if (t->partition_responses[k].index == b->part->index)
				return &t->partition_responses[k];
	}
	return NULL;
}

static void rl_produce_done(void *ctx, int err, const union kp_response_body *resp)
{
	struct rl_preq *rq = ctx;
	replog_producer *p = rq->p;
	for (int i = 0; i < rq->n; i++) {
		struct rl_batch *b = rq->batches[i];
		if (err) {
			rl_retry_or_fail(p, b, err, 0, "the connection to the leader failed");
			continue;
		}
		if (!resp) { /* acks 0: sent is all we learn */
			b->part->inflight = NULL;
			rl_batch_done(p, b, 0, NULL, -1);
			continue;
		}
		const struct kp_produce_partition_response *pr = rl_find_presp(&resp->produce, b);
		int kerr = pr ? pr->error_code : KP_ERR_UNKNOWN_SERVER_ERROR;
		if (kerr == 0) {
			b->part->inflight = NULL;
			rl_batch_done(p, b, 0, NULL, pr->base_offset);
		} else if (rl_kafka_retriable(kerr)) {
			rl_retry_or_fail(p, b, REPLOG_ERR_BROKER, kerr,
					 kp_error_name((int16_t)kerr));
		} else {
			struct replog_error e;
			rl_fail(&e,
				kerr == KP_ERR_MESSAGE_TOO_LARGE ? REPLOG_ERR_TOO_LARGE
								 : REPLOG_ERR_BROKER,
				kerr, "%s[%d]: the leader refused the batch: %s",
				b->part->topic->name, b->part->index,
				pr ? kp_error_name((int16_t)kerr) : "no answer for the partition");
			b->part->inflight = NULL;
			rl_batch_done(p, b, e.code, &e, -1);
		}
	}
	free(rq);
}

/* ---- the loop ------------------------------------------------------------- */

static void rl_seal_lingering(replog_producer *p, int64_t now, bool all)
{
	for (struct rl_ptopic *t = p->topics; t; t = t->next)
		for (int32_t i = 0; i < t->nparts; i++) {
			struct rl_ppart *part = &t->parts[i];
			/* While a batch of the partition is in flight or waiting, the
			 * open one keeps filling: it goes when they are done. */
			bool busy = part->inflight || part->head;
			if (part->open &&
			    (all || (!busy && now - part->open->created_ms >= p->cl.cfg.linger_ms)))
				rl_seal(p, part);
		}
}

/* Fail waiting batches whose delivery time is up (no leader for too long). */
static void rl_expire_waiting(replog_producer *p, int64_t now)
{
	for (struct rl_ptopic *t = p->topics; t; t = t->next)
		for (int32_t i = 0; i < t->nparts; i++) {
			struct rl_ppart *part = &t->parts[i];
			while (part->head &&
			       now - part->head->created_ms >= p->cl.cfg.delivery_timeout_ms) {
				struct rl_batch *b = part->head;
				part->head = b->next;
				if (!part->head)
					part->tail = NULL;
				struct replog_error e;
				rl_fail(&e, REPLOG_ERR_TIMEOUT, 0,
					"%s[%d]: no leader took the batch within "
					"delivery_timeout_ms "
					"(%d)",
					t->name, i, p->cl.cfg.delivery_timeout_ms);
				rl_batch_done(p, b, e.code, &e, -1);
			}
		}
}

static void rl_refresh_if_needed(replog_producer *p, int64_t now)
{
	if (!p->need_metadata || now < p->metadata_at_ms || p->cl.in_poll)
		return;
	p->need_metadata = false;
	p->metadata_at_ms = now + p->cl.cfg.retry_backoff_ms;
	const char *names[64];
	int n = 0;
	for (struct rl_ptopic *t = p->topics; t && n < 64; t = t->next)
		names[n++] = t->name;
	p->cl.in_poll = true;
	struct replog_error e;
	if (rl_metadata_refresh(&p->cl, names, n, false, &e))
		p->need_metadata = true;
	p->cl.in_poll = false;
}

/* One round: seal, refresh, send, wait for I/O up to wait_ms. */
static void rl_round(replog_producer *p, int wait_ms, bool seal_all)
{
	int64_t now = rl_now_ms();
	rl_seal_lingering(p, now, seal_all);
	rl_refresh_if_needed(p, now);
	rl_expire_waiting(p, now);
	rl_send_ready(p);
	int64_t wake = now + wait_ms;
	for (struct rl_ptopic *t = p->topics; t; t = t->next)
		for (int32_t i = 0; i < t->nparts; i++) {
			const struct rl_ppart *part = &t->parts[i];
			if (part->open && !part->inflight && !part->head &&
			    part->open->created_ms + p->cl.cfg.linger_ms < wake)
				wake = part->open->created_ms + p->cl.cfg.linger_ms;
			if (part->head && !part->inflight && part->head->retry_at_ms < wake)
				wake = part->head->retry_at_ms;
		}
	if (p->need_metadata && p->metadata_at_ms < wake)
		wake = p->metadata_at_ms;
	rl_client_poll(&p->cl, wake > now ? (int)(wake - now) : 0);
	rl_seal_lingering(p, rl_now_ms(), seal_all);
	rl_send_ready(p);
}

int replog_producer_poll(replog_producer *p, int timeout_ms)
{
	p->callbacks = 0;
	int64_t end = rl_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	do {
		int64_t left = end - rl_now_ms();
		rl_round(p, left > 0 ? (int)(left < 100 ? left : 100) : 0, false);
	} while (p->callbacks == 0 && rl_now_ms() < end);
	return p->callbacks;
}

int replog_producer_flush(replog_producer *p, int timeout_ms, struct replog_error *err)
{
	int64_t end = rl_now_ms() + timeout_ms;
	while (p->outstanding > 0) {
		int64_t left = end - rl_now_ms();
		if (left <= 0)
			return rl_fail(err, REPLOG_ERR_TIMEOUT, 0,
				       "flush: %lld records still not acknowledged after %d ms",
				       (long long)p->outstanding, timeout_ms);
		rl_round(p, left < 100 ? (int)left : 100, true);
	}
	return REPLOG_OK;
}

int64_t replog_producer_outstanding(const replog_producer *p)
{
	return p->outstanding;
}

/* ---- produce -------------------------------------------------------------- */

static int rl_pick_partition(struct rl_ptopic *t, int32_t partition, const void *key,
			     size_t key_len, struct replog_error *err)
{
	if (partition != REPLOG_PARTITION_ANY) {
		if (partition < 0 || partition >= t->nparts)
			return rl_fail(err, REPLOG_ERR_UNKNOWN_TOPIC,
				       KP_ERR_UNKNOWN_TOPIC_OR_PARTITION,
				       "topic \"%s\" has no partition %d (it has %d): "
				       "UNKNOWN_TOPIC_OR_PARTITION",
				       t->name, partition, t->nparts);
		return partition;
	}
	if (key)
		return replog_partition_for_key(key, key_len, t->nparts);
	return t->sticky;
}

static int rl_append(replog_producer *p, struct rl_ppart *part, const void *key, size_t key_len,
		     const void *value, size_t value_len, int64_t ts, struct replog_error *err)
{
	size_t need = key_len + value_len + RL_RECORD_OVERHEAD;
	if (part->open && part->open->bb.bb_count > 0 &&
	    part->open->bb.bb_len + need > part->open->limit)
		rl_seal(p, part);
	if (!part->open) {
		size_t limit = (size_t)p->cl.cfg.batch_bytes;
		if (need + BATCH_HEADER_BYTES > limit)
			limit = need + BATCH_HEADER_BYTES;
		part->open = rl_batch_new(p, part, limit, ts);
		if (!part->open)
			return rl_fail(err, REPLOG_ERR_NOMEM, 0, "out of memory for a batch");
	}
	struct rl_batch *b = part->open;
	int rc = batch_builder_add(&b->bb, ts, key, key ? (int32_t)key_len : -1, value,
				   value ? (int32_t)value_len : -1, NULL, 0);
	if (rc < 0)
		return rl_fail(err, REPLOG_ERR_TOO_LARGE, 0, "record of %zu bytes: %s",
			       key_len + value_len, rl_strerror(rc));
	if (b->nslots == b->slots_cap) {
		int32_t cap = b->slots_cap ? b->slots_cap * 2 : 256;
		struct rl_slot *s = realloc(b->slots, (size_t)cap * sizeof(*s));
		if (!s)
			return rl_fail(err, REPLOG_ERR_NOMEM, 0, "out of memory");
		b->slots = s;
		b->slots_cap = cap;
	}
	b->nslots++;
	b->bytes += (int64_t)need;
	return REPLOG_OK;
}

int replog_produce(replog_producer *p, const char *topic, int32_t partition, const void *key,
		   size_t key_len, const void *value, size_t value_len, replog_delivery_cb cb,
		   void *opaque, struct replog_error *err)
{
	if (!p || !topic || !*topic || strlen(topic) > REPLOG_TOPIC_MAX)
		return rl_fail(err, REPLOG_ERR_ARG, 0, "produce: a topic name of 1..%d characters",
			       REPLOG_TOPIC_MAX);
	if (key_len + value_len > (size_t)RL_MAX_REQUEST / 2)
		return rl_fail(err, REPLOG_ERR_TOO_LARGE, 0,
			       "record of %zu bytes: above the %d-byte limit of one request",
			       key_len + value_len, RL_MAX_REQUEST / 2);
	struct rl_ptopic *t = rl_ptopic(p, topic, err);
	if (!t)
		return err ? err->code : REPLOG_ERR_UNKNOWN_TOPIC;
	int32_t part = rl_pick_partition(t, partition, key, key_len, err);
	if (part < 0)
		return part;
	int64_t need = (int64_t)(key_len + value_len + RL_RECORD_OVERHEAD);
	int64_t end = rl_now_ms() + p->cl.cfg.max_block_ms;
	while (p->queued_bytes + need > p->cl.cfg.buffer_bytes && p->queued_bytes > 0) {
		if (rl_now_ms() >= end)
			return rl_fail(err, REPLOG_ERR_QUEUE_FULL, 0,
				       "produce: the buffer (buffer_bytes %lld) is full and did "
				       "not drain within max_block_ms (%d)",
				       (long long)p->cl.cfg.buffer_bytes, p->cl.cfg.max_block_ms);
		rl_round(p, 10, true);
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	struct rl_ppart *pp = &t->parts[part];
	int rc = rl_append(p, pp, key, key_len, value, value_len, now_ms, err);
	if (rc)
		return rc;
	struct rl_batch *b = pp->open;
	b->slots[b->nslots - 1] = (struct rl_slot){.cb = cb, .opaque = opaque};
	p->queued_bytes += need;
	p->outstanding++;
	if (b->bb.bb_len >= b->limit) {
		rl_seal(p, pp);
		rl_send_ready(p);
	}
	return REPLOG_OK;
}

/* ---- life ----------------------------------------------------------------- */

replog_producer *replog_producer_new(const struct replog_config *cfg, struct replog_error *err)
{
	replog_producer *p = calloc(1, sizeof(*p));
	if (!p) {
		rl_fail(err, REPLOG_ERR_NOMEM, 0, "out of memory");
		return NULL;
	}
	if (rl_client_init(&p->cl, cfg, err)) {
		free(p);
		return NULL;
	}
	p->rng = (unsigned)rl_now_ms() ^ (unsigned)(uintptr_t)p;
	return p;
}

static void rl_drop_all(replog_producer *p, struct rl_batch *b)
{
	struct replog_error e;
	rl_fail(&e, REPLOG_ERR_DESTROYED, 0, "the producer was destroyed before delivery");
	while (b) {
		struct rl_batch *n = b->next;
		rl_batch_done(p, b, e.code, &e, -1);
		b = n;
	}
}

void replog_producer_destroy(replog_producer *p)
{
	if (!p)
		return;
	p->destroying = true;
	/* Requests in flight fail with the connections; their batches are then
	 * not retried (destroying). */
	rl_client_fail_all(&p->cl, REPLOG_ERR_DESTROYED, "the producer was destroyed");
	for (struct rl_ptopic *t = p->topics, *n; t; t = n) {
		n = t->next;
		for (int32_t i = 0; i < t->nparts; i++) {
			struct rl_ppart *part = &t->parts[i];
			rl_drop_all(p, part->open);
			rl_drop_all(p, part->head);
			rl_drop_all(p, part->inflight);
		}
		free(t->parts);
		free(t);
	}
	rl_client_deinit(&p->cl);
	free(p);
}
