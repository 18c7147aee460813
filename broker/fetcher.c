/*
 * fetcher — followers replicating from a leader (protocol in fetcher.h).
 *
 * One request per fetcher is in flight at a time: an OffsetForLeaderEpoch
 * for the partitions still finding their truncation point, else a Fetch for
 * those ready to fetch. A request records, per partition, the topic name,
 * index and leader epoch it was sent under; a response entry is applied
 * only if the partition is still followed by this fetcher in that epoch,
 * so answers that arrive after a leadership change are dropped.
 */
#include "fetcher.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "blog.h"
#include "broker.h"
#include "cluster.h"
#include "kp_api.h"
#include "partition.h"
#include "peer.h"
#include "replica.h"
#include "rlassert.h"
#include "rlerr.h"

#define FETCHER_MAX_WAIT_MS	    500
#define FETCHER_PARTITION_MAX_BYTES (4 << 20)
#define FETCHER_MAX_BYTES	    (32 << 20)
#define FETCHER_REQUEST_TIMEOUT_MS  10000
#define FETCHER_BACKOFF_MIN_MS	    50
#define FETCHER_BACKOFF_MAX_MS	    1000

struct fetcher {
	struct broker *f_b;
	int32_t f_leader;
	struct peer *f_peer;
	struct partition *f_parts; /* followed partitions, via pt_fetch_next */
	bool f_inflight;
	bool f_dead;
	struct timer f_retry;
	int64_t f_backoff_ms;
	struct fetcher *f_next; /* the broker's list */
};

/* What a request covered, to match its answers. */
struct fetcher_sent {
	char fs_topic[TOPIC_NAME_MAX + 1];
	int32_t fs_partition;
	int32_t fs_leader_epoch;
	int32_t fs_asked_epoch; /* OffsetForLeaderEpoch: the epoch asked about */
	int64_t fs_offset;	/* Fetch: the offset fetched from */
};

struct fetcher_req {
	struct fetcher *fr_f;
	int fr_n;
	struct fetcher_sent fr_sent[];
};

static void fetcher_kick(struct fetcher *f);

static int64_t fetcher_now(const struct fetcher *f)
{
	return f->f_b->b_reactor.re_now_ms;
}

static void fetcher_free(struct fetcher *f)
{
	timer_cancel(&f->f_b->b_reactor.re_timers, &f->f_retry);
	free(f);
}

static void fetcher_backoff(struct fetcher *f)
{
	timer_arm(&f->f_b->b_reactor.re_timers, &f->f_retry, fetcher_now(f) + f->f_backoff_ms);
	f->f_backoff_ms = f->f_backoff_ms * 2 > FETCHER_BACKOFF_MAX_MS ? FETCHER_BACKOFF_MAX_MS
								       : f->f_backoff_ms * 2;
}

static void fetcher_on_retry(struct timer *t)
{
	fetcher_kick(t->tm_ctx);
}

/* The partition a response entry is about, if it is still ours as sent. */
static struct partition *fetcher_match(struct fetcher *f, const struct fetcher_sent *s, int state)
{
	struct partition *p = topics_partition(f->f_b->b_topics, s->fs_topic,
					       (int)strlen(s->fs_topic), s->fs_partition);
	if (!p || p->pt_fetcher != f || p->pt_leader_epoch != s->fs_leader_epoch ||
	    p->pt_fetch_state != state)
		return NULL;
	return p;
}

static struct fetcher_req *fetcher_req_new(struct fetcher *f, int n)
{
	struct fetcher_req *r = calloc(1, sizeof(*r) + (size_t)n * sizeof(r->fr_sent[0]));
	if (r)
		r->fr_f = f;
	return r;
}

/* A request is over (answered or failed): the fetcher may send the next. */
static bool fetcher_req_end(struct fetcher_req *r)
{
	struct fetcher *f = r->fr_f;
	free(r);
	f->f_inflight = false;
	if (f->f_dead) {
		fetcher_free(f);
		return false;
	}
	return true;
}

/* ---- truncation -------------------------------------------------------- */

static void fetcher_epochs(const struct partition *p, struct isr_epoch_entry *out, int32_t *n)
{
	const struct epoch_cache *ec = plog_epochs(p->pt_log);
	uint32_t from =
		ec->ec_count > ISR_MAX_REPLICAS * 64 ? ec->ec_count - ISR_MAX_REPLICAS * 64 : 0;
	*n = 0;
	for (uint32_t i = from; i < ec->ec_count; i++)
		out[(*n)++] = (struct isr_epoch_entry){ec->ec_entries[i].ee_epoch,
						       ec->ec_entries[i].ee_start_offset};
}

static void fetcher_log_discard(const struct partition *p, const struct plog_truncation *t,
				const struct discard_info *di, int32_t leader, int32_t epoch)
{
	char b1[BLOG_I64_BUF], b2[BLOG_I64_BUF], b3[BLOG_I64_BUF], b4[BLOG_I64_BUF],
		b5[BLOG_I64_BUF], b6[BLOG_I64_BUF], b7[BLOG_I64_BUF];
	blog(BLOG_WARN, "writes_discarded", "topic", p->pt_topic->tp_name, "partition",
	     blog_i64(b1, p->pt_index), "first_offset", blog_i64(b2, t->pt_new_end), "next_offset",
	     blog_i64(b3, t->pt_old_end), "batches", blog_i64(b4, t->pt_batches), "bytes",
	     blog_i64(b5, (long long)t->pt_bytes), "new_leader", blog_i64(b6, leader),
	     "leader_epoch", blog_i64(b7, epoch), "preserved_as", di->di_name, NULL);
}

/* Cut p's log at `offset` (kept in discarded/); then fetch. */
static void fetcher_truncate(struct fetcher *f, struct partition *p, int64_t offset)
{
	/* At the end too: that drops an epoch begun there and never written. */
	if (offset <= plog_end_offset(p->pt_log)) {
		if (!plog_io_idle(p->pt_log))
			return; /* an append still in flight: the next kick tries again */
		char detail[DISCARD_TEXT_MAX];
		snprintf(detail, sizeof(detail), "follower truncation: leader %d, leader epoch %d",
			 f->f_leader, p->pt_leader_epoch);
		struct plog_truncation t;
		struct discard_info di;
		int rc = plog_truncate_preserving(p->pt_log, offset, "truncated", detail, &t, &di);
		if (rc < 0) {
			char b1[BLOG_I64_BUF];
			blog(BLOG_ERROR, "truncation_failed", "topic", p->pt_topic->tp_name,
			     "partition", blog_i64(b1, p->pt_index), "error", rl_strerror(rc),
			     NULL);
			return;
		}
		if (t.pt_batches > 0) {
			p->pt_discard_events++;
			p->pt_discard_records += t.pt_old_end - t.pt_new_end;
			fetcher_log_discard(p, &t, &di, f->f_leader, p->pt_leader_epoch);
		}
	}
	p->pt_fetch_state = PFS_FETCH;
}

static void fetcher_epoch_answer(struct fetcher *f, struct partition *p,
				 const struct fetcher_sent *s, const struct kp_epoch_end_offset *e)
{
	if (e->error_code) {
		/* UNKNOWN_LEADER_EPOCH: the leader has not applied the metadata
		 * yet; others: newer metadata will move us. Either way not at
		 * once again. */
		fetcher_backoff(f);
		return;
	}
	struct isr_epoch_entry local[ISR_MAX_REPLICAS * 64];
	int32_t n;
	fetcher_epochs(p, local, &n);
	int64_t offset;
	int32_t epoch;
	int act = isr_truncation_point(local, n, plog_end_offset(p->pt_log), p->pt_hw,
				       s->fs_asked_epoch, e->leader_epoch, e->end_offset, &offset,
				       &epoch);
	if (act == ISR_ASK_AGAIN) {
		p->pt_truncate_query = epoch;
		return;
	}
	if (act == ISR_BELOW_HW) {
		const struct meta_partition *mp =
			meta_partition(cluster_image(f->f_b), p->pt_topic->tp_name,
				       p->pt_topic->tp_name_len, p->pt_index);
		char b1[BLOG_I64_BUF], b2[BLOG_I64_BUF], b3[BLOG_I64_BUF];
		/* Allowed once, to join the history an unclean election began:
		 * only a replica that has nothing of that history yet. */
		int32_t newest = n > 0 ? local[n - 1].iee_epoch : -1;
		if (!mp || mp->mp_unclean_epoch < 0 || newest >= mp->mp_unclean_epoch) {
			blog(BLOG_ERROR, "truncation_below_hw_refused", "topic",
			     p->pt_topic->tp_name, "partition", blog_i64(b1, p->pt_index), "offset",
			     blog_i64(b2, offset), "hw", blog_i64(b3, p->pt_hw), "reason",
			     "the leader lacks committed records; this replica keeps them and "
			     "stays "
			     "out of sync",
			     NULL);
			p->pt_fetch_state = PFS_FAILED;
			return;
		}
		blog(BLOG_WARN, "unclean_truncation", "topic", p->pt_topic->tp_name, "partition",
		     blog_i64(b1, p->pt_index), "offset", blog_i64(b2, offset), "hw",
		     blog_i64(b3, p->pt_hw), NULL);
	}
	fetcher_truncate(f, p, offset);
	if (act == ISR_BELOW_HW && p->pt_fetch_state == PFS_FETCH && p->pt_hw > offset) {
		/* The one time a HW moves back: what it covered is gone. */
		p->pt_hw = offset;
		p->pt_isr.ip_hw = offset;
		partition_checkpoint_hw(p);
	}
}

static void fetcher_epoch_done(void *ctx, int err, const union kp_response_body *resp)
{
	struct fetcher_req *r = ctx;
	struct fetcher *f = r->fr_f;
	if (!f->f_dead && err)
		fetcher_backoff(f);
	if (!f->f_dead && !err) {
		f->f_backoff_ms = FETCHER_BACKOFF_MIN_MS;
		const struct kp_epoch_response *er = &resp->offset_for_leader_epoch;
		int k = 0;
		for (int32_t i = 0; i < er->topics_count && k < r->fr_n; i++)
			for (int32_t j = 0; j < er->topics[i].partitions_count && k < r->fr_n;
			     j++, k++) {
				struct partition *p =
					fetcher_match(f, &r->fr_sent[k], PFS_TRUNCATE);
				if (p)
					fetcher_epoch_answer(f, p, &r->fr_sent[k],
							     &er->topics[i].partitions[j]);
			}
	}
	if (fetcher_req_end(r))
		fetcher_kick(f);
}

static bool fetcher_send_epochs(struct fetcher *f)
{
	int n = 0;
	for (struct partition *p = f->f_parts; p; p = p->pt_fetch_next)
		n += p->pt_fetch_state == PFS_TRUNCATE;
	if (n == 0)
		return false;
	struct fetcher_req *r = fetcher_req_new(f, n);
	struct kp_epoch_topic *topics = calloc((size_t)n, sizeof(*topics));
	struct kp_epoch_partition *parts = calloc((size_t)n, sizeof(*parts));
	if (!r || !topics || !parts) {
		free(r), free(topics), free(parts);
		fetcher_backoff(f);
		return true;
	}
	int k = 0;
	for (struct partition *p = f->f_parts; p; p = p->pt_fetch_next) {
		if (p->pt_fetch_state != PFS_TRUNCATE)
			continue;
		if (p->pt_truncate_query < 0) {
			struct isr_epoch_entry local[ISR_MAX_REPLICAS * 64];
			int32_t nl;
			fetcher_epochs(p, local, &nl);
			p->pt_truncate_query = isr_first_epoch_query(local, nl);
			if (p->pt_truncate_query < 0) {
				/* No epochs here: nothing to truncate; fetch from the end. */
				p->pt_fetch_state = PFS_FETCH;
				continue;
			}
		}
		struct fetcher_sent *s = &r->fr_sent[k];
		snprintf(s->fs_topic, sizeof(s->fs_topic), "%s", p->pt_topic->tp_name);
		s->fs_partition = p->pt_index;
		s->fs_leader_epoch = p->pt_leader_epoch;
		s->fs_asked_epoch = p->pt_truncate_query;
		parts[k] = (struct kp_epoch_partition){.partition = p->pt_index,
						       .current_leader_epoch = p->pt_leader_epoch,
						       .leader_epoch = p->pt_truncate_query};
		topics[k] = (struct kp_epoch_topic){.topic = kp_str_from_cstr(s->fs_topic),
						    .partitions = &parts[k],
						    .partitions_count = 1};
		k++;
	}
	r->fr_n = k;
	bool sent = false;
	if (k > 0) {
		union kp_request_body body = {.offset_for_leader_epoch = {
						      .replica_id = f->f_b->b_cfg.bc_id,
						      .topics = topics,
						      .topics_count = k,
					      }};
		if (peer_send(f->f_peer, KP_API_OFFSET_FOR_LEADER_EPOCH, 3, &body,
			      FETCHER_REQUEST_TIMEOUT_MS, fetcher_epoch_done, r) == 0) {
			f->f_inflight = true;
			sent = true;
		}
	}
	free(topics);
	free(parts);
	if (!sent)
		free(r);
	return sent;
}

/* ---- fetching ---------------------------------------------------------- */

struct fetcher_append {
	struct plog_append fa_append;
	uint8_t *fa_bytes;
};

static void fetcher_appended(struct plog_append *pa, int res)
{
	struct fetcher_append *fa = pa->pa_ctx;
	(void)res; /* a failed write fences the log; replica_on_progress handles it */
	free(fa->fa_bytes);
	free(fa);
}

/* Whole batches only: a fetch response may end with a partial one. */
static size_t fetcher_whole_batches(const uint8_t *b, size_t len)
{
	size_t at = 0;
	while (at + BATCH_LOG_OVERHEAD <= len) {
		int64_t total = batch_total_size(b + at, len - at);
		if (total < 0 || at + (size_t)total > len)
			break;
		at += (size_t)total;
	}
	return at;
}

static void fetcher_durable(struct pwait *w, int err)
{
	struct partition *p = w->pw_ctx;
	p->pt_fetch_waiting = false;
	if (err) {
		/* The wait was cut short (the log failed, or the partition is
		 * moving to another leader): never fetch past what is not
		 * durable here. The fetcher's other partitions go on. */
		p->pt_fetch_state = PFS_FAILED;
	}
	if (p->pt_fetcher)
		fetcher_kick(p->pt_fetcher);
}

static void fetcher_partition_data(struct fetcher *f, struct partition *p,
				   const struct kp_fetch_partition_data *d)
{
	if (d->error_code == KP_ERR_OFFSET_OUT_OF_RANGE &&
	    plog_end_offset(p->pt_log) < d->log_start_offset) {
		/* Behind the leader's log start (retention removed what we
		 * lack): nothing to truncate to. Not yet handled: say so once
		 * and stop, rather than ask forever. */
		char b1[BLOG_I64_BUF], b2[BLOG_I64_BUF], b3[BLOG_I64_BUF];
		blog(BLOG_ERROR, "replica_behind_leader_log_start", "topic", p->pt_topic->tp_name,
		     "partition", blog_i64(b1, p->pt_index), "log_end",
		     blog_i64(b2, plog_end_offset(p->pt_log)), "leader_log_start",
		     blog_i64(b3, d->log_start_offset), "action",
		     "this replica stays out of sync: delete its directory and restart to "
		     "copy it afresh",
		     NULL);
		p->pt_fetch_state = PFS_FAILED;
		return;
	}
	if (d->error_code) {
		if (d->error_code == KP_ERR_OFFSET_OUT_OF_RANGE) {
			/* Our end is past the leader's: find the divergence again. */
			p->pt_fetch_state = PFS_TRUNCATE;
			p->pt_truncate_query = -1;
		}
		fetcher_backoff(f); /* whatever it was, not at once again */
		return;
	}
	size_t len = d->records.len > 0
			     ? fetcher_whole_batches(d->records.ptr, (size_t)d->records.len)
			     : 0;
	if (len > 0) {
		struct fetcher_append *fa = calloc(1, sizeof(*fa));
		uint8_t *copy = fa ? malloc(len) : NULL;
		if (!copy) {
			free(fa);
			fetcher_backoff(f);
			return;
		}
		memcpy(copy, d->records.ptr, len);
		fa->fa_bytes = copy;
		fa->fa_append = (struct plog_append){.pa_done = fetcher_appended, .pa_ctx = fa};
		int rc = plog_append_replica(p->pt_log, &fa->fa_append, copy, len);
		if (rc < 0) {
			free(copy);
			free(fa);
			char b1[BLOG_I64_BUF];
			blog(BLOG_WARN, "replica_append_refused", "topic", p->pt_topic->tp_name,
			     "partition", blog_i64(b1, p->pt_index), "error", rl_strerror(rc),
			     NULL);
			if (rc == RL_EORDER) {
				p->pt_fetch_state = PFS_TRUNCATE;
				p->pt_truncate_query = -1;
			}
			fetcher_backoff(f); /* not at once again, whatever it was */
			return;
		}
	}
	int64_t durable_target = plog_end_offset(p->pt_log);
	isr_follower_hw(&p->pt_isr, d->high_watermark,
			p->pt_durability == CONFIG_DURABILITY_REPLICATED
				? durable_target
				: plog_flushed_offset(p->pt_log));
	partition_hw_moved(p);
	if (p->pt_durability != CONFIG_DURABILITY_REPLICATED &&
	    plog_flushed_offset(p->pt_log) < durable_target) {
		/* Fetch again only from what is durable: that is our LEO. */
		p->pt_fetch_waiting = true;
		p->pt_fetch_wait = (struct pwait){
			.pw_target = durable_target, .pw_done = fetcher_durable, .pw_ctx = p};
		partition_wait_flushed(p, &p->pt_fetch_wait);
	}
}

static void fetcher_fetch_done(void *ctx, int err, const union kp_response_body *resp)
{
	struct fetcher_req *r = ctx;
	struct fetcher *f = r->fr_f;
	if (!f->f_dead && err)
		fetcher_backoff(f);
	if (!f->f_dead && !err) {
		f->f_backoff_ms = FETCHER_BACKOFF_MIN_MS;
		const struct kp_fetch_response *fr = &resp->fetch;
		int k = 0;
		for (int32_t i = 0; i < fr->responses_count && k < r->fr_n; i++)
			for (int32_t j = 0; j < fr->responses[i].partitions_count && k < r->fr_n;
			     j++, k++) {
				struct partition *p = fetcher_match(f, &r->fr_sent[k], PFS_FETCH);
				if (p && plog_end_offset(p->pt_log) == r->fr_sent[k].fs_offset)
					fetcher_partition_data(f, p,
							       &fr->responses[i].partitions[j]);
			}
	}
	if (fetcher_req_end(r))
		fetcher_kick(f);
}

static bool fetcher_send_fetch(struct fetcher *f)
{
	int n = 0;
	for (struct partition *p = f->f_parts; p; p = p->pt_fetch_next) {
		/* One fetch covers every partition: while one still makes what
		 * it copied durable, wait for it (a few ms) rather than leave it
		 * behind a long poll held open by idle partitions. */
		if (p->pt_fetch_state == PFS_FETCH && p->pt_fetch_waiting)
			return false;
		n += p->pt_fetch_state == PFS_FETCH;
	}
	if (n == 0)
		return false;
	struct fetcher_req *r = fetcher_req_new(f, n);
	struct kp_fetch_topic *topics = calloc((size_t)n, sizeof(*topics));
	struct kp_fetch_partition *parts = calloc((size_t)n, sizeof(*parts));
	if (!r || !topics || !parts) {
		free(r), free(topics), free(parts);
		fetcher_backoff(f);
		return true;
	}
	int k = 0;
	for (struct partition *p = f->f_parts; p; p = p->pt_fetch_next) {
		if (p->pt_fetch_state != PFS_FETCH)
			continue;
		struct fetcher_sent *s = &r->fr_sent[k];
		snprintf(s->fs_topic, sizeof(s->fs_topic), "%s", p->pt_topic->tp_name);
		s->fs_partition = p->pt_index;
		s->fs_leader_epoch = p->pt_leader_epoch;
		s->fs_offset = plog_end_offset(p->pt_log);
		parts[k] = (struct kp_fetch_partition){
			.partition = p->pt_index,
			.current_leader_epoch = p->pt_leader_epoch,
			.fetch_offset = s->fs_offset,
			.log_start_offset = plog_start_offset(p->pt_log),
			.partition_max_bytes = FETCHER_PARTITION_MAX_BYTES,
		};
		topics[k] = (struct kp_fetch_topic){.topic = kp_str_from_cstr(s->fs_topic),
						    .partitions = &parts[k],
						    .partitions_count = 1};
		k++;
	}
	r->fr_n = k;
	union kp_request_body body = {.fetch = {
					      .replica_id = f->f_b->b_cfg.bc_id,
					      .max_wait_ms = FETCHER_MAX_WAIT_MS,
					      .min_bytes = 1,
					      .max_bytes = FETCHER_MAX_BYTES,
					      .isolation_level = 0,
					      .session_id = 0,
					      .session_epoch = -1,
					      .topics = topics,
					      .topics_count = k,
					      .rack_id = KP_STR(""),
				      }};
	bool sent = peer_send(f->f_peer, KP_API_FETCH, 11, &body,
			      FETCHER_MAX_WAIT_MS + FETCHER_REQUEST_TIMEOUT_MS, fetcher_fetch_done,
			      r) == 0;
	if (sent)
		f->f_inflight = true;
	else
		free(r);
	free(topics);
	free(parts);
	return sent;
}

static void fetcher_kick(struct fetcher *f)
{
	if (f->f_inflight || f->f_dead || timer_armed(&f->f_retry))
		return;
	/* The truncation handshake first, then data. */
	if (!fetcher_send_epochs(f))
		fetcher_send_fetch(f);
}

/* ---- membership -------------------------------------------------------- */

static struct fetcher *fetcher_get(struct broker *b, int32_t leader)
{
	for (struct fetcher *f = b->b_fetchers; f; f = f->f_next)
		if (f->f_leader == leader)
			return f;
	const char *addr = cluster_peer_address(b, leader);
	if (!addr)
		return NULL;
	struct fetcher *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->f_b = b;
	f->f_leader = leader;
	f->f_peer = peer_create(b, leader, addr);
	if (!f->f_peer) {
		free(f);
		return NULL;
	}
	f->f_backoff_ms = FETCHER_BACKOFF_MIN_MS;
	timer_init(&f->f_retry, fetcher_on_retry, f);
	f->f_next = b->b_fetchers;
	b->b_fetchers = f;
	return f;
}

void fetcher_follow(struct broker *b, struct partition *p, int32_t leader)
{
	fetcher_unfollow(p);
	struct fetcher *f = fetcher_get(b, leader);
	if (!f) {
		char b1[BLOG_I64_BUF], b2[BLOG_I64_BUF];
		blog(BLOG_WARN, "follow_failed", "topic", p->pt_topic->tp_name, "partition",
		     blog_i64(b1, p->pt_index), "leader", blog_i64(b2, leader), "reason",
		     "no address for the leader", NULL);
		return;
	}
	p->pt_fetcher = f;
	p->pt_fetch_state = PFS_TRUNCATE;
	p->pt_truncate_query = -1;
	p->pt_fetch_waiting = false;
	p->pt_fetch_next = f->f_parts;
	f->f_parts = p;
	fetcher_kick(f);
}

void fetcher_unfollow(struct partition *p)
{
	struct fetcher *f = p->pt_fetcher;
	if (!f)
		return;
	for (struct partition **pp = &f->f_parts; *pp; pp = &(*pp)->pt_fetch_next)
		if (*pp == p) {
			*pp = p->pt_fetch_next;
			break;
		}
	p->pt_fetcher = NULL;
	p->pt_fetch_next = NULL;
	p->pt_fetch_state = PFS_NONE;
	if (p->pt_fetch_waiting)
		partition_cancel_wait(p, &p->pt_fetch_wait);
	p->pt_fetch_waiting = false;
	/* The fetcher may have held its next fetch for this partition (to
	 * make what it copied durable): that kick will not come now. Found by
	 * the fault harness: the other partitions from that leader stopped
	 * for good. A kick too many is harmless. */
	if (f->f_parts)
		fetcher_kick(f);
}

void fetcher_progress(struct partition *p)
{
	if (p->pt_fetcher && !p->pt_fetch_waiting)
		fetcher_kick(p->pt_fetcher);
}

void fetcher_stop_all(struct broker *b)
{
	while (b->b_fetchers) {
		struct fetcher *f = b->b_fetchers;
		b->b_fetchers = f->f_next;
		while (f->f_parts)
			fetcher_unfollow(f->f_parts);
		f->f_dead = true;
		timer_cancel(&b->b_reactor.re_timers, &f->f_retry);
		bool inflight = f->f_inflight;
		peer_destroy(f->f_peer); /* fails the request in flight: it frees f */
		if (!inflight)
			fetcher_free(f);
	}
}
