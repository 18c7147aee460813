/*
 * dump_log — `replog dump-log`: the offline inspector of a partition log.
 * Prints segments batch by batch the way Kafka's kafka-dump-log.sh does,
 * decodes records on request, checks indexes and checkpoints against the
 * log, and lists the discarded writes kept in discarded/. Read-only: files
 * are opened O_RDONLY and read with pread; nothing is ever written.
 *
 * The command-line entry is dump_log_main(). The pieces below are callable
 * on their own so that later commands (`replog discarded`) reuse them: set
 * up a struct dump_log, call dump_log_path() / dump_log_discarded() as
 * often as needed, read the tallies, and deinit.
 *
 * Output contract (the formats are spelled out in dump_log.c's header and
 * in `replog dump-log --help`): listings go to dl_out, every integrity
 * problem and warning to dl_err, each naming the file, the offset and the
 * byte position concerned.
 */
#ifndef REPLOG_DUMP_LOG_H
#define REPLOG_DUMP_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "discard.h"
#include "segment.h"

#define DUMP_LOG_DEFAULT_MAX_BATCH_BYTES (16u << 20)

/* Exit codes of the command. */
#define DUMP_LOG_EXIT_OK	 0
#define DUMP_LOG_EXIT_PROBLEMS	 1 /* some file is damaged or inconsistent */
#define DUMP_LOG_EXIT_USAGE	 2
#define DUMP_LOG_EXIT_UNREADABLE 3 /* some file could not be read (or output not written) */

struct dump_log_opts {
	bool dlo_deep_iteration;    /* decode records: one `| offset: ...` line each */
	bool dlo_print_data;	    /* with them, keys and values (implies deep) */
	bool dlo_verify_index;	    /* check .index/.timeindex beside each .log */
	bool dlo_verify_index_only; /* check, but print no batch lines */
	bool dlo_discarded;	    /* partition dirs: list discarded/ instead */
	size_t dlo_max_batch_bytes; /* refuse to buffer a larger batch (>= 61) */
};

/* One run over any number of paths. The caller owns it; dump_log_init()
 * fills it in place. Tallies only grow. */
struct dump_log {
	struct dump_log_opts dl_opts;
	FILE *dl_out;		     /* borrowed: listings */
	FILE *dl_err;		     /* borrowed: problems and warnings */
	struct seg_reader dl_reader; /* read-ahead window, bounded by dlo_max_batch_bytes */
	uint8_t *dl_records;	     /* owned: decompressed records, allocated at first use */
	size_t dl_records_cap;	     /* == dlo_max_batch_bytes once allocated */
	uint32_t dl_problems;	     /* integrity problems reported */
	uint32_t dl_warnings;	     /* things the broker repairs by itself (missing index) */
	uint32_t dl_unreadable;	     /* files that could not be opened or read */
};

void dump_log_opts_default(struct dump_log_opts *o);

/* Returns 0, or RL_ECONFIG when dlo_max_batch_bytes is below a batch
 * header or above INT32_MAX. */
int dump_log_init(struct dump_log *dl, const struct dump_log_opts *o, FILE *out, FILE *err);
void dump_log_deinit(struct dump_log *dl);

/* Dump one path: a segment .log, an .index, a .timeindex, a discarded
 * .log, or a partition directory (with dlo_discarded: its discarded/
 * listing). Problems are reported and tallied, never returned: the return
 * is 0, or DUMP_LOG_EXIT_USAGE when the path is a file of a kind this tool
 * does not know (reported). */
int dump_log_path(struct dump_log *dl, const char *path);

/* List the discarded writes of partition directory `dir` (discarded/.meta),
 * one `discarded: ...` line each, and flag .log files without a readable
 * .meta; with dlo_print_data, dump each discarded .log afterwards. Returns
 * the number of discards listed, or -errno when discarded/ cannot be read
 * (also tallied as unreadable). */
int dump_log_discarded(struct dump_log *dl, const char *dir);

/* Print one `discarded: ...` line (newline-terminated) describing `di`. */
void dump_log_print_discard(FILE *out, const struct discard_info *di);

/* 3 when a file could not be read, 1 when problems were found, else 0. */
int dump_log_exit_code(const struct dump_log *dl);

/* The command: argv[0] is "dump-log", options and paths follow. Returns the
 * process exit code. */
int dump_log_main(int argc, char **argv);

/* The manual printed by `replog dump-log --help` and `replog help dump-log`. */
extern const char dump_log_help[];

#endif
