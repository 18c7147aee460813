/*
 * plog_impl — the partition log's private state, shared by plog.c (the
 * running log) and plog_recover.c (open and recovery). Nothing outside
 * log/plog*.c includes this.
 */
#ifndef REPLOG_PLOG_IMPL_H
#define REPLOG_PLOG_IMPL_H

#include "plog.h"

struct plog {
	char *lg_dir; /* owned */
	int lg_dir_fd;
	struct io_engine *lg_io; /* borrowed */
	struct plog_config lg_cfg;

	struct segment **lg_segs; /* owned array; each holds one reference */
	uint32_t lg_nsegs;
	uint32_t lg_segs_cap;

	int64_t lg_start;
	int64_t lg_end;
	int64_t lg_written;
	int64_t lg_flushed;
	int64_t lg_recovered_hw;
	uint64_t lg_bytes_written;     /* cumulative, for the flush_bytes trigger */
	uint64_t lg_bytes_flushed;     /* lg_bytes_written covered by the last round */
	int64_t lg_unflushed_since_ms; /* when written first passed flushed; -1 */
	int lg_error;		       /* sticky; 0 while healthy */

	struct epoch_cache lg_epochs;
	struct seg_reader lg_reader;

	/* Appends not yet complete, oldest first; the first lg_wr_count of them
	 * are in the writev in flight. */
	struct plog_append *lg_q_head;
	struct plog_append *lg_q_tail;
	uint32_t lg_wr_count;
	bool lg_wr_inflight;
	struct io_op lg_write_op;
	struct iovec *lg_iov; /* owned: max_write_iov entries */

	/* Group commit: one round of fdatasyncs in flight at most. */
	bool lg_flush_inflight;
	int64_t lg_flush_started_us; /* when the current flush round began */
	bool lg_flush_again;	     /* requested while a round ran */
	uint32_t lg_flush_pending;   /* ops of the round still in flight */
	int64_t lg_flush_target;     /* lg_written when the round began */
	uint64_t lg_flush_target_bytes;
	int lg_flush_error;
	bool lg_dir_dirty; /* a segment was created since the last dir fsync */
	struct io_op lg_dir_op;

	uint32_t lg_io_pending; /* ops of this log in the engine */
};

int64_t plog_now_ms(const struct plog *log);
int plog_segs_push(struct plog *log, struct segment *s);
void plog_free(struct plog *log);

#endif
