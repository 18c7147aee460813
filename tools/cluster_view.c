/*
 * cluster_view — Metadata from a bootstrap server, then one request to
 * every live broker (API and contracts in cluster_view.h).
 *
 * Which brokers are "every broker": those the Metadata answer lists, which
 * in replog are the brokers the controller holds alive (registered, session
 * not expired; broker/metadata.c). A broker that is down is therefore not
 * asked at all; the commands learn of it from the replica lists, where its
 * id appears without an address, and say so. A broker that is alive on
 * paper but does not answer (stopped, overloaded) is asked and costs at
 * most --timeout-ms.
 */
#include "cluster_view.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kp_api.h"
#include "rlassert.h"

void cview_init(struct cview *cv, const char *prefix, int timeout_ms)
{
	RL_ASSERT(timeout_ms > 0 && timeout_ms <= KCLIENT_MAX_TIMEOUT_MS);
	memset(cv, 0, sizeof(*cv));
	cv->cv_prefix = prefix;
	cv->cv_timeout_ms = timeout_ms;
	cv->cv_boot.kc_fd = -1;
}

void cview_deinit(struct cview *cv)
{
	for (int32_t i = 0; i < cv->cv_nbrokers; i++)
		kclient_deinit(&cv->cv_brokers[i].cb_conn);
	free(cv->cv_brokers);
	cv->cv_brokers = NULL;
	cv->cv_nbrokers = 0;
	kclient_deinit(&cv->cv_boot);
	cv->cv_have_md = false;
}

int cview_check_bootstrap(const char *list, char *why, size_t why_cap)
{
	const char *p = list;
	for (int i = 0; i <= CVIEW_MAX_BOOTSTRAP; i++) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char one[KCLIENT_ADDR_MAX];
		if (len == 0 || len >= sizeof(one)) {
			snprintf(why, why_cap, "'%.*s' is not HOST:PORT",
				 (int)(len > 64 ? 64 : len), p);
			return KCLIENT_EADDR;
		}
		memcpy(one, p, len);
		one[len] = '\0';
		if (kclient_parse_addr(one, NULL, 0, NULL, 0) < 0) {
			snprintf(why, why_cap, "'%s' is not HOST:PORT (port 1..65535)", one);
			return KCLIENT_EADDR;
		}
		if (!end)
			return 0;
		p = end + 1;
	}
	snprintf(why, why_cap, "more than %d servers", CVIEW_MAX_BOOTSTRAP);
	return KCLIENT_EADDR;
}

static int cview_parse_timeout(const char *s, int *timeout_ms)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (end == s || *end || errno || v < 1 || v > KCLIENT_MAX_TIMEOUT_MS)
		return -EINVAL;
	*timeout_ms = (int)v;
	return 0;
}

__attribute__((format(printf, 2, 3))) static int cview_usage_error(const struct cview_cli *cli,
								   const char *fmt, ...)
{
	va_list ap;
	fputs(cli->cc_prefix, stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", cli->cc_name);
	return 2;
}

int cview_parse_args(int argc, char **argv, const struct cview_cli *cli, struct cview_args *a)
{
	*a = (struct cview_args){.ca_bootstrap = CVIEW_DEFAULT_BOOTSTRAP,
				 .ca_timeout_ms = KCLIENT_DEFAULT_TIMEOUT_MS};
	int c;
	char why[256];
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, CVIEW_SHORT_OPTIONS, cli->cc_options, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (cview_check_bootstrap(optarg, why, sizeof(why)) < 0)
				return cview_usage_error(cli, "--bootstrap-server: %s", why);
			a->ca_bootstrap = optarg;
			break;
		case 't':
			if (optarg[0] == '\0')
				return cview_usage_error(cli, "%s", "--topic: empty topic name");
			if (a->ca_ntopics >= CVIEW_MAX_TOPICS)
				return cview_usage_error(cli, "--topic: at most %d topics",
							 CVIEW_MAX_TOPICS);
			a->ca_topics[a->ca_ntopics++] = optarg;
			break;
		case CVIEW_OPT_TIMEOUT:
			if (cview_parse_timeout(optarg, &a->ca_timeout_ms) < 0)
				return cview_usage_error(
					cli,
					"--timeout-ms '%s': expected milliseconds from 1 to %d",
					optarg, KCLIENT_MAX_TIMEOUT_MS);
			break;
		case 'h':
			fputs(cli->cc_help, stdout);
			return 0;
		case ':':
			return cview_usage_error(cli, "option '%s' needs a value",
						 argv[optind - 1]);
		default:
			if (c >= CVIEW_OPT_EXTRA && cli->cc_extra) {
				cli->cc_extra(c, cli->cc_ctx);
				break;
			}
			if (optopt > 0 && optopt < 256)
				return cview_usage_error(cli, "unknown option '-%c'", optopt);
			return cview_usage_error(cli, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cview_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	return -1;
}

static int cview_cmp_broker(const void *a, const void *b)
{
	const struct cview_broker *x = a, *y = b;
	return (x->cb_id > y->cb_id) - (x->cb_id < y->cb_id);
}

/* The broker table from cv_md. */
static int cview_take_brokers(struct cview *cv)
{
	int32_t n = cv->cv_md.brokers_count;
	if (n < 0)
		n = 0;
	if (n > CVIEW_MAX_BROKERS) {
		fprintf(stderr,
			"%sthe Metadata answer names %d brokers; only the first %d are asked\n",
			cv->cv_prefix, n, CVIEW_MAX_BROKERS);
		n = CVIEW_MAX_BROKERS;
	}
	cv->cv_brokers = calloc((size_t)(n ? n : 1), sizeof(*cv->cv_brokers));
	if (!cv->cv_brokers)
		return -ENOMEM;
	int32_t k = 0;
	for (int32_t i = 0; i < n; i++) {
		const struct kp_metadata_response_broker *mb = &cv->cv_md.brokers[i];
		struct cview_broker *cb = &cv->cv_brokers[k];
		bool dup = false;
		for (int32_t j = 0; j < k; j++)
			dup = dup || cv->cv_brokers[j].cb_id == mb->node_id;
		if (dup || mb->host.len <= 0)
			continue;
		cb->cb_id = mb->node_id;
		cb->cb_conn.kc_fd = -1;
		bool v6 = memchr(mb->host.ptr, ':', (size_t)mb->host.len) != NULL;
		snprintf(cb->cb_addr, sizeof(cb->cb_addr), v6 ? "[%.*s]:%d" : "%.*s:%d",
			 (int)mb->host.len, mb->host.ptr, mb->port);
		k++;
	}
	cv->cv_nbrokers = k;
	qsort(cv->cv_brokers, (size_t)k, sizeof(*cv->cv_brokers), cview_cmp_broker);
	return 0;
}

int cview_metadata(struct cview *cv, const char *bootstrap, char *const *topics, int ntopics)
{
	RL_ASSERT(!cv->cv_have_md);
	RL_ASSERT(ntopics >= 0 && ntopics <= CVIEW_MAX_TOPICS);
	struct kp_metadata_request_topic req_topics[CVIEW_MAX_TOPICS];
	for (int i = 0; i < ntopics; i++)
		req_topics[i].name = kp_str_from_cstr(topics[i]);
	union kp_request_body req = {.metadata = {
					     .topics = ntopics ? req_topics : NULL,
					     .topics_count = ntopics ? ntopics : -1,
					     .allow_auto_topic_creation = cv->cv_auto_create,
				     }};
	int rc = KCLIENT_EADDR;
	const char *p = bootstrap;
	for (int i = 0; i < CVIEW_MAX_BOOTSTRAP && p; i++) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char one[KCLIENT_ADDR_MAX];
		snprintf(one, sizeof(one), "%.*s", (int)len, p);
		p = end ? end + 1 : NULL;
		kclient_deinit(&cv->cv_boot);
		union kp_response_body resp;
		rc = kclient_init(&cv->cv_boot, one, cv->cv_timeout_ms);
		if (rc == 0)
			rc = kclient_connect(&cv->cv_boot);
		if (rc == 0)
			rc = kclient_call(&cv->cv_boot, KP_API_METADATA, CVIEW_METADATA_VERSION,
					  &req, &resp);
		if (rc < 0) {
			fprintf(stderr, "%sno metadata from bootstrap server %s: %s\n",
				cv->cv_prefix, one, kclient_errmsg(&cv->cv_boot));
			continue;
		}
		kclient_close(&cv->cv_boot);
		cv->cv_md = resp.metadata;
		cv->cv_have_md = true;
		snprintf(cv->cv_boot_addr, sizeof(cv->cv_boot_addr), "%s", one);
		rc = cview_take_brokers(cv);
		if (rc < 0)
			fprintf(stderr, "%sout of memory\n", cv->cv_prefix);
		return rc;
	}
	return rc;
}

int cview_ask_all(struct cview *cv, int16_t api_key, const union kp_request_body *req)
{
	RL_ASSERT(cv->cv_have_md);
	const char *api = kp_api_name(api_key);
	cv->cv_nanswered = 0;
	for (int32_t i = 0; i < cv->cv_nbrokers; i++) {
		struct cview_broker *cb = &cv->cv_brokers[i];
		kclient_deinit(&cb->cb_conn);
		cb->cb_answered = false;
		int rc = kclient_init(&cb->cb_conn, cb->cb_addr, cv->cv_timeout_ms);
		if (rc == 0)
			rc = kclient_connect(&cb->cb_conn);
		if (rc == 0)
			rc = kclient_call(&cb->cb_conn, api_key, 0, req, &cb->cb_resp);
		kclient_close(&cb->cb_conn);
		if (rc < 0) {
			fprintf(stderr, "%sbroker %" PRId32 " did not answer: %s\n", cv->cv_prefix,
				cb->cb_id, kclient_errmsg(&cb->cb_conn));
			continue;
		}
		/* Both private answers start with error_code (kp_replog.h). */
		int16_t err = api_key == KP_API_REPLOG_DESCRIBE_REPLICAS
				      ? cb->cb_resp.replog_describe_replicas.error_code
			      : api_key == KP_API_REPLOG_LIST_DISCARDED
				      ? cb->cb_resp.replog_list_discarded.error_code
				      : 0;
		if (err != 0) {
			fprintf(stderr,
				"%sbroker %" PRId32 " at %s refused the %s request: %s (%d)\n",
				cv->cv_prefix, cb->cb_id, cb->cb_addr, api, kp_error_name(err),
				err);
			continue;
		}
		cb->cb_answered = true;
		cv->cv_nanswered++;
	}
	return cv->cv_nanswered;
}

const struct cview_broker *cview_broker(const struct cview *cv, int32_t id)
{
	int32_t lo = 0, hi = cv->cv_nbrokers;
	while (lo < hi) {
		int32_t mid = lo + (hi - lo) / 2;
		if (cv->cv_brokers[mid].cb_id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < cv->cv_nbrokers && cv->cv_brokers[lo].cb_id == id ? &cv->cv_brokers[lo] : NULL;
}

int32_t cview_report_down(const struct cview *cv, const struct kp_metadata_response_topic **ts,
			  int32_t nts, const char *suffix, int32_t *seen)
{
	int32_t own[CVIEW_MAX_BROKERS];
	if (!seen)
		seen = own;
	if (!ts)
		nts = cv->cv_md.topics_count;
	int32_t nseen = 0;
	for (int32_t i = 0; i < nts; i++) {
		const struct kp_metadata_response_topic *t = ts ? ts[i] : &cv->cv_md.topics[i];
		for (int32_t j = 0; j < t->partitions_count; j++) {
			const struct kp_metadata_response_partition *p = &t->partitions[j];
			for (int32_t k = 0; k < p->replica_nodes_count; k++) {
				int32_t id = p->replica_nodes[k];
				bool dup = cview_broker(cv, id) != NULL;
				for (int32_t s = 0; !dup && s < nseen; s++)
					dup = seen[s] == id;
				if (dup || nseen >= CVIEW_MAX_BROKERS)
					continue;
				seen[nseen++] = id;
				fprintf(stderr,
					"%sbroker %" PRId32
					" is not alive according to the metadata "
					"from %s: not asked%s\n",
					cv->cv_prefix, id, cv->cv_boot_addr, suffix);
			}
		}
	}
	return nseen;
}

void cview_format_time(char *buf, size_t cap, int64_t ms)
{
	int64_t sec = ms / 1000, rem = ms % 1000;
	if (rem < 0) {
		rem += 1000;
		sec--;
	}
	time_t t = (time_t)sec;
	struct tm tm;
	size_t n = 0;
	if (gmtime_r(&t, &tm))
		n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	if (n == 0) {
		snprintf(buf, cap, "%" PRId64 "ms", ms);
		return;
	}
	snprintf(buf + n, cap - n, ".%03dZ", (int)rem);
}

void cview_format_ids(char *buf, size_t cap, const int32_t *ids, int32_t count)
{
	RL_ASSERT(cap >= 4);
	size_t len = 0;
	buf[0] = '\0';
	for (int32_t i = 0; i < count; i++) {
		int w = snprintf(buf + len, cap - len, "%s%" PRId32, i ? "," : "", ids[i]);
		if (w < 0 || (size_t)w >= cap - len) {
			snprintf(buf + (cap - 4), 4, "...");
			return;
		}
		len += (size_t)w;
	}
}

int cview_find_leader(const struct cview *cv, const char *topic, int32_t partition,
		      const struct cview_broker **leader)
{
	RL_ASSERT(cv->cv_have_md);
	*leader = NULL;
	const struct kp_metadata_response *md = &cv->cv_md;
	for (int32_t i = 0; i < md->topics_count; i++) {
		const struct kp_metadata_response_topic *t = &md->topics[i];
		if (!kp_str_eq_cstr(t->name, topic))
			continue;
		if (t->error_code != KP_ERR_NONE)
			return t->error_code;
		for (int32_t j = 0; j < t->partitions_count; j++) {
			const struct kp_metadata_response_partition *p = &t->partitions[j];
			if (p->partition_index != partition)
				continue;
			if (p->error_code != KP_ERR_NONE &&
			    p->error_code != KP_ERR_REPLICA_NOT_AVAILABLE)
				return p->error_code;
			*leader = p->leader_id >= 0 ? cview_broker(cv, p->leader_id) : NULL;
			return *leader ? 0 : KP_ERR_LEADER_NOT_AVAILABLE;
		}
		return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	}
	return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
}

int64_t cview_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cview_sleep_ms(int64_t ms)
{
	struct timespec ts = {.tv_sec = (time_t)(ms / 1000),
			      .tv_nsec = (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int cview_connect_leader(const char *prefix, const char *bootstrap, const char *topic,
			 int32_t partition, int timeout_ms, int64_t deadline_ms, bool auto_create,
			 struct kclient *kc, int32_t *leader_id)
{
	RL_ASSERT(timeout_ms >= 1 && timeout_ms <= KCLIENT_MAX_TIMEOUT_MS);
	char why[KCLIENT_ERRMSG_MAX + KCLIENT_ADDR_MAX + 128] = "";
	char *topics[1] = {(char *)topic};
	/* Bounded by the deadline; the count bounds a clock that does not move. */
	for (int attempt = 0; attempt < 100000; attempt++) {
		if (attempt > 0) {
			if (cview_now_ms() + CVIEW_LEADER_BACKOFF_MS >= deadline_ms)
				break;
			cview_sleep_ms(CVIEW_LEADER_BACKOFF_MS);
		}
		struct cview cv;
		cview_init(&cv, prefix, timeout_ms);
		cv.cv_auto_create = auto_create;
		if (cview_metadata(&cv, bootstrap, topics, 1) < 0) {
			fprintf(stderr, "%sno bootstrap server answered (tried %s)\n", prefix,
				bootstrap);
			cview_deinit(&cv);
			return -1;
		}
		const struct cview_broker *cb;
		int kerr = cview_find_leader(&cv, topic, partition, &cb);
		if (kerr == KP_ERR_LEADER_NOT_AVAILABLE || kerr == KP_ERR_NOT_LEADER_OR_FOLLOWER ||
		    (auto_create && attempt == 0 && kerr == KP_ERR_UNKNOWN_TOPIC_OR_PARTITION)) {
			snprintf(why, sizeof(why), "%s (%d) for %s-%" PRId32 " from %s",
				 kp_error_name((int16_t)kerr), kerr, topic, partition,
				 cv.cv_boot_addr);
			cview_deinit(&cv);
			continue;
		}
		if (kerr != 0) {
			fprintf(stderr, "%s%s (%d): %s-%" PRId32 " by the metadata from %s\n",
				prefix, kp_error_name((int16_t)kerr), kerr, topic, partition,
				cv.cv_boot_addr);
			cview_deinit(&cv);
			return -1;
		}
		*leader_id = cb->cb_id;
		kclient_deinit(kc);
		*kc = (struct kclient){.kc_fd = -1};
		int rc = kclient_init(kc, cb->cb_addr, timeout_ms);
		if (rc == 0)
			rc = kclient_connect(kc);
		if (rc == 0) {
			cview_deinit(&cv);
			return 0;
		}
		snprintf(why, sizeof(why), "leader %" PRId32 " did not answer: %s", cb->cb_id,
			 kclient_errmsg(kc));
		cview_deinit(&cv);
	}
	fprintf(stderr, "%sno leader for %s-%" PRId32 " answered in time: %s\n", prefix, topic,
		partition, why[0] ? why : "gave up");
	return -1;
}
