/*
 * log_bench_run — the measured runs of `replog-bench log` (the method is in
 * log_bench.c's header comment). What this file owns: the log run (a fresh
 * partition log per run, appends from the buffer pool, the clock from the
 * first append until plog_sync() reports everything durable) and the raw run
 * (write + fdatasync at the policy's cadence); what they run on: the
 * counting io engine between the log and the real one, the batch they
 * append, the work directory and its removal; and what each run measures:
 * append-to-durable latencies (p50/p99), CPU time and context switches.
 *
 * Memory: the runs use what log_bench_alloc() allocated at start (the pool,
 * the slots, one timestamp per append) and sort the latencies in place
 * (heapsort: glibc's qsort may allocate a copy). The storage engine
 * allocates what plog_open() allocates, once per log run; the engines are
 * created once, at set-up.
 */
#include "log_bench_impl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "batch_builder.h"
#include "io.h"
#include "io_ring.h"
#include "plog.h"
#include "rlassert.h"
#include "rlerr.h"

/* The log keeps one writev and one fdatasync round (one op per dirty
 * segment, plus the directory) in flight: 64 entries never fill. */
#define LOG_BENCH_RING_ENTRIES 64u
#define LOG_BENCH_VALUE_BYTES  1024u
/* Bounded recursion when removing what we wrote (work/run/discarded/). */
#define LOG_BENCH_RMTREE_DEPTH 4
#define LOG_BENCH_LEADER_EPOCH 0

/* ---- clocks ------------------------------------------------------------ */

static int64_t log_bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* CPU time and involuntary context switches of the whole process so far
 * (io_uring's workers are threads of the process and count too). */
static void log_bench_rusage(int64_t *cpu_ns, int64_t *ivcsw)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) < 0) {
		*cpu_ns = *ivcsw = 0;
		return;
	}
	*cpu_ns = ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
		  ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
	*ivcsw = ru.ru_nivcsw;
}

/* ---- the counting engine ----------------------------------------------- */

static void log_bench_engine_sync_inflight(struct log_bench_engine *w)
{
	w->le_base.ie_inflight = w->le_inner->ie_inflight;
}

static int log_bench_engine_submit(struct io_engine *e, struct io_op *op)
{
	struct log_bench_engine *w = (struct log_bench_engine *)e;
	/* Count before forwarding: the sync engine runs the op inside submit
	 * and advances op_iov past what it wrote. */
	uint64_t bytes = 0;
	if (op->op_code == IO_OP_WRITEV)
		for (int i = 0; i < op->op_iovcnt; i++)
			bytes += op->op_iov[i].iov_len;
	int code = op->op_code;
	int rc = io_submit(w->le_inner, op);
	log_bench_engine_sync_inflight(w);
	if (rc < 0)
		return rc;
	if (code == IO_OP_WRITEV) {
		w->le_writes++;
		w->le_write_bytes += bytes;
	} else if (code == IO_OP_FDATASYNC || code == IO_OP_FSYNC) {
		w->le_fsyncs++;
	}
	return 0;
}

static int log_bench_engine_run(struct io_engine *e, unsigned min_complete)
{
	struct log_bench_engine *w = (struct log_bench_engine *)e;
	int rc = io_run(w->le_inner, min_complete);
	log_bench_engine_sync_inflight(w);
	return rc;
}

/* Wait for at least one completion, or timeout_ms (< 0: none; only the
 * io_uring engine blocks, the sync engine never does). */
static int log_bench_engine_wait(struct log_bench_engine *w, int timeout_ms)
{
	int rc = w->le_ring && timeout_ms >= 0 ? io_ring_run_timeout(w->le_ring, 1, timeout_ms)
					       : io_run(w->le_inner, 1);
	log_bench_engine_sync_inflight(w);
	return rc;
}

static void log_bench_engine_destroy(struct io_engine *e)
{
	(void)e; /* embedded in struct log_bench; the real engine is freed there */
}

static const struct io_engine_ops log_bench_engine_ops = {
	.submit = log_bench_engine_submit,
	.run = log_bench_engine_run,
	.destroy = log_bench_engine_destroy,
};

static void log_bench_engine_reset(struct log_bench_engine *w)
{
	w->le_writes = 0;
	w->le_write_bytes = 0;
	w->le_fsyncs = 0;
}

/* Create the real engine (io_uring unless --engine sync, falling back to
 * sync when io_uring is refused) and the counting wrapper around it. */
int log_bench_engine_init(struct log_bench *b)
{
	if (!b->lb_opts.lo_engine_sync) {
		int err = 0;
		b->lb_ring = io_ring_create(LOG_BENCH_RING_ENTRIES, &err);
		if (b->lb_ring) {
			b->lb_inner = io_ring_engine(b->lb_ring);
			snprintf(b->lb_engine_note, sizeof(b->lb_engine_note), "io_uring");
		} else {
			fprintf(stderr,
				"replog-bench log: io_uring unavailable (%s); using the sync "
				"engine\n",
				rl_strerror(err));
			snprintf(b->lb_engine_note, sizeof(b->lb_engine_note),
				 "sync(io_uring unavailable: %s)", rl_strerror(err));
		}
	} else {
		snprintf(b->lb_engine_note, sizeof(b->lb_engine_note), "sync");
	}
	if (!b->lb_inner) {
		b->lb_inner = io_sync_engine_create();
		if (!b->lb_inner) {
			log_bench_fail(b, "creating the sync io engine: %s", rl_strerror(-ENOMEM));
			return -ENOMEM;
		}
	}
	b->lb_engine = (struct log_bench_engine){
		.le_base = {.ie_ops = &log_bench_engine_ops, .ie_name = b->lb_inner->ie_name},
		.le_inner = b->lb_inner,
		.le_ring = b->lb_ring,
	};
	return 0;
}

/* ---- the batch --------------------------------------------------------- */

/* Fill buf with one uncompressed batch of exactly cap bytes where the
 * record encoding allows (a varint length can make the last byte
 * unfillable): records with LOG_BENCH_VALUE_BYTES values, then one last
 * record whose value takes what is left. Returns the batch size or a
 * negative RL_E* code; *records gets the record count. */
int64_t log_bench_build_batch(uint8_t *buf, size_t cap, int32_t *records)
{
	static uint8_t value[LOG_BENCH_VALUE_BYTES];
	uint64_t x = 0x9e3779b97f4a7c15ull; /* xorshift: incompressible, reproducible */
	for (size_t i = 0; i < sizeof(value); i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		value[i] = (uint8_t)x;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	struct batch_builder bb;
	int rc = batch_builder_init(&bb, buf, cap, BATCH_CODEC_NONE, now_ms, -1, -1, -1);
	if (rc < 0)
		return rc;
	while ((rc = batch_builder_add(&bb, now_ms, NULL, -1, value, (int32_t)sizeof(value), NULL,
				       0)) == 0)
		;
	if (rc != RL_ETOO_LARGE)
		return rc;
	/* The largest value that still fits: fits(v) is monotonic in v. */
	int32_t lo = -1, hi = (int32_t)sizeof(value) - 1;
	while (lo < hi) {
		int32_t mid = lo + (hi - lo + 1) / 2;
		struct batch_builder probe = bb;
		if (batch_builder_add(&probe, now_ms, NULL, -1, value, mid, NULL, 0) == 0)
			lo = mid;
		else
			hi = mid - 1;
	}
	if (lo >= 0) {
		rc = batch_builder_add(&bb, now_ms, NULL, -1, value, lo, NULL, 0);
		RL_ASSERT(rc == 0);
	}
	*records = bb.bb_count;
	return batch_builder_finish(&bb);
}

/* ---- files ------------------------------------------------------------- */

/* Remove name (a file, or a directory and what is in it, at most depth
 * levels) under parent_fd. Returns 0 or -errno. */
static int log_bench_rmtree_at(int parent_fd, const char *name, int depth)
{
	if (unlinkat(parent_fd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -errno;
	if (depth == 0)
		return -ELOOP;
	int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		int err = -errno;
		close(fd);
		return err;
	}
	int rc = 0;
	struct dirent *de;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		rc = log_bench_rmtree_at(fd, de->d_name, depth - 1);
	}
	closedir(d);
	if (rc == 0 && unlinkat(parent_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		rc = -errno;
	return rc;
}

static const char *log_bench_fs_name(long type, char *buf, size_t cap)
{
	switch ((unsigned long)type) {
	case EXT4_SUPER_MAGIC:
		return "ext4"; /* also ext2/ext3: same magic */
	case XFS_SUPER_MAGIC:
		return "xfs";
	case BTRFS_SUPER_MAGIC:
		return "btrfs";
	case F2FS_SUPER_MAGIC:
		return "f2fs";
	case TMPFS_MAGIC:
		return "tmpfs";
	case RAMFS_MAGIC:
		return "ramfs";
	case OVERLAYFS_SUPER_MAGIC:
		return "overlayfs";
	case FUSE_SUPER_MAGIC:
		return "fuse";
	case NFS_SUPER_MAGIC:
		return "nfs";
	case V9FS_MAGIC:
		return "9p";
	case 0x2fc12fc1:
		return "zfs";
	case 0xca451a4e:
		return "bcachefs";
	default:
		snprintf(buf, cap, "0x%lx", (unsigned long)type);
		return buf;
	}
}

/* Create --dir (if missing) and the work directory inside it; check the
 * free space. */
int log_bench_dirs_init(struct log_bench *b, char *fs_buf, size_t fs_cap, const char **fs_name)
{
	const struct log_bench_opts *o = &b->lb_opts;
	if (mkdir(o->lo_dir, 0755) == 0)
		b->lb_dir_created = true;
	else if (errno != EEXIST) {
		int err = -errno;
		log_bench_fail(b, "creating --dir %s: %s", o->lo_dir, rl_strerror(err));
		return err;
	}
	b->lb_dir_fd = open(o->lo_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (b->lb_dir_fd < 0) {
		int err = -errno;
		log_bench_fail(b, "opening --dir %s: %s", o->lo_dir, rl_strerror(err));
		return err;
	}
	struct statfs sfs;
	*fs_name = fstatfs(b->lb_dir_fd, &sfs) == 0 ? log_bench_fs_name(sfs.f_type, fs_buf, fs_cap)
						    : "unknown";
	struct statvfs svfs;
	if (fstatvfs(b->lb_dir_fd, &svfs) == 0) {
		uint64_t runs = o->lo_keep ? 2ull * o->lo_repeat_count * o->lo_policy_count : 1;
		uint64_t need = runs * (o->lo_total_bytes + o->lo_batch_bytes) + 64 * LOG_BENCH_MIB;
		uint64_t avail = (uint64_t)svfs.f_bavail * svfs.f_frsize;
		if (avail < need) {
			char a[32], n[32];
			log_bench_fail(b, "not enough free space in %s: %s available, %s needed",
				       o->lo_dir, log_bench_fmt_size(a, sizeof(a), avail),
				       log_bench_fmt_size(n, sizeof(n), need));
			return -ENOSPC;
		}
	}
	snprintf(b->lb_work_name, sizeof(b->lb_work_name), "replog-bench.%ld", (long)getpid());
	if (mkdirat(b->lb_dir_fd, b->lb_work_name, 0755) < 0) {
		int err = -errno;
		log_bench_fail(b, "creating %s/%s: %s", o->lo_dir, b->lb_work_name,
			       rl_strerror(err));
		return err;
	}
	b->lb_work_fd = openat(b->lb_dir_fd, b->lb_work_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (b->lb_work_fd < 0) {
		int err = -errno;
		log_bench_fail(b, "opening %s/%s: %s", o->lo_dir, b->lb_work_name,
			       rl_strerror(err));
		return err;
	}
	int n = snprintf(b->lb_work_path, sizeof(b->lb_work_path), "%s/%s", o->lo_dir,
			 b->lb_work_name);
	if (n < 0 || (size_t)n >= sizeof(b->lb_work_path)) {
		log_bench_fail(b, "--dir %s: path too long", o->lo_dir);
		return -ENAMETOOLONG;
	}
	return 0;
}

/* Remove the work directory (and --dir if we created it and it is empty),
 * unless --keep. Returns 0 or -errno. */
int log_bench_dirs_deinit(struct log_bench *b)
{
	int rc = 0;
	if (b->lb_work_fd >= 0)
		close(b->lb_work_fd);
	b->lb_work_fd = -1;
	if (b->lb_dir_fd >= 0 && b->lb_work_name[0] && !b->lb_opts.lo_keep) {
		rc = log_bench_rmtree_at(b->lb_dir_fd, b->lb_work_name, LOG_BENCH_RMTREE_DEPTH);
		if (rc == 0 && b->lb_dir_created && rmdir(b->lb_opts.lo_dir) < 0 &&
		    errno != ENOTEMPTY && errno != EEXIST)
			rc = -errno;
	}
	if (b->lb_dir_fd >= 0)
		close(b->lb_dir_fd);
	b->lb_dir_fd = -1;
	return rc;
}

/* ---- measuring --------------------------------------------------------- */

static void log_bench_sift_down(int64_t *v, uint64_t root, uint64_t n)
{
	for (uint64_t child; (child = 2 * root + 1) < n; root = child) {
		if (child + 1 < n && v[child + 1] > v[child])
			child++;
		if (v[root] >= v[child])
			return;
		int64_t t = v[root];
		v[root] = v[child];
		v[child] = t;
	}
}

/* Heapsort in place: glibc's qsort may malloc a copy of the array (up to
 * 32 MiB here), and nothing after start-up allocates. */
static void log_bench_sort_i64(int64_t *v, uint64_t n)
{
	for (uint64_t i = n / 2; i-- > 0;)
		log_bench_sift_down(v, i, n);
	for (uint64_t end = n; end-- > 1;) {
		int64_t t = v[0];
		v[0] = v[end];
		v[end] = t;
		log_bench_sift_down(v, 0, end);
	}
}

/* Latencies of the run's appends are in lb_start_ns[0, n): sort them and
 * take the nearest-rank percentiles. */
static void log_bench_latency(struct log_bench *b, uint64_t n, struct log_bench_sample *s)
{
	log_bench_sort_i64(b->lb_start_ns, n);
	for (uint64_t i = 1; i < n; i++)
		RL_DEBUG_ASSERT(b->lb_start_ns[i - 1] <= b->lb_start_ns[i]);
	s->ls_p50_ns = b->lb_start_ns[(n * 50 + 99) / 100 - 1];
	s->ls_p99_ns = b->lb_start_ns[(n * 99 + 99) / 100 - 1];
}

/* Appends [lb_durable, upto) became durable now: turn their start times
 * into latencies. */
static void log_bench_mark_durable(struct log_bench *b, uint64_t upto, int64_t now_ns)
{
	for (; b->lb_durable < upto; b->lb_durable++)
		b->lb_start_ns[b->lb_durable] = now_ns - b->lb_start_ns[b->lb_durable];
}

static void log_bench_append_done(struct plog_append *pa, int res)
{
	struct log_bench_slot *sl = pa->pa_ctx;
	struct log_bench *b = sl->sl_bench;
	if (res < 0 && b->lb_run_error == 0)
		b->lb_run_error = res;
	if (b->lb_opts.lo_ack_durable && res == 0)
		return; /* back to the pool when durable: log_bench_on_progress */
	RL_ASSERT(b->lb_free_count < b->lb_slot_count);
	b->lb_free[b->lb_free_count++] = sl->sl_idx;
}

static void log_bench_on_progress(void *ctx, struct plog *log)
{
	struct log_bench *b = ctx;
	int64_t flushed = plog_flushed_offset(log);
	int64_t per = b->lb_records_per_batch;
	if (b->lb_issued == 0 || flushed <= b->lb_base_offset)
		return;
	uint64_t upto = (uint64_t)((flushed - b->lb_base_offset) / per);
	if (upto > b->lb_issued)
		upto = b->lb_issued;
	if (upto <= b->lb_durable)
		return;
	if (b->lb_opts.lo_ack_durable) {
		for (uint64_t i = b->lb_durable; i < upto; i++) {
			RL_ASSERT(b->lb_free_count < b->lb_slot_count);
			b->lb_free[b->lb_free_count++] = b->lb_slot_of[i % b->lb_slot_count];
		}
	}
	log_bench_mark_durable(b, upto, log_bench_now_ns());
}

static void log_bench_policy_config(const struct log_bench_policy *p, struct plog_config *cfg)
{
	switch (p->lp_kind) {
	case LOG_BENCH_EVERY:
		break; /* both triggers 0: every append */
	case LOG_BENCH_BYTES:
		cfg->flush_bytes = p->lp_flush_bytes;
		break;
	case LOG_BENCH_INTERVAL:
		cfg->flush_interval_ms = p->lp_interval_ms;
		break;
	case LOG_BENCH_NONE:
		cfg->flush_never = true;
		break;
	default:
		RL_ASSERT(!"unknown policy kind");
	}
}

/* How long the loop may block before plog_tick() has work: the time to the
 * log's next time-based flush, or -1 (block until a completion) when there
 * is none or it is already past. Past means a flush round is running (the
 * last tick would have started one otherwise), and its completion wakes us;
 * waking early for it would only spin and take the CPU from the kernel's
 * I/O workers. The loop waits only while appends are in flight, so a
 * completion always comes. */
static int log_bench_tick_timeout_ms(struct plog *log)
{
	int64_t deadline = plog_next_deadline(log);
	if (deadline < 0)
		return -1;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts); /* the log's clock (cfg.clock_ms NULL) */
	int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	return deadline <= now ? -1 : (int)(deadline - now);
}

/* Append the priming batch and make it durable; the epoch checkpoint and
 * the directory fsync happen here, before the clock starts. */
static int log_bench_prime_log(struct log_bench *b, struct plog *log)
{
	struct plog_append pa = {0};
	int rc = plog_append_leader(log, &pa, b->lb_prime, b->lb_prime_len, LOG_BENCH_LEADER_EPOCH);
	if (rc == 0)
		rc = plog_sync(log);
	return rc;
}

int log_bench_run_log(struct log_bench *b, const struct log_bench_policy *p, uint32_t rep,
		      struct log_bench_sample *out)
{
	const struct log_bench_opts *o = &b->lb_opts;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/log-%s-%u", b->lb_work_path, p->lp_name, rep);
	struct plog_config cfg;
	plog_config_default(&cfg);
	cfg.segment_bytes = o->lo_segment_bytes;
	cfg.max_append_bytes = (uint32_t)b->lb_batch_len;
	cfg.max_write_iov = o->lo_max_write_iov;
	cfg.on_progress = log_bench_on_progress;
	cfg.progress_ctx = b;
	log_bench_policy_config(p, &cfg);

	struct plog *log;
	int rc = plog_open(path, &b->lb_engine.le_base, &cfg, &log, NULL);
	if (rc < 0) {
		log_bench_fail(b, "plog_open(%s): %s", path, rl_strerror(rc));
		return rc;
	}
	b->lb_issued = b->lb_durable = 0;
	b->lb_run_error = 0;
	rc = log_bench_prime_log(b, log);
	if (rc < 0) {
		log_bench_fail(b, "priming the log in %s: %s", path, rl_strerror(rc));
		plog_close_unclean(log);
		return rc;
	}
	b->lb_base_offset = plog_end_offset(log);
	log_bench_engine_reset(&b->lb_engine);
	b->lb_free_count = b->lb_slot_count;
	for (uint32_t i = 0; i < b->lb_slot_count; i++)
		b->lb_free[i] = b->lb_slot_count - 1 - i;

	const uint64_t n = b->lb_append_count;
	const bool timed = p->lp_kind == LOG_BENCH_INTERVAL;
	int64_t cpu0, ivcsw0, cpu1, ivcsw1;
	log_bench_rusage(&cpu0, &ivcsw0);
	int64_t t0 = log_bench_now_ns();
	while (b->lb_issued < n && b->lb_run_error == 0 && !log_bench_interrupted) {
		while (b->lb_free_count > 0 && b->lb_issued < n) {
			struct log_bench_slot *sl = &b->lb_slots[b->lb_free[--b->lb_free_count]];
			sl->sl_pa = (struct plog_append){
				.pa_done = log_bench_append_done,
				.pa_ctx = sl,
			};
			b->lb_slot_of[b->lb_issued % b->lb_slot_count] = sl->sl_idx;
			b->lb_start_ns[b->lb_issued] = log_bench_now_ns();
			rc = plog_append_leader(log, &sl->sl_pa, sl->sl_buf, b->lb_batch_len,
						LOG_BENCH_LEADER_EPOCH);
			if (rc < 0) {
				b->lb_free_count++;
				b->lb_run_error = rc;
				break;
			}
			b->lb_issued++;
		}
		if (b->lb_run_error)
			break;
		rc = log_bench_engine_wait(&b->lb_engine,
					   timed ? log_bench_tick_timeout_ms(log) : -1);
		if (rc < 0) {
			b->lb_run_error = rc;
			break;
		}
		if (timed)
			plog_tick(log);
	}
	if (b->lb_run_error || log_bench_interrupted) {
		rc = b->lb_run_error ? b->lb_run_error : -EINTR;
		log_bench_fail(b, "appending to %s (policy %s): %s", path, p->lp_name,
			       rl_strerror(rc));
		plog_close_unclean(log);
		return rc;
	}
	rc = plog_wait_idle(log);
	while (rc == 0 && plog_written_offset(log) < plog_end_offset(log))
		rc = log_bench_engine_wait(&b->lb_engine, -1);
	int64_t t_written = log_bench_now_ns();
	if (rc == 0)
		rc = plog_sync(log);
	int64_t t1 = log_bench_now_ns();
	log_bench_rusage(&cpu1, &ivcsw1);
	if (rc < 0) {
		log_bench_fail(b, "plog_sync(%s): %s", path, rl_strerror(rc));
		plog_close_unclean(log);
		return rc;
	}
	RL_ASSERT(b->lb_durable == n);
	RL_ASSERT(plog_flushed_offset(log) ==
		  b->lb_base_offset + (int64_t)n * b->lb_records_per_batch);
	*out = (struct log_bench_sample){
		.ls_seconds = (double)(t1 - t0) / 1e9,
		.ls_bytes = n * b->lb_batch_len,
		.ls_appends = n,
		.ls_writes = b->lb_engine.le_writes,
		.ls_write_bytes = b->lb_engine.le_write_bytes,
		.ls_fsyncs = b->lb_engine.le_fsyncs,
		.ls_tail_ns = t1 - t_written,
		.ls_cpu_ns = cpu1 - cpu0,
		.ls_ivcsw = ivcsw1 - ivcsw0,
	};
	log_bench_latency(b, n, out);
	rc = plog_close(log);
	if (rc < 0) {
		log_bench_fail(b, "plog_close(%s): %s", path, rl_strerror(rc));
		return rc;
	}
	if (!o->lo_keep) {
		rc = log_bench_rmtree_at(b->lb_work_fd, path + strlen(b->lb_work_path) + 1,
					 LOG_BENCH_RMTREE_DEPTH);
		if (rc < 0) {
			log_bench_fail(b, "removing %s: %s", path, rl_strerror(rc));
			return rc;
		}
	}
	return 0;
}

/* write() all of buf, retrying short writes and EINTR. Returns 0 or -errno. */
static int log_bench_write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (w == 0)
			return -ENOSPC;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

int log_bench_run_raw(struct log_bench *b, const struct log_bench_policy *p, uint32_t rep,
		      struct log_bench_sample *out)
{
	char name[64];
	snprintf(name, sizeof(name), "raw-%s-%u.dat", p->lp_name, rep);
	int fd = openat(b->lb_work_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		int err = -errno;
		log_bench_fail(b, "creating %s/%s: %s", b->lb_work_path, name, rl_strerror(err));
		return err;
	}
	/* Priming, as the log run does: the file exists on disk before the
	 * clock starts. */
	int rc = log_bench_write_all(fd, b->lb_prime, b->lb_prime_len);
	if (rc == 0 && fdatasync(fd) < 0)
		rc = -errno;
	if (rc == 0 && fsync(b->lb_work_fd) < 0)
		rc = -errno;
	if (rc < 0) {
		log_bench_fail(b, "priming %s/%s: %s", b->lb_work_path, name, rl_strerror(rc));
		close(fd);
		return rc;
	}
	const uint8_t *buf = b->lb_slots[0].sl_buf;
	const size_t len = b->lb_batch_len;
	const uint64_t n = b->lb_append_count;
	const int64_t interval_ns = p->lp_interval_ms * 1000000;
	uint64_t fsyncs = 0, unsynced_bytes = 0;
	int64_t unsynced_since_ns = -1;
	b->lb_durable = 0;

	int64_t cpu0, ivcsw0, cpu1, ivcsw1;
	log_bench_rusage(&cpu0, &ivcsw0);
	int64_t t0 = log_bench_now_ns();
	for (uint64_t i = 0; i < n && rc == 0; i++) {
		if (log_bench_interrupted) {
			rc = -EINTR;
			break;
		}
		int64_t now = log_bench_now_ns();
		b->lb_start_ns[i] = now;
		rc = log_bench_write_all(fd, buf, len);
		if (rc < 0)
			break;
		unsynced_bytes += len;
		if (unsynced_since_ns < 0)
			unsynced_since_ns = log_bench_now_ns();
		bool due;
		switch (p->lp_kind) {
		case LOG_BENCH_EVERY:
			due = true;
			break;
		case LOG_BENCH_BYTES:
			due = unsynced_bytes >= (uint64_t)p->lp_flush_bytes;
			break;
		case LOG_BENCH_INTERVAL:
			due = log_bench_now_ns() - unsynced_since_ns >= interval_ns;
			break;
		default:
			due = false;
			break;
		}
		if (due) {
			if (fdatasync(fd) < 0) {
				rc = -errno;
				break;
			}
			fsyncs++;
			unsynced_bytes = 0;
			unsynced_since_ns = -1;
			log_bench_mark_durable(b, i + 1, log_bench_now_ns());
		}
	}
	int64_t t_written = log_bench_now_ns();
	if (rc == 0 && unsynced_bytes > 0) {
		if (fdatasync(fd) < 0)
			rc = -errno;
		else
			fsyncs++;
	}
	int64_t t1 = log_bench_now_ns();
	log_bench_rusage(&cpu1, &ivcsw1);
	close(fd);
	if (rc < 0) {
		log_bench_fail(b, "writing %s/%s (policy %s): %s", b->lb_work_path, name,
			       p->lp_name, rl_strerror(rc));
		return rc;
	}
	log_bench_mark_durable(b, n, t1);
	*out = (struct log_bench_sample){
		.ls_seconds = (double)(t1 - t0) / 1e9,
		.ls_bytes = n * len,
		.ls_appends = n,
		.ls_writes = n,
		.ls_write_bytes = n * len,
		.ls_fsyncs = fsyncs,
		.ls_tail_ns = t1 - t_written,
		.ls_cpu_ns = cpu1 - cpu0,
		.ls_ivcsw = ivcsw1 - ivcsw0,
	};
	log_bench_latency(b, n, out);
	if (!b->lb_opts.lo_keep && unlinkat(b->lb_work_fd, name, 0) < 0) {
		rc = -errno;
		log_bench_fail(b, "removing %s/%s: %s", b->lb_work_path, name, rl_strerror(rc));
		return rc;
	}
	return 0;
}
