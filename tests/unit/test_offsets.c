/* Description: __consumer_offsets records (broker/offsets.h): Kafka's group
 * partitioning (Java's String.hashCode, Utils.abs) on known values, the key
 * and value layouts byte for byte, refusal of malformed records, and the
 * committed-offset table replayed in log order (later wins, tombstones
 * delete, group metadata skipped). */
#include "testutil.h"

#include "offsets.h"

static void test_java_hash_and_partition(void **state)
{
	assert_int_equal(ofs_java_hash("", 0), 0);
	assert_int_equal(ofs_java_hash("hello", 5), 99162322);
	assert_int_equal(ofs_java_hash("Hello", 5), 69609650);
	assert_int_equal(ofs_java_hash("\xc3\xa9", 2), 233);		 /* é: one UTF-16 unit */
	assert_int_equal(ofs_java_hash("\xf0\x9f\x98\x80", 4), 1772899); /* U+1F600: a pair */
	/* The famous string whose hashCode is Integer.MIN_VALUE: Kafka's
	 * Utils.abs maps it to 0. */
	assert_int_equal(ofs_java_hash("polygenelubricants", 18), INT32_MIN);
	assert_int_equal(ofs_partition_for("polygenelubricants", 50), 0);
	assert_int_equal(ofs_partition_for("hello", 50), 99162322 % 50);
	for (int n = 1; n < 60; n++) {
		int32_t p = ofs_partition_for("some-group", n);
		assert_true(p >= 0 && p < n);
	}
	/* A cut-short sequence counts as U+FFFD, like Java's decoder. */
	assert_int_equal(ofs_java_hash("\xc3", 1), 0xfffd);
}

static void test_key_and_value_layout(void **state)
{
	uint8_t buf[64];
	int32_t n = ofs_key_encode(buf, sizeof(buf), "g", "t", 1);
	static const uint8_t want_key[] = {0, 1, 0, 1, 'g', 0, 1, 't', 0, 0, 0, 1};
	assert_int_equal(n, sizeof(want_key));
	assert_memory_equal(buf, want_key, sizeof(want_key));
	struct ofs_key k;
	assert_int_equal(ofs_key_decode(buf, (size_t)n, &k), 0);
	assert_int_equal(k.version, 1);
	assert_int_equal(k.partition, 1);
	assert_int_equal(k.group_len, 1);
	assert_memory_equal(k.topic, "t", 1);

	struct ofs_commit c = {.offset = 0x0102030405060708,
			       .leader_epoch = 9,
			       .metadata = "m",
			       .commit_timestamp_ms = 10};
	n = ofs_value_encode(buf, sizeof(buf), &c);
	static const uint8_t want_val[] = {0, 3, 1, 2,	 3, 4, 5, 6, 7, 8, 0, 0, 0,
					   9, 0, 1, 'm', 0, 0, 0, 0, 0, 0, 0, 10};
	assert_int_equal(n, sizeof(want_val));
	assert_memory_equal(buf, want_val, sizeof(want_val));
	int64_t off, ts;
	int32_t ep;
	const char *md;
	int16_t ml;
	assert_int_equal(ofs_value_decode(buf, (size_t)n, &off, &ep, &md, &ml, &ts), 0);
	assert_true(off == c.offset && ep == 9 && ml == 1 && md[0] == 'm' && ts == 10);
	/* Version 1 values carry an expire timestamp and no epoch. */
	static const uint8_t v1[] = {0, 1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0,
				     0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 8};
	assert_int_equal(ofs_value_decode(v1, sizeof(v1), &off, &ep, &md, &ml, &ts), 0);
	assert_true(off == 5 && ep == -1 && ml == 0 && ts == 7);
	/* Every truncation, and trailing bytes, are refused. */
	for (size_t cut = 0; cut < sizeof(want_key); cut++)
		assert_int_equal(ofs_key_decode(want_key, cut, &k), -1);
	for (size_t cut = 0; cut < sizeof(want_val); cut++)
		assert_int_equal(ofs_value_decode(want_val, cut, &off, &ep, &md, &ml, &ts), -1);
	uint8_t longer[sizeof(want_key) + 1];
	memcpy(longer, want_key, sizeof(want_key));
	longer[sizeof(want_key)] = 0;
	assert_int_equal(ofs_key_decode(longer, sizeof(longer), &k), -1);
	assert_int_equal(ofs_key_encode(buf, 5, "group", "topic", 0), -1);
}

static void apply(struct ofs_table *t, const char *g, const char *tp, int32_t p, int64_t offset)
{
	uint8_t k[128], v[128];
	int32_t kl = ofs_key_encode(k, sizeof(k), g, tp, p);
	struct ofs_commit c = {
		.offset = offset, .leader_epoch = 1, .metadata = "", .commit_timestamp_ms = 0};
	if (offset < 0) {
		assert_int_equal(ofs_table_apply(t, k, (size_t)kl, NULL, 0), 0);
		return;
	}
	int32_t vl = ofs_value_encode(v, sizeof(v), &c);
	assert_int_equal(ofs_table_apply(t, k, (size_t)kl, v, (size_t)vl), 0);
}

static void test_table_replay(void **state)
{
	struct ofs_table *t = ofs_table_new();
	uint64_t seed = tu_seed(7);
	/* A model: the latest offset per (group, topic, partition). */
	static int64_t model[4][3][5];
	memset(model, 0xff, sizeof(model)); /* -1 = none */
	const char *groups[4] = {"a", "b", "c", "d"}, *topics[3] = {"x", "y", "z"};
	for (int i = 0; i < 20000; i++) {
		int g = (int)(tu_rand(&seed) % 4), tp = (int)(tu_rand(&seed) % 3),
		    p = (int)(tu_rand(&seed) % 5);
		int64_t off = tu_rand(&seed) % 10 == 0 ? -1 : (int64_t)(tu_rand(&seed) % 100000);
		apply(t, groups[g], topics[tp], p, off);
		model[g][tp][p] = off;
	}
	int64_t n = 0;
	for (int g = 0; g < 4; g++)
		for (int tp = 0; tp < 3; tp++)
			for (int p = 0; p < 5; p++) {
				struct ofs_commit c;
				bool have = ofs_table_get(t, groups[g], topics[tp], p, &c);
				assert_int_equal(have, model[g][tp][p] >= 0);
				if (have) {
					assert_int_equal(c.offset, model[g][tp][p]);
					n++;
				}
			}
	assert_int_equal(ofs_table_size(t), n);
	/* Group metadata records are skipped, garbage is counted. */
	static const uint8_t gm_key[] = {0, 2, 0, 1, 'a'};
	assert_int_equal(ofs_table_apply(t, gm_key, sizeof(gm_key), (const uint8_t *)"x", 1), 0);
	assert_int_equal(ofs_table_apply(t, (const uint8_t *)"\x00\x09", 2, NULL, 0), -1);
	assert_int_equal(ofs_table_bad_records(t), 1);
	assert_int_equal(ofs_table_size(t), n);
	int64_t in_a = 0;
	for (int tp = 0; tp < 3; tp++)
		for (int p = 0; p < 5; p++)
			in_a += model[0][tp][p] >= 0;
	assert_int_equal(ofs_table_drop_group(t, "a"), in_a);
	assert_int_equal(ofs_table_size(t), n - in_a);
	struct ofs_commit c;
	assert_false(ofs_table_get(t, "a", "x", 0, &c));
	ofs_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_java_hash_and_partition),
		cmocka_unit_test(test_key_and_value_layout),
		cmocka_unit_test(test_table_replay),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
