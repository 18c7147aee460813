/*
 * replog — the `replog` command line: one binary, one subcommand per module.
 *
 * What this file owns: the table of commands, the top-level usage,
 * `--help`, `--version`, `help <command>`, and dispatch. A command lives in
 * its own module (tools/<name>.{h,c}) exposing
 *
 *   int <name>_main(int argc, char **argv);   argv[0] is the command's name
 *   extern const char <name>_help[];          its manual, for `help <name>`
 *
 * and returns the process exit code. Adding a command (topics, produce,
 * consume, cluster, discarded, receipt, groups) is one row in
 * replog_commands[] plus its module in tools/meson.build.
 *
 * Exit codes here: 0 for help and version, 2 for a usage error (no
 * command, unknown command or option); otherwise the command's own.
 */
#include <stdio.h>
#include <string.h>

#include "cluster_cmd.h"
#include "consume_cmd.h"
#include "discarded_cmd.h"
#include "dump_log.h"
#include "groups_cmd.h"
#include "produce_cmd.h"
#include "receipt_cmd.h"
#include "topics_cmd.h"

#ifndef REPLOG_VERSION
#error "REPLOG_VERSION must be defined by the build"
#endif

#define REPLOG_EXIT_OK	  0
#define REPLOG_EXIT_USAGE 2

struct replog_command {
	const char *rc_name;
	const char *rc_summary;		      /* one line for the command list */
	int (*rc_run)(int argc, char **argv); /* argv[0] is rc_name */
	const char *rc_help;		      /* the command's manual */
};

static const struct replog_command replog_commands[] = {
	{"topics", "create, list, describe, delete topics online (describe: leaders, ISR, offsets)",
	 topics_main, topics_help},
	{"produce", "write stdin lines as records to one partition, through its leader",
	 produce_main, produce_help},
	{"consume",
	 "print the records of one partition (kcat -C -f style), up to the end or --follow",
	 consume_main, consume_help},
	{"discarded", "list the writes truncation discarded, on every broker, online",
	 discarded_main, discarded_help},
	{"cluster",
	 "show the metadata quorum: voters, active controller, term, lag; and the brokers",
	 cluster_main, cluster_help},
	{"groups",
	 "list, describe (lag per partition, owners), reset offsets of consumer groups online",
	 groups_main, groups_help},
	{"receipt", "tell whether acknowledged writes (libreplog receipts) still exist",
	 receipt_main, receipt_help},
	{"dump-log", "print and check segments, indexes, checkpoints and discarded writes, offline",
	 dump_log_main, dump_log_help},
};

#define REPLOG_COMMAND_COUNT (sizeof(replog_commands) / sizeof(replog_commands[0]))

static void replog_usage(FILE *out)
{
	fprintf(out, "usage: replog <command> [options] [args]\n"
		     "       replog help <command>\n"
		     "       replog --help | --version\n"
		     "\n"
		     "The command line of replog, a Kafka-wire-compatible commit-log broker.\n"
		     "\n"
		     "commands:\n");
	for (size_t i = 0; i < REPLOG_COMMAND_COUNT; i++)
		fprintf(out, "  %-10s %s\n", replog_commands[i].rc_name,
			replog_commands[i].rc_summary);
	fprintf(out, "\n"
		     "Run `replog <command> --help` or `replog help <command>` for a command's\n"
		     "options, output and exit codes.\n");
}

static const struct replog_command *replog_find(const char *name)
{
	for (size_t i = 0; i < REPLOG_COMMAND_COUNT; i++)
		if (strcmp(replog_commands[i].rc_name, name) == 0)
			return &replog_commands[i];
	return NULL;
}

static int replog_unknown(const char *what, const char *name)
{
	fprintf(stderr, "replog: unknown %s '%s'\n\ncommands:\n", what, name);
	for (size_t i = 0; i < REPLOG_COMMAND_COUNT; i++)
		fprintf(stderr, "  %-10s %s\n", replog_commands[i].rc_name,
			replog_commands[i].rc_summary);
	fprintf(stderr, "\nRun `replog --help` for usage.\n");
	return REPLOG_EXIT_USAGE;
}

/* `replog help [command]`. */
static int replog_help(int argc, char **argv)
{
	if (argc < 3) {
		replog_usage(stdout);
		return REPLOG_EXIT_OK;
	}
	const struct replog_command *c = replog_find(argv[2]);
	if (!c)
		return replog_unknown("command", argv[2]);
	fputs(c->rc_help, stdout);
	return REPLOG_EXIT_OK;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		replog_usage(stderr);
		return REPLOG_EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		replog_usage(stdout);
		return REPLOG_EXIT_OK;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
		printf("replog %s\n", REPLOG_VERSION);
		return REPLOG_EXIT_OK;
	}
	if (strcmp(cmd, "help") == 0)
		return replog_help(argc, argv);
	if (cmd[0] == '-')
		return replog_unknown("option", cmd);
	const struct replog_command *c = replog_find(cmd);
	if (!c)
		return replog_unknown("command", cmd);
	return c->rc_run(argc - 1, argv + 1);
}
