/*
 * record — walking the records and headers inside an uncompressed records
 * region (layout in record.h), without copying or allocating.
 *
 * Two kinds of bound, and the error each one gives:
 *   - The region: a record's length varint says how many bytes follow it. If
 *     the region ends before that many (or before `count` records have been
 *     read) the answer is RL_ETRUNCATED.
 *   - The record: every field inside a record is read against the record's
 *     own end, never the region's. A field that runs past it, a length below
 *     -1 (or below 0 for a header key or a count), bytes left over after the
 *     last header, or a declared length too short to hold the six mandatory
 *     single-byte fields are all RL_EINVAL_RECORD: the record is malformed,
 *     not cut short.
 * Bytes left in the region after `count` records are RL_EINVAL_RECORD too.
 *
 * record_iter_next() walks a record's headers before returning it, so a
 * record it hands out is well-formed to the last byte and a header iterator
 * over it cannot fail. On any error the iterator stays on the bad record, and
 * calling it again gives the same error.
 *
 * Producer-batch rules (record_validate) are the ones Kafka's log validator
 * applies to a fresh batch: recordsCount > 0, lastOffsetDelta ==
 * recordsCount - 1, and offsetDelta == index for every record. The record
 * attributes byte is returned as found and not judged (Kafka ignores it).
 *
 * Everything here is reentrant: no global state, no allocation, each byte
 * of a region read once per walk.
 */
#include "record.h"

#include "rlassert.h"
#include "rlerr.h"
#include "varint.h"

/* attributes, timestampDelta, offsetDelta, keyLength, valueLength and
 * headerCount are at least one byte each. */
#define RECORD_MIN_BODY_BYTES 6

/* A cursor over [pos, end) of one record; every read is checked against end. */
struct record_cursor {
	const uint8_t *rc_buf;
	size_t rc_pos;
	size_t rc_end;
};

static int cursor_varint32(struct record_cursor *c, int32_t *out)
{
	int n = varint_decode32(c->rc_buf + c->rc_pos, c->rc_end - c->rc_pos, out);
	if (n < 0)
		return RL_EINVAL_RECORD; /* cut by the record's end, or overlong */
	c->rc_pos += (size_t)n;
	return 0;
}

static int cursor_varint64(struct record_cursor *c, int64_t *out)
{
	int n = varint_decode64(c->rc_buf + c->rc_pos, c->rc_end - c->rc_pos, out);
	if (n < 0)
		return RL_EINVAL_RECORD;
	c->rc_pos += (size_t)n;
	return 0;
}

/* A length-prefixed byte string; -1 means null when `nullable`. */
static int cursor_bytes(struct record_cursor *c, int nullable, const uint8_t **data,
			int32_t *data_len)
{
	int32_t n;
	int rc = cursor_varint32(c, &n);
	if (rc < 0)
		return rc;
	if (n == -1 && nullable) {
		*data = NULL;
		*data_len = -1;
		return 0;
	}
	if (n < 0 || (size_t)n > c->rc_end - c->rc_pos)
		return RL_EINVAL_RECORD;
	*data = c->rc_buf + c->rc_pos;
	*data_len = n;
	c->rc_pos += (size_t)n;
	return 0;
}

static int cursor_header(struct record_cursor *c, struct record_header *h)
{
	int rc = cursor_bytes(c, 0, &h->rh_key, &h->rh_key_len);
	if (rc < 0)
		return rc;
	return cursor_bytes(c, 1, &h->rh_value, &h->rh_value_len);
}

/* Parse the fields of the record whose body is [c->rc_pos, c->rc_end). */
static int record_parse_body(struct record_cursor *c, struct record *r)
{
	int rc;
	RL_ASSERT(c->rc_end - c->rc_pos >= RECORD_MIN_BODY_BYTES); /* checked by the caller */
	r->r_attributes = (int8_t)c->rc_buf[c->rc_pos++];
	if ((rc = cursor_varint64(c, &r->r_timestamp_delta)) < 0)
		return rc;
	if ((rc = cursor_varint32(c, &r->r_offset_delta)) < 0)
		return rc;
	if ((rc = cursor_bytes(c, 1, &r->r_key, &r->r_key_len)) < 0)
		return rc;
	if ((rc = cursor_bytes(c, 1, &r->r_value, &r->r_value_len)) < 0)
		return rc;
	if ((rc = cursor_varint32(c, &r->r_header_count)) < 0)
		return rc;
	if (r->r_header_count < 0)
		return RL_EINVAL_RECORD;

	r->r_headers = c->rc_buf + c->rc_pos;
	for (int32_t i = 0; i < r->r_header_count; i++) {
		struct record_header h;
		if ((rc = cursor_header(c, &h)) < 0)
			return rc; /* also ends an absurd count: each header takes >= 2 bytes */
	}
	r->r_headers_len = (size_t)(c->rc_buf + c->rc_pos - r->r_headers);
	if (c->rc_pos != c->rc_end)
		return RL_EINVAL_RECORD; /* bytes after the last header */
	return 0;
}

void record_iter_init(struct record_iter *it, const uint8_t *buf, size_t len, int32_t count)
{
	RL_ASSERT(buf != NULL || len == 0);
	it->ri_buf = buf;
	it->ri_len = len;
	it->ri_pos = 0;
	it->ri_count = count;
	it->ri_seen = 0;
}

int record_iter_next(struct record_iter *it, struct record *r)
{
	RL_ASSERT(it->ri_pos <= it->ri_len);
	if (it->ri_count < 0)
		return RL_EINVAL_BATCH; /* recordsCount itself is impossible */
	if (it->ri_seen == it->ri_count)
		return it->ri_pos == it->ri_len ? 0 : RL_EINVAL_RECORD;

	const uint8_t *p = it->ri_buf + it->ri_pos;
	size_t left = it->ri_len - it->ri_pos;
	int32_t body_len;
	int n = varint_decode32(p, left, &body_len);
	if (n < 0)
		return n; /* RL_ETRUNCATED (region ended) or RL_EINVAL_RECORD */
	if (body_len < RECORD_MIN_BODY_BYTES)
		return RL_EINVAL_RECORD;
	if ((size_t)body_len > left - (size_t)n)
		return RL_ETRUNCATED;

	struct record_cursor c = {
		.rc_buf = p,
		.rc_pos = (size_t)n,
		.rc_end = (size_t)n + (size_t)body_len,
	};
	int rc = record_parse_body(&c, r);
	if (rc < 0)
		return rc;
	r->r_size = c.rc_end;
	it->ri_pos += r->r_size;
	it->ri_seen++;
	RL_ASSERT(it->ri_pos <= it->ri_len);
	return 1;
}

void record_header_iter_init(struct record_header_iter *it, const struct record *r)
{
	RL_ASSERT(r->r_headers != NULL || r->r_headers_len == 0);
	it->rhi_buf = r->r_headers;
	it->rhi_len = r->r_headers_len;
	it->rhi_pos = 0;
	it->rhi_count = r->r_header_count;
	it->rhi_seen = 0;
}

int record_header_iter_next(struct record_header_iter *it, struct record_header *h)
{
	RL_ASSERT(it->rhi_pos <= it->rhi_len);
	if (it->rhi_count < 0)
		return RL_EINVAL_RECORD;
	if (it->rhi_seen == it->rhi_count)
		return it->rhi_pos == it->rhi_len ? 0 : RL_EINVAL_RECORD;

	struct record_cursor c = {
		.rc_buf = it->rhi_buf,
		.rc_pos = it->rhi_pos,
		.rc_end = it->rhi_len,
	};
	int rc = cursor_header(&c, h);
	if (rc < 0)
		return rc;
	it->rhi_pos = c.rc_pos;
	it->rhi_seen++;
	return 1;
}

int record_validate(const uint8_t *buf, size_t len, int32_t count, int32_t last_offset_delta,
		    int32_t *bad_index)
{
	int32_t unused;
	int32_t *bad = bad_index ? bad_index : &unused;
	*bad = -1;

	/* Batch-level promises first: a fresh producer batch has records and
	 * no gaps. No single record is to blame, so *bad stays -1. */
	if (count <= 0 || last_offset_delta != count - 1)
		return RL_EINVAL_BATCH;

	struct record_iter it;
	struct record r;
	record_iter_init(&it, buf, len, count);
	for (int32_t i = 0;; i++) {
		int rc = record_iter_next(&it, &r);
		if (rc == 0)
			return 0;
		if (rc < 0) {
			*bad = i; /* == count when bytes remain after the last record */
			return rc;
		}
		if (r.r_offset_delta != i) {
			*bad = i;
			return RL_EINVAL_RECORD;
		}
	}
}
