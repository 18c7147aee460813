/* Description: batch builder: fields, limits, zstd or fallback, seeded random round trip. */
#include "testutil.h"

#include "batch.h"
#include "batch_builder.h"
#include "compress.h"
#include "record.h"
#include "rlerr.h"

static const uint8_t ZSTD_MAGIC_BYTES[4] = {0x28, 0xb5, 0x2f, 0xfd};

static void test_init_errors(void **state)
{
	(void)state;
	struct batch_builder b;
	uint8_t buf[BATCH_HEADER_BYTES];
	assert_int_equal(batch_builder_init(&b, buf, BATCH_HEADER_BYTES - 1, BATCH_CODEC_NONE, 0,
	                                    -1, -1, -1),
	                 RL_ETOO_LARGE);
	assert_int_equal(batch_builder_init(&b, NULL, 0, BATCH_CODEC_NONE, 0, -1, -1, -1),
	                 RL_ETOO_LARGE);
	const int unsupported[] = {BATCH_CODEC_GZIP, BATCH_CODEC_SNAPPY, BATCH_CODEC_LZ4, 5, -1};
	for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++)
		assert_int_equal(
		        batch_builder_init(&b, buf, sizeof(buf), unsupported[i], 0, -1, -1, -1),
		        RL_EUNSUPPORTED);

	/* A header-sized buffer is a valid builder that cannot take a record. */
	assert_int_equal(batch_builder_init(&b, buf, sizeof(buf), BATCH_CODEC_NONE, 0, -1, -1, -1),
	                 0);
	assert_int_equal(b.bb_len, BATCH_HEADER_BYTES);
	assert_int_equal(batch_builder_add(&b, 0, NULL, -1, NULL, -1, NULL, 0), RL_ETOO_LARGE);
	/* And an empty batch is not something to send. */
	assert_int_equal(batch_builder_finish(&b), RL_EINVAL_BATCH);
}

static void test_header_fields(void **state)
{
	(void)state;
	uint8_t buf[512];
	struct batch_builder b;
	const int64_t base = 1795822398067;
	assert_int_equal(
	        batch_builder_init(&b, buf, sizeof(buf), BATCH_CODEC_NONE, base, 4242, 7, 100), 0);
	/* Timestamps out of order, one before the base: maxTimestamp is the max. */
	const int64_t ts[] = {base + 5, base - 1000, base + 90, base + 2};
	for (int i = 0; i < 4; i++)
		assert_int_equal(
		        batch_builder_add(&b, ts[i], NULL, -1, (const uint8_t *)"v", 1, NULL, 0),
		        0);
	int64_t total = batch_builder_finish(&b);
	assert_true(total > 0);

	struct batch_header h;
	assert_int_equal(batch_validate(buf, (size_t)total, &h), total);
	assert_int_equal(h.bh_base_offset, 0);
	assert_int_equal(h.bh_partition_leader_epoch, 0);
	assert_int_equal(h.bh_magic, 2);
	assert_int_equal(h.bh_attributes, 0);
	assert_int_equal(h.bh_last_offset_delta, 3);
	assert_int_equal(h.bh_records_count, 4);
	assert_true(h.bh_base_timestamp == base);
	assert_true(h.bh_max_timestamp == base + 90);
	assert_true(h.bh_producer_id == 4242);
	assert_int_equal(h.bh_producer_epoch, 7);
	assert_int_equal(h.bh_base_sequence, 100);
	assert_int_equal(h.bh_batch_length, total - 12);

	struct record_iter it;
	struct record r;
	record_iter_init(&it, buf + BATCH_HEADER_BYTES, (size_t)total - BATCH_HEADER_BYTES, 4);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(record_iter_next(&it, &r), 1);
		assert_true(r.r_timestamp_delta == ts[i] - base);
		assert_int_equal(r.r_offset_delta, i);
	}
	assert_int_equal(record_iter_next(&it, &r), 0);

	/* A single record before the base gives maxTimestamp < baseTimestamp. */
	assert_int_equal(
	        batch_builder_init(&b, buf, sizeof(buf), BATCH_CODEC_NONE, base, -1, -1, -1), 0);
	assert_int_equal(batch_builder_add(&b, base - 1, NULL, -1, NULL, -1, NULL, 0), 0);
	total = batch_builder_finish(&b);
	assert_int_equal(batch_validate(buf, (size_t)total, &h), total);
	assert_true(h.bh_max_timestamp == base - 1);
}

static void test_bad_arguments_leave_builder_unchanged(void **state)
{
	(void)state;
	uint8_t buf[512];
	struct batch_builder b;
	assert_int_equal(batch_builder_init(&b, buf, sizeof(buf), BATCH_CODEC_NONE, 0, -1, -1, -1),
	                 0);
	assert_int_equal(batch_builder_add(&b, 0, NULL, -1, (const uint8_t *)"ok", 2, NULL, 0), 0);
	size_t len = b.bb_len;
	const uint8_t *k = (const uint8_t *)"key";
	const struct batch_builder_header null_key = {NULL, -1, k, 3};
	const struct batch_builder_header neg_value = {k, 3, k, -2};
	const struct batch_builder_header null_ptr = {NULL, 3, NULL, -1};

	assert_int_equal(batch_builder_add(&b, 0, k, -2, k, 3, NULL, 0), RL_EINVAL_RECORD);
	assert_int_equal(batch_builder_add(&b, 0, k, 3, k, INT32_MIN, NULL, 0), RL_EINVAL_RECORD);
	assert_int_equal(batch_builder_add(&b, 0, NULL, 3, k, 3, NULL, 0), RL_EINVAL_RECORD);
	assert_int_equal(batch_builder_add(&b, 0, k, 3, k, 3, NULL, 1), RL_EINVAL_RECORD);
	assert_int_equal(batch_builder_add(&b, 0, k, 3, k, 3, &null_key, -1), RL_EINVAL_RECORD);
	assert_int_equal(batch_builder_add(&b, 0, k, 3, k, 3, &null_key, 1), RL_EINVAL_RECORD);
	assert_int_equal(batch_builder_add(&b, 0, k, 3, k, 3, &neg_value, 1), RL_EINVAL_RECORD);
	assert_int_equal(batch_builder_add(&b, 0, k, 3, k, 3, &null_ptr, 1), RL_EINVAL_RECORD);
	assert_int_equal(b.bb_len, len);
	assert_int_equal(b.bb_count, 1);

	/* A timestamp delta that does not fit int64. */
	assert_int_equal(
	        batch_builder_init(&b, buf, sizeof(buf), BATCH_CODEC_NONE, INT64_MAX, -1, -1, -1),
	        0);
	assert_int_equal(batch_builder_add(&b, -2, NULL, -1, NULL, -1, NULL, 0), RL_EINVAL_RECORD);
	assert_int_equal(batch_builder_add(&b, -1, NULL, -1, NULL, -1, NULL, 0),
	                 0); /* delta INT64_MIN */
	assert_true(batch_builder_finish(&b) > 0);

	/* A key pointer with length -1 is simply null. */
	assert_int_equal(batch_builder_init(&b, buf, sizeof(buf), BATCH_CODEC_NONE, 0, -1, -1, -1),
	                 0);
	assert_int_equal(batch_builder_add(&b, 0, k, -1, k, 0, NULL, 0), 0);
	int64_t total = batch_builder_finish(&b);
	struct record_iter it;
	struct record r;
	record_iter_init(&it, buf + BATCH_HEADER_BYTES, (size_t)total - BATCH_HEADER_BYTES, 1);
	assert_int_equal(record_iter_next(&it, &r), 1);
	assert_null(r.r_key);
	assert_int_equal(r.r_key_len, -1);
	assert_non_null(r.r_value);
	assert_int_equal(r.r_value_len, 0);
}

/* Fill to the brim: the record that does not fit is refused, nothing is
 * written past the capacity, and the batch still finishes. */
static void test_capacity(void **state)
{
	(void)state;
	uint8_t store[1024 + 64];
	memset(store, 0x5a, sizeof(store));
	const size_t cap = 1024;
	struct batch_builder b;
	assert_int_equal(batch_builder_init(&b, store, cap, BATCH_CODEC_NONE, 0, -1, -1, -1), 0);
	uint8_t value[40];
	memset(value, 'q', sizeof(value));
	int added = 0, rc;
	while ((rc = batch_builder_add(&b, added, NULL, -1, value, sizeof(value), NULL, 0)) == 0)
		added++;
	assert_int_equal(rc, RL_ETOO_LARGE);
	assert_true(added > 10);
	size_t len = b.bb_len;
	assert_true(len <= cap);
	/* A smaller record may still fit in what is left. */
	int small_ok = batch_builder_add(&b, 0, NULL, -1, NULL, -1, NULL, 0) == 0;
	if (small_ok)
		added++;
	assert_int_equal(b.bb_count, added);
	for (size_t i = cap; i < sizeof(store); i++)
		assert_int_equal(store[i], 0x5a);
	int64_t total = batch_builder_finish(&b);
	assert_true(total > 0 && (size_t)total <= cap);
	struct batch_header h;
	assert_int_equal(batch_validate(store, (size_t)total, &h), total);
	assert_int_equal(h.bh_records_count, added);

	/* Exact fit: header + one record of known size in exactly that room. */
	uint8_t exact[BATCH_HEADER_BYTES + 8];
	assert_int_equal(
	        batch_builder_init(&b, exact, sizeof(exact), BATCH_CODEC_NONE, 0, -1, -1, -1), 0);
	assert_int_equal(batch_builder_add(&b, 0, NULL, -1, (const uint8_t *)"a", 1, NULL, 0), 0);
	assert_int_equal(batch_builder_finish(&b), (int64_t)sizeof(exact));
	assert_int_equal(
	        batch_builder_init(&b, exact, sizeof(exact) - 1, BATCH_CODEC_NONE, 0, -1, -1, -1),
	        0);
	assert_int_equal(batch_builder_add(&b, 0, NULL, -1, (const uint8_t *)"a", 1, NULL, 0),
	                 RL_ETOO_LARGE);
}

/* Build the same records twice, with and without zstd. */
static int64_t build_text_batch(uint8_t *buf, size_t cap, int codec, int count)
{
	struct batch_builder b;
	assert_int_equal(batch_builder_init(&b, buf, cap, codec, 1795822433688, -1, -1, -1), 0);
	char value[300];
	for (int i = 0; i < count; i++) {
		int n = 0;
		while (n + 13 <= 260)
			n += snprintf(value + n, sizeof(value) - (size_t)n, "zstd-payload-");
		const struct batch_builder_header h = {(const uint8_t *)"trace", 5,
		                                       (const uint8_t *)value, i % 7};
		int rc = batch_builder_add(&b, 1795822433688 + i / 3, NULL, -1,
		                           (const uint8_t *)value, n, &h, i % 2);
		if (rc < 0)
			return rc;
	}
	return batch_builder_finish(&b);
}

static void test_zstd_batch(void **state)
{
	(void)state;
	enum { CAP = 64 * 1024 };
	uint8_t *plain = malloc(CAP), *zbuf = malloc(CAP), *out = malloc(CAP);
	assert_true(plain && zbuf && out);
	int64_t plain_len = build_text_batch(plain, CAP, BATCH_CODEC_NONE, 50);
	int64_t z_len = build_text_batch(zbuf, CAP, BATCH_CODEC_ZSTD, 50);
	assert_true(plain_len > 0 && z_len > 0);
	assert_true(z_len < plain_len / 10);

	struct batch_header hp, hz;
	assert_int_equal(batch_validate(plain, (size_t)plain_len, &hp), plain_len);
	assert_int_equal(batch_validate(zbuf, (size_t)z_len, &hz), z_len);
	assert_int_equal(batch_codec(&hz), BATCH_CODEC_ZSTD);
	assert_int_equal(batch_codec(&hp), BATCH_CODEC_NONE);
	assert_memory_equal(zbuf + BATCH_HEADER_BYTES, ZSTD_MAGIC_BYTES, 4);
	/* Same header apart from length, attributes and CRC. */
	assert_int_equal(hz.bh_records_count, hp.bh_records_count);
	assert_int_equal(hz.bh_last_offset_delta, hp.bh_last_offset_delta);
	assert_true(hz.bh_max_timestamp == hp.bh_max_timestamp);
	assert_true(hz.bh_base_timestamp == hp.bh_base_timestamp);

	/* The compressed region decodes to exactly the plain region. */
	size_t plain_records = (size_t)plain_len - BATCH_HEADER_BYTES;
	int64_t n = decompress_records(batch_codec(&hz), out, CAP, zbuf + BATCH_HEADER_BYTES,
	                               (size_t)z_len - BATCH_HEADER_BYTES);
	assert_int_equal(n, (int64_t)plain_records);
	assert_memory_equal(out, plain + BATCH_HEADER_BYTES, plain_records);
	assert_int_equal(
	        record_validate(out, (size_t)n, hz.bh_records_count, hz.bh_last_offset_delta, NULL),
	        0);
	/* And refuses to decode into less room than that. */
	assert_int_equal(decompress_records(BATCH_CODEC_ZSTD, out, plain_records - 1,
	                                    zbuf + BATCH_HEADER_BYTES,
	                                    (size_t)z_len - BATCH_HEADER_BYTES),
	                 RL_ETOO_LARGE);
	free(plain);
	free(zbuf);
	free(out);
}

/* When zstd does not make the records smaller, the batch goes out plain,
 * byte-identical to a batch built without compression. */
static void test_zstd_falls_back_to_none(void **state)
{
	(void)state;
	uint64_t seed = tu_seed(0xFA11);
	uint8_t noise[200];
	for (size_t i = 0; i < sizeof(noise); i++)
		noise[i] = (uint8_t)tu_rand(&seed);

	uint8_t a[2048], z[2048];
	struct batch_builder b;
	int64_t lens[2];
	uint8_t *bufs[2] = {a, z};
	const int codecs[2] = {BATCH_CODEC_NONE, BATCH_CODEC_ZSTD};
	for (int c = 0; c < 2; c++) {
		assert_int_equal(batch_builder_init(&b, bufs[c], 2048, codecs[c], 77, -1, -1, -1),
		                 0);
		assert_int_equal(batch_builder_add(&b, 77, noise, 16, noise + 16, 184, NULL, 0), 0);
		lens[c] = batch_builder_finish(&b);
	}
	assert_int_equal(lens[0], lens[1]);
	assert_memory_equal(a, z, (size_t)lens[0]);
	struct batch_header h;
	assert_int_equal(batch_validate(z, (size_t)lens[1], &h), lens[1]);
	assert_int_equal(batch_codec(&h), BATCH_CODEC_NONE);

	/* Compressible records but no scratch room after them: plain too. */
	enum { CAP = 64 * 1024 };
	uint8_t *plain = malloc(CAP), *tight = malloc(CAP);
	assert_true(plain && tight);
	int64_t plain_len = build_text_batch(plain, CAP, BATCH_CODEC_NONE, 20);
	int64_t tight_len = build_text_batch(tight, (size_t)plain_len, BATCH_CODEC_ZSTD, 20);
	assert_int_equal(tight_len, plain_len);
	assert_memory_equal(tight, plain, (size_t)plain_len);
	/* A little room is enough for this very compressible data. */
	int64_t some_len = build_text_batch(tight, (size_t)plain_len + 1000, BATCH_CODEC_ZSTD, 20);
	assert_true(some_len < plain_len);
	assert_int_equal(batch_validate(tight, (size_t)some_len, &h), some_len);
	assert_int_equal(batch_codec(&h), BATCH_CODEC_ZSTD);
	free(plain);
	free(tight);
}

/* ---- seeded random round trip --------------------------------------- */

#define RT_MAX_RECORDS 64
#define RT_MAX_HEADERS 4

struct rt_record {
	int64_t rr_ts;
	int32_t rr_key_len, rr_value_len;
	const uint8_t *rr_key, *rr_value;
	struct batch_builder_header rr_hdrs[RT_MAX_HEADERS];
	int rr_nhdrs;
};

/* A length from a distribution that favours the edges: null, empty, tiny,
 * medium, and now and then large. */
static int32_t rt_len(uint64_t *seed, int nullable)
{
	switch (tu_rand(seed) % 8) {
	case 0:
		return nullable ? -1 : 0;
	case 1:
		return 0;
	case 2:
		return 1;
	case 7:
		return (int32_t)(tu_rand(seed) % 3000);
	default:
		return (int32_t)(tu_rand(seed) % 64);
	}
}

static void rt_check_batch(const uint8_t *batch, int64_t total, const struct rt_record *recs,
                           int count, int64_t base_ts, uint8_t *scratch, size_t scratch_cap)
{
	struct batch_header h;
	assert_int_equal(batch_validate(batch, (size_t)total, &h), total);
	assert_int_equal(h.bh_records_count, count);
	assert_int_equal(h.bh_last_offset_delta, count - 1);
	int64_t max_ts = recs[0].rr_ts;
	for (int i = 1; i < count; i++)
		max_ts = recs[i].rr_ts > max_ts ? recs[i].rr_ts : max_ts;
	assert_true(h.bh_max_timestamp == max_ts);
	assert_true(h.bh_base_timestamp == base_ts);

	const uint8_t *region = batch + BATCH_HEADER_BYTES;
	size_t region_len = (size_t)total - BATCH_HEADER_BYTES;
	if (batch_codec(&h) == BATCH_CODEC_ZSTD)
		assert_memory_equal(region, ZSTD_MAGIC_BYTES, 4);
	int64_t n = decompress_records(batch_codec(&h), scratch, scratch_cap, region, region_len);
	assert_true(n > 0);
	int32_t bad = 0;
	assert_int_equal(record_validate(scratch, (size_t)n, count, h.bh_last_offset_delta, &bad),
	                 0);

	struct record_iter it;
	struct record r;
	record_iter_init(&it, scratch, (size_t)n, count);
	for (int i = 0; i < count; i++) {
		const struct rt_record *want = &recs[i];
		assert_int_equal(record_iter_next(&it, &r), 1);
		assert_int_equal(r.r_offset_delta, i);
		assert_true(h.bh_base_timestamp + r.r_timestamp_delta == want->rr_ts);
		assert_int_equal(r.r_key_len, want->rr_key_len);
		assert_int_equal(r.r_value_len, want->rr_value_len);
		if (want->rr_key_len < 0)
			assert_null(r.r_key);
		else if (want->rr_key_len > 0)
			assert_memory_equal(r.r_key, want->rr_key, (size_t)want->rr_key_len);
		if (want->rr_value_len < 0)
			assert_null(r.r_value);
		else if (want->rr_value_len > 0)
			assert_memory_equal(r.r_value, want->rr_value, (size_t)want->rr_value_len);
		assert_int_equal(r.r_header_count, want->rr_nhdrs);

		struct record_header_iter hi;
		struct record_header rh;
		record_header_iter_init(&hi, &r);
		for (int k = 0; k < want->rr_nhdrs; k++) {
			const struct batch_builder_header *wh = &want->rr_hdrs[k];
			assert_int_equal(record_header_iter_next(&hi, &rh), 1);
			assert_int_equal(rh.rh_key_len, wh->bbh_key_len);
			if (wh->bbh_key_len > 0)
				assert_memory_equal(rh.rh_key, wh->bbh_key,
				                    (size_t)wh->bbh_key_len);
			assert_int_equal(rh.rh_value_len, wh->bbh_value_len);
			if (wh->bbh_value_len < 0)
				assert_null(rh.rh_value);
			else if (wh->bbh_value_len > 0)
				assert_memory_equal(rh.rh_value, wh->bbh_value,
				                    (size_t)wh->bbh_value_len);
		}
		assert_int_equal(record_header_iter_next(&hi, &rh), 0);
	}
	assert_int_equal(record_iter_next(&it, &r), 0);
}

static void test_random_roundtrip(void **state)
{
	(void)state;
	uint64_t seed = tu_seed(0x2EC02D5);
	enum { POOL = 8192, CAP = 1 << 20 };
	uint8_t *pool = malloc(POOL);
	uint8_t *buf = malloc(CAP), *scratch = malloc(CAP);
	struct rt_record *recs = calloc(RT_MAX_RECORDS, sizeof(*recs));
	assert_true(pool && buf && scratch && recs);
	/* Half noise, half repetitive text, so zstd sometimes wins and
	 * sometimes falls back. */
	for (size_t i = 0; i < POOL; i++)
		pool[i] = i < POOL / 2 ? (uint8_t)tu_rand(&seed) : (uint8_t)("record-"[i % 7]);

	int zstd_used = 0, zstd_fallback = 0;
	for (int round = 0; round < 400; round++) {
		int codec = tu_rand(&seed) % 2 ? BATCH_CODEC_ZSTD : BATCH_CODEC_NONE;
		int count = 1 + (int)(tu_rand(&seed) % RT_MAX_RECORDS);
		int64_t base_ts = (int64_t)(tu_rand(&seed) % (1ull << 42));
		int64_t pid = tu_rand(&seed) % 4 ? -1 : (int64_t)(tu_rand(&seed) >> 2);
		struct batch_builder b;
		assert_int_equal(batch_builder_init(&b, buf, CAP, codec, base_ts, pid,
		                                    pid < 0 ? -1 : 3, pid < 0 ? -1 : round),
		                 0);
		for (int i = 0; i < count; i++) {
			struct rt_record *r = &recs[i];
			r->rr_ts = base_ts + (int64_t)(tu_rand(&seed) % 20000) - 5000;
			r->rr_key_len = rt_len(&seed, 1);
			r->rr_value_len = rt_len(&seed, 1);
			r->rr_key = pool + tu_rand(&seed) % (POOL - 3000);
			r->rr_value = pool + tu_rand(&seed) % (POOL - 3000);
			r->rr_nhdrs = (int)(tu_rand(&seed) % (RT_MAX_HEADERS + 1));
			for (int k = 0; k < r->rr_nhdrs; k++) {
				struct batch_builder_header *hh = &r->rr_hdrs[k];
				hh->bbh_key_len = rt_len(&seed, 0);
				hh->bbh_key = pool + tu_rand(&seed) % (POOL - 3000);
				hh->bbh_value_len = rt_len(&seed, 1);
				hh->bbh_value = hh->bbh_value_len < 0
				                        ? NULL
				                        : pool + tu_rand(&seed) % (POOL - 3000);
			}
			assert_int_equal(batch_builder_add(&b, r->rr_ts, r->rr_key, r->rr_key_len,
			                                   r->rr_value, r->rr_value_len, r->rr_hdrs,
			                                   r->rr_nhdrs),
			                 0);
		}
		int64_t total = batch_builder_finish(&b);
		assert_true(total > 0);
		rt_check_batch(buf, total, recs, count, base_ts, scratch, CAP);

		struct batch_header h;
		assert_int_equal(batch_validate(buf, (size_t)total, &h), total);
		if (codec == BATCH_CODEC_ZSTD)
			batch_codec(&h) == BATCH_CODEC_ZSTD ? zstd_used++ : zstd_fallback++;
		/* A leader stamps it; still valid, same records. */
		batch_set_base_offset(buf, (int64_t)round * 1000);
		batch_set_leader_epoch(buf, round);
		rt_check_batch(buf, total, recs, count, base_ts, scratch, CAP);
	}
	/* The seed exercises both outcomes of the compression choice. */
	assert_true(zstd_used > 0);
	assert_true(zstd_fallback > 0);
	free(recs);
	free(scratch);
	free(buf);
	free(pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_init_errors),
	        cmocka_unit_test(test_header_fields),
	        cmocka_unit_test(test_bad_arguments_leave_builder_unchanged),
	        cmocka_unit_test(test_capacity),
	        cmocka_unit_test(test_zstd_batch),
	        cmocka_unit_test(test_zstd_falls_back_to_none),
	        cmocka_unit_test(test_random_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
