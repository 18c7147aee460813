/*
 * cleaner — background log compaction (API and invariants in cleaner.h).
 */
#include "cleaner.h"

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blog.h"
#include "broker.h"
#include "compact.h"
#include "config.h"
#include "partition.h"
#include "plog.h"
#include "rlerr.h"
#include "topics.h"

enum cleaner_state { CLEANER_IDLE, CLEANER_RUNNING, CLEANER_DONE };

struct cleaner {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	enum cleaner_state state;
	/* the job: set by the reactor while IDLE, read by the thread while
	 * RUNNING, read back by the reactor when DONE */
	char dir[PATH_MAX];
	char topic[TOPIC_NAME_MAX + 1];
	int32_t partition;
	int64_t upper;
	struct compact_config cfg;
	struct compact_plan plan;
	struct compact_result res;
	int rc;
	uint32_t next_topic; /* round robin over topics */
};

static void *cleaner_main(void *arg)
{
	struct cleaner *cl = arg;
	pthread_mutex_lock(&cl->mu);
	for (;;) {
		while (!cl->stop && cl->state != CLEANER_RUNNING)
			pthread_cond_wait(&cl->cv, &cl->mu);
		if (cl->stop)
			break;
		pthread_mutex_unlock(&cl->mu);
		/* Files only: nothing the reactor touches while RUNNING. */
		memset(&cl->res, 0, sizeof(cl->res));
		int rc = compact_plan(cl->dir, cl->upper, &cl->plan); /* >= 0: segments */
		if (rc > 0)
			rc = compact_run(cl->dir, &cl->plan, &cl->cfg, &cl->res);
		/* rc 0: no closed segment yet, nothing to do */
		pthread_mutex_lock(&cl->mu);
		cl->rc = rc;
		cl->state = CLEANER_DONE;
	}
	pthread_mutex_unlock(&cl->mu);
	return NULL;
}

int cleaner_start(struct broker *b)
{
	struct cleaner *cl = calloc(1, sizeof(*cl));
	if (!cl)
		return -1;
	pthread_mutex_init(&cl->mu, NULL);
	pthread_cond_init(&cl->cv, NULL);
	/* The thread must take no signal: the reactor reads them from a
	 * signalfd, and a signal delivered here would kill the process. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int prc = pthread_create(&cl->thread, NULL, cleaner_main, cl);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (prc != 0) {
		pthread_mutex_destroy(&cl->mu);
		pthread_cond_destroy(&cl->cv);
		free(cl);
		return -1;
	}
	b->b_cleaner = cl;
	return 0;
}

void cleaner_stop(struct broker *b)
{
	struct cleaner *cl = b->b_cleaner;
	if (!cl)
		return;
	pthread_mutex_lock(&cl->mu);
	cl->stop = true;
	pthread_cond_signal(&cl->cv);
	pthread_mutex_unlock(&cl->mu);
	pthread_join(cl->thread, NULL); /* a run in progress finishes first */
	if (cl->state == CLEANER_DONE)
		compact_plan_free(
			&cl->plan); /* leftover .cleaned files: the next open drops them */
	pthread_mutex_destroy(&cl->mu);
	pthread_cond_destroy(&cl->cv);
	free(cl);
	b->b_cleaner = NULL;
}

/* Swap in what the finished run rewrote. */
static void cleaner_finish(struct broker *b, struct cleaner *cl)
{
	struct partition *p =
		topics_partition(b->b_topics, cl->topic, (int)strlen(cl->topic), cl->partition);
	uint32_t swapped = 0;
	for (uint32_t i = 0; cl->rc == 0 && p && p->pt_log && i < cl->plan.cp_count; i++) {
		const struct compact_segment *cs = &cl->plan.cp_segs[i];
		if (!cs->cs_rewritten)
			continue;
		int rc = plog_swap_cleaned(p->pt_log, cs->cs_base_offset, cs->cs_size);
		swapped += rc == 0;
		if (rc < 0 && rc != -ENOENT && rc != -ESTALE)
			blog(BLOG_WARN, "compaction_swap_failed", "topic", cl->topic, "error",
			     rl_strerror(rc), NULL);
	}
	char part[BLOG_I64_BUF], before[BLOG_I64_BUF], after[BLOG_I64_BUF], kept[BLOG_I64_BUF],
		dropped[BLOG_I64_BUF], segs[BLOG_I64_BUF];
	if (cl->rc < 0)
		blog(BLOG_WARN, "compaction_failed", "topic", cl->topic, "partition",
		     blog_i64(part, cl->partition), "error", rl_strerror(cl->rc), NULL);
	else if (swapped == 0)
		blog(BLOG_DEBUG, "compaction_nothing_to_swap", "topic", cl->topic, "partition",
		     blog_i64(part, cl->partition), "segments", blog_i64(segs, cl->plan.cp_count),
		     "records_dropped", blog_i64(dropped, (int64_t)cl->res.cr_records_dropped),
		     "upper", blog_i64(kept, cl->plan.cp_upper_offset), NULL);
	else
		blog(BLOG_INFO, "compacted", "topic", cl->topic, "partition",
		     blog_i64(part, cl->partition), "segments", blog_i64(segs, swapped),
		     "bytes_before", blog_i64(before, (int64_t)cl->res.cr_bytes_before),
		     "bytes_after", blog_i64(after, (int64_t)cl->res.cr_bytes_after),
		     "records_kept", blog_i64(kept, (int64_t)cl->res.cr_records_kept),
		     "records_dropped", blog_i64(dropped, (int64_t)cl->res.cr_records_dropped),
		     NULL);
	compact_plan_free(&cl->plan);
	cl->state = CLEANER_IDLE;
}

/* The next compact partition hosted here whose turn has come. */
static struct partition *cleaner_next(struct broker *b, struct cleaner *cl, int64_t now)
{
	uint32_t n = topics_count(b->b_topics);
	for (uint32_t k = 0; k < n; k++) {
		struct topic *t = topics_at(b->b_topics, (cl->next_topic + k) % n);
		if (!t || t->tp_cfg.tc_cleanup_policy != CONFIG_CLEANUP_COMPACT)
			continue;
		for (int32_t i = 0; i < t->tp_partition_count; i++) {
			struct partition *p = &t->tp_parts[i];
			if (!p->pt_log || plog_error(p->pt_log))
				continue;
			if (now - p->pt_compacted_ms < b->b_cfg.bc_compaction_interval_ms)
				continue;
			cl->next_topic = (cl->next_topic + k + 1) % n;
			return p;
		}
	}
	return NULL;
}

void cleaner_tick(struct broker *b)
{
	struct cleaner *cl = b->b_cleaner;
	if (!cl)
		return;
	pthread_mutex_lock(&cl->mu);
	enum cleaner_state st = cl->state;
	pthread_mutex_unlock(&cl->mu);
	if (st == CLEANER_RUNNING)
		return;
	if (st == CLEANER_DONE)
		cleaner_finish(b, cl);
	int64_t now = b->b_reactor.re_now_ms;
	struct partition *p = cleaner_next(b, cl, now);
	if (!p)
		return;
	p->pt_compacted_ms = now;
	const struct topic *t = p->pt_topic;
	snprintf(cl->dir, sizeof(cl->dir), "%s", plog_dir(p->pt_log));
	snprintf(cl->topic, sizeof(cl->topic), "%s", t->tp_name);
	cl->partition = p->pt_index;
	cl->upper = p->pt_hw; /* committed data only: the tail may still be truncated */
	compact_config_default(&cl->cfg);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	cl->cfg.cc_now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	cl->cfg.cc_hash_seed = (uint64_t)b->b_cfg.bc_id * 0x9e3779b97f4a7c15ull + 1;
	pthread_mutex_lock(&cl->mu);
	cl->state = CLEANER_RUNNING;
	pthread_cond_signal(&cl->cv);
	pthread_mutex_unlock(&cl->mu);
}
