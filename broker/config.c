/*
 * config — replogd's YAML configuration, its embedded default, and the
 * per-topic settings that CreateTopics overrides with Kafka's names.
 *
 * What this module owns: the one schema table (cfg_keys) that says, for
 * every key, its YAML path, its Kafka name if it is a topic setting, its
 * type, its range, its default and the struct field it lands in. Loading,
 * the default, range re-checks in config_validate, topic_config_set,
 * topic_config_each and config_print all walk that table, so a new key is
 * one row and cannot be parsed by one path and forgotten by another. Only
 * what a row cannot say is code: the two cluster lists, the defaults that
 * derive from other keys, and the relations between keys.
 *
 * Loading: libyaml composes the whole document (bounded: the file is at
 * most CONFIG_FILE_MAX bytes), then the walker visits each mapping against
 * the table's children of that path. The first problem stops the load with
 * "<file>:<line>: <key.path>: <what is wrong>"; the line is the key's (for
 * list items, the item's), 1-based from libyaml's marks. Each key's line is
 * kept in struct cfg_load, which doubles as the "seen" set for duplicate
 * keys and lets the cross-key checks that run after the walk name a line.
 *
 * Order after the walk: cluster.controller and cluster.controllers are
 * refused together; then the derived defaults are filled in (advertised =
 * listen, brokers = this broker at its advertised address, controller =
 * this broker); then config_validate's checks run with the lines at hand.
 *
 * Nothing here allocates; libyaml's document is freed before returning.
 * All state lives in the caller's struct or on the stack.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include <yaml.h>

#include "rlassert.h"

/* Longest excerpt of a user's text quoted back in a message. */
#define CFG_SHOW_MAX 64
/* A key path as shown: "cluster.brokers[63].address", or a parent and an
 * unknown key of up to CFG_SHOW_MAX characters. */
#define CFG_SHOWN_MAX	    160
#define CFG_MAX_CONTROLLERS 5

enum cfg_type {
	CFG_SECTION,	 /* a mapping of further keys */
	CFG_INT,	 /* decimal integer into an int16/int32/int64 field */
	CFG_BOOL,	 /* true | false into a bool */
	CFG_STRING,	 /* copied into a fixed char[] field, zero-filled */
	CFG_ENUM,	 /* one of ck_names, stored as its index in an int */
	CFG_CONTROLLER,	 /* cluster.controller: an integer, bc_controllers[0] */
	CFG_CONTROLLERS, /* cluster.controllers: list of 1, 3 or 5 ids */
	CFG_BROKERS,	 /* cluster.brokers: list of {id, address} */
};

/* Which struct a row's offset is relative to. */
enum cfg_scope {
	CFG_IN_BROKER, /* struct broker_config */
	CFG_IN_TOPIC,  /* struct topic_config (topic_defaults, or CreateTopics) */
	CFG_IN_ADDR,   /* struct config_broker_addr (a cluster.brokers item) */
};

/* Extra checks on a string, done by config_validate. */
enum cfg_check {
	CFG_CHECK_NONE,
	CFG_CHECK_NONEMPTY,
	CFG_CHECK_HOSTPORT,	/* host:port to bind */
	CFG_CHECK_ADDRESS,	/* host:port clients connect to: no wildcard */
	CFG_CHECK_HOSTPORT_OPT, /* host:port to bind, or "" for none */
	CFG_CHECK_ADDRESS_OPT,	/* host:port to connect to, or "" for none */
};

struct cfg_range {
	int64_t cr_min;
	int64_t cr_max;	   /* INT64_MAX prints as "no upper bound" */
	bool cr_minus_one; /* -1 is also allowed ("forever", "no limit") */
};

struct cfg_key {
	const char *ck_path;  /* YAML path, "topic_defaults.segment_bytes" */
	const char *ck_kafka; /* Kafka topic config name, or NULL */
	enum cfg_type ck_type;
	enum cfg_scope ck_scope;
	size_t ck_offset;
	size_t ck_size;
	struct cfg_range ck_range;   /* CFG_INT, CFG_CONTROLLER(S) */
	const char *const *ck_names; /* CFG_ENUM: NULL-terminated */
	enum cfg_check ck_check;     /* CFG_STRING */
	bool ck_required;	     /* only in list items */
	int64_t ck_def;		     /* default: integer, bool, enum index */
	const char *ck_def_str;	     /* default: CFG_STRING; NULL = derived */
};

#define BC(m)                                                                                      \
	.ck_scope = CFG_IN_BROKER, .ck_offset = offsetof(struct broker_config, m),                 \
	.ck_size = sizeof(((struct broker_config *)0)->m)
#define TC(m)                                                                                      \
	.ck_scope = CFG_IN_TOPIC, .ck_offset = offsetof(struct topic_config, m),                   \
	.ck_size = sizeof(((struct topic_config *)0)->m)
#define BA(m)                                                                                      \
	.ck_scope = CFG_IN_ADDR, .ck_offset = offsetof(struct config_broker_addr, m),              \
	.ck_size = sizeof(((struct config_broker_addr *)0)->m)

#define K_SECTION(path)                                                                            \
	{                                                                                          \
		.ck_path = (path), .ck_type = CFG_SECTION                                          \
	}
#define K_INT(path, kafka, field, lo, hi, def)                                                     \
	{                                                                                          \
		.ck_path = (path), .ck_kafka = (kafka), .ck_type = CFG_INT, field,                 \
		.ck_range = {(lo), (hi), false}, .ck_def = (def)                                   \
	}
/* An integer where -1 means "forever" or "no limit". */
#define K_INT_M1(path, kafka, field, lo, def)                                                      \
	{                                                                                          \
		.ck_path = (path), .ck_kafka = (kafka), .ck_type = CFG_INT, field,                 \
		.ck_range = {(lo), INT64_MAX, true}, .ck_def = (def)                               \
	}
#define K_BOOL(path, kafka, field, def)                                                            \
	{                                                                                          \
		.ck_path = (path), .ck_kafka = (kafka), .ck_type = CFG_BOOL, field,                \
		.ck_def = (def)                                                                    \
	}
#define K_STR(path, field, check, def)                                                             \
	{                                                                                          \
		.ck_path = (path), .ck_type = CFG_STRING, field, .ck_check = (check),              \
		.ck_def_str = (def)                                                                \
	}
#define K_ENUM(path, kafka, field, names, def)                                                     \
	{                                                                                          \
		.ck_path = (path), .ck_kafka = (kafka), .ck_type = CFG_ENUM, field,                \
		.ck_names = (names), .ck_def = (def)                                               \
	}

static const char *const cfg_durability_names[] = {"fsync", "replicated", NULL};
static const char *const cfg_cleanup_names[] = {"delete", "compact", NULL};
static const char *const cfg_level_names[] = {"debug", "info", "warn", "error", NULL};

/* The schema, in the order config_print writes it and topic_config_each
 * visits the Kafka names. A section's rows follow it. Ranges are the
 * header's; the ones without an upper bound there are INT64_MAX here.
 * Timers (lag, session, flush interval) stop at an hour so that
 * now + timeout can never overflow. */
static const struct cfg_key cfg_keys[] = {
	K_SECTION("broker"),
	K_INT("broker.id", NULL, BC(bc_id), 0, INT32_MAX, 1),
	K_STR("broker.listen", BC(bc_listen), CFG_CHECK_HOSTPORT, "127.0.0.1:9092"),
	K_STR("broker.advertised", BC(bc_advertised), CFG_CHECK_ADDRESS, NULL), /* = listen */
	K_STR("broker.data_dir", BC(bc_data_dir), CFG_CHECK_NONEMPTY, "./replog-data"),
	K_BOOL("broker.controller_only", NULL, BC(bc_controller_only), false),
	K_SECTION("cluster"),
	{.ck_path = "cluster.controller",
	 .ck_type = CFG_CONTROLLER,
	 BC(bc_controllers[0]),
	 .ck_range = {0, INT32_MAX, false}}, /* = broker.id */
	{.ck_path = "cluster.controllers",
	 .ck_type = CFG_CONTROLLERS,
	 BC(bc_controllers),
	 .ck_range = {0, INT32_MAX, false}},
	{.ck_path = "cluster.brokers", .ck_type = CFG_BROKERS, BC(bc_brokers)},
	K_INT("cluster.metadata_snapshot_entries", NULL, BC(bc_metadata_snapshot_entries), 16,
	      1000000, 1024),
	K_SECTION("topic_defaults"),
	K_INT("topic_defaults.partitions", NULL, TC(tc_partitions), 1, 10000, 1),
	K_INT("topic_defaults.replication_factor", NULL, TC(tc_replication_factor), 1,
	      CONFIG_MAX_BROKERS, 1),
	K_INT("topic_defaults.min_insync_replicas", "min.insync.replicas",
	      TC(tc_min_insync_replicas), 1, CONFIG_MAX_BROKERS, 1),
	K_INT("topic_defaults.segment_bytes", "segment.bytes", TC(tc_segment_bytes), 1 << 20,
	      INT32_MAX, 1 << 30),
	K_INT("topic_defaults.segment_ms", "segment.ms", TC(tc_segment_ms), 1000, INT64_MAX,
	      604800000),
	K_INT_M1("topic_defaults.retention_ms", "retention.ms", TC(tc_retention_ms), 1000,
		 604800000),
	K_INT_M1("topic_defaults.retention_bytes", "retention.bytes", TC(tc_retention_bytes),
		 1 << 20, -1),
	K_INT("topic_defaults.max_message_bytes", "max.message.bytes", TC(tc_max_message_bytes),
	      1024, INT32_MAX, 1048588),
	K_BOOL("topic_defaults.unclean_leader_election", "unclean.leader.election.enable",
	       TC(tc_unclean_leader_election), false),
	K_ENUM("topic_defaults.acks_all_durability", "replog.acks.all.durability",
	       TC(tc_acks_all_durability), cfg_durability_names, CONFIG_DURABILITY_FSYNC),
	K_ENUM("topic_defaults.cleanup_policy", "cleanup.policy", TC(tc_cleanup_policy),
	       cfg_cleanup_names, CONFIG_CLEANUP_DELETE),
	K_SECTION("replication"),
	K_INT("replication.lag_max_ms", NULL, BC(bc_lag_max_ms), 100, 3600000, 10000),
	K_INT("replication.session_timeout_ms", NULL, BC(bc_session_timeout_ms), 100, 3600000,
	      6000),
	K_SECTION("flush"),
	K_INT("flush.interval_ms", NULL, BC(bc_flush_interval_ms), 0, 3600000, 0),
	K_INT("flush.bytes", NULL, BC(bc_flush_bytes), 0, INT64_MAX, 0),
	K_SECTION("compaction"),
	K_INT("compaction.interval_ms", NULL, BC(bc_compaction_interval_ms), 100, 86400000, 30000),
	K_BOOL("auto_create_topics", NULL, BC(bc_auto_create_topics), true),
	K_SECTION("limits"),
	K_INT("limits.max_request_bytes", NULL, BC(bc_max_request_bytes), 1024, INT32_MAX,
	      100 << 20),
	K_INT("limits.max_connections", NULL, BC(bc_max_connections), 1, 65536, 1024),
	K_INT("limits.max_inflight_requests", NULL, BC(bc_max_inflight_requests), 1, 1024, 64),
	K_INT("limits.max_connection_buffer_bytes", NULL, BC(bc_max_connection_buffer_bytes), 65536,
	      INT64_MAX, 64 << 20),
	K_INT("limits.max_fetch_wait_ms", NULL, BC(bc_max_fetch_wait_ms), 0, 300000, 30000),
	K_SECTION("metrics"),
	K_STR("metrics.listen", BC(bc_metrics_listen), CFG_CHECK_HOSTPORT_OPT, ""),
	K_SECTION("log"),
	K_ENUM("log.level", NULL, BC(bc_log_level), cfg_level_names, CONFIG_LOG_INFO),
};
#define CFG_KEY_COUNT (sizeof(cfg_keys) / sizeof(cfg_keys[0]))

/* One cluster.brokers item. */
enum { CFG_ADDR_ID, CFG_ADDR_ADDRESS, CFG_ADDR_PEER_ADDRESS, CFG_ADDR_KEY_COUNT };
static const struct cfg_key cfg_addr_keys[CFG_ADDR_KEY_COUNT] = {
	[CFG_ADDR_ID] = {.ck_path = "id",
			 .ck_type = CFG_INT,
			 BA(cba_id),
			 .ck_range = {0, INT32_MAX, false},
			 .ck_required = true},
	[CFG_ADDR_ADDRESS] = {.ck_path = "address",
			      .ck_type = CFG_STRING,
			      BA(cba_address),
			      .ck_check = CFG_CHECK_ADDRESS,
			      .ck_required = true},
	/* optional; "" = dial `address` */
	[CFG_ADDR_PEER_ADDRESS] = {.ck_path = "peer_address",
				   .ck_type = CFG_STRING,
				   BA(cba_peer_address),
				   .ck_check = CFG_CHECK_ADDRESS_OPT},
};

_Static_assert(sizeof(((struct broker_config *)0)->bc_controllers) / sizeof(int32_t) ==
		       CFG_MAX_CONTROLLERS,
	       "cluster.controllers holds at most 5 ids");

/* Where the fields of each scope live, for writing and for reading. */
struct cfg_target {
	struct broker_config *ct_cfg;
	struct topic_config *ct_topic;
	struct config_broker_addr *ct_addr;
};

struct cfg_view {
	const struct broker_config *cv_cfg;
	const struct topic_config *cv_topic;
	const struct config_broker_addr *cv_addr;
};

/* Where a message goes and which file it names. */
struct cfg_report {
	char *cr_err;
	size_t cr_cap;
	const char *cr_name;
};

/* One load in progress. The line arrays are 1-based lines of each key as
 * given, 0 for not given. */
struct cfg_load {
	struct cfg_report cl_rep;
	yaml_document_t *cl_doc;
	struct broker_config *cl_cfg;
	int cl_line[CFG_KEY_COUNT];
	int cl_addr_line[CONFIG_MAX_BROKERS][CFG_ADDR_KEY_COUNT];
	int cl_controller_line[CFG_MAX_CONTROLLERS];
};

/* The rows a mapping is walked against, and where their lines go. */
struct cfg_table {
	const struct cfg_key *ct_keys;
	size_t ct_count;
	int *ct_lines;
};

/* A scalar to decode. PLAIN is a YAML plain scalar (may be null); QUOTED
 * a quoted or block YAML scalar (always a string); RAW a Kafka value. */
enum cfg_text_kind { CFG_TEXT_PLAIN, CFG_TEXT_QUOTED, CFG_TEXT_RAW };

struct cfg_text {
	const char *tx_ptr;
	size_t tx_len;
	enum cfg_text_kind tx_kind;
};

/* ---- messages ---------------------------------------------------------- */

__attribute__((format(printf, 4, 0))) static int
cfg_vfail(const struct cfg_report *r, int line, const char *path, const char *fmt, va_list ap)
{
	size_t used = 0;
	int w;

	if (!r->cr_err || r->cr_cap == 0)
		return -1;
	if (line > 0)
		w = snprintf(r->cr_err, r->cr_cap, "%s:%d: ", r->cr_name, line);
	else
		w = snprintf(r->cr_err, r->cr_cap, "%s: ", r->cr_name);
	used = w < 0 ? 0 : (size_t)w;
	if (used < r->cr_cap && path && *path) {
		w = snprintf(r->cr_err + used, r->cr_cap - used, "%s: ", path);
		used += w < 0 ? 0 : (size_t)w;
	}
	if (used < r->cr_cap)
		vsnprintf(r->cr_err + used, r->cr_cap - used, fmt, ap);
	return -1;
}

/* Write "<name>[:<line>]: [<path>: ]<message>" and return -1. */
__attribute__((format(printf, 4, 5))) static int cfg_fail(const struct cfg_report *r, int line,
							  const char *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cfg_vfail(r, line, path, fmt, ap);
	va_end(ap);
	return -1;
}

/* Copy at most CFG_SHOW_MAX characters of user text for a message:
 * printable ASCII as is, anything else as '?', "..." when cut. */
static void cfg_sanitize(char *out, size_t cap, const char *s, size_t len)
{
	size_t n = 0;
	size_t i;

	RL_ASSERT(cap > 0);
	for (i = 0; i < len && i < CFG_SHOW_MAX && n + 1 < cap; i++) {
		unsigned char ch = (unsigned char)s[i];
		out[n++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	if (i < len && n + 4 <= cap) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
}

static bool cfg_text_is_null(const struct cfg_text *t)
{
	static const char *const nulls[] = {"~", "null", "Null", "NULL"};

	if (t->tx_kind != CFG_TEXT_PLAIN)
		return false;
	if (t->tx_len == 0)
		return true;
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++) {
		if (t->tx_len == strlen(nulls[i]) && memcmp(t->tx_ptr, nulls[i], t->tx_len) == 0)
			return true;
	}
	return false;
}

/* What a value is, for "expected X, got <this>". */
static void cfg_describe(const struct cfg_text *t, char *out, size_t cap)
{
	char s[CFG_SHOW_MAX + 4];

	if (cfg_text_is_null(t)) {
		snprintf(out, cap, "null");
		return;
	}
	cfg_sanitize(s, sizeof(s), t->tx_ptr, t->tx_len);
	if (t->tx_kind == CFG_TEXT_QUOTED)
		snprintf(out, cap, "quoted string '%s'", s);
	else
		snprintf(out, cap, "'%s'", s);
}

static struct cfg_text cfg_node_text(const yaml_node_t *n)
{
	RL_ASSERT(n->type == YAML_SCALAR_NODE);
	return (struct cfg_text){
		.tx_ptr = (const char *)n->data.scalar.value,
		.tx_len = n->data.scalar.length,
		.tx_kind = n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? CFG_TEXT_PLAIN
									   : CFG_TEXT_QUOTED,
	};
}

static void cfg_describe_node(const yaml_node_t *n, char *out, size_t cap)
{
	if (n->type == YAML_MAPPING_NODE) {
		snprintf(out, cap, "mapping");
	} else if (n->type == YAML_SEQUENCE_NODE) {
		snprintf(out, cap, "list");
	} else if (n->type == YAML_SCALAR_NODE) {
		struct cfg_text t = cfg_node_text(n);
		cfg_describe(&t, out, cap);
	} else {
		snprintf(out, cap, "nothing");
	}
}

static int cfg_node_line(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

/* "a, b, c" from a NULL-terminated list. */
static void cfg_join_names(const char *const *names, char *out, size_t cap)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; names[i] && used < cap; i++) {
		int w = snprintf(out + used, cap - used, "%s%s", i ? ", " : "", names[i]);
		used += w < 0 ? 0 : (size_t)w;
	}
}

static void cfg_range_msg(const struct cfg_range *r, const char *got, char *msg, size_t cap)
{
	if (r->cr_minus_one && r->cr_max == INT64_MAX)
		snprintf(msg, cap, "must be -1 or >= %" PRId64 ", got %s", r->cr_min, got);
	else if (r->cr_minus_one)
		snprintf(msg, cap, "must be -1 or between %" PRId64 " and %" PRId64 ", got %s",
			 r->cr_min, r->cr_max, got);
	else if (r->cr_max == INT64_MAX)
		snprintf(msg, cap, "must be >= %" PRId64 ", got %s", r->cr_min, got);
	else
		snprintf(msg, cap, "must be between %" PRId64 " and %" PRId64 ", got %s", r->cr_min,
			 r->cr_max, got);
}

static bool cfg_in_range(const struct cfg_range *r, int64_t v)
{
	return (r->cr_minus_one && v == -1) || (v >= r->cr_min && v <= r->cr_max);
}

/* ---- the table --------------------------------------------------------- */

static const char *cfg_leaf(const char *path)
{
	const char *dot = strrchr(path, '.');
	return dot ? dot + 1 : path;
}

/* Is `path` a direct child of `parent` ("" = the top level)? */
static bool cfg_is_child(const char *path, const char *parent)
{
	size_t plen = strlen(parent);

	if (plen == 0)
		return strchr(path, '.') == NULL;
	return strncmp(path, parent, plen) == 0 && path[plen] == '.' &&
	       strchr(path + plen + 1, '.') == NULL;
}

static int cfg_key_index(const char *path)
{
	for (size_t i = 0; i < CFG_KEY_COUNT; i++) {
		if (strcmp(cfg_keys[i].ck_path, path) == 0)
			return (int)i;
	}
	RL_ASSERT(!"no such row in cfg_keys");
	return -1;
}

static const struct cfg_key *cfg_kafka_key(const char *name, size_t len)
{
	for (size_t i = 0; i < CFG_KEY_COUNT; i++) {
		const char *k = cfg_keys[i].ck_kafka;
		if (k && strlen(k) == len && memcmp(k, name, len) == 0)
			return &cfg_keys[i];
	}
	return NULL;
}

/* The name a topic setting goes by outside YAML. */
static const char *cfg_topic_name(const struct cfg_key *k)
{
	return k->ck_kafka ? k->ck_kafka : cfg_leaf(k->ck_path);
}

static void *cfg_field(const struct cfg_key *k, const struct cfg_target *t)
{
	char *base = k->ck_scope == CFG_IN_BROKER  ? (char *)t->ct_cfg
		     : k->ck_scope == CFG_IN_TOPIC ? (char *)t->ct_topic
						   : (char *)t->ct_addr;
	RL_ASSERT(base != NULL);
	return base + k->ck_offset;
}

static const void *cfg_cfield(const struct cfg_key *k, const struct cfg_view *v)
{
	const char *base = k->ck_scope == CFG_IN_BROKER	 ? (const char *)v->cv_cfg
			   : k->ck_scope == CFG_IN_TOPIC ? (const char *)v->cv_topic
							 : (const char *)v->cv_addr;
	RL_ASSERT(base != NULL);
	return base + k->ck_offset;
}

static int64_t cfg_int_get(const struct cfg_key *k, const void *p)
{
	if (k->ck_size == sizeof(int16_t))
		return *(const int16_t *)p;
	if (k->ck_size == sizeof(int32_t))
		return *(const int32_t *)p;
	RL_ASSERT(k->ck_size == sizeof(int64_t));
	return *(const int64_t *)p;
}

/* v is within the row's range, which fits the field: checked on load. */
static void cfg_int_set(const struct cfg_key *k, void *p, int64_t v)
{
	if (k->ck_size == sizeof(int16_t)) {
		RL_ASSERT(v >= INT16_MIN && v <= INT16_MAX);
		*(int16_t *)p = (int16_t)v;
	} else if (k->ck_size == sizeof(int32_t)) {
		RL_ASSERT(v >= INT32_MIN && v <= INT32_MAX);
		*(int32_t *)p = (int32_t)v;
	} else {
		RL_ASSERT(k->ck_size == sizeof(int64_t));
		*(int64_t *)p = v;
	}
}

static int cfg_name_count(const char *const *names)
{
	int n = 0;
	while (names[n])
		n++;
	return n;
}

/* Copy len bytes and zero the rest of the field, so equal configs are
 * equal byte for byte. The caller checked len < cap. */
static void cfg_copy_str(char *dst, size_t cap, const char *src, size_t len)
{
	RL_ASSERT(len < cap);
	memset(dst, 0, cap);
	memcpy(dst, src, len);
}

/* A field's value as text (integers, booleans, enums). */
static void cfg_format_value(const struct cfg_key *k, const void *p, char *out, size_t cap)
{
	if (k->ck_type == CFG_BOOL) {
		snprintf(out, cap, "%s", *(const bool *)p ? "true" : "false");
	} else if (k->ck_type == CFG_ENUM) {
		int v = *(const int *)p;
		if (v >= 0 && v < cfg_name_count(k->ck_names))
			snprintf(out, cap, "%s", k->ck_names[v]);
		else
			snprintf(out, cap, "%d", v);
	} else {
		snprintf(out, cap, "%" PRId64, cfg_int_get(k, p));
	}
}

/* ---- decoding one value ------------------------------------------------ */

enum cfg_int_parse { CFG_INT_OK, CFG_INT_SYNTAX, CFG_INT_LEADING_ZERO, CFG_INT_OVERFLOW };

/* Decimal only: optional '-', digits, no leading zeros, fits int64. */
static enum cfg_int_parse cfg_parse_decimal(const char *s, size_t len, int64_t *out)
{
	size_t i = 0;
	bool neg = false;
	bool overflow = false;
	uint64_t acc = 0;
	uint64_t limit;

	if (len > 0 && s[0] == '-') {
		neg = true;
		i = 1;
	}
	if (i == len)
		return CFG_INT_SYNTAX;
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (size_t j = i; j < len; j++) {
		unsigned d = (unsigned char)s[j] - '0';
		if (d > 9)
			return CFG_INT_SYNTAX;
		if (acc > (limit - d) / 10)
			overflow = true;
		else
			acc = acc * 10 + d;
	}
	if (s[i] == '0' && len - i > 1)
		return CFG_INT_LEADING_ZERO;
	if (overflow)
		return CFG_INT_OVERFLOW;
	if (neg)
		*out = acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc;
	else
		*out = (int64_t)acc;
	return CFG_INT_OK;
}

static int cfg_decode_int(const struct cfg_text *t, const struct cfg_range *r, int64_t *out,
			  char *msg, size_t cap)
{
	char got[CFG_SHOW_MAX + 32];
	int64_t v = 0;

	cfg_describe(t, got, sizeof(got));
	if (t->tx_kind == CFG_TEXT_QUOTED || cfg_text_is_null(t)) {
		snprintf(msg, cap, "expected integer, got %s", got);
		return -1;
	}
	switch (cfg_parse_decimal(t->tx_ptr, t->tx_len, &v)) {
	case CFG_INT_SYNTAX:
		snprintf(msg, cap, "expected integer, got %s", got);
		return -1;
	case CFG_INT_LEADING_ZERO:
		snprintf(msg, cap, "expected a decimal integer without leading zeros, got %s", got);
		return -1;
	case CFG_INT_OVERFLOW:
		cfg_sanitize(got, sizeof(got), t->tx_ptr, t->tx_len);
		cfg_range_msg(r, got, msg, cap);
		return -1;
	case CFG_INT_OK:
		break;
	}
	if (!cfg_in_range(r, v)) {
		snprintf(got, sizeof(got), "%" PRId64, v);
		cfg_range_msg(r, got, msg, cap);
		return -1;
	}
	*out = v;
	return 0;
}

static int cfg_decode_bool(const struct cfg_text *t, bool *out, char *msg, size_t cap)
{
	char got[CFG_SHOW_MAX + 32];

	if (t->tx_kind != CFG_TEXT_QUOTED) {
		if (t->tx_len == 4 && memcmp(t->tx_ptr, "true", 4) == 0) {
			*out = true;
			return 0;
		}
		if (t->tx_len == 5 && memcmp(t->tx_ptr, "false", 5) == 0) {
			*out = false;
			return 0;
		}
	}
	cfg_describe(t, got, sizeof(got));
	snprintf(msg, cap, "expected boolean (true or false), got %s", got);
	return -1;
}

static int cfg_decode_string(const struct cfg_key *k, const struct cfg_text *t, char *out,
			     char *msg, size_t cap)
{
	if (cfg_text_is_null(t)) {
		snprintf(msg, cap, "expected string, got null");
		return -1;
	}
	if (memchr(t->tx_ptr, '\0', t->tx_len)) {
		snprintf(msg, cap, "must not contain a NUL byte");
		return -1;
	}
	if (t->tx_len >= k->ck_size) {
		snprintf(msg, cap, "string too long (%zu bytes, at most %zu)", t->tx_len,
			 k->ck_size - 1);
		return -1;
	}
	cfg_copy_str(out, k->ck_size, t->tx_ptr, t->tx_len);
	return 0;
}

static int cfg_decode_enum(const struct cfg_key *k, const struct cfg_text *t, int *out, char *msg,
			   size_t cap)
{
	char got[CFG_SHOW_MAX + 32];
	char allowed[128];

	if (!cfg_text_is_null(t)) {
		for (int i = 0; k->ck_names[i]; i++) {
			if (strlen(k->ck_names[i]) == t->tx_len &&
			    memcmp(k->ck_names[i], t->tx_ptr, t->tx_len) == 0) {
				*out = i;
				return 0;
			}
		}
	}
	cfg_describe(t, got, sizeof(got));
	cfg_join_names(k->ck_names, allowed, sizeof(allowed));
	snprintf(msg, cap, "invalid value %s (allowed: %s)", got, allowed);
	return -1;
}

/* Decode a scalar into the row's field; the field changes only on success.
 * msg gets the problem without the key. */
static int cfg_decode(const struct cfg_key *k, const struct cfg_text *t,
		      const struct cfg_target *tg, char *msg, size_t cap)
{
	void *p = cfg_field(k, tg);
	int64_t v;

	switch (k->ck_type) {
	case CFG_INT:
	case CFG_CONTROLLER:
		if (cfg_decode_int(t, &k->ck_range, &v, msg, cap))
			return -1;
		cfg_int_set(k, p, v);
		return 0;
	case CFG_BOOL:
		RL_ASSERT(k->ck_size == sizeof(bool));
		return cfg_decode_bool(t, p, msg, cap);
	case CFG_STRING:
		return cfg_decode_string(k, t, p, msg, cap);
	case CFG_ENUM:
		RL_ASSERT(k->ck_size == sizeof(int));
		return cfg_decode_enum(k, t, p, msg, cap);
	default:
		RL_ASSERT(!"not a scalar row");
		return -1;
	}
}

static const char *cfg_expected(const struct cfg_key *k)
{
	switch (k->ck_type) {
	case CFG_INT:
	case CFG_CONTROLLER:
		return "integer";
	case CFG_BOOL:
		return "boolean (true or false)";
	case CFG_STRING:
	case CFG_ENUM:
		return "string";
	case CFG_CONTROLLERS:
	case CFG_BROKERS:
		return "list";
	case CFG_SECTION:
		break;
	}
	return "mapping";
}

/* ---- walking the YAML document ----------------------------------------- */

static yaml_node_t *cfg_node(struct cfg_load *ld, int idx)
{
	yaml_node_t *n = yaml_document_get_node(ld->cl_doc, idx);
	RL_ASSERT(n != NULL);
	return n;
}

static int cfg_walk_map(struct cfg_load *ld, const struct cfg_table *tab, const char *parent,
			const char *shown, yaml_node_t *map, const struct cfg_target *tg);

static int cfg_find_child(const struct cfg_table *tab, const char *parent, const char *key,
			  size_t len)
{
	for (size_t i = 0; i < tab->ct_count; i++) {
		const char *path = tab->ct_keys[i].ck_path;
		const char *leaf = cfg_leaf(path);
		if (cfg_is_child(path, parent) && strlen(leaf) == len &&
		    memcmp(leaf, key, len) == 0)
			return (int)i;
	}
	return -1;
}

static int cfg_unknown_key(struct cfg_load *ld, const struct cfg_table *tab, const char *parent,
			   const char *shown, const char *path, int line)
{
	char allowed[256];
	size_t used = 0;

	allowed[0] = '\0';
	for (size_t i = 0; i < tab->ct_count && used < sizeof(allowed); i++) {
		if (!cfg_is_child(tab->ct_keys[i].ck_path, parent))
			continue;
		int w = snprintf(allowed + used, sizeof(allowed) - used, "%s%s", used ? ", " : "",
				 cfg_leaf(tab->ct_keys[i].ck_path));
		used += w < 0 ? 0 : (size_t)w;
	}
	if (!*shown)
		return cfg_fail(&ld->cl_rep, line, path,
				"unknown key (allowed at the top level: %s)", allowed);
	return cfg_fail(&ld->cl_rep, line, path, "unknown key (allowed in %s: %s)", shown, allowed);
}

/* "cluster.brokers[3]": the parents are fixed table paths, so it fits. */
static void cfg_item_path(char *out, size_t cap, const char *shown, size_t i)
{
	int w = snprintf(out, cap, "%s[%zu]", shown, i);
	RL_ASSERT(w > 0 && (size_t)w < cap);
}

static int cfg_walk_controllers(struct cfg_load *ld, const struct cfg_key *k, const char *shown,
				int line, yaml_node_t *v)
{
	struct broker_config *c = ld->cl_cfg;
	char got[CFG_SHOW_MAX + 32];
	char msg[CONFIG_ERROR_MAX];
	char path[CFG_SHOWN_MAX];
	size_t n;

	if (v->type != YAML_SEQUENCE_NODE) {
		cfg_describe_node(v, got, sizeof(got));
		return cfg_fail(&ld->cl_rep, line, shown, "expected list, got %s", got);
	}
	n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (n != 1 && n != 3 && n != 5)
		return cfg_fail(&ld->cl_rep, line, shown,
				"must list 1, 3 or 5 controller ids, got %zu", n);
	memset(c->bc_controllers, 0, sizeof(c->bc_controllers));
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item = cfg_node(ld, v->data.sequence.items.start[i]);
		int iline = cfg_node_line(item);
		int64_t id = 0;
		struct cfg_text t;

		cfg_item_path(path, sizeof(path), shown, i);
		if (item->type != YAML_SCALAR_NODE) {
			cfg_describe_node(item, got, sizeof(got));
			return cfg_fail(&ld->cl_rep, iline, path, "expected integer, got %s", got);
		}
		t = cfg_node_text(item);
		if (cfg_decode_int(&t, &k->ck_range, &id, msg, sizeof(msg)))
			return cfg_fail(&ld->cl_rep, iline, path, "%s", msg);
		c->bc_controllers[i] = (int32_t)id;
		ld->cl_controller_line[i] = iline;
	}
	c->bc_controller_count = (int)n;
	return 0;
}

static int cfg_walk_brokers(struct cfg_load *ld, const char *shown, int line, yaml_node_t *v)
{
	struct broker_config *c = ld->cl_cfg;
	char got[CFG_SHOW_MAX + 32];
	char path[CFG_SHOWN_MAX];
	size_t n;

	if (v->type != YAML_SEQUENCE_NODE) {
		cfg_describe_node(v, got, sizeof(got));
		return cfg_fail(&ld->cl_rep, line, shown, "expected list, got %s", got);
	}
	n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (n == 0)
		return cfg_fail(&ld->cl_rep, line, shown, "must list at least one broker");
	if (n > CONFIG_MAX_BROKERS)
		return cfg_fail(&ld->cl_rep, line, shown, "too many brokers (%zu, at most %d)", n,
				CONFIG_MAX_BROKERS);
	memset(c->bc_brokers, 0, sizeof(c->bc_brokers));
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item = cfg_node(ld, v->data.sequence.items.start[i]);
		struct cfg_table tab = {cfg_addr_keys, CFG_ADDR_KEY_COUNT, ld->cl_addr_line[i]};
		struct cfg_target tg = {.ct_addr = &c->bc_brokers[i]};

		cfg_item_path(path, sizeof(path), shown, i);
		if (item->type != YAML_MAPPING_NODE) {
			cfg_describe_node(item, got, sizeof(got));
			return cfg_fail(&ld->cl_rep, cfg_node_line(item), path,
					"expected mapping {id, address}, got %s", got);
		}
		if (cfg_walk_map(ld, &tab, "", path, item, &tg))
			return -1;
	}
	c->bc_broker_count = (int)n;
	return 0;
}

static int cfg_walk_value(struct cfg_load *ld, const struct cfg_table *tab, const struct cfg_key *k,
			  const char *shown, int line, yaml_node_t *v, const struct cfg_target *tg)
{
	char got[CFG_SHOW_MAX + 32];
	char msg[CONFIG_ERROR_MAX];
	struct cfg_text t;

	switch (k->ck_type) {
	case CFG_SECTION:
		if (v->type == YAML_MAPPING_NODE)
			return cfg_walk_map(ld, tab, k->ck_path, shown, v, tg);
		if (v->type == YAML_SCALAR_NODE) {
			t = cfg_node_text(v);
			if (cfg_text_is_null(&t))
				return 0; /* "flush:" with everything commented out */
		}
		break;
	case CFG_CONTROLLERS:
		return cfg_walk_controllers(ld, k, shown, line, v);
	case CFG_BROKERS:
		return cfg_walk_brokers(ld, shown, line, v);
	default:
		if (v->type != YAML_SCALAR_NODE)
			break;
		t = cfg_node_text(v);
		if (cfg_decode(k, &t, tg, msg, sizeof(msg)))
			return cfg_fail(&ld->cl_rep, line, shown, "%s", msg);
		return 0;
	}
	cfg_describe_node(v, got, sizeof(got));
	return cfg_fail(&ld->cl_rep, line, shown, "expected %s, got %s", cfg_expected(k), got);
}

/* Walk one mapping against the rows that are children of `parent`;
 * `shown` is its path in messages ("" at the top level). */
static int cfg_walk_map(struct cfg_load *ld, const struct cfg_table *tab, const char *parent,
			const char *shown, yaml_node_t *map, const struct cfg_target *tg)
{
	char got[CFG_SHOW_MAX + 32];
	char key[CFG_SHOW_MAX + 4];
	char path[CFG_SHOWN_MAX];

	RL_ASSERT(map->type == YAML_MAPPING_NODE);
	for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top;
	     pr++) {
		yaml_node_t *kn = cfg_node(ld, pr->key);
		yaml_node_t *vn = cfg_node(ld, pr->value);
		int line = cfg_node_line(kn);
		struct cfg_text kt;
		int idx;

		if (kn->type != YAML_SCALAR_NODE) {
			cfg_describe_node(kn, got, sizeof(got));
			return cfg_fail(&ld->cl_rep, line, shown, "keys must be names, got %s",
					got);
		}
		kt = cfg_node_text(kn);
		cfg_sanitize(key, sizeof(key), kt.tx_ptr, kt.tx_len);
		snprintf(path, sizeof(path), "%s%s%s", shown, *shown ? "." : "", key);
		idx = cfg_find_child(tab, parent, kt.tx_ptr, kt.tx_len);
		if (idx < 0)
			return cfg_unknown_key(ld, tab, parent, shown, path, line);
		if (tab->ct_lines[idx])
			return cfg_fail(&ld->cl_rep, line, path, "duplicate key (first at line %d)",
					tab->ct_lines[idx]);
		tab->ct_lines[idx] = line;
		if (cfg_walk_value(ld, tab, &tab->ct_keys[idx], path, line, vn, tg))
			return -1;
	}
	for (size_t i = 0; i < tab->ct_count; i++) {
		const struct cfg_key *k = &tab->ct_keys[i];
		if (k->ck_required && !tab->ct_lines[i] && cfg_is_child(k->ck_path, parent))
			return cfg_fail(&ld->cl_rep, cfg_node_line(map), shown,
					"missing required key '%s'", cfg_leaf(k->ck_path));
	}
	return 0;
}

static int cfg_walk_root(struct cfg_load *ld, yaml_node_t *root)
{
	struct cfg_table tab = {cfg_keys, CFG_KEY_COUNT, ld->cl_line};
	struct cfg_target tg = {ld->cl_cfg, &ld->cl_cfg->bc_topic_defaults, NULL};
	char got[CFG_SHOW_MAX + 32];

	if (root->type == YAML_SCALAR_NODE) {
		struct cfg_text t = cfg_node_text(root);
		if (cfg_text_is_null(&t))
			return 0; /* "---" alone: nothing set */
	}
	if (root->type != YAML_MAPPING_NODE) {
		cfg_describe_node(root, got, sizeof(got));
		return cfg_fail(&ld->cl_rep, cfg_node_line(root), NULL,
				"expected a mapping of sections (broker, cluster, ...) at the top "
				"level, got %s",
				got);
	}
	return cfg_walk_map(ld, &tab, "", "", root, &tg);
}

/* ---- after the walk: conflicts and derived defaults -------------------- */

static int cfg_line(const struct cfg_load *ld, const char *path)
{
	return ld ? ld->cl_line[cfg_key_index(path)] : 0;
}

static int cfg_finish(struct cfg_load *ld)
{
	struct broker_config *c = ld->cl_cfg;
	int one = cfg_line(ld, "cluster.controller");
	int list = cfg_line(ld, "cluster.controllers");

	if (one && list) {
		bool list_last = list > one;
		return cfg_fail(&ld->cl_rep, list_last ? list : one,
				list_last ? "cluster.controllers" : "cluster.controller",
				"give either cluster.controller or cluster.controllers, not both "
				"(the other is at line %d)",
				list_last ? one : list);
	}
	if (!cfg_line(ld, "broker.advertised"))
		memcpy(c->bc_advertised, c->bc_listen, sizeof(c->bc_advertised));
	if (!cfg_line(ld, "cluster.brokers")) {
		memset(c->bc_brokers, 0, sizeof(c->bc_brokers));
		c->bc_brokers[0].cba_id = c->bc_id;
		memcpy(c->bc_brokers[0].cba_address, c->bc_advertised,
		       sizeof(c->bc_brokers[0].cba_address));
		c->bc_broker_count = 1;
	}
	if (one) {
		c->bc_controller_count = 1;
	} else if (!list) {
		memset(c->bc_controllers, 0, sizeof(c->bc_controllers));
		c->bc_controllers[0] = c->bc_id;
		c->bc_controller_count = 1;
	}
	return 0;
}

/* ---- validation -------------------------------------------------------- */

/* Why s is not host:port, or NULL if it is. host may be NULL. */
static const char *cfg_hostport(const char *s, char *host, size_t host_cap, uint16_t *port)
{
	size_t len = strnlen(s, CONFIG_HOSTPORT_MAX);
	const char *h;
	const char *ps;
	size_t hlen;
	uint32_t pv = 0;

	if (len >= CONFIG_HOSTPORT_MAX)
		return "too long";
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		char v6[INET6_ADDRSTRLEN];
		struct in6_addr a6;

		if (!rb)
			return "missing ']' after the IPv6 address";
		h = s + 1;
		hlen = (size_t)(rb - h);
		if (rb[1] != ':')
			return "missing ':port' after ']'";
		if (hlen == 0 || hlen >= sizeof(v6))
			return "invalid IPv6 address";
		memcpy(v6, h, hlen);
		v6[hlen] = '\0';
		if (inet_pton(AF_INET6, v6, &a6) != 1)
			return "invalid IPv6 address";
		ps = rb + 2;
	} else {
		const char *colon = strrchr(s, ':');
		if (!colon)
			return "missing ':port'";
		h = s;
		hlen = (size_t)(colon - s);
		if (hlen == 0)
			return "missing host";
		if (memchr(h, ':', hlen))
			return "an IPv6 address must be in brackets, as in [::1]:9092";
		if (hlen > 253)
			return "host name longer than 253 characters";
		for (size_t i = 0; i < hlen; i++) {
			unsigned char ch = (unsigned char)h[i];
			if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			      (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_'))
				return "invalid character in host";
		}
		ps = colon + 1;
	}
	if (!*ps)
		return "missing port";
	for (const char *q = ps; *q; q++) {
		if (*q < '0' || *q > '9' || q - ps >= 5)
			return "port must be a number between 1 and 65535";
		pv = pv * 10 + (uint32_t)(*q - '0');
	}
	if (pv < 1 || pv > 65535)
		return "port must be a number between 1 and 65535";
	if (host) {
		if (hlen >= host_cap)
			return "host does not fit the buffer";
		memcpy(host, h, hlen);
		host[hlen] = '\0';
	}
	if (port)
		*port = (uint16_t)pv;
	return NULL;
}

/* 0.0.0.0 or [::]: fine to bind, useless to connect to. */
static bool cfg_is_wildcard(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, host, &a4) == 1)
		return a4.s_addr == htonl(INADDR_ANY);
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_UNSPECIFIED(&a6);
	return false;
}

static int cfg_check_string(const struct cfg_key *k, const char *s, char *msg, size_t cap)
{
	char host[CONFIG_HOSTPORT_MAX];
	char shown[CFG_SHOW_MAX + 4];
	const char *why;

	if (!memchr(s, '\0', k->ck_size)) {
		snprintf(msg, cap, "not NUL-terminated");
		return -1;
	}
	if (k->ck_check == CFG_CHECK_NONEMPTY && !*s) {
		snprintf(msg, cap, "must not be empty");
		return -1;
	}
	if ((k->ck_check == CFG_CHECK_HOSTPORT_OPT || k->ck_check == CFG_CHECK_ADDRESS_OPT) && !*s)
		return 0;
	if (k->ck_check == CFG_CHECK_NONE || k->ck_check == CFG_CHECK_NONEMPTY)
		return 0;
	cfg_sanitize(shown, sizeof(shown), s, strlen(s));
	why = cfg_hostport(s, host, sizeof(host), NULL);
	if (why) {
		snprintf(msg, cap, "'%s' is not host:port: %s", shown, why);
		return -1;
	}
	if ((k->ck_check == CFG_CHECK_ADDRESS || k->ck_check == CFG_CHECK_ADDRESS_OPT) &&
	    cfg_is_wildcard(host)) {
		snprintf(msg, cap,
			 "'%s' is a wildcard address that clients cannot connect to; give a "
			 "reachable address",
			 shown);
		return -1;
	}
	return 0;
}

/* Re-check one field against its row (a struct may not come from YAML). */
static int cfg_check_field(const struct cfg_key *k, const struct cfg_view *v, char *msg, size_t cap)
{
	const void *p = cfg_cfield(k, v);
	char allowed[128];
	char got[32];

	switch (k->ck_type) {
	case CFG_INT:
		if (cfg_in_range(&k->ck_range, cfg_int_get(k, p)))
			return 0;
		snprintf(got, sizeof(got), "%" PRId64, cfg_int_get(k, p));
		cfg_range_msg(&k->ck_range, got, msg, cap);
		return -1;
	case CFG_ENUM:
		if (*(const int *)p >= 0 && *(const int *)p < cfg_name_count(k->ck_names))
			return 0;
		cfg_join_names(k->ck_names, allowed, sizeof(allowed));
		snprintf(msg, cap, "invalid value %d (allowed: %s)", *(const int *)p, allowed);
		return -1;
	case CFG_STRING:
		return cfg_check_string(k, p, msg, cap);
	default:
		return 0; /* booleans; the lists are checked on their own */
	}
}

static int cfg_check_fields(const struct broker_config *c, const struct cfg_load *ld,
			    const struct cfg_report *r)
{
	struct cfg_view v = {c, &c->bc_topic_defaults, NULL};
	char msg[CONFIG_ERROR_MAX];

	for (size_t i = 0; i < CFG_KEY_COUNT; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		int line = ld ? ld->cl_line[i] : 0;

		if (cfg_check_field(k, &v, msg, sizeof(msg)) == 0)
			continue;
		/* advertised defaults to listen: point at the line that set it */
		if (!line && ld && k->ck_offset == offsetof(struct broker_config, bc_advertised))
			line = cfg_line(ld, "broker.listen");
		return cfg_fail(r, line, k->ck_path, "%s", msg);
	}
	return 0;
}

static int cfg_find_broker(const struct broker_config *c, int32_t id)
{
	for (int i = 0; i < c->bc_broker_count; i++) {
		if (c->bc_brokers[i].cba_id == id)
			return i;
	}
	return -1;
}

static int cfg_check_brokers(const struct broker_config *c, const struct cfg_load *ld,
			     const struct cfg_report *r)
{
	char msg[CONFIG_ERROR_MAX];
	char path[CFG_SHOWN_MAX];
	char adv[CFG_SHOW_MAX + 4];
	char addr[CFG_SHOW_MAX + 4];
	int self;

	if (c->bc_broker_count < 1 || c->bc_broker_count > CONFIG_MAX_BROKERS)
		return cfg_fail(r, cfg_line(ld, "cluster.brokers"), "cluster.brokers",
				"must list 1 to %d brokers, got %d", CONFIG_MAX_BROKERS,
				c->bc_broker_count);
	for (int i = 0; i < c->bc_broker_count; i++) {
		const struct config_broker_addr *b = &c->bc_brokers[i];
		struct cfg_view v = {.cv_addr = b};
		const int *lines = ld ? ld->cl_addr_line[i] : NULL;

		for (int k = 0; k < CFG_ADDR_KEY_COUNT; k++) {
			if (cfg_check_field(&cfg_addr_keys[k], &v, msg, sizeof(msg)) == 0)
				continue;
			snprintf(path, sizeof(path), "cluster.brokers[%d].%s", i,
				 cfg_addr_keys[k].ck_path);
			return cfg_fail(r, lines ? lines[k] : 0, path, "%s", msg);
		}
		for (int j = 0; j < i; j++) {
			if (c->bc_brokers[j].cba_id == b->cba_id) {
				snprintf(path, sizeof(path), "cluster.brokers[%d].id", i);
				return cfg_fail(r, lines ? lines[CFG_ADDR_ID] : 0, path,
						"duplicate broker id %" PRId32
						" (also cluster.brokers[%d])",
						b->cba_id, j);
			}
			if (strcmp(c->bc_brokers[j].cba_address, b->cba_address) == 0) {
				snprintf(path, sizeof(path), "cluster.brokers[%d].address", i);
				cfg_sanitize(addr, sizeof(addr), b->cba_address,
					     strlen(b->cba_address));
				return cfg_fail(r, lines ? lines[CFG_ADDR_ADDRESS] : 0, path,
						"'%s' is also the address of cluster.brokers[%d]",
						addr, j);
			}
		}
	}
	self = cfg_find_broker(c, c->bc_id);
	if (self < 0)
		return cfg_fail(r, cfg_line(ld, "cluster.brokers"), "cluster.brokers",
				"this broker (broker.id %" PRId32 ") is not listed", c->bc_id);
	if (strcmp(c->bc_brokers[self].cba_address, c->bc_advertised) != 0) {
		snprintf(path, sizeof(path), "cluster.brokers[%d].address", self);
		cfg_sanitize(addr, sizeof(addr), c->bc_brokers[self].cba_address,
			     strlen(c->bc_brokers[self].cba_address));
		cfg_sanitize(adv, sizeof(adv), c->bc_advertised, strlen(c->bc_advertised));
		return cfg_fail(r, ld ? ld->cl_addr_line[self][CFG_ADDR_ADDRESS] : 0, path,
				"this broker's entry (id %" PRId32
				") has '%s' but broker.advertised "
				"is '%s'; they must match",
				c->bc_id, addr, adv);
	}
	return 0;
}

/* The path and line of controller i, as the file gave it. */
static int cfg_controller_where(const struct broker_config *c, const struct cfg_load *ld, int i,
				char *path, size_t cap)
{
	if (c->bc_controller_count == 1 && !cfg_line(ld, "cluster.controllers")) {
		snprintf(path, cap, "cluster.controller");
		return cfg_line(ld, "cluster.controller");
	}
	snprintf(path, cap, "cluster.controllers[%d]", i);
	return ld ? ld->cl_controller_line[i] : 0;
}

static int cfg_check_controllers(const struct broker_config *c, const struct cfg_load *ld,
				 const struct cfg_report *r)
{
	const struct cfg_key *k = &cfg_keys[cfg_key_index("cluster.controllers")];
	int n = c->bc_controller_count;
	char path[CFG_SHOWN_MAX];
	char msg[CONFIG_ERROR_MAX];
	char got[32];

	if (n != 1 && n != 3 && n != 5)
		return cfg_fail(r, cfg_line(ld, "cluster.controllers"), "cluster.controllers",
				"must list 1, 3 or 5 controller ids, got %d", n);
	for (int i = 0; i < n; i++) {
		int32_t id = c->bc_controllers[i];
		int line = cfg_controller_where(c, ld, i, path, sizeof(path));

		if (!cfg_in_range(&k->ck_range, id)) {
			snprintf(got, sizeof(got), "%" PRId32, id);
			cfg_range_msg(&k->ck_range, got, msg, sizeof(msg));
			return cfg_fail(r, line, path, "%s", msg);
		}
		if (cfg_find_broker(c, id) < 0)
			return cfg_fail(r, line, path,
					"controller %" PRId32 " is not a broker in cluster.brokers",
					id);
		for (int j = 0; j < i; j++) {
			if (c->bc_controllers[j] == id)
				return cfg_fail(r, line, path, "duplicate controller id %" PRId32,
						id);
		}
	}
	bool voter = false;
	for (int i = 0; i < n; i++)
		voter = voter || c->bc_controllers[i] == c->bc_id;
	if (c->bc_controller_only && !voter)
		return cfg_fail(r, cfg_line(ld, "broker.controller_only"), "broker.controller_only",
				"broker %" PRId32
				" is not in cluster.controllers: a controller-only "
				"process must be a voter",
				c->bc_id);
	return 0;
}

/* A topic's ranges, then min ISR <= RF <= brokers. On error *bad is the
 * row to blame and msg says why, without the key. */
static int cfg_topic_check(const struct topic_config *tc, int broker_count,
			   const struct cfg_key **bad, char *msg, size_t cap)
{
	struct cfg_view v = {.cv_topic = tc};

	for (size_t i = 0; i < CFG_KEY_COUNT; i++) {
		if (cfg_keys[i].ck_scope != CFG_IN_TOPIC)
			continue;
		if (cfg_check_field(&cfg_keys[i], &v, msg, cap)) {
			*bad = &cfg_keys[i];
			return -1;
		}
	}
	if (tc->tc_replication_factor > broker_count) {
		*bad = &cfg_keys[cfg_key_index("topic_defaults.replication_factor")];
		snprintf(msg, cap, "must be at most the number of brokers (%d), got %d",
			 broker_count, tc->tc_replication_factor);
		return -1;
	}
	if (tc->tc_min_insync_replicas > tc->tc_replication_factor) {
		*bad = &cfg_keys[cfg_key_index("topic_defaults.min_insync_replicas")];
		snprintf(msg, cap, "must be at most the replication factor (%d), got %" PRId32,
			 tc->tc_replication_factor, tc->tc_min_insync_replicas);
		return -1;
	}
	return 0;
}

static int cfg_validate_at(const struct broker_config *c, const struct cfg_load *ld, char *err,
			   size_t err_cap)
{
	struct cfg_report r = {err, err_cap, ld ? ld->cl_rep.cr_name : c->bc_source};
	const struct cfg_key *bad = NULL;
	char msg[CONFIG_ERROR_MAX];

	if (!memchr(c->bc_source, '\0', sizeof(c->bc_source)))
		r.cr_name = "(config)";
	if (cfg_check_fields(c, ld, &r) || cfg_check_brokers(c, ld, &r) ||
	    cfg_check_controllers(c, ld, &r))
		return -1;
	if (cfg_topic_check(&c->bc_topic_defaults, c->bc_broker_count, &bad, msg, sizeof(msg)))
		return cfg_fail(&r, ld ? ld->cl_line[bad - cfg_keys] : 0, bad->ck_path, "%s", msg);
	return 0;
}

/* ---- loading ----------------------------------------------------------- */

/* Reads a FILE for libyaml and refuses to go past CONFIG_FILE_MAX. */
struct cfg_reader {
	FILE *rd_file;
	size_t rd_total;
	int rd_errno;
	bool rd_too_big;
};

static int cfg_read(void *data, unsigned char *buf, size_t size, size_t *size_read)
{
	struct cfg_reader *rd = data;
	size_t n;

	errno = 0;
	n = fread(buf, 1, size, rd->rd_file);
	if (n == 0 && ferror(rd->rd_file)) {
		rd->rd_errno = errno ? errno : EIO;
		return 0;
	}
	rd->rd_total += n;
	if (rd->rd_total > CONFIG_FILE_MAX) {
		rd->rd_too_big = true;
		return 0;
	}
	*size_read = n;
	return 1;
}

static int cfg_parse_error(const yaml_parser_t *p, const struct cfg_reader *rd,
			   const struct cfg_report *r)
{
	char eb[128];

	if (rd && rd->rd_too_big)
		return cfg_fail(r, 0, NULL, "larger than %d bytes", CONFIG_FILE_MAX);
	if (rd && rd->rd_errno)
		return cfg_fail(r, 0, NULL, "cannot read: %s",
				strerror_r(rd->rd_errno, eb, sizeof(eb)));
	if (p->error == YAML_MEMORY_ERROR)
		return cfg_fail(r, 0, NULL, "out of memory while parsing YAML");
	if (p->error == YAML_READER_ERROR)
		return cfg_fail(r, 0, NULL, "YAML reader error at byte %zu: %s (0x%02x)",
				p->problem_offset, p->problem ? p->problem : "unknown problem",
				(unsigned)p->problem_value & 0xffu);
	if (r->cr_err && r->cr_cap) {
		int w = snprintf(r->cr_err, r->cr_cap, "%s:%zu:%zu: YAML syntax error: %s",
				 r->cr_name, p->problem_mark.line + 1, p->problem_mark.column + 1,
				 p->problem ? p->problem : "unknown problem");
		size_t used = w < 0 ? 0 : (size_t)w;
		if (p->context && used < r->cr_cap)
			snprintf(r->cr_err + used, r->cr_cap - used,
				 " (%s at line %zu, column %zu)", p->context,
				 p->context_mark.line + 1, p->context_mark.column + 1);
	}
	return -1;
}

/* After the first document, only the end of the stream may follow. */
static int cfg_expect_end(yaml_parser_t *p, const struct cfg_reader *rd, const struct cfg_report *r)
{
	yaml_document_t doc;
	yaml_node_t *root;
	int rc = 0;

	if (!yaml_parser_load(p, &doc))
		return cfg_parse_error(p, rd, r);
	root = yaml_document_get_root_node(&doc);
	if (root)
		rc = cfg_fail(r, cfg_node_line(root), NULL, "only one YAML document is allowed");
	yaml_document_delete(&doc);
	return rc;
}

static int cfg_load_parser(struct broker_config *c, yaml_parser_t *p, const struct cfg_reader *rd,
			   const char *name, char *err, size_t err_cap)
{
	struct cfg_load ld;
	yaml_document_t doc;
	yaml_node_t *root;
	int rc = 0;

	memset(&ld, 0, sizeof(ld));
	ld.cl_rep = (struct cfg_report){err, err_cap, name};
	ld.cl_doc = &doc;
	ld.cl_cfg = c;
	config_default(c);
	cfg_copy_str(c->bc_source, sizeof(c->bc_source), name,
		     strnlen(name, sizeof(c->bc_source) - 1));

	if (!yaml_parser_load(p, &doc))
		return cfg_parse_error(p, rd, &ld.cl_rep);
	root = yaml_document_get_root_node(&doc);
	if (root) {
		rc = cfg_walk_root(&ld, root);
		if (rc == 0)
			rc = cfg_expect_end(p, rd, &ld.cl_rep);
	}
	yaml_document_delete(&doc);
	ld.cl_doc = NULL;
	if (rc || cfg_finish(&ld))
		return -1;
	return cfg_validate_at(c, &ld, err, err_cap);
}

void config_default(struct broker_config *c)
{
	struct cfg_target tg = {c, &c->bc_topic_defaults, NULL};

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < CFG_KEY_COUNT; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		void *p;

		if (k->ck_type == CFG_SECTION || k->ck_type == CFG_CONTROLLER ||
		    k->ck_type == CFG_CONTROLLERS || k->ck_type == CFG_BROKERS ||
		    (k->ck_type == CFG_STRING && !k->ck_def_str))
			continue;
		p = cfg_field(k, &tg);
		if (k->ck_type == CFG_STRING)
			cfg_copy_str(p, k->ck_size, k->ck_def_str, strlen(k->ck_def_str));
		else if (k->ck_type == CFG_BOOL)
			*(bool *)p = k->ck_def != 0;
		else if (k->ck_type == CFG_ENUM)
			*(int *)p = (int)k->ck_def;
		else
			cfg_int_set(k, p, k->ck_def);
	}
	/* What a file that names none of these derives (cfg_finish). */
	memcpy(c->bc_advertised, c->bc_listen, sizeof(c->bc_advertised));
	c->bc_controllers[0] = c->bc_id;
	c->bc_controller_count = 1;
	c->bc_brokers[0].cba_id = c->bc_id;
	memcpy(c->bc_brokers[0].cba_address, c->bc_advertised, sizeof(c->bc_advertised));
	c->bc_broker_count = 1;
	cfg_copy_str(c->bc_source, sizeof(c->bc_source), "(embedded default)",
		     strlen("(embedded default)"));
}

int config_load_string(struct broker_config *c, const char *yaml, size_t len, const char *name,
		       char *err, size_t err_cap)
{
	struct cfg_report r = {err, err_cap, name ? name : "(string)"};
	yaml_parser_t p;
	int rc;

	if (len > CONFIG_FILE_MAX)
		return cfg_fail(&r, 0, NULL, "larger than %d bytes", CONFIG_FILE_MAX);
	if (!yaml && len)
		return cfg_fail(&r, 0, NULL, "no text given");
	if (!yaml_parser_initialize(&p))
		return cfg_fail(&r, 0, NULL, "out of memory while parsing YAML");
	yaml_parser_set_input_string(&p, (const unsigned char *)(yaml ? yaml : ""), len);
	rc = cfg_load_parser(c, &p, NULL, r.cr_name, err, err_cap);
	yaml_parser_delete(&p);
	return rc;
}

int config_load_file(struct broker_config *c, const char *path, char *err, size_t err_cap)
{
	struct cfg_report r = {err, err_cap, path};
	struct cfg_reader rd = {0};
	yaml_parser_t p;
	char eb[128];
	int rc;

	rd.rd_file = fopen(path, "re");
	if (!rd.rd_file)
		return cfg_fail(&r, 0, NULL, "cannot open: %s", strerror_r(errno, eb, sizeof(eb)));
	if (!yaml_parser_initialize(&p)) {
		fclose(rd.rd_file);
		return cfg_fail(&r, 0, NULL, "out of memory while parsing YAML");
	}
	yaml_parser_set_input(&p, cfg_read, &rd);
	rc = cfg_load_parser(c, &p, &rd, path, err, err_cap);
	yaml_parser_delete(&p);
	fclose(rd.rd_file);
	return rc;
}

int config_validate(const struct broker_config *c, char *err, size_t err_cap)
{
	return cfg_validate_at(c, NULL, err, err_cap);
}

int config_parse_hostport(const char *s, char *host, size_t host_cap, uint16_t *port)
{
	if (!s)
		return -1;
	return cfg_hostport(s, host, host_cap, port) ? -1 : 0;
}

/* ---- printing ---------------------------------------------------------- */

/* A YAML double-quoted string: \" \\ and control bytes escaped; other
 * bytes as they are (libyaml accepted them as UTF-8 on the way in). */
static void cfg_print_quoted(FILE *out, const char *s, size_t cap)
{
	size_t len = strnlen(s, cap);

	fputc('"', out);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(out, "\\x%02x", ch);
		else
			fputc(ch, out);
	}
	fputc('"', out);
}

static void cfg_print_cluster_list(const struct broker_config *c, const struct cfg_key *k,
				   FILE *out)
{
	int n;

	if (k->ck_type == CFG_CONTROLLER) {
		if (c->bc_controller_count == 1)
			fprintf(out, "  controller: %" PRId32 "\n", c->bc_controllers[0]);
	} else if (k->ck_type == CFG_CONTROLLERS) {
		n = c->bc_controller_count;
		if (n == 1)
			return;
		n = n < 0 ? 0 : n > CFG_MAX_CONTROLLERS ? CFG_MAX_CONTROLLERS : n;
		fprintf(out, "  controllers: [");
		for (int i = 0; i < n; i++)
			fprintf(out, "%s%" PRId32, i ? ", " : "", c->bc_controllers[i]);
		fprintf(out, "]\n");
	} else {
		n = c->bc_broker_count;
		n = n < 0 ? 0 : n > CONFIG_MAX_BROKERS ? CONFIG_MAX_BROKERS : n;
		fprintf(out, "  brokers:\n");
		for (int i = 0; i < n; i++) {
			fprintf(out, "    - {id: %" PRId32 ", address: ", c->bc_brokers[i].cba_id);
			cfg_print_quoted(out, c->bc_brokers[i].cba_address,
					 sizeof(c->bc_brokers[i].cba_address));
			if (c->bc_brokers[i].cba_peer_address[0]) {
				fprintf(out, ", peer_address: ");
				cfg_print_quoted(out, c->bc_brokers[i].cba_peer_address,
						 sizeof(c->bc_brokers[i].cba_peer_address));
			}
			fprintf(out, "}\n");
		}
	}
}

const char *config_peer_address(const struct broker_config *c, int32_t id)
{
	for (int i = 0; i < c->bc_broker_count && i < CONFIG_MAX_BROKERS; i++)
		if (c->bc_brokers[i].cba_id == id && c->bc_brokers[i].cba_peer_address[0])
			return c->bc_brokers[i].cba_peer_address;
	return NULL;
}

void config_print(const struct broker_config *c, FILE *out)
{
	struct cfg_view v = {c, &c->bc_topic_defaults, NULL};
	char src[CFG_SHOW_MAX + 4];
	char val[32];

	cfg_sanitize(src, sizeof(src), c->bc_source, strnlen(c->bc_source, sizeof(c->bc_source)));
	fprintf(out, "# replogd effective configuration (from %s)\n", src);
	for (size_t i = 0; i < CFG_KEY_COUNT; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		const char *indent = strchr(k->ck_path, '.') ? "  " : "";

		switch (k->ck_type) {
		case CFG_SECTION:
			fprintf(out, "%s:\n", k->ck_path);
			break;
		case CFG_CONTROLLER:
		case CFG_CONTROLLERS:
		case CFG_BROKERS:
			cfg_print_cluster_list(c, k, out);
			break;
		case CFG_STRING:
			fprintf(out, "%s%s: ", indent, cfg_leaf(k->ck_path));
			cfg_print_quoted(out, cfg_cfield(k, &v), k->ck_size);
			fputc('\n', out);
			break;
		default:
			cfg_format_value(k, cfg_cfield(k, &v), val, sizeof(val));
			fprintf(out, "%s%s: %s\n", indent, cfg_leaf(k->ck_path), val);
			break;
		}
	}
}

/* ---- topic configs with Kafka's names ---------------------------------- */

int topic_config_set(struct topic_config *tc, const char *name, int name_len, const char *value,
		     int value_len, char *err, size_t err_cap)
{
	struct cfg_report r = {err, err_cap, "topic config"};
	struct cfg_target tg = {.ct_topic = tc};
	struct cfg_text t;
	const struct cfg_key *k;
	char shown[CFG_SHOW_MAX + 4];
	char known[256];
	char msg[CONFIG_ERROR_MAX];
	size_t used = 0;

	if (!tc || !name || !value || name_len < 0 || value_len < 0)
		return cfg_fail(&r, 0, NULL, "invalid arguments");
	k = cfg_kafka_key(name, (size_t)name_len);
	if (!k) {
		known[0] = '\0';
		for (size_t i = 0; i < CFG_KEY_COUNT && used < sizeof(known); i++) {
			if (!cfg_keys[i].ck_kafka)
				continue;
			int w = snprintf(known + used, sizeof(known) - used, "%s%s",
					 used ? ", " : "", cfg_keys[i].ck_kafka);
			used += w < 0 ? 0 : (size_t)w;
		}
		cfg_sanitize(shown, sizeof(shown), name, (size_t)name_len);
		if (err && err_cap)
			snprintf(err, err_cap, "unknown topic config '%s' (known: %s)", shown,
				 known);
		return -1;
	}
	t = (struct cfg_text){value, (size_t)value_len, CFG_TEXT_RAW};
	if (cfg_decode(k, &t, &tg, msg, sizeof(msg))) {
		if (err && err_cap)
			snprintf(err, err_cap, "%s: %s", k->ck_kafka, msg);
		return -1;
	}
	return 0;
}

int topic_config_validate(const struct topic_config *tc, int broker_count, char *err,
			  size_t err_cap)
{
	const struct cfg_key *bad = NULL;
	char msg[CONFIG_ERROR_MAX];

	if (cfg_topic_check(tc, broker_count, &bad, msg, sizeof(msg)) == 0)
		return 0;
	if (err && err_cap)
		snprintf(err, err_cap, "%s: %s", cfg_topic_name(bad), msg);
	return -1;
}

int topic_config_each(const struct topic_config *tc,
		      int (*fn)(void *ctx, const char *name, const char *value), void *ctx)
{
	struct cfg_view v = {.cv_topic = tc};
	char val[32];

	RL_ASSERT(tc != NULL && fn != NULL);
	for (size_t i = 0; i < CFG_KEY_COUNT; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		int rc;

		if (!k->ck_kafka)
			continue;
		cfg_format_value(k, cfg_cfield(k, &v), val, sizeof(val));
		rc = fn(ctx, k->ck_kafka, val);
		if (rc)
			return rc;
	}
	return 0;
}

struct cfg_line_buf {
	char *lb_buf;
	size_t lb_cap;
	size_t lb_len;
};

static int cfg_append_pair(void *ctx, const char *name, const char *value)
{
	struct cfg_line_buf *lb = ctx;
	int w = snprintf(lb->lb_buf + lb->lb_len, lb->lb_cap - lb->lb_len, "%s%s=%s",
			 lb->lb_len ? "," : "", name, value);

	if (w < 0 || (size_t)w >= lb->lb_cap - lb->lb_len)
		return -1;
	lb->lb_len += (size_t)w;
	return 0;
}

int topic_config_format(const struct topic_config *tc, char *buf, size_t cap)
{
	struct cfg_line_buf lb = {buf, cap, 0};

	if (!buf || cap == 0)
		return -1;
	buf[0] = '\0';
	if (topic_config_each(tc, cfg_append_pair, &lb)) {
		buf[0] = '\0';
		return -1;
	}
	return (int)lb.lb_len;
}

int topic_config_parse(struct topic_config *tc, const char *line, char *err, size_t err_cap)
{
	struct topic_config tmp;
	bool seen[CFG_KEY_COUNT] = {false};
	char shown[CFG_SHOW_MAX + 4];
	const char *p = line;
	const char *end;
	size_t len;

	if (!tc || !line) {
		if (err && err_cap)
			snprintf(err, err_cap, "topic config: invalid arguments");
		return -1;
	}
	tmp = *tc;
	len = strlen(line);
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	end = line + len;
	while (len > 0) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma ? comma : end;
		const char *eq = memchr(p, '=', (size_t)(stop - p));
		const struct cfg_key *k;

		if (!eq) {
			cfg_sanitize(shown, sizeof(shown), p, (size_t)(stop - p));
			if (err && err_cap)
				snprintf(err, err_cap,
					 "topic config: expected name=value, got '%s'", shown);
			return -1;
		}
		k = cfg_kafka_key(p, (size_t)(eq - p));
		if (k && seen[k - cfg_keys]) {
			if (err && err_cap)
				snprintf(err, err_cap, "%s: given twice", k->ck_kafka);
			return -1;
		}
		if (topic_config_set(&tmp, p, (int)(eq - p), eq + 1, (int)(stop - eq - 1), err,
				     err_cap))
			return -1;
		seen[k - cfg_keys] = true;
		if (!comma)
			break;
		p = comma + 1;
	}
	*tc = tmp;
	return 0;
}
