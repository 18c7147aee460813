/*
 * io_ring — io_uring engine for struct io_op (contract in io.h).
 *
 * Life of an op: submit() preps an SQE with user_data = op (or parks the op
 * on the backlog when the SQ is full); run() flushes the backlog, submits,
 * waits, and for every CQE calls the op's completion. A write that the
 * kernel finished short is re-prepared for its remainder and never surfaces
 * to the caller until it is whole or failed.
 *
 * An op that io_fault_hook fails (io.h) never becomes an SQE: it waits on
 * a small FIFO of its own, with its result in op_res, and run() delivers
 * it before it would wait in the kernel — so never from submit(), and a
 * run never sleeps while an injected failure is ready. An op the hook
 * holds waits on another FIFO and is offered to the hook again at every
 * run() pass; while one is held, no wait in the kernel outlasts
 * IO_FAULT_HOLD_POLL_MS.
 */
#include "io_ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rlassert.h"

struct io_ring {
	struct io_engine ir_base;
	struct io_uring ir_uring;
	struct io_fifo ir_backlog; /* ops waiting for an SQE */
	struct io_fifo ir_faults;  /* failed by io_fault_hook (tests only) */
	struct io_fifo ir_held;	   /* held by io_fault_hook (tests only) */
	void (*ir_on_wake)(void *ctx);
	void *ir_on_wake_ctx;
};

void io_ring_on_wake(struct io_ring *r, void (*fn)(void *ctx), void *ctx)
{
	r->ir_on_wake = fn;
	r->ir_on_wake_ctx = ctx;
}

static void io_ring_woke(struct io_ring *r)
{
	if (r->ir_on_wake)
		r->ir_on_wake(r->ir_on_wake_ctx);
}

static void io_ring_prep(struct io_uring_sqe *sqe, struct io_op *op)
{
	switch (op->op_code) {
	case IO_OP_WRITEV:
		io_uring_prep_writev(sqe, op->op_fd, op->op_iov, (unsigned)op->op_iovcnt,
				     op->op_offset);
		break;
	case IO_OP_READ:
		io_uring_prep_read(sqe, op->op_fd, op->op_buf, op->op_len, op->op_offset);
		break;
	case IO_OP_FDATASYNC:
		io_uring_prep_fsync(sqe, op->op_fd, IORING_FSYNC_DATASYNC);
		break;
	case IO_OP_FSYNC:
		io_uring_prep_fsync(sqe, op->op_fd, 0);
		break;
	default:
		RL_ASSERT(!"io_ring_prep: unknown opcode");
	}
	io_uring_sqe_set_data(sqe, op);
}

struct io_uring_sqe *io_ring_get_sqe(struct io_ring *r)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ir_uring);
	if (!sqe) {
		io_uring_submit(&r->ir_uring);
		sqe = io_uring_get_sqe(&r->ir_uring);
	}
	return sqe;
}

/* Prep an SQE for op now, or park it if the queue is full and the backlog
 * is not empty (keeping FIFO order). */
static void io_ring_enqueue(struct io_ring *r, struct io_op *op)
{
	struct io_uring_sqe *sqe = r->ir_backlog.if_head ? NULL : io_ring_get_sqe(r);
	if (!sqe) {
		io_fifo_push(&r->ir_backlog, op);
		return;
	}
	io_ring_prep(sqe, op);
}

static void io_ring_flush_backlog(struct io_ring *r)
{
	while (r->ir_backlog.if_head) {
		struct io_uring_sqe *sqe = io_ring_get_sqe(r);
		if (!sqe)
			return;
		io_ring_prep(sqe, io_fifo_pop(&r->ir_backlog));
	}
}

/* Send op where the fault hook's answer says: the kernel, the injected
 * failures, or the held ops. */
static void io_ring_route(struct io_ring *r, struct io_op *op, int fault)
{
	if (fault == IO_FAULT_HOLD) {
		io_fifo_push(&r->ir_held, op);
	} else if (fault < 0) {
		op->op_res = fault;
		io_fifo_push(&r->ir_faults, op);
	} else {
		io_ring_enqueue(r, op);
	}
}

static int io_ring_submit_op(struct io_engine *e, struct io_op *op)
{
	struct io_ring *r = (struct io_ring *)e;
	if (!op->op_done || op->op_code < IO_OP_WRITEV || op->op_code > IO_OP_FSYNC)
		return -EINVAL;
	op->op_done_bytes = 0;
	e->ie_inflight++;
	io_ring_route(r, op, io_fault_ask(op));
	return 0;
}

/* Offer every held op to the hook again, in order. */
static void io_ring_recheck_held(struct io_ring *r)
{
	struct io_fifo held = r->ir_held;
	r->ir_held = (struct io_fifo){0};
	struct io_op *op;
	while ((op = io_fifo_pop(&held)))
		io_ring_route(r, op, io_fault_ask(op));
}

void io_ring_note_submitted(struct io_ring *r)
{
	r->ir_base.ie_inflight++;
}

/* Handle one CQE; returns 1 if an op was delivered to its owner. */
static int io_ring_complete(struct io_ring *r, struct io_op *op, int res, uint32_t flags)
{
	if (op->op_code == IO_OP_WRITEV) {
		int out;
		if (!io_writev_progress(op, res, &out)) {
			io_ring_enqueue(r, op);
			return 0;
		}
		res = out;
	}
	if (res < 0)
		io_note_result(&r->ir_base, op, res);
	/* Multishot reactor ops keep their op alive across CQEs; only the last
	 * CQE of an op ends its flight. */
	if (!(flags & IORING_CQE_F_MORE))
		r->ir_base.ie_inflight--;
	op->op_cqe_flags = flags;
	op->op_done(op, res);
	return 1;
}

static int io_ring_reap(struct io_ring *r)
{
	struct io_uring_cqe *cqe;
	int delivered = 0;
	/* Copy each CQE out and advance before the callback: a callback may
	 * submit and even wait on the ring. */
	while (io_uring_peek_cqe(&r->ir_uring, &cqe) == 0) {
		struct io_op *op = io_uring_cqe_get_data(cqe);
		int res = cqe->res;
		uint32_t flags = cqe->flags;
		io_uring_cqe_seen(&r->ir_uring, cqe);
		if (!op)
			continue; /* e.g. a cancel or timeout-remove whose result nobody wants */
		delivered += io_ring_complete(r, op, res, flags);
	}
	return delivered;
}

int io_ring_run_timeout(struct io_ring *r, unsigned min_complete, int timeout_ms)
{
	int delivered = 0;
	for (;;) {
		if (r->ir_held.if_head)
			io_ring_recheck_held(r);
		io_ring_flush_backlog(r);
		if (r->ir_faults.if_head)
			delivered += io_deliver_parked(&r->ir_base, &r->ir_faults);
		int want = (unsigned)delivered < min_complete && r->ir_base.ie_inflight > 0 &&
			   !r->ir_faults.if_head;
		if (want && r->ir_held.if_head &&
		    (timeout_ms < 0 || timeout_ms > IO_FAULT_HOLD_POLL_MS))
			timeout_ms = IO_FAULT_HOLD_POLL_MS; /* come back to ask again */
		int rc;
		if (want && timeout_ms >= 0) {
			struct __kernel_timespec ts = {
				.tv_sec = timeout_ms / 1000,
				.tv_nsec = (long long)(timeout_ms % 1000) * 1000000,
			};
			struct io_uring_cqe *cqe;
			rc = io_uring_submit_and_wait_timeout(&r->ir_uring, &cqe, 1, &ts, NULL);
			io_ring_woke(r);
			if (rc == -ETIME)
				return delivered + io_ring_reap(r);
		} else {
			rc = io_uring_submit_and_wait(&r->ir_uring, (unsigned)want);
			if (want)
				io_ring_woke(r);
		}
		if (rc < 0 && rc != -EINTR && rc != -EBUSY && rc != -EAGAIN)
			return rc;
		delivered += io_ring_reap(r);
		int satisfied = (unsigned)delivered >= min_complete || r->ir_base.ie_inflight == 0;
		if (satisfied && !r->ir_backlog.if_head)
			return delivered;
	}
}

static int io_ring_run(struct io_engine *e, unsigned min_complete)
{
	return io_ring_run_timeout((struct io_ring *)e, min_complete, -1);
}

static void io_ring_destroy(struct io_engine *e)
{
	struct io_ring *r = (struct io_ring *)e;
	io_uring_queue_exit(&r->ir_uring);
	free(r);
}

static const struct io_engine_ops io_ring_ops = {
	.submit = io_ring_submit_op,
	.run = io_ring_run,
	.destroy = io_ring_destroy,
};

struct io_ring *io_ring_create(unsigned entries, int *err)
{
	struct io_ring *r = calloc(1, sizeof(*r));
	if (!r) {
		*err = -ENOMEM;
		return NULL;
	}
	int rc = io_uring_queue_init(entries, &r->ir_uring, 0);
	if (rc < 0) {
		free(r);
		*err = rc;
		return NULL;
	}
	r->ir_base.ie_ops = &io_ring_ops;
	r->ir_base.ie_name = "io_uring";
	*err = 0;
	return r;
}

struct io_engine *io_ring_engine(struct io_ring *r)
{
	return &r->ir_base;
}
