/*
 * group — one consumer group's rebalance protocol (API and invariants in
 * group.h).
 */
#include "group.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_api.h"

struct grp_member {
	char *id;
	char *client_id;
	char *client_host;
	int32_t session_timeout_ms;
	int32_t rebalance_timeout_ms;
	struct grp_protocol *protocols; /* owned copies */
	int32_t nprotocols;
	uint8_t *assignment;
	int32_t assignment_len;
	int64_t last_seen_ms;
	bool pending;	   /* got its id through MEMBER_ID_REQUIRED; not a member yet */
	bool joined;	   /* has a JoinGroup in the current rebalance */
	void *join_waiter; /* parked JoinGroup, or NULL */
	void *sync_waiter; /* parked SyncGroup, or NULL */
};

/* ---- small helpers -------------------------------------------------------- */

static char *grp_strdup(const char *s)
{
	return strdup(s ? s : "");
}

static void grp_member_free(struct grp_member *m)
{
	if (!m)
		return;
	for (int32_t i = 0; i < m->nprotocols; i++) {
		free((char *)m->protocols[i].name);
		free((uint8_t *)m->protocols[i].metadata);
	}
	free(m->protocols);
	free(m->id);
	free(m->client_id);
	free(m->client_host);
	free(m->assignment);
	free(m);
}

static struct grp_member *grp_find(const struct grp_group *g, const char *id)
{
	for (int32_t i = 0; i < g->nmembers; i++)
		if (strcmp(g->members[i]->id, id) == 0)
			return g->members[i];
	return NULL;
}

static int32_t grp_real_members(const struct grp_group *g)
{
	int32_t n = 0;
	for (int32_t i = 0; i < g->nmembers; i++)
		n += !g->members[i]->pending;
	return n;
}

static const struct grp_protocol *grp_member_protocol(const struct grp_member *m, const char *name)
{
	for (int32_t i = 0; name && i < m->nprotocols; i++)
		if (strcmp(m->protocols[i].name, name) == 0)
			return &m->protocols[i];
	return NULL;
}

/* Answer a parked JoinGroup with an error. */
static void grp_join_error(struct grp_member *m, int16_t err, const struct grp_ops *ops)
{
	if (!m->join_waiter)
		return;
	void *w = m->join_waiter;
	m->join_waiter = NULL;
	struct grp_join_result r = {.error_code = err,
				    .generation = -1,
				    .protocol_name = "",
				    .leader = "",
				    .member_id = m->id};
	ops->join_done(w, &r);
}

static void grp_sync_answer(struct grp_member *m, int16_t err, const struct grp_ops *ops)
{
	if (!m->sync_waiter)
		return;
	void *w = m->sync_waiter;
	m->sync_waiter = NULL;
	if (err)
		ops->sync_done(w, err, NULL, 0);
	else
		ops->sync_done(w, 0, m->assignment, m->assignment_len);
}

static void grp_remove(struct grp_group *g, struct grp_member *m, int16_t why,
		       const struct grp_ops *ops)
{
	grp_join_error(m, why, ops);
	grp_sync_answer(m, why, ops);
	for (int32_t i = 0; i < g->nmembers; i++)
		if (g->members[i] == m) {
			memmove(&g->members[i], &g->members[i + 1],
				(size_t)(g->nmembers - i - 1) * sizeof(*g->members));
			g->nmembers--;
			break;
		}
	if (g->leader && strcmp(g->leader, m->id) == 0) {
		free(g->leader);
		g->leader = NULL;
	}
	grp_member_free(m);
	if (grp_real_members(g) == 0) {
		free(g->protocol_type);
		g->protocol_type = NULL;
	}
}

/* ---- rebalancing ---------------------------------------------------------- */

static void grp_start_rebalance(struct grp_group *g, int64_t now_ms, const struct grp_ops *ops)
{
	int32_t longest = 0;
	for (int32_t i = 0; i < g->nmembers; i++) {
		struct grp_member *m = g->members[i];
		grp_sync_answer(m, KP_ERR_REBALANCE_IN_PROGRESS, ops);
		if (!m->pending && m->rebalance_timeout_ms > longest)
			longest = m->rebalance_timeout_ms;
		if (!m->join_waiter)
			m->joined = false;
	}
	g->state = GRP_PREPARING;
	g->rebalance_deadline_ms = now_ms + longest;
}

/* Kafka's choice: protocols every member supports; each member votes for
 * the first of those in its own order; the most votes wins (ties: the
 * first candidate in the first member's order). */
static const char *grp_choose_protocol(const struct grp_group *g)
{
	const struct grp_member *first = NULL;
	for (int32_t i = 0; i < g->nmembers && !first; i++)
		if (g->members[i]->joined)
			first = g->members[i];
	if (!first)
		return NULL;
	const char *best = NULL;
	int best_votes = -1;
	for (int32_t c = 0; c < first->nprotocols; c++) {
		const char *cand = first->protocols[c].name;
		bool everyone = true;
		for (int32_t i = 0; i < g->nmembers && everyone; i++)
			if (g->members[i]->joined)
				everyone = grp_member_protocol(g->members[i], cand) != NULL;
		if (!everyone)
			continue;
		int votes = 0;
		for (int32_t i = 0; i < g->nmembers; i++) {
			const struct grp_member *m = g->members[i];
			if (!m->joined)
				continue;
			for (int32_t k = 0; k < m->nprotocols; k++) {
				bool common = true;
				for (int32_t j = 0; j < g->nmembers && common; j++)
					if (g->members[j]->joined)
						common = grp_member_protocol(g->members[j],
									     m->protocols[k].name);
				if (common) {
					votes += strcmp(m->protocols[k].name, cand) == 0;
					break;
				}
			}
		}
		if (votes > best_votes) {
			best_votes = votes;
			best = cand;
		}
	}
	return best;
}

/* Every member has rejoined, or the time is up: the new generation. */
static void grp_complete_join(struct grp_group *g, const struct grp_ops *ops)
{
	for (int32_t i = g->nmembers - 1; i >= 0; i--) {
		struct grp_member *m = g->members[i];
		if (!m->joined && !m->pending)
			grp_remove(g, m, KP_ERR_UNKNOWN_MEMBER_ID, ops);
	}
	g->generation++;
	int32_t joined = 0;
	for (int32_t i = 0; i < g->nmembers; i++)
		joined += g->members[i]->joined;
	if (joined == 0) {
		g->state = GRP_EMPTY;
		free(g->protocol);
		g->protocol = NULL;
		return;
	}
	const char *chosen = grp_choose_protocol(g);
	char *proto = grp_strdup(chosen);
	free(g->protocol);
	g->protocol = proto;
	if (!g->leader || !grp_find(g, g->leader)) {
		free(g->leader);
		g->leader = NULL;
		for (int32_t i = 0; i < g->nmembers && !g->leader; i++)
			if (g->members[i]->joined)
				g->leader = grp_strdup(g->members[i]->id);
	}
	struct grp_join_member *list = calloc((size_t)joined, sizeof(*list));
	int32_t n = 0;
	for (int32_t i = 0; list && i < g->nmembers; i++) {
		const struct grp_member *m = g->members[i];
		if (!m->joined)
			continue;
		const struct grp_protocol *p = grp_member_protocol(m, g->protocol);
		list[n++] = (struct grp_join_member){
			.member_id = m->id,
			.metadata = p ? p->metadata : NULL,
			.metadata_len = p ? p->metadata_len : 0,
		};
	}
	g->state = GRP_COMPLETING;
	for (int32_t i = 0; i < g->nmembers; i++) {
		struct grp_member *m = g->members[i];
		free(m->assignment);
		m->assignment = NULL;
		m->assignment_len = 0;
		if (!m->join_waiter)
			continue;
		bool is_leader = strcmp(m->id, g->leader) == 0;
		struct grp_join_result r = {
			.error_code = 0,
			.generation = g->generation,
			.protocol_name = g->protocol,
			.leader = g->leader,
			.member_id = m->id,
			.members = is_leader ? list : NULL,
			.nmembers = is_leader ? n : 0,
		};
		void *w = m->join_waiter;
		m->join_waiter = NULL;
		ops->join_done(w, &r);
	}
	free(list);
}

/* PREPARING: done when every member has joined, unless a new group still
 * waits for more members. */
static void grp_maybe_complete(struct grp_group *g, int64_t now_ms, const struct grp_ops *ops)
{
	if (g->state != GRP_PREPARING)
		return;
	if (now_ms < g->initial_deadline_ms && now_ms < g->rebalance_deadline_ms)
		return;
	for (int32_t i = 0; i < g->nmembers; i++)
		if (!g->members[i]->joined && !g->members[i]->pending &&
		    now_ms < g->rebalance_deadline_ms)
			return;
	grp_complete_join(g, ops);
}

/* ---- JoinGroup ------------------------------------------------------------ */

static int grp_copy_protocols(struct grp_member *m, const struct grp_join_req *req)
{
	struct grp_protocol *ps =
		calloc(req->nprotocols ? (size_t)req->nprotocols : 1, sizeof(*ps));
	if (!ps)
		return -1;
	for (int32_t i = 0; i < req->nprotocols; i++) {
		ps[i].name = grp_strdup(req->protocols[i].name);
		int32_t len =
			req->protocols[i].metadata_len > 0 ? req->protocols[i].metadata_len : 0;
		uint8_t *md = malloc(len ? (size_t)len : 1);
		if (md && len)
			memcpy(md, req->protocols[i].metadata, (size_t)len);
		ps[i].metadata = md;
		ps[i].metadata_len = len;
	}
	for (int32_t i = 0; i < m->nprotocols; i++) {
		free((char *)m->protocols[i].name);
		free((uint8_t *)m->protocols[i].metadata);
	}
	free(m->protocols);
	m->protocols = ps;
	m->nprotocols = req->nprotocols;
	return 0;
}

static bool grp_protocols_changed(const struct grp_member *m, const struct grp_join_req *req)
{
	if (m->nprotocols != req->nprotocols)
		return true;
	for (int32_t i = 0; i < m->nprotocols; i++) {
		const struct grp_protocol *a = &m->protocols[i], *b = &req->protocols[i];
		if (strcmp(a->name, b->name) != 0 || a->metadata_len != b->metadata_len ||
		    (a->metadata_len && memcmp(a->metadata, b->metadata, (size_t)a->metadata_len)))
			return true;
	}
	return false;
}

static struct grp_member *grp_add_member(struct grp_group *g, const struct grp_join_req *req)
{
	if (g->nmembers == g->members_cap) {
		int32_t cap = g->members_cap ? g->members_cap * 2 : 8;
		struct grp_member **n = realloc(g->members, (size_t)cap * sizeof(*n));
		if (!n)
			return NULL;
		g->members = n;
		g->members_cap = cap;
	}
	struct grp_member *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	char id[320];
	snprintf(id, sizeof(id), "%.200s-%" PRIu64 "-%016" PRIx64,
		 req->client_id && *req->client_id ? req->client_id : "member", ++g->id_counter,
		 req->id_nonce);
	m->id = grp_strdup(id);
	m->client_id = grp_strdup(req->client_id);
	m->client_host = grp_strdup(req->client_host);
	if (!m->id || !m->client_id || !m->client_host) {
		grp_member_free(m);
		return NULL;
	}
	g->members[g->nmembers++] = m;
	return m;
}

static int16_t grp_join_check(const struct grp_group *g, const struct grp_config *cfg,
			      const struct grp_join_req *req)
{
	if (g->state == GRP_DEAD)
		return KP_ERR_NOT_COORDINATOR;
	if (req->session_timeout_ms < cfg->min_session_timeout_ms ||
	    req->session_timeout_ms > cfg->max_session_timeout_ms)
		return KP_ERR_INVALID_SESSION_TIMEOUT;
	if (!req->protocol_type || !*req->protocol_type || req->nprotocols <= 0)
		return KP_ERR_INCONSISTENT_GROUP_PROTOCOL;
	if (g->protocol_type && strcmp(g->protocol_type, req->protocol_type) != 0)
		return KP_ERR_INCONSISTENT_GROUP_PROTOCOL;
	/* At least one protocol in common with every current member. */
	if (grp_real_members(g) > 0) {
		bool any = false;
		for (int32_t k = 0; k < req->nprotocols && !any; k++) {
			bool all = true;
			for (int32_t i = 0; i < g->nmembers && all; i++)
				if (!g->members[i]->pending &&
				    strcmp(g->members[i]->id, req->member_id) != 0)
					all = grp_member_protocol(g->members[i],
								  req->protocols[k].name) != NULL;
			any = all;
		}
		if (!any)
			return KP_ERR_INCONSISTENT_GROUP_PROTOCOL;
	}
	return 0;
}

static void grp_join_fail(void *waiter, const char *member_id, int16_t err,
			  const struct grp_ops *ops)
{
	struct grp_join_result r = {.error_code = err,
				    .generation = -1,
				    .protocol_name = "",
				    .leader = "",
				    .member_id = member_id};
	ops->join_done(waiter, &r);
}

void grp_join(struct grp_group *g, const struct grp_config *cfg, const struct grp_join_req *req,
	      void *waiter, int64_t now_ms, const struct grp_ops *ops)
{
	const char *asked = req->member_id ? req->member_id : "";
	int16_t err = grp_join_check(g, cfg, req);
	if (err) {
		grp_join_fail(waiter, asked, err, ops);
		return;
	}
	struct grp_member *m = NULL;
	if (*asked) {
		m = grp_find(g, asked);
		if (!m) {
			grp_join_fail(waiter, asked, KP_ERR_UNKNOWN_MEMBER_ID, ops);
			return;
		}
	} else {
		if (grp_real_members(g) >= cfg->max_members) {
			grp_join_fail(waiter, "", KP_ERR_GROUP_MAX_SIZE_REACHED, ops);
			return;
		}
		m = grp_add_member(g, req);
		if (!m) {
			grp_join_fail(waiter, "", KP_ERR_COORDINATOR_NOT_AVAILABLE, ops);
			return;
		}
		if (req->require_known_member_id) { /* KIP-394: come back with this id */
			m->pending = true;
			m->session_timeout_ms = req->session_timeout_ms;
			m->last_seen_ms = now_ms;
			grp_join_fail(waiter, m->id, KP_ERR_MEMBER_ID_REQUIRED, ops);
			return;
		}
	}
	bool was_pending = m->pending, changed = grp_protocols_changed(m, req);
	if (grp_copy_protocols(m, req) < 0) {
		grp_join_fail(waiter, m->id, KP_ERR_COORDINATOR_NOT_AVAILABLE, ops);
		return;
	}
	m->pending = false;
	m->session_timeout_ms = req->session_timeout_ms;
	m->rebalance_timeout_ms =
		req->rebalance_timeout_ms > 0 ? req->rebalance_timeout_ms : req->session_timeout_ms;
	m->last_seen_ms = now_ms;
	if (!g->protocol_type)
		g->protocol_type = grp_strdup(req->protocol_type);
	grp_join_error(m, KP_ERR_UNKNOWN_MEMBER_ID, ops); /* an older join it replaces */
	m->join_waiter = waiter;
	m->joined = true;

	switch (g->state) {
	case GRP_EMPTY:
		g->initial_deadline_ms = now_ms + cfg->initial_delay_ms;
		grp_start_rebalance(g, now_ms, ops);
		if (g->rebalance_deadline_ms < g->initial_deadline_ms)
			g->rebalance_deadline_ms = g->initial_deadline_ms;
		break;
	case GRP_PREPARING:
		break;
	case GRP_COMPLETING:
	case GRP_STABLE:
		/* A known member rejoining with the same subscription while the
		 * group is stable only needs the current generation back. */
		if (*asked && !was_pending && !changed && g->state == GRP_STABLE && g->leader &&
		    strcmp(m->id, g->leader) != 0) {
			struct grp_join_result r = {.generation = g->generation,
						    .protocol_name = g->protocol,
						    .leader = g->leader,
						    .member_id = m->id};
			m->join_waiter = NULL;
			ops->join_done(waiter, &r);
			return;
		}
		g->initial_deadline_ms = 0;
		grp_start_rebalance(g, now_ms, ops);
		break;
	case GRP_DEAD:
		break;
	}
	grp_maybe_complete(g, now_ms, ops);
}

/* ---- SyncGroup, Heartbeat, LeaveGroup ------------------------------------- */

static int16_t grp_member_check(struct grp_group *g, const char *member_id, int32_t generation,
				struct grp_member **out)
{
	if (g->state == GRP_DEAD)
		return KP_ERR_NOT_COORDINATOR;
	struct grp_member *m = member_id ? grp_find(g, member_id) : NULL;
	if (!m || m->pending)
		return KP_ERR_UNKNOWN_MEMBER_ID;
	*out = m;
	if (generation != g->generation)
		return KP_ERR_ILLEGAL_GENERATION;
	return 0;
}

static int grp_set_assignment(struct grp_member *m, const uint8_t *a, int32_t len)
{
	uint8_t *copy = malloc(len > 0 ? (size_t)len : 1);
	if (!copy)
		return -1;
	if (len > 0)
		memcpy(copy, a, (size_t)len);
	free(m->assignment);
	m->assignment = copy;
	m->assignment_len = len > 0 ? len : 0;
	return 0;
}

void grp_sync(struct grp_group *g, const char *member_id, int32_t generation,
	      const struct grp_assignment *assignments, int32_t nassignments, void *waiter,
	      int64_t now_ms, const struct grp_ops *ops)
{
	struct grp_member *m = NULL;
	int16_t err = grp_member_check(g, member_id, generation, &m);
	if (m)
		m->last_seen_ms = now_ms;
	if (!err && g->state == GRP_PREPARING)
		err = KP_ERR_REBALANCE_IN_PROGRESS;
	if (err) {
		ops->sync_done(waiter, err, NULL, 0);
		return;
	}
	if (g->state == GRP_STABLE) {
		ops->sync_done(waiter, 0, m->assignment, m->assignment_len);
		return;
	}
	/* COMPLETING: park; the leader's sync completes everyone's. */
	grp_sync_answer(m, KP_ERR_REBALANCE_IN_PROGRESS, ops); /* a duplicate */
	m->sync_waiter = waiter;
	if (strcmp(m->id, g->leader) != 0)
		return;
	for (int32_t i = 0; i < g->nmembers; i++)
		grp_set_assignment(g->members[i], NULL, 0);
	for (int32_t k = 0; k < nassignments; k++) {
		struct grp_member *t = grp_find(g, assignments[k].member_id);
		if (t)
			grp_set_assignment(t, assignments[k].assignment,
					   assignments[k].assignment_len);
	}
	g->state = GRP_STABLE;
	for (int32_t i = 0; i < g->nmembers; i++)
		grp_sync_answer(g->members[i], 0, ops);
}

int16_t grp_heartbeat(struct grp_group *g, const char *member_id, int32_t generation,
		      int64_t now_ms)
{
	struct grp_member *m = NULL;
	int16_t err = grp_member_check(g, member_id, generation, &m);
	if (m)
		m->last_seen_ms = now_ms;
	if (err)
		return err;
	return g->state == GRP_PREPARING ? KP_ERR_REBALANCE_IN_PROGRESS : 0;
}

int16_t grp_leave(struct grp_group *g, const char *member_id, int64_t now_ms,
		  const struct grp_ops *ops)
{
	struct grp_member *m = member_id ? grp_find(g, member_id) : NULL;
	if (!m || g->state == GRP_DEAD)
		return g->state == GRP_DEAD ? KP_ERR_NOT_COORDINATOR : KP_ERR_UNKNOWN_MEMBER_ID;
	bool was_real = !m->pending;
	grp_remove(g, m, KP_ERR_UNKNOWN_MEMBER_ID, ops);
	if (!was_real)
		return 0;
	if (grp_real_members(g) == 0 && g->state != GRP_PREPARING) {
		g->state = GRP_EMPTY;
		g->generation++;
		return 0;
	}
	if (g->state == GRP_STABLE || g->state == GRP_COMPLETING)
		grp_start_rebalance(g, now_ms, ops);
	grp_maybe_complete(g, now_ms, ops);
	return 0;
}

int16_t grp_commit_allowed(const struct grp_group *g, const char *member_id, int32_t generation)
{
	if (g->state == GRP_DEAD)
		return KP_ERR_NOT_COORDINATOR;
	if (generation < 0 && (!member_id || !*member_id))
		return grp_real_members(g) == 0 ? 0 : KP_ERR_ILLEGAL_GENERATION;
	const struct grp_member *m = member_id ? grp_find(g, member_id) : NULL;
	if (!m || m->pending)
		return KP_ERR_UNKNOWN_MEMBER_ID;
	if (generation != g->generation)
		return KP_ERR_ILLEGAL_GENERATION;
	return g->state == GRP_PREPARING ? KP_ERR_REBALANCE_IN_PROGRESS : 0;
}

/* ---- time ----------------------------------------------------------------- */

int64_t grp_tick(struct grp_group *g, int64_t now_ms, const struct grp_ops *ops)
{
	if (g->state == GRP_DEAD)
		return INT64_MAX;
	bool lost = false;
	for (int32_t i = g->nmembers - 1; i >= 0; i--) {
		struct grp_member *m = g->members[i];
		if (m->join_waiter) /* waiting in a rebalance: bounded by its timeout */
			continue;
		if (now_ms - m->last_seen_ms >= m->session_timeout_ms) {
			lost |= !m->pending;
			grp_remove(g, m, KP_ERR_UNKNOWN_MEMBER_ID, ops);
		}
	}
	if (lost && (g->state == GRP_STABLE || g->state == GRP_COMPLETING)) {
		if (grp_real_members(g) == 0) {
			g->state = GRP_EMPTY;
			g->generation++;
		} else {
			grp_start_rebalance(g, now_ms, ops);
		}
	}
	grp_maybe_complete(g, now_ms, ops);
	int64_t next = INT64_MAX;
	for (int32_t i = 0; i < g->nmembers; i++) {
		const struct grp_member *m = g->members[i];
		if (!m->join_waiter && m->last_seen_ms + m->session_timeout_ms < next)
			next = m->last_seen_ms + m->session_timeout_ms;
	}
	if (g->state == GRP_PREPARING) {
		int64_t d = g->rebalance_deadline_ms;
		if (g->initial_deadline_ms > now_ms && g->initial_deadline_ms < d)
			d = g->initial_deadline_ms;
		if (d < next)
			next = d;
	}
	return next;
}

void grp_give_up(struct grp_group *g, const struct grp_ops *ops)
{
	for (int32_t i = 0; i < g->nmembers; i++) {
		grp_join_error(g->members[i], KP_ERR_NOT_COORDINATOR, ops);
		grp_sync_answer(g->members[i], KP_ERR_NOT_COORDINATOR, ops);
	}
	g->state = GRP_DEAD;
}

/* ---- life and read access ------------------------------------------------- */

struct grp_group *grp_new(const char *id)
{
	struct grp_group *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->id = grp_strdup(id);
	if (!g->id) {
		free(g);
		return NULL;
	}
	g->state = GRP_EMPTY;
	return g;
}

void grp_free(struct grp_group *g)
{
	if (!g)
		return;
	for (int32_t i = 0; i < g->nmembers; i++)
		grp_member_free(g->members[i]);
	free(g->members);
	free(g->id);
	free(g->protocol_type);
	free(g->protocol);
	free(g->leader);
	free(g);
}

const char *grp_state_name(enum grp_state s)
{
	switch (s) {
	case GRP_EMPTY:
		return "Empty";
	case GRP_PREPARING:
		return "PreparingRebalance";
	case GRP_COMPLETING:
		return "CompletingRebalance";
	case GRP_STABLE:
		return "Stable";
	case GRP_DEAD:
		return "Dead";
	}
	return "?";
}

int32_t grp_member_count(const struct grp_group *g)
{
	return g->nmembers;
}

const char *grp_member_id(const struct grp_group *g, int32_t i)
{
	return g->members[i]->id;
}

const char *grp_member_client_id(const struct grp_group *g, int32_t i)
{
	return g->members[i]->client_id;
}

const char *grp_member_client_host(const struct grp_group *g, int32_t i)
{
	return g->members[i]->client_host;
}

const uint8_t *grp_member_assignment(const struct grp_group *g, int32_t i, int32_t *len)
{
	*len = g->members[i]->assignment_len;
	return g->members[i]->assignment;
}

const uint8_t *grp_member_metadata(const struct grp_group *g, int32_t i, int32_t *len)
{
	const struct grp_protocol *p = grp_member_protocol(g->members[i], g->protocol);
	*len = p ? p->metadata_len : 0;
	return p ? p->metadata : NULL;
}
