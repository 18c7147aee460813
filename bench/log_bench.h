/*
 * log_bench — `replog-bench log`: the storage engine's append throughput
 * measured side by side with the same machine's raw sequential write
 * bandwidth (plain write + fdatasync at the same cadence), in one run.
 *
 * The whole method, the options and the output format are in log_bench.c's
 * header comment and in `replog-bench log --help`.
 */
#ifndef REPLOG_LOG_BENCH_H
#define REPLOG_LOG_BENCH_H

/* Entry point of the subcommand. argv[0] is the subcommand's name ("log");
 * options follow. Returns the process exit code: 0 when the benchmark ran
 * (whatever the figures), 1 on an error (named on stderr), 2 on a usage
 * error. */
int log_bench_main(int argc, char **argv);

/* Print the subcommand's manual to stdout. */
void log_bench_usage(void);

#endif
