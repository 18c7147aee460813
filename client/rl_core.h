/*
 * rl_core — what the producer, consumer and admin of libreplog share: the
 * connections to brokers (non-blocking, pipelined: many requests in flight
 * on one connection, answered in order), the metadata cache, and the poll
 * loop that drives them. Prefix rl_.
 *
 * What it owns: one struct rl_client per replog_producer / consumer /
 * admin, holding a copy of the config, a connection per broker (created
 * as the metadata names brokers, plus bootstrap connections with negative
 * ids), and the last metadata seen per topic.
 *
 * Invariants:
 *  - a request is either queued on a connection (its bytes in the output
 *    buffer, its callback in the in-flight ring) or done: its callback runs
 *    exactly once, with the decoded response or an error;
 *  - responses on one connection arrive in request order (Kafka's rule), so
 *    the ring is a FIFO matched by correlation id;
 *  - when a connection fails, every request on it is called back with the
 *    error before the connection is reused (it reconnects on the next
 *    request, after a backoff).
 * Callbacks run inside rl_client_poll(); a callback may queue requests but
 * must not call rl_client_poll() itself (no re-entry).
 */
#ifndef REPLOG_RL_CORE_H
#define REPLOG_RL_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_arena.h"
#include "kp_message.h"
#include "replog.h"

#define RL_MAX_BROKERS	     256
#define RL_MAX_BOOTSTRAP     16
#define RL_MAX_RESPONSE	     (64 << 20)
#define RL_MAX_REQUEST	     (16 << 20)
#define RL_RING		     64 /* requests in flight per connection, any API */
#define RL_ADDR_MAX	     272
#define RL_MAX_REPLICAS	     16
#define RL_RECONNECT_BACKOFF 100
#define RL_METADATA_VERSION  7
#define RL_PRODUCE_VERSION   7
#define RL_FETCH_VERSION     11
#define RL_LISTOFF_VERSION   1
#define RL_EPOCH_VERSION     2

typedef void (*rl_resp_cb)(void *ctx, int err, const union kp_response_body *resp);

struct rl_pending {
	int32_t corr;
	int16_t api_key;
	int16_t version;
	int64_t deadline_ms;
	rl_resp_cb cb;
	void *ctx;
};

enum rl_conn_state { RL_CONN_DOWN, RL_CONN_CONNECTING, RL_CONN_UP };

struct rl_conn {
	int32_t id; /* broker id, or -1 - i for bootstrap server i */
	char addr[RL_ADDR_MAX];
	int fd;
	enum rl_conn_state state;
	int64_t retry_at_ms; /* no new connection before this */
	int failures;	     /* in a row, for the backoff */
	uint8_t *out;	     /* bytes to send: out[out_off..out_len) */
	size_t out_len, out_off, out_cap;
	uint8_t *in; /* bytes received, a partial frame at most... */
	size_t in_len, in_cap;
	struct rl_pending ring[RL_RING];
	int ring_head, ring_count;
	int32_t next_corr;
	void *arena_mem;
	size_t arena_cap;
	char last_error[RL_ADDR_MAX + 160];
};

struct rl_part_meta {
	int16_t kerr;
	int32_t leader;
	int32_t leader_epoch;
	int32_t replicas[RL_MAX_REPLICAS];
	int32_t nreplicas;
	int32_t isr[RL_MAX_REPLICAS];
	int32_t nisr;
};

struct rl_topic_meta {
	char name[REPLOG_TOPIC_MAX + 1];
	int16_t kerr;
	int32_t nparts;
	struct rl_part_meta *parts;
	int64_t fetched_ms;
	struct rl_topic_meta *next;
};

struct rl_client {
	struct replog_config cfg; /* strings point at the copies below */
	char *bootstrap_copy;
	char *client_id_copy;
	char bootstrap[RL_MAX_BOOTSTRAP][RL_ADDR_MAX];
	int nbootstrap;
	struct rl_conn *conns[RL_MAX_BROKERS + RL_MAX_BOOTSTRAP];
	int nconns;
	char cluster_id[64];
	int32_t controller;
	struct rl_topic_meta *topics;
	bool in_poll;
};

/* ---- errors ------------------------------------------------------------- */

/* Fill err (may be NULL) and return code. */
__attribute__((format(printf, 4, 5))) int rl_fail(struct replog_error *err, int code,
						  int kafka_code, const char *fmt, ...);
/* Kafka errors a client retries after a metadata refresh. */
bool rl_kafka_retriable(int kerr);
int64_t rl_now_ms(void);

/* ---- client ------------------------------------------------------------- */

int rl_client_init(struct rl_client *cl, const struct replog_config *cfg, struct replog_error *err);
void rl_client_deinit(struct rl_client *cl);

/* Fail every request on every connection (callbacks run with err). */
void rl_client_fail_all(struct rl_client *cl, int err, const char *why);

/* The connection to broker `id` (created when the metadata names it), or
 * NULL when no metadata names it. */
struct rl_conn *rl_client_conn(struct rl_client *cl, int32_t id);

/* Queue a request on c. Returns 0 (cb will be called once), or a negative
 * code when it could not be queued (ring full: -EAGAIN; encode failure),
 * in which case cb is not called. */
int rl_conn_request(struct rl_client *cl, struct rl_conn *c, int16_t api_key, int16_t version,
		    const union kp_request_body *req, rl_resp_cb cb, void *ctx);
/* Requests on c not yet answered. */
static inline int rl_conn_inflight(const struct rl_conn *c)
{
	return c->ring_count;
}
/* True when a request queued now would be sent without a wait. */
bool rl_conn_usable(const struct rl_conn *c, int64_t now);

/* Run I/O for up to timeout_ms (0: what is ready). Returns 0 or -EINTR. */
int rl_client_poll(struct rl_client *cl, int timeout_ms);

/* One request to broker id (or any bootstrap/known broker when id < 0),
 * waiting for its answer up to the request timeout. The answer is copied
 * out by `take` (called with it, inside the wait). Returns REPLOG_OK or an
 * error in err. */
typedef int (*rl_take_cb)(void *ctx, const union kp_response_body *resp, struct replog_error *err);
int rl_call(struct rl_client *cl, int32_t id, int16_t api_key, int16_t version,
	    const union kp_request_body *req, rl_take_cb take, void *ctx, struct replog_error *err);

/* Refresh metadata for these topics (n 0 = every topic). Returns REPLOG_OK
 * or REPLOG_ERR_TRANSPORT when no broker answered. */
int rl_metadata_refresh(struct rl_client *cl, const char *const *topics, int n, bool auto_create,
			struct replog_error *err);
/* The cached metadata of a topic (NULL if never fetched). */
struct rl_topic_meta *rl_topic(struct rl_client *cl, const char *topic);
/* The metadata of topic, fetched if absent or older than max age. Returns
 * REPLOG_OK with *out, REPLOG_ERR_UNKNOWN_TOPIC, or a transport error. */
int rl_topic_get(struct rl_client *cl, const char *topic, bool auto_create,
		 struct rl_topic_meta **out, struct replog_error *err);

/* Records of one batch as a consumer sees them (decompressed). */
struct rl_record_view {
	int64_t offset;
	int64_t timestamp_ms;
	const uint8_t *key;
	int32_t key_len;
	const uint8_t *value;
	int32_t value_len;
};
typedef int (*rl_record_fn)(void *ctx, const struct rl_record_view *r, int32_t epoch);
/* Walk every record of every whole batch in `data` (a Fetch answer's
 * records), decompressing into *scratch (grown as needed, caller frees).
 * Control batches are skipped. Returns the offset after the last whole
 * batch (or start when none), or a negative code for a corrupt batch. */
int64_t rl_records_walk(const uint8_t *data, size_t len, int64_t start, uint8_t **scratch,
			size_t *scratch_cap, rl_record_fn fn, void *ctx);

#endif
