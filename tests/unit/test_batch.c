/* Description: batch header codec vs real client batches; every refusal; stamping; iterator. */
#include "testutil.h"

#include "batch.h"
#include "batch_builder.h"
#include "crc32c.h"
#include "rlerr.h"

/* ---- helpers ---------------------------------------------------------- */

/* Hex with optional spaces/newlines -> bytes. Returns the byte count. */
static size_t hex_decode(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int half = -1;
	for (const char *p = hex; *p; p++) {
		int d;
		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			continue;
		if (half < 0) {
			half = d;
		} else {
			assert_true(n < cap);
			out[n++] = (uint8_t)(half << 4 | d);
			half = -1;
		}
	}
	assert_int_equal(half, -1);
	return n;
}

/* A heap copy of exactly `len` bytes: reads past the end are ASan errors. */
static uint8_t *exact_copy(const uint8_t *src, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);
	assert_non_null(p);
	if (len)
		memcpy(p, src, len);
	return p;
}

static int64_t validate_exact(const uint8_t *buf, size_t len, struct batch_header *h)
{
	uint8_t *copy = exact_copy(buf, len);
	int64_t rc = batch_validate(copy, len, h);
	free(copy);
	return rc;
}

/* Build a batch of `count` records "v0", "v1", ... with the given codec. */
static size_t build_batch(uint8_t *buf, size_t cap, int codec, int count, int64_t ts)
{
	struct batch_builder b;
	assert_int_equal(batch_builder_init(&b, buf, cap, codec, ts, -1, -1, -1), 0);
	for (int i = 0; i < count; i++) {
		char v[32];
		int n = snprintf(v, sizeof(v), "v%d", i);
		assert_int_equal(
		        batch_builder_add(&b, ts + i, NULL, -1, (const uint8_t *)v, n, NULL, 0), 0);
	}
	int64_t total = batch_builder_finish(&b);
	assert_true(total >= BATCH_HEADER_BYTES);
	return (size_t)total;
}

/* ---- batches captured from real clients ------------------------------- */

/*
 * kcat -P (librdkafka 2.0.2), captures/kcatP.broker.log: the 85-byte batch
 * of a Produce v7 request. The header is the body[:96] hex of that request
 * from offset 0x22 on; the records are three of "0e 00 00 0N 01 02 6X 00"
 * (values a, b, c; offset deltas 0, 1, 2), as the log decodes them.
 * The broker printed crc=f76d1e65 crc_ok=True.
 */
static const char kcat_batch_hex[] = "0000000000000000 00000049 00000000 02 f76d1e65"
                                     "0000 00000002 000001a21f5b2a73 000001a21f5b2a73"
                                     "ffffffffffffffff ffff ffffffff 00000003"
                                     "0e00000001026100 0e00000201026200 0e00000401026300";

/*
 * kafka-python, captures/pyP.broker.log: 84 bytes, one record with key
 * "pykey", value "pyval" and header h1=v1. crc=65433fb8.
 */
static const char kpy_batch_hex[] = "0000000000000000 00000048 00000000 02 65433fb8"
                                    "0000 00000000 000001a21f5b3df6 000001a21f5b3df6"
                                    "ffffffffffffffff ffff ffffffff 00000001"
                                    "2c 00 00 00 0a 70796b6579 0a 707976616c 02 04 6831 04 7631";

/*
 * kcat -P with enable.idempotence, captures/kcatIdem.broker.log: 77 bytes,
 * producerId 1001, epoch 0, baseSequence 0, values x and y. crc=e7615273.
 */
static const char kcat_idem_batch_hex[] = "0000000000000000 00000041 00000000 02 e7615273"
                                          "0000 00000001 000001a21f5b6f2e 000001a21f5b6f2e"
                                          "00000000000003e9 0000 00000000 00000002"
                                          "0e00000001027800 0e00000201027900";

/*
 * The "seeded batch" the capture harness built (and kcat/kafka-python then
 * consumed) in every *.broker.log: 93 bytes, values hello, world, !; the
 * logs print its timestamp and CRC each run.
 */
static const struct seeded {
	int64_t s_ts;
	uint32_t s_crc;
} seeded_batches[] = {
        {1795822397869, 0x12d4acc5}, {1795822433504, 0x39a7de80}, {1795822397398, 0x39dfc66b},
        {1795822415496, 0x3d9f5e0f}, {1795822434114, 0x548f0891}, {1795822402546, 0x5f6af6c6},
        {1795822428168, 0x6fd1c26e}, {1795822425998, 0xb659be26}, {1795822403272, 0xc8014a85},
        {1795822398323, 0xdadafb7f}, {1795822407029, 0xdbf23bf9}, {1795822414087, 0xe28e1212},
};

static const char seeded_records_hex[] = "16 00 00 00 01 0a 68656c6c6f 00" /* hello */
                                         "16 00 00 02 01 0a 776f726c64 00" /* world */
                                         "0e 00 00 04 01 02 21 00";        /* ! */

static size_t seeded_batch(uint8_t *out, size_t cap, const struct seeded *s)
{
	assert_true(cap >= 93);
	memset(out, 0, BATCH_HEADER_BYTES);
	be32_store(out + BATCH_OFF_LENGTH, 81);
	out[BATCH_OFF_MAGIC] = 2;
	be32_store(out + BATCH_OFF_CRC, s->s_crc);
	be32_store(out + BATCH_OFF_LAST_OFFSET_DELTA, 2);
	be64_store(out + BATCH_OFF_BASE_TIMESTAMP, (uint64_t)s->s_ts);
	be64_store(out + BATCH_OFF_MAX_TIMESTAMP, (uint64_t)s->s_ts);
	be64_store(out + BATCH_OFF_PRODUCER_ID, UINT64_MAX);
	be16_store(out + BATCH_OFF_PRODUCER_EPOCH, UINT16_MAX);
	be32_store(out + BATCH_OFF_BASE_SEQUENCE, UINT32_MAX);
	be32_store(out + BATCH_OFF_RECORDS_COUNT, 3);
	size_t n =
	        hex_decode(seeded_records_hex, out + BATCH_HEADER_BYTES, cap - BATCH_HEADER_BYTES);
	assert_int_equal(n, 32);
	return BATCH_HEADER_BYTES + n;
}

static void test_capture_librdkafka_batch(void **state)
{
	(void)state;
	uint8_t buf[128];
	size_t len = hex_decode(kcat_batch_hex, buf, sizeof(buf));
	assert_int_equal(len, 85);

	assert_int_equal(batch_crc_compute(buf, len), 0xf76d1e65u);
	struct batch_header h;
	assert_int_equal(validate_exact(buf, len, &h), 85);
	assert_int_equal(h.bh_base_offset, 0);
	assert_int_equal(h.bh_batch_length, 73);
	assert_int_equal(h.bh_partition_leader_epoch, 0);
	assert_int_equal(h.bh_magic, 2);
	assert_int_equal(h.bh_crc, 0xf76d1e65u);
	assert_int_equal(h.bh_attributes, 0);
	assert_int_equal(batch_codec(&h), BATCH_CODEC_NONE);
	assert_int_equal(h.bh_last_offset_delta, 2);
	assert_int_equal(h.bh_base_timestamp, 1795822398067);
	assert_int_equal(h.bh_max_timestamp, 1795822398067);
	assert_int_equal(h.bh_producer_id, -1);
	assert_int_equal(h.bh_producer_epoch, -1);
	assert_int_equal(h.bh_base_sequence, -1);
	assert_int_equal(h.bh_records_count, 3);
	assert_int_equal(batch_total_size(buf, len), 85);
}

static void test_capture_kafka_python_batch(void **state)
{
	(void)state;
	uint8_t buf[128];
	size_t len = hex_decode(kpy_batch_hex, buf, sizeof(buf));
	assert_int_equal(len, 84);
	assert_int_equal(batch_crc_compute(buf, len), 0x65433fb8u);
	/* Both implementations, not just the one this CPU dispatches to. */
	assert_int_equal(crc32c_sw(0, buf + BATCH_CRC_START, len - BATCH_CRC_START), 0x65433fb8u);

	struct batch_header h;
	assert_int_equal(validate_exact(buf, len, &h), 84);
	assert_int_equal(h.bh_batch_length, 72);
	assert_int_equal(h.bh_last_offset_delta, 0);
	assert_int_equal(h.bh_records_count, 1);
	assert_int_equal(h.bh_base_timestamp, 1795822403062);
	assert_int_equal(h.bh_producer_id, -1);
}

static void test_capture_idempotent_batch(void **state)
{
	(void)state;
	uint8_t buf[128];
	size_t len = hex_decode(kcat_idem_batch_hex, buf, sizeof(buf));
	assert_int_equal(len, 77);
	assert_int_equal(batch_crc_compute(buf, len), 0xe7615273u);
	struct batch_header h;
	assert_int_equal(validate_exact(buf, len, &h), 77);
	assert_int_equal(h.bh_producer_id, 1001);
	assert_int_equal(h.bh_producer_epoch, 0);
	assert_int_equal(h.bh_base_sequence, 0);
	assert_int_equal(h.bh_records_count, 2);
	assert_int_equal(h.bh_last_offset_delta, 1);
}

static void test_capture_seeded_batches(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(seeded_batches) / sizeof(seeded_batches[0]); i++) {
		uint8_t buf[128];
		size_t len = seeded_batch(buf, sizeof(buf), &seeded_batches[i]);
		assert_int_equal(len, 93);
		uint32_t crc = batch_crc_compute(buf, len);
		if (crc != seeded_batches[i].s_crc)
			fail_msg("seeded batch ts=%lld: crc %08x, capture says %08x",
			         (long long)seeded_batches[i].s_ts, crc, seeded_batches[i].s_crc);
		assert_int_equal(validate_exact(buf, len, NULL), 93);
	}
}

/* Our builder, given the same records and timestamps, writes exactly the
 * bytes the clients wrote. */
static void test_builder_reproduces_client_batches(void **state)
{
	(void)state;
	uint8_t want[128], got[256];
	struct batch_builder b;

	size_t want_len = hex_decode(kcat_batch_hex, want, sizeof(want));
	assert_int_equal(batch_builder_init(&b, got, sizeof(got), BATCH_CODEC_NONE, 1795822398067,
	                                    -1, -1, -1),
	                 0);
	for (int i = 0; i < 3; i++) {
		uint8_t v = (uint8_t)('a' + i);
		assert_int_equal(batch_builder_add(&b, 1795822398067, NULL, -1, &v, 1, NULL, 0), 0);
	}
	assert_int_equal(batch_builder_finish(&b), (int64_t)want_len);
	assert_memory_equal(got, want, want_len);

	want_len = hex_decode(kpy_batch_hex, want, sizeof(want));
	const struct batch_builder_header hdr = {(const uint8_t *)"h1", 2, (const uint8_t *)"v1",
	                                         2};
	assert_int_equal(batch_builder_init(&b, got, sizeof(got), BATCH_CODEC_NONE, 1795822403062,
	                                    -1, -1, -1),
	                 0);
	assert_int_equal(batch_builder_add(&b, 1795822403062, (const uint8_t *)"pykey", 5,
	                                   (const uint8_t *)"pyval", 5, &hdr, 1),
	                 0);
	assert_int_equal(batch_builder_finish(&b), (int64_t)want_len);
	assert_memory_equal(got, want, want_len);

	want_len = hex_decode(kcat_idem_batch_hex, want, sizeof(want));
	assert_int_equal(batch_builder_init(&b, got, sizeof(got), BATCH_CODEC_NONE, 1795822415662,
	                                    1001, 0, 0),
	                 0);
	assert_int_equal(
	        batch_builder_add(&b, 1795822415662, NULL, -1, (const uint8_t *)"x", 1, NULL, 0),
	        0);
	assert_int_equal(
	        batch_builder_add(&b, 1795822415662, NULL, -1, (const uint8_t *)"y", 1, NULL, 0),
	        0);
	assert_int_equal(batch_builder_finish(&b), (int64_t)want_len);
	assert_memory_equal(got, want, want_len);

	/* And zstd is not used when it would not shrink, as librdkafka does:
	 * asking for zstd on these tiny records still gives the same bytes. */
	want_len = hex_decode(kcat_batch_hex, want, sizeof(want));
	assert_int_equal(batch_builder_init(&b, got, sizeof(got), BATCH_CODEC_ZSTD, 1795822398067,
	                                    -1, -1, -1),
	                 0);
	for (int i = 0; i < 3; i++) {
		uint8_t v = (uint8_t)('a' + i);
		assert_int_equal(batch_builder_add(&b, 1795822398067, NULL, -1, &v, 1, NULL, 0), 0);
	}
	assert_int_equal(batch_builder_finish(&b), (int64_t)want_len);
	assert_memory_equal(got, want, want_len);
}

/* ---- header decode and total size ------------------------------------ */

static void test_header_decode_every_field(void **state)
{
	(void)state;
	uint8_t buf[BATCH_HEADER_BYTES];
	/* Distinct values with the sign bit set where the field is signed, so a
	 * wrong width or a wrong sign extension shows. */
	be64_store(buf + BATCH_OFF_BASE_OFFSET, 0x8102030405060708ull);
	be32_store(buf + BATCH_OFF_LENGTH, 0x8a0b0c0du);
	be32_store(buf + BATCH_OFF_LEADER_EPOCH, 0xfffffffeu);
	buf[BATCH_OFF_MAGIC] = 0xfe;
	be32_store(buf + BATCH_OFF_CRC, 0xdeadbeefu);
	be16_store(buf + BATCH_OFF_ATTRIBUTES, 0x807fu);
	be32_store(buf + BATCH_OFF_LAST_OFFSET_DELTA, 0x80000000u);
	be64_store(buf + BATCH_OFF_BASE_TIMESTAMP, 0x1112131415161718ull);
	be64_store(buf + BATCH_OFF_MAX_TIMESTAMP, 0x9192939495969798ull);
	be64_store(buf + BATCH_OFF_PRODUCER_ID, 0x2122232425262728ull);
	be16_store(buf + BATCH_OFF_PRODUCER_EPOCH, 0x8001u);
	be32_store(buf + BATCH_OFF_BASE_SEQUENCE, 0x31323334u);
	be32_store(buf + BATCH_OFF_RECORDS_COUNT, 0xffffffffu);

	struct batch_header h;
	uint8_t *copy = exact_copy(buf, sizeof(buf));
	assert_int_equal(batch_header_decode(copy, sizeof(buf), &h), 0);
	free(copy);
	assert_true(h.bh_base_offset == (int64_t)0x8102030405060708ull);
	assert_int_equal(h.bh_batch_length, (int32_t)0x8a0b0c0du);
	assert_int_equal(h.bh_partition_leader_epoch, -2);
	assert_int_equal(h.bh_magic, -2);
	assert_int_equal(h.bh_crc, 0xdeadbeefu);
	assert_int_equal(h.bh_attributes, (int16_t)0x807f);
	assert_int_equal(h.bh_last_offset_delta, INT32_MIN);
	assert_true(h.bh_base_timestamp == 0x1112131415161718ll);
	assert_true(h.bh_max_timestamp == (int64_t)0x9192939495969798ull);
	assert_true(h.bh_producer_id == 0x2122232425262728ll);
	assert_int_equal(h.bh_producer_epoch, (int16_t)0x8001);
	assert_int_equal(h.bh_base_sequence, 0x31323334);
	assert_int_equal(h.bh_records_count, -1);
	assert_int_equal(batch_codec(&h), 7);

	for (size_t len = 0; len < BATCH_HEADER_BYTES; len++) {
		copy = exact_copy(buf, len);
		assert_int_equal(batch_header_decode(copy, len, &h), RL_ETRUNCATED);
		free(copy);
	}
}

static void test_total_size(void **state)
{
	(void)state;
	uint8_t buf[BATCH_LOG_OVERHEAD] = {0};
	for (size_t len = 0; len < BATCH_LOG_OVERHEAD; len++) {
		uint8_t *copy = exact_copy(buf, len);
		assert_int_equal(batch_total_size(copy, len), RL_ETRUNCATED);
		free(copy);
	}
	static const struct {
		uint32_t t_length;
		int64_t t_want;
	} cases[] = {
	        {0, RL_EINVAL_BATCH},
	        {48, RL_EINVAL_BATCH},
	        {49, 61},
	        {73, 85},
	        {0x7fffffffu - 12, INT32_MAX},
	        {0x7fffffffu - 11, RL_EINVAL_BATCH},
	        {0x7fffffffu, RL_EINVAL_BATCH},
	        {0x80000000u, RL_EINVAL_BATCH},
	        {0xffffffffu, RL_EINVAL_BATCH},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		be32_store(buf + BATCH_OFF_LENGTH, cases[i].t_length);
		/* Only the 12 bytes are needed, not the batch. */
		uint8_t *copy = exact_copy(buf, sizeof(buf));
		assert_int_equal(batch_total_size(copy, sizeof(buf)), cases[i].t_want);
		free(copy);
	}
}

static void test_codec_names(void **state)
{
	(void)state;
	assert_string_equal(batch_codec_name(BATCH_CODEC_NONE), "none");
	assert_string_equal(batch_codec_name(BATCH_CODEC_GZIP), "gzip");
	assert_string_equal(batch_codec_name(BATCH_CODEC_SNAPPY), "snappy");
	assert_string_equal(batch_codec_name(BATCH_CODEC_LZ4), "lz4");
	assert_string_equal(batch_codec_name(BATCH_CODEC_ZSTD), "zstd");
	const int bad[] = {5, 6, 7, 8, -1, INT32_MIN, INT32_MAX};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_string_equal(batch_codec_name(bad[i]), "unknown");
}

/* ---- validation: every refusal rule ---------------------------------- */

static void test_validate_built_batch(void **state)
{
	(void)state;
	uint8_t buf[512];
	size_t len = build_batch(buf, sizeof(buf), BATCH_CODEC_NONE, 5, 1000);
	struct batch_header h;
	assert_int_equal(validate_exact(buf, len, &h), (int64_t)len);
	assert_int_equal(h.bh_records_count, 5);
	assert_int_equal(h.bh_last_offset_delta, 4);
	assert_int_equal(h.bh_base_timestamp, 1000);
	assert_int_equal(h.bh_max_timestamp, 1004);
	assert_int_equal(h.bh_batch_length, (int32_t)len - 12);
	/* h may be NULL; extra bytes after the batch are not its business. */
	assert_int_equal(batch_validate(buf, sizeof(buf), NULL), (int64_t)len);
}

static void test_validate_refuses_wrong_crc(void **state)
{
	(void)state;
	uint8_t buf[256];
	size_t len = build_batch(buf, sizeof(buf), BATCH_CODEC_NONE, 3, 7);
	/* Any byte from attributes to the end is covered... */
	for (size_t i = BATCH_CRC_START; i < len; i++) {
		buf[i] ^= 0x20;
		if (validate_exact(buf, len, NULL) != RL_ECRC)
			fail_msg("flipping byte %zu not caught", i);
		buf[i] ^= 0x20;
	}
	/* ...and so is the CRC field itself. */
	for (size_t i = BATCH_OFF_CRC; i < BATCH_CRC_START; i++) {
		buf[i] ^= 0x01;
		assert_int_equal(validate_exact(buf, len, NULL), RL_ECRC);
		buf[i] ^= 0x01;
	}
	assert_int_equal(validate_exact(buf, len, NULL), (int64_t)len);
}

static void test_validate_refuses_wrong_magic(void **state)
{
	(void)state;
	uint8_t buf[256];
	size_t len = build_batch(buf, sizeof(buf), BATCH_CODEC_NONE, 3, 7);
	const uint8_t bad[] = {0, 1, 3, 0x7f, 0x80, 0xff};
	for (size_t i = 0; i < sizeof(bad); i++) {
		buf[BATCH_OFF_MAGIC] = bad[i];
		assert_int_equal(validate_exact(buf, len, NULL), RL_EMAGIC);
	}
	/* Wrong magic wins over a wrong CRC: a v0/v1 message has no CRC32C. */
	assert_true(len > 0 && len <= sizeof(buf));
	buf[(len - 1) % sizeof(buf)] ^= 1; /* (the modulo: gcc -O3 cannot see len > 0) */
	assert_int_equal(validate_exact(buf, len, NULL), RL_EMAGIC);
	buf[BATCH_OFF_MAGIC] = 2;
	assert_int_equal(validate_exact(buf, len, NULL), RL_ECRC);
}

static void test_validate_refuses_overrunning_length(void **state)
{
	(void)state;
	uint8_t buf[256];
	size_t len = build_batch(buf, sizeof(buf), BATCH_CODEC_NONE, 3, 7);
	/* batchLength one more than the bytes given. */
	be32_store(buf + BATCH_OFF_LENGTH, (uint32_t)(len - 12 + 1));
	assert_int_equal(validate_exact(buf, len, NULL), RL_ETRUNCATED);
	/* A far-off length also reports truncation, not garbage, even when
	 * the magic is wrong too: the size is checked first. */
	be32_store(buf + BATCH_OFF_LENGTH, 0x7fff0000u);
	buf[BATCH_OFF_MAGIC] = 9;
	assert_int_equal(validate_exact(buf, len, NULL), RL_ETRUNCATED);
}

static void test_validate_refuses_short_batch_length(void **state)
{
	(void)state;
	uint8_t buf[256];
	size_t len = build_batch(buf, sizeof(buf), BATCH_CODEC_NONE, 3, 7);
	const uint32_t bad[] = {0, 1, 12, 48, 0x80000000u, 0xffffffffu};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		be32_store(buf + BATCH_OFF_LENGTH, bad[i]);
		assert_int_equal(validate_exact(buf, len, NULL), RL_EINVAL_BATCH);
	}
}

/* Change a covered field, re-checksum, and expect `want`. */
static void expect_field(uint8_t *buf, size_t len, size_t off, int width, uint32_t value,
                         int64_t want)
{
	uint8_t saved[4];
	memcpy(saved, buf + off, (size_t)width);
	if (width == 2)
		be16_store(buf + off, (uint16_t)value);
	else
		be32_store(buf + off, value);
	batch_crc_update(buf, len);
	int64_t got = validate_exact(buf, len, NULL);
	if (got != want)
		fail_msg("field @%zu = 0x%x: got %lld, want %lld", off, value, (long long)got,
		         (long long)want);
	memcpy(buf + off, saved, (size_t)width);
	batch_crc_update(buf, len);
}

static void test_validate_field_rules(void **state)
{
	(void)state;
	uint8_t buf[256];
	size_t len = build_batch(buf, sizeof(buf), BATCH_CODEC_NONE, 3, 7);
	int64_t ok = (int64_t)len;

	/* recordsCount < 0. */
	expect_field(buf, len, BATCH_OFF_RECORDS_COUNT, 4, (uint32_t)-1, RL_EINVAL_BATCH);
	expect_field(buf, len, BATCH_OFF_RECORDS_COUNT, 4, 0x80000000u, RL_EINVAL_BATCH);
	/* lastOffsetDelta < count - 1 (count 3), or negative. */
	expect_field(buf, len, BATCH_OFF_LAST_OFFSET_DELTA, 4, 1, RL_EINVAL_BATCH);
	expect_field(buf, len, BATCH_OFF_LAST_OFFSET_DELTA, 4, 0, RL_EINVAL_BATCH);
	expect_field(buf, len, BATCH_OFF_LAST_OFFSET_DELTA, 4, (uint32_t)-1, RL_EINVAL_BATCH);
	expect_field(buf, len, BATCH_OFF_LAST_OFFSET_DELTA, 4, 0x80000000u, RL_EINVAL_BATCH);
	/* lastOffsetDelta > count - 1: a compacted batch with gaps, fine. */
	expect_field(buf, len, BATCH_OFF_LAST_OFFSET_DELTA, 4, 3, ok);
	expect_field(buf, len, BATCH_OFF_LAST_OFFSET_DELTA, 4, INT32_MAX, ok);
	/* recordsCount 0 with lastOffsetDelta 0: an emptied batch, fine as a
	 * header (the records check is record.c's business). */
	be32_store(buf + BATCH_OFF_RECORDS_COUNT, 0);
	expect_field(buf, len, BATCH_OFF_LAST_OFFSET_DELTA, 4, 0, ok);
	expect_field(buf, len, BATCH_OFF_LAST_OFFSET_DELTA, 4, (uint32_t)-1, RL_EINVAL_BATCH);
	be32_store(buf + BATCH_OFF_RECORDS_COUNT, 3);
	batch_crc_update(buf, len);

	/* Codec 5..7 is impossible; 1..4 are valid headers. */
	for (uint32_t codec = 0; codec <= 7; codec++)
		expect_field(buf, len, BATCH_OFF_ATTRIBUTES, 2, codec,
		             codec <= 4 ? ok : RL_EINVAL_BATCH);
	/* The other attribute bits do not affect header validity. */
	expect_field(buf, len, BATCH_OFF_ATTRIBUTES, 2,
	             BATCH_ATTR_LOG_APPEND_TIME | BATCH_ATTR_TRANSACTIONAL | BATCH_ATTR_CONTROL |
	                     BATCH_ATTR_DELETE_HORIZON | BATCH_CODEC_ZSTD,
	             ok);
	expect_field(buf, len, BATCH_OFF_ATTRIBUTES, 2, 0xff80, ok);
	expect_field(buf, len, BATCH_OFF_ATTRIBUTES, 2, 0xff85, RL_EINVAL_BATCH);
	assert_int_equal(validate_exact(buf, len, NULL), ok);
}

/* A hand-made empty batch: batchLength 49 exactly, no records. */
static void test_validate_minimal_batch(void **state)
{
	(void)state;
	uint8_t buf[BATCH_HEADER_BYTES] = {0};
	be32_store(buf + BATCH_OFF_LENGTH, BATCH_MIN_LENGTH);
	buf[BATCH_OFF_MAGIC] = BATCH_MAGIC;
	batch_crc_update(buf, sizeof(buf));
	struct batch_header h;
	assert_int_equal(validate_exact(buf, sizeof(buf), &h), BATCH_HEADER_BYTES);
	assert_int_equal(h.bh_records_count, 0);
	/* The CRC of an all-zero covered region is a fixed, known value. */
	uint8_t zeros[BATCH_HEADER_BYTES - BATCH_CRC_START] = {0};
	assert_int_equal(h.bh_crc, crc32c(0, zeros, sizeof(zeros)));
}

/* Every prefix of a valid batch is refused as truncated, without a read
 * past the prefix. */
static void test_every_truncation_refused(void **state)
{
	(void)state;
	uint8_t buf[1024];
	const int codecs[] = {BATCH_CODEC_NONE, BATCH_CODEC_ZSTD};
	for (size_t c = 0; c < 2; c++) {
		size_t len = build_batch(buf, sizeof(buf), codecs[c], 20, 55);
		for (size_t cut = 0; cut < len; cut++) {
			int64_t rc = validate_exact(buf, cut, NULL);
			if (rc != RL_ETRUNCATED)
				fail_msg("codec %d: prefix %zu of %zu gave %lld", codecs[c], cut,
				         len, (long long)rc);
		}
		assert_int_equal(validate_exact(buf, len, NULL), (int64_t)len);
	}
}

/* ---- stamping in place ------------------------------------------------ */

static void test_stamp_keeps_crc_valid(void **state)
{
	(void)state;
	uint8_t buf[256];
	size_t len = hex_decode(kcat_batch_hex, buf, sizeof(buf));
	const int64_t offsets[] = {0, 1, 42, INT32_MAX, (int64_t)1 << 40, BATCH_MAX_BASE_OFFSET};
	const int32_t epochs[] = {0, 1, 7, -1, INT32_MAX};
	for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		for (size_t e = 0; e < sizeof(epochs) / sizeof(epochs[0]); e++) {
			batch_set_base_offset(buf, offsets[i]);
			batch_set_leader_epoch(buf, epochs[e]);
			struct batch_header h;
			assert_int_equal(validate_exact(buf, len, &h), 85);
			assert_int_equal(h.bh_crc, 0xf76d1e65u); /* untouched */
			assert_true(h.bh_base_offset == offsets[i]);
			assert_int_equal(h.bh_partition_leader_epoch, epochs[e]);
			assert_true(batch_last_offset(&h) == offsets[i] + 2);
			assert_true(batch_next_offset(&h) == offsets[i] + 3);
		}
	}
	/* baseOffset is outside the CRC, so its range is checked instead:
	 * negative, or so large that base + lastOffsetDelta + 1 overflows. */
	const int64_t bad[] = {-1, INT64_MIN, BATCH_MAX_BASE_OFFSET + 1, INT64_MAX};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		batch_set_base_offset(buf, bad[i]);
		assert_int_equal(batch_validate(buf, len, NULL), RL_EINVAL_BATCH);
	}
}

/* Changing a covered field (LogAppendTime rewrites maxTimestamp) needs a new
 * CRC; batch_crc_update makes the batch valid again. */
static void test_crc_update(void **state)
{
	(void)state;
	uint8_t buf[256];
	size_t len = hex_decode(kcat_batch_hex, buf, sizeof(buf));
	be16_store(buf + BATCH_OFF_ATTRIBUTES, BATCH_ATTR_LOG_APPEND_TIME);
	be64_store(buf + BATCH_OFF_MAX_TIMESTAMP, 1795822399000ull);
	assert_int_equal(validate_exact(buf, len, NULL), RL_ECRC);
	batch_crc_update(buf, len);
	struct batch_header h;
	assert_int_equal(validate_exact(buf, len, &h), 85);
	assert_int_equal(h.bh_crc, batch_crc_compute(buf, len));
	assert_int_not_equal(h.bh_crc, 0xf76d1e65u);
	assert_int_equal(h.bh_attributes, BATCH_ATTR_LOG_APPEND_TIME);
}

/* ---- the iterator ----------------------------------------------------- */

struct concat {
	uint8_t c_buf[8192];
	size_t c_len;
	size_t c_start[16];
	size_t c_size[16];
	int c_count;
};

static void concat_add(struct concat *c, const uint8_t *batch, size_t len)
{
	assert_true(c->c_len + len <= sizeof(c->c_buf) && c->c_count < 16);
	memcpy(c->c_buf + c->c_len, batch, len);
	c->c_start[c->c_count] = c->c_len;
	c->c_size[c->c_count] = len;
	c->c_count++;
	c->c_len += len;
}

/* Several batches end to end, of both codecs, plus the captured ones, with
 * base offsets stamped as a leader would. */
static void make_concat(struct concat *c)
{
	memset(c, 0, sizeof(*c));
	uint8_t one[2048];
	int64_t next = 0;
	for (int i = 0; i < 6; i++) {
		size_t len =
		        build_batch(one, sizeof(one), i % 2 ? BATCH_CODEC_ZSTD : BATCH_CODEC_NONE,
		                    1 + i * 7, 100 * i);
		batch_set_base_offset(one, next);
		next += 1 + i * 7;
		concat_add(c, one, len);
	}
	size_t len = hex_decode(kpy_batch_hex, one, sizeof(one));
	batch_set_base_offset(one, next);
	concat_add(c, one, len);
	len = hex_decode(kcat_batch_hex, one, sizeof(one));
	batch_set_base_offset(one, next + 1);
	concat_add(c, one, len);
}

static void test_iter_several_batches(void **state)
{
	(void)state;
	struct concat *c = malloc(sizeof(*c));
	assert_non_null(c);
	make_concat(c);
	uint8_t *buf = exact_copy(c->c_buf, c->c_len);

	struct batch_iter it;
	batch_iter_init(&it, buf, c->c_len);
	int64_t expect_offset = 0;
	for (int i = 0; i < c->c_count; i++) {
		struct batch_header h;
		const uint8_t *batch = NULL;
		size_t size = 0;
		assert_int_equal(batch_iter_next(&it, &h, &batch, &size), 1);
		assert_ptr_equal(batch, buf + c->c_start[i]);
		assert_int_equal(size, c->c_size[i]);
		assert_int_equal(it.bi_pos, c->c_start[i] + c->c_size[i]);
		assert_true(h.bh_base_offset == expect_offset);
		assert_int_equal(h.bh_batch_length + 12, (int32_t)size);
		expect_offset = batch_next_offset(&h);
	}
	struct batch_header h;
	const uint8_t *batch;
	size_t size;
	assert_int_equal(batch_iter_next(&it, &h, &batch, &size), 0);
	assert_int_equal(batch_iter_next(&it, &h, &batch, &size), 0); /* stays at the end */

	batch_iter_init(&it, NULL, 0);
	assert_int_equal(batch_iter_next(&it, &h, &batch, &size), 0);
	free(buf);
	free(c);
}

/* Walk until the first error; return how many batches came back before it. */
static int iter_until_error(const uint8_t *buf, size_t len, int *err, size_t *pos)
{
	struct batch_iter it;
	struct batch_header h;
	const uint8_t *batch;
	size_t size;
	int n = 0, rc;
	batch_iter_init(&it, buf, len);
	while ((rc = batch_iter_next(&it, &h, &batch, &size)) == 1)
		n++;
	*err = rc;
	*pos = it.bi_pos;
	/* The error is sticky: the iterator does not move past a bad batch. */
	if (rc < 0) {
		assert_int_equal(batch_iter_next(&it, &h, &batch, &size), rc);
		assert_int_equal(it.bi_pos, *pos);
	}
	return n;
}

static void test_iter_stops_at_corrupt_batch(void **state)
{
	(void)state;
	struct concat *c = malloc(sizeof(*c));
	assert_non_null(c);
	make_concat(c);
	int err;
	size_t pos;

	for (int bad = 0; bad < c->c_count; bad++) {
		size_t start = c->c_start[bad];
		/* A flipped byte in the records: RL_ECRC at that batch. */
		c->c_buf[start + c->c_size[bad] - 1] ^= 0x40;
		uint8_t *buf = exact_copy(c->c_buf, c->c_len);
		assert_int_equal(iter_until_error(buf, c->c_len, &err, &pos), bad);
		assert_int_equal(err, RL_ECRC);
		assert_int_equal(pos, start);
		free(buf);
		c->c_buf[start + c->c_size[bad] - 1] ^= 0x40;

		/* A wrong magic: RL_EMAGIC at that batch. */
		c->c_buf[start + BATCH_OFF_MAGIC] = 1;
		buf = exact_copy(c->c_buf, c->c_len);
		assert_int_equal(iter_until_error(buf, c->c_len, &err, &pos), bad);
		assert_int_equal(err, RL_EMAGIC);
		assert_int_equal(pos, start);
		free(buf);
		c->c_buf[start + BATCH_OFF_MAGIC] = 2;

		/* The buffer ends inside this batch (a Fetch response may end with
		 * a partial batch): RL_ETRUNCATED there, the earlier ones intact. */
		size_t cut = start + c->c_size[bad] / 2;
		buf = exact_copy(c->c_buf, cut);
		assert_int_equal(iter_until_error(buf, cut, &err, &pos), bad);
		assert_int_equal(err, RL_ETRUNCATED);
		assert_int_equal(pos, start);
		free(buf);
	}

	/* Fewer than 12 stray bytes after the last batch. */
	uint8_t *buf = malloc(c->c_len + 5);
	assert_non_null(buf);
	memcpy(buf, c->c_buf, c->c_len);
	memset(buf + c->c_len, 0, 5);
	assert_int_equal(iter_until_error(buf, c->c_len + 5, &err, &pos), c->c_count);
	assert_int_equal(err, RL_ETRUNCATED);
	assert_int_equal(pos, c->c_len);
	free(buf);
	free(c);
}

/* Each prefix of a buffer of batches yields exactly the batches that fit
 * whole, then a clean end (on a boundary) or RL_ETRUNCATED. */
static void test_iter_every_prefix(void **state)
{
	(void)state;
	struct concat *c = malloc(sizeof(*c));
	assert_non_null(c);
	make_concat(c);
	int whole = 0;
	for (size_t cut = 0; cut <= c->c_len; cut++) {
		while (whole < c->c_count && c->c_start[whole] + c->c_size[whole] <= cut)
			whole++;
		uint8_t *buf = exact_copy(c->c_buf, cut);
		int err;
		size_t pos;
		assert_int_equal(iter_until_error(buf, cut, &err, &pos), whole);
		size_t boundary = whole ? c->c_start[whole - 1] + c->c_size[whole - 1] : 0;
		assert_int_equal(pos, boundary);
		assert_int_equal(err, cut == boundary ? 0 : RL_ETRUNCATED);
		free(buf);
	}
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_capture_librdkafka_batch),
	        cmocka_unit_test(test_capture_kafka_python_batch),
	        cmocka_unit_test(test_capture_idempotent_batch),
	        cmocka_unit_test(test_capture_seeded_batches),
	        cmocka_unit_test(test_builder_reproduces_client_batches),
	        cmocka_unit_test(test_header_decode_every_field),
	        cmocka_unit_test(test_total_size),
	        cmocka_unit_test(test_codec_names),
	        cmocka_unit_test(test_validate_built_batch),
	        cmocka_unit_test(test_validate_refuses_wrong_crc),
	        cmocka_unit_test(test_validate_refuses_wrong_magic),
	        cmocka_unit_test(test_validate_refuses_overrunning_length),
	        cmocka_unit_test(test_validate_refuses_short_batch_length),
	        cmocka_unit_test(test_validate_field_rules),
	        cmocka_unit_test(test_validate_minimal_batch),
	        cmocka_unit_test(test_every_truncation_refused),
	        cmocka_unit_test(test_stamp_keeps_crc_valid),
	        cmocka_unit_test(test_crc_update),
	        cmocka_unit_test(test_iter_several_batches),
	        cmocka_unit_test(test_iter_stops_at_corrupt_batch),
	        cmocka_unit_test(test_iter_every_prefix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
