/* Description: records and headers: nulls, empties, every malformation, producer rules. */
#include "testutil.h"

#include "record.h"
#include "rlerr.h"
#include "varint.h"

/* ---- a tiny hand encoder, so tests can write malformed records ----------
 * It writes exactly the fields it is told to, lengths included, so a test
 * can lie about any of them. */

struct enc {
	uint8_t e_buf[4096];
	size_t e_len;
};

static void enc_byte(struct enc *e, uint8_t b)
{
	assert_true(e->e_len < sizeof(e->e_buf));
	e->e_buf[e->e_len++] = b;
}

static void enc_raw(struct enc *e, const void *p, size_t n)
{
	assert_true(e->e_len + n <= sizeof(e->e_buf));
	if (n)
		memcpy(e->e_buf + e->e_len, p, n);
	e->e_len += n;
}

static void enc_varint(struct enc *e, int64_t v)
{
	uint8_t tmp[VARINT_MAX64];
	enc_raw(e, tmp, (size_t)varint_encode64(tmp, v));
}

/* Length-prefixed string; s == NULL writes -1 (null). */
static void enc_str(struct enc *e, const char *s)
{
	if (!s) {
		enc_varint(e, -1);
		return;
	}
	enc_varint(e, (int64_t)strlen(s));
	enc_raw(e, s, strlen(s));
}

struct hdr {
	const char *h_key;
	const char *h_value; /* NULL = null */
};

/* The body of a well-formed record (no length prefix). */
static void enc_body(struct enc *e, int64_t ts_delta, int32_t off_delta, const char *key,
                     const char *value, const struct hdr *hdrs, int nhdrs)
{
	enc_byte(e, 0);
	enc_varint(e, ts_delta);
	enc_varint(e, off_delta);
	enc_str(e, key);
	enc_str(e, value);
	enc_varint(e, nhdrs);
	for (int i = 0; i < nhdrs; i++) {
		enc_str(e, hdrs[i].h_key);
		enc_str(e, hdrs[i].h_value);
	}
}

/* A whole record: length prefix + body. */
static void enc_record(struct enc *e, int64_t ts_delta, int32_t off_delta, const char *key,
                       const char *value, const struct hdr *hdrs, int nhdrs)
{
	struct enc body = {.e_len = 0};
	enc_body(&body, ts_delta, off_delta, key, value, hdrs, nhdrs);
	enc_varint(e, (int64_t)body.e_len);
	enc_raw(e, body.e_buf, body.e_len);
}

/* Prefix `body` with its true length. */
static void enc_wrap(struct enc *e, const struct enc *body)
{
	enc_varint(e, (int64_t)body->e_len);
	enc_raw(e, body->e_buf, body->e_len);
}

static uint8_t *exact_copy(const uint8_t *src, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);
	assert_non_null(p);
	if (len)
		memcpy(p, src, len);
	return p;
}

/* Iterate a region copied to an exact-size block; return the first
 * non-1 result and the number of records before it. */
static int iterate_exact(const uint8_t *buf, size_t len, int32_t count, int *seen)
{
	uint8_t *copy = exact_copy(buf, len);
	struct record_iter it;
	struct record r;
	int rc;
	record_iter_init(&it, copy, len, count);
	*seen = 0;
	while ((rc = record_iter_next(&it, &r)) == 1) {
		/* Headers of a returned record always iterate cleanly. */
		struct record_header_iter hi;
		struct record_header h;
		int hrc, nh = 0;
		record_header_iter_init(&hi, &r);
		while ((hrc = record_header_iter_next(&hi, &h)) == 1)
			nh++;
		assert_int_equal(hrc, 0);
		assert_int_equal(nh, r.r_header_count);
		(*seen)++;
	}
	/* Errors are sticky. */
	if (rc < 0)
		assert_int_equal(record_iter_next(&it, &r), rc);
	free(copy);
	return rc;
}

static int validate_exact(const uint8_t *buf, size_t len, int32_t count, int32_t lod, int32_t *bad)
{
	uint8_t *copy = exact_copy(buf, len);
	int rc = record_validate(copy, len, count, lod, bad);
	free(copy);
	return rc;
}

static void expect_str(const uint8_t *p, int32_t len, const char *want)
{
	if (!want) {
		assert_null(p);
		assert_int_equal(len, -1);
		return;
	}
	assert_int_equal(len, (int32_t)strlen(want));
	if (len > 0)
		assert_memory_equal(p, want, (size_t)len);
	else
		assert_non_null(p); /* empty is not null */
}

/* ---- decoding --------------------------------------------------------- */

/* The record from kafka-python's batch in captures/pyP.broker.log: key
 * pykey, value pyval, header h1=v1, as the broker log decodes it. */
static void test_capture_kafka_python_record(void **state)
{
	(void)state;
	static const uint8_t rec[] = {0x2c, 0x00, 0x00, 0x00, 0x0a, 'p', 'y', 'k',
	                              'e',  'y',  0x0a, 'p',  'y',  'v', 'a', 'l',
	                              0x02, 0x04, 'h',  '1',  0x04, 'v', '1'};
	uint8_t *buf = exact_copy(rec, sizeof(rec));
	struct record_iter it;
	struct record r;
	record_iter_init(&it, buf, sizeof(rec), 1);
	assert_int_equal(record_iter_next(&it, &r), 1);
	assert_int_equal(r.r_size, 23); /* "len=22" + its 1-byte varint */
	assert_int_equal(r.r_attributes, 0);
	assert_int_equal(r.r_timestamp_delta, 0);
	assert_int_equal(r.r_offset_delta, 0);
	expect_str(r.r_key, r.r_key_len, "pykey");
	expect_str(r.r_value, r.r_value_len, "pyval");
	assert_ptr_equal(r.r_key, buf + 5); /* pointers into the caller's bytes */
	assert_int_equal(r.r_header_count, 1);
	assert_ptr_equal(r.r_headers, buf + 17);
	assert_int_equal(r.r_headers_len, 6);

	struct record_header_iter hi;
	struct record_header h;
	record_header_iter_init(&hi, &r);
	assert_int_equal(record_header_iter_next(&hi, &h), 1);
	expect_str(h.rh_key, h.rh_key_len, "h1");
	expect_str(h.rh_value, h.rh_value_len, "v1");
	assert_int_equal(record_header_iter_next(&hi, &h), 0);
	assert_int_equal(record_header_iter_next(&hi, &h), 0);

	assert_int_equal(record_iter_next(&it, &r), 0);
	assert_int_equal(record_validate(buf, sizeof(rec), 1, 0, NULL), 0);
	free(buf);
}

/* The three records of librdkafka's batch (captures/kcatP.broker.log). */
static void test_capture_librdkafka_records(void **state)
{
	(void)state;
	static const uint8_t recs[] = {0x0e, 0, 0,   0, 1,    2, 'a', 0, 0x0e, 0, 0,   2,
	                               1,    2, 'b', 0, 0x0e, 0, 0,   4, 1,    2, 'c', 0};
	struct record_iter it;
	struct record r;
	record_iter_init(&it, recs, sizeof(recs), 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(record_iter_next(&it, &r), 1);
		assert_int_equal(r.r_size, 8);
		assert_int_equal(r.r_offset_delta, i);
		assert_null(r.r_key);
		assert_int_equal(r.r_key_len, -1);
		assert_int_equal(r.r_value_len, 1);
		assert_int_equal(r.r_value[0], 'a' + i);
		assert_int_equal(r.r_header_count, 0);
		assert_int_equal(r.r_headers_len, 0);
	}
	assert_int_equal(record_iter_next(&it, &r), 0);
	assert_int_equal(record_validate(recs, sizeof(recs), 3, 2, NULL), 0);
}

struct rec_spec {
	int64_t rs_ts_delta;
	const char *rs_key;
	const char *rs_value;
	struct hdr rs_hdrs[3];
	int rs_nhdrs;
};

static const struct rec_spec mixed_records[] = {
        {0, NULL, NULL, {{0}}, 0},                        /* tombstone, no key */
        {5, "", "", {{0}}, 0},                            /* empty, not null */
        {-3, "k", NULL, {{"h", NULL}}, 1},                /* null header value */
        {1000000, NULL, "v", {{"", ""}, {"a", "bc"}}, 2}, /* empty header key/value */
        {INT64_MIN / 2, "key", "value", {{"x", "1"}, {"x", "2"}, {"y", NULL}}, 3},
};

static size_t encode_mixed(struct enc *e)
{
	size_t n = sizeof(mixed_records) / sizeof(mixed_records[0]);
	e->e_len = 0;
	for (size_t i = 0; i < n; i++) {
		const struct rec_spec *s = &mixed_records[i];
		enc_record(e, s->rs_ts_delta, (int32_t)i, s->rs_key, s->rs_value, s->rs_hdrs,
		           s->rs_nhdrs);
	}
	return n;
}

static void test_null_empty_and_headers(void **state)
{
	(void)state;
	struct enc e;
	int32_t n = (int32_t)encode_mixed(&e);
	uint8_t *buf = exact_copy(e.e_buf, e.e_len);
	struct record_iter it;
	struct record r;
	size_t pos = 0;
	record_iter_init(&it, buf, e.e_len, n);
	for (int32_t i = 0; i < n; i++) {
		const struct rec_spec *s = &mixed_records[i];
		assert_int_equal(record_iter_next(&it, &r), 1);
		assert_int_equal(it.ri_seen, i + 1);
		assert_true(r.r_timestamp_delta == s->rs_ts_delta);
		assert_int_equal(r.r_offset_delta, i);
		expect_str(r.r_key, r.r_key_len, s->rs_key);
		expect_str(r.r_value, r.r_value_len, s->rs_value);
		assert_int_equal(r.r_header_count, s->rs_nhdrs);
		pos += r.r_size;
		assert_int_equal(it.ri_pos, pos);

		struct record_header_iter hi;
		struct record_header h;
		record_header_iter_init(&hi, &r);
		for (int k = 0; k < s->rs_nhdrs; k++) {
			assert_int_equal(record_header_iter_next(&hi, &h), 1);
			expect_str(h.rh_key, h.rh_key_len, s->rs_hdrs[k].h_key);
			expect_str(h.rh_value, h.rh_value_len, s->rs_hdrs[k].h_value);
			assert_true(h.rh_key >= buf && h.rh_key <= buf + e.e_len);
		}
		assert_int_equal(record_header_iter_next(&hi, &h), 0);
	}
	assert_int_equal(record_iter_next(&it, &r), 0);
	assert_int_equal(pos, e.e_len);
	assert_int_equal(record_validate(buf, e.e_len, n, n - 1, NULL), 0);
	free(buf);
}

static void test_empty_region(void **state)
{
	(void)state;
	struct record_iter it;
	struct record r;
	record_iter_init(&it, NULL, 0, 0);
	assert_int_equal(record_iter_next(&it, &r), 0);
	/* Count says one, bytes say none. */
	record_iter_init(&it, NULL, 0, 1);
	assert_int_equal(record_iter_next(&it, &r), RL_ETRUNCATED);
	/* A negative count is a batch-header problem. */
	record_iter_init(&it, NULL, 0, -1);
	assert_int_equal(record_iter_next(&it, &r), RL_EINVAL_BATCH);
}

/* ---- malformed records: each is refused, at the right record ----------- */

/* Region = one good record, then the bad bytes `bad`, then nothing. The
 * iterator must return the good one and then `want`. */
static void expect_second_record_bad(const char *name, const struct enc *bad, int want)
{
	struct enc e = {.e_len = 0};
	enc_record(&e, 0, 0, "k", "v", NULL, 0);
	enc_raw(&e, bad->e_buf, bad->e_len);
	int seen;
	int rc = iterate_exact(e.e_buf, e.e_len, 2, &seen);
	if (rc != want || seen != 1)
		fail_msg("%s: got %s after %d records, want %s after 1", name, rl_strerror(rc),
		         seen, rl_strerror(want));
	int32_t bad_index = 99;
	rc = validate_exact(e.e_buf, e.e_len, 2, 1, &bad_index);
	if (rc != want || bad_index != 1)
		fail_msg("%s: record_validate gave %s at %d", name, rl_strerror(rc), bad_index);
}

static void test_malformed_records(void **state)
{
	(void)state;
	struct enc b, body;

	/* Record length: below the 6-byte minimum, negative, -1, overlong. */
	for (int64_t len = -3; len < 6; len++) {
		b.e_len = 0;
		enc_varint(&b, len);
		enc_raw(&b, "\0\0\0\1\1\0\0\0", 8);
		expect_second_record_bad("short length", &b, RL_EINVAL_RECORD);
	}
	b.e_len = 0;
	enc_raw(&b, "\x80\x80\x80\x80\x80\x01", 6);
	expect_second_record_bad("overlong length varint", &b, RL_EINVAL_RECORD);
	b.e_len = 0;
	enc_raw(&b, "\x80\x80", 2);
	expect_second_record_bad("length varint cut", &b, RL_ETRUNCATED);

	/* Record length runs past the region. */
	body.e_len = 0;
	enc_body(&body, 0, 1, NULL, "value", NULL, 0);
	b.e_len = 0;
	enc_varint(&b, (int64_t)body.e_len + 1);
	enc_raw(&b, body.e_buf, body.e_len);
	expect_second_record_bad("length overruns region", &b, RL_ETRUNCATED);

	/* Key length: -2, very negative, one past the record's end. */
	const int64_t bad_key_lens[] = {-2, -100, INT32_MIN};
	for (size_t i = 0; i < 3; i++) {
		body.e_len = 0;
		enc_byte(&body, 0);
		enc_varint(&body, 0);
		enc_varint(&body, 1);
		enc_varint(&body, bad_key_lens[i]);
		enc_varint(&body, -1);
		enc_varint(&body, 0);
		b.e_len = 0;
		enc_wrap(&b, &body);
		expect_second_record_bad("negative key length", &b, RL_EINVAL_RECORD);
	}
	body.e_len = 0;
	enc_byte(&body, 0);
	enc_varint(&body, 0);
	enc_varint(&body, 1);
	enc_varint(&body, 4); /* key says 4 bytes, record has 3 left after it */
	enc_raw(&body, "abc", 3);
	b.e_len = 0;
	enc_wrap(&b, &body);
	expect_second_record_bad("key overruns record", &b, RL_EINVAL_RECORD);

	/* Value length past the record, even though the region has bytes. */
	body.e_len = 0;
	enc_byte(&body, 0);
	enc_varint(&body, 0);
	enc_varint(&body, 1);
	enc_varint(&body, -1);
	enc_varint(&body, 10);
	enc_raw(&body, "0123", 4);
	b.e_len = 0;
	enc_wrap(&b, &body);
	enc_raw(&b, "456789\0\0\0\0", 10); /* region continues; the record does not */
	{
		struct enc e = {.e_len = 0};
		enc_record(&e, 0, 0, "k", "v", NULL, 0);
		enc_raw(&e, b.e_buf, b.e_len);
		int seen;
		assert_int_equal(iterate_exact(e.e_buf, e.e_len, 2, &seen), RL_EINVAL_RECORD);
		assert_int_equal(seen, 1);
	}
	body.e_len = 0;
	enc_byte(&body, 0);
	enc_varint(&body, 0);
	enc_varint(&body, 1);
	enc_varint(&body, -1);
	enc_varint(&body, -7);
	enc_varint(&body, 0);
	b.e_len = 0;
	enc_wrap(&b, &body);
	expect_second_record_bad("negative value length", &b, RL_EINVAL_RECORD);

	/* Header count: negative; more than the record holds. */
	body.e_len = 0;
	enc_byte(&body, 0);
	enc_varint(&body, 0);
	enc_varint(&body, 1);
	enc_varint(&body, -1);
	enc_varint(&body, -1);
	enc_varint(&body, -1);
	b.e_len = 0;
	enc_wrap(&b, &body);
	expect_second_record_bad("negative header count", &b, RL_EINVAL_RECORD);
	body.e_len = 0;
	enc_byte(&body, 0);
	enc_varint(&body, 0);
	enc_varint(&body, 1);
	enc_varint(&body, -1);
	enc_varint(&body, -1);
	enc_varint(&body, INT32_MAX);
	enc_str(&body, "h");
	enc_str(&body, "v");
	b.e_len = 0;
	enc_wrap(&b, &body);
	expect_second_record_bad("header count too large", &b, RL_EINVAL_RECORD);

	/* Header key null or negative; header value -2; header value overrun. */
	const int64_t bad_hkey[] = {-1, -2};
	for (size_t i = 0; i < 2; i++) {
		body.e_len = 0;
		enc_byte(&body, 0);
		enc_varint(&body, 0);
		enc_varint(&body, 1);
		enc_varint(&body, -1);
		enc_varint(&body, -1);
		enc_varint(&body, 1);
		enc_varint(&body, bad_hkey[i]);
		enc_str(&body, "v");
		b.e_len = 0;
		enc_wrap(&b, &body);
		expect_second_record_bad("null header key", &b, RL_EINVAL_RECORD);
	}
	body.e_len = 0;
	enc_byte(&body, 0);
	enc_varint(&body, 0);
	enc_varint(&body, 1);
	enc_varint(&body, -1);
	enc_varint(&body, -1);
	enc_varint(&body, 1);
	enc_str(&body, "h");
	enc_varint(&body, -2);
	b.e_len = 0;
	enc_wrap(&b, &body);
	expect_second_record_bad("header value -2", &b, RL_EINVAL_RECORD);
	body.e_len = 0;
	enc_byte(&body, 0);
	enc_varint(&body, 0);
	enc_varint(&body, 1);
	enc_varint(&body, -1);
	enc_varint(&body, -1);
	enc_varint(&body, 1);
	enc_str(&body, "h");
	enc_varint(&body, 3);
	enc_raw(&body, "ab", 2);
	b.e_len = 0;
	enc_wrap(&b, &body);
	expect_second_record_bad("header value overruns", &b, RL_EINVAL_RECORD);

	/* Bytes left inside the record after its last header. */
	body.e_len = 0;
	enc_body(&body, 0, 1, "k", "v", NULL, 0);
	enc_byte(&body, 0);
	b.e_len = 0;
	enc_wrap(&b, &body);
	expect_second_record_bad("trailing bytes in record", &b, RL_EINVAL_RECORD);
	body.e_len = 0;
	const struct hdr one = {"h", "v"};
	enc_body(&body, 0, 1, NULL, NULL, &one, 1);
	body.e_buf[5] = 0; /* header count 1 -> 0: the header bytes are now left over */
	b.e_len = 0;
	enc_wrap(&b, &body);
	expect_second_record_bad("header bytes without a count", &b, RL_EINVAL_RECORD);

	/* Overlong varints inside a record: timestamp delta and offset delta. */
	body.e_len = 0;
	enc_byte(&body, 0);
	enc_raw(&body, "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00", 11);
	enc_raw(&body, "\x02\x01\x01\x00", 4);
	b.e_len = 0;
	enc_wrap(&b, &body);
	expect_second_record_bad("overlong timestamp delta", &b, RL_EINVAL_RECORD);
	body.e_len = 0;
	enc_byte(&body, 0);
	enc_byte(&body, 0);
	enc_raw(&body, "\x82\x80\x80\x80\x10", 5); /* 33 bits */
	enc_raw(&body, "\x01\x01\x00", 3);
	b.e_len = 0;
	enc_wrap(&b, &body);
	expect_second_record_bad("offset delta overflows", &b, RL_EINVAL_RECORD);

	/* A varint cut by the record's end (not the region's) is malformed. */
	body.e_len = 0;
	enc_byte(&body, 0);
	enc_varint(&body, 0);
	enc_varint(&body, 1);
	enc_varint(&body, -1);
	enc_varint(&body, -1);
	enc_byte(&body, 0x80); /* header count continues past the record */
	b.e_len = 0;
	enc_wrap(&b, &body);
	enc_byte(&b, 0x00);
	{
		struct enc e = {.e_len = 0};
		enc_record(&e, 0, 0, "k", "v", NULL, 0);
		enc_raw(&e, b.e_buf, b.e_len);
		int seen;
		assert_int_equal(iterate_exact(e.e_buf, e.e_len, 2, &seen), RL_EINVAL_RECORD);
		assert_int_equal(seen, 1);
	}
}

static void test_count_mismatch(void **state)
{
	(void)state;
	struct enc e = {.e_len = 0};
	for (int i = 0; i < 3; i++)
		enc_record(&e, 0, i, NULL, "v", NULL, 0);
	int seen;
	/* Exactly right. */
	assert_int_equal(iterate_exact(e.e_buf, e.e_len, 3, &seen), 0);
	assert_int_equal(seen, 3);
	/* The count promises more than the bytes hold. */
	assert_int_equal(iterate_exact(e.e_buf, e.e_len, 4, &seen), RL_ETRUNCATED);
	assert_int_equal(seen, 3);
	/* Bytes remain after the promised records. */
	assert_int_equal(iterate_exact(e.e_buf, e.e_len, 2, &seen), RL_EINVAL_RECORD);
	assert_int_equal(seen, 2);
	assert_int_equal(iterate_exact(e.e_buf, e.e_len, 0, &seen), RL_EINVAL_RECORD);
	assert_int_equal(seen, 0);
	/* One stray byte after a complete region. */
	enc_byte(&e, 0);
	assert_int_equal(iterate_exact(e.e_buf, e.e_len, 3, &seen), RL_EINVAL_RECORD);
	assert_int_equal(seen, 3);
}

/* A header iterator handed a hand-made record with lying counts. */
static void test_header_iter_bounds(void **state)
{
	(void)state;
	static const uint8_t hdrs[] = {0x02, 'a', 0x01, 0x00, 0x04, 'x', 'y'};
	struct record r = {0};
	r.r_headers = hdrs;
	r.r_headers_len = sizeof(hdrs);
	struct record_header_iter hi;
	struct record_header h;

	r.r_header_count = 2;
	record_header_iter_init(&hi, &r);
	assert_int_equal(record_header_iter_next(&hi, &h), 1);
	expect_str(h.rh_key, h.rh_key_len, "a");
	expect_str(h.rh_value, h.rh_value_len, NULL);
	assert_int_equal(record_header_iter_next(&hi, &h), 1);
	expect_str(h.rh_key, h.rh_key_len, "");
	expect_str(h.rh_value, h.rh_value_len, "xy");
	assert_int_equal(record_header_iter_next(&hi, &h), 0);

	r.r_header_count = 1; /* bytes left over */
	record_header_iter_init(&hi, &r);
	assert_int_equal(record_header_iter_next(&hi, &h), 1);
	assert_int_equal(record_header_iter_next(&hi, &h), RL_EINVAL_RECORD);

	r.r_header_count = 3; /* runs out */
	record_header_iter_init(&hi, &r);
	assert_int_equal(record_header_iter_next(&hi, &h), 1);
	assert_int_equal(record_header_iter_next(&hi, &h), 1);
	assert_true(record_header_iter_next(&hi, &h) < 0);

	r.r_header_count = -1;
	record_header_iter_init(&hi, &r);
	assert_true(record_header_iter_next(&hi, &h) < 0);

	r.r_header_count = 0;
	r.r_headers = NULL;
	r.r_headers_len = 0;
	record_header_iter_init(&hi, &r);
	assert_int_equal(record_header_iter_next(&hi, &h), 0);
}

/* ---- record_validate: the producer-batch rules ----------------------- */

static void enc_deltas(struct enc *e, const int32_t *deltas, int n)
{
	e->e_len = 0;
	for (int i = 0; i < n; i++)
		enc_record(e, i, deltas[i], NULL, "v", NULL, 0);
}

static void test_validate_offset_deltas(void **state)
{
	(void)state;
	struct enc e;
	int32_t bad;
	static const int32_t good[] = {0, 1, 2, 3, 4};
	enc_deltas(&e, good, 5);
	bad = 99;
	assert_int_equal(validate_exact(e.e_buf, e.e_len, 5, 4, &bad), 0);
	assert_int_equal(validate_exact(e.e_buf, e.e_len, 5, 4, NULL), 0);

	static const struct {
		int32_t d[5];
		int32_t bad_at;
	} cases[] = {
	        {{1, 2, 3, 4, 5}, 0},  /* starts at 1 */
	        {{0, 2, 3, 4, 5}, 1},  /* gap */
	        {{0, 1, 1, 3, 4}, 2},  /* duplicate */
	        {{0, 1, 3, 2, 4}, 2},  /* out of order */
	        {{0, 1, 2, 3, 3}, 4},  /* last wrong */
	        {{0, 1, 2, 3, -4}, 4}, /* negative */
	        {{0, -1, 2, 3, 4}, 1}, {{0, 1, 2, INT32_MAX, 4}, 3},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enc_deltas(&e, cases[i].d, 5);
		bad = 99;
		assert_int_equal(validate_exact(e.e_buf, e.e_len, 5, 4, &bad), RL_EINVAL_RECORD);
		assert_int_equal(bad, cases[i].bad_at);
		/* The iterator itself does not judge deltas (compacted batches have
		 * gaps); only the producer rules do. */
		int seen;
		assert_int_equal(iterate_exact(e.e_buf, e.e_len, 5, &seen), 0);
	}
}

static void test_validate_batch_level_rules(void **state)
{
	(void)state;
	struct enc e;
	static const int32_t good[] = {0, 1, 2};
	enc_deltas(&e, good, 3);
	int32_t bad;

	/* lastOffsetDelta must be count - 1 for a fresh batch. */
	const int32_t lods[] = {0, 1, 3, 100, -1, INT32_MIN};
	for (size_t i = 0; i < sizeof(lods) / sizeof(lods[0]); i++) {
		bad = 99;
		assert_int_equal(validate_exact(e.e_buf, e.e_len, 3, lods[i], &bad),
		                 RL_EINVAL_BATCH);
		assert_int_equal(bad, -1);
	}
	/* A producer batch has records. */
	bad = 99;
	assert_int_equal(validate_exact(NULL, 0, 0, -1, &bad), RL_EINVAL_BATCH);
	assert_int_equal(bad, -1);
	assert_int_equal(validate_exact(NULL, 0, 0, 0, &bad), RL_EINVAL_BATCH);
	assert_int_equal(validate_exact(e.e_buf, e.e_len, -1, -2, &bad), RL_EINVAL_BATCH);
	assert_int_equal(validate_exact(e.e_buf, e.e_len, INT32_MIN, INT32_MAX, &bad),
	                 RL_EINVAL_BATCH);

	/* Count disagrees with the bytes (lastOffsetDelta kept consistent). */
	bad = 99;
	assert_int_equal(validate_exact(e.e_buf, e.e_len, 4, 3, &bad), RL_ETRUNCATED);
	assert_int_equal(bad, 3);
	bad = 99;
	assert_int_equal(validate_exact(e.e_buf, e.e_len, 2, 1, &bad), RL_EINVAL_RECORD);
	assert_int_equal(bad, 2); /* the record that should not be there */
	/* Trailing garbage after the last record. */
	enc_byte(&e, 0x42);
	bad = 99;
	assert_int_equal(validate_exact(e.e_buf, e.e_len, 3, 2, &bad), RL_EINVAL_RECORD);
	assert_int_equal(bad, 3);
}

/* Every prefix of a valid region is RL_ETRUNCATED (a record cut short or
 * records missing), never accepted and never read past. */
static void test_every_truncation_refused(void **state)
{
	(void)state;
	struct enc e;
	int32_t n = (int32_t)encode_mixed(&e);
	for (size_t cut = 0; cut < e.e_len; cut++) {
		int32_t bad = 99;
		int rc = validate_exact(e.e_buf, cut, n, n - 1, &bad);
		if (rc != RL_ETRUNCATED)
			fail_msg("prefix %zu/%zu: %s", cut, e.e_len, rl_strerror(rc));
		assert_true(bad >= 0 && bad < n);
	}
	assert_int_equal(validate_exact(e.e_buf, e.e_len, n, n - 1, NULL), 0);
}

/* Any single byte changed to any value: the walk stays in bounds (ASan)
 * and either fails cleanly or accepts something self-consistent. */
static void test_every_byte_mutation_is_safe(void **state)
{
	(void)state;
	struct enc e;
	int32_t n = (int32_t)encode_mixed(&e);
	int refused = 0, accepted = 0;
	for (size_t i = 0; i < e.e_len; i++) {
		uint8_t orig = e.e_buf[i];
		for (int v = 0; v < 256; v += 3) {
			e.e_buf[i] = (uint8_t)v;
			int seen;
			int rc = iterate_exact(e.e_buf, e.e_len, n, &seen);
			assert_true(rc == 0 || rc == RL_ETRUNCATED || rc == RL_EINVAL_RECORD);
			if (rc == 0)
				assert_int_equal(seen, n);
			rc == 0 ? accepted++ : refused++;
			int vr = validate_exact(e.e_buf, e.e_len, n, n - 1, NULL);
			assert_true(vr == 0 || vr == RL_ETRUNCATED || vr == RL_EINVAL_RECORD);
		}
		e.e_buf[i] = orig;
	}
	assert_true(refused > 0 && accepted > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_capture_kafka_python_record),
	        cmocka_unit_test(test_capture_librdkafka_records),
	        cmocka_unit_test(test_null_empty_and_headers),
	        cmocka_unit_test(test_empty_region),
	        cmocka_unit_test(test_malformed_records),
	        cmocka_unit_test(test_count_mismatch),
	        cmocka_unit_test(test_header_iter_bounds),
	        cmocka_unit_test(test_validate_offset_deltas),
	        cmocka_unit_test(test_validate_batch_level_rules),
	        cmocka_unit_test(test_every_truncation_refused),
	        cmocka_unit_test(test_every_byte_mutation_is_safe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
