/*
 * checkpoint — atomic replacement of small state files (see checkpoint.h).
 */
#include "checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rlerr.h"

int checkpoint_write_file(int dir_fd, const char *name, const void *buf, size_t len, bool sync)
{
	int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	size_t done = 0;
	int rc = 0;
	while (done < len) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		done += (size_t)n;
	}
	if (rc == 0 && sync && fdatasync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	return rc;
}

int checkpoint_write(int dir_fd, const char *name, const char *text, size_t len)
{
	char tmp[NAME_MAX + 1];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", name) >= sizeof(tmp))
		return -ENAMETOOLONG;
	int rc = checkpoint_write_file(dir_fd, tmp, text, len, true);
	if (rc == 0 && renameat(dir_fd, tmp, dir_fd, name) < 0)
		rc = -errno;
	if (rc == 0 && fsync(dir_fd) < 0)
		rc = -errno;
	if (rc < 0)
		unlinkat(dir_fd, tmp, 0);
	return rc;
}

int checkpoint_read(int dir_fd, const char *name, char *buf, size_t cap)
{
	if (cap == 0)
		return RL_ETOO_LARGE;
	int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t got = 0;
	int rc = 0;
	for (;;) {
		if (got + 1 >= cap) {
			char extra;
			ssize_t n = read(fd, &extra, 1);
			rc = n > 0 ? RL_ETOO_LARGE : 0;
			break;
		}
		ssize_t n = read(fd, buf + got, cap - 1 - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (rc < 0)
		return rc;
	buf[got] = '\0';
	return (int)got;
}

int checkpoint_write_i64(int dir_fd, const char *name, int64_t value)
{
	char text[64];
	int n = snprintf(text, sizeof(text), "0\n1\n%" PRId64 "\n", value);
	return checkpoint_write(dir_fd, name, text, (size_t)n);
}

int checkpoint_read_i64(int dir_fd, const char *name, int64_t *value)
{
	char text[128];
	int n = checkpoint_read(dir_fd, name, text, sizeof(text));
	if (n == -ENOENT)
		return 0;
	if (n == RL_ETOO_LARGE)
		return RL_ECORRUPT; /* longer than any valid HW file: malformed */
	if (n < 0)
		return n;
	long long version, count, v;
	char tail;
	if (sscanf(text, "%lld\n%lld\n%lld\n%c", &version, &count, &v, &tail) != 3 ||
	    version != 0 || count != 1)
		return RL_ECORRUPT;
	*value = v;
	return 1;
}
