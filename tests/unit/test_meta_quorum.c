/* Description: randomized, seeded model of the metadata state machine as replog replicates it
 * with canonical raft (raft/fixture.h's deterministic in-memory cluster of 3 or 5 servers, each
 * FSM applying entries exactly as cluster.c does), under a controller workload and kills,
 * network partitions, one-way link loss, deposed leaders and small snapshot thresholds; checks
 * that every server applies the same (offset, entry) sequence, that snapshots taken, shipped and
 * restored equal the image they stand for, and that once the faults heal every server holds the
 * same image, byte for byte, ending at the last applied command's index.
 * REPLOG_SEED=<n> replays one seed; REPLOG_META_QUORUM_SEEDS=<n> sets the number of seeds.
 * Self-check only (never in the suite): REPLOG_META_QUORUM_BREAK=skip (server 1 drops the
 * records of its 5th entry) or =offset (server 1 applies at index, not index - 1) must fail;
 * REPLOG_META_QUORUM_FINAL_ONLY=1 leaves only the checks made once the cluster settles. */
#include "testutil.h"

#include <inttypes.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <time.h>

#include <raft.h>
#include <raft/fixture.h>

#include "meta.h"

/*
 * The model.
 *
 *   servers     raft_fixture servers; server i's FSM (version 1) holds a
 *               meta_image. apply: split the entry into lines, meta_apply
 *               each at offset = last_applied (the entry's index - 1),
 *               then mi_next_offset = offset + 1 (cl_q_apply). snapshot:
 *               meta_snapshot_write into raft_malloc'd bufs and base
 *               (qr_fsm_snapshot). restore: meta_snapshot_read, then
 *               raft_free(buf->base) (qr_fsm_restore).
 *   controller  each server runs one while it leads (quorum.h, "Roles"):
 *               on becoming leader it appends a barrier; once that is
 *               applied in the same term, its image is every committed
 *               entry, and it copies it (meta_image_copy, as ctl_start
 *               does). From then on it proposes entries of valid records,
 *               applying each to its copy first (ctl_stage), starting
 *               with a `controller epoch=<term>` record. It stops when it
 *               loses the leadership or the term changes.
 *   history     `hist`: the committed command entries in index order, as
 *               the first server to apply each one saw it, each with the
 *               snapshot of a reference image that applied hist[0..k].
 *               A server's cursor counts the hist entries its image holds.
 *   faults      kill/revive (a killed fixture server is frozen), cut a
 *               server off from all others, drop one direction of a link,
 *               raft_fixture_depose, new election timeouts and latencies.
 *
 * Checks:
 *   (1) every server applies hist in order: the entry it applies next is
 *       hist[cursor] (same index and bytes) or extends hist; after a
 *       restore its cursor restarts after the snapshot's last command,
 *       which must be in hist. So every pair of servers applied
 *       sequences that are prefixes of each other.
 *   (2) once faults heal and the cluster settles (every server applied
 *       the leader's whole log, bounded), every server's
 *       meta_snapshot_write is byte-identical, and equal to the
 *       reference image's.
 *   (3) before each apply, and once settled, mi_next_offset is the index
 *       of the last command entry applied (0 before any).
 *   (4) write -> read -> write is a fixed point (every restore, and the
 *       final images; also through meta_image_copy).
 *   (5) unless REPLOG_META_QUORUM_FINAL_ONLY: after every step, and for
 *       every snapshot taken and installed, the image equals the
 *       reference at the server's cursor.
 *
 * Two faults of raft 0.15 itself the model runs into (see mq_reelect and
 * mq_io_truncate): a follower with a stale tail can be left behind by a
 * leader for good (settling then cuts the leader off once, so another is
 * elected; at most MQ_SETTLE_TRIES times), and the fixture's in-memory io
 * mis-truncates after an installed snapshot (rebased here).
 */

#define MQ_MAX_SERVERS	   5
#define MQ_BROKER_IDS	   6  /* broker ids 1..6 */
#define MQ_TOPIC_NAMES	   10 /* names topic-0..9, reused after deletion */
#define MQ_MAX_PARTITIONS  8
#define MQ_MAX_HIST	   4096
#define MQ_ENTRY_MAX	   (64 * 1024)
#define MQ_STEPS_MIN	   200
#define MQ_STEPS_SPAN	   200
#define MQ_MAX_INFLIGHT	   8
#define MQ_SETTLE_MS	   40000 /* simulated, per try: > raft's 30 s snapshot resend */
#define MQ_SETTLE_TRIES	   4	 /* a new election between tries */
#define MQ_DEFAULT_SEEDS   120
#define MQ_BUDGET_S	   15.0
#define MQ_BREAK_AT	   5 /* the skip variant drops server 1's 5th entry */
#define MQ_CLUSTER_ID	   "mq-cluster-0001"
#define MQ_ELECTION_MIN_MS 1000 /* the fixture's election timeout */

enum { MQ_BREAK_NONE, MQ_BREAK_SKIP, MQ_BREAK_OFFSET };

struct mq_entry {
	uint64_t me_index;
	char *me_recs; /* owned */
	size_t me_len;
	char *me_snap; /* owned: the reference image after this entry */
	size_t me_snap_len;
};

struct mq_barrier {
	struct raft_barrier mb_req;
	struct mq_server *mb_srv;
	uint64_t mb_term;
};

struct mq_apply {
	struct raft_apply ma_req;
	struct mq_server *ma_srv;
};

struct mq_server {
	struct raft_fsm ms_fsm;
	unsigned ms_idx;
	struct meta_image ms_image;
	size_t ms_cursor;     /* hist entries the image holds */
	uint64_t ms_napplied; /* entries applied since start */
	bool ms_broken;	      /* an entry did not apply: stops applying */
	/* the controller it runs while leading */
	bool ms_active;
	uint64_t ms_term;
	bool ms_need_ctl_rec;
	struct meta_image ms_ctl; /* the log's end as this leader staged it */
	struct mq_barrier *ms_barrier;
	int ms_inflight;
	/* the fixture io's own methods, wrapped (mq_io_truncate) */
	int (*ms_io_truncate)(struct raft_io *io, raft_index index);
	int (*ms_io_snapshot_put)(struct raft_io *io, unsigned trailing,
				  struct raft_io_snapshot_put *req,
				  const struct raft_snapshot *snapshot, raft_io_snapshot_put_cb cb);
	raft_index ms_io_base;	  /* index before the fixture io's first entry */
	raft_index ms_io_install; /* an installed snapshot's index, until flushed */
};

struct mq_stats {
	uint64_t seeds, seeds5, steps, proposals, refused, commands, records, snapshots, restores,
		kills, cuts, oneways, deposes, max_term, topics, deletes, bare_topics,
		partition_changes, settle_ms_max, reelections, stale_matches, rebased_truncations;
};

static struct {
	struct raft_fixture w_f;
	unsigned w_n;
	struct mq_server w_srv[MQ_MAX_SERVERS];
	bool w_cut[MQ_MAX_SERVERS];
	bool w_oneway[MQ_MAX_SERVERS][MQ_MAX_SERVERS];
	struct mq_entry w_hist[MQ_MAX_HIST];
	size_t w_nhist;
	struct meta_image w_ref; /* hist applied in order */
	char *w_snap0;		 /* the empty image as a snapshot */
	size_t w_snap0_len;
	char w_entry[MQ_ENTRY_MAX];
	size_t w_entry_len;
	uint64_t w_rng, w_seed;
	int w_step;
	int w_break;
	bool w_final_only;
	char w_fail[2048];
	struct mq_stats w_st;
} W;

/* ---- helpers -------------------------------------------------------------- */

static uint32_t mq_below(uint32_t n)
{
	return (uint32_t)(tu_rand(&W.w_rng) % n);
}

static bool mq_chance(uint32_t pct)
{
	return mq_below(100) < pct;
}

static struct raft *mq_raft(unsigned i)
{
	return raft_fixture_get(&W.w_f, i);
}

/* Record the first failed check; the run stops at the end of the step. */
__attribute__((format(printf, 1, 2))) static void mq_fail(const char *fmt, ...)
{
	if (W.w_fail[0])
		return;
	int n = snprintf(W.w_fail, sizeof(W.w_fail),
			 "seed %" PRIu64 " step %d (%u servers): ", W.w_seed, W.w_step, W.w_n);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(W.w_fail + n, sizeof(W.w_fail) - (size_t)n, fmt, ap);
	va_end(ap);
}

/* Apply one command entry as cluster.c's cl_q_apply does: one record per
 * line, all at `offset`, then the image ends after the entry. */
static int mq_apply_entry(struct meta_image *mi, int64_t offset, const char *recs, size_t len,
			  char *err, size_t err_cap)
{
	const char *end = recs + len;
	for (const char *at = recs; at < end;) {
		const char *nl = memchr(at, '\n', (size_t)(end - at));
		size_t n = nl ? (size_t)(nl - at) : (size_t)(end - at);
		struct meta_delta d;
		if (n > 0 && meta_apply(mi, at, n, offset, &d, err, err_cap) < 0)
			return -1;
		at += n + 1;
	}
	mi->mi_next_offset = offset + 1;
	return 0;
}

/* The reference snapshot after `cursor` hist entries. */
static void mq_ref_snap(size_t cursor, const char **snap, size_t *len)
{
	if (cursor == 0) {
		*snap = W.w_snap0;
		*len = W.w_snap0_len;
	} else {
		*snap = W.w_hist[cursor - 1].me_snap;
		*len = W.w_hist[cursor - 1].me_snap_len;
	}
}

static uint64_t mq_hist_index(size_t cursor)
{
	return cursor ? W.w_hist[cursor - 1].me_index : 0;
}

/* Compare two snapshot texts; on a difference, fail naming the first
 * differing line of each. */
static bool mq_same_text(const char *a, size_t alen, const char *b, size_t blen, const char *what)
{
	if (alen == blen && memcmp(a, b, alen) == 0)
		return true;
	size_t i = 0;
	while (i < alen && i < blen && a[i] == b[i])
		i++;
	size_t la = i, lb = i;
	while (la > 0 && a[la - 1] != '\n')
		la--;
	lb = la;
	const char *ea = memchr(a + la, '\n', alen - la);
	const char *eb = memchr(b + lb, '\n', blen - lb);
	int na = (int)(ea ? (size_t)(ea - a) - la : alen - la);
	int nb = (int)(eb ? (size_t)(eb - b) - lb : blen - lb);
	mq_fail("%s: images differ at byte %zu: \"%.*s\" vs \"%.*s\"", what, i, na > 300 ? 300 : na,
		a + la, nb > 300 ? 300 : nb, b + lb);
	return false;
}

static bool mq_image_is_ref(const struct meta_image *mi, size_t cursor, const char *what)
{
	char *out;
	size_t len;
	if (meta_snapshot_write(mi, &out, &len) < 0) {
		mq_fail("%s: meta_snapshot_write failed", what);
		return false;
	}
	const char *ref;
	size_t ref_len;
	mq_ref_snap(cursor, &ref, &ref_len);
	bool same = mq_same_text(out, len, ref, ref_len, what);
	free(out);
	return same;
}

/* ---- the state machine ------------------------------------------------------ */

/* Check (1) and (3) for the entry at `index` that server s applies next,
 * and extend hist (and the reference) when s is the first to apply it. */
static void mq_history_apply(struct mq_server *s, uint64_t index, const char *recs, size_t len)
{
	uint64_t prev = mq_hist_index(s->ms_cursor);
	if (index <= prev)
		mq_fail("(1) server %u applies index %" PRIu64 " after index %" PRIu64, s->ms_idx,
			index, prev);
	if (!s->ms_broken && s->ms_image.mi_next_offset != (int64_t)prev)
		mq_fail("(3) server %u: before applying index %" PRIu64
			" mi_next_offset is %" PRId64
			", the last command applied is at index %" PRIu64,
			s->ms_idx, index, s->ms_image.mi_next_offset, prev);
	if (s->ms_cursor < W.w_nhist) {
		const struct mq_entry *e = &W.w_hist[s->ms_cursor];
		if (e->me_index != index || e->me_len != len || memcmp(e->me_recs, recs, len) != 0)
			mq_fail("(1) server %u applies index %" PRIu64 " (%zu bytes) where another "
				"server applied index %" PRIu64 " (%zu bytes): \"%.*s\"",
				s->ms_idx, index, len, e->me_index, e->me_len,
				(int)(len > 200 ? 200 : len), recs);
		s->ms_cursor++;
		return;
	}
	if (W.w_nhist == MQ_MAX_HIST) {
		mq_fail("history longer than %d entries", MQ_MAX_HIST);
		return;
	}
	struct mq_entry *e = &W.w_hist[W.w_nhist];
	char err[512];
	e->me_index = index;
	e->me_len = len;
	e->me_recs = malloc(len ? len : 1);
	assert_non_null(e->me_recs);
	memcpy(e->me_recs, recs, len);
	if (mq_apply_entry(&W.w_ref, (int64_t)index - 1, recs, len, err, sizeof(err)) < 0)
		mq_fail("committed entry at index %" PRIu64 " does not apply: %s", index, err);
	assert_int_equal(meta_snapshot_write(&W.w_ref, &e->me_snap, &e->me_snap_len), 0);
	W.w_nhist++;
	s->ms_cursor++;
	W.w_st.commands++;
	for (size_t i = 0; i < len; i++)
		W.w_st.records += recs[i] == '\n';
}

static int mq_fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf, void **result)
{
	struct mq_server *s = fsm->data;
	*result = NULL;
	/* raft applies index last_applied + 1; its metadata offset is index - 1 */
	int64_t offset = (int64_t)mq_raft(s->ms_idx)->last_applied;
	const char *recs = buf->base;
	mq_history_apply(s, (uint64_t)offset + 1, recs, buf->len);
	s->ms_napplied++;
	if (s->ms_broken)
		return 0; /* cl_q_apply: a member whose image diverged stops */
	if (W.w_break == MQ_BREAK_SKIP && s->ms_idx == 1 && s->ms_napplied == MQ_BREAK_AT) {
		printf("# seed %" PRIu64 ": server 1 skips index %" PRId64 ": %.*s\n", W.w_seed,
		       offset + 1, (int)buf->len, recs);
		s->ms_image.mi_next_offset = offset + 1;
		return 0;
	}
	if (W.w_break == MQ_BREAK_OFFSET && s->ms_idx == 1)
		offset++;
	char err[512];
	if (mq_apply_entry(&s->ms_image, offset, recs, buf->len, err, sizeof(err)) < 0) {
		s->ms_broken = true;
		mq_fail("server %u: committed entry at offset %" PRId64 " does not apply: %s",
			s->ms_idx, offset, err);
	}
	return 0;
}

static int mq_fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n_bufs)
{
	struct mq_server *s = fsm->data;
	char *out = NULL;
	size_t len = 0;
	if (meta_snapshot_write(&s->ms_image, &out, &len) < 0)
		return RAFT_NOMEM;
	if (!W.w_final_only) {
		const char *ref;
		size_t ref_len;
		char what[96];
		snprintf(what, sizeof(what), "(5) snapshot taken by server %u", s->ms_idx);
		mq_ref_snap(s->ms_cursor, &ref, &ref_len);
		mq_same_text(out, len, ref, ref_len, what);
	}
	struct raft_buffer *b = raft_malloc(sizeof(*b));
	void *base = raft_malloc(len ? len : 1);
	if (!b || !base) {
		raft_free(b);
		raft_free(base);
		free(out);
		return RAFT_NOMEM;
	}
	memcpy(base, out, len);
	free(out);
	*b = (struct raft_buffer){.base = base, .len = len};
	*bufs = b;
	*n_bufs = 1;
	W.w_st.snapshots++;
	return 0;
}

/* Where hist holds the command entry at `index` (0: before any). */
static bool mq_hist_find(uint64_t index, size_t *cursor)
{
	if (index == 0) {
		*cursor = 0;
		return true;
	}
	size_t lo = 0, hi = W.w_nhist;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (W.w_hist[mid].me_index < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == W.w_nhist || W.w_hist[lo].me_index != index)
		return false;
	*cursor = lo + 1;
	return true;
}

static int mq_fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
	struct mq_server *s = fsm->data;
	char err[512];
	if (meta_snapshot_read(&s->ms_image, buf->base, buf->len, err, sizeof(err)) < 0) {
		mq_fail("(4) server %u cannot read an installed snapshot: %s", s->ms_idx, err);
		s->ms_broken = true;
		return RAFT_MALFORMED;
	}
	int64_t next = s->ms_image.mi_next_offset;
	size_t cursor;
	if (next < 0 || !mq_hist_find((uint64_t)next, &cursor)) {
		mq_fail("(1) server %u installs a snapshot ending at offset %" PRId64
			", the index of no applied command",
			s->ms_idx, next);
		cursor = W.w_nhist;
	}
	s->ms_cursor = cursor;
	char what[96];
	/* (4): the image read writes back the bytes it was read from */
	snprintf(what, sizeof(what), "(4) snapshot installed on server %u, read back", s->ms_idx);
	char *again;
	size_t again_len;
	assert_int_equal(meta_snapshot_write(&s->ms_image, &again, &again_len), 0);
	mq_same_text(again, again_len, buf->base, buf->len, what);
	free(again);
	if (!W.w_final_only) {
		snprintf(what, sizeof(what), "(5) snapshot installed on server %u", s->ms_idx);
		mq_image_is_ref(&s->ms_image, cursor, what);
	}
	raft_free(buf->base);
	W.w_st.restores++;
	return 0;
}

/* ---- the controller ------------------------------------------------------- */

static void mq_barrier_done(struct raft_barrier *req, int status)
{
	struct mq_barrier *b = req->data;
	struct mq_server *s = b->mb_srv;
	struct raft *r = mq_raft(s->ms_idx);
	if (s->ms_barrier == b)
		s->ms_barrier = NULL;
	/* Applied in the term it was appended in: every committed entry is
	 * in the image now, and nothing after the barrier is (quorum.h). */
	if (status == 0 && raft_state(r) == RAFT_LEADER && r->current_term == b->mb_term &&
	    !s->ms_broken) {
		if (meta_image_copy(&s->ms_ctl, &s->ms_image) < 0)
			mq_fail("server %u: meta_image_copy failed", s->ms_idx);
		s->ms_active = true;
		s->ms_term = b->mb_term;
		s->ms_need_ctl_rec = true;
	}
	free(b);
}

static void mq_applied(struct raft_apply *req, int status, void *result)
{
	struct mq_apply *a = req->data;
	(void)status;
	(void)result;
	a->ma_srv->ms_inflight--;
	free(a);
}

/* Keep server i's controller in step with its Raft role. */
static void mq_ctl_poll(unsigned i)
{
	struct mq_server *s = &W.w_srv[i];
	struct raft *r = mq_raft(i);
	bool leader = raft_fixture_alive(&W.w_f, i) && raft_state(r) == RAFT_LEADER;
	if (s->ms_active && (!leader || r->current_term != s->ms_term))
		s->ms_active = false;
	if (!leader || s->ms_active || s->ms_barrier)
		return;
	struct mq_barrier *b = calloc(1, sizeof(*b));
	assert_non_null(b);
	b->mb_req.data = b;
	b->mb_srv = s;
	b->mb_term = r->current_term;
	if (raft_barrier(r, &b->mb_req, mq_barrier_done) != 0) {
		free(b);
		return;
	}
	s->ms_barrier = b;
}

/* Stage one record: apply it to the controller's image first (ctl_stage);
 * a generated record that does not apply is a bug in this workload. */
static bool mq_stage(struct mq_server *s, int64_t offset, const char *rec, int len)
{
	char err[512];
	struct meta_delta d;
	if (len <= 0 || W.w_entry_len + (size_t)len + 1 > sizeof(W.w_entry)) {
		mq_fail("workload: record of %d bytes does not fit the entry", len);
		return false;
	}
	if (meta_apply(&s->ms_ctl, rec, (size_t)len, offset, &d, err, sizeof(err)) < 0) {
		mq_fail("workload: generated record does not apply to the leader's image: %s", err);
		return false;
	}
	memcpy(W.w_entry + W.w_entry_len, rec, (size_t)len);
	W.w_entry[W.w_entry_len + (size_t)len] = '\n';
	W.w_entry_len += (size_t)len + 1;
	return true;
}

static int32_t mq_registered(const struct meta_image *m, int32_t *ids)
{
	int32_t n = 0;
	for (int i = 0; i < m->mi_nbrokers; i++)
		if (m->mi_brokers[i].mb_registered)
			ids[n++] = m->mi_brokers[i].mb_id;
	return n;
}

static void mq_gen_register(struct mq_server *s, int64_t offset)
{
	char rec[META_RECORD_MAX];
	struct meta_broker b = {.mb_id = 1 + (int32_t)mq_below(MQ_BROKER_IDS),
				.mb_clean = mq_chance(50),
				.mb_epoch = offset}; /* the offset of its broker record */
	for (int i = 0; i < 16; i++)
		b.mb_incarnation[i] = (uint8_t)mq_below(256);
	if (mq_chance(50))
		snprintf(b.mb_address, sizeof(b.mb_address), "10.0.0.%d:%u", b.mb_id,
			 9092 + mq_below(3));
	else
		snprintf(b.mb_address, sizeof(b.mb_address), "broker-%d.replog.test:9092", b.mb_id);
	mq_stage(s, offset, rec, meta_rec_broker(rec, &b));
}

/* fence, unfence or shutdown (kind 0, 1, 2) a registered broker. */
static bool mq_gen_broker_state(struct mq_server *s, int64_t offset, int kind)
{
	static const char *const reasons[] = {"session_expired", "controlled_shutdown",
					      "registration"};
	int32_t ids[META_MAX_BROKERS];
	int32_t n = mq_registered(&s->ms_ctl, ids);
	if (n == 0)
		return false;
	int32_t id = ids[mq_below((uint32_t)n)];
	char rec[META_RECORD_MAX];
	int len = kind == 0   ? meta_rec_fence(rec, id, reasons[mq_below(3)])
		  : kind == 1 ? meta_rec_unfence(rec, id)
			      : meta_rec_shutdown(rec, id);
	return mq_stage(s, offset, rec, len);
}

static void mq_shuffle(int32_t *ids, int32_t n)
{
	for (int32_t i = n - 1; i > 0; i--) {
		int32_t j = (int32_t)mq_below((uint32_t)i + 1);
		int32_t t = ids[i];
		ids[i] = ids[j];
		ids[j] = t;
	}
}

/* `want` distinct broker ids for a replica set, registered ones first. */
static int32_t mq_pick_replicas(const struct meta_image *m, int32_t *out, int32_t want)
{
	int32_t reg[META_MAX_BROKERS], other[MQ_BROKER_IDS];
	int32_t nreg = mq_registered(m, reg), nother = 0, n = 0;
	for (int32_t id = 1; id <= MQ_BROKER_IDS; id++)
		if (!meta_ids_contain(reg, nreg, id))
			other[nother++] = id;
	mq_shuffle(reg, nreg);
	mq_shuffle(other, nother);
	for (int32_t i = 0; i < nreg && n < want; i++)
		out[n++] = reg[i];
	for (int32_t i = 0; i < nother && n < want; i++)
		out[n++] = other[i];
	return n;
}

/* The first partition record of a partition: as ctl_create_topic writes. */
static bool mq_gen_assign(struct mq_server *s, int64_t offset, const char *topic, int32_t p)
{
	const struct meta_partition *cur = meta_partition(&s->ms_ctl, topic, (int)strlen(topic), p);
	if (!cur)
		return false;
	struct meta_partition mp = *cur;
	mp.mp_nreplicas = mq_pick_replicas(&s->ms_ctl, mp.mp_replicas, 1 + (int32_t)mq_below(3));
	memcpy(mp.mp_isr, mp.mp_replicas, sizeof(mp.mp_isr));
	mp.mp_nisr = mp.mp_nreplicas;
	mp.mp_nelr = 0;
	mp.mp_leader = mp.mp_last_leader = mp.mp_replicas[0];
	char rec[META_RECORD_MAX];
	return mq_stage(s, offset, rec, meta_rec_partition(rec, topic, p, &mp));
}

static bool mq_gen_topic(struct mq_server *s, int64_t offset)
{
	struct meta_topic t;
	memset(&t, 0, sizeof(t));
	snprintf(t.mt_name, sizeof(t.mt_name), "topic-%u", mq_below(MQ_TOPIC_NAMES));
	t.mt_name_len = (int)strlen(t.mt_name);
	if (meta_topic(&s->ms_ctl, t.mt_name, t.mt_name_len))
		return false;
	for (int i = 0; i < 16; i++)
		t.mt_id[i] = (uint8_t)mq_below(256);
	t.mt_npartitions = 1 + (int32_t)mq_below(mq_chance(20) ? MQ_MAX_PARTITIONS : 3);
	struct topic_config *c = &t.mt_cfg;
	c->tc_partitions = t.mt_npartitions;
	c->tc_replication_factor = (int16_t)(1 + mq_below(3));
	c->tc_min_insync_replicas = 1 + (int32_t)mq_below(3);
	c->tc_segment_bytes = (int64_t)(1 + mq_below(1024)) << 20;
	c->tc_segment_ms = 1000 * (int64_t)(1 + mq_below(100000));
	c->tc_retention_ms = mq_chance(30) ? -1 : 1000 * (int64_t)(1 + mq_below(600000));
	c->tc_retention_bytes = mq_chance(50) ? -1 : (int64_t)(1 + mq_below(4096)) << 20;
	c->tc_max_message_bytes = 1024 + (int32_t)mq_below(1 << 20);
	c->tc_unclean_leader_election = mq_chance(30);
	c->tc_acks_all_durability = (int)mq_below(2);
	c->tc_cleanup_policy = (int)mq_below(2);
	char rec[META_RECORD_MAX];
	if (!mq_stage(s, offset, rec, meta_rec_topic(rec, &t)))
		return false;
	W.w_st.topics++;
	/* Mostly the partitions come in the same entry (ctl_create_topic);
	 * sometimes later, so that images and snapshots hold topics whose
	 * partitions were never assigned. */
	if (mq_chance(15)) {
		W.w_st.bare_topics++;
		return true;
	}
	for (int32_t p = 0; p < t.mt_npartitions; p++)
		if (!mq_gen_assign(s, offset, t.mt_name, p))
			return false;
	return true;
}

/* A random subset of ids (in their order), always holding `must` if >= 0. */
static int32_t mq_subset(const int32_t *ids, int32_t n, int32_t must, int32_t *out)
{
	int32_t k = 0;
	for (int32_t i = 0; i < n; i++)
		if (ids[i] == must || mq_chance(60))
			out[k++] = ids[i];
	return k;
}

static bool mq_gen_partition(struct mq_server *s, int64_t offset)
{
	const struct meta_image *m = &s->ms_ctl;
	if (m->mi_ntopics == 0)
		return false;
	const struct meta_topic *t = m->mi_order[mq_below(m->mi_ntopics)];
	int32_t p = (int32_t)mq_below((uint32_t)t->mt_npartitions);
	char topic[TOPIC_NAME_MAX + 1];
	snprintf(topic, sizeof(topic), "%s", t->mt_name);
	const struct meta_partition *cur = &t->mt_parts[p];
	if (cur->mp_nreplicas == 0)
		return mq_gen_assign(s, offset, topic, p);
	struct meta_partition mp = *cur;
	int32_t rest[ISR_MAX_REPLICAS], nrest = 0;
	mp.mp_partition_epoch++;
	switch (mq_below(5)) {
	case 0: /* a new leader from the ISR, or none */
		mp.mp_leader = -1;
		for (int32_t i = 0; i < mp.mp_nisr; i++)
			if (mp.mp_isr[i] != cur->mp_leader && mq_chance(70))
				mp.mp_leader = mp.mp_isr[i];
		mp.mp_leader_epoch++;
		break;
	case 1: /* the ISR shrinks or grows */
		mp.mp_nisr = mq_subset(mp.mp_replicas, mp.mp_nreplicas, mp.mp_leader, mp.mp_isr);
		break;
	case 2: /* eligible replicas: outside the ISR */
		for (int32_t i = 0; i < mp.mp_nreplicas; i++)
			if (!meta_ids_contain(mp.mp_isr, mp.mp_nisr, mp.mp_replicas[i]))
				rest[nrest++] = mp.mp_replicas[i];
		mp.mp_nelr = mq_subset(rest, nrest, -1, mp.mp_elr);
		break;
	case 3: /* reassignment */
		mp.mp_nreplicas = mq_pick_replicas(m, mp.mp_replicas, 1 + (int32_t)mq_below(4));
		mp.mp_leader = mp.mp_replicas[0];
		mp.mp_nisr = mq_subset(mp.mp_replicas, mp.mp_nreplicas, mp.mp_leader, mp.mp_isr);
		mp.mp_nelr = 0;
		mp.mp_leader_epoch++;
		break;
	default: /* an unclean election, or the partition goes offline */
		for (int32_t i = 0; i < mp.mp_nreplicas; i++)
			if (!meta_ids_contain(mp.mp_isr, mp.mp_nisr, mp.mp_replicas[i]))
				rest[nrest++] = mp.mp_replicas[i];
		mp.mp_leader_epoch++;
		if (nrest > 0) {
			mp.mp_leader = rest[mq_below((uint32_t)nrest)];
			mp.mp_isr[0] = mp.mp_leader;
			mp.mp_nisr = 1;
			mp.mp_nelr = 0;
			mp.mp_unclean_epoch = mp.mp_leader_epoch;
		} else {
			mp.mp_leader = -1;
		}
		break;
	}
	if (mp.mp_leader >= 0)
		mp.mp_last_leader = mp.mp_leader;
	char rec[META_RECORD_MAX];
	W.w_st.partition_changes++;
	return mq_stage(s, offset, rec, meta_rec_partition(rec, topic, p, &mp));
}

static bool mq_gen_delete(struct mq_server *s, int64_t offset)
{
	const struct meta_image *m = &s->ms_ctl;
	if (m->mi_ntopics == 0 || !mq_chance(50))
		return false;
	char topic[TOPIC_NAME_MAX + 1], rec[META_RECORD_MAX];
	snprintf(topic, sizeof(topic), "%s", m->mi_order[mq_below(m->mi_ntopics)]->mt_name);
	W.w_st.deletes++;
	return mq_stage(s, offset, rec, meta_rec_delete_topic(rec, topic));
}

static void mq_gen_op(struct mq_server *s, int64_t offset)
{
	uint32_t x = mq_below(100);
	bool done = x < 10   ? false /* register, below */
		    : x < 18 ? mq_gen_broker_state(s, offset, 0)
		    : x < 28 ? mq_gen_broker_state(s, offset, 1)
		    : x < 32 ? mq_gen_broker_state(s, offset, 2)
		    : x < 46 ? mq_gen_topic(s, offset)
		    : x < 92 ? mq_gen_partition(s, offset)
			     : mq_gen_delete(s, offset);
	if (!done && !W.w_fail[0])
		mq_gen_register(s, offset);
}

/* Propose one entry of 1-3 operations on an active controller. */
static void mq_propose(struct mq_server *s)
{
	struct raft *r = mq_raft(s->ms_idx);
	/* the entry's index is last_index + 1, so its offset is last_index */
	int64_t offset = (int64_t)raft_last_index(r);
	char rec[META_RECORD_MAX];
	W.w_entry_len = 0;
	if (s->ms_need_ctl_rec) {
		if (!mq_stage(s, offset, rec,
			      meta_rec_controller(rec, (int32_t)s->ms_term, MQ_CLUSTER_ID)))
			return;
		s->ms_need_ctl_rec = false;
	}
	for (uint32_t k = 1 + mq_below(3); k > 0 && !W.w_fail[0]; k--)
		mq_gen_op(s, offset);
	if (W.w_fail[0])
		return;
	s->ms_ctl.mi_next_offset = offset + 1;
	struct mq_apply *a = calloc(1, sizeof(*a));
	void *base = raft_malloc(W.w_entry_len);
	assert_non_null(a);
	assert_non_null(base);
	memcpy(base, W.w_entry, W.w_entry_len);
	a->ma_req.data = a;
	a->ma_srv = s;
	struct raft_buffer buf = {.base = base, .len = W.w_entry_len};
	if (raft_apply(r, &a->ma_req, &buf, 1, mq_applied) != 0) {
		/* refused: the staged image is ahead of the log, start over */
		raft_free(base);
		free(a);
		s->ms_active = false;
		W.w_st.refused++;
		return;
	}
	if (a->ma_req.index != (raft_index)offset + 1)
		mq_fail("server %u: proposal got index %" PRIu64 ", expected %" PRId64, s->ms_idx,
			(uint64_t)a->ma_req.index, offset + 1);
	s->ms_inflight++;
	W.w_st.proposals++;
}

/* ---- faults ------------------------------------------------------------- */

/* Saturate exactly the links a dead, cut or one-way-broken server needs
 * (raft_fixture_revive reconnects everything alive, cuts included). */
static void mq_links(void)
{
	struct raft_fixture *f = &W.w_f;
	for (unsigned i = 0; i < W.w_n; i++)
		for (unsigned j = 0; j < W.w_n; j++) {
			if (i == j)
				continue;
			bool down = !raft_fixture_alive(f, i) || !raft_fixture_alive(f, j) ||
				    W.w_cut[i] || W.w_cut[j] || W.w_oneway[i][j];
			if (down && !raft_fixture_saturated(f, i, j))
				raft_fixture_saturate(f, i, j);
			else if (!down && raft_fixture_saturated(f, i, j))
				raft_fixture_desaturate(f, i, j);
		}
}

static unsigned mq_down(void)
{
	unsigned n = 0;
	for (unsigned i = 0; i < W.w_n; i++)
		n += !raft_fixture_alive(&W.w_f, i) || W.w_cut[i];
	return n;
}

/* Mostly a majority stays up; now and then the cluster loses it. */
static bool mq_may_take_down(void)
{
	unsigned limit = mq_chance(10) ? W.w_n - 1 : (W.w_n - 1) / 2;
	return mq_down() < limit;
}

static void mq_depose(void)
{
	struct raft_fixture *f = &W.w_f;
	if (f->leader_id == 0)
		return;
	unsigned li = (unsigned)f->leader_id - 1;
	if (!raft_fixture_alive(f, li) || raft_state(mq_raft(li)) != RAFT_LEADER)
		return;
	/* raft_fixture_depose asserts every other server follows */
	for (unsigned j = 0; j < W.w_n; j++)
		if (j != li && raft_state(mq_raft(j)) != RAFT_FOLLOWER)
			return;
	raft_fixture_depose(f);
	W.w_st.deposes++;
}

static void mq_fault(uint32_t x)
{
	struct raft_fixture *f = &W.w_f;
	unsigned i = mq_below(W.w_n), j = mq_below(W.w_n);
	if (x < 4) { /* kill */
		if (raft_fixture_alive(f, i) && !W.w_cut[i] && mq_may_take_down()) {
			raft_fixture_kill(f, i);
			W.w_st.kills++;
		}
	} else if (x < 9) { /* revive */
		if (!raft_fixture_alive(f, i))
			raft_fixture_revive(f, i);
	} else if (x < 13) { /* cut one server off */
		if (raft_fixture_alive(f, i) && !W.w_cut[i] && mq_may_take_down()) {
			W.w_cut[i] = true;
			W.w_st.cuts++;
		}
	} else if (x < 18) { /* heal a cut */
		W.w_cut[i] = false;
	} else if (x < 21) { /* drop one direction of a link */
		if (i != j) {
			W.w_oneway[i][j] = true;
			W.w_st.oneways++;
		}
	} else if (x < 26) { /* heal one */
		W.w_oneway[i][j] = false;
	} else if (x < 28) {
		mq_depose();
	} else if (x < 32) { /* favour another server in the next election */
		raft_fixture_set_randomized_election_timeout(f, i,
							     MQ_ELECTION_MIN_MS + mq_below(1000));
	} else {
		raft_fixture_set_network_latency(f, i, 5 + mq_below(40));
		raft_fixture_set_disk_latency(f, i, 2 + mq_below(25));
	}
	mq_links();
}

/* ---- the fixture's io ------------------------------------------------------ */

/*
 * raft 0.15's in-memory io keeps the persisted entries in an array it
 * assumes starts at index 1: installing a snapshot (snapshot_put with
 * trailing 0) empties the array, the entries appended next land at its
 * start, and a later truncate(index) keeps index - 1 entries, reading
 * past the array (ASan: heap-buffer-overflow in ioMethodTruncate; without
 * ASan, garbage entries freed later). Rebase truncate on the installed
 * snapshot's index so the fixture stays sound; this is a bug of the test
 * fixture, not of raft's core nor of replog's raft_io.
 */
static struct mq_server *mq_io_server(struct raft_io *io)
{
	for (unsigned i = 0; i < W.w_n; i++)
		if (&W.w_f.servers[i].io == io)
			return &W.w_srv[i];
	fail_msg("unknown raft_io %p", (void *)io);
	return NULL;
}

static int mq_io_truncate(struct raft_io *io, raft_index index)
{
	struct mq_server *s = mq_io_server(io);
	if (index == 1 && s->ms_io_install) { /* the install's flush empties it */
		int rv = s->ms_io_truncate(io, 1);
		s->ms_io_base = s->ms_io_install;
		s->ms_io_install = 0;
		return rv;
	}
	if (index <= s->ms_io_base) {
		mq_fail("server %u: raft truncates at %" PRIu64 ", inside its snapshot (%" PRIu64
			")",
			s->ms_idx, (uint64_t)index, (uint64_t)s->ms_io_base);
		return RAFT_IOERR;
	}
	W.w_st.rebased_truncations += s->ms_io_base > 0;
	return s->ms_io_truncate(io, index - s->ms_io_base);
}

static int mq_io_snapshot_put(struct raft_io *io, unsigned trailing,
			      struct raft_io_snapshot_put *req,
			      const struct raft_snapshot *snapshot, raft_io_snapshot_put_cb cb)
{
	struct mq_server *s = mq_io_server(io);
	if (trailing == 0)
		s->ms_io_install = snapshot->index;
	return s->ms_io_snapshot_put(io, trailing, req, snapshot, cb);
}

/* ---- one seed ------------------------------------------------------------- */

static void mq_setup(uint64_t seed)
{
	W.w_seed = seed;
	W.w_rng = seed * 0x9E3779B97F4A7C15ull + 1;
	W.w_step = -1;
	W.w_fail[0] = '\0';
	W.w_n = mq_chance(25) ? 5 : 3;
	W.w_nhist = 0;
	memset(W.w_cut, 0, sizeof(W.w_cut));
	memset(W.w_oneway, 0, sizeof(W.w_oneway));
	meta_image_init(&W.w_ref);
	assert_int_equal(meta_snapshot_write(&W.w_ref, &W.w_snap0, &W.w_snap0_len), 0);

	struct raft_fixture *f = &W.w_f;
	memset(f, 0, sizeof(*f)); /* raft_fixture_initialize leaves n alone */
	assert_int_equal(raft_fixture_initialize(f), 0);
	for (unsigned i = 0; i < W.w_n; i++) {
		struct mq_server *s = &W.w_srv[i];
		memset(s, 0, sizeof(*s));
		s->ms_idx = i;
		meta_image_init(&s->ms_image);
		meta_image_init(&s->ms_ctl);
		s->ms_fsm = (struct raft_fsm){.version = 1,
					      .data = s,
					      .apply = mq_fsm_apply,
					      .snapshot = mq_fsm_snapshot,
					      .restore = mq_fsm_restore};
		assert_int_equal(raft_fixture_grow(f, &s->ms_fsm), 0);
		struct raft_io *io = &f->servers[i].io;
		s->ms_io_truncate = io->truncate;
		s->ms_io_snapshot_put = io->snapshot_put;
		io->truncate = mq_io_truncate;
		io->snapshot_put = mq_io_snapshot_put;
	}
	struct raft_configuration conf;
	assert_int_equal(raft_fixture_configuration(f, W.w_n, &conf), 0);
	assert_int_equal(raft_fixture_bootstrap(f, &conf), 0);
	raft_configuration_close(&conf);
	for (unsigned i = 0; i < W.w_n; i++) {
		struct raft *r = mq_raft(i);
		raft_set_pre_vote(r, true); /* as quorum.c */
		raft_set_snapshot_threshold(r, 4 + mq_below(9));
		raft_set_snapshot_trailing(r, 1 + mq_below(3));
		raft_fixture_set_randomized_election_timeout(f, i,
							     MQ_ELECTION_MIN_MS + mq_below(1000));
		raft_fixture_set_network_latency(f, i, 5 + mq_below(30));
		raft_fixture_set_disk_latency(f, i, 2 + mq_below(20));
	}
	assert_int_equal(raft_fixture_start(f), 0);
	W.w_st.seeds++;
	W.w_st.seeds5 += W.w_n == 5;
}

static void mq_teardown(void)
{
	raft_fixture_close(&W.w_f); /* fails what is pending: callbacks free */
	for (unsigned i = 0; i < W.w_n; i++) {
		meta_image_deinit(&W.w_srv[i].ms_image);
		meta_image_deinit(&W.w_srv[i].ms_ctl);
	}
	for (size_t k = 0; k < W.w_nhist; k++) {
		free(W.w_hist[k].me_recs);
		free(W.w_hist[k].me_snap);
	}
	W.w_nhist = 0;
	meta_image_deinit(&W.w_ref);
	free(W.w_snap0);
	W.w_snap0 = NULL;
}

static void mq_ctl_poll_all(void)
{
	for (unsigned i = 0; i < W.w_n; i++)
		mq_ctl_poll(i);
}

static void mq_check_step(void)
{
	for (unsigned i = 0; i < W.w_n; i++) {
		uint64_t term = mq_raft(i)->current_term;
		if (term > W.w_st.max_term)
			W.w_st.max_term = term;
	}
	if (W.w_final_only)
		return;
	for (unsigned i = 0; i < W.w_n && !W.w_fail[0]; i++) {
		const struct mq_server *s = &W.w_srv[i];
		char what[64];
		snprintf(what, sizeof(what), "(5) server %u", i);
		if (!s->ms_broken)
			mq_image_is_ref(&s->ms_image, s->ms_cursor, what);
	}
}

/* The one leader whose controller is active, its log all committed and
 * applied everywhere. Drives the controllers (barriers) while stepping. */
static bool mq_settled(struct raft_fixture *f, void *arg)
{
	(void)arg;
	mq_ctl_poll_all();
	if (W.w_fail[0])
		return true;
	if (f->leader_id == 0)
		return false;
	unsigned li = (unsigned)f->leader_id - 1;
	struct raft *lr = mq_raft(li);
	if (!W.w_srv[li].ms_active || raft_state(lr) != RAFT_LEADER)
		return false;
	raft_index last = raft_last_index(lr);
	if (lr->commit_index != last)
		return false;
	for (unsigned i = 0; i < W.w_n; i++) {
		struct raft *r = mq_raft(i);
		if (raft_last_applied(r) != last || (i != li && raft_state(r) != RAFT_FOLLOWER))
			return false;
	}
	return true;
}

/* The term of the entry at idx in r's in-memory log; 0 if not there. */
static uint64_t mq_term_at(const struct raft *r, raft_index idx)
{
	const struct raft_log *l = &r->log;
	size_t n = l->back >= l->front ? l->back - l->front : l->size - l->front + l->back;
	if (idx <= l->offset || idx - l->offset > n)
		return idx == l->snapshot.last_index ? l->snapshot.last_term : 0;
	return l->entries[(l->front + (size_t)(idx - l->offset - 1)) % l->size].term;
}

/* The stall mq_reelect gets out of: the stable leader's match index for a
 * follower names an entry the follower holds with another term. */
static bool mq_stale_match(void)
{
	if (W.w_f.leader_id == 0)
		return false;
	unsigned li = (unsigned)W.w_f.leader_id - 1;
	struct raft *lr = mq_raft(li);
	if (raft_state(lr) != RAFT_LEADER)
		return false;
	for (unsigned j = 0; j < W.w_n; j++) {
		raft_index m = lr->leader_state.progress[j].match_index;
		if (j != li && m > raft_last_applied(mq_raft(j)) &&
		    mq_term_at(mq_raft(j), m) != mq_term_at(lr, m))
			return true;
	}
	return false;
}

/* Cut every leader off until the others elect a new one, then heal. A new
 * leader starts every follower's progress afresh: the way out of canonical
 * raft 0.15's stuck follower (a follower holding a stale tail from an
 * older term answers a heartbeat sent before the leader's barrier with
 * last_log_index = its last stored index; replicationUpdate caps that at
 * the leader's last index and takes it as the match index, over entries
 * the follower does not hold, and from then on ignores its rejections as
 * stale: it never catches up under that leader, and the leader counts it
 * toward committing entries it lacks). */
static void mq_reelect(void)
{
	for (unsigned i = 0; i < W.w_n; i++)
		if (raft_state(mq_raft(i)) == RAFT_LEADER)
			W.w_cut[i] = true;
	mq_links();
	raft_fixture_step_until_elapsed(&W.w_f, 3 * MQ_ELECTION_MIN_MS);
	memset(W.w_cut, 0, sizeof(W.w_cut));
	mq_links();
	W.w_st.reelections++;
}

/* Append to buf, truncating once it is full. */
__attribute__((format(printf, 4, 5))) static void mq_appendf(char *buf, size_t cap, size_t *at,
							     const char *fmt, ...)
{
	if (*at >= cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *at, cap - *at, fmt, ap);
	va_end(ap);
	*at = n < 0 ? cap : *at + (size_t)n;
}

/* Each server's Raft and controller state, for a failure message. */
static void mq_describe(char *buf, size_t cap)
{
	static const char *const states[] = {"unavailable", "follower", "candidate", "leader"};
	size_t at = 0;
	buf[0] = '\0';
	for (unsigned i = 0; i < W.w_n; i++) {
		struct raft *r = mq_raft(i);
		const struct mq_server *s = &W.w_srv[i];
		mq_appendf(buf, cap, &at,
			   "%s[%u: %s%s term %" PRIu64 " last %" PRIu64 " commit %" PRIu64
			   " applied %" PRIu64 " snapshot %" PRIu64 "%s%s%s; log terms",
			   i ? " " : "", i, states[raft_state(r) & 3],
			   raft_fixture_alive(&W.w_f, i) ? "" : " dead", (uint64_t)r->current_term,
			   (uint64_t)raft_last_index(r), (uint64_t)r->commit_index,
			   (uint64_t)raft_last_applied(r), (uint64_t)r->log.snapshot.last_index,
			   s->ms_active ? " active" : "", s->ms_barrier ? " barrier" : "",
			   s->ms_broken ? " broken" : "");
		for (raft_index k = r->log.offset + 1; k <= raft_last_index(r); k++)
			mq_appendf(buf, cap, &at, " %" PRIu64 ":%" PRIu64, (uint64_t)k,
				   mq_term_at(r, k));
		if (raft_state(r) == RAFT_LEADER)
			for (unsigned j = 0; j < W.w_n; j++)
				mq_appendf(buf, cap, &at,
					   "; to %u: next %" PRIu64 " match %" PRIu64, j,
					   (uint64_t)r->leader_state.progress[j].next_index,
					   (uint64_t)r->leader_state.progress[j].match_index);
		mq_appendf(buf, cap, &at, "]");
	}
}

/* Checks (1)-(4) on the settled cluster. */
static void mq_final_checks(void)
{
	uint64_t last_cmd = mq_hist_index(W.w_nhist);
	char *first = NULL;
	size_t first_len = 0;
	for (unsigned i = 0; i < W.w_n && !W.w_fail[0]; i++) {
		struct mq_server *s = &W.w_srv[i];
		char what[96];
		if (s->ms_cursor != W.w_nhist)
			mq_fail("(1) server %u holds %zu of the %zu committed commands", i,
				s->ms_cursor, W.w_nhist);
		if (s->ms_image.mi_next_offset != (int64_t)last_cmd ||
		    last_cmd > raft_last_applied(mq_raft(i)))
			mq_fail("(3) server %u: mi_next_offset %" PRId64
				", last applied command at index %" PRIu64
				", last applied %" PRIu64,
				i, s->ms_image.mi_next_offset, last_cmd,
				(uint64_t)raft_last_applied(mq_raft(i)));
		char *out;
		size_t len;
		assert_int_equal(meta_snapshot_write(&s->ms_image, &out, &len), 0);
		/* (2): byte-identical everywhere, and the reference's */
		if (!first) {
			first = out;
			first_len = len;
			snprintf(what, sizeof(what), "(2) server 0 against the reference");
			const char *ref;
			size_t ref_len;
			mq_ref_snap(W.w_nhist, &ref, &ref_len);
			mq_same_text(out, len, ref, ref_len, what);
		} else {
			snprintf(what, sizeof(what), "(2) server %u against server 0", i);
			mq_same_text(out, len, first, first_len, what);
		}
		/* (4): write -> read -> write, and meta_image_copy */
		struct meta_image back;
		char err[512];
		meta_image_init(&back);
		if (meta_snapshot_read(&back, out, len, err, sizeof(err)) < 0) {
			mq_fail("(4) server %u: its snapshot does not read back: %s", i, err);
		} else {
			snprintf(what, sizeof(what), "(4) server %u, written again", i);
			char *again;
			size_t again_len;
			assert_int_equal(meta_snapshot_write(&back, &again, &again_len), 0);
			mq_same_text(again, again_len, out, len, what);
			free(again);
			meta_image_deinit(&back);
			meta_image_init(&back);
			assert_int_equal(meta_image_copy(&back, &s->ms_image), 0);
			assert_int_equal(meta_snapshot_write(&back, &again, &again_len), 0);
			snprintf(what, sizeof(what), "(4) server %u, meta_image_copy", i);
			mq_same_text(again, again_len, out, len, what);
			free(again);
		}
		meta_image_deinit(&back);
		if (out != first)
			free(out);
	}
	free(first);
}

/* Run one seed; returns the first failed check ("" when all held). */
static const char *mq_run(uint64_t seed)
{
	mq_setup(seed);
	struct raft_fixture *f = &W.w_f;
	int nsteps = MQ_STEPS_MIN + (int)mq_below(MQ_STEPS_SPAN);
	for (W.w_step = 0; W.w_step < nsteps && !W.w_fail[0]; W.w_step++) {
		mq_ctl_poll_all();
		uint32_t x = mq_below(100);
		if (x < 50) {
			unsigned start = mq_below(W.w_n);
			for (unsigned k = 0; k < W.w_n; k++) {
				struct mq_server *s = &W.w_srv[(start + k) % W.w_n];
				if (s->ms_active && s->ms_inflight < MQ_MAX_INFLIGHT) {
					mq_propose(s);
					break;
				}
			}
		} else if (x < 62) {
			raft_fixture_step_n(f, 1 + mq_below(60));
		} else if (x < 70) {
			raft_fixture_step_until_elapsed(f, 50 + mq_below(600));
		} else if (x < 90) {
			mq_fault(mq_below(36));
		}
		raft_fixture_step_n(f, 1 + mq_below(8));
		W.w_st.steps++;
		mq_check_step();
	}
	if (!W.w_fail[0]) { /* heal, settle, check */
		for (unsigned i = 0; i < W.w_n; i++) {
			if (!raft_fixture_alive(f, i))
				raft_fixture_revive(f, i);
			raft_fixture_set_randomized_election_timeout(
				f, i, MQ_ELECTION_MIN_MS + 150 * i + mq_below(100));
		}
		memset(W.w_cut, 0, sizeof(W.w_cut));
		memset(W.w_oneway, 0, sizeof(W.w_oneway));
		mq_links();
		raft_time t0 = raft_fixture_time(f);
		bool settled = false;
		for (int attempt = 0; attempt < MQ_SETTLE_TRIES && !settled && !W.w_fail[0];
		     attempt++) {
			if (attempt > 0) {
				W.w_st.stale_matches += mq_stale_match();
				mq_reelect();
			}
			settled = raft_fixture_step_until(f, mq_settled, NULL, MQ_SETTLE_MS);
		}
		if (!settled) {
			char servers[4096];
			mq_describe(servers, sizeof(servers));
			mq_fail("the cluster did not settle in %d tries of %d ms (stable leader id "
				"%" PRIu64 "): %s",
				MQ_SETTLE_TRIES, MQ_SETTLE_MS, (uint64_t)f->leader_id, servers);
		}
		uint64_t settle_ms = (uint64_t)(raft_fixture_time(f) - t0);
		if (settle_ms > W.w_st.settle_ms_max)
			W.w_st.settle_ms_max = settle_ms;
		if (!W.w_fail[0])
			mq_final_checks();
	}
	mq_teardown();
	return W.w_fail;
}

static double mq_elapsed(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void test_model(void **state)
{
	(void)state;
	const char *one = getenv("REPLOG_SEED");
	const char *many = getenv("REPLOG_META_QUORUM_SEEDS");
	const char *brk = getenv("REPLOG_META_QUORUM_BREAK");
	const char *final_only = getenv("REPLOG_META_QUORUM_FINAL_ONLY");
	uint64_t count = many && *many ? strtoull(many, NULL, 0) : MQ_DEFAULT_SEEDS;
	memset(&W.w_st, 0, sizeof(W.w_st));
	W.w_break = !brk || !*brk		 ? MQ_BREAK_NONE
		    : strcmp(brk, "offset") == 0 ? MQ_BREAK_OFFSET
						 : MQ_BREAK_SKIP;
	W.w_final_only = final_only && *final_only && strcmp(final_only, "0") != 0;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	uint64_t failed = 0;
	char first_fail[sizeof(W.w_fail)] = "";
	bool budget_hit = false;
	uint64_t from = 1, to = count;
	if (one && *one)
		from = to = tu_seed(1);
	for (uint64_t s = from; s <= to; s++) {
		const char *why = mq_run(s);
		if (why[0]) {
			failed++;
			if (!first_fail[0])
				snprintf(first_fail, sizeof(first_fail), "%s", why);
			if (W.w_break != MQ_BREAK_NONE)
				printf("# broken variant caught: %s\n", why);
			else
				break;
		}
		/* Without an explicit count, stay within the time budget on
		 * slow (sanitizer) builds; the seeds run are reported. */
		if (!(many && *many) && !(one && *one) && mq_elapsed(&t0) > MQ_BUDGET_S) {
			budget_hit = true;
			break;
		}
	}
	const struct mq_stats *st = &W.w_st;
	printf("# meta quorum: %" PRIu64 " seeds (%" PRIu64 " with 5 servers)%s, %" PRIu64
	       " steps, %.1f s\n",
	       st->seeds, st->seeds5, budget_hit ? " (time budget reached)" : "", st->steps,
	       mq_elapsed(&t0));
	printf("# meta quorum: %" PRIu64 " proposals (%" PRIu64 " refused), %" PRIu64
	       " committed commands, %" PRIu64 " records; %" PRIu64 " topics (%" PRIu64
	       " without partitions), %" PRIu64 " deleted, %" PRIu64 " partition changes\n",
	       st->proposals, st->refused, st->commands, st->records, st->topics, st->bare_topics,
	       st->deletes, st->partition_changes);
	printf("# meta quorum: %" PRIu64 " snapshots taken, %" PRIu64 " installed; %" PRIu64
	       " kills, %" PRIu64 " cuts, %" PRIu64 " one-way link drops, %" PRIu64
	       " deposed leaders, max term %" PRIu64 ", longest settle %" PRIu64 " ms (%" PRIu64
	       " needed a new election)\n",
	       st->snapshots, st->restores, st->kills, st->cuts, st->oneways, st->deposes,
	       st->max_term, st->settle_ms_max, st->reelections);
	printf("# meta quorum: %" PRIu64 " of the new elections ended a follower stalled under a "
	       "stale match index; %" PRIu64
	       " fixture truncations rebased after an installed snapshot\n",
	       st->stale_matches, st->rebased_truncations);
	if (W.w_break != MQ_BREAK_NONE)
		fail_msg("broken variant (%s%s): %" PRIu64 " of %" PRIu64
			 " seeds failed; first: %s",
			 brk, W.w_final_only ? ", final checks only" : "", failed, st->seeds,
			 first_fail);
	if (failed)
		fail_msg("%s", first_fail);
	if (!(one && *one))
		assert_true(st->commands > 0 && st->restores > 0);
}

/* ---- snapshot regressions ---------------------------------------------------- */

static void mq_apply_line(struct meta_image *mi, int64_t offset, const char *rec, int len)
{
	struct meta_delta d;
	char err[512];
	if (meta_apply(mi, rec, (size_t)len, offset, &d, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	mi->mi_next_offset = offset + 1;
}

static void mq_small_image(struct meta_image *mi, bool assign)
{
	char rec[META_RECORD_MAX];
	struct meta_broker b = {.mb_id = 1, .mb_epoch = 1};
	snprintf(b.mb_address, sizeof(b.mb_address), "127.0.0.1:9092");
	struct meta_topic t;
	memset(&t, 0, sizeof(t));
	snprintf(t.mt_name, sizeof(t.mt_name), "orders");
	t.mt_name_len = 6;
	t.mt_npartitions = 2;
	t.mt_cfg = (struct topic_config){.tc_min_insync_replicas = 1,
					 .tc_segment_bytes = 1 << 20,
					 .tc_segment_ms = 1000,
					 .tc_retention_ms = -1,
					 .tc_retention_bytes = -1,
					 .tc_max_message_bytes = 1024};
	meta_image_init(mi);
	mq_apply_line(mi, 0, rec, meta_rec_controller(rec, 1, MQ_CLUSTER_ID));
	mq_apply_line(mi, 1, rec, meta_rec_broker(rec, &b));
	mq_apply_line(mi, 2, rec, meta_rec_topic(rec, &t));
	if (assign) {
		struct meta_partition mp = {.mp_leader = 1,
					    .mp_last_leader = 1,
					    .mp_unclean_epoch = -1,
					    .mp_nreplicas = 1,
					    .mp_replicas = {1},
					    .mp_nisr = 1,
					    .mp_isr = {1}};
		mq_apply_line(mi, 2, rec, meta_rec_partition(rec, "orders", 1, &mp));
	}
}

/* A snapshot is read from exactly its bytes: raft hands restore a buffer
 * with no NUL after it. The snapshot ends at a page followed by an
 * inaccessible one. */
static void test_snapshot_read_stays_in_buffer(void **state)
{
	(void)state;
	long page = sysconf(_SC_PAGESIZE);
	assert_true(page > 0);
	char *map = mmap(NULL, 2 * (size_t)page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(map != MAP_FAILED);
	assert_int_equal(mprotect(map + page, (size_t)page, PROT_NONE), 0);
	for (int full = 0; full < 2; full++) {
		struct meta_image mi, back;
		char *out, *again, err[512];
		size_t len, again_len;
		if (full)
			mq_small_image(&mi, true);
		else
			meta_image_init(&mi); /* the header line alone */
		assert_int_equal(meta_snapshot_write(&mi, &out, &len), 0);
		assert_true(len <= (size_t)page);
		char *at = map + page - len;
		memcpy(at, out, len);
		meta_image_init(&back);
		assert_int_equal(meta_snapshot_read(&back, at, len, err, sizeof(err)), 0);
		assert_int_equal(meta_snapshot_write(&back, &again, &again_len), 0);
		assert_int_equal(again_len, len);
		assert_memory_equal(again, out, len);
		free(again);
		free(out);
		meta_image_deinit(&back);
		meta_image_deinit(&mi);
	}
	munmap(map, 2 * (size_t)page);
}

/* A topic whose partitions were never assigned (its topic record without
 * partition records) is a valid image: its snapshot must read back. */
static void test_snapshot_unassigned_partitions(void **state)
{
	(void)state;
	struct meta_image mi, back;
	char *out, *again, err[512];
	size_t len, again_len;
	mq_small_image(&mi, true); /* partition 1 assigned, partition 0 not */
	assert_int_equal(meta_snapshot_write(&mi, &out, &len), 0);
	meta_image_init(&back);
	if (meta_snapshot_read(&back, out, len, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(meta_snapshot_write(&back, &again, &again_len), 0);
	assert_int_equal(again_len, len);
	assert_memory_equal(again, out, len);
	const struct meta_partition *p0 = meta_partition(&back, "orders", 6, 0);
	assert_non_null(p0);
	assert_int_equal(p0->mp_nreplicas, 0);
	assert_int_equal(p0->mp_leader, -1);
	assert_int_equal(p0->mp_last_leader, -1);
	assert_int_equal(p0->mp_unclean_epoch, -1);
	free(again);
	free(out);
	meta_image_deinit(&back);
	meta_image_deinit(&mi);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snapshot_read_stays_in_buffer),
		cmocka_unit_test(test_snapshot_unassigned_partitions),
		cmocka_unit_test(test_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
