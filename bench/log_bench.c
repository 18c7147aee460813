/*
 * log_bench — `replog-bench log`: how close the partition log's appends
 * come to the machine's own sequential write bandwidth.
 *
 * What this module owns: the options of the `log` subcommand, the two kinds
 * of measured run, the statistics over repeats, the report, and the files
 * the benchmark writes (all of them under one work directory it creates and
 * removes). This file: the options and the manual, the set-up (everything
 * allocated at start), the loop over policies and repeats, and the entry
 * point. log_bench_run.c holds the two runs and what they run on (the
 * counting io engine, the batch, the work directory); log_bench_report.c
 * the statistics and the report; log_bench_impl.h what the three share.
 *
 * The two runs, both writing --total-bytes in units of --batch-bytes into a
 * fresh file in the same directory, timed with CLOCK_MONOTONIC:
 *
 *   log  A fresh partition log (plog_open) with the flush policy under test.
 *        One real RecordBatch v2 of the requested size is built once with
 *        batch_builder (records with 1 KiB values, the last record sized to
 *        fill the batch) and copied into a pool of --inflight buffers. Each
 *        append is plog_append_leader() of one pool buffer; a buffer goes
 *        back to the pool when its pa_done fires (appends borrow their
 *        buffer until written), so at most --inflight appends are queued or
 *        in flight and the pipeline is kept full. With --ack durable it goes
 *        back only when the flush covering it completes: a closed loop of
 *        acks=all producers, which is what bounds group commit in a broker.
 *        The clock runs from the first append until plog_sync() reports
 *        everything durable.
 *   raw  The same machine doing the same job with nothing in the way: one
 *        plain write() per batch-sized buffer, sequentially, and fdatasync()
 *        at the cadence the policy asks for (after every write; whenever
 *        N bytes are unsynced; whenever unsynced data is T ms old; once at
 *        the end), and a final fdatasync. The clock runs from the first
 *        write to the final fdatasync's return.
 *
 * Before the clock starts, both runs create their file and make one small
 * batch durable (the log also records its leader epoch, an fsynced
 * checkpoint): file creation and directory fsyncs are set-up, not
 * throughput, and they cost the same on both sides.
 *
 * Why side by side: the machines are shared and noisy, so an absolute MiB/s
 * means little from one day to the next. Each policy runs --repeat pairs,
 * alternating the order (raw,log then log,raw, ...) so slow drift hits both
 * kinds alike; the report gives each kind's median, the ratio of the
 * medians, and min..max. The target of the issue is checked on that ratio.
 *
 * What is counted: fsyncs are the fdatasync/fsync ops the log submits to
 * its io engine (a counting wrapper sits between the log and the real
 * engine), writes are its writev ops (each covers several appends when the
 * log coalesces); for raw they are the syscalls made. Append-to-durable
 * latency: the time from an append's submission (raw: its write) until the
 * flush that covers it completes, p50 and p99 over the run's appends.
 * With -v, each run also reports the time in its final sync, the process's
 * CPU time (getrusage: io_uring's workers are threads of the process) and
 * involuntary context switches, which tell a slow run that computed more
 * from one that waited.
 *
 * Memory is bounded and allocated at start: the pool (--inflight x batch,
 * at most LOG_BENCH_POOL_BYTES_MAX), one timestamp per append of a run (at
 * most LOG_BENCH_APPENDS_MAX appends), and one sample per run. The storage
 * engine allocates what plog_open allocates, once per log run.
 *
 * Disk: only one run's data exists at a time (each run's files are removed
 * when it ends) unless --keep, which keeps every run's files.
 */
#include "log_bench_impl.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "batch.h"
#include "batch_builder.h"
#include "io.h"
#include "plog.h"
#include "rlassert.h"
#include "rlerr.h"

#define LOG_BENCH_EXIT_OK    0
#define LOG_BENCH_EXIT_ERROR 1
#define LOG_BENCH_EXIT_USAGE 2

#define LOG_BENCH_DEFAULT_DIR	   "./replog-bench-data"
#define LOG_BENCH_DEFAULT_POLICIES "every,1M,10ms,none"
/* A batch must hold its 61-byte header and at least one record. The top is
 * the largest single append a sane producer sends, well above Kafka's
 * default max.message.bytes (1 MiB). */
#define LOG_BENCH_BATCH_BYTES_MIN 128u
#define LOG_BENCH_BATCH_BYTES_MAX (64u << 20)
/* One int64 timestamp per append: 4 Mi appends = 32 MiB. */
#define LOG_BENCH_APPENDS_MAX	   (4u << 20)
#define LOG_BENCH_INFLIGHT_DEFAULT 64u
#define LOG_BENCH_INFLIGHT_MAX	   1024u
#define LOG_BENCH_POOL_BYTES_MAX   (256ull << 20)

/* Set by SIGINT and SIGTERM; the runs check it between appends (log) and
 * writes (raw) and stop with -EINTR. */
volatile sig_atomic_t log_bench_interrupted;

static void log_bench_on_signal(int sig)
{
	(void)sig;
	log_bench_interrupted = 1;
}

/* Name an error for the report; the first one set wins. */
__attribute__((format(printf, 2, 3))) void log_bench_fail(struct log_bench *b, const char *fmt, ...)
{
	if (b->lb_err[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b->lb_err, sizeof(b->lb_err), fmt, ap);
	va_end(ap);
}

/* ---- sizes and policies ------------------------------------------------ */

/* Parse "N", "NK", "NM", "NG" (binary; "KiB" etc. also accepted). Returns 0
 * with *out, or -EINVAL (not a size) / -ERANGE (overflow). */
static int log_bench_parse_size(const char *s, uint64_t *out)
{
	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	uint64_t mult = 1;
	switch (*end) {
	case 'k':
	case 'K':
		mult = LOG_BENCH_KIB;
		end++;
		break;
	case 'm':
	case 'M':
		mult = LOG_BENCH_MIB;
		end++;
		break;
	case 'g':
	case 'G':
		mult = LOG_BENCH_GIB;
		end++;
		break;
	default:
		break;
	}
	if (mult > 1 && strcmp(end, "iB") == 0)
		end += 2;
	if (*end != '\0')
		return -EINVAL;
	uint64_t r;
	if (__builtin_mul_overflow((uint64_t)v, mult, &r))
		return -ERANGE;
	*out = r;
	return 0;
}

/* Parse one policy token. Returns 0 or -EINVAL. */
static int log_bench_parse_policy(const char *tok, size_t len, struct log_bench_policy *p)
{
	char s[LOG_BENCH_POLICY_NAME_MAX];
	if (len == 0 || len >= sizeof(s))
		return -EINVAL;
	memcpy(s, tok, len);
	s[len] = '\0';
	memset(p, 0, sizeof(*p));
	memcpy(p->lp_name, s, len + 1);
	if (strcmp(s, "every") == 0) {
		p->lp_kind = LOG_BENCH_EVERY;
		return 0;
	}
	if (strcmp(s, "none") == 0) {
		p->lp_kind = LOG_BENCH_NONE;
		return 0;
	}
	if (len > 2 && strcmp(s + len - 2, "ms") == 0) {
		char *end;
		if (s[0] < '0' || s[0] > '9')
			return -EINVAL;
		errno = 0;
		long long ms = strtoll(s, &end, 10);
		if (errno || end != s + len - 2 || ms <= 0 || ms > 3600 * 1000)
			return -EINVAL;
		p->lp_kind = LOG_BENCH_INTERVAL;
		p->lp_interval_ms = ms;
		return 0;
	}
	uint64_t bytes;
	if (log_bench_parse_size(s, &bytes) < 0 || bytes == 0 || bytes > (uint64_t)INT64_MAX)
		return -EINVAL;
	p->lp_kind = LOG_BENCH_BYTES;
	p->lp_flush_bytes = (int64_t)bytes;
	return 0;
}

static int log_bench_parse_policies(const char *list, struct log_bench_opts *o)
{
	o->lo_policy_count = 0;
	const char *p = list;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (o->lo_policy_count == LOG_BENCH_POLICIES_MAX)
			return -E2BIG;
		if (log_bench_parse_policy(p, len, &o->lo_policies[o->lo_policy_count]) < 0)
			return -EINVAL;
		o->lo_policy_count++;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

/* ---- usage ------------------------------------------------------------- */

void log_bench_usage(void)
{
	printf("usage: replog-bench log [options]\n"
	       "\n"
	       "Measures the partition log's append throughput against the same machine's\n"
	       "raw sequential write bandwidth, side by side in one run, for each flush\n"
	       "policy, and reports the ratio.\n"
	       "\n"
	       "  log runs   a fresh partition log per run (log/plog.h) with the policy\n"
	       "             under test; one real RecordBatch v2 of --batch-bytes (records\n"
	       "             with 1 KiB values) appended as leader over and over from a pool\n"
	       "             of --inflight buffers, keeping the pipeline full, until\n"
	       "             --total-bytes are appended and plog_sync() reports them\n"
	       "             durable. Timed from the first append to the end of that sync.\n"
	       "  raw runs   a plain file in the same directory: write() of the same\n"
	       "             buffer, sequentially, with fdatasync() at the policy's cadence\n"
	       "             and once at the end. Timed from the first write to the end of\n"
	       "             the last fdatasync.\n"
	       "\n"
	       "Each policy runs --repeat raw/log pairs, alternating their order so drift\n"
	       "hits both; the report gives the median of each, the ratio of the medians\n"
	       "and min..max. Absolute figures vary with the machine's load; the ratio is\n"
	       "the number to compare.\n"
	       "\n"
	       "options:\n"
	       "  --dir DIR           where to write (default " LOG_BENCH_DEFAULT_DIR "). Created\n"
	       "                      if missing. Each run writes under DIR/replog-bench.<pid>/\n"
	       "                      and its files are removed when it ends; the work\n"
	       "                      directory (and DIR, if the bench created it) is removed\n"
	       "                      at the end.\n"
	       "  --keep              keep every run's files (needs 2 x repeat x policies x\n"
	       "                      total bytes of free space).\n"
	       "  --batch-bytes N     size of one appended batch (default 64K; %u..%lluM).\n"
	       "  --total-bytes N     bytes appended per measured run (default 256M). The\n"
	       "                      whole benchmark writes 2 x repeat x policies x this:\n"
	       "                      6 GiB with the defaults; mind a shared disk.\n"
	       "  --policies LIST     comma-separated flush policies (default\n"
	       "                      " LOG_BENCH_DEFAULT_POLICIES "), at most %u:\n"
	       "                        every   an fdatasync covers every append (group\n"
	       "                                commit: appends arriving during a flush share\n"
	       "                                the next one); raw: fdatasync after every write\n"
	       "                        <size>  flush once that many bytes are unflushed\n"
	       "                                (plog flush_bytes), e.g. 1M\n"
	       "                        <n>ms   flush once unflushed data is n ms old\n"
	       "                                (plog flush_interval_ms), e.g. 10ms\n"
	       "                        none    no flush until the end (plog flush_never)\n"
	       "  --engine uring|sync the log's io engine (default uring; falls back to sync,\n"
	       "                      with a message, if io_uring is unavailable).\n"
	       "  --repeat N          raw/log pairs per policy (default 3, at most %u).\n"
	       "  --segment-bytes N   the log's segment size (default 1G, below 2G).\n"
	       "  --inflight N        appends queued or in flight at once, the size of the\n"
	       "                      buffer pool (default %u, at most %u; the pool is capped\n"
	       "                      at %llu MiB, so huge batches get fewer).\n"
	       "  --max-write-iov N   the log's max_write_iov: appends per coalesced writev\n"
	       "                      (default: plog's default).\n"
	       "  --ack written|durable\n"
	       "                      when a buffer returns to the pool: when its append is\n"
	       "                      written (default; like acks=1 producers, the pipeline\n"
	       "                      stays full while fsyncs run), or when it is durable\n"
	       "                      (like acks=all producers with fsync durability: a\n"
	       "                      closed loop of --inflight appends waiting on flushes;\n"
	       "                      this shows group commit as a broker sees it).\n"
	       "  --json              one JSON object per line instead of text.\n"
	       "  -v, --verbose       also print every run on stderr as it completes: MiB/s,\n"
	       "                      seconds, time in the final sync, CPU time of the\n"
	       "                      process (io_uring's workers included) and involuntary\n"
	       "                      context switches during the run, fsyncs, writes and\n"
	       "                      their average size, durable p50/p99.\n"
	       "  -h, --help          this text.\n"
	       "\n"
	       "Sizes take a K, M or G suffix (binary: 1K = 1024), optionally followed by\n"
	       "iB.\n"
	       "\n"
	       "output (text):\n"
	       "  a header naming what matters to the figures: engine, batch size and\n"
	       "  records per batch, total per run, repeat, in-flight appends, filesystem\n"
	       "  type of DIR (statfs), cores online, kernel. Then one line per policy:\n"
	       "\n"
	       "    policy=1M batch=64KiB log=1234.5MiB/s (19752 appends/s) raw=1290.1MiB/s\n"
	       "      ratio=0.957 fsyncs log=128 raw=256 [log 1200.1..1250.3 raw 1280.0..1301.2]\n"
	       "      durable p50/p99 log=3.1ms/5.0ms raw=0.9ms/2.2ms writes log=130 raw=4096\n"
	       "\n"
	       "  (one line in the output). log= and raw= are medians in MiB/s (2^20 bytes\n"
	       "  per second), appends/s the log's median rate; ratio = median log / median\n"
	       "  raw (above 1 means the log beat plain write+fdatasync, as group commit and\n"
	       "  coalescing can); fsyncs and writes are the median counts per run (log:\n"
	       "  ops submitted to the io engine, one writev may carry many appends; raw:\n"
	       "  syscalls); [..] is min..max MiB/s over the repeats; durable p50/p99 is the\n"
	       "  time from an append (a write) until the flush covering it completed.\n"
	       "  Last, the verdict on the issue's target:\n"
	       "\n"
	       "    target: 64KiB batches, flush every 1MiB: ratio 0.957 >= 0.90 OK\n"
	       "\n"
	       "  or BELOW TARGET, or 'not measured' when the run had no 64 KiB batch size\n"
	       "  or no 1M policy.\n"
	       "\n"
	       "output (--json): the same, one object per line: {\"type\":\"header\",...},\n"
	       "  {\"type\":\"result\",...} per policy (every figure, per-pair ratio min/max,\n"
	       "  per-run values in \"runs\"), {\"type\":\"target\",...}.\n"
	       "\n"
	       "exit status: 0 the benchmark ran (also when below target: it is a\n"
	       "  measurement), 1 an error stopped it (the cause is printed on stderr; an\n"
	       "  interrupt counts as one), 2 usage error.\n"
	       "\n"
	       "example:\n"
	       "  replog-bench log --dir /mnt/data/bench --policies 1M --repeat 5\n"
	       "  replog-bench log --batch-bytes 4K --total-bytes 64M --policies every\n",
	       LOG_BENCH_BATCH_BYTES_MIN,
	       (unsigned long long)(LOG_BENCH_BATCH_BYTES_MAX / LOG_BENCH_MIB),
	       LOG_BENCH_POLICIES_MAX, LOG_BENCH_REPEAT_MAX, LOG_BENCH_INFLIGHT_DEFAULT,
	       LOG_BENCH_INFLIGHT_MAX,
	       (unsigned long long)(LOG_BENCH_POOL_BYTES_MAX / LOG_BENCH_MIB));
}

/* ---- options ----------------------------------------------------------- */

__attribute__((format(printf, 1, 2))) static int log_bench_usage_error(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "replog-bench log: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see replog-bench log --help)\n");
	return LOG_BENCH_EXIT_USAGE;
}

static int log_bench_size_arg(const char *opt, const char *arg, uint64_t *out)
{
	int rc = log_bench_parse_size(arg, out);
	if (rc == -ERANGE)
		return log_bench_usage_error("%s: '%s' is too large", opt, arg);
	if (rc < 0)
		return log_bench_usage_error("%s: '%s' is not a size (N, NK, NM or NG)", opt, arg);
	return 0;
}

static int log_bench_uint_arg(const char *opt, const char *arg, uint32_t lo, uint32_t hi,
			      uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long v = arg[0] >= '0' && arg[0] <= '9' ? strtoul(arg, &end, 10) : 0;
	if (arg[0] < '0' || arg[0] > '9' || errno || *end || v < lo || v > hi)
		return log_bench_usage_error("%s: '%s' is not a number in %u..%u", opt, arg, lo,
					     hi);
	*out = (uint32_t)v;
	return 0;
}

enum {
	LOG_BENCH_OPT_DIR = 256,
	LOG_BENCH_OPT_BATCH,
	LOG_BENCH_OPT_TOTAL,
	LOG_BENCH_OPT_POLICIES,
	LOG_BENCH_OPT_ENGINE,
	LOG_BENCH_OPT_REPEAT,
	LOG_BENCH_OPT_SEGMENT,
	LOG_BENCH_OPT_INFLIGHT,
	LOG_BENCH_OPT_IOV,
	LOG_BENCH_OPT_ACK,
	LOG_BENCH_OPT_JSON,
	LOG_BENCH_OPT_KEEP,
};

/* Returns 0 to run, -1 when --help was printed, or an exit code > 0. */
static int log_bench_parse_opts(int argc, char **argv, struct log_bench_opts *o)
{
	static const struct option longopts[] = {
		{"dir", required_argument, NULL, LOG_BENCH_OPT_DIR},
		{"batch-bytes", required_argument, NULL, LOG_BENCH_OPT_BATCH},
		{"total-bytes", required_argument, NULL, LOG_BENCH_OPT_TOTAL},
		{"policies", required_argument, NULL, LOG_BENCH_OPT_POLICIES},
		{"engine", required_argument, NULL, LOG_BENCH_OPT_ENGINE},
		{"repeat", required_argument, NULL, LOG_BENCH_OPT_REPEAT},
		{"segment-bytes", required_argument, NULL, LOG_BENCH_OPT_SEGMENT},
		{"inflight", required_argument, NULL, LOG_BENCH_OPT_INFLIGHT},
		{"max-write-iov", required_argument, NULL, LOG_BENCH_OPT_IOV},
		{"ack", required_argument, NULL, LOG_BENCH_OPT_ACK},
		{"json", no_argument, NULL, LOG_BENCH_OPT_JSON},
		{"keep", no_argument, NULL, LOG_BENCH_OPT_KEEP},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct plog_config defaults;
	plog_config_default(&defaults);
	*o = (struct log_bench_opts){
		.lo_dir = LOG_BENCH_DEFAULT_DIR,
		.lo_batch_bytes = 64 * LOG_BENCH_KIB,
		.lo_total_bytes = 256 * LOG_BENCH_MIB,
		.lo_segment_bytes = LOG_BENCH_GIB,
		.lo_repeat_count = 3,
		.lo_inflight_count = LOG_BENCH_INFLIGHT_DEFAULT,
		.lo_max_write_iov = defaults.max_write_iov,
	};
	int rc = log_bench_parse_policies(LOG_BENCH_DEFAULT_POLICIES, o);
	RL_ASSERT(rc == 0);
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":vh", longopts, NULL)) != -1) {
		switch (c) {
		case LOG_BENCH_OPT_DIR:
			if (!optarg[0])
				return log_bench_usage_error("--dir: empty path");
			o->lo_dir = optarg;
			break;
		case LOG_BENCH_OPT_BATCH:
			rc = log_bench_size_arg("--batch-bytes", optarg, &o->lo_batch_bytes);
			break;
		case LOG_BENCH_OPT_TOTAL:
			rc = log_bench_size_arg("--total-bytes", optarg, &o->lo_total_bytes);
			break;
		case LOG_BENCH_OPT_SEGMENT:
			rc = log_bench_size_arg("--segment-bytes", optarg, &o->lo_segment_bytes);
			break;
		case LOG_BENCH_OPT_POLICIES:
			rc = log_bench_parse_policies(optarg, o);
			if (rc == -E2BIG)
				return log_bench_usage_error("--policies: more than %u policies",
							     LOG_BENCH_POLICIES_MAX);
			if (rc < 0)
				return log_bench_usage_error(
					"--policies: '%s' is not a list of every, none, <size> "
					"or <n>ms (n > 0)",
					optarg);
			break;
		case LOG_BENCH_OPT_ENGINE:
			if (strcmp(optarg, "uring") == 0 || strcmp(optarg, "io_uring") == 0)
				o->lo_engine_sync = false;
			else if (strcmp(optarg, "sync") == 0)
				o->lo_engine_sync = true;
			else
				return log_bench_usage_error("--engine: '%s' is not uring or sync",
							     optarg);
			break;
		case LOG_BENCH_OPT_REPEAT:
			rc = log_bench_uint_arg("--repeat", optarg, 1, LOG_BENCH_REPEAT_MAX,
						&o->lo_repeat_count);
			break;
		case LOG_BENCH_OPT_INFLIGHT:
			rc = log_bench_uint_arg("--inflight", optarg, 1, LOG_BENCH_INFLIGHT_MAX,
						&o->lo_inflight_count);
			o->lo_inflight_given = true;
			break;
		case LOG_BENCH_OPT_IOV:
			rc = log_bench_uint_arg("--max-write-iov", optarg, 1, 1024,
						&o->lo_max_write_iov);
			break;
		case LOG_BENCH_OPT_ACK:
			if (strcmp(optarg, "written") == 0)
				o->lo_ack_durable = false;
			else if (strcmp(optarg, "durable") == 0)
				o->lo_ack_durable = true;
			else
				return log_bench_usage_error(
					"--ack: '%s' is not written or durable", optarg);
			break;
		case LOG_BENCH_OPT_JSON:
			o->lo_json = true;
			break;
		case LOG_BENCH_OPT_KEEP:
			o->lo_keep = true;
			break;
		case 'v':
			o->lo_verbose = true;
			break;
		case 'h':
			log_bench_usage();
			return -1;
		case ':':
			return log_bench_usage_error("%s needs a value", argv[optind - 1]);
		default:
			if (optopt)
				return log_bench_usage_error("unknown option '-%c'", optopt);
			return log_bench_usage_error("unknown option '%s'", argv[optind - 1]);
		}
		if (rc)
			return rc;
	}
	if (optind < argc)
		return log_bench_usage_error("unexpected argument '%s'", argv[optind]);

	if (o->lo_batch_bytes < LOG_BENCH_BATCH_BYTES_MIN ||
	    o->lo_batch_bytes > LOG_BENCH_BATCH_BYTES_MAX)
		return log_bench_usage_error("--batch-bytes must be in %u..%u",
					     LOG_BENCH_BATCH_BYTES_MIN, LOG_BENCH_BATCH_BYTES_MAX);
	if (o->lo_total_bytes < o->lo_batch_bytes)
		return log_bench_usage_error("--total-bytes must be at least --batch-bytes");
	if ((o->lo_total_bytes + o->lo_batch_bytes - 1) / o->lo_batch_bytes > LOG_BENCH_APPENDS_MAX)
		return log_bench_usage_error(
			"--total-bytes / --batch-bytes is more than %u appends per run; use "
			"larger batches or a smaller total",
			LOG_BENCH_APPENDS_MAX);
	if (o->lo_segment_bytes < o->lo_batch_bytes + 2 * LOG_BENCH_KIB ||
	    o->lo_segment_bytes > INT32_MAX)
		return log_bench_usage_error(
			"--segment-bytes must be at least --batch-bytes + 2K and below 2G");
	uint64_t pool_max = LOG_BENCH_POOL_BYTES_MAX / o->lo_batch_bytes;
	if (o->lo_inflight_count > pool_max) {
		if (o->lo_inflight_given)
			return log_bench_usage_error(
				"--inflight x --batch-bytes exceeds the %llu MiB pool limit",
				(unsigned long long)(LOG_BENCH_POOL_BYTES_MAX / LOG_BENCH_MIB));
		o->lo_inflight_count = (uint32_t)pool_max;
	}
	return 0;
}

/* ---- set-up and the whole benchmark ------------------------------------ */

static int log_bench_alloc(struct log_bench *b)
{
	const struct log_bench_opts *o = &b->lb_opts;
	b->lb_slot_count = o->lo_inflight_count;
	size_t cap = (size_t)o->lo_batch_bytes;
	b->lb_pool = malloc(cap * b->lb_slot_count);
	b->lb_slots = calloc(b->lb_slot_count, sizeof(*b->lb_slots));
	b->lb_free = calloc(b->lb_slot_count, sizeof(*b->lb_free));
	b->lb_slot_of = calloc(b->lb_slot_count, sizeof(*b->lb_slot_of));
	b->lb_samples =
		calloc((size_t)o->lo_policy_count * o->lo_repeat_count * 2, sizeof(*b->lb_samples));
	if (!b->lb_pool || !b->lb_slots || !b->lb_free || !b->lb_slot_of || !b->lb_samples) {
		log_bench_fail(b, "allocating the buffer pool: %s", rl_strerror(-ENOMEM));
		return -ENOMEM;
	}
	int32_t records = 0;
	int64_t len = log_bench_build_batch(b->lb_pool, cap, &records);
	if (len < 0) {
		log_bench_fail(b, "building a %zu-byte batch: %s", cap, rl_strerror((int)len));
		return (int)len;
	}
	b->lb_batch_len = (size_t)len;
	b->lb_records_per_batch = records;
	b->lb_append_count = (o->lo_total_bytes + b->lb_batch_len - 1) / b->lb_batch_len;
	RL_ASSERT(b->lb_append_count > 0 && b->lb_append_count <= LOG_BENCH_APPENDS_MAX + 1ull);
	b->lb_start_ns = calloc(b->lb_append_count, sizeof(*b->lb_start_ns));
	if (!b->lb_start_ns) {
		log_bench_fail(b, "allocating %" PRIu64 " timestamps: %s", b->lb_append_count,
			       rl_strerror(-ENOMEM));
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < b->lb_slot_count; i++) {
		b->lb_slots[i].sl_buf = b->lb_pool + (size_t)i * cap;
		b->lb_slots[i].sl_bench = b;
		b->lb_slots[i].sl_idx = i;
		if (i > 0)
			memcpy(b->lb_slots[i].sl_buf, b->lb_pool, b->lb_batch_len);
	}
	/* The priming batch: one small record. */
	struct batch_builder bb;
	static const uint8_t prime_value[] = "replog-bench";
	int rc = batch_builder_init(&bb, b->lb_prime, sizeof(b->lb_prime), BATCH_CODEC_NONE, 0, -1,
				    -1, -1);
	if (rc == 0)
		rc = batch_builder_add(&bb, 0, NULL, -1, prime_value, (int32_t)sizeof(prime_value),
				       NULL, 0);
	int64_t plen = rc == 0 ? batch_builder_finish(&bb) : rc;
	RL_ASSERT(plen > 0);
	b->lb_prime_len = (size_t)plen;
	return 0;
}

static void log_bench_free(struct log_bench *b)
{
	io_engine_destroy(b->lb_inner); /* the ring's engine frees the ring */
	b->lb_inner = NULL;
	b->lb_ring = NULL;
	free(b->lb_pool);
	free(b->lb_slots);
	free(b->lb_free);
	free(b->lb_slot_of);
	free(b->lb_start_ns);
	free(b->lb_samples);
}

/* Every policy, every repeat, both kinds, then the report. */
static int log_bench_measure(struct log_bench *b)
{
	const struct log_bench_opts *o = &b->lb_opts;
	struct log_bench_summary sums[LOG_BENCH_POLICIES_MAX];
	for (uint32_t pol = 0; pol < o->lo_policy_count; pol++) {
		const struct log_bench_policy *p = &o->lo_policies[pol];
		for (uint32_t rep = 0; rep < o->lo_repeat_count; rep++) {
			/* raw,log then log,raw: linear drift hits both kinds alike. */
			for (int step = 0; step < 2; step++) {
				int kind = (int)(rep % 2) ^ step;
				struct log_bench_sample *s = log_bench_sample_at(b, pol, rep, kind);
				int rc = kind == LOG_BENCH_LOG ? log_bench_run_log(b, p, rep, s)
							       : log_bench_run_raw(b, p, rep, s);
				if (rc < 0)
					return rc;
				if (o->lo_verbose)
					log_bench_print_run(p, rep, kind, s);
			}
		}
		log_bench_summarize(b, pol, &sums[pol]);
		log_bench_print_result(b, pol, &sums[pol]);
	}
	log_bench_print_target(b, sums);
	return 0;
}

int log_bench_main(int argc, char **argv)
{
	struct log_bench *b = calloc(1, sizeof(*b));
	if (!b) {
		fprintf(stderr, "replog-bench log: error: %s\n", rl_strerror(-ENOMEM));
		return LOG_BENCH_EXIT_ERROR;
	}
	b->lb_dir_fd = b->lb_work_fd = -1;
	int rc = log_bench_parse_opts(argc, argv, &b->lb_opts);
	if (rc != 0) {
		free(b);
		return rc < 0 ? LOG_BENCH_EXIT_OK : rc;
	}
	struct sigaction sa = {.sa_handler = log_bench_on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	struct log_bench_facts facts = {.lf_fs = "unknown"};
	char fs_buf[32];
	struct utsname un;
	snprintf(facts.lf_kernel, sizeof(facts.lf_kernel), "%s",
		 uname(&un) == 0 ? un.release : "unknown");
	facts.lf_cores = sysconf(_SC_NPROCESSORS_ONLN);

	rc = log_bench_alloc(b);
	if (rc == 0)
		rc = log_bench_engine_init(b);
	if (rc == 0)
		rc = log_bench_dirs_init(b, fs_buf, sizeof(fs_buf), &facts.lf_fs);
	if (rc == 0) {
		if (strcmp(facts.lf_fs, "tmpfs") == 0 || strcmp(facts.lf_fs, "ramfs") == 0)
			fprintf(stderr,
				"replog-bench log: warning: %s is on %s, where fdatasync "
				"does nothing; the figures are memory bandwidth\n",
				b->lb_opts.lo_dir, facts.lf_fs);
		log_bench_print_header(b, &facts);
		rc = log_bench_measure(b);
	}
	int rc_clean = log_bench_dirs_deinit(b);
	if (rc == 0 && rc_clean < 0) {
		log_bench_fail(b, "removing %s: %s", b->lb_work_path, rl_strerror(rc_clean));
		rc = rc_clean;
	}
	if (rc == -EINTR && log_bench_interrupted)
		snprintf(b->lb_err, sizeof(b->lb_err), "interrupted");
	if (rc < 0)
		fprintf(stderr, "replog-bench log: error: %s\n",
			b->lb_err[0] ? b->lb_err : rl_strerror(rc));
	log_bench_free(b);
	free(b);
	return rc < 0 ? LOG_BENCH_EXIT_ERROR : LOG_BENCH_EXIT_OK;
}
