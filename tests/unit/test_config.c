/* Description: replogd config: defaults, every key, each error with its line, round trips. */
#include "testutil.h"

#include <errno.h>
#include <string.h>

#include "config.h"

/* Load yaml as "t.yaml" and expect exactly this error. */
static void expect_err(const char *yaml, const char *want)
{
	static struct broker_config c;
	char err[CONFIG_ERROR_MAX] = "";

	assert_int_equal(config_load_string(&c, yaml, strlen(yaml), "t.yaml", err, sizeof(err)),
			 -1);
	assert_string_equal(err, want);
}

static void load_ok(struct broker_config *c, const char *yaml)
{
	char err[CONFIG_ERROR_MAX] = "";
	int rc = config_load_string(c, yaml, strlen(yaml), "t.yaml", err, sizeof(err));
	if (rc != 0)
		fail_msg("unexpected error: %s", err);
}

static const char full_yaml[] = "broker:\n"
				"  id: 2\n"
				"  listen: 0.0.0.0:9093\n"
				"  advertised: 10.0.0.2:9093\n"
				"  data_dir: /var/lib/replog/2\n"
				"cluster:\n"
				"  controllers: [1, 2, 3]\n"
				"  brokers:\n"
				"    - {id: 1, address: \"10.0.0.1:9092\"}\n"
				"    - id: 2\n"
				"      address: 10.0.0.2:9093\n"
				"    - {id: 3, address: \"[fd00::3]:9094\", peer_address: "
				"\"10.1.0.3:19094\"}\n"
				"topic_defaults:\n"
				"  partitions: 3\n"
				"  replication_factor: 3\n"
				"  min_insync_replicas: 2\n"
				"  segment_bytes: 536870912\n"
				"  segment_ms: 3600000\n"
				"  retention_ms: -1\n"
				"  retention_bytes: 10737418240\n"
				"  max_message_bytes: 2097152\n"
				"  unclean_leader_election: true\n"
				"  acks_all_durability: replicated\n"
				"  cleanup_policy: compact\n"
				"replication: {lag_max_ms: 5000, session_timeout_ms: 3000}\n"
				"flush:\n"
				"  interval_ms: 50\n"
				"  bytes: 1048576\n"
				"auto_create_topics: false\n"
				"limits:\n"
				"  max_request_bytes: 1048576\n"
				"  max_connections: 100\n"
				"  max_inflight_requests: 8\n"
				"  max_connection_buffer_bytes: 8388608\n"
				"  max_fetch_wait_ms: 1000\n"
				"log:\n"
				"  level: debug\n";

/* A three-broker cluster, this broker is 1; tests append to it. */
#define CLUSTER3                                                                                   \
	"broker: {id: 1, listen: 127.0.0.1:9092}\n"                                                \
	"cluster:\n"                                                                               \
	"  brokers:\n"                                                                             \
	"    - {id: 1, address: 127.0.0.1:9092}\n"                                                 \
	"    - {id: 2, address: 127.0.0.1:9093}\n"                                                 \
	"    - {id: 3, address: 127.0.0.1:9094}\n"

static void check_defaults(const struct broker_config *c)
{
	const struct topic_config *tc = &c->bc_topic_defaults;

	assert_int_equal(c->bc_id, 1);
	assert_string_equal(c->bc_listen, "127.0.0.1:9092");
	assert_string_equal(c->bc_advertised, "127.0.0.1:9092");
	assert_string_equal(c->bc_data_dir, "./replog-data");
	assert_int_equal(c->bc_controller_count, 1);
	assert_int_equal(c->bc_controllers[0], 1);
	assert_int_equal(c->bc_broker_count, 1);
	assert_int_equal(c->bc_brokers[0].cba_id, 1);
	assert_string_equal(c->bc_brokers[0].cba_address, "127.0.0.1:9092");
	assert_int_equal(tc->tc_partitions, 1);
	assert_int_equal(tc->tc_replication_factor, 1);
	assert_int_equal(tc->tc_min_insync_replicas, 1);
	assert_int_equal(tc->tc_segment_bytes, 1073741824);
	assert_int_equal(tc->tc_segment_ms, 604800000);
	assert_int_equal(tc->tc_retention_ms, 604800000);
	assert_int_equal(tc->tc_retention_bytes, -1);
	assert_int_equal(tc->tc_max_message_bytes, 1048588);
	assert_false(tc->tc_unclean_leader_election);
	assert_int_equal(tc->tc_acks_all_durability, CONFIG_DURABILITY_FSYNC);
	assert_int_equal(tc->tc_cleanup_policy, CONFIG_CLEANUP_DELETE);
	assert_true(c->bc_auto_create_topics);
	assert_int_equal(c->bc_lag_max_ms, 10000);
	assert_int_equal(c->bc_session_timeout_ms, 6000);
	assert_int_equal(c->bc_flush_interval_ms, 0);
	assert_int_equal(c->bc_flush_bytes, 0);
	assert_int_equal(c->bc_compaction_interval_ms, 30000);
	assert_int_equal(c->bc_max_request_bytes, 104857600);
	assert_int_equal(c->bc_max_connections, 1024);
	assert_int_equal(c->bc_max_inflight_requests, 64);
	assert_int_equal(c->bc_max_connection_buffer_bytes, 67108864);
	assert_int_equal(c->bc_max_fetch_wait_ms, 30000);
	assert_int_equal(c->bc_log_level, CONFIG_LOG_INFO);
}

static void test_default_is_valid(void **state)
{
	static struct broker_config c;
	char err[CONFIG_ERROR_MAX] = "";

	(void)state;
	config_default(&c);
	check_defaults(&c);
	assert_string_equal(c.bc_source, "(embedded default)");
	assert_int_equal(config_validate(&c, err, sizeof(err)), 0);
	assert_int_equal(topic_config_validate(&c.bc_topic_defaults, 1, err, sizeof(err)), 0);
}

static void test_empty_file_is_default(void **state)
{
	static struct broker_config c, d;
	static const char *const empties[] = {"", "# nothing here\n\n", "---\n", "---\n...\n"};

	(void)state;
	config_default(&d);
	for (size_t i = 0; i < sizeof(empties) / sizeof(empties[0]); i++) {
		load_ok(&c, empties[i]);
		check_defaults(&c);
		assert_string_equal(c.bc_source, "t.yaml");
		memcpy(c.bc_source, d.bc_source, sizeof(c.bc_source));
		assert_memory_equal(&c, &d, sizeof(c));
	}
	/* Sections with nothing under them are empty, not errors. */
	load_ok(&c, "broker:\nflush:\nlimits: # later\n");
	check_defaults(&c);
}

static void test_full_file(void **state)
{
	static struct broker_config c;
	const struct topic_config *tc = &c.bc_topic_defaults;

	(void)state;
	load_ok(&c, full_yaml);
	assert_int_equal(c.bc_id, 2);
	assert_string_equal(c.bc_listen, "0.0.0.0:9093");
	assert_string_equal(c.bc_advertised, "10.0.0.2:9093");
	assert_string_equal(c.bc_data_dir, "/var/lib/replog/2");
	assert_int_equal(c.bc_controller_count, 3);
	assert_int_equal(c.bc_controllers[0], 1);
	assert_int_equal(c.bc_controllers[1], 2);
	assert_int_equal(c.bc_controllers[2], 3);
	assert_int_equal(c.bc_broker_count, 3);
	assert_int_equal(c.bc_brokers[0].cba_id, 1);
	assert_string_equal(c.bc_brokers[0].cba_address, "10.0.0.1:9092");
	assert_int_equal(c.bc_brokers[1].cba_id, 2);
	assert_string_equal(c.bc_brokers[1].cba_address, "10.0.0.2:9093");
	assert_int_equal(c.bc_brokers[2].cba_id, 3);
	assert_string_equal(c.bc_brokers[2].cba_address, "[fd00::3]:9094");
	assert_string_equal(c.bc_brokers[2].cba_peer_address, "10.1.0.3:19094");
	assert_string_equal(c.bc_brokers[0].cba_peer_address, "");
	assert_string_equal(config_peer_address(&c, 3), "10.1.0.3:19094");
	assert_null(config_peer_address(&c, 1)); /* dial `address` */
	assert_null(config_peer_address(&c, 9)); /* not listed */
	assert_int_equal(tc->tc_partitions, 3);
	assert_int_equal(tc->tc_replication_factor, 3);
	assert_int_equal(tc->tc_min_insync_replicas, 2);
	assert_int_equal(tc->tc_segment_bytes, 536870912);
	assert_int_equal(tc->tc_segment_ms, 3600000);
	assert_int_equal(tc->tc_retention_ms, -1);
	assert_int_equal(tc->tc_retention_bytes, 10737418240);
	assert_int_equal(tc->tc_max_message_bytes, 2097152);
	assert_true(tc->tc_unclean_leader_election);
	assert_int_equal(tc->tc_acks_all_durability, CONFIG_DURABILITY_REPLICATED);
	assert_int_equal(tc->tc_cleanup_policy, CONFIG_CLEANUP_COMPACT);
	assert_int_equal(c.bc_lag_max_ms, 5000);
	assert_int_equal(c.bc_session_timeout_ms, 3000);
	assert_int_equal(c.bc_flush_interval_ms, 50);
	assert_int_equal(c.bc_flush_bytes, 1048576);
	assert_false(c.bc_auto_create_topics);
	assert_int_equal(c.bc_max_request_bytes, 1048576);
	assert_int_equal(c.bc_max_connections, 100);
	assert_int_equal(c.bc_max_inflight_requests, 8);
	assert_int_equal(c.bc_max_connection_buffer_bytes, 8388608);
	assert_int_equal(c.bc_max_fetch_wait_ms, 1000);
	assert_int_equal(c.bc_log_level, CONFIG_LOG_DEBUG);
	assert_string_equal(c.bc_source, "t.yaml");
}

static void test_derived_defaults(void **state)
{
	static struct broker_config c;

	(void)state;
	/* advertised = listen; brokers = just this one; controller = this one */
	load_ok(&c, "broker:\n  id: 7\n  listen: \"[::1]:9500\"\n");
	assert_string_equal(c.bc_advertised, "[::1]:9500");
	assert_int_equal(c.bc_broker_count, 1);
	assert_int_equal(c.bc_brokers[0].cba_id, 7);
	assert_string_equal(c.bc_brokers[0].cba_address, "[::1]:9500");
	assert_int_equal(c.bc_controller_count, 1);
	assert_int_equal(c.bc_controllers[0], 7);

	load_ok(&c, CLUSTER3 "  controller: 2\n");
	assert_int_equal(c.bc_controller_count, 1);
	assert_int_equal(c.bc_controllers[0], 2);
	assert_int_equal(c.bc_broker_count, 3);

	load_ok(&c, CLUSTER3 "  controllers:\n    - 3\n    - 2\n    - 1\n");
	assert_int_equal(c.bc_controller_count, 3);
	assert_int_equal(c.bc_controllers[0], 3);
	assert_int_equal(c.bc_controllers[2], 1);
}

static void test_unknown_keys(void **state)
{
	(void)state;
	expect_err("broker:\n  id: 1\nbrokr:\n  id: 2\n",
		   "t.yaml:3: brokr: unknown key (allowed at the top level: broker, cluster, "
		   "topic_defaults, replication, flush, compaction, auto_create_topics, limits, "
		   "metrics, "
		   "log)");
	expect_err("broker:\n  id: 1\n  listn: 127.0.0.1:9092\n",
		   "t.yaml:3: broker.listn: unknown key (allowed in broker: id, listen, "
		   "advertised, data_dir, controller_only)");
	expect_err("topic_defaults:\n  partitions: 3\n  retention.ms: 1000\n",
		   "t.yaml:3: topic_defaults.retention.ms: unknown key (allowed in "
		   "topic_defaults: partitions, replication_factor, min_insync_replicas, "
		   "segment_bytes, segment_ms, retention_ms, retention_bytes, max_message_bytes, "
		   "unclean_leader_election, acks_all_durability, cleanup_policy)");
	/* A dotted key is not a path. */
	expect_err("broker.id: 3\n",
		   "t.yaml:1: broker.id: unknown key (allowed at the top level: broker, cluster, "
		   "topic_defaults, replication, flush, compaction, auto_create_topics, limits, "
		   "metrics, "
		   "log)");
	expect_err(CLUSTER3 "    - {id: 4, address: 127.0.0.1:9095, rack: a}\n",
		   "t.yaml:7: cluster.brokers[3].rack: unknown key (allowed in "
		   "cluster.brokers[3]: id, address, peer_address)");
	expect_err("log:\n  level: info\n  file: /tmp/x\n",
		   "t.yaml:3: log.file: unknown key (allowed in log: level)");
}

static void test_wrong_types(void **state)
{
	(void)state;
	expect_err("broker:\n  id: one\n", "t.yaml:2: broker.id: expected integer, got 'one'");
	expect_err("broker:\n  id: \"1\"\n",
		   "t.yaml:2: broker.id: expected integer, got quoted string '1'");
	expect_err("broker:\n  id:\n", "t.yaml:2: broker.id: expected integer, got null");
	expect_err("broker:\n  id: [1]\n", "t.yaml:2: broker.id: expected integer, got list");
	expect_err("flush:\n  bytes: 1.5\n", "t.yaml:2: flush.bytes: expected integer, got '1.5'");
	expect_err("flush:\n  bytes: 0x10\n",
		   "t.yaml:2: flush.bytes: expected integer, got '0x10'");
	expect_err("flush:\n  bytes: 1e6\n", "t.yaml:2: flush.bytes: expected integer, got '1e6'");
	expect_err("flush:\n  bytes: +5\n", "t.yaml:2: flush.bytes: expected integer, got '+5'");
	expect_err("flush:\n  bytes: 010\n",
		   "t.yaml:2: flush.bytes: expected a decimal integer without leading zeros, got "
		   "'010'");
	expect_err("auto_create_topics: yes\n",
		   "t.yaml:1: auto_create_topics: expected boolean (true or false), got 'yes'");
	expect_err("auto_create_topics: True\n",
		   "t.yaml:1: auto_create_topics: expected boolean (true or false), got 'True'");
	expect_err("auto_create_topics: 1\n",
		   "t.yaml:1: auto_create_topics: expected boolean (true or false), got '1'");
	expect_err("topic_defaults:\n  unclean_leader_election: \"false\"\n",
		   "t.yaml:2: topic_defaults.unclean_leader_election: expected boolean (true or "
		   "false), got quoted string 'false'");
	expect_err("broker:\n  listen: {host: a}\n",
		   "t.yaml:2: broker.listen: expected string, got mapping");
	expect_err("broker:\n  data_dir: ~\n",
		   "t.yaml:2: broker.data_dir: expected string, got null");
	expect_err("broker: 1\n", "t.yaml:1: broker: expected mapping, got '1'");
	expect_err("flush: [1, 2]\n", "t.yaml:1: flush: expected mapping, got list");
	expect_err("cluster:\n  brokers: {id: 1}\n",
		   "t.yaml:2: cluster.brokers: expected list, got mapping");
	expect_err("cluster:\n  brokers:\n    - 1\n",
		   "t.yaml:3: cluster.brokers[0]: expected mapping {id, address}, got '1'");
	expect_err("cluster:\n  controllers: 1\n",
		   "t.yaml:2: cluster.controllers: expected list, got '1'");
	expect_err("cluster:\n  controllers: [1, x, 3]\n",
		   "t.yaml:2: cluster.controllers[1]: expected integer, got 'x'");
	expect_err("cluster:\n  controllers:\n    - 1\n    - [2]\n    - 3\n",
		   "t.yaml:4: cluster.controllers[1]: expected integer, got list");
	expect_err("[1, 2]\n", "t.yaml:1: expected a mapping of sections (broker, cluster, ...) "
			       "at the top level, got list");
	expect_err("hello\n", "t.yaml:1: expected a mapping of sections (broker, cluster, ...) "
			      "at the top level, got 'hello'");
	expect_err("? [a]\n: 1\n", "t.yaml:1: keys must be names, got list");
}

static void test_out_of_range(void **state)
{
	(void)state;
	/* the header's own example */
	expect_err("broker:\n  id: 1\n\ntopic_defaults:\n  partitions: 2\n\n  segment_bytes: 12\n",
		   "t.yaml:7: topic_defaults.segment_bytes: must be between 1048576 and "
		   "2147483647, got 12");
	expect_err("broker:\n  id: -1\n",
		   "t.yaml:2: broker.id: must be between 0 and 2147483647, got -1");
	expect_err("broker:\n  id: 2147483648\n",
		   "t.yaml:2: broker.id: must be between 0 and 2147483647, got 2147483648");
	expect_err("broker:\n  id: 99999999999999999999\n",
		   "t.yaml:2: broker.id: must be between 0 and 2147483647, got "
		   "99999999999999999999");
	expect_err("flush:\n  bytes: -99999999999999999999\n",
		   "t.yaml:2: flush.bytes: must be >= 0, got -99999999999999999999");
	expect_err("flush:\n  bytes: 9223372036854775808\n",
		   "t.yaml:2: flush.bytes: must be >= 0, got 9223372036854775808");
	expect_err("topic_defaults:\n  partitions: 0\n",
		   "t.yaml:2: topic_defaults.partitions: must be between 1 and 10000, got 0");
	expect_err("topic_defaults:\n  partitions: 10001\n",
		   "t.yaml:2: topic_defaults.partitions: must be between 1 and 10000, got 10001");
	expect_err("topic_defaults:\n  replication_factor: 65\n",
		   "t.yaml:2: topic_defaults.replication_factor: must be between 1 and 64, got 65");
	expect_err("topic_defaults:\n  retention_ms: 999\n",
		   "t.yaml:2: topic_defaults.retention_ms: must be -1 or >= 1000, got 999");
	expect_err("topic_defaults:\n  retention_ms: -2\n",
		   "t.yaml:2: topic_defaults.retention_ms: must be -1 or >= 1000, got -2");
	expect_err("topic_defaults:\n  retention_bytes: 1000\n",
		   "t.yaml:2: topic_defaults.retention_bytes: must be -1 or >= 1048576, got 1000");
	expect_err("topic_defaults:\n  segment_ms: -1\n",
		   "t.yaml:2: topic_defaults.segment_ms: must be >= 1000, got -1");
	expect_err("topic_defaults:\n  max_message_bytes: 100\n",
		   "t.yaml:2: topic_defaults.max_message_bytes: must be between 1024 and "
		   "2147483647, got 100");
	expect_err("replication:\n  lag_max_ms: 99\n",
		   "t.yaml:2: replication.lag_max_ms: must be between 100 and 3600000, got 99");
	expect_err("replication: {session_timeout_ms: 3600001}\n",
		   "t.yaml:1: replication.session_timeout_ms: must be between 100 and 3600000, got "
		   "3600001");
	expect_err("compaction:\n  interval_ms: 99\n",
		   "t.yaml:2: compaction.interval_ms: must be between 100 and 86400000, got 99");
	expect_err("flush:\n  interval_ms: -5\n",
		   "t.yaml:2: flush.interval_ms: must be between 0 and 3600000, got -5");
	expect_err("limits:\n  max_connections: 0\n",
		   "t.yaml:2: limits.max_connections: must be between 1 and 65536, got 0");
	expect_err("limits:\n  max_inflight_requests: 1025\n",
		   "t.yaml:2: limits.max_inflight_requests: must be between 1 and 1024, got 1025");
	expect_err("limits:\n  max_request_bytes: 10\n",
		   "t.yaml:2: limits.max_request_bytes: must be between 1024 and 2147483647, got "
		   "10");
	expect_err("limits:\n  max_connection_buffer_bytes: 1\n",
		   "t.yaml:2: limits.max_connection_buffer_bytes: must be >= 65536, got 1");
	expect_err("limits:\n  max_fetch_wait_ms: 300001\n",
		   "t.yaml:2: limits.max_fetch_wait_ms: must be between 0 and 300000, got 300001");
	expect_err("cluster:\n  controllers: [1, -3, 2]\n",
		   "t.yaml:2: cluster.controllers[1]: must be between 0 and 2147483647, got -3");
	expect_err("cluster:\n  brokers:\n    - {id: -1, address: a:1}\n",
		   "t.yaml:3: cluster.brokers[0].id: must be between 0 and 2147483647, got -1");
}

static void test_enums(void **state)
{
	static struct broker_config c;

	(void)state;
	expect_err("topic_defaults:\n  acks_all_durability: fsynced\n",
		   "t.yaml:2: topic_defaults.acks_all_durability: invalid value 'fsynced' "
		   "(allowed: fsync, replicated)");
	expect_err("topic_defaults:\n  cleanup_policy: compact,delete\n",
		   "t.yaml:2: topic_defaults.cleanup_policy: invalid value 'compact,delete' "
		   "(allowed: delete, compact)");
	expect_err("log:\n  level: INFO\n",
		   "t.yaml:2: log.level: invalid value 'INFO' (allowed: debug, info, warn, error)");
	expect_err("log:\n  level:\n",
		   "t.yaml:2: log.level: invalid value null (allowed: debug, info, warn, error)");
	expect_err("log:\n  level: [info]\n", "t.yaml:2: log.level: expected string, got list");
	load_ok(&c, "log: {level: \"warn\"}\n");
	assert_int_equal(c.bc_log_level, CONFIG_LOG_WARN);
	load_ok(&c, "log: {level: error}\n");
	assert_int_equal(c.bc_log_level, CONFIG_LOG_ERROR);
}

static void test_duplicates_and_strings(void **state)
{
	char yaml[1024];

	(void)state;
	expect_err("broker:\n  id: 1\n  listen: 127.0.0.1:9092\n  id: 2\n",
		   "t.yaml:4: broker.id: duplicate key (first at line 2)");
	expect_err("broker:\n  id: 1\nlog: {level: info}\nbroker:\n  id: 2\n",
		   "t.yaml:4: broker: duplicate key (first at line 1)");
	expect_err("cluster:\n  brokers:\n    - {id: 1, id: 2, address: a:1}\n",
		   "t.yaml:3: cluster.brokers[0].id: duplicate key (first at line 3)");
	expect_err("cluster:\n  brokers:\n    - id: 1\n",
		   "t.yaml:3: cluster.brokers[0]: missing required key 'address'");
	expect_err("cluster:\n  brokers:\n    - {address: 127.0.0.1:9092}\n",
		   "t.yaml:3: cluster.brokers[0]: missing required key 'id'");
	expect_err("cluster:\n  brokers: []\n",
		   "t.yaml:2: cluster.brokers: must list at least one broker");
	expect_err("cluster:\n  controllers: [1, 2]\n",
		   "t.yaml:2: cluster.controllers: must list 1, 3 or 5 controller ids, got 2");
	expect_err("cluster:\n  controllers: [1, 2, 3, 4, 5, 6]\n",
		   "t.yaml:2: cluster.controllers: must list 1, 3 or 5 controller ids, got 6");
	expect_err("broker:\n  data_dir: \"\"\n", "t.yaml:2: broker.data_dir: must not be empty");
	expect_err("broker:\n  data_dir: \"a\\0b\"\n",
		   "t.yaml:2: broker.data_dir: must not contain a NUL byte");
	/* 300 characters for a 262-byte field */
	snprintf(yaml, sizeof(yaml), "broker:\n  listen: %0300d\n", 0);
	expect_err(yaml, "t.yaml:2: broker.listen: string too long (300 bytes, at most 261)");
}

static void test_addresses(void **state)
{
	(void)state;
	expect_err("broker:\n  listen: localhost\n",
		   "t.yaml:2: broker.listen: 'localhost' is not host:port: missing ':port'");
	expect_err("broker:\n  listen: 127.0.0.1:70000\n",
		   "t.yaml:2: broker.listen: '127.0.0.1:70000' is not host:port: port must be a "
		   "number between 1 and 65535");
	expect_err("broker:\n  listen: 127.0.0.1:0\n",
		   "t.yaml:2: broker.listen: '127.0.0.1:0' is not host:port: port must be a "
		   "number between 1 and 65535");
	expect_err("broker:\n  listen: ::1:9092\n",
		   "t.yaml:2: broker.listen: '::1:9092' is not host:port: an IPv6 address must be "
		   "in brackets, as in [::1]:9092");
	expect_err("broker:\n  advertised: \"[::1\"\n",
		   "t.yaml:2: broker.advertised: '[::1' is not host:port: missing ']' after the "
		   "IPv6 address");
	expect_err("broker:\n  advertised: \"[zz::1]:9092\"\n",
		   "t.yaml:2: broker.advertised: '[zz::1]:9092' is not host:port: invalid IPv6 "
		   "address");
	expect_err("broker:\n  advertised: \":9092\"\n",
		   "t.yaml:2: broker.advertised: ':9092' is not host:port: missing host");
	expect_err("broker:\n  advertised: \"my host:9092\"\n",
		   "t.yaml:2: broker.advertised: 'my host:9092' is not host:port: invalid "
		   "character in host");
	expect_err("cluster:\n  brokers:\n    - {id: 1, address: 127.0.0.1:9092, peer_address: "
		   "\"0.0.0.0:1\"}\n",
		   "t.yaml:3: cluster.brokers[0].peer_address: '0.0.0.0:1' is a wildcard address "
		   "that clients cannot connect to; give a reachable address");
	/* A wildcard is fine to bind but not to advertise, even by default. */
	expect_err("broker:\n  id: 1\n  listen: 0.0.0.0:9092\n",
		   "t.yaml:3: broker.advertised: '0.0.0.0:9092' is a wildcard address that "
		   "clients cannot connect to; give a reachable address");
	expect_err("broker:\n  listen: \"[::]:9092\"\n  advertised: \"[::]:9092\"\n",
		   "t.yaml:3: broker.advertised: '[::]:9092' is a wildcard address that clients "
		   "cannot connect to; give a reachable address");
	expect_err(CLUSTER3 "    - {id: 4, address: \"127.0.0.1:\"}\n",
		   "t.yaml:7: cluster.brokers[3].address: '127.0.0.1:' is not host:port: missing "
		   "port");
}

static void test_cluster_checks(void **state)
{
	(void)state;
	expect_err(CLUSTER3 "  controller: 9\n",
		   "t.yaml:7: cluster.controller: controller 9 is not a broker in "
		   "cluster.brokers");
	expect_err(CLUSTER3 "  controllers:\n    - 1\n    - 2\n    - 4\n",
		   "t.yaml:10: cluster.controllers[2]: controller 4 is not a broker in "
		   "cluster.brokers");
	expect_err(CLUSTER3 "  controllers: [1, 2, 1]\n",
		   "t.yaml:7: cluster.controllers[2]: duplicate controller id 1");
	/* Without cluster.brokers the only broker is this one. */
	expect_err("cluster:\n  controller: 2\n",
		   "t.yaml:2: cluster.controller: controller 2 is not a broker in "
		   "cluster.brokers");
	expect_err(CLUSTER3 "  controller: 1\n  controllers: [1, 2, 3]\n",
		   "t.yaml:8: cluster.controllers: give either cluster.controller or "
		   "cluster.controllers, not both (the other is at line 7)");
	expect_err("cluster:\n  controllers: [1]\n  controller: 1\n",
		   "t.yaml:3: cluster.controller: give either cluster.controller or "
		   "cluster.controllers, not both (the other is at line 2)");
	expect_err(CLUSTER3 "    - {id: 2, address: 127.0.0.1:9095}\n",
		   "t.yaml:7: cluster.brokers[3].id: duplicate broker id 2 (also "
		   "cluster.brokers[1])");
	expect_err(CLUSTER3 "    - {id: 4, address: 127.0.0.1:9093}\n",
		   "t.yaml:7: cluster.brokers[3].address: '127.0.0.1:9093' is also the address of "
		   "cluster.brokers[1]");
	expect_err("broker:\n  id: 4\ncluster:\n  brokers:\n    - {id: 1, address: a:1}\n",
		   "t.yaml:4: cluster.brokers: this broker (broker.id 4) is not listed");
	/* A controller-only process must be a voter. */
	expect_err("broker: {id: 1, listen: 127.0.0.1:9092, controller_only: true}\n"
		   "cluster:\n"
		   "  controllers: [2, 3, 4]\n"
		   "  brokers:\n"
		   "    - {id: 1, address: 127.0.0.1:9092}\n"
		   "    - {id: 2, address: 127.0.0.1:9093}\n"
		   "    - {id: 3, address: 127.0.0.1:9094}\n"
		   "    - {id: 4, address: 127.0.0.1:9095}\n",
		   "t.yaml:1: broker.controller_only: broker 1 is not in cluster.controllers: a "
		   "controller-only process must be a voter");
	expect_err("metrics:\n  listen: nohost\n",
		   "t.yaml:2: metrics.listen: 'nohost' is not host:port: missing ':port'");
	struct broker_config c;
	load_ok(&c, "metrics:\n  listen: 127.0.0.1:9644\n");
	assert_string_equal(c.bc_metrics_listen, "127.0.0.1:9644");
	load_ok(&c, "metrics:\n  listen: \"\"\n");
	assert_string_equal(c.bc_metrics_listen, "");
	load_ok(&c, "broker: {id: 1, listen: 127.0.0.1:9092, controller_only: true}\n");
	assert_true(c.bc_controller_only);
	assert_int_equal(c.bc_metadata_snapshot_entries, 1024);
	expect_err("broker: {id: 2, listen: 127.0.0.1:9092}\n"
		   "cluster:\n"
		   "  brokers:\n"
		   "    - {id: 1, address: 127.0.0.1:9091}\n"
		   "    - id: 2\n"
		   "      address: 127.0.0.1:9093\n",
		   "t.yaml:6: cluster.brokers[1].address: this broker's entry (id 2) has "
		   "'127.0.0.1:9093' but broker.advertised is '127.0.0.1:9092'; they must match");
}

static void test_topic_relations(void **state)
{
	static struct broker_config c;

	(void)state;
	expect_err(CLUSTER3 "topic_defaults:\n  replication_factor: 2\n  min_insync_replicas: 3\n",
		   "t.yaml:9: topic_defaults.min_insync_replicas: must be at most the replication "
		   "factor (2), got 3");
	expect_err("topic_defaults:\n  min_insync_replicas: 2\n",
		   "t.yaml:2: topic_defaults.min_insync_replicas: must be at most the replication "
		   "factor (1), got 2");
	expect_err(CLUSTER3 "topic_defaults:\n  replication_factor: 4\n",
		   "t.yaml:8: topic_defaults.replication_factor: must be at most the number of "
		   "brokers (3), got 4");
	expect_err("topic_defaults: {replication_factor: 3, min_insync_replicas: 2}\n",
		   "t.yaml:1: topic_defaults.replication_factor: must be at most the number of "
		   "brokers (1), got 3");
	load_ok(&c, CLUSTER3 "topic_defaults: {replication_factor: 3, min_insync_replicas: 3}\n");
	assert_int_equal(c.bc_topic_defaults.tc_min_insync_replicas, 3);
}

static void test_yaml_errors(void **state)
{
	char big[64];

	(void)state;
	expect_err("broker:\n  id: 1\n  listen: [a\n",
		   "t.yaml:4:1: YAML syntax error: did not find expected ',' or ']' (while parsing "
		   "a flow sequence at line 3, column 11)");
	expect_err(
		"broker:\n  id: 1\n bad: 2\n",
		"t.yaml:3:2: YAML syntax error: did not find expected key (while parsing a block "
		"mapping at line 1, column 1)");
	expect_err("broker:\n\tid: 1\n",
		   "t.yaml:2:1: YAML syntax error: found character that cannot start any token "
		   "(while scanning for the next token at line 2, column 1)");
	expect_err("broker: {id: *nope}\n",
		   "t.yaml:1:14: YAML syntax error: found undefined alias");
	expect_err("broker: {id: 1}\n---\nlog: {level: info}\n",
		   "t.yaml:3: only one YAML document is allowed");
	expect_err("log: {level: \"\xff\"}\n",
		   "t.yaml: YAML reader error at byte 14: invalid leading UTF-8 octet (0xff)");
	/* The size cap is checked before parsing. */
	snprintf(big, sizeof(big), "t.yaml: larger than %d bytes", CONFIG_FILE_MAX);
	{
		static struct broker_config c;
		char err[CONFIG_ERROR_MAX];
		assert_int_equal(
			config_load_string(&c, "", CONFIG_FILE_MAX + 1, "t.yaml", err, sizeof(err)),
			-1);
		assert_string_equal(err, big);
	}
}

/* Print c, load it back, and expect the very same struct. */
static void round_trip(const struct broker_config *c)
{
	static struct broker_config back;
	char buf[16384];
	char err[CONFIG_ERROR_MAX] = "";
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	long len;

	assert_non_null(f);
	config_print(c, f);
	len = ftell(f);
	assert_int_equal(fclose(f), 0);
	assert_true(len > 0 && (size_t)len < sizeof(buf));
	buf[len] = '\0';
	if (config_load_string(&back, buf, (size_t)len, c->bc_source, err, sizeof(err)))
		fail_msg("printed config does not load: %s\n%s", err, buf);
	assert_memory_equal(&back, c, sizeof(back));
}

static void test_print_round_trip(void **state)
{
	static struct broker_config c;

	(void)state;
	config_default(&c);
	round_trip(&c);
	load_ok(&c, full_yaml);
	round_trip(&c);
	load_ok(&c, CLUSTER3 "  controller: 3\n");
	round_trip(&c);
}

static void test_print_round_trip_odd_strings(void **state)
{
	static struct broker_config c;

	(void)state;
	load_ok(&c, CLUSTER3 "  controllers: [3, 1, 2]\n");
	round_trip(&c);
	load_ok(&c, "broker:\n  data_dir: \"/srv/r\\u00e9plog: \\\"x\\\" #1\\t\\\\\"\n");
	assert_string_equal(c.bc_data_dir, "/srv/r\xc3\xa9plog: \"x\" #1\t\\");
	round_trip(&c);
}

struct pairs {
	char names[16][40];
	char values[16][40];
	int count;
	int stop_after;
};

static int collect(void *ctx, const char *name, const char *value)
{
	struct pairs *p = ctx;
	snprintf(p->names[p->count], sizeof(p->names[0]), "%s", name);
	snprintf(p->values[p->count], sizeof(p->values[0]), "%s", value);
	p->count++;
	return p->count == p->stop_after ? 42 : 0;
}

static void test_topic_each(void **state)
{
	static struct broker_config c;
	static const char *const want[][2] = {
		{"min.insync.replicas", "1"},
		{"segment.bytes", "1073741824"},
		{"segment.ms", "604800000"},
		{"retention.ms", "604800000"},
		{"retention.bytes", "-1"},
		{"max.message.bytes", "1048588"},
		{"unclean.leader.election.enable", "false"},
		{"replog.acks.all.durability", "fsync"},
		{"cleanup.policy", "delete"},
	};
	struct pairs p = {.count = 0};

	(void)state;
	config_default(&c);
	assert_int_equal(topic_config_each(&c.bc_topic_defaults, collect, &p), 0);
	assert_int_equal(p.count, 9);
	for (int i = 0; i < 9; i++) {
		assert_string_equal(p.names[i], want[i][0]);
		assert_string_equal(p.values[i], want[i][1]);
	}
	memset(&p, 0, sizeof(p));
	p.stop_after = 2;
	assert_int_equal(topic_config_each(&c.bc_topic_defaults, collect, &p), 42);
	assert_int_equal(p.count, 2);
}

static void set_ok(struct topic_config *tc, const char *name, const char *value)
{
	char err[CONFIG_ERROR_MAX] = "";
	if (topic_config_set(tc, name, (int)strlen(name), value, (int)strlen(value), err,
			     sizeof(err)))
		fail_msg("%s=%s: %s", name, value, err);
}

static void set_err(struct topic_config *tc, const char *name, const char *value, const char *want)
{
	struct topic_config before = *tc;
	char err[CONFIG_ERROR_MAX] = "";

	assert_int_equal(topic_config_set(tc, name, (int)strlen(name), value, (int)strlen(value),
					  err, sizeof(err)),
			 -1);
	assert_string_equal(err, want);
	assert_memory_equal(&before, tc, sizeof(before));
}

static void test_topic_set(void **state)
{
	static struct broker_config c;
	struct topic_config *tc = &c.bc_topic_defaults;

	(void)state;
	config_default(&c);
	set_ok(tc, "min.insync.replicas", "2");
	assert_int_equal(tc->tc_min_insync_replicas, 2);
	set_err(tc, "min.insync.replicas", "0",
		"min.insync.replicas: must be between 1 and 64, got 0");
	set_ok(tc, "segment.bytes", "1048576");
	assert_int_equal(tc->tc_segment_bytes, 1048576);
	set_err(tc, "segment.bytes", "1048575",
		"segment.bytes: must be between 1048576 and 2147483647, got 1048575");
	set_err(tc, "segment.bytes", "2147483648",
		"segment.bytes: must be between 1048576 and 2147483647, got 2147483648");
	set_ok(tc, "segment.ms", "1000");
	assert_int_equal(tc->tc_segment_ms, 1000);
	set_err(tc, "segment.ms", "999", "segment.ms: must be >= 1000, got 999");
	set_ok(tc, "retention.ms", "-1");
	assert_int_equal(tc->tc_retention_ms, -1);
	set_ok(tc, "retention.ms", "86400000");
	assert_int_equal(tc->tc_retention_ms, 86400000);
	set_err(tc, "retention.ms", "0", "retention.ms: must be -1 or >= 1000, got 0");
	set_err(tc, "retention.ms", "1h", "retention.ms: expected integer, got '1h'");
	set_err(tc, "retention.ms", "", "retention.ms: expected integer, got ''");
	set_ok(tc, "retention.bytes", "1073741824");
	assert_int_equal(tc->tc_retention_bytes, 1073741824);
	set_ok(tc, "retention.bytes", "-1");
	assert_int_equal(tc->tc_retention_bytes, -1);
	set_err(tc, "retention.bytes", "-5", "retention.bytes: must be -1 or >= 1048576, got -5");
	set_ok(tc, "max.message.bytes", "10485760");
	assert_int_equal(tc->tc_max_message_bytes, 10485760);
	set_err(tc, "max.message.bytes", "99999999999",
		"max.message.bytes: must be between 1024 and 2147483647, got 99999999999");
	set_ok(tc, "unclean.leader.election.enable", "true");
	assert_true(tc->tc_unclean_leader_election);
	set_ok(tc, "unclean.leader.election.enable", "false");
	assert_false(tc->tc_unclean_leader_election);
	set_err(tc, "unclean.leader.election.enable", "yes",
		"unclean.leader.election.enable: expected boolean (true or false), got 'yes'");
	set_ok(tc, "cleanup.policy", "compact");
	assert_int_equal(tc->tc_cleanup_policy, CONFIG_CLEANUP_COMPACT);
	set_ok(tc, "cleanup.policy", "delete");
	assert_int_equal(tc->tc_cleanup_policy, CONFIG_CLEANUP_DELETE);
	set_err(tc, "cleanup.policy", "compact,delete",
		"cleanup.policy: invalid value 'compact,delete' (allowed: delete, compact)");
	set_ok(tc, "replog.acks.all.durability", "replicated");
	assert_int_equal(tc->tc_acks_all_durability, CONFIG_DURABILITY_REPLICATED);
	set_ok(tc, "replog.acks.all.durability", "fsync");
	assert_int_equal(tc->tc_acks_all_durability, CONFIG_DURABILITY_FSYNC);
	set_err(tc, "replog.acks.all.durability", "none",
		"replog.acks.all.durability: invalid value 'none' (allowed: fsync, replicated)");
	set_err(tc, "compression.type", "zstd",
		"unknown topic config 'compression.type' (known: min.insync.replicas, "
		"segment.bytes, segment.ms, retention.ms, retention.bytes, max.message.bytes, "
		"unclean.leader.election.enable, replog.acks.all.durability, cleanup.policy)");
	/* Names and values are lengths, not C strings. */
	{
		char err[CONFIG_ERROR_MAX];
		assert_int_equal(
			topic_config_set(tc, "segment.msXX", 10, "5000000", 4, err, sizeof(err)),
			0);
		assert_int_equal(tc->tc_segment_ms, 5000);
	}
}

static void test_topic_validate(void **state)
{
	static struct broker_config c;
	struct topic_config tc;
	char err[CONFIG_ERROR_MAX];

	(void)state;
	config_default(&c);
	tc = c.bc_topic_defaults;
	tc.tc_replication_factor = 3;
	tc.tc_min_insync_replicas = 2;
	assert_int_equal(topic_config_validate(&tc, 3, err, sizeof(err)), 0);
	assert_int_equal(topic_config_validate(&tc, 2, err, sizeof(err)), -1);
	assert_string_equal(err, "replication_factor: must be at most the number of brokers (2), "
				 "got 3");
	tc.tc_min_insync_replicas = 4;
	assert_int_equal(topic_config_validate(&tc, 5, err, sizeof(err)), -1);
	assert_string_equal(err, "min.insync.replicas: must be at most the replication factor (3), "
				 "got 4");
	tc.tc_min_insync_replicas = 2;
	tc.tc_retention_ms = 5;
	assert_int_equal(topic_config_validate(&tc, 5, err, sizeof(err)), -1);
	assert_string_equal(err, "retention.ms: must be -1 or >= 1000, got 5");
	tc.tc_retention_ms = -1;
	tc.tc_cleanup_policy = 7;
	assert_int_equal(topic_config_validate(&tc, 5, err, sizeof(err)), -1);
	assert_string_equal(err, "cleanup.policy: invalid value 7 (allowed: delete, compact)");
	tc.tc_cleanup_policy = CONFIG_CLEANUP_DELETE;
	tc.tc_partitions = 0;
	assert_int_equal(topic_config_validate(&tc, 5, err, sizeof(err)), -1);
	assert_string_equal(err, "partitions: must be between 1 and 10000, got 0");
}

static void test_topic_format_parse(void **state)
{
	static struct broker_config c;
	struct topic_config tc, back, before;
	char line[TOPIC_CONFIG_LINE_MAX];
	char err[CONFIG_ERROR_MAX];
	int n;

	(void)state;
	config_default(&c);
	n = topic_config_format(&c.bc_topic_defaults, line, sizeof(line));
	assert_string_equal(line, "min.insync.replicas=1,segment.bytes=1073741824,"
				  "segment.ms=604800000,retention.ms=604800000,retention.bytes=-1,"
				  "max.message.bytes=1048588,unclean.leader.election.enable=false,"
				  "replog.acks.all.durability=fsync,cleanup.policy=delete");
	assert_int_equal(n, (int)strlen(line));

	/* every value changed, and the extremes */
	tc = c.bc_topic_defaults;
	tc.tc_min_insync_replicas = 64;
	tc.tc_segment_bytes = 2147483647;
	tc.tc_segment_ms = INT64_MAX;
	tc.tc_retention_ms = -1;
	tc.tc_retention_bytes = INT64_MAX;
	tc.tc_max_message_bytes = 1024;
	tc.tc_unclean_leader_election = true;
	tc.tc_acks_all_durability = CONFIG_DURABILITY_REPLICATED;
	tc.tc_cleanup_policy = CONFIG_CLEANUP_COMPACT;
	n = topic_config_format(&tc, line, sizeof(line));
	assert_true(n > 0 && n < TOPIC_CONFIG_LINE_MAX);
	back = c.bc_topic_defaults;
	assert_int_equal(topic_config_parse(&back, line, err, sizeof(err)), 0);
	assert_memory_equal(&back, &tc, sizeof(tc));
	/* with the newline a file line has */
	strcat(line, "\n");
	back = c.bc_topic_defaults;
	assert_int_equal(topic_config_parse(&back, line, err, sizeof(err)), 0);
	assert_memory_equal(&back, &tc, sizeof(tc));

	/* too small a buffer */
	assert_int_equal(topic_config_format(&tc, line, 20), -1);
	assert_string_equal(line, "");

	/* a subset applies over what is there; empty changes nothing */
	back = c.bc_topic_defaults;
	assert_int_equal(topic_config_parse(&back, "retention.ms=5000", err, sizeof(err)), 0);
	assert_int_equal(back.tc_retention_ms, 5000);
	assert_int_equal(back.tc_segment_bytes, 1073741824);
	assert_int_equal(topic_config_parse(&back, "", err, sizeof(err)), 0);
	assert_int_equal(back.tc_retention_ms, 5000);

	/* errors change nothing */
	before = back;
	assert_int_equal(
		topic_config_parse(&back, "segment.ms=5000,retention.ms=1", err, sizeof(err)), -1);
	assert_string_equal(err, "retention.ms: must be -1 or >= 1000, got 1");
	assert_int_equal(
		topic_config_parse(&back, "segment.ms=5000,segment.ms=6000", err, sizeof(err)), -1);
	assert_string_equal(err, "segment.ms: given twice");
	assert_int_equal(topic_config_parse(&back, "segment.ms=5000,bogus", err, sizeof(err)), -1);
	assert_string_equal(err, "topic config: expected name=value, got 'bogus'");
	assert_int_equal(topic_config_parse(&back, "segment.ms=5000,", err, sizeof(err)), -1);
	assert_string_equal(err, "topic config: expected name=value, got ''");
	assert_int_equal(topic_config_parse(&back, "flush.ms=1", err, sizeof(err)), -1);
	assert_true(strncmp(err, "unknown topic config 'flush.ms' (known: ", 40) == 0);
	assert_memory_equal(&back, &before, sizeof(before));
}

static void test_hostport(void **state)
{
	char host[CONFIG_HOSTPORT_MAX];
	uint16_t port = 0;

	(void)state;
	assert_int_equal(config_parse_hostport("127.0.0.1:9092", host, sizeof(host), &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 9092);
	assert_int_equal(config_parse_hostport("[::1]:1", host, sizeof(host), &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 1);
	assert_int_equal(
		config_parse_hostport("broker-1.example_net:65535", host, sizeof(host), &port), 0);
	assert_string_equal(host, "broker-1.example_net");
	assert_int_equal(port, 65535);
	assert_int_equal(config_parse_hostport("a:9092", NULL, 0, NULL), 0);
	assert_int_equal(config_parse_hostport("a:9092", host, 1, &port), -1);
	assert_int_equal(config_parse_hostport("a", host, sizeof(host), &port), -1);
	assert_int_equal(config_parse_hostport("a:", host, sizeof(host), &port), -1);
	assert_int_equal(config_parse_hostport("a:65536", host, sizeof(host), &port), -1);
	assert_int_equal(config_parse_hostport("a:123456", host, sizeof(host), &port), -1);
	assert_int_equal(config_parse_hostport("a:-1", host, sizeof(host), &port), -1);
	assert_int_equal(config_parse_hostport("a:9x", host, sizeof(host), &port), -1);
	assert_int_equal(config_parse_hostport("::1:9092", host, sizeof(host), &port), -1);
	assert_int_equal(config_parse_hostport("[::1]9092", host, sizeof(host), &port), -1);
	assert_int_equal(config_parse_hostport("[]:9092", host, sizeof(host), &port), -1);
	assert_int_equal(config_parse_hostport("[1.2.3.4]:9092", host, sizeof(host), &port), -1);
	assert_int_equal(config_parse_hostport(":9092", host, sizeof(host), &port), -1);
	assert_int_equal(config_parse_hostport(NULL, host, sizeof(host), &port), -1);
}

static void test_validate_struct(void **state)
{
	static struct broker_config c;
	char err[CONFIG_ERROR_MAX];

	(void)state;
	/* No lines for a struct built in code: file and key only. */
	config_default(&c);
	c.bc_topic_defaults.tc_replication_factor = 2;
	assert_int_equal(config_validate(&c, err, sizeof(err)), -1);
	assert_string_equal(err,
			    "(embedded default): topic_defaults.replication_factor: must be at "
			    "most the number of brokers (1), got 2");
	config_default(&c);
	c.bc_controller_count = 2;
	assert_int_equal(config_validate(&c, err, sizeof(err)), -1);
	assert_string_equal(err, "(embedded default): cluster.controllers: must list 1, 3 or 5 "
				 "controller ids, got 2");
	config_default(&c);
	c.bc_data_dir[0] = '\0';
	assert_int_equal(config_validate(&c, err, sizeof(err)), -1);
	assert_string_equal(err, "(embedded default): broker.data_dir: must not be empty");
	config_default(&c);
	c.bc_log_level = 9;
	assert_int_equal(config_validate(&c, err, sizeof(err)), -1);
	assert_string_equal(err, "(embedded default): log.level: invalid value 9 (allowed: debug, "
				 "info, warn, error)");
	config_default(&c);
	c.bc_broker_count = 0;
	assert_int_equal(config_validate(&c, err, sizeof(err)), -1);
	assert_string_equal(
		err, "(embedded default): cluster.brokers: must list 1 to 64 brokers, got 0");
	/* A short err buffer is cut, still terminated. */
	assert_int_equal(config_validate(&c, err, 8), -1);
	assert_string_equal(err, "(embedd");
}

static void test_load_file(void **state)
{
	static struct broker_config c;
	char dir[PATH_MAX];
	char path[PATH_MAX + 32];
	char want[2 * PATH_MAX];
	char err[CONFIG_ERROR_MAX];
	FILE *f;

	(void)state;
	tu_tmpdir(dir, sizeof(dir), "config");
	snprintf(path, sizeof(path), "%s/missing.yaml", dir);
	assert_int_equal(config_load_file(&c, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: cannot open: %s", path, strerror(ENOENT));
	assert_string_equal(err, want);

	snprintf(path, sizeof(path), "%s/replog.yaml", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(full_yaml, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(config_load_file(&c, path, err, sizeof(err)), 0);
	assert_string_equal(c.bc_source, path);
	assert_int_equal(c.bc_id, 2);
	assert_int_equal(c.bc_log_level, CONFIG_LOG_DEBUG);

	f = fopen(path, "w");
	assert_non_null(f);
	fputs("broker:\n  id: 1\nflush:\n  bytes: lots\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(config_load_file(&c, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:4: flush.bytes: expected integer, got 'lots'", path);
	assert_string_equal(err, want);

	/* empty file = defaults */
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(config_load_file(&c, path, err, sizeof(err)), 0);
	check_defaults(&c);

	/* a directory opens but does not read */
	assert_int_equal(config_load_file(&c, dir, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: cannot read: %s", dir, strerror(EISDIR));
	assert_string_equal(err, want);

	/* more than CONFIG_FILE_MAX bytes (of comment) */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("# ", f);
	for (int i = 0; i < CONFIG_FILE_MAX / 64 + 1; i++)
		fputs("................................................................", f);
	fputs("\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(config_load_file(&c, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: larger than %d bytes", path, CONFIG_FILE_MAX);
	assert_string_equal(err, want);
	tu_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_is_valid),
		cmocka_unit_test(test_empty_file_is_default),
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_derived_defaults),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_enums),
		cmocka_unit_test(test_duplicates_and_strings),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_cluster_checks),
		cmocka_unit_test(test_topic_relations),
		cmocka_unit_test(test_yaml_errors),
		cmocka_unit_test(test_print_round_trip),
		cmocka_unit_test(test_print_round_trip_odd_strings),
		cmocka_unit_test(test_topic_each),
		cmocka_unit_test(test_topic_set),
		cmocka_unit_test(test_topic_validate),
		cmocka_unit_test(test_topic_format_parse),
		cmocka_unit_test(test_hostport),
		cmocka_unit_test(test_validate_struct),
		cmocka_unit_test(test_load_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
