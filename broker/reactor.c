/*
 * reactor — io_uring event loop with timers (contract in reactor.h).
 */
#include "reactor.h"

#include <errno.h>
#include <time.h>

#include "rlassert.h"

int64_t reactor_clock_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void reactor_woke(void *ctx)
{
	struct reactor *r = ctx;
	r->re_now_ms = reactor_clock_ms();
}

int reactor_init(struct reactor *r, unsigned ring_entries, uint32_t max_timers)
{
	int err;
	r->re_ring = io_ring_create(ring_entries, &err);
	if (!r->re_ring)
		return err;
	timer_heap_init(&r->re_timers, max_timers);
	r->re_now_ms = reactor_clock_ms();
	io_ring_on_wake(r->re_ring, reactor_woke, r);
	return 0;
}

void reactor_deinit(struct reactor *r)
{
	timer_heap_deinit(&r->re_timers);
	io_engine_destroy(reactor_engine(r));
	r->re_ring = NULL;
}

static struct io_uring_sqe *reactor_sqe(struct reactor *r, struct io_op *op)
{
	struct io_uring_sqe *sqe = io_ring_get_sqe(r->re_ring);
	if (!sqe)
		return NULL;
	op->op_code = IO_OP_OTHER;
	io_ring_note_submitted(r->re_ring);
	return sqe;
}

int reactor_accept(struct reactor *r, struct io_op *op, int listen_fd)
{
	struct io_uring_sqe *sqe = reactor_sqe(r, op);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_accept(sqe, listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	io_uring_sqe_set_data(sqe, op);
	return 0;
}

int reactor_recv(struct reactor *r, struct io_op *op, int fd, void *buf, size_t len)
{
	struct io_uring_sqe *sqe = reactor_sqe(r, op);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_recv(sqe, fd, buf, len, 0);
	io_uring_sqe_set_data(sqe, op);
	return 0;
}

int reactor_sendmsg(struct reactor *r, struct io_op *op, int fd, const struct msghdr *msg)
{
	struct io_uring_sqe *sqe = reactor_sqe(r, op);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_sendmsg(sqe, fd, msg, MSG_NOSIGNAL);
	io_uring_sqe_set_data(sqe, op);
	return 0;
}

int reactor_read(struct reactor *r, struct io_op *op, int fd, void *buf, size_t len)
{
	struct io_uring_sqe *sqe = reactor_sqe(r, op);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_read(sqe, fd, buf, (unsigned)len, (uint64_t)-1);
	io_uring_sqe_set_data(sqe, op);
	return 0;
}

int reactor_connect(struct reactor *r, struct io_op *op, int fd, const struct sockaddr *sa,
		    socklen_t len)
{
	struct io_uring_sqe *sqe = reactor_sqe(r, op);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_connect(sqe, fd, sa, len);
	io_uring_sqe_set_data(sqe, op);
	return 0;
}

void reactor_cancel_fd(struct reactor *r, int fd)
{
	struct io_uring_sqe *sqe = io_ring_get_sqe(r->re_ring);
	if (!sqe)
		return;
	io_uring_prep_cancel_fd(sqe, fd, IORING_ASYNC_CANCEL_ALL);
	io_uring_sqe_set_data(sqe, NULL); /* nobody waits for the cancel itself */
}

int reactor_turn(struct reactor *r, int max_wait_ms)
{
	r->re_now_ms = reactor_clock_ms();
	int fired = timer_run(&r->re_timers, r->re_now_ms);
	int64_t next = timer_next(&r->re_timers);
	int wait = max_wait_ms;
	if (fired > 0) {
		wait = 0; /* timers may have queued work: do not sleep first */
	} else if (next >= 0) {
		int64_t until = next - r->re_now_ms;
		if (until < 0)
			until = 0;
		if (wait < 0 || until < wait)
			wait = (int)until;
	}
	int rc = io_ring_run_timeout(r->re_ring, wait == 0 ? 0 : 1, wait);
	if (rc < 0)
		return rc;
	r->re_now_ms = reactor_clock_ms();
	return rc + fired + timer_run(&r->re_timers, r->re_now_ms);
}
