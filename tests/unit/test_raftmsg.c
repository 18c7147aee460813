/* Description: raft RPC messages on the wire (raftmsg): round trips, raft's ownership, every cut.
 */
/*
 * Each of the six message types is encoded, decoded and compared, then
 * freed the way raft frees what its recv callback receives (entry batches
 * then the entries array; the snapshot's conf and data), so ASan's leak
 * check proves the ownership contract. Decoders read heap copies of exactly
 * the bytes given, so ASan also flags any read past them. Every prefix of
 * every message must fail with -EBADMSG and leave nothing to free.
 */
#include "testutil.h"

#include <errno.h>

#include "raftmsg.h"

/* A heap copy of exactly len bytes, so ASan reports any read past it. */
static uint8_t *exact_copy(const uint8_t *bytes, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	if (len)
		memcpy(copy, bytes, len);
	return copy;
}

/* len bytes followed by one trailing zero byte. */
static uint8_t *copy_plus_one(const uint8_t *bytes, size_t len)
{
	uint8_t *copy = malloc(len + 1);
	assert_non_null(copy);
	memcpy(copy, bytes, len);
	copy[len] = 0;
	return copy;
}

static int decode_exact(const uint8_t *bytes, size_t len, struct raft_message *m)
{
	uint8_t *copy = exact_copy(bytes, len);
	int rc = rmsg_decode(copy, len, m);
	free(copy);
	return rc;
}

static int conf_decode_exact(const uint8_t *bytes, size_t len, struct raft_configuration *c)
{
	uint8_t *copy = exact_copy(bytes, len);
	int rc = rmsg_conf_decode(copy, len, c);
	free(copy);
	return rc;
}

/* What raft does with a received AppendEntries (entryBatchesDestroy). */
static void raft_style_free_entries(struct raft_entry *entries, unsigned n)
{
	void *batch = NULL;
	if (entries == NULL) {
		assert_int_equal(n, 0);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		assert_non_null(entries[i].batch);
		if (entries[i].batch != batch) {
			batch = entries[i].batch;
			raft_free(batch);
		}
	}
	raft_free(entries);
}

/* What raft does with a received InstallSnapshot once it is done with it. */
static void raft_style_free_snapshot(struct raft_install_snapshot *is)
{
	raft_configuration_close(&is->conf);
	raft_free(is->data.base);
}

static void assert_body_zero(const struct raft_message *m)
{
	struct raft_message z;
	memset(&z, 0, sizeof(z));
	assert_int_equal(m->type, 0);
	assert_memory_equal(&m->append_entries, &z.append_entries, sizeof(z.append_entries));
	assert_memory_equal(&m->install_snapshot, &z.install_snapshot, sizeof(z.install_snapshot));
}

/* Encode, check that nothing but an exact decode works, decode into *out.
 * Returns the encoding (caller frees). */
static uint8_t *roundtrip(const struct raft_message *in, struct raft_message *out, size_t *len)
{
	uint8_t *buf = NULL;
	assert_int_equal(rmsg_encode(in, &buf, len), 0);
	assert_non_null(buf);
	assert_int_equal(buf[0], RMSG_VERSION);
	assert_int_equal(buf[1], in->type);

	/* Every strict prefix is truncated; *m is left holding nothing. */
	for (size_t cut = 0; cut < *len; cut++) {
		struct raft_message m;
		memset(&m, 0xa5, sizeof(m));
		assert_int_equal(decode_exact(buf, cut, &m), -EBADMSG);
		assert_body_zero(&m);
	}
	/* One byte more is trailing. */
	uint8_t *longer = copy_plus_one(buf, *len);
	struct raft_message m;
	assert_int_equal(decode_exact(longer, *len + 1, &m), -EBADMSG);
	assert_body_zero(&m);
	free(longer);

	memset(out, 0, sizeof(*out));
	out->server_id = 77;
	out->server_address = "kept";
	assert_int_equal(decode_exact(buf, *len, out), 0);
	assert_int_equal(out->type, in->type);
	/* The transport's fields are not the codec's. */
	assert_int_equal(out->server_id, 77);
	assert_string_equal(out->server_address, "kept");
	return buf;
}

/* ------------------------------------------------------ fixed messages */

static void test_request_vote(void **state)
{
	(void)state;
	for (int flags = 0; flags < 4; flags++) {
		struct raft_message in = {.type = RAFT_IO_REQUEST_VOTE};
		in.request_vote = (struct raft_request_vote){
			.term = 0x0102030405060708ull,
			.candidate_id = 3,
			.last_log_index = UINT64_MAX,
			.last_log_term = 9,
			.disrupt_leader = flags & 1,
			.pre_vote = (flags & 2) != 0,
		};
		struct raft_message out;
		size_t len;
		uint8_t *buf = roundtrip(&in, &out, &len);
		assert_int_equal(len, 36);
		assert_int_equal(out.request_vote.term, in.request_vote.term);
		assert_int_equal(out.request_vote.candidate_id, 3);
		assert_int_equal(out.request_vote.last_log_index, UINT64_MAX);
		assert_int_equal(out.request_vote.last_log_term, 9);
		assert_int_equal(out.request_vote.disrupt_leader, flags & 1);
		assert_int_equal(out.request_vote.pre_vote, (flags & 2) != 0);

		/* A bool must be 0 or 1. */
		for (size_t off = 34; off <= 35; off++) {
			uint8_t saved = buf[off];
			buf[off] = 2;
			assert_int_equal(decode_exact(buf, len, &out), -EBADMSG);
			assert_body_zero(&out);
			buf[off] = 0xff;
			assert_int_equal(decode_exact(buf, len, &out), -EBADMSG);
			buf[off] = saved;
		}
		rmsg_release(&out);
		free(buf);
	}
}

static void test_request_vote_result(void **state)
{
	(void)state;
	const raft_tribool tri[] = {raft_tribool_unknown, raft_tribool_true, raft_tribool_false};
	for (int i = 0; i < 3; i++) {
		struct raft_message in = {.type = RAFT_IO_REQUEST_VOTE_RESULT};
		in.request_vote_result.term = 42;
		in.request_vote_result.vote_granted = i == 1;
		in.request_vote_result.pre_vote = tri[i];
		struct raft_message out;
		size_t len;
		uint8_t *buf = roundtrip(&in, &out, &len);
		assert_int_equal(len, 12);
		assert_int_equal(out.request_vote_result.term, 42);
		assert_int_equal(out.request_vote_result.vote_granted, i == 1);
		assert_int_equal(out.request_vote_result.pre_vote, tri[i]);

		buf[10] = 2; /* vote_granted */
		assert_int_equal(decode_exact(buf, len, &out), -EBADMSG);
		buf[10] = 0;
		buf[11] = 3; /* pre_vote tribool */
		assert_int_equal(decode_exact(buf, len, &out), -EBADMSG);
		buf[11] = 2;
		assert_int_equal(decode_exact(buf, len, &out), 0);
		assert_int_equal(out.request_vote_result.pre_vote, raft_tribool_false);
		free(buf);
	}
	/* The encoder refuses what the decoder would. */
	struct raft_message bad = {.type = RAFT_IO_REQUEST_VOTE_RESULT};
	bad.request_vote_result.pre_vote = (raft_tribool)3;
	uint8_t *buf = NULL;
	size_t len = 0;
	assert_int_equal(rmsg_encode(&bad, &buf, &len), -EINVAL);
	assert_null(buf);
}

static void test_append_entries_result(void **state)
{
	(void)state;
	struct raft_message in = {.type = RAFT_IO_APPEND_ENTRIES_RESULT};
	in.append_entries_result.term = 5;
	in.append_entries_result.rejected = 17;
	in.append_entries_result.last_log_index = 16;
	struct raft_message out;
	size_t len;
	uint8_t *buf = roundtrip(&in, &out, &len);
	assert_int_equal(len, 26);
	assert_int_equal(out.append_entries_result.term, 5);
	assert_int_equal(out.append_entries_result.rejected, 17);
	assert_int_equal(out.append_entries_result.last_log_index, 16);
	free(buf);
}

/* The layout is pinned byte for byte on the simplest message. */
static void test_timeout_now_bytes(void **state)
{
	(void)state;
	struct raft_message in = {.type = RAFT_IO_TIMEOUT_NOW};
	in.timeout_now.term = 0x0102030405060708ull;
	in.timeout_now.last_log_index = 0x1112131415161718ull;
	in.timeout_now.last_log_term = 0x2122232425262728ull;
	const uint8_t want[] = {1,    6,    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
				0x08, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
				0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28};
	struct raft_message out;
	size_t len;
	uint8_t *buf = roundtrip(&in, &out, &len);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(out.timeout_now.term, in.timeout_now.term);
	assert_int_equal(out.timeout_now.last_log_index, in.timeout_now.last_log_index);
	assert_int_equal(out.timeout_now.last_log_term, in.timeout_now.last_log_term);
	free(buf);
}

static void test_bad_header(void **state)
{
	(void)state;
	struct raft_message in = {.type = RAFT_IO_TIMEOUT_NOW};
	uint8_t *buf;
	size_t len;
	assert_int_equal(rmsg_encode(&in, &buf, &len), 0);
	struct raft_message out;
	buf[0] = 2; /* version */
	assert_int_equal(decode_exact(buf, len, &out), -EBADMSG);
	buf[0] = RMSG_VERSION;
	const uint8_t bad_types[] = {0, 7, 0xff};
	for (size_t i = 0; i < sizeof(bad_types); i++) {
		buf[1] = bad_types[i];
		assert_int_equal(decode_exact(buf, len, &out), -EBADMSG);
		assert_body_zero(&out);
	}
	free(buf);
	assert_int_equal(rmsg_decode(NULL, 0, &out), -EBADMSG);

	in.type = 0;
	buf = NULL;
	assert_int_equal(rmsg_encode(&in, &buf, &len), -EINVAL);
	in.type = 7;
	assert_int_equal(rmsg_encode(&in, &buf, &len), -EINVAL);
	assert_null(buf);
}

/* ------------------------------------------------------ append entries */

static void check_entries(const struct raft_message *in, const struct raft_message *out)
{
	const struct raft_append_entries *a = &in->append_entries, *b = &out->append_entries;
	assert_int_equal(b->term, a->term);
	assert_int_equal(b->prev_log_index, a->prev_log_index);
	assert_int_equal(b->prev_log_term, a->prev_log_term);
	assert_int_equal(b->leader_commit, a->leader_commit);
	assert_int_equal(b->n_entries, a->n_entries);
	if (a->n_entries == 0) {
		assert_null(b->entries);
		return;
	}
	assert_non_null(b->entries);
	size_t total = 0;
	for (unsigned i = 0; i < a->n_entries; i++)
		total += a->entries[i].buf.len;
	const uint8_t *block = b->entries[0].batch;
	assert_non_null(block);
	for (unsigned i = 0; i < a->n_entries; i++) {
		const struct raft_entry *x = &a->entries[i], *y = &b->entries[i];
		assert_int_equal(y->term, x->term);
		assert_int_equal(y->type, x->type);
		assert_int_equal(y->buf.len, x->buf.len);
		/* One batch for all; every base strictly inside it. */
		assert_ptr_equal(y->batch, block);
		const uint8_t *base = y->buf.base;
		assert_true(base >= block && base < block + total + 1);
		if (x->buf.len)
			assert_memory_equal(base, x->buf.base, x->buf.len);
	}
}

static void test_append_entries(void **state)
{
	(void)state;
	uint8_t p1[] = {'h', 'e', 'l', 'l', 'o'};
	uint8_t p3[300];
	for (size_t i = 0; i < sizeof(p3); i++)
		p3[i] = (uint8_t)(i * 7);
	struct raft_entry entries[3] = {
		{.term = 4, .type = RAFT_COMMAND, .buf = {p1, sizeof(p1)}},
		{.term = 5, .type = RAFT_BARRIER, .buf = {NULL, 0}},
		{.term = 6, .type = RAFT_CHANGE, .buf = {p3, sizeof(p3)}},
	};
	const unsigned counts[] = {0, 1, 3};
	for (size_t c = 0; c < 3; c++) {
		struct raft_message in = {.type = RAFT_IO_APPEND_ENTRIES};
		in.append_entries.term = 6;
		in.append_entries.prev_log_index = 100;
		in.append_entries.prev_log_term = 3;
		in.append_entries.leader_commit = 99;
		in.append_entries.entries = counts[c] ? entries : NULL;
		in.append_entries.n_entries = counts[c];
		struct raft_message out;
		size_t len;
		uint8_t *buf = roundtrip(&in, &out, &len);
		check_entries(&in, &out);
		raft_style_free_entries(out.append_entries.entries, out.append_entries.n_entries);

		if (counts[c] > 0) {
			/* Entry type (offset 46 of the first header) must be 1..3. */
			const uint8_t bad[] = {0, 4, 0xff};
			for (size_t i = 0; i < sizeof(bad); i++) {
				uint8_t saved = buf[46];
				buf[46] = bad[i];
				assert_int_equal(decode_exact(buf, len, &out), -EBADMSG);
				assert_body_zero(&out);
				buf[46] = saved;
			}
			/* A first length one too long or short mis-sums the payloads. */
			buf[50]++;
			assert_int_equal(decode_exact(buf, len, &out), -EBADMSG);
			buf[50] -= 2;
			assert_int_equal(decode_exact(buf, len, &out), -EBADMSG);
			buf[50]++;
		}
		/* Release also frees a decoded one, and twice is harmless. */
		assert_int_equal(decode_exact(buf, len, &out), 0);
		rmsg_release(&out);
		assert_body_zero(&out);
		rmsg_release(&out);
		free(buf);
	}
}

static void test_append_entries_only_empty(void **state)
{
	(void)state;
	/* Every payload empty: the batch still exists. */
	struct raft_entry e[2] = {{.term = 1, .type = RAFT_BARRIER},
				  {.term = 1, .type = RAFT_COMMAND}};
	struct raft_message in = {.type = RAFT_IO_APPEND_ENTRIES};
	in.append_entries.entries = e;
	in.append_entries.n_entries = 2;
	struct raft_message out;
	size_t len;
	uint8_t *buf = roundtrip(&in, &out, &len);
	check_entries(&in, &out);
	assert_non_null(out.append_entries.entries[1].batch);
	raft_style_free_entries(out.append_entries.entries, out.append_entries.n_entries);
	free(buf);
}

static void test_append_entries_huge_count(void **state)
{
	(void)state;
	struct raft_message in = {.type = RAFT_IO_APPEND_ENTRIES};
	uint8_t *buf;
	size_t len;
	assert_int_equal(rmsg_encode(&in, &buf, &len), 0);
	assert_int_equal(len, 38);
	/* n_entries = 0xffffffff with no bytes behind it. */
	memset(buf + 34, 0xff, 4);
	struct raft_message out;
	assert_int_equal(decode_exact(buf, len, &out), -EBADMSG);
	free(buf);

	/* One header claiming a 4 GiB payload. */
	uint8_t one[38 + 13];
	memset(one, 0, sizeof(one));
	one[0] = RMSG_VERSION;
	one[1] = RAFT_IO_APPEND_ENTRIES;
	one[37] = 1;
	one[46] = RAFT_COMMAND;
	memset(one + 47, 0xff, 4);
	assert_int_equal(decode_exact(one, sizeof(one), &out), -EBADMSG);
	one[47] = one[48] = one[49] = one[50] = 0;
	assert_int_equal(decode_exact(one, sizeof(one), &out), 0);
	rmsg_release(&out);
}

static void test_append_entries_encode_refused(void **state)
{
	(void)state;
	struct raft_entry e = {.term = 1, .type = 0, .buf = {NULL, 0}};
	struct raft_message in = {.type = RAFT_IO_APPEND_ENTRIES};
	in.append_entries.entries = &e;
	in.append_entries.n_entries = 1;
	uint8_t *buf = NULL;
	size_t len;
	assert_int_equal(rmsg_encode(&in, &buf, &len), -EINVAL); /* type 0 */
	e.type = RAFT_COMMAND;
	e.buf.len = 3; /* NULL base */
	assert_int_equal(rmsg_encode(&in, &buf, &len), -EINVAL);
	e.buf.base = &e;
	e.buf.len = (size_t)RMSG_MAX_BYTES + 1;
	assert_int_equal(rmsg_encode(&in, &buf, &len), -EMSGSIZE);
	in.append_entries.entries = NULL;
	assert_int_equal(rmsg_encode(&in, &buf, &len), -EINVAL);
	assert_null(buf);
}

/* ---------------------------------------------------- install snapshot */

static void make_conf(struct raft_configuration *c)
{
	raft_configuration_init(c);
	assert_int_equal(raft_configuration_add(c, 1, "10.0.0.1:9093", RAFT_VOTER), 0);
	assert_int_equal(raft_configuration_add(c, 2, "10.0.0.2:9093", RAFT_STANDBY), 0);
	assert_int_equal(
		raft_configuration_add(c, 0xfedcba9876543210ull, "host-three:9093", RAFT_SPARE), 0);
}

static void assert_conf_equal(const struct raft_configuration *a,
			      const struct raft_configuration *b)
{
	assert_int_equal(a->n, b->n);
	for (unsigned i = 0; i < a->n; i++) {
		assert_int_equal(a->servers[i].id, b->servers[i].id);
		assert_int_equal(a->servers[i].role, b->servers[i].role);
		assert_string_equal(a->servers[i].address, b->servers[i].address);
		assert_ptr_not_equal(a->servers[i].address, b->servers[i].address);
	}
}

static void test_install_snapshot(void **state)
{
	(void)state;
	char data[] = "snapshot bytes";
	for (int with_data = 0; with_data < 2; with_data++) {
		struct raft_message in = {.type = RAFT_IO_INSTALL_SNAPSHOT};
		in.install_snapshot.term = 8;
		in.install_snapshot.last_index = 1000;
		in.install_snapshot.last_term = 7;
		in.install_snapshot.conf_index = 990;
		make_conf(&in.install_snapshot.conf);
		if (with_data) {
			in.install_snapshot.data.base = data;
			in.install_snapshot.data.len = sizeof(data);
		}
		struct raft_message out;
		size_t len;
		uint8_t *buf = roundtrip(&in, &out, &len);
		const struct raft_install_snapshot *is = &out.install_snapshot;
		assert_int_equal(is->term, 8);
		assert_int_equal(is->last_index, 1000);
		assert_int_equal(is->last_term, 7);
		assert_int_equal(is->conf_index, 990);
		assert_conf_equal(&in.install_snapshot.conf, &is->conf);
		assert_int_equal(is->data.len, in.install_snapshot.data.len);
		assert_non_null(is->data.base);
		if (with_data)
			assert_memory_equal(is->data.base, data, sizeof(data));
		raft_style_free_snapshot(&out.install_snapshot);

		/* First server at 30: id 30..37, role 38, addr_len 39, addr 40.. */
		struct {
			size_t off;
			uint8_t val;
		} bad[] = {
			{38, 3},    /* role */
			{38, 0xff}, /* role */
			{40, 0},    /* NUL in the address */
			{39, 14},   /* address length: everything after shifts */
			{39, 12},   /* address length */
			{29, 4},    /* n servers */
			{29, 2},    /* n servers */
			{26, 0xff}, /* n servers, huge */
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			uint8_t saved = buf[bad[i].off];
			buf[bad[i].off] = bad[i].val;
			assert_int_equal(decode_exact(buf, len, &out), -EBADMSG);
			assert_body_zero(&out);
			buf[bad[i].off] = saved;
		}
		/* Server id 0. */
		uint8_t saved[8];
		memcpy(saved, buf + 30, 8);
		memset(buf + 30, 0, 8);
		assert_int_equal(decode_exact(buf, len, &out), -EBADMSG);
		/* Duplicate id: the first server takes the second's id (2). */
		buf[37] = 2;
		assert_int_equal(decode_exact(buf, len, &out), -EBADMSG);
		memcpy(buf + 30, saved, 8);
		/* Duplicate address: the second's last digit ('2' at 53+12)
		 * becomes the first's. Second server at 53: id 53..60, role 61,
		 * len 62, addr 63..75. */
		assert_int_equal(buf[63 + 7], '2');
		buf[63 + 7] = '1';
		assert_int_equal(decode_exact(buf, len, &out), -EBADMSG);
		buf[63 + 7] = '2';
		/* Data length off by one either way. */
		buf[len - in.install_snapshot.data.len - 1]++;
		assert_int_equal(decode_exact(buf, len, &out), -EBADMSG);
		buf[len - in.install_snapshot.data.len - 1]--;

		assert_int_equal(decode_exact(buf, len, &out), 0);
		rmsg_release(&out);
		assert_body_zero(&out);
		free(buf);
		raft_configuration_close(&in.install_snapshot.conf);
	}
}

static void test_install_snapshot_encode_refused(void **state)
{
	(void)state;
	struct raft_message in = {.type = RAFT_IO_INSTALL_SNAPSHOT};
	make_conf(&in.install_snapshot.conf);
	uint8_t *buf = NULL;
	size_t len;
	struct raft_server *s = &in.install_snapshot.conf.servers[1];
	s->role = 3;
	assert_int_equal(rmsg_encode(&in, &buf, &len), -EINVAL);
	s->role = RAFT_VOTER;
	s->id = 0;
	assert_int_equal(rmsg_encode(&in, &buf, &len), -EINVAL);
	s->id = 1; /* duplicate of server 0 */
	assert_int_equal(rmsg_encode(&in, &buf, &len), -EINVAL);
	s->id = 2;
	char *saved = s->address;
	char longaddr[RMSG_ADDRESS_MAX + 2];
	memset(longaddr, 'a', sizeof(longaddr) - 1);
	longaddr[sizeof(longaddr) - 1] = '\0';
	s->address = longaddr;
	assert_int_equal(rmsg_encode(&in, &buf, &len), -EINVAL);
	longaddr[RMSG_ADDRESS_MAX] = '\0'; /* exactly the maximum: fine */
	assert_int_equal(rmsg_encode(&in, &buf, &len), 0);
	struct raft_message out;
	assert_int_equal(decode_exact(buf, len, &out), 0);
	assert_string_equal(out.install_snapshot.conf.servers[1].address, longaddr);
	rmsg_release(&out);
	free(buf);
	buf = NULL;
	s->address = saved;
	in.install_snapshot.data.len = 1; /* NULL base */
	assert_int_equal(rmsg_encode(&in, &buf, &len), -EINVAL);
	assert_null(buf);
	raft_configuration_close(&in.install_snapshot.conf);
}

/* -------------------------------------------------------- configuration */

static void test_conf_roundtrip(void **state)
{
	(void)state;
	struct raft_configuration in, out;
	make_conf(&in);
	uint8_t *buf;
	size_t len;
	assert_int_equal(rmsg_conf_encode(&in, &buf, &len), 0);
	assert_int_equal(buf[0], RMSG_VERSION);
	for (size_t cut = 0; cut < len; cut++) {
		assert_int_equal(conf_decode_exact(buf, cut, &out), -EBADMSG);
		assert_int_equal(out.n, 0);
		assert_null(out.servers);
	}
	uint8_t *longer = copy_plus_one(buf, len);
	assert_int_equal(conf_decode_exact(longer, len + 1, &out), -EBADMSG);
	assert_int_equal(out.n, 0);
	free(longer);
	assert_int_equal(conf_decode_exact(buf, len, &out), 0);
	assert_conf_equal(&in, &out);
	raft_configuration_close(&out);
	/* Role of the first server (version 1 + n 4 + id 8 = offset 13). */
	buf[13] = 3;
	assert_int_equal(conf_decode_exact(buf, len, &out), -EBADMSG);
	assert_int_equal(out.n, 0);
	free(buf);
	raft_configuration_close(&in);

	/* The empty configuration. */
	raft_configuration_init(&in);
	assert_int_equal(rmsg_conf_encode(&in, &buf, &len), 0);
	assert_int_equal(len, 5);
	assert_int_equal(conf_decode_exact(buf, len, &out), 0);
	assert_int_equal(out.n, 0);
	raft_configuration_close(&out);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_vote),
		cmocka_unit_test(test_request_vote_result),
		cmocka_unit_test(test_append_entries_result),
		cmocka_unit_test(test_timeout_now_bytes),
		cmocka_unit_test(test_bad_header),
		cmocka_unit_test(test_append_entries),
		cmocka_unit_test(test_append_entries_only_empty),
		cmocka_unit_test(test_append_entries_huge_count),
		cmocka_unit_test(test_append_entries_encode_refused),
		cmocka_unit_test(test_install_snapshot),
		cmocka_unit_test(test_install_snapshot_encode_refused),
		cmocka_unit_test(test_conf_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
