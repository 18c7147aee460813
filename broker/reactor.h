/*
 * reactor — the broker's event loop: one io_uring (log/io_ring) for socket
 * accept/recv/send, signals and the partition logs' file I/O, plus a timer
 * heap. One thread drives it; it sleeps in the kernel until a completion
 * arrives or the earliest timer is due (no busy polling).
 *
 * Socket and signal operations are struct io_op with op_code IO_OP_OTHER:
 * the caller owns the op, sets op_done/op_ctx, and must keep the op and
 * its buffers alive until op_done runs (exactly once; res is the CQE's
 * result: bytes, an accepted fd, or -errno). To stop an operation, shut the
 * socket down or cancel by fd and wait for the completion.
 */
#ifndef REPLOG_REACTOR_H
#define REPLOG_REACTOR_H

#include <stdint.h>
#include <sys/socket.h>

#include "io.h"
#include "io_ring.h"
#include "timer.h"

struct reactor {
	struct io_ring *re_ring; /* owned */
	struct timer_heap re_timers;
	int64_t re_now_ms; /* monotonic, refreshed each loop turn */
};

/* Returns 0 or -errno (io_uring unavailable: -ENOSYS, -EPERM). */
int reactor_init(struct reactor *r, unsigned ring_entries, uint32_t max_timers);
void reactor_deinit(struct reactor *r);

static inline struct io_engine *reactor_engine(struct reactor *r)
{
	return io_ring_engine(r->re_ring);
}

int64_t reactor_clock_ms(void); /* CLOCK_MONOTONIC in ms */

/* Each returns 0, or -EBUSY when no submission entry could be had. */
int reactor_accept(struct reactor *r, struct io_op *op, int listen_fd);
int reactor_recv(struct reactor *r, struct io_op *op, int fd, void *buf, size_t len);
int reactor_sendmsg(struct reactor *r, struct io_op *op, int fd, const struct msghdr *msg);
int reactor_read(struct reactor *r, struct io_op *op, int fd, void *buf, size_t len);
int reactor_connect(struct reactor *r, struct io_op *op, int fd, const struct sockaddr *sa,
		    socklen_t len);
/* Ask the kernel to cancel every operation on fd; their ops complete with
 * -ECANCELED (or their natural result). Fire and forget. */
void reactor_cancel_fd(struct reactor *r, int fd);

/* Wait for completions or the next timer (at most max_wait_ms; -1 = no
 * cap), deliver them, run due timers. Returns deliveries + timers run, or
 * a negative errno from io_uring. */
int reactor_turn(struct reactor *r, int max_wait_ms);

#endif
