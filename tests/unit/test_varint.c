/* Description: varint/varlong/uvarint: known bytes, boundaries, truncation, overlong, overflow. */
#include "testutil.h"

#include "rlerr.h"
#include "varint.h"

/* Decode from a heap block of exactly `len` bytes, so ASan reports any read
 * past the end the decoder is allowed to see. */
static int decode32_exact(const uint8_t *bytes, size_t len, int32_t *out)
{
	uint8_t *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	if (len)
		memcpy(copy, bytes, len);
	int n = varint_decode32(copy, len, out);
	free(copy);
	return n;
}

static int decode64_exact(const uint8_t *bytes, size_t len, int64_t *out)
{
	uint8_t *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	if (len)
		memcpy(copy, bytes, len);
	int n = varint_decode64(copy, len, out);
	free(copy);
	return n;
}

static int udecode32_exact(const uint8_t *bytes, size_t len, uint32_t *out)
{
	uint8_t *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	if (len)
		memcpy(copy, bytes, len);
	int n = uvarint_decode32(copy, len, out);
	free(copy);
	return n;
}

struct known32 {
	int32_t k_value;
	uint8_t k_bytes[VARINT_MAX32];
	int k_len;
};

struct known64 {
	int64_t k_value;
	uint8_t k_bytes[VARINT_MAX64];
	int k_len;
};

static const struct known32 known32[] = {
        {0, {0x00}, 1},
        {-1, {0x01}, 1},
        {1, {0x02}, 1},
        {-2, {0x03}, 1},
        {7, {0x0e}, 1},
        {11, {0x16}, 1},
        {22, {0x2c}, 1},
        {63, {0x7e}, 1},
        {-64, {0x7f}, 1},
        {64, {0x80, 0x01}, 2},
        {-65, {0x81, 0x01}, 2},
        {267, {0x96, 0x04}, 2},
        {8191, {0xfe, 0x7f}, 2},
        {-8192, {0xff, 0x7f}, 2},
        {8192, {0x80, 0x80, 0x01}, 3},
        {INT32_MAX, {0xfe, 0xff, 0xff, 0xff, 0x0f}, 5},
        {INT32_MIN, {0xff, 0xff, 0xff, 0xff, 0x0f}, 5},
};

static const struct known64 known64[] = {
        {0, {0x00}, 1},
        {-1, {0x01}, 1},
        {1, {0x02}, 1},
        {64, {0x80, 0x01}, 2},
        {INT32_MAX, {0xfe, 0xff, 0xff, 0xff, 0x0f}, 5},
        {(int64_t)INT32_MAX + 1, {0x80, 0x80, 0x80, 0x80, 0x10}, 5},
        {INT64_MAX, {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 10},
        {INT64_MIN, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 10},
};

static void test_known_encodings32(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(known32) / sizeof(known32[0]); i++) {
		const struct known32 *k = &known32[i];
		uint8_t buf[VARINT_MAX32];
		memset(buf, 0xAA, sizeof(buf));
		int n = varint_encode32(buf, k->k_value);
		assert_int_equal(n, k->k_len);
		assert_memory_equal(buf, k->k_bytes, (size_t)n);
		assert_int_equal(varint_size32(k->k_value), k->k_len);
		int32_t v = 12345;
		assert_int_equal(decode32_exact(k->k_bytes, (size_t)k->k_len, &v), k->k_len);
		assert_int_equal(v, k->k_value);
		/* Every 32-bit encoding is also a valid 64-bit one. */
		int64_t v64 = 0;
		assert_int_equal(decode64_exact(k->k_bytes, (size_t)k->k_len, &v64), k->k_len);
		assert_int_equal(v64, k->k_value);
	}
}

static void test_known_encodings64(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(known64) / sizeof(known64[0]); i++) {
		const struct known64 *k = &known64[i];
		uint8_t buf[VARINT_MAX64];
		int n = varint_encode64(buf, k->k_value);
		assert_int_equal(n, k->k_len);
		assert_memory_equal(buf, k->k_bytes, (size_t)n);
		assert_int_equal(varint_size64(k->k_value), k->k_len);
		int64_t v = 12345;
		assert_int_equal(decode64_exact(k->k_bytes, (size_t)k->k_len, &v), k->k_len);
		assert_true(v == k->k_value);
	}
}

static void test_unsigned_known(void **state)
{
	(void)state;
	static const struct {
		uint32_t u_value;
		uint8_t u_bytes[5];
		int u_len;
	} cases[] = {
	        {0, {0x00}, 1},
	        {1, {0x01}, 1},
	        {127, {0x7f}, 1},
	        {128, {0x80, 0x01}, 2},
	        {300, {0xac, 0x02}, 2},
	        {16383, {0xff, 0x7f}, 2},
	        {16384, {0x80, 0x80, 0x01}, 3},
	        {(1u << 28) - 1, {0xff, 0xff, 0xff, 0x7f}, 4},
	        {1u << 28, {0x80, 0x80, 0x80, 0x80, 0x01}, 5},
	        {UINT32_MAX, {0xff, 0xff, 0xff, 0xff, 0x0f}, 5},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[VARINT_MAX32];
		int n = uvarint_encode32(buf, cases[i].u_value);
		assert_int_equal(n, cases[i].u_len);
		assert_memory_equal(buf, cases[i].u_bytes, (size_t)n);
		assert_int_equal(uvarint_size32(cases[i].u_value), n);
		uint32_t v = 0;
		assert_int_equal(udecode32_exact(cases[i].u_bytes, (size_t)n, &v), n);
		assert_int_equal(v, cases[i].u_value);
	}
}

/* Signed values whose zig-zag form is exactly `u`. */
static int64_t unzigzag64(uint64_t u)
{
	return (int64_t)((u >> 1) ^ (0ull - (u & 1)));
}

static void roundtrip32(int32_t v, int expect_len)
{
	uint8_t buf[VARINT_MAX32 + 3];
	memset(buf, 0xff, sizeof(buf)); /* trailing continuation bytes must be ignored */
	int n = varint_encode32(buf, v);
	if (expect_len > 0 && n != expect_len)
		fail_msg("value %d encoded in %d bytes, want %d", v, n, expect_len);
	assert_int_equal(varint_size32(v), n);
	int32_t back = ~v;
	assert_int_equal(varint_decode32(buf, sizeof(buf), &back), n);
	assert_int_equal(back, v);
	assert_int_equal(decode32_exact(buf, (size_t)n, &back), n);
	assert_int_equal(back, v);
}

static void roundtrip64(int64_t v, int expect_len)
{
	uint8_t buf[VARINT_MAX64 + 3];
	memset(buf, 0xff, sizeof(buf));
	int n = varint_encode64(buf, v);
	if (expect_len > 0 && n != expect_len)
		fail_msg("value %lld encoded in %d bytes, want %d", (long long)v, n, expect_len);
	assert_int_equal(varint_size64(v), n);
	int64_t back = ~v;
	assert_int_equal(varint_decode64(buf, sizeof(buf), &back), n);
	assert_true(back == v);
	assert_int_equal(decode64_exact(buf, (size_t)n, &back), n);
	assert_true(back == v);
}

static void roundtrip_u32(uint32_t v, int expect_len)
{
	uint8_t buf[VARINT_MAX32];
	int n = uvarint_encode32(buf, v);
	assert_int_equal(n, expect_len);
	assert_int_equal(uvarint_size32(v), n);
	uint32_t back = ~v;
	assert_int_equal(udecode32_exact(buf, (size_t)n, &back), n);
	assert_int_equal(back, v);
}

/* For every length L, the first and last zig-zag values of that length, and
 * their neighbours on either side. */
static void test_roundtrip_length_boundaries(void **state)
{
	(void)state;
	for (int len = 1; len <= VARINT_MAX64; len++) {
		uint64_t lo = len == 1 ? 0 : 1ull << (7 * (len - 1));
		uint64_t hi = len == VARINT_MAX64 ? UINT64_MAX : (1ull << (7 * len)) - 1;
		const uint64_t edges[] = {lo, lo + 1, hi - 1, hi};
		for (size_t e = 0; e < 4; e++) {
			int64_t v = unzigzag64(edges[e]);
			roundtrip64(v, len);
			if (len <= VARINT_MAX32 && edges[e] <= UINT32_MAX) {
				roundtrip32((int32_t)v, len);
				roundtrip_u32((uint32_t)edges[e], len);
			}
		}
	}
	const int32_t specials32[] = {
	        0, 1, -1, 63, 64, -64, -65, INT32_MAX, INT32_MIN, INT32_MAX - 1, INT32_MIN + 1};
	for (size_t i = 0; i < sizeof(specials32) / sizeof(specials32[0]); i++)
		roundtrip32(specials32[i], 0);
	const int64_t specials64[] = {0,
	                              1,
	                              -1,
	                              63,
	                              64,
	                              -64,
	                              -65,
	                              INT32_MAX,
	                              INT32_MIN,
	                              (int64_t)INT32_MAX + 1,
	                              (int64_t)INT32_MIN - 1,
	                              INT64_MAX,
	                              INT64_MIN,
	                              INT64_MAX - 1,
	                              INT64_MIN + 1};
	for (size_t i = 0; i < sizeof(specials64) / sizeof(specials64[0]); i++)
		roundtrip64(specials64[i], 0);
	roundtrip_u32(UINT32_MAX, 5);
}

static void test_roundtrip_random(void **state)
{
	(void)state;
	uint64_t seed = tu_seed(0x7A7143);
	for (int i = 0; i < 200000; i++) {
		uint64_t r = tu_rand(&seed);
		int bits = (int)(tu_rand(&seed) % 64) + 1; /* all magnitudes, not just huge ones */
		uint64_t u = bits == 64 ? r : r & ((1ull << bits) - 1);
		roundtrip64((int64_t)u, 0);
		roundtrip64(unzigzag64(u), 0);
		roundtrip32((int32_t)(uint32_t)u, 0);
		uint8_t buf[VARINT_MAX32];
		int n = uvarint_encode32(buf, (uint32_t)u);
		uint32_t back;
		assert_int_equal(uvarint_decode32(buf, (size_t)n, &back), n);
		assert_int_equal(back, (uint32_t)u);
	}
}

/* Cutting a valid encoding short at any byte is RL_ETRUNCATED, never a
 * value and never a read past the end. */
static void test_truncated_at_each_byte(void **state)
{
	(void)state;
	const int64_t values[] = {
	        0, -1, 64, 8192, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN, (int64_t)1 << 40};
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		uint8_t buf[VARINT_MAX64];
		int n = varint_encode64(buf, values[i]);
		for (int cut = 0; cut < n; cut++) {
			int64_t v64 = 77;
			assert_int_equal(decode64_exact(buf, (size_t)cut, &v64), RL_ETRUNCATED);
			assert_true(v64 == 77);
		}
		if (values[i] >= INT32_MIN && values[i] <= INT32_MAX) {
			n = varint_encode32(buf, (int32_t)values[i]);
			for (int cut = 0; cut < n; cut++) {
				int32_t v = 77;
				uint32_t u = 77;
				assert_int_equal(decode32_exact(buf, (size_t)cut, &v),
				                 RL_ETRUNCATED);
				assert_int_equal(udecode32_exact(buf, (size_t)cut, &u),
				                 RL_ETRUNCATED);
				assert_int_equal(v, 77);
			}
		}
	}
	int32_t v;
	assert_int_equal(varint_decode32(NULL, 0, &v), RL_ETRUNCATED);
	assert_int_equal(varint_decode32((const uint8_t *)"\x80\x80", 2, &v), RL_ETRUNCATED);
}

static void test_overlong_refused(void **state)
{
	(void)state;
	int32_t v32;
	int64_t v64;
	uint32_t u32;
	/* Six bytes for a 32-bit number, however small its value. */
	static const uint8_t six[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
	assert_int_equal(decode32_exact(six, sizeof(six), &v32), RL_EINVAL_RECORD);
	assert_int_equal(udecode32_exact(six, sizeof(six), &u32), RL_EINVAL_RECORD);
	/* The fifth byte still says "more": refused at the fifth byte, even
	 * when nothing follows (that is not truncation, it is too long). */
	assert_int_equal(decode32_exact(six, 5, &v32), RL_EINVAL_RECORD);
	assert_int_equal(decode32_exact(six, 4, &v32), RL_ETRUNCATED);
	/* ... but six bytes are fine for a 64-bit number. */
	assert_int_equal(decode64_exact(six, sizeof(six), &v64), 6);
	assert_true(v64 == 0);

	/* Eleven bytes for a 64-bit number. */
	static const uint8_t eleven[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	                                 0x80, 0x80, 0x80, 0x80, 0x00};
	assert_int_equal(decode64_exact(eleven, sizeof(eleven), &v64), RL_EINVAL_RECORD);
	assert_int_equal(decode64_exact(eleven, 10, &v64), RL_EINVAL_RECORD);
	assert_int_equal(decode64_exact(eleven, 9, &v64), RL_ETRUNCATED);
}

static void test_overflow_refused(void **state)
{
	(void)state;
	int32_t v32;
	int64_t v64;
	uint32_t u32;
	/* Fifth byte of a 32-bit number may carry 4 bits: 0x0f is the most. */
	uint8_t b[VARINT_MAX64] = {0xff, 0xff, 0xff, 0xff, 0x0f};
	assert_int_equal(decode32_exact(b, 5, &v32), 5);
	assert_int_equal(udecode32_exact(b, 5, &u32), 5);
	assert_int_equal(u32, UINT32_MAX);
	for (unsigned last = 0x10; last <= 0x7f; last++) {
		b[4] = (uint8_t)last;
		assert_int_equal(decode32_exact(b, 5, &v32), RL_EINVAL_RECORD);
		assert_int_equal(udecode32_exact(b, 5, &u32), RL_EINVAL_RECORD);
		/* The same bytes are a perfectly good 64-bit number. */
		assert_int_equal(decode64_exact(b, 5, &v64), 5);
	}

	/* Tenth byte of a 64-bit number may carry 1 bit. */
	uint8_t c[VARINT_MAX64];
	memset(c, 0xff, 9);
	c[9] = 0x01;
	assert_int_equal(decode64_exact(c, 10, &v64), 10);
	assert_true(v64 == INT64_MIN);
	for (unsigned last = 0x02; last <= 0x7f; last++) {
		c[9] = (uint8_t)last;
		assert_int_equal(decode64_exact(c, 10, &v64), RL_EINVAL_RECORD);
	}
}

/* Non-minimal encodings inside the length limit decode (Kafka's clients
 * accept them too); our encoders never produce them. */
static void test_non_minimal_accepted(void **state)
{
	(void)state;
	int32_t v32;
	int64_t v64;
	static const uint8_t zero2[] = {0x80, 0x00};
	static const uint8_t minus1_5[] = {0x81, 0x80, 0x80, 0x80, 0x00};
	assert_int_equal(decode32_exact(zero2, 2, &v32), 2);
	assert_int_equal(v32, 0);
	assert_int_equal(decode32_exact(minus1_5, 5, &v32), 5);
	assert_int_equal(v32, -1);
	assert_int_equal(decode64_exact(minus1_5, 5, &v64), 5);
	assert_true(v64 == -1);
}

/* Decoding stops at the first byte without the continuation bit, whatever
 * follows it. */
static void test_stops_at_terminator(void **state)
{
	(void)state;
	static const uint8_t stream[] = {0x0e, 0x80, 0x01, 0x01, 0xff};
	int32_t v;
	size_t pos = 0;
	int n = varint_decode32(stream + pos, sizeof(stream) - pos, &v);
	assert_int_equal(n, 1);
	assert_int_equal(v, 7);
	pos += (size_t)n;
	n = varint_decode32(stream + pos, sizeof(stream) - pos, &v);
	assert_int_equal(n, 2);
	assert_int_equal(v, 64);
	pos += (size_t)n;
	n = varint_decode32(stream + pos, sizeof(stream) - pos, &v);
	assert_int_equal(n, 1);
	assert_int_equal(v, -1);
	pos += (size_t)n;
	assert_int_equal(varint_decode32(stream + pos, sizeof(stream) - pos, &v), RL_ETRUNCATED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_known_encodings32),
	        cmocka_unit_test(test_known_encodings64),
	        cmocka_unit_test(test_unsigned_known),
	        cmocka_unit_test(test_roundtrip_length_boundaries),
	        cmocka_unit_test(test_roundtrip_random),
	        cmocka_unit_test(test_truncated_at_each_byte),
	        cmocka_unit_test(test_overlong_refused),
	        cmocka_unit_test(test_overflow_refused),
	        cmocka_unit_test(test_non_minimal_accepted),
	        cmocka_unit_test(test_stops_at_terminator),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
