/*
 * partition — HW, waiters and watchers of one partition (see partition.h).
 */
#include "partition.h"

#include "kp_api.h"
#include "rlassert.h"

int64_t partition_durable_end(const struct partition *p)
{
	return p->pt_durability == CONFIG_DURABILITY_REPLICATED ? plog_written_offset(p->pt_log)
								: plog_flushed_offset(p->pt_log);
}

static void pwait_push(struct pwait_fifo *f, struct pwait *w)
{
	w->pw_next = NULL;
	if (f->pf_tail)
		f->pf_tail->pw_next = w;
	else
		f->pf_head = w;
	f->pf_tail = w;
}

/* Complete waiters whose target <= reached (or all with err != 0). */
static void pwait_release(struct pwait_fifo *f, int64_t reached, int err)
{
	while (f->pf_head && (err || f->pf_head->pw_target <= reached)) {
		struct pwait *w = f->pf_head;
		f->pf_head = w->pw_next;
		if (!f->pf_head)
			f->pf_tail = NULL;
		w->pw_next = NULL;
		w->pw_done(w, err);
	}
}

static void partition_wake_watchers(struct partition *p)
{
	/* A woken fetch may unwatch itself and others; walk a detached list. */
	struct pwatch *list = p->pt_watchers;
	p->pt_watchers = NULL;
	while (list) {
		struct pwatch *w = list;
		list = w->pwt_next;
		if (list)
			list->pwt_prev = NULL;
		w->pwt_next = w->pwt_prev = NULL;
		w->pwt_part = NULL;
		w->pwt_wake(w);
	}
}

bool partition_progress(struct partition *p)
{
	if (plog_error(p->pt_log)) {
		if (!p->pt_storage_error) {
			p->pt_storage_error = KP_ERR_KAFKA_STORAGE_ERROR;
			partition_fail_all(p, KP_ERR_KAFKA_STORAGE_ERROR);
		}
		return true;
	}
	pwait_release(&p->pt_wait_written, plog_written_offset(p->pt_log), 0);
	pwait_release(&p->pt_wait_flushed, plog_flushed_offset(p->pt_log), 0);
	int64_t written = plog_written_offset(p->pt_log);
	if (written != p->pt_written_seen) {
		p->pt_written_seen = written;
		partition_wake_watchers(p);
	}
	return false;
}

void partition_hw_moved(struct partition *p)
{
	if (p->pt_isr.ip_hw <= p->pt_hw)
		return;
	p->pt_hw = p->pt_isr.ip_hw;
	partition_wake_watchers(p);
}

void partition_wait_written(struct partition *p, struct pwait *w)
{
	if (plog_written_offset(p->pt_log) >= w->pw_target) {
		w->pw_done(w, 0);
		return;
	}
	pwait_push(&p->pt_wait_written, w);
}

void partition_wait_flushed(struct partition *p, struct pwait *w)
{
	if (plog_flushed_offset(p->pt_log) >= w->pw_target) {
		w->pw_done(w, 0);
		return;
	}
	pwait_push(&p->pt_wait_flushed, w);
}

static void pwait_remove(struct pwait_fifo *f, struct pwait *w)
{
	struct pwait *prev = NULL;
	for (struct pwait *x = f->pf_head; x; prev = x, x = x->pw_next) {
		if (x != w)
			continue;
		if (prev)
			prev->pw_next = x->pw_next;
		else
			f->pf_head = x->pw_next;
		if (f->pf_tail == x)
			f->pf_tail = prev;
		x->pw_next = NULL;
		return;
	}
}

void partition_cancel_wait(struct partition *p, struct pwait *w)
{
	pwait_remove(&p->pt_wait_written, w);
	pwait_remove(&p->pt_wait_flushed, w);
}

void partition_watch(struct partition *p, struct pwatch *w)
{
	RL_ASSERT(w->pwt_part == NULL);
	w->pwt_part = p;
	w->pwt_prev = NULL;
	w->pwt_next = p->pt_watchers;
	if (p->pt_watchers)
		p->pt_watchers->pwt_prev = w;
	p->pt_watchers = w;
}

void partition_unwatch(struct pwatch *w)
{
	struct partition *p = w->pwt_part;
	if (!p)
		return;
	if (w->pwt_prev)
		w->pwt_prev->pwt_next = w->pwt_next;
	else
		p->pt_watchers = w->pwt_next;
	if (w->pwt_next)
		w->pwt_next->pwt_prev = w->pwt_prev;
	w->pwt_prev = w->pwt_next = NULL;
	w->pwt_part = NULL;
}

void partition_fail_all(struct partition *p, int err)
{
	pwait_release(&p->pt_wait_written, 0, err);
	pwait_release(&p->pt_wait_flushed, 0, err);
	partition_wake_watchers(p);
}

int partition_checkpoint_hw(struct partition *p)
{
	if (p->pt_hw == p->pt_hw_checkpointed)
		return 0;
	int rc = plog_checkpoint_hw(p->pt_log, p->pt_hw);
	if (rc == 0)
		p->pt_hw_checkpointed = p->pt_hw;
	return rc;
}
