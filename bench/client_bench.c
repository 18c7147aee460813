/*
 * client_bench — `replog-bench produce | consume | e2e` (see client_bench.h).
 *
 * What it owns: the options, one latency histogram (log-linear buckets of
 * microseconds, about 1% wide, so percentiles need no sample store), the
 * payload, and the libreplog producer/consumer/admin of one run.
 */
#include "client_bench.h"

#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "replog.h"

#define CB_PREFIX     "replog-bench: "
#define CB_SUB_BITS   7 /* 128 sub-buckets per power of two: < 1% error */
#define CB_BUCKETS    (64 << CB_SUB_BITS)
#define CB_EXIT_ERROR 1
#define CB_EXIT_USAGE 2
#define CB_MIB	      (1024.0 * 1024.0)
#define CB_TOPIC_MAX  249

struct cb_hist {
	uint64_t counts[CB_BUCKETS];
	uint64_t n;
	double sum_us;
	uint64_t max_us;
};

struct cb_opts {
	const char *bootstrap;
	const char *topic;
	int64_t num_records;
	int record_size;
	int64_t throughput; /* records/s, -1 = no cap */
	int acks;
	int compression;
	int partitions;	 /* create the topic with this many when absent; 0 = do not */
	int replication; /* with --partitions */
	int min_isr;
	int linger_ms;
	int batch_bytes;
	int max_in_flight;
	int report_ms;
	int timeout_ms;
	bool json;
	const char *cmd;
};

static int64_t cb_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t cb_wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- histogram ------------------------------------------------------------ */

static int cb_bucket(uint64_t v)
{
	if (v < (1u << CB_SUB_BITS))
		return (int)v;
	int msb = 63 - __builtin_clzll(v);
	int shift = msb - CB_SUB_BITS;
	return ((shift + 1) << CB_SUB_BITS) + (int)((v >> shift) & ((1u << CB_SUB_BITS) - 1));
}

static uint64_t cb_bucket_value(int b)
{
	if (b < (1 << CB_SUB_BITS))
		return (uint64_t)b;
	int shift = (b >> CB_SUB_BITS) - 1;
	uint64_t sub = (uint64_t)(b & ((1 << CB_SUB_BITS) - 1));
	return ((1ull << CB_SUB_BITS) | sub) << shift;
}

static void cb_record(struct cb_hist *h, uint64_t us)
{
	h->counts[cb_bucket(us)]++;
	h->n++;
	h->sum_us += (double)us;
	if (us > h->max_us)
		h->max_us = us;
}

static double cb_pct_ms(const struct cb_hist *h, double pct)
{
	if (h->n == 0)
		return 0;
	uint64_t want = (uint64_t)ceil(pct / 100.0 * (double)h->n), seen = 0;
	for (int b = 0; b < CB_BUCKETS; b++) {
		seen += h->counts[b];
		if (seen >= want && want > 0)
			return (double)cb_bucket_value(b) / 1000.0;
	}
	return (double)h->max_us / 1000.0;
}

/* ---- options -------------------------------------------------------------- */

static const char *const cb_common_help =
	"  -b, --bootstrap-server HOST:PORT[,...]  brokers to start from (127.0.0.1:9092)\n"
	"  -t, --topic NAME          topic (required)\n"
	"      --num-records N       records to send or read (1000000)\n"
	"      --timeout-ms MS       bound of each request, and of a run without progress\n"
	"                            (30000)\n"
	"      --json                also print one JSON object with the figures\n"
	"  -h, --help                this text\n";

void produce_bench_usage(void)
{
	printf("usage: replog-bench produce -t TOPIC [options]\n"
	       "\n"
	       "Send --num-records records of --record-size bytes through libreplog and\n"
	       "report what kafka-producer-perf-test reports: a line every\n"
	       "--report-interval-ms while running, then\n"
	       "  N records sent, X records/sec (Y MB/sec), A ms avg latency, M ms max\n"
	       "  latency, P50 ms 50th, P95 ms 95th, P99 ms 99th, P999 ms 99.9th.\n"
	       "Latency is from replog_produce() to the record's delivery callback (its\n"
	       "acknowledgement); MB means MiB. Percentiles are exact to about 1%%.\n"
	       "\n"
	       "options:\n%s"
	       "      --record-size BYTES   value size of each record (100)\n"
	       "      --throughput N        at most N records/s; -1 = as fast as it goes (-1)\n"
	       "      --acks 0|1|all        (all)\n"
	       "      --compression none|zstd  (none)\n"
	       "      --partitions N        create the topic with N partitions if absent\n"
	       "      --replication-factor N  with --partitions (3)\n"
	       "      --min-isr N           with --partitions (2, or 1 for one replica)\n"
	       "      --linger-ms MS        (5)\n"
	       "      --batch-bytes BYTES   (262144)\n"
	       "      --max-in-flight N     requests per broker connection (5)\n"
	       "      --report-interval-ms MS  (5000)\n"
	       "\n"
	       "JSON: {\"tool\":\"replog\",\"op\":\"produce\",\"records\":N,\"record_size\":B,\n"
	       "\"records_per_sec\":X,\"mb_per_sec\":Y,\"latency_ms\":{\"avg\",\"p50\",\"p95\",\n"
	       "\"p99\",\"p999\",\"max\"},\"errors\":E}\n"
	       "\n"
	       "exit status: 0 the run finished (failed records are counted in errors and\n"
	       "reported), 1 it could not run, 2 usage error.\n",
	       cb_common_help);
}

void consume_bench_usage(void)
{
	printf("usage: replog-bench consume -t TOPIC [options]\n"
	       "\n"
	       "Read --num-records records from the earliest offset of every partition of\n"
	       "TOPIC through libreplog and print, as kafka-consumer-perf-test does, the\n"
	       "records/s and MiB/s (key and value bytes).\n"
	       "\n"
	       "options:\n%s"
	       "\n"
	       "JSON: {\"tool\":\"replog\",\"op\":\"consume\",\"records\":N,\"bytes\":B,\n"
	       "\"records_per_sec\":X,\"mb_per_sec\":Y}\n"
	       "exit status: 0 all read, 1 an error or --timeout-ms without progress, 2 usage.\n",
	       cb_common_help);
}

void e2e_bench_usage(void)
{
	printf("usage: replog-bench e2e -t TOPIC [options]\n"
	       "\n"
	       "End-to-end latency: one producer (acks as given) and one consumer of\n"
	       "partition 0 in one thread. Each value starts with the wall-clock time it\n"
	       "was produced; the latency is taken when the consumer gets the record,\n"
	       "so it covers produce, replication, the high watermark passing the record\n"
	       "and the fetch. Prints avg/p50/p95/p99/p99.9/max in ms.\n"
	       "\n"
	       "options:\n%s"
	       "      --record-size BYTES   (100, at least 8)\n"
	       "      --throughput N        records/s (1000)\n"
	       "      --acks 0|1|all        (all)\n"
	       "      --partitions N, --replication-factor N, --min-isr N  as for produce\n",
	       cb_common_help);
}

enum {
	CB_OPT_RECORD_SIZE = 256,
	CB_OPT_NUM,
	CB_OPT_THROUGHPUT,
	CB_OPT_ACKS,
	CB_OPT_COMPRESSION,
	CB_OPT_PARTITIONS,
	CB_OPT_RF,
	CB_OPT_MINISR,
	CB_OPT_LINGER,
	CB_OPT_BATCH,
	CB_OPT_INFLIGHT,
	CB_OPT_REPORT,
	CB_OPT_TIMEOUT,
	CB_OPT_JSON,
};

static bool cb_int(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
	char *e;
	long long v = strtoll(s, &e, 10);
	if (!*s || *e || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static int cb_usage_error(const char *cmd, const char *what, const char *arg)
{
	fprintf(stderr, CB_PREFIX "%s: %s '%s'\nTry 'replog-bench %s --help'.\n", cmd, what,
		arg ? arg : "", cmd);
	return CB_EXIT_USAGE;
}

static int cb_parse(int argc, char **argv, struct cb_opts *o)
{
	static const struct option longs[] = {
		{"bootstrap-server", required_argument, NULL, 'b'},
		{"topic", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{"record-size", required_argument, NULL, CB_OPT_RECORD_SIZE},
		{"num-records", required_argument, NULL, CB_OPT_NUM},
		{"throughput", required_argument, NULL, CB_OPT_THROUGHPUT},
		{"acks", required_argument, NULL, CB_OPT_ACKS},
		{"compression", required_argument, NULL, CB_OPT_COMPRESSION},
		{"partitions", required_argument, NULL, CB_OPT_PARTITIONS},
		{"replication-factor", required_argument, NULL, CB_OPT_RF},
		{"min-isr", required_argument, NULL, CB_OPT_MINISR},
		{"linger-ms", required_argument, NULL, CB_OPT_LINGER},
		{"batch-bytes", required_argument, NULL, CB_OPT_BATCH},
		{"max-in-flight", required_argument, NULL, CB_OPT_INFLIGHT},
		{"report-interval-ms", required_argument, NULL, CB_OPT_REPORT},
		{"timeout-ms", required_argument, NULL, CB_OPT_TIMEOUT},
		{"json", no_argument, NULL, CB_OPT_JSON},
		{0},
	};
	optind = 1;
	opterr = 0;
	int c;
	int64_t v;
	while ((c = getopt_long(argc, argv, ":b:t:h", longs, NULL)) != -1) {
		switch (c) {
		case 'b':
			o->bootstrap = optarg;
			break;
		case 't':
			o->topic = optarg;
			break;
		case 'h':
			return 0;
		case CB_OPT_JSON:
			o->json = true;
			break;
		case CB_OPT_ACKS:
			if (strcmp(optarg, "all") == 0 || strcmp(optarg, "-1") == 0)
				o->acks = -1;
			else if (strcmp(optarg, "0") == 0 || strcmp(optarg, "1") == 0)
				o->acks = optarg[0] - '0';
			else
				return cb_usage_error(o->cmd, "--acks must be 0, 1 or all, not",
						      optarg);
			break;
		case CB_OPT_COMPRESSION:
			if (strcmp(optarg, "none") == 0)
				o->compression = REPLOG_COMPRESSION_NONE;
			else if (strcmp(optarg, "zstd") == 0)
				o->compression = REPLOG_COMPRESSION_ZSTD;
			else
				return cb_usage_error(
					o->cmd, "--compression must be none or zstd, not", optarg);
			break;
		case ':':
			return cb_usage_error(o->cmd, "missing value for", argv[optind - 1]);
		case '?':
			return cb_usage_error(o->cmd, "unknown option", argv[optind - 1]);
		default: {
			struct {
				int opt;
				int64_t lo, hi;
				const char *name;
			} const r[] = {
				{CB_OPT_RECORD_SIZE, 0, 8 << 20, "--record-size"},
				{CB_OPT_NUM, 1, INT64_MAX / 2, "--num-records"},
				{CB_OPT_THROUGHPUT, -1, INT32_MAX, "--throughput"},
				{CB_OPT_PARTITIONS, 1, 100000, "--partitions"},
				{CB_OPT_RF, 1, 16, "--replication-factor"},
				{CB_OPT_MINISR, 1, 16, "--min-isr"},
				{CB_OPT_LINGER, 0, 60000, "--linger-ms"},
				{CB_OPT_BATCH, 1024, 16 << 20, "--batch-bytes"},
				{CB_OPT_INFLIGHT, 1, 32, "--max-in-flight"},
				{CB_OPT_REPORT, 100, 3600000, "--report-interval-ms"},
				{CB_OPT_TIMEOUT, 1, 3600000, "--timeout-ms"},
			};
			for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
				if (r[i].opt != c)
					continue;
				if (!cb_int(optarg, r[i].lo, r[i].hi, &v))
					return cb_usage_error(o->cmd, "bad value for", r[i].name);
				switch (c) {
				case CB_OPT_RECORD_SIZE:
					o->record_size = (int)v;
					break;
				case CB_OPT_NUM:
					o->num_records = v;
					break;
				case CB_OPT_THROUGHPUT:
					o->throughput = v;
					break;
				case CB_OPT_PARTITIONS:
					o->partitions = (int)v;
					break;
				case CB_OPT_RF:
					o->replication = (int)v;
					break;
				case CB_OPT_MINISR:
					o->min_isr = (int)v;
					break;
				case CB_OPT_LINGER:
					o->linger_ms = (int)v;
					break;
				case CB_OPT_BATCH:
					o->batch_bytes = (int)v;
					break;
				case CB_OPT_INFLIGHT:
					o->max_in_flight = (int)v;
					break;
				case CB_OPT_REPORT:
					o->report_ms = (int)v;
					break;
				case CB_OPT_TIMEOUT:
					o->timeout_ms = (int)v;
					break;
				}
			}
		}
		}
	}
	if (optind < argc)
		return cb_usage_error(o->cmd, "unexpected argument", argv[optind]);
	if (!o->topic)
		return cb_usage_error(o->cmd, "--topic is required", "");
	return -1;
}

static void cb_defaults(struct cb_opts *o, const char *cmd)
{
	*o = (struct cb_opts){
		.bootstrap = "127.0.0.1:9092",
		.num_records = 1000000,
		.record_size = 100,
		.throughput = -1,
		.acks = -1,
		.replication = 3,
		.linger_ms = 5,
		.batch_bytes = 256 << 10,
		.max_in_flight = 5,
		.report_ms = 5000,
		.timeout_ms = 30000,
		.cmd = cmd,
	};
}

static void cb_config(const struct cb_opts *o, struct replog_config *cfg)
{
	replog_config_init(cfg);
	cfg->bootstrap = o->bootstrap;
	cfg->client_id = "replog-bench";
	cfg->acks = o->acks;
	cfg->compression = o->compression;
	cfg->linger_ms = o->linger_ms;
	cfg->batch_bytes = o->batch_bytes;
	cfg->max_in_flight = o->max_in_flight;
	cfg->request_timeout_ms = o->timeout_ms;
	cfg->max_block_ms = o->timeout_ms;
	cfg->delivery_timeout_ms = o->timeout_ms * 4;
}

/* Create the topic when --partitions was given and it does not exist. */
static int cb_ensure_topic(const struct cb_opts *o)
{
	if (o->partitions <= 0)
		return 0;
	struct replog_config cfg;
	cb_config(o, &cfg);
	struct replog_error err;
	replog_admin *a = replog_admin_new(&cfg, &err);
	if (!a) {
		fprintf(stderr, CB_PREFIX "%s\n", err.message);
		return -1;
	}
	struct replog_topic_info ti;
	int rc = replog_admin_describe_topic(a, o->topic, &ti, &err);
	if (rc == REPLOG_ERR_UNKNOWN_TOPIC) {
		int min_isr = o->min_isr ? o->min_isr : (o->replication > 1 ? 2 : 1);
		rc = replog_admin_create_topic(a, o->topic, o->partitions, (int16_t)o->replication,
					       min_isr, &err);
	}
	if (rc)
		fprintf(stderr, CB_PREFIX "topic %s: %s\n", o->topic, err.message);
	replog_admin_destroy(a);
	return rc ? -1 : 0;
}

/* ---- produce -------------------------------------------------------------- */

struct cb_produce {
	struct cb_hist *hist;
	struct cb_hist *window;
	int64_t acked, errors;
	char first_error[REPLOG_ERRMSG_MAX];
};

static struct cb_produce *cb_run; /* the run of the callback below */

static void cb_delivered_timed(const struct replog_delivery *d, void *opaque)
{
	uint64_t lat = (uint64_t)(cb_now_us() - (int64_t)(uintptr_t)opaque);
	if (d->err) {
		if (cb_run->errors++ == 0)
			snprintf(cb_run->first_error, sizeof(cb_run->first_error), "%s",
				 d->error ? d->error->message : replog_err_name(d->err));
		return;
	}
	cb_record(cb_run->hist, lat);
	cb_record(cb_run->window, lat);
	cb_run->acked++;
}

static void cb_print_window(const struct cb_hist *w, double secs, int record_size)
{
	double rps = secs > 0 ? (double)w->n / secs : 0;
	fprintf(stderr,
		"%" PRIu64 " records sent, %.1f records/sec (%.2f MB/sec), %.2f ms avg latency, "
		"%.2f ms max latency.\n",
		w->n, rps, rps * record_size / CB_MIB, w->n ? w->sum_us / (double)w->n / 1000 : 0,
		(double)w->max_us / 1000);
}

static void cb_print_final(const char *op, const struct cb_hist *h, int64_t n, double secs,
			   int record_size, int64_t errors, bool json)
{
	double rps = secs > 0 ? (double)n / secs : 0, mbps = rps * record_size / CB_MIB;
	double avg = h->n ? h->sum_us / (double)h->n / 1000 : 0;
	printf("%" PRId64 " records sent, %.1f records/sec (%.2f MB/sec), %.2f ms avg latency, "
	       "%.2f ms max latency, %.2f ms 50th, %.2f ms 95th, %.2f ms 99th, %.2f ms 99.9th.\n",
	       n, rps, mbps, avg, (double)h->max_us / 1000, cb_pct_ms(h, 50), cb_pct_ms(h, 95),
	       cb_pct_ms(h, 99), cb_pct_ms(h, 99.9));
	if (json)
		printf("{\"tool\":\"replog\",\"op\":\"%s\",\"records\":%" PRId64
		       ",\"record_size\":%d,\"seconds\":%.3f,\"records_per_sec\":%.1f,"
		       "\"mb_per_sec\":%.3f,\"latency_ms\":{\"avg\":%.3f,\"p50\":%.3f,"
		       "\"p95\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f},\"errors\":%" PRId64
		       "}\n",
		       op, n, record_size, secs, rps, mbps, avg, cb_pct_ms(h, 50), cb_pct_ms(h, 95),
		       cb_pct_ms(h, 99), cb_pct_ms(h, 99.9), (double)h->max_us / 1000, errors);
	fflush(stdout);
}

int produce_bench_main(int argc, char **argv)
{
	struct cb_opts o;
	cb_defaults(&o, "produce");
	int prc = cb_parse(argc, argv, &o);
	if (prc == 0) {
		produce_bench_usage();
		return 0;
	}
	if (prc > 0)
		return prc;
	if (cb_ensure_topic(&o) < 0)
		return CB_EXIT_ERROR;
	struct replog_config cfg;
	cb_config(&o, &cfg);
	struct replog_error err;
	replog_producer *p = replog_producer_new(&cfg, &err);
	if (!p) {
		fprintf(stderr, CB_PREFIX "produce: %s\n", err.message);
		return CB_EXIT_ERROR;
	}
	uint8_t *payload = malloc((size_t)o.record_size + 1);
	struct cb_hist *hist = calloc(1, sizeof(*hist)), *window = calloc(1, sizeof(*window));
	if (!payload || !hist || !window) {
		fprintf(stderr, CB_PREFIX "produce: out of memory\n");
		return CB_EXIT_ERROR;
	}
	for (int i = 0; i < o.record_size; i++)
		payload[i] = (uint8_t)('A' + i % 26);
	struct cb_produce run = {.hist = hist, .window = window};
	cb_run = &run;
	int64_t start = cb_now_us(), window_start = start;
	int rc = 0;
	for (int64_t i = 0; i < o.num_records; i++) {
		if (o.throughput > 0) {
			int64_t due = start + i * 1000000 / o.throughput;
			while (cb_now_us() < due)
				replog_producer_poll(p, (int)((due - cb_now_us()) / 1000));
		}
		rc = replog_produce(p, o.topic, REPLOG_PARTITION_ANY, NULL, 0, payload,
				    (size_t)o.record_size, cb_delivered_timed,
				    (void *)(uintptr_t)cb_now_us(), &err);
		if (rc) {
			fprintf(stderr, CB_PREFIX "produce: record %" PRId64 ": %s\n", i,
				err.message);
			break;
		}
		if ((i & 1023) == 0) {
			replog_producer_poll(p, 0);
			int64_t now = cb_now_us();
			if (now - window_start >= (int64_t)o.report_ms * 1000) {
				cb_print_window(window, (double)(now - window_start) / 1e6,
						o.record_size);
				memset(window, 0, sizeof(*window));
				window_start = now;
			}
		}
	}
	int frc = replog_producer_flush(p, o.timeout_ms * 4, &err);
	double secs = (double)(cb_now_us() - start) / 1e6;
	if (frc)
		fprintf(stderr, CB_PREFIX "produce: %s\n", err.message);
	cb_print_final("produce", hist, run.acked, secs, o.record_size, run.errors, o.json);
	if (run.errors)
		fprintf(stderr, CB_PREFIX "produce: %" PRId64 " records failed; the first: %s\n",
			run.errors, run.first_error);
	replog_producer_destroy(p);
	free(payload);
	free(hist);
	free(window);
	return rc || frc ? CB_EXIT_ERROR : 0;
}

/* ---- consume -------------------------------------------------------------- */

static replog_consumer *cb_consumer_all(const struct cb_opts *o, int64_t start, int *nparts)
{
	struct replog_config cfg;
	cb_config(o, &cfg);
	cfg.fetch_max_bytes = 4 << 20;
	struct replog_error err;
	replog_admin *a = replog_admin_new(&cfg, &err);
	struct replog_topic_info ti;
	if (!a || replog_admin_describe_topic(a, o->topic, &ti, &err)) {
		fprintf(stderr, CB_PREFIX "%s: %s\n", o->cmd, err.message);
		replog_admin_destroy(a);
		return NULL;
	}
	*nparts = ti.npartitions;
	replog_admin_destroy(a);
	replog_consumer *c = replog_consumer_new(&cfg, &err);
	for (int i = 0; c && i < *nparts; i++)
		if (replog_consumer_assign(c, o->topic, i, start, &err)) {
			replog_consumer_destroy(c);
			c = NULL;
		}
	if (!c)
		fprintf(stderr, CB_PREFIX "%s: %s\n", o->cmd, err.message);
	return c;
}

int consume_bench_main(int argc, char **argv)
{
	struct cb_opts o;
	cb_defaults(&o, "consume");
	int prc = cb_parse(argc, argv, &o);
	if (prc == 0) {
		consume_bench_usage();
		return 0;
	}
	if (prc > 0)
		return prc;
	int nparts;
	replog_consumer *c = cb_consumer_all(&o, REPLOG_OFFSET_EARLIEST, &nparts);
	if (!c)
		return CB_EXIT_ERROR;
	int64_t n = 0, bytes = 0, start = cb_now_us(), last_progress = start;
	struct replog_error err;
	int rc = 0;
	while (n < o.num_records) {
		const struct replog_message *m;
		size_t count;
		rc = replog_consumer_poll(c, 100, &m, &count, &err);
		if (rc) {
			fprintf(stderr, CB_PREFIX "consume: %s\n", err.message);
			break;
		}
		for (size_t i = 0; i < count; i++)
			bytes += (int64_t)(m[i].key_len + m[i].value_len);
		n += (int64_t)count;
		int64_t now = cb_now_us();
		if (count)
			last_progress = now;
		else if (now - last_progress > (int64_t)o.timeout_ms * 1000) {
			fprintf(stderr,
				CB_PREFIX "consume: no record for %d ms after %" PRId64
					  " of %" PRId64 " (is the topic that full?)\n",
				o.timeout_ms, n, o.num_records);
			rc = CB_EXIT_ERROR;
			break;
		}
	}
	double secs = (double)(cb_now_us() - start) / 1e6;
	double rps = secs > 0 ? (double)n / secs : 0, mbps = secs > 0 ? bytes / secs / CB_MIB : 0;
	printf("%" PRId64 " records consumed, %.1f records/sec (%.2f MB/sec), %" PRId64
	       " bytes in %.3f s.\n",
	       n, rps, mbps, bytes, secs);
	if (o.json)
		printf("{\"tool\":\"replog\",\"op\":\"consume\",\"records\":%" PRId64
		       ",\"bytes\":%" PRId64 ",\"seconds\":%.3f,\"records_per_sec\":%.1f,"
		       "\"mb_per_sec\":%.3f}\n",
		       n, bytes, secs, rps, mbps);
	replog_consumer_destroy(c);
	return rc ? CB_EXIT_ERROR : 0;
}

/* ---- e2e ------------------------------------------------------------------ */

int e2e_bench_main(int argc, char **argv)
{
	struct cb_opts o;
	cb_defaults(&o, "e2e");
	o.throughput = 1000;
	o.num_records = 10000;
	int prc = cb_parse(argc, argv, &o);
	if (prc == 0) {
		e2e_bench_usage();
		return 0;
	}
	if (prc > 0)
		return prc;
	if (o.record_size < 8)
		return cb_usage_error("e2e", "--record-size must be at least 8, not", "");
	if (cb_ensure_topic(&o) < 0)
		return CB_EXIT_ERROR;
	struct replog_config cfg;
	cb_config(&o, &cfg);
	cfg.linger_ms = 0;
	struct replog_error err;
	replog_producer *p = replog_producer_new(&cfg, &err);
	replog_consumer *c = p ? replog_consumer_new(&cfg, &err) : NULL;
	if (!c || replog_consumer_assign(c, o.topic, 0, REPLOG_OFFSET_LATEST, &err)) {
		fprintf(stderr, CB_PREFIX "e2e: %s\n", err.message);
		return CB_EXIT_ERROR;
	}
	struct cb_hist *h = calloc(1, sizeof(*h));
	uint8_t *payload = calloc(1, (size_t)o.record_size);
	if (!h || !payload)
		return CB_EXIT_ERROR;
	int64_t sent = 0, got = 0, start = cb_now_us(), last = start;
	int rc = 0;
	while (got < o.num_records && rc == 0) {
		int64_t now = cb_now_us();
		int64_t due = o.throughput > 0 ? start + sent * 1000000 / o.throughput : now;
		if (sent < o.num_records && now >= due) {
			int64_t wall = cb_wall_us();
			memcpy(payload, &wall, sizeof(wall));
			rc = replog_produce(p, o.topic, 0, NULL, 0, payload, (size_t)o.record_size,
					    NULL, NULL, &err);
			sent++;
		}
		replog_producer_poll(p, 0);
		const struct replog_message *m;
		size_t count;
		/* Wait for the consumer only while no record is due. */
		int64_t next_due = o.throughput > 0 ? start + sent * 1000000 / o.throughput : now;
		int wait = sent < o.num_records && next_due - cb_now_us() < 1000 ? 0 : 1;
		if (!rc)
			rc = replog_consumer_poll(c, wait, &m, &count, &err);
		for (size_t i = 0; !rc && i < count; i++) {
			int64_t ts;
			if (m[i].value_len < sizeof(ts))
				continue;
			memcpy(&ts, m[i].value, sizeof(ts));
			int64_t lat = cb_wall_us() - ts;
			cb_record(h, lat > 0 ? (uint64_t)lat : 0);
			got++;
			last = cb_now_us();
		}
		if (cb_now_us() - last > (int64_t)o.timeout_ms * 1000) {
			fprintf(stderr, CB_PREFIX "e2e: no record consumed for %d ms\n",
				o.timeout_ms);
			rc = CB_EXIT_ERROR;
		}
	}
	if (rc && err.message[0])
		fprintf(stderr, CB_PREFIX "e2e: %s\n", err.message);
	double secs = (double)(cb_now_us() - start) / 1e6;
	printf("%" PRId64 " records end to end in %.1f s, %.2f ms avg latency, %.2f ms max "
	       "latency, %.2f ms 50th, %.2f ms 95th, %.2f ms 99th, %.2f ms 99.9th.\n",
	       got, secs, h->n ? h->sum_us / (double)h->n / 1000 : 0, (double)h->max_us / 1000,
	       cb_pct_ms(h, 50), cb_pct_ms(h, 95), cb_pct_ms(h, 99), cb_pct_ms(h, 99.9));
	if (o.json)
		printf("{\"tool\":\"replog\",\"op\":\"e2e\",\"records\":%" PRId64
		       ",\"record_size\":%d,\"latency_ms\":{\"avg\":%.3f,\"p50\":%.3f,\"p95\":%.3f,"
		       "\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f}}\n",
		       got, o.record_size, h->n ? h->sum_us / (double)h->n / 1000 : 0,
		       cb_pct_ms(h, 50), cb_pct_ms(h, 95), cb_pct_ms(h, 99), cb_pct_ms(h, 99.9),
		       (double)h->max_us / 1000);
	replog_producer_flush(p, o.timeout_ms, &err);
	replog_producer_destroy(p);
	replog_consumer_destroy(c);
	free(h);
	free(payload);
	return rc ? CB_EXIT_ERROR : 0;
}
