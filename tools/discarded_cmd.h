/*
 * discarded_cmd — `replog discarded`: every discarded write of a running
 * cluster (DESIGN.md §4: bytes a replica removed from its log when it
 * truncated to a new leader, or that recovery cut), asked of every live
 * broker with ReplogListDiscarded (client/kp_replog.h) and listed in time
 * order. The offline counterpart is `replog dump-log --discarded`, which
 * decodes the files named here. Prefix discarded_*.
 */
#ifndef REPLOG_DISCARDED_CMD_H
#define REPLOG_DISCARDED_CMD_H

/* Exit codes of the command. */
#define DISCARDED_EXIT_OK	   0 /* listed, possibly nothing */
#define DISCARDED_EXIT_NO_TOPIC	   1 /* a topic named with --topic does not exist */
#define DISCARDED_EXIT_USAGE	   2
#define DISCARDED_EXIT_UNREACHABLE 3 /* no broker answered */

/* The command: argv[0] is "discarded", options follow. Returns the process
 * exit code. */
int discarded_main(int argc, char **argv);

/* The manual printed by `replog discarded --help` and `replog help discarded`. */
extern const char discarded_help[];

#endif
