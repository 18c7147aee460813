/*
 * io_ring — the io_uring engine (see io.h for the op contract).
 *
 * One ring per thread. Ops that find the submission queue full wait on an
 * intrusive backlog (no allocation) and are pushed as soon as entries free
 * up, so submit() never fails for lack of space. The broker's reactor owns
 * the ring through this module: it takes SQEs for sockets and timers with
 * io_ring_get_sqe(), sets user_data to a struct io_op of its own whose
 * op_done handles the CQE, and drives everything with io_run().
 */
#ifndef REPLOG_IO_RING_H
#define REPLOG_IO_RING_H

#include <liburing.h>

#include "io.h"

struct io_ring;

/* entries: submission queue size (rounded up to a power of two by the
 * kernel). Returns NULL with *err = -errno (-ENOSYS, -EPERM when io_uring is
 * unavailable or forbidden, -ENOMEM). */
struct io_ring *io_ring_create(unsigned entries, int *err);
struct io_engine *io_ring_engine(struct io_ring *r);

/* A free SQE, submitting what is queued to make room if needed; NULL only if
 * the kernel refuses to take any (the caller backs off and retries). */
struct io_uring_sqe *io_ring_get_sqe(struct io_ring *r);

/* Count an op that the caller prepared itself with io_ring_get_sqe(), so
 * that ie_inflight and run() account for it. */
void io_ring_note_submitted(struct io_ring *r);

/* Like io_run() but with a timeout: blocks until min_complete ops are
 * delivered or timeout_ms passes (negative = no timeout). */
int io_ring_run_timeout(struct io_ring *r, unsigned min_complete, int timeout_ms);

/* Called each time a wait in the kernel returns, before the completions it
 * brought are delivered: a caller that caches the time refreshes it here,
 * so no completion is handled with the time from before a long sleep (or a
 * SIGSTOP). */
void io_ring_on_wake(struct io_ring *r, void (*fn)(void *ctx), void *ctx);

#endif
