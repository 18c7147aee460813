/*
 * offsets — __consumer_offsets records and the committed-offset table (API
 * and layout in offsets.h).
 */
#include "offsets.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- partitioning --------------------------------------------------------- */

/* Next code point of UTF-8 text; an invalid or cut-short sequence gives
 * U+FFFD and advances one byte. */
static uint32_t ofs_utf8_next(const uint8_t *s, size_t len, size_t *i)
{
	uint8_t c = s[*i];
	int n;
	uint32_t cp;
	if (c < 0x80) {
		(*i)++;
		return c;
	} else if ((c & 0xe0) == 0xc0) {
		n = 1;
		cp = c & 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		n = 2;
		cp = c & 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		n = 3;
		cp = c & 0x07;
	} else {
		(*i)++;
		return 0xfffd;
	}
	if (*i + (size_t)n >= len) {
		(*i)++;
		return 0xfffd;
	}
	for (int k = 1; k <= n; k++) {
		uint8_t cc = s[*i + (size_t)k];
		if ((cc & 0xc0) != 0x80) {
			(*i)++;
			return 0xfffd;
		}
		cp = cp << 6 | (cc & 0x3f);
	}
	*i += (size_t)n + 1;
	return cp;
}

int32_t ofs_java_hash(const char *utf8, size_t len)
{
	const uint8_t *s = (const uint8_t *)utf8;
	uint32_t h = 0;
	for (size_t i = 0; i < len;) {
		uint32_t cp = ofs_utf8_next(s, len, &i);
		if (cp >= 0x10000) { /* a surrogate pair in UTF-16 */
			cp -= 0x10000;
			h = 31 * h + (0xd800 + (cp >> 10));
			h = 31 * h + (0xdc00 + (cp & 0x3ff));
		} else {
			h = 31 * h + cp;
		}
	}
	return (int32_t)h;
}

int32_t ofs_partition_for(const char *group, int32_t partitions)
{
	int32_t h = ofs_java_hash(group, strlen(group));
	/* Kafka's Utils.abs: INT_MIN maps to 0. */
	int32_t a = h == INT32_MIN ? 0 : (h < 0 ? -h : h);
	return a % partitions;
}

/* ---- records -------------------------------------------------------------- */

struct ofs_w {
	uint8_t *p;
	size_t cap, len;
	bool bad;
};

static void ofs_put(struct ofs_w *w, const void *src, size_t n)
{
	if (w->bad || w->len + n > w->cap) {
		w->bad = true;
		return;
	}
	memcpy(w->p + w->len, src, n);
	w->len += n;
}

static void ofs_put_be(struct ofs_w *w, uint64_t v, int bytes)
{
	uint8_t b[8];
	for (int i = 0; i < bytes; i++)
		b[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
	ofs_put(w, b, (size_t)bytes);
}

static void ofs_put_str(struct ofs_w *w, const char *s)
{
	size_t n = strlen(s);
	if (n > 32767) {
		w->bad = true;
		return;
	}
	ofs_put_be(w, n, 2);
	ofs_put(w, s, n);
}

int32_t ofs_key_encode(uint8_t *buf, size_t cap, const char *group, const char *topic,
		       int32_t partition)
{
	struct ofs_w w = {.p = buf, .cap = cap};
	ofs_put_be(&w, 1, 2);
	ofs_put_str(&w, group);
	ofs_put_str(&w, topic);
	ofs_put_be(&w, (uint32_t)partition, 4);
	return w.bad ? -1 : (int32_t)w.len;
}

int32_t ofs_value_encode(uint8_t *buf, size_t cap, const struct ofs_commit *c)
{
	struct ofs_w w = {.p = buf, .cap = cap};
	ofs_put_be(&w, 3, 2);
	ofs_put_be(&w, (uint64_t)c->offset, 8);
	ofs_put_be(&w, (uint32_t)c->leader_epoch, 4);
	ofs_put_str(&w, c->metadata ? c->metadata : "");
	ofs_put_be(&w, (uint64_t)c->commit_timestamp_ms, 8);
	return w.bad ? -1 : (int32_t)w.len;
}

struct ofs_r {
	const uint8_t *p;
	size_t len, pos;
	bool bad;
};

static uint64_t ofs_get_be(struct ofs_r *r, int bytes)
{
	if (r->bad || r->pos + (size_t)bytes > r->len) {
		r->bad = true;
		return 0;
	}
	uint64_t v = 0;
	for (int i = 0; i < bytes; i++)
		v = v << 8 | r->p[r->pos + (size_t)i];
	r->pos += (size_t)bytes;
	return v;
}

static const char *ofs_get_str(struct ofs_r *r, int16_t *len)
{
	int16_t n = (int16_t)ofs_get_be(r, 2);
	if (r->bad || n < 0 || r->pos + (size_t)n > r->len) {
		r->bad = true;
		*len = 0;
		return NULL;
	}
	const char *s = (const char *)r->p + r->pos;
	r->pos += (size_t)n;
	*len = n;
	return s;
}

int ofs_key_decode(const uint8_t *p, size_t len, struct ofs_key *k)
{
	struct ofs_r r = {.p = p, .len = len};
	memset(k, 0, sizeof(*k));
	k->version = (int16_t)ofs_get_be(&r, 2);
	if (r.bad || k->version < 0 || k->version > 2)
		return -1;
	k->group = ofs_get_str(&r, &k->group_len);
	if (k->version <= 1) {
		k->topic = ofs_get_str(&r, &k->topic_len);
		k->partition = (int32_t)ofs_get_be(&r, 4);
	}
	return r.bad || r.pos != len ? -1 : 0;
}

int ofs_value_decode(const uint8_t *p, size_t len, int64_t *offset, int32_t *leader_epoch,
		     const char **metadata, int16_t *metadata_len, int64_t *commit_ts)
{
	struct ofs_r r = {.p = p, .len = len};
	int16_t version = (int16_t)ofs_get_be(&r, 2);
	if (r.bad || version < 0 || version > 3)
		return -1;
	*offset = (int64_t)ofs_get_be(&r, 8);
	*leader_epoch = version >= 3 ? (int32_t)ofs_get_be(&r, 4) : -1;
	*metadata = ofs_get_str(&r, metadata_len);
	*commit_ts = (int64_t)ofs_get_be(&r, 8);
	if (version == 1)
		(void)ofs_get_be(&r, 8); /* expire timestamp */
	return r.bad || r.pos != len ? -1 : 0;
}

/* ---- the table ------------------------------------------------------------ */

struct ofs_entry {
	struct ofs_entry *next;
	uint64_t hash;
	char *group; /* one allocation: group\0topic\0 */
	const char *topic;
	int32_t partition;
	int64_t offset;
	int32_t leader_epoch;
	char *metadata;
	int64_t commit_ts;
};

struct ofs_table {
	struct ofs_entry **buckets;
	size_t nbuckets;
	int64_t size;
	int64_t bad;
};

static uint64_t ofs_hash(const char *g, size_t gl, const char *t, size_t tl, int32_t partition)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (size_t i = 0; i < gl; i++)
		h = (h ^ (uint8_t)g[i]) * 1099511628211ull;
	h = (h ^ 0xff) * 1099511628211ull;
	for (size_t i = 0; i < tl; i++)
		h = (h ^ (uint8_t)t[i]) * 1099511628211ull;
	return (h ^ (uint32_t)partition) * 1099511628211ull;
}

struct ofs_table *ofs_table_new(void)
{
	struct ofs_table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->nbuckets = 256;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		return NULL;
	}
	return t;
}

static void ofs_entry_free(struct ofs_entry *e)
{
	free(e->group);
	free(e->metadata);
	free(e);
}

void ofs_table_free(struct ofs_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nbuckets; i++)
		for (struct ofs_entry *e = t->buckets[i], *n; e; e = n) {
			n = e->next;
			ofs_entry_free(e);
		}
	free(t->buckets);
	free(t);
}

static struct ofs_entry **ofs_slot(const struct ofs_table *t, const char *g, size_t gl,
				   const char *tp, size_t tl, int32_t partition, uint64_t h)
{
	struct ofs_entry **pp = &t->buckets[h & (t->nbuckets - 1)];
	for (; *pp; pp = &(*pp)->next) {
		const struct ofs_entry *e = *pp;
		if (e->hash == h && e->partition == partition && strlen(e->group) == gl &&
		    memcmp(e->group, g, gl) == 0 && strlen(e->topic) == tl &&
		    memcmp(e->topic, tp, tl) == 0)
			return pp;
	}
	return pp;
}

static void ofs_grow(struct ofs_table *t)
{
	if ((size_t)t->size < t->nbuckets * 2)
		return;
	size_t n = t->nbuckets * 4;
	struct ofs_entry **b = calloc(n, sizeof(*b));
	if (!b)
		return; /* stays correct, only slower */
	for (size_t i = 0; i < t->nbuckets; i++)
		for (struct ofs_entry *e = t->buckets[i], *nx; e; e = nx) {
			nx = e->next;
			e->next = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = n;
}

static int ofs_set(struct ofs_table *t, const char *g, size_t gl, const char *tp, size_t tl,
		   int32_t partition, int64_t offset, int32_t epoch, const char *md, size_t ml,
		   int64_t ts)
{
	uint64_t h = ofs_hash(g, gl, tp, tl, partition);
	struct ofs_entry **pp = ofs_slot(t, g, gl, tp, tl, partition, h);
	char *mcopy = malloc(ml + 1);
	if (!mcopy)
		return -ENOMEM;
	memcpy(mcopy, md, ml);
	mcopy[ml] = '\0';
	struct ofs_entry *e = *pp;
	if (!e) {
		e = calloc(1, sizeof(*e));
		char *names = malloc(gl + tl + 2);
		if (!e || !names) {
			free(e);
			free(names);
			free(mcopy);
			return -ENOMEM;
		}
		memcpy(names, g, gl);
		names[gl] = '\0';
		memcpy(names + gl + 1, tp, tl);
		names[gl + 1 + tl] = '\0';
		e->group = names;
		e->topic = names + gl + 1;
		e->partition = partition;
		e->hash = h;
		*pp = e;
		t->size++;
	}
	free(e->metadata);
	e->metadata = mcopy;
	e->offset = offset;
	e->leader_epoch = epoch;
	e->commit_ts = ts;
	ofs_grow(t);
	return 0;
}

static void ofs_unset(struct ofs_table *t, const char *g, size_t gl, const char *tp, size_t tl,
		      int32_t partition)
{
	uint64_t h = ofs_hash(g, gl, tp, tl, partition);
	struct ofs_entry **pp = ofs_slot(t, g, gl, tp, tl, partition, h);
	if (!*pp)
		return;
	struct ofs_entry *e = *pp;
	*pp = e->next;
	ofs_entry_free(e);
	t->size--;
}

int ofs_table_apply(struct ofs_table *t, const uint8_t *key, size_t key_len, const uint8_t *value,
		    size_t value_len)
{
	struct ofs_key k;
	if (!key || ofs_key_decode(key, key_len, &k) < 0) {
		t->bad++;
		return -1;
	}
	if (k.version > 1)
		return 0; /* group metadata: not kept here */
	if (!value) {
		ofs_unset(t, k.group, (size_t)k.group_len, k.topic, (size_t)k.topic_len,
			  k.partition);
		return 0;
	}
	int64_t offset, ts;
	int32_t epoch;
	const char *md;
	int16_t ml;
	if (ofs_value_decode(value, value_len, &offset, &epoch, &md, &ml, &ts) < 0) {
		t->bad++;
		return -1;
	}
	return ofs_set(t, k.group, (size_t)k.group_len, k.topic, (size_t)k.topic_len, k.partition,
		       offset, epoch, md, (size_t)ml, ts);
}

int ofs_table_put(struct ofs_table *t, const char *group, const char *topic, int32_t partition,
		  const struct ofs_commit *c)
{
	const char *md = c->metadata ? c->metadata : "";
	return ofs_set(t, group, strlen(group), topic, strlen(topic), partition, c->offset,
		       c->leader_epoch, md, strlen(md), c->commit_timestamp_ms);
}

bool ofs_table_get(const struct ofs_table *t, const char *group, const char *topic,
		   int32_t partition, struct ofs_commit *out)
{
	size_t gl = strlen(group), tl = strlen(topic);
	uint64_t h = ofs_hash(group, gl, topic, tl, partition);
	struct ofs_entry *e = *ofs_slot(t, group, gl, topic, tl, partition, h);
	if (!e)
		return false;
	*out = (struct ofs_commit){.offset = e->offset,
				   .leader_epoch = e->leader_epoch,
				   .metadata = e->metadata,
				   .commit_timestamp_ms = e->commit_ts};
	return true;
}

int32_t ofs_table_drop_group(struct ofs_table *t, const char *group)
{
	int32_t n = 0;
	for (size_t i = 0; i < t->nbuckets; i++)
		for (struct ofs_entry **pp = &t->buckets[i]; *pp;) {
			struct ofs_entry *e = *pp;
			if (strcmp(e->group, group) == 0) {
				*pp = e->next;
				ofs_entry_free(e);
				t->size--;
				n++;
			} else {
				pp = &e->next;
			}
		}
	return n;
}

int ofs_table_visit(const struct ofs_table *t, const char *group, ofs_visit_fn fn, void *ctx)
{
	for (size_t i = 0; i < t->nbuckets; i++)
		for (const struct ofs_entry *e = t->buckets[i]; e; e = e->next) {
			if (strcmp(e->group, group) != 0)
				continue;
			struct ofs_commit c = {.offset = e->offset,
					       .leader_epoch = e->leader_epoch,
					       .metadata = e->metadata,
					       .commit_timestamp_ms = e->commit_ts};
			int rc = fn(ctx, e->topic, e->partition, &c);
			if (rc)
				return rc;
		}
	return 0;
}

int64_t ofs_table_size(const struct ofs_table *t)
{
	return t->size;
}

int64_t ofs_table_bad_records(const struct ofs_table *t)
{
	return t->bad;
}
