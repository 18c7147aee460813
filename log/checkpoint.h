/*
 * checkpoint — small state files replaced atomically: write `<name>.tmp`,
 * fdatasync it, rename over `<name>`, fsync the directory. A reader sees
 * either the old content or the new, never a mix, even across a power loss.
 *
 * Used for the high-watermark checkpoint and the leader-epoch checkpoint.
 * The format of both follows Kafka's checkpoint files: a version line, a
 * count line, then one entry per line:
 *
 *   0            version
 *   1            number of entries
 *   1234         the entry (for the HW file: the high watermark)
 *
 * These writes are synchronous: they happen on leadership changes and on a
 * timer, not per request.
 */
#ifndef REPLOG_CHECKPOINT_H
#define REPLOG_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CHECKPOINT_HW_NAME "high-watermark-checkpoint"

/* Returns 0 or -errno. */
int checkpoint_write(int dir_fd, const char *name, const char *text, size_t len);

/* Replace `name` in place (not atomically): create or truncate, write all of
 * buf (short writes and EINTR retried), fdatasync when `sync`. For files
 * that are checked when read back, such as segment indexes. Returns 0 or
 * -errno. */
int checkpoint_write_file(int dir_fd, const char *name, const void *buf, size_t len, bool sync);
/* Reads up to cap-1 bytes and NUL-terminates. Returns the length, -ENOENT
 * when the file does not exist, RL_ETOO_LARGE when it does not fit, or
 * -errno. */
int checkpoint_read(int dir_fd, const char *name, char *buf, size_t cap);

/* A one-entry checkpoint holding one int64 (the HW file). */
int checkpoint_write_i64(int dir_fd, const char *name, int64_t value);
/* Returns 1 with *value, 0 when missing, RL_ECORRUPT when malformed. */
int checkpoint_read_i64(int dir_fd, const char *name, int64_t *value);

#endif
