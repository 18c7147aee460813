/*
 * rl_core — connections, the poll loop and metadata (API in rl_core.h).
 */
#include "rl_core.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kp_api.h"
#include "batch.h"
#include "kp_codec.h"

#define RL_ARENA_RATIO 24
#define RL_ARENA_BASE  (64 << 10)
#define RL_READ_CHUNK  (256 << 10)

int64_t rl_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int rl_fail(struct replog_error *err, int code, int kafka_code, const char *fmt, ...)
{
	if (err) {
		err->code = code;
		err->kafka_code = kafka_code;
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
		va_end(ap);
	}
	return code;
}

bool rl_kafka_retriable(int kerr)
{
	switch (kerr) {
	case KP_ERR_UNKNOWN_TOPIC_OR_PARTITION:
	case KP_ERR_LEADER_NOT_AVAILABLE:
	case KP_ERR_NOT_LEADER_OR_FOLLOWER:
	case KP_ERR_REQUEST_TIMED_OUT:
	case KP_ERR_BROKER_NOT_AVAILABLE:
	case KP_ERR_REPLICA_NOT_AVAILABLE:
	case KP_ERR_NETWORK_EXCEPTION:
	case KP_ERR_NOT_ENOUGH_REPLICAS:
	case KP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
	case KP_ERR_NOT_CONTROLLER:
	case 56: /* KAFKA_STORAGE_ERROR */
	case 74: /* FENCED_LEADER_EPOCH */
	case 75: /* UNKNOWN_LEADER_EPOCH */
		return true;
	default:
		return false;
	}
}

/* ---- connections ---------------------------------------------------------- */

static struct rl_conn *rl_conn_new(int32_t id, const char *addr)
{
	struct rl_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->id = id;
	c->fd = -1;
	c->next_corr = 1;
	snprintf(c->addr, sizeof(c->addr), "%s", addr);
	return c;
}

static void rl_conn_free(struct rl_conn *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	free(c->in);
	free(c->arena_mem);
	free(c);
}

/* Fail every request on c with err and close it; reconnect after a backoff. */
static void rl_conn_fail(struct rl_conn *c, int err, const char *why)
{
	snprintf(c->last_error, sizeof(c->last_error), "%s: %s", c->addr, why);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = RL_CONN_DOWN;
	c->out_len = c->out_off = 0;
	c->in_len = 0;
	c->failures++;
	int64_t backoff = RL_RECONNECT_BACKOFF << (c->failures < 4 ? c->failures - 1 : 3);
	c->retry_at_ms = rl_now_ms() + backoff;
	/* Callbacks may queue new requests on c: take the ring first. */
	struct rl_pending ring[RL_RING];
	int head = c->ring_head, count = c->ring_count;
	memcpy(ring, c->ring, sizeof(ring));
	c->ring_head = c->ring_count = 0;
	for (int i = 0; i < count; i++) {
		struct rl_pending *p = &ring[(head + i) % RL_RING];
		p->cb(p->ctx, err, NULL);
	}
}

static int rl_split_addr(const char *addr, char *host, size_t hcap, char *port, size_t pcap)
{
	const char *colon = strrchr(addr, ':');
	if (!colon || colon == addr || !colon[1])
		return -1;
	const char *h = addr;
	size_t hlen = (size_t)(colon - addr);
	if (h[0] == '[' && hlen >= 2 && h[hlen - 1] == ']') {
		h++;
		hlen -= 2;
	}
	if (hlen >= hcap || strlen(colon + 1) >= pcap)
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	snprintf(port, pcap, "%s", colon + 1);
	return 0;
}

static int rl_conn_start(struct rl_conn *c)
{
	char host[RL_ADDR_MAX], port[16];
	if (rl_split_addr(c->addr, host, sizeof(host), port, sizeof(port)) < 0) {
		rl_conn_fail(c, REPLOG_ERR_ARG, "not HOST:PORT");
		return -1;
	}
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	if (getaddrinfo(host, port, &hints, &res) != 0 || !res) {
		rl_conn_fail(c, REPLOG_ERR_TRANSPORT, "cannot resolve the host");
		return -1;
	}
	int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		freeaddrinfo(res);
		rl_conn_fail(c, REPLOG_ERR_TRANSPORT, strerror(errno));
		return -1;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	int rc = connect(fd, res->ai_addr, res->ai_addrlen);
	int e = errno;
	freeaddrinfo(res);
	c->fd = fd;
	if (rc < 0 && e != EINPROGRESS) {
		rl_conn_fail(c, REPLOG_ERR_TRANSPORT, strerror(e));
		return -1;
	}
	c->state = rc == 0 ? RL_CONN_UP : RL_CONN_CONNECTING;
	return 0;
}

bool rl_conn_usable(const struct rl_conn *c, int64_t now)
{
	return c->state != RL_CONN_DOWN || now >= c->retry_at_ms;
}

static int rl_out_reserve(struct rl_conn *c, size_t more)
{
	if (c->out_off > 0 && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_len + more <= c->out_cap)
		return 0;
	if (c->out_off > 0) { /* compact first */
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
		if (c->out_len + more <= c->out_cap)
			return 0;
	}
	size_t cap = c->out_cap ? c->out_cap : 64 << 10;
	while (cap < c->out_len + more)
		cap *= 2;
	uint8_t *n = realloc(c->out, cap);
	if (!n)
		return -ENOMEM;
	c->out = n;
	c->out_cap = cap;
	return 0;
}

/* Bytes a request probably needs: its record sets plus room for the rest. */
static size_t rl_request_size_hint(int16_t api_key, const union kp_request_body *req)
{
	size_t n = 16 << 10;
	if (api_key != KP_API_PRODUCE)
		return n;
	for (int32_t t = 0; t < req->produce.topic_data_count; t++) {
		const struct kp_produce_topic_data *td = &req->produce.topic_data[t];
		n += (size_t)td->name.len + 64;
		for (int32_t p = 0; p < td->partition_data_count; p++)
			n += (size_t)(td->partition_data[p].records.len > 0
					      ? td->partition_data[p].records.len
					      : 0) +
			     32;
	}
	return n;
}

int rl_conn_request(struct rl_client *cl, struct rl_conn *c, int16_t api_key, int16_t version,
		    const union kp_request_body *req, rl_resp_cb cb, void *ctx)
{
	if (c->ring_count >= RL_RING)
		return -EAGAIN;
	if (c->state == RL_CONN_DOWN) {
		if (rl_now_ms() < c->retry_at_ms)
			return -EAGAIN;
		if (rl_conn_start(c) < 0)
			return -ECONNREFUSED;
	}
	int32_t corr = c->next_corr++;
	struct kp_request_header h = {
		.request_api_key = api_key,
		.request_api_version = version,
		.correlation_id = corr,
		.client_id = kp_str_from_cstr(cl->cfg.client_id),
	};
	/* Encode in place at the end of the output buffer: no copy of the
	 * record batches beyond the one into it. Room is guessed from the
	 * records' sizes and doubled until the request fits. */
	size_t room = rl_request_size_hint(api_key, req);
	int rc;
	for (;;) {
		rc = rl_out_reserve(c, room);
		if (rc < 0)
			return rc;
		struct kp_writer w;
		kp_writer_init_fixed(&w, c->out + c->out_len, c->out_cap - c->out_len);
		rc = kp_request_encode(&w, &h, req);
		if (rc == 0) {
			c->out_len += w.kw_len;
			break;
		}
		if (rc != KP_ETOO_LARGE || room >= RL_MAX_REQUEST)
			return rc;
		room = c->out_cap - c->out_len + 1 > room * 2 ? c->out_cap - c->out_len + 1
							      : room * 2;
	}
	bool acks0 = api_key == KP_API_PRODUCE && req->produce.acks == 0;
	struct rl_pending *p = &c->ring[(c->ring_head + c->ring_count) % RL_RING];
	*p = (struct rl_pending){
		.corr = acks0 ? -1 : corr,
		.api_key = api_key,
		.version = version,
		.deadline_ms = rl_now_ms() + cl->cfg.request_timeout_ms,
		.cb = cb,
		.ctx = ctx,
	};
	c->ring_count++;
	return 0;
}

/* Requests that expect no answer (Produce acks 0) are done once sent. */
static void rl_conn_complete_unanswered(struct rl_conn *c)
{
	while (c->ring_count > 0 && c->ring[c->ring_head].corr < 0 && c->out_off == c->out_len) {
		struct rl_pending p = c->ring[c->ring_head];
		c->ring_head = (c->ring_head + 1) % RL_RING;
		c->ring_count--;
		p.cb(p.ctx, 0, NULL);
	}
}

static void rl_conn_write(struct rl_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			c->out_off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		rl_conn_fail(c, REPLOG_ERR_TRANSPORT,
			     n < 0 ? strerror(errno) : "connection closed while sending");
		return;
	}
	rl_conn_complete_unanswered(c);
}

/* Decode and dispatch one response frame (body after the size prefix). */
static int rl_conn_dispatch(struct rl_conn *c, uint8_t *frame, size_t len)
{
	/* Unanswered requests before this one are complete: their bytes went out. */
	while (c->ring_count > 0 && c->ring[c->ring_head].corr < 0) {
		struct rl_pending p = c->ring[c->ring_head];
		c->ring_head = (c->ring_head + 1) % RL_RING;
		c->ring_count--;
		p.cb(p.ctx, 0, NULL);
	}
	if (c->ring_count == 0) {
		rl_conn_fail(c, REPLOG_ERR_PROTOCOL, "a response to no request");
		return -1;
	}
	struct rl_pending p = c->ring[c->ring_head];
	size_t need = len * RL_ARENA_RATIO + RL_ARENA_BASE;
	if (c->arena_cap < need) {
		free(c->arena_mem);
		c->arena_mem = malloc(need);
		c->arena_cap = c->arena_mem ? need : 0;
		if (!c->arena_mem) {
			rl_conn_fail(c, REPLOG_ERR_NOMEM, "no memory for a response");
			return -1;
		}
	}
	struct kp_arena arena;
	kp_arena_init(&arena, c->arena_mem, need);
	struct kp_reader r;
	kp_reader_init(&r, frame, len, &arena);
	struct kp_response_header rh;
	union kp_response_body body;
	memset(&body, 0, sizeof(body));
	int rc = kp_response_decode(&r, p.api_key, p.version, &rh, &body);
	if (rc == KP_ETRAILING)
		rc = 0;
	if (rc < 0 || rh.correlation_id != p.corr) {
		char why[128];
		snprintf(why, sizeof(why), "undecodable %s response (%s)", kp_api_name(p.api_key),
			 rc < 0 ? kp_strerror(rc) : "wrong correlation id");
		rl_conn_fail(c, REPLOG_ERR_PROTOCOL, why);
		return -1;
	}
	c->ring_head = (c->ring_head + 1) % RL_RING;
	c->ring_count--;
	c->failures = 0;
	p.cb(p.ctx, 0, &body);
	return 0;
}

static void rl_conn_read(struct rl_conn *c)
{
	for (int rounds = 0; rounds < 64 && c->fd >= 0; rounds++) {
		if (c->in_cap - c->in_len < RL_READ_CHUNK) {
			size_t cap = c->in_cap ? c->in_cap * 2 : RL_READ_CHUNK * 2;
			uint8_t *n = realloc(c->in, cap);
			if (!n) {
				rl_conn_fail(c, REPLOG_ERR_NOMEM, "no memory to read");
				return;
			}
			c->in = n;
			c->in_cap = cap;
		}
		ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
		if (n == 0) {
			rl_conn_fail(c, REPLOG_ERR_TRANSPORT, "the broker closed the connection");
			return;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				rl_conn_fail(c, REPLOG_ERR_TRANSPORT, strerror(errno));
			return;
		}
		c->in_len += (size_t)n;
		size_t pos = 0;
		while (c->in_len - pos >= 4) {
			uint32_t size = be32_load(c->in + pos);
			if (size > RL_MAX_RESPONSE) {
				rl_conn_fail(c, REPLOG_ERR_PROTOCOL,
					     "a response frame above 64 MiB");
				return;
			}
			if (c->in_len - pos - 4 < size)
				break;
			if (rl_conn_dispatch(c, c->in + pos + 4, size) < 0)
				return;
			pos += 4 + size;
		}
		if (c->fd < 0)
			return;
		memmove(c->in, c->in + pos, c->in_len - pos);
		c->in_len -= pos;
		if ((size_t)n < RL_READ_CHUNK)
			return;
	}
}

static void rl_conn_io(struct rl_conn *c, short revents)
{
	if (c->state == RL_CONN_CONNECTING) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
		if (soerr) {
			rl_conn_fail(c, REPLOG_ERR_TRANSPORT,
				     soerr == ECONNREFUSED
					     ? "connection refused (is the broker running?)"
					     : strerror(soerr));
			return;
		}
		if (!(revents & (POLLOUT | POLLIN | POLLHUP | POLLERR)))
			return;
		c->state = RL_CONN_UP;
	}
	if (revents & (POLLIN | POLLHUP | POLLERR))
		rl_conn_read(c);
	if (c->fd >= 0 && c->out_off < c->out_len)
		rl_conn_write(c);
}

/* ---- the client ----------------------------------------------------------- */

void replog_config_init(struct replog_config *cfg)
{
	*cfg = (struct replog_config){
		.bootstrap = "127.0.0.1:9092",
		.client_id = "libreplog",
		.request_timeout_ms = 30000,
		.metadata_max_age_ms = 30000,
		.retry_backoff_ms = 100,
		.acks = -1,
		.linger_ms = 5,
		.batch_bytes = 256 << 10,
		.compression = REPLOG_COMPRESSION_NONE,
		.max_in_flight = 5,
		.buffer_bytes = 64 << 20,
		.max_block_ms = 60000,
		.delivery_timeout_ms = 120000,
		.auto_create_topics = false,
		.fetch_max_wait_ms = 500,
		.fetch_max_bytes = 1 << 20,
		.fetch_from = REPLOG_FETCH_LEADER,
		.preferred_replica = -1,
		.read_your_writes_fallback_ms = 1000,
	};
}

static int rl_check_config(const struct replog_config *c, struct replog_error *err)
{
#define RL_RANGE(f, lo, hi)                                                                        \
	do {                                                                                       \
		if ((int64_t)c->f < (lo) || (int64_t)c->f > (hi))                                  \
			return rl_fail(err, REPLOG_ERR_ARG, 0,                                     \
				       "config " #f " is %lld; it must be %lld..%lld",             \
				       (long long)c->f, (long long)(lo), (long long)(hi));         \
	} while (0)
	RL_RANGE(request_timeout_ms, 1, 3600000);
	RL_RANGE(metadata_max_age_ms, 100, 86400000);
	RL_RANGE(retry_backoff_ms, 1, 60000);
	RL_RANGE(acks, -1, 1);
	RL_RANGE(linger_ms, 0, 60000);
	RL_RANGE(batch_bytes, 1024, 16 << 20);
	RL_RANGE(max_in_flight, 1, RL_RING / 2);
	RL_RANGE(buffer_bytes, 1 << 16, (int64_t)1 << 40);
	RL_RANGE(max_block_ms, 0, 3600000);
	RL_RANGE(delivery_timeout_ms, 1, 86400000);
	RL_RANGE(fetch_max_wait_ms, 0, 60000);
	RL_RANGE(fetch_max_bytes, 1024, 64 << 20);
	RL_RANGE(fetch_from, 0, 1);
	RL_RANGE(read_your_writes_fallback_ms, 0, 3600000);
#undef RL_RANGE
	if (c->compression != REPLOG_COMPRESSION_NONE && c->compression != REPLOG_COMPRESSION_ZSTD)
		return rl_fail(err, REPLOG_ERR_ARG, 0,
			       "config compression is %d; it must be NONE (0) or ZSTD (4)",
			       c->compression);
	return REPLOG_OK;
}

int rl_client_init(struct rl_client *cl, const struct replog_config *cfg, struct replog_error *err)
{
	memset(cl, 0, sizeof(*cl));
	cl->controller = -1;
	if (err)
		memset(err, 0, sizeof(*err));
	if (!cfg)
		return rl_fail(err, REPLOG_ERR_ARG, 0, "no config given");
	int rc = rl_check_config(cfg, err);
	if (rc)
		return rc;
	cl->cfg = *cfg;
	cl->bootstrap_copy = strdup(cfg->bootstrap ? cfg->bootstrap : "127.0.0.1:9092");
	cl->client_id_copy = strdup(cfg->client_id ? cfg->client_id : "libreplog");
	if (!cl->bootstrap_copy || !cl->client_id_copy) {
		rl_client_deinit(cl);
		return rl_fail(err, REPLOG_ERR_NOMEM, 0, "out of memory");
	}
	cl->cfg.bootstrap = cl->bootstrap_copy;
	cl->cfg.client_id = cl->client_id_copy;
	char *list = strdup(cl->bootstrap_copy), *save = NULL;
	if (!list) {
		rl_client_deinit(cl);
		return rl_fail(err, REPLOG_ERR_NOMEM, 0, "out of memory");
	}
	for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char host[RL_ADDR_MAX], port[16];
		if (cl->nbootstrap == RL_MAX_BOOTSTRAP ||
		    rl_split_addr(tok, host, sizeof(host), port, sizeof(port)) < 0 ||
		    atoi(port) <= 0 || atoi(port) > 65535) {
			rc = rl_fail(
				err, REPLOG_ERR_ARG, 0,
				"bootstrap \"%s\": \"%s\" is not HOST:PORT (at most %d servers)",
				cl->bootstrap_copy, tok, RL_MAX_BOOTSTRAP);
			free(list);
			rl_client_deinit(cl);
			return rc;
		}
		snprintf(cl->bootstrap[cl->nbootstrap], RL_ADDR_MAX, "%s", tok);
		struct rl_conn *c = rl_conn_new(-1 - cl->nbootstrap, tok);
		if (!c) {
			free(list);
			rl_client_deinit(cl);
			return rl_fail(err, REPLOG_ERR_NOMEM, 0, "out of memory");
		}
		cl->conns[cl->nconns++] = c;
		cl->nbootstrap++;
	}
	free(list);
	if (cl->nbootstrap == 0) {
		rl_client_deinit(cl);
		return rl_fail(err, REPLOG_ERR_ARG, 0, "no bootstrap server given");
	}
	return REPLOG_OK;
}

static void rl_topic_free(struct rl_topic_meta *t)
{
	free(t->parts);
	free(t);
}

void rl_client_deinit(struct rl_client *cl)
{
	for (int i = 0; i < cl->nconns; i++)
		rl_conn_free(cl->conns[i]);
	cl->nconns = 0;
	for (struct rl_topic_meta *t = cl->topics, *n; t; t = n) {
		n = t->next;
		rl_topic_free(t);
	}
	cl->topics = NULL;
	free(cl->bootstrap_copy);
	free(cl->client_id_copy);
	cl->bootstrap_copy = cl->client_id_copy = NULL;
}

void rl_client_fail_all(struct rl_client *cl, int err, const char *why)
{
	for (int i = 0; i < cl->nconns; i++)
		if (cl->conns[i]->ring_count > 0 || cl->conns[i]->fd >= 0)
			rl_conn_fail(cl->conns[i], err, why);
}

struct rl_conn *rl_client_conn(struct rl_client *cl, int32_t id)
{
	for (int i = 0; i < cl->nconns; i++)
		if (cl->conns[i]->id == id)
			return cl->conns[i];
	return NULL;
}

/* Fail requests past their deadline: the connection is failed as a whole,
 * since the answers behind it would arrive out of turn otherwise. */
static void rl_client_expire(struct rl_client *cl, int64_t now)
{
	for (int i = 0; i < cl->nconns; i++) {
		struct rl_conn *c = cl->conns[i];
		if (c->ring_count > 0 && c->ring[c->ring_head].deadline_ms <= now) {
			char why[96];
			snprintf(why, sizeof(why), "no %s response within %d ms",
				 kp_api_name(c->ring[c->ring_head].api_key),
				 cl->cfg.request_timeout_ms);
			rl_conn_fail(c, REPLOG_ERR_TIMEOUT, why);
		}
	}
}

int rl_client_poll(struct rl_client *cl, int timeout_ms)
{
	struct pollfd pfd[RL_MAX_BROKERS + RL_MAX_BOOTSTRAP];
	struct rl_conn *who[RL_MAX_BROKERS + RL_MAX_BOOTSTRAP];
	int n = 0;
	int64_t now = rl_now_ms();
	int64_t wake = now + timeout_ms;
	for (int i = 0; i < cl->nconns; i++) {
		struct rl_conn *c = cl->conns[i];
		if (c->fd < 0)
			continue;
		short ev = POLLIN;
		if (c->state == RL_CONN_CONNECTING || c->out_off < c->out_len)
			ev |= POLLOUT;
		pfd[n] = (struct pollfd){.fd = c->fd, .events = ev};
		who[n++] = c;
		if (c->ring_count > 0 && c->ring[c->ring_head].deadline_ms < wake)
			wake = c->ring[c->ring_head].deadline_ms;
	}
	int wait = wake > now ? (int)(wake - now) : 0;
	int rc = poll(pfd, (nfds_t)n, wait);
	if (rc < 0)
		return errno == EINTR ? -EINTR : -errno;
	for (int i = 0; i < n && rc > 0; i++)
		if (pfd[i].revents && who[i]->fd == pfd[i].fd)
			rl_conn_io(who[i], pfd[i].revents);
	rl_client_expire(cl, rl_now_ms());
	return 0;
}

/* ---- synchronous calls ---------------------------------------------------- */

struct rl_call_state {
	bool done;
	int err;
	rl_take_cb take;
	void *ctx;
	struct replog_error *rerr;
	int take_rc;
};

static void rl_call_done(void *ctx, int err, const union kp_response_body *resp)
{
	struct rl_call_state *st = ctx;
	st->done = true;
	st->err = err;
	if (!err && resp && st->take)
		st->take_rc = st->take(st->ctx, resp, st->rerr);
}

/* A connection to try for a request to "any broker": a known broker that
 * is up, else a bootstrap server, in turn. */
static struct rl_conn *rl_pick_any(struct rl_client *cl, int attempt)
{
	int64_t now = rl_now_ms();
	for (int i = 0; i < cl->nconns; i++) {
		struct rl_conn *c = cl->conns[i];
		if (c->state == RL_CONN_UP && c->ring_count < RL_RING)
			return c;
	}
	for (int k = 0; k < cl->nconns; k++) {
		struct rl_conn *c = cl->conns[(attempt + k) % cl->nconns];
		if (rl_conn_usable(c, now) && c->ring_count < RL_RING)
			return c;
	}
	return NULL;
}

int rl_call(struct rl_client *cl, int32_t id, int16_t api_key, int16_t version,
	    const union kp_request_body *req, rl_take_cb take, void *ctx, struct replog_error *err)
{
	int64_t deadline = rl_now_ms() + cl->cfg.request_timeout_ms;
	char last[RL_ADDR_MAX + 200] = "no broker tried";
	for (int attempt = 0; rl_now_ms() < deadline; attempt++) {
		struct rl_conn *c = id >= 0 ? rl_client_conn(cl, id) : rl_pick_any(cl, attempt);
		if (id >= 0 && !c)
			return rl_fail(err, REPLOG_ERR_TRANSPORT, 0,
				       "broker %d is not in the metadata", id);
		if (!c || !rl_conn_usable(c, rl_now_ms())) {
			rl_client_poll(cl, 20);
			continue;
		}
		struct rl_call_state st = {.take = take, .ctx = ctx, .rerr = err};
		int rc = rl_conn_request(cl, c, api_key, version, req, rl_call_done, &st);
		if (rc < 0) {
			snprintf(last, sizeof(last), "%s",
				 c->last_error[0] ? c->last_error : c->addr);
			rl_client_poll(cl, 20);
			continue;
		}
		while (!st.done)
			rl_client_poll(cl, 100);
		if (!st.err)
			return st.take_rc;
		snprintf(last, sizeof(last), "%s", c->last_error);
		if (id >= 0 && st.err != REPLOG_ERR_TRANSPORT)
			return rl_fail(err, st.err, 0, "%s request to %s failed: %s",
				       kp_api_name(api_key), c->addr, c->last_error);
	}
	return rl_fail(err, REPLOG_ERR_TRANSPORT, 0,
		       "no answer to the %s request within %d ms (%s)", kp_api_name(api_key),
		       cl->cfg.request_timeout_ms, last);
}

/* ---- metadata ------------------------------------------------------------- */

struct rl_topic_meta *rl_topic(struct rl_client *cl, const char *topic)
{
	for (struct rl_topic_meta *t = cl->topics; t; t = t->next)
		if (strcmp(t->name, topic) == 0)
			return t;
	return NULL;
}

static void rl_learn_broker(struct rl_client *cl, const struct kp_metadata_response_broker *b)
{
	char addr[RL_ADDR_MAX];
	int hl = b->host.len > 0 ? b->host.len : 0;
	if (hl > 256)
		hl = 256;
	bool v6 = memchr(b->host.ptr, ':', (size_t)hl) != NULL;
	snprintf(addr, sizeof(addr), v6 ? "[%.*s]:%d" : "%.*s:%d", hl, b->host.ptr, b->port);
	struct rl_conn *c = rl_client_conn(cl, b->node_id);
	if (c) {
		if (strcmp(c->addr, addr) != 0) { /* moved: start over there */
			rl_conn_fail(c, REPLOG_ERR_TRANSPORT, "the broker moved");
			snprintf(c->addr, sizeof(c->addr), "%s", addr);
			c->retry_at_ms = 0;
		}
		return;
	}
	if (cl->nconns >= RL_MAX_BROKERS + RL_MAX_BOOTSTRAP)
		return;
	c = rl_conn_new(b->node_id, addr);
	if (c)
		cl->conns[cl->nconns++] = c;
}

static void rl_learn_topic(struct rl_client *cl, const struct kp_metadata_response_topic *mt)
{
	char name[REPLOG_TOPIC_MAX + 1];
	int nl = mt->name.len > REPLOG_TOPIC_MAX ? REPLOG_TOPIC_MAX : mt->name.len;
	if (nl < 0)
		return;
	memcpy(name, mt->name.ptr, (size_t)nl);
	name[nl] = '\0';
	struct rl_topic_meta *t = rl_topic(cl, name);
	if (!t) {
		t = calloc(1, sizeof(*t));
		if (!t)
			return;
		memcpy(t->name, name, (size_t)nl + 1);
		t->next = cl->topics;
		cl->topics = t;
	}
	struct rl_part_meta *parts = NULL;
	int32_t np = mt->partitions_count > 0 ? mt->partitions_count : 0;
	if (np > 0 && !(parts = calloc((size_t)np, sizeof(*parts))))
		return;
	for (int32_t i = 0; i < np; i++) {
		const struct kp_metadata_response_partition *mp = &mt->partitions[i];
		if (mp->partition_index < 0 || mp->partition_index >= np)
			continue;
		struct rl_part_meta *p = &parts[mp->partition_index];
		p->kerr = mp->error_code;
		p->leader = mp->leader_id;
		p->leader_epoch = mp->leader_epoch;
		for (int32_t k = 0; k < mp->replica_nodes_count && p->nreplicas < RL_MAX_REPLICAS;
		     k++)
			p->replicas[p->nreplicas++] = mp->replica_nodes[k];
		for (int32_t k = 0; k < mp->isr_nodes_count && p->nisr < RL_MAX_REPLICAS; k++)
			p->isr[p->nisr++] = mp->isr_nodes[k];
	}
	free(t->parts);
	t->parts = parts;
	t->nparts = np;
	t->kerr = mt->error_code;
	t->fetched_ms = rl_now_ms();
}

static int rl_take_metadata(void *ctx, const union kp_response_body *resp, struct replog_error *err)
{
	struct rl_client *cl = ctx;
	const struct kp_metadata_response *md = &resp->metadata;
	for (int32_t i = 0; i < md->brokers_count; i++)
		rl_learn_broker(cl, &md->brokers[i]);
	for (int32_t i = 0; i < md->topics_count; i++)
		rl_learn_topic(cl, &md->topics[i]);
	cl->controller = md->controller_id;
	if (md->cluster_id.len > 0)
		snprintf(cl->cluster_id, sizeof(cl->cluster_id), "%.*s", md->cluster_id.len,
			 md->cluster_id.ptr);
	return REPLOG_OK;
}

int rl_metadata_refresh(struct rl_client *cl, const char *const *topics, int n, bool auto_create,
			struct replog_error *err)
{
	struct kp_metadata_request_topic req_topics[64];
	if (n > 64)
		n = 64;
	for (int i = 0; i < n; i++)
		req_topics[i].name = kp_str_from_cstr(topics[i]);
	union kp_request_body req = {.metadata = {
					     .topics = n ? req_topics : NULL,
					     .topics_count = n ? n : -1,
					     .allow_auto_topic_creation = auto_create,
				     }};
	return rl_call(cl, -1, KP_API_METADATA, RL_METADATA_VERSION, &req, rl_take_metadata, cl,
		       err);
}

int rl_topic_get(struct rl_client *cl, const char *topic, bool auto_create,
		 struct rl_topic_meta **out, struct replog_error *err)
{
	struct rl_topic_meta *t = rl_topic(cl, topic);
	if (!t || t->nparts == 0 || rl_now_ms() - t->fetched_ms > cl->cfg.metadata_max_age_ms) {
		int rc = rl_metadata_refresh(cl, &topic, 1, auto_create, err);
		if (rc)
			return rc;
		t = rl_topic(cl, topic);
	}
	if (!t || t->nparts == 0 || t->kerr != 0) {
		int kerr = t ? t->kerr : KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		return rl_fail(err, REPLOG_ERR_UNKNOWN_TOPIC, kerr, "topic \"%s\": %s", topic,
			       kerr ? kp_error_name((int16_t)kerr) : "no partitions");
	}
	*out = t;
	return REPLOG_OK;
}
