/*
 * discarded_cmd — `replog discarded` (API in discarded_cmd.h).
 *
 * What this file owns: the command line, gathering every live broker's
 * ReplogListDiscarded answer, sorting the entries of all of them by time
 * (then broker, topic, partition, first offset) and printing one line
 * each, then a total line.
 *
 * One entry is one committed discard on one broker: the .meta file of
 * <data_dir>/<topic>-<partition>/discarded/<name>.log (log/discard.h). The
 * offsets are [first_offset, next_offset): offsets in a partition log are
 * consecutive, so the record count is their difference. The broker answers
 * at most DISCARDED_BROKER_MAX entries (broker/api.h: REPLOG_DISCARDED_MAX)
 * and says nothing when it stops there, so an answer of exactly that many
 * is reported as possibly incomplete.
 */
#include "discarded_cmd.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_view.h"
#include "kp_api.h"
#include "rlassert.h"

#define DISCARDED_PREFIX     "replog discarded: "
#define DISCARDED_BROKER_MAX 2000 /* entries in one answer, broker/api.h */
#define DISCARDED_IDS_BUF    1024

const char discarded_help[] =
	"NAME\n"
	"    replog discarded - list the writes the cluster discarded\n"
	"\n"
	"SYNOPSIS\n"
	"    replog discarded [--bootstrap-server HOST:PORT[,HOST:PORT...]]\n"
	"                     [--topic TOPIC]... [--timeout-ms N]\n"
	"\n"
	"DESCRIPTION\n"
	"    A write acknowledged with acks=0 or acks=1 by a leader that then lost\n"
	"    its leadership before the write was replicated is removed from that\n"
	"    replica's log when it follows the new leader (truncation), and so is a\n"
	"    torn or corrupt tail that recovery cuts. replog never drops such bytes\n"
	"    silently: before truncating, the replica moves them to\n"
	"    <data_dir>/<topic>-<partition>/discarded/ with a .meta file saying why,\n"
	"    when, which offsets and which leader epochs. This command asks every\n"
	"    live broker for that list (ReplogListDiscarded) and prints all of it,\n"
	"    oldest first. Committed writes (below the high watermark) are never\n"
	"    discarded, except by an unclean leader election the topic allowed.\n"
	"\n"
	"    The brokers come from a Metadata request to the first bootstrap\n"
	"    server that answers. They are asked one after the other, each within\n"
	"    --timeout-ms; one that does not answer is named on stderr and the\n"
	"    others are still listed. A broker that is down is not asked: its\n"
	"    discarded writes are listed once it is back.\n"
	"\n"
	"OPTIONS\n"
	"    -b, --bootstrap-server HOST:PORT[,HOST:PORT...]\n"
	"        Brokers to ask for the Metadata, tried in order until one answers\n"
	"        (default 127.0.0.1:9092). IPv6 addresses as [ADDR]:PORT.\n"
	"    -t, --topic TOPIC\n"
	"        Only this topic's discarded writes (may be given several times). A\n"
	"        topic that does not exist is an error (exit status 1).\n"
	"    --timeout-ms N\n"
	"        Time allowed for each broker, connecting included (default 5000,\n"
	"        at most 600000).\n"
	"    -h, --help\n"
	"        Print this manual.\n"
	"\n"
	"OUTPUT\n"
	"    On stdout, one line per discarded write, sorted by time (shown here on\n"
	"    two lines):\n"
	"      broker: 2 topic: t partition: 0 time: 2024-05-01T10:00:00.123Z\n"
	"        reason: truncated offsets: [100,105) records: 5 batches: 2 bytes: 412\n"
	"        epochs: 3..3 file: t-0/discarded/00000000000000000100-1714557600123.log\n"
	"        detail: <free text>\n"
	"    time is when the broker discarded the bytes (ISO-8601 UTC); reason is\n"
	"    truncated (following a new leader), torn-tail or corrupt (recovery);\n"
	"    offsets are [first, next) of what was removed (-1 when unknown, and\n"
	"    records: unknown); epochs are the leader epochs of the discarded\n"
	"    batches (-1..-1 when none was a whole valid batch); file is relative to\n"
	"    that broker's data_dir: `replog dump-log --discarded -d\n"
	"    <data_dir>/t-0` on that host decodes it. Then one line:\n"
	"      total: 3 discarded writes, 12 records, 5 batches, 1030 bytes\n"
	"        (brokers answering: 1,2,3)\n"
	"    or, when there are none:\n"
	"      no discarded writes (brokers answering: 1,2,3)\n"
	"    with `; not answering: <ids>` before the `)` when some broker did not\n"
	"    answer, and `; down: <ids>` for replica brokers that are not alive.\n"
	"    On stderr, one line per broker that did not answer, with the cause.\n"
	"\n"
	"EXIT STATUS\n"
	"    0  listed (possibly nothing; some brokers may not have answered)\n"
	"    1  a topic named with --topic does not exist\n"
	"    2  usage error: unknown option, bad value\n"
	"    3  no broker answered (neither the Metadata request nor any\n"
	"       ReplogListDiscarded), or the output could not be written\n"
	"\n"
	"EXAMPLES\n"
	"    Everything the local cluster discarded:\n"
	"      replog discarded\n"
	"    One topic, asking a remote cluster:\n"
	"      replog discarded -b 10.0.0.1:9092,10.0.0.2:9092 --topic orders\n"
	"    Then, on broker 2's host, the records themselves:\n"
	"      replog dump-log --discarded -d /var/lib/replog/2/orders-0\n";

static const struct option discarded_long_options[] = {
	CVIEW_LONG_OPTIONS,
	{NULL, 0, NULL, 0},
};

/* One line of the listing: an entry and the broker that holds it. */
struct discarded_row {
	int32_t dr_broker;
	const struct kp_replog_discarded_entry *dr_e; /* in cview's memory */
};

static int discarded_cmp_str(struct kp_str a, struct kp_str b)
{
	int32_t n = a.len < b.len ? a.len : b.len;
	int c = n > 0 ? memcmp(a.ptr, b.ptr, (size_t)n) : 0;
	return c ? c : (a.len > b.len) - (a.len < b.len);
}

#define DISCARDED_CMP(x, y) (((x) > (y)) - ((x) < (y)))

static int discarded_cmp_row(const void *a, const void *b)
{
	const struct discarded_row *x = a, *y = b;
	int c = DISCARDED_CMP(x->dr_e->time_ms, y->dr_e->time_ms);
	if (!c)
		c = DISCARDED_CMP(x->dr_broker, y->dr_broker);
	if (!c)
		c = discarded_cmp_str(x->dr_e->topic, y->dr_e->topic);
	if (!c)
		c = DISCARDED_CMP(x->dr_e->partition, y->dr_e->partition);
	if (!c)
		c = DISCARDED_CMP(x->dr_e->first_offset, y->dr_e->first_offset);
	return c;
}

/* Free text from the broker: printable ASCII as is, anything else \xNN. */
static void discarded_print_text(FILE *out, struct kp_str s)
{
	for (int32_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.ptr[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			putc(c, out);
		else
			fprintf(out, "\\x%02x", c);
	}
}

static void discarded_print_row(FILE *out, const struct discarded_row *r)
{
	const struct kp_replog_discarded_entry *e = r->dr_e;
	char when[48];
	cview_format_time(when, sizeof(when), e->time_ms);
	fprintf(out, "broker: %" PRId32 " topic: ", r->dr_broker);
	discarded_print_text(out, e->topic);
	fprintf(out, " partition: %" PRId32 " time: %s reason: ", e->partition, when);
	discarded_print_text(out, e->reason);
	fprintf(out, " offsets: [%" PRId64 ",%" PRId64 ") records: ", e->first_offset,
		e->next_offset);
	if (e->first_offset >= 0 && e->next_offset >= e->first_offset)
		fprintf(out, "%" PRId64, e->next_offset - e->first_offset);
	else
		fputs("unknown", out);
	fprintf(out,
		" batches: %" PRId32 " bytes: %" PRId64 " epochs: %" PRId32 "..%" PRId32 " file: ",
		e->batches, e->bytes, e->epoch_min, e->epoch_max);
	discarded_print_text(out, e->topic);
	fprintf(out, "-%" PRId32 "/discarded/", e->partition);
	discarded_print_text(out, e->name);
	fputs(".log detail: ", out);
	discarded_print_text(out, e->detail);
	fputc('\n', out);
}

static int discarded_list(const struct cview_args *o)
{
	struct cview cv;
	cview_init(&cv, DISCARDED_PREFIX, o->ca_timeout_ms);
	int rc = cview_metadata(&cv, o->ca_bootstrap, o->ca_topics, o->ca_ntopics);
	if (rc < 0) {
		fprintf(stderr, DISCARDED_PREFIX "no bootstrap server answered (tried %s)\n",
			o->ca_bootstrap);
		cview_deinit(&cv);
		return DISCARDED_EXIT_UNREACHABLE;
	}
	/* Every named topic must exist. */
	for (int i = 0; i < o->ca_ntopics; i++) {
		const struct kp_metadata_response_topic *t = NULL;
		for (int32_t k = 0; k < cv.cv_md.topics_count && !t; k++)
			if (kp_str_eq_cstr(cv.cv_md.topics[k].name, o->ca_topics[i]))
				t = &cv.cv_md.topics[k];
		if (!t || t->error_code != KP_ERR_NONE) {
			fprintf(stderr,
				DISCARDED_PREFIX "unknown topic '%s': %s (metadata from %s)\n",
				o->ca_topics[i],
				!t || t->error_code == KP_ERR_UNKNOWN_TOPIC_OR_PARTITION
					? "it does not exist"
					: kp_error_name(t->error_code),
				cv.cv_boot_addr);
			cview_deinit(&cv);
			return DISCARDED_EXIT_NO_TOPIC;
		}
	}

	struct kp_str names[CVIEW_MAX_TOPICS];
	for (int i = 0; i < o->ca_ntopics; i++)
		names[i] = kp_str_from_cstr(o->ca_topics[i]);
	union kp_request_body req = {.replog_list_discarded = {
					     .topics = o->ca_ntopics ? names : NULL,
					     .topics_count = o->ca_ntopics ? o->ca_ntopics : -1,
				     }};
	int answered = cview_ask_all(&cv, KP_API_REPLOG_LIST_DISCARDED, &req);
	int32_t down[CVIEW_MAX_BROKERS];
	int32_t ndown =
		cview_report_down(&cv, NULL, 0, ", its discarded writes are not listed", down);
	if (answered == 0) {
		fprintf(stderr,
			DISCARDED_PREFIX "no broker answered the ReplogListDiscarded request\n");
		cview_deinit(&cv);
		return DISCARDED_EXIT_UNREACHABLE;
	}

	/* All entries of all brokers, in time order. */
	size_t nrows = 0;
	for (int32_t i = 0; i < cv.cv_nbrokers; i++) {
		const struct cview_broker *cb = &cv.cv_brokers[i];
		if (!cb->cb_answered)
			continue;
		int32_t n = cb->cb_resp.replog_list_discarded.entries_count;
		nrows += (size_t)(n > 0 ? n : 0);
		if (n >= DISCARDED_BROKER_MAX)
			fprintf(stderr,
				DISCARDED_PREFIX
				"broker %" PRId32 " listed %" PRId32
				" discarded writes, the most one answer holds: "
				"there may be more (see `replog dump-log --discarded` "
				"on its partition directories)\n",
				cb->cb_id, n);
	}
	struct discarded_row *rows = calloc(nrows ? nrows : 1, sizeof(*rows));
	if (!rows) {
		fprintf(stderr, DISCARDED_PREFIX "out of memory\n");
		cview_deinit(&cv);
		return DISCARDED_EXIT_UNREACHABLE;
	}
	size_t k = 0;
	int32_t yes[CVIEW_MAX_BROKERS], no[CVIEW_MAX_BROKERS], nyes = 0, nno = 0;
	for (int32_t i = 0; i < cv.cv_nbrokers; i++) {
		const struct cview_broker *cb = &cv.cv_brokers[i];
		if (!cb->cb_answered) {
			no[nno++] = cb->cb_id;
			continue;
		}
		yes[nyes++] = cb->cb_id;
		const struct kp_replog_discarded_response *r = &cb->cb_resp.replog_list_discarded;
		for (int32_t j = 0; j < r->entries_count; j++)
			rows[k++] = (struct discarded_row){cb->cb_id, &r->entries[j]};
	}
	RL_ASSERT(k == nrows);
	qsort(rows, nrows, sizeof(*rows), discarded_cmp_row);

	int64_t records = 0, bytes = 0, batches = 0;
	for (size_t i = 0; i < nrows; i++) {
		const struct kp_replog_discarded_entry *e = rows[i].dr_e;
		discarded_print_row(stdout, &rows[i]);
		if (e->first_offset >= 0 && e->next_offset >= e->first_offset)
			records += e->next_offset - e->first_offset;
		bytes += e->bytes > 0 ? e->bytes : 0;
		batches += e->batches > 0 ? e->batches : 0;
	}
	char yes_ids[DISCARDED_IDS_BUF], no_ids[DISCARDED_IDS_BUF], down_ids[DISCARDED_IDS_BUF];
	cview_format_ids(yes_ids, sizeof(yes_ids), yes, nyes);
	cview_format_ids(no_ids, sizeof(no_ids), no, nno);
	cview_format_ids(down_ids, sizeof(down_ids), down, ndown);
	if (nrows == 0)
		printf("no discarded writes (brokers answering: %s", yes_ids);
	else
		printf("total: %zu discarded write%s, %" PRId64 " records, %" PRId64
		       " batches, %" PRId64 " bytes (brokers answering: %s",
		       nrows, nrows == 1 ? "" : "s", records, batches, bytes, yes_ids);
	if (nno)
		printf("; not answering: %s", no_ids);
	if (ndown)
		printf("; down: %s", down_ids);
	printf(")\n");

	int exit_code = DISCARDED_EXIT_OK;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, DISCARDED_PREFIX "cannot write the output\n");
		exit_code = DISCARDED_EXIT_UNREACHABLE;
	}
	free(rows);
	cview_deinit(&cv);
	return exit_code;
}

int discarded_main(int argc, char **argv)
{
	struct cview_cli cli = {.cc_prefix = DISCARDED_PREFIX,
				.cc_name = "replog discarded",
				.cc_help = discarded_help,
				.cc_options = discarded_long_options};
	struct cview_args o;
	int rc = cview_parse_args(argc, argv, &cli, &o);
	if (rc >= 0)
		return rc;
	return discarded_list(&o);
}
