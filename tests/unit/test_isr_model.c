/* Description: randomized, seeded model of a whole partition (3 or 5 replicas and a controller)
 * whose replication decisions come only from isr.h, under crashes, clean shutdowns, network
 * partitions, dropped, delayed and reordered messages and elections; after every step it checks
 * that no acknowledged write is lost, HWs never go back, replicas agree below their HWs, one leader
 * per epoch, committed data is never truncated, and that the partition converges once faults stop.
 * REPLOG_SEED=<n> replays one seed (add REPLOG_MODEL_TRACE=1 to print its trace when it passes);
 * REPLOG_MODEL_SEEDS=<n> sets the number of seeds. */
#include "testutil.h"

#include <inttypes.h>
#include <stdarg.h>
#include <time.h>

#include "isr.h"

/*
 * The model. Everything a broker would do around isr.h is written out here
 * as plainly as possible, so that the only replication logic under test is
 * isr.c:
 *
 *   replica    a log of (epoch, value) records with a written end (len)
 *              and a durable end (fsynced; a crash keeps only that), an
 *              epoch history kept exactly like log/epoch_cache (an entry is
 *              recorded before the first record of an epoch, entries at or
 *              past the end are dropped on truncation; the history itself
 *              is always durable), an isr_partition, a checkpointed HW.
 *   leader     appends client writes (acks=all: a waiter at the record's
 *              end), answers fetches (isr_follower_fetch with the
 *              follower's durable end) and "end offset of epoch E" (the
 *              epoch_cache_end_offset rules on its own history), counts
 *              its own durable end (isr_leader_leo), proposes ISR changes
 *              and resends a pending one now and then (a retry). It applies
 *              an AlterPartition answer only if sent at its current epochs,
 *              and a refusal only if it was not for stale epochs (a stale
 *              refusal says nothing about an earlier copy: it waits for the
 *              metadata instead, as Kafka does).
 *   follower   on a new leader or epoch: the truncation dance
 *              (isr_first_epoch_query, isr_truncation_point), then fetches
 *              from its durable end, appends, fsyncs when it gets to it,
 *              learns the HW (isr_follower_hw). Responses from another
 *              leader or epoch, or for another request, are ignored.
 *   controller (leader, leader epoch, partition epoch, ISR, ELR, live set):
 *              elects from live ISR members, then live ELR members, never
 *              unclean; fences brokers whose session ends (into the ELR when
 *              the ISR would fall below min ISR); applies AlterPartition
 *              only from the current leader with the current epochs and
 *              never adding a fenced broker (KIP-497, KIP-841; such a
 *              refusal bumps the partition epoch, so that no resent copy
 *              can be applied after the leader dropped it); clears the
 *              ELR once the ISR is back at min ISR; drops a broker from the
 *              ELR when it re-registers after an unclean shutdown (KIP-966).
 *   network    responses and metadata can be delayed, reordered and dropped;
 *              links (replica-replica, replica-controller) go down and up.
 *              AlterPartition requests and answers are delayed and
 *              reordered but not lost (they wait for a link to come back).
 *              The controller also moves leadership now and then
 *              (preferred-replica election), leaving a zombie leader that
 *              appends in its old epoch until the metadata reaches it.
 *
 * Invariants, after every step:
 *   (a) every record below any leader's HW goes into `committed` (with the
 *       epoch that committed it) and all leaders agree on it; every
 *       acks=all write acknowledged OK is there at its offset; every member
 *       of the controller's ISR and ELR holds all of `committed`;
 *   (b) a replica's HW never goes backwards within one process lifetime;
 *   (c) every replica's log below its own HW equals `committed` (so all
 *       agree below the minimum of their HWs), and HW <= durable end;
 *   (d) one leader per leader epoch;
 *   (e) a follower of epoch e never truncates a record committed in an
 *       epoch <= e, and ISR_BELOW_HW never happens (there are no unclean
 *       elections here);
 *   (f) once faults stop: a leader, the full ISR, equal durable logs, every
 *       HW at the end, every acknowledged write everywhere, no waiter left.
 */

#define M_MAXN		   5
#define M_CTRL		   M_MAXN /* the controller's node index in link tables */
#define M_MAXLOG	   1024
#define M_MAXHIST	   512
#define M_MAXMSG	   192
#define M_MAXWRITES	   768
#define M_FETCH_RECS	   6
#define M_FAULT_STEPS_MIN  150
#define M_FAULT_STEPS_SPAN 1000
#define M_QUIET_ROUNDS	   200
#define M_MAXEPOCH	   4096
#define M_TRACE_BYTES	   (8u << 20)
#define M_WRITE_TIMEOUT_MS 400
#define M_DEFAULT_SEEDS	   50000
#define M_BUDGET_S	   15.0

enum { FS_IDLE, FS_TRUNC, FS_FETCH };
enum { WS_PENDING, WS_OK, WS_FAILED, WS_UNKNOWN, WS_TIMEOUT };
enum { MSG_FETCH_RESP, MSG_OFE_RESP, MSG_ALTER_REQ, MSG_ALTER_RESP, MSG_METADATA };
/* AlterPartition outcomes: applied; refused because the sender's epochs
 * are not current (FENCED_LEADER_EPOCH / INVALID_UPDATE_VERSION: says
 * nothing about whether an earlier copy was applied); refused at the
 * current epochs because it adds a fenced broker (INELIGIBLE_REPLICA). */
enum { ALTER_OK, ALTER_STALE, ALTER_INELIGIBLE };

struct m_rec {
	int32_t epoch;
	int32_t value;
};

struct m_write {
	int32_t value, epoch;
	int leader; /* replica index */
	int owner_inc;
	int64_t offset, created_ms;
	int status, verdict;
	struct isr_waiter waiter;
};

struct m_replica {
	int32_t id;
	bool alive, clean_down, registered;
	int inc; /* incarnation: bumped at every stop */
	struct m_rec log[M_MAXLOG];
	int64_t len, durable;
	int64_t matched; /* longest prefix equal to W.committed */
	int64_t hw_ckpt, hw_seen;
	struct isr_epoch_entry hist[M_MAXHIST];
	int32_t nhist;
	struct isr_partition ip;
	int fstate;
	int32_t asked, known_pe;
};

struct m_ctrl {
	int leader; /* replica index, -1 none */
	int32_t le, pe;
	bool isr[M_MAXN], elr[M_MAXN], live[M_MAXN];
};

struct m_msg {
	int kind, from, to, to_inc;
	int32_t le, pe, new_pe, asked, found;
	int leader;
	int reason; /* ALTER_* */
	bool isr[M_MAXN], elr[M_MAXN];
	int64_t end, fo, hw;
	int nrec;
	struct m_rec recs[M_FETCH_RECS];
};

struct m_stats {
	uint64_t verdicts[4];
	uint64_t seeds, seeds5, steps, writes, acked, failed, elections, elr_elections, crashes,
		shutdowns, truncations, records_truncated, ask_again, offline, proposals, resends,
		rejected, stale, max_epoch, max_committed;
};

struct m_world {
	uint64_t seed, rng;
	int n;
	unsigned chaos[3]; /* crash, shutdown, link-flip weight multipliers */
	int32_t min_isr;
	int64_t lag_max_ms, now;
	int step;
	bool quiet;
	struct m_replica r[M_MAXN];
	struct m_ctrl c;
	struct m_msg msg[M_MAXMSG];
	int nmsg;
	bool down[M_MAXN + 1][M_MAXN + 1];
	struct m_write w[M_MAXWRITES];
	int nw;
	int32_t next_value;
	int acked_q[M_MAXWRITES];
	int nacked_q;
	struct m_rec committed[M_MAXLOG];
	int32_t commit_epoch[M_MAXLOG]; /* leader epoch whose HW first covered it */
	int64_t committed_len;
	int32_t epoch_leader[M_MAXEPOCH];
};

static struct m_world W;
static struct m_stats S;
static char g_trace[M_TRACE_BYTES];
static size_t g_trace_len;

/* ---- tracing and failure -------------------------------------------------- */

static void tr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void tr(const char *fmt, ...)
{
	char line[320];
	int k = snprintf(line, sizeof(line), "%5d t=%-6" PRId64 " ", W.step, W.now);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line + k, sizeof(line) - (size_t)k, fmt, ap);
	va_end(ap);
	size_t len = strlen(line);
	if (g_trace_len + len + 2 >= sizeof(g_trace))
		return;
	memcpy(g_trace + g_trace_len, line, len);
	g_trace_len += len;
	g_trace[g_trace_len++] = '\n';
}

static void m_dump_state(void)
{
	fprintf(stderr, "--- state ---\ncontroller: leader=r%d le=%d pe=%d isr=", W.c.leader + 1,
		W.c.le, W.c.pe);
	for (int i = 0; i < W.n; i++)
		fprintf(stderr, "%s", W.c.isr[i] ? "1" : "0");
	fprintf(stderr, " elr=");
	for (int i = 0; i < W.n; i++)
		fprintf(stderr, "%s", W.c.elr[i] ? "1" : "0");
	fprintf(stderr, " live=");
	for (int i = 0; i < W.n; i++)
		fprintf(stderr, "%s", W.c.live[i] ? "1" : "0");
	fprintf(stderr, "\ncommitted_len=%" PRId64 "\n", W.committed_len);
	for (int i = 0; i < W.n; i++) {
		const struct m_replica *r = &W.r[i];
		fprintf(stderr,
			"r%d alive=%d role=%d leader=%d le=%d pe=%d hw=%" PRId64 " len=%" PRId64
			" durable=%" PRId64 " matched=%" PRId64 " hist=",
			r->id, r->alive, r->ip.ip_role, r->ip.ip_leader, r->ip.ip_leader_epoch,
			r->ip.ip_partition_epoch, r->ip.ip_hw, r->len, r->durable, r->matched);
		for (int32_t k = 0; k < r->nhist; k++)
			fprintf(stderr, "(%d,%" PRId64 ")", r->hist[k].iee_epoch,
				r->hist[k].iee_start_offset);
		fprintf(stderr, "\n   log:");
		for (int64_t o = 0; o < r->len && o < 64; o++)
			fprintf(stderr, " %d/%d", r->log[o].epoch, r->log[o].value);
		fprintf(stderr, "%s\n", r->len > 64 ? " ..." : "");
	}
}

static void m_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void m_fail(const char *fmt, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	fprintf(stderr, "--- event trace, seed %" PRIu64 " (replay: REPLOG_SEED=%" PRIu64 ") ---\n",
		W.seed, W.seed);
	fwrite(g_trace, 1, g_trace_len, stderr);
	m_dump_state();
	fprintf(stderr,
		"isr model: VIOLATION seed=%" PRIu64 " n=%d min_isr=%d lag_max_ms=%" PRId64
		" step=%d: %s\n",
		W.seed, W.n, W.min_isr, W.lag_max_ms, W.step, what);
	fail_msg("isr model violation, seed %" PRIu64 ": %s", W.seed, what);
}

/* ---- small helpers ---------------------------------------------------------- */

static uint64_t rnd(uint64_t n)
{
	return tu_rand(&W.rng) % n;
}

static bool rec_eq(struct m_rec a, struct m_rec b)
{
	return a.epoch == b.epoch && a.value == b.value;
}

static int set_count(const bool *set)
{
	int k = 0;
	for (int i = 0; i < W.n; i++)
		k += set[i];
	return k;
}

static int32_t set_ids(const bool *set, int32_t *out)
{
	int32_t k = 0;
	for (int i = 0; i < W.n; i++) {
		if (set[i])
			out[k++] = i + 1;
	}
	return k;
}

static const char *set_str(const bool *set, char *buf)
{
	int k = 0;
	buf[k++] = '{';
	for (int i = 0; i < W.n; i++) {
		if (set[i])
			k += sprintf(buf + k, "%s%d", k > 1 ? "," : "", i + 1);
	}
	buf[k++] = '}';
	buf[k] = '\0';
	return buf;
}

/* ---- a replica's log and epoch history --------------------------------------- */

static int32_t hist_latest(const struct m_replica *r)
{
	return r->nhist ? r->hist[r->nhist - 1].iee_epoch : -1;
}

/* epoch_cache_assign: before the first record of `epoch` at `off`. */
static void hist_assign(struct m_replica *r, int32_t epoch, int64_t off)
{
	if (r->nhist && hist_latest(r) == epoch)
		return;
	if (r->nhist && (epoch < hist_latest(r) || off <= r->hist[r->nhist - 1].iee_start_offset))
		m_fail("r%d: epoch %d at %" PRId64 " would break the history order", r->id, epoch,
		       off);
	if (r->nhist == M_MAXHIST)
		m_fail("r%d: epoch history full", r->id);
	r->hist[r->nhist].iee_epoch = epoch;
	r->hist[r->nhist].iee_start_offset = off;
	r->nhist++;
}

static void log_truncate(struct m_replica *r, int64_t t)
{
	if (t < r->len)
		r->len = t;
	if (t < r->durable)
		r->durable = t;
	if (t < r->matched)
		r->matched = t;
	while (r->nhist && r->hist[r->nhist - 1].iee_start_offset >= t)
		r->nhist--; /* epoch_cache_truncate_end */
}

static void update_matched(struct m_replica *r)
{
	int64_t lim = r->len < W.committed_len ? r->len : W.committed_len;
	while (r->matched < lim && rec_eq(r->log[r->matched], W.committed[r->matched]))
		r->matched++;
}

/* epoch_cache_end_offset on the leader's history, with its log end. */
static void m_end_offset(const struct m_replica *l, int32_t epoch, int32_t *found, int64_t *end)
{
	*found = -1;
	*end = -1;
	if (epoch < 0 || l->nhist == 0 || epoch > hist_latest(l))
		return;
	if (epoch == hist_latest(l)) {
		*found = epoch;
		*end = l->len;
		return;
	}
	int32_t i = l->nhist - 1;
	while (i >= 0 && l->hist[i].iee_epoch > epoch)
		i--;
	*found = i < 0 ? epoch : l->hist[i].iee_epoch;
	*end = l->hist[i + 1].iee_start_offset;
}

/* ---- network ------------------------------------------------------------------ */

static void msg_remove(int k)
{
	memmove(&W.msg[k], &W.msg[k + 1], (size_t)(W.nmsg - k - 1) * sizeof(W.msg[0]));
	W.nmsg--;
}

static bool msg_reliable(int kind)
{
	return kind == MSG_ALTER_REQ || kind == MSG_ALTER_RESP;
}

static struct m_msg *m_send(int kind, int from, int to)
{
	if (W.nmsg == M_MAXMSG) {
		int k = 0;
		while (k < W.nmsg && msg_reliable(W.msg[k].kind))
			k++;
		if (k == W.nmsg)
			m_fail("network full of AlterPartition messages");
		msg_remove(k);
	}
	struct m_msg *m = &W.msg[W.nmsg++];
	memset(m, 0, sizeof(*m));
	m->kind = kind;
	m->from = from;
	m->to = to;
	m->to_inc = to == M_CTRL ? 0 : W.r[to].inc;
	return m;
}

/* ---- controller ------------------------------------------------------------------ */

static void m_send_metadata(int i)
{
	struct m_msg *m = m_send(MSG_METADATA, M_CTRL, i);
	m->leader = W.c.leader;
	m->le = W.c.le;
	m->pe = W.c.pe;
	memcpy(m->isr, W.c.isr, sizeof(m->isr));
	memcpy(m->elr, W.c.elr, sizeof(m->elr));
}

static void ctrl_broadcast(void)
{
	for (int i = 0; i < W.n; i++) {
		if (W.r[i].alive && W.r[i].registered)
			m_send_metadata(i);
	}
}

static void ctrl_elect(void)
{
	struct m_ctrl *c = &W.c;
	char b1[32], b2[32];
	if (c->leader >= 0)
		return;
	for (int i = 0; i < W.n; i++) {
		if (c->live[i] && c->isr[i]) {
			c->leader = i;
			c->le++;
			c->pe++;
			S.elections++;
			tr("ctrl: elect r%d from ISR %s, le=%d pe=%d", i + 1, set_str(c->isr, b1),
			   c->le, c->pe);
			return;
		}
	}
	for (int i = 0; i < W.n; i++) {
		if (c->live[i] && c->elr[i]) {
			c->leader = i;
			memset(c->isr, 0, sizeof(c->isr));
			c->isr[i] = true;
			c->elr[i] = false;
			c->le++;
			c->pe++;
			S.elections++;
			S.elr_elections++;
			tr("ctrl: elect r%d from ELR, le=%d pe=%d elr now %s", i + 1, c->le, c->pe,
			   set_str(c->elr, b2));
			return;
		}
	}
	tr("ctrl: no eligible leader: ISR %s ELR %s (offline)", set_str(c->isr, b1),
	   set_str(c->elr, b2));
}

/* The broker's session ended (crash noticed, partitioned, shutdown). */
static void ctrl_fence(int i, const char *why)
{
	struct m_ctrl *c = &W.c;
	char b1[32], b2[32];
	c->live[i] = false;
	bool changed = false;
	if (c->isr[i]) {
		c->isr[i] = false;
		if (set_count(c->isr) < W.min_isr)
			c->elr[i] = true;
		changed = true;
	}
	if (c->leader == i) {
		c->leader = -1;
		changed = true;
	}
	if (changed)
		c->pe++;
	tr("ctrl: fence r%d (%s): ISR %s ELR %s pe=%d", i + 1, why, set_str(c->isr, b1),
	   set_str(c->elr, b2), c->pe);
	ctrl_elect();
	ctrl_broadcast();
}

static void ctrl_register(int i, bool unclean)
{
	struct m_ctrl *c = &W.c;
	if (c->live[i])
		ctrl_fence(i, "re-registered: old session over");
	if (unclean && c->elr[i]) {
		c->elr[i] = false;
		c->pe++;
		tr("ctrl: r%d restarted uncleanly: out of the ELR, pe=%d", i + 1, c->pe);
	}
	c->live[i] = true;
	W.r[i].registered = true;
	tr("ctrl: r%d registered", i + 1);
	ctrl_elect();
	ctrl_broadcast();
}

static void ctrl_unfence(int i)
{
	W.c.live[i] = true;
	tr("ctrl: r%d session back", i + 1);
	ctrl_elect();
	ctrl_broadcast();
}

/* Preferred-replica election or a leadership transfer: the old leader
 * learns of it only when the metadata reaches it, and may append in its
 * old epoch until then. */
static void ctrl_move_leader(int i)
{
	struct m_ctrl *c = &W.c;
	if (c->leader == i || !c->live[i] || !c->isr[i])
		return;
	c->leader = i;
	c->le++;
	c->pe++;
	S.elections++;
	tr("ctrl: move leadership to r%d, le=%d pe=%d", i + 1, c->le, c->pe);
	ctrl_broadcast();
}

static void ctrl_alter(const struct m_msg *m)
{
	struct m_ctrl *c = &W.c;
	char b1[32], b2[32];
	int i = m->from;
	int reason = ALTER_OK;
	if (c->leader != i || m->le != c->le || m->pe != c->pe || !m->isr[i])
		reason = ALTER_STALE;
	for (int j = 0; j < W.n && reason == ALTER_OK; j++) {
		if (m->isr[j] && !c->isr[j] && !c->live[j])
			reason = ALTER_INELIGIBLE; /* KIP-841: never add a fenced broker */
	}
	bool ok = reason == ALTER_OK;
	if (ok) {
		bool removed[M_MAXN];
		for (int j = 0; j < W.n; j++) {
			removed[j] = c->isr[j] && !m->isr[j];
			if (m->isr[j])
				c->elr[j] = false;
		}
		memcpy(c->isr, m->isr, sizeof(c->isr));
		if (set_count(c->isr) < W.min_isr) {
			for (int j = 0; j < W.n; j++)
				c->elr[j] = c->elr[j] || removed[j];
		} else {
			memset(c->elr, 0, sizeof(c->elr));
		}
		c->pe++;
	} else {
		S.rejected++;
		/* Refused at the current epochs: bump the partition epoch so
		 * that no other copy of this request (a resend still in flight)
		 * can be applied after the leader has dropped it. */
		if (reason == ALTER_INELIGIBLE)
			c->pe++;
	}
	static const char *const outcome[] = {"committed", "REJECTED (stale epochs)",
					      "REJECTED (ineligible replica)"};
	tr("ctrl: AlterPartition from r%d (le=%d pe=%d) %s: ISR %s ELR %s pe=%d", i + 1, m->le,
	   m->pe, outcome[reason], set_str(c->isr, b1), set_str(c->elr, b2), c->pe);
	struct m_msg *a = m_send(MSG_ALTER_RESP, M_CTRL, i);
	a->le = m->le;
	a->pe = m->pe;
	a->reason = reason;
	a->new_pe = c->pe;
	memcpy(a->isr, c->isr, sizeof(a->isr));
	memcpy(a->elr, c->elr, sizeof(a->elr));
	if (reason != ALTER_STALE)
		ctrl_broadcast();
}

/* ---- writes ---------------------------------------------------------------------- */

static void m_write_done(struct isr_waiter *iw, int verdict)
{
	struct m_write *w = iw->iw_ctx;
	if (verdict == ISR_OK) {
		const struct m_replica *l = &W.r[w->leader];
		struct m_rec want = {w->epoch, w->value};
		if (w->offset >= l->len || !rec_eq(l->log[w->offset], want))
			m_fail("write v%d acknowledged at r%d offset %" PRId64
			       " but not in its log there",
			       w->value, l->id, w->offset);
		w->status = WS_OK;
		W.acked_q[W.nacked_q++] = (int)(w - W.w);
		S.acked++;
	} else {
		w->status = WS_FAILED;
		w->verdict = verdict;
		S.failed++;
		if (verdict > 0 && verdict < 4)
			S.verdicts[verdict]++;
	}
	tr("write v%d at r%d off=%" PRId64 ": verdict %d", w->value, w->leader + 1, w->offset,
	   verdict);
}

/* A process stopped: its waiters vanish with it (the client sees the
 * connection drop: outcome unknown). */
static void m_abandon_writes(int i, int inc)
{
	for (int k = 0; k < W.nw; k++) {
		struct m_write *w = &W.w[k];
		if (w->status == WS_PENDING && w->leader == i && w->owner_inc == inc)
			w->status = WS_UNKNOWN;
	}
}

static void m_timeouts(void)
{
	for (int k = 0; k < W.nw; k++) {
		struct m_write *w = &W.w[k];
		if (w->status != WS_PENDING || W.now - w->created_ms <= M_WRITE_TIMEOUT_MS)
			continue;
		struct m_replica *l = &W.r[w->leader];
		if (l->alive && l->inc == w->owner_inc) {
			isr_waiter_cancel(&l->ip, &w->waiter);
			w->status = WS_TIMEOUT;
			tr("write v%d at r%d: client timeout, cancelled", w->value, l->id);
		}
	}
}

/* ---- leader side ------------------------------------------------------------------ */

static void m_propose(int i)
{
	struct m_replica *r = &W.r[i];
	int32_t ids[ISR_MAX_REPLICAS];
	int32_t k = isr_proposal(&r->ip, ids, W.now);
	struct m_msg *m = m_send(MSG_ALTER_REQ, i, M_CTRL);
	m->le = r->ip.ip_leader_epoch;
	m->pe = r->ip.ip_partition_epoch;
	for (int32_t j = 0; j < k; j++)
		m->isr[ids[j] - 1] = true;
	char b[32];
	tr("r%d proposes ISR %s (le=%d pe=%d)", r->id, set_str(m->isr, b), m->le, m->pe);
	S.proposals++;
}

/* Everything below a leader's HW is committed: record it the moment the
 * HW moves; every later leader must agree (checked through `matched`). */
static void m_note_commit(int i)
{
	struct m_replica *r = &W.r[i];
	if (r->ip.ip_role != ISR_ROLE_LEADER || r->ip.ip_hw <= W.committed_len)
		return;
	if (r->ip.ip_hw > r->len)
		m_fail("leader r%d: HW %" PRId64 " past its log end %" PRId64, r->id, r->ip.ip_hw,
		       r->len);
	for (int64_t o = W.committed_len; o < r->ip.ip_hw; o++) {
		W.committed[o] = r->log[o];
		W.commit_epoch[o] = r->ip.ip_leader_epoch;
	}
	W.committed_len = r->ip.ip_hw;
}

/* A retry of the pending proposal (its answer is late or lost): the same
 * ISR at the same epochs, which are still the ones it was sent at. */
static void m_resend(int i)
{
	struct m_replica *r = &W.r[i];
	if (!r->alive || r->ip.ip_role != ISR_ROLE_LEADER || !r->ip.ip_change_pending)
		return;
	struct m_msg *m = m_send(MSG_ALTER_REQ, i, M_CTRL);
	m->le = r->ip.ip_leader_epoch;
	m->pe = r->ip.ip_partition_epoch;
	for (int32_t j = 0; j < r->ip.ip_nproposed; j++)
		m->isr[r->ip.ip_proposed_isr[j] - 1] = true;
	char b[32];
	tr("r%d resends its proposal ISR %s (le=%d pe=%d)", r->id, set_str(m->isr, b), m->le,
	   m->pe);
	S.resends++;
}

/* After every isr.h call on a replica acting as leader. */
static void m_leader_bits(int i, int bits)
{
	struct m_replica *r = &W.r[i];
	m_note_commit(i);
	if (bits & ISR_PROPOSE)
		m_propose(i);
	isr_waiters_release(&r->ip);
}

static void m_append(int i)
{
	struct m_replica *r = &W.r[i];
	if (!r->alive || r->ip.ip_role != ISR_ROLE_LEADER)
		return;
	if (r->len >= M_MAXLOG - 1 || W.nw >= M_MAXWRITES)
		return;
	if (!isr_accepts_acks_all(&r->ip)) {
		tr("r%d refuses acks=all: NOT_ENOUGH_REPLICAS", r->id);
		return;
	}
	int32_t e = r->ip.ip_leader_epoch;
	hist_assign(r, e, r->len);
	int64_t off = r->len;
	r->log[r->len].epoch = e;
	r->log[r->len].value = ++W.next_value;
	r->len++;
	struct m_write *w = &W.w[W.nw++];
	memset(w, 0, sizeof(*w));
	w->value = W.next_value;
	w->epoch = e;
	w->leader = i;
	w->owner_inc = r->inc;
	w->offset = off;
	w->created_ms = W.now;
	w->status = WS_PENDING;
	w->waiter.iw_target = off + 1;
	w->waiter.iw_done = m_write_done;
	w->waiter.iw_ctx = w;
	S.writes++;
	tr("r%d append v%d at %" PRId64 " e=%d (acks=all)", r->id, w->value, off, e);
	isr_waiter_add(&r->ip, &w->waiter);
}

static void m_fsync(int i)
{
	struct m_replica *r = &W.r[i];
	if (!r->alive)
		return;
	r->durable = r->len;
	r->hw_ckpt = r->ip.ip_hw;
	if (r->ip.ip_role == ISR_ROLE_LEADER)
		m_leader_bits(i, isr_leader_leo(&r->ip, r->durable));
}

static void m_tick(int64_t dt)
{
	W.now += dt;
	for (int i = 0; i < W.n; i++) {
		struct m_replica *r = &W.r[i];
		if (r->alive && r->ip.ip_role == ISR_ROLE_LEADER)
			m_leader_bits(i, isr_tick(&r->ip, W.now));
	}
	m_timeouts();
}

/* ---- follower side ------------------------------------------------------------------ */

static void m_follower_send(int i)
{
	struct m_replica *f = &W.r[i];
	if (!f->alive || f->ip.ip_role != ISR_ROLE_FOLLOWER || f->ip.ip_leader < 0 ||
	    f->fstate == FS_IDLE)
		return;
	int li = f->ip.ip_leader - 1;
	struct m_replica *l = &W.r[li];
	if (!l->alive || W.down[i][li])
		return;
	if (l->ip.ip_role != ISR_ROLE_LEADER || l->ip.ip_leader_epoch != f->ip.ip_leader_epoch) {
		tr("r%d -> r%d: le=%d refused (r%d role=%d le=%d)", f->id, l->id,
		   f->ip.ip_leader_epoch, l->id, l->ip.ip_role, l->ip.ip_leader_epoch);
		return;
	}
	if (f->fstate == FS_TRUNC) {
		struct m_msg *m = m_send(MSG_OFE_RESP, li, i);
		m->le = l->ip.ip_leader_epoch;
		m->asked = f->asked;
		m_end_offset(l, f->asked, &m->found, &m->end);
		tr("r%d asks r%d end of epoch %d: (%d, %" PRId64 ")", f->id, l->id, f->asked,
		   m->found, m->end);
		return;
	}
	int64_t fo = f->durable;
	if (fo > l->len)
		m_fail("r%d fetches at %" PRId64 ", past leader r%d's log end %" PRId64, f->id, fo,
		       l->id, l->len);
	int bits = isr_follower_fetch(&l->ip, f->id, fo, W.now);
	struct m_msg *m = m_send(MSG_FETCH_RESP, li, i);
	m->le = l->ip.ip_leader_epoch;
	m->fo = fo;
	int64_t avail = l->len - fo;
	int64_t want = 1 + (int64_t)rnd(M_FETCH_RECS);
	m->nrec = (int)(avail < want ? avail : want);
	for (int k = 0; k < m->nrec; k++)
		m->recs[k] = l->log[fo + k];
	m->hw = l->ip.ip_hw;
	tr("r%d fetch from r%d at %" PRId64 ": %d recs, leader hw=%" PRId64 " bits=%d", f->id,
	   l->id, fo, m->nrec, l->ip.ip_hw, bits);
	m_leader_bits(li, bits); /* may send: m is not valid after this */
}

static void m_on_ofe(struct m_replica *f, const struct m_msg *m)
{
	if (f->ip.ip_role != ISR_ROLE_FOLLOWER || f->fstate != FS_TRUNC ||
	    m->le != f->ip.ip_leader_epoch || m->from != f->ip.ip_leader - 1 ||
	    m->asked != f->asked) {
		S.stale++;
		tr("r%d ignores a stale epoch answer (le=%d asked=%d)", f->id, m->le, m->asked);
		return;
	}
	int64_t off;
	int32_t ep;
	int act = isr_truncation_point(f->hist, f->nhist, f->len, f->ip.ip_hw, m->asked, m->found,
				       m->end, &off, &ep);
	if (act == ISR_ASK_AGAIN) {
		if (ep >= m->asked)
			m_fail("r%d: ISR_ASK_AGAIN with epoch %d after asking %d", f->id, ep,
			       m->asked);
		tr("r%d: answer (%d, %" PRId64 ") for %d: ask again about %d", f->id, m->found,
		   m->end, m->asked, ep);
		f->asked = ep;
		S.ask_again++;
		return;
	}
	if (act == ISR_BELOW_HW)
		m_fail("r%d: ISR_BELOW_HW: divergence at %" PRId64 " below its HW %" PRId64
		       " without unclean election",
		       f->id, off, f->ip.ip_hw);
	if (act != ISR_TRUNCATE_AT || off < 0 || off > f->len)
		m_fail("r%d: bad truncation answer %d offset %" PRId64, f->id, act, off);
	/* (e): the leader of epoch e holds everything committed in epochs up
	 * to e, so a follower of e never cuts such a record. (It may cut one
	 * that a later leader, which it has not heard of, committed since:
	 * it is in no ISR of that leader's, and fetches it again.) */
	for (int64_t o = off; o < f->matched; o++) {
		if (W.commit_epoch[o] <= f->ip.ip_leader_epoch)
			m_fail("r%d (following epoch %d) truncates to %" PRId64
			       ", removing offset %" PRId64 ", committed in epoch %d",
			       f->id, f->ip.ip_leader_epoch, off, o, W.commit_epoch[o]);
	}
	tr("r%d: answer (%d, %" PRId64 ") for %d: truncate %" PRId64 " -> %" PRId64, f->id,
	   m->found, m->end, m->asked, f->len, off);
	if (off < f->len) {
		S.truncations++;
		S.records_truncated += (uint64_t)(f->len - off);
	}
	log_truncate(f, off);
	f->fstate = FS_FETCH;
}

static void m_on_fetch(struct m_replica *f, const struct m_msg *m)
{
	if (f->ip.ip_role != ISR_ROLE_FOLLOWER || f->fstate != FS_FETCH ||
	    m->le != f->ip.ip_leader_epoch || m->from != f->ip.ip_leader - 1) {
		S.stale++;
		tr("r%d ignores a stale fetch response (le=%d from r%d)", f->id, m->le,
		   m->from + 1);
		return;
	}
	if (m->fo > f->len)
		m_fail("r%d: fetch response at %" PRId64 " past its log end %" PRId64, f->id, m->fo,
		       f->len);
	for (int k = 0; k < m->nrec; k++) {
		int64_t o = m->fo + k;
		if (o < f->len) {
			if (!rec_eq(f->log[o], m->recs[k]))
				m_fail("r%d: log matching broken at %" PRId64
				       ": has %d/%d, leader r%d sent %d/%d",
				       f->id, o, f->log[o].epoch, f->log[o].value, m->from + 1,
				       m->recs[k].epoch, m->recs[k].value);
			continue;
		}
		if (m->recs[k].epoch < hist_latest(f))
			m_fail("r%d: record epoch %d below its latest epoch %d", f->id,
			       m->recs[k].epoch, hist_latest(f));
		hist_assign(f, m->recs[k].epoch, o);
		f->log[f->len++] = m->recs[k];
	}
	isr_follower_hw(&f->ip, m->hw, f->durable);
	tr("r%d got %d recs at %" PRId64 ", len=%" PRId64 " hw=%" PRId64, f->id, m->nrec, m->fo,
	   f->len, f->ip.ip_hw);
}

/* ---- metadata ------------------------------------------------------------------------ */

static void m_apply_metadata(int i, const struct m_msg *m)
{
	struct m_replica *r = &W.r[i];
	if (m->pe <= r->known_pe)
		return;
	r->known_pe = m->pe;
	int32_t isr[M_MAXN], elr[M_MAXN];
	int32_t n_isr = set_ids(m->isr, isr), n_elr = set_ids(m->elr, elr);
	int32_t leader_id = m->leader < 0 ? -1 : m->leader + 1;
	if (m->leader == i) {
		if (r->ip.ip_role == ISR_ROLE_LEADER && r->ip.ip_leader_epoch == m->le) {
			m_leader_bits(i,
				      isr_change_committed(&r->ip, isr, n_isr, elr, n_elr, m->pe));
			return;
		}
		if (m->le >= M_MAXEPOCH)
			m_fail("too many epochs");
		if (W.epoch_leader[m->le] >= 0 && W.epoch_leader[m->le] != i)
			m_fail("two leaders in epoch %d: r%d and r%d", m->le,
			       W.epoch_leader[m->le] + 1, r->id);
		W.epoch_leader[m->le] = i;
		if ((uint64_t)m->le > S.max_epoch)
			S.max_epoch = (uint64_t)m->le;
		isr_become_leader(&r->ip, m->le, m->pe, isr, n_isr, elr, n_elr, r->durable, W.now);
		r->fstate = FS_IDLE;
		tr("r%d becomes leader le=%d pe=%d at durable end %" PRId64 " hw=%" PRId64, r->id,
		   m->le, m->pe, r->durable, r->ip.ip_hw);
		m_leader_bits(i, 0);
		return;
	}
	if (r->ip.ip_role == ISR_ROLE_FOLLOWER && r->ip.ip_leader == leader_id &&
	    r->ip.ip_leader_epoch == m->le) {
		(void)isr_change_committed(&r->ip, isr, n_isr, elr, n_elr, m->pe);
		return;
	}
	isr_become_follower(&r->ip, leader_id, m->le, m->pe, isr, n_isr, elr, n_elr);
	r->fstate = leader_id < 0 ? FS_IDLE : FS_TRUNC;
	r->asked = isr_first_epoch_query(r->hist, r->nhist);
	tr("r%d follows r%d le=%d pe=%d, will ask about epoch %d", r->id, leader_id, m->le, m->pe,
	   r->asked);
}

static void m_on_alter_resp(int i, const struct m_msg *m)
{
	struct m_replica *r = &W.r[i];
	/* Only the answer to the proposal pending now, sent at the current
	 * epochs, applies; any other is about a superseded proposal. */
	if (r->ip.ip_role != ISR_ROLE_LEADER || !r->ip.ip_change_pending ||
	    m->le != r->ip.ip_leader_epoch || m->pe != r->ip.ip_partition_epoch) {
		S.stale++;
		tr("r%d ignores a stale AlterPartition answer (sent at le=%d pe=%d)", r->id, m->le,
		   m->pe);
		return;
	}
	int bits;
	if (m->reason == ALTER_STALE) {
		/* Our epochs are behind the controller's: this copy was
		 * refused, but an earlier copy may have been applied. Keep the
		 * proposal pending (its additions keep counting) until the
		 * newer metadata arrives, as Kafka does for
		 * INVALID_UPDATE_VERSION. */
		tr("r%d: AlterPartition refused as stale: waits for metadata", r->id);
		return;
	}
	if (m->reason == ALTER_OK) {
		int32_t isr[M_MAXN], elr[M_MAXN];
		int32_t n_isr = set_ids(m->isr, isr), n_elr = set_ids(m->elr, elr);
		bits = isr_change_committed(&r->ip, isr, n_isr, elr, n_elr, m->new_pe);
	} else {
		bits = isr_change_rejected(&r->ip);
	}
	tr("r%d: AlterPartition %s, hw=%" PRId64, r->id,
	   m->reason == ALTER_OK ? "committed" : "rejected", r->ip.ip_hw);
	m_leader_bits(i, bits);
}

/* Deliver message k. Returns false if it stays in flight. */
static bool m_deliver(int k)
{
	struct m_msg m = W.msg[k];
	if (m.to == M_CTRL) {
		if (W.down[m.from][M_CTRL])
			return false; /* retried until the link is back */
		msg_remove(k);
		ctrl_alter(&m);
		return true;
	}
	struct m_replica *t = &W.r[m.to];
	if (W.down[m.from][m.to] && msg_reliable(m.kind) && t->alive && t->inc == m.to_inc)
		return false;
	msg_remove(k);
	if (!t->alive || t->inc != m.to_inc || W.down[m.from][m.to])
		return true; /* lost */
	switch (m.kind) {
	case MSG_FETCH_RESP:
		m_on_fetch(t, &m);
		break;
	case MSG_OFE_RESP:
		m_on_ofe(t, &m);
		break;
	case MSG_ALTER_RESP:
		m_on_alter_resp(m.to, &m);
		break;
	case MSG_METADATA:
		m_apply_metadata(m.to, &m);
		break;
	default:
		m_fail("unknown message kind %d", m.kind);
	}
	return true;
}

/* ---- process lifecycle ---------------------------------------------------------------- */

static void m_replica_start(int i)
{
	struct m_replica *r = &W.r[i];
	int32_t ids[M_MAXN];
	for (int j = 0; j < W.n; j++)
		ids[j] = j + 1;
	int64_t hw = r->hw_ckpt < r->durable ? r->hw_ckpt : r->durable;
	isr_init(&r->ip, r->id, ids, W.n, W.min_isr, W.lag_max_ms, hw);
	r->hw_seen = hw;
	r->fstate = FS_IDLE;
	r->asked = -1;
	r->known_pe = -1;
	r->registered = false;
}

static void m_stop(int i, bool clean)
{
	struct m_replica *r = &W.r[i];
	if (!r->alive)
		return;
	if (clean) {
		r->durable = r->len;
		r->hw_ckpt = r->ip.ip_hw;
	}
	int inc = r->inc;
	r->alive = false;
	r->clean_down = clean;
	r->inc++;
	tr("r%d %s: len %" PRId64 " -> durable %" PRId64, r->id,
	   clean ? "shuts down cleanly" : "CRASHES", r->len, r->durable);
	log_truncate(r, r->durable); /* the unsynced tail is gone */
	m_abandon_writes(i, inc);
	if (clean) {
		S.shutdowns++;
		ctrl_fence(i, "controlled shutdown");
	} else {
		S.crashes++;
	}
}

static void m_restart(int i)
{
	struct m_replica *r = &W.r[i];
	if (r->alive)
		return;
	r->alive = true;
	m_replica_start(i);
	tr("r%d restarts (%s) with hw=%" PRId64 " len=%" PRId64, r->id,
	   r->clean_down ? "clean" : "unclean", r->ip.ip_hw, r->len);
	if (!W.down[i][M_CTRL])
		ctrl_register(i, !r->clean_down);
}

static void m_heartbeat(int i)
{
	struct m_replica *r = &W.r[i];
	if (!r->alive || W.down[i][M_CTRL])
		return;
	if (!r->registered)
		ctrl_register(i, !r->clean_down);
	else if (!W.c.live[i])
		ctrl_unfence(i);
	else
		m_send_metadata(i);
}

static void m_notice(int i)
{
	if (W.c.live[i] && (!W.r[i].alive || W.down[i][M_CTRL]))
		ctrl_fence(i, W.r[i].alive ? "session expired" : "dead");
}

/* ---- invariants ------------------------------------------------------------------------- */

static void m_check(void)
{
	for (int i = 0; i < W.n; i++) {
		if (W.r[i].alive)
			m_note_commit(i); /* a missed isr.h call would show here */
	}
	for (int i = 0; i < W.n; i++)
		update_matched(&W.r[i]);
	for (int i = 0; i < W.n; i++) {
		struct m_replica *r = &W.r[i];
		if (!r->alive)
			continue;
		if (r->ip.ip_hw < r->hw_seen) /* (b) */
			m_fail("r%d: HW went backwards %" PRId64 " -> %" PRId64, r->id, r->hw_seen,
			       r->ip.ip_hw);
		r->hw_seen = r->ip.ip_hw;
		if (r->ip.ip_hw > r->durable) /* (c) */
			m_fail("r%d: HW %" PRId64 " past its durable end %" PRId64, r->id,
			       r->ip.ip_hw, r->durable);
		if (r->matched < r->ip.ip_hw)
			m_fail("r%d: log below its HW %" PRId64 " differs from the committed log "
			       "at %" PRId64,
			       r->id, r->ip.ip_hw, r->matched);
	}
	for (int i = 0; i < W.n; i++) { /* (a) */
		if ((W.c.isr[i] || W.c.elr[i]) && W.r[i].matched < W.committed_len)
			m_fail("r%d is in the controller's %s but lacks committed records from "
			       "%" PRId64 " (committed up to %" PRId64 ")",
			       i + 1, W.c.isr[i] ? "ISR" : "ELR", W.r[i].matched, W.committed_len);
	}
	for (int k = 0; k < W.nacked_q; k++) {
		const struct m_write *w = &W.w[W.acked_q[k]];
		struct m_rec want = {w->epoch, w->value};
		if (w->offset >= W.committed_len || !rec_eq(W.committed[w->offset], want))
			m_fail("write v%d acknowledged at offset %" PRId64
			       " is not the committed record there",
			       w->value, w->offset);
	}
	W.nacked_q = 0;
}

/* After the quiet period: (f) and the end of (a). */
static bool m_converged(void)
{
	const struct m_ctrl *c = &W.c;
	if (c->leader < 0 || set_count(c->isr) != W.n)
		return false;
	const struct m_replica *l = &W.r[c->leader];
	if (!l->alive || l->ip.ip_role != ISR_ROLE_LEADER || l->ip.ip_leader_epoch != c->le ||
	    l->ip.ip_change_pending || l->durable != l->len || l->ip.ip_hw != l->len)
		return false;
	int32_t ids[ISR_MAX_REPLICAS];
	if (isr_committed(&l->ip, ids) != W.n)
		return false;
	for (int i = 0; i < W.n; i++) {
		const struct m_replica *r = &W.r[i];
		if (!r->alive || r->len != l->len || r->durable != r->len ||
		    r->ip.ip_hw != l->len || r->ip.ip_leader_epoch != c->le)
			return false;
		if (memcmp(r->log, l->log, (size_t)l->len * sizeof(l->log[0])) != 0)
			return false;
	}
	return true;
}

static void m_final_checks(void)
{
	const struct m_replica *l = &W.r[W.c.leader];
	for (int k = 0; k < W.nw; k++) {
		const struct m_write *w = &W.w[k];
		if (w->status == WS_PENDING && w->leader == W.c.leader && w->owner_inc == l->inc)
			m_fail("write v%d still waiting at the converged leader r%d", w->value,
			       l->id);
		if (w->status != WS_OK)
			continue;
		struct m_rec want = {w->epoch, w->value};
		for (int i = 0; i < W.n; i++) {
			if (w->offset >= W.r[i].len || !rec_eq(W.r[i].log[w->offset], want))
				m_fail("acknowledged write v%d (offset %" PRId64
				       ") missing on r%d after convergence",
				       w->value, w->offset, i + 1);
		}
	}
}

/* An offline partition (no live ISR or ELR member; only an unclean election
 * could help): every acknowledged write is still on some replica. */
static void m_offline_checks(void)
{
	for (int k = 0; k < W.nw; k++) {
		const struct m_write *w = &W.w[k];
		if (w->status != WS_OK)
			continue;
		bool found = false;
		for (int i = 0; i < W.n && !found; i++)
			found = W.r[i].matched > w->offset;
		if (!found)
			m_fail("offline partition: acknowledged write v%d is on no replica",
			       w->value);
	}
}

/* ---- one run ------------------------------------------------------------------------------ */

enum {
	E_APPEND,
	E_FETCH,
	E_DELIVER,
	E_FSYNC,
	E_TICK,
	E_HEARTBEAT,
	E_DROP,
	E_CRASH,
	E_SHUTDOWN,
	E_RESTART,
	E_NOTICE,
	E_LINK,
	E_HEAL,
	E_PREFERRED,
	E_RESEND,
	E_COUNT
};

/* Event weights; crashes, shutdowns and link flips are scaled per seed
 * (W.chaos) so that some runs are calm and some are storms. */
static const unsigned e_weight[E_COUNT] = {
	[E_APPEND] = 112,   [E_FETCH] = 272, [E_DELIVER] = 272, [E_FSYNC] = 80,	   [E_TICK] = 80,
	[E_HEARTBEAT] = 48, [E_DROP] = 16,   [E_CRASH] = 1,	[E_SHUTDOWN] = 1,  [E_RESTART] = 24,
	[E_NOTICE] = 24,    [E_LINK] = 4,    [E_HEAL] = 8,	[E_PREFERRED] = 6, [E_RESEND] = 8,
};

static unsigned m_weight(int e)
{
	if (e == E_CRASH || e == E_SHUTDOWN || e == E_LINK)
		return e_weight[e] * W.chaos[e == E_CRASH ? 0 : e == E_SHUTDOWN ? 1 : 2];
	return e_weight[e];
}

static void m_fault_step(void)
{
	unsigned total = 0;
	for (int e = 0; e < E_COUNT; e++)
		total += m_weight(e);
	unsigned x = (unsigned)rnd(total);
	int ev = 0;
	while (x >= m_weight(ev))
		x -= m_weight(ev++);
	int i = (int)rnd((uint64_t)W.n);
	switch (ev) {
	case E_APPEND:
		for (int k = 0; k < W.n; k++) { /* any replica acting as leader, zombies too */
			int j = (i + k) % W.n;
			if (W.r[j].alive && W.r[j].ip.ip_role == ISR_ROLE_LEADER) {
				m_append(j);
				break;
			}
		}
		break;
	case E_FETCH:
		m_follower_send(i);
		break;
	case E_DELIVER:
		if (W.nmsg)
			(void)m_deliver(rnd(3) ? 0 : (int)rnd((uint64_t)W.nmsg));
		break;
	case E_FSYNC:
		m_fsync(i);
		break;
	case E_TICK:
		m_tick(1 + (int64_t)rnd(25));
		break;
	case E_HEARTBEAT:
		m_heartbeat(i);
		break;
	case E_DROP:
		if (W.nmsg) {
			int k = (int)rnd((uint64_t)W.nmsg);
			if (!msg_reliable(W.msg[k].kind)) {
				tr("drop message kind %d r%d -> node %d", W.msg[k].kind,
				   W.msg[k].from + 1, W.msg[k].to + 1);
				msg_remove(k);
			}
		}
		break;
	case E_CRASH:
		m_stop(i, false);
		break;
	case E_SHUTDOWN:
		m_stop(i, true);
		break;
	case E_RESTART:
		m_restart(i);
		break;
	case E_NOTICE:
		m_notice(i);
		break;
	case E_LINK: {
		int a = (int)rnd((uint64_t)W.n + 1), b = (int)rnd((uint64_t)W.n + 1);
		if (a == W.n)
			a = M_CTRL;
		if (b == W.n)
			b = M_CTRL;
		if (a != b) {
			bool d = !W.down[a][b];
			W.down[a][b] = W.down[b][a] = d;
			tr("link %d-%d %s", a + 1, b + 1, d ? "DOWN" : "up");
		}
		break;
	}
	case E_HEAL:
		memset(W.down, 0, sizeof(W.down));
		tr("all links up");
		break;
	case E_PREFERRED:
		ctrl_move_leader(i);
		break;
	case E_RESEND:
		m_resend(i);
		break;
	}
}

/* No faults: everything heals, restarts and runs in rounds until the
 * partition converges. Returns false if it is offline for good. */
static bool m_quiet(void)
{
	W.quiet = true;
	memset(W.down, 0, sizeof(W.down));
	tr("--- faults stop ---");
	for (int round = 0; round < M_QUIET_ROUNDS; round++) {
		W.step++;
		for (int i = 0; i < W.n; i++) {
			m_restart(i);
			m_heartbeat(i);
			m_check();
		}
		for (int k = 0; k < 4 * M_MAXMSG && W.nmsg && m_deliver(0); k++)
			m_check();
		for (int i = 0; i < W.n; i++) {
			m_follower_send(i);
			m_check();
		}
		for (int k = 0; k < 4 * M_MAXMSG && W.nmsg && m_deliver(0); k++)
			m_check();
		for (int i = 0; i < W.n; i++) {
			m_fsync(i);
			m_check();
		}
		m_tick(10);
		m_check();
		if (m_converged()) {
			m_final_checks();
			return true;
		}
		if (W.c.leader < 0 && round > 2)
			return false;
	}
	m_fail("no convergence after %d quiet rounds", M_QUIET_ROUNDS);
	return false;
}

static void m_run(uint64_t seed)
{
	memset(&W, 0, sizeof(W));
	g_trace_len = 0;
	W.seed = seed;
	W.rng = seed * 0x9E3779B97F4A7C15ull + 1;
	W.n = seed % 4 == 3 ? 5 : 3;
	W.min_isr = W.n == 5 ? 2 + (int32_t)rnd(2) : 2;
	if (rnd(8) == 0)
		W.min_isr = 1;
	W.lag_max_ms = 30 + (int64_t)rnd(170);
	for (int k = 0; k < 3; k++)
		W.chaos[k] = (1u << rnd(4)) >> 1; /* 0, 1, 2 or 4 */
	for (int e = 0; e < M_MAXEPOCH; e++)
		W.epoch_leader[e] = -1;
	for (int i = 0; i < W.n; i++) {
		W.r[i].id = i + 1;
		W.r[i].alive = true;
		m_replica_start(i);
		W.r[i].registered = true;
		W.c.isr[i] = W.c.live[i] = true;
	}
	W.c.leader = -1;
	W.c.le = -1;
	tr("seed %" PRIu64 ": n=%d min_isr=%d lag_max_ms=%" PRId64 " chaos=%u/%u/%u", seed, W.n,
	   W.min_isr, W.lag_max_ms, W.chaos[0], W.chaos[1], W.chaos[2]);
	ctrl_elect();
	ctrl_broadcast();
	int steps = M_FAULT_STEPS_MIN + (int)rnd(M_FAULT_STEPS_SPAN);
	for (W.step = 1; W.step <= steps; W.step++) {
		m_fault_step();
		m_check();
	}
	if (!m_quiet()) {
		S.offline++;
		m_offline_checks();
	}
	S.seeds++;
	S.seeds5 += W.n == 5;
	S.steps += (uint64_t)W.step;
	if ((uint64_t)W.committed_len > S.max_committed)
		S.max_committed = (uint64_t)W.committed_len;
}

static double m_elapsed(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void test_model(void **state)
{
	(void)state;
	const char *one = getenv("REPLOG_SEED");
	const char *many = getenv("REPLOG_MODEL_SEEDS");
	uint64_t count = many && *many ? strtoull(many, NULL, 0) : M_DEFAULT_SEEDS;
	memset(&S, 0, sizeof(S));
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	bool budget_hit = false;
	if (one && *one) {
		m_run(tu_seed(0));
		if (getenv("REPLOG_MODEL_TRACE")) /* the trace of a passing run */
			fwrite(g_trace, 1, g_trace_len, stderr);
	} else {
		for (uint64_t s = 1; s <= count; s++) {
			m_run(s);
			/* Without an explicit count, stay within the time budget
			 * on slow (sanitizer) builds; the seeds run are reported. */
			if (!(many && *many) && (s & 63) == 0 && m_elapsed(&t0) > M_BUDGET_S) {
				budget_hit = true;
				break;
			}
		}
	}
	double secs = m_elapsed(&t0);
	printf("# isr model: %" PRIu64 " seeds (%" PRIu64 " with 5 replicas)%s, %" PRIu64
	       " steps, %.1f s\n",
	       S.seeds, S.seeds5, budget_hit ? " (time budget reached)" : "", S.steps, secs);
	printf("# isr model: %" PRIu64 " acks=all writes, %" PRIu64 " acknowledged, %" PRIu64
	       " failed (%" PRIu64 " NOT_ENOUGH_REPLICAS, %" PRIu64 " NOT_LEADER); %" PRIu64
	       " crashes, %" PRIu64 " clean shutdowns\n",
	       S.writes, S.acked, S.failed, S.verdicts[ISR_FAIL_NOT_ENOUGH_REPLICAS],
	       S.verdicts[ISR_FAIL_NOT_LEADER], S.crashes, S.shutdowns);
	printf("# isr model: %" PRIu64 " elections (%" PRIu64 " from the ELR), max epoch %" PRIu64
	       ", %" PRIu64 " offline runs; %" PRIu64 " ISR proposals, %" PRIu64 " rejected\n",
	       S.elections, S.elr_elections, S.max_epoch, S.offline, S.proposals, S.rejected);
	printf("# isr model: %" PRIu64 " truncations (%" PRIu64 " records), %" PRIu64
	       " ASK_AGAIN rounds, %" PRIu64 " stale responses ignored, %" PRIu64
	       " AlterPartition resends, longest committed log %" PRIu64 "\n",
	       S.truncations, S.records_truncated, S.ask_again, S.stale, S.resends,
	       S.max_committed);
	assert_true(S.acked > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
