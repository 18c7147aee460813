/*
 * controller — sessions, leases, elections and the metadata log (rules in
 * controller.h, record formats in meta.h).
 *
 * Every decision follows one pattern: stage records (each applied to the
 * controller's image at once, so the next decision sees it), then commit
 * them as one entry proposed to the metadata quorum; the caller's answer
 * goes out when that entry is committed (quorum.h).
 */
#include "controller.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blog.h"
#include "broker.h"
#include "cluster.h"
#include "kp_api.h"
#include "quorum.h"

#define CTL_TICK_MS	       200
#define CTL_PREFERRED_CHECK_MS 5000
#define CTL_STAGE_MAX	       16384 /* records in one commit: > 1 + max partitions */

struct ctl_session {
	int32_t cs_id;
	int64_t cs_last_hb_ms;	   /* monotonic */
	int64_t cs_applied_offset; /* metadata it said it applied, in its last heartbeat */
	bool cs_shutdown;
};

/* A planned leadership move (preferred leader, controlled shutdown) in two
 * steps, so that two leaders never write at once: first the partition is
 * taken from ch_from (leader -1, a new epoch); once ch_from has applied that
 * (its heartbeat says so) or its lease has surely run out, ch_to (or the
 * usual choice) is elected. ch_from gets no lease meanwhile. */
struct ctl_handoff {
	char ch_topic[TOPIC_NAME_MAX + 1];
	int32_t ch_partition;
	int32_t ch_from;
	int32_t ch_to;		/* -1: any eligible replica */
	int64_t ch_offset;	/* metadata offset after the record that took it away */
	int64_t ch_deadline_ms; /* ch_from's last lease has run out by then */
};

/* One proposed entry, until it is committed or its proposal failed. */
struct ctl_commit {
	struct controller *cc_ctl; /* NULL once the controller stopped */
	struct ctl_commit *cc_next;
	ctl_done_fn cc_done;
	void *cc_ctx;
	int64_t cc_value;
};

struct controller {
	struct broker *ct_b;
	struct quorum *ct_q;
	struct meta_image ct_image;
	int32_t ct_epoch;
	int64_t ct_proposed_end; /* offset after the last entry proposed */
	struct ctl_commit *ct_commits;
	struct ctl_session ct_sessions[META_MAX_BROKERS];
	int ct_nsessions;
	int64_t ct_elect_after_ms;
	struct timer ct_tick;
	int64_t ct_last_preferred_ms;
	int64_t ct_last_tick_ms; /* to notice the controller itself stalling */
	uint32_t ct_rotation;
	/* staged records, applied to ct_image, waiting for ctl_commit */
	char *ct_stage;
	size_t ct_stage_len, ct_stage_cap;
	int ct_nstaged;
	bool ct_failed;
	struct ctl_handoff *ct_handoffs;
	int ct_nhandoffs, ct_handoffs_cap;
};

static int64_t ctl_now(const struct controller *c)
{
	return c->ct_b->b_reactor.re_now_ms;
}

static int64_t ctl_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ctl_lease_ms(const struct broker_config *cfg)
{
	return cfg->bc_session_timeout_ms * 2 / 3;
}

int64_t ctl_heartbeat_interval_ms(const struct broker_config *cfg)
{
	int64_t t = cfg->bc_session_timeout_ms / 4;
	return t < 50 ? 50 : t;
}

const struct meta_image *ctl_image(const struct controller *c)
{
	return &c->ct_image;
}

static struct ctl_session *ctl_session(struct controller *c, int32_t id)
{
	for (int i = 0; i < c->ct_nsessions; i++)
		if (c->ct_sessions[i].cs_id == id)
			return &c->ct_sessions[i];
	if (c->ct_nsessions == META_MAX_BROKERS)
		return NULL;
	struct ctl_session *s = &c->ct_sessions[c->ct_nsessions++];
	*s = (struct ctl_session){.cs_id = id, .cs_last_hb_ms = ctl_now(c)};
	return s;
}

static bool ctl_shutting_down(struct controller *c, int32_t id)
{
	struct ctl_session *s = ctl_session(c, id);
	return s && s->cs_shutdown;
}

/* Live and able to lead: registered, unfenced, not shutting down. */
static bool ctl_can_lead(struct controller *c, int32_t id)
{
	return meta_broker_alive(&c->ct_image, id) && !ctl_shutting_down(c, id);
}

/* ---- staging and committing -------------------------------------------- */

/* Its image is now ahead of what may ever commit: decide nothing more.
 * The quorum says soon that this member no longer leads (ctl_stop). */
static void ctl_fatal(struct controller *c, const char *why, int rc)
{
	if (c->ct_failed)
		return;
	c->ct_failed = true;
	char b1[BLOG_I64_BUF];
	blog(BLOG_WARN, "controller_deposed", "reason", why, "error", blog_i64(b1, rc), NULL);
}

/* The offset the records staged now will have: all go in the next entry. */
static int64_t ctl_next_offset(const struct controller *c)
{
	return qr_next_offset(c->ct_q);
}

/* Stage one record: apply it to the image now, keep it for the next commit. */
static int ctl_stage(struct controller *c, const char *rec, int len)
{
	if (c->ct_failed || len <= 0 || c->ct_nstaged >= CTL_STAGE_MAX)
		return -1;
	int64_t offset = ctl_next_offset(c);
	struct meta_delta d;
	char err[256];
	if (meta_apply(&c->ct_image, rec, (size_t)len, offset, &d, err, sizeof(err)) < 0) {
		blog(BLOG_ERROR, "controller_bad_record", "error", err, NULL);
		return -1;
	}
	size_t need = c->ct_stage_len + (size_t)len + 1;
	if (need > c->ct_stage_cap) {
		size_t ncap = c->ct_stage_cap ? c->ct_stage_cap * 2 : 16384;
		while (ncap < need)
			ncap *= 2;
		char *n = realloc(c->ct_stage, ncap);
		if (!n) {
			ctl_fatal(c, "out of memory staging metadata", -ENOMEM);
			return -1;
		}
		c->ct_stage = n;
		c->ct_stage_cap = ncap;
	}
	memcpy(c->ct_stage + c->ct_stage_len, rec, (size_t)len);
	c->ct_stage[c->ct_stage_len + (size_t)len] = '\n';
	c->ct_stage_len += (size_t)len + 1;
	c->ct_nstaged++;
	return 0;
}

static void ctl_unlink(struct controller *c, struct ctl_commit *cc)
{
	for (struct ctl_commit **pp = &c->ct_commits; *pp; pp = &(*pp)->cc_next)
		if (*pp == cc) {
			*pp = cc->cc_next;
			return;
		}
}

static void ctl_committed(void *ctx, int err)
{
	struct ctl_commit *cc = ctx;
	struct controller *c = cc->cc_ctl;
	if (c) {
		ctl_unlink(c, cc);
		if (err)
			ctl_fatal(c, "a metadata entry was not committed in this term", err);
	}
	if (cc->cc_done)
		cc->cc_done(cc->cc_ctx, err, err ? "the active controller changed: retry" : NULL,
			    cc->cc_value);
	free(cc);
}

/* Propose the staged records as one entry. done runs once it is committed
 * (at once when nothing was staged). */
static void ctl_commit(struct controller *c, ctl_done_fn done, void *ctx, int64_t value)
{
	if (c->ct_nstaged == 0 || c->ct_failed) {
		c->ct_stage_len = 0;
		c->ct_nstaged = 0;
		if (done)
			done(ctx, c->ct_failed ? KP_ERR_NOT_CONTROLLER : 0, NULL, value);
		return;
	}
	struct ctl_commit *cc = calloc(1, sizeof(*cc));
	int64_t offset = ctl_next_offset(c);
	int err = cc ? qr_propose(c->ct_q, c->ct_stage, c->ct_stage_len, ctl_committed, cc)
		     : KP_ERR_KAFKA_STORAGE_ERROR;
	c->ct_stage_len = 0;
	c->ct_nstaged = 0;
	if (err) {
		free(cc);
		ctl_fatal(c, "the metadata quorum refused a proposal", err);
		if (done)
			done(ctx, err, "the active controller changed: retry", value);
		return;
	}
	*cc = (struct ctl_commit){.cc_ctl = c,
				  .cc_next = c->ct_commits,
				  .cc_done = done,
				  .cc_ctx = ctx,
				  .cc_value = value};
	c->ct_commits = cc;
	c->ct_proposed_end = offset + 1;
}

/* ---- partition decisions ----------------------------------------------- */

static void ids_remove(int32_t *ids, int32_t *n, int32_t id)
{
	for (int32_t i = 0; i < *n; i++)
		if (ids[i] == id) {
			memmove(ids + i, ids + i + 1, (size_t)(*n - i - 1) * sizeof(*ids));
			(*n)--;
			return;
		}
}

static void ids_add(int32_t *ids, int32_t *n, int32_t id)
{
	if (!meta_ids_contain(ids, *n, id) && *n < ISR_MAX_REPLICAS)
		ids[(*n)++] = id;
}

/* Choose a leader for mp (rules in controller.h); -1 when none may lead.
 * `*from` says how: 0 ISR, 1 ELR, 2 unclean, 3 the last leader. */
static int32_t ctl_choose_leader(struct controller *c, const struct meta_topic *t,
				 const struct meta_partition *mp, int *from)
{
	for (int32_t i = 0; i < mp->mp_nreplicas; i++) {
		int32_t r = mp->mp_replicas[i];
		if (meta_ids_contain(mp->mp_isr, mp->mp_nisr, r) && ctl_can_lead(c, r)) {
			*from = 0;
			return r;
		}
	}
	for (int32_t i = 0; i < mp->mp_nreplicas; i++) {
		int32_t r = mp->mp_replicas[i];
		if (meta_ids_contain(mp->mp_elr, mp->mp_nelr, r) && ctl_can_lead(c, r)) {
			*from = 1;
			return r;
		}
	}
	if (t->mt_cfg.tc_unclean_leader_election)
		for (int32_t i = 0; i < mp->mp_nreplicas; i++)
			if (ctl_can_lead(c, mp->mp_replicas[i])) {
				*from = 2;
				return mp->mp_replicas[i];
			}
	/* Nobody is known to hold everything (the last one standing came back
	 * from an unclean shutdown): the last leader is still the replica with
	 * the most, and nobody else may truncate anything it has. */
	if (mp->mp_nisr == 0 && mp->mp_nelr == 0 && mp->mp_last_leader >= 0 &&
	    ctl_can_lead(c, mp->mp_last_leader)) {
		*from = 3;
		return mp->mp_last_leader;
	}
	return -1;
}

/* Take `id` out of the ISR; it becomes eligible (ELR, KIP-966) when the
 * ISR would drop below min ISR: it holds everything below the HW. It loses
 * that only if it comes back from an unclean shutdown (ctl_broker_unclean). */
static void ctl_isr_remove(const struct meta_topic *t, struct meta_partition *mp, int32_t id)
{
	if (!meta_ids_contain(mp->mp_isr, mp->mp_nisr, id))
		return;
	ids_remove(mp->mp_isr, &mp->mp_nisr, id);
	if (mp->mp_nisr < t->mt_cfg.tc_min_insync_replicas)
		ids_add(mp->mp_elr, &mp->mp_nelr, id);
}

static void ctl_stage_partition(struct controller *c, const struct meta_topic *t, int32_t p,
				struct meta_partition *mp)
{
	char rec[META_RECORD_MAX];
	/* KIP-966: eligible replicas stand in for an ISR below the minimum.
	 * Once the ISR is back at the minimum, records commit without them and
	 * they no longer hold everything committed: forget them. */
	if (mp->mp_nisr >= t->mt_cfg.tc_min_insync_replicas)
		mp->mp_nelr = 0;
	mp->mp_partition_epoch++;
	int n = meta_rec_partition(rec, t->mt_name, p, mp);
	ctl_stage(c, rec, n);
}

/* (Re)elect when the current leader cannot lead. */
static bool ctl_maybe_elect(struct controller *c, const struct meta_topic *t, int32_t p,
			    struct meta_partition *mp)
{
	if (mp->mp_leader >= 0 && ctl_can_lead(c, mp->mp_leader))
		return false;
	int from;
	int32_t leader = ctl_choose_leader(c, t, mp, &from);
	if (leader == mp->mp_leader)
		return false;
	int32_t old = mp->mp_leader;
	mp->mp_leader = leader;
	if (leader >= 0) {
		mp->mp_leader_epoch++;
		mp->mp_last_leader = leader;
		if (from == 1 || from == 3) {
			ids_remove(mp->mp_elr, &mp->mp_nelr, leader);
			ids_add(mp->mp_isr, &mp->mp_nisr, leader);
		} else if (from == 2) {
			mp->mp_nisr = 0;
			mp->mp_nelr = 0;
			ids_add(mp->mp_isr, &mp->mp_nisr, leader);
			mp->mp_unclean_epoch = mp->mp_leader_epoch;
		}
	}
	char b1[BLOG_I64_BUF], b2[BLOG_I64_BUF], b3[BLOG_I64_BUF], b4[BLOG_I64_BUF];
	static const char *const how[] = {"isr", "eligible", "unclean", "last_leader"};
	blog(leader >= 0 && from < 2 ? BLOG_INFO : BLOG_WARN, "leader_elected", "topic", t->mt_name,
	     "partition", blog_i64(b1, p), "leader", blog_i64(b2, leader), "previous",
	     blog_i64(b3, old), "leader_epoch", blog_i64(b4, mp->mp_leader_epoch), "from",
	     leader >= 0 ? how[from] : "none: offline", NULL);
	return true;
}

/* ---- planned leadership moves ------------------------------------------ */

static int ctl_handoff_find(const struct controller *c, const char *topic, int32_t p)
{
	for (int i = 0; i < c->ct_nhandoffs; i++)
		if (c->ct_handoffs[i].ch_partition == p &&
		    strcmp(c->ct_handoffs[i].ch_topic, topic) == 0)
			return i;
	return -1;
}

/* Step one: take mp (already changed as the caller wants, e.g. an ISR
 * member removed) from its leader and stage it. */
static void ctl_handoff_begin(struct controller *c, const struct meta_topic *t, int32_t p,
			      struct meta_partition *mp, int32_t to)
{
	if (c->ct_nhandoffs == c->ct_handoffs_cap) {
		int ncap = c->ct_handoffs_cap ? c->ct_handoffs_cap * 2 : 64;
		struct ctl_handoff *n = realloc(c->ct_handoffs, (size_t)ncap * sizeof(*n));
		if (!n) {
			ctl_fatal(c, "out of memory for a leadership move", -ENOMEM);
			return;
		}
		c->ct_handoffs = n;
		c->ct_handoffs_cap = ncap;
	}
	struct ctl_handoff *h = &c->ct_handoffs[c->ct_nhandoffs++];
	*h = (struct ctl_handoff){.ch_partition = p, .ch_from = mp->mp_leader, .ch_to = to};
	snprintf(h->ch_topic, sizeof(h->ch_topic), "%s", t->mt_name);
	mp->mp_leader = -1;
	mp->mp_leader_epoch++;
	ctl_stage_partition(c, t, p, mp);
	h->ch_offset = ctl_next_offset(c) + 1;
	h->ch_deadline_ms = ctl_now(c) + ctl_lease_ms(&c->ct_b->b_cfg) + CTL_TICK_MS;
	char b1[BLOG_I64_BUF], b2[BLOG_I64_BUF], b3[BLOG_I64_BUF];
	blog(BLOG_INFO, "leadership_handoff", "topic", t->mt_name, "partition", blog_i64(b1, p),
	     "from", blog_i64(b2, h->ch_from), "to", blog_i64(b3, to), NULL);
}

/* Does `id` still hold a leadership that is being taken away? */
static bool ctl_handoff_pending_from(const struct controller *c, int32_t id, int64_t applied)
{
	for (int i = 0; i < c->ct_nhandoffs; i++)
		if (c->ct_handoffs[i].ch_from == id && applied < c->ct_handoffs[i].ch_offset)
			return true;
	return false;
}

static bool ctl_maybe_elect(struct controller *c, const struct meta_topic *t, int32_t p,
			    struct meta_partition *mp);

/* Step two for every move whose old leader has let go. */
static void ctl_handoffs_progress(struct controller *c)
{
	for (int i = 0; i < c->ct_nhandoffs;) {
		struct ctl_handoff *h = &c->ct_handoffs[i];
		struct ctl_session *s = ctl_session(c, h->ch_from);
		bool released = ctl_now(c) >= h->ch_deadline_ms ||
				!meta_broker_alive(&c->ct_image, h->ch_from) ||
				(s && s->cs_applied_offset >= h->ch_offset);
		if (!released) {
			i++;
			continue;
		}
		struct meta_topic *t =
			meta_topic(&c->ct_image, h->ch_topic, (int)strlen(h->ch_topic));
		if (t && h->ch_partition < t->mt_npartitions &&
		    t->mt_parts[h->ch_partition].mp_leader < 0) {
			struct meta_partition mp = t->mt_parts[h->ch_partition];
			bool to_ok = h->ch_to >= 0 && ctl_can_lead(c, h->ch_to) &&
				     meta_ids_contain(mp.mp_isr, mp.mp_nisr, h->ch_to);
			if (to_ok) {
				mp.mp_leader = h->ch_to;
				mp.mp_last_leader = h->ch_to;
				mp.mp_leader_epoch++;
				char b1[BLOG_I64_BUF], b2[BLOG_I64_BUF], b3[BLOG_I64_BUF];
				blog(BLOG_INFO, "leader_elected", "topic", t->mt_name, "partition",
				     blog_i64(b1, h->ch_partition), "leader",
				     blog_i64(b2, h->ch_to), "leader_epoch",
				     blog_i64(b3, mp.mp_leader_epoch), "from", "handoff", NULL);
				ctl_stage_partition(c, t, h->ch_partition, &mp);
			} else if (ctl_maybe_elect(c, t, h->ch_partition, &mp)) {
				ctl_stage_partition(c, t, h->ch_partition, &mp);
			}
		}
		c->ct_handoffs[i] = c->ct_handoffs[--c->ct_nhandoffs];
	}
}

/* A broker is going (controlled shutdown) or gone (fenced): move its
 * leaderships and take it out of the ISRs. A controlled shutdown leaves a
 * leadership where it is when no other replica may take it: the broker
 * keeps serving it until it actually leaves. */
static void ctl_broker_gone(struct controller *c, int32_t id, bool controlled)
{
	for (uint32_t i = 0; i < c->ct_image.mi_ntopics; i++) {
		struct meta_topic *t = c->ct_image.mi_order[i];
		for (int32_t p = 0; p < t->mt_npartitions; p++) {
			struct meta_partition mp = t->mt_parts[p];
			if (!meta_ids_contain(mp.mp_replicas, mp.mp_nreplicas, id))
				continue;
			if (ctl_handoff_find(c, t->mt_name, p) >= 0)
				continue; /* already moving; its ISR change can wait */
			if (mp.mp_leader == id && controlled) {
				int from;
				if (ctl_choose_leader(c, t, &mp, &from) < 0)
					continue;
				ctl_isr_remove(t, &mp, id);
				ctl_handoff_begin(c, t, p, &mp, -1);
				continue;
			}
			if (mp.mp_leader == id) {
				/* Elect before shrinking, so the new leader comes from
				 * the ISR that was committed. */
				ctl_maybe_elect(c, t, p, &mp);
			}
			ctl_isr_remove(t, &mp, id);
			if (memcmp(&mp, &t->mt_parts[p], sizeof(mp)) != 0)
				ctl_stage_partition(c, t, p, &mp);
		}
	}
}

/* A broker became able to lead: offline partitions it can take. */
static void ctl_broker_back(struct controller *c, int32_t id)
{
	for (uint32_t i = 0; i < c->ct_image.mi_ntopics; i++) {
		struct meta_topic *t = c->ct_image.mi_order[i];
		for (int32_t p = 0; p < t->mt_npartitions; p++) {
			struct meta_partition mp = t->mt_parts[p];
			if (mp.mp_leader >= 0 ||
			    !meta_ids_contain(mp.mp_replicas, mp.mp_nreplicas, id) ||
			    ctl_handoff_find(c, t->mt_name, p) >= 0)
				continue;
			if (ctl_maybe_elect(c, t, p, &mp))
				ctl_stage_partition(c, t, p, &mp);
		}
	}
}

/* An unclean restart: the broker may have lost an unflushed tail, so it is
 * no longer eligible (KIP-966). */
static void ctl_broker_unclean(struct controller *c, int32_t id)
{
	for (uint32_t i = 0; i < c->ct_image.mi_ntopics; i++) {
		struct meta_topic *t = c->ct_image.mi_order[i];
		for (int32_t p = 0; p < t->mt_npartitions; p++) {
			struct meta_partition mp = t->mt_parts[p];
			if (!meta_ids_contain(mp.mp_elr, mp.mp_nelr, id))
				continue;
			ids_remove(mp.mp_elr, &mp.mp_nelr, id);
			ctl_stage_partition(c, t, p, &mp);
		}
	}
}

static void ctl_preferred_leaders(struct controller *c)
{
	for (uint32_t i = 0; i < c->ct_image.mi_ntopics; i++) {
		struct meta_topic *t = c->ct_image.mi_order[i];
		for (int32_t p = 0; p < t->mt_npartitions; p++) {
			struct meta_partition mp = t->mt_parts[p];
			int32_t pref = mp.mp_replicas[0];
			if (mp.mp_leader == pref || mp.mp_leader < 0 || !ctl_can_lead(c, pref) ||
			    !meta_ids_contain(mp.mp_isr, mp.mp_nisr, pref) ||
			    ctl_handoff_find(c, t->mt_name, p) >= 0)
				continue;
			char b1[BLOG_I64_BUF], b2[BLOG_I64_BUF];
			blog(BLOG_INFO, "preferred_leader_restored", "topic", t->mt_name,
			     "partition", blog_i64(b1, p), "leader", blog_i64(b2, pref), NULL);
			ctl_handoff_begin(c, t, p, &mp, pref);
		}
	}
}

/* ---- sessions ---------------------------------------------------------- */

static void ctl_fence(struct controller *c, int32_t id, const char *reason)
{
	char rec[META_RECORD_MAX], b1[BLOG_I64_BUF];
	blog(BLOG_WARN, "broker_fenced", "broker", blog_i64(b1, id), "reason", reason, NULL);
	ctl_stage(c, rec, meta_rec_fence(rec, id, reason));
	ctl_broker_gone(c, id, false);
}

static void ctl_on_tick(struct timer *t)
{
	struct controller *c = t->tm_ctx;
	int64_t now = ctl_now(c);
	const struct broker_config *cfg = &c->ct_b->b_cfg;
	if (c->ct_last_tick_ms > 0 && now - c->ct_last_tick_ms > cfg->bc_session_timeout_ms / 2) {
		/* The controller itself stalled (frozen, starved): heartbeats it
		 * could not read are no sign of dead brokers. Start every
		 * session afresh, as after a restart. */
		char b1[BLOG_I64_BUF];
		blog(BLOG_WARN, "controller_stalled", "ms", blog_i64(b1, now - c->ct_last_tick_ms),
		     NULL);
		for (int i = 0; i < c->ct_nsessions; i++)
			c->ct_sessions[i].cs_last_hb_ms = now;
	}
	c->ct_last_tick_ms = now;
	if (now >= c->ct_elect_after_ms && !c->ct_failed) {
		for (int i = 0; i < c->ct_image.mi_nbrokers; i++) {
			struct meta_broker *b = &c->ct_image.mi_brokers[i];
			struct ctl_session *s = ctl_session(c, b->mb_id);
			if (!b->mb_registered || b->mb_fenced || !s)
				continue;
			if (now - s->cs_last_hb_ms > cfg->bc_session_timeout_ms)
				ctl_fence(c, b->mb_id,
					  s->cs_shutdown ? "controlled_shutdown"
							 : "session_expired");
		}
		/* Partitions left offline while their brokers were not there. */
		for (int i = 0; i < c->ct_image.mi_nbrokers; i++)
			if (meta_broker_alive(&c->ct_image, c->ct_image.mi_brokers[i].mb_id))
				ctl_broker_back(c, c->ct_image.mi_brokers[i].mb_id);
		ctl_handoffs_progress(c); /* the deadlines */
		if (now - c->ct_last_preferred_ms >= CTL_PREFERRED_CHECK_MS) {
			c->ct_last_preferred_ms = now;
			ctl_preferred_leaders(c);
		}
		ctl_commit(c, NULL, NULL, 0);
	}
	timer_arm(&c->ct_b->b_reactor.re_timers, &c->ct_tick, now + CTL_TICK_MS);
}

static bool ctl_known_broker(const struct broker_config *cfg, int32_t id)
{
	for (int i = 0; i < cfg->bc_broker_count; i++)
		if (cfg->bc_brokers[i].cba_id == id)
			return true;
	return false;
}

void ctl_register(struct controller *c, const struct kp_replog_register_request *req,
		  ctl_done_fn done, void *ctx)
{
	if (!ctl_known_broker(&c->ct_b->b_cfg, req->broker_id)) {
		done(ctx, KP_ERR_INVALID_REQUEST, "broker id is not in cluster.brokers", -1);
		return;
	}
	struct meta_broker *cur = meta_broker(&c->ct_image, req->broker_id);
	if (cur && cur->mb_registered &&
	    memcmp(cur->mb_incarnation, req->incarnation_id.bytes, 16) == 0) {
		done(ctx, 0, NULL, cur->mb_epoch); /* a retry of the same registration */
		return;
	}
	struct meta_broker b = {
		.mb_id = req->broker_id,
		.mb_clean = req->clean_shutdown,
		.mb_epoch = ctl_next_offset(c),
	};
	memcpy(b.mb_incarnation, req->incarnation_id.bytes, 16);
	snprintf(b.mb_address, sizeof(b.mb_address), "%.*s",
		 req->address.len > 0 ? req->address.len : 0,
		 req->address.ptr ? req->address.ptr : "");
	char rec[META_RECORD_MAX], b1[BLOG_I64_BUF], b2[BLOG_I64_BUF];
	bool was_alive = cur && meta_broker_alive(&c->ct_image, req->broker_id);
	if (ctl_stage(c, rec, meta_rec_broker(rec, &b)) < 0) {
		done(ctx, KP_ERR_NOT_CONTROLLER, "the active controller changed: retry", -1);
		return;
	}
	blog(BLOG_INFO, "broker_registered", "broker", blog_i64(b1, b.mb_id), "address",
	     b.mb_address, "broker_epoch", blog_i64(b2, b.mb_epoch), "clean",
	     b.mb_clean ? "true" : "false", NULL);
	struct ctl_session *s = ctl_session(c, req->broker_id);
	if (s) {
		s->cs_last_hb_ms = ctl_now(c);
		s->cs_shutdown = false;
	}
	/* The previous incarnation is gone: what it led moves, it leaves ISRs. */
	if (was_alive || cur)
		ctl_broker_gone(c, req->broker_id, false);
	if (!b.mb_clean)
		ctl_broker_unclean(c, req->broker_id);
	ctl_commit(c, done, ctx, b.mb_epoch);
}

void ctl_heartbeat(struct controller *c, const struct kp_replog_heartbeat_request *req,
		   struct kp_replog_heartbeat_response *resp)
{
	memset(resp, 0, sizeof(*resp));
	resp->controller_epoch = c->ct_epoch;
	if (c->ct_failed || !qr_active(c->ct_q)) {
		resp->error_code = KP_ERR_NOT_CONTROLLER;
		return;
	}
	struct meta_broker *b = meta_broker(&c->ct_image, req->broker_id);
	if (!b || !b->mb_registered || b->mb_epoch != req->broker_epoch) {
		resp->error_code = KP_ERR_STALE_BROKER_EPOCH;
		resp->is_fenced = true;
		return;
	}
	struct ctl_session *s = ctl_session(c, req->broker_id);
	if (!s) {
		resp->error_code = KP_ERR_UNKNOWN_SERVER_ERROR;
		return;
	}
	s->cs_last_hb_ms = ctl_now(c);
	s->cs_applied_offset = req->metadata_offset;
	char rec[META_RECORD_MAX], b1[BLOG_I64_BUF];
	if (req->want_shutdown && !s->cs_shutdown) {
		s->cs_shutdown = true;
		blog(BLOG_INFO, "controlled_shutdown_started", "broker", blog_i64(b1, b->mb_id),
		     NULL);
		ctl_stage(c, rec, meta_rec_shutdown(rec, b->mb_id));
		ctl_broker_gone(c, b->mb_id, true);
	} else if (req->want_shutdown) {
		/* Leaderships nobody could take at first: maybe someone can now. */
		ctl_broker_gone(c, b->mb_id, true);
	} else if (b->mb_fenced && !s->cs_shutdown && req->metadata_offset > b->mb_epoch) {
		/* Caught up with the metadata up to its own registration. */
		ctl_stage(c, rec, meta_rec_unfence(rec, b->mb_id));
		blog(BLOG_INFO, "broker_unfenced", "broker", blog_i64(b1, b->mb_id), NULL);
		ctl_broker_back(c, b->mb_id);
	}
	ctl_handoffs_progress(c);
	ctl_commit(c, NULL, NULL, 0);
	bool no_lease = b->mb_fenced || s->cs_shutdown ||
			ctl_handoff_pending_from(c, b->mb_id, req->metadata_offset);
	/* 0 takes the lease away; -1 renews nothing but leaves what an
	 * earlier answer granted (this controller may have been deposed while
	 * it stalled: it cannot vouch for more time, and need not cut short
	 * what it granted before). */
	resp->lease_ms = no_lease		 ? 0
			 : !qr_lease_ok(c->ct_q) ? -1
						 : (int32_t)ctl_lease_ms(&c->ct_b->b_cfg);
	resp->is_fenced = b->mb_fenced;
	if (s->cs_shutdown) {
		/* Ready once nothing it leads could move elsewhere. */
		bool ready = true;
		for (uint32_t i = 0; i < c->ct_image.mi_ntopics && ready; i++) {
			struct meta_topic *t = c->ct_image.mi_order[i];
			for (int32_t p = 0; p < t->mt_npartitions && ready; p++) {
				struct meta_partition *mp = &t->mt_parts[p];
				int from;
				if (mp->mp_leader == b->mb_id &&
				    ctl_choose_leader(c, t, mp, &from) >= 0)
					ready = false;
			}
		}
		/* ...and the records that moved them are durable. */
		resp->shutdown_ready = ready && req->metadata_offset >= c->ct_proposed_end;
	}
}

struct ctl_refusal {
	ctl_done_fn cr_done;
	void *cr_ctx;
	int cr_err;
	const char *cr_msg; /* a literal */
};

static void ctl_refusal_committed(void *ctx, int err, const char *msg, int64_t value)
{
	struct ctl_refusal *r = ctx;
	(void)msg;
	r->cr_done(r->cr_ctx, err ? err : r->cr_err, r->cr_msg, value);
	free(r);
}

/* Refuse an ISR change made at the current epochs, and bump the partition
 * epoch with it: a copy of the same proposal (a resend) can then never be
 * applied later, so the leader may forget it once the bump reaches it. */
static void ctl_refuse_current(struct controller *c, const struct meta_topic *t, int32_t p,
			       struct meta_partition *mp, int err, const char *msg,
			       ctl_done_fn done, void *ctx)
{
	struct ctl_refusal *r = malloc(sizeof(*r));
	if (!r) {
		done(ctx, KP_ERR_UNKNOWN_SERVER_ERROR, "out of memory", 0);
		return;
	}
	*r = (struct ctl_refusal){.cr_done = done, .cr_ctx = ctx, .cr_err = err, .cr_msg = msg};
	ctl_stage_partition(c, t, p, mp);
	ctl_commit(c, ctl_refusal_committed, r, 0);
}

void ctl_alter_partition(struct controller *c, int32_t broker_id, int64_t broker_epoch,
			 const char *topic, int topic_len,
			 const struct kp_replog_alter_partition *ap, ctl_done_fn done, void *ctx)
{
	const struct meta_broker *b = meta_broker_c(&c->ct_image, broker_id);
	if (!b || b->mb_epoch != broker_epoch) {
		done(ctx, KP_ERR_STALE_BROKER_EPOCH, "stale broker epoch", 0);
		return;
	}
	struct meta_topic *t = meta_topic(&c->ct_image, topic, topic_len);
	if (!t || ap->partition_index < 0 || ap->partition_index >= t->mt_npartitions) {
		done(ctx, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION, NULL, 0);
		return;
	}
	struct meta_partition mp = t->mt_parts[ap->partition_index];
	if (mp.mp_leader != broker_id) {
		done(ctx, KP_ERR_NOT_LEADER_OR_FOLLOWER, "not the leader", 0);
		return;
	}
	if (ap->leader_epoch != mp.mp_leader_epoch) {
		done(ctx, KP_ERR_FENCED_LEADER_EPOCH, "stale leader epoch", 0);
		return;
	}
	if (ap->partition_epoch != mp.mp_partition_epoch) {
		done(ctx, KP_ERR_INVALID_UPDATE_VERSION, "stale partition epoch", 0);
		return;
	}
	if (!meta_ids_contain(ap->new_isr, ap->new_isr_count, broker_id)) {
		ctl_refuse_current(c, t, ap->partition_index, &mp, KP_ERR_INVALID_REQUEST,
				   "the ISR must contain its leader", done, ctx);
		return;
	}
	int32_t isr[ISR_MAX_REPLICAS], n = 0;
	for (int32_t i = 0; i < ap->new_isr_count; i++) {
		int32_t r = ap->new_isr[i];
		if (!meta_ids_contain(mp.mp_replicas, mp.mp_nreplicas, r) ||
		    meta_ids_contain(isr, n, r)) {
			ctl_refuse_current(c, t, ap->partition_index, &mp, KP_ERR_INVALID_REQUEST,
					   "ISR member is not a replica", done, ctx);
			return;
		}
		if (!meta_ids_contain(mp.mp_isr, mp.mp_nisr, r) && !ctl_can_lead(c, r)) {
			ctl_refuse_current(c, t, ap->partition_index, &mp,
					   KP_ERR_INELIGIBLE_REPLICA, "new ISR member is not live",
					   done, ctx);
			return;
		}
		isr[n++] = r;
	}
	/* Members leaving below min ISR stay eligible; those joining are no
	 * longer merely eligible. */
	for (int32_t i = 0; i < mp.mp_nisr; i++)
		if (!meta_ids_contain(isr, n, mp.mp_isr[i]) && n < t->mt_cfg.tc_min_insync_replicas)
			ids_add(mp.mp_elr, &mp.mp_nelr, mp.mp_isr[i]);
	for (int32_t i = 0; i < n; i++)
		ids_remove(mp.mp_elr, &mp.mp_nelr, isr[i]);
	memcpy(mp.mp_isr, isr, (size_t)n * sizeof(*isr));
	mp.mp_nisr = n;
	char b1[BLOG_I64_BUF], list[256];
	meta_ids_format(list, sizeof(list), isr, n);
	blog(BLOG_INFO, "isr_changed", "topic", t->mt_name, "partition",
	     blog_i64(b1, ap->partition_index), "isr", list, NULL);
	ctl_stage_partition(c, t, ap->partition_index, &mp);
	ctl_commit(c, done, ctx, 0);
}

/* ---- topics ------------------------------------------------------------ */

static int ctl_live_brokers(struct controller *c, int32_t *ids)
{
	int n = 0;
	for (int i = 0; i < c->ct_image.mi_nbrokers; i++) {
		int32_t id = c->ct_image.mi_brokers[i].mb_id;
		if (ctl_can_lead(c, id))
			ids[n++] = id;
	}
	/* By id, so assignments do not depend on registration order. */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && ids[j - 1] > ids[j]; j--) {
			int32_t x = ids[j];
			ids[j] = ids[j - 1];
			ids[j - 1] = x;
		}
	return n;
}

void ctl_create_topic(struct controller *c, const char *name, int len,
		      const struct topic_config *cfg, bool validate_only, ctl_done_fn done,
		      void *ctx)
{
	char msg[256];
	if (meta_topic(&c->ct_image, name, len)) {
		snprintf(msg, sizeof(msg), "topic \"%.*s\" already exists", len, name);
		done(ctx, KP_ERR_TOPIC_ALREADY_EXISTS, msg, 0);
		return;
	}
	int32_t live[META_MAX_BROKERS];
	int nlive = ctl_live_brokers(c, live);
	if (cfg->tc_replication_factor > nlive) {
		snprintf(msg, sizeof(msg),
			 "replication factor %d is larger than the %d broker%s available",
			 cfg->tc_replication_factor, nlive, nlive == 1 ? "" : "s");
		done(ctx, KP_ERR_INVALID_REPLICATION_FACTOR, msg, 0);
		return;
	}
	if (validate_only) {
		done(ctx, 0, NULL, 0);
		return;
	}
	struct meta_topic t = {.mt_npartitions = cfg->tc_partitions, .mt_cfg = *cfg};
	snprintf(t.mt_name, sizeof(t.mt_name), "%.*s", len, name);
	t.mt_name_len = len;
	for (int i = 0; i < 16; i++)
		t.mt_id[i] = (uint8_t)(rand() >> 7);
	char rec[META_RECORD_MAX];
	if (c->ct_nstaged + 1 + cfg->tc_partitions > CTL_STAGE_MAX) {
		done(ctx, KP_ERR_INVALID_PARTITIONS, "too many partitions for one metadata entry",
		     0);
		return;
	}
	if (ctl_stage(c, rec, meta_rec_topic(rec, &t)) < 0) {
		done(ctx, KP_ERR_NOT_CONTROLLER, "the active controller changed: retry", 0);
		return;
	}
	/* Replicas round-robin from a rotating start: leaders (the first
	 * replica) spread evenly over the brokers. */
	uint32_t start = c->ct_rotation++;
	for (int32_t p = 0; p < cfg->tc_partitions; p++) {
		struct meta_partition mp = {.mp_leader = -1, .mp_unclean_epoch = -1};
		for (int32_t r = 0; r < cfg->tc_replication_factor; r++)
			mp.mp_replicas[r] =
				live[(start + (uint32_t)p + (uint32_t)r) % (uint32_t)nlive];
		mp.mp_nreplicas = cfg->tc_replication_factor;
		memcpy(mp.mp_isr, mp.mp_replicas, sizeof(mp.mp_replicas));
		mp.mp_nisr = mp.mp_nreplicas;
		mp.mp_leader = mp.mp_replicas[0];
		mp.mp_last_leader = mp.mp_leader;
		ctl_stage(c, rec, meta_rec_partition(rec, t.mt_name, p, &mp));
	}
	char b1[BLOG_I64_BUF], b2[BLOG_I64_BUF], cfgline[TOPIC_CONFIG_LINE_MAX];
	topic_config_format(cfg, cfgline, sizeof(cfgline));
	blog(BLOG_INFO, "topic_created", "topic", t.mt_name, "partitions",
	     blog_i64(b1, cfg->tc_partitions), "replication_factor",
	     blog_i64(b2, cfg->tc_replication_factor), "config", cfgline, NULL);
	ctl_commit(c, done, ctx, 0);
}

void ctl_delete_topic(struct controller *c, const char *name, int len, ctl_done_fn done, void *ctx)
{
	struct meta_topic *t = meta_topic(&c->ct_image, name, len);
	if (!t) {
		done(ctx, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION, NULL, 0);
		return;
	}
	char rec[META_RECORD_MAX], tname[TOPIC_NAME_MAX + 1];
	snprintf(tname, sizeof(tname), "%s", t->mt_name);
	ctl_stage(c, rec, meta_rec_delete_topic(rec, tname));
	blog(BLOG_INFO, "topic_deleted", "topic", tname, NULL);
	ctl_commit(c, done, ctx, 0);
}

/* ---- start / stop ------------------------------------------------------ */

int ctl_start(struct broker *b, struct quorum *q, const struct meta_image *committed, int32_t epoch,
	      struct controller **out)
{
	struct controller *c = calloc(1, sizeof(*c));
	if (!c)
		return -1;
	c->ct_b = b;
	c->ct_q = q;
	meta_image_init(&c->ct_image);
	if (meta_image_copy(&c->ct_image, committed) < 0) {
		meta_image_deinit(&c->ct_image);
		free(c);
		return -1;
	}
	c->ct_epoch = epoch;
	c->ct_proposed_end = committed->mi_next_offset;
	/* The previous controller's leases end within a session timeout (a
	 * lease is 2/3 of it, and a deposed Raft leader learns it was deposed
	 * within an election timeout, at most 1/6 of it): a broker that never
	 * heartbeats here is fenced one session from now, not before. */
	c->ct_elect_after_ms = ctl_now(c) + b->b_cfg.bc_session_timeout_ms;
	for (int i = 0; i < c->ct_image.mi_nbrokers; i++)
		if (c->ct_image.mi_brokers[i].mb_registered)
			(void)ctl_session(c, c->ct_image.mi_brokers[i].mb_id);
	c->ct_last_preferred_ms = ctl_now(c);
	srand((unsigned)ctl_wall_ms() ^ (unsigned)b->b_cfg.bc_id);
	c->ct_rotation = (uint32_t)rand();
	/* The first controller of a new cluster names it, unless this broker's
	 * data directory already did (a one-voter quorum). */
	char fresh[64];
	const char *cluster_id = c->ct_image.mi_cluster_id;
	if (!cluster_id[0])
		cluster_id = b->b_cluster_id;
	if (!cluster_id[0]) {
		broker_new_cluster_id(fresh, sizeof(fresh));
		cluster_id = fresh;
	}
	char rec[META_RECORD_MAX], b1[BLOG_I64_BUF], b2[BLOG_I64_BUF];
	ctl_stage(c, rec, meta_rec_controller(rec, c->ct_epoch, cluster_id));
	ctl_commit(c, NULL, NULL, 0);
	timer_init(&c->ct_tick, ctl_on_tick, c);
	timer_arm(&b->b_reactor.re_timers, &c->ct_tick, ctl_now(c) + CTL_TICK_MS);
	blog(BLOG_INFO, "controller_started", "controller_epoch", blog_i64(b1, c->ct_epoch),
	     "metadata_offset", blog_i64(b2, committed->mi_next_offset), NULL);
	*out = c;
	return 0;
}

void ctl_stop(struct controller *c)
{
	if (!c)
		return;
	for (struct ctl_commit *cc = c->ct_commits; cc; cc = cc->cc_next)
		cc->cc_ctl = NULL;
	timer_cancel(&c->ct_b->b_reactor.re_timers, &c->ct_tick);
	meta_image_deinit(&c->ct_image);
	free(c->ct_stage);
	free(c->ct_handoffs);
	free(c);
}

int64_t ctl_session_age_ms(struct controller *c, int32_t id)
{
	for (int i = 0; i < c->ct_nsessions; i++)
		if (c->ct_sessions[i].cs_id == id)
			return ctl_now(c) - c->ct_sessions[i].cs_last_hb_ms;
	return -1;
}
