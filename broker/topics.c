/*
 * topics — registry, persistence and lifecycle of topics and their
 * partitions (file format and rules in topics.h).
 */
#include "topics.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blog.h"
#include "checkpoint.h"
#include "kp_api.h"
#include "rlassert.h"
#include "rlerr.h"

#define TOPICS_FILE    "topics"
#define TOPICS_HEADER  "replog-topics 1"
#define TOPICS_BUCKETS 1024
#define TOPICS_MAX     100000

struct topics {
	struct topics_env ts_env;
	char ts_data_dir[CONFIG_PATH_MAX];
	int ts_dir_fd;
	struct topic *ts_buckets[TOPICS_BUCKETS];
	struct topic **ts_order; /* creation order, for listing */
	uint32_t ts_count;
	uint32_t ts_cap;
	struct topic *ts_dead; /* deleted, waiting for idle I/O */
};

static uint32_t topics_hash(const char *name, int len)
{
	uint32_t h = 2166136261u;
	for (int i = 0; i < len; i++)
		h = (h ^ (uint8_t)name[i]) * 16777619u;
	return h % TOPICS_BUCKETS;
}

bool topics_valid_name(const char *name, int len, char *err, size_t err_cap)
{
	if (len <= 0 || len > TOPIC_NAME_MAX) {
		snprintf(err, err_cap, "topic name must be 1 to %d characters, got %d",
			 TOPIC_NAME_MAX, len < 0 ? 0 : len);
		return false;
	}
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.')) {
		snprintf(err, err_cap, "topic name cannot be \".\" or \"..\"");
		return false;
	}
	for (int i = 0; i < len; i++) {
		char c = name[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
		if (!ok) {
			snprintf(err, err_cap,
				 "topic name \"%.*s\" has an illegal character at %d: only ASCII "
				 "letters, digits, '.', '_' and '-' are allowed",
				 len, name, i);
			return false;
		}
	}
	return true;
}

struct topic *topics_find(struct topics *ts, const char *name, int len)
{
	if (len <= 0 || len > TOPIC_NAME_MAX)
		return NULL;
	for (struct topic *t = ts->ts_buckets[topics_hash(name, len)]; t; t = t->tp_hnext)
		if (t->tp_name_len == len && memcmp(t->tp_name, name, (size_t)len) == 0)
			return t;
	return NULL;
}

struct partition *topics_partition(struct topics *ts, const char *name, int len, int32_t index)
{
	struct topic *t = topics_find(ts, name, len);
	if (!t || index < 0 || index >= t->tp_partition_count)
		return NULL;
	return &t->tp_parts[index];
}

uint32_t topics_count(const struct topics *ts)
{
	return ts->ts_count;
}

struct topic *topics_at(struct topics *ts, uint32_t idx)
{
	return idx < ts->ts_count ? ts->ts_order[idx] : NULL;
}

/* ---- persistence ------------------------------------------------------ */

static int topics_persist(struct topics *ts)
{
	size_t cap = 64 + (size_t)ts->ts_count * 1024, len = 0;
	for (uint32_t i = 0; i < ts->ts_count; i++)
		cap += (size_t)ts->ts_order[i]->tp_partition_count * 12;
	char *text = malloc(cap);
	if (!text)
		return -ENOMEM;
	len += (size_t)snprintf(text + len, cap - len, "%s\n", TOPICS_HEADER);
	for (uint32_t i = 0; i < ts->ts_count; i++) {
		struct topic *t = ts->ts_order[i];
		len += (size_t)snprintf(text + len, cap - len, "%s\t", t->tp_name);
		for (int b = 0; b < 16; b++)
			len += (size_t)snprintf(text + len, cap - len, "%02x", t->tp_id[b]);
		len += (size_t)snprintf(text + len, cap - len, "\t%d\t", t->tp_partition_count);
		for (int32_t p = 0; p < t->tp_partition_count; p++)
			len += (size_t)snprintf(text + len, cap - len, "%s%d", p ? "," : "",
						t->tp_parts[p].pt_leader_epoch);
		len += (size_t)snprintf(text + len, cap - len, "\t");
		int n = topic_config_format(&t->tp_cfg, text + len, cap - len);
		if (n < 0) {
			free(text);
			return RL_ECORRUPT;
		}
		len += (size_t)n;
		len += (size_t)snprintf(text + len, cap - len, "\n");
	}
	RL_ASSERT(len < cap);
	int rc = checkpoint_write(ts->ts_dir_fd, TOPICS_FILE, text, len);
	free(text);
	return rc;
}

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* One line of the topics file into a new topic (partitions not opened). */
static struct topic *topics_parse_line(char *line, int32_t **epochs, char *err, size_t err_cap)
{
	char *fields[5];
	int n = 0;
	for (char *tok = line, *tab; n < 5; n++) {
		fields[n] = tok;
		tab = strchr(tok, '\t');
		if (!tab) {
			n++;
			break;
		}
		*tab = '\0';
		tok = tab + 1;
	}
	if (n != 5) {
		snprintf(err, err_cap, "expected 5 tab-separated fields, got %d", n);
		return NULL;
	}
	struct topic *t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, err_cap, "out of memory");
		return NULL;
	}
	t->tp_name_len = (int)strlen(fields[0]);
	if (!topics_valid_name(fields[0], t->tp_name_len, err, err_cap))
		goto fail;
	memcpy(t->tp_name, fields[0], (size_t)t->tp_name_len);
	if (strlen(fields[1]) != 32) {
		snprintf(err, err_cap, "topic id must be 32 hex digits");
		goto fail;
	}
	for (int b = 0; b < 16; b++) {
		int hi = hex_nibble(fields[1][2 * b]), lo = hex_nibble(fields[1][2 * b + 1]);
		if (hi < 0 || lo < 0) {
			snprintf(err, err_cap, "topic id must be 32 hex digits");
			goto fail;
		}
		t->tp_id[b] = (uint8_t)(hi << 4 | lo);
	}
	char *end;
	long parts = strtol(fields[2], &end, 10);
	if (*end || parts < 1 || parts > 100000) {
		snprintf(err, err_cap, "bad partition count \"%s\"", fields[2]);
		goto fail;
	}
	t->tp_partition_count = (int32_t)parts;
	*epochs = calloc((size_t)parts, sizeof(**epochs));
	if (!*epochs) {
		snprintf(err, err_cap, "out of memory");
		goto fail;
	}
	char *e = fields[3];
	for (long p = 0; p < parts; p++) {
		long v = strtol(e, &end, 10);
		if (end == e || v < 0 || v >= INT32_MAX || (*end != ',' && *end != '\0') ||
		    (*end == '\0' && p + 1 < parts)) {
			snprintf(err, err_cap, "bad leader epochs \"%s\"", fields[3]);
			free(*epochs);
			*epochs = NULL;
			goto fail;
		}
		(*epochs)[p] = (int32_t)v;
		e = end + (*end == ',');
	}
	if (topic_config_parse(&t->tp_cfg, fields[4], err, err_cap) < 0) {
		free(*epochs);
		*epochs = NULL;
		goto fail;
	}
	return t;
fail:
	free(t);
	return NULL;
}

/* ---- partitions ------------------------------------------------------- */

static void topics_on_progress(void *ctx, struct plog *log)
{
	(void)log;
	partition_progress(ctx);
}

static void topics_plog_config(const struct topics *ts, const struct topic *t, struct partition *p,
			       struct plog_config *pc)
{
	plog_config_default(pc);
	pc->segment_bytes = (uint64_t)t->tp_cfg.tc_segment_bytes;
	pc->segment_ms = t->tp_cfg.tc_segment_ms;
	pc->max_append_bytes = (uint32_t)t->tp_cfg.tc_segment_bytes;
	pc->flush_interval_ms = ts->ts_env.te_flush_interval_ms;
	pc->flush_bytes = ts->ts_env.te_flush_bytes;
	pc->allow_offset_gaps = t->tp_cfg.tc_cleanup_policy == CONFIG_CLEANUP_COMPACT;
	pc->on_progress = topics_on_progress;
	pc->progress_ctx = p;
}

static int topics_open_partition(struct topics *ts, struct topic *t, int32_t idx, int32_t epoch,
				 char *err, size_t err_cap)
{
	struct partition *p = &t->tp_parts[idx];
	p->pt_topic = t;
	p->pt_index = idx;
	p->pt_leader_epoch = epoch;
	p->pt_durability = t->tp_cfg.tc_acks_all_durability;
	p->pt_flush_every_append =
		ts->ts_env.te_flush_interval_ms == 0 && ts->ts_env.te_flush_bytes == 0;
	char dir[CONFIG_PATH_MAX + TOPIC_NAME_MAX + 16];
	snprintf(dir, sizeof(dir), "%s/%s-%d", ts->ts_data_dir, t->tp_name, idx);
	struct plog_config pc;
	topics_plog_config(ts, t, p, &pc);
	struct plog_recovery rec;
	int rc = plog_open(dir, ts->ts_env.te_io, &pc, &p->pt_log, &rec);
	if (rc < 0) {
		snprintf(err, err_cap, "cannot open partition log %s: %s", dir, rl_strerror(rc));
		return rc;
	}
	char desc[512], b1[BLOG_I64_BUF], b2[BLOG_I64_BUF], b3[BLOG_I64_BUF];
	plog_recovery_describe(&rec, desc, sizeof(desc));
	blog(rec.pr_stop == SCAN_END ? BLOG_INFO : BLOG_WARN, "partition_opened", "topic",
	     t->tp_name, "partition", blog_i64(b1, idx), "leader_epoch", blog_i64(b2, epoch),
	     "log_end", blog_i64(b3, plog_end_offset(p->pt_log)), "recovery", desc, NULL);
	p->pt_hw = partition_durable_end(p);
	p->pt_hw_checkpointed = plog_recovered_hw(p->pt_log);
	return 0;
}

static void topics_free_topic(struct topic *t, bool unclean)
{
	for (int32_t i = 0; i < t->tp_partition_count; i++) {
		struct partition *p = &t->tp_parts[i];
		if (!p->pt_log)
			continue;
		if (unclean)
			plog_close_unclean(p->pt_log);
		else
			plog_close(p->pt_log);
		p->pt_log = NULL;
	}
	free(t->tp_parts);
	free(t);
}

static int topics_register(struct topics *ts, struct topic *t)
{
	if (ts->ts_count == ts->ts_cap) {
		uint32_t ncap = ts->ts_cap ? ts->ts_cap * 2 : 64;
		struct topic **n = realloc(ts->ts_order, ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		ts->ts_order = n;
		ts->ts_cap = ncap;
	}
	ts->ts_order[ts->ts_count++] = t;
	uint32_t b = topics_hash(t->tp_name, t->tp_name_len);
	t->tp_hnext = ts->ts_buckets[b];
	ts->ts_buckets[b] = t;
	return 0;
}

static void topics_unregister(struct topics *ts, struct topic *t)
{
	struct topic **pp = &ts->ts_buckets[topics_hash(t->tp_name, t->tp_name_len)];
	while (*pp && *pp != t)
		pp = &(*pp)->tp_hnext;
	if (*pp)
		*pp = t->tp_hnext;
	for (uint32_t i = 0; i < ts->ts_count; i++) {
		if (ts->ts_order[i] == t) {
			memmove(ts->ts_order + i, ts->ts_order + i + 1,
				(ts->ts_count - i - 1) * sizeof(*ts->ts_order));
			ts->ts_count--;
			break;
		}
	}
}

/* ---- open / close ----------------------------------------------------- */

static int topics_load(struct topics *ts, char *err, size_t err_cap)
{
	size_t cap = 64u << 20;
	char *text = malloc(cap);
	if (!text) {
		snprintf(err, err_cap, "out of memory");
		return -1;
	}
	int n = checkpoint_read(ts->ts_dir_fd, TOPICS_FILE, text, cap);
	if (n == -ENOENT) {
		free(text);
		return 0;
	}
	if (n < 0) {
		snprintf(err, err_cap, "cannot read %s/%s: %s", ts->ts_data_dir, TOPICS_FILE,
			 rl_strerror(n));
		free(text);
		return -1;
	}
	int rc = 0, lineno = 0;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line && rc == 0;
	     line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		if (lineno == 1) {
			if (strcmp(line, TOPICS_HEADER) != 0) {
				snprintf(err, err_cap,
					 "%s/%s: not a replog topics file (first line)",
					 ts->ts_data_dir, TOPICS_FILE);
				rc = -1;
			}
			continue;
		}
		int32_t *epochs = NULL;
		char why[256];
		struct topic *t = topics_parse_line(line, &epochs, why, sizeof(why));
		if (!t) {
			snprintf(err, err_cap, "%s/%s:%d: %s", ts->ts_data_dir, TOPICS_FILE, lineno,
				 why);
			rc = -1;
			break;
		}
		t->tp_parts = calloc((size_t)t->tp_partition_count, sizeof(*t->tp_parts));
		rc = t->tp_parts ? topics_register(ts, t) : -1;
		for (int32_t p = 0; rc == 0 && p < t->tp_partition_count; p++)
			rc = topics_open_partition(ts, t, p, epochs[p] + 1, err, err_cap);
		free(epochs);
		if (rc < 0 && !t->tp_parts) {
			snprintf(err, err_cap, "out of memory");
			free(t);
		}
	}
	free(text);
	return rc < 0 ? -1 : 0;
}

int topics_open(const struct topics_env *env, struct topics **out, char *err, size_t err_cap)
{
	struct topics *ts = calloc(1, sizeof(*ts));
	if (!ts) {
		snprintf(err, err_cap, "out of memory");
		return -1;
	}
	ts->ts_env = *env;
	snprintf(ts->ts_data_dir, sizeof(ts->ts_data_dir), "%s", env->te_data_dir);
	ts->ts_env.te_data_dir = ts->ts_data_dir;
	if (mkdir(ts->ts_data_dir, 0755) < 0 && errno != EEXIST) {
		snprintf(err, err_cap, "cannot create data_dir %s: %s", ts->ts_data_dir,
			 strerror(errno));
		free(ts);
		return -1;
	}
	ts->ts_dir_fd = open(ts->ts_data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ts->ts_dir_fd < 0) {
		snprintf(err, err_cap, "cannot open data_dir %s: %s", ts->ts_data_dir,
			 strerror(errno));
		free(ts);
		return -1;
	}
	int rc = topics_load(ts, err, err_cap);
	if (rc == 0 && topics_persist(ts) < 0) {
		snprintf(err, err_cap, "cannot write %s/%s: %s", ts->ts_data_dir, TOPICS_FILE,
			 strerror(errno));
		rc = -1;
	}
	if (rc < 0) {
		for (uint32_t i = 0; i < ts->ts_count; i++)
			topics_free_topic(ts->ts_order[i], true);
		close(ts->ts_dir_fd);
		free(ts->ts_order);
		free(ts);
		return -1;
	}
	*out = ts;
	return 0;
}

int topics_close(struct topics *ts)
{
	int rc = 0;
	for (uint32_t i = 0; i < ts->ts_count; i++) {
		struct topic *t = ts->ts_order[i];
		for (int32_t p = 0; p < t->tp_partition_count; p++) {
			struct partition *part = &t->tp_parts[p];
			partition_checkpoint_hw(part);
			int r = plog_close(part->pt_log);
			part->pt_log = NULL;
			if (r < 0 && rc == 0)
				rc = r;
		}
		topics_free_topic(t, true);
	}
	while (ts->ts_dead) {
		struct topic *t = ts->ts_dead;
		ts->ts_dead = t->tp_dead_next;
		topics_free_topic(t, true);
	}
	close(ts->ts_dir_fd);
	free(ts->ts_order);
	free(ts);
	return rc;
}

/* ---- create / delete -------------------------------------------------- */

int topics_create(struct topics *ts, const char *name, int len, const struct topic_config *cfg,
		  struct topic **out, char *err, size_t err_cap)
{
	if (!topics_valid_name(name, len, err, err_cap))
		return KP_ERR_INVALID_TOPIC_EXCEPTION;
	if (topics_find(ts, name, len)) {
		snprintf(err, err_cap, "topic \"%.*s\" already exists", len, name);
		return KP_ERR_TOPIC_ALREADY_EXISTS;
	}
	if (cfg->tc_partitions < 1 || cfg->tc_partitions > 10000) {
		snprintf(err, err_cap, "number of partitions must be between 1 and 10000, got %d",
			 cfg->tc_partitions);
		return KP_ERR_INVALID_PARTITIONS;
	}
	if (cfg->tc_replication_factor < 1 ||
	    cfg->tc_replication_factor > ts->ts_env.te_broker_count) {
		snprintf(err, err_cap,
			 "replication factor %d is not possible with %d broker%s (must be 1..%d)",
			 cfg->tc_replication_factor, ts->ts_env.te_broker_count,
			 ts->ts_env.te_broker_count == 1 ? "" : "s", ts->ts_env.te_broker_count);
		return KP_ERR_INVALID_REPLICATION_FACTOR;
	}
	if (topic_config_validate(cfg, ts->ts_env.te_broker_count, err, err_cap) < 0)
		return KP_ERR_INVALID_CONFIG;
	if (ts->ts_count >= TOPICS_MAX) {
		snprintf(err, err_cap, "too many topics (%d)", TOPICS_MAX);
		return KP_ERR_POLICY_VIOLATION;
	}
	struct topic *t = calloc(1, sizeof(*t));
	if (!t || !(t->tp_parts = calloc((size_t)cfg->tc_partitions, sizeof(*t->tp_parts)))) {
		free(t);
		snprintf(err, err_cap, "out of memory");
		return KP_ERR_KAFKA_STORAGE_ERROR;
	}
	memcpy(t->tp_name, name, (size_t)len);
	t->tp_name_len = len;
	t->tp_cfg = *cfg;
	t->tp_partition_count = cfg->tc_partitions;
	if (getrandom(t->tp_id, sizeof(t->tp_id), 0) != (ssize_t)sizeof(t->tp_id))
		memset(t->tp_id, 0x5a, sizeof(t->tp_id));
	int rc = 0;
	for (int32_t p = 0; rc == 0 && p < t->tp_partition_count; p++)
		rc = topics_open_partition(ts, t, p, 0, err, err_cap);
	if (rc == 0)
		rc = topics_register(ts, t);
	if (rc == 0 && (rc = topics_persist(ts)) < 0) {
		snprintf(err, err_cap, "cannot write %s/%s: %s", ts->ts_data_dir, TOPICS_FILE,
			 rl_strerror(rc));
		topics_unregister(ts, t);
	}
	if (rc < 0) {
		topics_free_topic(t, true);
		return KP_ERR_KAFKA_STORAGE_ERROR;
	}
	char b1[BLOG_I64_BUF], cfgline[512];
	topic_config_format(cfg, cfgline, sizeof(cfgline));
	blog(BLOG_INFO, "topic_created", "topic", t->tp_name, "partitions",
	     blog_i64(b1, t->tp_partition_count), "config", cfgline, NULL);
	if (out)
		*out = t;
	return 0;
}

int topics_delete(struct topics *ts, struct topic *t)
{
	topics_unregister(ts, t);
	int rc = topics_persist(ts);
	if (rc < 0) {
		topics_register(ts, t);
		return KP_ERR_KAFKA_STORAGE_ERROR;
	}
	for (int32_t p = 0; p < t->tp_partition_count; p++)
		partition_fail_all(&t->tp_parts[p], KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	t->tp_dead_next = ts->ts_dead;
	ts->ts_dead = t;
	blog(BLOG_INFO, "topic_deleted", "topic", t->tp_name, NULL);
	return 0;
}

static int topics_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 ? -1 : 0;
}

static bool topics_topic_idle(const struct topic *t)
{
	for (int32_t p = 0; p < t->tp_partition_count; p++)
		if (t->tp_parts[p].pt_log && !plog_io_idle(t->tp_parts[p].pt_log))
			return false;
	return true;
}

void topics_reap(struct topics *ts)
{
	for (struct topic **pp = &ts->ts_dead; *pp;) {
		struct topic *t = *pp;
		if (!topics_topic_idle(t)) {
			pp = &t->tp_dead_next;
			continue;
		}
		*pp = t->tp_dead_next;
		for (int32_t p = 0; p < t->tp_partition_count; p++) {
			struct partition *part = &t->tp_parts[p];
			char dir[CONFIG_PATH_MAX];
			snprintf(dir, sizeof(dir), "%s", plog_dir(part->pt_log));
			plog_close_unclean(part->pt_log);
			part->pt_log = NULL;
			if (nftw(dir, topics_rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
				blog(BLOG_WARN, "topic_delete_incomplete", "topic", t->tp_name,
				     "dir", dir, "error", strerror(errno), NULL);
		}
		topics_free_topic(t, true);
	}
}

/* ---- periodic work ---------------------------------------------------- */

void topics_tick(struct topics *ts, bool housekeeping)
{
	for (uint32_t i = 0; i < ts->ts_count; i++) {
		struct topic *t = ts->ts_order[i];
		for (int32_t p = 0; p < t->tp_partition_count; p++) {
			struct partition *part = &t->tp_parts[p];
			if (part->pt_storage_error)
				continue;
			plog_tick(part->pt_log);
			if (!housekeeping)
				continue;
			partition_checkpoint_hw(part);
			if (t->tp_cfg.tc_cleanup_policy != CONFIG_CLEANUP_DELETE)
				continue;
			int n = plog_retain(part->pt_log, t->tp_cfg.tc_retention_ms,
					    t->tp_cfg.tc_retention_bytes, part->pt_hw);
			if (n > 0) {
				char b1[BLOG_I64_BUF], b2[BLOG_I64_BUF], b3[BLOG_I64_BUF];
				blog(BLOG_INFO, "retention_deleted_segments", "topic", t->tp_name,
				     "partition", blog_i64(b1, p), "segments", blog_i64(b2, n),
				     "log_start", blog_i64(b3, plog_start_offset(part->pt_log)),
				     NULL);
			}
		}
	}
}

void topics_flush_all(struct topics *ts)
{
	for (uint32_t i = 0; i < ts->ts_count; i++) {
		struct topic *t = ts->ts_order[i];
		for (int32_t p = 0; p < t->tp_partition_count; p++)
			plog_flush(t->tp_parts[p].pt_log);
	}
}

bool topics_quiet(struct topics *ts)
{
	for (uint32_t i = 0; i < ts->ts_count; i++) {
		struct topic *t = ts->ts_order[i];
		for (int32_t p = 0; p < t->tp_partition_count; p++) {
			struct plog *log = t->tp_parts[p].pt_log;
			if (!plog_io_idle(log))
				return false;
			if (!plog_error(log) && plog_flushed_offset(log) < plog_end_offset(log))
				return false;
		}
	}
	return ts->ts_dead == NULL;
}
