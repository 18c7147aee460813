/*
 * dump_log_part — the partition-level pieces of `replog dump-log`
 * (dump_log_part.c): a partition directory as a whole, and the discarded
 * writes kept in its discarded/ folder. Declared here so that other
 * commands (`replog discarded`) can reuse them with a struct dump_log set
 * up by dump_log_init() (dump_log.h); like everything in the tool, they
 * report problems on dl_err and tally them, and never write a file.
 *
 * dump_log_discarded() and dump_log_print_discard(), which list discarded/,
 * are defined in dump_log_part.c too; they are declared in dump_log.h, the
 * tool's public API, which this header includes.
 */
#ifndef REPLOG_DUMP_LOG_PART_H
#define REPLOG_DUMP_LOG_PART_H

#include "dump_log.h"

/* Dump partition directory `dir`: every segment in offset order (with its
 * .index and .timeindex verified), then the leader-epoch checkpoint checked
 * against the epochs of the log, the high-watermark checkpoint checked
 * against its bounds, and one `Partition: ...` summary line. A directory
 * that cannot be opened or listed is tallied as unreadable. */
void dump_log_dump_partition(struct dump_log *dl, const char *dir);

/* Dump one discarded .log (<dir>/discarded/<first offset>-<time ms>.log)
 * like a segment, with its `discarded: ...` line after the `Dumping` line
 * when the .meta beside it is readable, and then check the batches against
 * that .meta. A missing .meta is a warning (an interrupted discard), a
 * damaged one a problem. */
void dump_log_dump_discarded_file(struct dump_log *dl, const char *path);

#endif
