/*
 * jetstream_bench — `jetstream-bench`: the peer side of bench/compare. It
 * drives a NATS JetStream cluster (Debian's nats-server) through Debian's C
 * client, libnats, the way `replog-bench produce|consume` drives replog, and
 * reports in the same shape, so the two can be put side by side.
 *
 * What this module owns: the options, one connection to the cluster, the
 * stream it benchmarks (created when absent), the per-record timestamps of a
 * produce run, and the report. It is a separate executable, not a
 * replog-bench subcommand, so that replog-bench never depends on libnats: it
 * is built only when pkg-config finds libnats.
 *
 * produce: acknowledged, pipelined publishing. js_PublishAsync() of
 * --num-records records of --record-size bytes to --subject, with at most
 * --max-pending publishes not yet acknowledged: before each publish the
 * producer thread waits until an ack has freed a slot in that window. Every
 * ack (or error) arrives in the jsPubAckHandler on libnats' reply thread.
 * The first 8 bytes of each record hold its index (host order; the rest is
 * a fixed filler), which the handler reads back from the original message
 * to find the record's publish time. Latency of a record = time its ack
 * handler ran - time just before its js_PublishAsync() call, taken after
 * the window let it go: time waiting for a free slot is not counted, time
 * in libnats' buffers, on the wire, in the stream's replication and back is.
 * The clock for throughput runs from the first publish to the last ack;
 * js_PublishAsyncComplete() then confirms nothing is pending. libnats' own
 * MaxPending is set one above the window, so it never stalls the producer
 * itself (its count drops only after the handler returns). A publish that
 * is refused (a jsPubAckErr) makes the run fail: a throughput that includes
 * lost records is not a measurement. With --throughput R the producer also
 * waits for record i's slot on a fixed schedule (i / R seconds after the
 * first publish), which measures latency at an offered load rather than at
 * saturation, as kafka-producer-perf-test --throughput does.
 *
 * consume: reads the first --num-records records of the stream (default:
 * all it holds) with a fresh consumer. `ordered` (default): an ordered push
 * consumer (ephemeral, no acks, flow control, what libnats recommends for
 * reading a stream in order) delivering to a callback. `pull`: an ephemeral
 * pull consumer with AckNone, natsSubscription_Fetch() of --batch records at
 * a time. Timed from just before the subscription is created (which creates
 * the consumer on the server) to the last record's arrival.
 *
 * Units: MB is 2^20 bytes, as in kafka-producer-perf-test; record bytes are
 * payload only (no subject or headers). Times are CLOCK_MONOTONIC.
 *
 * Bounds: at most JB_RECORDS_MAX records per run (one uint64 per record,
 * allocated at start: 8 bytes x records), records of 8 B .. 1 MiB (NATS's
 * default max_payload), a window of at most JB_MAX_PENDING_MAX. Nothing is
 * allocated per record by this program (libnats allocates one message per
 * publish). A run with no progress (no ack, no record) for --timeout-ms
 * fails instead of hanging.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nats/nats.h>

#define JB_EXIT_OK    0
#define JB_EXIT_ERROR 1
#define JB_EXIT_USAGE 2

#define JB_SERVERS_MAX	   16
#define JB_RECORD_SIZE_MIN 8u		 /* the record's index */
#define JB_RECORD_SIZE_MAX (1u << 20)	 /* nats-server's default max_payload */
#define JB_RECORDS_MAX	   (64ull << 20) /* 512 MiB of timestamps */
/* The window that gave JetStream its best rate on the 2-core machine of
 * bench/RESULTS.md (3 nodes, R3, 100 B records): 64 -> 30k/s, 256 -> 55k/s,
 * 1024 -> 72k/s, 4096 -> 71k/s at 4x the latency, 16384 -> 38k/s. */
#define JB_MAX_PENDING_DEFAULT 1024u
#define JB_MAX_PENDING_MAX     (1u << 20)
#define JB_BATCH_DEFAULT       1000u
#define JB_BATCH_MAX	       (1u << 20)
#define JB_TIMEOUT_MS_DEFAULT  30000
#define JB_MIB		       (1024.0 * 1024.0)
#define JB_ERR_MAX	       256

enum jb_consumer {
	JB_CONSUMER_ORDERED,
	JB_CONSUMER_PULL,
};

struct jb_opts {
	const char *jo_op; /* "produce" or "consume" */
	char *jo_servers_buf;
	const char *jo_servers[JB_SERVERS_MAX]; /* borrowed from jo_servers_buf */
	int jo_server_count;
	const char *jo_stream;
	const char *jo_subject;
	uint32_t jo_record_size;
	uint64_t jo_num_records; /* consume: 0 = whatever the stream holds */
	uint32_t jo_max_pending;
	uint64_t jo_throughput; /* produce: offered records/s, 0 = as fast as acked */
	int jo_replicas;
	enum jb_consumer jo_consumer;
	uint32_t jo_batch;
	int64_t jo_timeout_ms;
	bool jo_json;
};

/* A produce run. jp_mu guards everything below it; the producer thread and
 * libnats' reply thread (the ack handler) share it. */
struct jb_produce {
	pthread_mutex_t jp_mu;
	pthread_cond_t jp_cond; /* a slot freed, or the last ack arrived */
	uint64_t *jp_slot_ns;	/* per record: publish time, then (acked) its latency */
	uint64_t jp_records;
	uint64_t jp_outstanding; /* published, not yet acknowledged */
	uint64_t jp_acked;
	uint64_t jp_failed;
	uint64_t jp_last_ack_ns;
	char jp_err[JB_ERR_MAX]; /* the first failure */
};

/* A consume run (ordered consumer: the callback runs on the subscription's
 * thread). jc_mu guards everything below it. */
struct jb_consume {
	pthread_mutex_t jc_mu;
	pthread_cond_t jc_cond; /* the target was reached */
	uint64_t jc_target;
	uint64_t jc_received;
	uint64_t jc_bytes;
	uint64_t jc_last_ns;
};

struct jb_latency {
	double jl_avg_ms, jl_p50_ms, jl_p95_ms, jl_p99_ms, jl_p999_ms, jl_max_ms;
};

/* ---- small things ------------------------------------------------------ */

static uint64_t jb_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* An absolute CLOCK_MONOTONIC deadline ms from now, for pthread_cond_timedwait
 * on a condition created with CLOCK_MONOTONIC. */
static struct timespec jb_deadline(int64_t ms)
{
	uint64_t t = jb_now_ns() + (uint64_t)ms * 1000000ull;
	struct timespec ts = {.tv_sec = (time_t)(t / 1000000000ull),
			      .tv_nsec = (long)(t % 1000000000ull)};
	return ts;
}

static int jb_cond_init(pthread_cond_t *c)
{
	pthread_condattr_t a;
	int rc = pthread_condattr_init(&a);
	if (rc)
		return -rc;
	rc = pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	if (!rc)
		rc = pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
	return -rc;
}

__attribute__((format(printf, 1, 2))) static void jb_error(const char *fmt, ...)
{
	va_list ap;
	fputs("jetstream-bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Name a libnats failure: the status, the JetStream error code if any, and
 * the library's last error text (which names the server's reason). */
static void jb_nats_error(const char *what, natsStatus s, jsErrCode jerr)
{
	const char *text = nats_GetLastError(NULL);
	if (jerr)
		jb_error("%s: %s (JetStream error %d)%s%s", what, natsStatus_GetText(s), (int)jerr,
			 text ? ": " : "", text ? text : "");
	else
		jb_error("%s: %s%s%s", what, natsStatus_GetText(s), text ? ": " : "",
			 text ? text : "");
}

/* Parse a count with an optional K/M/G suffix (decimal: 1M = 1000000, as
 * record counts are usually written). Returns 0 or -EINVAL. */
static int jb_parse_count(const char *s, uint64_t max, uint64_t *out)
{
	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	uint64_t mult = 1;
	if (*end == 'k' || *end == 'K')
		mult = 1000;
	else if (*end == 'm' || *end == 'M')
		mult = 1000000;
	else if (*end == 'g' || *end == 'G')
		mult = 1000000000;
	if (mult > 1)
		end++;
	uint64_t r;
	if (*end != '\0' || __builtin_mul_overflow((uint64_t)v, mult, &r) || r > max)
		return -EINVAL;
	*out = r;
	return 0;
}

/* Parse a byte size with an optional binary K/M suffix (1K = 1024). */
static int jb_parse_bytes(const char *s, uint64_t max, uint64_t *out)
{
	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	uint64_t mult = 1;
	if (*end == 'k' || *end == 'K')
		mult = 1024;
	else if (*end == 'm' || *end == 'M')
		mult = 1024 * 1024;
	if (mult > 1) {
		end++;
		if (strcmp(end, "iB") == 0)
			end += 2;
	}
	uint64_t r;
	if (*end != '\0' || __builtin_mul_overflow((uint64_t)v, mult, &r) || r > max)
		return -EINVAL;
	*out = r;
	return 0;
}

/* Split "nats://a:1,nats://b:2" into o->jo_servers (pointing into a copy). */
static int jb_parse_servers(struct jb_opts *o, const char *list)
{
	free(o->jo_servers_buf);
	o->jo_servers_buf = strdup(list);
	if (!o->jo_servers_buf)
		return -ENOMEM;
	o->jo_server_count = 0;
	char *save = NULL;
	for (char *t = strtok_r(o->jo_servers_buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (o->jo_server_count == JB_SERVERS_MAX)
			return -E2BIG;
		o->jo_servers[o->jo_server_count++] = t;
	}
	return o->jo_server_count > 0 ? 0 : -EINVAL;
}

/* ---- usage ------------------------------------------------------------- */

static void jb_usage(FILE *out)
{
	fprintf(out,
		"NAME\n"
		"  jetstream-bench - acknowledged, pipelined publishing to and reading from a\n"
		"  NATS JetStream stream, reported like replog-bench produce|consume\n"
		"\n"
		"SYNOPSIS\n"
		"  jetstream-bench produce [--servers URLS] [--stream NAME] [--subject S]\n"
		"                  [--replicas N] [--record-size BYTES] [--num-records N]\n"
		"                  [--max-pending N] [--throughput RECORDS_PER_SEC]\n"
		"                  [--timeout-ms MS] [--json]\n"
		"  jetstream-bench consume [--servers URLS] [--stream NAME] [--subject S]\n"
		"                  [--num-records N] [--consumer ordered|pull] [--batch N]\n"
		"                  [--timeout-ms MS] [--json]\n"
		"  jetstream-bench --help\n"
		"\n"
		"DESCRIPTION\n"
		"  The peer-broker side of bench/compare: the same workload replog-bench\n"
		"  runs against replog, run against NATS JetStream (nats-server) through\n"
		"  libnats, Debian's C client, in the same output shape.\n"
		"\n"
		"  produce  publishes --num-records records of --record-size bytes to\n"
		"           --subject with js_PublishAsync(), keeping at most --max-pending\n"
		"           publishes unacknowledged (a pipeline: the producer waits for a\n"
		"           free slot, never for a particular ack), then\n"
		"           js_PublishAsyncComplete(). Every record is acknowledged by the\n"
		"           stream (its PubAck) before it counts; any refused publish fails\n"
		"           the run. Creates the stream (file storage, --replicas replicas,\n"
		"           subjects: --subject) if it does not exist; an existing stream is\n"
		"           used as it is, with a warning if its replicas or storage differ.\n"
		"  consume  reads the stream's first --num-records records (default: all\n"
		"           of them) with a fresh ephemeral consumer. The stream must\n"
		"           exist and hold that many.\n"
		"\n"
		"OPTIONS\n"
		"  --servers URLS      comma-separated server URLs (default\n"
		"                      nats://127.0.0.1:4222); connects to the first that\n"
		"                      answers, in order.\n"
		"  --stream NAME       stream name (default BENCH).\n"
		"  --subject S         subject published to, and the stream's subject\n"
		"                      filter when it is created (default bench).\n"
		"  --replicas N        replicas of a stream created here, 1..5 (default 3).\n"
		"  --record-size B     payload bytes per record, %u..%u (default 100; K, M\n"
		"                      suffixes are binary). The first 8 bytes carry the\n"
		"                      record's index, which is how an ack is matched to its\n"
		"                      publish time.\n"
		"  --num-records N     records to publish (default 1000000) or to read\n"
		"                      (default: all in the stream); at most %llu. K, M, G\n"
		"                      suffixes are decimal.\n"
		"  --max-pending N     produce: publishes in flight, i.e. sent and not yet\n"
		"                      acknowledged (default %u, at most %u).\n"
		"  --throughput R      produce: offer at most R records per second (as\n"
		"                      kafka-producer-perf-test --throughput): record i is\n"
		"                      published no earlier than i/R s after the first, so\n"
		"                      latency is measured at a fixed offered load. 0 (the\n"
		"                      default): as fast as the window allows.\n"
		"  --consumer KIND     consume: ordered (default) - an ordered push consumer:\n"
		"                      no acks, flow control, the server pushes in order to a\n"
		"                      callback; pull - an ephemeral pull consumer with\n"
		"                      AckNone, fetched --batch records at a time.\n"
		"  --batch N           pull: records per fetch (default %u).\n"
		"  --timeout-ms MS     fail when nothing (no ack, no record) arrives for this\n"
		"                      long (default %d); also the JetStream API timeout.\n"
		"  --json              print the result as one JSON object on stdout; the\n"
		"                      human lines go to stderr.\n"
		"  -h, --help          this text.\n"
		"\n"
		"OUTPUT\n"
		"  A header on stderr naming the run's settings, then on stdout the line of\n"
		"  kafka-producer-perf-test:\n"
		"\n"
		"    1000000 records sent, 52000.0 records/sec (4.96 MB/sec), 39.120 ms avg\n"
		"    latency, 80.000 ms max latency, 38.000 ms 50th, 50.100 ms 95th,\n"
		"    61.900 ms 99th, 75.800 ms 99.9th.\n"
		"\n"
		"  (one line). records/sec = records / seconds from the first publish to the\n"
		"  last ack; MB/sec = records x record size / that time, with MB = 2^20\n"
		"  bytes as kafka-producer-perf-test counts; latency of a record = from just\n"
		"  before its js_PublishAsync() call (once the window had a free slot) to\n"
		"  its ack handler, so it covers the client's buffers, the wire, the\n"
		"  stream leader, replication to a quorum of replicas and the way back.\n"
		"  Percentiles are nearest-rank over every record. By Little's law the\n"
		"  average is about --max-pending / records per second when the window is\n"
		"  full. consume prints:\n"
		"\n"
		"    1000000 records received, 250000.0 records/sec (23.84 MB/sec).\n"
		"\n"
		"  timed from creating the consumer to the last record's arrival.\n"
		"\n"
		"  With --json, one object per run:\n"
		"    {\"tool\":\"jetstream\",\"op\":\"produce\",\"records\":N,\n"
		"     \"record_size\":B,\"records_per_sec\":x,\"mb_per_sec\":y,\n"
		"     \"latency_ms\":{\"avg\":..,\"p50\":..,\"p95\":..,\"p99\":..,\n"
		"     \"p999\":..,\"max\":..}}\n"
		"  consume: the same without \"latency_ms\", with \"op\":\"consume\" and the\n"
		"  average record size as record_size.\n"
		"\n"
		"DURABILITY NOTE\n"
		"  A JetStream ack means a quorum of the stream's replicas (2 of 3) has\n"
		"  stored the record in its file store; nats-server 2.9 does not fsync\n"
		"  before acknowledging (its file store syncs in the background). Compare\n"
		"  with replog's acks=all, which by default counts fsynced data only.\n"
		"\n"
		"EXIT STATUS\n"
		"  0 the run completed; 1 an error stopped it (cause on stderr): no\n"
		"  connection, stream refused, a publish refused, no progress for\n"
		"  --timeout-ms; 2 usage error.\n"
		"\n"
		"EXAMPLES\n"
		"  jetstream-bench produce \\\n"
		"      --servers nats://127.0.0.1:4222,nats://127.0.0.1:4223 \\\n"
		"      --stream B100 --subject b100 --replicas 3 --record-size 100 \\\n"
		"      --num-records 1000000 --max-pending 1024\n"
		"  jetstream-bench consume --servers nats://127.0.0.1:4222 --stream B100 \\\n"
		"      --subject b100 --json\n",
		JB_RECORD_SIZE_MIN, JB_RECORD_SIZE_MAX, (unsigned long long)JB_RECORDS_MAX,
		JB_MAX_PENDING_DEFAULT, JB_MAX_PENDING_MAX, JB_BATCH_DEFAULT,
		JB_TIMEOUT_MS_DEFAULT);
}

/* Returns 0, or the exit code to stop with (JB_EXIT_USAGE, or JB_EXIT_OK
 * after --help: then *done is set). */
static int jb_parse(int argc, char **argv, struct jb_opts *o, bool *done)
{
	enum {
		OPT_SERVERS = 256,
		OPT_STREAM,
		OPT_SUBJECT,
		OPT_REPLICAS,
		OPT_RECORD_SIZE,
		OPT_NUM_RECORDS,
		OPT_MAX_PENDING,
		OPT_THROUGHPUT,
		OPT_CONSUMER,
		OPT_BATCH,
		OPT_TIMEOUT_MS,
		OPT_JSON,
	};
	static const struct option longopts[] = {
		{"servers", required_argument, NULL, OPT_SERVERS},
		{"stream", required_argument, NULL, OPT_STREAM},
		{"subject", required_argument, NULL, OPT_SUBJECT},
		{"replicas", required_argument, NULL, OPT_REPLICAS},
		{"record-size", required_argument, NULL, OPT_RECORD_SIZE},
		{"num-records", required_argument, NULL, OPT_NUM_RECORDS},
		{"max-pending", required_argument, NULL, OPT_MAX_PENDING},
		{"throughput", required_argument, NULL, OPT_THROUGHPUT},
		{"consumer", required_argument, NULL, OPT_CONSUMER},
		{"batch", required_argument, NULL, OPT_BATCH},
		{"timeout-ms", required_argument, NULL, OPT_TIMEOUT_MS},
		{"json", no_argument, NULL, OPT_JSON},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	*done = false;
	if (argc < 2) {
		jb_usage(stderr);
		return JB_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		jb_usage(stdout);
		*done = true;
		return JB_EXIT_OK;
	}
	if (strcmp(argv[1], "produce") != 0 && strcmp(argv[1], "consume") != 0) {
		jb_error("unknown command '%s' (produce or consume; see --help)", argv[1]);
		return JB_EXIT_USAGE;
	}
	o->jo_op = argv[1];
	if (jb_parse_servers(o, "nats://127.0.0.1:4222") < 0)
		return JB_EXIT_ERROR;
	o->jo_stream = "BENCH";
	o->jo_subject = "bench";
	o->jo_record_size = 100;
	o->jo_num_records = strcmp(o->jo_op, "produce") == 0 ? 1000000 : 0;
	o->jo_max_pending = JB_MAX_PENDING_DEFAULT;
	o->jo_replicas = 3;
	o->jo_consumer = JB_CONSUMER_ORDERED;
	o->jo_batch = JB_BATCH_DEFAULT;
	o->jo_timeout_ms = JB_TIMEOUT_MS_DEFAULT;

	optind = 2;
	int c;
	uint64_t v;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_SERVERS:
			if (jb_parse_servers(o, optarg) < 0) {
				jb_error("--servers: a comma-separated list of at most %d URLs",
					 JB_SERVERS_MAX);
				return JB_EXIT_USAGE;
			}
			break;
		case OPT_STREAM:
			o->jo_stream = optarg;
			break;
		case OPT_SUBJECT:
			o->jo_subject = optarg;
			break;
		case OPT_REPLICAS:
			if (jb_parse_count(optarg, 5, &v) < 0 || v == 0) {
				jb_error("--replicas: 1..5");
				return JB_EXIT_USAGE;
			}
			o->jo_replicas = (int)v;
			break;
		case OPT_RECORD_SIZE:
			if (jb_parse_bytes(optarg, JB_RECORD_SIZE_MAX, &v) < 0 ||
			    v < JB_RECORD_SIZE_MIN) {
				jb_error("--record-size: %u..%u bytes", JB_RECORD_SIZE_MIN,
					 JB_RECORD_SIZE_MAX);
				return JB_EXIT_USAGE;
			}
			o->jo_record_size = (uint32_t)v;
			break;
		case OPT_NUM_RECORDS:
			if (jb_parse_count(optarg, JB_RECORDS_MAX, &v) < 0 || v == 0) {
				jb_error("--num-records: 1..%llu",
					 (unsigned long long)JB_RECORDS_MAX);
				return JB_EXIT_USAGE;
			}
			o->jo_num_records = v;
			break;
		case OPT_MAX_PENDING:
			if (jb_parse_count(optarg, JB_MAX_PENDING_MAX, &v) < 0 || v == 0) {
				jb_error("--max-pending: 1..%u", JB_MAX_PENDING_MAX);
				return JB_EXIT_USAGE;
			}
			o->jo_max_pending = (uint32_t)v;
			break;
		case OPT_THROUGHPUT:
			if (jb_parse_count(optarg, 1000000000, &v) < 0) {
				jb_error("--throughput: records per second, 0 (no limit) .. 1G");
				return JB_EXIT_USAGE;
			}
			o->jo_throughput = v;
			break;
		case OPT_CONSUMER:
			if (strcmp(optarg, "ordered") == 0) {
				o->jo_consumer = JB_CONSUMER_ORDERED;
			} else if (strcmp(optarg, "pull") == 0) {
				o->jo_consumer = JB_CONSUMER_PULL;
			} else {
				jb_error("--consumer: ordered or pull");
				return JB_EXIT_USAGE;
			}
			break;
		case OPT_BATCH:
			if (jb_parse_count(optarg, JB_BATCH_MAX, &v) < 0 || v == 0) {
				jb_error("--batch: 1..%u", JB_BATCH_MAX);
				return JB_EXIT_USAGE;
			}
			o->jo_batch = (uint32_t)v;
			break;
		case OPT_TIMEOUT_MS:
			if (jb_parse_count(optarg, 3600u * 1000u, &v) < 0 || v == 0) {
				jb_error("--timeout-ms: 1..3600000");
				return JB_EXIT_USAGE;
			}
			o->jo_timeout_ms = (int64_t)v;
			break;
		case OPT_JSON:
			o->jo_json = true;
			break;
		case 'h':
			jb_usage(stdout);
			*done = true;
			return JB_EXIT_OK;
		default:
			fprintf(stderr, "(see jetstream-bench --help)\n");
			return JB_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		jb_error("unexpected argument '%s'", argv[optind]);
		return JB_EXIT_USAGE;
	}
	return 0;
}

/* ---- connection and stream --------------------------------------------- */

/* Connect and make the JetStream context. ack_closure: the produce run whose
 * jb_on_ack receives every async publish's outcome, or NULL (consume).
 * Returns 0, or -EIO (named on stderr; whatever was made is in *nc, *js for
 * jb_disconnect). */
static void jb_on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure);

static int jb_connect(const struct jb_opts *o, void *ack_closure, natsConnection **nc, jsCtx **js)
{
	/* libnats takes a non-const array of const strings (it copies them). */
	const char *servers[JB_SERVERS_MAX];
	memcpy(servers, o->jo_servers, sizeof(servers));
	natsOptions *no = NULL;
	natsStatus s = natsOptions_Create(&no);
	if (s == NATS_OK)
		s = natsOptions_SetServers(no, servers, o->jo_server_count);
	if (s == NATS_OK)
		s = natsOptions_SetNoRandomize(no, true);
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(no, 5000);
	if (s == NATS_OK)
		s = natsConnection_Connect(nc, no);
	natsOptions_Destroy(no);
	if (s != NATS_OK) {
		jb_nats_error("connect", s, 0);
		return -EIO;
	}

	jsOptions jo;
	jsOptions_Init(&jo);
	jo.Wait = o->jo_timeout_ms;
	/* Never stall inside libnats: the producer keeps its own window of
	 * jo_max_pending, and libnats counts a publish as pending until the
	 * ack handler has returned, i.e. at most one longer. */
	jo.PublishAsync.MaxPending = (int64_t)o->jo_max_pending + 1;
	if (ack_closure) {
		jo.PublishAsync.AckHandler = jb_on_ack;
		jo.PublishAsync.AckHandlerClosure = ack_closure;
	}
	s = natsConnection_JetStream(js, *nc, &jo);
	if (s != NATS_OK) {
		jb_nats_error("JetStream context", s, 0);
		return -EIO;
	}
	return 0;
}

static void jb_disconnect(natsConnection *nc, jsCtx *js)
{
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
}

/* Look the stream up; when absent and `create`, create it with file
 * storage, o->jo_replicas replicas and o->jo_subject as its subject.
 * Returns 0 with *msgs (records it holds), -ENOENT (absent, not created) or
 * -EIO (named on stderr). */
static int jb_stream(const struct jb_opts *o, jsCtx *js, bool create, uint64_t *msgs)
{
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	natsStatus s = js_GetStreamInfo(&si, js, o->jo_stream, NULL, &jerr);
	if (s == NATS_NOT_FOUND || (s != NATS_OK && jerr == JSStreamNotFoundErr)) {
		if (!create) {
			jb_error("stream %s does not exist", o->jo_stream);
			return -ENOENT;
		}
		jsStreamConfig cfg;
		jsStreamConfig_Init(&cfg);
		const char *subjects[1] = {o->jo_subject};
		cfg.Name = o->jo_stream;
		cfg.Subjects = subjects;
		cfg.SubjectsLen = 1;
		cfg.Storage = js_FileStorage;
		cfg.Replicas = o->jo_replicas;
		jerr = 0;
		s = js_AddStream(&si, js, &cfg, NULL, &jerr);
		if (s != NATS_OK) {
			jb_nats_error("create stream", s, jerr);
			return -EIO;
		}
		fprintf(stderr,
			"jetstream-bench: created stream %s (file storage, %d replicas, subject "
			"%s)\n",
			o->jo_stream, o->jo_replicas, o->jo_subject);
	} else if (s != NATS_OK) {
		jb_nats_error("stream info", s, jerr);
		return -EIO;
	} else if (create && (si->Config->Replicas != o->jo_replicas ||
			      si->Config->Storage != js_FileStorage)) {
		fprintf(stderr,
			"jetstream-bench: warning: stream %s exists with %" PRId64
			" replicas, %s storage; using it as it is\n",
			o->jo_stream, si->Config->Replicas,
			si->Config->Storage == js_FileStorage ? "file" : "memory");
	}
	*msgs = si->State.Msgs;
	jsStreamInfo_Destroy(si);
	return 0;
}

/* ---- statistics and report --------------------------------------------- */

static int jb_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Nearest-rank percentile of a sorted array. */
static double jb_rank_ms(const uint64_t *sorted, uint64_t n, double p)
{
	uint64_t rank = (uint64_t)(p * (double)n + 0.999999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return (double)sorted[rank - 1] / 1e6;
}

/* Sorts lat_ns in place. */
static void jb_latency(uint64_t *lat_ns, uint64_t n, struct jb_latency *l)
{
	qsort(lat_ns, n, sizeof(lat_ns[0]), jb_cmp_u64);
	long double sum = 0;
	for (uint64_t i = 0; i < n; i++)
		sum += lat_ns[i];
	l->jl_avg_ms = (double)(sum / n) / 1e6;
	l->jl_p50_ms = jb_rank_ms(lat_ns, n, 0.50);
	l->jl_p95_ms = jb_rank_ms(lat_ns, n, 0.95);
	l->jl_p99_ms = jb_rank_ms(lat_ns, n, 0.99);
	l->jl_p999_ms = jb_rank_ms(lat_ns, n, 0.999);
	l->jl_max_ms = (double)lat_ns[n - 1] / 1e6;
}

static void jb_report(const struct jb_opts *o, bool produce, uint64_t records, double record_size,
		      uint64_t elapsed_ns, const struct jb_latency *l)
{
	double sec = (double)elapsed_ns / 1e9;
	double rps = (double)records / sec;
	double mbps = (double)records * record_size / sec / JB_MIB;
	FILE *human = o->jo_json ? stderr : stdout;
	if (produce)
		fprintf(human,
			"%" PRIu64 " records sent, %.1f records/sec (%.2f MB/sec), %.3f ms avg "
			"latency, %.3f ms max latency, %.3f ms 50th, %.3f ms 95th, %.3f ms 99th, "
			"%.3f ms 99.9th.\n",
			records, rps, mbps, l->jl_avg_ms, l->jl_max_ms, l->jl_p50_ms, l->jl_p95_ms,
			l->jl_p99_ms, l->jl_p999_ms);
	else
		fprintf(human, "%" PRIu64 " records received, %.1f records/sec (%.2f MB/sec).\n",
			records, rps, mbps);
	if (!o->jo_json)
		return;
	printf("{\"tool\":\"jetstream\",\"op\":\"%s\",\"records\":%" PRIu64
	       ",\"record_size\":%.0f,\"records_per_sec\":%.1f,\"mb_per_sec\":%.3f",
	       produce ? "produce" : "consume", records, record_size, rps, mbps);
	if (produce)
		printf(",\"latency_ms\":{\"avg\":%.3f,\"p50\":%.3f,\"p95\":%.3f,\"p99\":%.3f,"
		       "\"p999\":%.3f,\"max\":%.3f}",
		       l->jl_avg_ms, l->jl_p50_ms, l->jl_p95_ms, l->jl_p99_ms, l->jl_p999_ms,
		       l->jl_max_ms);
	printf("}\n");
	fflush(stdout);
}

/* ---- produce ----------------------------------------------------------- */

/* libnats' reply thread, once per published record: its PubAck (pa) or the
 * reason it was refused (pae). Owns msg (the original message). */
static void jb_on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
	struct jb_produce *p = closure;
	uint64_t now = jb_now_ns();
	uint64_t idx = UINT64_MAX;
	if (natsMsg_GetDataLength(msg) >= (int)sizeof(idx))
		memcpy(&idx, natsMsg_GetData(msg), sizeof(idx));

	pthread_mutex_lock(&p->jp_mu);
	if (pa && idx < p->jp_records) {
		p->jp_slot_ns[idx] = now - p->jp_slot_ns[idx];
		p->jp_acked++;
	} else {
		p->jp_failed++;
		if (!p->jp_err[0]) {
			if (pae)
				snprintf(p->jp_err, sizeof(p->jp_err),
					 "record %" PRIu64 " refused: %s (JetStream error %d) %s",
					 idx, natsStatus_GetText(pae->Err), (int)pae->ErrCode,
					 pae->ErrText ? pae->ErrText : "");
			else
				snprintf(p->jp_err, sizeof(p->jp_err),
					 "an ack for an unknown record (%" PRIu64 ")", idx);
		}
	}
	p->jp_outstanding--;
	p->jp_last_ack_ns = now;
	pthread_cond_signal(&p->jp_cond);
	pthread_mutex_unlock(&p->jp_mu);
	natsMsg_Destroy(msg);
}

/* Wait (jp_mu held) until fewer than `limit` publishes are outstanding.
 * Returns 0, or -ETIMEDOUT when no ack came for timeout_ms. */
static int jb_wait_outstanding(struct jb_produce *p, uint64_t limit, int64_t timeout_ms)
{
	while (p->jp_outstanding >= limit) {
		uint64_t before = p->jp_acked + p->jp_failed;
		struct timespec dl = jb_deadline(timeout_ms);
		int rc = pthread_cond_timedwait(&p->jp_cond, &p->jp_mu, &dl);
		if (rc == ETIMEDOUT && p->jp_acked + p->jp_failed == before)
			return -ETIMEDOUT;
	}
	return 0;
}

static int jb_produce_run(const struct jb_opts *o, jsCtx *js, struct jb_produce *pp);

static int jb_produce(const struct jb_opts *o)
{
	struct jb_produce p = {.jp_records = o->jo_num_records};
	pthread_mutex_init(&p.jp_mu, NULL);
	if (jb_cond_init(&p.jp_cond) < 0) {
		jb_error("pthread_cond_init failed");
		return JB_EXIT_ERROR;
	}
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	int ret = JB_EXIT_ERROR;
	if (jb_connect(o, &p, &nc, &js) == 0)
		ret = jb_produce_run(o, js, &p);
	/* After the connection is gone no ack handler can run. */
	jb_disconnect(nc, js);
	free(p.jp_slot_ns);
	pthread_cond_destroy(&p.jp_cond);
	pthread_mutex_destroy(&p.jp_mu);
	return ret;
}

/* --throughput: sleep until record i's slot, start + i / rate. Absolute
 * deadlines, so oversleeping one record does not slow the ones after it
 * (they go out back to back until the schedule is met again). */
static void jb_pace(uint64_t start_ns, uint64_t i, uint64_t records_per_sec)
{
	uint64_t due_ns = start_ns + (uint64_t)((long double)i * 1e9L / records_per_sec);
	if (jb_now_ns() >= due_ns)
		return;
	struct timespec ts = {.tv_sec = (time_t)(due_ns / 1000000000ull),
			      .tv_nsec = (long)(due_ns % 1000000000ull)};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* One produce run on a connected context whose ack handler feeds *p. */
static int jb_produce_run(const struct jb_opts *o, jsCtx *js, struct jb_produce *p)
{
	uint64_t msgs_before;
	if (jb_stream(o, js, true, &msgs_before) < 0)
		return JB_EXIT_ERROR;
	if (msgs_before)
		fprintf(stderr, "jetstream-bench: stream %s already holds %" PRIu64 " records\n",
			o->jo_stream, msgs_before);

	char *payload = malloc(o->jo_record_size);
	p->jp_slot_ns = calloc(o->jo_num_records, sizeof(p->jp_slot_ns[0]));
	if (!payload || !p->jp_slot_ns) {
		jb_error("out of memory for %" PRIu64 " records", o->jo_num_records);
		free(payload);
		free(p->jp_slot_ns);
		return JB_EXIT_ERROR;
	}
	/* A printable filler, like kafka-producer-perf-test's random letters;
	 * nothing compresses in JetStream 2.9's file store anyway. */
	for (uint32_t i = 0; i < o->jo_record_size; i++)
		payload[i] = (char)('A' + (i * 7 + 3) % 26);

	fprintf(stderr,
		"jetstream-bench produce: stream=%s subject=%s replicas=%d record_size=%u "
		"num_records=%" PRIu64 " max_pending=%u throughput=%" PRIu64 " servers=%s%s\n",
		o->jo_stream, o->jo_subject, o->jo_replicas, o->jo_record_size, o->jo_num_records,
		o->jo_max_pending, o->jo_throughput, o->jo_servers[0],
		o->jo_server_count > 1 ? ",..." : "");

	int ret = JB_EXIT_OK;
	uint64_t start_ns = jb_now_ns();
	for (uint64_t i = 0; i < o->jo_num_records; i++) {
		if (o->jo_throughput)
			jb_pace(start_ns, i, o->jo_throughput);
		memcpy(payload, &i, sizeof(i));
		pthread_mutex_lock(&p->jp_mu);
		if (jb_wait_outstanding(p, o->jo_max_pending, o->jo_timeout_ms) < 0) {
			pthread_mutex_unlock(&p->jp_mu);
			jb_error("no ack for %" PRId64 " ms after %" PRIu64 " acks (%" PRIu64
				 " outstanding)",
				 o->jo_timeout_ms, p->jp_acked, p->jp_outstanding);
			ret = JB_EXIT_ERROR;
			break;
		}
		if (p->jp_failed) {
			pthread_mutex_unlock(&p->jp_mu);
			break;
		}
		p->jp_outstanding++;
		p->jp_slot_ns[i] = jb_now_ns();
		pthread_mutex_unlock(&p->jp_mu);

		natsStatus s =
			js_PublishAsync(js, o->jo_subject, payload, (int)o->jo_record_size, NULL);
		if (s != NATS_OK) {
			pthread_mutex_lock(&p->jp_mu);
			p->jp_outstanding--;
			pthread_mutex_unlock(&p->jp_mu);
			jb_nats_error("publish", s, 0);
			ret = JB_EXIT_ERROR;
			break;
		}
	}

	/* Drain: every outstanding publish gets its ack or its error. */
	pthread_mutex_lock(&p->jp_mu);
	if (ret == JB_EXIT_OK && jb_wait_outstanding(p, 1, o->jo_timeout_ms) < 0) {
		jb_error("no ack for %" PRId64 " ms; %" PRIu64 " publishes never acknowledged",
			 o->jo_timeout_ms, p->jp_outstanding);
		ret = JB_EXIT_ERROR;
	}
	uint64_t end_ns = p->jp_last_ack_ns;
	pthread_mutex_unlock(&p->jp_mu);
	if (ret == JB_EXIT_OK) {
		jsPubOptions po;
		jsPubOptions_Init(&po);
		po.MaxWait = o->jo_timeout_ms;
		natsStatus s = js_PublishAsyncComplete(js, &po);
		if (s != NATS_OK) {
			jb_nats_error("js_PublishAsyncComplete", s, 0);
			ret = JB_EXIT_ERROR;
		}
	}
	if (p->jp_failed) {
		jb_error("%" PRIu64 " of %" PRIu64 " publishes failed; first: %s", p->jp_failed,
			 o->jo_num_records, p->jp_err);
		ret = JB_EXIT_ERROR;
	}
	if (ret == JB_EXIT_OK && p->jp_acked != o->jo_num_records) {
		jb_error("%" PRIu64 " of %" PRIu64 " publishes acknowledged", p->jp_acked,
			 o->jo_num_records);
		ret = JB_EXIT_ERROR;
	}
	if (ret == JB_EXIT_OK) {
		struct jb_latency l;
		jb_latency(p->jp_slot_ns, o->jo_num_records, &l);
		jb_report(o, true, o->jo_num_records, o->jo_record_size, end_ns - start_ns, &l);
	}
	free(payload);
	return ret;
}

/* ---- consume ----------------------------------------------------------- */

/* The ordered consumer's callback, on the subscription's thread. */
static void jb_on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
	struct jb_consume *c = closure;
	int len = natsMsg_GetDataLength(msg);
	pthread_mutex_lock(&c->jc_mu);
	if (c->jc_received < c->jc_target) {
		c->jc_received++;
		c->jc_bytes += (uint64_t)len;
		if (c->jc_received == c->jc_target) {
			c->jc_last_ns = jb_now_ns();
			pthread_cond_signal(&c->jc_cond);
		}
	}
	pthread_mutex_unlock(&c->jc_mu);
	natsMsg_Destroy(msg);
}

static int jb_consume_ordered(const struct jb_opts *o, jsCtx *js, uint64_t target, uint64_t *bytes,
			      uint64_t *elapsed_ns)
{
	struct jb_consume c = {.jc_target = target};
	pthread_mutex_init(&c.jc_mu, NULL);
	if (jb_cond_init(&c.jc_cond) < 0) {
		jb_error("pthread_cond_init failed");
		return JB_EXIT_ERROR;
	}
	jsSubOptions so;
	jsSubOptions_Init(&so);
	so.Stream = o->jo_stream;
	so.Ordered = true;
	so.Config.DeliverPolicy = js_DeliverAll;
	natsSubscription *sub = NULL;
	jsErrCode jerr = 0;
	int ret = JB_EXIT_OK;

	uint64_t start_ns = jb_now_ns();
	natsStatus s = js_Subscribe(&sub, js, o->jo_subject, jb_on_msg, &c, NULL, &so, &jerr);
	if (s != NATS_OK) {
		jb_nats_error("subscribe (ordered consumer)", s, jerr);
		ret = JB_EXIT_ERROR;
		goto out;
	}
	/* Flow control bounds what the server pushes ahead; never drop. */
	natsSubscription_SetPendingLimits(sub, -1, -1);

	pthread_mutex_lock(&c.jc_mu);
	while (c.jc_received < target) {
		uint64_t before = c.jc_received;
		struct timespec dl = jb_deadline(o->jo_timeout_ms);
		int rc = pthread_cond_timedwait(&c.jc_cond, &c.jc_mu, &dl);
		if (rc == ETIMEDOUT && c.jc_received == before) {
			jb_error("no record for %" PRId64 " ms after %" PRIu64 " of %" PRIu64,
				 o->jo_timeout_ms, c.jc_received, target);
			ret = JB_EXIT_ERROR;
			break;
		}
	}
	*bytes = c.jc_bytes;
	*elapsed_ns = c.jc_last_ns - start_ns;
	pthread_mutex_unlock(&c.jc_mu);
	natsSubscription_Unsubscribe(sub);
	natsSubscription_Destroy(sub);
out:
	pthread_cond_destroy(&c.jc_cond);
	pthread_mutex_destroy(&c.jc_mu);
	return ret;
}

static int jb_consume_pull(const struct jb_opts *o, jsCtx *js, uint64_t target, uint64_t *bytes,
			   uint64_t *elapsed_ns)
{
	jsSubOptions so;
	jsSubOptions_Init(&so);
	so.Stream = o->jo_stream;
	so.Config.DeliverPolicy = js_DeliverAll;
	so.Config.AckPolicy = js_AckNone;
	natsSubscription *sub = NULL;
	jsErrCode jerr = 0;

	uint64_t start_ns = jb_now_ns();
	natsStatus s = js_PullSubscribe(&sub, js, o->jo_subject, NULL, NULL, &so, &jerr);
	if (s != NATS_OK) {
		jb_nats_error("subscribe (pull consumer)", s, jerr);
		return JB_EXIT_ERROR;
	}
	uint64_t received = 0, sum = 0;
	int ret = JB_EXIT_OK;
	while (received < target) {
		uint64_t want = target - received;
		int batch = (int)(want < o->jo_batch ? want : o->jo_batch);
		natsMsgList list = {0};
		jerr = 0;
		s = natsSubscription_Fetch(&list, sub, batch, o->jo_timeout_ms, &jerr);
		if (s != NATS_OK) {
			jb_nats_error("fetch", s, jerr);
			jb_error("after %" PRIu64 " of %" PRIu64 " records", received, target);
			ret = JB_EXIT_ERROR;
			break;
		}
		for (int i = 0; i < list.Count && received < target; i++) {
			received++;
			sum += (uint64_t)natsMsg_GetDataLength(list.Msgs[i]);
		}
		natsMsgList_Destroy(&list);
	}
	*elapsed_ns = jb_now_ns() - start_ns;
	*bytes = sum;
	natsSubscription_Unsubscribe(sub);
	natsSubscription_Destroy(sub);
	return ret;
}

static int jb_consume_run(const struct jb_opts *o, jsCtx *js);

static int jb_consume(const struct jb_opts *o)
{
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	int ret = JB_EXIT_ERROR;
	if (jb_connect(o, NULL, &nc, &js) == 0)
		ret = jb_consume_run(o, js);
	jb_disconnect(nc, js);
	return ret;
}

static int jb_consume_run(const struct jb_opts *o, jsCtx *js)
{
	uint64_t msgs;
	if (jb_stream(o, js, false, &msgs) < 0)
		return JB_EXIT_ERROR;
	uint64_t target = o->jo_num_records ? o->jo_num_records : msgs;
	if (target == 0 || target > msgs) {
		jb_error("stream %s holds %" PRIu64 " records; asked to read %" PRIu64,
			 o->jo_stream, msgs, target);
		return JB_EXIT_ERROR;
	}
	if (target > JB_RECORDS_MAX)
		target = JB_RECORDS_MAX;
	fprintf(stderr,
		"jetstream-bench consume: stream=%s subject=%s consumer=%s num_records=%" PRIu64
		" servers=%s%s\n",
		o->jo_stream, o->jo_subject,
		o->jo_consumer == JB_CONSUMER_ORDERED ? "ordered" : "pull", target,
		o->jo_servers[0], o->jo_server_count > 1 ? ",..." : "");
	uint64_t bytes = 0, elapsed_ns = 0;
	int ret = o->jo_consumer == JB_CONSUMER_ORDERED
			  ? jb_consume_ordered(o, js, target, &bytes, &elapsed_ns)
			  : jb_consume_pull(o, js, target, &bytes, &elapsed_ns);
	if (ret == JB_EXIT_OK)
		jb_report(o, false, target, (double)bytes / (double)target, elapsed_ns, NULL);
	return ret;
}

/* ---- entry ------------------------------------------------------------- */

int main(int argc, char **argv)
{
	struct jb_opts o = {0};
	bool done;
	int ret = jb_parse(argc, argv, &o, &done);
	if (ret || done) {
		free(o.jo_servers_buf);
		return ret;
	}
	natsStatus s = nats_Open(-1);
	if (s != NATS_OK) {
		jb_nats_error("nats_Open", s, 0);
		free(o.jo_servers_buf);
		return JB_EXIT_ERROR;
	}
	ret = strcmp(o.jo_op, "produce") == 0 ? jb_produce(&o) : jb_consume(&o);
	nats_CloseAndWait(5000);
	free(o.jo_servers_buf);
	return ret;
}
