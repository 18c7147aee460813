/*
 * log_bench_impl — what the files of `replog-bench log` share and nothing
 * else sees: log_bench.c (options, set-up, the loop over policies and
 * repeats), log_bench_run.c (the measured runs and what they run on) and
 * log_bench_report.c (statistics and the report). Nothing outside
 * bench/log_bench*.c includes this. The method is in log_bench.c's header
 * comment.
 */
#ifndef REPLOG_LOG_BENCH_IMPL_H
#define REPLOG_LOG_BENCH_IMPL_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io.h"
#include "io_ring.h"
#include "log_bench.h"
#include "plog.h"

/* Binary units: sizes on the command line and in the report. */
#define LOG_BENCH_KIB ((uint64_t)1 << 10)
#define LOG_BENCH_MIB ((uint64_t)1 << 20)
#define LOG_BENCH_GIB ((uint64_t)1 << 30)

/* Bounds of the options that size the shared arrays below and the
 * per-policy statistics. */
#define LOG_BENCH_POLICIES_MAX	  16
#define LOG_BENCH_POLICY_NAME_MAX 24
#define LOG_BENCH_REPEAT_MAX	  99

enum log_bench_policy_kind {
	LOG_BENCH_EVERY = 1, /* flush covering every append (group commit) */
	LOG_BENCH_BYTES,     /* flush once lp_flush_bytes are unflushed */
	LOG_BENCH_INTERVAL,  /* flush once unflushed data is lp_interval_ms old */
	LOG_BENCH_NONE,	     /* flush only at the end */
};

struct log_bench_policy {
	int lp_kind; /* enum log_bench_policy_kind */
	int64_t lp_flush_bytes;
	int64_t lp_interval_ms;
	char lp_name[LOG_BENCH_POLICY_NAME_MAX]; /* as given on the command line */
};

struct log_bench_opts {
	const char *lo_dir; /* borrowed from argv */
	uint64_t lo_batch_bytes;
	uint64_t lo_total_bytes;
	uint64_t lo_segment_bytes;
	struct log_bench_policy lo_policies[LOG_BENCH_POLICIES_MAX];
	uint32_t lo_policy_count;
	uint32_t lo_repeat_count;
	uint32_t lo_inflight_count;
	bool lo_inflight_given;
	uint32_t lo_max_write_iov;
	bool lo_engine_sync;
	bool lo_ack_durable; /* a buffer returns to the pool when durable, not written */
	bool lo_json;
	bool lo_keep;
	bool lo_verbose;
};

/* One measured run. */
struct log_bench_sample {
	double ls_seconds;
	uint64_t ls_bytes;
	uint64_t ls_appends;
	uint64_t ls_writes;	 /* log: writev ops; raw: write() calls */
	uint64_t ls_write_bytes; /* bytes those writes carried */
	uint64_t ls_fsyncs;	 /* fdatasync + fsync */
	int64_t ls_p50_ns;	 /* append-to-durable latency */
	int64_t ls_p99_ns;
	int64_t ls_tail_ns; /* in the final sync, after the last write ended */
	int64_t ls_cpu_ns;  /* user + system time of the process (io workers too) */
	int64_t ls_ivcsw;   /* involuntary context switches: CPU contention */
};

enum log_bench_kind { LOG_BENCH_RAW = 0, LOG_BENCH_LOG = 1 };

/* An io engine that counts the ops the log submits and forwards them to the
 * real engine. Completions go straight from the real engine to the op's
 * callback; only ie_inflight is mirrored so that io_run_until_zero() sees
 * the truth through the wrapper. */
struct log_bench_engine {
	struct io_engine le_base;   /* first: the log holds &le_base */
	struct io_engine *le_inner; /* borrowed: the real engine */
	struct io_ring *le_ring;    /* borrowed: le_inner's ring, NULL for sync */
	uint64_t le_writes;
	uint64_t le_write_bytes;
	uint64_t le_fsyncs;
};

struct log_bench;

/* One pool buffer and the append that borrows it. */
struct log_bench_slot {
	struct plog_append sl_pa;
	uint8_t *sl_buf;	    /* inside lb_pool */
	struct log_bench *sl_bench; /* borrowed: the owner */
	uint32_t sl_idx;
};

struct log_bench {
	struct log_bench_opts lb_opts;

	/* Allocated at start, freed at the end. */
	uint8_t *lb_pool; /* lb_slot_count x lb_batch_len */
	struct log_bench_slot *lb_slots;
	uint32_t *lb_free;    /* stack of free slot indices */
	uint32_t *lb_slot_of; /* --ack durable: slot of append i at
			       * [i % lb_slot_count] until it is durable */
	uint32_t lb_slot_count;
	uint32_t lb_free_count;
	int64_t *lb_start_ns;		     /* per append: start time, then latency */
	struct log_bench_sample *lb_samples; /* [policy][repeat][kind] */

	/* The batch appended, and the small one that primes each file. */
	size_t lb_batch_len;
	int32_t lb_records_per_batch;
	uint64_t lb_append_count; /* appends per run */
	uint8_t lb_prime[256];
	size_t lb_prime_len;

	/* Engines, created once. */
	struct io_ring *lb_ring;
	struct io_engine *lb_inner;
	struct log_bench_engine lb_engine;
	char lb_engine_note[128];

	/* Where the files go. */
	int lb_dir_fd;
	bool lb_dir_created;
	int lb_work_fd;
	char lb_work_name[64];
	char lb_work_path[PATH_MAX - 64]; /* room left for a run's name */

	/* State of the log run in progress. */
	uint64_t lb_issued;	/* appends submitted */
	uint64_t lb_durable;	/* appends known durable, a prefix */
	int64_t lb_base_offset; /* log end offset when the clock started */
	int lb_run_error;	/* first append failure of the run */

	char lb_err[512]; /* the cause of an error return */
};

/* One policy's figures over its repeats (log_bench_summarize). */
struct log_bench_summary {
	double su_mib_s[2]; /* median MiB/s, [kind] */
	double su_min[2];
	double su_max[2];
	double su_appends_s; /* log, median */
	double su_fsyncs[2]; /* medians */
	double su_writes[2];
	double su_p50_ns[2];
	double su_p99_ns[2];
	double su_ratio;    /* median log / median raw */
	double su_pair_min; /* per-pair ratios, min and max */
	double su_pair_max;
};

/* What the header line names about the machine. */
struct log_bench_facts {
	const char *lf_fs;
	long lf_cores;
	char lf_kernel[65];
};

/* The sample of run (pol, rep, kind) in lb_samples: [policy][repeat][kind]. */
static inline struct log_bench_sample *log_bench_sample_at(struct log_bench *b, uint32_t pol,
							   uint32_t rep, int kind)
{
	return &b->lb_samples[((size_t)pol * b->lb_opts.lo_repeat_count + rep) * 2 + (size_t)kind];
}

/* ---- log_bench.c ------------------------------------------------------- */

/* Set by SIGINT and SIGTERM; the runs check it between appends (log) and
 * writes (raw) and stop with -EINTR. */
extern volatile sig_atomic_t log_bench_interrupted;

/* Name an error for the report (lb_err); the first one set wins. */
__attribute__((format(printf, 2, 3))) void log_bench_fail(struct log_bench *b, const char *fmt,
							  ...);

/* ---- log_bench_run.c --------------------------------------------------- */

/* Create the real engine (io_uring unless --engine sync, falling back to
 * sync when io_uring is refused) and the counting wrapper around it.
 * Returns 0 or -ENOMEM (named with log_bench_fail). */
int log_bench_engine_init(struct log_bench *b);

/* Fill buf with one uncompressed batch of (nearly) cap bytes. Returns the
 * batch size or a negative RL_E* code; *records gets the record count. */
int64_t log_bench_build_batch(uint8_t *buf, size_t cap, int32_t *records);

/* Create --dir (if missing) and the work directory inside it, and check the
 * free space; *fs_name names the filesystem (in fs_buf when it has no
 * name). Returns 0 or -errno (named with log_bench_fail). */
int log_bench_dirs_init(struct log_bench *b, char *fs_buf, size_t fs_cap, const char **fs_name);

/* Remove the work directory (and --dir if we created it and it is empty),
 * unless --keep. Returns 0 or -errno. */
int log_bench_dirs_deinit(struct log_bench *b);

/* One measured run of policy p, repeat rep, into *out: the log (a fresh
 * partition log) or raw (plain write + fdatasync). Each removes its files
 * unless --keep. Both return 0, or a negative code named with
 * log_bench_fail (-EINTR when interrupted). */
int log_bench_run_log(struct log_bench *b, const struct log_bench_policy *p, uint32_t rep,
		      struct log_bench_sample *out);
int log_bench_run_raw(struct log_bench *b, const struct log_bench_policy *p, uint32_t rep,
		      struct log_bench_sample *out);

/* ---- log_bench_report.c ------------------------------------------------ */

/* "64KiB", "1MiB", "3GiB", or "65000B" when not a whole unit; returns buf. */
const char *log_bench_fmt_size(char *buf, size_t cap, uint64_t bytes);

/* Medians, min..max and ratios of policy pol over its repeats. */
void log_bench_summarize(struct log_bench *b, uint32_t pol, struct log_bench_summary *su);

/* The report on stdout (text, or one JSON object per line with --json),
 * flushed after each line: the header, one result per policy, the verdict
 * on the target. */
void log_bench_print_header(const struct log_bench *b, const struct log_bench_facts *f);
void log_bench_print_result(struct log_bench *b, uint32_t pol, const struct log_bench_summary *su);
void log_bench_print_target(struct log_bench *b, const struct log_bench_summary *sums);

/* -v: one run on stderr as it completes. */
void log_bench_print_run(const struct log_bench_policy *p, uint32_t rep, int kind,
			 const struct log_bench_sample *s);

#endif
