/*
 * cluster — registration, heartbeats, leases, and applying the metadata
 * log on this broker (contract in cluster.h).
 */
#include "cluster.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "blog.h"
#include "broker.h"
#include "controller.h"
#include "fetcher.h"
#include "kp_api.h"
#include "partition.h"
#include "peer.h"
#include "quorum.h"
#include "replica.h"
#include "rlerr.h"

#define CLUSTER_RETRY_MS	   500
#define CLUSTER_ALTER_QUIET_MS	   1000
#define CLUSTER_REQUEST_TIMEOUT_MS 5000

struct cluster {
	struct broker *cl_b;
	struct meta_image cl_image; /* committed metadata, applied in order */
	struct quorum *cl_q;	    /* this broker's member of the metadata quorum */
	struct controller *cl_ctl;  /* when the active controller runs here */
	struct peer *cl_peer;	    /* to the active controller otherwise */
	int32_t cl_peer_id;	    /* whom cl_peer reaches, -1 none */
	uint8_t cl_incarnation[16];
	int64_t cl_broker_epoch; /* -1 until registered */
	bool cl_registering;
	int64_t cl_lease_until_ms;
	bool cl_fenced;
	bool cl_cluster_known; /* the cluster id is learned: may register */
	bool cl_loaded;	       /* own registration applied: records are acted on */
	bool cl_want_shutdown;
	bool cl_shutdown_ready;
	struct timer cl_hb_timer;
	bool cl_hb_inflight;
	int64_t cl_hb_sent_ms;
	bool cl_meta_broken; /* a record did not apply: stop applying */
	struct cluster_meta_wait *cl_waits;
	bool cl_stopping;
};

static struct cluster *cl_of(const struct broker *b)
{
	return b->b_cluster;
}

const struct meta_image *cluster_image(const struct broker *b)
{
	return &cl_of(b)->cl_image;
}

struct controller *cluster_controller(struct broker *b)
{
	return cl_of(b)->cl_ctl;
}

bool cluster_is_controller(const struct broker *b)
{
	return cl_of(b)->cl_ctl != NULL;
}

int32_t cluster_controller_id(const struct broker *b)
{
	const struct cluster *cl = cl_of(b);
	if (cl->cl_ctl)
		return b->b_cfg.bc_id;
	return cl->cl_q ? qr_leader(cl->cl_q) : -1;
}

struct quorum *cluster_quorum(struct broker *b)
{
	return cl_of(b)->cl_q;
}

const char *cluster_broker_address(const struct broker *b, int32_t id)
{
	const struct meta_broker *mb = meta_broker_c(&cl_of(b)->cl_image, id);
	if (mb && mb->mb_registered)
		return mb->mb_address;
	for (int i = 0; i < b->b_cfg.bc_broker_count; i++)
		if (b->b_cfg.bc_brokers[i].cba_id == id)
			return b->b_cfg.bc_brokers[i].cba_address;
	return NULL;
}

const char *cluster_peer_address(const struct broker *b, int32_t id)
{
	const char *peer = config_peer_address(&b->b_cfg, id);
	return peer ? peer : cluster_broker_address(b, id);
}

bool cluster_lease_valid(const struct broker *b)
{
	const struct cluster *cl = cl_of(b);
	/* The clock now, not the loop's: this process may have been frozen
	 * since the loop last read it, and the lease counts real time. */
	return !cl->cl_fenced && reactor_clock_ms() < cl->cl_lease_until_ms;
}

static int64_t cl_now(const struct cluster *cl)
{
	return cl->cl_b->b_reactor.re_now_ms;
}

/* ---- applying metadata -------------------------------------------------- */

static void cl_wake_waits(struct cluster *cl)
{
	struct cluster_meta_wait *w = cl->cl_waits;
	cl->cl_waits = NULL;
	while (w) {
		struct cluster_meta_wait *next = w->cmw_next;
		w->cmw_linked = false;
		w->cmw_next = NULL;
		timer_cancel(&cl->cl_b->b_reactor.re_timers, &w->cmw_timer);
		w->cmw_done(w);
		w = next;
	}
}

static void cl_partition_changed(struct cluster *cl, const struct meta_delta *d)
{
	struct broker *b = cl->cl_b;
	const struct meta_topic *mt =
		meta_topic(&cl->cl_image, d->md_topic, (int)strlen(d->md_topic));
	if (!mt)
		return;
	const struct meta_partition *mp = &mt->mt_parts[d->md_partition];
	struct topic *t = topics_find(b->b_topics, mt->mt_name, mt->mt_name_len);
	bool replica = meta_ids_contain(mp->mp_replicas, mp->mp_nreplicas, b->b_cfg.bc_id);
	if (!replica) {
		struct partition *p = t ? &t->tp_parts[d->md_partition] : NULL;
		if (p && p->pt_log)
			replica_stop(b, p, KP_ERR_NOT_LEADER_OR_FOLLOWER);
		return;
	}
	if (!t)
		t = topics_add(b->b_topics, mt->mt_name, mt->mt_name_len, mt->mt_id, &mt->mt_cfg,
			       mt->mt_npartitions);
	if (!t || d->md_partition >= t->tp_partition_count ||
	    t->tp_partition_count != mt->mt_npartitions)
		return;
	struct partition *p = &t->tp_parts[d->md_partition];
	if (!p->pt_log) {
		char err[512];
		if (topics_open_replica(b->b_topics, t, d->md_partition, err, sizeof(err)) < 0) {
			blog(BLOG_ERROR, "replica_open_failed", "error", err, NULL);
			return;
		}
	}
	replica_apply(b, p, mt, mp);
	/* As leader in both states: a committed ISR change (metrics). */
	if (mp->mp_leader == b->b_cfg.bc_id && d->md_before.mp_nreplicas > 0 &&
	    d->md_before.mp_leader == mp->mp_leader) {
		if (mp->mp_nisr < d->md_before.mp_nisr)
			p->pt_metrics.mp_isr_shrinks++;
		else if (mp->mp_nisr > d->md_before.mp_nisr)
			p->pt_metrics.mp_isr_expands++;
	}
}

static void cl_topic_deleted(struct cluster *cl, const char *name)
{
	struct broker *b = cl->cl_b;
	struct topic *t = topics_find(b->b_topics, name, (int)strlen(name));
	if (!t)
		return;
	for (int32_t p = 0; p < t->tp_partition_count; p++)
		if (t->tp_parts[p].pt_log)
			replica_stop(b, &t->tp_parts[p], KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	topics_delete(b->b_topics, t);
}

static int cl_apply_one(struct cluster *cl, int64_t offset, const char *value, size_t len,
			char *err, size_t err_cap)
{
	struct meta_delta d;
	int rc = meta_apply(&cl->cl_image, value, len, offset, &d, err, err_cap);
	if (rc < 0 || !cl->cl_loaded)
		return rc; /* history: only where it ends matters (cl_loaded_all) */
	switch (d.md_change) {
	case META_PARTITION:
		cl_partition_changed(cl, &d);
		break;
	case META_TOPIC_DELETED:
		cl_topic_deleted(cl, d.md_topic);
		break;
	default:
		break;
	}
	return 0;
}

static bool cl_hosted_here(void *ctx, const char *topic, int len, int32_t partition)
{
	struct cluster *cl = ctx;
	if (len == (int)strlen(META_TOPIC) && memcmp(topic, META_TOPIC, (size_t)len) == 0)
		return true;
	const struct meta_topic *mt = meta_topic(&cl->cl_image, topic, len);
	return mt && partition < mt->mt_npartitions &&
	       meta_ids_contain(mt->mt_parts[partition].mp_replicas,
				mt->mt_parts[partition].mp_nreplicas, cl->cl_b->b_cfg.bc_id);
}

/* Caught up with the metadata log for the first time: act on where its
 * history ends, not on each step of it (a replica must never lead again
 * in an epoch long gone), and drop the replicas nobody assigns here. */
static void cl_loaded_all(struct cluster *cl)
{
	cl->cl_loaded = true;
	struct meta_image *mi = &cl->cl_image;
	struct topics *ts = cl->cl_b->b_topics;
	for (uint32_t i = topics_count(ts); i-- > 0;) {
		struct topic *t = topics_at(ts, i);
		if (!t->tp_parts[0].pt_internal && !meta_topic(mi, t->tp_name, t->tp_name_len))
			cl_topic_deleted(cl, t->tp_name);
	}
	char b1[BLOG_I64_BUF], b2[BLOG_I64_BUF];
	blog(BLOG_INFO, "metadata_loaded", "offset", blog_i64(b1, mi->mi_next_offset), "topics",
	     blog_i64(b2, mi->mi_ntopics), NULL);
	for (uint32_t i = 0; i < mi->mi_ntopics; i++) {
		struct meta_topic *t = mi->mi_order[i];
		for (int32_t p = 0; p < t->mt_npartitions; p++) {
			struct meta_delta d = {.md_change = META_PARTITION, .md_partition = p};
			snprintf(d.md_topic, sizeof(d.md_topic), "%s", t->mt_name);
			cl_partition_changed(cl, &d);
		}
	}
	topics_remove_strays(cl->cl_b->b_topics, cl_hosted_here, cl);
}

static void cl_register(struct cluster *cl);

/* The controller's first record names the cluster: only then may this
 * broker register (its data must belong to that cluster). */
static void cl_learn_cluster_id(struct cluster *cl)
{
	struct broker *b = cl->cl_b;
	if (broker_adopt_cluster_id(b, cl->cl_image.mi_cluster_id) < 0) {
		cl->cl_meta_broken = true;
		b->b_exit_code = 1;
		broker_stop(b, "the data directory belongs to another cluster");
		return;
	}
	cl->cl_cluster_known = true;
	cl_register(cl);
}

/* After records applied: what the broker learns from them. */
static void cl_after_apply(struct cluster *cl, int64_t before)
{
	if (cl->cl_image.mi_next_offset == before)
		return;
	if (!cl->cl_cluster_known && cl->cl_image.mi_cluster_id[0])
		cl_learn_cluster_id(cl);
	const struct meta_broker *self = meta_broker_c(&cl->cl_image, cl->cl_b->b_cfg.bc_id);
	if (!cl->cl_loaded && self && self->mb_registered &&
	    memcmp(self->mb_incarnation, cl->cl_incarnation, 16) == 0)
		cl_loaded_all(cl);
	cl_wake_waits(cl);
	/* Tell the controller at once what we applied when it waits on that:
	 * to unfence us, or to let us go when shutting down. */
	bool fenced = cl->cl_broker_epoch >= 0 && cl->cl_fenced;
	if (fenced || (cl->cl_want_shutdown && !cl->cl_shutdown_ready))
		timer_arm(&cl->cl_b->b_reactor.re_timers, &cl->cl_hb_timer, cl_now(cl));
}

/* qr_ops.apply: one committed entry, its records one per line. */
static int cl_q_apply(void *ctx, int64_t offset, const char *recs, size_t len)
{
	struct cluster *cl = ctx;
	if (cl->cl_meta_broken)
		return -1;
	int64_t before = cl->cl_image.mi_next_offset;
	char err[512];
	const char *end = recs + len;
	for (const char *at = recs; at < end;) {
		const char *nl = memchr(at, '\n', (size_t)(end - at));
		size_t n = nl ? (size_t)(nl - at) : (size_t)(end - at);
		if (n > 0 && cl_apply_one(cl, offset, at, n, err, sizeof(err)) < 0) {
			cl->cl_meta_broken = true;
			blog(BLOG_ERROR, "metadata_apply_failed", "error", err, NULL);
			return -1;
		}
		at += n + 1;
	}
	cl->cl_image.mi_next_offset = offset + 1;
	cl_after_apply(cl, before);
	return 0;
}

static int cl_q_snapshot(void *ctx, char **out, size_t *len)
{
	struct cluster *cl = ctx;
	return meta_snapshot_write(&cl->cl_image, out, len);
}

/* A snapshot replaces the image (at start, or a member far behind): act on
 * where it ends, as after loading. */
static int cl_q_restore(void *ctx, const char *recs, size_t len)
{
	struct cluster *cl = ctx;
	char err[512];
	int64_t before = cl->cl_image.mi_next_offset;
	if (meta_snapshot_read(&cl->cl_image, recs, len, err, sizeof(err)) < 0) {
		blog(BLOG_ERROR, "metadata_snapshot_bad", "error", err, NULL);
		return -1;
	}
	char b1[BLOG_I64_BUF];
	blog(BLOG_INFO, "metadata_snapshot_restored", "offset",
	     blog_i64(b1, cl->cl_image.mi_next_offset), NULL);
	if (cl->cl_loaded)
		cl_loaded_all(cl);
	cl_after_apply(cl, before);
	return 0;
}

static void cl_register(struct cluster *cl);
static void cl_heartbeat(struct cluster *cl);

/* qr_ops.role: the active controller starts or stops here. */
static void cl_q_role(void *ctx, bool active, uint64_t term)
{
	struct cluster *cl = ctx;
	struct broker *b = cl->cl_b;
	char b1[BLOG_I64_BUF];
	if (!active) {
		if (cl->cl_ctl) {
			blog(BLOG_WARN, "controller_stopped", "controller_epoch",
			     blog_i64(b1, (int64_t)term), NULL);
			ctl_stop(cl->cl_ctl);
			cl->cl_ctl = NULL;
			if (cl->cl_want_shutdown) {
				/* Stopping while it handed the quorum over: what it
				 * said about our leaderships may never commit. The
				 * next controller moves them and lets us go. */
				cl->cl_shutdown_ready = false;
				timer_arm(&b->b_reactor.re_timers, &cl->cl_hb_timer, cl_now(cl));
			}
		}
		return;
	}
	if (cl->cl_ctl || cl->cl_stopping)
		return;
	if (ctl_start(b, cl->cl_q, &cl->cl_image, (int32_t)term, &cl->cl_ctl) < 0) {
		blog(BLOG_ERROR, "controller_start_failed", "reason", "out of memory", NULL);
		cl->cl_ctl = NULL;
		return;
	}
	/* Requests that were on their way to the previous controller: now. */
	if (b->b_cfg.bc_controller_only)
		return;
	if (cl->cl_broker_epoch < 0)
		cl_register(cl);
	else
		cl_heartbeat(cl);
}

/* The peer to the active controller when it runs elsewhere; NULL when none
 * is known (requests then wait for the next retry). */
static struct peer *cl_controller_peer(struct cluster *cl)
{
	int32_t id = cl->cl_q ? qr_leader(cl->cl_q) : -1;
	if (id < 0 || id == cl->cl_b->b_cfg.bc_id)
		return NULL;
	if (cl->cl_peer && cl->cl_peer_id == id)
		return cl->cl_peer;
	if (cl->cl_peer)
		peer_destroy(cl->cl_peer);
	cl->cl_peer = NULL;
	cl->cl_peer_id = -1;
	const char *addr = cluster_peer_address(cl->cl_b, id);
	if (!addr)
		return NULL;
	cl->cl_peer = peer_create(cl->cl_b, id, addr);
	if (cl->cl_peer)
		cl->cl_peer_id = id;
	return cl->cl_peer;
}

/* ---- registration and heartbeats ---------------------------------------- */

static void cl_registered(struct cluster *cl, int err, const char *msg, int64_t epoch)
{
	cl->cl_registering = false;
	if (cl->cl_stopping)
		return;
	char b1[BLOG_I64_BUF];
	if (err) {
		if (err != KP_ERR_NOT_CONTROLLER) /* none yet, or moving: retried */
			blog(BLOG_WARN, "registration_failed", "error", kp_error_name((int16_t)err),
			     "message", msg ? msg : "", NULL);
		timer_arm(&cl->cl_b->b_reactor.re_timers, &cl->cl_hb_timer,
			  cl_now(cl) + CLUSTER_RETRY_MS);
		return;
	}
	cl->cl_broker_epoch = epoch;
	blog(BLOG_INFO, "registered", "broker_epoch", blog_i64(b1, epoch), NULL);
	cl_heartbeat(cl);
}

static void cl_local_registered(void *ctx, int err, const char *msg, int64_t value)
{
	cl_registered(ctx, err, msg, value);
}

static void cl_remote_registered(void *ctx, int err, const union kp_response_body *resp)
{
	struct cluster *cl = ctx;
	if (err) {
		cl_registered(cl, KP_ERR_NETWORK_EXCEPTION, kp_strerror(err), -1);
		return;
	}
	const struct kp_replog_register_response *r = &resp->replog_broker_register;
	char msg[256];
	snprintf(msg, sizeof(msg), "%.*s", r->error_message.len > 0 ? r->error_message.len : 0,
		 r->error_message.ptr ? r->error_message.ptr : "");
	cl_registered(cl, r->error_code, msg, r->broker_epoch);
}

static void cl_register(struct cluster *cl)
{
	/* A controller-only process is a voter and nothing else: it never
	 * registers, so nothing is ever assigned to it or led by it. */
	if (cl->cl_registering || cl->cl_stopping || !cl->cl_cluster_known ||
	    cl->cl_b->b_cfg.bc_controller_only)
		return;
	struct broker *b = cl->cl_b;
	cl->cl_registering = true;
	struct kp_replog_register_request req = {
		.broker_id = b->b_cfg.bc_id,
		.address = kp_str_from_cstr(b->b_cfg.bc_advertised),
		.clean_shutdown = b->b_clean_start,
	};
	memcpy(req.incarnation_id.bytes, cl->cl_incarnation, 16);
	if (cl->cl_ctl) {
		ctl_register(cl->cl_ctl, &req, cl_local_registered, cl);
		return;
	}
	struct peer *pe = cl_controller_peer(cl);
	union kp_request_body body = {.replog_broker_register = req};
	if (!pe)
		cl_registered(cl, KP_ERR_NOT_CONTROLLER, "no active controller yet", -1);
	else if (peer_send(pe, KP_API_REPLOG_BROKER_REGISTER, 0, &body, CLUSTER_REQUEST_TIMEOUT_MS,
			   cl_remote_registered, cl) < 0)
		cl_registered(cl, KP_ERR_UNKNOWN_SERVER_ERROR, "cannot send", -1);
}

static void cl_heartbeat_answer(struct cluster *cl, const struct kp_replog_heartbeat_response *r,
				int64_t sent_ms)
{
	if (r->error_code == KP_ERR_STALE_BROKER_EPOCH) {
		blog(BLOG_WARN, "broker_epoch_stale", "action", "registering again", NULL);
		cl->cl_broker_epoch = -1;
		cl->cl_lease_until_ms = 0;
		cl_register(cl);
		return;
	}
	if (r->error_code)
		return;
	bool was_fenced = cl->cl_fenced;
	cl->cl_fenced = r->is_fenced;
	if (r->lease_ms >= 0) /* -1: no renewal, the current lease stands */
		cl->cl_lease_until_ms = r->lease_ms > 0 ? sent_ms + r->lease_ms : 0;
	if (cl->cl_want_shutdown)
		cl->cl_shutdown_ready = r->shutdown_ready;
	if (was_fenced != cl->cl_fenced)
		blog(BLOG_INFO, cl->cl_fenced ? "broker_is_fenced" : "broker_is_unfenced", NULL);
}

static void cl_remote_heartbeat(void *ctx, int err, const union kp_response_body *resp)
{
	struct cluster *cl = ctx;
	cl->cl_hb_inflight = false;
	if (cl->cl_stopping)
		return;
	if (!err)
		cl_heartbeat_answer(cl, &resp->replog_broker_heartbeat, cl->cl_hb_sent_ms);
}

static void cl_heartbeat(struct cluster *cl)
{
	struct broker *b = cl->cl_b;
	if (cl->cl_stopping)
		return;
	int64_t now = cl_now(cl);
	timer_arm(&b->b_reactor.re_timers, &cl->cl_hb_timer,
		  now + ctl_heartbeat_interval_ms(&b->b_cfg));
	if (cl->cl_broker_epoch < 0) {
		cl_register(cl);
		return;
	}
	struct kp_replog_heartbeat_request req = {
		.broker_id = b->b_cfg.bc_id,
		.broker_epoch = cl->cl_broker_epoch,
		.metadata_offset = cl->cl_image.mi_next_offset,
		.want_shutdown = cl->cl_want_shutdown,
	};
	if (cl->cl_ctl) {
		struct kp_replog_heartbeat_response r;
		ctl_heartbeat(cl->cl_ctl, &req, &r);
		cl_heartbeat_answer(cl, &r, now);
		return;
	}
	struct peer *pe = cl_controller_peer(cl);
	if (cl->cl_hb_inflight || !pe)
		return;
	/* The quorum says it leads, so it is up: a heartbeat must not wait
	 * out a reconnect backoff left from a pause (the session would run
	 * out meanwhile). At most one reconnect per heartbeat interval. */
	peer_retry_now(pe);
	union kp_request_body body = {.replog_broker_heartbeat = req};
	cl->cl_hb_sent_ms = now;
	if (peer_send(pe, KP_API_REPLOG_BROKER_HEARTBEAT, 0, &body,
		      ctl_heartbeat_interval_ms(&b->b_cfg) * 2, cl_remote_heartbeat, cl) == 0)
		cl->cl_hb_inflight = true;
}

static void cl_on_hb_timer(struct timer *t)
{
	cl_heartbeat(t->tm_ctx);
}

/* ---- requests to the controller ----------------------------------------- */

struct cl_alter_ctx {
	struct cluster *ca_cl;
	char ca_topic[TOPIC_NAME_MAX + 1];
	int32_t ca_partition;
	int32_t ca_leader_epoch;
	int32_t ca_partition_epoch;
};

static bool cluster_alter_retriable(int err)
{
	return err == KP_ERR_NETWORK_EXCEPTION || err == KP_ERR_REQUEST_TIMED_OUT ||
	       err == KP_ERR_NOT_CONTROLLER || err == KP_ERR_UNKNOWN_SERVER_ERROR ||
	       err == KP_ERR_KAFKA_STORAGE_ERROR;
}

/* The controller's answer to one AlterPartition. A commit arrives as
 * metadata (replica_apply). A refusal never drops the proposal here: one
 * for stale epochs says nothing about an earlier copy that may have been
 * committed, and one at current epochs (an ineligible member) comes with a
 * partition epoch bump. Either way newer metadata resolves it (isr.h). An
 * answer that never came is resent by replica_tick; one that failed on the
 * way, sooner. */
static void cl_alter_outcome(struct cl_alter_ctx *ca, int err)
{
	struct broker *b = ca->ca_cl->cl_b;
	struct partition *p = topics_partition(b->b_topics, ca->ca_topic, (int)strlen(ca->ca_topic),
					       ca->ca_partition);
	bool current = p && replica_is_leader(p) && p->pt_leader_epoch == ca->ca_leader_epoch &&
		       p->pt_isr.ip_partition_epoch == ca->ca_partition_epoch;
	if (err && current) {
		char b1[BLOG_I64_BUF];
		blog(BLOG_INFO, "isr_change_refused", "topic", ca->ca_topic, "partition",
		     blog_i64(b1, ca->ca_partition), "error", kp_error_name((int16_t)err), NULL);
		if (cluster_alter_retriable(err))
			p->pt_alter_resend_ms = cl_now(ca->ca_cl) + CLUSTER_RETRY_MS;
		else /* no new proposal for a while: the next would likely be refused too */
			p->pt_alter_quiet_until_ms = cl_now(ca->ca_cl) + CLUSTER_ALTER_QUIET_MS;
	}
	free(ca);
}

static void cl_alter_local_done(void *ctx, int err, const char *msg, int64_t value)
{
	(void)msg;
	(void)value;
	cl_alter_outcome(ctx, err);
}

static void cl_alter_remote_done(void *ctx, int err, const union kp_response_body *resp)
{
	int e = err ? KP_ERR_NETWORK_EXCEPTION : resp->replog_alter_partition.error_code;
	if (!e && resp->replog_alter_partition.topics_count == 1 &&
	    resp->replog_alter_partition.topics[0].partitions_count == 1)
		e = resp->replog_alter_partition.topics[0].partitions[0].error_code;
	cl_alter_outcome(ctx, e);
}

void cluster_alter_partition(struct broker *b, struct partition *p, const int32_t *isr, int32_t n)
{
	struct cluster *cl = cl_of(b);
	struct cl_alter_ctx *ca = calloc(1, sizeof(*ca));
	if (!ca)
		return;
	ca->ca_cl = cl;
	snprintf(ca->ca_topic, sizeof(ca->ca_topic), "%s", p->pt_topic->tp_name);
	ca->ca_partition = p->pt_index;
	ca->ca_leader_epoch = p->pt_leader_epoch;
	ca->ca_partition_epoch = p->pt_isr.ip_partition_epoch;
	struct kp_replog_alter_partition ap = {
		.partition_index = p->pt_index,
		.leader_epoch = p->pt_leader_epoch,
		.partition_epoch = p->pt_isr.ip_partition_epoch,
		.new_isr = (int32_t *)isr,
		.new_isr_count = n,
	};
	if (cl->cl_ctl) {
		ctl_alter_partition(cl->cl_ctl, b->b_cfg.bc_id, cl->cl_broker_epoch, ca->ca_topic,
				    (int)strlen(ca->ca_topic), &ap, cl_alter_local_done, ca);
		return;
	}
	struct peer *pe = cl_controller_peer(cl);
	if (!pe) {
		cl_alter_outcome(ca, KP_ERR_NOT_CONTROLLER);
		return;
	}
	struct kp_replog_alter_topic topic = {
		.name = kp_str_from_cstr(ca->ca_topic), .partitions = &ap, .partitions_count = 1};
	union kp_request_body body = {
		.replog_alter_partition = {.broker_id = b->b_cfg.bc_id,
					   .broker_epoch = cl->cl_broker_epoch,
					   .topics = &topic,
					   .topics_count = 1}};
	if (peer_send(pe, KP_API_REPLOG_ALTER_PARTITION, 0, &body, CLUSTER_REQUEST_TIMEOUT_MS,
		      cl_alter_remote_done, ca) < 0)
		cl_alter_outcome(ca, KP_ERR_UNKNOWN_SERVER_ERROR);
}

static void cl_created_local(void *ctx, int err, const char *msg, int64_t value)
{
	(void)ctx;
	(void)value;
	if (err && err != KP_ERR_TOPIC_ALREADY_EXISTS)
		blog(BLOG_WARN, "topic_auto_create_failed", "error", kp_error_name((int16_t)err),
		     "message", msg ? msg : "", NULL);
}

static void cl_created_remote(void *ctx, int err, const union kp_response_body *resp)
{
	(void)ctx;
	if (err || resp->create_topics.topics_count != 1)
		return;
	const struct kp_createtopics_topic_result *r = &resp->create_topics.topics[0];
	if (r->error_code && r->error_code != KP_ERR_TOPIC_ALREADY_EXISTS) {
		char msg[256];
		snprintf(msg, sizeof(msg), "%.*s",
			 r->error_message.len > 0 ? r->error_message.len : 0,
			 r->error_message.ptr ? r->error_message.ptr : "");
		blog(BLOG_WARN, "topic_auto_create_failed", "error", kp_error_name(r->error_code),
		     "message", msg, NULL);
	}
}

void cluster_auto_create(struct broker *b, const char *name, int len)
{
	struct cluster *cl = cl_of(b);
	if (cl->cl_ctl) {
		ctl_create_topic(cl->cl_ctl, name, len, &b->b_cfg.bc_topic_defaults, false,
				 cl_created_local, NULL);
		return;
	}
	struct kp_createtopics_topic topic = {
		.name = {name, len}, .num_partitions = -1, .replication_factor = -1};
	union kp_request_body body = {.create_topics = {.topics = &topic,
							.topics_count = 1,
							.timeout_ms = CLUSTER_REQUEST_TIMEOUT_MS}};
	struct peer *pe = cl_controller_peer(cl);
	if (pe)
		peer_send(pe, KP_API_CREATE_TOPICS, 4, &body, CLUSTER_REQUEST_TIMEOUT_MS,
			  cl_created_remote, NULL);
}

void cluster_create_internal_topic(struct broker *b, const char *name, int32_t partitions,
				   int16_t replication_factor, int32_t min_isr, int cleanup_policy)
{
	struct cluster *cl = cl_of(b);
	int len = (int)strlen(name);
	if (cl->cl_ctl) {
		struct topic_config tc = b->b_cfg.bc_topic_defaults;
		tc.tc_partitions = partitions;
		tc.tc_replication_factor = replication_factor;
		tc.tc_min_insync_replicas = min_isr;
		tc.tc_cleanup_policy = cleanup_policy;
		ctl_create_topic(cl->cl_ctl, name, len, &tc, false, cl_created_local, NULL);
		return;
	}
	char isr[16];
	snprintf(isr, sizeof(isr), "%d", min_isr);
	struct kp_createtopics_config configs[2] = {
		{.name = KP_STR("min.insync.replicas"), .value = kp_str_from_cstr(isr)},
		{.name = KP_STR("cleanup.policy"),
		 .value = cleanup_policy == CONFIG_CLEANUP_COMPACT ? KP_STR("compact")
								   : KP_STR("delete")},
	};
	struct kp_createtopics_topic topic = {.name = {name, len},
					      .num_partitions = partitions,
					      .replication_factor = replication_factor,
					      .configs = configs,
					      .configs_count = 2};
	union kp_request_body body = {.create_topics = {.topics = &topic,
							.topics_count = 1,
							.timeout_ms = CLUSTER_REQUEST_TIMEOUT_MS}};
	struct peer *pe = cl_controller_peer(cl);
	if (pe)
		peer_send(pe, KP_API_CREATE_TOPICS, 4, &body, CLUSTER_REQUEST_TIMEOUT_MS,
			  cl_created_remote, NULL);
}

/* ---- waits, shutdown, periodic work ------------------------------------- */

static void cl_wait_expired(struct timer *t)
{
	struct cluster_meta_wait *w = t->tm_ctx;
	cluster_cancel_wait(w->cmw_broker, w);
	w->cmw_done(w);
}

void cluster_wait_metadata(struct broker *b, struct cluster_meta_wait *w, int64_t timeout_ms)
{
	struct cluster *cl = cl_of(b);
	w->cmw_broker = b;
	w->cmw_linked = true;
	w->cmw_next = NULL;
	struct cluster_meta_wait **tail = &cl->cl_waits; /* FIFO: woken in arrival order */
	while (*tail)
		tail = &(*tail)->cmw_next;
	*tail = w;
	timer_init(&w->cmw_timer, cl_wait_expired, w);
	timer_arm(&b->b_reactor.re_timers, &w->cmw_timer, cl_now(cl) + timeout_ms);
}

void cluster_cancel_wait(struct broker *b, struct cluster_meta_wait *w)
{
	struct cluster *cl = cl_of(b);
	timer_cancel(&b->b_reactor.re_timers, &w->cmw_timer);
	if (!w->cmw_linked)
		return;
	for (struct cluster_meta_wait **pp = &cl->cl_waits; *pp; pp = &(*pp)->cmw_next)
		if (*pp == w) {
			*pp = w->cmw_next;
			break;
		}
	w->cmw_linked = false;
}

void cluster_begin_shutdown(struct broker *b)
{
	struct cluster *cl = cl_of(b);
	if (!cl || cl->cl_want_shutdown)
		return;
	cl->cl_want_shutdown = true;
	/* The next controller takes over at once, and moves this broker's
	 * leaderships as for any other. */
	qr_hand_over(cl->cl_q);
	cl_heartbeat(cl);
}

void cluster_heartbeat_soon(struct broker *b)
{
	struct cluster *cl = cl_of(b);
	if (cl && !cl->cl_stopping && cl->cl_broker_epoch >= 0)
		timer_arm(&b->b_reactor.re_timers, &cl->cl_hb_timer, cl_now(cl));
}

bool cluster_broker_may_join(const struct broker *b, int32_t id)
{
	const struct cluster *cl = cl_of(b);
	return cl && meta_broker_may_join(&cl->cl_image, id);
}

bool cluster_caught_up(const struct broker *b)
{
	const struct cluster *cl = cl_of(b);
	return !cl || cl->cl_loaded || b->b_cfg.bc_controller_only;
}

bool cluster_shutdown_ready(const struct broker *b)
{
	const struct cluster *cl = cl_of(b);
	if (cl && qr_handing_over(cl->cl_q))
		return false; /* the next controller first (an election timeout at most) */
	return !cl || cl->cl_broker_epoch < 0 || cl->cl_shutdown_ready;
}

static void cl_tick_one(void *ctx, struct partition *p)
{
	replica_tick(ctx, p);
}

void cluster_tick(struct broker *b)
{
	topics_each_partition(b->b_topics, cl_tick_one, b);
}

/* ---- start / stop -------------------------------------------------------- */

int cluster_start(struct broker *b)
{
	struct cluster *cl = calloc(1, sizeof(*cl));
	if (!cl)
		return -1;
	b->b_cluster = cl;
	cl->cl_b = b;
	cl->cl_broker_epoch = -1;
	cl->cl_peer_id = -1;
	cl->cl_fenced = true;
	meta_image_init(&cl->cl_image);
	if (getrandom(cl->cl_incarnation, 16, 0) != 16)
		memset(cl->cl_incarnation, 0x33, 16);
	timer_init(&cl->cl_hb_timer, cl_on_hb_timer, cl);
	struct qr_ops ops = {.ctx = cl,
			     .apply = cl_q_apply,
			     .snapshot = cl_q_snapshot,
			     .restore = cl_q_restore,
			     .role = cl_q_role};
	if (qr_start(b, &ops, &cl->cl_q) < 0)
		return -1;
	/* Registration waits for the cluster id, which the first applied
	 * controller record brings (cl_learn_cluster_id). */
	if (!b->b_cfg.bc_controller_only)
		timer_arm(&b->b_reactor.re_timers, &cl->cl_hb_timer, cl_now(cl) + CLUSTER_RETRY_MS);
	return 0;
}

void cluster_stop(struct broker *b)
{
	struct cluster *cl = cl_of(b);
	if (!cl)
		return;
	cl->cl_stopping = true;
	fetcher_stop_all(b);
	timer_cancel(&b->b_reactor.re_timers, &cl->cl_hb_timer);
	while (cl->cl_waits) {
		struct cluster_meta_wait *w = cl->cl_waits;
		cluster_cancel_wait(b, w);
		w->cmw_done(w);
	}
	if (cl->cl_peer)
		peer_destroy(cl->cl_peer);
	qr_stop(cl->cl_q); /* fails what the controller still waits on */
	ctl_stop(cl->cl_ctl);
	meta_image_deinit(&cl->cl_image);
	free(cl);
	b->b_cluster = NULL;
}
