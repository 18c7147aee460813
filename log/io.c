/*
 * io — the parts shared by both engines, and the synchronous engine.
 *
 * The synchronous engine executes an op inside submit() and parks it on a
 * FIFO; run() delivers the parked results in submission order. Delivering
 * later rather than inline keeps callers free of re-entrancy (a completion
 * callback may submit the next op) and makes event order the same as with
 * io_uring, where a completion can never arrive inside submit().
 *
 * A data op that io_fault_hook fails is not executed: its injected result
 * is parked and delivered like any other. One it holds waits inside
 * submit() until the hook lets it go (io.h).
 */
#include "io.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "rlassert.h"

io_fault_fn io_fault_hook; /* NULL unless a test binary installs one (io.h) */

static bool io_is_data_op(int code)
{
	return code == IO_OP_WRITEV || code == IO_OP_FDATASYNC || code == IO_OP_FSYNC;
}

int io_fault_ask(const struct io_op *op)
{
	if (!io_fault_hook || op->op_code == IO_OP_READ)
		return 0;
	return io_fault_hook(op);
}

void io_fifo_push(struct io_fifo *q, struct io_op *op)
{
	op->op_next = NULL;
	if (q->if_tail)
		q->if_tail->op_next = op;
	else
		q->if_head = op;
	q->if_tail = op;
}

struct io_op *io_fifo_pop(struct io_fifo *q)
{
	struct io_op *op = q->if_head;
	if (op) {
		q->if_head = op->op_next;
		if (!q->if_head)
			q->if_tail = NULL;
		op->op_next = NULL;
	}
	return op;
}

int io_deliver_parked(struct io_engine *e, struct io_fifo *q)
{
	struct io_op *last = q->if_tail;
	int delivered = 0;
	struct io_op *op;
	while ((op = io_fifo_pop(q))) {
		e->ie_inflight--;
		delivered++;
		io_note_result(e, op, op->op_res);
		op->op_cqe_flags = 0;
		op->op_done(op, op->op_res);
		if (op == last)
			break;
	}
	return delivered;
}

void io_note_result(struct io_engine *e, const struct io_op *op, int res)
{
	if (res >= 0 || e->ie_failed_code != 0 || !io_is_data_op(op->op_code))
		return;
	e->ie_failed_code = op->op_code;
	e->ie_failed_fd = op->op_fd;
	e->ie_failed_res = res;
}

const char *io_opcode_name(int code)
{
	switch (code) {
	case IO_OP_WRITEV:
		return "writev";
	case IO_OP_READ:
		return "read";
	case IO_OP_FDATASYNC:
		return "fdatasync";
	case IO_OP_FSYNC:
		return "fsync";
	default:
		return "other";
	}
}

void io_op_prep(struct io_op *op, int code, int fd, uint64_t offset, io_done_fn done, void *ctx)
{
	*op = (struct io_op){
		.op_done = done,
		.op_ctx = ctx,
		.op_code = code,
		.op_fd = fd,
		.op_offset = offset,
	};
}

int io_writev_progress(struct io_op *op, int res, int *res_out)
{
	if (res == -EINTR || res == -EAGAIN)
		return 0;
	if (res < 0) {
		*res_out = res;
		return 1;
	}
	if (res == 0) {
		/* Empty iovecs left over are not owed bytes: 0 for them is
		 * completion (the loop below delivers), not a full disk. */
		while (op->op_iovcnt > 0 && op->op_iov->iov_len == 0) {
			op->op_iov++;
			op->op_iovcnt--;
		}
	}
	if (res == 0 && op->op_iovcnt > 0) {
		/* The kernel wrote nothing without an error: treat as a full disk
		 * rather than spin. */
		*res_out = -ENOSPC;
		return 1;
	}
	op->op_done_bytes += res;
	op->op_offset += (uint64_t)res;
	size_t left = (size_t)res;
	while (op->op_iovcnt > 0 && left >= op->op_iov->iov_len) {
		left -= op->op_iov->iov_len;
		op->op_iov++;
		op->op_iovcnt--;
	}
	if (op->op_iovcnt == 0) {
		RL_ASSERT(left == 0);
		*res_out = op->op_done_bytes > INT32_MAX ? INT32_MAX : (int)op->op_done_bytes;
		return 1;
	}
	op->op_iov->iov_base = (char *)op->op_iov->iov_base + left;
	op->op_iov->iov_len -= left;
	return 0;
}

int io_op_execute_sync(struct io_op *op)
{
	int res;
	switch (op->op_code) {
	case IO_OP_WRITEV:
		for (;;) {
			ssize_t n =
				pwritev(op->op_fd, op->op_iov, op->op_iovcnt, (off_t)op->op_offset);
			int out;
			if (io_writev_progress(op, n < 0 ? -errno : (int)n, &out))
				return out;
		}
	case IO_OP_READ:
		do {
			ssize_t n = pread(op->op_fd, op->op_buf, op->op_len, (off_t)op->op_offset);
			res = n < 0 ? -errno : (int)n;
		} while (res == -EINTR);
		return res;
	case IO_OP_FDATASYNC:
		return fdatasync(op->op_fd) < 0 ? -errno : 0;
	case IO_OP_FSYNC:
		return fsync(op->op_fd) < 0 ? -errno : 0;
	default:
		return -EINVAL;
	}
}

struct io_sync_engine {
	struct io_engine se_base;
	struct io_fifo se_done; /* completed, waiting for delivery */
};

static int io_sync_submit(struct io_engine *e, struct io_op *op)
{
	struct io_sync_engine *se = (struct io_sync_engine *)e;
	if (!op->op_done || op->op_code < IO_OP_WRITEV || op->op_code > IO_OP_FSYNC)
		return -EINVAL;
	op->op_done_bytes = 0;
	int fault = io_fault_ask(op);
	while (fault == IO_FAULT_HOLD) {
		struct timespec ts = {0, IO_FAULT_HOLD_POLL_MS * 1000000L};
		nanosleep(&ts, NULL);
		fault = io_fault_ask(op);
	}
	op->op_res = fault < 0 ? fault : io_op_execute_sync(op);
	io_fifo_push(&se->se_done, op);
	e->ie_inflight++;
	return 0;
}

static int io_sync_run(struct io_engine *e, unsigned min_complete)
{
	struct io_sync_engine *se = (struct io_sync_engine *)e;
	(void)min_complete; /* every submitted op is already complete */
	return io_deliver_parked(e, &se->se_done);
}

static void io_sync_destroy(struct io_engine *e)
{
	free(e);
}

static const struct io_engine_ops io_sync_ops = {
	.submit = io_sync_submit,
	.run = io_sync_run,
	.destroy = io_sync_destroy,
};

struct io_engine *io_sync_engine_create(void)
{
	struct io_sync_engine *se = calloc(1, sizeof(*se));
	if (!se)
		return NULL;
	se->se_base.ie_ops = &io_sync_ops;
	se->se_base.ie_name = "sync";
	return &se->se_base;
}

int io_run_until_zero(struct io_engine *e, const uint32_t *pending)
{
	while (*pending > 0) {
		int rc = io_run(e, 1);
		if (rc < 0)
			return rc;
		RL_ASSERT(rc > 0 || e->ie_inflight > 0);
	}
	return 0;
}

int64_t io_pread_full(int fd, void *buf, size_t len, uint64_t pos)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = pread(fd, (char *)buf + got, len - got, (off_t)(pos + got));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (int64_t)got;
}
