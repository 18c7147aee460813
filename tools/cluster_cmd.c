/*
 * cluster_cmd — `replog cluster` (API in cluster_cmd.h).
 *
 * What this file owns: the command line of `replog cluster`, asking every
 * broker for its view of the metadata quorum (ReplogDescribeQuorum), and
 * putting the views together into one listing and one verdict.
 *
 * Who is asked: first every broker the Metadata answer names (cluster_view:
 * the brokers the controller holds alive), then every quorum member or
 * registered broker that those answers name but the Metadata does not (a
 * fenced broker, a voter whose session expired), at the address the
 * answers' broker list gives. One pass, so at most CVIEW_MAX_BROKERS
 * brokers, each within --timeout-ms. A broker that does not answer, or
 * answers with an error, is reported on stderr and counts as down.
 *
 * Which answer says what (each fact comes from the broker that knows it):
 *   - the active controller L: the leader id named by the most voters
 *     that answered, provided broker L itself answered saying it leads;
 *   - match index, lag and last contact of every member: L's answer (only
 *     the Raft leader tracks them); lag = L's last index - match index;
 *   - the members and their roles, the committed index, the brokers'
 *     registrations and sessions: L's answer, or when there is no L the
 *     answer with the highest term (then commit index, then lowest id);
 *   - a member's state and applied index: its own answer.
 * The voters that decide are those of the configuration in the answer
 * with the highest term: configurations change only through the log, so
 * that one is the newest any broker could have.
 *
 * Verdict (exit status 0): L exists, more than half of the voters that
 * answered name it, and no broker that answered names another leader. An
 * unknown leader (-1, e.g. a broker just started) is not a disagreement.
 * Anything else is exit status 1 with the reason on stderr.
 */
#include "cluster_cmd.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_view.h"
#include "kp_api.h"
#include "rlassert.h"

#define CLUSTER_CMD_PREFIX  "replog cluster: "
#define CLUSTER_CMD_IDS_BUF 1024

/* Raft states and member roles as the answer encodes them (kp_replog.h). */
#define CLUSTER_CMD_STATE_LEADER 3
#define CLUSTER_CMD_ROLE_STANDBY 0
#define CLUSTER_CMD_ROLE_VOTER	 1
#define CLUSTER_CMD_ROLE_SPARE	 2

const char cluster_help[] =
	"NAME\n"
	"    replog cluster - show the metadata quorum and the brokers of a running\n"
	"    cluster\n"
	"\n"
	"SYNOPSIS\n"
	"    replog cluster [--bootstrap-server HOST:PORT[,HOST:PORT...]]\n"
	"                   [--timeout-ms N]\n"
	"\n"
	"DESCRIPTION\n"
	"    The cluster metadata (topics, partitions, brokers) is a Raft log kept\n"
	"    by the brokers named in cluster.controllers (the voters; the other\n"
	"    brokers are standbys that follow the log without voting). The Raft\n"
	"    leader is the active controller. This command asks every broker for\n"
	"    its own view of that quorum (ReplogDescribeQuorum) and shows which\n"
	"    broker is the active controller and in which term, each member's\n"
	"    state and how far it is behind the leader, and every broker's\n"
	"    registration and session as the active controller holds them.\n"
	"    Nothing is changed.\n"
	"\n"
	"    The brokers come from a Metadata request to the first bootstrap\n"
	"    server that answers; members and brokers the answers name that the\n"
	"    Metadata does not (fenced ones) are asked too, at the address the\n"
	"    active controller registered for them. Brokers are asked one after\n"
	"    the other, each within --timeout-ms. A broker that does not answer\n"
	"    is named on stderr with the cause and shown as down; that alone does\n"
	"    not make the command fail.\n"
	"\n"
	"OPTIONS\n"
	"    -b, --bootstrap-server HOST:PORT[,HOST:PORT...]\n"
	"        Brokers to ask for the Metadata, tried in order until one answers\n"
	"        (default 127.0.0.1:9092). IPv6 addresses as [ADDR]:PORT.\n"
	"    --timeout-ms N\n"
	"        Time allowed for each broker, connecting included (default 5000,\n"
	"        at most 600000).\n"
	"    -h, --help\n"
	"        Print this manual.\n"
	"\n"
	"OUTPUT\n"
	"    On stdout, one fact per line, in this order (member and broker lines\n"
	"    have their fields separated by tabs, shown here as spaces):\n"
	"      Cluster: <cluster id>\n"
	"      Active controller: 2 (term 5)\n"
	"      Quorum: voters 1,2,3; standbys none; committed index 41\n"
	"      Voter: 1 State: follower Match: 41 Lag: 0 LastContactMs: 12 Applied: 41\n"
	"      Voter: 2 State: leader Match: 41 Lag: 0 LastContactMs: 0 Applied: 41\n"
	"      Voter: 3 State: down Match: 37 Lag: 4 LastContactMs: 5210 Applied: -\n"
	"      Broker: 1 Address: 127.0.0.1:9092 Epoch: 12 Status: alive SessionMs: 180\n"
	"      Broker: 3 Address: 127.0.0.1:9094 Epoch: 9 Status: fenced SessionMs: 5230\n"
	"      Partitions: 12; under-replicated 1; offline 0\n"
	"      UnderReplicated: orders Partition: 2 Leader: 1 Replicas: 1,2,3 Isr: 1,2\n"
	"    Cluster: the cluster id from the Metadata answer (no line without one).\n"
	"    Active controller: the broker that the most voters answering name as\n"
	"    the leader and that itself says it leads, and its term; `none (term\n"
	"    T)` when there is no such broker (T the highest term any broker\n"
	"    knows), `none` when no broker answered.\n"
	"    Quorum: the voters, the standbys (`none` when there are none), then\n"
	"    `; spares <ids>` only when the configuration has spares, and the\n"
	"    committed index of the Raft log.\n"
	"    Then one line per member: voters, then standbys (Standby:), then\n"
	"    spares (Spare:), each by id.\n"
	"      State: leader, follower, candidate or unavailable as the member's\n"
	"        own broker says; down when it did not answer.\n"
	"      Match: the last log index the leader knows the member holds.\n"
	"      Lag: the leader's last log index minus Match.\n"
	"      LastContactMs: milliseconds since the leader last exchanged with it.\n"
	"      Applied: the last log index the member applied, as it says.\n"
	"    Then one line per broker, by id.\n"
	"      Address: where it registered (- when unknown).\n"
	"      Epoch: the broker epoch its registration got.\n"
	"      Status: alive, fenced, shutting-down, fenced,shutting-down, or\n"
	"        not-registered.\n"
	"      SessionMs: milliseconds since its last heartbeat reached the active\n"
	"        controller.\n"
	"    Then, from the Metadata answer, how many partitions the cluster has,\n"
	"    how many are under-replicated (fewer in-sync replicas than replicas)\n"
	"    and how many offline (no leader), and one line for each of those:\n"
	"    UnderReplicated: or Offline:, the topic, partition, leader (- for\n"
	"    none), replicas and in-sync replicas (as `replog topics describe\n"
	"    --under-replicated-partitions` shows them, with the offsets).\n"
	"    A value that is not known is `-`: Match, Lag and LastContactMs are\n"
	"    known only from the active controller's answer, SessionMs only from\n"
	"    the active controller, Applied only from the member itself. Without\n"
	"    an active controller, the members, brokers and committed index come\n"
	"    from the answer with the highest term.\n"
	"\n"
	"    On stderr, one line per broker that did not answer, e.g.\n"
	"      replog cluster: broker 3 did not answer: connection refused by\n"
	"        127.0.0.1:9094\n"
	"    and, with exit status 1, lines saying why the active controller is\n"
	"    not known or not agreed on.\n"
	"\n"
	"EXIT STATUS\n"
	"    0  an active controller is known and agreed on: more than half of the\n"
	"       voters that answered name it, it says it leads, and no broker that\n"
	"       answered names another leader (brokers that did not answer do not\n"
	"       matter here: they are on stderr)\n"
	"    1  no active controller is known (no broker or no voter answered, no\n"
	"       majority of the voters answering names the same one, or the one\n"
	"       they name does not answer or does not lead), or brokers that\n"
	"       answered disagree about it, or the output could not be written\n"
	"    2  usage error: unknown option, bad value\n"
	"\n"
	"EXAMPLES\n"
	"    The local cluster:\n"
	"      replog cluster\n"
	"    A remote cluster, with a short timeout per broker:\n"
	"      replog cluster -b 10.0.0.1:9092,10.0.0.2:9092 --timeout-ms 2000\n"
	"    Wait in a script until the quorum has a leader:\n"
	"      until replog cluster >/dev/null; do sleep 1; done\n";

/* The shared options; --topic is parsed there but refused here. */
static const struct option cluster_cmd_long_options[] = {
	CVIEW_LONG_OPTIONS,
	{NULL, 0, NULL, 0},
};

/* One broker asked for its view of the quorum. */
struct cluster_cmd_node {
	int32_t cn_id;
	const char *cn_addr; /* borrowed: cview's broker table, or cn_conn; NULL = unknown */
	bool cn_answered;    /* with error_code 0 */
	/* Valid when cn_answered; lives in cview's or cn_conn's memory. */
	const struct kp_replog_describe_quorum_response *cn_q;
	struct kclient *cn_conn;	/* owned: only for brokers the Metadata did not name */
	union kp_response_body cn_resp; /* cn_conn's answer */
};

struct cluster_cmd_view {
	struct cview cc_cv;
	struct cluster_cmd_node *cc_nodes; /* owned, CVIEW_MAX_BROKERS long */
	int32_t cc_nnodes;
};

static struct cluster_cmd_node *cluster_cmd_find_node(struct cluster_cmd_view *v, int32_t id)
{
	for (int32_t i = 0; i < v->cc_nnodes; i++)
		if (v->cc_nodes[i].cn_id == id)
			return &v->cc_nodes[i];
	return NULL;
}

static const struct kp_replog_describe_quorum_response *
cluster_cmd_answer(const struct cluster_cmd_view *v, int32_t id)
{
	for (int32_t i = 0; i < v->cc_nnodes; i++)
		if (v->cc_nodes[i].cn_id == id)
			return v->cc_nodes[i].cn_answered ? v->cc_nodes[i].cn_q : NULL;
	return NULL;
}

/* An answer with a top-level error: reported, the broker counts as down. */
static bool cluster_cmd_accept(const struct cluster_cmd_node *n,
			       const struct kp_replog_describe_quorum_response *q)
{
	if (q->error_code == 0)
		return true;
	fprintf(stderr,
		CLUSTER_CMD_PREFIX "broker %" PRId32 " at %s refused the %s request: %s (%d)\n",
		n->cn_id, n->cn_addr, kp_api_name(KP_API_REPLOG_DESCRIBE_QUORUM),
		kp_error_name(q->error_code), q->error_code);
	return false;
}

/* The address of broker id in any answer's broker list, or false. */
static bool cluster_cmd_find_addr(const struct cluster_cmd_view *v, int32_t id, char *buf,
				  size_t cap)
{
	for (int32_t i = 0; i < v->cc_nnodes; i++) {
		const struct cluster_cmd_node *n = &v->cc_nodes[i];
		if (!n->cn_answered)
			continue;
		for (int32_t k = 0; k < n->cn_q->brokers_count; k++) {
			const struct kp_replog_quorum_broker *b = &n->cn_q->brokers[k];
			if (b->id != id || b->address.len <= 0 || (size_t)b->address.len >= cap)
				continue;
			memcpy(buf, b->address.ptr, (size_t)b->address.len);
			buf[b->address.len] = '\0';
			if (kclient_parse_addr(buf, NULL, 0, NULL, 0) == 0)
				return true;
		}
	}
	return false;
}

/* Ask broker id, which the Metadata did not name, at the address the
 * answers give; adds its node. */
static void cluster_cmd_ask_extra(struct cluster_cmd_view *v, int32_t id,
				  const union kp_request_body *req)
{
	RL_ASSERT(v->cc_nnodes < CVIEW_MAX_BROKERS);
	struct cluster_cmd_node *n = &v->cc_nodes[v->cc_nnodes++];
	*n = (struct cluster_cmd_node){.cn_id = id};
	char addr[KCLIENT_ADDR_MAX];
	if (!cluster_cmd_find_addr(v, id, addr, sizeof(addr))) {
		fprintf(stderr,
			CLUSTER_CMD_PREFIX "broker %" PRId32 " is not in the metadata from %s and "
					   "no answer gives its address: not asked\n",
			id, v->cc_cv.cv_boot_addr);
		return;
	}
	n->cn_conn = calloc(1, sizeof(*n->cn_conn));
	if (!n->cn_conn) {
		fprintf(stderr, CLUSTER_CMD_PREFIX "out of memory: broker %" PRId32 " not asked\n",
			id);
		return;
	}
	n->cn_conn->kc_fd = -1;
	int rc = kclient_init(n->cn_conn, addr, v->cc_cv.cv_timeout_ms);
	n->cn_addr = n->cn_conn->kc_addr;
	if (rc == 0)
		rc = kclient_connect(n->cn_conn);
	if (rc == 0)
		rc = kclient_call(n->cn_conn, KP_API_REPLOG_DESCRIBE_QUORUM, 0, req, &n->cn_resp);
	kclient_close(n->cn_conn);
	if (rc < 0) {
		fprintf(stderr, CLUSTER_CMD_PREFIX "broker %" PRId32 " did not answer: %s\n", id,
			kclient_errmsg(n->cn_conn));
		return;
	}
	n->cn_q = &n->cn_resp.replog_describe_quorum;
	n->cn_answered = cluster_cmd_accept(n, n->cn_q);
}

static int cluster_cmd_cmp_node(const void *a, const void *b)
{
	const struct cluster_cmd_node *x = a, *y = b;
	return (x->cn_id > y->cn_id) - (x->cn_id < y->cn_id);
}

/* Every broker's answer: those of the Metadata, then the others the
 * answers name (one pass over the first round's answers). */
static void cluster_cmd_ask(struct cluster_cmd_view *v)
{
	struct cview *cv = &v->cc_cv;
	union kp_request_body req = {.replog_describe_quorum = {.tags = KP_TAGS_EMPTY}};
	cview_ask_all(cv, KP_API_REPLOG_DESCRIBE_QUORUM, &req);
	for (int32_t i = 0; i < cv->cv_nbrokers; i++) {
		struct cview_broker *cb = &cv->cv_brokers[i];
		struct cluster_cmd_node *n = &v->cc_nodes[v->cc_nnodes++];
		*n = (struct cluster_cmd_node){.cn_id = cb->cb_id, .cn_addr = cb->cb_addr};
		if (!cb->cb_answered)
			continue;
		n->cn_q = &cb->cb_resp.replog_describe_quorum;
		n->cn_answered = cluster_cmd_accept(n, n->cn_q);
	}
	int32_t first_round = v->cc_nnodes;
	for (int32_t i = 0; i < first_round; i++) {
		if (!v->cc_nodes[i].cn_answered)
			continue;
		/* In cview's memory: asking others does not move it. */
		const struct kp_replog_describe_quorum_response *q = v->cc_nodes[i].cn_q;
		for (int32_t k = 0; k < q->members_count + q->brokers_count; k++) {
			int32_t id = k < q->members_count ? q->members[k].id
							  : q->brokers[k - q->members_count].id;
			if (cluster_cmd_find_node(v, id) || v->cc_nnodes >= CVIEW_MAX_BROKERS)
				continue;
			cluster_cmd_ask_extra(v, id, &req);
		}
	}
	qsort(v->cc_nodes, (size_t)v->cc_nnodes, sizeof(*v->cc_nodes), cluster_cmd_cmp_node);
	/* Sorting moved the nodes: the extra answers live in the nodes. */
	for (int32_t i = 0; i < v->cc_nnodes; i++) {
		struct cluster_cmd_node *n = &v->cc_nodes[i];
		if (n->cn_conn && n->cn_answered)
			n->cn_q = &n->cn_resp.replog_describe_quorum;
	}
}

static void cluster_cmd_view_deinit(struct cluster_cmd_view *v)
{
	for (int32_t i = 0; v->cc_nodes && i < v->cc_nnodes; i++) {
		if (v->cc_nodes[i].cn_conn)
			kclient_deinit(v->cc_nodes[i].cn_conn);
		free(v->cc_nodes[i].cn_conn);
	}
	free(v->cc_nodes);
	v->cc_nodes = NULL;
	v->cc_nnodes = 0;
	cview_deinit(&v->cc_cv);
}

/* ---- putting the answers together ---------------------------------------- */

struct cluster_cmd_verdict {
	const struct kp_replog_describe_quorum_response *cd_best; /* highest term */
	/* The active controller's own answer, when it says it leads; NULL else. */
	const struct kp_replog_describe_quorum_response *cd_ctl;
	const struct kp_replog_describe_quorum_response *cd_ref; /* cd_ctl, else cd_best */
	int32_t cd_leader; /* the id most answering voters name; -1 none */
	int32_t cd_agree;  /* voters answering that name it */
	int32_t cd_voters_answering;
	int32_t cd_voters; /* in cd_best's configuration */
};

static bool cluster_cmd_newer(const struct kp_replog_describe_quorum_response *a,
			      const struct kp_replog_describe_quorum_response *b)
{
	if (a->term != b->term)
		return a->term > b->term;
	if (a->commit_index != b->commit_index)
		return a->commit_index > b->commit_index;
	return a->broker_id < b->broker_id;
}

static int8_t cluster_cmd_role(const struct kp_replog_describe_quorum_response *q, int32_t id)
{
	for (int32_t i = 0; q && i < q->members_count; i++)
		if (q->members[i].id == id)
			return q->members[i].role;
	return -1;
}

static void cluster_cmd_judge(const struct cluster_cmd_view *v, struct cluster_cmd_verdict *d)
{
	*d = (struct cluster_cmd_verdict){.cd_leader = -1};
	for (int32_t i = 0; i < v->cc_nnodes; i++) {
		const struct cluster_cmd_node *n = &v->cc_nodes[i];
		if (n->cn_answered && (!d->cd_best || cluster_cmd_newer(n->cn_q, d->cd_best)))
			d->cd_best = n->cn_q;
	}
	if (!d->cd_best)
		return;
	for (int32_t i = 0; i < d->cd_best->members_count; i++)
		d->cd_voters += d->cd_best->members[i].role == CLUSTER_CMD_ROLE_VOTER;

	/* Tally the leader ids the answering voters name. */
	int32_t named[CVIEW_MAX_BROKERS], votes[CVIEW_MAX_BROKERS], nnamed = 0;
	for (int32_t i = 0; i < v->cc_nnodes; i++) {
		const struct cluster_cmd_node *n = &v->cc_nodes[i];
		if (!n->cn_answered ||
		    cluster_cmd_role(d->cd_best, n->cn_id) != CLUSTER_CMD_ROLE_VOTER)
			continue;
		d->cd_voters_answering++;
		int32_t lid = n->cn_q->leader_id;
		if (lid < 0)
			continue;
		int32_t k = 0;
		while (k < nnamed && named[k] != lid)
			k++;
		if (k == nnamed) {
			named[nnamed] = lid;
			votes[nnamed++] = 0;
		}
		votes[k]++;
	}
	for (int32_t k = 0; k < nnamed; k++)
		if (votes[k] > d->cd_agree) {
			d->cd_agree = votes[k];
			d->cd_leader = named[k];
		}
	const struct kp_replog_describe_quorum_response *l =
		d->cd_leader >= 0 ? cluster_cmd_answer(v, d->cd_leader) : NULL;
	if (l && l->state == CLUSTER_CMD_STATE_LEADER)
		d->cd_ctl = l;
	d->cd_ref = d->cd_ctl ? d->cd_ctl : d->cd_best;
}

static const char *cluster_cmd_state_name(int8_t state)
{
	switch (state) {
	case 0:
		return "unavailable";
	case 1:
		return "follower";
	case 2:
		return "candidate";
	case CLUSTER_CMD_STATE_LEADER:
		return "leader";
	default:
		return "unknown";
	}
}

/* "1 voter", "2 voters". */
static const char *cluster_cmd_voters(char *buf, size_t cap, int32_t n)
{
	snprintf(buf, cap, "%" PRId32 " voter%s", n, n == 1 ? "" : "s");
	return buf;
}

/* Whether the verdict is exit status 0; if not, says why on stderr. */
static bool cluster_cmd_agreed(const struct cluster_cmd_view *v,
			       const struct cluster_cmd_verdict *d)
{
	char agree[32], answering[32];
	if (!d->cd_best) {
		fprintf(stderr, CLUSTER_CMD_PREFIX "no active controller known: no broker answered "
						   "the ReplogDescribeQuorum request\n");
		return false;
	}
	if (d->cd_voters == 0) {
		fprintf(stderr,
			CLUSTER_CMD_PREFIX "no active controller known: the newest answer (broker "
					   "%" PRId32 ", term %" PRId64 ") names no voters\n",
			d->cd_best->broker_id, d->cd_best->term);
		return false;
	}
	cluster_cmd_voters(agree, sizeof(agree), d->cd_agree);
	cluster_cmd_voters(answering, sizeof(answering), d->cd_voters_answering);
	if (d->cd_voters_answering == 0) {
		fprintf(stderr,
			CLUSTER_CMD_PREFIX "no active controller known: no voter answered (%s in "
					   "the configuration)\n",
			cluster_cmd_voters(answering, sizeof(answering), d->cd_voters));
		return false;
	}
	if (d->cd_leader < 0) {
		fprintf(stderr,
			CLUSTER_CMD_PREFIX
			"no active controller known: no voter that answered (%s) "
			"knows a leader; an election may be under way (highest "
			"term %" PRId64 ")\n",
			answering, d->cd_best->term);
		return false;
	}
	bool ok = true;
	if (d->cd_agree * 2 <= d->cd_voters_answering) {
		fprintf(stderr,
			CLUSTER_CMD_PREFIX "no active controller agreed on: %s of the %s that "
					   "answered name broker %" PRId32 ", not a majority\n",
			agree, answering, d->cd_leader);
		ok = false;
	}
	const struct kp_replog_describe_quorum_response *l = cluster_cmd_answer(v, d->cd_leader);
	if (!l) {
		fprintf(stderr,
			CLUSTER_CMD_PREFIX "no active controller known: broker %" PRId32
					   ", named the leader by %s, did not answer\n",
			d->cd_leader, agree);
		ok = false;
	} else if (!d->cd_ctl) {
		fprintf(stderr,
			CLUSTER_CMD_PREFIX
			"no active controller known: broker %" PRId32
			", named the leader by %s, says its state is %s (term %" PRId64
			", leader %" PRId32 ")\n",
			d->cd_leader, agree, cluster_cmd_state_name(l->state), l->term,
			l->leader_id);
		ok = false;
	}
	for (int32_t i = 0; i < v->cc_nnodes; i++) {
		const struct cluster_cmd_node *n = &v->cc_nodes[i];
		if (!n->cn_answered || n->cn_q->leader_id < 0 || n->cn_q->leader_id == d->cd_leader)
			continue;
		fprintf(stderr,
			CLUSTER_CMD_PREFIX "brokers disagree about the active controller: broker "
					   "%" PRId32 " names %" PRId32 " (term %" PRId64
					   "), %s name %" PRId32 "\n",
			n->cn_id, n->cn_q->leader_id, n->cn_q->term, agree, d->cd_leader);
		ok = false;
	}
	return ok;
}

/* ---- printing -------------------------------------------------------------- */

/* Order of member lines: voters, standbys, spares, anything else. */
static int cluster_cmd_role_rank(int8_t role)
{
	switch (role) {
	case CLUSTER_CMD_ROLE_VOTER:
		return 0;
	case CLUSTER_CMD_ROLE_STANDBY:
		return 1;
	case CLUSTER_CMD_ROLE_SPARE:
		return 2;
	default:
		return 3;
	}
}

static const char *const cluster_cmd_role_label[] = {"Voter", "Standby", "Spare", "Member"};

static int cluster_cmd_cmp_member(const void *a, const void *b)
{
	const struct kp_replog_quorum_member *x = *(const struct kp_replog_quorum_member *const *)a;
	const struct kp_replog_quorum_member *y = *(const struct kp_replog_quorum_member *const *)b;
	int rx = cluster_cmd_role_rank(x->role), ry = cluster_cmd_role_rank(y->role);
	if (rx != ry)
		return rx - ry;
	return (x->id > y->id) - (x->id < y->id);
}

/* A number, or "-" when negative (unknown). */
static void cluster_cmd_print_num(FILE *out, int64_t v)
{
	if (v >= 0)
		fprintf(out, "%" PRId64, v);
	else
		fputs("-", out);
}

/* Free text from a broker: printable ASCII as is, anything else \xNN. */
static void cluster_cmd_print_text(FILE *out, struct kp_str s)
{
	if (s.len <= 0) {
		fputs("-", out);
		return;
	}
	for (int32_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.ptr[i];
		if (c > 0x20 && c < 0x7f && c != '\\')
			putc(c, out);
		else
			fprintf(out, "\\x%02x", c);
	}
}

/* "1,2,3" of the members with that role, or "none". Returns how many. */
static int32_t cluster_cmd_role_ids(const struct kp_replog_describe_quorum_response *q, int8_t role,
				    char *buf, size_t cap)
{
	int32_t ids[CVIEW_MAX_BROKERS], n = 0;
	for (int32_t i = 0; i < q->members_count && n < CVIEW_MAX_BROKERS; i++)
		if (q->members[i].role == role)
			ids[n++] = q->members[i].id;
	/* Members come in configuration order; the listing is by id. */
	for (int32_t i = 1; i < n; i++)
		for (int32_t j = i; j > 0 && ids[j - 1] > ids[j]; j--) {
			int32_t t = ids[j];
			ids[j] = ids[j - 1];
			ids[j - 1] = t;
		}
	if (n == 0)
		snprintf(buf, cap, "none");
	else
		cview_format_ids(buf, cap, ids, n);
	return n;
}

static void cluster_cmd_print_member(FILE *out, const struct cluster_cmd_view *v,
				     const struct cluster_cmd_verdict *d,
				     const struct kp_replog_quorum_member *m)
{
	const struct kp_replog_describe_quorum_response *own = cluster_cmd_answer(v, m->id);
	const struct kp_replog_quorum_member *lm = NULL;
	for (int32_t i = 0; d->cd_ctl && i < d->cd_ctl->members_count; i++)
		if (d->cd_ctl->members[i].id == m->id)
			lm = &d->cd_ctl->members[i];
	int64_t match = lm ? lm->match_index : -1;
	fprintf(out, "%s: %" PRId32 "\tState: %s\tMatch: ",
		cluster_cmd_role_label[cluster_cmd_role_rank(m->role)], m->id,
		own ? cluster_cmd_state_name(own->state) : "down");
	cluster_cmd_print_num(out, match);
	fputs("\tLag: ", out);
	cluster_cmd_print_num(out, match >= 0 ? d->cd_ctl->last_index - match : -1);
	fputs("\tLastContactMs: ", out);
	cluster_cmd_print_num(out, lm ? lm->last_contact_ms_ago : -1);
	fputs("\tApplied: ", out);
	cluster_cmd_print_num(out, own ? own->last_applied : -1);
	fputc('\n', out);
}

static void cluster_cmd_print_broker(FILE *out, int32_t id, const struct kp_replog_quorum_broker *b)
{
	fprintf(out, "Broker: %" PRId32 "\tAddress: ", id);
	if (b)
		cluster_cmd_print_text(out, b->address);
	else
		fputs("-", out);
	fputs("\tEpoch: ", out);
	cluster_cmd_print_num(out, b && b->registered ? b->broker_epoch : -1);
	fputs("\tStatus: ", out);
	if (!b || !b->registered)
		fputs("not-registered", out);
	else if (b->fenced || b->shutting_down)
		fprintf(out, "%s%s%s", b->fenced ? "fenced" : "",
			b->fenced && b->shutting_down ? "," : "",
			b->shutting_down ? "shutting-down" : "");
	else
		fputs("alive", out);
	fputs("\tSessionMs: ", out);
	cluster_cmd_print_num(out, b ? b->session_ms_ago : -1);
	fputc('\n', out);
}

static int cluster_cmd_cmp_id(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return (x > y) - (x < y);
}

/* Broker lines: every broker of the reference answer's list, and every
 * member it does not list (never registered), by id. */
static void cluster_cmd_print_brokers(FILE *out, const struct kp_replog_describe_quorum_response *q)
{
	int32_t ids[2 * CVIEW_MAX_BROKERS], n = 0;
	for (int32_t i = 0; i < q->brokers_count + q->members_count && n < 2 * CVIEW_MAX_BROKERS;
	     i++) {
		int32_t id = i < q->brokers_count ? q->brokers[i].id
						  : q->members[i - q->brokers_count].id;
		bool dup = false;
		for (int32_t k = 0; k < n && !dup; k++)
			dup = ids[k] == id;
		if (!dup)
			ids[n++] = id;
	}
	qsort(ids, (size_t)n, sizeof(*ids), cluster_cmd_cmp_id);
	for (int32_t i = 0; i < n; i++) {
		const struct kp_replog_quorum_broker *b = NULL;
		for (int32_t k = 0; k < q->brokers_count && !b; k++)
			if (q->brokers[k].id == ids[i])
				b = &q->brokers[k];
		cluster_cmd_print_broker(out, ids[i], b);
	}
}

/* One line per partition whose ISR is smaller than its replica set
 * (UnderReplicated:) or that has no leader (Offline:), after a count. */
static void cluster_cmd_print_partitions(FILE *out, const struct kp_metadata_response *md)
{
	int32_t total = 0, under = 0, offline = 0;
	for (int32_t t = 0; t < md->topics_count; t++)
		for (int32_t i = 0; i < md->topics[t].partitions_count; i++) {
			const struct kp_metadata_response_partition *p =
				&md->topics[t].partitions[i];
			total++;
			offline += p->leader_id < 0;
			under += p->leader_id >= 0 && p->isr_nodes_count < p->replica_nodes_count;
		}
	fprintf(out, "Partitions: %" PRId32 "; under-replicated %" PRId32 "; offline %" PRId32 "\n",
		total, under, offline);
	for (int32_t t = 0; t < md->topics_count; t++) {
		const struct kp_metadata_response_topic *mt = &md->topics[t];
		for (int32_t i = 0; i < mt->partitions_count; i++) {
			const struct kp_metadata_response_partition *p = &mt->partitions[i];
			bool off = p->leader_id < 0;
			if (!off && p->isr_nodes_count >= p->replica_nodes_count)
				continue;
			char replicas[CLUSTER_CMD_IDS_BUF], isr[CLUSTER_CMD_IDS_BUF];
			cview_format_ids(replicas, sizeof(replicas), p->replica_nodes,
					 p->replica_nodes_count);
			cview_format_ids(isr, sizeof(isr), p->isr_nodes, p->isr_nodes_count);
			fputs(off ? "Offline: " : "UnderReplicated: ", out);
			cluster_cmd_print_text(out, mt->name);
			fprintf(out, "\tPartition: %" PRId32 "\tLeader: ", p->partition_index);
			cluster_cmd_print_num(out, p->leader_id >= 0 ? p->leader_id : -1);
			fprintf(out, "\tReplicas: %s\tIsr: %s\n", replicas, isr[0] ? isr : "-");
		}
	}
}

static void cluster_cmd_print(FILE *out, const struct cluster_cmd_view *v,
			      const struct cluster_cmd_verdict *d)
{
	const struct kp_metadata_response *md = &v->cc_cv.cv_md;
	if (md->cluster_id.len > 0) {
		fputs("Cluster: ", out);
		cluster_cmd_print_text(out, md->cluster_id);
		fputc('\n', out);
	}
	if (!d->cd_ref) {
		fputs("Active controller: none\n", out);
		return;
	}
	if (d->cd_ctl)
		fprintf(out, "Active controller: %" PRId32 " (term %" PRId64 ")\n",
			d->cd_ctl->broker_id, d->cd_ctl->term);
	else
		fprintf(out, "Active controller: none (term %" PRId64 ")\n", d->cd_best->term);

	const struct kp_replog_describe_quorum_response *q = d->cd_ref;
	char voters[CLUSTER_CMD_IDS_BUF], standbys[CLUSTER_CMD_IDS_BUF],
		spares[CLUSTER_CMD_IDS_BUF];
	cluster_cmd_role_ids(q, CLUSTER_CMD_ROLE_VOTER, voters, sizeof(voters));
	cluster_cmd_role_ids(q, CLUSTER_CMD_ROLE_STANDBY, standbys, sizeof(standbys));
	fprintf(out, "Quorum: voters %s; standbys %s", voters, standbys);
	if (cluster_cmd_role_ids(q, CLUSTER_CMD_ROLE_SPARE, spares, sizeof(spares)) > 0)
		fprintf(out, "; spares %s", spares);
	fprintf(out, "; committed index %" PRId64 "\n", q->commit_index);

	int32_t nm = q->members_count > CVIEW_MAX_BROKERS ? CVIEW_MAX_BROKERS : q->members_count;
	const struct kp_replog_quorum_member *ms[CVIEW_MAX_BROKERS];
	for (int32_t i = 0; i < nm; i++)
		ms[i] = &q->members[i];
	qsort(ms, (size_t)nm, sizeof(*ms), cluster_cmd_cmp_member);
	for (int32_t i = 0; i < nm; i++)
		cluster_cmd_print_member(out, v, d, ms[i]);
	cluster_cmd_print_brokers(out, q);
	cluster_cmd_print_partitions(out, md);
}

static int cluster_cmd_show(const struct cview_args *o)
{
	struct cluster_cmd_view v = {0};
	cview_init(&v.cc_cv, CLUSTER_CMD_PREFIX, o->ca_timeout_ms);
	v.cc_nodes = calloc(CVIEW_MAX_BROKERS, sizeof(*v.cc_nodes));
	if (!v.cc_nodes) {
		fprintf(stderr, CLUSTER_CMD_PREFIX "out of memory\n");
		cview_deinit(&v.cc_cv);
		return CLUSTER_CMD_EXIT_NO_CONTROLLER;
	}
	if (cview_metadata(&v.cc_cv, o->ca_bootstrap, NULL, 0) < 0) {
		fprintf(stderr,
			CLUSTER_CMD_PREFIX "no active controller known: no bootstrap server "
					   "answered (tried %s)\n",
			o->ca_bootstrap);
		fputs("Active controller: none\n", stdout);
		cluster_cmd_view_deinit(&v);
		return CLUSTER_CMD_EXIT_NO_CONTROLLER;
	}
	cluster_cmd_ask(&v);
	struct cluster_cmd_verdict d;
	cluster_cmd_judge(&v, &d);
	cluster_cmd_print(stdout, &v, &d);
	int exit_code =
		cluster_cmd_agreed(&v, &d) ? CLUSTER_CMD_EXIT_OK : CLUSTER_CMD_EXIT_NO_CONTROLLER;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, CLUSTER_CMD_PREFIX "cannot write the output\n");
		exit_code = CLUSTER_CMD_EXIT_NO_CONTROLLER;
	}
	cluster_cmd_view_deinit(&v);
	return exit_code;
}

int cluster_main(int argc, char **argv)
{
	struct cview_cli cli = {.cc_prefix = CLUSTER_CMD_PREFIX,
				.cc_name = "replog cluster",
				.cc_help = cluster_help,
				.cc_options = cluster_cmd_long_options};
	struct cview_args o;
	int rc = cview_parse_args(argc, argv, &cli, &o);
	if (rc >= 0)
		return rc;
	if (o.ca_ntopics > 0) {
		fputs(CLUSTER_CMD_PREFIX "option '--topic' does not apply: the quorum is the "
					 "whole cluster's\n"
					 "Try 'replog cluster --help' for more information.\n",
		      stderr);
		return CLUSTER_CMD_EXIT_USAGE;
	}
	return cluster_cmd_show(&o);
}
