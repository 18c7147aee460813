/*
 * produce_cmd — `replog produce`: stdin lines into one partition, as
 * kafka-console-producer.sh and `kcat -P` do. Prefix produce_*.
 *
 * Online: Metadata from a bootstrap server names the partition's leader;
 * Produce (v7) requests go to it, each one RecordBatch of at most
 * PRODUCE_MAX_RECORDS records and PRODUCE_MAX_BATCH_BYTES bytes.
 */
#ifndef REPLOG_PRODUCE_CMD_H
#define REPLOG_PRODUCE_CMD_H

#define PRODUCE_EXIT_OK	    0
#define PRODUCE_EXIT_FAILED 1 /* no leader, a Produce error, unreadable input */
#define PRODUCE_EXIT_USAGE  2

/* argv[0] is "produce". Returns the process exit code. */
int produce_main(int argc, char **argv);

/* The manual printed by `replog produce --help` and `replog help produce`. */
extern const char produce_help[];

#endif
