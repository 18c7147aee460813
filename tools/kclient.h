/*
 * kclient — one synchronous Kafka-protocol connection for the command-line
 * tools: connect to one broker, send one request encoded with the client/
 * codec, read its framed response and decode it into memory the
 * connection owns. One request in flight at a time; no retries.
 *
 * What this module owns: the socket, the deadline, the correlation ids, the
 * buffer of the last response frame and the arena its decoded body lives
 * in, and the sticky error with a sentence naming the broker and the cause
 * ("connection refused by 127.0.0.1:9094", "timed out after 5000 ms
 * waiting for the Metadata response from ...").
 *
 * Time: every connection has one budget, timeout_ms, started by
 * kclient_connect(): connecting and every request on it must finish before
 * it runs out. So a tool that asks each broker once is bounded by
 * timeout_ms per broker. Name resolution (getaddrinfo) is the one step not
 * bounded by it; numeric addresses never block there.
 *
 * Sizes: a response frame above KCLIENT_MAX_RESPONSE_BYTES is refused
 * before anything is allocated for it; the decode arena is sized from the
 * frame (KCLIENT_ARENA_RATIO bytes per frame byte, the codec's bound, see
 * client/kp_replog.c) so a decode never runs out of it.
 *
 * Return convention: 0, or a negative code (-errno, KP_E*, or KCLIENT_E*
 * below), also kept in kc_err with its sentence in kc_errmsg. After a
 * failure the connection is closed and every later call returns the same
 * error: make a new connection to try again.
 */
#ifndef REPLOG_KCLIENT_H
#define REPLOG_KCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_arena.h"
#include "kp_header.h"
#include "kp_message.h"

#define KCLIENT_DEFAULT_TIMEOUT_MS 5000
#define KCLIENT_MAX_TIMEOUT_MS	   (10 * 60 * 1000)
/* A Metadata answer for 100k partitions is ~10 MiB; far above any sane
 * cluster, far below what the host can hold 24 times over. */
#define KCLIENT_MAX_RESPONSE_BYTES (64 << 20)
#define KCLIENT_MAX_REQUEST_BYTES  (1 << 20)
/* Decoded bytes per frame byte: the codec needs at most 16 plus 7 of
 * alignment per array (kp_replog.c, kp_metadata.c). */
#define KCLIENT_ARENA_RATIO 24
#define KCLIENT_ARENA_BASE  (64 << 10)
/* "host:port", host up to 253 characters (DNS), brackets for IPv6. */
#define KCLIENT_ADDR_MAX   272
#define KCLIENT_ERRMSG_MAX 384

enum kclient_err {
	KCLIENT_EBASE = -2100,
	KCLIENT_EADDR = -2101,	 /* not HOST:PORT, or the host does not resolve */
	KCLIENT_ECLOSED = -2102, /* the broker closed the connection */
	KCLIENT_ECORR = -2103,	 /* the response answers another request */
	KCLIENT_ELAST = -2104,
};

struct kclient {
	int kc_fd;			/* -1 when not connected */
	int kc_timeout_ms;		/* the budget of the connection */
	int64_t kc_deadline_ms;		/* CLOCK_MONOTONIC; set by kclient_connect() */
	int32_t kc_next_corr;		/* correlation id of the next request */
	char kc_addr[KCLIENT_ADDR_MAX]; /* as given, for messages */
	char kc_host[KCLIENT_ADDR_MAX]; /* without port and brackets */
	char kc_port[8];
	uint8_t *kc_frame; /* owned: the last response frame, after its size prefix */
	size_t kc_frame_cap;
	void *kc_arena_mem; /* owned: where the last response body was decoded */
	size_t kc_arena_cap;
	struct kp_arena kc_arena;
	int kc_err;			    /* first failure, sticky; 0 = none */
	char kc_errmsg[KCLIENT_ERRMSG_MAX]; /* that failure in words; "" = none */
};

/* Split "host:port" or "[v6addr]:port" (port 1..65535). Returns 0 or
 * KCLIENT_EADDR. host/port may be NULL to only check. */
int kclient_parse_addr(const char *addr, char *host, size_t host_cap, char *port, size_t port_cap);

/* Fill kc for the broker at addr ("host:port"), not yet connected. Returns
 * 0 or KCLIENT_EADDR (also recorded, with a sentence). timeout_ms must be
 * 1..KCLIENT_MAX_TIMEOUT_MS. */
int kclient_init(struct kclient *kc, const char *addr, int timeout_ms);

/* Connect, starting the connection's time budget. Outcomes: 0;
 * KCLIENT_EADDR (no such host); -ECONNREFUSED, -ETIMEDOUT, -EHOSTUNREACH,
 * ... (every address of the host tried, the last failure kept). */
int kclient_connect(struct kclient *kc);

/* Send one request (api_key, version, body) and wait for its response,
 * decoded into *resp. The body's strings and arrays point into kc's frame
 * and arena: valid until the next kclient_call() or kclient_deinit() on kc.
 * Outcomes: 0; -ETIMEDOUT (the budget ran out); KCLIENT_ECLOSED;
 * KCLIENT_ECORR; KP_ETOO_LARGE (a frame above the limits); a KP_E* decode
 * failure; -errno of the socket. Trailing bytes after a complete body are
 * accepted, as the broker accepts them from clients. */
int kclient_call(struct kclient *kc, int16_t api_key, int16_t version,
		 const union kp_request_body *req, union kp_response_body *resp);

/* Send one request and do not wait for an answer: for Produce with acks 0,
 * to which the broker sends none. Outcomes as kclient_call() without the
 * response's. A later kclient_call() on kc is answered after it (a broker
 * handles one connection's requests in order). */
int kclient_send(struct kclient *kc, int16_t api_key, int16_t version,
		 const union kp_request_body *req);

/* Start a new budget of kc_timeout_ms from now, for a connection that lives
 * longer than one budget (produce from a pipe, consume --follow): each
 * request is then bounded, not the whole run. */
void kclient_renew(struct kclient *kc);

/* Close the socket; the last response stays readable. Idempotent. */
void kclient_close(struct kclient *kc);

/* Close and free everything; the last response is gone. Idempotent. */
void kclient_deinit(struct kclient *kc);

/* The sentence of the first failure ("" if none). Static while kc lives. */
static inline const char *kclient_errmsg(const struct kclient *kc)
{
	return kc->kc_errmsg;
}

/* Name of any code kclient returns: KCLIENT_E*, KP_E*, RL_E*, -errno, 0. */
const char *kclient_strerror(int code);

#endif
