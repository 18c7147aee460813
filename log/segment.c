/*
 * segment — files and scanning of one log segment (layout and invariants in
 * segment.h and index.h).
 *
 * Validation during a scan is the same as at produce time (batch_validate:
 * length, magic, CRC-32C, header sanity) plus what only the log knows:
 * base offsets strictly increase and leader epochs never decrease. A scan
 * classifies the first bad batch: a length that runs past the end of the
 * file, or a tail that is all zeros (a file extended by a write whose data
 * never reached the disk), is a torn tail — the normal result of a crash
 * mid-write; anything else is corruption. The scan reports and never
 * repairs; the partition log decides what to cut and preserves it.
 */
#include "segment.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "rlassert.h"
#include "rlerr.h"

#define SEG_READ_AHEAD_BYTES (1u << 20)

void segment_name(char *buf, int64_t base_offset, const char *suffix)
{
	snprintf(buf, SEGMENT_NAME_MAX, "%020" PRId64 "%s", base_offset, suffix);
}

int segment_parse_name(const char *name, int64_t *base_offset)
{
	int64_t v = 0;
	for (int i = 0; i < SEGMENT_NAME_DIGITS; i++) {
		if (name[i] < '0' || name[i] > '9')
			return 0;
		if (v > (INT64_MAX - 9) / 10)
			return 0;
		v = v * 10 + (name[i] - '0');
	}
	if (strcmp(name + SEGMENT_NAME_DIGITS, ".log") != 0)
		return 0;
	*base_offset = v;
	return 1;
}

void seg_reader_init(struct seg_reader *r, size_t max_batch_bytes)
{
	*r = (struct seg_reader){.sr_fd = -1, .sr_max_batch_bytes = max_batch_bytes};
}

void seg_reader_deinit(struct seg_reader *r)
{
	free(r->sr_buf);
	r->sr_buf = NULL;
	r->sr_cap = r->sr_len = 0;
	r->sr_fd = -1;
}

void seg_reader_forget(struct seg_reader *r)
{
	r->sr_fd = -1;
	r->sr_len = 0;
}

int64_t segment_pread(const struct segment *s, void *buf, size_t len, uint64_t pos)
{
	return io_pread_full(s->sg_fd, buf, len, pos);
}

int64_t seg_reader_get(struct seg_reader *r, int fd, uint64_t pos, size_t need, uint64_t end,
		       const uint8_t **p)
{
	if (pos >= end)
		return 0;
	size_t want = need;
	if (want > end - pos)
		want = (size_t)(end - pos);
	if (r->sr_fd == fd && pos >= r->sr_pos && pos + want <= r->sr_pos + r->sr_len) {
		*p = r->sr_buf + (pos - r->sr_pos);
		return (int64_t)want;
	}
	if (want > r->sr_max_batch_bytes)
		return RL_ETOO_LARGE;
	size_t chunk = want > SEG_READ_AHEAD_BYTES ? want : SEG_READ_AHEAD_BYTES;
	if (chunk > end - pos)
		chunk = (size_t)(end - pos);
	if (chunk > r->sr_cap) {
		uint8_t *nb = realloc(r->sr_buf, chunk);
		if (!nb)
			return -ENOMEM;
		r->sr_buf = nb;
		r->sr_cap = chunk;
	}
	int64_t n = io_pread_full(fd, r->sr_buf, chunk, pos);
	if (n < 0) {
		seg_reader_forget(r);
		return n;
	}
	r->sr_fd = fd;
	r->sr_pos = pos;
	r->sr_len = (size_t)n;
	*p = r->sr_buf;
	return (int64_t)((size_t)n < want ? (size_t)n : want);
}

static struct segment *segment_alloc(int dir_fd, int64_t base_offset, int64_t now_ms,
				     uint32_t max_index_entries)
{
	struct segment *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->sg_base_offset = base_offset;
	s->sg_next_offset = base_offset;
	s->sg_max_timestamp = -1;
	s->sg_created_ms = now_ms;
	s->sg_last_epoch = -1;
	s->sg_fd = -1;
	s->sg_dir_fd = dir_fd;
	s->sg_refs = 1;
	index_init(&s->sg_index, base_offset, max_index_entries);
	return s;
}

int segment_create(int dir_fd, int64_t base_offset, int64_t now_ms, uint32_t max_index_entries,
		   struct segment **out)
{
	char name[SEGMENT_NAME_MAX];
	struct segment *s = segment_alloc(dir_fd, base_offset, now_ms, max_index_entries);
	if (!s)
		return -ENOMEM;
	segment_name(name, base_offset, ".log");
	s->sg_fd = openat(dir_fd, name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (s->sg_fd < 0) {
		int err = -errno;
		segment_unref(s);
		return err;
	}
	/* Stale index files from an earlier life of this name would be trusted
	 * on the next open; remove them. */
	segment_name(name, base_offset, ".index");
	unlinkat(dir_fd, name, 0);
	segment_name(name, base_offset, ".timeindex");
	unlinkat(dir_fd, name, 0);
	*out = s;
	return 0;
}

/* Read a whole small file into a malloc'd buffer; missing file = empty. */
static int read_small_file(int dir_fd, const char *name, uint8_t **buf, size_t *len)
{
	*buf = NULL;
	*len = 0;
	int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
	} else if (st.st_size > 0) {
		*buf = malloc((size_t)st.st_size);
		if (!*buf) {
			rc = -ENOMEM;
		} else {
			int64_t n = io_pread_full(fd, *buf, (size_t)st.st_size, 0);
			if (n < 0)
				rc = (int)n;
			else
				*len = (size_t)n;
		}
	}
	close(fd);
	if (rc < 0) {
		free(*buf);
		*buf = NULL;
	}
	return rc;
}

/* The last index entry must name a batch whose header says the same
 * offset: the cheap spot check Kafka also does on open. */
static bool segment_index_spot_check(struct segment *s)
{
	if (s->sg_index.si_off_count == 0)
		return true;
	int64_t off;
	uint32_t pos;
	index_offset_entry(&s->sg_index, s->sg_index.si_off_count - 1, &off, &pos);
	uint8_t hdr[BATCH_HEADER_BYTES];
	if (segment_pread(s, hdr, sizeof(hdr), pos) != (int64_t)sizeof(hdr))
		return false;
	struct batch_header h;
	if (batch_header_decode(hdr, sizeof(hdr), &h) < 0)
		return false;
	return h.bh_base_offset == off && h.bh_magic == BATCH_MAGIC;
}

/* When the file was created, for segment_ms rolls across restarts: the
 * birth time where the filesystem records it, else the last modification. */
static int64_t segment_birth_ms(int fd, const struct stat *st)
{
	struct statx stx;
	if (statx(fd, "", AT_EMPTY_PATH, STATX_BTIME, &stx) == 0 && (stx.stx_mask & STATX_BTIME))
		return (int64_t)stx.stx_btime.tv_sec * 1000 + stx.stx_btime.tv_nsec / 1000000;
	return (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
}

int segment_open(int dir_fd, int64_t base_offset, int64_t now_ms, uint32_t max_index_entries,
		 struct segment **out, bool *index_ok)
{
	char name[SEGMENT_NAME_MAX];
	struct segment *s = segment_alloc(dir_fd, base_offset, now_ms, max_index_entries);
	if (!s)
		return -ENOMEM;
	segment_name(name, base_offset, ".log");
	s->sg_fd = openat(dir_fd, name, O_RDWR | O_CLOEXEC);
	struct stat st;
	if (s->sg_fd < 0 || fstat(s->sg_fd, &st) < 0) {
		int err = -errno;
		segment_unref(s);
		return err;
	}
	s->sg_size = s->sg_written = s->sg_synced = (uint64_t)st.st_size;
	s->sg_created_ms = segment_birth_ms(s->sg_fd, &st);

	uint8_t *ob, *tb;
	size_t ol, tl;
	bool ok = false;
	segment_name(name, base_offset, ".index");
	int rc = read_small_file(dir_fd, name, &ob, &ol);
	if (rc == 0) {
		segment_name(name, base_offset, ".timeindex");
		rc = read_small_file(dir_fd, name, &tb, &tl);
		if (rc == 0) {
			ok = ol > 0 && index_load(&s->sg_index, ob, ol, tb, tl, s->sg_size) == 0 &&
			     segment_index_spot_check(s);
			free(tb);
		}
		free(ob);
	}
	if (rc < 0) {
		segment_unref(s);
		return rc;
	}
	if (!ok)
		index_clear(&s->sg_index);
	if (ok) {
		int64_t off;
		uint32_t pos;
		index_offset_entry(&s->sg_index, s->sg_index.si_off_count - 1, &off, &pos);
		s->sg_index_pos = pos;
		s->sg_next_offset = off;
		if (s->sg_index.si_time_count > 0) {
			int64_t ts, toff;
			index_time_entry(&s->sg_index, s->sg_index.si_time_count - 1, &ts, &toff);
			s->sg_max_timestamp = ts;
		}
	}
	if (index_ok)
		*index_ok = ok;
	*out = s;
	return 0;
}

void segment_ref(struct segment *s)
{
	s->sg_refs++;
}

void segment_unref(struct segment *s)
{
	RL_ASSERT(s->sg_refs > 0);
	if (--s->sg_refs > 0)
		return;
	if (s->sg_fd >= 0)
		close(s->sg_fd);
	index_deinit(&s->sg_index);
	free(s);
}

static bool all_zero(struct seg_reader *r, int fd, uint64_t pos, uint64_t end)
{
	while (pos < end) {
		const uint8_t *p;
		size_t want = end - pos > SEG_READ_AHEAD_BYTES ? SEG_READ_AHEAD_BYTES
							       : (size_t)(end - pos);
		int64_t n = seg_reader_get(r, fd, pos, want, end, &p);
		if (n <= 0)
			return false;
		for (int64_t i = 0; i < n; i++)
			if (p[i])
				return false;
		pos += (uint64_t)n;
	}
	return true;
}

static void scan_stop(struct segment_scan *res, int stop, int err, int64_t bad_offset)
{
	res->ss_stop = stop;
	res->ss_error = err;
	res->ss_bad_offset = bad_offset;
}

/* Index the batch at pos if the interval since the last entry has passed. */
static int segment_index_batch(struct segment *s, const struct batch_header *h, uint64_t pos,
			       uint32_t interval)
{
	if (s->sg_index.si_off_count > 0 &&
	    (pos <= s->sg_index_pos || pos - s->sg_index_pos < interval))
		return 0;
	int rc = index_add_offset(&s->sg_index, h->bh_base_offset, (uint32_t)pos);
	if (rc < 0)
		return rc;
	s->sg_index_pos = pos;
	s->sg_index_dirty = true;
	return index_add_time(&s->sg_index, s->sg_max_timestamp, h->bh_base_offset);
}

static void segment_account(struct segment *s, const struct batch_header *h, uint64_t end)
{
	s->sg_next_offset = batch_next_offset(h);
	if (h->bh_max_timestamp > s->sg_max_timestamp)
		s->sg_max_timestamp = h->bh_max_timestamp;
	s->sg_last_epoch = h->bh_partition_leader_epoch;
	s->sg_size = end;
}

int segment_scan(struct segment *s, struct seg_reader *r, uint64_t pos, int64_t expect_offset,
		 int32_t last_epoch, unsigned flags, uint32_t index_interval_bytes,
		 segment_batch_fn fn, void *ctx, struct segment_scan *res)
{
	struct stat st;
	if (fstat(s->sg_fd, &st) < 0)
		return -errno;
	uint64_t end = (uint64_t)st.st_size;
	*res = (struct segment_scan){
		.ss_from_pos = pos,
		.ss_valid_end = pos,
		.ss_next_offset = expect_offset,
		.ss_last_epoch = last_epoch,
		.ss_bad_offset = -1,
	};
	if (pos == 0) {
		s->sg_max_timestamp = -1;
		s->sg_next_offset = s->sg_base_offset;
	}
	while (pos < end) {
		const uint8_t *p;
		int64_t n = seg_reader_get(r, s->sg_fd, pos, BATCH_HEADER_BYTES, end, &p);
		if (n < 0)
			return (int)n;
		if (n >= 8)
			res->ss_bad_offset = (int64_t)be64_load(p);
		int64_t total = batch_total_size(p, (size_t)n);
		if (total == RL_ETRUNCATED || (total > 0 && pos + (uint64_t)total > end)) {
			scan_stop(res, SCAN_TORN, RL_ETRUNCATED, res->ss_bad_offset);
			break;
		}
		if (total < 0) {
			bool zeros = all_zero(r, s->sg_fd, pos, end);
			scan_stop(res, zeros ? SCAN_TORN : SCAN_CORRUPT, (int)total,
				  res->ss_bad_offset);
			break;
		}
		n = seg_reader_get(r, s->sg_fd, pos, (size_t)total, end, &p);
		if (n < 0)
			return (int)n;
		struct batch_header h;
		int64_t v = batch_validate(p, (size_t)n, &h);
		if (v < 0) {
			bool zeros = all_zero(r, s->sg_fd, pos, end);
			scan_stop(res, zeros ? SCAN_TORN : SCAN_CORRUPT, (int)v,
				  res->ss_bad_offset);
			break;
		}
		bool gap = h.bh_base_offset != res->ss_next_offset;
		if (h.bh_base_offset < res->ss_next_offset || (gap && !(flags & SCAN_F_GAPS_OK)) ||
		    h.bh_partition_leader_epoch < res->ss_last_epoch ||
		    batch_last_offset(&h) - s->sg_base_offset > UINT32_MAX) {
			scan_stop(res, SCAN_NONMONOTONIC, RL_EORDER, h.bh_base_offset);
			break;
		}
		if (fn) {
			int rc = fn(ctx, &h, pos, p, (size_t)total);
			if (rc < 0)
				return rc;
		}
		segment_account(s, &h, pos + (uint64_t)total);
		if (flags & SCAN_F_REBUILD_INDEX) {
			int rc = segment_index_batch(s, &h, pos, index_interval_bytes);
			if (rc < 0)
				return rc;
		}
		pos += (uint64_t)total;
		res->ss_valid_end = pos;
		res->ss_next_offset = batch_next_offset(&h);
		res->ss_last_epoch = h.bh_partition_leader_epoch;
		res->ss_batches++;
	}
	if (res->ss_stop == SCAN_END)
		res->ss_bad_offset = -1;
	res->ss_max_timestamp = s->sg_max_timestamp;
	s->sg_size = s->sg_written = s->sg_synced = res->ss_valid_end;
	return 0;
}

int segment_note_append(struct segment *s, const struct batch_header *h, uint64_t position,
			size_t size, uint32_t index_interval_bytes)
{
	RL_ASSERT(position == s->sg_size);
	segment_account(s, h, position + size);
	return segment_index_batch(s, h, position, index_interval_bytes);
}

int segment_find(struct segment *s, struct seg_reader *r, int64_t offset, uint64_t *pos,
		 struct batch_header *h)
{
	int64_t ioff;
	uint32_t ipos = 0;
	if (!index_lookup_offset(&s->sg_index, offset, &ioff, &ipos))
		ipos = 0;
	uint64_t p = ipos;
	while (p + BATCH_HEADER_BYTES <= s->sg_written) {
		const uint8_t *b;
		int64_t n = seg_reader_get(r, s->sg_fd, p, BATCH_HEADER_BYTES, s->sg_written, &b);
		if (n < 0)
			return (int)n;
		struct batch_header hh;
		int64_t total = batch_total_size(b, (size_t)n);
		if (total < 0 || batch_header_decode(b, (size_t)n, &hh) < 0)
			return RL_ECORRUPT;
		if (batch_last_offset(&hh) >= offset) {
			*pos = p;
			if (h)
				*h = hh;
			return 1;
		}
		p += (uint64_t)total;
	}
	return 0;
}

int segment_persist_index(struct segment *s, bool sync)
{
	char name[SEGMENT_NAME_MAX];
	segment_name(name, s->sg_base_offset, ".index");
	int rc = checkpoint_write_file(s->sg_dir_fd, name, s->sg_index.si_off,
				       index_offset_bytes(&s->sg_index), sync);
	if (rc < 0)
		return rc;
	segment_name(name, s->sg_base_offset, ".timeindex");
	rc = checkpoint_write_file(s->sg_dir_fd, name, s->sg_index.si_time,
				   index_time_bytes(&s->sg_index), sync);
	if (rc == 0)
		s->sg_index_dirty = false;
	return rc;
}

int segment_truncate(struct segment *s, uint64_t pos, int64_t offset)
{
	RL_ASSERT(pos <= s->sg_size);
	if (ftruncate(s->sg_fd, (off_t)pos) < 0 || fdatasync(s->sg_fd) < 0)
		return -errno;
	index_truncate(&s->sg_index, offset);
	s->sg_size = pos;
	if (s->sg_written > pos)
		s->sg_written = pos;
	if (s->sg_synced > pos)
		s->sg_synced = pos;
	s->sg_next_offset = offset > s->sg_base_offset ? offset : s->sg_base_offset;
	if (s->sg_index.si_off_count > 0) {
		int64_t o;
		uint32_t p;
		index_offset_entry(&s->sg_index, s->sg_index.si_off_count - 1, &o, &p);
		s->sg_index_pos = p;
	} else {
		s->sg_index_pos = 0;
	}
	return segment_persist_index(s, true);
}

int segment_restat(struct segment *s, struct seg_reader *r, unsigned flags)
{
	uint64_t from = 0;
	int64_t expect = s->sg_base_offset;
	s->sg_max_timestamp = -1;
	if (s->sg_index.si_off_count > 0) {
		uint32_t pos;
		index_offset_entry(&s->sg_index, s->sg_index.si_off_count - 1, &expect, &pos);
		from = pos;
		if (s->sg_index.si_time_count > 0) {
			int64_t ts, toff;
			index_time_entry(&s->sg_index, s->sg_index.si_time_count - 1, &ts, &toff);
			s->sg_max_timestamp = ts;
		}
	}
	s->sg_next_offset = expect;
	s->sg_last_epoch = -1;
	struct segment_scan res;
	seg_reader_forget(r);
	int rc = segment_scan(s, r, from, expect, -1, flags & SCAN_F_GAPS_OK, 0, NULL, NULL, &res);
	if (rc < 0)
		return rc;
	return res.ss_stop == SCAN_END ? 0 : RL_ECORRUPT;
}

int segment_unlink(struct segment *s)
{
	char name[SEGMENT_NAME_MAX];
	int rc = 0;
	static const char *const suffixes[] = {".log", ".index", ".timeindex"};
	for (size_t i = 0; i < 3; i++) {
		segment_name(name, s->sg_base_offset, suffixes[i]);
		if (unlinkat(s->sg_dir_fd, name, 0) < 0 && errno != ENOENT && rc == 0)
			rc = -errno;
	}
	s->sg_unlinked = true;
	return rc;
}
