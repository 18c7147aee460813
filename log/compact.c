/*
 * compact — log compaction on segment files (contract, what is kept, the
 * swap protocol and its recovery in compact.h).
 *
 * A run, in two passes over the planned segments:
 *   1. map: validate every batch (length, magic, CRC-32C, offsets
 *      increasing) and put (digest(key) -> offset) for every keyed record of
 *      every readable batch into an open-addressing table sized once from
 *      cc_max_keys (load factor <= 3/4, linear probing). The first segment
 *      the map cannot hold, the first batch reaching upper_offset, the first
 *      bad or torn batch end the cleanable prefix.
 *   2. rewrite: for each cleanable segment, decide every record against
 *      the map and stream the surviving batches (copied whole, dropped, or
 *      rebuilt) into B.log.cleaned while building its sparse indexes in
 *      memory exactly as segment.c does on append. The output file is only
 *      created at the first change, so an already clean segment costs a
 *      read and nothing else.
 *
 * Nothing here shares state with a running plog: the files are opened by
 * name with fresh descriptors, read with pread and written with write, so
 * the owner can keep appending (to the active segment, never planned) and
 * even delete old segments by retention meanwhile (a vanished file is
 * skipped; plog_swap_cleaned refuses a segment that changed size).
 */
#include "compact.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "batch.h"
#include "checkpoint.h"
#include "compress.h"
#include "index.h"
#include "record.h"
#include "rlassert.h"
#include "rlerr.h"
#include "segment.h"

void compact_config_default(struct compact_config *cfg)
{
	*cfg = (struct compact_config){
		.cc_max_keys = 1u << 20,
		.cc_delete_retention_ms = 24ll * 3600 * 1000,
		.cc_now_ms = 0,
		.cc_hash_seed = 0x636f6d7061637421ull,
		.cc_index_interval_bytes = 4096,
		.cc_max_batch_bytes = 1u << 30,
		.cc_max_records_bytes = 64u << 20,
		.cc_zstd_level = 3,
	};
}

/* ---- key digests: MurmurHash3 x64 128, seeded ------------------------ */

static inline uint64_t cm_rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint64_t cm_fmix(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ull;
	k ^= k >> 33;
	return k;
}

static inline uint64_t cm_le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

struct cm_digest {
	uint64_t d_h1, d_h2;
};

static struct cm_digest cm_hash(const uint8_t *key, size_t len, uint64_t seed)
{
	const uint64_t c1 = 0x87c37b91114253d5ull, c2 = 0x4cf5ad432745937full;
	uint64_t h1 = seed, h2 = seed ^ 0x9e3779b97f4a7c15ull;
	size_t nblocks = len / 16;
	for (size_t i = 0; i < nblocks; i++) {
		uint64_t k1 = cm_le64(key + i * 16), k2 = cm_le64(key + i * 16 + 8);
		k1 *= c1;
		k1 = cm_rotl(k1, 31);
		k1 *= c2;
		h1 ^= k1;
		h1 = cm_rotl(h1, 27) + h2;
		h1 = h1 * 5 + 0x52dce729;
		k2 *= c2;
		k2 = cm_rotl(k2, 33);
		k2 *= c1;
		h2 ^= k2;
		h2 = cm_rotl(h2, 31) + h1;
		h2 = h2 * 5 + 0x38495ab5;
	}
	const uint8_t *tail = key + nblocks * 16;
	size_t rest = len & 15;
	uint64_t k1 = 0, k2 = 0;
	for (size_t i = 0; i < rest; i++) {
		if (i < 8)
			k1 |= (uint64_t)tail[i] << (8 * i);
		else
			k2 |= (uint64_t)tail[i] << (8 * (i - 8));
	}
	if (rest > 8) {
		k2 *= c2;
		k2 = cm_rotl(k2, 33);
		k2 *= c1;
		h2 ^= k2;
	}
	if (rest > 0) {
		k1 *= c1;
		k1 = cm_rotl(k1, 31);
		k1 *= c2;
		h1 ^= k1;
	}
	h1 ^= (uint64_t)len;
	h2 ^= (uint64_t)len;
	h1 += h2;
	h2 += h1;
	h1 = cm_fmix(h1);
	h2 = cm_fmix(h2);
	h1 += h2;
	h2 += h1;
	return (struct cm_digest){h1, h2};
}

/* ---- the key map ------------------------------------------------------ */

struct cm_slot {
	uint64_t ms_h1, ms_h2;
	int64_t ms_offset; /* -1: empty */
};

struct cm_map {
	struct cm_slot *mp_slots; /* owned */
	uint64_t mp_mask;
	uint32_t mp_count;
	uint32_t mp_max; /* cc_max_keys */
};

static int cm_map_init(struct cm_map *m, uint32_t max_keys)
{
	uint64_t want = (uint64_t)max_keys + max_keys / 3 + 1, n = 16;
	while (n < want)
		n <<= 1;
	*m = (struct cm_map){.mp_mask = n - 1, .mp_max = max_keys};
	m->mp_slots = malloc(n * sizeof(*m->mp_slots));
	if (!m->mp_slots)
		return -ENOMEM;
	for (uint64_t i = 0; i < n; i++)
		m->mp_slots[i].ms_offset = -1;
	return 0;
}

static struct cm_slot *cm_map_slot(const struct cm_map *m, struct cm_digest d)
{
	uint64_t i = d.d_h1 & m->mp_mask;
	for (;;) {
		struct cm_slot *s = &m->mp_slots[i];
		if (s->ms_offset < 0 || (s->ms_h1 == d.d_h1 && s->ms_h2 == d.d_h2))
			return s;
		i = (i + 1) & m->mp_mask;
	}
}

/* Returns 0, or RL_EFULL when the key is new and the map holds mp_max. */
static int cm_map_put(struct cm_map *m, struct cm_digest d, int64_t offset)
{
	struct cm_slot *s = cm_map_slot(m, d);
	if (s->ms_offset < 0) {
		if (m->mp_count == m->mp_max)
			return RL_EFULL;
		s->ms_h1 = d.d_h1;
		s->ms_h2 = d.d_h2;
		m->mp_count++;
	}
	RL_ASSERT(offset > s->ms_offset || s->ms_offset < 0);
	s->ms_offset = offset;
	return 0;
}

static int64_t cm_map_get(const struct cm_map *m, struct cm_digest d)
{
	return cm_map_slot(m, d)->ms_offset;
}

/* ---- planning --------------------------------------------------------- */

static int cm_cmp_seg(const void *a, const void *b)
{
	int64_t x = ((const struct compact_segment *)a)->cs_base_offset;
	int64_t y = ((const struct compact_segment *)b)->cs_base_offset;
	return (x > y) - (x < y);
}

int compact_plan(const char *dir, int64_t upper_offset, struct compact_plan *plan)
{
	*plan = (struct compact_plan){.cp_upper_offset = upper_offset};
	DIR *d = opendir(dir);
	if (!d)
		return -errno;
	int dfd = dirfd(d);
	struct compact_segment *v = NULL;
	uint32_t n = 0, cap = 0;
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		int64_t base;
		if (!segment_parse_name(de->d_name, &base))
			continue;
		struct stat st;
		if (fstatat(dfd, de->d_name, &st, 0) < 0)
			continue; /* deleted by retention meanwhile */
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			struct compact_segment *nv = realloc(v, cap * sizeof(*nv));
			if (!nv) {
				rc = -ENOMEM;
				break;
			}
			v = nv;
		}
		v[n++] = (struct compact_segment){.cs_base_offset = base,
						  .cs_size = (uint64_t)st.st_size,
						  .cs_next_offset = base,
						  .cs_max_timestamp = -1};
	}
	closedir(d);
	if (rc < 0) {
		free(v);
		return rc;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), cm_cmp_seg);
	if (n > 0)
		n--; /* the last segment is (or may become) the active one */
	if (n == 0) {
		free(v);
		v = NULL;
	}
	plan->cp_segs = v;
	plan->cp_count = n;
	return (int)n;
}

void compact_plan_free(struct compact_plan *plan)
{
	free(plan->cp_segs);
	plan->cp_segs = NULL;
	plan->cp_count = 0;
}

/* ---- the run ---------------------------------------------------------- */

struct cm_buf {
	uint8_t *b_ptr;
	size_t b_cap;
};

static int cm_buf_reserve(struct cm_buf *b, size_t need)
{
	if (need <= b->b_cap)
		return 0;
	size_t n = b->b_cap ? b->b_cap : 4096;
	while (n < need)
		n *= 2;
	uint8_t *p = realloc(b->b_ptr, n);
	if (!p)
		return -ENOMEM;
	b->b_ptr = p;
	b->b_cap = n;
	return 0;
}

struct cm_run {
	const struct compact_config *r_cfg;
	struct compact_plan *r_plan;
	struct compact_result *r_res;
	int r_dir_fd;
	struct seg_reader r_reader;
	struct cm_map r_map;
	struct cm_buf r_dec;  /* decompressed records region */
	struct cm_buf r_keep; /* kept records, concatenated */
	struct cm_buf r_out;  /* a rebuilt batch */
	bool r_opaque_seen;
};

/* The plain records region of a batch: 1 with *rec and *len (pointing into the
 * batch or into r_dec), 0 when the batch is opaque (compact.h). */
static int cm_records(struct cm_run *r, const uint8_t *batch, size_t size,
		      const struct batch_header *h, const uint8_t **rec, size_t *len)
{
	if (h->bh_attributes & (BATCH_ATTR_CONTROL | BATCH_ATTR_TRANSACTIONAL))
		return 0;
	const uint8_t *region = batch + BATCH_HEADER_BYTES;
	size_t rlen = size - BATCH_HEADER_BYTES;
	int codec = batch_codec(h);
	if (codec == BATCH_CODEC_NONE) {
		*rec = region;
		*len = rlen;
	} else if (codec == BATCH_CODEC_ZSTD) {
		size_t cap = r->r_cfg->cc_max_records_bytes;
		if (cm_buf_reserve(&r->r_dec, cap < (1u << 20) ? cap : (1u << 20)) < 0)
			return -ENOMEM;
		int64_t n;
		for (;;) {
			n = decompress_zstd(r->r_dec.b_ptr, r->r_dec.b_cap, region, rlen);
			if (n != RL_ETOO_LARGE || r->r_dec.b_cap >= cap)
				break;
			size_t next = r->r_dec.b_cap * 2 > cap ? cap : r->r_dec.b_cap * 2;
			if (cm_buf_reserve(&r->r_dec, next) < 0)
				return -ENOMEM;
		}
		if (n == -ENOMEM)
			return -ENOMEM;
		if (n < 0)
			return 0; /* too large or undecodable: keep the batch as it is */
		*rec = r->r_dec.b_ptr;
		*len = (size_t)n;
	} else {
		return 0;
	}
	/* Check the whole region before anything is decided from it. */
	struct record_iter it;
	struct record rd;
	int rc;
	int32_t prev = -1;
	record_iter_init(&it, *rec, *len, h->bh_records_count);
	while ((rc = record_iter_next(&it, &rd)) == 1) {
		/* Offsets within a batch must increase, or "latest" means nothing. */
		if (rd.r_offset_delta <= prev || rd.r_offset_delta > h->bh_last_offset_delta)
			return 0;
		prev = rd.r_offset_delta;
	}
	return rc == 0 ? 1 : 0;
}

/* Read the batch at pos of a planned segment file: 1 with *b, *h and *size, 0 at
 * the end of the planned size, or a RL_E* / -errno code (RL_ETRUNCATED for
 * a batch running past the planned size). */
static int cm_read_batch(struct cm_run *r, int fd, uint64_t pos, uint64_t end, const uint8_t **b,
			 struct batch_header *h, size_t *size)
{
	if (pos >= end)
		return 0;
	const uint8_t *p;
	int64_t n = seg_reader_get(&r->r_reader, fd, pos, BATCH_HEADER_BYTES, end, &p);
	if (n < 0)
		return (int)n;
	int64_t total = batch_total_size(p, (size_t)n);
	if (total < 0)
		return (int)total;
	if (pos + (uint64_t)total > end)
		return RL_ETRUNCATED;
	n = seg_reader_get(&r->r_reader, fd, pos, (size_t)total, end, &p);
	if (n < 0)
		return (int)n;
	int64_t v = batch_validate(p, (size_t)n, h);
	if (v < 0)
		return (int)v;
	*b = p;
	*size = (size_t)total;
	return 1;
}

static int cm_open_segment(struct cm_run *r, int64_t base)
{
	char name[SEGMENT_NAME_MAX];
	segment_name(name, base, ".log");
	int fd = openat(r->r_dir_fd, name, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

enum cm_stop {
	CM_GO = 0,
	CM_STOP_SEGMENT, /* this segment is not cleanable, nor any later one */
};

/* Pass 1 over one segment. Returns CM_GO when the whole segment entered the
 * map, CM_STOP_SEGMENT when the cleanable prefix ends in it, or an error. */
static int cm_map_segment(struct cm_run *r, struct compact_segment *cs, int fd)
{
	struct compact_result *res = r->r_res;
	uint64_t pos = 0;
	int64_t expect = cs->cs_base_offset;
	int32_t last_epoch = -1;
	for (;;) {
		const uint8_t *b;
		struct batch_header h;
		size_t size;
		int rc = cm_read_batch(r, fd, pos, cs->cs_size, &b, &h, &size);
		if (rc == 0)
			return CM_GO;
		if (rc == -ENOMEM || (rc < 0 && rc > -1000))
			return rc; /* a read failure, not a bad batch */
		if (rc < 0 || h.bh_base_offset < expect || h.bh_partition_leader_epoch < last_epoch)
			return CM_STOP_SEGMENT; /* torn (write in flight) or damaged */
		if (batch_last_offset(&h) >= r->r_plan->cp_upper_offset)
			return CM_STOP_SEGMENT;
		const uint8_t *rec;
		size_t len;
		rc = cm_records(r, b, size, &h, &rec, &len);
		if (rc < 0)
			return rc;
		if (rc == 0) {
			r->r_opaque_seen = true;
			res->cr_opaque_batches++;
		} else {
			struct record_iter it;
			struct record rd;
			record_iter_init(&it, rec, len, h.bh_records_count);
			while (record_iter_next(&it, &rd) == 1) {
				if (rd.r_key_len < 0)
					continue;
				int64_t off = h.bh_base_offset + rd.r_offset_delta;
				struct cm_digest d = cm_hash(rd.r_key, (size_t)rd.r_key_len,
							     r->r_cfg->cc_hash_seed);
				if (cm_map_put(&r->r_map, d, off) == RL_EFULL) {
					res->cr_map_full = true;
					res->cr_scanned_end = off;
					return CM_STOP_SEGMENT;
				}
			}
		}
		expect = batch_next_offset(&h);
		last_epoch = h.bh_partition_leader_epoch;
		cs->cs_next_offset = expect;
		if (h.bh_max_timestamp > cs->cs_max_timestamp)
			cs->cs_max_timestamp = h.bh_max_timestamp;
		res->cr_scanned_end = expect;
		pos += size;
	}
}

/* The output of pass 2 for one segment, created lazily at the first change. */
struct cm_out {
	int o_fd; /* -1 until created */
	uint8_t *o_buf;
	size_t o_len;
	size_t o_cap;
	uint64_t o_pos; /* bytes of output so far, buffered included */
	struct seg_index o_index;
	uint64_t o_index_pos;	 /* position of the last indexed batch */
	int64_t o_max_timestamp; /* running max, as segment.c keeps it */
};

static int cm_write_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int cm_out_flush(struct cm_out *o)
{
	int rc = cm_write_all(o->o_fd, o->o_buf, o->o_len);
	o->o_len = 0;
	return rc;
}

/* Create B.log.cleaned and copy the input's first `upto` bytes into it. */
static int cm_out_create(struct cm_run *r, struct cm_out *o, int64_t base, int in_fd, uint64_t upto)
{
	char name[SEGMENT_NAME_MAX + 16];
	segment_name(name, base, ".log" COMPACT_CLEANED_SUFFIX);
	o->o_fd = openat(r->r_dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (o->o_fd < 0)
		return -errno;
	uint64_t at = 0;
	while (at < upto) {
		size_t chunk = upto - at > o->o_cap ? o->o_cap : (size_t)(upto - at);
		int64_t n = io_pread_full(in_fd, o->o_buf, chunk, at);
		if (n < 0)
			return (int)n;
		if ((size_t)n != chunk)
			return RL_ECORRUPT; /* the file shrank under us */
		int rc = cm_write_all(o->o_fd, o->o_buf, chunk);
		if (rc < 0)
			return rc;
		at += chunk;
	}
	return 0;
}

/* Account one output batch at position pos: the in-memory index follows
 * segment_index_batch() (segment.c) exactly. */
static int cm_out_index(struct cm_run *r, struct cm_out *o, const struct batch_header *h,
			uint64_t pos)
{
	if (h->bh_max_timestamp > o->o_max_timestamp)
		o->o_max_timestamp = h->bh_max_timestamp;
	if (o->o_index.si_off_count > 0 &&
	    (pos <= o->o_index_pos || pos - o->o_index_pos < r->r_cfg->cc_index_interval_bytes))
		return 0;
	int rc = index_add_offset(&o->o_index, h->bh_base_offset, (uint32_t)pos);
	if (rc < 0)
		return rc;
	o->o_index_pos = pos;
	return index_add_time(&o->o_index, o->o_max_timestamp, h->bh_base_offset);
}

static int cm_out_put(struct cm_out *o, const uint8_t *p, size_t len)
{
	o->o_pos += len;
	if (o->o_fd < 0)
		return 0; /* nothing changed yet: the input holds these bytes */
	if (o->o_len + len > o->o_cap) {
		int rc = cm_out_flush(o);
		if (rc < 0)
			return rc;
		if (len >= o->o_cap)
			return cm_write_all(o->o_fd, p, len);
	}
	memcpy(o->o_buf + o->o_len, p, len);
	o->o_len += len;
	return 0;
}

/* Rebuild batch `b` from the kept records in r_keep (`kept` of them): same
 * header, new records region, count, length and CRC. Returns the size of
 * the batch in r_out, or an error. */
static int64_t cm_rebuild(struct cm_run *r, const uint8_t *b, const struct batch_header *h,
			  size_t keep_len, int32_t kept)
{
	size_t bound = keep_len + keep_len / 128 + 1024;
	int rc = cm_buf_reserve(&r->r_out, BATCH_HEADER_BYTES + bound);
	if (rc < 0)
		return rc;
	uint8_t *out = r->r_out.b_ptr;
	memcpy(out, b, BATCH_HEADER_BYTES);
	size_t region;
	if (batch_codec(h) == BATCH_CODEC_ZSTD) {
		int64_t n = compress_zstd(out + BATCH_HEADER_BYTES, bound, r->r_keep.b_ptr,
					  keep_len, r->r_cfg->cc_zstd_level);
		if (n < 0)
			return n;
		region = (size_t)n;
	} else {
		memcpy(out + BATCH_HEADER_BYTES, r->r_keep.b_ptr, keep_len);
		region = keep_len;
	}
	size_t total = BATCH_HEADER_BYTES + region;
	if (total > INT32_MAX)
		return RL_ETOO_LARGE;
	be32_store(out + BATCH_OFF_LENGTH, (uint32_t)(total - BATCH_LOG_OVERHEAD));
	be32_store(out + BATCH_OFF_RECORDS_COUNT, (uint32_t)kept);
	batch_crc_update(out, total);
	struct batch_header nh;
	RL_ASSERT(batch_validate(out, total, &nh) == (int64_t)total);
	RL_ASSERT(nh.bh_base_offset == h->bh_base_offset &&
		  nh.bh_last_offset_delta == h->bh_last_offset_delta &&
		  nh.bh_partition_leader_epoch == h->bh_partition_leader_epoch);
	return (int64_t)total;
}

/* Decide every record of one batch. Sets *out and *out_len to the bytes to
 * write (the input batch, a rebuilt one in r_out, or nothing). */
static int cm_clean_batch(struct cm_run *r, struct compact_segment *cs, bool drop_tombstones,
			  const uint8_t *b, size_t size, const struct batch_header *h,
			  const uint8_t **out, size_t *out_len)
{
	*out = b;
	*out_len = size;
	const uint8_t *rec;
	size_t len;
	int rc = cm_records(r, b, size, h, &rec, &len);
	if (rc <= 0) {
		if (rc == 0)
			r->r_res->cr_records_kept += (uint64_t)h->bh_records_count;
		return rc;
	}
	rc = cm_buf_reserve(&r->r_keep, len ? len : 1);
	if (rc < 0)
		return rc;
	struct record_iter it;
	struct record rd;
	record_iter_init(&it, rec, len, h->bh_records_count);
	size_t keep_len = 0;
	int32_t kept = 0, dropped = 0, tombs = 0;
	for (;;) {
		size_t start = it.ri_pos;
		if (record_iter_next(&it, &rd) != 1)
			break;
		bool keep = true;
		if (rd.r_key_len >= 0) {
			int64_t off = h->bh_base_offset + rd.r_offset_delta;
			struct cm_digest d =
				cm_hash(rd.r_key, (size_t)rd.r_key_len, r->r_cfg->cc_hash_seed);
			int64_t latest = cm_map_get(&r->r_map, d);
			if (latest > off)
				keep = false;
			else if (rd.r_value_len < 0 && drop_tombstones) {
				keep = false;
				tombs++;
			}
		}
		if (keep) {
			memcpy(r->r_keep.b_ptr + keep_len, rec + start, rd.r_size);
			keep_len += rd.r_size;
			kept++;
		} else {
			dropped++;
		}
	}
	cs->cs_records_dropped += (uint32_t)dropped;
	cs->cs_tombstones_dropped += (uint32_t)tombs;
	r->r_res->cr_records_kept += (uint64_t)kept;
	r->r_res->cr_records_dropped += (uint64_t)dropped;
	r->r_res->cr_tombstones_dropped += (uint64_t)tombs;
	if (dropped == 0)
		return 0;
	if (kept == 0) {
		*out_len = 0;
		return 0;
	}
	int64_t n = cm_rebuild(r, b, h, keep_len, kept);
	if (n < 0)
		return (int)n;
	*out = r->r_out.b_ptr;
	*out_len = (size_t)n;
	return 0;
}

static void cm_cleaned_names(char *log, char *ix, char *tix, int64_t base)
{
	segment_name(log, base, ".log" COMPACT_CLEANED_SUFFIX);
	segment_name(ix, base, ".index" COMPACT_CLEANED_SUFFIX);
	segment_name(tix, base, ".timeindex" COMPACT_CLEANED_SUFFIX);
}

int compact_discard_cleaned(int dir_fd, int64_t base)
{
	char n[3][SEGMENT_NAME_MAX + 16];
	cm_cleaned_names(n[0], n[1], n[2], base);
	int rc = 0;
	for (int i = 0; i < 3; i++)
		if (unlinkat(dir_fd, n[i], 0) < 0 && errno != ENOENT && rc == 0)
			rc = -errno;
	return rc;
}

/* Pass 2 over one cleanable segment. */
static int cm_rewrite_segment(struct cm_run *r, struct compact_segment *cs, int fd)
{
	const struct compact_config *cfg = r->r_cfg;
	bool drop_tombstones = cfg->cc_delete_retention_ms >= 0 && !r->r_opaque_seen &&
			       cs->cs_max_timestamp <= cfg->cc_now_ms - cfg->cc_delete_retention_ms;
	struct cm_out o = {.o_fd = -1, .o_cap = 1u << 20, .o_max_timestamp = -1};
	o.o_buf = malloc(o.o_cap);
	if (!o.o_buf)
		return -ENOMEM;
	index_init(&o.o_index, cs->cs_base_offset,
		   (uint32_t)(cs->cs_size / cfg->cc_index_interval_bytes) + 2);
	uint64_t pos = 0;
	int rc;
	for (;;) {
		const uint8_t *b;
		struct batch_header h;
		size_t size;
		rc = cm_read_batch(r, fd, pos, cs->cs_size, &b, &h, &size);
		if (rc <= 0)
			break; /* pass 1 validated the same bytes: errors are I/O */
		const uint8_t *out;
		size_t out_len;
		rc = cm_clean_batch(r, cs, drop_tombstones, b, size, &h, &out, &out_len);
		if (rc < 0)
			break;
		if (o.o_fd < 0 && (out != b || out_len != size)) {
			rc = cm_out_create(r, &o, cs->cs_base_offset, fd, o.o_pos);
			if (rc < 0)
				break;
		}
		if (out_len > 0) {
			struct batch_header oh;
			batch_header_decode(out, out_len, &oh);
			rc = cm_out_index(r, &o, &oh, o.o_pos);
			if (rc == 0)
				rc = cm_out_put(&o, out, out_len);
			if (rc < 0)
				break;
		}
		pos += size;
	}
	if (rc == 0 && o.o_fd >= 0) {
		rc = cm_out_flush(&o);
		if (rc == 0 && fdatasync(o.o_fd) < 0)
			rc = -errno;
		char n[3][SEGMENT_NAME_MAX + 16];
		cm_cleaned_names(n[0], n[1], n[2], cs->cs_base_offset);
		if (rc == 0)
			rc = checkpoint_write_file(r->r_dir_fd, n[1], o.o_index.si_off,
						   index_offset_bytes(&o.o_index), true);
		if (rc == 0)
			rc = checkpoint_write_file(r->r_dir_fd, n[2], o.o_index.si_time,
						   index_time_bytes(&o.o_index), true);
		cs->cs_rewritten = rc == 0;
	}
	cs->cs_new_size = o.o_pos;
	if (o.o_fd >= 0) {
		close(o.o_fd);
		if (rc < 0)
			compact_discard_cleaned(r->r_dir_fd, cs->cs_base_offset);
	}
	index_deinit(&o.o_index);
	free(o.o_buf);
	return rc;
}

int compact_run(const char *dir, struct compact_plan *plan, const struct compact_config *cfg,
		struct compact_result *res)
{
	memset(res, 0, sizeof(*res));
	if (cfg->cc_max_keys == 0 || cfg->cc_index_interval_bytes == 0 ||
	    cfg->cc_max_batch_bytes < BATCH_HEADER_BYTES)
		return RL_ECONFIG;
	struct cm_run r = {.r_cfg = cfg, .r_plan = plan, .r_res = res, .r_dir_fd = -1};
	int *fds = calloc(plan->cp_count ? plan->cp_count : 1, sizeof(*fds));
	if (!fds)
		return -ENOMEM;
	for (uint32_t i = 0; i < plan->cp_count; i++) {
		fds[i] = -1;
		struct compact_segment *cs = &plan->cp_segs[i];
		cs->cs_next_offset = cs->cs_base_offset;
		cs->cs_max_timestamp = -1;
		cs->cs_cleaned = cs->cs_rewritten = false;
		cs->cs_new_size = cs->cs_size;
		cs->cs_records_dropped = cs->cs_tombstones_dropped = 0;
	}
	seg_reader_init(&r.r_reader, cfg->cc_max_batch_bytes);
	int rc = cm_map_init(&r.r_map, cfg->cc_max_keys);
	if (rc == 0) {
		r.r_dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (r.r_dir_fd < 0)
			rc = -errno;
	}
	res->cr_cleaned_end = res->cr_scanned_end =
		plan->cp_count ? plan->cp_segs[0].cs_base_offset : 0;

	/* Pass 1: the map, and how far the cleanable prefix goes. */
	uint32_t ncleanable = 0;
	for (uint32_t i = 0; rc == 0 && i < plan->cp_count; i++) {
		struct compact_segment *cs = &plan->cp_segs[i];
		fds[i] = cm_open_segment(&r, cs->cs_base_offset);
		if (fds[i] == -ENOENT) {
			continue; /* removed by retention since the plan */
		}
		if (fds[i] < 0) {
			rc = fds[i];
			break;
		}
		int st = cm_map_segment(&r, cs, fds[i]);
		if (st < 0) {
			rc = st;
			break;
		}
		if (st == CM_STOP_SEGMENT)
			break;
		cs->cs_cleaned = true;
		ncleanable = i + 1;
		res->cr_cleaned_end = cs->cs_next_offset;
		if (i + 1 < plan->cp_count)
			res->cr_cleaned_end = res->cr_scanned_end =
				plan->cp_segs[i + 1].cs_base_offset;
	}
	res->cr_keys = r.r_map.mp_count;

	/* Pass 2: rewrite what changed. */
	for (uint32_t i = 0; rc == 0 && i < ncleanable; i++) {
		struct compact_segment *cs = &plan->cp_segs[i];
		if (!cs->cs_cleaned)
			continue;
		rc = cm_rewrite_segment(&r, cs, fds[i]);
		if (rc < 0)
			break;
		res->cr_segments_cleaned++;
		res->cr_bytes_before += cs->cs_size;
		res->cr_bytes_after += cs->cs_new_size;
		if (cs->cs_rewritten)
			res->cr_segments_rewritten++;
	}
	if (rc == 0 && res->cr_segments_rewritten && fsync(r.r_dir_fd) < 0)
		rc = -errno;
	if (rc < 0 && r.r_dir_fd >= 0) {
		for (uint32_t i = 0; i < plan->cp_count; i++) {
			if (plan->cp_segs[i].cs_rewritten)
				compact_discard_cleaned(r.r_dir_fd,
							plan->cp_segs[i].cs_base_offset);
			plan->cp_segs[i].cs_rewritten = false;
		}
	}
	for (uint32_t i = 0; i < plan->cp_count; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	if (r.r_dir_fd >= 0)
		close(r.r_dir_fd);
	seg_reader_deinit(&r.r_reader);
	free(r.r_map.mp_slots);
	free(r.r_dec.b_ptr);
	free(r.r_keep.b_ptr);
	free(r.r_out.b_ptr);
	return rc;
}

/* ---- the swap and its recovery ---------------------------------------- */

int compact_swap_files(int dir_fd, int64_t base, int max_steps, bool *committed)
{
	char clog[SEGMENT_NAME_MAX + 16], cix[SEGMENT_NAME_MAX + 16], ctix[SEGMENT_NAME_MAX + 16];
	char swap[SEGMENT_NAME_MAX + 16], log[SEGMENT_NAME_MAX], ix[SEGMENT_NAME_MAX],
		tix[SEGMENT_NAME_MAX];
	cm_cleaned_names(clog, cix, ctix, base);
	segment_name(swap, base, ".log" COMPACT_SWAP_SUFFIX);
	segment_name(log, base, ".log");
	segment_name(ix, base, ".index");
	segment_name(tix, base, ".timeindex");
	if (committed)
		*committed = false;
	int step = 0;
	/* 2: the commit point. */
	if (step++ >= max_steps)
		return 0;
	if (renameat(dir_fd, clog, dir_fd, swap) < 0)
		return -errno;
	/* From here a crash may complete the swap: never undo it. */
	if (committed)
		*committed = true;
	if (step++ >= max_steps)
		return 0;
	if (fsync(dir_fd) < 0)
		return -errno;
	/* 3: the new indexes (fsynced by compact_run). */
	if (step++ >= max_steps)
		return 0;
	if (renameat(dir_fd, cix, dir_fd, ix) < 0)
		return -errno;
	if (step++ >= max_steps)
		return 0;
	if (renameat(dir_fd, ctix, dir_fd, tix) < 0)
		return -errno;
	/* 4: the new log over the old one. */
	if (step++ >= max_steps)
		return 0;
	if (renameat(dir_fd, swap, dir_fd, log) < 0)
		return -errno;
	if (step++ >= max_steps)
		return 0;
	if (fsync(dir_fd) < 0)
		return -errno;
	return 0;
}

/* Parse "<20 digits><suffix>" exactly. */
static int cm_parse(const char *name, const char *suffix, int64_t *base)
{
	size_t len = strlen(name), sl = strlen(suffix);
	if (len != SEGMENT_NAME_DIGITS + sl || strcmp(name + SEGMENT_NAME_DIGITS, suffix) != 0)
		return 0;
	char tmp[SEGMENT_NAME_MAX];
	memcpy(tmp, name, SEGMENT_NAME_DIGITS);
	strcpy(tmp + SEGMENT_NAME_DIGITS, ".log");
	return segment_parse_name(tmp, base);
}

/* Finish the committed swap of `base`: indexes first, the log last. */
static int cm_finish_swap(int dir_fd, int64_t base)
{
	char clog[SEGMENT_NAME_MAX + 16], cix[SEGMENT_NAME_MAX + 16], ctix[SEGMENT_NAME_MAX + 16];
	char swap[SEGMENT_NAME_MAX + 16], log[SEGMENT_NAME_MAX], ix[SEGMENT_NAME_MAX],
		tix[SEGMENT_NAME_MAX];
	cm_cleaned_names(clog, cix, ctix, base);
	segment_name(swap, base, ".log" COMPACT_SWAP_SUFFIX);
	segment_name(log, base, ".log");
	segment_name(ix, base, ".index");
	segment_name(tix, base, ".timeindex");
	if (renameat(dir_fd, cix, dir_fd, ix) < 0 && errno != ENOENT)
		return -errno;
	if (renameat(dir_fd, ctix, dir_fd, tix) < 0 && errno != ENOENT)
		return -errno;
	if (renameat(dir_fd, swap, dir_fd, log) < 0)
		return -errno;
	return 0;
}

int compact_recover_dir(int dir_fd)
{
	static const char *const cleaned[] = {".log" COMPACT_CLEANED_SUFFIX,
					      ".index" COMPACT_CLEANED_SUFFIX,
					      ".timeindex" COMPACT_CLEANED_SUFFIX};
	int done = 0, changed = 0, rc = 0;
	for (int pass = 0; pass < 2 && rc == 0; pass++) {
		int fd = dup(dir_fd);
		if (fd < 0)
			return -errno;
		DIR *d = fdopendir(fd);
		if (!d) {
			close(fd);
			return -errno;
		}
		rewinddir(d);
		/* Collect first: renaming while reading a directory may skip or
		 * repeat entries. */
		int64_t *bases = NULL;
		uint32_t n = 0, cap = 0;
		struct dirent *de;
		while (rc == 0 && (de = readdir(d))) {
			int64_t base;
			bool hit = false;
			if (pass == 0) {
				hit = cm_parse(de->d_name, ".log" COMPACT_SWAP_SUFFIX, &base);
			} else {
				for (int i = 0; i < 3 && !hit; i++)
					hit = cm_parse(de->d_name, cleaned[i], &base);
			}
			if (!hit)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 8;
				int64_t *nb = realloc(bases, cap * sizeof(*nb));
				if (!nb) {
					rc = -ENOMEM;
					break;
				}
				bases = nb;
			}
			bases[n++] = base;
		}
		closedir(d);
		for (uint32_t i = 0; rc == 0 && i < n; i++) {
			if (pass == 0) {
				rc = cm_finish_swap(dir_fd, bases[i]);
				done++;
			} else {
				rc = compact_discard_cleaned(dir_fd, bases[i]);
			}
			changed++;
		}
		free(bases);
	}
	if (rc == 0 && changed && fsync(dir_fd) < 0)
		rc = -errno;
	return rc < 0 ? rc : done;
}
