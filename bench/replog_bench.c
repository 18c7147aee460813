/*
 * replog_bench — the `replog-bench` entry point: one binary, one subcommand
 * per benchmark.
 *
 * What this file owns: the table of subcommands, top-level --help and
 * --version, and dispatch. Each subcommand lives in its own module
 * (<name>_bench.{h,c}) with an entry point `int <name>_bench_main(int argc,
 * char **argv)` that receives argv starting at the subcommand's name and
 * returns the exit code, and a `void <name>_bench_usage(void)` that prints
 * its manual. Adding a benchmark (produce, consume, e2e) is one row in
 * bench_commands[] plus its module in bench/meson.build.
 *
 * Exit codes, shared by every subcommand: 0 the benchmark ran (a figure below
 * its target is a measurement, not a failure), 1 an error stopped it (the
 * cause is printed), 2 a usage error.
 */
#include <stdio.h>
#include <string.h>

#include "client_bench.h"
#include "log_bench.h"
#include "net_bench.h"

#ifndef REPLOG_VERSION
#error "REPLOG_VERSION must be defined by the build"
#endif

#define BENCH_EXIT_USAGE 2

struct bench_command {
	const char *bc_name;
	const char *bc_summary; /* one line for the top-level --help */
	int (*bc_main)(int argc, char **argv);
	void (*bc_usage)(void);
};

static const struct bench_command bench_commands[] = {
	{"log", "partition-log appends vs raw write+fdatasync, per flush policy", log_bench_main,
	 log_bench_usage},
	{"produce", "records/s, MiB/s and latency percentiles through libreplog",
	 produce_bench_main, produce_bench_usage},
	{"consume", "records/s and MiB/s reading a topic through libreplog", consume_bench_main,
	 consume_bench_usage},
	{"e2e", "latency from produce to a consumer's hands, at a fixed rate", e2e_bench_main,
	 e2e_bench_usage},
	{"loopback", "TCP bandwidth over 127.0.0.1, the reference for network-bound figures",
	 net_bench_main, net_bench_usage},
};

#define BENCH_COMMAND_COUNT (sizeof(bench_commands) / sizeof(bench_commands[0]))

static void bench_usage(FILE *out)
{
	fprintf(out, "usage: replog-bench <command> [options]\n"
		     "       replog-bench help <command>\n"
		     "       replog-bench --help | --version\n"
		     "\n"
		     "Benchmarks for replog. Every figure is reported next to a reference\n"
		     "measured on the same machine in the same run (raw disk bandwidth,\n"
		     "loopback, a peer broker), and as the ratio between them: the machines\n"
		     "are shared and noisy, so only side-by-side ratios are comparable.\n"
		     "\n"
		     "commands:\n");
	for (size_t i = 0; i < BENCH_COMMAND_COUNT; i++)
		fprintf(out, "  %-10s %s\n", bench_commands[i].bc_name,
			bench_commands[i].bc_summary);
	fprintf(out, "\n"
		     "Run `replog-bench <command> --help` for a command's options and output.\n"
		     "\n"
		     "exit status: 0 the benchmark ran (even below a target), 1 an error\n"
		     "stopped it (cause printed on stderr), 2 usage error.\n");
}

static const struct bench_command *bench_find(const char *name)
{
	for (size_t i = 0; i < BENCH_COMMAND_COUNT; i++)
		if (strcmp(bench_commands[i].bc_name, name) == 0)
			return &bench_commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		bench_usage(stderr);
		return BENCH_EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		bench_usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
		printf("replog-bench %s\n", REPLOG_VERSION);
		return 0;
	}
	if (strcmp(cmd, "help") == 0) {
		if (argc < 3) {
			bench_usage(stdout);
			return 0;
		}
		const struct bench_command *c = bench_find(argv[2]);
		if (!c) {
			fprintf(stderr, "replog-bench: unknown command '%s'\n", argv[2]);
			return BENCH_EXIT_USAGE;
		}
		c->bc_usage();
		return 0;
	}
	const struct bench_command *c = bench_find(cmd);
	if (!c) {
		fprintf(stderr, "replog-bench: unknown command '%s' (try replog-bench --help)\n",
			cmd);
		return BENCH_EXIT_USAGE;
	}
	return c->bc_main(argc - 1, argv + 1);
}
