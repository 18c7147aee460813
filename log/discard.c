/*
 * discard — preserving removed log bytes before they are removed (format
 * and protocol in discard.h).
 */
#include "discard.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "batch.h"
#include "checkpoint.h"
#include "rlerr.h"

static int open_discard_dir(int part_dir_fd)
{
	if (mkdirat(part_dir_fd, DISCARD_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	int fd = openat(part_dir_fd, DISCARD_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int discard_begin(struct discard_writer *dw, int part_dir_fd, const char *reason,
		  const char *detail, int64_t time_ms, int64_t first_offset, int64_t segment,
		  uint64_t position)
{
	*dw = (struct discard_writer){.dw_parent_fd = part_dir_fd, .dw_dir_fd = -1, .dw_fd = -1};
	struct discard_info *di = &dw->dw_info;
	snprintf(di->di_reason, sizeof(di->di_reason), "%s", reason);
	snprintf(di->di_detail, sizeof(di->di_detail), "%s", detail ? detail : "");
	/* The .meta file is one key=value per line: keep the detail on one. */
	for (char *c = di->di_detail; *c; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	di->di_time_ms = time_ms;
	di->di_first_offset = first_offset;
	di->di_next_offset = -1;
	di->di_epoch_min = di->di_epoch_max = -1;
	di->di_segment = segment;
	di->di_position = position;

	int dfd = open_discard_dir(part_dir_fd);
	if (dfd < 0)
		return dfd;
	dw->dw_dir_fd = dfd;
	/* Two discards in one millisecond from the same offset get a suffix. */
	for (int attempt = 0; attempt < 100; attempt++) {
		char file[DISCARD_NAME_MAX + 8];
		if (attempt == 0)
			snprintf(di->di_name, sizeof(di->di_name), "%020" PRId64 "-%" PRId64,
				 first_offset < 0 ? 0 : first_offset, time_ms);
		else
			snprintf(di->di_name, sizeof(di->di_name), "%020" PRId64 "-%" PRId64 ".%d",
				 first_offset < 0 ? 0 : first_offset, time_ms, attempt);
		snprintf(file, sizeof(file), "%s.log", di->di_name);
		dw->dw_fd = openat(dfd, file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (dw->dw_fd >= 0)
			return 0;
		if (errno != EEXIST)
			break;
	}
	int err = errno == EEXIST ? -EEXIST : -errno;
	close(dfd);
	dw->dw_dir_fd = -1;
	return err;
}

int discard_add(struct discard_writer *dw, const uint8_t *bytes, size_t len,
		const struct batch_header *h)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(dw->dw_fd, bytes + done, len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		done += (size_t)n;
	}
	struct discard_info *di = &dw->dw_info;
	di->di_bytes += len;
	if (h) {
		int32_t e = h->bh_partition_leader_epoch;
		if (di->di_batches == 0 && di->di_first_offset < 0)
			di->di_first_offset = h->bh_base_offset;
		di->di_batches++;
		di->di_next_offset = batch_next_offset(h);
		if (di->di_epoch_min < 0 || e < di->di_epoch_min)
			di->di_epoch_min = e;
		if (e > di->di_epoch_max)
			di->di_epoch_max = e;
	}
	return 0;
}

static int format_meta(const struct discard_info *di, char *buf, size_t cap)
{
	return snprintf(buf, cap,
			"reason=%s\ntime_ms=%" PRId64 "\nfirst_offset=%" PRId64
			"\nnext_offset=%" PRId64 "\nbatches=%u\nbytes=%" PRIu64
			"\nepoch_min=%d\nepoch_max=%d\nsegment=%" PRId64 "\nposition=%" PRIu64
			"\ndetail=%s\n",
			di->di_reason, di->di_time_ms, di->di_first_offset, di->di_next_offset,
			di->di_batches, di->di_bytes, di->di_epoch_min, di->di_epoch_max,
			di->di_segment, di->di_position, di->di_detail);
}

static void discard_close(struct discard_writer *dw)
{
	if (dw->dw_fd >= 0)
		close(dw->dw_fd);
	if (dw->dw_dir_fd >= 0)
		close(dw->dw_dir_fd);
	dw->dw_fd = dw->dw_dir_fd = -1;
}

int discard_commit(struct discard_writer *dw, struct discard_info *info)
{
	char meta[512], name[DISCARD_NAME_MAX + 8];
	int rc = fdatasync(dw->dw_fd) < 0 ? -errno : 0;
	if (rc == 0) {
		int n = format_meta(&dw->dw_info, meta, sizeof(meta));
		snprintf(name, sizeof(name), "%s.meta", dw->dw_info.di_name);
		rc = checkpoint_write(dw->dw_dir_fd, name, meta, (size_t)n);
	}
	/* checkpoint_write fsynced discarded/; the parent must know discarded/
	 * itself if this call created it. */
	if (rc == 0 && fsync(dw->dw_parent_fd) < 0)
		rc = -errno;
	if (rc < 0) {
		discard_abort(dw);
		return rc;
	}
	if (info)
		*info = dw->dw_info;
	discard_close(dw);
	return 0;
}

void discard_abort(struct discard_writer *dw)
{
	char name[DISCARD_NAME_MAX + 8];
	if (dw->dw_dir_fd >= 0) {
		snprintf(name, sizeof(name), "%s.log", dw->dw_info.di_name);
		unlinkat(dw->dw_dir_fd, name, 0);
		snprintf(name, sizeof(name), "%s.meta", dw->dw_info.di_name);
		unlinkat(dw->dw_dir_fd, name, 0);
	}
	discard_close(dw);
}

static int meta_field(const char *text, const char *key, char *out, size_t cap)
{
	size_t klen = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
			const char *v = p + klen + 1;
			size_t n = strcspn(v, "\n");
			if (n >= cap)
				n = cap - 1;
			memcpy(out, v, n);
			out[n] = '\0';
			return 0;
		}
	}
	return RL_ECORRUPT;
}

static int meta_i64(const char *text, const char *key, int64_t *v)
{
	char buf[32], *end;
	if (meta_field(text, key, buf, sizeof(buf)) < 0)
		return RL_ECORRUPT;
	*v = strtoll(buf, &end, 10);
	return end == buf || *end ? RL_ECORRUPT : 0;
}

int discard_parse_meta(const char *text, struct discard_info *di)
{
	int64_t batches, bytes, emin, emax, pos;
	memset(di, 0, sizeof(*di));
	if (meta_field(text, "reason", di->di_reason, sizeof(di->di_reason)) < 0 ||
	    meta_i64(text, "time_ms", &di->di_time_ms) < 0 ||
	    meta_i64(text, "first_offset", &di->di_first_offset) < 0 ||
	    meta_i64(text, "next_offset", &di->di_next_offset) < 0 ||
	    meta_i64(text, "batches", &batches) < 0 || meta_i64(text, "bytes", &bytes) < 0 ||
	    meta_i64(text, "epoch_min", &emin) < 0 || meta_i64(text, "epoch_max", &emax) < 0 ||
	    meta_i64(text, "segment", &di->di_segment) < 0 || meta_i64(text, "position", &pos) < 0)
		return RL_ECORRUPT;
	meta_field(text, "detail", di->di_detail, sizeof(di->di_detail));
	di->di_batches = (uint32_t)batches;
	di->di_bytes = (uint64_t)bytes;
	di->di_epoch_min = (int32_t)emin;
	di->di_epoch_max = (int32_t)emax;
	di->di_position = (uint64_t)pos;
	return 0;
}

/* The age of a discard from its .meta name, <offset>-<time ms>[.<n>].meta.
 * Returns false for a name not of that form. */
static bool discard_name_key(const char *name, int64_t *time_ms, int64_t *offset, long *n)
{
	char *end;
	*offset = strtoll(name, &end, 10);
	if (end == name || *end != '-')
		return false;
	const char *p = end + 1;
	*time_ms = strtoll(p, &end, 10);
	if (end == p)
		return false;
	*n = 0;
	if (*end == '.' && end[1] >= '0' && end[1] <= '9')
		*n = strtol(end + 1, &end, 10);
	return strcmp(end, ".meta") == 0;
}

/* Oldest first: by time, then offset, then the same-millisecond suffix.
 * Plain name order is not age order: names start with the offset (a later
 * truncation further back sorts first), and "x.1.meta" sorts before
 * "x.meta". Names of another form go last, by name. */
static int cmp_names(const void *a, const void *b)
{
	const char *na = *(char *const *)a, *nb = *(char *const *)b;
	int64_t ta, tb, oa, ob;
	long sa, sb;
	bool va = discard_name_key(na, &ta, &oa, &sa), vb = discard_name_key(nb, &tb, &ob, &sb);
	if (va != vb)
		return va ? -1 : 1;
	if (va) {
		if (ta != tb)
			return ta < tb ? -1 : 1;
		if (oa != ob)
			return oa < ob ? -1 : 1;
		if (sa != sb)
			return sa < sb ? -1 : 1;
	}
	return strcmp(na, nb);
}

int discard_list(int part_dir_fd, int (*fn)(void *ctx, const struct discard_info *info), void *ctx)
{
	int dfd = openat(part_dir_fd, DISCARD_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT ? 0 : -errno;
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -errno;
	}
	char **names = NULL;
	size_t count = 0, cap = 0;
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (n < 6 || strcmp(de->d_name + n - 5, ".meta") != 0)
			continue;
		if (count == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char **nn = realloc(names, ncap * sizeof(*nn));
			if (!nn) {
				rc = -ENOMEM;
				break;
			}
			names = nn;
			cap = ncap;
		}
		if (!(names[count] = strdup(de->d_name))) {
			rc = -ENOMEM;
			break;
		}
		count++;
	}
	if (rc == 0 && count > 1) /* names is NULL when count is 0: qsort's base is nonnull */
		qsort(names, count, sizeof(*names), cmp_names);
	int listed = 0;
	for (size_t i = 0; rc == 0 && i < count; i++) {
		char text[1024];
		struct discard_info di;
		if (checkpoint_read(dirfd(d), names[i], text, sizeof(text)) < 0 ||
		    discard_parse_meta(text, &di) < 0)
			continue; /* unreadable meta: listed by tools as damaged */
		snprintf(di.di_name, sizeof(di.di_name), "%.*s", (int)(strlen(names[i]) - 5),
			 names[i]);
		listed++;
		if (fn(ctx, &di))
			break;
	}
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc < 0 ? rc : listed;
}
