/*
 * Description: mklog — writes a partition log through the real storage
 * engine for the tool tests, and prints what it wrote as JSON.
 *
 * Test-only. Every byte goes through the code the broker runs: plog_open on
 * the synchronous io engine, batches from batch_builder appended with
 * plog_append_leader (which stamps offsets and the leader epoch and keeps
 * the indexes and the leader-epoch checkpoint), plog_checkpoint_hw, then
 * plog_close or, with --unclean, plog_close_unclean (what a crash leaves).
 * --truncate N moves the last N batches to discarded/ with
 * plog_truncate_preserving, as a follower truncating to its leader does.
 *
 * Everything is deterministic: record contents come from --seed through
 * xorshift64*, timestamps count up from --timestamp, and the log's clock
 * (which names discard files) is fixed by --now-ms.
 *
 * stdout is one JSON object (keys/values as hex, null as null):
 *   {"batches":[{"baseOffset":0,"lastOffset":2,"count":3,"epoch":0,
 *     "codec":"zstd","size":120,"maxTimestamp":...,"discarded":false,
 *     "records":[{"offset":0,"timestamp":...,"key":"6b..","value":"..",
 *                 "headers":[["h0","76.."],["h1",null]]}]}],
 *    "logEndOffset":N,"highWatermark":H,
 *    "truncation":{"name":..,"reason":..,"timeMs":..,"firstOffset":..,
 *      "nextOffset":..,"batches":..,"bytes":..,"epochMin":..,"epochMax":..,
 *      "segment":..,"position":..,"detail":..} or null}
 * Exit: 0 written, 1 the storage engine failed (named on stderr), 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "batch_builder.h"
#include "discard.h"
#include "io.h"
#include "plog.h"
#include "rlerr.h"

#define MKLOG_MAX_HEADERS      3
#define MKLOG_KEY_MAX	       48
#define MKLOG_HEADER_VALUE_MAX 48

struct mklog_opts {
	const char *mo_dir;
	int mo_batches;
	int mo_records;
	int mo_value_size;
	bool mo_binary;
	int mo_codec;
	uint64_t mo_segment_bytes;
	uint32_t mo_index_interval;
	int32_t mo_epoch;
	int mo_epoch_every;
	bool mo_keys;
	bool mo_headers;
	bool mo_null_values;
	int64_t mo_producer_id;
	bool mo_log_append_time;
	int64_t mo_timestamp;
	int64_t mo_now_ms;
	uint64_t mo_seed;
	int mo_truncate;
	const char *mo_reason;
	int64_t mo_hw;
	bool mo_unclean;
};

/* One record as generated (the JSON is printed from this). */
struct mklog_record {
	uint8_t *mr_key; /* NULL = null */
	int32_t mr_key_len;
	uint8_t *mr_value; /* NULL = null */
	int32_t mr_value_len;
	int mr_header_count;
	struct batch_builder_header mr_headers[MKLOG_MAX_HEADERS];
	uint8_t mr_key_buf[MKLOG_KEY_MAX];
	char mr_hkeys[MKLOG_MAX_HEADERS][12];
	uint8_t mr_hvals[MKLOG_MAX_HEADERS][MKLOG_HEADER_VALUE_MAX];
};

static uint64_t mklog_rand(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9E3779B97F4A7C15ull;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

/* Binary values draw from pieces that exercise dump-log's escaping:
 * printable ASCII, controls, DEL, a backslash, bytes that are never UTF-8,
 * well-formed multi-byte characters, a C1 control and a cut sequence. */
static const char *const mklog_binary_pieces[] = {
	"a",
	"Z",
	" ",
	"~",
	"\x00",
	"\x01",
	"\n",
	"\x7f",
	"\\",
	"\xff",
	"\xfe",
	"\xc3\xa9" /* e-acute */,
	"\xe2\x82\xac" /* euro */,
	"\xf0\x9f\x98\x80" /* emoji */,
	"\xc2\x85" /* C1 NEL */,
	"\xc3" /* cut */,
	"\xed\xa0\x80" /* surrogate */,
};

static void mklog_fill_value(uint8_t *v, int32_t len, bool binary, uint64_t *seed)
{
	static const char ascii[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	int32_t i = 0;
	while (i < len) {
		if (!binary) {
			v[i++] = (uint8_t)ascii[mklog_rand(seed) % (sizeof(ascii) - 1)];
			continue;
		}
		size_t npieces = sizeof(mklog_binary_pieces) / sizeof(mklog_binary_pieces[0]);
		size_t k = mklog_rand(seed) % npieces;
		const char *piece = mklog_binary_pieces[k];
		size_t plen = k == 4 ? 1 : strlen(piece); /* "\x00" has strlen 0 */
		for (size_t j = 0; j < plen && i < len; j++)
			v[i++] = (uint8_t)piece[j];
	}
}

static void mklog_make_record(const struct mklog_opts *o, int batch, int rec, uint8_t *value,
			      uint64_t *seed, struct mklog_record *r)
{
	memset(r, 0, sizeof(*r));
	r->mr_key_len = -1;
	if (o->mo_keys && rec % 3 != 2) {
		r->mr_key_len = snprintf((char *)r->mr_key_buf, sizeof(r->mr_key_buf), "key-%d-%d",
					 batch, rec);
		r->mr_key = r->mr_key_buf;
	}
	r->mr_value_len = o->mo_value_size;
	r->mr_value = value;
	mklog_fill_value(value, o->mo_value_size, o->mo_binary, seed);
	if (o->mo_null_values && rec % 4 == 3) {
		r->mr_value = NULL;
		r->mr_value_len = -1;
	}
	if (!o->mo_headers)
		return;
	r->mr_header_count = rec % (MKLOG_MAX_HEADERS + 1);
	for (int h = 0; h < r->mr_header_count; h++) {
		struct batch_builder_header *bh = &r->mr_headers[h];
		snprintf(r->mr_hkeys[h], sizeof(r->mr_hkeys[h]), "h%d", h);
		bh->bbh_key = (const uint8_t *)r->mr_hkeys[h];
		bh->bbh_key_len = (int32_t)strlen(r->mr_hkeys[h]);
		if (h == 1) {
			bh->bbh_value = NULL;
			bh->bbh_value_len = -1;
		} else {
			bh->bbh_value_len = snprintf((char *)r->mr_hvals[h], sizeof(r->mr_hvals[h]),
						     "v%d.%d.%d", batch, rec, h);
			bh->bbh_value = r->mr_hvals[h];
		}
	}
}

static void json_hex(FILE *out, const uint8_t *p, int32_t len)
{
	if (!p || len < 0) {
		fputs("null", out);
		return;
	}
	putc('"', out);
	for (int32_t i = 0; i < len; i++)
		fprintf(out, "%02x", p[i]);
	putc('"', out);
}

/* Only for our own ASCII strings (reasons, details, names). */
static void json_str(FILE *out, const char *s)
{
	putc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			putc('\\', out);
		if ((unsigned char)*s < 0x20)
			fprintf(out, "\\u%04x", (unsigned char)*s);
		else
			putc(*s, out);
	}
	putc('"', out);
}

static void json_record(FILE *out, const struct mklog_record *r, int64_t offset, int64_t ts)
{
	fprintf(out, "{\"offset\":%" PRId64 ",\"timestamp\":%" PRId64 ",\"key\":", offset, ts);
	json_hex(out, r->mr_key, r->mr_key_len);
	fputs(",\"value\":", out);
	json_hex(out, r->mr_value, r->mr_value_len);
	fputs(",\"headers\":[", out);
	for (int h = 0; h < r->mr_header_count; h++) {
		const struct batch_builder_header *bh = &r->mr_headers[h];
		fprintf(out, "%s[", h ? "," : "");
		json_str(out, r->mr_hkeys[h]);
		putc(',', out);
		json_hex(out, bh->bbh_value, bh->bbh_value_len);
		putc(']', out);
	}
	fputs("]}", out);
}

static int64_t mklog_clock(void *ctx)
{
	return *(const int64_t *)ctx;
}

static void mklog_done(struct plog_append *pa, int res)
{
	*(int *)pa->pa_ctx = res;
}

struct mklog_batch_info {
	int64_t bi_base;
	int64_t bi_last;
	int32_t bi_epoch;
};

/* Build batch number b into buf, append it, and print it as JSON (its
 * records are printed into a memory stream while they are generated, and
 * copied out once the append succeeded). Returns 0 or an RL_E* / -errno
 * code. */
static int mklog_one_batch(const struct mklog_opts *o, struct plog *log, int b, uint8_t *buf,
			   size_t cap, uint8_t *value, uint64_t *seed, int64_t *ts, int32_t *seq,
			   int32_t epoch, FILE *out, struct mklog_batch_info *bi)
{
	struct batch_builder bb;
	int64_t first_ts = *ts;
	int64_t base = plog_end_offset(log); /* a leader assigns offsets from the log end */
	int rc = batch_builder_init(&bb, buf, cap, o->mo_codec, first_ts, o->mo_producer_id,
				    o->mo_producer_id >= 0 ? 0 : -1,
				    o->mo_producer_id >= 0 ? *seq : -1);
	if (rc < 0)
		return rc;
	char *recs = NULL;
	size_t recs_len = 0;
	FILE *rj = open_memstream(&recs, &recs_len);
	if (!rj)
		return -ENOMEM;
	for (int j = 0; j < o->mo_records && rc == 0; j++) {
		struct mklog_record r;
		mklog_make_record(o, b, j, value, seed, &r);
		rc = batch_builder_add(&bb, *ts, r.mr_key, r.mr_key_len, r.mr_value, r.mr_value_len,
				       r.mr_headers, r.mr_header_count);
		if (j)
			putc(',', rj);
		json_record(rj, &r, base + j, *ts);
		(*ts)++;
	}
	fclose(rj);
	int64_t total = rc == 0 ? batch_builder_finish(&bb) : rc;
	if (total < 0) {
		free(recs);
		return (int)total;
	}
	if (o->mo_log_append_time) {
		uint16_t attr = be16_load(buf + BATCH_OFF_ATTRIBUTES) | BATCH_ATTR_LOG_APPEND_TIME;
		be16_store(buf + BATCH_OFF_ATTRIBUTES, attr);
		batch_crc_update(buf, (size_t)total);
	}
	struct plog_append pa = {.pa_done = mklog_done};
	int done = 1;
	pa.pa_ctx = &done;
	rc = plog_append_leader(log, &pa, buf, (size_t)total, epoch);
	if (rc == 0)
		rc = plog_wait_idle(log);
	if (rc == 0)
		rc = done;
	if (rc < 0) {
		free(recs);
		return rc;
	}
	struct batch_header h;
	batch_header_decode(buf, (size_t)total, &h);
	bi->bi_base = pa.pa_base_offset;
	bi->bi_last = pa.pa_last_offset;
	bi->bi_epoch = epoch;
	fprintf(out,
		"%s{\"baseOffset\":%" PRId64 ",\"lastOffset\":%" PRId64 ",\"count\":%d,"
		"\"epoch\":%" PRId32 ",\"codec\":\"%s\",\"size\":%" PRId64
		",\"maxTimestamp\":%" PRId64 ",\"baseSequence\":%" PRId32 ",\"records\":[",
		b ? "," : "", pa.pa_base_offset, pa.pa_last_offset, o->mo_records, epoch,
		batch_codec_name(batch_codec(&h)), total, h.bh_max_timestamp, h.bh_base_sequence);
	if (pa.pa_base_offset != base) {
		fprintf(stderr, "mklog: offsets assigned from %" PRId64 ", expected %" PRId64 "\n",
			pa.pa_base_offset, base);
		free(recs);
		return RL_ECORRUPT;
	}
	fputs(recs, out);
	fputs("]", out);
	free(recs);
	if (o->mo_producer_id >= 0)
		*seq += o->mo_records;
	return 0;
}

static int mklog_truncate(const struct mklog_opts *o, struct plog *log, int64_t offset, FILE *out)
{
	struct plog_truncation tr;
	struct discard_info di;
	char detail[96];
	snprintf(detail, sizeof(detail), "mklog: truncated to offset %" PRId64, offset);
	int rc = plog_truncate_preserving(log, offset, o->mo_reason, detail, &tr, &di);
	if (rc < 0)
		return rc;
	fputs(",\"truncation\":{\"name\":", out);
	json_str(out, di.di_name);
	fputs(",\"reason\":", out);
	json_str(out, di.di_reason);
	fprintf(out,
		",\"timeMs\":%" PRId64 ",\"firstOffset\":%" PRId64 ",\"nextOffset\":%" PRId64
		",\"batches\":%" PRIu32 ",\"bytes\":%" PRIu64 ",\"epochMin\":%" PRId32
		",\"epochMax\":%" PRId32 ",\"segment\":%" PRId64 ",\"position\":%" PRIu64
		",\"detail\":",
		di.di_time_ms, di.di_first_offset, di.di_next_offset, di.di_batches, di.di_bytes,
		di.di_epoch_min, di.di_epoch_max, di.di_segment, di.di_position);
	json_str(out, di.di_detail);
	fputs("}", out);
	return 0;
}

static int mklog_run(const struct mklog_opts *o)
{
	struct io_engine *io = io_sync_engine_create();
	if (!io)
		return -ENOMEM;
	struct plog_config cfg;
	plog_config_default(&cfg);
	int64_t now = o->mo_now_ms;
	cfg.clock_ms = mklog_clock;
	cfg.clock_ctx = &now;
	cfg.segment_ms = 0;
	if (o->mo_segment_bytes)
		cfg.segment_bytes = o->mo_segment_bytes;
	cfg.index_interval_bytes = o->mo_index_interval;
	if (cfg.max_append_bytes > cfg.segment_bytes)
		cfg.max_append_bytes = (uint32_t)cfg.segment_bytes;
	size_t per_record = (size_t)o->mo_value_size + MKLOG_KEY_MAX +
			    MKLOG_MAX_HEADERS * (MKLOG_HEADER_VALUE_MAX + 16) + 32;
	size_t cap = 2 * (BATCH_HEADER_BYTES + (size_t)o->mo_records * per_record);
	uint8_t *buf = malloc(cap), *value = malloc((size_t)o->mo_value_size + 1);
	struct mklog_batch_info *bi = calloc((size_t)o->mo_batches + 1, sizeof(*bi));
	struct plog *log = NULL;
	int rc = buf && value && bi ? plog_open(o->mo_dir, io, &cfg, &log, NULL) : -ENOMEM;
	uint64_t seed = o->mo_seed;
	int64_t ts = o->mo_timestamp;
	int32_t seq = 0;
	FILE *out = stdout;
	if (rc == 0)
		fputs("{\"batches\":[", out);
	for (int b = 0; rc == 0 && b < o->mo_batches; b++) {
		int32_t epoch = o->mo_epoch + (o->mo_epoch_every > 0 ? b / o->mo_epoch_every : 0);
		rc = mklog_one_batch(o, log, b, buf, cap, value, &seed, &ts, &seq, epoch, out,
				     &bi[b]);
		if (rc == 0)
			fprintf(out, ",\"discarded\":%s}",
				b >= o->mo_batches - o->mo_truncate ? "true" : "false");
	}
	if (rc == 0)
		fputs("]", out);
	if (rc == 0 && o->mo_truncate > 0)
		rc = mklog_truncate(o, log, bi[o->mo_batches - o->mo_truncate].bi_base, out);
	else if (rc == 0)
		fputs(",\"truncation\":null", out);
	if (rc == 0) {
		int64_t end = plog_end_offset(log);
		int64_t hw = o->mo_hw >= 0 ? o->mo_hw : end;
		rc = plog_checkpoint_hw(log, hw);
		fprintf(out, ",\"logEndOffset\":%" PRId64 ",\"highWatermark\":%" PRId64 "}\n", end,
			hw < end ? hw : end);
	}
	if (log) {
		if (o->mo_unclean)
			plog_close_unclean(log);
		else if (rc == 0)
			rc = plog_close(log);
		else
			plog_close_unclean(log);
	}
	free(bi);
	free(value);
	free(buf);
	io_engine_destroy(io);
	return rc;
}

static const char mklog_usage_text[] =
	"usage: mklog --dir DIR [options]      (test-only: writes a partition log)\n"
	"  --batches N         batches to append (default 10)\n"
	"  --records N         records per batch (default 3)\n"
	"  --value-size N      bytes per value (default 16)\n"
	"  --value-style S     ascii (default) or binary (bytes that need escaping)\n"
	"  --codec C           none (default) or zstd\n"
	"  --segment-bytes N   roll segments at N bytes (default 1 GiB)\n"
	"  --index-interval N  bytes between index entries (default 4096)\n"
	"  --epoch E           leader epoch of the first batch (default 0)\n"
	"  --epoch-every K     raise the epoch by one every K batches (default never)\n"
	"  --keys              keys key-<batch>-<record>, every third one null\n"
	"  --headers           record j has j%4 headers h0..h2 (h1's value null)\n"
	"  --null-values       every fourth value null\n"
	"  --producer-id P     idempotent batches: producer epoch 0, sequences from 0\n"
	"  --log-append-time   mark batches LogAppendTime\n"
	"  --timestamp T       first record timestamp (default 1700000000000)\n"
	"  --now-ms T          the log's clock; names discard files (default 1700000100000)\n"
	"  --seed S            PRNG seed for values (default 1)\n"
	"  --truncate N        move the last N batches to discarded/\n"
	"  --reason R          reason recorded for that (default truncate)\n"
	"  --hw H              high watermark to checkpoint (default the log end)\n"
	"  --unclean           close as a crash would (no index flush, no clean marker)\n";

static int mklog_num(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 0);
	if (end == s || *end || errno || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

enum {
	MO_BATCHES = 256,
	MO_RECORDS,
	MO_VALUE_SIZE,
	MO_VALUE_STYLE,
	MO_CODEC,
	MO_SEGMENT_BYTES,
	MO_INDEX_INTERVAL,
	MO_EPOCH,
	MO_EPOCH_EVERY,
	MO_KEYS,
	MO_HEADERS,
	MO_NULL_VALUES,
	MO_PRODUCER_ID,
	MO_LOG_APPEND_TIME,
	MO_TIMESTAMP,
	MO_NOW_MS,
	MO_SEED,
	MO_TRUNCATE,
	MO_REASON,
	MO_HW,
	MO_UNCLEAN,
	MO_DIR,
};

static const struct option mklog_options[] = {
	{"dir", required_argument, NULL, MO_DIR},
	{"batches", required_argument, NULL, MO_BATCHES},
	{"records", required_argument, NULL, MO_RECORDS},
	{"value-size", required_argument, NULL, MO_VALUE_SIZE},
	{"value-style", required_argument, NULL, MO_VALUE_STYLE},
	{"codec", required_argument, NULL, MO_CODEC},
	{"segment-bytes", required_argument, NULL, MO_SEGMENT_BYTES},
	{"index-interval", required_argument, NULL, MO_INDEX_INTERVAL},
	{"epoch", required_argument, NULL, MO_EPOCH},
	{"epoch-every", required_argument, NULL, MO_EPOCH_EVERY},
	{"keys", no_argument, NULL, MO_KEYS},
	{"headers", no_argument, NULL, MO_HEADERS},
	{"null-values", no_argument, NULL, MO_NULL_VALUES},
	{"producer-id", required_argument, NULL, MO_PRODUCER_ID},
	{"log-append-time", no_argument, NULL, MO_LOG_APPEND_TIME},
	{"timestamp", required_argument, NULL, MO_TIMESTAMP},
	{"now-ms", required_argument, NULL, MO_NOW_MS},
	{"seed", required_argument, NULL, MO_SEED},
	{"truncate", required_argument, NULL, MO_TRUNCATE},
	{"reason", required_argument, NULL, MO_REASON},
	{"hw", required_argument, NULL, MO_HW},
	{"unclean", no_argument, NULL, MO_UNCLEAN},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* Numeric options: option id, bounds, and where the value goes. */
static int mklog_set_num(struct mklog_opts *o, int c, const char *arg)
{
	int64_t v;
	switch (c) {
	case MO_BATCHES:
		if (mklog_num(arg, 1, 1000000, &v) < 0)
			return -1;
		o->mo_batches = (int)v;
		return 0;
	case MO_RECORDS:
		if (mklog_num(arg, 1, 100000, &v) < 0)
			return -1;
		o->mo_records = (int)v;
		return 0;
	case MO_VALUE_SIZE:
		if (mklog_num(arg, 0, 1 << 20, &v) < 0)
			return -1;
		o->mo_value_size = (int)v;
		return 0;
	case MO_SEGMENT_BYTES:
		if (mklog_num(arg, BATCH_HEADER_BYTES, INT32_MAX, &v) < 0)
			return -1;
		o->mo_segment_bytes = (uint64_t)v;
		return 0;
	case MO_INDEX_INTERVAL:
		if (mklog_num(arg, 1, INT32_MAX, &v) < 0)
			return -1;
		o->mo_index_interval = (uint32_t)v;
		return 0;
	case MO_EPOCH:
		if (mklog_num(arg, 0, INT32_MAX, &v) < 0)
			return -1;
		o->mo_epoch = (int32_t)v;
		return 0;
	case MO_EPOCH_EVERY:
		if (mklog_num(arg, 0, INT32_MAX, &v) < 0)
			return -1;
		o->mo_epoch_every = (int)v;
		return 0;
	case MO_PRODUCER_ID:
		return mklog_num(arg, -1, INT64_MAX, &o->mo_producer_id);
	case MO_TIMESTAMP:
		return mklog_num(arg, 0, INT64_MAX / 2, &o->mo_timestamp);
	case MO_NOW_MS:
		return mklog_num(arg, 0, INT64_MAX / 2, &o->mo_now_ms);
	case MO_SEED:
		if (mklog_num(arg, 0, INT64_MAX, &v) < 0)
			return -1;
		o->mo_seed = (uint64_t)v;
		return 0;
	case MO_TRUNCATE:
		if (mklog_num(arg, 0, 1000000, &v) < 0)
			return -1;
		o->mo_truncate = (int)v;
		return 0;
	case MO_HW:
		return mklog_num(arg, -1, INT64_MAX, &o->mo_hw);
	default:
		return -1;
	}
}

static int mklog_parse(int argc, char **argv, struct mklog_opts *o)
{
	*o = (struct mklog_opts){
		.mo_batches = 10,
		.mo_records = 3,
		.mo_value_size = 16,
		.mo_codec = BATCH_CODEC_NONE,
		.mo_index_interval = 4096,
		.mo_producer_id = -1,
		.mo_timestamp = 1700000000000,
		.mo_now_ms = 1700000100000,
		.mo_seed = 1,
		.mo_reason = "truncate",
		.mo_hw = -1,
	};
	int c;
	while ((c = getopt_long(argc, argv, "h", mklog_options, NULL)) != -1) {
		switch (c) {
		case MO_DIR:
			o->mo_dir = optarg;
			break;
		case MO_VALUE_STYLE:
			if (strcmp(optarg, "ascii") && strcmp(optarg, "binary"))
				return -1;
			o->mo_binary = strcmp(optarg, "binary") == 0;
			break;
		case MO_CODEC:
			if (strcmp(optarg, "none") && strcmp(optarg, "zstd"))
				return -1;
			o->mo_codec =
				strcmp(optarg, "zstd") == 0 ? BATCH_CODEC_ZSTD : BATCH_CODEC_NONE;
			break;
		case MO_KEYS:
			o->mo_keys = true;
			break;
		case MO_HEADERS:
			o->mo_headers = true;
			break;
		case MO_NULL_VALUES:
			o->mo_null_values = true;
			break;
		case MO_LOG_APPEND_TIME:
			o->mo_log_append_time = true;
			break;
		case MO_REASON:
			o->mo_reason = optarg;
			break;
		case MO_UNCLEAN:
			o->mo_unclean = true;
			break;
		case 'h':
			fputs(mklog_usage_text, stdout);
			exit(0);
		default:
			if (mklog_set_num(o, c, optarg) < 0)
				return -1;
		}
	}
	if (!o->mo_dir || optind != argc || o->mo_truncate > o->mo_batches)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct mklog_opts o;
	if (mklog_parse(argc, argv, &o) < 0) {
		fputs(mklog_usage_text, stderr);
		return 2;
	}
	int rc = mklog_run(&o);
	if (rc < 0) {
		fprintf(stderr, "mklog: %s: %s\n", o.mo_dir, rl_strerror(rc));
		return 1;
	}
	return 0;
}
