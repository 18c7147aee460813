/*
 * raftlog — the durable storage behind the controller's Raft: current term,
 * vote, log entries and the latest snapshot, in one directory. It knows
 * nothing of raft.h (plain C types); another module adapts it to raft_io.
 *
 * All I/O is synchronous: every mutating call has written and fsynced what
 * it changed when it returns 0. This is a small metadata log, so the cost is
 * one fdatasync per call, paid off the data path. Failure policy: a call
 * that fails before anything durable changed (a refused argument, a failure
 * while writing a tmp file, before its rename) returns the error and leaves
 * the object usable. A failure once the disk may differ from memory (a
 * write or fsync of `log`, a directory fsync after a rename, a log rewrite)
 * fences the object: that call returns the cause and every later mutating
 * call returns RL_EFENCED. Close and reopen to recover from the disk.
 *
 * Index model. Entries are numbered from 1. The log holds the contiguous
 * range [start, start + n); when it holds none, `start` is the index the
 * next append must use ("next index"). last_index = start + n - 1, so it is
 * 0 on a fresh directory, and snapshot.index after a snapshot that dropped
 * every entry.
 *
 * Files (all integers little-endian; crc = CRC-32C, log/crc32c.h):
 *
 *   state      written whole: <name>.tmp, fdatasync, rename, fsync dir
 *     0  u32 magic "RLGS" (0x53474c52)   4  u32 version (1)
 *     8  u64 term                        16 u64 voted_for (0: none)
 *     24 u32 crc of bytes [0, 24)        = 28 bytes. Missing: term 0, no vote.
 *
 *   log        a header, then frames appended in place
 *     header (24 bytes; only ever written via tmp + rename, never in place)
 *     0  u32 magic "RLGL" (0x4c474c52)   4  u32 version (1)
 *     8  u64 start (index of the first frame, or the next index if none)
 *     16 u32 crc of bytes [0, 16)        20 u32 zero
 *     frame (25 + len bytes)
 *     0  u32 len (payload bytes, <= RLG_ENTRY_MAX_BYTES)
 *     4  u32 crc of bytes [0, 4) then [8, 25 + len)
 *     8  u64 index   16 u64 term   24 u8 type   25 payload
 *   A frame is valid when it lies wholly inside the file, len is in bounds,
 *   the crc matches and its index is the previous frame's + 1 (the first:
 *   the header's start). Truncating is ftruncate + fsync at a frame offset
 *   kept in memory; dropping a prefix copies the kept frames to log.tmp
 *   under a new header and renames it over log.
 *
 *   snapshot   written whole like state; a put replaces the one file
 *     0  u32 magic "RLGP" (0x50474c52)   4  u32 version (1)
 *     8  u64 index    16 u64 term    24 u64 conf_index
 *     32 u64 keep_from (first log index the put keeps)
 *     40 u32 flags (bit 0: install: the put drops every entry)
 *     44 u32 conf_len (<= RLG_ENTRY_MAX_BYTES)
 *     48 u64 data_len (<= RLG_SNAPSHOT_MAX_BYTES)
 *     56 u32 crc of bytes [0, 56), then conf, then data
 *     60 conf, then data; the file size must be exactly 60 + both lengths.
 *
 * Recovery (rlg_open). Leftover *.tmp files are removed. state and snapshot
 * are only replaced by rename, so any defect there is corruption: open
 * fails with RL_ECORRUPT. The log is scanned from its header; at the first
 * invalid frame the file is cut there and fsynced. If that frame ran to the
 * end of the file (or all that follows it is zeros, as a file extended by a
 * crash reads) it is a torn tail: an append that never returned, so nothing
 * acknowledged is lost. If bytes follow it, acknowledged entries
 * were damaged: they are cut too (the leader re-sends them), counted in
 * rlg_stats() and described in err although open returns 0. Last, the log
 * is reconciled with the snapshot, which is written before the log is
 * shortened: if the snapshot was an install whose log rewrite did not
 * happen (log start <= snapshot index), or the log no longer reaches the
 * snapshot index, every entry is dropped and the next index is
 * snapshot.index + 1; otherwise entries below keep_from are dropped.
 *
 * Only one rlg may have a directory open (flock on the directory).
 * Not thread-safe: one owner thread.
 */
#ifndef REPLOG_RAFTLOG_H
#define REPLOG_RAFTLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One entry's payload and one snapshot's configuration are at most this
 * large; a frame claiming more is corrupt. */
#define RLG_ENTRY_MAX_BYTES (64u << 20)
/* The log file (and so rlg_load's block) stays below this: an append that
 * would pass it returns RL_ETOO_LARGE. The controller snapshots long before. */
#define RLG_LOG_MAX_BYTES      (1ull << 30)
#define RLG_SNAPSHOT_MAX_BYTES (1ull << 30)

struct rlg; /* one directory: <dir>/{state,log,snapshot} */

struct rlg_entry {
	uint64_t term;
	uint8_t type;
	const uint8_t *data; /* borrowed: rlg_append copies; in rlg_loaded: into block */
	uint32_t len;
};

struct rlg_snapshot {	      /* all buffers malloc'd, owned by the struct after load */
	uint64_t index, term; /* last index/term covered */
	uint64_t conf_index;  /* index of the configuration it holds */
	uint8_t *conf;
	size_t conf_len; /* opaque bytes */
	uint8_t *data;
	size_t data_len; /* opaque bytes */
};

struct rlg_loaded {
	uint64_t term, voted_for;
	bool has_snapshot;
	struct rlg_snapshot snap;
	uint64_t start_index; /* index of entries[0]; when no entries: last stored index + 1 */
	size_t n_entries;
	struct rlg_entry *entries; /* malloc'd array; data pointers point into `block` */
	uint8_t *block;		   /* malloc'd, all entry data */
};

/* What rlg_open had to repair. */
struct rlg_stats {
	uint64_t rs_cut_bytes;	  /* log bytes cut at open */
	uint32_t rs_torn_tail;	  /* 1: the cut was a torn last frame (never acknowledged) */
	uint32_t rs_corrupt;	  /* 1: a bad frame had bytes after it (acknowledged data lost) */
	uint64_t rs_dropped_open; /* entries dropped at open to match the snapshot */
};

/* Open `dir` (created if missing; its parent must exist) and recover as
 * described above. Returns 0, or a negative code with err naming the file
 * and the cause: RL_ECORRUPT (state, snapshot or log header damaged),
 * RL_EBUSY (another rlg has the directory open), RL_ETOO_LARGE, -errno.
 * On 0, err holds a warning when log bytes were cut, else "". */
int rlg_open(const char *dir, struct rlg **out, char *err, size_t err_cap);
void rlg_close(struct rlg *l);

/* A copy of everything durable. Returns 0 (free with rlg_loaded_free, also
 * safe after a failure), RL_ECORRUPT if the files changed under us, -errno. */
int rlg_load(struct rlg *l, struct rlg_loaded *out);
void rlg_loaded_free(struct rlg_loaded *ld);

/* Term 0, no vote, no entries ever, no snapshot. */
bool rlg_pristine(const struct rlg *l);

/* Persist term and clear the vote. RL_EORDER if term < rlg_term(). */
int rlg_set_term(struct rlg *l, uint64_t term);
/* Persist a vote (0: none) in the current term. */
int rlg_set_vote(struct rlg *l, uint64_t server_id);
uint64_t rlg_term(const struct rlg *l);
uint64_t rlg_vote(const struct rlg *l);

/* Append n entries (copied) as first_index, first_index + 1, ...
 * first_index must be rlg_last_index() + 1: RL_EORDER otherwise.
 * RL_ETOO_LARGE for a payload over RLG_ENTRY_MAX_BYTES or a log that would
 * pass RLG_LOG_MAX_BYTES; -EINVAL for NULL data with len > 0. n == 0 is a
 * no-op. */
int rlg_append(struct rlg *l, uint64_t first_index, const struct rlg_entry *e, size_t n);

/* Remove the entries with index >= index; the next append is at `index`.
 * No-op when index > rlg_last_index(). index == rlg_start_index() removes
 * every entry. RL_ERANGE for index < rlg_start_index() or index <= the
 * snapshot's index: those entries are committed (Raft never truncates
 * them) and the next index would fall inside the snapshot. */
int rlg_truncate(struct rlg *l, uint64_t index);

/* Store snap (buffers copied) as the one snapshot, then drop the entries
 * with index <= snap->index - trailing. trailing == 0, or a log that ends
 * before snap->index, is an install: every entry is dropped and the next
 * index is snap->index + 1. RL_EORDER if snap->index is below the stored
 * snapshot's index; -EINVAL if index is 0 or conf_index > index;
 * RL_ETOO_LARGE past the limits. */
int rlg_snapshot_put(struct rlg *l, const struct rlg_snapshot *snap, unsigned trailing);
/* The stored snapshot as malloc'd copies in *out (free with
 * rlg_snapshot_free): 1 if there is one, 0 if none, or a negative code. */
int rlg_snapshot_get(struct rlg *l, struct rlg_snapshot *out);
void rlg_snapshot_free(struct rlg_snapshot *s);

uint64_t rlg_last_index(const struct rlg *l);  /* 0 when nothing ever stored */
uint64_t rlg_start_index(const struct rlg *l); /* index of the first entry held (next if none) */
size_t rlg_count(const struct rlg *l);	       /* entries held */
const struct rlg_stats *rlg_stats(const struct rlg *l);
/* The sticky error that fenced l, or 0. */
int rlg_error(const struct rlg *l);

#endif
