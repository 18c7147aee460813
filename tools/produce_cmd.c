/*
 * produce_cmd — `replog produce` (API in produce_cmd.h).
 *
 * What this file owns: the command line, reading stdin line by line (each
 * line one record: its value, or key SEP value with --key-separator), and
 * the Produce requests. Records are built into one RecordBatch v2
 * (log/batch_builder.h, uncompressed, not idempotent) in one buffer
 * allocated at start; a batch is sent when it holds PRODUCE_MAX_RECORDS
 * records, when the next line would not fit PRODUCE_MAX_BATCH_BYTES, or at
 * the end of the input. One request is in flight at a time, so records
 * land in input order.
 *
 * Errors: a Produce answer of NOT_LEADER_OR_FOLLOWER or
 * LEADER_NOT_AVAILABLE, or a leader that stops answering, sends the tool
 * back to the Metadata for the new leader and the same batch is sent
 * again, until --timeout-ms has passed since its first send (so a batch
 * may be stored twice when an answer was lost: the producer is not
 * idempotent). Any other error code ends the run (exit 1) with the Kafka
 * error name on stderr; the batches acknowledged before stay.
 *
 * acks 0: the broker does not answer Produce; at the end one ListOffsets
 * on the same connection, answered after every Produce before it, makes
 * sure the broker has taken them before the tool exits. Offsets are then
 * not known.
 */
#include "produce_cmd.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "batch.h"
#include "batch_builder.h"
#include "cluster_view.h"
#include "kp_api.h"
#include "rlassert.h"
#include "rlerr.h"

#define PRODUCE_PREFIX "replog produce: "
/* Per request: kcat's batch.num.messages default is 10000; 1000 keeps a
 * retry's resend small. Bytes: the request must fit kclient's 1 MiB
 * request limit with its header, client id and topic name (< 512 bytes). */
#define PRODUCE_MAX_RECORDS	    1000
#define PRODUCE_MAX_BATCH_BYTES	    (KCLIENT_MAX_REQUEST_BYTES - 1024)
#define PRODUCE_VERSION		    7
#define PRODUCE_LISTOFFSETS_VERSION 1
#define PRODUCE_SEP_MAX		    64

const char produce_help[] =
	"NAME\n"
	"    replog produce - write stdin lines as records to one partition\n"
	"\n"
	"SYNOPSIS\n"
	"    replog produce --topic TOPIC [--partition N] [--acks 0|1|all]\n"
	"                   [--key-separator SEP]\n"
	"                   [--bootstrap-server HOST:PORT[,HOST:PORT...]]\n"
	"                   [--timeout-ms N]\n"
	"    replog produce --help\n"
	"\n"
	"DESCRIPTION\n"
	"    Like kafka-console-producer.sh or `kcat -P`: every line read from stdin\n"
	"    (without its newline) is one record. Its value is the line; with\n"
	"    --key-separator, the part before the first SEP is the key and the rest\n"
	"    the value (a line without SEP has a null key and the whole line as\n"
	"    value). An empty line is a record with an empty value. A last line\n"
	"    without a newline is a record too.\n"
	"\n"
	"    A Metadata request (v7) to the first bootstrap server that answers\n"
	"    names the partition's leader; the records go to it in Produce requests\n"
	"    (v7), one uncompressed RecordBatch each, of at most 1000 records and\n"
	"    1 MiB, sent one after the other so the records are stored in input\n"
	"    order. A topic that does not exist is created, as by kcat, when the\n"
	"    brokers allow it (auto_create_topics); otherwise the answer is\n"
	"    UNKNOWN_TOPIC_OR_PARTITION.\n"
	"\n"
	"    When the leader answers NOT_LEADER_OR_FOLLOWER or LEADER_NOT_AVAILABLE,\n"
	"    or stops answering, the metadata is asked again and the same request\n"
	"    sent to the new leader, 100 ms apart, until --timeout-ms has passed\n"
	"    since it was first sent. A request whose answer was lost may then be\n"
	"    stored twice (the producer is not idempotent). Any other error ends\n"
	"    the run; the records acknowledged before it stay written.\n"
	"\n"
	"OPTIONS\n"
	"    -t, --topic TOPIC\n"
	"        The topic (required, exactly once). It must exist.\n"
	"    --partition N\n"
	"        The partition (default 0).\n"
	"    --acks 0|1|all\n"
	"        What the leader waits for before it answers (default all): all,\n"
	"        the in-sync replicas (-1 is the same); 1, its own log; 0, nothing\n"
	"        and no answer is sent: errors are then not seen, and the offsets\n"
	"        not known. With 0 the tool still makes sure, before it exits, that\n"
	"        the leader has received every request.\n"
	"    --key-separator SEP\n"
	"        Split each line at the first SEP (1 to 64 bytes) into key and value\n"
	"        (kafka-console-producer's parse.key=true key.separator=SEP, kcat's\n"
	"        -K SEP).\n"
	"    -b, --bootstrap-server HOST:PORT[,HOST:PORT...]\n"
	"        Brokers to ask for the Metadata, tried in order until one answers\n"
	"        (default 127.0.0.1:9092). Any broker will do: the leader is found\n"
	"        from it.\n"
	"    --timeout-ms N\n"
	"        Time allowed for each broker and each request, connecting included,\n"
	"        and for finding a leader again (default 5000, at most 600000).\n"
	"    -h, --help\n"
	"        Print this manual.\n"
	"\n"
	"OUTPUT\n"
	"    Nothing on stdout. On success one line on stderr:\n"
	"        produced N records to TOPIC-PARTITION (offsets A..B)\n"
	"    where A is the offset of the first record and B of the last (with\n"
	"    --acks 0: \"(acks 0: offsets not known)\"; with no input: no offsets).\n"
	"    Errors go to stderr, prefixed \"replog produce: \", with the Kafka error\n"
	"    name and code, e.g. \"NOT_ENOUGH_REPLICAS (19)\", and how many records\n"
	"    were acknowledged before.\n"
	"\n"
	"EXIT STATUS\n"
	"    0   every record was acknowledged (with --acks 0: sent).\n"
	"    1   the topic or partition does not exist, no bootstrap server or\n"
	"        leader answered in time, a Produce error, a line longer than a\n"
	"        request, or stdin could not be read.\n"
	"    2   usage error.\n"
	"\n"
	"EXAMPLES\n"
	"    seq 1 100 | replog produce -b 127.0.0.1:9092 --topic orders\n"
	"    printf 'k1:v1\\nk2:v2\\n' | replog produce --topic orders --partition 2 \\\n"
	"        --key-separator :\n"
	"    replog produce --topic metrics --acks 1 < lines.txt\n";

enum {
	PRODUCE_OPT_PARTITION = CVIEW_OPT_EXTRA,
	PRODUCE_OPT_ACKS,
	PRODUCE_OPT_KEY_SEP,
};

static const struct option produce_options[] = {
	CVIEW_LONG_OPTIONS,
	{"partition", required_argument, NULL, PRODUCE_OPT_PARTITION},
	{"acks", required_argument, NULL, PRODUCE_OPT_ACKS},
	{"key-separator", required_argument, NULL, PRODUCE_OPT_KEY_SEP},
	{0},
};

struct produce_opts {
	struct cview_args po_args;
	int32_t po_partition;
	int16_t po_acks;
	const char *po_sep; /* borrowed from argv; NULL = no keys */
	size_t po_sep_len;
	char po_bad[256]; /* the first bad option value, "" if none */
};

/* The run: the leader connection, the batch being filled, the counts. */
struct produce_run {
	const struct produce_opts *pr_opts;
	const char *pr_topic;
	struct kclient pr_conn;
	int32_t pr_leader_id;
	uint8_t *pr_buf; /* owned: PRODUCE_MAX_BATCH_BYTES */
	struct batch_builder pr_bb;
	bool pr_open;		 /* pr_bb has been initialised and not finished */
	int64_t pr_records;	 /* acknowledged (acks 0: sent) */
	int64_t pr_first_offset; /* -1 until known */
	int64_t pr_last_offset;
};

static void produce_extra_option(int opt, void *ctx)
{
	struct produce_opts *o = ctx;
	if (o->po_bad[0])
		return;
	char *end;
	switch (opt) {
	case PRODUCE_OPT_PARTITION: {
		errno = 0;
		long v = strtol(optarg, &end, 10);
		if (end == optarg || *end || errno || v < 0 || v > INT32_MAX)
			snprintf(o->po_bad, sizeof(o->po_bad),
				 "--partition '%.64s': expected a partition from 0 to %d", optarg,
				 INT32_MAX);
		else
			o->po_partition = (int32_t)v;
		break;
	}
	case PRODUCE_OPT_ACKS:
		if (strcmp(optarg, "all") == 0 || strcmp(optarg, "-1") == 0)
			o->po_acks = -1;
		else if (strcmp(optarg, "1") == 0)
			o->po_acks = 1;
		else if (strcmp(optarg, "0") == 0)
			o->po_acks = 0;
		else
			snprintf(o->po_bad, sizeof(o->po_bad),
				 "--acks '%.64s': expected 0, 1 or all", optarg);
		break;
	case PRODUCE_OPT_KEY_SEP:
		o->po_sep_len = strlen(optarg);
		if (o->po_sep_len == 0 || o->po_sep_len > PRODUCE_SEP_MAX)
			snprintf(o->po_bad, sizeof(o->po_bad),
				 "--key-separator: expected 1 to %d bytes", PRODUCE_SEP_MAX);
		else
			o->po_sep = optarg;
		break;
	default:
		break;
	}
}

__attribute__((format(printf, 1, 2))) static int produce_usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs(PRODUCE_PREFIX, stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'replog produce --help' for more information.\n", stderr);
	return PRODUCE_EXIT_USAGE;
}

static int64_t produce_wall_ms(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static int produce_begin_batch(struct produce_run *pr)
{
	RL_ASSERT(!pr->pr_open);
	int rc = batch_builder_init(&pr->pr_bb, pr->pr_buf, PRODUCE_MAX_BATCH_BYTES,
				    BATCH_CODEC_NONE, produce_wall_ms(), -1, -1, -1);
	RL_ASSERT(rc == 0);
	pr->pr_open = true;
	return 0;
}

/* Send the batch being filled, finding the leader again while it moves.
 * Returns 0, or -1 with the cause on stderr. */
static int produce_send(struct produce_run *pr)
{
	RL_ASSERT(pr->pr_open && pr->pr_bb.bb_count > 0);
	const struct produce_opts *o = pr->pr_opts;
	int32_t count = pr->pr_bb.bb_count;
	int64_t size = batch_builder_finish(&pr->pr_bb);
	pr->pr_open = false;
	if (size < 0) {
		fprintf(stderr, PRODUCE_PREFIX "cannot build a batch: %s\n",
			rl_strerror((int)size));
		return -1;
	}
	struct kp_produce_partition_data pd = {
		.index = o->po_partition, .records = {.ptr = pr->pr_buf, .len = (int32_t)size}};
	struct kp_produce_topic_data td = {.name = kp_str_from_cstr(pr->pr_topic),
					   .partition_data = &pd,
					   .partition_data_count = 1};
	union kp_request_body req = {.produce = {.transactional_id = KP_STR_NULL,
						 .acks = o->po_acks,
						 .timeout_ms = o->po_args.ca_timeout_ms,
						 .topic_data = &td,
						 .topic_data_count = 1}};
	int64_t deadline_ms = cview_now_ms() + o->po_args.ca_timeout_ms;
	char why[KCLIENT_ERRMSG_MAX + 64] = "";
	for (int attempt = 0; attempt < 100000; attempt++) {
		if (attempt > 0) {
			if (cview_now_ms() + CVIEW_LEADER_BACKOFF_MS >= deadline_ms)
				break;
			cview_sleep_ms(CVIEW_LEADER_BACKOFF_MS);
			if (cview_connect_leader(PRODUCE_PREFIX, o->po_args.ca_bootstrap,
						 pr->pr_topic, o->po_partition,
						 o->po_args.ca_timeout_ms, deadline_ms, true,
						 &pr->pr_conn, &pr->pr_leader_id) < 0)
				goto failed;
		}
		kclient_renew(&pr->pr_conn);
		if (o->po_acks == 0) {
			if (kclient_send(&pr->pr_conn, KP_API_PRODUCE, PRODUCE_VERSION, &req) < 0) {
				snprintf(why, sizeof(why), "%s", kclient_errmsg(&pr->pr_conn));
				continue;
			}
			pr->pr_records += count;
			return 0;
		}
		union kp_response_body resp;
		if (kclient_call(&pr->pr_conn, KP_API_PRODUCE, PRODUCE_VERSION, &req, &resp) < 0) {
			snprintf(why, sizeof(why), "%s", kclient_errmsg(&pr->pr_conn));
			continue;
		}
		const struct kp_produce_response *r = &resp.produce;
		if (r->responses_count != 1 || r->responses[0].partition_responses_count != 1) {
			fprintf(stderr,
				PRODUCE_PREFIX "the leader (broker %" PRId32
					       ") answered without %s-%" PRId32 "\n",
				pr->pr_leader_id, pr->pr_topic, o->po_partition);
			goto failed;
		}
		const struct kp_produce_partition_response *p =
			&r->responses[0].partition_responses[0];
		if (p->error_code == KP_ERR_NOT_LEADER_OR_FOLLOWER ||
		    p->error_code == KP_ERR_LEADER_NOT_AVAILABLE) {
			snprintf(why, sizeof(why), "broker %" PRId32 " answered %s (%d)",
				 pr->pr_leader_id, kp_error_name(p->error_code), p->error_code);
			continue;
		}
		if (p->error_code != KP_ERR_NONE) {
			fprintf(stderr,
				PRODUCE_PREFIX "%s (%d): %s-%" PRId32 " refused %" PRId32
					       " records (broker %" PRId32 ")\n",
				kp_error_name(p->error_code), p->error_code, pr->pr_topic,
				o->po_partition, count, pr->pr_leader_id);
			goto failed;
		}
		if (pr->pr_first_offset < 0)
			pr->pr_first_offset = p->base_offset;
		pr->pr_last_offset = p->base_offset + count - 1;
		pr->pr_records += count;
		return 0;
	}
	fprintf(stderr,
		PRODUCE_PREFIX "%s-%" PRId32 ": no leader took %" PRId32
			       " records within %d ms: %s\n",
		pr->pr_topic, o->po_partition, count, o->po_args.ca_timeout_ms,
		why[0] ? why : "gave up");
failed:
	fprintf(stderr, PRODUCE_PREFIX "%" PRId64 " records were acknowledged before\n",
		pr->pr_records);
	return -1;
}

/* One line (without its newline) into the batch, sending the batch first
 * when it is full. Returns 0 or -1 (reported). */
static int produce_line(struct produce_run *pr, const char *line, size_t len, int64_t lineno)
{
	const struct produce_opts *o = pr->pr_opts;
	const uint8_t *key = NULL, *value = (const uint8_t *)line;
	int32_t key_len = -1, value_len;
	if (len > PRODUCE_MAX_BATCH_BYTES) {
		fprintf(stderr,
			PRODUCE_PREFIX "line %" PRId64
				       " has %zu bytes: more than a request (%d bytes) holds\n",
			lineno, len, PRODUCE_MAX_BATCH_BYTES);
		return -1;
	}
	value_len = (int32_t)len;
	if (o->po_sep) {
		const char *sep = memmem(line, len, o->po_sep, o->po_sep_len);
		if (sep) {
			key = (const uint8_t *)line;
			key_len = (int32_t)(sep - line);
			value = (const uint8_t *)sep + o->po_sep_len;
			value_len = (int32_t)(len - (size_t)key_len - o->po_sep_len);
		}
	}
	if (pr->pr_open && pr->pr_bb.bb_count >= PRODUCE_MAX_RECORDS && produce_send(pr) < 0)
		return -1;
	for (int pass = 0; pass < 2; pass++) {
		if (!pr->pr_open)
			produce_begin_batch(pr);
		int rc = batch_builder_add(&pr->pr_bb, produce_wall_ms(), key, key_len, value,
					   value_len, NULL, 0);
		if (rc == 0)
			return 0;
		if (rc != RL_ETOO_LARGE || pr->pr_bb.bb_count == 0) {
			fprintf(stderr,
				PRODUCE_PREFIX "line %" PRId64 ": cannot make a record of it: %s\n",
				lineno,
				rc == RL_ETOO_LARGE ? "more than a request holds"
						    : rl_strerror(rc));
			return -1;
		}
		if (produce_send(pr) < 0)
			return -1;
	}
	return -1;
}

/* acks 0: one answered request after the unanswered ones. */
static int produce_barrier(struct produce_run *pr)
{
	struct kp_listoffsets_partition lp = {.partition_index = pr->pr_opts->po_partition,
					      .timestamp = KP_LISTOFFSETS_LATEST_TIMESTAMP,
					      .max_num_offsets = 1};
	struct kp_listoffsets_topic lt = {
		.name = kp_str_from_cstr(pr->pr_topic), .partitions = &lp, .partitions_count = 1};
	union kp_request_body req = {
		.list_offsets = {
			.replica_id = -1, .isolation_level = 0, .topics = &lt, .topics_count = 1}};
	union kp_response_body resp;
	kclient_renew(&pr->pr_conn);
	if (kclient_call(&pr->pr_conn, KP_API_LIST_OFFSETS, PRODUCE_LISTOFFSETS_VERSION, &req,
			 &resp) < 0) {
		fprintf(stderr, PRODUCE_PREFIX "%s\n", kclient_errmsg(&pr->pr_conn));
		return -1;
	}
	return 0;
}

static int produce_run(const struct produce_opts *o)
{
	struct produce_run pr = {.pr_opts = o,
				 .pr_topic = o->po_args.ca_topics[0],
				 .pr_conn = {.kc_fd = -1},
				 .pr_first_offset = -1,
				 .pr_last_offset = -1};
	int64_t deadline_ms = cview_now_ms() + o->po_args.ca_timeout_ms;
	if (cview_connect_leader(PRODUCE_PREFIX, o->po_args.ca_bootstrap, pr.pr_topic,
				 o->po_partition, o->po_args.ca_timeout_ms, deadline_ms, true,
				 &pr.pr_conn, &pr.pr_leader_id) < 0) {
		kclient_deinit(&pr.pr_conn);
		return PRODUCE_EXIT_FAILED;
	}
	pr.pr_buf = malloc(PRODUCE_MAX_BATCH_BYTES);
	char *line = NULL;
	size_t cap = 0;
	int rc = pr.pr_buf ? 0 : -1;
	if (!pr.pr_buf)
		fprintf(stderr, PRODUCE_PREFIX "out of memory\n");
	int64_t lineno = 0;
	while (rc == 0) {
		errno = 0;
		ssize_t n = getline(&line, &cap, stdin);
		if (n < 0) {
			if (ferror(stdin)) {
				fprintf(stderr, PRODUCE_PREFIX "cannot read stdin: %s\n",
					strerror(errno ? errno : EIO));
				rc = -1;
			}
			break;
		}
		lineno++;
		size_t len = (size_t)n;
		if (len > 0 && line[len - 1] == '\n')
			len--;
		rc = produce_line(&pr, line, len, lineno);
	}
	if (rc == 0 && pr.pr_open && pr.pr_bb.bb_count > 0)
		rc = produce_send(&pr);
	if (rc == 0 && o->po_acks == 0 && pr.pr_records > 0)
		rc = produce_barrier(&pr);
	if (rc == 0) {
		if (pr.pr_records == 0)
			fprintf(stderr, "produced 0 records to %s-%" PRId32 "\n", pr.pr_topic,
				o->po_partition);
		else if (o->po_acks == 0)
			fprintf(stderr,
				"produced %" PRId64 " records to %s-%" PRId32
				" (acks 0: offsets not known)\n",
				pr.pr_records, pr.pr_topic, o->po_partition);
		else
			fprintf(stderr,
				"produced %" PRId64 " records to %s-%" PRId32 " (offsets %" PRId64
				"..%" PRId64 ")\n",
				pr.pr_records, pr.pr_topic, o->po_partition, pr.pr_first_offset,
				pr.pr_last_offset);
	}
	free(line);
	free(pr.pr_buf);
	kclient_deinit(&pr.pr_conn);
	return rc == 0 ? PRODUCE_EXIT_OK : PRODUCE_EXIT_FAILED;
}

int produce_main(int argc, char **argv)
{
	struct produce_opts o = {.po_acks = -1};
	struct cview_cli cli = {.cc_prefix = PRODUCE_PREFIX,
				.cc_name = "replog produce",
				.cc_help = produce_help,
				.cc_options = produce_options,
				.cc_extra = produce_extra_option,
				.cc_ctx = &o};
	int rc = cview_parse_args(argc, argv, &cli, &o.po_args);
	if (rc >= 0)
		return rc;
	if (o.po_bad[0])
		return produce_usage_error("%s", o.po_bad);
	if (o.po_args.ca_ntopics != 1)
		return produce_usage_error("exactly one --topic is needed, got %d",
					   o.po_args.ca_ntopics);
	return produce_run(&o);
}
