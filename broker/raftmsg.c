/*
 * raftmsg — raft RPC messages on the wire; the layout and validity rules are
 * in raftmsg.h.
 *
 * Encoding is two passes: rmsg_*_size validates the message and computes its
 * exact size (so nothing can overflow and the cap is checked before any
 * allocation), then one malloc and the writes, which cannot fail.
 *
 * Decoding reads through a bounded reader whose first failure is sticky, so
 * a body is read whole and checked once. AppendEntries is also two passes:
 * the entry headers are validated and their lengths summed before anything
 * is allocated, which makes the only failure after allocation -ENOMEM. Every
 * count is checked against the bytes left at its minimum element size before
 * it sizes an allocation, so decoding allocates at most a small multiple of
 * the input.
 *
 * The wire type codes are raft's RAFT_IO_* values; the static assertions
 * below stop the build if a raft release renumbers them.
 */
#include "raftmsg.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "rlassert.h"

_Static_assert(RAFT_IO_APPEND_ENTRIES == 1 && RAFT_IO_APPEND_ENTRIES_RESULT == 2 &&
		       RAFT_IO_REQUEST_VOTE == 3 && RAFT_IO_REQUEST_VOTE_RESULT == 4 &&
		       RAFT_IO_INSTALL_SNAPSHOT == 5 && RAFT_IO_TIMEOUT_NOW == 6,
	       "raftmsg's wire type codes are raft's RAFT_IO_* values");
_Static_assert(raft_tribool_unknown == 0 && raft_tribool_true == 1 && raft_tribool_false == 2,
	       "raftmsg's tribool byte is raft_tribool");
_Static_assert(RAFT_STANDBY == 0 && RAFT_VOTER == 1 && RAFT_SPARE == 2, "server role codes");
_Static_assert(RMSG_ADDRESS_MAX <= UINT8_MAX, "address length is one byte");
_Static_assert(RMSG_MAX_BYTES <= UINT32_MAX, "lengths are u32");

#define RMSG_HEADER_BYTES      2  /* version, type */
#define RMSG_ENTRY_HDR_BYTES   13 /* term u64, type u8, len u32 */
#define RMSG_SERVER_MIN_BYTES  10 /* id u64, role u8, addr_len u8 */
#define RMSG_CONF_HEADER_BYTES 4  /* n u32 */
#define RMSG_AE_FIXED_BYTES    36 /* 4 x u64, n_entries u32 */
#define RMSG_AER_BYTES	       24
#define RMSG_RV_BYTES	       34
#define RMSG_RVR_BYTES	       10
#define RMSG_IS_FIXED_BYTES    36 /* 4 x u64, data_len u32 (conf apart) */
#define RMSG_TN_BYTES	       24

/* ---------------------------------------------------------------- writer */

/* Writes into a buffer sized exactly beforehand; overrunning it is a bug in
 * the size computation, not an input error. */
struct rmsg_writer {
	uint8_t *rw_pos;
	uint8_t *rw_end;
};

static void w_bytes(struct rmsg_writer *w, const void *p, size_t n)
{
	RL_ASSERT((size_t)(w->rw_end - w->rw_pos) >= n);
	if (n)
		memcpy(w->rw_pos, p, n);
	w->rw_pos += n;
}

static void w_u8(struct rmsg_writer *w, uint8_t v)
{
	w_bytes(w, &v, 1);
}

static void w_u32(struct rmsg_writer *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	w_bytes(w, b, sizeof(b));
}

static void w_u64(struct rmsg_writer *w, uint64_t v)
{
	w_u32(w, (uint32_t)(v >> 32));
	w_u32(w, (uint32_t)v);
}

/* ---------------------------------------------------------------- reader */

/* A bounded reader over the caller's bytes; rr_err (-EBADMSG) is sticky and
 * reads after it return 0 without touching memory. */
struct rmsg_reader {
	const uint8_t *rr_pos;
	const uint8_t *rr_end;
	int rr_err;
};

static size_t r_left(const struct rmsg_reader *r)
{
	return (size_t)(r->rr_end - r->rr_pos);
}

static const uint8_t *r_take(struct rmsg_reader *r, size_t n)
{
	if (r->rr_err || r_left(r) < n) {
		r->rr_err = -EBADMSG;
		return NULL;
	}
	const uint8_t *p = r->rr_pos;
	r->rr_pos += n;
	return p;
}

static uint8_t r_u8(struct rmsg_reader *r)
{
	const uint8_t *p = r_take(r, 1);
	return p ? p[0] : 0;
}

static uint32_t r_u32(struct rmsg_reader *r)
{
	const uint8_t *p = r_take(r, 4);
	if (!p)
		return 0;
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t r_u64(struct rmsg_reader *r)
{
	uint64_t hi = r_u32(r);
	return hi << 32 | r_u32(r);
}

static bool r_bool(struct rmsg_reader *r)
{
	uint8_t v = r_u8(r);
	if (v > 1)
		r->rr_err = -EBADMSG;
	return v == 1;
}

static void r_fail(struct rmsg_reader *r)
{
	r->rr_err = -EBADMSG;
}

/* ------------------------------------------------------------ validation */

static bool entry_type_ok(unsigned type)
{
	return type == RAFT_COMMAND || type == RAFT_BARRIER || type == RAFT_CHANGE;
}

static bool role_ok(int role)
{
	return role == RAFT_STANDBY || role == RAFT_VOTER || role == RAFT_SPARE;
}

/* Validate c for the wire and add its encoded size to *size. */
static int conf_size(const struct raft_configuration *c, size_t *size)
{
	if (c->n > RMSG_CONF_MAX_SERVERS || (c->n > 0 && c->servers == NULL))
		return -EINVAL;
	size_t total = RMSG_CONF_HEADER_BYTES;
	for (unsigned i = 0; i < c->n; i++) {
		const struct raft_server *s = &c->servers[i];
		if (s->id == 0 || !role_ok(s->role) || s->address == NULL)
			return -EINVAL;
		size_t alen = strnlen(s->address, RMSG_ADDRESS_MAX + 1);
		if (alen > RMSG_ADDRESS_MAX)
			return -EINVAL;
		/* raft_configuration_add refuses duplicates, so the decoder does. */
		for (unsigned j = 0; j < i; j++)
			if (c->servers[j].id == s->id ||
			    strcmp(c->servers[j].address, s->address) == 0)
				return -EINVAL;
		total += RMSG_SERVER_MIN_BYTES + alen;
	}
	*size += total;
	return 0;
}

static void conf_write(struct rmsg_writer *w, const struct raft_configuration *c)
{
	w_u32(w, c->n);
	for (unsigned i = 0; i < c->n; i++) {
		const struct raft_server *s = &c->servers[i];
		size_t alen = strlen(s->address);
		w_u64(w, s->id);
		w_u8(w, (uint8_t)s->role);
		w_u8(w, (uint8_t)alen);
		w_bytes(w, s->address, alen);
	}
}

/* Validate m and compute its encoded size. */
static int msg_size(const struct raft_message *m, size_t *size)
{
	size_t n = RMSG_HEADER_BYTES;
	switch (m->type) {
	case RAFT_IO_APPEND_ENTRIES: {
		const struct raft_append_entries *ae = &m->append_entries;
		if (ae->n_entries > 0 && ae->entries == NULL)
			return -EINVAL;
		n += RMSG_AE_FIXED_BYTES;
		for (unsigned i = 0; i < ae->n_entries; i++) {
			const struct raft_entry *e = &ae->entries[i];
			if (!entry_type_ok(e->type) || (e->buf.len > 0 && e->buf.base == NULL))
				return -EINVAL;
			/* Checked per entry so the sum cannot overflow. */
			if (e->buf.len > RMSG_MAX_BYTES || n > RMSG_MAX_BYTES)
				return -EMSGSIZE;
			n += RMSG_ENTRY_HDR_BYTES + e->buf.len;
		}
		break;
	}
	case RAFT_IO_APPEND_ENTRIES_RESULT:
		n += RMSG_AER_BYTES;
		break;
	case RAFT_IO_REQUEST_VOTE:
		n += RMSG_RV_BYTES;
		break;
	case RAFT_IO_REQUEST_VOTE_RESULT:
		if ((unsigned)m->request_vote_result.pre_vote > raft_tribool_false)
			return -EINVAL;
		n += RMSG_RVR_BYTES;
		break;
	case RAFT_IO_INSTALL_SNAPSHOT: {
		const struct raft_install_snapshot *is = &m->install_snapshot;
		int rc = conf_size(&is->conf, &n);
		if (rc < 0)
			return rc;
		if (is->data.len > 0 && is->data.base == NULL)
			return -EINVAL;
		if (is->data.len > RMSG_MAX_BYTES)
			return -EMSGSIZE;
		n += RMSG_IS_FIXED_BYTES + is->data.len;
		break;
	}
	case RAFT_IO_TIMEOUT_NOW:
		n += RMSG_TN_BYTES;
		break;
	default:
		return -EINVAL;
	}
	if (n > RMSG_MAX_BYTES)
		return -EMSGSIZE;
	*size = n;
	return 0;
}

/* ---------------------------------------------------------------- encode */

int rmsg_encode(const struct raft_message *m, uint8_t **out, size_t *out_len)
{
	size_t size = 0;
	int rc = msg_size(m, &size);
	if (rc < 0)
		return rc;
	uint8_t *buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	struct rmsg_writer w = {buf, buf + size};
	w_u8(&w, RMSG_VERSION);
	w_u8(&w, (uint8_t)m->type);
	switch (m->type) {
	case RAFT_IO_APPEND_ENTRIES: {
		const struct raft_append_entries *ae = &m->append_entries;
		w_u64(&w, ae->term);
		w_u64(&w, ae->prev_log_index);
		w_u64(&w, ae->prev_log_term);
		w_u64(&w, ae->leader_commit);
		w_u32(&w, ae->n_entries);
		for (unsigned i = 0; i < ae->n_entries; i++) {
			w_u64(&w, ae->entries[i].term);
			w_u8(&w, (uint8_t)ae->entries[i].type);
			w_u32(&w, (uint32_t)ae->entries[i].buf.len);
		}
		for (unsigned i = 0; i < ae->n_entries; i++)
			w_bytes(&w, ae->entries[i].buf.base, ae->entries[i].buf.len);
		break;
	}
	case RAFT_IO_APPEND_ENTRIES_RESULT:
		w_u64(&w, m->append_entries_result.term);
		w_u64(&w, m->append_entries_result.rejected);
		w_u64(&w, m->append_entries_result.last_log_index);
		break;
	case RAFT_IO_REQUEST_VOTE:
		w_u64(&w, m->request_vote.term);
		w_u64(&w, m->request_vote.candidate_id);
		w_u64(&w, m->request_vote.last_log_index);
		w_u64(&w, m->request_vote.last_log_term);
		w_u8(&w, m->request_vote.disrupt_leader ? 1 : 0);
		w_u8(&w, m->request_vote.pre_vote ? 1 : 0);
		break;
	case RAFT_IO_REQUEST_VOTE_RESULT:
		w_u64(&w, m->request_vote_result.term);
		w_u8(&w, m->request_vote_result.vote_granted ? 1 : 0);
		w_u8(&w, (uint8_t)m->request_vote_result.pre_vote);
		break;
	case RAFT_IO_INSTALL_SNAPSHOT: {
		const struct raft_install_snapshot *is = &m->install_snapshot;
		w_u64(&w, is->term);
		w_u64(&w, is->last_index);
		w_u64(&w, is->last_term);
		conf_write(&w, &is->conf);
		w_u64(&w, is->conf_index);
		w_u32(&w, (uint32_t)is->data.len);
		w_bytes(&w, is->data.base, is->data.len);
		break;
	}
	case RAFT_IO_TIMEOUT_NOW:
		w_u64(&w, m->timeout_now.term);
		w_u64(&w, m->timeout_now.last_log_index);
		w_u64(&w, m->timeout_now.last_log_term);
		break;
	}
	RL_ASSERT(w.rw_pos == w.rw_end);
	*out = buf;
	*out_len = size;
	return 0;
}

int rmsg_conf_encode(const struct raft_configuration *c, uint8_t **out, size_t *out_len)
{
	size_t size = 1;
	int rc = conf_size(c, &size);
	if (rc < 0)
		return rc;
	if (size > RMSG_MAX_BYTES)
		return -EMSGSIZE;
	uint8_t *buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	struct rmsg_writer w = {buf, buf + size};
	w_u8(&w, RMSG_VERSION);
	conf_write(&w, c);
	RL_ASSERT(w.rw_pos == w.rw_end);
	*out = buf;
	*out_len = size;
	return 0;
}

/* ---------------------------------------------------------------- decode */

/* Read a conf into *c (initialized here). On failure *c is empty and the
 * error is returned (and recorded in the reader unless it is -ENOMEM). */
static int conf_read(struct rmsg_reader *r, struct raft_configuration *c)
{
	raft_configuration_init(c);
	uint32_t n = r_u32(r);
	if (r->rr_err)
		return r->rr_err;
	if (n > RMSG_CONF_MAX_SERVERS || n > r_left(r) / RMSG_SERVER_MIN_BYTES) {
		r_fail(r);
		return r->rr_err;
	}
	char addr[RMSG_ADDRESS_MAX + 1];
	for (uint32_t i = 0; i < n; i++) {
		raft_id id = r_u64(r);
		uint8_t role = r_u8(r);
		uint8_t alen = r_u8(r);
		const uint8_t *a = r_take(r, alen);
		if (r->rr_err)
			break;
		if (id == 0 || !role_ok(role) || memchr(a, '\0', alen) != NULL) {
			r_fail(r);
			break;
		}
		memcpy(addr, a, alen);
		addr[alen] = '\0';
		int rc = raft_configuration_add(c, id, addr, role);
		if (rc == RAFT_NOMEM) {
			raft_configuration_close(c);
			raft_configuration_init(c);
			return -ENOMEM;
		}
		if (rc != 0) { /* duplicate id or address */
			r_fail(r);
			break;
		}
	}
	if (r->rr_err) {
		raft_configuration_close(c);
		raft_configuration_init(c);
		return r->rr_err;
	}
	return 0;
}

static int append_entries_read(struct rmsg_reader *r, struct raft_append_entries *ae)
{
	ae->term = r_u64(r);
	ae->prev_log_index = r_u64(r);
	ae->prev_log_term = r_u64(r);
	ae->leader_commit = r_u64(r);
	uint32_t n = r_u32(r);
	if (r->rr_err)
		return r->rr_err;
	if (n > r_left(r) / RMSG_ENTRY_HDR_BYTES)
		return -EBADMSG;

	/* Pass 1: validate the headers and sum the payloads. */
	const uint8_t *hdrs = r->rr_pos;
	uint64_t total = 0;
	for (uint32_t i = 0; i < n; i++) {
		(void)r_u64(r);
		uint8_t type = r_u8(r);
		uint32_t len = r_u32(r);
		if (r->rr_err)
			return r->rr_err;
		if (!entry_type_ok(type))
			return -EBADMSG;
		total += len; /* n * UINT32_MAX fits: n < 2^32 / 13 */
	}
	if (total != r_left(r))
		return -EBADMSG; /* payloads truncated, or bytes trailing them */
	if (n == 0)
		return 0;

	/* Pass 2: allocate and fill; only -ENOMEM can fail now. */
	struct raft_entry *entries = raft_calloc(n, sizeof(*entries));
	uint8_t *block = raft_malloc((size_t)total + 1);
	if (!entries || !block) {
		raft_free(entries);
		raft_free(block);
		return -ENOMEM;
	}
	memcpy(block, r->rr_pos, (size_t)total);
	struct rmsg_reader h = {hdrs, r->rr_pos, 0};
	size_t off = 0;
	for (uint32_t i = 0; i < n; i++) {
		entries[i].term = r_u64(&h);
		entries[i].type = r_u8(&h);
		entries[i].buf.len = r_u32(&h);
		entries[i].buf.base = block + off;
		entries[i].batch = block;
		off += entries[i].buf.len;
	}
	RL_ASSERT(h.rr_err == 0 && h.rr_pos == h.rr_end && off == total);
	r->rr_pos = r->rr_end;
	ae->entries = entries;
	ae->n_entries = n;
	return 0;
}

static int install_snapshot_read(struct rmsg_reader *r, struct raft_install_snapshot *is)
{
	is->term = r_u64(r);
	is->last_index = r_u64(r);
	is->last_term = r_u64(r);
	int rc = conf_read(r, &is->conf);
	if (rc < 0)
		return rc;
	is->conf_index = r_u64(r);
	uint32_t len = r_u32(r);
	if (r->rr_err == 0 && len != r_left(r))
		r_fail(r); /* data truncated, or bytes trailing it */
	const uint8_t *data = r_take(r, len);
	if (r->rr_err) {
		raft_configuration_close(&is->conf);
		return r->rr_err;
	}
	is->data.base = raft_malloc(len ? len : 1);
	if (!is->data.base) {
		raft_configuration_close(&is->conf);
		return -ENOMEM;
	}
	memcpy(is->data.base, data, len);
	is->data.len = len;
	return 0;
}

static void msg_clear(struct raft_message *m)
{
	/* Everything but server_id/server_address, which the transport owns. */
	raft_id id = m->server_id;
	const char *address = m->server_address;
	memset(m, 0, sizeof(*m));
	m->server_id = id;
	m->server_address = address;
}

int rmsg_decode(const uint8_t *buf, size_t len, struct raft_message *m)
{
	struct raft_message d;
	memset(&d, 0, sizeof(d));
	msg_clear(m);
	if (len > RMSG_MAX_BYTES)
		return -EMSGSIZE;
	if (buf == NULL)
		return -EBADMSG; /* nothing to read (and no arithmetic on NULL) */
	struct rmsg_reader r = {buf, buf + len, 0};
	uint8_t version = r_u8(&r);
	uint8_t type = r_u8(&r);
	if (r.rr_err || version != RMSG_VERSION)
		return -EBADMSG;
	d.type = type;
	int rc = 0;
	switch (type) {
	case RAFT_IO_APPEND_ENTRIES:
		rc = append_entries_read(&r, &d.append_entries);
		break;
	case RAFT_IO_APPEND_ENTRIES_RESULT:
		d.append_entries_result.term = r_u64(&r);
		d.append_entries_result.rejected = r_u64(&r);
		d.append_entries_result.last_log_index = r_u64(&r);
		break;
	case RAFT_IO_REQUEST_VOTE:
		d.request_vote.term = r_u64(&r);
		d.request_vote.candidate_id = r_u64(&r);
		d.request_vote.last_log_index = r_u64(&r);
		d.request_vote.last_log_term = r_u64(&r);
		d.request_vote.disrupt_leader = r_bool(&r);
		d.request_vote.pre_vote = r_bool(&r);
		break;
	case RAFT_IO_REQUEST_VOTE_RESULT: {
		d.request_vote_result.term = r_u64(&r);
		d.request_vote_result.vote_granted = r_bool(&r);
		uint8_t pv = r_u8(&r);
		if (pv > raft_tribool_false)
			r_fail(&r);
		d.request_vote_result.pre_vote = (raft_tribool)pv;
		break;
	}
	case RAFT_IO_INSTALL_SNAPSHOT:
		rc = install_snapshot_read(&r, &d.install_snapshot);
		break;
	case RAFT_IO_TIMEOUT_NOW:
		d.timeout_now.term = r_u64(&r);
		d.timeout_now.last_log_index = r_u64(&r);
		d.timeout_now.last_log_term = r_u64(&r);
		break;
	default:
		return -EBADMSG;
	}
	if (rc < 0)
		return rc; /* the readers free what they allocated */
	if (r.rr_err)
		return r.rr_err;
	/* The two allocating readers end exactly at the end or fail above. */
	if (r_left(&r) != 0)
		return -EBADMSG;
	m->type = d.type;
	switch (type) {
	case RAFT_IO_APPEND_ENTRIES:
		m->append_entries = d.append_entries;
		break;
	case RAFT_IO_APPEND_ENTRIES_RESULT:
		m->append_entries_result = d.append_entries_result;
		break;
	case RAFT_IO_REQUEST_VOTE:
		m->request_vote = d.request_vote;
		break;
	case RAFT_IO_REQUEST_VOTE_RESULT:
		m->request_vote_result = d.request_vote_result;
		break;
	case RAFT_IO_INSTALL_SNAPSHOT:
		m->install_snapshot = d.install_snapshot;
		break;
	case RAFT_IO_TIMEOUT_NOW:
		m->timeout_now = d.timeout_now;
		break;
	}
	return 0;
}

void rmsg_release(struct raft_message *m)
{
	switch (m->type) {
	case RAFT_IO_APPEND_ENTRIES: {
		struct raft_append_entries *ae = &m->append_entries;
		/* As raft's entryBatchesDestroy: each distinct batch once. */
		void *batch = NULL;
		for (unsigned i = 0; i < ae->n_entries; i++) {
			if (ae->entries[i].batch != batch) {
				batch = ae->entries[i].batch;
				raft_free(batch);
			}
		}
		raft_free(ae->entries);
		break;
	}
	case RAFT_IO_INSTALL_SNAPSHOT:
		raft_configuration_close(&m->install_snapshot.conf);
		raft_free(m->install_snapshot.data.base);
		break;
	default:
		break;
	}
	msg_clear(m);
}

int rmsg_conf_decode(const uint8_t *buf, size_t len, struct raft_configuration *c)
{
	raft_configuration_init(c);
	if (len > RMSG_MAX_BYTES)
		return -EMSGSIZE;
	if (buf == NULL)
		return -EBADMSG;
	struct rmsg_reader r = {buf, buf + len, 0};
	if (r_u8(&r) != RMSG_VERSION || r.rr_err)
		return -EBADMSG;
	int rc = conf_read(&r, c);
	if (rc < 0)
		return rc;
	if (r_left(&r) != 0) {
		raft_configuration_close(c);
		raft_configuration_init(c);
		return -EBADMSG;
	}
	return 0;
}
