/*
 * replogd — the replog broker daemon: parse the command line, load the
 * configuration (a YAML file, or the embedded default), run the broker.
 *
 * Exit codes: 0 stopped cleanly (SIGTERM/SIGINT), 1 a runtime failure
 * (cannot listen, cannot open the data directory, a log fenced at
 * shutdown), 2 a usage or configuration error, 74 (EX_IOERR) a storage
 * failure: a write or fsync of a partition's log or of the metadata log
 * failed, so the broker stopped (broker.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "config.h"

#ifndef REPLOG_VERSION
#define REPLOG_VERSION "dev"
#endif

static const char replogd_usage[] =
	"Usage: replogd [--config FILE] [--check-config]\n"
	"       replogd --help | --version\n"
	"\n"
	"replogd is the replog broker: a partitioned commit log that speaks the\n"
	"Kafka wire protocol, so Kafka clients (kcat, librdkafka, kafka-python,\n"
	"confluent-kafka) produce to it and consume from it unmodified.\n"
	"\n"
	"Without --config it runs the embedded default: a single-node cluster\n"
	"listening on 127.0.0.1:9092 with its data in ./replog-data, creating\n"
	"topics on first use (1 partition each).\n"
	"\n"
	"Options:\n"
	"  -c, --config FILE   read the configuration from FILE (YAML). Every key\n"
	"                      is checked at start; an unknown key, a wrong type or\n"
	"                      an impossible value stops replogd with the file,\n"
	"                      line and key named. See README.md for every key.\n"
	"      --check-config  load and check the configuration, print the\n"
	"                      effective settings as YAML, and exit (0 valid,\n"
	"                      2 invalid). Starts nothing.\n"
	"  -h, --help          print this help and exit\n"
	"  -V, --version       print the version and exit\n"
	"\n"
	"Signals: SIGTERM or SIGINT stop it gracefully: it stops accepting,\n"
	"finishes in-flight writes, flushes and closes every log cleanly, so the\n"
	"next start only checks the tail of each log.\n"
	"\n"
	"Logs: one line per event on stderr, key=value pairs\n"
	"(ts=... level=info event=broker_started id=1 listen=127.0.0.1:9092 ...).\n"
	"\n"
	"Storage errors: when a write or an fsync of a log fails (disk full,\n"
	"I/O error), replogd logs one event=storage_failed line naming the\n"
	"partition (or the metadata log), the operation and the error, answers\n"
	"every produce waiting on it with KAFKA_STORAGE_ERROR (never an\n"
	"acknowledgement), hands its leaderships over and exits with status 74.\n"
	"Fix the disk and start it again: recovery checks the logs (a torn\n"
	"tail is cut and kept in discarded/) and the broker rejoins.\n"
	"\n"
	"Exit status: 0 after a clean stop, 1 on a runtime failure (for\n"
	"example, the listen address is taken), 2 on a usage or configuration\n"
	"error, 74 (EX_IOERR) after a storage error.\n"
	"\n"
	"Try it:\n"
	"  replogd &\n"
	"  echo hello | kcat -b 127.0.0.1:9092 -P -t demo\n"
	"  kcat -b 127.0.0.1:9092 -C -t demo -o beginning -e\n";

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check-config", no_argument, NULL, 'k'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *path = NULL;
	int check = 0, c;
	while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'k':
			check = 1;
			break;
		case 'h':
			fputs(replogd_usage, stdout);
			return 0;
		case 'V':
			printf("replogd %s\n", REPLOG_VERSION);
			return 0;
		default:
			fprintf(stderr, "replogd: see 'replogd --help'\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "replogd: unexpected argument '%s'; see 'replogd --help'\n",
			argv[optind]);
		return 2;
	}
	static struct broker_config cfg;
	char err[CONFIG_ERROR_MAX];
	config_default(&cfg);
	if (path ? config_load_file(&cfg, path, err, sizeof(err)) < 0
		 : config_validate(&cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "replogd: %s\n", err);
		return 2;
	}
	if (check) {
		config_print(&cfg, stdout);
		return 0;
	}
	static struct broker b;
	if (broker_start(&b, &cfg) < 0)
		return 1;
	return broker_run(&b);
}
