/*
 * io — asynchronous file I/O for the storage engine, with two engines behind
 * one small interface:
 *
 *   - the io_uring engine (io_ring.h): the broker's reactor and benchmarks;
 *     writes and fsyncs go to the kernel as SQEs and complete as CQEs;
 *   - the synchronous engine (io_sync_engine_create): tools and unit tests;
 *     an op runs inside io_submit() with plain pwritev/fdatasync and its
 *     completion is delivered at the next io_run(), never inline, so callers
 *     see the same order of events with either engine.
 *
 * An op is a struct io_op owned by the caller (nothing here allocates per
 * op). The caller fills it, submits it, and must keep it, and the buffers it
 * names, alive and untouched until its io_done callback runs. The callback
 * runs exactly once, from io_run(), with the op's result: the total bytes
 * transferred for reads and writes (short writes are resubmitted by the
 * engine until the whole iovec is written or an error occurs), 0 for syncs,
 * or a negative errno.
 *
 * Completion dispatch is uniform: a CQE's user_data is the struct io_op,
 * and dispatch calls op->op_done(op, res). The broker's reactor reuses the
 * io_uring engine's ring for sockets and timers with the same convention.
 *
 * Fault injection (issue 8): io_fault_hook is NULL in every shipped
 * program; only test programs set it — the test-only replogd-faults binary
 * (tests/faults/fault_hook.c) and the unit tests. When set, both engines ask it about every
 * data op (IO_OP_WRITEV, IO_OP_FDATASYNC, IO_OP_FSYNC) as it is submitted;
 * a negative errno answer means the op is not performed at all and
 * completes with that result through the normal path — from io_run(),
 * never inside io_submit() — exactly as a kernel error would. Production
 * pays one pointer test per submit. (broker/raftlog.c also offers the
 * metadata log's plain writes and fdatasyncs to it; other plain syscalls —
 * checkpoint files, discarded/, compaction, recovery — are not hooked.)
 * The hook may also answer IO_FAULT_HOLD: the op is parked, not performed,
 * and offered to the hook again, until it answers otherwise — a disk that
 * stalls. The io_uring engine re-asks on every run() pass and, while an op
 * is held, never waits in the kernel longer than IO_FAULT_HOLD_POLL_MS
 * (run() may then return having delivered fewer than min_complete); the
 * synchronous engine has no later pass, so a held op waits inside
 * io_submit(), re-asking every IO_FAULT_HOLD_POLL_MS.
 *
 * Threading: an engine and its ops belong to one thread.
 */
#ifndef REPLOG_IO_H
#define REPLOG_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

enum io_opcode {
	IO_OP_WRITEV = 1, /* pwritev(fd, iov, iovcnt, offset) until complete */
	IO_OP_READ,	  /* pread(fd, buf, len, offset); may be short at EOF */
	IO_OP_FDATASYNC,  /* fdatasync(fd) */
	IO_OP_FSYNC,	  /* fsync(fd); also for directories */
	IO_OP_OTHER,	  /* reserved for reactor ops that reuse struct io_op */
};

struct io_op;
typedef void (*io_done_fn)(struct io_op *op, int res);

struct io_op {
	io_done_fn op_done; /* required: called once with the result */
	void *op_ctx;	    /* borrowed: the issuer's context */
	int op_code;	    /* enum io_opcode */
	int op_fd;
	struct iovec *op_iov; /* IO_OP_WRITEV; the engine advances it on short writes */
	int op_iovcnt;
	void *op_buf;	    /* IO_OP_READ */
	uint32_t op_len;    /* IO_OP_READ */
	uint64_t op_offset; /* file position of the first byte */
	/* engine-private below */
	int64_t op_done_bytes; /* bytes transferred so far (short-write resubmits) */
	int op_res;	       /* result waiting for delivery (sync engine) */
	uint32_t op_cqe_flags; /* io_uring: flags of the CQE being delivered */
	struct io_op *op_next; /* intrusive queue link */
};

struct io_engine;

struct io_engine_ops {
	/* Queue an op. Returns 0, or a negative errno if the op is malformed. */
	int (*submit)(struct io_engine *e, struct io_op *op);
	/* Push queued ops to the kernel and deliver completions; blocks until
	 * at least min_complete have been delivered (0 = do not block). Returns
	 * the number delivered or a negative errno. */
	int (*run)(struct io_engine *e, unsigned min_complete);
	void (*destroy)(struct io_engine *e);
};

struct io_engine {
	const struct io_engine_ops *ie_ops;
	const char *ie_name;
	uint64_t ie_inflight; /* submitted and not yet delivered */
	/* The first data op that completed with an error (sticky, for the
	 * owner's report of a storage failure): its code (0 = none yet), its
	 * descriptor and its result. */
	int ie_failed_code;
	int ie_failed_fd;
	int ie_failed_res;
};

/* The fault hook (see the top of this file). Returns 0 to let the op run,
 * a negative errno to fail it without running it, or IO_FAULT_HOLD to park
 * it and be asked again later. Called on the engine's thread with the op
 * as submitted; must not submit or run. */
#define IO_FAULT_HOLD	      1
#define IO_FAULT_HOLD_POLL_MS 10
typedef int (*io_fault_fn)(const struct io_op *op);
extern io_fault_fn io_fault_hook;

/* For engines: the hook's answer for op (0 when no hook is installed or
 * op is a read): 0, a negative errno, or IO_FAULT_HOLD. */
int io_fault_ask(const struct io_op *op);

/* For engines: an intrusive FIFO of ops, linked through op_next. */
struct io_fifo {
	struct io_op *if_head;
	struct io_op *if_tail;
};
void io_fifo_push(struct io_fifo *q, struct io_op *op);
struct io_op *io_fifo_pop(struct io_fifo *q); /* NULL when empty */

/* For engines: deliver the ops parked on q with their result in op_res,
 * in order, but only those queued before this call (a callback that
 * submits gets its op on the next pass, as with io_uring). Returns how
 * many were delivered. */
int io_deliver_parked(struct io_engine *e, struct io_fifo *q);

/* For engines: remember the first failed data op (no-op for reads, other
 * ops and successes). */
void io_note_result(struct io_engine *e, const struct io_op *op, int res);

/* "writev", "read", "fdatasync", "fsync", or "other": for log lines. */
const char *io_opcode_name(int code);

static inline int io_submit(struct io_engine *e, struct io_op *op)
{
	return e->ie_ops->submit(e, op);
}
static inline int io_run(struct io_engine *e, unsigned min_complete)
{
	return e->ie_ops->run(e, min_complete);
}
static inline void io_engine_destroy(struct io_engine *e)
{
	if (e)
		e->ie_ops->destroy(e);
}

/* Fill an op; the caller then sets op_iov/op_buf as the code needs. */
void io_op_prep(struct io_op *op, int code, int fd, uint64_t offset, io_done_fn done, void *ctx);

/* The synchronous engine. Returns NULL only when out of memory. */
struct io_engine *io_sync_engine_create(void);

/* Shared by engines: given a write result, decide whether the op is done.
 * Returns 1 when the op should be delivered with *res_out, 0 when the
 * remainder must be resubmitted (the iovec was advanced past `res` bytes). */
int io_writev_progress(struct io_op *op, int res, int *res_out);

/* Run one op synchronously with plain syscalls, short writes and EINTR
 * retried. Returns what the op's callback would receive. */
int io_op_execute_sync(struct io_op *op);

/* Plain blocking pread until len bytes or end of file, retrying EINTR and
 * short reads. Returns the bytes read (short only at the end of the file)
 * or -errno. For cold paths: recovery, tools, small metadata files. */
int64_t io_pread_full(int fd, void *buf, size_t len, uint64_t pos);

/* Run `e` until `*pending` drops to 0 (for owners that count their own ops:
 * tools, tests, shutdown). Returns 0 or the first negative engine error. */
int io_run_until_zero(struct io_engine *e, const uint32_t *pending);

#endif
