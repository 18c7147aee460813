/*
 * cleaner — log compaction of the partitions of compact topics
 * (cleanup_policy: compact, and __consumer_offsets), in the background.
 * Prefix cleaner_.
 *
 * One cleaner thread per broker does the reading and writing
 * (log/compact.h: compact_plan + compact_run on the partition's closed
 * segments, below its high watermark); the reactor thread picks the next
 * partition and swaps the cleaned segments in (plog_swap_cleaned), so
 * appends never wait for a cleaning. One partition is cleaned at a time;
 * each at most every compaction.interval_ms. The reactor learns that a run
 * finished at its next tick (no wakeup needed: a run takes far longer than
 * a tick).
 *
 * Invariants: the thread touches only files of the partition it was given
 * and the job struct, under the mutex; the reactor never swaps a segment
 * the run did not rewrite, and gives up a swap when the partition is gone
 * or its leadership changed its log (plog_swap_cleaned refuses a segment
 * whose size moved).
 */
#ifndef REPLOG_CLEANER_H
#define REPLOG_CLEANER_H

struct broker;

int cleaner_start(struct broker *b);
/* Wait for the run in progress, if any, and stop the thread. */
void cleaner_stop(struct broker *b);
/* Reactor tick: swap in a finished run, start the next one when due. */
void cleaner_tick(struct broker *b);

#endif
