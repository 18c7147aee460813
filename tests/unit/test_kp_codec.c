/* Description: Kafka wire primitives (kp_codec, kp_arena), each cut at every byte. */
/*
 * Fixed-size ints, unsigned and signed varints, classic and compact strings,
 * bytes and arrays (nullable and not), tagged-field sections, the writer's
 * caps, framing and the arena. Decoders read from heap copies of exactly the
 * bytes given, so ASan flags any read past them.
 */
#include "testutil.h"

#include <errno.h>

#include "batch.h"
#include "kp_arena.h"
#include "kp_codec.h"
#include "rlerr.h"

/* A heap copy of exactly len bytes, so ASan reports any read past it. */
static uint8_t *exact_copy(const uint8_t *bytes, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	if (len)
		memcpy(copy, bytes, len);
	return copy;
}

/* ------------------------------------------------ every primitive, cut */

typedef void (*read_fn)(struct kp_reader *r);

static void rd_int8(struct kp_reader *r)
{
	(void)kp_read_int8(r);
}
static void rd_int16(struct kp_reader *r)
{
	(void)kp_read_int16(r);
}
static void rd_int32(struct kp_reader *r)
{
	(void)kp_read_int32(r);
}
static void rd_int64(struct kp_reader *r)
{
	(void)kp_read_int64(r);
}
static void rd_uint32(struct kp_reader *r)
{
	(void)kp_read_uint32(r);
}
static void rd_bool(struct kp_reader *r)
{
	(void)kp_read_bool(r);
}
static void rd_uuid(struct kp_reader *r)
{
	(void)kp_read_uuid(r);
}
static void rd_uvarint(struct kp_reader *r)
{
	(void)kp_read_uvarint(r);
}
static void rd_varint(struct kp_reader *r)
{
	(void)kp_read_varint(r);
}
static void rd_varlong(struct kp_reader *r)
{
	(void)kp_read_varlong(r);
}
static void rd_string(struct kp_reader *r)
{
	(void)kp_read_string(r);
}
static void rd_nullable_string(struct kp_reader *r)
{
	(void)kp_read_nullable_string(r);
}
static void rd_bytes(struct kp_reader *r)
{
	(void)kp_read_bytes(r);
}
static void rd_records(struct kp_reader *r)
{
	(void)kp_read_records(r);
}
static void rd_int32_array(struct kp_reader *r)
{
	int32_t n;
	(void)kp_read_int32_array(r, true, &n);
}
static void rd_string_array(struct kp_reader *r)
{
	int32_t n;
	(void)kp_read_string_array(r, false, &n);
}
static void rd_tags(struct kp_reader *r)
{
	(void)kp_read_tags(r);
}

struct prim_case {
	const char *pc_name;
	read_fn pc_read;
	bool pc_flexible;
	size_t pc_len;
	uint8_t pc_bytes[40];
};

static const struct prim_case prim_cases[] = {
	{"int8", rd_int8, false, 1, {0x80}},
	{"int16", rd_int16, false, 2, {0x80, 0x01}},
	{"int32", rd_int32, false, 4, {0xff, 0xff, 0xff, 0xfe}},
	{"int64", rd_int64, false, 8, {1, 2, 3, 4, 5, 6, 7, 8}},
	{"uint32", rd_uint32, false, 4, {0xff, 0, 0, 1}},
	{"bool", rd_bool, false, 1, {1}},
	{"uuid", rd_uuid, false, 16, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}},
	{"uvarint max", rd_uvarint, false, 5, {0xff, 0xff, 0xff, 0xff, 0x0f}},
	{"varint", rd_varint, false, 3, {0x80, 0x80, 0x01}},
	{"varlong",
	 rd_varlong,
	 false,
	 10,
	 {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
	{"classic string", rd_string, false, 5, {0, 3, 'a', 'b', 'c'}},
	{"classic null string", rd_nullable_string, false, 2, {0xff, 0xff}},
	{"compact string", rd_string, true, 4, {4, 'a', 'b', 'c'}},
	{"compact null string", rd_nullable_string, true, 1, {0}},
	{"classic bytes", rd_bytes, false, 6, {0, 0, 0, 2, 9, 9}},
	{"compact bytes", rd_bytes, true, 3, {3, 9, 9}},
	{"classic records", rd_records, false, 5, {0, 0, 0, 1, 7}},
	{"classic null records", rd_records, false, 4, {0xff, 0xff, 0xff, 0xff}},
	{"compact records", rd_records, true, 2, {2, 7}},
	{"classic int32 array", rd_int32_array, false, 12, {0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2}},
	{"classic null array", rd_int32_array, false, 4, {0xff, 0xff, 0xff, 0xff}},
	{"compact int32 array", rd_int32_array, true, 5, {2, 0, 0, 0, 1}},
	{"compact string array", rd_string_array, true, 5, {3, 2, 'x', 2, 'y'}},
	{"classic string array", rd_string_array, false, 9, {0, 0, 0, 1, 0, 3, 'a', 'b', 'c'}},
	{"empty tags", rd_tags, true, 1, {0}},
	{"two tags", rd_tags, true, 8, {2, 0, 1, 0xaa, 5, 2, 0xbb, 0xcc}},
};

static void test_every_truncation_point(void **state)
{
	(void)state;
	uint8_t mem[256];
	struct kp_arena arena;
	for (size_t c = 0; c < sizeof(prim_cases) / sizeof(prim_cases[0]); c++) {
		const struct prim_case *pc = &prim_cases[c];
		for (size_t len = 0; len <= pc->pc_len; len++) {
			uint8_t *buf = exact_copy(pc->pc_bytes, len);
			struct kp_reader r;
			kp_arena_init(&arena, mem, sizeof(mem));
			kp_reader_init(&r, buf, len, &arena);
			r.kr_flexible = pc->pc_flexible;
			pc->pc_read(&r);
			if (len == pc->pc_len) {
				if (kp_reader_finish(&r) != 0)
					fail_msg("%s: full decode failed: %s", pc->pc_name,
						 kp_strerror(r.kr_err));
			} else if (r.kr_err != KP_ETRUNCATED) {
				fail_msg("%s cut at %zu: got %d", pc->pc_name, len, r.kr_err);
			}
			free(buf);
		}
	}
}

/* ---------------------------------------------------- fixed-size ints */

static void test_fixed_ints_known_bytes(void **state)
{
	(void)state;
	uint8_t out[64];
	struct kp_writer w;
	kp_writer_init_fixed(&w, out, sizeof(out));
	kp_write_int8(&w, -2);
	kp_write_int16(&w, -300);
	kp_write_int32(&w, 0x01020304);
	kp_write_int64(&w, -1);
	kp_write_uint32(&w, 0xdeadbeef);
	kp_write_bool(&w, true);
	kp_write_bool(&w, false);
	struct kp_uuid u;
	for (int i = 0; i < 16; i++)
		u.bytes[i] = (uint8_t)(0xa0 + i);
	kp_write_uuid(&w, &u);
	assert_int_equal(kp_writer_error(&w), 0);
	static const uint8_t expect[] = {0xfe, 0xfe, 0xd4, 1,	 2,    3,    4,
					 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					 0xff, 0xde, 0xad, 0xbe, 0xef, 1,    0};
	assert_int_equal(w.kw_len, sizeof(expect) + 16);
	assert_memory_equal(out, expect, sizeof(expect));

	struct kp_reader r;
	kp_reader_init(&r, out, w.kw_len, NULL);
	assert_int_equal(kp_read_int8(&r), -2);
	assert_int_equal(kp_read_int16(&r), -300);
	assert_int_equal(kp_read_int32(&r), 0x01020304);
	assert_true(kp_read_int64(&r) == -1);
	assert_true(kp_read_uint32(&r) == 0xdeadbeefu);
	assert_true(kp_read_bool(&r));
	assert_false(kp_read_bool(&r));
	struct kp_uuid back = kp_read_uuid(&r);
	assert_memory_equal(back.bytes, u.bytes, 16);
	assert_int_equal(kp_reader_finish(&r), 0);
}

static void test_bool_any_nonzero_is_true(void **state)
{
	(void)state;
	uint8_t b[] = {0x02, 0xff, 0x00};
	struct kp_reader r;
	kp_reader_init(&r, b, sizeof(b), NULL);
	assert_true(kp_read_bool(&r));
	assert_true(kp_read_bool(&r));
	assert_false(kp_read_bool(&r));
}

/* After the first failure, reads return zero values and never move. */
static void test_reader_error_is_sticky(void **state)
{
	(void)state;
	uint8_t b[] = {0x00, 0x09, 'a', 0, 0, 0, 7};
	struct kp_reader r;
	kp_reader_init(&r, b, sizeof(b), NULL);
	struct kp_str s = kp_read_string(&r); /* length 9, 5 bytes there */
	assert_int_equal(r.kr_err, KP_ETRUNCATED);
	assert_int_equal(s.len, 0);
	uint8_t *pos = r.kr_pos;
	assert_int_equal(kp_read_int8(&r), 0);
	assert_int_equal(kp_read_int32(&r), 0);
	assert_int_equal(kp_read_uvarint(&r), 0);
	assert_ptr_equal(r.kr_pos, pos);
	assert_int_equal(kp_reader_finish(&r), KP_ETRUNCATED);
	assert_int_equal(kp_reader_fail(&r, KP_EMALFORMED), KP_ETRUNCATED);
}

static void test_trailing_bytes_reported(void **state)
{
	(void)state;
	uint8_t b[] = {0, 0, 0, 1, 0xee};
	struct kp_reader r;
	kp_reader_init(&r, b, sizeof(b), NULL);
	assert_int_equal(kp_read_int32(&r), 1);
	assert_int_equal(kp_reader_finish(&r), KP_ETRAILING);
	assert_int_equal(r.kr_err, 0);
}

/* ------------------------------------------------------------ varints */

static void test_uvarint_edges(void **state)
{
	(void)state;
	static const struct {
		uint32_t v;
		uint8_t bytes[5];
		size_t len;
	} known[] = {
		{0, {0x00}, 1},
		{1, {0x01}, 1},
		{127, {0x7f}, 1},
		{128, {0x80, 0x01}, 2},
		{16383, {0xff, 0x7f}, 2},
		{16384, {0x80, 0x80, 0x01}, 3},
		{0x0fffffff, {0xff, 0xff, 0xff, 0x7f}, 4},
		{0x10000000, {0x80, 0x80, 0x80, 0x80, 0x01}, 5},
		{UINT32_MAX, {0xff, 0xff, 0xff, 0xff, 0x0f}, 5},
	};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		uint8_t out[8];
		struct kp_writer w;
		kp_writer_init_fixed(&w, out, sizeof(out));
		kp_write_uvarint(&w, known[i].v);
		assert_int_equal(w.kw_len, known[i].len);
		assert_memory_equal(out, known[i].bytes, known[i].len);
		uint8_t *buf = exact_copy(known[i].bytes, known[i].len);
		struct kp_reader r;
		kp_reader_init(&r, buf, known[i].len, NULL);
		assert_true(kp_read_uvarint(&r) == known[i].v);
		assert_int_equal(kp_reader_finish(&r), 0);
		free(buf);
	}
}

static void test_uvarint_overlong_and_overflow(void **state)
{
	(void)state;
	/* A sixth byte, and a fifth byte with more than 4 bits. */
	uint8_t overlong[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
	uint8_t overflow[] = {0xff, 0xff, 0xff, 0xff, 0x1f};
	struct kp_reader r;
	kp_reader_init(&r, overlong, sizeof(overlong), NULL);
	(void)kp_read_uvarint(&r);
	assert_int_equal(r.kr_err, KP_EMALFORMED);
	kp_reader_init(&r, overflow, sizeof(overflow), NULL);
	(void)kp_read_uvarint(&r);
	assert_int_equal(r.kr_err, KP_EMALFORMED);
	/* Non-minimal but within 5 bytes is accepted, as Kafka does. */
	uint8_t nonmin[] = {0x80, 0x00};
	kp_reader_init(&r, nonmin, sizeof(nonmin), NULL);
	assert_int_equal(kp_read_uvarint(&r), 0);
	assert_int_equal(kp_reader_finish(&r), 0);
}

static void test_signed_varints_roundtrip(void **state)
{
	(void)state;
	static const int64_t values[] = {0,  -1,	1,	   -64,	      63,
					 64, INT32_MIN, INT32_MAX, INT64_MIN, INT64_MAX};
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		uint8_t out[32];
		struct kp_writer w;
		kp_writer_init_fixed(&w, out, sizeof(out));
		bool fits32 = values[i] >= INT32_MIN && values[i] <= INT32_MAX;
		if (fits32)
			kp_write_varint(&w, (int32_t)values[i]);
		kp_write_varlong(&w, values[i]);
		assert_int_equal(kp_writer_error(&w), 0);
		struct kp_reader r;
		kp_reader_init(&r, out, w.kw_len, NULL);
		if (fits32)
			assert_true(kp_read_varint(&r) == values[i]);
		assert_true(kp_read_varlong(&r) == values[i]);
		assert_int_equal(kp_reader_finish(&r), 0);
	}
}

/* ------------------------------------------------------------ strings */

static struct kp_str read_str(const uint8_t *bytes, size_t len, bool flexible, bool nullable,
			      int *err)
{
	static uint8_t keep[64];
	assert_true(len <= sizeof(keep));
	memcpy(keep, bytes, len);
	struct kp_reader r;
	kp_reader_init(&r, keep, len, NULL);
	r.kr_flexible = flexible;
	struct kp_str s = nullable ? kp_read_nullable_string(&r) : kp_read_string(&r);
	*err = kp_reader_finish(&r);
	return s;
}

static void test_classic_strings(void **state)
{
	(void)state;
	int err;
	struct kp_str s = read_str((const uint8_t *)"\xff\xff", 2, false, true, &err);
	assert_int_equal(err, 0);
	assert_int_equal(s.len, -1);
	assert_null(s.ptr);
	s = read_str((const uint8_t *)"\x00\x00", 2, false, false, &err);
	assert_int_equal(err, 0);
	assert_int_equal(s.len, 0);
	assert_non_null(s.ptr); /* empty is not null */
	s = read_str((const uint8_t *)"\x00\x03"
				      "abc",
		     5, false, false, &err);
	assert_int_equal(err, 0);
	assert_true(kp_str_eq_cstr(s, "abc"));
	/* null into a non-nullable string, and lengths below -1 */
	(void)read_str((const uint8_t *)"\xff\xff", 2, false, false, &err);
	assert_int_equal(err, KP_EMALFORMED);
	(void)read_str((const uint8_t *)"\xff\xfe", 2, false, true, &err);
	assert_int_equal(err, KP_EMALFORMED);
	(void)read_str((const uint8_t *)"\x80\x00", 2, false, true, &err);
	assert_int_equal(err, KP_EMALFORMED);
	/* length past the end */
	(void)read_str((const uint8_t *)"\x00\x04"
					"abc",
		       5, false, false, &err);
	assert_int_equal(err, KP_ETRUNCATED);
}

static void test_compact_strings(void **state)
{
	(void)state;
	int err;
	struct kp_str s = read_str((const uint8_t *)"\x00", 1, true, true, &err);
	assert_int_equal(err, 0);
	assert_int_equal(s.len, -1);
	s = read_str((const uint8_t *)"\x01", 1, true, false, &err);
	assert_int_equal(err, 0);
	assert_int_equal(s.len, 0);
	s = read_str((const uint8_t *)"\x0b"
				      "librdkafka",
		     11, true, false, &err);
	assert_int_equal(err, 0);
	assert_true(kp_str_eq_cstr(s, "librdkafka"));
	(void)read_str((const uint8_t *)"\x00", 1, true, false, &err);
	assert_int_equal(err, KP_EMALFORMED);
	/* compact length 32768 (uvarint 32769) is above any string */
	(void)read_str((const uint8_t *)"\x81\x80\x02", 3, true, false, &err);
	assert_int_equal(err, KP_EMALFORMED);
	(void)read_str((const uint8_t *)"\x05"
					"abc",
		       4, true, false, &err);
	assert_int_equal(err, KP_ETRUNCATED);
}

static void test_string_write_rules(void **state)
{
	(void)state;
	struct kp_writer w;
	kp_writer_init(&w, 1 << 20);
	char *big = malloc(KP_STRING_MAX + 1);
	assert_non_null(big);
	memset(big, 'x', KP_STRING_MAX + 1);
	struct kp_str max = {big, KP_STRING_MAX};
	struct kp_str over = {big, KP_STRING_MAX + 1};
	kp_write_string(&w, max);
	w.kw_flexible = true;
	kp_write_string(&w, max);
	assert_int_equal(kp_writer_error(&w), 0);
	assert_int_equal(w.kw_len, 2 + KP_STRING_MAX + 3 + KP_STRING_MAX);
	/* and both read back */
	struct kp_reader r;
	kp_reader_init(&r, w.kw_buf, w.kw_len, NULL);
	assert_int_equal(kp_read_string(&r).len, KP_STRING_MAX);
	r.kr_flexible = true;
	assert_int_equal(kp_read_string(&r).len, KP_STRING_MAX);
	assert_int_equal(kp_reader_finish(&r), 0);

	kp_writer_reset(&w);
	kp_write_string(&w, over);
	assert_int_equal(kp_writer_error(&w), KP_EINVAL);
	kp_writer_reset(&w);
	kp_write_string(&w, KP_STR_NULL);
	assert_int_equal(kp_writer_error(&w), KP_EINVAL);
	kp_writer_reset(&w);
	kp_write_string(&w, (struct kp_str){NULL, 3});
	assert_int_equal(kp_writer_error(&w), KP_EINVAL);
	kp_writer_reset(&w);
	kp_write_nullable_string(&w, (struct kp_str){"x", -2});
	assert_int_equal(kp_writer_error(&w), KP_EINVAL);

	/* the exact bytes of each form */
	kp_writer_reset(&w);
	w.kw_flexible = false;
	kp_write_nullable_string(&w, KP_STR_NULL);
	kp_write_string(&w, KP_STR("ab"));
	w.kw_flexible = true;
	kp_write_nullable_string(&w, KP_STR_NULL);
	kp_write_string(&w, KP_STR(""));
	kp_write_string(&w, KP_STR("ab"));
	static const uint8_t expect[] = {0xff, 0xff, 0, 2, 'a', 'b', 0, 1, 3, 'a', 'b'};
	assert_int_equal(w.kw_len, sizeof(expect));
	assert_memory_equal(w.kw_buf, expect, sizeof(expect));
	kp_writer_deinit(&w);
	free(big);
}

/* ------------------------------------------------------ bytes, records */

static void test_bytes_and_records(void **state)
{
	(void)state;
	uint8_t out[64];
	struct kp_writer w;
	kp_writer_init_fixed(&w, out, sizeof(out));
	static const uint8_t payload[] = {1, 2, 3};
	kp_write_bytes(&w, (struct kp_bytes){payload, 3});
	kp_write_nullable_bytes(&w, KP_BYTES_NULL);
	kp_write_records(&w, KP_RECORDS_NULL);
	w.kw_flexible = true;
	kp_write_bytes(&w, (struct kp_bytes){payload, 3});
	kp_write_nullable_bytes(&w, KP_BYTES_NULL);
	kp_write_bytes(&w, (struct kp_bytes){NULL, 0});
	assert_int_equal(kp_writer_error(&w), 0);
	static const uint8_t expect[] = {0,    0,    0,	   3,	 1, 2, 3, 0xff, 0xff, 0xff, 0xff,
					 0xff, 0xff, 0xff, 0xff, 4, 1, 2, 3,	0,    1};
	assert_int_equal(w.kw_len, sizeof(expect));
	assert_memory_equal(out, expect, sizeof(expect));

	struct kp_reader r;
	kp_reader_init(&r, out, w.kw_len, NULL);
	struct kp_bytes b = kp_read_bytes(&r);
	assert_int_equal(b.len, 3);
	assert_ptr_equal(b.ptr, out + 4); /* a view, not a copy */
	assert_int_equal(kp_read_nullable_bytes(&r).len, -1);
	struct kp_records rec = kp_read_records(&r);
	assert_int_equal(rec.len, -1);
	r.kr_flexible = true;
	struct kp_records rec2 = kp_read_records(&r);
	assert_int_equal(rec2.len, 3);
	rec2.ptr[0] = 9; /* writable in place */
	assert_int_equal(out[16], 9);
	assert_int_equal(kp_read_nullable_bytes(&r).len, -1);
	assert_int_equal(kp_read_bytes(&r).len, 0);
	assert_int_equal(kp_reader_finish(&r), 0);

	/* null into non-nullable bytes; a classic length below -1 */
	uint8_t bad1[] = {0xff, 0xff, 0xff, 0xff};
	kp_reader_init(&r, bad1, sizeof(bad1), NULL);
	(void)kp_read_bytes(&r);
	assert_int_equal(r.kr_err, KP_EMALFORMED);
	uint8_t bad2[] = {0xff, 0xff, 0xff, 0xfe};
	kp_reader_init(&r, bad2, sizeof(bad2), NULL);
	(void)kp_read_records(&r);
	assert_int_equal(r.kr_err, KP_EMALFORMED);
	/* a compact length above INT32_MAX */
	uint8_t bad3[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
	kp_reader_init(&r, bad3, sizeof(bad3), NULL);
	r.kr_flexible = true;
	(void)kp_read_bytes(&r);
	assert_int_equal(r.kr_err, KP_EMALFORMED);
}

/* ------------------------------------------------------------- arrays */

static void test_array_counts(void **state)
{
	(void)state;
	uint8_t mem[512];
	struct kp_arena arena;
	kp_arena_init(&arena, mem, sizeof(mem));
	struct kp_reader r;
	int32_t n;

	uint8_t null_classic[] = {0xff, 0xff, 0xff, 0xff};
	kp_reader_init(&r, null_classic, 4, &arena);
	assert_null(kp_read_int32_array(&r, true, &n));
	assert_int_equal(n, -1);
	assert_int_equal(kp_reader_finish(&r), 0);
	kp_reader_init(&r, null_classic, 4, &arena);
	(void)kp_read_int32_array(&r, false, &n);
	assert_int_equal(r.kr_err, KP_EMALFORMED);
	assert_int_equal(n, 0);

	uint8_t minus2[] = {0xff, 0xff, 0xff, 0xfe};
	kp_reader_init(&r, minus2, 4, &arena);
	(void)kp_read_array_count(&r, true, 1);
	assert_int_equal(r.kr_err, KP_EMALFORMED);

	uint8_t compact[] = {0x00, 0x01, 0x03, 0, 0, 0, 7, 0, 0, 0, 8};
	kp_reader_init(&r, compact, sizeof(compact), &arena);
	r.kr_flexible = true;
	assert_null(kp_read_int32_array(&r, true, &n));
	assert_int_equal(n, -1);
	assert_null(kp_read_int32_array(&r, false, &n));
	assert_int_equal(n, 0);
	int32_t *v = kp_read_int32_array(&r, false, &n);
	assert_int_equal(n, 2);
	assert_int_equal(v[0], 7);
	assert_int_equal(v[1], 8);
	assert_int_equal(kp_reader_finish(&r), 0);

	/* A count the remaining bytes cannot hold is refused before any
	 * allocation: 1,000,000 int32s in 8 bytes. */
	uint8_t huge[] = {0x00, 0x0f, 0x42, 0x40, 0, 0, 0, 1, 0, 0, 0, 2};
	size_t used = kp_arena_used(&arena);
	kp_reader_init(&r, huge, sizeof(huge), &arena);
	(void)kp_read_int32_array(&r, false, &n);
	assert_int_equal(r.kr_err, KP_ETRUNCATED);
	assert_int_equal(kp_arena_used(&arena), used);
	/* Same for an INT32_MAX count of 1-byte elements. */
	uint8_t max[] = {0x7f, 0xff, 0xff, 0xff, 0};
	kp_reader_init(&r, max, sizeof(max), &arena);
	(void)kp_read_array_count(&r, false, 1);
	assert_int_equal(r.kr_err, KP_ETRUNCATED);
}

static void test_arena_exhaustion_is_an_error(void **state)
{
	(void)state;
	/* 4 int32s fit the frame but not a 12-byte arena. */
	uint8_t frame[] = {0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4};
	uint8_t mem[12];
	struct kp_arena arena;
	kp_arena_init(&arena, mem, sizeof(mem));
	struct kp_reader r;
	int32_t n;
	kp_reader_init(&r, frame, sizeof(frame), &arena);
	assert_null(kp_read_int32_array(&r, false, &n));
	assert_int_equal(r.kr_err, KP_EARENA);
	assert_int_equal(n, 0);
	/* No arena at all: same answer, never a malloc. */
	kp_reader_init(&r, frame, sizeof(frame), NULL);
	assert_null(kp_read_int32_array(&r, false, &n));
	assert_int_equal(r.kr_err, KP_EARENA);
}

static void test_arrays_write(void **state)
{
	(void)state;
	uint8_t out[128];
	struct kp_writer w;
	kp_writer_init_fixed(&w, out, sizeof(out));
	static const int32_t i32[] = {1, -1};
	static const int64_t i64[] = {INT64_MIN};
	static const struct kp_str strs[] = {KP_STR("a"), KP_STR("")};
	kp_write_int32_array(&w, false, i32, 2);
	kp_write_int32_array(&w, true, NULL, -1);
	kp_write_int64_array(&w, false, i64, 1);
	w.kw_flexible = true;
	kp_write_string_array(&w, false, strs, 2);
	kp_write_int32_array(&w, true, NULL, -1);
	kp_write_int32_array(&w, false, NULL, 0);
	assert_int_equal(kp_writer_error(&w), 0);
	static const uint8_t expect[] = {
		0, 0, 0, 2,    0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0,
		0, 0, 1, 0x80, 0, 0, 0, 0, 0,	 0,    0,    3,	   2,	 'a',  1,    0,	   1};
	assert_int_equal(w.kw_len, sizeof(expect));
	assert_memory_equal(out, expect, sizeof(expect));

	kp_writer_reset(&w);
	kp_write_int32_array(&w, false, NULL, -1); /* not nullable */
	assert_int_equal(kp_writer_error(&w), KP_EINVAL);
	kp_writer_reset(&w);
	kp_write_int32_array(&w, false, NULL, 3); /* count without elements */
	assert_int_equal(kp_writer_error(&w), KP_EINVAL);
	kp_writer_reset(&w);
	assert_false(kp_write_array_begin(&w, NULL, 1, true));
	kp_writer_reset(&w);
	w.kw_flexible = false;
	assert_true(kp_write_array_begin(&w, NULL, -1, true));
	assert_int_equal(w.kw_len, 4);
}

/* ------------------------------------------------------- tagged fields */

static void test_tags_build_read_iterate(void **state)
{
	(void)state;
	uint8_t out[64];
	struct kp_writer w;
	kp_writer_init_fixed(&w, out, sizeof(out));
	w.kw_flexible = true;
	static const uint8_t d0[] = {0xaa};
	static const uint8_t d1[] = {0xbb, 0xcc};
	const struct kp_tag_field fields[] = {
		{0, {d0, 1}},
		{300, {d1, 2}},
		{301, {NULL, 0}},
	};
	kp_write_tag_fields(&w, fields, 3);
	kp_write_int8(&w, 0x5a); /* what follows the section */
	kp_write_tag_fields(&w, NULL, 0);
	assert_int_equal(kp_writer_error(&w), 0);
	static const uint8_t expect[] = {3,    0,    1,	   0xaa, 0xac, 0x02, 2,
					 0xbb, 0xcc, 0xad, 0x02, 0,    0x5a, 0};
	assert_int_equal(w.kw_len, sizeof(expect));
	assert_memory_equal(out, expect, sizeof(expect));

	struct kp_reader r;
	kp_reader_init(&r, out, w.kw_len, NULL);
	struct kp_tags t = kp_read_tags(&r);
	assert_int_equal(t.len, 12);
	assert_ptr_equal(t.ptr, out);
	/* the unknown fields were skipped: the next byte is what follows */
	assert_int_equal(kp_read_int8(&r), 0x5a);
	struct kp_tags empty = kp_read_tags(&r);
	assert_int_equal(empty.len, 0);
	assert_null(empty.ptr);
	assert_int_equal(kp_reader_finish(&r), 0);

	struct kp_tags_iter it;
	struct kp_tag_field f;
	kp_tags_iter_init(&it, t);
	assert_int_equal(kp_tags_next(&it, &f), 1);
	assert_int_equal(f.tag, 0);
	assert_true(kp_bytes_eq(f.data, (struct kp_bytes){d0, 1}));
	assert_int_equal(kp_tags_next(&it, &f), 1);
	assert_int_equal(f.tag, 300);
	assert_true(kp_bytes_eq(f.data, (struct kp_bytes){d1, 2}));
	assert_int_equal(kp_tags_next(&it, &f), 1);
	assert_int_equal(f.tag, 301);
	assert_int_equal(f.data.len, 0);
	assert_int_equal(kp_tags_next(&it, &f), 0);
	kp_tags_iter_init(&it, empty);
	assert_int_equal(kp_tags_next(&it, &f), 0);

	/* re-encoding the raw section gives the same bytes */
	uint8_t again[32];
	kp_writer_init_fixed(&w, again, sizeof(again));
	kp_write_tags(&w, t);
	kp_write_tags(&w, KP_TAGS_EMPTY);
	assert_int_equal(w.kw_len, 13);
	assert_memory_equal(again, out, 12);
	assert_int_equal(again[12], 0);
}

static void test_tags_refused(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		uint8_t bytes[12];
		size_t len;
		int err;
	} bad[] = {
		{"out of order", {2, 5, 0, 4, 0}, 5, KP_EMALFORMED},
		{"duplicate", {2, 4, 0, 4, 0}, 5, KP_EMALFORMED},
		{"size past end", {1, 0, 5, 1, 2}, 5, KP_ETRUNCATED},
		{"count past end", {9, 0, 0}, 3, KP_ETRUNCATED},
		{"bad tag varint", {1, 0xff, 0xff, 0xff, 0xff, 0x7f, 0}, 7, KP_EMALFORMED},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t *buf = exact_copy(bad[i].bytes, bad[i].len);
		struct kp_reader r;
		kp_reader_init(&r, buf, bad[i].len, NULL);
		struct kp_tags t = kp_read_tags(&r);
		if (r.kr_err != bad[i].err)
			fail_msg("%s: got %d", bad[i].name, r.kr_err);
		assert_int_equal(t.len, 0);
		free(buf);
	}
	/* writer side: fields out of order */
	uint8_t out[16];
	struct kp_writer w;
	kp_writer_init_fixed(&w, out, sizeof(out));
	const struct kp_tag_field fields[] = {{2, {NULL, 0}}, {1, {NULL, 0}}};
	kp_write_tag_fields(&w, fields, 2);
	assert_int_equal(kp_writer_error(&w), KP_EINVAL);
	/* iterator on a damaged section */
	static const uint8_t broken[] = {2, 0, 9, 1};
	struct kp_tags_iter it;
	struct kp_tag_field f;
	kp_tags_iter_init(&it, (struct kp_tags){broken, 4});
	assert_int_equal(kp_tags_next(&it, &f), KP_EMALFORMED);
}

/* ------------------------------------------------------------- writer */

static void test_fixed_writer_cap(void **state)
{
	(void)state;
	uint8_t out[6];
	struct kp_writer w;
	kp_writer_init_fixed(&w, out, sizeof(out));
	kp_write_int32(&w, 1);
	kp_write_int32(&w, 2); /* does not fit */
	assert_int_equal(kp_writer_error(&w), KP_ETOO_LARGE);
	assert_int_equal(w.kw_len, 4);
	kp_write_int8(&w, 3); /* would fit, but the error is sticky */
	assert_int_equal(w.kw_len, 4);
	kp_writer_reset(&w);
	assert_int_equal(kp_writer_error(&w), 0);
	kp_write_int16(&w, 7);
	assert_int_equal(w.kw_len, 2);
}

static void test_growable_writer(void **state)
{
	(void)state;
	struct kp_writer w;
	kp_writer_init(&w, 10000);
	for (int i = 0; i < 2500; i++)
		kp_write_int32(&w, i);
	assert_int_equal(kp_writer_error(&w), 0);
	assert_int_equal(w.kw_len, 10000);
	assert_true(w.kw_size <= 10000);
	for (int i = 0; i < 2500; i++)
		assert_int_equal((int32_t)be32_load(w.kw_buf + 4 * i), i);
	kp_write_int8(&w, 1);
	assert_int_equal(kp_writer_error(&w), KP_ETOO_LARGE);
	kp_writer_deinit(&w);

	kp_writer_init(&w, 3);
	kp_write_int32(&w, 1);
	assert_int_equal(kp_writer_error(&w), KP_ETOO_LARGE);
	kp_writer_deinit(&w);
}

static void test_frames(void **state)
{
	(void)state;
	uint8_t out[32];
	struct kp_writer w;
	kp_writer_init_fixed(&w, out, sizeof(out));
	size_t mark = kp_write_frame_begin(&w);
	kp_write_int16(&w, 18);
	kp_write_int16(&w, 0);
	kp_write_int32(&w, 7);
	kp_write_frame_end(&w, mark);
	assert_int_equal(kp_writer_error(&w), 0);
	static const uint8_t expect[] = {0, 0, 0, 8, 0, 18, 0, 0, 0, 0, 0, 7};
	assert_int_equal(w.kw_len, sizeof(expect));
	assert_memory_equal(out, expect, sizeof(expect));

	assert_int_equal(kp_frame_size(out, 12, 100), 8);
	for (size_t len = 0; len < 4; len++)
		assert_int_equal(kp_frame_size(out, len, 100), KP_ETRUNCATED);
	assert_int_equal(kp_frame_size(out, 4, 7), KP_ETOO_LARGE);
	static const uint8_t neg[] = {0x80, 0, 0, 0};
	assert_int_equal(kp_frame_size(neg, 4, INT32_MAX), KP_EMALFORMED);
	static const uint8_t zero[] = {0, 0, 0, 0};
	assert_int_equal(kp_frame_size(zero, 4, 100), 0);
}

/* -------------------------------------------------------------- arena */

static void test_arena(void **state)
{
	(void)state;
	uint8_t mem[64 + 1];
	struct kp_arena a;
	kp_arena_init(&a, mem + 1, 64); /* a misaligned block */
	uint8_t *p1 = kp_arena_alloc(&a, 3);
	assert_non_null(p1);
	assert_int_equal((uintptr_t)p1 % KP_ARENA_ALIGN, 0);
	uint64_t *p2 = kp_arena_alloc(&a, 8);
	assert_non_null(p2);
	assert_int_equal((uintptr_t)p2 % KP_ARENA_ALIGN, 0);
	assert_true((uint8_t *)p2 >= p1 + 3);
	assert_null(kp_arena_alloc(&a, 64)); /* exhausted */
	assert_null(kp_arena_alloc(&a, 0));
	assert_null(kp_arena_alloc_array(&a, SIZE_MAX / 2, 4)); /* product overflows */
	assert_null(kp_arena_alloc_array(&a, 0, 4));
	size_t used = kp_arena_used(&a);
	assert_true(used <= 64);
	kp_arena_reset(&a);
	assert_int_equal(kp_arena_used(&a), 0);
	uint8_t *p3 = kp_arena_alloc(&a, 40);
	assert_non_null(p3);
	for (int i = 0; i < 40; i++)
		assert_int_equal(p3[i], 0); /* zeroed */
	assert_true(a.ka_peak >= used);

	struct kp_arena none;
	kp_arena_init(&none, NULL, 0);
	assert_null(kp_arena_alloc(&none, 1));
}

/* ---------------------------------------------------------- strerror */

static void test_strerror(void **state)
{
	(void)state;
	for (int code = KP_ETRUNCATED; code > KP_ELAST; code--) {
		const char *s = kp_strerror(code);
		assert_non_null(s);
		assert_non_null(strstr(s, "Kafka message"));
	}
	assert_string_equal(kp_strerror(RL_ETRUNCATED), rl_strerror(RL_ETRUNCATED));
	assert_string_equal(kp_strerror(-ENOMEM), strerror(ENOMEM));
	assert_string_equal(kp_strerror(0), "success");
}

static void test_view_helpers(void **state)
{
	(void)state;
	assert_true(kp_str_eq(KP_STR_NULL, KP_STR_NULL));
	assert_false(kp_str_eq(KP_STR_NULL, KP_STR("")));
	assert_true(kp_str_eq(KP_STR(""), (struct kp_str){"zz", 0}));
	assert_true(kp_str_eq_cstr(KP_STR("abc"), "abc"));
	assert_false(kp_str_eq_cstr(KP_STR("abc"), "abd"));
	assert_true(kp_str_eq_cstr(KP_STR_NULL, NULL));
	assert_int_equal(kp_str_from_cstr(NULL).len, -1);
	assert_false(kp_bytes_eq(KP_BYTES_NULL, (struct kp_bytes){NULL, 0}));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_truncation_point),
		cmocka_unit_test(test_fixed_ints_known_bytes),
		cmocka_unit_test(test_bool_any_nonzero_is_true),
		cmocka_unit_test(test_reader_error_is_sticky),
		cmocka_unit_test(test_trailing_bytes_reported),
		cmocka_unit_test(test_uvarint_edges),
		cmocka_unit_test(test_uvarint_overlong_and_overflow),
		cmocka_unit_test(test_signed_varints_roundtrip),
		cmocka_unit_test(test_classic_strings),
		cmocka_unit_test(test_compact_strings),
		cmocka_unit_test(test_string_write_rules),
		cmocka_unit_test(test_bytes_and_records),
		cmocka_unit_test(test_array_counts),
		cmocka_unit_test(test_arena_exhaustion_is_an_error),
		cmocka_unit_test(test_arrays_write),
		cmocka_unit_test(test_tags_build_read_iterate),
		cmocka_unit_test(test_tags_refused),
		cmocka_unit_test(test_fixed_writer_cap),
		cmocka_unit_test(test_growable_writer),
		cmocka_unit_test(test_frames),
		cmocka_unit_test(test_arena),
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_view_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
