/*
 * config — replogd's configuration: the YAML file (DESIGN.md §6), the
 * embedded default used when no file is given, and per-topic settings that
 * CreateTopics may override with Kafka's config names.
 *
 * Every key is validated when the file is loaded: unknown keys, wrong types
 * and impossible values are refused with the file, line, and full key path
 * named ("replog.yaml:7: topic_defaults.segment_bytes: must be between
 * 1048576 and 2147483647, got 12"). Nothing is defaulted silently from a
 * value that was given but wrong.
 *
 * The YAML shape (all keys optional; defaults in brackets):
 *
 *   broker:
 *     id: 1                          [1]         0..2147483647
 *     listen: 127.0.0.1:9092         [127.0.0.1:9092]  host:port to bind
 *     advertised: host:port          [= listen]  what Metadata tells clients;
 *                                    not a wildcard (0.0.0.0, [::])
 *     data_dir: ./replog-data        [./replog-data]
 *   cluster:
 *     controller: 1                  [= broker.id]  single controller
 *     controllers: [1, 2, 3]         (alternative to controller; 1, 3 or 5 ids)
 *     brokers:                       [just this broker]
 *       - {id: 1, address: 127.0.0.1:9092}
 *         peer_address: host:port   [= address] where THIS broker dials
 *                                    that one (replication, controller,
 *                                    quorum); e.g. through a proxy. Clients
 *                                    are always told `address`.
 *   topic_defaults:
 *     partitions: 1                  [1]  1..10000
 *     replication_factor: 1          [1]  1..(number of brokers), at most 64
 *     min_insync_replicas: 1         [1]  1..replication_factor
 *     segment_bytes: 1073741824      [1 GiB]  1 MiB..2 GiB-1
 *     segment_ms: 604800000          [7 days] >= 1000
 *     retention_ms: 604800000        [7 days] -1 (forever) or >= 1000
 *     retention_bytes: -1            [-1] -1 (no limit) or >= 1 MiB
 *     max_message_bytes: 1048588     [1048588]  largest batch accepted; 1024..2^31-1
 *     unclean_leader_election: false [false]
 *     acks_all_durability: fsync     [fsync]  fsync | replicated
 *     cleanup_policy: delete         [delete] delete | compact
 *   replication:
 *     lag_max_ms: 10000              [10000]  100..3600000
 *     session_timeout_ms: 6000       [6000]   100..3600000
 *   flush:
 *     interval_ms: 0                 [0]  0 = no time trigger; at most 3600000
 *     bytes: 0                       [0]  0 = no size trigger; both 0 = every append
 *   compaction:
 *     interval_ms: 30000             [30000]  clean each compact partition at most
 *                                    this often; 100..86400000
 *   auto_create_topics: true         [true]
 *   limits:
 *     max_request_bytes: 104857600   [100 MiB]  larger frames close the connection;
 *                                    1024..2^31-1
 *     max_connections: 1024          [1024]  1..65536
 *     max_inflight_requests: 64      [64]   per connection, pipelined; 1..1024
 *     max_connection_buffer_bytes: 67108864  [64 MiB] per connection; reading
 *                                    pauses while this much is queued; >= 65536
 *     max_fetch_wait_ms: 30000       [30000]  cap on a Fetch's max_wait_ms; 0..300000
 *   log:
 *     level: info                    [info]  debug | info | warn | error
 *
 * Strings are copied into the struct (fixed-size fields; too long is an
 * error). Sizes accept plain integers only (no suffixes), as Kafka does:
 * decimal, optional '-', no leading zeros; quoted numbers are strings.
 * Booleans are true or false only. A section with nothing under it
 * (`flush:`) is an empty section. Messages give the line of the key (of the
 * item, inside lists); list items are shown 0-based (cluster.brokers[0].id).
 * A file is at most CONFIG_FILE_MAX bytes and holds one YAML document.
 */
#ifndef REPLOG_CONFIG_H
#define REPLOG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CONFIG_HOSTPORT_MAX   262 /* host (253) + ':' + port (5) + NUL, rounded */
#define CONFIG_PATH_MAX	      4096
#define CONFIG_MAX_BROKERS    64
#define CONFIG_ERROR_MAX      512
#define CONFIG_FILE_MAX	      (1 << 20) /* larger config files are refused */
#define TOPIC_CONFIG_LINE_MAX 512	/* topic_config_format never needs more */

enum config_durability {
	CONFIG_DURABILITY_FSYNC = 0,	  /* acks=all counts fsynced offsets only */
	CONFIG_DURABILITY_REPLICATED = 1, /* Kafka's: in memory on every ISR member */
};

enum config_cleanup {
	CONFIG_CLEANUP_DELETE = 0,
	CONFIG_CLEANUP_COMPACT = 1,
};

enum config_log_level {
	CONFIG_LOG_DEBUG = 0,
	CONFIG_LOG_INFO,
	CONFIG_LOG_WARN,
	CONFIG_LOG_ERROR,
};

/* Per-topic settings: topic_defaults in YAML, overridable per topic with
 * Kafka's names in CreateTopics. */
struct topic_config {
	int32_t tc_partitions;
	int16_t tc_replication_factor;
	int32_t tc_min_insync_replicas;
	int64_t tc_segment_bytes;
	int64_t tc_segment_ms;
	int64_t tc_retention_ms;    /* -1 = forever */
	int64_t tc_retention_bytes; /* -1 = no limit */
	int32_t tc_max_message_bytes;
	bool tc_unclean_leader_election;
	int tc_acks_all_durability; /* enum config_durability */
	int tc_cleanup_policy;	    /* enum config_cleanup */
};

struct config_broker_addr {
	int32_t cba_id;
	char cba_address[CONFIG_HOSTPORT_MAX]; /* host:port */
	/* Where this broker dials that one for replication and controller
	 * traffic; "" = cba_address. Clients are always told cba_address. */
	char cba_peer_address[CONFIG_HOSTPORT_MAX];
};

struct broker_config {
	/* broker */
	int32_t bc_id;
	char bc_listen[CONFIG_HOSTPORT_MAX];
	char bc_advertised[CONFIG_HOSTPORT_MAX];
	char bc_data_dir[CONFIG_PATH_MAX];
	char bc_metrics_listen[CONFIG_HOSTPORT_MAX]; /* "" = no /metrics endpoint */
	bool bc_controller_only; /* a voter that hosts no partitions, serves no clients' data */
	/* cluster */
	int32_t bc_controllers[5];
	int bc_controller_count;
	struct config_broker_addr bc_brokers[CONFIG_MAX_BROKERS];
	int bc_broker_count;
	int64_t bc_metadata_snapshot_entries; /* metadata entries between snapshots */
	/* topics */
	struct topic_config bc_topic_defaults;
	bool bc_auto_create_topics;
	/* replication */
	int64_t bc_lag_max_ms;
	int64_t bc_session_timeout_ms;
	/* flush */
	int64_t bc_flush_interval_ms;
	int64_t bc_flush_bytes;
	int64_t bc_compaction_interval_ms; /* clean each compact partition this often */
	/* limits */
	int32_t bc_max_request_bytes;
	int32_t bc_max_connections;
	int32_t bc_max_inflight_requests;
	int64_t bc_max_connection_buffer_bytes;
	int32_t bc_max_fetch_wait_ms;
	/* log */
	int bc_log_level; /* enum config_log_level */
	/* where it came from, for messages: the file path or "(embedded default)" */
	char bc_source[CONFIG_PATH_MAX];
};

/* The embedded default: a single-node cluster on 127.0.0.1:9092 with data
 * in ./replog-data, auto-created topics. */
void config_default(struct broker_config *c);

/* Load and validate a YAML file over the defaults. Returns 0, or -1 with a
 * message in err ("<file>:<line>: <key.path>: <what is wrong>", or the
 * reason the file cannot be read or parsed, with line and column); after
 * an error *c holds a partial load and must not be used. */
int config_load_file(struct broker_config *c, const char *path, char *err, size_t err_cap);
/* The same from a string (tests); `name` stands for the file in messages. */
int config_load_string(struct broker_config *c, const char *yaml, size_t len, const char *name,
		       char *err, size_t err_cap);

/* Cross-key checks done after loading (also on the default): this broker's
 * id appears in cluster.brokers when that list is given, listen and
 * advertised parse as host:port, min_insync_replicas <= replication_factor
 * <= number of brokers, controller ids are brokers... Returns 0 or -1 with
 * err. config_load_* call it. */
int config_validate(const struct broker_config *c, char *err, size_t err_cap);

/* Where this broker dials broker `id` (cluster.brokers[].peer_address),
 * or NULL when that entry has none (or `id` is not listed). */
const char *config_peer_address(const struct broker_config *c, int32_t id);

/* Split "host:port" ("[::1]:9092" too): a host name or IPv4 address, or an
 * IPv6 address in brackets (stored without them); port 1..65535. host may
 * be NULL to check only. Returns 0 or -1. */
int config_parse_hostport(const char *s, char *host, size_t host_cap, uint16_t *port);

/* Apply one Kafka topic config (CreateTopics): name as Kafka spells it
 * ("min.insync.replicas", "retention.ms", "retention.bytes",
 * "segment.bytes", "segment.ms", "max.message.bytes",
 * "unclean.leader.election.enable", "cleanup.policy", and replog's own
 * "replog.acks.all.durability"), value as a string. Returns 0, or -1 with
 * err naming the key and the allowed values (the broker answers
 * INVALID_CONFIG with that message). Validates the same ranges as YAML. */
int topic_config_set(struct topic_config *tc, const char *name, int name_len, const char *value,
		     int value_len, char *err, size_t err_cap);

/* Check a topic's settings: each value's range, then min ISR <= RF <=
 * broker_count. Returns 0 or -1 with err (Kafka names). */
int topic_config_validate(const struct topic_config *tc, int broker_count, char *err,
			  size_t err_cap);

/* Visit a topic config as Kafka (name, value) string pairs, in a fixed
 * order (DescribeConfigs, `replog topics describe`). Calls fn once per key;
 * stops early if fn returns non-zero and returns that value, else 0. The
 * strings are valid only during the call. */
int topic_config_each(const struct topic_config *tc,
		      int (*fn)(void *ctx, const char *name, const char *value), void *ctx);

/* Serialize a topic config to one line of "name=value,name=value" and back
 * (the broker's topic metadata file), with topic_config_each's names and
 * values; partitions and replication factor are not part of the line.
 * format returns the length written (NUL not counted) or -1 if cap is too
 * small (TOPIC_CONFIG_LINE_MAX always suffices). parse applies the line's
 * keys over *tc (each validated as topic_config_set; a key twice is an
 * error; one trailing newline is ignored) and changes nothing on error.
 * Returns 0 or -1 with err. */
int topic_config_format(const struct topic_config *tc, char *buf, size_t cap);
int topic_config_parse(struct topic_config *tc, const char *line, char *err, size_t err_cap);

/* Print the effective configuration as YAML (replogd --check-config). */
void config_print(const struct broker_config *c, FILE *out);

#endif
