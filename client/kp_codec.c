/*
 * kp_codec — Kafka's primitive wire encodings (see kp_codec.h for the API).
 *
 * The encodings, all integers big-endian two's complement:
 *
 *   int8/16/32/64, uint32  1/2/4/8/4 bytes
 *   bool                   1 byte; 0 = false, anything else true (written 0/1)
 *   uuid                   16 raw bytes
 *   uvarint                base-128 groups, least significant first, high bit =
 *                          continuation, at most 5 bytes (log/varint.h)
 *   string   classic       int16 length, then bytes; -1 = null
 *            compact       uvarint(length + 1), then bytes; 0 = null
 *   bytes    classic       int32 length, then bytes; -1 = null
 *            compact       uvarint(length + 1), then bytes; 0 = null
 *   array    classic       int32 count, then elements; -1 = null
 *            compact       uvarint(count + 1), then elements; 0 = null
 *   tagged fields          uvarint count, then count x (uvarint tag, uvarint
 *                          size, size bytes); only in flexible versions, at
 *                          the end of every struct
 *   frame                  int32 size of what follows, then header and body
 *
 * What the reader refuses, and with which code:
 *   KP_ETRUNCATED  a fixed field, a length or a tagged field's size running
 *                  past the frame; an array count larger than the bytes left
 *                  could hold at the caller's minimum element size
 *   KP_EMALFORMED  a classic length below -1; a null in a non-nullable field;
 *                  a compact string longer than 32767 or a compact bytes or
 *                  array length above INT32_MAX; an overlong or overflowing
 *                  varint; tags not strictly increasing
 *   KP_EARENA      the arena cannot hold a decoded array
 * An error is sticky: later reads return zero values and never move, so
 * decoders need no error check between fields, only at loop heads and the
 * end. Nothing here reads outside [kr_pos, kr_end) or allocates.
 */
#include "kp_codec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h" /* be16/32/64 load and store */
#include "rlassert.h"
#include "rlerr.h"
#include "varint.h"

/* ------------------------------------------------------------- errors */

static const char *const kp_messages[] = {
	[-(KP_ETRUNCATED - KP_EBASE)] = "Kafka message: field runs past the end of the frame",
	[-(KP_EMALFORMED - KP_EBASE)] = "Kafka message: malformed field",
	[-(KP_ETRAILING - KP_EBASE)] = "Kafka message: bytes after the end of the body",
	[-(KP_EARENA - KP_EBASE)] = "Kafka message: decode arena exhausted",
	[-(KP_ETOO_LARGE - KP_EBASE)] = "Kafka message: too large",
	[-(KP_EINVAL - KP_EBASE)] = "Kafka message: value not representable in this version",
	[-(KP_EUNSUPPORTED_API - KP_EBASE)] = "Kafka message: unsupported api key",
	[-(KP_EUNSUPPORTED_VERSION - KP_EBASE)] = "Kafka message: unsupported api version",
};

_Static_assert(sizeof(kp_messages) / sizeof(kp_messages[0]) == (unsigned)-(KP_ELAST - KP_EBASE),
	       "every KP_E* code has a message");
_Static_assert((int)KP_EBASE <= (int)RL_ELAST, "KP_E* codes sit below the RL_E* range");

const char *kp_strerror(int code)
{
	if (code < KP_EBASE && code > KP_ELAST)
		return kp_messages[-(code - KP_EBASE)];
	return rl_strerror(code);
}

/* -------------------------------------------------------------- views */

struct kp_str kp_str_from_cstr(const char *s)
{
	if (!s)
		return KP_STR_NULL;
	size_t n = strlen(s);
	return (struct kp_str){s, n > INT32_MAX ? INT32_MAX : (int32_t)n};
}

static bool views_eq(const void *a, int32_t alen, const void *b, int32_t blen)
{
	if (alen != blen)
		return false;
	return alen <= 0 || memcmp(a, b, (size_t)alen) == 0;
}

bool kp_str_eq(struct kp_str a, struct kp_str b)
{
	return views_eq(a.ptr, a.len, b.ptr, b.len);
}

bool kp_str_eq_cstr(struct kp_str a, const char *s)
{
	return kp_str_eq(a, kp_str_from_cstr(s));
}

bool kp_bytes_eq(struct kp_bytes a, struct kp_bytes b)
{
	return views_eq(a.ptr, a.len, b.ptr, b.len);
}

bool kp_tags_eq(struct kp_tags a, struct kp_tags b)
{
	return views_eq(a.ptr, a.len, b.ptr, b.len);
}

/* ------------------------------------------------------------- reader */

void kp_reader_init(struct kp_reader *r, uint8_t *buf, size_t len, struct kp_arena *arena)
{
	RL_ASSERT(buf != NULL || len == 0);
	r->kr_pos = buf;
	r->kr_end = buf ? buf + len : buf; /* NULL + 0 is undefined behaviour */
	r->kr_err = 0;
	r->kr_flexible = false;
	r->kr_arena = arena;
	/* Every view length is an int32; so must the frame be. */
	if (len > INT32_MAX)
		r->kr_err = KP_ETOO_LARGE;
}

int kp_reader_fail(struct kp_reader *r, int err)
{
	RL_ASSERT(err < 0);
	if (!r->kr_err)
		r->kr_err = err;
	return r->kr_err;
}

int kp_reader_finish(const struct kp_reader *r)
{
	if (r->kr_err)
		return r->kr_err;
	return r->kr_pos == r->kr_end ? 0 : KP_ETRAILING;
}

/* n bytes from the frame, or NULL (and KP_ETRUNCATED) if they are not all
 * there. The only place the read position moves forward. */
static uint8_t *take(struct kp_reader *r, size_t n)
{
	if (r->kr_err)
		return NULL;
	if (kp_reader_remaining(r) < n) {
		kp_reader_fail(r, KP_ETRUNCATED);
		return NULL;
	}
	uint8_t *p = r->kr_pos;
	r->kr_pos += n;
	return p;
}

int8_t kp_read_int8(struct kp_reader *r)
{
	const uint8_t *p = take(r, 1);
	return p ? (int8_t)p[0] : 0;
}

int16_t kp_read_int16(struct kp_reader *r)
{
	const uint8_t *p = take(r, 2);
	return p ? (int16_t)be16_load(p) : 0;
}

int32_t kp_read_int32(struct kp_reader *r)
{
	const uint8_t *p = take(r, 4);
	return p ? (int32_t)be32_load(p) : 0;
}

int64_t kp_read_int64(struct kp_reader *r)
{
	const uint8_t *p = take(r, 8);
	return p ? (int64_t)be64_load(p) : 0;
}

uint32_t kp_read_uint32(struct kp_reader *r)
{
	const uint8_t *p = take(r, 4);
	return p ? be32_load(p) : 0;
}

bool kp_read_bool(struct kp_reader *r)
{
	const uint8_t *p = take(r, 1);
	return p ? p[0] != 0 : false;
}

struct kp_uuid kp_read_uuid(struct kp_reader *r)
{
	struct kp_uuid u = {{0}};
	const uint8_t *p = take(r, sizeof(u.bytes));
	if (p)
		memcpy(u.bytes, p, sizeof(u.bytes));
	return u;
}

/* Map log/varint.h's outcomes onto ours and advance. */
static bool varint_step(struct kp_reader *r, int n)
{
	if (n == RL_ETRUNCATED) {
		kp_reader_fail(r, KP_ETRUNCATED);
		return false;
	}
	if (n <= 0) {
		kp_reader_fail(r, KP_EMALFORMED);
		return false;
	}
	RL_DEBUG_ASSERT((size_t)n <= kp_reader_remaining(r));
	r->kr_pos += n;
	return true;
}

uint32_t kp_read_uvarint(struct kp_reader *r)
{
	uint32_t v = 0;
	if (r->kr_err)
		return 0;
	return varint_step(r, uvarint_decode32(r->kr_pos, kp_reader_remaining(r), &v)) ? v : 0;
}

int32_t kp_read_varint(struct kp_reader *r)
{
	int32_t v = 0;
	if (r->kr_err)
		return 0;
	return varint_step(r, varint_decode32(r->kr_pos, kp_reader_remaining(r), &v)) ? v : 0;
}

int64_t kp_read_varlong(struct kp_reader *r)
{
	int64_t v = 0;
	if (r->kr_err)
		return 0;
	return varint_step(r, varint_decode64(r->kr_pos, kp_reader_remaining(r), &v)) ? v : 0;
}

/* The length prefix of a string/bytes/array in either form: -1 for null,
 * else 0..max. Refuses nulls unless nullable. Returns -2 after an error. */
static int64_t read_length(struct kp_reader *r, enum kp_form form, bool nullable, bool is_int16,
			   int64_t max)
{
	int64_t len;
	if (form == KP_FORM_COMPACT)
		len = (int64_t)kp_read_uvarint(r) - 1;
	else if (is_int16)
		len = kp_read_int16(r);
	else
		len = kp_read_int32(r);
	if (r->kr_err)
		return -2;
	if (len < -1 || len > max || (len == -1 && !nullable)) {
		kp_reader_fail(r, KP_EMALFORMED);
		return -2;
	}
	return len;
}

struct kp_str kp_read_string_form(struct kp_reader *r, enum kp_form form, bool nullable)
{
	int64_t len = read_length(r, form, nullable, true, KP_STRING_MAX);
	if (len == -1)
		return KP_STR_NULL;
	const uint8_t *p = len >= 0 ? take(r, (size_t)len) : NULL;
	if (!p)
		return nullable ? KP_STR_NULL : (struct kp_str){"", 0};
	return (struct kp_str){(const char *)p, (int32_t)len};
}

static enum kp_form reader_form(const struct kp_reader *r)
{
	return r->kr_flexible ? KP_FORM_COMPACT : KP_FORM_CLASSIC;
}

struct kp_str kp_read_string(struct kp_reader *r)
{
	return kp_read_string_form(r, reader_form(r), false);
}

struct kp_str kp_read_nullable_string(struct kp_reader *r)
{
	return kp_read_string_form(r, reader_form(r), true);
}

/* A bytes field as a writable view; all three bytes readers share it. */
static struct kp_records read_bytes_mut(struct kp_reader *r, enum kp_form form, bool nullable)
{
	int64_t len = read_length(r, form, nullable, false, INT32_MAX);
	if (len == -1)
		return KP_RECORDS_NULL;
	uint8_t *p = len >= 0 ? take(r, (size_t)len) : NULL;
	if (!p)
		return nullable ? KP_RECORDS_NULL : (struct kp_records){NULL, 0};
	return (struct kp_records){p, (int32_t)len};
}

struct kp_bytes kp_read_bytes_form(struct kp_reader *r, enum kp_form form, bool nullable)
{
	struct kp_records m = read_bytes_mut(r, form, nullable);
	return (struct kp_bytes){m.ptr, m.len};
}

struct kp_bytes kp_read_bytes(struct kp_reader *r)
{
	return kp_read_bytes_form(r, reader_form(r), false);
}

struct kp_bytes kp_read_nullable_bytes(struct kp_reader *r)
{
	return kp_read_bytes_form(r, reader_form(r), true);
}

struct kp_records kp_read_records(struct kp_reader *r)
{
	return read_bytes_mut(r, reader_form(r), true);
}

int32_t kp_read_array_count_form(struct kp_reader *r, enum kp_form form, bool nullable,
				 size_t min_elem_bytes)
{
	RL_ASSERT(min_elem_bytes >= 1);
	int64_t count = read_length(r, form, nullable, false, INT32_MAX);
	if (count < -1)
		return 0;
	if (count > 0 && (uint64_t)count > kp_reader_remaining(r) / min_elem_bytes) {
		kp_reader_fail(r, KP_ETRUNCATED);
		return 0;
	}
	return (int32_t)count;
}

int32_t kp_read_array_count(struct kp_reader *r, bool nullable, size_t min_elem_bytes)
{
	return kp_read_array_count_form(r, reader_form(r), nullable, min_elem_bytes);
}

void *kp_read_alloc(struct kp_reader *r, int32_t count, size_t elem_size)
{
	if (r->kr_err || count <= 0)
		return NULL;
	void *p = r->kr_arena ? kp_arena_alloc_array(r->kr_arena, (size_t)count, elem_size) : NULL;
	if (!p)
		kp_reader_fail(r, KP_EARENA);
	return p;
}

void *kp_read_struct_array(struct kp_reader *r, bool nullable, size_t min_elem_bytes,
			   size_t elem_size, int32_t *count)
{
	*count = kp_read_array_count(r, nullable, min_elem_bytes);
	void *p = kp_read_alloc(r, *count, elem_size);
	if (r->kr_err)
		*count = 0;
	return p;
}

int32_t *kp_read_int32_array(struct kp_reader *r, bool nullable, int32_t *count)
{
	int32_t *v = kp_read_struct_array(r, nullable, 4, sizeof(*v), count);
	for (int32_t i = 0; i < *count && v; i++)
		v[i] = kp_read_int32(r);
	return v;
}

int64_t *kp_read_int64_array(struct kp_reader *r, bool nullable, int32_t *count)
{
	int64_t *v = kp_read_struct_array(r, nullable, 8, sizeof(*v), count);
	for (int32_t i = 0; i < *count && v; i++)
		v[i] = kp_read_int64(r);
	return v;
}

struct kp_str *kp_read_string_array(struct kp_reader *r, bool nullable, int32_t *count)
{
	size_t min = r->kr_flexible ? 1 : 2;
	struct kp_str *v = kp_read_struct_array(r, nullable, min, sizeof(*v), count);
	for (int32_t i = 0; i < *count && v && !r->kr_err; i++)
		v[i] = kp_read_string(r);
	return v;
}

struct kp_tags kp_read_tags(struct kp_reader *r)
{
	const uint8_t *start = r->kr_pos;
	uint32_t count = kp_read_uvarint(r);
	/* Each field takes at least a tag byte and a size byte. */
	if (!r->kr_err && count > kp_reader_remaining(r) / 2)
		kp_reader_fail(r, KP_ETRUNCATED);
	int64_t prev = -1;
	for (uint32_t i = 0; i < count && !r->kr_err; i++) {
		uint32_t tag = kp_read_uvarint(r);
		uint32_t size = kp_read_uvarint(r);
		if (!r->kr_err && (int64_t)tag <= prev)
			kp_reader_fail(r, KP_EMALFORMED);
		prev = tag;
		take(r, size);
	}
	if (r->kr_err || count == 0)
		return KP_TAGS_EMPTY;
	return (struct kp_tags){start, (int32_t)(r->kr_pos - start)};
}

void kp_tags_iter_init(struct kp_tags_iter *it, struct kp_tags tags)
{
	it->ti_pos = tags.ptr;
	it->ti_end = tags.len > 0 ? tags.ptr + tags.len : tags.ptr;
	it->ti_left = 0;
	it->ti_started = false;
}

/* One uvarint from the iterator's bytes; false if malformed or cut short. */
static bool iter_uvarint(struct kp_tags_iter *it, uint32_t *v)
{
	int n = uvarint_decode32(it->ti_pos, (size_t)(it->ti_end - it->ti_pos), v);
	if (n <= 0)
		return false;
	it->ti_pos += n;
	return true;
}

int kp_tags_next(struct kp_tags_iter *it, struct kp_tag_field *f)
{
	if (!it->ti_started) {
		it->ti_started = true;
		if (it->ti_pos == it->ti_end)
			return 0; /* the empty section */
		if (!iter_uvarint(it, &it->ti_left))
			return KP_EMALFORMED;
	}
	if (it->ti_left == 0)
		return it->ti_pos == it->ti_end ? 0 : KP_EMALFORMED;
	uint32_t size;
	if (!iter_uvarint(it, &f->tag) || !iter_uvarint(it, &size) ||
	    size > (size_t)(it->ti_end - it->ti_pos))
		return KP_EMALFORMED;
	f->data = (struct kp_bytes){it->ti_pos, (int32_t)size};
	it->ti_pos += size;
	it->ti_left--;
	return 1;
}

/* ------------------------------------------------------------- writer */

#define KP_WRITER_MIN_ALLOC 256

void kp_writer_init(struct kp_writer *w, size_t cap_bytes)
{
	memset(w, 0, sizeof(*w));
	w->kw_cap = cap_bytes;
	w->kw_owned = true;
}

void kp_writer_init_fixed(struct kp_writer *w, uint8_t *buf, size_t size)
{
	RL_ASSERT(buf != NULL || size == 0);
	memset(w, 0, sizeof(*w));
	w->kw_buf = buf;
	w->kw_size = size;
	w->kw_cap = size;
}

void kp_writer_deinit(struct kp_writer *w)
{
	if (w->kw_owned)
		free(w->kw_buf);
	memset(w, 0, sizeof(*w));
}

void kp_writer_reset(struct kp_writer *w)
{
	w->kw_len = 0;
	w->kw_err = 0;
}

int kp_writer_fail(struct kp_writer *w, int err)
{
	RL_ASSERT(err < 0);
	if (!w->kw_err)
		w->kw_err = err;
	return w->kw_err;
}

/* Make room for `need` bytes in total (need <= kw_cap). */
static bool grow(struct kp_writer *w, size_t need)
{
	size_t size = w->kw_size ? w->kw_size : KP_WRITER_MIN_ALLOC;
	while (size < need)
		size = size > SIZE_MAX / 2 ? need : size * 2;
	if (size > w->kw_cap)
		size = w->kw_cap;
	uint8_t *p = realloc(w->kw_buf, size);
	if (!p) {
		kp_writer_fail(w, -ENOMEM);
		return false;
	}
	w->kw_buf = p;
	w->kw_size = size;
	return true;
}

/* n bytes at the end of the buffer to fill, or NULL after an error. The only
 * place the length moves forward. */
static uint8_t *reserve(struct kp_writer *w, size_t n)
{
	if (w->kw_err)
		return NULL;
	if (n > w->kw_cap - w->kw_len) {
		kp_writer_fail(w, KP_ETOO_LARGE);
		return NULL;
	}
	if (n > w->kw_size - w->kw_len) {
		RL_ASSERT(w->kw_owned); /* a fixed writer has kw_size == kw_cap */
		if (!grow(w, w->kw_len + n))
			return NULL;
	}
	uint8_t *p = w->kw_buf + w->kw_len;
	w->kw_len += n;
	return p;
}

void kp_write_raw(struct kp_writer *w, const void *data, size_t len)
{
	uint8_t *p = reserve(w, len);
	if (p && len)
		memcpy(p, data, len);
}

void kp_write_int8(struct kp_writer *w, int8_t v)
{
	uint8_t *p = reserve(w, 1);
	if (p)
		p[0] = (uint8_t)v;
}

void kp_write_int16(struct kp_writer *w, int16_t v)
{
	uint8_t *p = reserve(w, 2);
	if (p)
		be16_store(p, (uint16_t)v);
}

void kp_write_int32(struct kp_writer *w, int32_t v)
{
	uint8_t *p = reserve(w, 4);
	if (p)
		be32_store(p, (uint32_t)v);
}

void kp_write_int64(struct kp_writer *w, int64_t v)
{
	uint8_t *p = reserve(w, 8);
	if (p)
		be64_store(p, (uint64_t)v);
}

void kp_write_uint32(struct kp_writer *w, uint32_t v)
{
	uint8_t *p = reserve(w, 4);
	if (p)
		be32_store(p, v);
}

void kp_write_bool(struct kp_writer *w, bool v)
{
	kp_write_int8(w, v ? 1 : 0);
}

void kp_write_uuid(struct kp_writer *w, const struct kp_uuid *v)
{
	kp_write_raw(w, v->bytes, sizeof(v->bytes));
}

void kp_write_uvarint(struct kp_writer *w, uint32_t v)
{
	uint8_t tmp[VARINT_MAX32];
	kp_write_raw(w, tmp, (size_t)uvarint_encode32(tmp, v));
}

void kp_write_varint(struct kp_writer *w, int32_t v)
{
	uint8_t tmp[VARINT_MAX32];
	kp_write_raw(w, tmp, (size_t)varint_encode32(tmp, v));
}

void kp_write_varlong(struct kp_writer *w, int64_t v)
{
	uint8_t tmp[VARINT_MAX64];
	kp_write_raw(w, tmp, (size_t)varint_encode64(tmp, v));
}

static enum kp_form writer_form(const struct kp_writer *w)
{
	return w->kw_flexible ? KP_FORM_COMPACT : KP_FORM_CLASSIC;
}

/* A length prefix in either form; false (KP_EINVAL) when len cannot be
 * written: below -1, above max, or null where not nullable. */
static bool write_length(struct kp_writer *w, enum kp_form form, bool nullable, bool is_int16,
			 int64_t max, int64_t len)
{
	if (len < -1 || len > max || (len == -1 && !nullable)) {
		kp_writer_fail(w, KP_EINVAL);
		return false;
	}
	if (form == KP_FORM_COMPACT)
		kp_write_uvarint(w, (uint32_t)(len + 1));
	else if (is_int16)
		kp_write_int16(w, (int16_t)len);
	else
		kp_write_int32(w, (int32_t)len);
	return true;
}

/* The bytes of a view after its prefix; a NULL pointer can only carry null
 * or empty. */
static void write_view(struct kp_writer *w, enum kp_form form, bool nullable, bool is_int16,
		       int64_t max, const void *ptr, int32_t len)
{
	if (!ptr && len > 0) {
		kp_writer_fail(w, KP_EINVAL);
		return;
	}
	if (write_length(w, form, nullable, is_int16, max, len) && len > 0)
		kp_write_raw(w, ptr, (size_t)len);
}

void kp_write_string_form(struct kp_writer *w, enum kp_form form, bool nullable, struct kp_str s)
{
	write_view(w, form, nullable, true, KP_STRING_MAX, s.ptr, s.len);
}

void kp_write_string(struct kp_writer *w, struct kp_str s)
{
	kp_write_string_form(w, writer_form(w), false, s);
}

void kp_write_nullable_string(struct kp_writer *w, struct kp_str s)
{
	kp_write_string_form(w, writer_form(w), true, s);
}

void kp_write_bytes_form(struct kp_writer *w, enum kp_form form, bool nullable, struct kp_bytes b)
{
	write_view(w, form, nullable, false, INT32_MAX, b.ptr, b.len);
}

void kp_write_bytes(struct kp_writer *w, struct kp_bytes b)
{
	kp_write_bytes_form(w, writer_form(w), false, b);
}

void kp_write_nullable_bytes(struct kp_writer *w, struct kp_bytes b)
{
	kp_write_bytes_form(w, writer_form(w), true, b);
}

void kp_write_records(struct kp_writer *w, struct kp_records rec)
{
	kp_write_bytes_form(w, writer_form(w), true, (struct kp_bytes){rec.ptr, rec.len});
}

void kp_write_array_count_form(struct kp_writer *w, enum kp_form form, bool nullable, int32_t count)
{
	write_length(w, form, nullable, false, INT32_MAX, count);
}

void kp_write_array_count(struct kp_writer *w, int32_t count, bool nullable)
{
	kp_write_array_count_form(w, writer_form(w), nullable, count);
}

/* An array's elements must be there when its count says so. */
static bool array_ok(struct kp_writer *w, const void *v, int32_t count)
{
	if (count > 0 && !v) {
		kp_writer_fail(w, KP_EINVAL);
		return false;
	}
	return true;
}

bool kp_write_array_begin(struct kp_writer *w, const void *elems, int32_t count, bool nullable)
{
	if (array_ok(w, elems, count))
		kp_write_array_count(w, count, nullable);
	return !w->kw_err;
}

void kp_write_int32_array(struct kp_writer *w, bool nullable, const int32_t *v, int32_t count)
{
	if (!array_ok(w, v, count))
		return;
	kp_write_array_count(w, count, nullable);
	for (int32_t i = 0; i < count && !w->kw_err; i++)
		kp_write_int32(w, v[i]);
}

void kp_write_int64_array(struct kp_writer *w, bool nullable, const int64_t *v, int32_t count)
{
	if (!array_ok(w, v, count))
		return;
	kp_write_array_count(w, count, nullable);
	for (int32_t i = 0; i < count && !w->kw_err; i++)
		kp_write_int64(w, v[i]);
}

void kp_write_string_array(struct kp_writer *w, bool nullable, const struct kp_str *v,
			   int32_t count)
{
	if (!array_ok(w, v, count))
		return;
	kp_write_array_count(w, count, nullable);
	for (int32_t i = 0; i < count && !w->kw_err; i++)
		kp_write_string(w, v[i]);
}

void kp_write_tags(struct kp_writer *w, struct kp_tags tags)
{
	if (tags.len <= 0 || !tags.ptr)
		kp_write_uvarint(w, 0);
	else
		kp_write_raw(w, tags.ptr, (size_t)tags.len);
}

void kp_write_tag_fields(struct kp_writer *w, const struct kp_tag_field *fields, int count)
{
	if (count < 0 || (count > 0 && !fields)) {
		kp_writer_fail(w, KP_EINVAL);
		return;
	}
	for (int i = 0; i < count; i++) {
		const struct kp_tag_field *f = &fields[i];
		if ((i > 0 && f->tag <= fields[i - 1].tag) || f->data.len < 0 ||
		    (!f->data.ptr && f->data.len > 0)) {
			kp_writer_fail(w, KP_EINVAL);
			return;
		}
	}
	kp_write_uvarint(w, (uint32_t)count);
	for (int i = 0; i < count; i++) {
		kp_write_uvarint(w, fields[i].tag);
		kp_write_uvarint(w, (uint32_t)fields[i].data.len);
		kp_write_raw(w, fields[i].data.ptr, (size_t)fields[i].data.len);
	}
}

/* ------------------------------------------------------------ framing */

size_t kp_write_frame_begin(struct kp_writer *w)
{
	size_t mark = w->kw_len;
	kp_write_int32(w, 0);
	return mark;
}

void kp_write_frame_end(struct kp_writer *w, size_t mark)
{
	if (w->kw_err)
		return;
	RL_ASSERT(mark + KP_FRAME_PREFIX_BYTES <= w->kw_len);
	size_t size = w->kw_len - mark - KP_FRAME_PREFIX_BYTES;
	if (size > INT32_MAX) {
		kp_writer_fail(w, KP_ETOO_LARGE);
		return;
	}
	be32_store(w->kw_buf + mark, (uint32_t)size);
}

int32_t kp_frame_size(const uint8_t *buf, size_t len, int32_t max_frame_bytes)
{
	if (len < KP_FRAME_PREFIX_BYTES)
		return KP_ETRUNCATED;
	int32_t size = (int32_t)be32_load(buf);
	if (size < 0)
		return KP_EMALFORMED;
	if (size > max_frame_bytes)
		return KP_ETOO_LARGE;
	return size;
}
