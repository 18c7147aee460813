/*
 * receipt_cmd — `replog receipt` (API in receipt_cmd.h).
 *
 * What this file owns: the command line and the exit code; the question
 * itself is libreplog's replog_receipt_status()/replog_receipt_wait().
 * Receipts come from the arguments, or one per line from stdin when none
 * is given (or "-").
 */
#include "receipt_cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replog.h"

#define RECEIPT_PREFIX "replog receipt: "
#define RECEIPT_LINE   512

const char receipt_help[] =
	"usage: replog receipt [-b HOST:PORT[,...]] [--wait-ms MS] [--timeout-ms MS]\n"
	"                      [RECEIPT...]\n"
	"\n"
	"Tell whether acknowledged writes still exist. A RECEIPT is what libreplog\n"
	"hands out for each acknowledged record (replog_receipt_format):\n"
	"\n"
	"  TOPIC:PARTITION:OFFSET:LEADER_EPOCH:BATCH_CRC      e.g. orders:0:42:3:1f62fd81\n"
	"\n"
	"With no RECEIPT (or \"-\"), receipts are read from stdin, one per line.\n"
	"The partition leader is asked for the batch that holds OFFSET now:\n"
	"\n"
	"  COMMITTED  that batch is below the high watermark and is the same write\n"
	"             (same CRC-32C): it survives any failure the topic tolerates\n"
	"  PENDING    OFFSET is not below the high watermark yet (acks=1 or 0 write\n"
	"             not replicated, or a leader change under way); ask again\n"
	"  DISCARDED  a different write holds that committed offset: this one was\n"
	"             lost in a leader change (see `replog discarded`); final\n"
	"  EXPIRED    OFFSET is below the log start: retention removed it\n"
	"\n"
	"Output: one line per receipt, \"RECEIPT STATUS stored_epoch=E\" (E is the\n"
	"leader epoch stored with the batch when COMMITTED, else -1).\n"
	"\n"
	"options:\n"
	"  -b, --bootstrap-server LIST  brokers to start from (127.0.0.1:9092)\n"
	"      --wait-ms MS             ask again while PENDING, up to MS (0)\n"
	"      --timeout-ms MS          bound of each request (5000)\n"
	"  -h, --help                   this text\n"
	"\n"
	"exit status: 0 every receipt COMMITTED; 1 a receipt could not be checked\n"
	"(unknown topic, no broker answered; the cause on stderr); 2 usage error\n"
	"(bad option or receipt text); 3 some PENDING (none DISCARDED or EXPIRED);\n"
	"4 some DISCARDED; 5 some EXPIRED (none DISCARDED).\n";

struct receipt_run {
	replog_admin *admin;
	int wait_ms;
	int worst; /* exit code so far */
};

static int receipt_rank(int code)
{
	switch (code) {
	case RECEIPT_EXIT_DISCARDED:
		return 5;
	case RECEIPT_EXIT_ERROR:
		return 4;
	case RECEIPT_EXIT_EXPIRED:
		return 3;
	case RECEIPT_EXIT_PENDING:
		return 2;
	default:
		return 1;
	}
}

static void receipt_note(struct receipt_run *r, int code)
{
	if (receipt_rank(code) > receipt_rank(r->worst))
		r->worst = code;
}

/* Check one receipt text. Returns 0, or RECEIPT_EXIT_USAGE for bad text. */
static int receipt_check(struct receipt_run *r, const char *text)
{
	struct replog_receipt rc;
	if (replog_receipt_parse(text, &rc) != REPLOG_OK) {
		fprintf(stderr,
			RECEIPT_PREFIX "'%s' is not a receipt (TOPIC:PARTITION:OFFSET:EPOCH:CRC)\n",
			text);
		return RECEIPT_EXIT_USAGE;
	}
	int status = 0;
	int32_t epoch = -1;
	struct replog_error err;
	int rc_ = replog_receipt_wait(r->admin, &rc, r->wait_ms, &status, &epoch, &err);
	if (rc_) {
		fprintf(stderr, RECEIPT_PREFIX "%s: %s\n", text, err.message);
		receipt_note(r, RECEIPT_EXIT_ERROR);
		return 0;
	}
	char canon[REPLOG_TOPIC_MAX + 64];
	replog_receipt_format(&rc, canon, sizeof(canon));
	printf("%s %s stored_epoch=%d\n", canon, replog_receipt_status_name(status), epoch);
	fflush(stdout);
	receipt_note(r, status == REPLOG_RECEIPT_COMMITTED   ? RECEIPT_EXIT_COMMITTED
			: status == REPLOG_RECEIPT_PENDING   ? RECEIPT_EXIT_PENDING
			: status == REPLOG_RECEIPT_DISCARDED ? RECEIPT_EXIT_DISCARDED
							     : RECEIPT_EXIT_EXPIRED);
	return 0;
}

static int receipt_usage_error(const char *what, const char *arg)
{
	fprintf(stderr, RECEIPT_PREFIX "%s%s\nTry 'replog receipt --help'.\n", what,
		arg ? arg : "");
	return RECEIPT_EXIT_USAGE;
}

static bool receipt_ms(const char *s, int *out)
{
	char *e;
	long v = strtol(s, &e, 10);
	if (!*s || *e || v < 0 || v > 3600000)
		return false;
	*out = (int)v;
	return true;
}

int receipt_main(int argc, char **argv)
{
	enum { OPT_WAIT = 256, OPT_TIMEOUT };
	static const struct option longs[] = {
		{"bootstrap-server", required_argument, NULL, 'b'},
		{"wait-ms", required_argument, NULL, OPT_WAIT},
		{"timeout-ms", required_argument, NULL, OPT_TIMEOUT},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct replog_config cfg;
	replog_config_init(&cfg);
	cfg.client_id = "replog-receipt";
	cfg.request_timeout_ms = 5000;
	struct receipt_run r = {.worst = RECEIPT_EXIT_COMMITTED};
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":b:h", longs, NULL)) != -1) {
		switch (c) {
		case 'b':
			cfg.bootstrap = optarg;
			break;
		case 'h':
			fputs(receipt_help, stdout);
			return 0;
		case OPT_WAIT:
			if (!receipt_ms(optarg, &r.wait_ms))
				return receipt_usage_error("--wait-ms must be 0..3600000, not ",
							   optarg);
			break;
		case OPT_TIMEOUT:
			if (!receipt_ms(optarg, &cfg.request_timeout_ms) ||
			    cfg.request_timeout_ms == 0)
				return receipt_usage_error("--timeout-ms must be 1..3600000, not ",
							   optarg);
			break;
		case ':':
			return receipt_usage_error("missing value for ", argv[optind - 1]);
		default:
			return receipt_usage_error("unknown option ", argv[optind - 1]);
		}
	}
	for (int i = optind; i < argc; i++) { /* check the text before asking anyone */
		struct replog_receipt rc;
		if (strcmp(argv[i], "-") != 0 && replog_receipt_parse(argv[i], &rc) != REPLOG_OK)
			return receipt_check(&r, argv[i]);
	}
	struct replog_error err;
	r.admin = replog_admin_new(&cfg, &err);
	if (!r.admin) {
		fprintf(stderr, RECEIPT_PREFIX "%s\n", err.message);
		return err.code == REPLOG_ERR_ARG ? RECEIPT_EXIT_USAGE : RECEIPT_EXIT_ERROR;
	}
	int rc = 0;
	bool from_stdin = optind == argc;
	for (int i = optind; i < argc && rc == 0; i++) {
		if (strcmp(argv[i], "-") == 0)
			from_stdin = true;
		else
			rc = receipt_check(&r, argv[i]);
	}
	char line[RECEIPT_LINE];
	while (rc == 0 && from_stdin && fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0])
			rc = receipt_check(&r, line);
	}
	replog_admin_destroy(r.admin);
	return rc ? rc : r.worst;
}
