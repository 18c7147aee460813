/*
 * dump_log — `replog dump-log`, the offline log inspector (API in
 * dump_log.h). What this file owns: the command line of the subcommand,
 * walking a segment file batch by batch and printing its batches and
 * records in kafka-dump-log's format, and the reporting (problems,
 * warnings, unreadable files) that every part of the tool goes through.
 * The rest of the tool: dump_log_index.c checks and lists the index files,
 * dump_log_part.c walks partition directories (segments in order, the
 * checkpoints, the discarded/ folder); dump_log_impl.h is what they share.
 *
 * It reads with plain pread (through a bounded seg_reader window) on
 * descriptors opened O_RDONLY and never writes, renames or creates a file:
 * it is safe on a live broker's directory and on evidence. It does not open
 * the log with plog_open(), which recovers and therefore modifies.
 *
 * What one `.log` walk checks, batch by batch, from position 0:
 *   - a length field must be readable and >= 49, and the batch must end
 *     inside the file; otherwise the walk cannot go on, and the rest is
 *     "Found N invalid bytes at the end of F (position P, after offset O)";
 *   - batch_validate(): magic, CRC-32C, header sanity. A batch that fails
 *     but whose length fits is printed with `isvalid: false` and the walk
 *     continues after it, as Kafka's tool does; so is a batch larger than
 *     --max-batch-bytes, which is never buffered;
 *   - baseOffset and partitionLeaderEpoch are outside the CRC, so order is
 *     what catches damage there: each batch must start right after the
 *     previous one (the first at the segment's base offset), and epochs
 *     never go down. Across segments of a directory, each segment must
 *     start where the previous one ended;
 *   - with --deep-iteration, the records: zstd regions are decompressed into
 *     one buffer of --max-batch-bytes, allocated at first use; record
 *     framing and offset deltas are checked (record_iter). gzip, snappy and
 *     lz4 are stored as sent and not decoded here (one line says so).
 *
 * Output: stdout carries the listing (formats in dump_log_help below);
 * stderr carries each problem and warning, naming the file, the offset and
 * the byte position. stdout is flushed before each stderr line so that the
 * two interleave in order when sent to the same place.
 *
 * Exit: 0 clean, 1 a problem was found, 2 usage error, 3 a file could not
 * be read (or output could not be written); the highest applicable wins
 * except that usage errors stop everything before any file is read.
 */
#include "dump_log_impl.h"
#include "dump_log_part.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "batch.h"
#include "compress.h"
#include "discard.h"
#include "epoch_cache.h"
#include "record.h"
#include "rlassert.h"
#include "rlerr.h"
#include "segment.h"

/* ---- reporting ---------------------------------------------------------- */

__attribute__((format(printf, 2, 0))) static void dl_vreport(struct dump_log *dl, const char *fmt,
							     va_list ap)
{
	fflush(dl->dl_out);
	vfprintf(dl->dl_err, fmt, ap);
	fputc('\n', dl->dl_err);
}

/* An integrity problem: one stderr line, counted for the exit code. */
__attribute__((format(printf, 2, 3))) void dump_log_problem(struct dump_log *dl, const char *fmt,
							    ...)
{
	va_list ap;
	va_start(ap, fmt);
	dl_vreport(dl, fmt, ap);
	va_end(ap);
	dl->dl_problems++;
}

/* Something the broker repairs by itself: reported, not counted. */
__attribute__((format(printf, 2, 3))) void dump_log_warning(struct dump_log *dl, const char *fmt,
							    ...)
{
	va_list ap;
	fflush(dl->dl_out);
	fputs("Warning: ", dl->dl_err);
	va_start(ap, fmt);
	dl_vreport(dl, fmt, ap);
	va_end(ap);
	dl->dl_warnings++;
}

/* A problem under a title printed once per file ("Non-consecutive offsets
 * in F", "Mismatches in :F", ...), as Kafka's tool groups them. */
__attribute__((format(printf, 6, 7))) void dump_log_problem_in(struct dump_log *dl, unsigned *said,
							       unsigned kind, const char *title,
							       const char *file, const char *fmt,
							       ...)
{
	va_list ap;
	if (!(*said & kind)) {
		fflush(dl->dl_out);
		fprintf(dl->dl_err, "%s%s\n", title, file);
		*said |= kind;
	}
	fputs("  ", dl->dl_err);
	va_start(ap, fmt);
	dl_vreport(dl, fmt, ap);
	va_end(ap);
	dl->dl_problems++;
}

/* A file that cannot be opened or read: exit code 3. */
void dump_log_unreadable(struct dump_log *dl, const char *what, const char *path, int err)
{
	fflush(dl->dl_out);
	fprintf(dl->dl_err, DUMP_LOG_PREFIX "cannot %s %s: %s\n", what, path, rl_strerror(err));
	dl->dl_unreadable++;
}

void dump_log_read_error(struct dump_log *dl, const char *path, uint64_t pos, int err)
{
	fflush(dl->dl_out);
	fprintf(dl->dl_err, DUMP_LOG_PREFIX "cannot read %s at position %" PRIu64 ": %s\n", path,
		pos, rl_strerror(err));
	dl->dl_unreadable++;
}

/* ---- printing values ---------------------------------------------------- */

/* Length of the UTF-8 sequence at p when it is well formed (shortest form,
 * no surrogate, <= U+10FFFF) and encodes a printable code point (U+00A0 or
 * above: the C1 controls U+0080..U+009F are escaped); else 0. */
static size_t dl_utf8_printable(const uint8_t *p, size_t len)
{
	static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
	uint32_t cp;
	size_t n;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		cp = p[0] & 0x1fu;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		cp = p[0] & 0x0fu;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		cp = p[0] & 0x07u;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3fu);
	}
	if (cp < min_cp[n] || cp < 0xa0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Key, value or header key as text: printable ASCII and printable UTF-8 as
 * they are, every other byte (controls, DEL, invalid UTF-8, and the
 * backslash itself, so the output is unambiguous) as \xNN; null as `null`. */
static void dl_print_bytes(FILE *out, const uint8_t *p, int32_t len)
{
	if (p == NULL || len < 0) {
		fputs("null", out);
		return;
	}
	size_t n = (size_t)len;
	for (size_t i = 0; i < n;) {
		uint8_t c = p[i];
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			putc(c, out);
			i++;
			continue;
		}
		size_t u = c >= 0x80 ? dl_utf8_printable(p + i, n - i) : 0;
		if (u > 0) {
			fwrite(p + i, 1, u, out);
			i += u;
			continue;
		}
		fprintf(out, "\\x%02x", c);
		i++;
	}
}

static int64_t dl_next_offset(const struct batch_header *h)
{
	return dump_log_add(dump_log_last_offset(h), 1);
}

/* Kafka's DefaultRecordBatch.incrementSequence: sequences wrap at
 * INT32_MAX back to 0; -1 (no sequence) stays -1. */
static int32_t dl_sequence_add(int32_t base, int32_t delta)
{
	if (base < 0)
		return -1;
	int64_t s = (int64_t)base + delta;
	return (int32_t)(s > INT32_MAX ? s - INT32_MAX - 1 : s);
}

/* ---- file names --------------------------------------------------------- */

enum dl_kind {
	DL_KIND_UNKNOWN = 0,
	DL_KIND_DIR,
	DL_KIND_LOG,
	DL_KIND_INDEX,
	DL_KIND_TIMEINDEX,
};

const char *dump_log_basename(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

bool dump_log_has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The offset a file name starts with: SEGMENT_NAME_DIGITS digits followed
 * by '.' (segments, indexes) or '-' (discarded files). Returns 1 with
 * *base, or 0 when the name does not start that way. */
int dump_log_name_base(const char *name, int64_t *base)
{
	int64_t v = 0;
	for (int i = 0; i < SEGMENT_NAME_DIGITS; i++) {
		if (name[i] < '0' || name[i] > '9' || v > (INT64_MAX - 9) / 10)
			return 0;
		v = v * 10 + (name[i] - '0');
	}
	if (name[SEGMENT_NAME_DIGITS] != '.' && name[SEGMENT_NAME_DIGITS] != '-')
		return 0;
	*base = v;
	return 1;
}

/* A discarded .log: <dir>/discarded/<20 digits>-<time>[.n].log. */
static bool dl_is_discarded_log(const char *path)
{
	const char *name = dump_log_basename(path);
	size_t dir_len = (size_t)(name - path);
	static const char tail[] = DISCARD_DIR "/";
	size_t tl = sizeof(tail) - 1;
	if (dir_len < tl || strncmp(name - tl, tail, tl) != 0)
		return false;
	if (dir_len > tl && name[-(ptrdiff_t)tl - 1] != '/')
		return false;
	int64_t base;
	return dump_log_name_base(name, &base) && name[SEGMENT_NAME_DIGITS] == '-';
}

/* Replace `path`'s suffix `from` with `to` into buf. Returns 0, or
 * -ENAMETOOLONG. */
int dump_log_swap_suffix(char *buf, size_t cap, const char *path, const char *from, const char *to)
{
	size_t n = strlen(path), k = strlen(from);
	RL_ASSERT(n >= k);
	int w = snprintf(buf, cap, "%.*s%s", (int)(n - k), path, to);
	return w < 0 || (size_t)w >= cap ? -ENAMETOOLONG : 0;
}

/* What kind of path this is: by stat for directories, by suffix for files.
 * Returns the kind, DL_KIND_UNKNOWN for a file of no known kind, or a
 * negative errno when the path cannot be examined. */
static int dl_classify(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return DL_KIND_DIR;
	if (dump_log_has_suffix(path, ".log"))
		return DL_KIND_LOG;
	if (dump_log_has_suffix(path, ".timeindex"))
		return DL_KIND_TIMEINDEX;
	if (dump_log_has_suffix(path, ".index"))
		return DL_KIND_INDEX;
	return DL_KIND_UNKNOWN;
}

int dump_log_open_ro(const char *path, uint64_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	*size = (uint64_t)st.st_size;
	return fd;
}

/* ---- one .log file: the batch walk ------------------------------------- */

void dump_log_chain_init(struct dump_log_chain *c)
{
	*c = (struct dump_log_chain){.dc_prev_epoch = INT32_MIN, .dc_next_offset = -1};
}

void dump_log_chain_deinit(struct dump_log_chain *c)
{
	free(c->dc_epochs);
	c->dc_epochs = NULL;
	c->dc_epochs_count = c->dc_epochs_cap = 0;
}

/* One .log file being walked. */
struct dl_file {
	const char *df_path; /* borrowed */
	int df_fd;
	uint64_t df_size;
	int64_t df_base;	  /* segment base offset (or the discard's first) */
	unsigned df_said;	  /* enum dump_log_said titles already printed */
	uint32_t df_valid_prefix; /* valid batches before the first bad one */
	int64_t df_prefix_next;	  /* offset after them; -1 none */
	bool df_bad_seen;
};

static void dl_note_epoch(struct dump_log_chain *c, const struct batch_header *h, uint64_t pos,
			  int64_t segment)
{
	int32_t e = h->bh_partition_leader_epoch;
	if (!c->dc_collect_epochs || e < 0)
		return;
	if (c->dc_epochs_count > 0 && c->dc_epochs[c->dc_epochs_count - 1].es_epoch >= e)
		return;
	if (c->dc_epochs_count == c->dc_epochs_cap) {
		uint32_t ncap = c->dc_epochs_cap ? c->dc_epochs_cap * 2 : 16;
		struct dump_log_epoch_seen *n = NULL;
		if (ncap <= EPOCH_CACHE_MAX_ENTRIES)
			n = realloc(c->dc_epochs, ncap * sizeof(*n));
		if (!n) {
			c->dc_epochs_overflow = true;
			return;
		}
		c->dc_epochs = n;
		c->dc_epochs_cap = ncap;
	}
	c->dc_epochs[c->dc_epochs_count++] =
		(struct dump_log_epoch_seen){.es_epoch = e,
					     .es_offset = h->bh_base_offset,
					     .es_position = pos,
					     .es_segment = segment};
}

static void dl_print_batch(struct dump_log *dl, const struct batch_header *h, uint64_t pos,
			   size_t total, bool valid)
{
	bool append_time = h->bh_attributes & BATCH_ATTR_LOG_APPEND_TIME;
	char horizon[24] = "none";
	if (h->bh_attributes & BATCH_ATTR_DELETE_HORIZON)
		snprintf(horizon, sizeof(horizon), "%" PRId64, h->bh_base_timestamp);
	fprintf(dl->dl_out,
		"baseOffset: %" PRId64 " lastOffset: %" PRId64 " count: %" PRId32
		" baseSequence: %" PRId32 " lastSequence: %" PRId32 " producerId: %" PRId64
		" producerEpoch: %d partitionLeaderEpoch: %" PRId32
		" isTransactional: %s isControl: %s deleteHorizonMs: %s position: %" PRIu64
		" %s: %" PRId64 " baseTimestamp: %" PRId64 " size: %zu magic: %d"
		" compresscodec: %s crc: %" PRIu32 " isvalid: %s\n",
		h->bh_base_offset, dump_log_last_offset(h), h->bh_records_count,
		h->bh_base_sequence, dl_sequence_add(h->bh_base_sequence, h->bh_last_offset_delta),
		h->bh_producer_id, h->bh_producer_epoch, h->bh_partition_leader_epoch,
		h->bh_attributes & BATCH_ATTR_TRANSACTIONAL ? "true" : "false",
		h->bh_attributes & BATCH_ATTR_CONTROL ? "true" : "false", horizon, pos,
		append_time ? "LogAppendTime" : "CreateTime", h->bh_max_timestamp,
		h->bh_base_timestamp, total, h->bh_magic,
		batch_codec_name(h->bh_attributes & BATCH_ATTR_CODEC_MASK), h->bh_crc,
		valid ? "true" : "false");
}

/* A control record (transaction marker): key = version i16, type i16;
 * value = version i16, coordinatorEpoch i32. */
static void dl_print_control(FILE *out, const struct record *r)
{
	if (r->r_key_len < 4 || !r->r_key) {
		fputs(" controlType: unknown", out);
		return;
	}
	int16_t type = (int16_t)be16_load(r->r_key + 2);
	if (type == 0 || type == 1) {
		int32_t coord = -1;
		if (r->r_value && r->r_value_len >= 6)
			coord = (int32_t)be32_load(r->r_value + 2);
		fprintf(out, " endTxnMarker: %s coordinatorEpoch: %" PRId32,
			type == 1 ? "COMMIT" : "ABORT", coord);
	} else {
		fprintf(out, " controlType: %d", type);
	}
}

static void dl_print_record(struct dump_log *dl, const struct batch_header *h,
			    const struct record *r)
{
	FILE *out = dl->dl_out;
	bool append_time = h->bh_attributes & BATCH_ATTR_LOG_APPEND_TIME;
	int64_t ts = append_time ? h->bh_max_timestamp
				 : dump_log_add(h->bh_base_timestamp, r->r_timestamp_delta);
	fprintf(out,
		"| offset: %" PRId64 " %s: %" PRId64 " keySize: %" PRId32 " valueSize: %" PRId32
		" sequence: %" PRId32 " headerKeys: [",
		dump_log_add(h->bh_base_offset, r->r_offset_delta),
		append_time ? "LogAppendTime" : "CreateTime", ts, r->r_key_len, r->r_value_len,
		dl_sequence_add(h->bh_base_sequence, r->r_offset_delta));
	struct record_header_iter hi;
	struct record_header rh;
	record_header_iter_init(&hi, r);
	for (int i = 0; record_header_iter_next(&hi, &rh) == 1; i++) {
		if (i > 0)
			putc(',', out);
		dl_print_bytes(out, rh.rh_key, rh.rh_key_len);
	}
	putc(']', out);
	if (h->bh_attributes & BATCH_ATTR_CONTROL) {
		dl_print_control(out, r);
	} else if (dl->dl_opts.dlo_print_data) {
		fputs(" key: ", out);
		dl_print_bytes(out, r->r_key, r->r_key_len);
		fputs(" payload: ", out);
		dl_print_bytes(out, r->r_value, r->r_value_len);
	}
	putc('\n', out);
}

/* The records region of a batch, decompressed when needed. Returns 1 with
 * *region and *len, or 0 when the records are not decoded (said on stdout; a
 * problem or warning reported when there is one). */
static int dl_records_region(struct dump_log *dl, struct dl_file *f, const struct batch_header *h,
			     const uint8_t *batch, size_t total, uint64_t pos,
			     const uint8_t **region, size_t *len)
{
	int codec = h->bh_attributes & BATCH_ATTR_CODEC_MASK;
	*region = batch + BATCH_HEADER_BYTES;
	*len = total - BATCH_HEADER_BYTES;
	if (codec == BATCH_CODEC_NONE)
		return 1;
	if (codec != BATCH_CODEC_ZSTD) {
		fprintf(dl->dl_out,
			"| records not decoded: compresscodec %s is not supported by this tool\n",
			batch_codec_name(codec));
		return 0;
	}
	if (!dl->dl_records) {
		dl->dl_records = malloc(dl->dl_opts.dlo_max_batch_bytes);
		if (!dl->dl_records) {
			dump_log_unreadable(dl, "allocate the decompression buffer for", f->df_path,
					    -ENOMEM);
			return 0;
		}
		dl->dl_records_cap = dl->dl_opts.dlo_max_batch_bytes;
	}
	int64_t n = decompress_records(codec, dl->dl_records, dl->dl_records_cap, *region, *len);
	if (n == RL_ETOO_LARGE) {
		fprintf(dl->dl_out,
			"| records not decoded: decompressed records exceed %zu bytes "
			"(--max-batch-bytes)\n",
			dl->dl_records_cap);
		dump_log_warning(dl,
				 "records of the batch at offset %" PRId64 " position %" PRIu64
				 " of %s not decoded: they decompress to more than %zu bytes "
				 "(--max-batch-bytes)",
				 h->bh_base_offset, pos, f->df_path, dl->dl_records_cap);
		return 0;
	}
	if (n < 0) {
		fprintf(dl->dl_out, "| records not decoded: %s\n", rl_strerror((int)n));
		dump_log_problem(dl,
				 "Invalid compressed records in %s at offset %" PRId64
				 " position %" PRIu64 ": %s",
				 f->df_path, h->bh_base_offset, pos, rl_strerror((int)n));
		return 0;
	}
	*region = dl->dl_records;
	*len = (size_t)n;
	return 1;
}

/* --deep-iteration: one line per record, and the record framing checked. */
static void dl_dump_records(struct dump_log *dl, struct dl_file *f, const struct batch_header *h,
			    const uint8_t *batch, size_t total, uint64_t pos)
{
	const uint8_t *region;
	size_t len;
	if (!dl_records_region(dl, f, h, batch, total, pos, &region, &len))
		return;
	struct record_iter it;
	struct record r;
	record_iter_init(&it, region, len, h->bh_records_count);
	int32_t prev_delta = -1;
	for (int32_t idx = 0;; idx++) {
		int rc = record_iter_next(&it, &r);
		if (rc == 0)
			break;
		if (rc < 0) {
			dump_log_problem(dl,
					 "Invalid record in %s: record %" PRId32
					 " of the batch at offset %" PRId64 " position %" PRIu64
					 " (%" PRId32 " records): %s",
					 f->df_path, idx, h->bh_base_offset, pos,
					 h->bh_records_count, rl_strerror(rc));
			break;
		}
		if (r.r_offset_delta <= prev_delta || r.r_offset_delta > h->bh_last_offset_delta)
			dump_log_problem(dl,
					 "Record offsets out of order in %s: record %" PRId32
					 " of the batch at offset %" PRId64 " position %" PRIu64
					 " has offsetDelta %" PRId32 " (previous %" PRId32
					 ", lastOffsetDelta %" PRId32 ")",
					 f->df_path, idx, h->bh_base_offset, pos, r.r_offset_delta,
					 prev_delta, h->bh_last_offset_delta);
		dl_print_record(dl, h, &r);
		prev_delta = r.r_offset_delta;
	}
}

/* Offsets continue and epochs never go down: baseOffset and the epoch are
 * outside the CRC, so this is what catches damage to them. */
static void dl_check_order(struct dump_log *dl, struct dl_file *f, struct dump_log_chain *c,
			   const struct batch_header *h, uint64_t pos)
{
	if (c->dc_have_prev && h->bh_base_offset != dump_log_add(c->dc_prev_last, 1))
		dump_log_problem_in(dl, &f->df_said, DUMP_LOG_SAID_NONCONSEC,
				    "Non-consecutive offsets in ", f->df_path,
				    "%" PRId64 " is followed by %" PRId64 " at position %" PRIu64,
				    c->dc_prev_last, h->bh_base_offset, pos);
	if (h->bh_partition_leader_epoch < c->dc_prev_epoch)
		dump_log_problem(dl,
				 "Leader epoch goes down in %s: the batch at offset %" PRId64
				 " position %" PRIu64 " has partitionLeaderEpoch %" PRId32
				 ", after %" PRId32
				 " in the batch before it (ending at offset %" PRId64 ")",
				 f->df_path, h->bh_base_offset, pos, h->bh_partition_leader_epoch,
				 c->dc_prev_epoch, c->dc_prev_last);
}

static void dl_report_invalid(struct dump_log *dl, struct dl_file *f, const struct batch_header *h,
			      const uint8_t *batch, uint64_t pos, size_t total, int verdict)
{
	if (verdict == RL_ETOO_LARGE) {
		dump_log_problem(dl,
				 "Invalid batch in %s at offset %" PRId64 " position %" PRIu64
				 ": %zu bytes, larger than --max-batch-bytes %zu; not read",
				 f->df_path, h->bh_base_offset, pos, total,
				 dl->dl_opts.dlo_max_batch_bytes);
	} else if (verdict == RL_ECRC) {
		dump_log_problem(dl,
				 "Invalid batch in %s at offset %" PRId64 " position %" PRIu64
				 " (size %zu): %s (stored crc %" PRIu32 ", computed %" PRIu32 ")",
				 f->df_path, h->bh_base_offset, pos, total, rl_strerror(verdict),
				 h->bh_crc, batch_crc_compute(batch, total));
	} else {
		dump_log_problem(dl,
				 "Invalid batch in %s at offset %" PRId64 " position %" PRIu64
				 " (size %zu): %s",
				 f->df_path, h->bh_base_offset, pos, total, rl_strerror(verdict));
	}
}

/* One batch whose length fits in the file: validate, print, check. Returns
 * 0, or a negative errno when the file could not be read (reported). */
static int dl_one_batch(struct dump_log *dl, struct dl_file *f, struct dump_log_chain *c,
			const struct batch_header *h, uint64_t pos, size_t total)
{
	const uint8_t *batch = NULL;
	int verdict = RL_ETOO_LARGE;
	if (total <= dl->dl_opts.dlo_max_batch_bytes) {
		int64_t n =
			seg_reader_get(&dl->dl_reader, f->df_fd, pos, total, f->df_size, &batch);
		if (n >= 0 && (size_t)n < total)
			n = -EIO; /* shorter than fstat said: the file changed under us */
		if (n < 0) {
			dump_log_read_error(dl, f->df_path, pos, (int)n);
			return (int)n;
		}
		int64_t v = batch_validate(batch, total, NULL);
		verdict = v < 0 ? (int)v : 0;
	}
	if (!dl->dl_opts.dlo_verify_index_only)
		dl_print_batch(dl, h, pos, total, verdict == 0);
	if (verdict != 0)
		dl_report_invalid(dl, f, h, batch, pos, total, verdict);
	dl_check_order(dl, f, c, h, pos);
	if (dl->dl_opts.dlo_deep_iteration && !dl->dl_opts.dlo_verify_index_only && batch)
		dl_dump_records(dl, f, h, batch, total, pos);

	if (verdict != 0)
		f->df_bad_seen = true;
	if (!f->df_bad_seen) {
		f->df_valid_prefix++;
		f->df_prefix_next = dl_next_offset(h);
	}
	if (verdict == 0)
		dl_note_epoch(c, h, pos, f->df_base);
	c->dc_have_prev = true;
	c->dc_prev_last = dump_log_last_offset(h);
	c->dc_prev_epoch = h->bh_partition_leader_epoch;
	c->dc_next_offset = dl_next_offset(h);
	c->dc_batches++;
	return 0;
}

/* The walk cannot go on at `pos`: everything from there is reported. */
static void dl_invalid_tail(struct dump_log *dl, struct dl_file *f, const struct dump_log_chain *c,
			    uint64_t pos, const uint8_t *p, size_t avail, int64_t total)
{
	int64_t after = c->dc_have_prev ? c->dc_prev_last : f->df_base - 1;
	uint64_t left = f->df_size - pos;
	f->df_bad_seen = true;
	dump_log_problem(dl,
			 "Found %" PRIu64 " invalid bytes at the end of %s (position %" PRIu64
			 ", after offset %" PRId64 ")",
			 left, f->df_path, pos, after);
	if (avail < BATCH_LOG_OVERHEAD) {
		fprintf(dl->dl_err,
			"  only %" PRIu64
			" bytes remain: less than a batch's offset and length fields\n",
			left);
		return;
	}
	int64_t field = (int64_t)be64_load(p + BATCH_OFF_BASE_OFFSET);
	int32_t length = (int32_t)be32_load(p + BATCH_OFF_LENGTH);
	if (total == RL_EINVAL_BATCH)
		fprintf(dl->dl_err,
			"  the batch there (offset field %" PRId64 ") has batchLength %" PRId32
			", below the minimum %d: the rest of the file cannot be walked\n",
			field, length, BATCH_MIN_LENGTH);
	else
		fprintf(dl->dl_err,
			"  the batch there (offset field %" PRId64 ") claims %" PRId64
			" bytes, only %" PRIu64 " remain: a torn write or a damaged length\n",
			field, (int64_t)length + BATCH_LOG_OVERHEAD, left);
}

/* Walk the batches of an open .log. Returns 0, or a negative errno on a
 * read failure (reported). */
static int dl_walk_batches(struct dump_log *dl, struct dl_file *f, struct dump_log_chain *c)
{
	uint64_t pos = 0;
	while (pos < f->df_size) {
		const uint8_t *p;
		int64_t n = seg_reader_get(&dl->dl_reader, f->df_fd, pos, BATCH_HEADER_BYTES,
					   f->df_size, &p);
		if (n < 0) {
			dump_log_read_error(dl, f->df_path, pos, (int)n);
			return (int)n;
		}
		int64_t total = batch_total_size(p, (size_t)n);
		/* n < 61 with a length that fits: the file shrank while read. */
		if (total < 0 || (uint64_t)total > f->df_size - pos || n < BATCH_HEADER_BYTES) {
			dl_invalid_tail(dl, f, c, pos, p, (size_t)n, total);
			return 0;
		}
		struct batch_header h;
		batch_header_decode(p, (size_t)n, &h);
		int rc = dl_one_batch(dl, f, c, &h, pos, (size_t)total);
		if (rc < 0)
			return rc;
		pos += (uint64_t)total;
	}
	return 0;
}

/* ---- one .log file ------------------------------------------------------- */

/* The base offset to print for a file whose name does not give one: the
 * first batch's baseOffset field, or 0 for a file too short to have one. */
static int64_t dl_peek_base(struct dump_log *dl, int fd, uint64_t size)
{
	const uint8_t *p;
	int64_t n = seg_reader_get(&dl->dl_reader, fd, 0, 8, size, &p);
	return n >= 8 ? (int64_t)be64_load(p) : 0;
}

/* Dump a .log (a segment or a discarded file). `base_known`: the name gave
 * the base offset, so the first batch must start there. `verify`: check the
 * index files beside it. `meta` (may be NULL): the discard's metadata,
 * printed first. */
void dump_log_dump_log(struct dump_log *dl, const char *path, int64_t base, bool base_known,
		       bool verify, const struct discard_info *meta, struct dump_log_chain *c,
		       struct dump_log_log_summary *sum)
{
	*sum = (struct dump_log_log_summary){.ls_prefix_next = -1};
	uint64_t size = 0; /* gcc -O3 cannot see dump_log_open_ro set it */
	int fd = dump_log_open_ro(path, &size);
	if (fd < 0) {
		dump_log_unreadable(dl, "open", path, fd);
		return;
	}
	seg_reader_forget(&dl->dl_reader);
	if (!base_known)
		base = dl_peek_base(dl, fd, size);
	fprintf(dl->dl_out, "Dumping %s\n", path);
	if (meta)
		dump_log_print_discard(dl->dl_out, meta);
	fprintf(dl->dl_out, "Log starting offset: %" PRId64 "\n", base);
	if (base_known && !c->dc_have_prev) {
		c->dc_have_prev = true;
		c->dc_prev_last = base - 1;
	}
	struct dl_file f = {.df_path = path,
			    .df_fd = fd,
			    .df_size = size,
			    .df_base = base,
			    .df_prefix_next = -1};
	int rc = dl_walk_batches(dl, &f, c);
	if (rc == 0 && verify)
		dump_log_verify_indexes(dl, path, fd, size, base);
	seg_reader_forget(&dl->dl_reader);
	close(fd);
	*sum = (struct dump_log_log_summary){.ls_read = rc == 0,
					     .ls_size = size,
					     .ls_valid_prefix = f.df_valid_prefix,
					     .ls_prefix_next = f.df_prefix_next};
}

/* ---- the API ------------------------------------------------------------- */

void dump_log_opts_default(struct dump_log_opts *o)
{
	*o = (struct dump_log_opts){.dlo_max_batch_bytes = DUMP_LOG_DEFAULT_MAX_BATCH_BYTES};
}

int dump_log_init(struct dump_log *dl, const struct dump_log_opts *o, FILE *out, FILE *err)
{
	if (o->dlo_max_batch_bytes < BATCH_HEADER_BYTES || o->dlo_max_batch_bytes > INT32_MAX)
		return RL_ECONFIG;
	*dl = (struct dump_log){.dl_opts = *o, .dl_out = out, .dl_err = err};
	if (dl->dl_opts.dlo_print_data)
		dl->dl_opts.dlo_deep_iteration = true;
	if (dl->dl_opts.dlo_verify_index_only)
		dl->dl_opts.dlo_verify_index = true;
	seg_reader_init(&dl->dl_reader, dl->dl_opts.dlo_max_batch_bytes);
	return 0;
}

void dump_log_deinit(struct dump_log *dl)
{
	seg_reader_deinit(&dl->dl_reader);
	free(dl->dl_records);
	dl->dl_records = NULL;
	dl->dl_records_cap = 0;
}

int dump_log_path(struct dump_log *dl, const char *path)
{
	int kind = dl_classify(path);
	if (kind < 0) {
		dump_log_unreadable(dl, "open", path, kind);
		return 0;
	}
	struct dump_log_chain c;
	struct dump_log_log_summary sum;
	int64_t base = 0;
	switch (kind) {
	case DL_KIND_DIR:
		if (dl->dl_opts.dlo_discarded)
			dump_log_discarded(dl, path);
		else
			dump_log_dump_partition(dl, path);
		return 0;
	case DL_KIND_LOG:
		if (dl_is_discarded_log(path)) {
			dump_log_dump_discarded_file(dl, path);
			return 0;
		}
		dump_log_chain_init(&c);
		bool known = dump_log_name_base(dump_log_basename(path), &base);
		dump_log_dump_log(dl, path, base, known, known && dl->dl_opts.dlo_verify_index,
				  NULL, &c, &sum);
		dump_log_chain_deinit(&c);
		return 0;
	case DL_KIND_INDEX:
	case DL_KIND_TIMEINDEX:
		dump_log_dump_index(dl, path, kind == DL_KIND_TIMEINDEX);
		return 0;
	default:
		fflush(dl->dl_out);
		fprintf(dl->dl_err,
			DUMP_LOG_PREFIX
			"%s: not a .log, .index or .timeindex file, nor a directory\n",
			path);
		return DUMP_LOG_EXIT_USAGE;
	}
}

int dump_log_exit_code(const struct dump_log *dl)
{
	if (dl->dl_unreadable)
		return DUMP_LOG_EXIT_UNREADABLE;
	return dl->dl_problems ? DUMP_LOG_EXIT_PROBLEMS : DUMP_LOG_EXIT_OK;
}

/* ---- the command line ---------------------------------------------------- */

const char dump_log_help[] =
	"NAME\n"
	"    replog dump-log - print and check partition log files, offline\n"
	"\n"
	"SYNOPSIS\n"
	"    replog dump-log [-d] [--deep-iteration] [--verify-index | --verify-index-only]\n"
	"                    [--max-batch-bytes N] [--files PATH[,PATH...]] PATH...\n"
	"    replog dump-log --discarded [-d] PARTITION_DIR...\n"
	"\n"
	"DESCRIPTION\n"
	"    Prints every record batch of a segment the way Kafka's kafka-dump-log.sh\n"
	"    (DumpLogSegments) does, validates each one (length, magic, CRC-32C, header\n"
	"    fields, offsets continuing, leader epochs never going down), decodes\n"
	"    records on request, and checks the offset and time indexes, the\n"
	"    leader-epoch and high-watermark checkpoints, and the discarded writes of a\n"
	"    partition against its log. Files are only read (pread on O_RDONLY\n"
	"    descriptors): it is safe on a running broker's data and on evidence.\n"
	"\n"
	"    Each PATH is one of:\n"
	"      <base>.log        a segment: its batches (and, with --verify-index, its\n"
	"                        .index and .timeindex checked against it)\n"
	"      <base>.index      the offset index: one line per entry, each checked\n"
	"                        against the <base>.log beside it\n"
	"      <base>.timeindex  the time index: likewise\n"
	"      a directory       a partition (<data_dir>/<topic>-<partition>): every\n"
	"                        segment in offset order with its indexes verified,\n"
	"                        then leader-epoch-checkpoint, high-watermark-checkpoint\n"
	"                        and a summary line; with --discarded, its discarded/\n"
	"                        listing instead\n"
	"      discarded/<first offset>-<time ms>.log\n"
	"                        bytes removed from a log (truncation, recovery): its\n"
	"                        .meta line, then its batches like a segment's\n"
	"\n"
	"    A batch that fails validation but whose length lies inside the file is\n"
	"    printed with isvalid: false and the walk goes on after it. A length that\n"
	"    runs past the end of the file (a torn write) or is impossible ends the\n"
	"    walk. Every problem is reported on stderr with the file, the offset and\n"
	"    the byte position.\n"
	"\n"
	"OPTIONS\n"
	"    -d, --print-data-log\n"
	"        Print each record with its key and value (payload). Implies\n"
	"        --deep-iteration.\n"
	"    --deep-iteration\n"
	"        Decode the records of each batch and print one line per record,\n"
	"        without keys and values. zstd batches are decompressed (into at most\n"
	"        --max-batch-bytes); gzip, snappy and lz4 batches are stored as the\n"
	"        producer sent them and are not decoded (one line says so; not an\n"
	"        error). Record framing and offset deltas are checked.\n"
	"    --verify-index\n"
	"        For each segment .log, check the .index and .timeindex beside it\n"
	"        (always done for a partition directory and for index files).\n"
	"    --verify-index-only\n"
	"        Check the indexes as --verify-index does, and validate the batches,\n"
	"        but print no batch, record or index-entry lines.\n"
	"    --discarded\n"
	"        For partition directories: list the discarded writes kept in\n"
	"        discarded/ (one line per .meta), flag .log files without a readable\n"
	"        .meta, and with --print-data-log dump each discarded .log.\n"
	"    --max-batch-bytes N\n"
	"        Never buffer a batch larger than N bytes (default 16777216; suffixes\n"
	"        k, m, g for KiB, MiB, GiB; at least 61). A larger batch is reported as\n"
	"        invalid with its offset and position and skipped. Also bounds the\n"
	"        decompressed records of one batch (then: not decoded, a warning).\n"
	"    --files PATH[,PATH...]\n"
	"        Kafka's spelling: the same as giving the paths as arguments.\n"
	"    -h, --help\n"
	"        Print this manual.\n"
	"\n"
	"OUTPUT\n"
	"    On stdout, for a .log:\n"
	"      Dumping <path>\n"
	"      Log starting offset: <base offset from the file name>\n"
	"      baseOffset: 0 lastOffset: 2 count: 3 baseSequence: -1 lastSequence: -1\n"
	"        producerId: -1 producerEpoch: -1 partitionLeaderEpoch: 5\n"
	"        isTransactional: false isControl: false deleteHorizonMs: none\n"
	"        position: 0 CreateTime: 1700000000002 baseTimestamp: 1700000000000\n"
	"        size: 120 magic: 2 compresscodec: zstd crc: 123456 isvalid: true\n"
	"    (one line per batch; CreateTime is the batch's maxTimestamp, labelled\n"
	"    LogAppendTime when the batch says so; crc is the stored one), then with\n"
	"    --deep-iteration one line per record:\n"
	"      | offset: 0 CreateTime: 1700000000000 keySize: 3 valueSize: 5\n"
	"        sequence: -1 headerKeys: [h1,h2] key: abc payload: hello\n"
	"    (key: and payload: only with --print-data-log; a null key or value is\n"
	"    `null`; bytes that are not printable UTF-8, and the backslash, are\n"
	"    written \\xNN; control batches show endTxnMarker: and coordinatorEpoch:).\n"
	"    An .index prints `offset: O position: P` per entry, a .timeindex\n"
	"    `timestamp: T offset: O`. The leader-epoch checkpoint prints\n"
	"    `version: V entries: N` and `epoch: E startOffset: O` lines, the\n"
	"    high-watermark checkpoint `highWatermark: H`, and a directory ends with\n"
	"      Partition: <dir> segments: N logStartOffset: S logEndOffset: E\n"
	"        batches: B cleanShutdown: true|false discarded: D\n"
	"    A discarded write is listed as\n"
	"      discarded: <name> reason: <r> time: <ISO-8601 UTC> firstOffset: <a>\n"
	"        nextOffset: <b> batches: <n> bytes: <n> epochs: <min>..<max>\n"
	"        segment: <base> position: <p> detail: <text>\n"
	"    (each shown here on several lines is one line.)\n"
	"\n"
	"    On stderr, the problems, among them:\n"
	"      Found N invalid bytes at the end of F (position P, after offset O)\n"
	"      Invalid batch in F at offset O position P (size S): <reason>\n"
	"      Non-consecutive offsets in F / X is followed by Y at position P\n"
	"      Leader epoch goes down in F: ...\n"
	"      Mismatches in :F / Index offset: A, log offset: B (entry I, position P)\n"
	"      Found timestamp mismatch in :F / Index timestamp: T, log timestamp: L\n"
	"      Found out of order timestamp in :F\n"
	"    and warnings (`Warning: ...`) for what the broker repairs by itself on\n"
	"    open: a missing or empty index, a missing leader-epoch checkpoint, a\n"
	"    high watermark outside the log, an interrupted discard.\n"
	"\n"
	"EXIT STATUS\n"
	"    0  every file read and found consistent (warnings allowed)\n"
	"    1  a problem was found in some file (details on stderr)\n"
	"    2  usage error: unknown option, bad value, no PATH, unknown file kind\n"
	"    3  a file could not be opened or read, or output could not be written\n"
	"       (takes precedence over 1)\n"
	"\n"
	"EXAMPLES\n"
	"    Batches of one segment:\n"
	"      replog dump-log /data/t-0/00000000000000000000.log\n"
	"    Every record with keys and values, zstd included:\n"
	"      replog dump-log -d /data/t-0/00000000000000000000.log\n"
	"    A whole partition, indexes and checkpoints checked, problems only:\n"
	"      replog dump-log --verify-index-only /data/t-0\n"
	"    What a truncation or a recovery removed, and its records:\n"
	"      replog dump-log --discarded -d /data/t-0\n"
	"    One index file:\n"
	"      replog dump-log /data/t-0/00000000000000000000.timeindex\n";

enum {
	DL_OPT_DEEP = 256,
	DL_OPT_VERIFY,
	DL_OPT_VERIFY_ONLY,
	DL_OPT_DISCARDED,
	DL_OPT_MAX_BATCH,
	DL_OPT_FILES,
};

static const struct option dl_long_options[] = {
	{"print-data-log", no_argument, NULL, 'd'},
	{"deep-iteration", no_argument, NULL, DL_OPT_DEEP},
	{"verify-index", no_argument, NULL, DL_OPT_VERIFY},
	{"verify-index-only", no_argument, NULL, DL_OPT_VERIFY_ONLY},
	{"discarded", no_argument, NULL, DL_OPT_DISCARDED},
	{"max-batch-bytes", required_argument, NULL, DL_OPT_MAX_BATCH},
	{"files", required_argument, NULL, DL_OPT_FILES},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

__attribute__((format(printf, 1, 2))) static int dl_usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs(DUMP_LOG_PREFIX, stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'replog dump-log --help' for more information.\n", stderr);
	return DUMP_LOG_EXIT_USAGE;
}

/* "16777216", "64k", "16m", "1g". Returns 0 or -EINVAL. */
static int dl_parse_size(const char *s, size_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (end == s || errno || *s == '-')
		return -EINVAL;
	unsigned shift = 0;
	if (*end == 'k' || *end == 'K')
		shift = 10;
	else if (*end == 'm' || *end == 'M')
		shift = 20;
	else if (*end == 'g' || *end == 'G')
		shift = 30;
	if (shift)
		end++;
	if (*end || v > ((unsigned long long)INT32_MAX >> shift))
		return -EINVAL;
	*out = (size_t)(v << shift);
	return 0;
}

/* The paths to dump, from --files lists and arguments. Owned array of
 * borrowed strings (pieces of argv, which --files splits in place). */
struct dl_paths {
	char **dp_v;
	size_t dp_n;
	size_t dp_cap;
};

static int dl_paths_add(struct dl_paths *p, char *path)
{
	if (p->dp_n == p->dp_cap) {
		size_t ncap = p->dp_cap ? p->dp_cap * 2 : 8;
		char **nv = realloc(p->dp_v, ncap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		p->dp_v = nv;
		p->dp_cap = ncap;
	}
	p->dp_v[p->dp_n++] = path;
	return 0;
}

static int dl_paths_add_list(struct dl_paths *p, char *list)
{
	char *save = NULL;
	for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (dl_paths_add(p, tok) < 0)
			return -ENOMEM;
	return 0;
}

/* Parse the options into *o and *paths. Returns -1 to go on, or the exit
 * code to return now (help printed, or a usage error reported). */
static int dl_parse_args(int argc, char **argv, struct dump_log_opts *o, struct dl_paths *paths)
{
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":dh", dl_long_options, NULL)) != -1) {
		switch (c) {
		case 'd':
			o->dlo_print_data = true;
			break;
		case DL_OPT_DEEP:
			o->dlo_deep_iteration = true;
			break;
		case DL_OPT_VERIFY:
			o->dlo_verify_index = true;
			break;
		case DL_OPT_VERIFY_ONLY:
			o->dlo_verify_index_only = true;
			break;
		case DL_OPT_DISCARDED:
			o->dlo_discarded = true;
			break;
		case DL_OPT_MAX_BATCH:
			if (dl_parse_size(optarg, &o->dlo_max_batch_bytes) < 0 ||
			    o->dlo_max_batch_bytes < BATCH_HEADER_BYTES)
				return dl_usage_error(
					"--max-batch-bytes '%s': expected a size from 61 to "
					"2147483647 bytes (k, m, g suffixes allowed)",
					optarg);
			break;
		case DL_OPT_FILES:
			if (dl_paths_add_list(paths, optarg) < 0)
				return dl_usage_error("%s", "out of memory");
			break;
		case 'h':
			fputs(dump_log_help, stdout);
			return DUMP_LOG_EXIT_OK;
		case ':':
			return dl_usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			if (optopt > 0 && optopt < 256)
				return dl_usage_error("unknown option '-%c'", optopt);
			return dl_usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	for (int i = optind; i < argc; i++)
		if (dl_paths_add(paths, argv[i]) < 0)
			return dl_usage_error("%s", "out of memory");
	if (paths->dp_n == 0)
		return dl_usage_error(
			"%s",
			"no PATH given: name a .log, .index, .timeindex or a partition directory");
	/* A file of no known kind is a usage error, found before any output. */
	for (size_t i = 0; i < paths->dp_n; i++)
		if (dl_classify(paths->dp_v[i]) == DL_KIND_UNKNOWN)
			return dl_usage_error(
				"%s: not a .log, .index or .timeindex file, nor a directory",
				paths->dp_v[i]);
	return -1;
}

int dump_log_main(int argc, char **argv)
{
	struct dump_log_opts o;
	struct dl_paths paths = {0};
	dump_log_opts_default(&o);
	int rc = dl_parse_args(argc, argv, &o, &paths);
	if (rc >= 0) {
		free(paths.dp_v);
		return rc;
	}
	struct dump_log dl;
	rc = dump_log_init(&dl, &o, stdout, stderr);
	RL_ASSERT(rc == 0); /* the size was checked while parsing */
	int usage = 0;
	for (size_t i = 0; i < paths.dp_n; i++)
		if (dump_log_path(&dl, paths.dp_v[i]) == DUMP_LOG_EXIT_USAGE)
			usage = DUMP_LOG_EXIT_USAGE;
	rc = dump_log_exit_code(&dl);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, DUMP_LOG_PREFIX "cannot write the output: %s\n", strerror(errno));
		rc = DUMP_LOG_EXIT_UNREADABLE;
	}
	if (rc == DUMP_LOG_EXIT_OK && usage)
		rc = usage; /* a path changed kind between parsing and dumping */
	dump_log_deinit(&dl);
	free(paths.dp_v);
	return rc;
}
