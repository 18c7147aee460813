/*
 * blog — replogd's log lines: one line per event, key=value pairs, to
 * stderr, so operators can grep and scripts can parse:
 *
 *   ts=2026-11-28T00:12:03.123Z level=info event=listening addr=127.0.0.1:9092
 *
 * Values with spaces, quotes or '=' are double-quoted with \" and \\
 * escapes. The first pair after level is always event=<name>. Lines are
 * written with one write(2) each so concurrent writers never interleave.
 */
#ifndef REPLOG_BLOG_H
#define REPLOG_BLOG_H

#include <stdarg.h>

enum blog_level { BLOG_DEBUG = 0, BLOG_INFO, BLOG_WARN, BLOG_ERROR };

void blog_set_level(int level);
int blog_enabled(int level);

/* blog(level, event, "key", "value", ..., NULL): pairs of C strings. */
void blog(int level, const char *event, ...) __attribute__((sentinel));
/* Format one value into a static-free buffer for a pair (convenience for
 * numbers): returns buf. */
const char *blog_i64(char *buf, long long v);

#define BLOG_I64_BUF 24

#endif
