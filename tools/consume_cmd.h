/*
 * consume_cmd — `replog consume`: print the records of one partition, as
 * `kcat -C` does, with a subset of kcat's -f format. Prefix consume_*.
 *
 * Online: Metadata from a bootstrap server names the partition's leader;
 * ListOffsets (v1) gives the start and the high watermark to stop at;
 * Fetch (v11) reads the records from the leader.
 */
#ifndef REPLOG_CONSUME_CMD_H
#define REPLOG_CONSUME_CMD_H

#define CONSUME_EXIT_OK	    0
#define CONSUME_EXIT_FAILED 1 /* no leader, unknown partition, a Fetch error */
#define CONSUME_EXIT_USAGE  2

/* argv[0] is "consume". Returns the process exit code. */
int consume_main(int argc, char **argv);

/* The manual printed by `replog consume --help` and `replog help consume`. */
extern const char consume_help[];

#endif
