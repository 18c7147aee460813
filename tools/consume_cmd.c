/*
 * consume_cmd — `replog consume` (API in consume_cmd.h).
 *
 * What this file owns: the command line, the format (a subset of kcat's
 * -f, parsed once into a list of pieces), the ListOffsets that fix where
 * to start and, without --follow, where to stop (the high watermark seen
 * at start, as `kcat -e` does), and the Fetch loop that prints records.
 *
 * A Fetch answer is raw log bytes: whole batches, the last possibly cut
 * short by the size limit (it is fetched again next time). A batch may
 * start before the offset asked for (records before it are skipped);
 * control batches are not printed; zstd batches are decompressed into one
 * buffer allocated at start (CONSUME_MAX_RECORDS_BYTES).
 *
 * Errors: NOT_LEADER_OR_FOLLOWER, LEADER_NOT_AVAILABLE, FENCED_LEADER_EPOCH
 * or a leader that stops answering: the leader is looked for again within
 * --timeout-ms. OFFSET_OUT_OF_RANGE and every other error end the run
 * (exit 1).
 */
#include "consume_cmd.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "cluster_view.h"
#include "compress.h"
#include "kp_api.h"
#include "record.h"
#include "rlassert.h"
#include "rlerr.h"

#define CONSUME_PREFIX		    "replog consume: "
#define CONSUME_FETCH_VERSION	    11
#define CONSUME_LISTOFFSETS_VERSION 1
/* Per Fetch: the broker answers with at least one whole batch even when it
 * is larger (KIP-74), so this bounds the usual answer, not the largest. */
#define CONSUME_FETCH_MAX_BYTES (1 << 20)
#define CONSUME_MAX_WAIT_MS	500
/* The decompressed records of one batch (the broker's largest batch is
 * ~1 MiB compressed; zstd rarely gains more than 16x on log lines). */
#define CONSUME_MAX_RECORDS_BYTES (16 << 20)
#define CONSUME_FORMAT_MAX	  64 /* pieces in --format */
#define CONSUME_DEFAULT_FORMAT	  "%v\\n"

const char consume_help[] =
	"NAME\n"
	"    replog consume - print the records of one partition\n"
	"\n"
	"SYNOPSIS\n"
	"    replog consume --topic TOPIC [--partition N] [--offset beginning|end|N]\n"
	"                   [--count N] [--follow] [--format FMT]\n"
	"                   [--bootstrap-server HOST:PORT[,HOST:PORT...]]\n"
	"                   [--timeout-ms N]\n"
	"    replog consume --help\n"
	"\n"
	"DESCRIPTION\n"
	"    Like `kcat -C -e`: a Metadata request (v7) to the first bootstrap server\n"
	"    that answers names the partition's leader; ListOffsets (v1) asks it for\n"
	"    the start offset and the high watermark; Fetch requests (v11) read the\n"
	"    records from the start offset on, each printed with FMT. Without\n"
	"    --follow the command stops at the high watermark it saw at start: what\n"
	"    is written after that is not printed. With --follow it waits for new\n"
	"    records until it is stopped (or --count is reached). No consumer group\n"
	"    is used and no offset is committed. Control batches (transaction\n"
	"    markers) are not printed; zstd batches are decompressed.\n"
	"\n"
	"    When the leader moves (NOT_LEADER_OR_FOLLOWER, LEADER_NOT_AVAILABLE,\n"
	"    FENCED_LEADER_EPOCH) or stops answering, the metadata is asked again\n"
	"    and the new leader fetched from, within --timeout-ms.\n"
	"\n"
	"OPTIONS\n"
	"    -t, --topic TOPIC\n"
	"        The topic (required, exactly once). It must exist.\n"
	"    --partition N\n"
	"        The partition (default 0).\n"
	"    --offset beginning|end|N\n"
	"        Where to start (default beginning): the log start offset, the high\n"
	"        watermark (only new records; useful with --follow), or offset N.\n"
	"        An offset outside the log is an error (OFFSET_OUT_OF_RANGE).\n"
	"    --count N\n"
	"        Stop after N records (N >= 1), like kcat -c.\n"
	"    --follow\n"
	"        Do not stop at the high watermark; wait for new records.\n"
	"    --format FMT\n"
	"        How each record is printed (default \"%v\\n\"), a subset of kcat -f:\n"
	"            %v, %s  value      %k  key          %o  offset\n"
	"            %p      partition  %t  topic        %T  timestamp (ms)\n"
	"            %%      a %        \\n  newline      \\t  tab    \\\\  a backslash\n"
	"        A null key or value prints as nothing.\n"
	"    -b, --bootstrap-server HOST:PORT[,HOST:PORT...]\n"
	"        Brokers to ask for the Metadata, tried in order until one answers\n"
	"        (default 127.0.0.1:9092).\n"
	"    --timeout-ms N\n"
	"        Time allowed for each broker and each request, connecting included,\n"
	"        and for finding a leader again (default 5000, at most 600000).\n"
	"    -h, --help\n"
	"        Print this manual.\n"
	"\n"
	"OUTPUT\n"
	"    On stdout, each record as FMT says, in offset order, nothing else.\n"
	"    Errors on stderr, prefixed \"replog consume: \", with the Kafka error name\n"
	"    and code, e.g. \"OFFSET_OUT_OF_RANGE (1)\".\n"
	"\n"
	"EXIT STATUS\n"
	"    0   the records up to the high watermark seen at start (or --count of\n"
	"        them) were printed.\n"
	"    1   the topic or partition does not exist, the offset is out of range,\n"
	"        no bootstrap server or leader answered in time, another Fetch\n"
	"        error, an invalid batch, or stdout could not be written.\n"
	"    2   usage error.\n"
	"\n"
	"EXAMPLES\n"
	"    replog consume -b 127.0.0.1:9092 --topic orders\n"
	"    replog consume --topic orders --partition 1 --offset 100 --count 10\n"
	"    replog consume --topic orders --format '%o\\t%k=%v\\n'\n"
	"    replog consume --topic orders --offset end --follow\n";

enum {
	CONSUME_OPT_PARTITION = CVIEW_OPT_EXTRA,
	CONSUME_OPT_OFFSET,
	CONSUME_OPT_COUNT,
	CONSUME_OPT_FOLLOW,
	CONSUME_OPT_FORMAT,
};

static const struct option consume_options[] = {
	CVIEW_LONG_OPTIONS,
	{"partition", required_argument, NULL, CONSUME_OPT_PARTITION},
	{"offset", required_argument, NULL, CONSUME_OPT_OFFSET},
	{"count", required_argument, NULL, CONSUME_OPT_COUNT},
	{"follow", no_argument, NULL, CONSUME_OPT_FOLLOW},
	{"format", required_argument, NULL, CONSUME_OPT_FORMAT},
	{0},
};

/* One piece of the format: literal text, or a field. */
enum consume_field {
	CONSUME_F_TEXT,
	CONSUME_F_VALUE,
	CONSUME_F_KEY,
	CONSUME_F_OFFSET,
	CONSUME_F_PARTITION,
	CONSUME_F_TOPIC,
	CONSUME_F_TIMESTAMP,
};

struct consume_piece {
	enum consume_field cp_field;
	size_t cp_start; /* CONSUME_F_TEXT: its bytes in co_text */
	size_t cp_len;
};

#define CONSUME_START_BEGINNING (-2)
#define CONSUME_START_END	(-1)

struct consume_opts {
	struct cview_args co_args;
	int32_t co_partition;
	int64_t co_start; /* an offset, or CONSUME_START_* */
	int64_t co_count; /* 0 = no limit */
	bool co_follow;
	const char *co_format; /* borrowed from argv, or the default */
	char co_text[1024];    /* the format's literal text, escapes resolved */
	struct consume_piece co_pieces[CONSUME_FORMAT_MAX];
	int co_npieces;
	char co_bad[256]; /* the first bad option value, "" if none */
};

__attribute__((format(printf, 1, 2))) static int consume_usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs(CONSUME_PREFIX, stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'replog consume --help' for more information.\n", stderr);
	return CONSUME_EXIT_USAGE;
}

static bool consume_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (end == s || *end || errno || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static void consume_extra_option(int opt, void *ctx)
{
	struct consume_opts *o = ctx;
	if (o->co_bad[0])
		return;
	int64_t v;
	switch (opt) {
	case CONSUME_OPT_PARTITION:
		if (!consume_parse_i64(optarg, 0, INT32_MAX, &v))
			snprintf(o->co_bad, sizeof(o->co_bad),
				 "--partition '%.64s': expected a partition from 0 to %d", optarg,
				 INT32_MAX);
		else
			o->co_partition = (int32_t)v;
		break;
	case CONSUME_OPT_OFFSET:
		if (strcmp(optarg, "beginning") == 0)
			o->co_start = CONSUME_START_BEGINNING;
		else if (strcmp(optarg, "end") == 0)
			o->co_start = CONSUME_START_END;
		else if (consume_parse_i64(optarg, 0, INT64_MAX, &v))
			o->co_start = v;
		else
			snprintf(o->co_bad, sizeof(o->co_bad),
				 "--offset '%.64s': expected beginning, end or an offset >= 0",
				 optarg);
		break;
	case CONSUME_OPT_COUNT:
		if (!consume_parse_i64(optarg, 1, INT64_MAX, &v))
			snprintf(o->co_bad, sizeof(o->co_bad),
				 "--count '%.64s': expected a count >= 1", optarg);
		else
			o->co_count = v;
		break;
	case CONSUME_OPT_FOLLOW:
		o->co_follow = true;
		break;
	case CONSUME_OPT_FORMAT:
		o->co_format = optarg;
		break;
	default:
		break;
	}
}

/* Parse co_format into co_pieces. Returns 0, or -1 with co_bad set. */
static int consume_parse_format(struct consume_opts *o)
{
	const char *f = o->co_format;
	size_t tlen = 0;
	o->co_npieces = 0;
	for (size_t i = 0; f[i];) {
		enum consume_field field = CONSUME_F_TEXT;
		char c = 0;
		if (f[i] == '%' || f[i] == '\\') {
			char k = f[i + 1];
			if (f[i] == '%') {
				switch (k) {
				case 'v':
				case 's':
					field = CONSUME_F_VALUE;
					break;
				case 'k':
					field = CONSUME_F_KEY;
					break;
				case 'o':
					field = CONSUME_F_OFFSET;
					break;
				case 'p':
					field = CONSUME_F_PARTITION;
					break;
				case 't':
					field = CONSUME_F_TOPIC;
					break;
				case 'T':
					field = CONSUME_F_TIMESTAMP;
					break;
				case '%':
					c = '%';
					break;
				default:
					snprintf(o->co_bad, sizeof(o->co_bad),
						 "--format: unknown token '%%%c' (known: %%v %%s "
						 "%%k "
						 "%%o %%p %%t %%T %%%%)",
						 k ? k : ' ');
					return -1;
				}
			} else {
				switch (k) {
				case 'n':
					c = '\n';
					break;
				case 't':
					c = '\t';
					break;
				case '\\':
					c = '\\';
					break;
				default:
					snprintf(o->co_bad, sizeof(o->co_bad),
						 "--format: unknown escape '\\%c' (known: \\n \\t "
						 "\\\\)",
						 k ? k : ' ');
					return -1;
				}
			}
			i += 2;
		} else {
			c = f[i++];
		}
		if (field == CONSUME_F_TEXT) {
			if (tlen >= sizeof(o->co_text)) {
				snprintf(o->co_bad, sizeof(o->co_bad),
					 "--format: more than %zu bytes of text",
					 sizeof(o->co_text));
				return -1;
			}
			o->co_text[tlen] = c;
			struct consume_piece *last =
				o->co_npieces ? &o->co_pieces[o->co_npieces - 1] : NULL;
			if (last && last->cp_field == CONSUME_F_TEXT) {
				last->cp_len++;
				tlen++;
				continue;
			}
		}
		if (o->co_npieces >= CONSUME_FORMAT_MAX) {
			snprintf(o->co_bad, sizeof(o->co_bad), "--format: more than %d pieces",
				 CONSUME_FORMAT_MAX);
			return -1;
		}
		o->co_pieces[o->co_npieces++] = (struct consume_piece){
			.cp_field = field, .cp_start = tlen, .cp_len = field == CONSUME_F_TEXT};
		if (field == CONSUME_F_TEXT)
			tlen++;
	}
	return 0;
}

/* The run: the leader connection, where we are, where we stop. */
struct consume_run {
	const struct consume_opts *cr_opts;
	const char *cr_topic;
	struct kclient cr_conn;
	int32_t cr_leader_id;
	int64_t cr_offset; /* the next offset to print */
	int64_t cr_stop;   /* without --follow: stop before it */
	int64_t cr_printed;
	uint8_t *cr_records; /* owned: decompressed records, CONSUME_MAX_RECORDS_BYTES */
};

static void consume_print(const struct consume_run *cr, int64_t offset, int64_t ts,
			  const struct record *r)
{
	const struct consume_opts *o = cr->cr_opts;
	for (int i = 0; i < o->co_npieces; i++) {
		const struct consume_piece *p = &o->co_pieces[i];
		switch (p->cp_field) {
		case CONSUME_F_TEXT:
			fwrite(o->co_text + p->cp_start, 1, p->cp_len, stdout);
			break;
		case CONSUME_F_VALUE:
			if (r->r_value_len > 0)
				fwrite(r->r_value, 1, (size_t)r->r_value_len, stdout);
			break;
		case CONSUME_F_KEY:
			if (r->r_key_len > 0)
				fwrite(r->r_key, 1, (size_t)r->r_key_len, stdout);
			break;
		case CONSUME_F_OFFSET:
			printf("%" PRId64, offset);
			break;
		case CONSUME_F_PARTITION:
			printf("%" PRId32, o->co_partition);
			break;
		case CONSUME_F_TOPIC:
			fputs(cr->cr_topic, stdout);
			break;
		case CONSUME_F_TIMESTAMP:
			printf("%" PRId64, ts);
			break;
		}
	}
}

static bool consume_done(const struct consume_run *cr)
{
	const struct consume_opts *o = cr->cr_opts;
	if (o->co_count && cr->cr_printed >= o->co_count)
		return true;
	return !o->co_follow && cr->cr_offset >= cr->cr_stop;
}

/* Print the records of one batch from cr_offset on. Returns 0 or -1
 * (reported). */
static int consume_batch(struct consume_run *cr, const struct batch_header *h, const uint8_t *batch,
			 size_t size)
{
	if (batch_next_offset(h) <= cr->cr_offset)
		return 0;
	if (h->bh_attributes & BATCH_ATTR_CONTROL) {
		cr->cr_offset = batch_next_offset(h);
		return 0;
	}
	const uint8_t *region = batch + BATCH_HEADER_BYTES;
	size_t len = size - BATCH_HEADER_BYTES;
	int codec = batch_codec(h);
	if (codec != BATCH_CODEC_NONE) {
		int64_t n = decompress_records(codec, cr->cr_records, CONSUME_MAX_RECORDS_BYTES,
					       region, len);
		if (n < 0) {
			fprintf(stderr,
				CONSUME_PREFIX "the %s batch at offset %" PRId64
					       " cannot be decompressed: %s\n",
				batch_codec_name(codec), h->bh_base_offset, rl_strerror((int)n));
			return -1;
		}
		region = cr->cr_records;
		len = (size_t)n;
	}
	struct record_iter it;
	struct record r;
	record_iter_init(&it, region, len, h->bh_records_count);
	for (;;) {
		int rc = record_iter_next(&it, &r);
		if (rc == 0)
			break;
		if (rc < 0) {
			fprintf(stderr,
				CONSUME_PREFIX "invalid record in the batch at offset %" PRId64
					       ": %s\n",
				h->bh_base_offset, rl_strerror(rc));
			return -1;
		}
		int64_t offset = h->bh_base_offset + r.r_offset_delta;
		if (offset < cr->cr_offset)
			continue;
		if (consume_done(cr))
			return 0;
		int64_t ts = (h->bh_attributes & BATCH_ATTR_LOG_APPEND_TIME)
				     ? h->bh_max_timestamp
				     : h->bh_base_timestamp + r.r_timestamp_delta;
		consume_print(cr, offset, ts, &r);
		cr->cr_printed++;
		cr->cr_offset = offset + 1;
	}
	if (!consume_done(cr))
		cr->cr_offset = batch_next_offset(h);
	return 0;
}

/* ListOffsets for one timestamp (-2 earliest, -1 latest). Returns 0 with
 * *offset, a Kafka error code > 0, or -1 when the leader did not answer. */
static int consume_list_offset(struct consume_run *cr, int64_t timestamp, int64_t *offset)
{
	struct kp_listoffsets_partition lp = {.partition_index = cr->cr_opts->co_partition,
					      .timestamp = timestamp,
					      .max_num_offsets = 1};
	struct kp_listoffsets_topic lt = {
		.name = kp_str_from_cstr(cr->cr_topic), .partitions = &lp, .partitions_count = 1};
	union kp_request_body req = {
		.list_offsets = {.replica_id = -1, .topics = &lt, .topics_count = 1}};
	union kp_response_body resp;
	kclient_renew(&cr->cr_conn);
	if (kclient_call(&cr->cr_conn, KP_API_LIST_OFFSETS, CONSUME_LISTOFFSETS_VERSION, &req,
			 &resp) < 0)
		return -1;
	const struct kp_listoffsets_response *r = &resp.list_offsets;
	if (r->topics_count != 1 || r->topics[0].partitions_count != 1)
		return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	const struct kp_listoffsets_partition_response *p = &r->topics[0].partitions[0];
	if (p->error_code != KP_ERR_NONE)
		return p->error_code;
	*offset = p->offset;
	return 0;
}

static bool consume_leader_moved(int kerr)
{
	return kerr == KP_ERR_NOT_LEADER_OR_FOLLOWER || kerr == KP_ERR_LEADER_NOT_AVAILABLE ||
	       kerr == KP_ERR_FENCED_LEADER_EPOCH;
}

/* Find and connect to the leader. Returns 0 or -1 (reported). */
static int consume_connect(struct consume_run *cr)
{
	const struct consume_opts *o = cr->cr_opts;
	return cview_connect_leader(CONSUME_PREFIX, o->co_args.ca_bootstrap, cr->cr_topic,
				    o->co_partition, o->co_args.ca_timeout_ms,
				    cview_now_ms() + o->co_args.ca_timeout_ms, false, &cr->cr_conn,
				    &cr->cr_leader_id);
}

/* The start offset and the high watermark, from the leader. Returns 0 or
 * -1 (reported). */
static int consume_offsets(struct consume_run *cr)
{
	const struct consume_opts *o = cr->cr_opts;
	int64_t deadline_ms = cview_now_ms() + o->co_args.ca_timeout_ms;
	for (;;) {
		int64_t hw = -1, start = o->co_start;
		int rc = consume_list_offset(cr, KP_LISTOFFSETS_LATEST_TIMESTAMP, &hw);
		if (rc == 0 && start == CONSUME_START_BEGINNING)
			rc = consume_list_offset(cr, KP_LISTOFFSETS_EARLIEST_TIMESTAMP, &start);
		if (rc == 0) {
			cr->cr_stop = hw;
			cr->cr_offset = start == CONSUME_START_END ? hw : start;
			return 0;
		}
		if (rc > 0 && !consume_leader_moved(rc)) {
			fprintf(stderr,
				CONSUME_PREFIX "%s (%d): ListOffsets for %s-%" PRId32
					       " on broker %" PRId32 "\n",
				kp_error_name((int16_t)rc), rc, cr->cr_topic, o->co_partition,
				cr->cr_leader_id);
			return -1;
		}
		if (cview_now_ms() + CVIEW_LEADER_BACKOFF_MS >= deadline_ms) {
			if (rc < 0)
				fprintf(stderr, CONSUME_PREFIX "%s\n",
					kclient_errmsg(&cr->cr_conn));
			else
				fprintf(stderr,
					CONSUME_PREFIX "%s (%d): ListOffsets for %s-%" PRId32 "\n",
					kp_error_name((int16_t)rc), rc, cr->cr_topic,
					o->co_partition);
			return -1;
		}
		cview_sleep_ms(CVIEW_LEADER_BACKOFF_MS);
		if (consume_connect(cr) < 0)
			return -1;
	}
}

/* One Fetch and its records. Returns 0, 1 when the leader moved (look for
 * it again), or -1 (reported). */
static int consume_fetch(struct consume_run *cr)
{
	const struct consume_opts *o = cr->cr_opts;
	struct kp_fetch_partition fp = {.partition = o->co_partition,
					.current_leader_epoch = -1,
					.fetch_offset = cr->cr_offset,
					.log_start_offset = -1,
					.partition_max_bytes = CONSUME_FETCH_MAX_BYTES};
	struct kp_fetch_topic ft = {
		.topic = kp_str_from_cstr(cr->cr_topic), .partitions = &fp, .partitions_count = 1};
	int max_wait_ms = CONSUME_MAX_WAIT_MS;
	if (max_wait_ms > o->co_args.ca_timeout_ms / 2)
		max_wait_ms = o->co_args.ca_timeout_ms / 2;
	union kp_request_body req = {.fetch = {.replica_id = -1,
					       .max_wait_ms = max_wait_ms,
					       .min_bytes = 1,
					       .max_bytes = CONSUME_FETCH_MAX_BYTES,
					       .isolation_level = 0,
					       .session_id = 0,
					       .session_epoch = -1,
					       .topics = &ft,
					       .topics_count = 1,
					       .forgotten_topics_data = NULL,
					       .forgotten_topics_data_count = 0,
					       .rack_id = KP_STR("")}};
	union kp_response_body resp;
	kclient_renew(&cr->cr_conn);
	if (kclient_call(&cr->cr_conn, KP_API_FETCH, CONSUME_FETCH_VERSION, &req, &resp) < 0)
		return 1;
	const struct kp_fetch_response *r = &resp.fetch;
	int kerr = r->error_code;
	const struct kp_fetch_partition_data *p = NULL;
	if (kerr == KP_ERR_NONE) {
		if (r->responses_count != 1 || r->responses[0].partitions_count != 1)
			kerr = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		else
			p = &r->responses[0].partitions[0];
	}
	if (p)
		kerr = p->error_code;
	if (consume_leader_moved(kerr))
		return 1;
	if (kerr != KP_ERR_NONE) {
		fprintf(stderr,
			CONSUME_PREFIX "%s (%d): Fetch of %s-%" PRId32 " at offset %" PRId64
				       " from broker %" PRId32 "\n",
			kp_error_name((int16_t)kerr), kerr, cr->cr_topic, o->co_partition,
			cr->cr_offset, cr->cr_leader_id);
		return -1;
	}
	if (p->records.len <= 0)
		return 0;
	struct batch_iter it;
	batch_iter_init(&it, p->records.ptr, (size_t)p->records.len);
	for (;;) {
		struct batch_header h;
		const uint8_t *batch;
		size_t size;
		int rc = batch_iter_next(&it, &h, &batch, &size);
		if (rc == 0)
			break;
		if (rc < 0) {
			/* The last batch cut short is fetched again next time; one
			 * cut short at the start of the answer would never come
			 * whole, and anything else is an invalid batch. */
			if (rc == RL_ETRUNCATED && it.bi_pos > 0)
				break;
			fprintf(stderr,
				CONSUME_PREFIX "invalid batch at offset %" PRId64
					       " from broker %" PRId32 ": %s\n",
				cr->cr_offset, cr->cr_leader_id, rl_strerror(rc));
			return -1;
			break;
		}
		if (consume_batch(cr, &h, batch, size) < 0)
			return -1;
		if (consume_done(cr))
			break;
	}
	return 0;
}

static int consume_run(const struct consume_opts *o)
{
	struct consume_run cr = {
		.cr_opts = o, .cr_topic = o->co_args.ca_topics[0], .cr_conn = {.kc_fd = -1}};
	int rc = consume_connect(&cr);
	if (rc == 0)
		rc = consume_offsets(&cr);
	if (rc == 0) {
		cr.cr_records = malloc(CONSUME_MAX_RECORDS_BYTES);
		if (!cr.cr_records) {
			fprintf(stderr, CONSUME_PREFIX "out of memory\n");
			rc = -1;
		}
	}
	int64_t moved_since_ms = -1; /* when the leader was first seen gone */
	/* An offset given is fetched at least once, so one outside the log is
	 * refused (OFFSET_OUT_OF_RANGE) even past the high watermark. */
	bool must_fetch = o->co_start >= 0;
	while (rc == 0 && (must_fetch || !consume_done(&cr))) {
		int frc = consume_fetch(&cr);
		if (fflush(stdout) != 0 || ferror(stdout)) {
			fprintf(stderr, CONSUME_PREFIX "cannot write the output\n");
			rc = -1;
			break;
		}
		if (frc < 0) {
			rc = -1;
			break;
		}
		if (frc == 0) {
			must_fetch = false;
			moved_since_ms = -1;
			continue;
		}
		/* The leader moved or stopped answering: look for it again. */
		int64_t now = cview_now_ms();
		if (moved_since_ms < 0)
			moved_since_ms = now;
		if (now - moved_since_ms >= o->co_args.ca_timeout_ms) {
			fprintf(stderr, CONSUME_PREFIX "lost the leader of %s-%" PRId32 ": %s\n",
				cr.cr_topic, o->co_partition,
				kclient_errmsg(&cr.cr_conn)[0] ? kclient_errmsg(&cr.cr_conn)
							       : "it no longer leads");
			rc = -1;
			break;
		}
		cview_sleep_ms(CVIEW_LEADER_BACKOFF_MS);
		rc = consume_connect(&cr);
	}
	free(cr.cr_records);
	kclient_deinit(&cr.cr_conn);
	return rc == 0 ? CONSUME_EXIT_OK : CONSUME_EXIT_FAILED;
}

int consume_main(int argc, char **argv)
{
	struct consume_opts o = {.co_start = CONSUME_START_BEGINNING,
				 .co_format = CONSUME_DEFAULT_FORMAT};
	struct cview_cli cli = {.cc_prefix = CONSUME_PREFIX,
				.cc_name = "replog consume",
				.cc_help = consume_help,
				.cc_options = consume_options,
				.cc_extra = consume_extra_option,
				.cc_ctx = &o};
	int rc = cview_parse_args(argc, argv, &cli, &o.co_args);
	if (rc >= 0)
		return rc;
	if (o.co_bad[0])
		return consume_usage_error("%s", o.co_bad);
	if (o.co_args.ca_ntopics != 1)
		return consume_usage_error("exactly one --topic is needed, got %d",
					   o.co_args.ca_ntopics);
	if (consume_parse_format(&o) < 0)
		return consume_usage_error("%s", o.co_bad);
	return consume_run(&o);
}
