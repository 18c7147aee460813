/*
 * metrics_http — GET /metrics over HTTP/1.1 (contract in metrics_http.h).
 *
 * One operation in flight per connection (a receive, then sends until the
 * answer is out), one accept on the listener. A connection is freed only
 * when its operation has completed, so shutting a socket down is how to
 * end one early (deadline, stop).
 */
#include "metrics_http.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "blog.h"
#include "broker.h"
#include "metrics.h"
#include "reactor.h"

#define MHTTP_HEAD_MAX	  8192
#define MHTTP_CONNS_MAX	  32
#define MHTTP_DEADLINE_MS 5000

struct mhttp_conn {
	struct mhttp *mc_m;
	struct mhttp_conn *mc_next;
	int mc_fd;
	struct io_op mc_op;
	bool mc_inflight;
	bool mc_done; /* close once the operation in flight completes */
	char mc_head[MHTTP_HEAD_MAX];
	size_t mc_head_len;
	char *mc_out; /* the whole answer, headers and body */
	size_t mc_out_len, mc_sent;
	struct iovec mc_iov;
	struct msghdr mc_msg;
	struct timer mc_timer;
};

struct mhttp {
	struct broker *m_b;
	int m_fd;
	struct io_op m_accept;
	bool m_accept_inflight;
	bool m_stopping;
	struct mhttp_conn *m_conns;
	int m_nconns;
	uint64_t m_scrapes;
};

static void mhttp_maybe_accept(struct mhttp *m);

/* ---- connections ------------------------------------------------------ */

static void mhttp_conn_free(struct mhttp_conn *c)
{
	struct mhttp *m = c->mc_m;
	for (struct mhttp_conn **pp = &m->m_conns; *pp; pp = &(*pp)->mc_next)
		if (*pp == c) {
			*pp = c->mc_next;
			break;
		}
	m->m_nconns--;
	timer_cancel(&m->m_b->b_reactor.re_timers, &c->mc_timer);
	close(c->mc_fd);
	free(c->mc_out);
	free(c);
	mhttp_maybe_accept(m); /* room again */
}

/* End the connection: at once when idle, else when its operation ends. */
static void mhttp_conn_end(struct mhttp_conn *c)
{
	c->mc_done = true;
	if (!c->mc_inflight) {
		mhttp_conn_free(c);
		return;
	}
	shutdown(c->mc_fd, SHUT_RDWR);
	reactor_cancel_fd(&c->mc_m->m_b->b_reactor, c->mc_fd);
}

static void mhttp_on_deadline(struct timer *t)
{
	mhttp_conn_end(t->tm_ctx);
}

static void mhttp_sent(struct io_op *op, int res);

static void mhttp_send_more(struct mhttp_conn *c)
{
	c->mc_iov = (struct iovec){c->mc_out + c->mc_sent, c->mc_out_len - c->mc_sent};
	c->mc_msg = (struct msghdr){.msg_iov = &c->mc_iov, .msg_iovlen = 1};
	c->mc_op.op_done = mhttp_sent;
	c->mc_op.op_ctx = c;
	if (reactor_sendmsg(&c->mc_m->m_b->b_reactor, &c->mc_op, c->mc_fd, &c->mc_msg) == 0)
		c->mc_inflight = true;
	else
		mhttp_conn_end(c);
}

static void mhttp_sent(struct io_op *op, int res)
{
	struct mhttp_conn *c = op->op_ctx;
	c->mc_inflight = false;
	if (res <= 0 || c->mc_done) {
		mhttp_conn_end(c);
		return;
	}
	c->mc_sent += (size_t)res;
	if (c->mc_sent < c->mc_out_len)
		mhttp_send_more(c);
	else
		mhttp_conn_end(c);
}

/* status line + headers + body into mc_out (body malloc'd or a literal). */
static void mhttp_answer(struct mhttp_conn *c, int status, const char *reason, const char *type,
			 const char *body, size_t body_len)
{
	char head[256];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n",
			 status, reason, type, body_len);
	c->mc_out = malloc((size_t)n + body_len);
	if (!c->mc_out) {
		mhttp_conn_end(c);
		return;
	}
	memcpy(c->mc_out, head, (size_t)n);
	if (body_len)
		memcpy(c->mc_out + n, body, body_len);
	c->mc_out_len = (size_t)n + body_len;
	c->mc_sent = 0;
	mhttp_send_more(c);
}

static void mhttp_serve(struct mhttp_conn *c)
{
	static const char text[] = "text/plain; charset=utf-8";
	char method[16] = "", path[256] = "";
	if (sscanf(c->mc_head, "%15s %255s", method, path) != 2) {
		mhttp_answer(c, 400, "Bad Request", text, "bad request\n", 12);
		return;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		mhttp_answer(c, 405, "Method Not Allowed", text, "only GET\n", 9);
		return;
	}
	char *q = strchr(path, '?');
	if (q)
		*q = '\0';
	if (strcmp(path, "/metrics") != 0) {
		static const char nf[] = "not found: the metrics are at /metrics\n";
		mhttp_answer(c, 404, "Not Found", text, nf, sizeof(nf) - 1);
		return;
	}
	char *body = NULL;
	size_t len = 0;
	if (mt_render(c->mc_m->m_b, &body, &len) < 0) {
		mhttp_answer(c, 500, "Internal Server Error", text, "out of memory\n", 14);
		return;
	}
	c->mc_m->m_scrapes++;
	bool head_only = strcmp(method, "HEAD") == 0;
	mhttp_answer(c, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", body,
		     head_only ? 0 : len);
	free(body);
}

static void mhttp_received(struct io_op *op, int res);

static void mhttp_recv_more(struct mhttp_conn *c)
{
	c->mc_op.op_done = mhttp_received;
	c->mc_op.op_ctx = c;
	if (reactor_recv(&c->mc_m->m_b->b_reactor, &c->mc_op, c->mc_fd, c->mc_head + c->mc_head_len,
			 MHTTP_HEAD_MAX - 1 - c->mc_head_len) == 0)
		c->mc_inflight = true;
	else
		mhttp_conn_end(c);
}

static void mhttp_received(struct io_op *op, int res)
{
	struct mhttp_conn *c = op->op_ctx;
	c->mc_inflight = false;
	if (res <= 0 || c->mc_done) {
		mhttp_conn_end(c);
		return;
	}
	c->mc_head_len += (size_t)res;
	c->mc_head[c->mc_head_len] = '\0';
	if (strstr(c->mc_head, "\r\n\r\n") || strstr(c->mc_head, "\n\n")) {
		mhttp_serve(c);
		return;
	}
	if (c->mc_head_len >= MHTTP_HEAD_MAX - 1) {
		mhttp_answer(c, 431, "Request Header Fields Too Large", "text/plain", "", 0);
		return;
	}
	mhttp_recv_more(c);
}

/* ---- the listener ----------------------------------------------------- */

static void mhttp_accepted(struct io_op *op, int res)
{
	struct mhttp *m = op->op_ctx;
	m->m_accept_inflight = false;
	if (m->m_stopping) {
		if (res >= 0)
			close(res);
		return;
	}
	if (res >= 0) {
		struct mhttp_conn *c = calloc(1, sizeof(*c));
		if (!c) {
			close(res);
		} else {
			c->mc_m = m;
			c->mc_fd = res;
			c->mc_next = m->m_conns;
			m->m_conns = c;
			m->m_nconns++;
			timer_init(&c->mc_timer, mhttp_on_deadline, c);
			timer_arm(&m->m_b->b_reactor.re_timers, &c->mc_timer,
				  m->m_b->b_reactor.re_now_ms + MHTTP_DEADLINE_MS);
			mhttp_recv_more(c);
		}
	}
	mhttp_maybe_accept(m);
}

static void mhttp_maybe_accept(struct mhttp *m)
{
	if (m->m_accept_inflight || m->m_stopping || m->m_nconns >= MHTTP_CONNS_MAX)
		return;
	m->m_accept.op_done = mhttp_accepted;
	m->m_accept.op_ctx = m;
	if (reactor_accept(&m->m_b->b_reactor, &m->m_accept, m->m_fd) == 0)
		m->m_accept_inflight = true;
}

static int mhttp_listen(struct broker *b, const char *hostport)
{
	char host[CONFIG_HOSTPORT_MAX], port[16];
	uint16_t p;
	if (config_parse_hostport(hostport, host, sizeof(host), &p) < 0)
		return -EINVAL;
	snprintf(port, sizeof(port), "%u", p);
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *ai = NULL;
	int gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
	if (gai != 0)
		return -EADDRNOTAVAIL;
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1, err = 0;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0)
		err = -errno;
	freeaddrinfo(ai);
	(void)b;
	if (err) {
		if (fd >= 0)
			close(fd);
		return err;
	}
	return fd;
}

int mhttp_start(struct broker *b, struct mhttp **out)
{
	*out = NULL;
	const char *listen_at = b->b_cfg.bc_metrics_listen;
	if (!listen_at[0])
		return 0;
	struct mhttp *m = calloc(1, sizeof(*m));
	if (!m)
		return -1;
	m->m_b = b;
	m->m_fd = mhttp_listen(b, listen_at);
	if (m->m_fd < 0) {
		blog(BLOG_ERROR, "start_failed", "reason", "cannot listen for metrics",
		     "metrics_listen", listen_at, "error", strerror(-m->m_fd), NULL);
		free(m);
		return -1;
	}
	blog(BLOG_INFO, "metrics_listening", "metrics_listen", listen_at, "path", "/metrics", NULL);
	mhttp_maybe_accept(m);
	*out = m;
	return 0;
}

void mhttp_stop(struct mhttp *m)
{
	if (!m || m->m_stopping)
		return;
	m->m_stopping = true;
	shutdown(m->m_fd, SHUT_RDWR);
	reactor_cancel_fd(&m->m_b->b_reactor, m->m_fd);
	struct mhttp_conn *c = m->m_conns, *next;
	for (; c; c = next) {
		next = c->mc_next;
		mhttp_conn_end(c);
	}
}

int mhttp_idle(const struct mhttp *m)
{
	return !m || (!m->m_accept_inflight && m->m_conns == NULL);
}

void mhttp_free(struct mhttp *m)
{
	if (!m)
		return;
	m->m_stopping = true;
	while (m->m_conns) /* only after the reactor stopped: nothing completes */
		mhttp_conn_free(m->m_conns);
	close(m->m_fd);
	free(m);
}
