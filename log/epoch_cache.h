/*
 * epoch_cache — a partition's leader-epoch history: for every leader epoch
 * that wrote to this log, the offset of its first batch. Persisted as
 * `leader-epoch-checkpoint` in Kafka's format (version 0, a count, then one
 * "<epoch> <start_offset>" line per entry), replaced atomically.
 *
 * Invariants: epochs strictly increase and start offsets strictly increase
 * (an epoch that wrote nothing has no entry). A new entry is on disk, fsynced,
 * before the first batch of its epoch is appended — so after any crash the
 * file knows at least every epoch present in the log. After a truncation the
 * entries at or beyond the new log end are dropped.
 *
 * This is what answers "what is the end offset of epoch E" (KIP-101/279),
 * the question a follower asks to find where its log diverges from the
 * leader's.
 */
#ifndef REPLOG_EPOCH_CACHE_H
#define REPLOG_EPOCH_CACHE_H

#include <stdint.h>

#define EPOCH_CACHE_FILE	"leader-epoch-checkpoint"
#define EPOCH_CACHE_MAX_ENTRIES 65536

struct epoch_entry {
	int32_t ee_epoch;
	int64_t ee_start_offset;
};

struct epoch_cache {
	struct epoch_entry *ec_entries; /* owned */
	uint32_t ec_count;
	uint32_t ec_cap;
	int ec_dir_fd; /* borrowed; -1 = memory only (tests) */
};

/* Load from dir_fd's checkpoint (missing file = empty). Returns 0,
 * RL_ECORRUPT for a malformed or non-increasing file, or -errno. */
int epoch_cache_load(struct epoch_cache *ec, int dir_fd);
void epoch_cache_deinit(struct epoch_cache *ec);

/* Latest epoch, or -1 when empty. */
int32_t epoch_cache_latest(const struct epoch_cache *ec);

/* Record that `epoch` starts at `start_offset` and persist before returning.
 * A repeat of the latest epoch is a no-op. Returns 0, RL_EORDER if epoch is
 * older than the latest or start_offset does not exceed the latest entry's,
 * RL_EFULL, or -errno from the write (the entry is then not recorded). */
int epoch_cache_assign(struct epoch_cache *ec, int32_t epoch, int64_t start_offset);

/* A new leader's epoch begins at the log end `leo` (recorded before it
 * appends anything, so it can answer for the epoch at once: KIP-279). Like
 * epoch_cache_assign, except that when the latest entry also starts at
 * `leo` — its epoch wrote nothing — the new epoch replaces it. The caller
 * must pass the true log end. */
int epoch_cache_begin(struct epoch_cache *ec, int32_t epoch, int64_t leo);

/* The answer to OffsetForLeaderEpoch(epoch) given the log end offset `leo`,
 * exactly as Kafka's leader-epoch cache answers it (KIP-101/279):
 *   epoch == latest            -> (latest, leo)
 *   first <= epoch < latest    -> (largest known epoch <= `epoch`,
 *                                  start offset of the next known epoch)
 *   epoch < first              -> (`epoch`, start offset of the first entry):
 *                                  it ended where this history begins
 *   epoch > latest, epoch < 0,
 *   or an empty cache          -> (-1, -1), undefined
 */
void epoch_cache_end_offset(const struct epoch_cache *ec, int32_t epoch, int64_t leo,
			    int32_t *found_epoch, int64_t *end_offset);

/* The epoch of the entry covering `offset`, or -1. */
int32_t epoch_cache_epoch_at(const struct epoch_cache *ec, int64_t offset);

/* Drop entries starting at or after `offset` (log truncated to offset);
 * persists. Returns 0 or -errno. */
int epoch_cache_truncate_end(struct epoch_cache *ec, int64_t offset);
/* Log start moved to `offset` (retention): entries wholly before it are
 * dropped and the one covering it starts at `offset`; persists. */
int epoch_cache_truncate_start(struct epoch_cache *ec, int64_t offset);

#endif
