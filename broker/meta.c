/*
 * meta — metadata records and the image (formats in meta.h).
 *
 * Parsing is strict: every record names its type first, then key=value
 * tokens separated by single spaces; a missing key, a malformed number or
 * a reference to something the image does not hold is RL_ECORRUPT, because
 * a broker that skipped a record would silently disagree with the rest of
 * the cluster about who leads what.
 */
#include "meta.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "record.h"
#include "rlerr.h"

#define META_MAX_TOKENS 16

struct meta_tokens {
	char mt_type[24];
	int mt_n;
	char mt_key[META_MAX_TOKENS][24];
	char mt_val[META_MAX_TOKENS][META_RECORD_MAX / 2];
};

static uint32_t meta_hash(const char *name, int len)
{
	uint32_t h = 2166136261u;
	for (int i = 0; i < len; i++)
		h = (h ^ (uint8_t)name[i]) * 16777619u;
	return h % META_BUCKETS;
}

void meta_image_init(struct meta_image *mi)
{
	memset(mi, 0, sizeof(*mi));
}

static void meta_topic_free(struct meta_topic *t)
{
	free(t->mt_parts);
	free(t);
}

void meta_image_deinit(struct meta_image *mi)
{
	for (uint32_t i = 0; i < mi->mi_ntopics; i++)
		meta_topic_free(mi->mi_order[i]);
	free(mi->mi_order);
	memset(mi, 0, sizeof(*mi));
}

struct meta_topic *meta_topic(const struct meta_image *mi, const char *name, int len)
{
	if (len <= 0 || len > TOPIC_NAME_MAX)
		return NULL;
	for (struct meta_topic *t = mi->mi_buckets[meta_hash(name, len)]; t; t = t->mt_hnext)
		if (t->mt_name_len == len && memcmp(t->mt_name, name, (size_t)len) == 0)
			return t;
	return NULL;
}

struct meta_partition *meta_partition(const struct meta_image *mi, const char *name, int len,
				      int32_t p)
{
	struct meta_topic *t = meta_topic(mi, name, len);
	return t && p >= 0 && p < t->mt_npartitions ? &t->mt_parts[p] : NULL;
}

struct meta_broker *meta_broker(struct meta_image *mi, int32_t id)
{
	for (int i = 0; i < mi->mi_nbrokers; i++)
		if (mi->mi_brokers[i].mb_id == id)
			return &mi->mi_brokers[i];
	return NULL;
}

const struct meta_broker *meta_broker_c(const struct meta_image *mi, int32_t id)
{
	for (int i = 0; i < mi->mi_nbrokers; i++)
		if (mi->mi_brokers[i].mb_id == id)
			return &mi->mi_brokers[i];
	return NULL;
}

bool meta_broker_alive(const struct meta_image *mi, int32_t id)
{
	const struct meta_broker *b = meta_broker_c(mi, id);
	return b && b->mb_registered && !b->mb_fenced;
}

bool meta_broker_may_join(const struct meta_image *mi, int32_t id)
{
	const struct meta_broker *b = meta_broker_c(mi, id);
	return b && b->mb_registered && !b->mb_fenced && !b->mb_shutting_down;
}

bool meta_ids_contain(const int32_t *ids, int32_t n, int32_t id)
{
	for (int32_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

int meta_ids_format(char *buf, size_t cap, const int32_t *ids, int32_t n)
{
	size_t at = 0;
	buf[0] = '\0';
	for (int32_t i = 0; i < n && at < cap; i++)
		at += (size_t)snprintf(buf + at, cap - at, "%s%d", i ? "," : "", ids[i]);
	return (int)at;
}

/* ---- encoding --------------------------------------------------------- */

static void hex16(char *out, const uint8_t *b)
{
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

int meta_rec_controller(char *buf, int32_t epoch, const char *cluster_id)
{
	return snprintf(buf, META_RECORD_MAX, "controller epoch=%d cluster_id=%s", epoch,
			cluster_id);
}

int meta_rec_broker(char *buf, const struct meta_broker *b)
{
	char inc[33];
	hex16(inc, b->mb_incarnation);
	return snprintf(buf, META_RECORD_MAX,
			"broker id=%d address=%s incarnation=%s epoch=%" PRId64 " clean=%d",
			b->mb_id, b->mb_address, inc, b->mb_epoch, b->mb_clean ? 1 : 0);
}

int meta_rec_fence(char *buf, int32_t id, const char *reason)
{
	return snprintf(buf, META_RECORD_MAX, "fence id=%d reason=%s", id, reason);
}

int meta_rec_shutdown(char *buf, int32_t id)
{
	return snprintf(buf, META_RECORD_MAX, "shutdown id=%d", id);
}

int meta_rec_unfence(char *buf, int32_t id)
{
	return snprintf(buf, META_RECORD_MAX, "unfence id=%d", id);
}

int meta_rec_topic(char *buf, const struct meta_topic *t)
{
	char id[33], cfg[TOPIC_CONFIG_LINE_MAX];
	hex16(id, t->mt_id);
	if (topic_config_format(&t->mt_cfg, cfg, sizeof(cfg)) < 0)
		cfg[0] = '\0';
	return snprintf(buf, META_RECORD_MAX, "topic name=%s id=%s partitions=%d config=%s",
			t->mt_name, id, t->mt_npartitions, cfg);
}

int meta_rec_partition(char *buf, const char *topic, int32_t p, const struct meta_partition *mp)
{
	char r[512], i[512], e[512];
	meta_ids_format(r, sizeof(r), mp->mp_replicas, mp->mp_nreplicas);
	meta_ids_format(i, sizeof(i), mp->mp_isr, mp->mp_nisr);
	meta_ids_format(e, sizeof(e), mp->mp_elr, mp->mp_nelr);
	return snprintf(buf, META_RECORD_MAX,
			"partition topic=%s p=%d leader=%d leader_epoch=%d partition_epoch=%d "
			"replicas=%s isr=%s elr=%s last_leader=%d unclean=%d",
			topic, p, mp->mp_leader, mp->mp_leader_epoch, mp->mp_partition_epoch, r, i,
			e, mp->mp_last_leader, mp->mp_unclean_epoch);
}

int meta_rec_delete_topic(char *buf, const char *topic)
{
	return snprintf(buf, META_RECORD_MAX, "delete_topic name=%s", topic);
}

/* ---- parsing ---------------------------------------------------------- */

static int meta_tokenize(const char *rec, size_t len, struct meta_tokens *t)
{
	memset(t, 0, sizeof(*t));
	size_t i = 0;
	size_t n = 0;
	while (i < len && rec[i] != ' ' && n + 1 < sizeof(t->mt_type))
		t->mt_type[n++] = rec[i++];
	if (n == 0)
		return -1;
	while (i < len) {
		if (rec[i] != ' ' || t->mt_n == META_MAX_TOKENS)
			return -1;
		i++;
		size_t k = 0;
		while (i < len && rec[i] != '=' && rec[i] != ' ' && k + 1 < sizeof(t->mt_key[0]))
			t->mt_key[t->mt_n][k++] = rec[i++];
		if (k == 0 || i >= len || rec[i] != '=')
			return -1;
		i++;
		size_t v = 0;
		while (i < len && rec[i] != ' ' && v + 1 < sizeof(t->mt_val[0]))
			t->mt_val[t->mt_n][v++] = rec[i++];
		if (i < len && rec[i] != ' ')
			return -1;
		t->mt_n++;
	}
	return 0;
}

static const char *meta_get(const struct meta_tokens *t, const char *key)
{
	for (int i = 0; i < t->mt_n; i++)
		if (strcmp(t->mt_key[i], key) == 0)
			return t->mt_val[i];
	return NULL;
}

static int meta_get_i64(const struct meta_tokens *t, const char *key, int64_t *out)
{
	const char *v = meta_get(t, key);
	if (!v || !*v)
		return -1;
	char *end;
	errno = 0;
	long long x = strtoll(v, &end, 10);
	if (*end || errno)
		return -1;
	*out = x;
	return 0;
}

static int meta_get_i32(const struct meta_tokens *t, const char *key, int32_t *out)
{
	int64_t v;
	if (meta_get_i64(t, key, &v) < 0 || v < INT32_MIN || v > INT32_MAX)
		return -1;
	*out = (int32_t)v;
	return 0;
}

static int meta_get_ids(const struct meta_tokens *t, const char *key, int32_t *ids, int32_t *n)
{
	const char *v = meta_get(t, key);
	*n = 0;
	if (!v)
		return -1;
	while (*v) {
		char *end;
		long x = strtol(v, &end, 10);
		if (end == v || (*end != ',' && *end != '\0') || *n == ISR_MAX_REPLICAS)
			return -1;
		ids[(*n)++] = (int32_t)x;
		v = *end ? end + 1 : end;
	}
	return 0;
}

static int meta_get_hex16(const struct meta_tokens *t, const char *key, uint8_t *out)
{
	const char *v = meta_get(t, key);
	if (!v || strlen(v) != 32)
		return -1;
	for (int i = 0; i < 16; i++) {
		unsigned x;
		if (sscanf(v + 2 * i, "%2x", &x) != 1)
			return -1;
		out[i] = (uint8_t)x;
	}
	return 0;
}

static int meta_fail(char *err, size_t cap, const char *what, const char *rec, size_t len)
{
	snprintf(err, cap, "%s: \"%.*s\"", what, (int)(len > 200 ? 200 : len), rec);
	return RL_ECORRUPT;
}

/* The cluster id never changes within one metadata history. */
static int meta_apply_controller(struct meta_image *mi, const struct meta_tokens *tk)
{
	const char *id = meta_get(tk, "cluster_id");
	if (meta_get_i32(tk, "epoch", &mi->mi_controller_epoch) < 0 || !id || !id[0] ||
	    strlen(id) >= sizeof(mi->mi_cluster_id))
		return -1;
	if (mi->mi_cluster_id[0] && strcmp(mi->mi_cluster_id, id) != 0)
		return -1;
	snprintf(mi->mi_cluster_id, sizeof(mi->mi_cluster_id), "%s", id);
	return 0;
}

static int meta_apply_broker(struct meta_image *mi, const struct meta_tokens *tk,
			     struct meta_delta *d)
{
	int32_t id, clean;
	int64_t epoch;
	const char *addr = meta_get(tk, "address");
	uint8_t inc[16];
	if (meta_get_i32(tk, "id", &id) < 0 || meta_get_i64(tk, "epoch", &epoch) < 0 ||
	    meta_get_i32(tk, "clean", &clean) < 0 || !addr || strlen(addr) >= CONFIG_HOSTPORT_MAX ||
	    meta_get_hex16(tk, "incarnation", inc) < 0)
		return -1;
	struct meta_broker *b = meta_broker(mi, id);
	if (!b) {
		if (mi->mi_nbrokers == META_MAX_BROKERS)
			return -1;
		b = &mi->mi_brokers[mi->mi_nbrokers++];
	}
	*b = (struct meta_broker){.mb_id = id,
				  .mb_registered = true,
				  .mb_fenced = true,
				  .mb_clean = clean != 0,
				  .mb_epoch = epoch};
	memcpy(b->mb_incarnation, inc, 16);
	snprintf(b->mb_address, sizeof(b->mb_address), "%s", addr);
	d->md_change = META_BROKER;
	d->md_broker = id;
	return 0;
}

static int meta_apply_shutdown(struct meta_image *mi, const struct meta_tokens *tk,
			       struct meta_delta *d)
{
	int32_t id;
	struct meta_broker *b = meta_get_i32(tk, "id", &id) < 0 ? NULL : meta_broker(mi, id);
	if (!b)
		return -1;
	b->mb_shutting_down = true; /* until it registers again */
	d->md_change = META_BROKER;
	d->md_broker = id;
	return 0;
}

static int meta_apply_fence(struct meta_image *mi, const struct meta_tokens *tk,
			    struct meta_delta *d, bool fenced)
{
	int32_t id;
	if (meta_get_i32(tk, "id", &id) < 0)
		return -1;
	struct meta_broker *b = meta_broker(mi, id);
	if (!b)
		return -1;
	b->mb_fenced = fenced;
	d->md_change = META_BROKER;
	d->md_broker = id;
	return 0;
}

static int meta_register_topic(struct meta_image *mi, struct meta_topic *t)
{
	if (mi->mi_ntopics == mi->mi_cap) {
		uint32_t ncap = mi->mi_cap ? mi->mi_cap * 2 : 64;
		struct meta_topic **n = realloc(mi->mi_order, ncap * sizeof(*n));
		if (!n)
			return -1;
		mi->mi_order = n;
		mi->mi_cap = ncap;
	}
	mi->mi_order[mi->mi_ntopics++] = t;
	uint32_t h = meta_hash(t->mt_name, t->mt_name_len);
	t->mt_hnext = mi->mi_buckets[h];
	mi->mi_buckets[h] = t;
	return 0;
}

static int meta_apply_topic(struct meta_image *mi, const struct meta_tokens *tk,
			    struct meta_delta *d)
{
	const char *name = meta_get(tk, "name"), *cfg = meta_get(tk, "config");
	int32_t n;
	char why[256];
	if (!name || !cfg || meta_get_i32(tk, "partitions", &n) < 0 || n < 1 || n > 100000 ||
	    !topics_valid_name(name, (int)strlen(name), why, sizeof(why)) ||
	    meta_topic(mi, name, (int)strlen(name)))
		return -1;
	struct meta_topic *t = calloc(1, sizeof(*t));
	if (!t)
		return -1;
	t->mt_parts = calloc((size_t)n, sizeof(*t->mt_parts));
	memset(&t->mt_cfg, 0, sizeof(t->mt_cfg)); /* the record names every key */
	if (!t->mt_parts || meta_get_hex16(tk, "id", t->mt_id) < 0 ||
	    topic_config_parse(&t->mt_cfg, cfg, why, sizeof(why)) < 0) {
		meta_topic_free(t);
		return -1;
	}
	t->mt_name_len = (int)strlen(name);
	memcpy(t->mt_name, name, (size_t)t->mt_name_len);
	t->mt_npartitions = n;
	t->mt_cfg.tc_partitions = n;
	for (int32_t p = 0; p < n; p++) {
		t->mt_parts[p].mp_leader = t->mt_parts[p].mp_last_leader = -1;
		t->mt_parts[p].mp_unclean_epoch = -1;
	}
	if (meta_register_topic(mi, t) < 0) {
		meta_topic_free(t);
		return -1;
	}
	d->md_change = META_TOPIC_CREATED;
	snprintf(d->md_topic, sizeof(d->md_topic), "%s", name);
	return 0;
}

static int meta_apply_partition(struct meta_image *mi, const struct meta_tokens *tk,
				struct meta_delta *d)
{
	const char *topic = meta_get(tk, "topic");
	int32_t p, unclean;
	struct meta_partition mp = {0};
	if (!topic || meta_get_i32(tk, "p", &p) < 0 ||
	    meta_get_i32(tk, "leader", &mp.mp_leader) < 0 ||
	    meta_get_i32(tk, "leader_epoch", &mp.mp_leader_epoch) < 0 ||
	    meta_get_i32(tk, "partition_epoch", &mp.mp_partition_epoch) < 0 ||
	    meta_get_ids(tk, "replicas", mp.mp_replicas, &mp.mp_nreplicas) < 0 ||
	    meta_get_ids(tk, "isr", mp.mp_isr, &mp.mp_nisr) < 0 ||
	    meta_get_ids(tk, "elr", mp.mp_elr, &mp.mp_nelr) < 0 ||
	    meta_get_i32(tk, "last_leader", &mp.mp_last_leader) < 0 ||
	    meta_get_i32(tk, "unclean", &unclean) < 0 || mp.mp_nreplicas < 1)
		return -1;
	mp.mp_unclean_epoch = unclean;
	struct meta_partition *cur = meta_partition(mi, topic, (int)strlen(topic), p);
	if (!cur)
		return -1;
	/* Epochs never go back: a record that would is not from this history. */
	if (mp.mp_leader_epoch < cur->mp_leader_epoch ||
	    mp.mp_partition_epoch < cur->mp_partition_epoch)
		return -1;
	d->md_before = *cur;
	*cur = mp;
	d->md_change = META_PARTITION;
	snprintf(d->md_topic, sizeof(d->md_topic), "%s", topic);
	d->md_partition = p;
	return 0;
}

static int meta_apply_delete(struct meta_image *mi, const struct meta_tokens *tk,
			     struct meta_delta *d)
{
	const char *name = meta_get(tk, "name");
	if (!name)
		return -1;
	int len = (int)strlen(name);
	struct meta_topic *t = meta_topic(mi, name, len);
	if (!t)
		return -1;
	struct meta_topic **pp = &mi->mi_buckets[meta_hash(name, len)];
	while (*pp != t)
		pp = &(*pp)->mt_hnext;
	*pp = t->mt_hnext;
	for (uint32_t i = 0; i < mi->mi_ntopics; i++)
		if (mi->mi_order[i] == t) {
			memmove(mi->mi_order + i, mi->mi_order + i + 1,
				(mi->mi_ntopics - i - 1) * sizeof(*mi->mi_order));
			mi->mi_ntopics--;
			break;
		}
	meta_topic_free(t);
	d->md_change = META_TOPIC_DELETED;
	snprintf(d->md_topic, sizeof(d->md_topic), "%s", name);
	return 0;
}

int meta_apply(struct meta_image *mi, const char *rec, size_t len, int64_t offset,
	       struct meta_delta *d, char *err, size_t err_cap)
{
	static __thread struct meta_tokens tk; /* 40 KiB: not on the stack */
	memset(d, 0, sizeof(*d));
	if (len == 0 || len >= META_RECORD_MAX || meta_tokenize(rec, len, &tk) < 0)
		return meta_fail(err, err_cap, "metadata record does not parse", rec, len);
	int rc;
	if (strcmp(tk.mt_type, "controller") == 0) {
		rc = meta_apply_controller(mi, &tk);
		d->md_change = META_CONTROLLER;
	} else if (strcmp(tk.mt_type, "broker") == 0) {
		rc = meta_apply_broker(mi, &tk, d);
	} else if (strcmp(tk.mt_type, "fence") == 0) {
		rc = meta_apply_fence(mi, &tk, d, true);
	} else if (strcmp(tk.mt_type, "unfence") == 0) {
		rc = meta_apply_fence(mi, &tk, d, false);
	} else if (strcmp(tk.mt_type, "shutdown") == 0) {
		rc = meta_apply_shutdown(mi, &tk, d);
	} else if (strcmp(tk.mt_type, "topic") == 0) {
		rc = meta_apply_topic(mi, &tk, d);
	} else if (strcmp(tk.mt_type, "partition") == 0) {
		rc = meta_apply_partition(mi, &tk, d);
	} else if (strcmp(tk.mt_type, "delete_topic") == 0) {
		rc = meta_apply_delete(mi, &tk, d);
	} else {
		return meta_fail(err, err_cap, "unknown metadata record type", rec, len);
	}
	if (rc < 0)
		return meta_fail(err, err_cap, "metadata record does not apply", rec, len);
	mi->mi_next_offset = offset + 1;
	return 0;
}

int meta_records_each(const uint8_t *bytes, size_t len, int64_t from, meta_record_fn fn, void *ctx,
		      char *err, size_t err_cap)
{
	struct batch_iter it;
	struct batch_header h;
	const uint8_t *b;
	size_t size;
	int rc;
	batch_iter_init(&it, bytes, len);
	while ((rc = batch_iter_next(&it, &h, &b, &size)) == 1) {
		if (batch_codec(&h) != BATCH_CODEC_NONE) {
			snprintf(err, err_cap, "compressed metadata batch at offset %" PRId64,
				 h.bh_base_offset);
			return RL_ECORRUPT;
		}
		struct record_iter ri;
		struct record r;
		record_iter_init(&ri, b + BATCH_HEADER_BYTES, size - BATCH_HEADER_BYTES,
				 h.bh_records_count);
		int rr;
		while ((rr = record_iter_next(&ri, &r)) == 1) {
			int64_t off = h.bh_base_offset + r.r_offset_delta;
			if (off < from || r.r_value_len < 0)
				continue;
			int x = fn(ctx, off, (const char *)r.r_value, (size_t)r.r_value_len, err,
				   err_cap);
			if (x)
				return x;
		}
		if (rr < 0) {
			snprintf(err, err_cap, "malformed metadata batch at offset %" PRId64,
				 h.bh_base_offset);
			return RL_ECORRUPT;
		}
	}
	if (rc < 0 && rc != RL_ETRUNCATED) {
		snprintf(err, err_cap, "metadata batch does not validate: %s", rl_strerror(rc));
		return RL_ECORRUPT;
	}
	return 0;
}

int meta_apply_cb(void *ctx, int64_t offset, const char *value, size_t len, char *err,
		  size_t err_cap)
{
	struct meta_delta d;
	return meta_apply(ctx, value, len, offset, &d, err, err_cap);
}

/* ---- snapshots ------------------------------------------------------------ */

struct meta_out {
	char *mo_buf;
	size_t mo_len, mo_cap;
	bool mo_failed;
};

static void meta_out_line(struct meta_out *o, const char *line, int n)
{
	if (o->mo_failed || n <= 0)
		return;
	size_t need = o->mo_len + (size_t)n + 1;
	if (need > o->mo_cap) {
		size_t ncap = o->mo_cap ? o->mo_cap * 2 : 65536;
		while (ncap < need)
			ncap *= 2;
		char *nb = realloc(o->mo_buf, ncap);
		if (!nb) {
			o->mo_failed = true;
			return;
		}
		o->mo_buf = nb;
		o->mo_cap = ncap;
	}
	memcpy(o->mo_buf + o->mo_len, line, (size_t)n);
	o->mo_buf[o->mo_len + (size_t)n] = '\n';
	o->mo_len += (size_t)n + 1;
}

int meta_snapshot_write(const struct meta_image *mi, char **out, size_t *len)
{
	struct meta_out o = {0};
	char rec[META_RECORD_MAX];
	meta_out_line(
		&o, rec,
		snprintf(rec, sizeof(rec), "snapshot next_offset=%" PRId64, mi->mi_next_offset));
	if (mi->mi_cluster_id[0])
		meta_out_line(&o, rec,
			      meta_rec_controller(rec, mi->mi_controller_epoch, mi->mi_cluster_id));
	for (int i = 0; i < mi->mi_nbrokers; i++) {
		const struct meta_broker *b = &mi->mi_brokers[i];
		if (!b->mb_registered)
			continue;
		meta_out_line(&o, rec, meta_rec_broker(rec, b));
		if (!b->mb_fenced)
			meta_out_line(&o, rec, meta_rec_unfence(rec, b->mb_id));
		if (b->mb_shutting_down)
			meta_out_line(&o, rec, meta_rec_shutdown(rec, b->mb_id));
	}
	for (uint32_t i = 0; i < mi->mi_ntopics; i++) {
		const struct meta_topic *t = mi->mi_order[i];
		meta_out_line(&o, rec, meta_rec_topic(rec, t));
		/* A partition no record assigned yet (no replicas) is exactly as
		 * the topic record leaves it, and a partition record must name
		 * replicas: write none for it. */
		for (int32_t p = 0; p < t->mt_npartitions; p++)
			if (t->mt_parts[p].mp_nreplicas > 0)
				meta_out_line(
					&o, rec,
					meta_rec_partition(rec, t->mt_name, p, &t->mt_parts[p]));
	}
	if (o.mo_failed) {
		free(o.mo_buf);
		return -ENOMEM;
	}
	*out = o.mo_buf;
	*len = o.mo_len;
	return 0;
}

int meta_snapshot_read(struct meta_image *mi, const char *buf, size_t len, char *err,
		       size_t err_cap)
{
	meta_image_deinit(mi);
	meta_image_init(mi);
	const char *end = buf + len;
	const char *nl = memchr(buf, '\n', len);
	size_t head_len = nl ? (size_t)(nl - buf) : len;
	char head[64]; /* sscanf needs a NUL, and buf need not have one */
	int64_t next = -1;
	if (nl && head_len < sizeof(head)) {
		memcpy(head, buf, head_len);
		head[head_len] = '\0';
		if (sscanf(head, "snapshot next_offset=%" SCNd64, &next) != 1)
			next = -1;
	}
	if (next < 0)
		return meta_fail(err, err_cap, "metadata snapshot has no header", buf, head_len);
	for (const char *at = nl + 1; at < end;) {
		const char *e = memchr(at, '\n', (size_t)(end - at));
		size_t n = e ? (size_t)(e - at) : (size_t)(end - at);
		struct meta_delta d;
		if (n > 0 && meta_apply(mi, at, n, next > 0 ? next - 1 : 0, &d, err, err_cap) < 0) {
			meta_image_deinit(mi);
			meta_image_init(mi);
			return RL_ECORRUPT;
		}
		at += n + 1;
	}
	mi->mi_next_offset = next;
	return 0;
}

int meta_image_copy(struct meta_image *dst, const struct meta_image *src)
{
	char *buf;
	size_t len;
	char err[256];
	if (meta_snapshot_write(src, &buf, &len) < 0)
		return -ENOMEM;
	int rc = meta_snapshot_read(dst, buf, len, err, sizeof(err));
	free(buf);
	return rc < 0 ? -ENOMEM : 0;
}
