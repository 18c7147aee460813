/*
 * produce_cmd — `replog produce` (API in produce_cmd.h).
 *
 * What this file owns: the command line and reading stdin line by line
 * (each line one record: its value, or key SEP value with
 * --key-separator). The records go through libreplog's producer
 * (client/replog.h): batches per linger/size, zstd if asked, retries on a
 * moved leader with a metadata refresh, one batch in flight so records land
 * in input order, and a receipt per acknowledged record (--receipts).
 *
 * Errors: the first record that fails (a non-retriable Kafka error, or no
 * leader took it within --timeout-ms) stops reading; what was queued is
 * flushed, the error and the count acknowledged before are reported, and
 * the run exits 1. A request whose answer was lost is sent again, so a
 * record may be stored twice (the producer is not idempotent).
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

#include "cluster_view.h"
#include "replog.h"

#define PRODUCE_PREFIX "replog produce: "
/* Per request: kcat's batch.num.messages default is 10000; 1000 keeps a
 * retry's resend small. Bytes: the request must fit kclient's 1 MiB
 * request limit with its header, client id and topic name (< 512 bytes). */
#define PRODUCE_SEP_MAX	     64
#define PRODUCE_BUFFER_BYTES (8 << 20) /* records read ahead of the acknowledgements */

const char produce_help[] =
	"NAME\n"
	"    replog produce - write stdin lines as records to one partition\n"
	"\n"
	"SYNOPSIS\n"
	"    replog produce --topic TOPIC [--partition N] [--acks 0|1|all]\n"
	"                   [--key-separator SEP] [--compression none|zstd]\n"
	"                   [--receipts]\n"
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
	"    The records go through libreplog, replog's C client: the partition's\n"
	"    leader is found from the first bootstrap server that answers, records\n"
	"    are batched (up to 256 KiB, 5 ms) and sent one batch at a time, so they\n"
	"    are stored in input order. A topic that does not exist is created, as\n"
	"    by kcat, when the brokers allow it (auto_create_topics); otherwise the\n"
	"    answer is UNKNOWN_TOPIC_OR_PARTITION.\n"
	"\n"
	"    When the leader moves, answers NOT_ENOUGH_REPLICAS or stops answering,\n"
	"    the metadata is asked again and the batch sent again, with a backoff,\n"
	"    until --timeout-ms has passed since its first record was read. A\n"
	"    request whose answer was lost may then be stored twice (the producer\n"
	"    is not idempotent). Any other error ends the run; the records\n"
	"    acknowledged before it stay written.\n"
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
	"    --compression none|zstd\n"
	"        Compress each batch (default none).\n"
	"    --receipts\n"
	"        Print a write receipt on stdout for every acknowledged record, in\n"
	"        input order: TOPIC:PARTITION:OFFSET:LEADER_EPOCH:BATCH_CRC. Check\n"
	"        later whether the write still exists with `replog receipt`.\n"
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
	"    Nothing on stdout unless --receipts. On success one line on stderr:\n"
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
	"    seq 1 3 | replog produce --topic orders --receipts > receipts.txt\n"
	"    replog receipt < receipts.txt\n"
	"    printf 'k1:v1\\nk2:v2\\n' | replog produce --topic orders --partition 2 \\\n"
	"        --key-separator :\n"
	"    replog produce --topic metrics --acks 1 < lines.txt\n";

enum {
	PRODUCE_OPT_PARTITION = CVIEW_OPT_EXTRA,
	PRODUCE_OPT_ACKS,
	PRODUCE_OPT_KEY_SEP,
	PRODUCE_OPT_COMPRESSION,
	PRODUCE_OPT_RECEIPTS,
};

static const struct option produce_options[] = {
	CVIEW_LONG_OPTIONS,
	{"partition", required_argument, NULL, PRODUCE_OPT_PARTITION},
	{"acks", required_argument, NULL, PRODUCE_OPT_ACKS},
	{"key-separator", required_argument, NULL, PRODUCE_OPT_KEY_SEP},
	{"compression", required_argument, NULL, PRODUCE_OPT_COMPRESSION},
	{"receipts", no_argument, NULL, PRODUCE_OPT_RECEIPTS},
	{0},
};

struct produce_opts {
	struct cview_args po_args;
	int32_t po_partition;
	int16_t po_acks;
	const char *po_sep; /* borrowed from argv; NULL = no keys */
	int po_compression; /* enum replog_compression */
	bool po_receipts;
	size_t po_sep_len;
	char po_bad[256]; /* the first bad option value, "" if none */
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
	case PRODUCE_OPT_COMPRESSION:
		if (strcmp(optarg, "none") == 0)
			o->po_compression = REPLOG_COMPRESSION_NONE;
		else if (strcmp(optarg, "zstd") == 0)
			o->po_compression = REPLOG_COMPRESSION_ZSTD;
		else
			snprintf(o->po_bad, sizeof(o->po_bad),
				 "--compression '%.64s': expected none or zstd", optarg);
		break;
	case PRODUCE_OPT_RECEIPTS:
		o->po_receipts = true;
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

/* The run: libreplog's producer, the counts, the first failure. */
struct produce_run {
	const struct produce_opts *pr_opts;
	const char *pr_topic;
	replog_producer *pr_producer;
	int64_t pr_records;	 /* acknowledged (acks 0: sent) */
	int64_t pr_first_offset; /* -1 until known */
	int64_t pr_last_offset;
	int64_t pr_failed;
	char pr_error[REPLOG_ERRMSG_MAX]; /* the first failure */
};

/* Delivery callbacks come in produce order (one partition). */
static void produce_delivered(const struct replog_delivery *d, void *opaque)
{
	struct produce_run *pr = opaque;
	if (d->err) {
		if (pr->pr_failed++ == 0)
			snprintf(pr->pr_error, sizeof(pr->pr_error), "%s", d->error->message);
		return;
	}
	pr->pr_records++;
	if (d->receipt->offset >= 0) {
		if (pr->pr_first_offset < 0)
			pr->pr_first_offset = d->receipt->offset;
		pr->pr_last_offset = d->receipt->offset;
	}
	if (pr->pr_opts->po_receipts) {
		char text[REPLOG_TOPIC_MAX + 64];
		if (replog_receipt_format(d->receipt, text, sizeof(text)) > 0)
			puts(text);
	}
}

/* One line (without its newline) as one record. Returns 0 or -1 (reported). */
static int produce_line(struct produce_run *pr, const char *line, size_t len, int64_t lineno)
{
	const struct produce_opts *o = pr->pr_opts;
	const char *key = NULL, *value = line;
	size_t key_len = 0, value_len = len;
	if (o->po_sep) {
		const char *sep = memmem(line, len, o->po_sep, o->po_sep_len);
		if (sep) {
			key = line;
			key_len = (size_t)(sep - line);
			value = sep + o->po_sep_len;
			value_len = len - key_len - o->po_sep_len;
		}
	}
	struct replog_error err;
	/* A key of length 0 is an empty key, not a null one. */
	if (replog_produce(pr->pr_producer, pr->pr_topic, o->po_partition, key, key_len, value,
			   value_len, produce_delivered, pr, &err) == REPLOG_OK)
		return 0;
	fprintf(stderr, PRODUCE_PREFIX "line %" PRId64 ": %s\n", lineno, err.message);
	return -1;
}

static int produce_open(struct produce_run *pr)
{
	const struct produce_opts *o = pr->pr_opts;
	struct replog_config cfg;
	replog_config_init(&cfg);
	cfg.bootstrap = o->po_args.ca_bootstrap;
	cfg.client_id = "replog-produce";
	cfg.acks = o->po_acks;
	cfg.compression = o->po_compression;
	cfg.request_timeout_ms = o->po_args.ca_timeout_ms;
	cfg.delivery_timeout_ms = o->po_args.ca_timeout_ms;
	cfg.max_block_ms = o->po_args.ca_timeout_ms;
	cfg.buffer_bytes = PRODUCE_BUFFER_BYTES;
	cfg.auto_create_topics = true; /* as kcat: the broker decides */
	struct replog_error err;
	pr->pr_producer = replog_producer_new(&cfg, &err);
	if (!pr->pr_producer) {
		fprintf(stderr, PRODUCE_PREFIX "%s\n", err.message);
		return -1;
	}
	return 0;
}

static void produce_report(const struct produce_run *pr)
{
	const struct produce_opts *o = pr->pr_opts;
	if (pr->pr_records == 0)
		fprintf(stderr, "produced 0 records to %s-%" PRId32 "\n", pr->pr_topic,
			o->po_partition);
	else if (o->po_acks == 0)
		fprintf(stderr,
			"produced %" PRId64 " records to %s-%" PRId32
			" (acks 0: offsets not known)\n",
			pr->pr_records, pr->pr_topic, o->po_partition);
	else
		fprintf(stderr,
			"produced %" PRId64 " records to %s-%" PRId32 " (offsets %" PRId64
			"..%" PRId64 ")\n",
			pr->pr_records, pr->pr_topic, o->po_partition, pr->pr_first_offset,
			pr->pr_last_offset);
}

static int produce_run(const struct produce_opts *o)
{
	struct produce_run pr = {.pr_opts = o,
				 .pr_topic = o->po_args.ca_topics[0],
				 .pr_first_offset = -1,
				 .pr_last_offset = -1};
	if (produce_open(&pr) < 0)
		return PRODUCE_EXIT_FAILED;
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;
	int64_t lineno = 0;
	while (rc == 0 && pr.pr_failed == 0) {
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
	struct replog_error err;
	if (replog_producer_flush(pr.pr_producer, o->po_args.ca_timeout_ms * 2, &err) != 0) {
		fprintf(stderr, PRODUCE_PREFIX "%s\n", err.message);
		rc = -1;
	}
	if (pr.pr_failed) {
		fprintf(stderr, PRODUCE_PREFIX "%s\n", pr.pr_error);
		rc = -1;
	}
	if (rc == 0)
		produce_report(&pr);
	else
		fprintf(stderr, PRODUCE_PREFIX "%" PRId64 " records were acknowledged before\n",
			pr.pr_records);
	free(line);
	replog_producer_destroy(pr.pr_producer);
	fflush(stdout);
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
