/* Description: libreplog's pieces that need no broker: Kafka's murmur2 and
 * partitioner (Kafka's own test vectors), receipt text round trips and
 * refusals, config checks that name the bad key, and calls that fail
 * cleanly against a port where nothing listens. */
#include "testutil.h"

#include <string.h>

#include "replog.h"

static void test_murmur2_matches_kafka_vectors(void **state)
{
	/* From Apache Kafka's UtilsTest.testMurmur2 (Java int values). */
	static const struct {
		const char *key;
		int32_t hash;
	} v[] = {
		{"21", -973932308},
		{"foobar", -790332482},
		{"a-little-bit-long-string", -985981536},
		{"a-little-bit-longer-string", -1486304829},
		{"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
		{"abc", 479470107},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		assert_int_equal((int32_t)replog_murmur2(v[i].key, strlen(v[i].key)), v[i].hash);
	/* toPositive then modulo, as DefaultPartitioner does. */
	assert_int_equal(replog_partition_for_key("21", 2, 7),
			 (int32_t)((uint32_t)-973932308 & 0x7fffffff) % 7);
	assert_int_equal(replog_partition_for_key("x", 1, 0), -1);
	for (int n = 1; n < 50; n++) {
		int32_t p = replog_partition_for_key("some-key", 8, n);
		assert_true(p >= 0 && p < n);
	}
}

static void test_receipt_round_trip(void **state)
{
	struct replog_receipt r = {.partition = 7,
				   .offset = 123456789012,
				   .leader_epoch = 42,
				   .batch_crc = 0xdeadbeef};
	strcpy(r.topic, "team:orders.v2"); /* a ':' in the topic is allowed */
	char buf[REPLOG_TOPIC_MAX + 64];
	int n = replog_receipt_format(&r, buf, sizeof(buf));
	assert_true(n > 0);
	assert_string_equal(buf, "team:orders.v2:7:123456789012:42:deadbeef");
	struct replog_receipt back;
	assert_int_equal(replog_receipt_parse(buf, &back), REPLOG_OK);
	assert_memory_equal(&back, &r, sizeof(r));
	assert_int_equal(replog_receipt_format(&r, buf, 10), -1);
}

static void test_receipt_parse_refuses(void **state)
{
	static const char *bad[] = {
		"",
		"t",
		"t:0:1:2",
		":0:1:2:ff",
		"t:-1:1:2:ff",
		"t:0:-5:2:ff",
		"t:0:1:-2:ff",
		"t:0:1:2:xyz",
		"t:0:1:2:1ffffffff",
		"t:a:1:2:ff",
		"t:0::2:ff",
		"t:0:1:2:",
	};
	struct replog_receipt r;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(replog_receipt_parse(bad[i], &r), REPLOG_ERR_ARG);
	assert_int_equal(replog_receipt_parse("t:0:1:-1:0\n", &r), REPLOG_OK);
	assert_int_equal(r.leader_epoch, -1);
}

static void test_config_errors_name_the_key(void **state)
{
	struct replog_config cfg;
	struct replog_error err;
	replog_config_init(&cfg);
	cfg.acks = 2;
	assert_null(replog_producer_new(&cfg, &err));
	assert_int_equal(err.code, REPLOG_ERR_ARG);
	assert_non_null(strstr(err.message, "acks"));

	replog_config_init(&cfg);
	cfg.bootstrap = "no-port-here";
	assert_null(replog_consumer_new(&cfg, &err));
	assert_int_equal(err.code, REPLOG_ERR_ARG);
	assert_non_null(strstr(err.message, "no-port-here"));

	replog_config_init(&cfg);
	cfg.compression = 1; /* gzip is not offered */
	assert_null(replog_admin_new(&cfg, &err));
	assert_non_null(strstr(err.message, "compression"));
	assert_string_equal(replog_err_name(REPLOG_ERR_TRUNCATED), "REPLOG_ERR_TRUNCATED");
	assert_string_equal(replog_receipt_status_name(REPLOG_RECEIPT_DISCARDED), "DISCARDED");
}

static void test_no_broker_is_an_error_value(void **state)
{
	struct replog_config cfg;
	struct replog_error err;
	replog_config_init(&cfg);
	cfg.bootstrap = "127.0.0.1:1"; /* nothing listens on port 1 */
	cfg.request_timeout_ms = 300;
	cfg.max_block_ms = 0;
	replog_producer *p = replog_producer_new(&cfg, &err);
	assert_non_null(p);
	assert_int_equal(
		replog_produce(p, "t", REPLOG_PARTITION_ANY, "k", 1, "v", 1, NULL, NULL, &err),
		REPLOG_ERR_TRANSPORT);
	assert_non_null(strstr(err.message, "127.0.0.1:1"));
	assert_int_equal(replog_producer_outstanding(p), 0);
	assert_int_equal(replog_producer_flush(p, 10, &err), REPLOG_OK);
	replog_producer_destroy(p);

	replog_admin *a = replog_admin_new(&cfg, &err);
	struct replog_receipt r = {.partition = 0, .offset = 0};
	strcpy(r.topic, "t");
	int status;
	assert_int_equal(replog_receipt_status(a, &r, &status, NULL, &err), REPLOG_ERR_TRANSPORT);
	replog_admin_destroy(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_murmur2_matches_kafka_vectors),
		cmocka_unit_test(test_receipt_round_trip),
		cmocka_unit_test(test_receipt_parse_refuses),
		cmocka_unit_test(test_config_errors_name_the_key),
		cmocka_unit_test(test_no_broker_is_an_error_value),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
