/*
 * quorum — canonical raft driven by our reactor (contract in quorum.h).
 *
 * raft_io here: storage calls are synchronous (raftlog.h makes every change
 * durable before it returns), but raft expects their callbacks later, so
 * completions queue and run from a zero-delay timer, in order. Messages are
 * encoded when sent and go as ReplogRaft requests on one peer connection
 * per member; their answers carry nothing and are ignored (Raft resends
 * what was lost).
 */
#include "quorum.h"

#include <errno.h>
#include <raft.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "blog.h"
#include "broker.h"
#include "kp_api.h"
#include "peer.h"
#include "raftlog.h"
#include "raftmsg.h"
#include "reactor.h"
#include "rlerr.h"

#define QR_DIR		   "__cluster_metadata-0"
#define QR_SEND_TIMEOUT_MS 2000
#define QR_ET_MIN_MS	   150
#define QR_ET_MAX_MS	   1000

enum qr_kind { QR_SEND, QR_APPEND, QR_SNAP_PUT, QR_SNAP_GET };

struct qr_pending {
	int qp_kind; /* enum qr_kind */
	void *qp_req;
	void *qp_cb;
	int qp_status;
	struct raft_snapshot *qp_snap; /* QR_SNAP_GET */
	uint64_t qp_last_index;	       /* QR_APPEND: the last index it stored */
	struct qr_pending *qp_next;
};

struct qr_member {
	int32_t qm_id;
	struct peer *qm_peer; /* for Raft messages only: created on first send */
};

struct qr_proposal {
	struct raft_apply qp_req;
	struct quorum *qp_q;
	qr_done_fn qp_done;
	void *qp_ctx;
};

struct quorum {
	struct broker *q_b;
	struct raft q_raft;
	struct raft_io q_io;
	struct raft_fsm q_fsm;
	struct qr_ops q_ops;
	struct rlg *q_log;
	char q_addr[CONFIG_HOSTPORT_MAX];
	raft_io_tick_cb q_tick_cb;
	raft_io_recv_cb q_recv_cb;
	unsigned q_tick_ms;
	unsigned q_election_ms;
	int64_t q_last_tick_ms;	  /* real clock at the last tick */
	int64_t q_trust_after_ms; /* after a stall: no leases before this */
	struct timer q_tick_timer;
	struct timer q_done_timer;
	struct qr_pending *q_head, *q_tail;
	struct qr_member q_members[CONFIG_MAX_BROKERS];
	int q_nmembers;
	bool q_active;
	uint64_t q_active_term;
	uint64_t q_barrier_term; /* a barrier was appended in this term */
	bool q_stopping;
	bool q_failed;
	bool q_closed;
	bool q_raft_inited;
	uint64_t q_rand;
	/* While raft answers an AppendEntries: the highest index that request
	 * proved this log shares with the leader (0: not answering one). */
	uint64_t q_verified;
	struct raft_transfer q_transfer;
	bool q_transferring;
};

static int64_t qr_now(const struct quorum *q)
{
	return q->q_b->b_reactor.re_now_ms;
}

static void qr_fail(struct quorum *q, const char *why, const char *detail)
{
	if (q->q_failed)
		return;
	q->q_failed = true;
	blog(BLOG_ERROR, "metadata_quorum_failed", "reason", why, "error", detail ? detail : "",
	     NULL);
	if (!q->q_b->b_storage_failed)
		q->q_b->b_exit_code = 1;
	broker_stop(q->q_b, "the metadata quorum member failed");
}

/* A write or fsync of the metadata log failed (rc from raftlog): the
 * broker crash-stops as for a partition's log (broker_storage_failed);
 * other refusals stop it as qr_fail does. */
static void qr_storage_failed(struct quorum *q, const char *op, int rc)
{
	if (!broker_is_storage_error(rc)) {
		qr_fail(q, op, rl_strerror(rc));
		return;
	}
	if (q->q_failed)
		return;
	q->q_failed = true;
	broker_storage_failed(q->q_b, NULL, -1, -1, op, rc);
}

/* ---- role ------------------------------------------------------------- */

static void qr_check_role(struct quorum *q);

static void qr_barrier_done(struct raft_barrier *req, int status)
{
	struct quorum *q = req->data;
	uint64_t term = q->q_barrier_term;
	free(req);
	if (q->q_stopping)
		return;
	if (status != 0) {
		q->q_barrier_term = 0; /* appended again if still leader */
		qr_check_role(q);
		return;
	}
	if (!q->q_active && raft_state(&q->q_raft) == RAFT_LEADER &&
	    q->q_raft.current_term == term) {
		q->q_active = true;
		q->q_active_term = term;
		q->q_ops.role(q->q_ops.ctx, true, term);
	}
}

static void qr_check_role(struct quorum *q)
{
	if (q->q_stopping || q->q_failed)
		return;
	bool leader = raft_state(&q->q_raft) == RAFT_LEADER;
	uint64_t term = q->q_raft.current_term;
	if (q->q_active && (!leader || term != q->q_active_term)) {
		q->q_active = false;
		q->q_ops.role(q->q_ops.ctx, false, q->q_active_term);
	}
	if (leader && !q->q_active && q->q_barrier_term != term) {
		struct raft_barrier *req = calloc(1, sizeof(*req));
		if (!req)
			return;
		req->data = q;
		q->q_barrier_term = term;
		if (raft_barrier(&q->q_raft, req, qr_barrier_done) != 0) {
			free(req);
			q->q_barrier_term = 0;
		}
	}
}

/* ---- completions ------------------------------------------------------ */

static int qr_defer(struct quorum *q, int kind, void *req, void *cb, int status,
		    struct raft_snapshot *snap, uint64_t last_index)
{
	struct qr_pending *p = calloc(1, sizeof(*p));
	if (!p)
		return RAFT_NOMEM;
	*p = (struct qr_pending){.qp_kind = kind,
				 .qp_req = req,
				 .qp_cb = cb,
				 .qp_status = status,
				 .qp_snap = snap,
				 .qp_last_index = last_index};
	if (q->q_tail)
		q->q_tail->qp_next = p;
	else
		q->q_head = p;
	q->q_tail = p;
	if (!q->q_stopping)
		timer_arm(&q->q_b->b_reactor.re_timers, &q->q_done_timer, qr_now(q));
	return 0;
}

static void qr_complete(struct quorum *q, struct qr_pending *p)
{
	if (!p->qp_cb) /* raft sends TimeoutNow without a callback */
		return;
	switch (p->qp_kind) {
	case QR_SEND:
		((raft_io_send_cb)p->qp_cb)(p->qp_req, p->qp_status);
		break;
	case QR_APPEND:
		/* A follower answers the AppendEntries these entries came in
		 * from now: they end where that request ended. */
		q->q_verified = p->qp_last_index;
		((raft_io_append_cb)p->qp_cb)(p->qp_req, p->qp_status);
		q->q_verified = 0;
		break;
	case QR_SNAP_PUT:
		((raft_io_snapshot_put_cb)p->qp_cb)(p->qp_req, p->qp_status);
		break;
	case QR_SNAP_GET:
		((raft_io_snapshot_get_cb)p->qp_cb)(p->qp_req, p->qp_snap, p->qp_status);
		break;
	}
}

/* Run every queued completion, oldest first (callbacks may queue more). */
static void qr_drain(struct quorum *q)
{
	while (q->q_head) {
		struct qr_pending *p = q->q_head;
		q->q_head = p->qp_next;
		if (!q->q_head)
			q->q_tail = NULL;
		qr_complete(q, p);
		free(p);
	}
}

static void qr_on_done_timer(struct timer *t)
{
	struct quorum *q = t->tm_ctx;
	qr_drain(q);
	qr_check_role(q);
}

/* A tick later than this means the process did not run for long enough
 * that followers may have stopped waiting for it: they hear from a leader
 * at every tick, and none starts an election before an election timeout
 * without one. Shorter stalls (a busy disk, a loaded machine) are no sign
 * of another leader. */
static int64_t qr_stall_ms(const struct quorum *q)
{
	return (int64_t)q->q_election_ms;
}

static void qr_on_tick(struct timer *t)
{
	struct quorum *q = t->tm_ctx;
	if (q->q_stopping)
		return;
	timer_arm(&q->q_b->b_reactor.re_timers, &q->q_tick_timer, qr_now(q) + q->q_tick_ms);
	int64_t now = reactor_clock_ms();
	if (q->q_last_tick_ms > 0 && now - q->q_last_tick_ms > qr_stall_ms(q)) {
		/* Frozen or starved: another leader may have been elected
		 * meanwhile, and its messages are on their way. */
		q->q_trust_after_ms = now + 2 * (int64_t)q->q_election_ms;
		char b1[BLOG_I64_BUF];
		blog(BLOG_WARN, "metadata_quorum_stalled", "ms",
		     blog_i64(b1, now - q->q_last_tick_ms), NULL);
	}
	q->q_last_tick_ms = now;
	if (q->q_tick_cb)
		q->q_tick_cb(&q->q_io);
	qr_check_role(q);
}

bool qr_lease_ok(const struct quorum *q)
{
	int64_t now = reactor_clock_ms();
	return q->q_active && q->q_last_tick_ms > 0 && now - q->q_last_tick_ms <= qr_stall_ms(q) &&
	       now >= q->q_trust_after_ms;
}

/* ---- raft_io: storage --------------------------------------------------- */

static int qio_init(struct raft_io *io, raft_id id, const char *address)
{
	(void)io;
	(void)id;
	(void)address;
	return 0;
}

static void qio_close(struct raft_io *io, raft_io_close_cb cb)
{
	struct quorum *q = io->impl;
	timer_cancel(&q->q_b->b_reactor.re_timers, &q->q_tick_timer);
	timer_cancel(&q->q_b->b_reactor.re_timers, &q->q_done_timer);
	qr_drain(q);
	q->q_tick_cb = NULL;
	q->q_recv_cb = NULL;
	if (cb)
		cb(io);
}

/* raft_malloc'd copies of a stored snapshot, as raft wants them. */
static struct raft_snapshot *qr_snapshot_to_raft(const struct rlg_snapshot *s)
{
	struct raft_snapshot *rs = raft_calloc(1, sizeof(*rs));
	if (!rs)
		return NULL;
	rs->index = s->index;
	rs->term = s->term;
	rs->configuration_index = s->conf_index;
	rs->bufs = raft_calloc(1, sizeof(*rs->bufs));
	void *data = raft_malloc(s->data_len ? s->data_len : 1);
	if (!rs->bufs || !data || rmsg_conf_decode(s->conf, s->conf_len, &rs->configuration) != 0) {
		raft_free(data);
		raft_free(rs->bufs);
		raft_free(rs);
		return NULL;
	}
	if (s->data_len)
		memcpy(data, s->data, s->data_len);
	rs->bufs[0] = (struct raft_buffer){.base = data, .len = s->data_len};
	rs->n_bufs = 1;
	return rs;
}

static int qio_load(struct raft_io *io, raft_term *term, raft_id *voted_for,
		    struct raft_snapshot **snapshot, raft_index *start_index,
		    struct raft_entry *entries[], size_t *n_entries)
{
	struct quorum *q = io->impl;
	struct rlg_loaded ld;
	if (rlg_load(q->q_log, &ld) < 0)
		return RAFT_IOERR;
	*term = ld.term;
	*voted_for = ld.voted_for;
	*snapshot = NULL;
	*entries = NULL;
	*n_entries = 0;
	*start_index = ld.start_index ? ld.start_index : 1;
	int rc = 0;
	if (ld.has_snapshot && !(*snapshot = qr_snapshot_to_raft(&ld.snap)))
		rc = RAFT_CORRUPT;
	if (!rc && ld.n_entries > 0) {
		size_t total = 0;
		for (size_t i = 0; i < ld.n_entries; i++)
			total += ld.entries[i].len;
		struct raft_entry *e = raft_calloc(ld.n_entries, sizeof(*e));
		uint8_t *block = raft_malloc(total ? total : 1);
		if (!e || !block) {
			raft_free(e);
			raft_free(block);
			rc = RAFT_NOMEM;
		} else {
			size_t at = 0;
			for (size_t i = 0; i < ld.n_entries; i++) {
				e[i].term = ld.entries[i].term;
				e[i].type = ld.entries[i].type;
				e[i].buf.base = block + at;
				e[i].buf.len = ld.entries[i].len;
				e[i].batch = block;
				if (ld.entries[i].len)
					memcpy(block + at, ld.entries[i].data, ld.entries[i].len);
				at += ld.entries[i].len;
			}
			*entries = e;
			*n_entries = ld.n_entries;
		}
	}
	rlg_loaded_free(&ld);
	return rc;
}

static int qio_start(struct raft_io *io, unsigned msecs, raft_io_tick_cb tick, raft_io_recv_cb recv)
{
	struct quorum *q = io->impl;
	q->q_tick_ms = msecs ? msecs : 100;
	q->q_tick_cb = tick;
	q->q_recv_cb = recv;
	q->q_last_tick_ms = reactor_clock_ms();
	timer_arm(&q->q_b->b_reactor.re_timers, &q->q_tick_timer, qr_now(q) + q->q_tick_ms);
	return 0;
}

static int qio_bootstrap(struct raft_io *io, const struct raft_configuration *conf)
{
	struct quorum *q = io->impl;
	if (!rlg_pristine(q->q_log))
		return RAFT_CANTBOOTSTRAP;
	struct raft_buffer buf;
	if (raft_configuration_encode(conf, &buf) != 0)
		return RAFT_NOMEM;
	struct rlg_entry e = {
		.term = 1, .type = RAFT_CHANGE, .data = buf.base, .len = (uint32_t)buf.len};
	int rc = rlg_set_term(q->q_log, 1);
	if (rc == 0)
		rc = rlg_append(q->q_log, 1, &e, 1);
	raft_free(buf.base);
	return rc < 0 ? RAFT_IOERR : 0;
}

static int qio_recover(struct raft_io *io, const struct raft_configuration *conf)
{
	(void)io;
	(void)conf;
	return RAFT_INVALID;
}

static int qio_set_term(struct raft_io *io, raft_term term)
{
	struct quorum *q = io->impl;
	int rc = rlg_set_term(q->q_log, term);
	if (rc < 0) {
		qr_storage_failed(q, "metadata term", rc);
		return RAFT_IOERR;
	}
	return 0;
}

static int qio_set_vote(struct raft_io *io, raft_id server_id)
{
	struct quorum *q = io->impl;
	int rc = rlg_set_vote(q->q_log, server_id);
	if (rc < 0) {
		qr_storage_failed(q, "metadata vote", rc);
		return RAFT_IOERR;
	}
	return 0;
}

static int qio_append(struct raft_io *io, struct raft_io_append *req,
		      const struct raft_entry entries[], unsigned n, raft_io_append_cb cb)
{
	struct quorum *q = io->impl;
	struct rlg_entry *e = calloc(n ? n : 1, sizeof(*e));
	if (!e)
		return RAFT_NOMEM;
	for (unsigned i = 0; i < n; i++)
		e[i] = (struct rlg_entry){.term = entries[i].term,
					  .type = (uint8_t)entries[i].type,
					  .data = entries[i].buf.base,
					  .len = (uint32_t)entries[i].buf.len};
	uint64_t first = rlg_last_index(q->q_log) + 1;
	int rc = rlg_append(q->q_log, first, e, n);
	free(e);
	if (rc < 0) {
		qr_storage_failed(q, "metadata append", rc);
		return RAFT_IOERR;
	}
	return qr_defer(q, QR_APPEND, req, (void *)cb, 0, NULL, first + n - 1);
}

static int qio_truncate(struct raft_io *io, raft_index index)
{
	struct quorum *q = io->impl;
	int rc = rlg_truncate(q->q_log, index);
	if (rc < 0) {
		qr_storage_failed(q, "metadata truncate", rc);
		return RAFT_IOERR;
	}
	return 0;
}

static int qio_snapshot_put(struct raft_io *io, unsigned trailing, struct raft_io_snapshot_put *req,
			    const struct raft_snapshot *snapshot, raft_io_snapshot_put_cb cb)
{
	struct quorum *q = io->impl;
	size_t total = 0;
	for (unsigned i = 0; i < snapshot->n_bufs; i++)
		total += snapshot->bufs[i].len;
	uint8_t *data = malloc(total ? total : 1);
	uint8_t *conf = NULL;
	size_t conf_len = 0;
	if (!data || rmsg_conf_encode(&snapshot->configuration, &conf, &conf_len) != 0) {
		free(data);
		return RAFT_NOMEM;
	}
	size_t at = 0;
	for (unsigned i = 0; i < snapshot->n_bufs; i++) {
		if (snapshot->bufs[i].len)
			memcpy(data + at, snapshot->bufs[i].base, snapshot->bufs[i].len);
		at += snapshot->bufs[i].len;
	}
	struct rlg_snapshot s = {.index = snapshot->index,
				 .term = snapshot->term,
				 .conf_index = snapshot->configuration_index,
				 .conf = conf,
				 .conf_len = conf_len,
				 .data = data,
				 .data_len = total};
	int rc = rlg_snapshot_put(q->q_log, &s, trailing);
	free(conf);
	free(data);
	if (rc < 0) {
		qr_storage_failed(q, "metadata snapshot", rc);
		return RAFT_IOERR;
	}
	char b1[BLOG_I64_BUF], b2[BLOG_I64_BUF];
	blog(BLOG_INFO, "metadata_snapshot_stored", "index", blog_i64(b1, (int64_t)snapshot->index),
	     "bytes", blog_i64(b2, (int64_t)total), "installed", trailing == 0 ? "true" : "false",
	     NULL);
	return qr_defer(q, QR_SNAP_PUT, req, (void *)cb, 0, NULL, 0);
}

static int qio_snapshot_get(struct raft_io *io, struct raft_io_snapshot_get *req,
			    raft_io_snapshot_get_cb cb)
{
	struct quorum *q = io->impl;
	struct rlg_snapshot s;
	struct raft_snapshot *rs = NULL;
	int rc = rlg_snapshot_get(q->q_log, &s);
	if (rc == 1) {
		rs = qr_snapshot_to_raft(&s);
		rlg_snapshot_free(&s);
	}
	return qr_defer(q, QR_SNAP_GET, req, (void *)cb, rs ? 0 : RAFT_NOTFOUND, rs, 0);
}

static raft_time qio_time(struct raft_io *io)
{
	(void)io;
	return (raft_time)reactor_clock_ms();
}

/* Election timeouts must differ between members: a generator of our own,
 * seeded from the kernel, not rand()'s shared default seed. */
static int qio_random(struct raft_io *io, int min, int max)
{
	struct quorum *q = io->impl;
	q->q_rand = q->q_rand * 6364136223846793005ULL + 1442695040888963407ULL;
	uint32_t r = (uint32_t)(q->q_rand >> 33);
	return max > min ? min + (int)(r % (uint32_t)(max - min)) : min;
}

/* ---- raft_io: transport --------------------------------------------------- */

static struct qr_member *qr_member(struct quorum *q, int32_t id)
{
	for (int i = 0; i < q->q_nmembers; i++)
		if (q->q_members[i].qm_id == id)
			return &q->q_members[i];
	return NULL;
}

static void qr_sent(void *ctx, int err, const union kp_response_body *resp)
{
	(void)ctx;
	(void)err;
	(void)resp;
}

static int qio_send(struct raft_io *io, struct raft_io_send *req, const struct raft_message *m,
		    raft_io_send_cb cb)
{
	struct quorum *q = io->impl;
	struct qr_member *mb = qr_member(q, (int32_t)m->server_id);
	int status = RAFT_NOCONNECTION;
	if (mb && !mb->qm_peer) {
		/* This broker's own route to the peer, not the address the
		 * replicated configuration names: links may differ per broker. */
		const char *peer = config_peer_address(&q->q_b->b_cfg, mb->qm_id);
		mb->qm_peer = peer_create(q->q_b, mb->qm_id, peer ? peer : m->server_address);
	}
	uint8_t *bytes = NULL;
	size_t len = 0;
	struct raft_message fixed;
	if (m->type == RAFT_IO_APPEND_ENTRIES_RESULT && m->append_entries_result.rejected == 0 &&
	    q->q_verified > 0 && m->append_entries_result.last_log_index > q->q_verified) {
		/* raft 0.15 answers success with its whole log's end, which may
		 * hold stale entries past what the leader sent: the leader would
		 * count them as its own and commit on them. Only what the
		 * request proved matches. */
		fixed = *m;
		fixed.append_entries_result.last_log_index = q->q_verified;
		m = &fixed;
	}
	if (mb && mb->qm_peer && rmsg_encode(m, &bytes, &len) == 0) {
		union kp_request_body body = {
			.replog_raft = {.from_id = q->q_b->b_cfg.bc_id,
					.from_address = kp_str_from_cstr(q->q_addr),
					.message = {bytes, (int32_t)len}}};
		if (peer_send(mb->qm_peer, KP_API_REPLOG_RAFT, 0, &body, QR_SEND_TIMEOUT_MS,
			      qr_sent, q) == 0)
			status = 0;
	}
	free(bytes);
	return qr_defer(q, QR_SEND, req, (void *)cb, status, NULL, 0);
}

int qr_recv(struct quorum *q, const struct kp_replog_raft_request *req)
{
	if (!q || q->q_stopping || !q->q_recv_cb)
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;
	struct qr_member *from = qr_member(q, req->from_id);
	if (!from || req->from_address.len <= 0 || req->from_address.len >= CONFIG_HOSTPORT_MAX ||
	    req->message.len <= 0)
		return KP_ERR_INVALID_REQUEST;
	struct raft_message m;
	memset(&m, 0, sizeof(m));
	if (rmsg_decode(req->message.ptr, (size_t)req->message.len, &m) != 0)
		return KP_ERR_CORRUPT_MESSAGE;
	/* It is up: our messages to it need not wait out a backoff from when
	 * it was down (a restarted member would learn commits seconds late). */
	if (from->qm_peer)
		peer_retry_now(from->qm_peer);
	char addr[CONFIG_HOSTPORT_MAX];
	memcpy(addr, req->from_address.ptr, (size_t)req->from_address.len);
	addr[req->from_address.len] = '\0';
	m.server_id = (raft_id)req->from_id;
	m.server_address = addr;
	if (m.type == RAFT_IO_APPEND_ENTRIES) {
		/* What this request proves this log shares with the leader ends
		 * at prev + n. raft 0.15 takes min(leader_commit, its own last
		 * index) as committed, which may be a stale entry past that: a
		 * follower must commit only what it knows matches (Raft's
		 * "index of last new entry"). */
		uint64_t proven = m.append_entries.prev_log_index + m.append_entries.n_entries;
		if (m.append_entries.leader_commit > proven)
			m.append_entries.leader_commit = proven;
		q->q_verified = proven;
	}
	q->q_recv_cb(&q->q_io, &m);
	q->q_verified = 0;
	qr_check_role(q);
	return 0;
}

/* ---- the state machine ------------------------------------------------------ */

static int qr_fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf, void **result)
{
	struct quorum *q = fsm->data;
	*result = NULL;
	/* raft applies index last_applied + 1; its offset is the index - 1 */
	int64_t offset = (int64_t)q->q_raft.last_applied;
	if (!q->q_failed && q->q_ops.apply(q->q_ops.ctx, offset, buf->base, buf->len) < 0)
		qr_fail(q, "a committed metadata entry does not apply", NULL);
	return 0;
}

static int qr_fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n_bufs)
{
	struct quorum *q = fsm->data;
	char *out = NULL;
	size_t len = 0;
	if (q->q_ops.snapshot(q->q_ops.ctx, &out, &len) < 0)
		return RAFT_NOMEM;
	struct raft_buffer *b = raft_malloc(sizeof(*b));
	void *base = raft_malloc(len ? len : 1);
	if (!b || !base) {
		raft_free(b);
		raft_free(base);
		free(out);
		return RAFT_NOMEM;
	}
	if (len)
		memcpy(base, out, len);
	free(out);
	*b = (struct raft_buffer){.base = base, .len = len};
	*bufs = b;
	*n_bufs = 1;
	return 0;
}

static int qr_fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
	struct quorum *q = fsm->data;
	if (q->q_ops.restore(q->q_ops.ctx, buf->base, buf->len) < 0)
		return RAFT_MALFORMED;
	raft_free(buf->base);
	return 0;
}

/* ---- proposals ------------------------------------------------------------- */

static void qr_applied(struct raft_apply *req, int status, void *result)
{
	struct qr_proposal *p = req->data;
	(void)result;
	qr_done_fn done = p->qp_done;
	void *ctx = p->qp_ctx;
	free(p);
	if (done)
		done(ctx, status == 0 ? 0 : KP_ERR_NOT_CONTROLLER);
}

int qr_propose(struct quorum *q, const char *recs, size_t len, qr_done_fn done, void *ctx)
{
	if (!q->q_active || q->q_stopping)
		return KP_ERR_NOT_CONTROLLER;
	struct qr_proposal *p = calloc(1, sizeof(*p));
	void *base = raft_malloc(len ? len : 1);
	if (!p || !base) {
		free(p);
		raft_free(base);
		return KP_ERR_KAFKA_STORAGE_ERROR;
	}
	memcpy(base, recs, len);
	*p = (struct qr_proposal){.qp_q = q, .qp_done = done, .qp_ctx = ctx};
	p->qp_req.data = p;
	struct raft_buffer buf = {.base = base, .len = len};
	int rc = raft_apply(&q->q_raft, &p->qp_req, &buf, 1, qr_applied);
	if (rc != 0) {
		raft_free(base);
		free(p);
		return rc == RAFT_NOTLEADER || rc == RAFT_LEADERSHIPLOST
			       ? KP_ERR_NOT_CONTROLLER
			       : KP_ERR_KAFKA_STORAGE_ERROR;
	}
	return 0;
}

static void qr_transferred(struct raft_transfer *req)
{
	struct quorum *q = req->data;
	q->q_transferring = false;
	if (q->q_stopping)
		return;
	char b1[BLOG_I64_BUF];
	blog(BLOG_INFO, "controller_handed_over", "leader", blog_i64(b1, qr_leader(q)), NULL);
	qr_check_role(q);
}

void qr_hand_over(struct quorum *q)
{
	if (!q || q->q_stopping || q->q_transferring || raft_state(&q->q_raft) != RAFT_LEADER)
		return;
	q->q_transfer.data = q;
	if (raft_transfer(&q->q_raft, &q->q_transfer, 0, qr_transferred) == 0) {
		q->q_transferring = true;
		char b1[BLOG_I64_BUF];
		blog(BLOG_INFO, "controller_handover", "to",
		     blog_i64(b1, (int64_t)q->q_transfer.id), NULL);
	}
	qr_check_role(q);
}

bool qr_handing_over(const struct quorum *q)
{
	return q && q->q_transferring;
}

int64_t qr_next_offset(const struct quorum *q)
{
	return (int64_t)raft_last_index((struct raft *)&q->q_raft);
}

int32_t qr_leader(const struct quorum *q)
{
	raft_id id = 0;
	const char *addr = NULL;
	raft_leader((struct raft *)&q->q_raft, &id, &addr);
	return id ? (int32_t)id : -1;
}

bool qr_active(const struct quorum *q)
{
	return q && q->q_active;
}

uint64_t qr_term(const struct quorum *q)
{
	return q->q_raft.current_term;
}

void qr_describe(struct quorum *q, struct kp_replog_describe_quorum_response *r,
		 void *(*alloc)(void *actx, size_t n, size_t size), void *actx)
{
	struct raft *rf = &q->q_raft;
	r->leader_id = qr_leader(q);
	r->state = (int8_t)raft_state(rf);
	r->term = (int64_t)rf->current_term;
	r->commit_index = (int64_t)rf->commit_index;
	r->last_applied = (int64_t)rf->last_applied;
	r->last_index = (int64_t)raft_last_index(rf);
	r->snapshot_index = (int64_t)rf->log.snapshot.last_index;
	unsigned n = rf->configuration.n;
	r->members = n ? alloc(actx, n, sizeof(*r->members)) : NULL;
	if (!r->members)
		return;
	r->members_count = (int32_t)n;
	bool leader = raft_state(rf) == RAFT_LEADER && rf->leader_state.progress;
	int64_t now = reactor_clock_ms();
	for (unsigned i = 0; i < n; i++) {
		const struct raft_server *s = &rf->configuration.servers[i];
		r->members[i] = (struct kp_replog_quorum_member){.id = (int32_t)s->id,
								 .role = (int8_t)s->role,
								 .match_index = -1,
								 .last_contact_ms_ago = -1};
		if (!leader)
			continue;
		if (s->id == rf->id) {
			r->members[i].match_index = (int64_t)raft_last_index(rf);
			r->members[i].last_contact_ms_ago = 0;
			continue;
		}
		const struct raft_progress *pr = &rf->leader_state.progress[i];
		r->members[i].match_index = (int64_t)pr->match_index;
		r->members[i].last_contact_ms_ago =
			pr->last_send ? now - (int64_t)pr->last_send : -1;
	}
}

/* ---- start / stop -------------------------------------------------------------- */

static bool qr_is_voter(const struct broker_config *cfg, int32_t id)
{
	for (int i = 0; i < cfg->bc_controller_count; i++)
		if (cfg->bc_controllers[i] == id)
			return true;
	return false;
}

static int qr_bootstrap(struct quorum *q)
{
	const struct broker_config *cfg = &q->q_b->b_cfg;
	struct raft_configuration conf;
	raft_configuration_init(&conf);
	int rc = 0;
	for (int i = 0; i < cfg->bc_broker_count && rc == 0; i++) {
		int32_t id = cfg->bc_brokers[i].cba_id;
		rc = raft_configuration_add(&conf, (raft_id)id, cfg->bc_brokers[i].cba_address,
					    qr_is_voter(cfg, id) ? RAFT_VOTER : RAFT_STANDBY);
	}
	if (rc == 0)
		rc = raft_bootstrap(&q->q_raft, &conf);
	raft_configuration_close(&conf);
	return rc;
}

static void qr_free(struct quorum *q)
{
	for (int i = 0; i < q->q_nmembers; i++)
		if (q->q_members[i].qm_peer)
			peer_destroy(q->q_members[i].qm_peer);
	if (q->q_log)
		rlg_close(q->q_log);
	free(q);
}

static void qr_closed(struct raft *r)
{
	struct quorum *q = r->data;
	q->q_closed = true;
}

int qr_start(struct broker *b, const struct qr_ops *ops, struct quorum **out)
{
	const struct broker_config *cfg = &b->b_cfg;
	struct quorum *q = calloc(1, sizeof(*q));
	if (!q)
		return -1;
	q->q_b = b;
	q->q_ops = *ops;
	if (getrandom(&q->q_rand, sizeof(q->q_rand), 0) != sizeof(q->q_rand))
		q->q_rand = (uint64_t)reactor_clock_ms() ^ ((uint64_t)cfg->bc_id << 32);
	timer_init(&q->q_tick_timer, qr_on_tick, q);
	timer_init(&q->q_done_timer, qr_on_done_timer, q);
	for (int i = 0; i < cfg->bc_broker_count; i++) {
		q->q_members[q->q_nmembers++].qm_id = cfg->bc_brokers[i].cba_id;
		if (cfg->bc_brokers[i].cba_id == cfg->bc_id)
			snprintf(q->q_addr, sizeof(q->q_addr), "%s",
				 cfg->bc_brokers[i].cba_address);
	}
	char dir[CONFIG_PATH_MAX + 64], err[512], old[CONFIG_PATH_MAX + 128];
	snprintf(dir, sizeof(dir), "%s/%s", cfg->bc_data_dir, QR_DIR);
	/* Before the quorum, this directory held the metadata as a partition
	 * log; bootstrapping a new history next to it would forget every
	 * topic (and remove their data as strays). */
	snprintf(old, sizeof(old), "%s/00000000000000000000.log", dir);
	if (access(old, F_OK) == 0) {
		blog(BLOG_ERROR, "start_failed", "reason",
		     "the data directory holds metadata from a replog before the metadata quorum; "
		     "it cannot be read by this version (start from an empty data_dir)",
		     "path", old, NULL);
		qr_free(q);
		return -1;
	}
	if (rlg_open(dir, &q->q_log, err, sizeof(err)) < 0) {
		blog(BLOG_ERROR, "start_failed", "reason", "cannot open the metadata log", "error",
		     err, NULL);
		qr_free(q);
		return -1;
	}
	q->q_io = (struct raft_io){.version = 1,
				   .impl = q,
				   .init = qio_init,
				   .close = qio_close,
				   .load = qio_load,
				   .start = qio_start,
				   .bootstrap = qio_bootstrap,
				   .recover = qio_recover,
				   .set_term = qio_set_term,
				   .set_vote = qio_set_vote,
				   .send = qio_send,
				   .append = qio_append,
				   .truncate = qio_truncate,
				   .snapshot_put = qio_snapshot_put,
				   .snapshot_get = qio_snapshot_get,
				   .time = qio_time,
				   .random = qio_random};
	q->q_fsm = (struct raft_fsm){.version = 1,
				     .data = q,
				     .apply = qr_fsm_apply,
				     .snapshot = qr_fsm_snapshot,
				     .restore = qr_fsm_restore};
	if (raft_init(&q->q_raft, &q->q_io, &q->q_fsm, (raft_id)cfg->bc_id, q->q_addr) != 0) {
		blog(BLOG_ERROR, "start_failed", "reason", "raft_init failed", "error",
		     raft_errmsg(&q->q_raft), NULL);
		qr_free(q);
		return -1;
	}
	q->q_raft_inited = true;
	q->q_raft.data = q;
	/* The election timeout bounds how long a deposed controller may
	 * still believe it leads: well under the gap between a lease (2/3 of
	 * the session) and the session timeout a new controller waits. */
	int64_t et = cfg->bc_session_timeout_ms / 6;
	et = et < QR_ET_MIN_MS ? QR_ET_MIN_MS : et > QR_ET_MAX_MS ? QR_ET_MAX_MS : et;
	raft_set_election_timeout(&q->q_raft, (unsigned)et);
	q->q_election_ms = (unsigned)et;
	raft_set_heartbeat_timeout(&q->q_raft, (unsigned)(et / 10));
	raft_set_pre_vote(&q->q_raft, true);
	raft_set_snapshot_threshold(&q->q_raft, (unsigned)cfg->bc_metadata_snapshot_entries);
	raft_set_snapshot_trailing(&q->q_raft,
				   (unsigned)(cfg->bc_metadata_snapshot_entries / 4 + 1));
	bool pristine = rlg_pristine(q->q_log);
	int rc = pristine ? qr_bootstrap(q) : 0;
	if (rc == 0)
		rc = raft_start(&q->q_raft);
	if (rc != 0) {
		blog(BLOG_ERROR, "start_failed", "reason", "the metadata quorum does not start",
		     "error", raft_errmsg(&q->q_raft), NULL);
		q->q_stopping = true;
		raft_close(&q->q_raft, qr_closed);
		qr_free(q);
		return -1;
	}
	char b1[BLOG_I64_BUF], b2[BLOG_I64_BUF], b3[BLOG_I64_BUF];
	blog(BLOG_INFO, "metadata_quorum_started", "voter",
	     qr_is_voter(cfg, cfg->bc_id) ? "true" : "false", "controller_only",
	     cfg->bc_controller_only ? "true" : "false", "bootstrapped",
	     pristine ? "true" : "false", "term", blog_i64(b1, (int64_t)q->q_raft.current_term),
	     "last_index", blog_i64(b2, (int64_t)raft_last_index(&q->q_raft)),
	     "election_timeout_ms", blog_i64(b3, et), NULL);
	*out = q;
	qr_check_role(q);
	return 0;
}

void qr_stop(struct quorum *q)
{
	if (!q)
		return;
	q->q_stopping = true;
	if (q->q_raft_inited && !q->q_closed)
		raft_close(&q->q_raft, qr_closed);
	timer_cancel(&q->q_b->b_reactor.re_timers, &q->q_tick_timer);
	timer_cancel(&q->q_b->b_reactor.re_timers, &q->q_done_timer);
	qr_drain(q);
	qr_free(q);
}
