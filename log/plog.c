/*
 * plog — the running partition log: append, group-committed flush, read,
 * truncate, retention, timestamp lookup. Open and recovery live in
 * plog_recover.c. The contract and the offset invariants are in plog.h.
 *
 * The write path, step by step:
 *   1. plog_append_*: validate every batch (batch_validate: length, magic,
 *      CRC-32C), check or assign offsets, record a new leader epoch (fsynced)
 *      if there is one, roll the segment if needed, stamp offsets/epoch in
 *      place, note the batches in the segment index, advance `end`, queue.
 *   2. plog_kick_writer: if no writev is in flight, submit one covering as
 *      many queued appends as are contiguous in the same segment.
 *   3. write completes: advance `written`, complete those appends in order,
 *      maybe start a flush round, submit the next writev.
 *   4. flush round: fdatasync every segment file with written > synced (and
 *      the directory after a roll); when all complete, `flushed` becomes the
 *      `written` of the round's start.
 */
#include "plog_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "checkpoint.h"
#include "compact.h"
#include "record.h"
#include "rlassert.h"
#include "rlerr.h"

void plog_config_default(struct plog_config *cfg)
{
	*cfg = (struct plog_config){
		.segment_bytes = 1ull << 30,
		.segment_ms = 7ll * 24 * 3600 * 1000,
		.index_interval_bytes = 4096,
		.max_append_bytes = 16u << 20,
		.flush_interval_ms = 0,
		.flush_bytes = 0,
		.max_write_iov = 64,
	};
}

int64_t plog_now_ms(const struct plog *log)
{
	if (log->lg_cfg.clock_ms)
		return log->lg_cfg.clock_ms(log->lg_cfg.clock_ctx);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct segment *plog_active(const struct plog *log)
{
	RL_ASSERT(log->lg_nsegs > 0);
	return log->lg_segs[log->lg_nsegs - 1];
}

int plog_segs_push(struct plog *log, struct segment *s)
{
	if (log->lg_nsegs == log->lg_segs_cap) {
		uint32_t ncap = log->lg_segs_cap ? log->lg_segs_cap * 2 : 8;
		struct segment **n = realloc(log->lg_segs, ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		log->lg_segs = n;
		log->lg_segs_cap = ncap;
	}
	log->lg_segs[log->lg_nsegs++] = s;
	return 0;
}

static void plog_progress(struct plog *log)
{
	if (log->lg_cfg.on_progress)
		log->lg_cfg.on_progress(log->lg_cfg.progress_ctx, log);
}

/* ---- fencing ---------------------------------------------------------- */

/* Complete every queued append that is not in the writev in flight. */
static void plog_fail_queued(struct plog *log, int err)
{
	struct plog_append *keep = NULL, **tailp = &keep, *pa = log->lg_q_head;
	uint32_t kept = 0;
	while (pa && kept < (log->lg_wr_inflight ? log->lg_wr_count : 0)) {
		*tailp = pa;
		tailp = &pa->pa_next;
		pa = pa->pa_next;
		kept++;
	}
	*tailp = NULL;
	log->lg_q_head = keep;
	log->lg_q_tail = NULL;
	for (struct plog_append *k = keep; k; k = k->pa_next)
		log->lg_q_tail = k;
	while (pa) {
		struct plog_append *next = pa->pa_next;
		pa->pa_next = NULL;
		if (pa->pa_done)
			pa->pa_done(pa, err);
		pa = next;
	}
}

static void plog_fence(struct plog *log, int err)
{
	if (log->lg_error == 0)
		log->lg_error = err;
	plog_fail_queued(log, RL_EFENCED);
}

/* ---- flushing --------------------------------------------------------- */

static bool plog_rolled_dirty(const struct plog *log)
{
	for (uint32_t i = log->lg_nsegs - 1; i-- > 0;) {
		const struct segment *s = log->lg_segs[i];
		if (s->sg_synced < s->sg_written)
			return true;
		if (!s->sg_sync_inflight)
			break;
	}
	return false;
}

static bool plog_flush_due(const struct plog *log, int64_t now)
{
	if (log->lg_written == log->lg_flushed && !log->lg_dir_dirty)
		return false;
	const struct plog_config *c = &log->lg_cfg;
	if (c->flush_never)
		return false;
	if (c->flush_interval_ms <= 0 && c->flush_bytes <= 0)
		return true;
	if (c->flush_bytes > 0 &&
	    log->lg_bytes_written - log->lg_bytes_flushed >= (uint64_t)c->flush_bytes)
		return true;
	if (c->flush_interval_ms > 0 && log->lg_unflushed_since_ms >= 0 &&
	    now - log->lg_unflushed_since_ms >= c->flush_interval_ms)
		return true;
	return plog_rolled_dirty(log); /* flush on roll, as Kafka does */
}

static void plog_start_flush(struct plog *log);

static void plog_flush_round_done(struct plog *log)
{
	log->lg_flush_inflight = false;
	if (log->lg_flush_error) {
		plog_fence(log, log->lg_flush_error);
		plog_progress(log);
		return;
	}
	if (log->lg_flush_target > log->lg_flushed)
		log->lg_flushed = log->lg_flush_target;
	log->lg_bytes_flushed = log->lg_flush_target_bytes;
	log->lg_unflushed_since_ms = log->lg_written > log->lg_flushed ? plog_now_ms(log) : -1;
	plog_progress(log);
	if (log->lg_error == 0 && (log->lg_flush_again || plog_flush_due(log, plog_now_ms(log)))) {
		log->lg_flush_again = false;
		plog_start_flush(log);
	}
}

static int64_t plog_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void plog_sync_done(struct io_op *op, int res)
{
	struct segment *s = op->op_ctx;
	struct plog *log = s->sg_owner;
	s->sg_sync_inflight = false;
	if (res < 0 && log->lg_flush_error == 0)
		log->lg_flush_error = res;
	else if (res >= 0 && s->sg_sync_target > s->sg_synced)
		s->sg_synced = s->sg_sync_target;
	segment_unref(s);
	log->lg_io_pending--;
	if (log->lg_cfg.on_fsync && res >= 0)
		log->lg_cfg.on_fsync(log->lg_cfg.fsync_ctx,
				     plog_now_us() - log->lg_flush_started_us);
	if (--log->lg_flush_pending == 0)
		plog_flush_round_done(log);
}

static void plog_dir_sync_done(struct io_op *op, int res)
{
	struct plog *log = op->op_ctx;
	if (res < 0 && log->lg_flush_error == 0)
		log->lg_flush_error = res;
	log->lg_io_pending--;
	if (--log->lg_flush_pending == 0)
		plog_flush_round_done(log);
}

static int plog_submit(struct plog *log, struct io_op *op)
{
	int rc = io_submit(log->lg_io, op);
	if (rc == 0)
		log->lg_io_pending++;
	return rc;
}

static void plog_sync_segment(struct plog *log, struct segment *s)
{
	io_op_prep(&s->sg_sync_op, IO_OP_FDATASYNC, s->sg_fd, 0, plog_sync_done, s);
	s->sg_owner = log;
	s->sg_sync_target = s->sg_written;
	s->sg_sync_inflight = true;
	segment_ref(s);
	log->lg_flush_pending++;
	int rc = plog_submit(log, &s->sg_sync_op);
	RL_ASSERT(rc == 0);
}

static void plog_start_flush(struct plog *log)
{
	if (log->lg_error)
		return;
	if (log->lg_flush_inflight) {
		log->lg_flush_again = true;
		return;
	}
	if (log->lg_written == log->lg_flushed && !log->lg_dir_dirty && !plog_rolled_dirty(log))
		return;
	log->lg_flush_inflight = true;
	log->lg_flush_started_us = plog_now_us();
	log->lg_flush_error = 0;
	log->lg_flush_target = log->lg_written;
	log->lg_flush_target_bytes = log->lg_bytes_written;
	log->lg_flush_pending = 1; /* held until every op is submitted */
	for (uint32_t i = log->lg_nsegs; i-- > 0;) {
		struct segment *s = log->lg_segs[i];
		bool active = i == log->lg_nsegs - 1;
		if (s->sg_synced < s->sg_written && !s->sg_sync_inflight)
			plog_sync_segment(log, s);
		else if (!active && s->sg_synced >= s->sg_written)
			break;
	}
	if (log->lg_dir_dirty) {
		log->lg_dir_dirty = false;
		io_op_prep(&log->lg_dir_op, IO_OP_FSYNC, log->lg_dir_fd, 0, plog_dir_sync_done,
			   log);
		log->lg_flush_pending++;
		int rc = plog_submit(log, &log->lg_dir_op);
		RL_ASSERT(rc == 0);
	}
	if (--log->lg_flush_pending == 0)
		plog_flush_round_done(log);
}

int plog_flush(struct plog *log)
{
	if (log->lg_error)
		return RL_EFENCED;
	if (log->lg_flush_inflight && log->lg_written > log->lg_flush_target)
		log->lg_flush_again = true;
	else
		plog_start_flush(log);
	return 0;
}

void plog_tick(struct plog *log)
{
	if (log->lg_error == 0 && !log->lg_flush_inflight && plog_flush_due(log, plog_now_ms(log)))
		plog_start_flush(log);
}

int64_t plog_next_deadline(const struct plog *log)
{
	if (log->lg_cfg.flush_interval_ms <= 0 || log->lg_unflushed_since_ms < 0)
		return -1;
	return log->lg_unflushed_since_ms + log->lg_cfg.flush_interval_ms;
}

/* ---- writing ---------------------------------------------------------- */

static void plog_kick_writer(struct plog *log);

static void plog_write_done(struct io_op *op, int res)
{
	struct plog *log = op->op_ctx;
	uint32_t n = log->lg_wr_count;
	log->lg_io_pending--;
	log->lg_wr_inflight = false;
	log->lg_wr_count = 0;
	if (res < 0) {
		/* The bytes of these appends may or may not be on disk; none of
		 * them will ever be reported durable. */
		for (uint32_t i = 0; i < n; i++) {
			struct plog_append *pa = log->lg_q_head;
			log->lg_q_head = pa->pa_next;
			if (!log->lg_q_head)
				log->lg_q_tail = NULL;
			pa->pa_next = NULL;
			if (log->lg_error == 0)
				log->lg_error = res;
			if (pa->pa_done)
				pa->pa_done(pa, res);
		}
		plog_fence(log, res);
		plog_progress(log);
		return;
	}
	bool was_clean = log->lg_written == log->lg_flushed;
	for (uint32_t i = 0; i < n; i++) {
		struct plog_append *pa = log->lg_q_head;
		log->lg_q_head = pa->pa_next;
		if (!log->lg_q_head)
			log->lg_q_tail = NULL;
		pa->pa_next = NULL;
		pa->pa_seg->sg_written = pa->pa_pos + pa->pa_len;
		log->lg_written = pa->pa_last_offset + 1;
		log->lg_bytes_written += pa->pa_len;
		if (pa->pa_done)
			pa->pa_done(pa, 0);
	}
	if (was_clean && log->lg_written > log->lg_flushed)
		log->lg_unflushed_since_ms = plog_now_ms(log);
	plog_progress(log);
	if (log->lg_error)
		return;
	if (plog_flush_due(log, plog_now_ms(log)))
		plog_start_flush(log);
	plog_kick_writer(log);
}

static void plog_kick_writer(struct plog *log)
{
	if (log->lg_wr_inflight || log->lg_error || !log->lg_q_head)
		return;
	struct plog_append *pa = log->lg_q_head;
	struct segment *seg = pa->pa_seg;
	uint64_t pos = pa->pa_pos;
	uint32_t n = 0;
	while (pa && n < log->lg_cfg.max_write_iov && pa->pa_seg == seg && pa->pa_pos == pos) {
		log->lg_iov[n].iov_base = pa->pa_bytes;
		log->lg_iov[n].iov_len = pa->pa_len;
		pos += pa->pa_len;
		n++;
		pa = pa->pa_next;
	}
	RL_ASSERT(n > 0);
	io_op_prep(&log->lg_write_op, IO_OP_WRITEV, seg->sg_fd, log->lg_q_head->pa_pos,
		   plog_write_done, log);
	log->lg_write_op.op_iov = log->lg_iov;
	log->lg_write_op.op_iovcnt = (int)n;
	log->lg_wr_count = n;
	log->lg_wr_inflight = true;
	int rc = plog_submit(log, &log->lg_write_op);
	RL_ASSERT(rc == 0);
}

/* Start a new active segment at the log end. */
static int plog_roll(struct plog *log)
{
	struct segment *old = plog_active(log);
	struct segment *s;
	uint32_t max_entries =
		(uint32_t)(log->lg_cfg.segment_bytes / log->lg_cfg.index_interval_bytes) + 2;
	int rc = segment_create(log->lg_dir_fd, log->lg_end, plog_now_ms(log), max_entries, &s);
	if (rc < 0)
		return rc;
	rc = plog_segs_push(log, s);
	if (rc < 0) {
		segment_unlink(s);
		segment_unref(s);
		return rc;
	}
	log->lg_dir_dirty = true;
	/* The old segment's index is final now. Written without fsync: open
	 * checks index files and rebuilds a lost one. */
	if (old->sg_index_dirty)
		segment_persist_index(old, false);
	return 0;
}

static bool plog_needs_roll(const struct plog *log, size_t len, int64_t last_offset)
{
	const struct segment *s = plog_active(log);
	if (s->sg_size == 0)
		return false;
	if (s->sg_size + len > log->lg_cfg.segment_bytes)
		return true;
	if (log->lg_cfg.segment_ms > 0 &&
	    plog_now_ms(log) - s->sg_created_ms >= log->lg_cfg.segment_ms)
		return true;
	return last_offset - s->sg_base_offset > INT32_MAX;
}

struct plog_scan_in {
	int64_t next_offset; /* replica: expected base offset of the next batch */
	int32_t max_epoch;   /* replica: highest epoch among the batches */
	int64_t last_offset;
	uint32_t batches;
};

/* Validate every batch of an append before anything changes. */
static int plog_check_batches(struct plog *log, const uint8_t *bytes, size_t len, bool replica,
			      struct plog_scan_in *in)
{
	struct batch_iter it;
	struct batch_header h;
	const uint8_t *b;
	size_t size;
	int rc;
	int32_t epoch_floor = epoch_cache_latest(&log->lg_epochs);
	*in = (struct plog_scan_in){.next_offset = log->lg_end, .max_epoch = -1};
	batch_iter_init(&it, bytes, len);
	while ((rc = batch_iter_next(&it, &h, &b, &size)) == 1) {
		int64_t count = (int64_t)h.bh_last_offset_delta + 1;
		if (replica) {
			if (h.bh_base_offset != in->next_offset ||
			    h.bh_partition_leader_epoch < epoch_floor)
				return RL_EORDER;
			if (h.bh_partition_leader_epoch > epoch_floor)
				epoch_floor = h.bh_partition_leader_epoch;
			in->max_epoch = epoch_floor;
		}
		in->next_offset += count;
		in->batches++;
	}
	if (rc < 0)
		return rc;
	if (in->batches == 0)
		return RL_EINVAL_BATCH;
	in->last_offset = in->next_offset - 1;
	return 0;
}

/* Record the epochs that start in these replica batches (fsynced), in
 * order. On failure, entries already added are removed again. */
static int plog_note_replica_epochs(struct plog *log, const uint8_t *bytes, size_t len)
{
	struct batch_iter it;
	struct batch_header h;
	const uint8_t *b;
	size_t size;
	batch_iter_init(&it, bytes, len);
	while (batch_iter_next(&it, &h, &b, &size) == 1) {
		if (h.bh_partition_leader_epoch <= epoch_cache_latest(&log->lg_epochs))
			continue;
		int rc = epoch_cache_assign(&log->lg_epochs, h.bh_partition_leader_epoch,
					    h.bh_base_offset);
		if (rc < 0) {
			epoch_cache_truncate_end(&log->lg_epochs, log->lg_end);
			return rc;
		}
	}
	return 0;
}

static int plog_append(struct plog *log, struct plog_append *pa, uint8_t *bytes, size_t len,
		       bool replica, int32_t leader_epoch)
{
	if (log->lg_error)
		return RL_EFENCED;
	if (len == 0 || !bytes)
		return RL_EINVAL_BATCH;
	if (len > log->lg_cfg.max_append_bytes)
		return RL_ETOO_LARGE;
	if (!replica && leader_epoch < epoch_cache_latest(&log->lg_epochs))
		return RL_EORDER;
	struct plog_scan_in in;
	int rc = plog_check_batches(log, bytes, len, replica, &in);
	if (rc < 0)
		return rc;
	if (plog_needs_roll(log, len, in.last_offset)) {
		rc = plog_roll(log);
		if (rc < 0)
			return rc;
	}
	if (replica)
		rc = plog_note_replica_epochs(log, bytes, len);
	else if (leader_epoch > epoch_cache_latest(&log->lg_epochs))
		rc = epoch_cache_assign(&log->lg_epochs, leader_epoch, log->lg_end);
	if (rc < 0)
		return rc;

	struct segment *seg = plog_active(log);
	uint64_t pos = seg->sg_size;
	pa->pa_base_offset = log->lg_end;
	pa->pa_seg = seg;
	pa->pa_pos = pos;
	pa->pa_bytes = bytes;
	pa->pa_len = len;
	pa->pa_next = NULL;

	size_t at = 0;
	while (at < len) {
		uint8_t *b = bytes + at;
		struct batch_header h;
		batch_header_decode(b, len - at, &h);
		size_t size = (size_t)h.bh_batch_length + BATCH_LOG_OVERHEAD;
		if (!replica) {
			batch_set_base_offset(b, log->lg_end);
			batch_set_leader_epoch(b, leader_epoch);
			h.bh_base_offset = log->lg_end;
			h.bh_partition_leader_epoch = leader_epoch;
		}
		rc = segment_note_append(seg, &h, pos + at, size, log->lg_cfg.index_interval_bytes);
		RL_ASSERT(rc == 0 || rc == -ENOMEM);
		if (rc < 0) {
			plog_fence(log, rc);
			return rc;
		}
		log->lg_end = batch_next_offset(&h);
		at += size;
	}
	pa->pa_last_offset = log->lg_end - 1;
	if (log->lg_q_tail)
		log->lg_q_tail->pa_next = pa;
	else
		log->lg_q_head = pa;
	log->lg_q_tail = pa;
	plog_kick_writer(log);
	return 0;
}

int plog_append_leader(struct plog *log, struct plog_append *pa, uint8_t *bytes, size_t len,
		       int32_t leader_epoch)
{
	if (leader_epoch < 0)
		return RL_EORDER;
	return plog_append(log, pa, bytes, len, false, leader_epoch);
}

int plog_append_replica(struct plog *log, struct plog_append *pa, uint8_t *bytes, size_t len)
{
	return plog_append(log, pa, bytes, len, true, -1);
}

int plog_begin_epoch(struct plog *log, int32_t leader_epoch)
{
	int32_t latest = epoch_cache_latest(&log->lg_epochs);
	if (leader_epoch == latest)
		return 0;
	if (leader_epoch < latest)
		return RL_EORDER;
	/* lg_end is assigned when an append is queued, so it is final even
	 * with writes in flight. */
	return epoch_cache_begin(&log->lg_epochs, leader_epoch, log->lg_end);
}

int plog_wait_idle(struct plog *log)
{
	return io_run_until_zero(log->lg_io, &log->lg_io_pending);
}

int plog_sync(struct plog *log)
{
	int rc = plog_wait_idle(log);
	if (rc < 0)
		return rc;
	if (log->lg_error)
		return log->lg_error;
	plog_start_flush(log);
	rc = plog_wait_idle(log);
	if (rc < 0)
		return rc;
	return log->lg_error;
}

bool plog_io_idle(const struct plog *log)
{
	return log->lg_io_pending == 0;
}

/* ---- reading ---------------------------------------------------------- */

/* Index of the last segment whose base offset is <= offset, or -1. */
static int64_t plog_seg_floor(const struct plog *log, int64_t offset)
{
	uint32_t lo = 0, hi = log->lg_nsegs;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (log->lg_segs[mid]->sg_base_offset <= offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (int64_t)lo - 1;
}

/* Locate the written batch containing `offset`: segment index, position
 * and header. Returns 1, 0 when no written batch holds an offset >= it,
 * or a negative error. */
static int plog_locate(struct plog *log, int64_t offset, uint32_t *seg_idx, uint64_t *pos,
		       struct batch_header *h)
{
	int64_t i = plog_seg_floor(log, offset);
	if (i < 0)
		i = 0;
	for (; (uint32_t)i < log->lg_nsegs; i++) {
		int rc = segment_find(log->lg_segs[i], &log->lg_reader, offset, pos, h);
		if (rc != 0) {
			*seg_idx = (uint32_t)i;
			return rc;
		}
	}
	return 0;
}

int plog_read(struct plog *log, int64_t offset, uint32_t max_bytes, int64_t max_offset,
	      bool min_one, struct plog_slice *out)
{
	memset(out, 0, sizeof(*out));
	if (offset < log->lg_start || offset > log->lg_end)
		return RL_ERANGE;
	int64_t limit = max_offset < log->lg_written ? max_offset : log->lg_written;
	if (offset >= limit)
		return 0;
	uint32_t si;
	uint64_t pos;
	struct batch_header h;
	int rc = plog_locate(log, offset, &si, &pos, &h);
	if (rc <= 0)
		return rc;
	struct segment *s = log->lg_segs[si];
	if (batch_last_offset(&h) >= limit)
		return 0; /* the first batch is not entirely below the limit */
	uint64_t p = pos, len = 0;
	int64_t next = h.bh_base_offset;
	out->ps_first_offset = h.bh_base_offset;
	out->ps_first_size = (uint32_t)h.bh_batch_length + BATCH_LOG_OVERHEAD;
	while (p + BATCH_HEADER_BYTES <= s->sg_written) {
		const uint8_t *b;
		int64_t n = seg_reader_get(&log->lg_reader, s->sg_fd, p, BATCH_HEADER_BYTES,
					   s->sg_written, &b);
		if (n < 0)
			return (int)n;
		if (batch_header_decode(b, (size_t)n, &h) < 0)
			return RL_ECORRUPT;
		uint64_t size = (uint64_t)h.bh_batch_length + BATCH_LOG_OVERHEAD;
		if (batch_last_offset(&h) >= limit)
			break;
		if (len + size > max_bytes && !(len == 0 && min_one))
			break;
		len += size;
		next = batch_next_offset(&h);
		p += size;
	}
	/* len == 0 here means the first batch alone exceeds max_bytes: the
	 * slice says so (ps_len 0, ps_first_size) and the caller decides. */
	segment_ref(s);
	out->ps_seg = s;
	out->ps_fd = s->sg_fd;
	out->ps_pos = pos;
	out->ps_len = (uint32_t)len;
	out->ps_next_offset = len ? next : out->ps_first_offset;
	return 1;
}

int64_t plog_slice_copy(const struct plog_slice *s, void *buf, size_t cap)
{
	size_t n = s->ps_len < cap ? s->ps_len : cap;
	int64_t got = segment_pread(s->ps_seg, buf, n, s->ps_pos);
	if (got >= 0 && (size_t)got < n)
		return RL_ECORRUPT; /* the file is shorter than what was written */
	return got;
}

void plog_slice_release(struct plog_slice *s)
{
	if (s->ps_seg)
		segment_unref(s->ps_seg);
	s->ps_seg = NULL;
}

int plog_offset_for_timestamp(struct plog *log, int64_t ts, int64_t max_offset, int64_t *offset,
			      int64_t *timestamp)
{
	uint32_t i = 0;
	while (i < log->lg_nsegs && log->lg_segs[i]->sg_max_timestamp < ts)
		i++;
	if (i == log->lg_nsegs)
		return 0;
	struct segment *s = log->lg_segs[i];
	int64_t from_offset;
	uint64_t pos = 0;
	if (index_lookup_time(&s->sg_index, ts, &from_offset)) {
		int rc = segment_find(s, &log->lg_reader, from_offset, &pos, NULL);
		if (rc < 0)
			return rc;
		if (rc == 0)
			pos = 0;
	}
	uint64_t end = s->sg_written;
	while (pos + BATCH_HEADER_BYTES <= end) {
		const uint8_t *b;
		struct batch_header h;
		int64_t n =
			seg_reader_get(&log->lg_reader, s->sg_fd, pos, BATCH_HEADER_BYTES, end, &b);
		if (n < 0)
			return (int)n;
		if (batch_header_decode(b, (size_t)n, &h) < 0)
			return RL_ECORRUPT;
		size_t size = (size_t)h.bh_batch_length + BATCH_LOG_OVERHEAD;
		if (h.bh_base_offset >= max_offset)
			return 0;
		if (h.bh_max_timestamp >= ts) {
			*offset = h.bh_base_offset;
			*timestamp = h.bh_max_timestamp;
			if (batch_codec(&h) != BATCH_CODEC_NONE)
				return 1;
			n = seg_reader_get(&log->lg_reader, s->sg_fd, pos, size, end, &b);
			if (n < (int64_t)size)
				return n < 0 ? (int)n : RL_ECORRUPT;
			struct record_iter it;
			struct record r;
			record_iter_init(&it, b + BATCH_HEADER_BYTES, size - BATCH_HEADER_BYTES,
					 h.bh_records_count);
			while (record_iter_next(&it, &r) == 1) {
				int64_t rts = h.bh_base_timestamp + r.r_timestamp_delta;
				if (rts >= ts) {
					*offset = h.bh_base_offset + r.r_offset_delta;
					*timestamp = rts;
					return *offset < max_offset ? 1 : 0;
				}
			}
			return 1;
		}
		pos += size;
	}
	/* Not in the segment whose max timestamp said so: the later batches
	 * are not written yet. */
	return 0;
}

/* ---- truncation ------------------------------------------------------- */

struct plog_cut {
	uint32_t pc_seg; /* index of the segment cut */
	uint64_t pc_pos; /* position of the first removed batch in it */
	int64_t pc_new_end;
};

static int plog_find_cut(struct plog *log, int64_t offset, struct plog_cut *cut)
{
	uint64_t pos;
	struct batch_header h;
	uint32_t si;
	int rc = plog_locate(log, offset, &si, &pos, &h);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return RL_ERANGE;
	cut->pc_seg = si;
	cut->pc_pos = pos;
	cut->pc_new_end = h.bh_base_offset;
	return 0;
}

/* Hand every batch from the cut to the end of the log to keep(). */
static int plog_walk_removed(struct plog *log, const struct plog_cut *cut, plog_keep_fn keep,
			     void *ctx, struct plog_truncation *out)
{
	for (uint32_t i = cut->pc_seg; i < log->lg_nsegs; i++) {
		struct segment *s = log->lg_segs[i];
		uint64_t p = i == cut->pc_seg ? cut->pc_pos : 0;
		while (p < s->sg_size) {
			const uint8_t *b;
			struct batch_header h;
			int64_t n = seg_reader_get(&log->lg_reader, s->sg_fd, p, BATCH_HEADER_BYTES,
						   s->sg_size, &b);
			if (n < 0)
				return (int)n;
			int64_t total = batch_total_size(b, (size_t)n);
			if (total < 0)
				return RL_ECORRUPT;
			n = seg_reader_get(&log->lg_reader, s->sg_fd, p, (size_t)total, s->sg_size,
					   &b);
			if (n < total)
				return n < 0 ? (int)n : RL_ECORRUPT;
			if (batch_header_decode(b, (size_t)n, &h) < 0)
				return RL_ECORRUPT;
			if (keep) {
				int rc = keep(ctx, b, (size_t)total, &h, s->sg_base_offset, p);
				if (rc)
					return rc;
			}
			out->pt_bytes += (uint64_t)total;
			out->pt_batches++;
			p += (uint64_t)total;
		}
	}
	return 0;
}

static int plog_apply_cut(struct plog *log, const struct plog_cut *cut, struct plog_truncation *out)
{
	/* Later segments go first: if we crash half way, the log is a prefix
	 * of what it was, never a log with a hole that resurrects a tail. */
	while (log->lg_nsegs > cut->pc_seg + 1) {
		struct segment *s = log->lg_segs[--log->lg_nsegs];
		int rc = segment_unlink(s);
		segment_unref(s);
		if (rc < 0)
			return rc;
		out->pt_segments_deleted++;
	}
	if (out->pt_segments_deleted && fsync(log->lg_dir_fd) < 0)
		return -errno;
	struct segment *s = log->lg_segs[cut->pc_seg];
	int rc = segment_truncate(s, cut->pc_pos, cut->pc_new_end);
	if (rc == 0)
		rc = segment_restat(s, &log->lg_reader,
				    log->lg_cfg.allow_offset_gaps ? SCAN_F_GAPS_OK : 0);
	if (rc < 0)
		return rc;
	seg_reader_forget(&log->lg_reader);
	log->lg_end = log->lg_written = cut->pc_new_end;
	if (log->lg_flushed > cut->pc_new_end)
		log->lg_flushed = cut->pc_new_end;
	log->lg_bytes_written -=
		out->pt_bytes < log->lg_bytes_written ? out->pt_bytes : log->lg_bytes_written;
	if (log->lg_bytes_flushed > log->lg_bytes_written)
		log->lg_bytes_flushed = log->lg_bytes_written;
	if (log->lg_written == log->lg_flushed)
		log->lg_unflushed_since_ms = -1;
	out->pt_new_end = cut->pc_new_end;
	return epoch_cache_truncate_end(&log->lg_epochs, cut->pc_new_end);
}

static int plog_truncate_prepare(struct plog *log, int64_t offset, struct plog_cut *cut,
				 struct plog_truncation *out)
{
	memset(out, 0, sizeof(*out));
	out->pt_old_end = out->pt_new_end = log->lg_end;
	if (log->lg_error)
		return RL_EFENCED;
	if (log->lg_io_pending)
		return RL_EBUSY;
	if (offset < log->lg_start)
		return RL_ERANGE;
	if (offset > log->lg_end)
		return 0;
	if (offset == log->lg_end) {
		/* No batch to cut, but an epoch begun at the end and never
		 * written in (a leadership that took no write) is no part of
		 * the history this log now follows: a follower keeping it
		 * would refuse the leader's older-epoch batches from here.
		 * (A no-op when no epoch begins there.) */
		return epoch_cache_truncate_end(&log->lg_epochs, offset);
	}
	int rc = plog_find_cut(log, offset, cut);
	return rc < 0 ? rc : 1;
}

int plog_truncate(struct plog *log, int64_t offset, plog_keep_fn keep, void *ctx,
		  struct plog_truncation *out)
{
	struct plog_cut cut;
	int rc = plog_truncate_prepare(log, offset, &cut, out);
	if (rc <= 0)
		return rc;
	rc = plog_walk_removed(log, &cut, keep, ctx, out);
	if (rc)
		return rc;
	return plog_apply_cut(log, &cut, out);
}

static int plog_keep_discard(void *ctx, const uint8_t *batch, size_t len,
			     const struct batch_header *h, int64_t segment, uint64_t position)
{
	struct discard_writer *dw = ctx;
	(void)segment;
	(void)position;
	return discard_add(dw, batch, len, h);
}

int plog_truncate_preserving(struct plog *log, int64_t offset, const char *reason,
			     const char *detail, struct plog_truncation *out,
			     struct discard_info *info)
{
	struct plog_cut cut;
	int rc = plog_truncate_prepare(log, offset, &cut, out);
	if (info)
		memset(info, 0, sizeof(*info));
	if (rc <= 0)
		return rc;
	struct discard_writer dw;
	rc = discard_begin(&dw, log->lg_dir_fd, reason, detail, plog_now_ms(log), cut.pc_new_end,
			   log->lg_segs[cut.pc_seg]->sg_base_offset, cut.pc_pos);
	if (rc < 0)
		return rc;
	rc = plog_walk_removed(log, &cut, plog_keep_discard, &dw, out);
	if (rc) {
		discard_abort(&dw);
		return rc;
	}
	rc = discard_commit(&dw, info);
	if (rc < 0)
		return rc;
	return plog_apply_cut(log, &cut, out);
}

/* ---- retention -------------------------------------------------------- */

int plog_retain(struct plog *log, int64_t retention_ms, int64_t retention_bytes, int64_t max_offset)
{
	int64_t now = plog_now_ms(log);
	uint64_t total = plog_size_bytes(log);
	int deleted = 0;
	while (log->lg_nsegs > 1) {
		struct segment *s = log->lg_segs[0];
		if (s->sg_next_offset > max_offset || s->sg_written < s->sg_size)
			break;
		bool by_time = retention_ms >= 0 && s->sg_max_timestamp < now - retention_ms;
		bool by_size =
			retention_bytes >= 0 && total - s->sg_size >= (uint64_t)retention_bytes;
		if (!by_time && !by_size)
			break;
		int rc = segment_unlink(s);
		if (rc < 0)
			return rc;
		total -= s->sg_size;
		memmove(log->lg_segs, log->lg_segs + 1,
			(log->lg_nsegs - 1) * sizeof(*log->lg_segs));
		log->lg_nsegs--;
		segment_unref(s);
		deleted++;
	}
	if (deleted) {
		seg_reader_forget(&log->lg_reader);
		log->lg_start = log->lg_segs[0]->sg_base_offset;
		int rc = epoch_cache_truncate_start(&log->lg_epochs, log->lg_start);
		if (rc < 0)
			return rc;
	}
	return deleted;
}

/* ---- compaction ------------------------------------------------------- */

int plog_swap_cleaned(struct plog *log, int64_t base_offset, uint64_t old_size)
{
	if (log->lg_error)
		return RL_EFENCED;
	if (!log->lg_cfg.allow_offset_gaps)
		return RL_ECONFIG;
	int64_t i = plog_seg_floor(log, base_offset);
	if (i < 0 || log->lg_segs[i]->sg_base_offset != base_offset) {
		compact_discard_cleaned(log->lg_dir_fd, base_offset);
		return -ENOENT;
	}
	struct segment *old = log->lg_segs[i];
	if ((uint32_t)i + 1 == log->lg_nsegs || old->sg_size != old_size ||
	    old->sg_written != old->sg_size) {
		compact_discard_cleaned(log->lg_dir_fd, base_offset);
		return -ESTALE;
	}
	if (old->sg_sync_inflight)
		return RL_EBUSY;
	bool committed;
	int rc = compact_swap_files(log->lg_dir_fd, base_offset, INT32_MAX, &committed);
	if (rc < 0 && !committed) {
		compact_discard_cleaned(log->lg_dir_fd, base_offset);
		return rc;
	}
	struct segment *s = NULL;
	bool index_ok = false;
	uint32_t max_entries =
		(uint32_t)(log->lg_cfg.segment_bytes / log->lg_cfg.index_interval_bytes) + 2;
	if (rc == 0)
		rc = segment_open(log->lg_dir_fd, base_offset, plog_now_ms(log), max_entries, &s,
				  &index_ok);
	if (rc == 0) {
		/* Same as recovery of a closed segment: trust a valid index, scan
		 * from its last entry (or everything, rebuilding it). */
		uint64_t from = index_ok ? s->sg_index_pos : 0;
		int64_t expect = index_ok ? s->sg_next_offset : s->sg_base_offset;
		struct segment_scan scan;
		seg_reader_forget(&log->lg_reader);
		rc = segment_scan(s, &log->lg_reader, from, expect, -1,
				  SCAN_F_GAPS_OK | SCAN_F_REBUILD_INDEX,
				  log->lg_cfg.index_interval_bytes, NULL, NULL, &scan);
		bool bad = scan.ss_stop != SCAN_END || s->sg_next_offset > old->sg_next_offset;
		if (rc == 0 && bad)
			rc = RL_ECORRUPT;
		if (rc == 0 && s->sg_index_dirty)
			segment_persist_index(s, false);
	}
	if (rc < 0) {
		/* On disk the new segment is committed; memory no longer matches
		 * it. Stop here: reopening completes or rejects the swap. */
		if (s)
			segment_unref(s);
		plog_fence(log, rc);
		plog_progress(log);
		return rc;
	}
	/* The old file is unlinked now; a reader's slice keeps its descriptor
	 * (and the old bytes) alive until released. The read-ahead window is
	 * keyed by descriptor number, which the old one may hand on. */
	log->lg_segs[i] = s;
	segment_unref(old);
	seg_reader_forget(&log->lg_reader);
	return 0;
}

/* ---- checkpoints and accessors ---------------------------------------- */

int plog_checkpoint_hw(struct plog *log, int64_t hw)
{
	if (hw > log->lg_end)
		hw = log->lg_end;
	return checkpoint_write_i64(log->lg_dir_fd, CHECKPOINT_HW_NAME, hw);
}

int64_t plog_recovered_hw(const struct plog *log)
{
	return log->lg_recovered_hw;
}

int64_t plog_start_offset(const struct plog *log)
{
	return log->lg_start;
}
int64_t plog_end_offset(const struct plog *log)
{
	return log->lg_end;
}
int64_t plog_written_offset(const struct plog *log)
{
	return log->lg_written;
}
int64_t plog_flushed_offset(const struct plog *log)
{
	return log->lg_flushed;
}
int plog_error(const struct plog *log)
{
	return log->lg_error;
}
uint64_t plog_size_bytes(const struct plog *log)
{
	uint64_t total = 0;
	for (uint32_t i = 0; i < log->lg_nsegs; i++)
		total += log->lg_segs[i]->sg_size;
	return total;
}
uint32_t plog_segment_count(const struct plog *log)
{
	return log->lg_nsegs;
}
int64_t plog_segment_base(const struct plog *log, uint32_t idx)
{
	return idx < log->lg_nsegs ? log->lg_segs[idx]->sg_base_offset : -1;
}
const struct epoch_cache *plog_epochs(const struct plog *log)
{
	return &log->lg_epochs;
}
int plog_dir_fd(const struct plog *log)
{
	return log->lg_dir_fd;
}
const char *plog_dir(const struct plog *log)
{
	return log->lg_dir;
}
