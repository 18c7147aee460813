/*
 * metrics_http — the `/metrics` endpoint: a minimal HTTP/1.1 server on
 * metrics.listen, on the broker's reactor, for Prometheus scrapes and
 * curl. GET /metrics answers the exposition (metrics.h) with
 * `Content-Type: text/plain; version=0.0.4`; other paths get 404, other
 * methods 405, a request head over 8 KiB or not complete within 5 s is
 * dropped. Every answer closes its connection (Connection: close). At most
 * 32 connections at once; more wait in the listen backlog.
 */
#ifndef REPLOG_METRICS_HTTP_H
#define REPLOG_METRICS_HTTP_H

struct broker;
struct mhttp;

/* Listen on b->b_cfg.bc_metrics_listen (nothing when it is empty).
 * Returns 0, or -1 after logging why. */
int mhttp_start(struct broker *b, struct mhttp **out);
/* Close the listener and every connection (waits for their operations to
 * complete through the reactor: call while it still runs). */
void mhttp_stop(struct mhttp *m);
/* True once mhttp_stop's operations have all completed. */
int mhttp_idle(const struct mhttp *m);
void mhttp_free(struct mhttp *m);

#endif
