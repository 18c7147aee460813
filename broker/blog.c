/*
 * blog — one key=value line per event on stderr (format in blog.h).
 */
#include "blog.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int blog_min_level = BLOG_INFO;
static const char *const blog_names[] = {"debug", "info", "warn", "error"};

void blog_set_level(int level)
{
	blog_min_level = level;
}

int blog_enabled(int level)
{
	return level >= blog_min_level;
}

const char *blog_i64(char *buf, long long v)
{
	snprintf(buf, BLOG_I64_BUF, "%lld", v);
	return buf;
}

static size_t blog_put(char *line, size_t at, size_t cap, const char *s)
{
	size_t n = strlen(s);
	if (at + n >= cap)
		n = at < cap - 1 ? cap - 1 - at : 0;
	memcpy(line + at, s, n);
	return at + n;
}

static size_t blog_put_value(char *line, size_t at, size_t cap, const char *v)
{
	bool quote = *v == '\0' || strpbrk(v, " \t\"=\\\n") != NULL;
	if (!quote)
		return blog_put(line, at, cap, v);
	at = blog_put(line, at, cap, "\"");
	for (const char *c = v; *c && at < cap - 3; c++) {
		if (*c == '"' || *c == '\\')
			line[at++] = '\\';
		line[at++] = *c == '\n' ? ' ' : *c;
	}
	return blog_put(line, at, cap, "\"");
}

void blog(int level, const char *event, ...)
{
	if (!blog_enabled(level))
		return;
	char line[2048], ts[40];
	struct timespec now;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	size_t n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + n, sizeof(ts) - n, ".%03ldZ", now.tv_nsec / 1000000);
	size_t at = 0;
	at = blog_put(line, at, sizeof(line), "ts=");
	at = blog_put(line, at, sizeof(line), ts);
	at = blog_put(line, at, sizeof(line), " level=");
	at = blog_put(line, at, sizeof(line), blog_names[level & 3]);
	at = blog_put(line, at, sizeof(line), " event=");
	at = blog_put(line, at, sizeof(line), event);
	va_list ap;
	va_start(ap, event);
	for (const char *k = va_arg(ap, const char *); k; k = va_arg(ap, const char *)) {
		const char *v = va_arg(ap, const char *);
		at = blog_put(line, at, sizeof(line), " ");
		at = blog_put(line, at, sizeof(line), k);
		at = blog_put(line, at, sizeof(line), "=");
		at = blog_put_value(line, at, sizeof(line), v ? v : "");
	}
	va_end(ap);
	line[at++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, at);
	(void)w;
}
