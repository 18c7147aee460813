/*
 * groups_cmd — `replog groups list|describe|reset-offsets|delete` (API in
 * groups_cmd.h).
 *
 * Where a group lives: its coordinator is the leader of partition
 * abs(javaHash(group)) % 16 of __consumer_offsets (broker/coordinator.c);
 * FindCoordinator, asked of any broker, names it. Only the coordinator
 * knows the group's members and committed offsets, so:
 *
 *   list      ListGroups (v0) to every live broker from the Metadata, then
 *             DescribeGroups (v2) to each broker for the groups it listed:
 *             the union, one line per group, sorted by name.
 *   describe  FindCoordinator (v2) via the bootstrap server that answered
 *             the Metadata; DescribeGroups (v2) and OffsetFetch (v5, topics
 *             null = every partition the group committed) at the
 *             coordinator; then each partition's leader is asked
 *             ListOffsets (v1, latest = the high watermark) and
 *             ReplogDescribeReplicas (its log end offset), one connection
 *             per leader for all its partitions. The rows are the union of
 *             the committed partitions and the partitions assigned to a
 *             member (decoded from its ConsumerProtocol assignment bytes).
 *   reset-offsets
 *             ListOffsets earliest and latest at each leader, the plan
 *             printed; with --execute, OffsetCommit (v5) at the coordinator
 *             with generation -1 and an empty member id: the broker takes
 *             it only while the group has no members (group.c,
 *             grp_commit_allowed), which is checked first with
 *             DescribeGroups so the refusal can name the state.
 *   delete    DeleteGroups (api key 42) at the coordinator, which refuses a
 *             group with members (NON_EMPTY_GROUP).
 *
 * Retries: COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR and
 * COORDINATOR_LOAD_IN_PROGRESS (the offsets topic being created, or its
 * leader moving) send the tool back to FindCoordinator every
 * GROUPS_BACKOFF_MS until --timeout-ms has passed since the start. A broker
 * that does not answer is not retried: it is named with the cause.
 *
 * Memory: every answer stays in the kclient that received it until the
 * command ends (one kclient per request kept), so rows hold views into
 * them and nothing is copied; ListOffsets and ReplogDescribeReplicas
 * numbers are copied into the rows as they arrive.
 */
#include "groups_cmd.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_view.h"
#include "kp_api.h"
#include "rlassert.h"

#define GROUPS_LIST_PREFIX     "replog groups list: "
#define GROUPS_DESCRIBE_PREFIX "replog groups describe: "
#define GROUPS_RESET_PREFIX    "replog groups reset-offsets: "
#define GROUPS_DELETE_PREFIX   "replog groups delete: "

#define GROUPS_FINDCOORD_VERSION   2
#define GROUPS_DESCRIBE_VERSION	   2
#define GROUPS_OFFSETFETCH_VERSION 5 /* v2+: topics null = all; v5: classic */
#define GROUPS_COMMIT_VERSION	   5 /* no retention, no instance id */
#define GROUPS_DELETE_VERSION	   1
#define GROUPS_LISTOFFSETS_VERSION 1
#define GROUPS_BACKOFF_MS	   100
#define GROUPS_MAX_ATTEMPTS	   1000 /* bounds a clock that does not move */
/* Rows of a describe or reset: partitions of a group. Far above what one
 * coordinator answer holds (co_fetch_visit: 256 topics x 64). */
#define GROUPS_MAX_ROWS 65536
#define GROUPS_NO_VALUE (-1)

const char groups_help[] =
	"NAME\n"
	"    replog groups - list, describe, reset the offsets of, and delete the\n"
	"    consumer groups of a running cluster\n"
	"\n"
	"SYNOPSIS\n"
	"    replog groups list [--bootstrap-server HOST:PORT[,HOST:PORT...]]\n"
	"                       [--timeout-ms N]\n"
	"    replog groups describe --group GROUP [--topic TOPIC]... [--state]\n"
	"                           [--bootstrap-server HOST:PORT[,...]] [--timeout-ms N]\n"
	"    replog groups reset-offsets --group GROUP --topic TOPIC [--partition N]\n"
	"                           (--to-earliest | --to-latest | --to-offset N)\n"
	"                           [--dry-run | --execute]\n"
	"                           [--bootstrap-server HOST:PORT[,...]] [--timeout-ms N]\n"
	"    replog groups delete --group GROUP\n"
	"    replog groups --help\n"
	"\n"
	"    Each action may also be spelled as kafka-consumer-groups.sh does\n"
	"    (--list, --describe, --reset-offsets, --delete).\n"
	"\n"
	"DESCRIPTION\n"
	"    A group's coordinator is the leader of one partition of\n"
	"    __consumer_offsets (abs(javaHash(group)) % 16); only it knows the\n"
	"    group's members and committed offsets. Every action that needs it\n"
	"    asks FindCoordinator of the bootstrap server that answered the\n"
	"    Metadata; while the answer is COORDINATOR_NOT_AVAILABLE,\n"
	"    NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS (offsets topic being\n"
	"    created, leader moving) it asks again every 100 ms until --timeout-ms\n"
	"    has passed since the start.\n"
	"\n"
	"    list\n"
	"        Like kafka-consumer-groups.sh --list --state: ListGroups to every\n"
	"        live broker (each knows only the groups it coordinates), then\n"
	"        DescribeGroups to each for the state of its groups.\n"
	"\n"
	"    describe\n"
	"        Like kafka-consumer-groups.sh --describe: per partition the group\n"
	"        committed or has assigned, the committed offset, the leader's log\n"
	"        end offset and high watermark, the lag, and the member that owns\n"
	"        it (decoded from each member's ConsumerProtocol assignment).\n"
	"        DescribeGroups and OffsetFetch (all partitions committed) go to the\n"
	"        coordinator; ListOffsets (latest) and ReplogDescribeReplicas go to\n"
	"        each partition's leader, one connection per leader. Read-only.\n"
	"\n"
	"    reset-offsets\n"
	"        Like kafka-consumer-groups.sh --reset-offsets: the new offset of\n"
	"        each partition of --topic (or only --partition N), from\n"
	"        ListOffsets at its leader. Without --execute (or with --dry-run)\n"
	"        the plan is printed and nothing changes. With --execute the\n"
	"        offsets are committed (OffsetCommit, generation -1, no member id),\n"
	"        which the coordinator allows only while the group has no members:\n"
	"        a group with members is refused before anything is committed\n"
	"        (exit status 1); stop its consumers first. --to-offset N outside\n"
	"        [earliest, high watermark] is moved to the nearer end, with a\n"
	"        warning on stderr.\n"
	"\n"
	"    delete\n"
	"        DeleteGroups at the coordinator: a group without members is\n"
	"        forgotten and its committed offsets get tombstones in\n"
	"        __consumer_offsets (written like a commit, acks=all). A group with\n"
	"        members is refused (NON_EMPTY_GROUP), an unknown one reported\n"
	"        (GROUP_ID_NOT_FOUND); both exit 1.\n"
	"\n"
	"OPTIONS\n"
	"    -b, --bootstrap-server HOST:PORT[,HOST:PORT...]\n"
	"        Brokers to ask for the Metadata, tried in order until one answers\n"
	"        (default 127.0.0.1:9092). IPv6 addresses as [ADDR]:PORT.\n"
	"    --group GROUP\n"
	"        describe, reset-offsets, delete: the group (required).\n"
	"    -t, --topic TOPIC\n"
	"        describe: only the partitions of this topic (may be given several\n"
	"        times). reset-offsets: the topic whose offsets are reset (exactly\n"
	"        once).\n"
	"    --partition N\n"
	"        reset-offsets: only this partition of --topic.\n"
	"    --to-earliest, --to-latest, --to-offset N\n"
	"        reset-offsets: the new offset: the log start offset, the high\n"
	"        watermark (what a consumer can read up to), or N. Exactly one.\n"
	"    --dry-run\n"
	"        reset-offsets: print the plan only (the default).\n"
	"    --execute\n"
	"        reset-offsets: commit the new offsets.\n"
	"    --state\n"
	"        describe: print the group's coordinator, assignment strategy,\n"
	"        state and member count instead of the offsets, as\n"
	"        kafka-consumer-groups.sh --describe --state does.\n"
	"    --timeout-ms N\n"
	"        Time allowed for each broker, connecting included, and for finding\n"
	"        the coordinator (default 5000, at most 600000).\n"
	"    -h, --help\n"
	"        Print this manual.\n"
	"\n"
	"OUTPUT\n"
	"    Tables on stdout, columns aligned and separated by at least two\n"
	"    spaces, '-' for what is unknown.\n"
	"\n"
	"    list: one line per group after a header, sorted by name:\n"
	"      GROUP    STATE   PROTOCOL-TYPE\n"
	"      orders   Stable  consumer\n"
	"    STATE is the coordinator's (Empty, PreparingRebalance,\n"
	"    CompletingRebalance, Stable, Dead), '-' if its DescribeGroups failed.\n"
	"\n"
	"    describe: kafka-consumer-groups' columns in its order, then\n"
	"    HIGH-WATERMARK (so scripts that cut by position still work):\n"
	"      GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID\n"
	"      HOST CLIENT-ID HIGH-WATERMARK\n"
	"    one line per partition, sorted by topic and partition. CURRENT-OFFSET\n"
	"    is the committed offset ('-' if none); LOG-END-OFFSET the leader's log\n"
	"    end offset; HIGH-WATERMARK the offset up to which consumers can read;\n"
	"    LAG is HIGH-WATERMARK minus CURRENT-OFFSET ('-' when either is\n"
	"    unknown). CONSUMER-ID, HOST and CLIENT-ID name the member the\n"
	"    partition is assigned to ('-' if none). When the group has no\n"
	"    members the table is preceded by\n"
	"      Consumer group 'GROUP' has no active members.\n"
	"    and while it rebalances by\n"
	"      Warning: Consumer group 'GROUP' is rebalancing.\n"
	"    With --state, one line after a header:\n"
	"      GROUP COORDINATOR (ID) ASSIGNMENT-STRATEGY STATE #MEMBERS\n"
	"\n"
	"    reset-offsets: GROUP TOPIC PARTITION NEW-OFFSET, one line per\n"
	"    partition; without --execute a note on stderr says nothing was\n"
	"    committed.\n"
	"\n"
	"    Errors on stderr, one line each, naming the broker and the cause, e.g.\n"
	"      replog groups describe: consumer group 'nope' does not exist\n"
	"        (coordinator: broker 2 at 127.0.0.1:9093)\n"
	"      replog groups list: broker 3 did not answer: connection refused by\n"
	"        127.0.0.1:9094 (is the broker running?)\n"
	"      replog groups reset-offsets: consumer group 'g' has 2 active\n"
	"        members (state Stable): offsets can be reset only while the group\n"
	"        is inactive; stop its consumers first\n"
	"\n"
	"EXIT STATUS\n"
	"    0  done (list, describe: brokers that did not answer are on stderr\n"
	"       and their values are '-')\n"
	"    1  failure: no bootstrap server or coordinator answered, the group\n"
	"       does not exist (describe), the topic or partition does not exist\n"
	"       or the group has members (reset-offsets), a commit was refused,\n"
	"       no broker answered ListGroups (list), or delete\n"
	"    2  usage error: unknown action or option, bad value, missing --group\n"
	"\n"
	"EXAMPLES\n"
	"    Every group of a local cluster:\n"
	"      replog groups list -b 127.0.0.1:9092\n"
	"    Lag per partition, and who consumes it:\n"
	"      replog groups describe --group orders-app\n"
	"    Replay a topic from the start (consumers stopped):\n"
	"      replog groups reset-offsets --group orders-app --topic orders \\\n"
	"          --to-earliest            # prints the plan\n"
	"      replog groups reset-offsets --group orders-app --topic orders \\\n"
	"          --to-earliest --execute  # commits it\n";

/* ---- options ------------------------------------------------------------- */

enum groups_reset_mode {
	GROUPS_TO_NONE,
	GROUPS_TO_EARLIEST,
	GROUPS_TO_LATEST,
	GROUPS_TO_OFFSET,
};

struct groups_opts {
	struct cview_args go_args;
	const char *go_group; /* --group, borrowed from argv */
	int32_t go_partition; /* --partition, -1 = every partition */
	enum groups_reset_mode go_mode;
	int go_nmodes; /* how many --to-* were given */
	int64_t go_to_offset;
	bool go_execute;
	bool go_dry_run;
	bool go_state;
	char go_bad[160]; /* the first bad value of an option of our own */
};

enum {
	GROUPS_OPT_GROUP = CVIEW_OPT_EXTRA,
	GROUPS_OPT_PARTITION,
	GROUPS_OPT_TO_EARLIEST,
	GROUPS_OPT_TO_LATEST,
	GROUPS_OPT_TO_OFFSET,
	GROUPS_OPT_EXECUTE,
	GROUPS_OPT_DRY_RUN,
	GROUPS_OPT_STATE,
};

static const struct option groups_list_options[] = {
	CVIEW_LONG_OPTIONS,
	{NULL, 0, NULL, 0},
};

static const struct option groups_describe_options[] = {
	CVIEW_LONG_OPTIONS,
	{"group", required_argument, NULL, GROUPS_OPT_GROUP},
	{"state", no_argument, NULL, GROUPS_OPT_STATE},
	{NULL, 0, NULL, 0},
};

static const struct option groups_reset_options[] = {
	CVIEW_LONG_OPTIONS,
	{"group", required_argument, NULL, GROUPS_OPT_GROUP},
	{"partition", required_argument, NULL, GROUPS_OPT_PARTITION},
	{"to-earliest", no_argument, NULL, GROUPS_OPT_TO_EARLIEST},
	{"to-latest", no_argument, NULL, GROUPS_OPT_TO_LATEST},
	{"to-offset", required_argument, NULL, GROUPS_OPT_TO_OFFSET},
	{"execute", no_argument, NULL, GROUPS_OPT_EXECUTE},
	{"dry-run", no_argument, NULL, GROUPS_OPT_DRY_RUN},
	{NULL, 0, NULL, 0},
};

static const struct option groups_delete_options[] = {
	CVIEW_LONG_OPTIONS,
	{"group", required_argument, NULL, GROUPS_OPT_GROUP},
	{NULL, 0, NULL, 0},
};

static bool groups_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (end == s || *end || errno || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static void groups_extra_option(int opt, void *ctx)
{
	struct groups_opts *o = ctx;
	int64_t v;
	if (o->go_bad[0])
		return; /* the first error is the one reported */
	switch (opt) {
	case GROUPS_OPT_GROUP:
		if (optarg[0] == '\0')
			snprintf(o->go_bad, sizeof(o->go_bad), "--group: empty group name");
		else if (strlen(optarg) > KP_STRING_MAX)
			snprintf(o->go_bad, sizeof(o->go_bad), "--group: longer than %d bytes",
				 KP_STRING_MAX);
		else
			o->go_group = optarg;
		break;
	case GROUPS_OPT_PARTITION:
		if (!groups_parse_i64(optarg, 0, INT32_MAX, &v))
			snprintf(o->go_bad, sizeof(o->go_bad),
				 "--partition '%.64s': expected a partition from 0 to %d", optarg,
				 INT32_MAX);
		else
			o->go_partition = (int32_t)v;
		break;
	case GROUPS_OPT_TO_EARLIEST:
		o->go_mode = GROUPS_TO_EARLIEST;
		o->go_nmodes++;
		break;
	case GROUPS_OPT_TO_LATEST:
		o->go_mode = GROUPS_TO_LATEST;
		o->go_nmodes++;
		break;
	case GROUPS_OPT_TO_OFFSET:
		if (!groups_parse_i64(optarg, 0, INT64_MAX, &v))
			snprintf(o->go_bad, sizeof(o->go_bad),
				 "--to-offset '%.64s': expected an offset, 0 or more", optarg);
		else
			o->go_to_offset = v;
		o->go_mode = GROUPS_TO_OFFSET;
		o->go_nmodes++;
		break;
	case GROUPS_OPT_EXECUTE:
		o->go_execute = true;
		break;
	case GROUPS_OPT_DRY_RUN:
		o->go_dry_run = true;
		break;
	case GROUPS_OPT_STATE:
		o->go_state = true;
		break;
	default:
		break;
	}
}

/* ---- the ConsumerProtocol assignment ------------------------------------- */

/* Big-endian reads within [p, end); false when past the end. */
static bool groups_get_i16(const uint8_t **p, const uint8_t *end, int16_t *v)
{
	if (end - *p < 2)
		return false;
	*v = (int16_t)(((uint16_t)(*p)[0] << 8) | (*p)[1]);
	*p += 2;
	return true;
}

static bool groups_get_i32(const uint8_t **p, const uint8_t *end, int32_t *v)
{
	if (end - *p < 4)
		return false;
	*v = (int32_t)(((uint32_t)(*p)[0] << 24) | ((uint32_t)(*p)[1] << 16) |
		       ((uint32_t)(*p)[2] << 8) | (*p)[3]);
	*p += 4;
	return true;
}

int groups_assignment_decode(const uint8_t *buf, int32_t len,
			     int (*visit)(void *ctx, struct kp_str topic, int32_t partition),
			     void *ctx)
{
	if (len <= 0 || !buf)
		return 0;
	const uint8_t *p = buf, *end = buf + len;
	int16_t version, name_len;
	int32_t ntopics;
	if (!groups_get_i16(&p, end, &version) || version < 0 || !groups_get_i32(&p, end, &ntopics))
		return -EBADMSG;
	/* Each topic takes at least 6 bytes: a bound before looping. */
	if (ntopics > (int32_t)((end - p) / 6))
		return -EBADMSG;
	for (int32_t t = 0; t < ntopics; t++) {
		if (!groups_get_i16(&p, end, &name_len) || name_len < 0 || end - p < name_len)
			return -EBADMSG;
		struct kp_str topic = {.ptr = (const char *)p, .len = name_len};
		p += name_len;
		int32_t nparts;
		if (!groups_get_i32(&p, end, &nparts) || nparts > (int32_t)((end - p) / 4))
			return -EBADMSG;
		for (int32_t i = 0; i < nparts; i++) {
			int32_t partition;
			if (!groups_get_i32(&p, end, &partition))
				return -EBADMSG;
			int rc = visit(ctx, topic, partition);
			if (rc != 0)
				return rc;
		}
	}
	/* user_data (int32 length, -1 = null) follows; older clients may omit
	 * it, and nothing in it names a partition, so it is not read. */
	return 0;
}

/* ---- rows: one partition of a group -------------------------------------- */

struct groups_row {
	struct kp_str gr_topic; /* view into an answer kept until the end */
	int32_t gr_partition;
	int64_t gr_committed; /* -1 = nothing committed */
	int64_t gr_earliest;  /* -1 = unknown */
	int64_t gr_hw;	      /* -1 = unknown */
	int64_t gr_leo;	      /* -1 = unknown */
	int32_t gr_owner;     /* index of the member in the DescribeGroups answer, -1 */
	int32_t gr_leader;    /* broker id, -1 = none */
};

struct groups_rows {
	struct groups_row *rs_rows; /* owned */
	int32_t rs_count;
	int32_t rs_cap;
	bool rs_full; /* GROUPS_MAX_ROWS reached: reported once */
};

static int groups_kp_cmp(struct kp_str a, struct kp_str b)
{
	int32_t n = a.len < b.len ? a.len : b.len;
	int c = n > 0 ? memcmp(a.ptr, b.ptr, (size_t)n) : 0;
	return c ? c : (a.len > b.len) - (a.len < b.len);
}

static int groups_row_cmp(const void *a, const void *b)
{
	const struct groups_row *x = a, *y = b;
	int c = groups_kp_cmp(x->gr_topic, y->gr_topic);
	return c ? c : (x->gr_partition > y->gr_partition) - (x->gr_partition < y->gr_partition);
}

static struct groups_row *groups_row_find(struct groups_rows *rs, struct kp_str topic,
					  int32_t partition)
{
	for (int32_t i = 0; i < rs->rs_count; i++)
		if (rs->rs_rows[i].gr_partition == partition &&
		    kp_str_eq(rs->rs_rows[i].gr_topic, topic))
			return &rs->rs_rows[i];
	return NULL;
}

/* The row of topic-partition, added if new. NULL when out of memory or
 * GROUPS_MAX_ROWS is reached. */
static struct groups_row *groups_row_get(struct groups_rows *rs, struct kp_str topic,
					 int32_t partition)
{
	struct groups_row *r = groups_row_find(rs, topic, partition);
	if (r)
		return r;
	if (rs->rs_count == rs->rs_cap) {
		if (rs->rs_cap >= GROUPS_MAX_ROWS) {
			rs->rs_full = true;
			return NULL;
		}
		int32_t cap = rs->rs_cap ? rs->rs_cap * 2 : 64;
		struct groups_row *n = realloc(rs->rs_rows, (size_t)cap * sizeof(*n));
		if (!n) {
			rs->rs_full = true;
			return NULL;
		}
		rs->rs_rows = n;
		rs->rs_cap = cap;
	}
	r = &rs->rs_rows[rs->rs_count++];
	*r = (struct groups_row){.gr_topic = topic,
				 .gr_partition = partition,
				 .gr_committed = GROUPS_NO_VALUE,
				 .gr_earliest = GROUPS_NO_VALUE,
				 .gr_hw = GROUPS_NO_VALUE,
				 .gr_leo = GROUPS_NO_VALUE,
				 .gr_owner = -1,
				 .gr_leader = -1};
	return r;
}

/* ---- an aligned table ---------------------------------------------------- */

#define GROUPS_MAX_COLS 10
#define GROUPS_CELL_MAX 512

struct groups_table {
	int gt_ncols;
	const char *gt_head[GROUPS_MAX_COLS];
	char **gt_cells; /* owned: nrows x ncols strings, each owned */
	int32_t gt_nrows;
	int32_t gt_cap;
	bool gt_oom;
};

/* Add one row of gt_ncols cells (copied; NULL or "" is printed as '-'). */
static void groups_table_add(struct groups_table *t, const char *const *cells)
{
	if (t->gt_oom)
		return;
	if (t->gt_nrows == t->gt_cap) {
		int32_t cap = t->gt_cap ? t->gt_cap * 2 : 16;
		char **n = realloc(t->gt_cells, (size_t)cap * (size_t)t->gt_ncols * sizeof(*n));
		if (!n) {
			t->gt_oom = true;
			return;
		}
		t->gt_cells = n;
		t->gt_cap = cap;
	}
	char **row = &t->gt_cells[(size_t)t->gt_nrows * (size_t)t->gt_ncols];
	for (int c = 0; c < t->gt_ncols; c++) {
		row[c] = strdup(cells[c] && cells[c][0] ? cells[c] : "-");
		if (!row[c]) {
			for (int k = 0; k < c; k++)
				free(row[k]);
			t->gt_oom = true;
			return;
		}
	}
	t->gt_nrows++;
}

/* Print the header and the rows, each column as wide as its widest cell,
 * two spaces between columns, the last one not padded. */
static void groups_table_print(FILE *out, const struct groups_table *t)
{
	size_t w[GROUPS_MAX_COLS];
	for (int c = 0; c < t->gt_ncols; c++) {
		w[c] = strlen(t->gt_head[c]);
		for (int32_t r = 0; r < t->gt_nrows; r++) {
			size_t n = strlen(t->gt_cells[(size_t)r * (size_t)t->gt_ncols + (size_t)c]);
			w[c] = n > w[c] ? n : w[c];
		}
	}
	for (int32_t r = -1; r < t->gt_nrows; r++) {
		for (int c = 0; c < t->gt_ncols; c++) {
			const char *s =
				r < 0 ? t->gt_head[c]
				      : t->gt_cells[(size_t)r * (size_t)t->gt_ncols + (size_t)c];
			if (c == t->gt_ncols - 1)
				fprintf(out, "%s\n", s);
			else
				fprintf(out, "%-*s  ", (int)w[c], s);
		}
	}
}

static void groups_table_deinit(struct groups_table *t)
{
	for (size_t i = 0; i < (size_t)t->gt_nrows * (size_t)t->gt_ncols; i++)
		free(t->gt_cells[i]);
	free(t->gt_cells);
	t->gt_cells = NULL;
	t->gt_nrows = t->gt_cap = 0;
}

static void groups_i64(char *buf, size_t cap, int64_t v)
{
	if (v < 0)
		snprintf(buf, cap, "-");
	else
		snprintf(buf, cap, "%" PRId64, v);
}

static void groups_kstr(char *buf, size_t cap, struct kp_str s)
{
	snprintf(buf, cap, "%.*s", s.len > 0 ? (int)s.len : 0, s.len > 0 ? s.ptr : "");
}

static int groups_flush(const char *prefix)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%scannot write the output\n", prefix);
		return GROUPS_EXIT_FAILED;
	}
	return GROUPS_EXIT_OK;
}

/* Print the table and free it; the exit code (out of memory while it was
 * built, or stdout not writable: failed). */
static int groups_table_emit(struct groups_table *t, const char *prefix)
{
	if (t->gt_oom) {
		fprintf(stderr, "%sout of memory\n", prefix);
		groups_table_deinit(t);
		return GROUPS_EXIT_FAILED;
	}
	groups_table_print(stdout, t);
	groups_table_deinit(t);
	return groups_flush(prefix);
}

/* ---- the coordinator ----------------------------------------------------- */

/* What the coordinator said of the group. Each answer stays in its own
 * connection until groups_coord_deinit(). */
struct groups_coord {
	int32_t gc_id;
	char gc_addr[KCLIENT_ADDR_MAX];
	struct kclient gc_find;	 /* FindCoordinator, at the bootstrap server */
	struct kclient gc_desc;	 /* DescribeGroups */
	struct kclient gc_fetch; /* OffsetFetch */
	const struct kp_describegroups_group *gc_group;	  /* in gc_desc's memory */
	const struct kp_offsetfetch_response *gc_offsets; /* in gc_fetch's memory, or NULL */
	union kp_response_body gc_desc_resp;
	union kp_response_body gc_fetch_resp;
};

static void groups_coord_init(struct groups_coord *gc)
{
	memset(gc, 0, sizeof(*gc));
	gc->gc_id = -1;
	gc->gc_find.kc_fd = gc->gc_desc.kc_fd = gc->gc_fetch.kc_fd = -1;
}

static void groups_coord_deinit(struct groups_coord *gc)
{
	kclient_deinit(&gc->gc_find);
	kclient_deinit(&gc->gc_desc);
	kclient_deinit(&gc->gc_fetch);
}

static bool groups_retriable(int16_t err)
{
	return err == KP_ERR_COORDINATOR_NOT_AVAILABLE || err == KP_ERR_NOT_COORDINATOR ||
	       err == KP_ERR_COORDINATOR_LOAD_IN_PROGRESS;
}

/* One call on a fresh connection *kc to addr. Returns 0 or the kclient code
 * (the sentence in kclient_errmsg(kc)). */
static int groups_call(struct kclient *kc, const char *addr, int timeout_ms, int16_t api,
		       int16_t version, const union kp_request_body *req,
		       union kp_response_body *resp)
{
	kclient_deinit(kc);
	*kc = (struct kclient){.kc_fd = -1};
	int rc = kclient_init(kc, addr, timeout_ms);
	if (rc == 0)
		rc = kclient_connect(kc);
	if (rc == 0)
		rc = kclient_call(kc, api, version, req, resp);
	kclient_close(kc);
	return rc;
}

/*
 * Find the coordinator of o->go_group (FindCoordinator via cv's bootstrap
 * server) and ask it DescribeGroups, and OffsetFetch (every partition
 * committed) when `offsets`; retried on the retriable coordinator errors
 * until --timeout-ms from the start. Outcomes: 0 with gc filled; -1 with
 * the cause on stderr (a broker that does not answer, another error, or
 * the time ran out).
 */
static int groups_coord_load(const struct groups_opts *o, const char *prefix,
			     const struct cview *cv, bool offsets, struct groups_coord *gc)
{
	RL_ASSERT(o->go_group && cv->cv_have_md);
	int timeout_ms = o->go_args.ca_timeout_ms;
	int64_t deadline_ms = cview_now_ms() + timeout_ms;
	char why[KCLIENT_ERRMSG_MAX + 2 * KCLIENT_ADDR_MAX + 256] = "";
	struct kp_str group = kp_str_from_cstr(o->go_group);
	for (int attempt = 0; attempt < GROUPS_MAX_ATTEMPTS; attempt++) {
		if (attempt > 0) {
			if (cview_now_ms() + GROUPS_BACKOFF_MS >= deadline_ms)
				break;
			cview_sleep_ms(GROUPS_BACKOFF_MS);
		}
		union kp_request_body req = {
			.find_coordinator = {.key = group, .key_type = KP_COORDINATOR_GROUP}};
		union kp_response_body resp;
		int rc =
			groups_call(&gc->gc_find, cv->cv_boot_addr, timeout_ms,
				    KP_API_FIND_COORDINATOR, GROUPS_FINDCOORD_VERSION, &req, &resp);
		if (rc < 0) {
			fprintf(stderr, "%sbroker at %s did not answer FindCoordinator: %s\n",
				prefix, cv->cv_boot_addr, kclient_errmsg(&gc->gc_find));
			return -1;
		}
		const struct kp_findcoordinator_response *fc = &resp.find_coordinator;
		if (fc->error_code != KP_ERR_NONE) {
			snprintf(why, sizeof(why), "FindCoordinator at %s: %s (%d)%s%.*s",
				 cv->cv_boot_addr, kp_error_name(fc->error_code), fc->error_code,
				 fc->error_message.len > 0 ? ": " : "",
				 fc->error_message.len > 0 ? (int)fc->error_message.len : 0,
				 fc->error_message.len > 0 ? fc->error_message.ptr : "");
			if (groups_retriable(fc->error_code))
				continue;
			fprintf(stderr, "%sconsumer group '%s': %s\n", prefix, o->go_group, why);
			return -1;
		}
		gc->gc_id = fc->node_id;
		bool v6 = fc->host.len > 0 && memchr(fc->host.ptr, ':', (size_t)fc->host.len);
		snprintf(gc->gc_addr, sizeof(gc->gc_addr), v6 ? "[%.*s]:%d" : "%.*s:%d",
			 fc->host.len > 0 ? (int)fc->host.len : 0,
			 fc->host.len > 0 ? fc->host.ptr : "", fc->port);

		union kp_request_body dreq = {
			.describe_groups = {.groups = &group, .groups_count = 1}};
		rc = groups_call(&gc->gc_desc, gc->gc_addr, timeout_ms, KP_API_DESCRIBE_GROUPS,
				 GROUPS_DESCRIBE_VERSION, &dreq, &gc->gc_desc_resp);
		if (rc < 0) {
			fprintf(stderr, "%scoordinator broker %" PRId32 " did not answer: %s\n",
				prefix, gc->gc_id, kclient_errmsg(&gc->gc_desc));
			return -1;
		}
		const struct kp_describegroups_response *dg = &gc->gc_desc_resp.describe_groups;
		if (dg->groups_count < 1) {
			fprintf(stderr,
				"%scoordinator broker %" PRId32
				" at %s answered DescribeGroups without the group\n",
				prefix, gc->gc_id, gc->gc_addr);
			return -1;
		}
		gc->gc_group = &dg->groups[0];
		int16_t err = gc->gc_group->error_code;
		if (err != KP_ERR_NONE) {
			snprintf(why, sizeof(why),
				 "DescribeGroups at coordinator broker %" PRId32 " (%s): %s (%d)",
				 gc->gc_id, gc->gc_addr, kp_error_name(err), err);
			if (groups_retriable(err))
				continue;
			fprintf(stderr, "%sconsumer group '%s': %s\n", prefix, o->go_group, why);
			return -1;
		}
		if (!offsets)
			return 0;
		union kp_request_body freq = {
			.offset_fetch = {.group_id = group, .topics = NULL, .topics_count = -1}};
		rc = groups_call(&gc->gc_fetch, gc->gc_addr, timeout_ms, KP_API_OFFSET_FETCH,
				 GROUPS_OFFSETFETCH_VERSION, &freq, &gc->gc_fetch_resp);
		if (rc < 0) {
			fprintf(stderr, "%scoordinator broker %" PRId32 " did not answer: %s\n",
				prefix, gc->gc_id, kclient_errmsg(&gc->gc_fetch));
			return -1;
		}
		err = gc->gc_fetch_resp.offset_fetch.error_code;
		if (err != KP_ERR_NONE) {
			snprintf(why, sizeof(why),
				 "OffsetFetch at coordinator broker %" PRId32 " (%s): %s (%d)",
				 gc->gc_id, gc->gc_addr, kp_error_name(err), err);
			if (groups_retriable(err))
				continue;
			fprintf(stderr, "%sconsumer group '%s': %s\n", prefix, o->go_group, why);
			return -1;
		}
		gc->gc_offsets = &gc->gc_fetch_resp.offset_fetch;
		return 0;
	}
	fprintf(stderr, "%sno coordinator for consumer group '%s' within %d ms: %s\n", prefix,
		o->go_group, timeout_ms, why[0] ? why : "gave up");
	return -1;
}

/* ---- offsets at the partition leaders ------------------------------------ */

/* Which offsets groups_ask_leaders() asks for. */
#define GROUPS_ASK_EARLIEST 1u
#define GROUPS_ASK_HW	    2u
#define GROUPS_ASK_LEO	    4u

/* ListOffsets at `timestamp` for the rows rs[idx[0..n)] (sorted, one
 * leader) on kc; the answers go to gr_earliest or gr_hw. Returns 0 or the
 * kclient code. */
static int groups_list_offsets(struct kclient *kc, struct groups_row *rows, const int32_t *idx,
			       int32_t n, int64_t timestamp, struct kp_listoffsets_topic *ts,
			       struct kp_listoffsets_partition *ps)
{
	int32_t nt = 0;
	for (int32_t i = 0; i < n; i++) {
		const struct groups_row *r = &rows[idx[i]];
		if (nt == 0 || !kp_str_eq(ts[nt - 1].name, r->gr_topic))
			ts[nt++] = (struct kp_listoffsets_topic){
				.name = r->gr_topic, .partitions = &ps[i], .partitions_count = 0};
		ps[i] = (struct kp_listoffsets_partition){.partition_index = r->gr_partition,
							  .timestamp = timestamp,
							  .max_num_offsets = 1};
		ts[nt - 1].partitions_count++;
	}
	union kp_request_body req = {
		.list_offsets = {
			.replica_id = -1, .isolation_level = 0, .topics = ts, .topics_count = nt}};
	union kp_response_body resp;
	int rc = kclient_call(kc, KP_API_LIST_OFFSETS, GROUPS_LISTOFFSETS_VERSION, &req, &resp);
	if (rc < 0)
		return rc;
	const struct kp_listoffsets_response *lr = &resp.list_offsets;
	for (int32_t i = 0; i < n; i++) {
		struct groups_row *r = &rows[idx[i]];
		for (int32_t t = 0; t < lr->topics_count; t++) {
			if (!kp_str_eq(lr->topics[t].name, r->gr_topic))
				continue;
			for (int32_t k = 0; k < lr->topics[t].partitions_count; k++) {
				const struct kp_listoffsets_partition_response *p =
					&lr->topics[t].partitions[k];
				if (p->partition_index != r->gr_partition || p->error_code != 0)
					continue;
				if (timestamp == KP_LISTOFFSETS_EARLIEST_TIMESTAMP)
					r->gr_earliest = p->offset;
				else
					r->gr_hw = p->offset;
			}
		}
	}
	return 0;
}

/* ReplogDescribeReplicas for the topics of rs[idx[0..n)] on kc: the
 * leader's own log end offset into gr_leo. */
static int groups_leo(struct kclient *kc, struct groups_row *rows, const int32_t *idx, int32_t n,
		      struct kp_replog_describe_topic *ts)
{
	int32_t nt = 0;
	for (int32_t i = 0; i < n; i++) {
		const struct groups_row *r = &rows[idx[i]];
		if (nt == 0 || !kp_str_eq(ts[nt - 1].name, r->gr_topic))
			ts[nt++] = (struct kp_replog_describe_topic){
				.name = r->gr_topic, .partitions = NULL, .partitions_count = -1};
	}
	union kp_request_body req = {
		.replog_describe_replicas = {.topics = ts, .topics_count = nt}};
	union kp_response_body resp;
	int rc = kclient_call(kc, KP_API_REPLOG_DESCRIBE_REPLICAS, 0, &req, &resp);
	if (rc < 0)
		return rc;
	const struct kp_replog_describe_response *dr = &resp.replog_describe_replicas;
	if (dr->error_code != 0)
		return 0; /* no LEO: printed as '-' */
	for (int32_t i = 0; i < n; i++) {
		struct groups_row *r = &rows[idx[i]];
		for (int32_t t = 0; t < dr->topics_count; t++) {
			if (!kp_str_eq(dr->topics[t].name, r->gr_topic))
				continue;
			for (int32_t k = 0; k < dr->topics[t].partitions_count; k++) {
				const struct kp_replog_replica *p = &dr->topics[t].partitions[k];
				if (p->partition_index == r->gr_partition && p->error_code == 0 &&
				    p->role == KP_REPLOG_ROLE_LEADER)
					r->gr_leo = p->log_end_offset;
			}
		}
	}
	return 0;
}

/*
 * Ask each partition's leader (by cv's metadata) for the offsets in `what`,
 * one connection per leader for all its partitions. Rows must be sorted.
 * A partition without a live leader, and a leader that does not answer,
 * are reported on stderr and leave '-' (GROUPS_NO_VALUE). Returns how many
 * rows did not get everything asked, or -ENOMEM.
 */
static int32_t groups_ask_leaders(const char *prefix, const struct cview *cv,
				  struct groups_rows *rs, unsigned what, int timeout_ms)
{
	int32_t n = rs->rs_count, missing = 0;
	if (n == 0)
		return 0;
	int32_t *idx = calloc((size_t)n, sizeof(*idx));
	struct kp_listoffsets_topic *lts = calloc((size_t)n, sizeof(*lts));
	struct kp_listoffsets_partition *lps = calloc((size_t)n, sizeof(*lps));
	struct kp_replog_describe_topic *dts = calloc((size_t)n, sizeof(*dts));
	if (!idx || !lts || !lps || !dts) {
		free(idx);
		free(lts);
		free(lps);
		free(dts);
		fprintf(stderr, "%sout of memory\n", prefix);
		return -ENOMEM;
	}
	for (int32_t i = 0; i < n; i++) {
		struct groups_row *r = &rs->rs_rows[i];
		char topic[KCLIENT_ADDR_MAX];
		groups_kstr(topic, sizeof(topic), r->gr_topic);
		const struct cview_broker *cb;
		int kerr = cview_find_leader(cv, topic, r->gr_partition, &cb);
		if (kerr != 0) {
			fprintf(stderr,
				"%sno offsets for %s-%" PRId32
				": %s (%d) by the metadata from %s\n",
				prefix, topic, r->gr_partition, kp_error_name((int16_t)kerr), kerr,
				cv->cv_boot_addr);
			missing++;
			continue;
		}
		r->gr_leader = cb->cb_id;
	}
	for (int32_t b = 0; b < cv->cv_nbrokers; b++) {
		const struct cview_broker *cb = &cv->cv_brokers[b];
		int32_t k = 0;
		for (int32_t i = 0; i < n; i++)
			if (rs->rs_rows[i].gr_leader == cb->cb_id)
				idx[k++] = i;
		if (k == 0)
			continue;
		struct kclient kc = {.kc_fd = -1};
		int rc = kclient_init(&kc, cb->cb_addr, timeout_ms);
		if (rc == 0)
			rc = kclient_connect(&kc);
		if (rc == 0 && (what & GROUPS_ASK_EARLIEST))
			rc = groups_list_offsets(&kc, rs->rs_rows, idx, k,
						 KP_LISTOFFSETS_EARLIEST_TIMESTAMP, lts, lps);
		if (rc == 0 && (what & GROUPS_ASK_HW))
			rc = groups_list_offsets(&kc, rs->rs_rows, idx, k,
						 KP_LISTOFFSETS_LATEST_TIMESTAMP, lts, lps);
		if (rc == 0 && (what & GROUPS_ASK_LEO))
			rc = groups_leo(&kc, rs->rs_rows, idx, k, dts);
		if (rc < 0)
			fprintf(stderr,
				"%sleader broker %" PRId32 " did not answer for %" PRId32
				" partition(s): %s\n",
				prefix, cb->cb_id, k, kclient_errmsg(&kc));
		kclient_deinit(&kc);
		for (int32_t i = 0; i < k; i++) {
			const struct groups_row *r = &rs->rs_rows[idx[i]];
			if (((what & GROUPS_ASK_EARLIEST) && r->gr_earliest < 0) ||
			    ((what & GROUPS_ASK_HW) && r->gr_hw < 0))
				missing++;
		}
	}
	free(idx);
	free(lts);
	free(lps);
	free(dts);
	return missing;
}

/* ---- describe ------------------------------------------------------------ */

struct groups_assign_ctx {
	struct groups_rows *ac_rows;
	int32_t ac_member;
	const struct groups_opts *ac_opts;
};

static bool groups_topic_wanted(const struct groups_opts *o, struct kp_str topic)
{
	if (o->go_args.ca_ntopics == 0)
		return true;
	for (int i = 0; i < o->go_args.ca_ntopics; i++)
		if (kp_str_eq_cstr(topic, o->go_args.ca_topics[i]))
			return true;
	return false;
}

static int groups_assign_visit(void *ctx, struct kp_str topic, int32_t partition)
{
	struct groups_assign_ctx *ac = ctx;
	if (!groups_topic_wanted(ac->ac_opts, topic))
		return 0;
	struct groups_row *r = groups_row_get(ac->ac_rows, topic, partition);
	if (r)
		r->gr_owner = ac->ac_member;
	return 0;
}

static int groups_describe_state(const struct groups_opts *o, const struct groups_coord *gc)
{
	const struct kp_describegroups_group *g = gc->gc_group;
	struct groups_table t = {.gt_ncols = 5,
				 .gt_head = {"GROUP", "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY",
					     "STATE", "#MEMBERS"}};
	char coord[KCLIENT_ADDR_MAX + 32], strategy[GROUPS_CELL_MAX], state[64], members[32];
	snprintf(coord, sizeof(coord), "%s (%" PRId32 ")", gc->gc_addr, gc->gc_id);
	groups_kstr(strategy, sizeof(strategy), g->protocol_data);
	groups_kstr(state, sizeof(state), g->group_state);
	snprintf(members, sizeof(members), "%" PRId32, g->members_count);
	const char *cells[] = {o->go_group, coord, strategy, state, members};
	groups_table_add(&t, cells);
	groups_table_print(stdout, &t);
	groups_table_deinit(&t);
	return groups_flush(GROUPS_DESCRIBE_PREFIX);
}

static int groups_describe(const struct groups_opts *o)
{
	const char *prefix = GROUPS_DESCRIBE_PREFIX;
	struct cview cv;
	cview_init(&cv, prefix, o->go_args.ca_timeout_ms);
	if (cview_metadata(&cv, o->go_args.ca_bootstrap, NULL, 0) < 0) {
		fprintf(stderr, "%sno bootstrap server answered (tried %s)\n", prefix,
			o->go_args.ca_bootstrap);
		cview_deinit(&cv);
		return GROUPS_EXIT_FAILED;
	}
	struct groups_coord gc;
	groups_coord_init(&gc);
	struct groups_rows rs = {0};
	int exit_code = GROUPS_EXIT_FAILED;
	if (groups_coord_load(o, prefix, &cv, true, &gc) < 0)
		goto out;
	const struct kp_describegroups_group *g = gc.gc_group;
	const struct kp_offsetfetch_response *of = gc.gc_offsets;
	bool dead = kp_str_eq_cstr(g->group_state, "Dead");
	if (dead && g->members_count == 0 && of->topics_count <= 0) {
		fprintf(stderr,
			"%sconsumer group '%s' does not exist (coordinator: broker %" PRId32
			" at %s)\n",
			prefix, o->go_group, gc.gc_id, gc.gc_addr);
		goto out;
	}
	if (o->go_state) {
		exit_code = groups_describe_state(o, &gc);
		goto out;
	}

	/* The rows: what the group committed, then what its members are assigned. */
	for (int32_t t = 0; t < of->topics_count; t++) {
		const struct kp_offsetfetch_topic_result *tr = &of->topics[t];
		if (!groups_topic_wanted(o, tr->name))
			continue;
		for (int32_t i = 0; i < tr->partitions_count; i++) {
			const struct kp_offsetfetch_partition *p = &tr->partitions[i];
			struct groups_row *r = groups_row_get(&rs, tr->name, p->partition_index);
			if (r && p->error_code == 0)
				r->gr_committed = p->committed_offset;
		}
	}
	bool consumer = g->protocol_type.len <= 0 || kp_str_eq_cstr(g->protocol_type, "consumer");
	for (int32_t m = 0; consumer && m < g->members_count; m++) {
		const struct kp_bytes *a = &g->members[m].member_assignment;
		struct groups_assign_ctx ac = {.ac_rows = &rs, .ac_member = m, .ac_opts = o};
		if (groups_assignment_decode(a->ptr, a->len, groups_assign_visit, &ac) < 0)
			fprintf(stderr,
				"%smember %.*s: its assignment (%" PRId32
				" bytes) is not a ConsumerProtocol assignment; its partitions are "
				"not shown as its own\n",
				prefix, (int)g->members[m].member_id.len,
				g->members[m].member_id.ptr, a->len);
	}
	if (rs.rs_full)
		fprintf(stderr, "%smore than %d partitions (or out of memory): not all shown\n",
			prefix, GROUPS_MAX_ROWS);
	qsort(rs.rs_rows, (size_t)rs.rs_count, sizeof(*rs.rs_rows), groups_row_cmp);
	if (groups_ask_leaders(prefix, &cv, &rs, GROUPS_ASK_HW | GROUPS_ASK_LEO,
			       o->go_args.ca_timeout_ms) < 0)
		goto out;

	if (g->members_count == 0)
		printf("Consumer group '%s' has no active members.\n\n", o->go_group);
	else if (!kp_str_eq_cstr(g->group_state, "Stable"))
		printf("Warning: Consumer group '%s' is rebalancing.\n\n", o->go_group);
	struct groups_table t = {.gt_ncols = 10,
				 .gt_head = {"GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET",
					     "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST",
					     "CLIENT-ID", "HIGH-WATERMARK"}};
	for (int32_t i = 0; i < rs.rs_count; i++) {
		const struct groups_row *r = &rs.rs_rows[i];
		char topic[GROUPS_CELL_MAX], part[16], cur[24], leo[24], lag[24], hw[24];
		char member[GROUPS_CELL_MAX] = "", host[GROUPS_CELL_MAX] = "",
		     client[GROUPS_CELL_MAX] = "";
		groups_kstr(topic, sizeof(topic), r->gr_topic);
		snprintf(part, sizeof(part), "%" PRId32, r->gr_partition);
		groups_i64(cur, sizeof(cur), r->gr_committed);
		groups_i64(leo, sizeof(leo), r->gr_leo);
		groups_i64(hw, sizeof(hw), r->gr_hw);
		int64_t l = r->gr_committed >= 0 && r->gr_hw >= 0 ? r->gr_hw - r->gr_committed
								  : GROUPS_NO_VALUE;
		if (r->gr_committed >= 0 && r->gr_hw >= 0 && l < 0)
			l = 0; /* a commit ahead of the HW (reset --to-offset, truncation) */
		groups_i64(lag, sizeof(lag), l);
		if (r->gr_owner >= 0) {
			const struct kp_describegroups_member *mb = &g->members[r->gr_owner];
			groups_kstr(member, sizeof(member), mb->member_id);
			groups_kstr(host, sizeof(host), mb->client_host);
			groups_kstr(client, sizeof(client), mb->client_id);
		}
		const char *cells[] = {o->go_group, topic,  part, cur,	  leo,
				       lag,	    member, host, client, hw};
		groups_table_add(&t, cells);
	}
	exit_code = groups_table_emit(&t, prefix);
out:
	free(rs.rs_rows);
	groups_coord_deinit(&gc);
	cview_deinit(&cv);
	return exit_code;
}

/* ---- list ---------------------------------------------------------------- */

struct groups_entry {
	struct kp_str ge_id;
	struct kp_str ge_state; /* len < 0: unknown */
	struct kp_str ge_type;
};

static int groups_entry_cmp(const void *a, const void *b)
{
	const struct groups_entry *x = a, *y = b;
	return groups_kp_cmp(x->ge_id, y->ge_id);
}

static int groups_list(const struct groups_opts *o)
{
	const char *prefix = GROUPS_LIST_PREFIX;
	struct cview cv;
	cview_init(&cv, prefix, o->go_args.ca_timeout_ms);
	if (cview_metadata(&cv, o->go_args.ca_bootstrap, NULL, 0) < 0) {
		fprintf(stderr, "%sno bootstrap server answered (tried %s)\n", prefix,
			o->go_args.ca_bootstrap);
		cview_deinit(&cv);
		return GROUPS_EXIT_FAILED;
	}
	union kp_request_body req = {.list_groups = {0}};
	cview_ask_all(&cv, KP_API_LIST_GROUPS, &req);
	cview_report_down(&cv, NULL, 0, ": its groups are not listed", NULL);
	int32_t total = 0, answered = 0;
	for (int32_t b = 0; b < cv.cv_nbrokers; b++) {
		struct cview_broker *cb = &cv.cv_brokers[b];
		if (!cb->cb_answered)
			continue;
		int16_t err = cb->cb_resp.list_groups.error_code;
		if (err != KP_ERR_NONE) {
			fprintf(stderr, "%sbroker %" PRId32 " at %s refused ListGroups: %s (%d)\n",
				prefix, cb->cb_id, cb->cb_addr, kp_error_name(err), err);
			cb->cb_answered = false;
			continue;
		}
		answered++;
		total += cb->cb_resp.list_groups.groups_count > 0
				 ? cb->cb_resp.list_groups.groups_count
				 : 0;
	}
	struct groups_entry *es = calloc((size_t)(total ? total : 1), sizeof(*es));
	struct kclient *dk = calloc((size_t)(cv.cv_nbrokers ? cv.cv_nbrokers : 1), sizeof(*dk));
	struct kp_str *ids = calloc((size_t)(total ? total : 1), sizeof(*ids));
	int exit_code = GROUPS_EXIT_FAILED;
	if (!es || !dk || !ids) {
		fprintf(stderr, "%sout of memory\n", prefix);
		goto out;
	}
	for (int32_t b = 0; b < cv.cv_nbrokers; b++)
		dk[b].kc_fd = -1; /* not connected: kclient_deinit() closes nothing */
	if (answered == 0) {
		fprintf(stderr, "%sno broker answered ListGroups\n", prefix);
		goto out;
	}
	int32_t n = 0;
	for (int32_t b = 0; b < cv.cv_nbrokers; b++) {
		struct cview_broker *cb = &cv.cv_brokers[b];
		if (!cb->cb_answered)
			continue;
		const struct kp_listgroups_response *lg = &cb->cb_resp.list_groups;
		int32_t first = n;
		for (int32_t i = 0; i < lg->groups_count; i++) {
			es[n] = (struct groups_entry){.ge_id = lg->groups[i].group_id,
						      .ge_state = KP_STR_NULL,
						      .ge_type = lg->groups[i].protocol_type};
			ids[n - first] = lg->groups[i].group_id;
			n++;
		}
		if (n == first)
			continue;
		/* The state of its groups, from the same broker (their coordinator). */
		union kp_request_body dreq = {
			.describe_groups = {.groups = ids, .groups_count = n - first}};
		union kp_response_body dresp;
		int rc =
			groups_call(&dk[b], cb->cb_addr, o->go_args.ca_timeout_ms,
				    KP_API_DESCRIBE_GROUPS, GROUPS_DESCRIBE_VERSION, &dreq, &dresp);
		if (rc < 0) {
			fprintf(stderr, "%sbroker %" PRId32 " did not answer DescribeGroups: %s\n",
				prefix, cb->cb_id, kclient_errmsg(&dk[b]));
			continue;
		}
		const struct kp_describegroups_response *dg = &dresp.describe_groups;
		for (int32_t i = first; i < n; i++)
			for (int32_t k = 0; k < dg->groups_count; k++)
				if (dg->groups[k].error_code == 0 &&
				    kp_str_eq(dg->groups[k].group_id, es[i].ge_id))
					es[i].ge_state = dg->groups[k].group_state;
	}
	qsort(es, (size_t)n, sizeof(*es), groups_entry_cmp);
	struct groups_table t = {.gt_ncols = 3, .gt_head = {"GROUP", "STATE", "PROTOCOL-TYPE"}};
	for (int32_t i = 0; i < n; i++) {
		/* A group reported twice (its coordinator moving): the first with a state. */
		int32_t j = i;
		while (j + 1 < n && kp_str_eq(es[j + 1].ge_id, es[i].ge_id))
			j++;
		const struct groups_entry *e = &es[i];
		for (int32_t k = i; k <= j; k++)
			if (e->ge_state.len < 0 && es[k].ge_state.len >= 0)
				e = &es[k];
		i = j;
		char id[GROUPS_CELL_MAX], state[64] = "", type[64];
		groups_kstr(id, sizeof(id), e->ge_id);
		if (e->ge_state.len >= 0)
			groups_kstr(state, sizeof(state), e->ge_state);
		groups_kstr(type, sizeof(type), e->ge_type);
		const char *cells[] = {id, state, type};
		groups_table_add(&t, cells);
	}
	exit_code = groups_table_emit(&t, prefix);
out:
	for (int32_t b = 0; dk && b < cv.cv_nbrokers; b++)
		kclient_deinit(&dk[b]);
	free(dk);
	free(es);
	free(ids);
	cview_deinit(&cv);
	return exit_code;
}

/* ---- reset-offsets ------------------------------------------------------- */

/* Commit rs's gr_committed at the coordinator; each refused partition is
 * reported. Returns 0 when all were taken, -1 otherwise. */
static int groups_commit(const struct groups_opts *o, const struct groups_coord *gc,
			 struct groups_rows *rs)
{
	const char *prefix = GROUPS_RESET_PREFIX;
	int32_t n = rs->rs_count;
	RL_ASSERT(n > 0 && o->go_args.ca_ntopics == 1);
	struct kp_offsetcommit_partition *ps = calloc((size_t)n, sizeof(*ps));
	if (!ps) {
		fprintf(stderr, "%sout of memory\n", prefix);
		return -1;
	}
	for (int32_t i = 0; i < n; i++)
		ps[i] = (struct kp_offsetcommit_partition){
			.partition_index = rs->rs_rows[i].gr_partition,
			.committed_offset = rs->rs_rows[i].gr_committed,
			.committed_leader_epoch = -1,
			.committed_metadata = KP_STR(""),
		};
	struct kp_offsetcommit_topic topic = {.name = kp_str_from_cstr(o->go_args.ca_topics[0]),
					      .partitions = ps,
					      .partitions_count = n};
	union kp_request_body req = {.offset_commit = {
					     .group_id = kp_str_from_cstr(o->go_group),
					     .generation_id = -1,
					     .member_id = KP_STR(""),
					     .group_instance_id = KP_STR_NULL,
					     .retention_time_ms = -1,
					     .topics = &topic,
					     .topics_count = 1,
				     }};
	union kp_response_body resp;
	struct kclient kc = {.kc_fd = -1};
	int rc = groups_call(&kc, gc->gc_addr, o->go_args.ca_timeout_ms, KP_API_OFFSET_COMMIT,
			     GROUPS_COMMIT_VERSION, &req, &resp);
	free(ps);
	if (rc < 0) {
		fprintf(stderr,
			"%scoordinator broker %" PRId32 " did not answer OffsetCommit: %s\n",
			prefix, gc->gc_id, kclient_errmsg(&kc));
		kclient_deinit(&kc);
		return -1;
	}
	int32_t taken = 0, refused = 0;
	const struct kp_offsetcommit_response *cr = &resp.offset_commit;
	for (int32_t t = 0; t < cr->topics_count; t++)
		for (int32_t i = 0; i < cr->topics[t].partitions_count; i++) {
			const struct kp_offsetcommit_partition_result *p =
				&cr->topics[t].partitions[i];
			if (p->error_code == 0) {
				taken++;
				continue;
			}
			refused++;
			bool active = p->error_code == KP_ERR_ILLEGAL_GENERATION ||
				      p->error_code == KP_ERR_UNKNOWN_MEMBER_ID ||
				      p->error_code == KP_ERR_REBALANCE_IN_PROGRESS;
			fprintf(stderr,
				"%scoordinator broker %" PRId32 " at %s refused the commit of "
				"%s-%" PRId32 ": %s (%d)%s\n",
				prefix, gc->gc_id, gc->gc_addr, o->go_args.ca_topics[0],
				p->partition_index, kp_error_name(p->error_code), p->error_code,
				active ? ": the group has active members; stop its consumers "
					 "first"
				       : "");
		}
	kclient_deinit(&kc);
	if (refused == 0 && taken != n) {
		fprintf(stderr,
			"%scoordinator broker %" PRId32 " answered for %" PRId32 " of %" PRId32
			" partitions\n",
			prefix, gc->gc_id, taken, n);
		return -1;
	}
	return refused ? -1 : 0;
}

static int groups_reset(const struct groups_opts *o)
{
	const char *prefix = GROUPS_RESET_PREFIX;
	const char *topic = o->go_args.ca_topics[0];
	struct cview cv;
	cview_init(&cv, prefix, o->go_args.ca_timeout_ms);
	if (cview_metadata(&cv, o->go_args.ca_bootstrap, o->go_args.ca_topics, 1) < 0) {
		fprintf(stderr, "%sno bootstrap server answered (tried %s)\n", prefix,
			o->go_args.ca_bootstrap);
		cview_deinit(&cv);
		return GROUPS_EXIT_FAILED;
	}
	struct groups_coord gc;
	groups_coord_init(&gc);
	struct groups_rows rs = {0};
	int exit_code = GROUPS_EXIT_FAILED;

	/* The partitions of the topic, by the metadata. */
	const struct kp_metadata_response_topic *mt = NULL;
	for (int32_t i = 0; i < cv.cv_md.topics_count; i++)
		if (kp_str_eq_cstr(cv.cv_md.topics[i].name, topic))
			mt = &cv.cv_md.topics[i];
	if (!mt || mt->error_code != KP_ERR_NONE) {
		int16_t err = mt ? mt->error_code : KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		fprintf(stderr, "%stopic '%s': %s (%d) by the metadata from %s\n", prefix, topic,
			kp_error_name(err), err, cv.cv_boot_addr);
		goto out;
	}
	for (int32_t i = 0; i < mt->partitions_count; i++) {
		int32_t p = mt->partitions[i].partition_index;
		if (o->go_partition >= 0 && p != o->go_partition)
			continue;
		if (!groups_row_get(&rs, mt->name, p)) {
			fprintf(stderr, "%sout of memory\n", prefix);
			goto out;
		}
	}
	if (rs.rs_count == 0) {
		fprintf(stderr,
			"%stopic '%s' has no partition %" PRId32 " (%" PRId32
			" partitions, by the metadata from %s)\n",
			prefix, topic, o->go_partition, mt->partitions_count, cv.cv_boot_addr);
		goto out;
	}
	qsort(rs.rs_rows, (size_t)rs.rs_count, sizeof(*rs.rs_rows), groups_row_cmp);

	/* Only an inactive group's offsets can be reset (Kafka's rule too). */
	if (groups_coord_load(o, prefix, &cv, false, &gc) < 0)
		goto out;
	const struct kp_describegroups_group *g = gc.gc_group;
	if (g->members_count > 0) {
		fprintf(stderr,
			"%sconsumer group '%s' has %" PRId32
			" active member(s) (state %.*s, coordinator broker %" PRId32
			" at %s): offsets can be reset only while the group is inactive; stop "
			"its consumers first\n",
			prefix, o->go_group, g->members_count, (int)g->group_state.len,
			g->group_state.ptr, gc.gc_id, gc.gc_addr);
		goto out;
	}
	if (groups_ask_leaders(prefix, &cv, &rs, GROUPS_ASK_EARLIEST | GROUPS_ASK_HW,
			       o->go_args.ca_timeout_ms) != 0) {
		fprintf(stderr, "%snot every partition's offsets are known: nothing %s\n", prefix,
			o->go_execute ? "committed" : "planned");
		goto out;
	}
	for (int32_t i = 0; i < rs.rs_count; i++) {
		struct groups_row *r = &rs.rs_rows[i];
		switch (o->go_mode) {
		case GROUPS_TO_EARLIEST:
			r->gr_committed = r->gr_earliest;
			break;
		case GROUPS_TO_LATEST:
			r->gr_committed = r->gr_hw;
			break;
		case GROUPS_TO_OFFSET:
		case GROUPS_TO_NONE:
			r->gr_committed = o->go_to_offset;
			if (r->gr_committed < r->gr_earliest || r->gr_committed > r->gr_hw) {
				int64_t to = r->gr_committed < r->gr_earliest ? r->gr_earliest
									      : r->gr_hw;
				fprintf(stderr,
					"%swarning: %s-%" PRId32 ": offset %" PRId64
					" is outside [%" PRId64 ", %" PRId64 "]; using %" PRId64
					"\n",
					prefix, topic, r->gr_partition, r->gr_committed,
					r->gr_earliest, r->gr_hw, to);
				r->gr_committed = to;
			}
			break;
		}
	}
	if (o->go_execute && groups_commit(o, &gc, &rs) < 0)
		goto out;
	struct groups_table t = {.gt_ncols = 4,
				 .gt_head = {"GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"}};
	for (int32_t i = 0; i < rs.rs_count; i++) {
		char part[16], off[24];
		snprintf(part, sizeof(part), "%" PRId32, rs.rs_rows[i].gr_partition);
		groups_i64(off, sizeof(off), rs.rs_rows[i].gr_committed);
		const char *cells[] = {o->go_group, topic, part, off};
		groups_table_add(&t, cells);
	}
	exit_code = groups_table_emit(&t, prefix);
	if (exit_code == GROUPS_EXIT_OK && !o->go_execute)
		fprintf(stderr, "%sdry run: nothing committed (add --execute to commit)\n", prefix);
out:
	free(rs.rs_rows);
	groups_coord_deinit(&gc);
	cview_deinit(&cv);
	return exit_code;
}

/* ---- delete -------------------------------------------------------------- */

/* DeleteGroups at the group's coordinator (found as describe finds it). */
static int groups_delete(const struct groups_opts *o)
{
	const char *prefix = GROUPS_DELETE_PREFIX;
	struct cview cv;
	cview_init(&cv, prefix, o->go_args.ca_timeout_ms);
	if (cview_metadata(&cv, o->go_args.ca_bootstrap, NULL, 0) < 0) {
		cview_deinit(&cv);
		return GROUPS_EXIT_FAILED;
	}
	struct groups_coord gc;
	groups_coord_init(&gc);
	int rc = groups_coord_load(o, prefix, &cv, false, &gc);
	int exit_code = GROUPS_EXIT_FAILED;
	if (rc == 0) {
		struct kp_str name = kp_str_from_cstr(o->go_group);
		union kp_request_body req = {
			.delete_groups = {.groups_names = &name, .groups_names_count = 1}};
		union kp_response_body resp;
		struct kclient kc = {.kc_fd = -1};
		rc = groups_call(&kc, gc.gc_addr, o->go_args.ca_timeout_ms, KP_API_DELETE_GROUPS,
				 GROUPS_DELETE_VERSION, &req, &resp);
		if (rc < 0) {
			fprintf(stderr,
				"%scoordinator broker %" PRId32
				" did not answer DeleteGroups: %s\n",
				prefix, gc.gc_id, kclient_errmsg(&kc));
		} else if (resp.delete_groups.results_count != 1) {
			fprintf(stderr,
				"%scoordinator broker %" PRId32 " answered without the group\n",
				prefix, gc.gc_id);
		} else {
			int16_t err = resp.delete_groups.results[0].error_code;
			if (err == KP_ERR_NONE) {
				printf("Deletion of requested consumer groups ('%s') was "
				       "successful.\n",
				       o->go_group);
				exit_code = GROUPS_EXIT_OK;
			} else if (err == KP_ERR_NON_EMPTY_GROUP) {
				fprintf(stderr,
					"%sconsumer group '%s' not deleted: it has active members "
					"(NON_EMPTY_GROUP); stop its consumers first\n",
					prefix, o->go_group);
			} else if (err == KP_ERR_GROUP_ID_NOT_FOUND) {
				fprintf(stderr,
					"%sconsumer group '%s' does not exist "
					"(GROUP_ID_NOT_FOUND)\n",
					prefix, o->go_group);
			} else {
				fprintf(stderr, "%sconsumer group '%s' not deleted: %s (%d)\n",
					prefix, o->go_group, kp_error_name(err), err);
			}
		}
		kclient_deinit(&kc);
	}
	groups_coord_deinit(&gc);
	cview_deinit(&cv);
	return exit_code;
}

/* ---- dispatch ------------------------------------------------------------ */

enum groups_action {
	GROUPS_LIST,
	GROUPS_DESCRIBE,
	GROUPS_RESET,
	GROUPS_DELETE,
};

static const struct {
	const char *ga_name;
	const char *ga_flag; /* kafka-consumer-groups' spelling */
	enum groups_action ga_action;
	const char *ga_prefix;
	const struct option *ga_options;
} groups_actions[] = {
	{"list", "--list", GROUPS_LIST, GROUPS_LIST_PREFIX, groups_list_options},
	{"describe", "--describe", GROUPS_DESCRIBE, GROUPS_DESCRIBE_PREFIX,
	 groups_describe_options},
	{"reset-offsets", "--reset-offsets", GROUPS_RESET, GROUPS_RESET_PREFIX,
	 groups_reset_options},
	{"delete", "--delete", GROUPS_DELETE, GROUPS_DELETE_PREFIX, groups_delete_options},
};

#define GROUPS_NACTIONS (sizeof(groups_actions) / sizeof(groups_actions[0]))

__attribute__((format(printf, 2, 3))) static int groups_usage_error(const char *prefix,
								    const char *fmt, ...)
{
	va_list ap;
	fputs(prefix, stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'replog groups --help' for more information.\n", stderr);
	return GROUPS_EXIT_USAGE;
}

int groups_main(int argc, char **argv)
{
	if (argc < 2)
		return groups_usage_error("replog groups: ",
					  "no action given: the action is one of list, describe, "
					  "reset-offsets, delete");
	const char *action = argv[1];
	if (strcmp(action, "--help") == 0 || strcmp(action, "-h") == 0 ||
	    strcmp(action, "help") == 0) {
		fputs(groups_help, stdout);
		return GROUPS_EXIT_OK;
	}
	size_t k = 0;
	while (k < GROUPS_NACTIONS && strcmp(action, groups_actions[k].ga_name) != 0 &&
	       strcmp(action, groups_actions[k].ga_flag) != 0)
		k++;
	if (k == GROUPS_NACTIONS)
		return groups_usage_error("replog groups: ",
					  "unknown action '%s': the action is one of list, "
					  "describe, reset-offsets, delete",
					  action);
	const char *prefix = groups_actions[k].ga_prefix;
	struct groups_opts o = {.go_partition = -1};
	struct cview_cli cli = {.cc_prefix = prefix,
				.cc_name = "replog groups",
				.cc_help = groups_help,
				.cc_options = groups_actions[k].ga_options,
				.cc_extra = groups_extra_option,
				.cc_ctx = &o};
	int rc = cview_parse_args(argc - 1, argv + 1, &cli, &o.go_args);
	if (rc >= 0)
		return rc;
	if (o.go_bad[0])
		return groups_usage_error(prefix, "%s", o.go_bad);
	enum groups_action a = groups_actions[k].ga_action;
	if (a != GROUPS_LIST && !o.go_group)
		return groups_usage_error(prefix, "%s", "--group is required");
	switch (a) {
	case GROUPS_LIST:
		if (o.go_args.ca_ntopics != 0)
			return groups_usage_error(prefix, "%s", "--topic is not an option of list");
		return groups_list(&o);
	case GROUPS_DESCRIBE:
		return groups_describe(&o);
	case GROUPS_RESET:
		if (o.go_args.ca_ntopics != 1)
			return groups_usage_error(prefix, "exactly one --topic is needed, got %d",
						  o.go_args.ca_ntopics);
		if (o.go_nmodes != 1)
			return groups_usage_error(prefix, "%s",
						  "exactly one of --to-earliest, --to-latest, "
						  "--to-offset N is needed");
		if (o.go_execute && o.go_dry_run)
			return groups_usage_error(prefix, "%s",
						  "--execute and --dry-run exclude each other");
		return groups_reset(&o);
	case GROUPS_DELETE:
		if (o.go_args.ca_ntopics != 0)
			return groups_usage_error(prefix, "%s",
						  "--topic is not an option of delete");
		return groups_delete(&o);
	}
	return GROUPS_EXIT_USAGE;
}
