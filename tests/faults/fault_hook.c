/*
 * fault_hook — the storage fault injector of the test-only replogd-faults
 * binary (issue 8). Linked beside broker/main.c; never part of a shipped
 * program.
 *
 * At start (a constructor, before main), when REPLOG_FAULT_FILE is set in
 * the environment, it installs io_fault_hook (log/io.h). From then on every
 * data op the broker's I/O engine submits (writev, fdatasync, fsync) is
 * checked against the rules in that file; a matching op is not performed
 * and completes with the rule's error, as a failing disk would answer,
 * or is held until the rule is gone, as a stalled disk would do.
 *
 * The fault file, re-read at most every 20 ms (CLOCK_MONOTONIC), so a test
 * turns a fault on and off by rewriting it while the broker runs. Absent or
 * empty = no fault. One rule per line, blank lines and lines starting with
 * '#' ignored:
 *
 *   KIND [PATH_SUBSTRING]
 *
 *   KIND            fails                      with
 *   enospc          writev                     -ENOSPC  (disk full)
 *   eio-write       writev                     -EIO
 *   eio-fsync       fdatasync and fsync        -EIO
 *   hold-fsync      fdatasync and fsync        nothing yet: the op is held
 *                                              (IO_FAULT_HOLD, log/io.h) and
 *                                              runs once no rule holds it
 *
 *   PATH_SUBSTRING  only ops on descriptors whose path (readlink of
 *                   /proc/self/fd/N; a directory's path gets a trailing
 *                   '/') contains it, e.g. "/events-0/" for one partition
 *                   directory, its files and the directory itself. Without
 *                   it, every op of that kind fails.
 *
 * A line with an unknown KIND is reported once (event=fault_rule_ignored)
 * and ignored. Every change of the rules is logged (event=fault_rules
 * rules="..."), and the first op each rule set fails (event=fault_injected
 * with kind, op and file), so a test's log shows when the fault began.
 *
 * What consults the hook: every op of the broker's I/O engine (segment
 * writes, segment fdatasyncs, partition directory fsyncs) and the
 * metadata log's writes and fdatasyncs (broker/raftlog.c). What does not:
 * other plain syscalls (checkpoint files such as leader-epoch-checkpoint,
 * discarded/, compaction, index files, recovery at open).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "blog.h"
#include "io.h"

#define FAULT_RELOAD_MS	 20
#define FAULT_MAX_RULES	 16
#define FAULT_FILE_BYTES 4096

enum fault_kind { FK_ENOSPC, FK_EIO_WRITE, FK_EIO_FSYNC, FK_HOLD_FSYNC };

struct fault_rule {
	int fr_kind;	   /* enum fault_kind */
	char fr_path[512]; /* substring, "" = any descriptor */
};

static struct {
	pthread_mutex_t fs_lock;
	char fs_file[PATH_MAX];
	int64_t fs_loaded_ms;		/* when the file was last read; -1 never */
	char fs_text[FAULT_FILE_BYTES]; /* what it held then */
	struct fault_rule fs_rules[FAULT_MAX_RULES];
	int fs_nrules;
	bool fs_reported; /* the first injection of this rule set is logged */
} fs = {.fs_lock = PTHREAD_MUTEX_INITIALIZER, .fs_loaded_ms = -1};

static int64_t fault_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int fault_parse_kind(const char *word)
{
	if (strcmp(word, "enospc") == 0)
		return FK_ENOSPC;
	if (strcmp(word, "eio-write") == 0)
		return FK_EIO_WRITE;
	if (strcmp(word, "eio-fsync") == 0)
		return FK_EIO_FSYNC;
	if (strcmp(word, "hold-fsync") == 0)
		return FK_HOLD_FSYNC;
	return -1;
}

/* Parse fs.fs_text into fs.fs_rules. */
static void fault_parse(void)
{
	fs.fs_nrules = 0;
	char copy[FAULT_FILE_BYTES];
	snprintf(copy, sizeof(copy), "%s", fs.fs_text);
	char *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char kind[32], path[512];
		int n = sscanf(line, " %31s %511s", kind, path);
		if (n < 1 || kind[0] == '#')
			continue;
		int k = fault_parse_kind(kind);
		if (k < 0) {
			blog(BLOG_WARN, "fault_rule_ignored", "line", line, "file", fs.fs_file,
			     NULL);
			continue;
		}
		if (fs.fs_nrules == FAULT_MAX_RULES)
			break;
		struct fault_rule *r = &fs.fs_rules[fs.fs_nrules++];
		r->fr_kind = k;
		snprintf(r->fr_path, sizeof(r->fr_path), "%s", n == 2 ? path : "");
	}
}

/* Re-read the file when FAULT_RELOAD_MS have passed since the last read. */
static void fault_reload(void)
{
	int64_t now = fault_now_ms();
	if (fs.fs_loaded_ms >= 0 && now - fs.fs_loaded_ms < FAULT_RELOAD_MS)
		return;
	fs.fs_loaded_ms = now;
	char text[FAULT_FILE_BYTES];
	ssize_t len = 0;
	int fd = open(fs.fs_file, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		len = read(fd, text, sizeof(text) - 1);
		close(fd);
		if (len < 0)
			len = 0;
	}
	text[len] = '\0';
	if (strcmp(text, fs.fs_text) == 0)
		return;
	memcpy(fs.fs_text, text, (size_t)len + 1);
	fault_parse();
	fs.fs_reported = false;
	char b1[BLOG_I64_BUF];
	blog(BLOG_INFO, "fault_rules", "file", fs.fs_file, "rules", blog_i64(b1, fs.fs_nrules),
	     "text", fs.fs_text, NULL);
}

/* The descriptor's path, with a trailing '/' for a directory; "" if unknown. */
static void fault_fd_path(int fd, char *out, size_t cap)
{
	char link[64];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, out, cap - 2);
	if (n < 0)
		n = 0;
	out[n] = '\0';
	struct stat st;
	if (n > 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		out[n] = '/';
		out[n + 1] = '\0';
	}
}

static bool fault_rule_matches_op(const struct fault_rule *r, int code, int *err)
{
	switch (r->fr_kind) {
	case FK_ENOSPC:
		*err = -ENOSPC;
		return code == IO_OP_WRITEV;
	case FK_EIO_WRITE:
		*err = -EIO;
		return code == IO_OP_WRITEV;
	case FK_EIO_FSYNC:
		*err = -EIO;
		return code == IO_OP_FDATASYNC || code == IO_OP_FSYNC;
	case FK_HOLD_FSYNC:
		*err = IO_FAULT_HOLD;
		return code == IO_OP_FDATASYNC || code == IO_OP_FSYNC;
	default:
		return false;
	}
}

static int fault_hook(const struct io_op *op)
{
	static const char *const kinds[] = {"enospc", "eio-write", "eio-fsync", "hold-fsync"};
	int res = 0;
	pthread_mutex_lock(&fs.fs_lock);
	fault_reload();
	char path[PATH_MAX + 2];
	path[0] = '\0';
	bool have_path = false;
	for (int i = 0; i < fs.fs_nrules && res == 0; i++) {
		const struct fault_rule *r = &fs.fs_rules[i];
		int err;
		if (!fault_rule_matches_op(r, op->op_code, &err))
			continue;
		if (r->fr_path[0]) {
			if (!have_path) {
				fault_fd_path(op->op_fd, path, sizeof(path));
				have_path = true;
			}
			if (!strstr(path, r->fr_path))
				continue;
		}
		res = err;
		if (!fs.fs_reported) {
			fs.fs_reported = true;
			if (!have_path)
				fault_fd_path(op->op_fd, path, sizeof(path));
			blog(BLOG_WARN, "fault_injected", "kind", kinds[r->fr_kind], "op",
			     io_opcode_name(op->op_code), "file", path, NULL);
		}
	}
	pthread_mutex_unlock(&fs.fs_lock);
	return res;
}

__attribute__((constructor)) static void fault_hook_install(void)
{
	const char *file = getenv("REPLOG_FAULT_FILE");
	if (!file || !*file)
		return;
	snprintf(fs.fs_file, sizeof(fs.fs_file), "%s", file);
	io_fault_hook = fault_hook;
}
