/*
 * raftlog — durable term, vote, entries and snapshot for the controller's
 * Raft. The file formats and the recovery algorithm are in raftlog.h.
 *
 * Owns: the directory (held with flock while open), the fd of `log`, and in
 * memory the offset of every frame: lg_offs[i] is the file offset of the
 * entry with index lg_start + i and lg_offs[lg_n] is the file's size, so a
 * truncation is one ftruncate and an append needs no scan.
 *
 * Invariants between calls while not fenced:
 *   - the log file is exactly the header plus the frames lg_offs names, all
 *     of them fsynced, with indexes lg_start, lg_start + 1, ...;
 *   - lg_start >= 1; without a snapshot lg_start == 1;
 *   - with a snapshot: lg_start <= snap_index + 1 <= last_index + 1, so the
 *     snapshot plus the entries cover every index up to last_index.
 * Ordering: a snapshot put renames the new snapshot into place before it
 * shortens the log, so after a crash between the two the log still holds
 * what the snapshot's header says to drop, and rlg_open finishes the job.
 */
#include "raftlog.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "checkpoint.h"
#include "crc32c.h"
#include "io.h"
#include "rlassert.h"
#include "rlerr.h"

#define STATE_NAME "state"
#define STATE_TMP  "state.tmp"
#define LOG_NAME   "log"
#define LOG_TMP	   "log.tmp"
#define SNAP_NAME  "snapshot"
#define SNAP_TMP   "snapshot.tmp"

#define STATE_MAGIC 0x53474c52u /* "RLGS" */
#define LOG_MAGIC   0x4c474c52u /* "RLGL" */
#define SNAP_MAGIC  0x50474c52u /* "RLGP" */
#define FORMAT_V1   1u

#define STATE_SIZE 28u
#define LOG_HDR	   24u
#define FRAME_HDR  25u
#define SNAP_HDR   60u

#define SNAP_F_INSTALL 1u

/* Copy and checksum buffer for rewrites and snapshot scans. */
#define CHUNK_BYTES (64u << 10)

_Static_assert(RLG_ENTRY_MAX_BYTES <= UINT32_MAX - FRAME_HDR, "frame length fits a u32");
_Static_assert(RLG_LOG_MAX_BYTES <= SIZE_MAX, "the whole log fits in memory on load");
_Static_assert(RLG_SNAPSHOT_MAX_BYTES <= SIZE_MAX, "a snapshot fits in memory");

struct rlg {
	int lg_dir_fd; /* holds the flock */
	int lg_log_fd;
	int lg_err; /* sticky: the failure that fenced us */
	uint64_t lg_term;
	uint64_t lg_vote;
	uint64_t lg_start; /* index of the first entry held, or the next index */
	size_t lg_n;	   /* entries held */
	uint64_t *lg_offs; /* lg_n + 1 frame offsets */
	size_t lg_offs_cap;
	bool lg_has_snap;
	uint64_t lg_snap_index;
	struct rlg_stats lg_stats;
	char lg_dir[PATH_MAX];
};

struct snap_hdr {
	uint64_t sh_index, sh_term, sh_conf_index, sh_keep_from;
	uint32_t sh_flags, sh_conf_len;
	uint64_t sh_data_len;
};

/* ---- little-endian codec and I/O helpers -------------------------------- */

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

__attribute__((format(printf, 3, 4))) static void errf(char *err, size_t cap, const char *fmt, ...)
{
	if (!err || cap == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, cap, fmt, ap);
	va_end(ap);
}

/* The test-only fault hook (log/io.h), asked as the I/O engines ask it, so
 * a fault test can fail the metadata log's writes and fdatasyncs too (its
 * directory fsyncs and ftruncates are not offered). 0 or the injected
 * -errno; a hold (IO_FAULT_HOLD) is not modelled here, the op runs. One
 * pointer test when no hook is installed. */
static int rlg_fault(int code, int fd, const void *buf, size_t len, uint64_t off)
{
	if (!io_fault_hook)
		return 0;
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct io_op op;
	io_op_prep(&op, code, fd, off, NULL, NULL);
	op.op_iov = &iov;
	op.op_iovcnt = code == IO_OP_WRITEV ? 1 : 0;
	int rc = io_fault_hook(&op);
	return rc < 0 ? rc : 0;
}

/* fdatasync(fd): 0 or -errno. */
static int rlg_datasync(int fd)
{
	int rc = rlg_fault(IO_OP_FDATASYNC, fd, NULL, 0, 0);
	if (rc == 0 && fdatasync(fd) < 0)
		rc = -errno;
	return rc;
}

/* Write all of buf at off; short writes and EINTR retried. 0 or -errno. */
static int pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	int rc = rlg_fault(IO_OP_WRITEV, fd, buf, len, off);
	if (rc < 0)
		return rc;
	size_t done = 0;
	while (done < len) {
		ssize_t n =
			pwrite(fd, (const uint8_t *)buf + done, len - done, (off_t)(off + done));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		done += (size_t)n;
	}
	return 0;
}

/* Exactly len bytes at off: 0, RL_ETRUNCATED when the file is shorter, or
 * -errno. */
static int pread_exact(int fd, void *buf, size_t len, uint64_t off)
{
	int64_t got = io_pread_full(fd, buf, len, off);
	if (got < 0)
		return (int)got;
	return (size_t)got == len ? 0 : RL_ETRUNCATED;
}

static int fence(struct rlg *l, int rc)
{
	RL_ASSERT(rc < 0);
	if (l->lg_err == 0)
		l->lg_err = rc;
	return rc;
}

static int offs_reserve(struct rlg *l, size_t more)
{
	size_t need = l->lg_n + 1 + more;
	if (need <= l->lg_offs_cap)
		return 0;
	size_t cap = l->lg_offs_cap ? l->lg_offs_cap : 64;
	while (cap < need)
		cap *= 2;
	uint64_t *p = realloc(l->lg_offs, cap * sizeof(*p));
	if (!p)
		return -ENOMEM;
	l->lg_offs = p;
	l->lg_offs_cap = cap;
	return 0;
}

/* Replace `name` whole: write the parts to `tmp`, fdatasync, rename over
 * name, fsync the directory. A failure before the rename changes nothing
 * durable (tmp is removed) and is returned as is; after the rename the file
 * may or may not be durable, so that failure fences l. Returns 0 or a
 * negative code. */
static int replace_file(struct rlg *l, const char *name, const char *tmp, const struct iovec *iov,
			size_t iov_count)
{
	int fd = openat(l->lg_dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	int rc = 0;
	uint64_t off = 0;
	for (size_t i = 0; rc == 0 && i < iov_count; i++) {
		rc = pwrite_all(fd, iov[i].iov_base, iov[i].iov_len, off);
		off += iov[i].iov_len;
	}
	if (rc == 0)
		rc = rlg_datasync(fd);
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && renameat(l->lg_dir_fd, tmp, l->lg_dir_fd, name) < 0)
		rc = -errno;
	if (rc < 0) {
		unlinkat(l->lg_dir_fd, tmp, 0);
		return rc;
	}
	if (fsync(l->lg_dir_fd) < 0)
		return fence(l, -errno);
	return 0;
}

/* ---- state -------------------------------------------------------------- */

static int state_write(struct rlg *l, uint64_t term, uint64_t vote)
{
	uint8_t b[STATE_SIZE];
	put32(b, STATE_MAGIC);
	put32(b + 4, FORMAT_V1);
	put64(b + 8, term);
	put64(b + 16, vote);
	put32(b + 24, crc32c(0, b, 24));
	struct iovec iov = {.iov_base = b, .iov_len = sizeof(b)};
	int rc = replace_file(l, STATE_NAME, STATE_TMP, &iov, 1);
	if (rc < 0)
		return rc;
	l->lg_term = term;
	l->lg_vote = vote;
	return 0;
}

static int state_read(struct rlg *l, char *err, size_t err_cap)
{
	char b[64];
	int n = checkpoint_read(l->lg_dir_fd, STATE_NAME, b, sizeof(b));
	if (n == -ENOENT)
		return 0;
	if (n < 0 && n != RL_ETOO_LARGE) {
		errf(err, err_cap, "%s/%s: read: %s", l->lg_dir, STATE_NAME, rl_strerror(n));
		return n;
	}
	const uint8_t *p = (const uint8_t *)b;
	const char *why = NULL;
	if (n != (int)STATE_SIZE)
		why = "wrong size";
	else if (get32(p) != STATE_MAGIC || get32(p + 4) != FORMAT_V1)
		why = "bad magic or version";
	else if (get32(p + 24) != crc32c(0, p, 24))
		why = "crc mismatch";
	if (why) {
		errf(err, err_cap, "%s/%s: %s", l->lg_dir, STATE_NAME, why);
		return RL_ECORRUPT;
	}
	l->lg_term = get64(p + 8);
	l->lg_vote = get64(p + 16);
	return 0;
}

/* ---- snapshot file ------------------------------------------------------ */

/* Read and check `snapshot`. With out, its conf and data are returned in
 * malloc'd buffers; without, they are only checksummed. Returns 1, 0 when
 * there is no snapshot, RL_ECORRUPT (err says why) or -errno. */
static int snap_read(struct rlg *l, struct snap_hdr *h, struct rlg_snapshot *out, char *err,
		     size_t err_cap)
{
	int fd = openat(l->lg_dir_fd, SNAP_NAME, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		int rc = -errno;
		errf(err, err_cap, "%s/%s: open: %s", l->lg_dir, SNAP_NAME, strerror(-rc));
		return rc;
	}
	uint8_t b[SNAP_HDR];
	uint8_t *conf = NULL, *data = NULL, *chunk = NULL;
	const char *why = NULL;
	struct stat st;
	int rc = fstat(fd, &st) < 0 ? -errno : 0;
	if (rc == 0 && (uint64_t)st.st_size < SNAP_HDR)
		why = "shorter than its header";
	if (rc == 0 && !why) {
		rc = pread_exact(fd, b, SNAP_HDR, 0);
		if (rc == RL_ETRUNCATED) {
			rc = 0;
			why = "shorter than its header";
		}
	}
	if (rc == 0 && !why) {
		h->sh_index = get64(b + 8);
		h->sh_term = get64(b + 16);
		h->sh_conf_index = get64(b + 24);
		h->sh_keep_from = get64(b + 32);
		h->sh_flags = get32(b + 40);
		h->sh_conf_len = get32(b + 44);
		h->sh_data_len = get64(b + 48);
		if (get32(b) != SNAP_MAGIC || get32(b + 4) != FORMAT_V1)
			why = "bad magic or version";
		else if (h->sh_conf_len > RLG_ENTRY_MAX_BYTES ||
			 h->sh_data_len > RLG_SNAPSHOT_MAX_BYTES)
			why = "length out of bounds";
		else if ((uint64_t)st.st_size != SNAP_HDR + h->sh_conf_len + h->sh_data_len)
			why = "file size does not match its lengths";
		else if (h->sh_index == 0 || h->sh_index == UINT64_MAX ||
			 h->sh_conf_index > h->sh_index || (h->sh_flags & ~SNAP_F_INSTALL) ||
			 h->sh_keep_from == 0 || h->sh_keep_from > h->sh_index + 1)
			why = "impossible header field";
	}
	uint32_t crc = rc == 0 && !why ? crc32c(0, b, 56) : 0;
	if (rc == 0 && !why && out) {
		conf = malloc(h->sh_conf_len ? h->sh_conf_len : 1);
		data = malloc(h->sh_data_len ? h->sh_data_len : 1);
		if (!conf || !data)
			rc = -ENOMEM;
		if (rc == 0)
			rc = pread_exact(fd, conf, h->sh_conf_len, SNAP_HDR);
		if (rc == 0)
			rc = pread_exact(fd, data, h->sh_data_len, SNAP_HDR + h->sh_conf_len);
		crc = crc32c(crc, conf, h->sh_conf_len);
		crc = crc32c(crc, data, h->sh_data_len);
	} else if (rc == 0 && !why) {
		chunk = malloc(CHUNK_BYTES);
		if (!chunk)
			rc = -ENOMEM;
		uint64_t off = SNAP_HDR, end = SNAP_HDR + h->sh_conf_len + h->sh_data_len;
		while (rc == 0 && off < end) {
			size_t want = end - off < CHUNK_BYTES ? (size_t)(end - off) : CHUNK_BYTES;
			rc = pread_exact(fd, chunk, want, off);
			crc = crc32c(crc, chunk, want);
			off += want;
		}
	}
	if (rc == RL_ETRUNCATED) { /* shrank under us */
		rc = 0;
		why = "file size does not match its lengths";
	}
	if (rc == 0 && !why && crc != get32(b + 56))
		why = "crc mismatch";
	close(fd);
	free(chunk);
	if (why) {
		errf(err, err_cap, "%s/%s: %s", l->lg_dir, SNAP_NAME, why);
		rc = RL_ECORRUPT;
	} else if (rc < 0) {
		errf(err, err_cap, "%s/%s: read: %s", l->lg_dir, SNAP_NAME, rl_strerror(rc));
	}
	if (rc < 0) {
		free(conf);
		free(data);
		return rc;
	}
	if (out) {
		out->index = h->sh_index;
		out->term = h->sh_term;
		out->conf_index = h->sh_conf_index;
		out->conf = conf;
		out->conf_len = h->sh_conf_len;
		out->data = data;
		out->data_len = (size_t)h->sh_data_len;
	}
	return 1;
}

static int snap_write(struct rlg *l, const struct rlg_snapshot *s, uint64_t keep_from,
		      uint32_t flags)
{
	uint8_t b[SNAP_HDR];
	put32(b, SNAP_MAGIC);
	put32(b + 4, FORMAT_V1);
	put64(b + 8, s->index);
	put64(b + 16, s->term);
	put64(b + 24, s->conf_index);
	put64(b + 32, keep_from);
	put32(b + 40, flags);
	put32(b + 44, (uint32_t)s->conf_len);
	put64(b + 48, s->data_len);
	uint32_t crc = crc32c(0, b, 56);
	crc = crc32c(crc, s->conf, s->conf_len);
	crc = crc32c(crc, s->data, s->data_len);
	put32(b + 56, crc);

	struct iovec iov[3] = {{.iov_base = b, .iov_len = SNAP_HDR},
			       {.iov_base = s->conf, .iov_len = s->conf_len},
			       {.iov_base = s->data, .iov_len = s->data_len}};
	return replace_file(l, SNAP_NAME, SNAP_TMP, iov, 3);
}

/* ---- log file ----------------------------------------------------------- */

static void log_header(uint8_t *b, uint64_t start)
{
	put32(b, LOG_MAGIC);
	put32(b + 4, FORMAT_V1);
	put64(b + 8, start);
	put32(b + 16, crc32c(0, b, 16));
	put32(b + 20, 0);
}

/* Replace `log` with a header saying `start` followed by the bytes
 * [from, to) of the current log, via log.tmp + fdatasync + rename + fsync of
 * the directory; the new file becomes lg_log_fd. The caller fixes lg_start,
 * lg_n and lg_offs. Returns 0 or a negative code (the caller fences). */
static int log_rewrite(struct rlg *l, uint64_t start, uint64_t from, uint64_t to)
{
	int fd = openat(l->lg_dir_fd, LOG_TMP, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	uint8_t hdr[LOG_HDR];
	log_header(hdr, start);
	int rc = pwrite_all(fd, hdr, LOG_HDR, 0);
	uint8_t *chunk = NULL;
	if (rc == 0 && from < to && !(chunk = malloc(CHUNK_BYTES)))
		rc = -ENOMEM;
	for (uint64_t off = LOG_HDR; rc == 0 && from < to;) {
		size_t want = to - from < CHUNK_BYTES ? (size_t)(to - from) : CHUNK_BYTES;
		rc = pread_exact(l->lg_log_fd, chunk, want, from);
		if (rc == RL_ETRUNCATED)
			rc = RL_ECORRUPT; /* the log shrank under us */
		if (rc == 0)
			rc = pwrite_all(fd, chunk, want, off);
		from += want;
		off += want;
	}
	free(chunk);
	if (rc == 0)
		rc = rlg_datasync(fd);
	if (rc == 0 && renameat(l->lg_dir_fd, LOG_TMP, l->lg_dir_fd, LOG_NAME) < 0)
		rc = -errno;
	if (rc < 0) {
		close(fd);
		unlinkat(l->lg_dir_fd, LOG_TMP, 0);
		return rc;
	}
	/* Renamed: `log` is the new file whatever the directory fsync says. */
	if (l->lg_log_fd >= 0)
		close(l->lg_log_fd);
	l->lg_log_fd = fd;
	if (fsync(l->lg_dir_fd) < 0)
		return -errno;
	return 0;
}

/* Drop every entry; the next index becomes `next`. */
static int log_drop_all(struct rlg *l, uint64_t next)
{
	if (l->lg_n == 0 && l->lg_start == next)
		return 0;
	int rc = log_rewrite(l, next, 0, 0);
	if (rc < 0)
		return rc;
	l->lg_start = next;
	l->lg_n = 0;
	l->lg_offs[0] = LOG_HDR;
	return 0;
}

/* Drop the entries below keep_from (lg_start < keep_from <= last + 1). */
static int log_drop_prefix(struct rlg *l, uint64_t keep_from)
{
	RL_ASSERT(keep_from > l->lg_start && keep_from - l->lg_start <= l->lg_n);
	size_t k = (size_t)(keep_from - l->lg_start);
	int rc = log_rewrite(l, keep_from, l->lg_offs[k], l->lg_offs[l->lg_n]);
	if (rc < 0)
		return rc;
	uint64_t shift = l->lg_offs[k] - LOG_HDR;
	for (size_t i = k; i <= l->lg_n; i++)
		l->lg_offs[i - k] = l->lg_offs[i] - shift;
	l->lg_n -= k;
	l->lg_start = keep_from;
	return 0;
}

/* True when every byte of [off, end) reads as zero: a file extended by a
 * crash (zeroed blocks) rather than damaged frames. */
static bool all_zero(int fd, uint64_t off, uint64_t end)
{
	uint8_t b[4096];
	while (off < end) {
		size_t want = end - off < sizeof(b) ? (size_t)(end - off) : sizeof(b);
		if (pread_exact(fd, b, want, off) != 0)
			return false;
		for (size_t i = 0; i < want; i++)
			if (b[i])
				return false;
		off += want;
	}
	return true;
}

/* Check the header, index every valid frame, cut the file at the first
 * invalid one. Fills lg_start, lg_n, lg_offs and lg_stats. */
static int log_scan(struct rlg *l, char *err, size_t err_cap)
{
	int fd = l->lg_log_fd;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int rc = -errno;
		errf(err, err_cap, "%s/%s: stat: %s", l->lg_dir, LOG_NAME, strerror(-rc));
		return rc;
	}
	uint64_t size = (uint64_t)st.st_size;
	if (size > RLG_LOG_MAX_BYTES) {
		errf(err, err_cap, "%s/%s: %" PRIu64 " bytes, over the limit", l->lg_dir, LOG_NAME,
		     size);
		return RL_ETOO_LARGE;
	}
	uint8_t hdr[LOG_HDR];
	int rc = size < LOG_HDR ? RL_ETRUNCATED : pread_exact(fd, hdr, LOG_HDR, 0);
	if (rc < 0 && rc != RL_ETRUNCATED) {
		errf(err, err_cap, "%s/%s: read: %s", l->lg_dir, LOG_NAME, rl_strerror(rc));
		return rc;
	}
	/* The header is only ever written by rename: any defect is corruption. */
	if (rc == RL_ETRUNCATED || get32(hdr) != LOG_MAGIC || get32(hdr + 4) != FORMAT_V1 ||
	    get32(hdr + 16) != crc32c(0, hdr, 16) || get32(hdr + 20) != 0 || get64(hdr + 8) == 0) {
		errf(err, err_cap, "%s/%s: bad header", l->lg_dir, LOG_NAME);
		return RL_ECORRUPT;
	}
	l->lg_start = get64(hdr + 8);
	l->lg_n = 0;
	if ((rc = offs_reserve(l, 0)) < 0)
		return rc;
	l->lg_offs[0] = LOG_HDR;

	uint64_t off = LOG_HDR;
	uint8_t *buf = NULL;
	size_t buf_cap = 0;
	const char *why = NULL;
	uint64_t bad_end = 0; /* where the first bad frame claims to end */
	while (off < size) {
		uint8_t fh[FRAME_HDR];
		if (size - off < FRAME_HDR) {
			why = "frame header runs past the end";
			bad_end = off + FRAME_HDR;
			break;
		}
		if ((rc = pread_exact(fd, fh, FRAME_HDR, off)) < 0)
			break;
		uint32_t len = get32(fh);
		bad_end = off + FRAME_HDR + len;
		if (bad_end > size) {
			why = "frame runs past the end";
			break;
		}
		if (len > RLG_ENTRY_MAX_BYTES) {
			why = "frame length out of bounds";
			break;
		}
		if (len > buf_cap) {
			uint8_t *p = realloc(buf, len);
			if (!p) {
				rc = -ENOMEM;
				break;
			}
			buf = p;
			buf_cap = len;
		}
		if ((rc = pread_exact(fd, buf, len, off + FRAME_HDR)) < 0)
			break;
		uint32_t crc = crc32c(0, fh, 4);
		crc = crc32c(crc, fh + 8, FRAME_HDR - 8);
		crc = crc32c(crc, buf, len);
		if (crc != get32(fh + 4)) {
			why = "crc mismatch";
			break;
		}
		if (get64(fh + 8) != l->lg_start + l->lg_n) {
			why = "index out of sequence";
			break;
		}
		if ((rc = offs_reserve(l, 1)) < 0)
			break;
		off = bad_end;
		l->lg_offs[++l->lg_n] = off;
	}
	free(buf);
	if (rc < 0) {
		errf(err, err_cap, "%s/%s: scan at offset %" PRIu64 ": %s", l->lg_dir, LOG_NAME,
		     off, rl_strerror(rc));
		return rc;
	}
	if (!why)
		return 0;

	uint64_t cut = size - off;
	bool torn = bad_end >= size || all_zero(fd, off, size);
	l->lg_stats.rs_cut_bytes = cut;
	l->lg_stats.rs_torn_tail = torn;
	l->lg_stats.rs_corrupt = !torn;
	if (torn)
		errf(err, err_cap,
		     "%s/%s: torn tail cut at offset %" PRIu64 " (%" PRIu64 " bytes, %s)",
		     l->lg_dir, LOG_NAME, off, cut, why);
	else
		errf(err, err_cap,
		     "%s/%s: corrupt frame at offset %" PRIu64 " (index %" PRIu64
		     ", %s): cut %" PRIu64 " bytes, acknowledged entries lost",
		     l->lg_dir, LOG_NAME, off, l->lg_start + l->lg_n, why, cut);
	if (ftruncate(fd, (off_t)off) < 0 || fsync(fd) < 0) {
		rc = -errno;
		errf(err, err_cap, "%s/%s: cutting at offset %" PRIu64 ": %s", l->lg_dir, LOG_NAME,
		     off, strerror(-rc));
		return rc;
	}
	return 0;
}

/* After a crash between a snapshot put's rename and its log rewrite, do the
 * rewrite; also drop a log that no longer reaches the snapshot. */
static int log_reconcile(struct rlg *l, const struct snap_hdr *h, char *err, size_t err_cap)
{
	uint64_t last = rlg_last_index(l);
	size_t before = l->lg_n;
	int rc = 0;
	if (l->lg_start > h->sh_index + 1) {
		errf(err, err_cap,
		     "%s/%s: starts at %" PRIu64 ", after the snapshot's index %" PRIu64, l->lg_dir,
		     LOG_NAME, l->lg_start, h->sh_index);
		return RL_ECORRUPT;
	}
	if (((h->sh_flags & SNAP_F_INSTALL) && l->lg_start <= h->sh_index) || last < h->sh_index)
		rc = log_drop_all(l, h->sh_index + 1);
	else if (h->sh_keep_from > l->lg_start)
		rc = log_drop_prefix(l, h->sh_keep_from);
	if (rc < 0) {
		errf(err, err_cap, "%s/%s: dropping entries the snapshot covers: %s", l->lg_dir,
		     LOG_NAME, rl_strerror(rc));
		return rc;
	}
	l->lg_stats.rs_dropped_open = before - l->lg_n;
	return 0;
}

/* ---- open / close ------------------------------------------------------- */

/* mkdir the leaf and make its name durable in the parent. */
static int make_dir(const char *dir)
{
	if (mkdir(dir, 0755) < 0)
		return errno == EEXIST ? 0 : -errno;
	char parent[PATH_MAX];
	snprintf(parent, sizeof(parent), "%s", dir);
	size_t n = strlen(parent);
	while (n > 1 && parent[n - 1] == '/')
		parent[--n] = '\0';
	char *slash = strrchr(parent, '/');
	if (!slash)
		snprintf(parent, sizeof(parent), ".");
	else if (slash == parent)
		parent[1] = '\0';
	else
		*slash = '\0';
	int fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

static int open_inner(struct rlg *l, char *err, size_t err_cap)
{
	int rc = make_dir(l->lg_dir);
	if (rc < 0) {
		errf(err, err_cap, "%s: mkdir: %s", l->lg_dir, strerror(-rc));
		return rc;
	}
	l->lg_dir_fd = open(l->lg_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->lg_dir_fd < 0) {
		rc = -errno;
		errf(err, err_cap, "%s: open: %s", l->lg_dir, strerror(-rc));
		return rc;
	}
	if (flock(l->lg_dir_fd, LOCK_EX | LOCK_NB) < 0) {
		rc = errno == EWOULDBLOCK ? RL_EBUSY : -errno;
		errf(err, err_cap, "%s: locked by another owner", l->lg_dir);
		return rc;
	}
	/* A tmp file is a replacement that never got renamed: not state. */
	static const char *const tmps[] = {STATE_TMP, LOG_TMP, SNAP_TMP};
	for (size_t i = 0; i < sizeof(tmps) / sizeof(tmps[0]); i++)
		if (unlinkat(l->lg_dir_fd, tmps[i], 0) < 0 && errno != ENOENT) {
			rc = -errno;
			errf(err, err_cap, "%s/%s: unlink: %s", l->lg_dir, tmps[i], strerror(-rc));
			return rc;
		}
	if ((rc = state_read(l, err, err_cap)) < 0)
		return rc;
	struct snap_hdr h;
	if ((rc = snap_read(l, &h, NULL, err, err_cap)) < 0)
		return rc;
	l->lg_has_snap = rc == 1;
	if (l->lg_has_snap) {
		l->lg_snap_index = h.sh_index;
	}
	l->lg_log_fd = openat(l->lg_dir_fd, LOG_NAME, O_RDWR | O_CLOEXEC);
	if (l->lg_log_fd < 0 && errno == ENOENT && !l->lg_has_snap) {
		if ((rc = offs_reserve(l, 0)) < 0 || (rc = log_rewrite(l, 1, 0, 0)) < 0) {
			errf(err, err_cap, "%s/%s: create: %s", l->lg_dir, LOG_NAME,
			     rl_strerror(rc));
			return rc;
		}
	} else if (l->lg_log_fd < 0) {
		int e = errno;
		errf(err, err_cap, "%s/%s: open: %s", l->lg_dir, LOG_NAME,
		     e == ENOENT ? "missing next to a snapshot" : strerror(e));
		return e == ENOENT ? RL_ECORRUPT : -e;
	}
	char warn[512] = "";
	if ((rc = log_scan(l, warn, sizeof(warn))) < 0) {
		errf(err, err_cap, "%s", warn);
		return rc;
	}
	if (l->lg_has_snap)
		rc = log_reconcile(l, &h, err, err_cap);
	else if (l->lg_start != 1) {
		errf(err, err_cap, "%s/%s: starts at %" PRIu64 " but there is no snapshot",
		     l->lg_dir, LOG_NAME, l->lg_start);
		rc = RL_ECORRUPT;
	}
	if (rc == 0)
		errf(err, err_cap, "%s", warn);
	return rc;
}

int rlg_open(const char *dir, struct rlg **out, char *err, size_t err_cap)
{
	*out = NULL;
	errf(err, err_cap, "%s", "");
	if (!dir || !*dir || strlen(dir) >= PATH_MAX) {
		errf(err, err_cap, "raftlog: bad directory name");
		return -EINVAL;
	}
	struct rlg *l = calloc(1, sizeof(*l));
	if (!l) {
		errf(err, err_cap, "%s: %s", dir, strerror(ENOMEM));
		return -ENOMEM;
	}
	l->lg_dir_fd = -1;
	l->lg_log_fd = -1;
	snprintf(l->lg_dir, sizeof(l->lg_dir), "%s", dir);
	int rc = open_inner(l, err, err_cap);
	if (rc < 0) {
		rlg_close(l);
		return rc;
	}
	*out = l;
	return 0;
}

void rlg_close(struct rlg *l)
{
	if (!l)
		return;
	if (l->lg_log_fd >= 0)
		close(l->lg_log_fd);
	if (l->lg_dir_fd >= 0)
		close(l->lg_dir_fd); /* releases the flock */
	free(l->lg_offs);
	free(l);
}

/* ---- accessors ---------------------------------------------------------- */

bool rlg_pristine(const struct rlg *l)
{
	return l->lg_term == 0 && l->lg_vote == 0 && !l->lg_has_snap && l->lg_n == 0 &&
	       l->lg_start == 1;
}

uint64_t rlg_term(const struct rlg *l)
{
	return l->lg_term;
}

uint64_t rlg_vote(const struct rlg *l)
{
	return l->lg_vote;
}

uint64_t rlg_last_index(const struct rlg *l)
{
	return l->lg_start + l->lg_n - 1;
}

uint64_t rlg_start_index(const struct rlg *l)
{
	return l->lg_start;
}

size_t rlg_count(const struct rlg *l)
{
	return l->lg_n;
}

const struct rlg_stats *rlg_stats(const struct rlg *l)
{
	return &l->lg_stats;
}

int rlg_error(const struct rlg *l)
{
	return l->lg_err;
}

/* ---- term and vote ------------------------------------------------------ */

int rlg_set_term(struct rlg *l, uint64_t term)
{
	if (l->lg_err)
		return RL_EFENCED;
	if (term < l->lg_term)
		return RL_EORDER;
	return state_write(l, term, 0);
}

int rlg_set_vote(struct rlg *l, uint64_t server_id)
{
	if (l->lg_err)
		return RL_EFENCED;
	return state_write(l, l->lg_term, server_id);
}

/* ---- entries ------------------------------------------------------------ */

int rlg_append(struct rlg *l, uint64_t first_index, const struct rlg_entry *e, size_t n)
{
	if (l->lg_err)
		return RL_EFENCED;
	if (n == 0)
		return 0;
	if (!e)
		return -EINVAL;
	if (first_index != rlg_last_index(l) + 1)
		return RL_EORDER;
	uint64_t size = l->lg_offs[l->lg_n];
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++) {
		if (e[i].len > RLG_ENTRY_MAX_BYTES)
			return RL_ETOO_LARGE;
		if (e[i].len && !e[i].data)
			return -EINVAL;
		total += FRAME_HDR + e[i].len;
		if (size + total > RLG_LOG_MAX_BYTES)
			return RL_ETOO_LARGE;
	}
	int rc = offs_reserve(l, n);
	if (rc < 0)
		return rc;
	uint8_t *buf = malloc((size_t)total);
	if (!buf)
		return -ENOMEM;
	uint8_t *p = buf;
	for (size_t i = 0; i < n; i++) {
		put32(p, e[i].len);
		put64(p + 8, first_index + i);
		put64(p + 16, e[i].term);
		p[24] = e[i].type;
		if (e[i].len)
			memcpy(p + FRAME_HDR, e[i].data, e[i].len);
		uint32_t crc = crc32c(0, p, 4);
		crc = crc32c(crc, p + 8, FRAME_HDR - 8 + e[i].len);
		put32(p + 4, crc);
		p += FRAME_HDR + e[i].len;
	}
	RL_ASSERT((uint64_t)(p - buf) == total);
	rc = pwrite_all(l->lg_log_fd, buf, (size_t)total, size);
	free(buf);
	if (rc == 0)
		rc = rlg_datasync(l->lg_log_fd);
	if (rc < 0)
		return fence(l, rc); /* a partial frame may be on disk: open cuts it */
	for (size_t i = 0; i < n; i++) {
		size += FRAME_HDR + e[i].len;
		l->lg_offs[++l->lg_n] = size;
	}
	return 0;
}

int rlg_truncate(struct rlg *l, uint64_t index)
{
	if (l->lg_err)
		return RL_EFENCED;
	if (index > rlg_last_index(l))
		return 0;
	if (index < l->lg_start || (l->lg_has_snap && index <= l->lg_snap_index))
		return RL_ERANGE;
	size_t k = (size_t)(index - l->lg_start);
	if (ftruncate(l->lg_log_fd, (off_t)l->lg_offs[k]) < 0 || fsync(l->lg_log_fd) < 0)
		return fence(l, -errno);
	l->lg_n = k;
	return 0;
}

int rlg_load(struct rlg *l, struct rlg_loaded *out)
{
	memset(out, 0, sizeof(*out));
	out->term = l->lg_term;
	out->voted_for = l->lg_vote;
	out->start_index = l->lg_start;
	int rc = rlg_snapshot_get(l, &out->snap);
	if (rc < 0)
		return rc;
	out->has_snapshot = rc == 1;
	if (l->lg_n == 0)
		return 0;
	uint64_t from = l->lg_offs[0], len = l->lg_offs[l->lg_n] - from;
	out->block = malloc((size_t)len);
	out->entries = calloc(l->lg_n, sizeof(*out->entries));
	if (!out->block || !out->entries)
		return -ENOMEM;
	rc = pread_exact(l->lg_log_fd, out->block, (size_t)len, from);
	if (rc < 0)
		return rc == RL_ETRUNCATED ? RL_ECORRUPT : rc;
	/* Checked at open, checked again: the bytes may have changed since. */
	for (size_t i = 0; i < l->lg_n; i++) {
		const uint8_t *p = out->block + (l->lg_offs[i] - from);
		uint64_t frame = l->lg_offs[i + 1] - l->lg_offs[i];
		uint32_t plen = get32(p);
		if (frame != FRAME_HDR + (uint64_t)plen || get64(p + 8) != l->lg_start + i)
			return RL_ECORRUPT;
		uint32_t crc = crc32c(0, p, 4);
		crc = crc32c(crc, p + 8, FRAME_HDR - 8 + plen);
		if (crc != get32(p + 4))
			return RL_ECORRUPT;
		out->entries[i] = (struct rlg_entry){
			.term = get64(p + 16), .type = p[24], .data = p + FRAME_HDR, .len = plen};
	}
	out->n_entries = l->lg_n;
	return 0;
}

void rlg_loaded_free(struct rlg_loaded *ld)
{
	if (!ld)
		return;
	rlg_snapshot_free(&ld->snap);
	free(ld->entries);
	free(ld->block);
	memset(ld, 0, sizeof(*ld));
}

/* ---- snapshots ---------------------------------------------------------- */

int rlg_snapshot_put(struct rlg *l, const struct rlg_snapshot *s, unsigned trailing)
{
	if (l->lg_err)
		return RL_EFENCED;
	if (!s || s->index == 0 || s->index == UINT64_MAX || s->conf_index > s->index ||
	    (s->conf_len && !s->conf) || (s->data_len && !s->data))
		return -EINVAL;
	if (s->conf_len > RLG_ENTRY_MAX_BYTES || s->data_len > RLG_SNAPSHOT_MAX_BYTES)
		return RL_ETOO_LARGE;
	if (l->lg_has_snap && s->index < l->lg_snap_index)
		return RL_EORDER;
	/* Our invariant with the snapshot refused above: no gap after s. */
	RL_ASSERT(l->lg_start <= s->index + 1);
	bool install = trailing == 0 || rlg_last_index(l) < s->index;
	uint64_t keep_from = 1; /* trailing reaches back past index 1: keep all */
	if (install)
		keep_from = s->index + 1;
	else if (s->index > trailing)
		keep_from = s->index - trailing + 1;
	int rc = snap_write(l, s, keep_from, install ? SNAP_F_INSTALL : 0);
	if (rc < 0)
		return rc; /* fenced by replace_file if the rename happened */
	l->lg_has_snap = true;
	l->lg_snap_index = s->index;
	if (install)
		rc = log_drop_all(l, s->index + 1);
	else if (keep_from > l->lg_start)
		rc = log_drop_prefix(l, keep_from);
	if (rc < 0)
		return fence(l, rc); /* rlg_open redoes the drop from the snapshot's header */
	return 0;
}

int rlg_snapshot_get(struct rlg *l, struct rlg_snapshot *out)
{
	memset(out, 0, sizeof(*out));
	if (!l->lg_has_snap)
		return 0;
	struct snap_hdr h;
	int rc = snap_read(l, &h, out, NULL, 0);
	if (rc == 0 || (rc == 1 && h.sh_index != l->lg_snap_index)) {
		rlg_snapshot_free(out);
		return RL_ECORRUPT; /* replaced or removed behind our back */
	}
	return rc;
}

void rlg_snapshot_free(struct rlg_snapshot *s)
{
	if (!s)
		return;
	free(s->conf);
	free(s->data);
	memset(s, 0, sizeof(*s));
}
