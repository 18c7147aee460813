/*
 * net_bench — `replog-bench loopback`: the machine's TCP loopback bandwidth,
 * the reference a network-bound figure (produce, consume) is divided by.
 *
 * The method, the options and the output format are in net_bench.c's
 * header comment and in `replog-bench loopback --help`.
 */
#ifndef REPLOG_NET_BENCH_H
#define REPLOG_NET_BENCH_H

/* Entry point of the subcommand. argv[0] is the subcommand's name
 * ("loopback"); options follow. Returns the process exit code: 0 when the
 * benchmark ran, 1 on an error (named on stderr), 2 on a usage error. */
int net_bench_main(int argc, char **argv);

/* Print the subcommand's manual to stdout. */
void net_bench_usage(void);

#endif
