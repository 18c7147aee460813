/*
 * conn — one client connection: framing, pipelined requests answered in
 * order, and back-pressure.
 *
 * Receiving: bytes land in a 64 KiB staging buffer; each complete frame
 * (4-byte size, then the request) is copied into a request of its own; a
 * frame larger than the staging buffer gets its own buffer and the rest of
 * it is received straight into it. A size above max_request_bytes, or too
 * small to hold a request header, closes the connection (as Kafka does).
 *
 * Order: requests wait in a FIFO in arrival order. A handler completes its
 * request now or later (produce waiting for the disk, fetch long-polling);
 * responses leave strictly in FIFO order, several per sendmsg when ready.
 * A request that gets no response (Produce with acks=0) leaves the FIFO
 * silently when its work is done.
 *
 * Back-pressure: the connection stops receiving while it holds
 * max_inflight_requests requests or max_connection_buffer_bytes of frames
 * and responses, and resumes as responses drain. A client that does not
 * read its responses therefore stalls only itself, and the broker's memory
 * for it stays bounded.
 *
 * Lifetime: a connection is freed when it is closed and no operation or
 * request refers to it any more (cn_refs).
 */
#ifndef REPLOG_CONN_H
#define REPLOG_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "io.h"
#include "kp_arena.h"
#include "kp_codec.h"
#include "kp_message.h"
#include "timer.h"

struct broker;
struct conn;

enum kreq_state {
	KREQ_WORKING = 0, /* the handler has not answered yet */
	KREQ_READY,	  /* rq_out holds the encoded response frame */
	KREQ_SILENT,	  /* done, no response (acks=0) */
};

struct kreq {
	struct conn *rq_conn; /* counted reference */
	struct kreq *rq_next; /* connection FIFO */
	uint8_t *rq_frame;    /* owned: the request after its size prefix */
	uint32_t rq_frame_len;
	struct kp_request_header rq_hdr;
	union kp_request_body rq_body;
	struct kp_arena rq_arena; /* decoded arrays, then response arrays */
	void *rq_arena_mem;	  /* owned */
	void *rq_data;		  /* owned: handler data (fetch record bytes) */
	struct kp_writer rq_out;  /* the response frame */
	size_t rq_sent;		  /* bytes of rq_out already sent */
	int rq_state;		  /* enum kreq_state */
	int rq_refs;		  /* the FIFO + pending asynchronous work */
	bool rq_orphan;		  /* its connection closed */
	int64_t rq_arrival_ms;
	int64_t rq_arrival_us; /* for the request latency histogram */
	struct timer rq_timer;	/* handler's deadline (produce timeout, fetch wait) */
	void *rq_handler_state; /* in the arena: what the handler is waiting for */
	/* Called when the connection closes while the request is still
	 * working: release what the handler holds (watches, timers). */
	void (*rq_cancel)(struct kreq *rq);
};

struct conn {
	struct broker *cn_broker; /* borrowed */
	struct conn *cn_prev, *cn_next;
	int cn_fd;
	uint64_t cn_id;
	char cn_peer[64];
	int cn_refs;
	bool cn_closing;
	bool cn_busy;	       /* inside conn_service: no re-entry */
	bool cn_close_pending; /* close once earlier responses are sent */
	char cn_close_why[256];
	int cn_barriers; /* requests holding later ones back (conn_hold) */
	bool cn_again;	 /* more service was asked for meanwhile */
	/* receiving */
	struct io_op cn_recv_op;
	bool cn_recv_inflight;
	uint8_t *cn_rbuf; /* owned staging buffer */
	uint32_t cn_rlen;
	struct kreq *cn_big; /* a frame being received into its own buffer */
	uint32_t cn_big_have;
	/* requests, oldest first */
	struct kreq *cn_head, *cn_tail;
	uint32_t cn_req_count;
	uint64_t cn_buffered_bytes;
	/* sending */
	struct io_op cn_send_op;
	bool cn_send_inflight;
	struct msghdr cn_msg;
	struct iovec cn_iov[16];
};

/* Take ownership of an accepted socket. Returns NULL (and closes fd) when
 * out of memory. */
struct conn *conn_create(struct broker *b, int fd);
/* Close (idempotent): stop reading, drop queued responses; the connection
 * is freed once nothing refers to it. `why` goes to the log. */
void conn_close(struct conn *c, const char *why);
/* For bad input: read nothing more, answer the requests that came before
 * (Kafka serves a connection one request at a time, so a client expects
 * those answers), then close. */
void conn_close_after_responses(struct conn *c, const char *why);

/* A request that waits before doing its work (a produce waiting for its
 * topic to be created) must not be overtaken by the requests after it on
 * its connection: hold the connection until it starts. */
void conn_hold(struct conn *c);
void conn_release(struct conn *c);

/* Handlers finish a request with one of these. */
void kreq_respond(struct kreq *rq, const union kp_response_body *resp);
void kreq_respond_encoded(struct kreq *rq); /* rq_out already holds a whole frame */
void kreq_silent(struct kreq *rq);

void kreq_ref(struct kreq *rq);
void kreq_unref(struct kreq *rq);

/* Allocate zeroed response memory from the request's arena; NULL when it
 * cannot (the handler then fails the request). */
void *kreq_alloc(struct kreq *rq, size_t count, size_t size);

#endif
