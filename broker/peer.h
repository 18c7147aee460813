/*
 * peer — an outbound connection from this broker to another replog broker
 * (a partition leader, the controller): Kafka framing, requests pipelined
 * and answered in order, each with a deadline.
 *
 * A request is encoded when it is queued (the caller's body may go away
 * right after peer_send). The peer connects on demand, keeps the
 * connection, and on any failure — connect refused, reset, a response
 * that does not decode, a request past its deadline — closes it, fails
 * every queued and in-flight request with the cause, and waits a backoff
 * (100 ms doubling to 2 s, reset by a successful response) before it
 * connects again for the next request. Callers retry what they need.
 *
 * A response is decoded (header and body, into an arena of its own) before
 * its callback runs; everything the callback sees lives until it returns.
 *
 * Owned by the reactor thread.
 */
#ifndef REPLOG_PEER_H
#define REPLOG_PEER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "io.h"
#include "kp_message.h"
#include "timer.h"

struct broker;
struct peer;

/* err: 0 with the decoded response, or a negative errno / KP_E* code
 * (resp is NULL then). */
typedef void (*peer_done_fn)(void *ctx, int err, const union kp_response_body *resp);

struct peer_req {
	struct peer_req *pr_next;
	int16_t pr_api_key;
	int16_t pr_version;
	int32_t pr_corr;
	int64_t pr_deadline_ms;
	peer_done_fn pr_done;
	void *pr_ctx;
	struct kp_writer pr_out; /* the encoded frame */
	size_t pr_sent;
};

struct peer {
	struct broker *pe_broker; /* borrowed */
	int32_t pe_id;		  /* the remote broker id (for logs) */
	char pe_addr[272];
	struct sockaddr_storage pe_sa;
	socklen_t pe_salen;
	int pe_fd;
	int pe_state; /* enum peer_state (peer.c) */
	int32_t pe_next_corr;
	struct peer_req *pe_queue_head, *pe_queue_tail; /* not yet sent */
	struct peer_req *pe_wait_head, *pe_wait_tail;	/* sent, awaiting a response */
	struct io_op pe_connect_op, pe_recv_op, pe_send_op;
	bool pe_connect_inflight, pe_recv_inflight, pe_send_inflight;
	bool pe_parsing; /* callbacks run: no receive into pe_rbuf */
	struct msghdr pe_msg;
	struct iovec pe_iov[16];
	uint8_t *pe_rbuf; /* owned staging buffer */
	uint32_t pe_rlen;
	uint8_t *pe_big; /* a response frame larger than the staging buffer */
	uint32_t pe_big_len, pe_big_have;
	struct timer pe_timer; /* backoff and request deadlines */
	int64_t pe_backoff_ms;
	int64_t pe_retry_at_ms;
	bool pe_closing;      /* peer_destroy was called */
	int pe_ops;	      /* operations in flight (destroy waits for 0) */
	uint64_t pe_failures; /* connection failures, for logs */
};

/* Create a peer for "host:port". Returns NULL with a log line when the
 * address does not resolve. */
struct peer *peer_create(struct broker *b, int32_t id, const char *address);
/* Fail everything queued with -ECANCELED and free once no operation is in
 * flight. */
void peer_destroy(struct peer *p);

/* Queue a request. Returns 0, or a negative code when it cannot be encoded
 * (then done is not called). `timeout_ms` bounds the wait for its
 * response, connecting included. */
int peer_send(struct peer *p, int16_t api_key, int16_t version, const union kp_request_body *body,
	      int64_t timeout_ms, peer_done_fn done, void *ctx);

/* Requests queued or in flight. */
int peer_pending(const struct peer *p);

/* The remote is known to be up again (it just sent us something): forget
 * the backoff and connect now if requests wait. */
void peer_retry_now(struct peer *p);

#endif
