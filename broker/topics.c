/*
 * topics — the registry of topics this broker knows and the partition logs
 * it hosts (roles and rules in topics.h).
 */
#include "topics.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blog.h"
#include "checkpoint.h"
#include "kp_api.h"
#include "rlassert.h"
#include "rlerr.h"

#define TOPICS_BUCKETS 1024

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
	if (len == (int)strlen(TOPICS_RESERVED_NAME) &&
	    memcmp(name, TOPICS_RESERVED_NAME, (size_t)len) == 0) {
		snprintf(err, err_cap, "topic name \"%s\" is reserved for the cluster metadata log",
			 TOPICS_RESERVED_NAME);
		return false;
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
	if (!t || index < 0 || index >= t->tp_partition_count || !t->tp_parts[index].pt_log)
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

void topics_each_partition(struct topics *ts, topics_partition_fn fn, void *ctx)
{
	for (uint32_t i = 0; i < ts->ts_count; i++) {
		struct topic *t = ts->ts_order[i];
		for (int32_t p = 0; p < t->tp_partition_count; p++)
			if (t->tp_parts[p].pt_log)
				fn(ctx, &t->tp_parts[p]);
	}
}

/* ---- partitions ------------------------------------------------------- */

static void topics_on_progress(void *ctx, struct plog *log)
{
	struct partition *p = ctx;
	(void)log;
	if (p->pt_log)
		p->pt_topic->tp_env->te_on_progress(p->pt_topic->tp_env->te_ctx, p);
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
	pc->on_fsync = ts->ts_env.te_on_fsync;
	pc->fsync_ctx = ts->ts_env.te_fsync_ctx;
}

static int topics_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw);

static void topics_remove_dir(const char *dir, const char *why)
{
	blog(BLOG_WARN, "stray_replica_removed", "dir", dir, "reason", why, NULL);
	if (nftw(dir, topics_rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
		blog(BLOG_WARN, "stray_replica_remove_incomplete", "dir", dir, "error",
		     strerror(errno), NULL);
}

static bool topics_id_zero(const uint8_t *id)
{
	for (int i = 0; i < 16; i++)
		if (id[i])
			return false;
	return true;
}

static void topics_id_hex(char *out, const uint8_t *id)
{
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", id[i]);
}

/* A directory left by an older topic of the same name (deleted, then
 * created again while this broker was away) is not this topic's replica. */
static void topics_check_dir_owner(const struct topic *t, const char *dir)
{
	if (topics_id_zero(t->tp_id))
		return;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return;
	char text[128], want[40];
	topics_id_hex(want, t->tp_id);
	int n = checkpoint_read(dfd, TOPICS_PARTITION_META, text, sizeof(text));
	close(dfd);
	if (n == -ENOENT)
		return; /* written after the open */
	if (n < 0 || strncmp(text, "topic_id=", 9) != 0 || strncmp(text + 9, want, 32) != 0)
		topics_remove_dir(dir, "it belongs to an older topic of the same name");
}

static int topics_write_dir_owner(const struct topic *t, const char *dir)
{
	if (topics_id_zero(t->tp_id))
		return 0;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	char text[64], hex[40];
	topics_id_hex(hex, t->tp_id);
	int n = snprintf(text, sizeof(text), "topic_id=%s\n", hex);
	char cur[64];
	int rc = checkpoint_read(dfd, TOPICS_PARTITION_META, cur, sizeof(cur));
	rc = rc == n && memcmp(cur, text, (size_t)n) == 0
		     ? 0
		     : checkpoint_write(dfd, TOPICS_PARTITION_META, text, (size_t)n);
	close(dfd);
	return rc;
}

int topics_open_replica(struct topics *ts, struct topic *t, int32_t idx, char *err, size_t err_cap)
{
	RL_ASSERT(idx >= 0 && idx < t->tp_partition_count);
	struct partition *p = &t->tp_parts[idx];
	if (p->pt_log)
		return 0;
	p->pt_topic = t;
	p->pt_index = idx;
	p->pt_durability = t->tp_cfg.tc_acks_all_durability;
	p->pt_flush_every_append =
		ts->ts_env.te_flush_interval_ms == 0 && ts->ts_env.te_flush_bytes == 0;
	char dir[CONFIG_PATH_MAX + TOPIC_NAME_MAX + 16];
	snprintf(dir, sizeof(dir), "%s/%s-%d", ts->ts_data_dir, t->tp_name, idx);
	struct plog_config pc;
	topics_plog_config(ts, t, p, &pc);
	struct plog_recovery rec;
	struct plog *log;
	topics_check_dir_owner(t, dir);
	int rc = plog_open(dir, ts->ts_env.te_io, &pc, &log, &rec);
	if (rc == 0 && (rc = topics_write_dir_owner(t, dir)) < 0)
		plog_close_unclean(log);
	if (rc < 0) {
		snprintf(err, err_cap, "cannot open partition log %s: %s", dir, rl_strerror(rc));
		return -1;
	}
	char desc[512], b1[BLOG_I64_BUF], b2[BLOG_I64_BUF];
	plog_recovery_describe(&rec, desc, sizeof(desc));
	blog(rec.pr_stop == SCAN_END ? BLOG_INFO : BLOG_WARN, "partition_opened", "topic",
	     t->tp_name, "partition", blog_i64(b1, idx), "log_end",
	     blog_i64(b2, plog_end_offset(log)), "recovery", desc, NULL);
	p->pt_log = log;
	p->pt_leader_epoch = -1;
	/* What the replica last knew to be committed: never lower than that. */
	p->pt_hw = plog_recovered_hw(log) > 0 ? plog_recovered_hw(log) : 0;
	p->pt_hw_checkpointed = plog_recovered_hw(log);
	p->pt_written_seen = plog_written_offset(log);
	return 0;
}

static void topics_free_topic(struct topic *t)
{
	for (int32_t i = 0; i < t->tp_partition_count; i++) {
		struct partition *p = &t->tp_parts[i];
		if (!p->pt_log)
			continue;
		plog_close_unclean(p->pt_log);
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

struct topic *topics_add(struct topics *ts, const char *name, int len, const uint8_t *id,
			 const struct topic_config *cfg, int32_t partitions)
{
	struct topic *t = topics_find(ts, name, len);
	if (t)
		return t;
	if (len <= 0 || len > TOPIC_NAME_MAX || partitions < 1)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t || !(t->tp_parts = calloc((size_t)partitions, sizeof(*t->tp_parts)))) {
		free(t);
		return NULL;
	}
	memcpy(t->tp_name, name, (size_t)len);
	t->tp_name_len = len;
	if (id)
		memcpy(t->tp_id, id, sizeof(t->tp_id));
	t->tp_cfg = *cfg;
	t->tp_partition_count = partitions;
	t->tp_env = &ts->ts_env;
	for (int32_t p = 0; p < partitions; p++) {
		t->tp_parts[p].pt_topic = t;
		t->tp_parts[p].pt_index = p;
	}
	if (topics_register(ts, t) < 0) {
		free(t->tp_parts);
		free(t);
		return NULL;
	}
	return t;
}

/* ---- open / close ----------------------------------------------------- */

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
			if (!part->pt_log)
				continue;
			partition_checkpoint_hw(part);
			int r = plog_close(part->pt_log);
			part->pt_log = NULL;
			if (r < 0 && rc == 0)
				rc = r;
		}
		topics_free_topic(t);
	}
	while (ts->ts_dead) {
		struct topic *t = ts->ts_dead;
		ts->ts_dead = t->tp_dead_next;
		topics_free_topic(t);
	}
	close(ts->ts_dir_fd);
	free(ts->ts_order);
	free(ts);
	return rc;
}

/* ---- delete ----------------------------------------------------------- */

int topics_delete(struct topics *ts, struct topic *t)
{
	topics_unregister(ts, t);
	for (int32_t p = 0; p < t->tp_partition_count; p++)
		if (t->tp_parts[p].pt_log)
			partition_fail_all(&t->tp_parts[p], KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	t->tp_dead_next = ts->ts_dead;
	ts->ts_dead = t;
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
			if (!part->pt_log)
				continue;
			char dir[CONFIG_PATH_MAX];
			snprintf(dir, sizeof(dir), "%s", plog_dir(part->pt_log));
			plog_close_unclean(part->pt_log);
			part->pt_log = NULL;
			if (nftw(dir, topics_rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
				blog(BLOG_WARN, "topic_delete_incomplete", "topic", t->tp_name,
				     "dir", dir, "error", strerror(errno), NULL);
		}
		topics_free_topic(t);
	}
}

/* ---- periodic work ---------------------------------------------------- */

struct topics_tick_ctx {
	bool housekeeping;
};

static void topics_tick_one(void *ctx, struct partition *part)
{
	struct topics_tick_ctx *tc = ctx;
	struct topic *t = part->pt_topic;
	if (part->pt_storage_error)
		return;
	plog_tick(part->pt_log);
	if (!tc->housekeeping)
		return;
	int rc = partition_checkpoint_hw(part);
	if (rc < 0 && t->tp_env->te_on_storage_error)
		t->tp_env->te_on_storage_error(t->tp_env->te_ctx, part, "hw checkpoint", rc);
	if (part->pt_storage_error)
		return;
	if (t->tp_cfg.tc_cleanup_policy != CONFIG_CLEANUP_DELETE || part->pt_internal)
		return;
	int n = plog_retain(part->pt_log, t->tp_cfg.tc_retention_ms, t->tp_cfg.tc_retention_bytes,
			    part->pt_hw);
	if (n > 0) {
		char b1[BLOG_I64_BUF], b2[BLOG_I64_BUF], b3[BLOG_I64_BUF];
		blog(BLOG_INFO, "retention_deleted_segments", "topic", t->tp_name, "partition",
		     blog_i64(b1, part->pt_index), "segments", blog_i64(b2, n), "log_start",
		     blog_i64(b3, plog_start_offset(part->pt_log)), NULL);
	}
}

void topics_tick(struct topics *ts, bool housekeeping)
{
	struct topics_tick_ctx tc = {.housekeeping = housekeeping};
	topics_each_partition(ts, topics_tick_one, &tc);
}

static void topics_flush_one(void *ctx, struct partition *p)
{
	(void)ctx;
	plog_flush(p->pt_log);
}

void topics_flush_all(struct topics *ts)
{
	topics_each_partition(ts, topics_flush_one, NULL);
}

static void topics_quiet_one(void *ctx, struct partition *p)
{
	bool *quiet = ctx;
	struct plog *log = p->pt_log;
	if (!plog_io_idle(log) ||
	    (!plog_error(log) && plog_flushed_offset(log) < plog_end_offset(log)))
		*quiet = false;
}

bool topics_quiet(struct topics *ts)
{
	bool quiet = true;
	topics_each_partition(ts, topics_quiet_one, &quiet);
	return quiet && ts->ts_dead == NULL;
}

/* ---- strays ------------------------------------------------------------ */

int topics_remove_strays(struct topics *ts, topics_keep_fn keep, void *ctx)
{
	DIR *d = opendir(ts->ts_data_dir);
	if (!d)
		return -errno;
	int removed = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		const char *dash = strrchr(e->d_name, '-');
		struct stat st;
		bool is_dir = e->d_type == DT_DIR ||
			      (e->d_type == DT_UNKNOWN &&
			       fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			       S_ISDIR(st.st_mode));
		if (!dash || dash == e->d_name || !dash[1] || !is_dir)
			continue;
		char *end;
		long idx = strtol(dash + 1, &end, 10);
		int len = (int)(dash - e->d_name);
		char why[8];
		if (*end || idx < 0 || idx > INT32_MAX ||
		    !topics_valid_name(e->d_name, len, why, 1))
			continue;
		struct topic *t = topics_find(ts, e->d_name, len);
		if ((t && idx < t->tp_partition_count && t->tp_parts[idx].pt_log) ||
		    keep(ctx, e->d_name, len, (int32_t)idx))
			continue;
		char dir[CONFIG_PATH_MAX + TOPIC_NAME_MAX + 16];
		snprintf(dir, sizeof(dir), "%s/%s", ts->ts_data_dir, e->d_name);
		topics_remove_dir(dir, "no replica of it is assigned here");
		removed++;
	}
	closedir(d);
	return removed;
}
