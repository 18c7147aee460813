/*
 * kp_codec — the primitive encodings of the Kafka protocol: a bounded reader
 * and a capped writer, shared by every message codec in client/.
 *
 * Reader (decode). A struct kp_reader walks one frame the caller owns. Every
 * read is bounds-checked; the first failure is kept in kr_err (sticky) and
 * every later read returns a zero value without touching memory, so a
 * decoder reads a whole struct and checks the error once. Strings, bytes and
 * record sets come back as views into the frame (valid while the frame is);
 * arrays that need converting (structs, int32 lists) are cut from the
 * reader's arena. kr_flexible selects the encoding of strings, bytes and
 * arrays: classic (int16/int32 lengths) or compact (unsigned varint of
 * length + 1, 0 = null); message decoders set it from the API version.
 *
 * Writer (encode). A struct kp_writer appends to a buffer that is either
 * the caller's fixed block or a heap buffer it grows (by doubling) up to a
 * hard cap given at init. The first failure (cap reached, out of memory, a
 * value the chosen encoding cannot carry) is sticky in kw_err; later writes
 * do nothing. kw_flexible selects the encoding as for the reader.
 *
 * Error codes. Local failures are negative KP_E* codes in -2000..-2099,
 * next to rlerr.h's RL_E* range (-1000..-1999) and negative errno values, so
 * one int carries any of them and kp_strerror() names all three. Kafka's
 * wire error codes are the separate positive enum kp_error_code (kp_api.h).
 */
#ifndef REPLOG_KP_CODEC_H
#define REPLOG_KP_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_arena.h"

enum kp_err {
	KP_EBASE = -2000,
	KP_ETRUNCATED = -2001,	     /* a field or count runs past the end of the frame */
	KP_EMALFORMED = -2002,	     /* impossible encoding: bad length, varint, null, tag order */
	KP_ETRAILING = -2003,	     /* the body decoded, but bytes follow it */
	KP_EARENA = -2004,	     /* the decode arena is exhausted */
	KP_ETOO_LARGE = -2005,	     /* the writer's cap, or a frame above its limit */
	KP_EINVAL = -2006,	     /* a value the chosen version/encoding cannot carry */
	KP_EUNSUPPORTED_API = -2007, /* no codec for this api key */
	KP_EUNSUPPORTED_VERSION = -2008, /* codec exists, version outside its range */
	KP_ELAST = -2009
};

/* Name of any return code: KP_E*, RL_E*, negative errno, or 0. Static
 * string, never NULL. */
const char *kp_strerror(int code);

/* Longest string either encoding accepts (Kafka refuses longer ones too). */
#define KP_STRING_MAX INT16_MAX

/* A string view: len -1 = null (ptr NULL), otherwise len bytes at ptr, not
 * NUL-terminated. Decoded views point into the frame. */
struct kp_str {
	const char *ptr;
	int32_t len;
};

/* A bytes view, len -1 = null. */
struct kp_bytes {
	const uint8_t *ptr;
	int32_t len;
};

/* A writable view of a record set (one or more RecordBatch v2 laid end to
 * end), len -1 = null. Decoded from a Produce request it points into the
 * caller's frame, so the broker can stamp baseOffset and the leader epoch in
 * place before appending the bytes. */
struct kp_records {
	uint8_t *ptr;
	int32_t len;
};

/* A tagged-field section kept raw: ptr/len cover the whole section as it was
 * on the wire (count, then tag/size/data triples). len 0 (ptr NULL) is the
 * empty section, which encodes as the single byte 0x00; a decoded section
 * with no fields is normalised to that. Unknown tags thus survive a
 * decode/encode round trip byte for byte. */
struct kp_tags {
	const uint8_t *ptr;
	int32_t len;
};

/* One tagged field, for building a section (kp_write_tag_fields) or walking
 * one (kp_tags_next). */
struct kp_tag_field {
	uint32_t tag;
	struct kp_bytes data; /* never null; len >= 0 */
};

struct kp_uuid {
	uint8_t bytes[16];
};

#define KP_STR_NULL	((struct kp_str){NULL, -1})
#define KP_BYTES_NULL	((struct kp_bytes){NULL, -1})
#define KP_RECORDS_NULL ((struct kp_records){NULL, -1})
#define KP_TAGS_EMPTY	((struct kp_tags){NULL, 0})
/* A view of a string literal. */
#define KP_STR(lit) ((struct kp_str){(lit), (int32_t)(sizeof(lit) - 1)})

/* View of a NUL-terminated string; NULL gives the null string. */
struct kp_str kp_str_from_cstr(const char *s);
/* Equal when both null, or same length and bytes. */
bool kp_str_eq(struct kp_str a, struct kp_str b);
bool kp_str_eq_cstr(struct kp_str a, const char *s);
bool kp_bytes_eq(struct kp_bytes a, struct kp_bytes b);
bool kp_tags_eq(struct kp_tags a, struct kp_tags b);

/* The wire form of a string, bytes or array length. */
enum kp_form {
	KP_FORM_CLASSIC, /* int16 (string) or int32 (bytes, array) length, -1 = null */
	KP_FORM_COMPACT, /* unsigned varint of length + 1, 0 = null */
};

/* ---------------------------------------------------------------- reader */

struct kp_reader {
	uint8_t *kr_pos;	   /* next byte to read */
	uint8_t *kr_end;	   /* one past the last byte of the frame */
	int kr_err;		   /* first failure (KP_E*), sticky; 0 = none */
	bool kr_flexible;	   /* compact strings/bytes/arrays */
	struct kp_arena *kr_arena; /* where decoded arrays go (borrowed; may be NULL) */
};

/* buf is the caller's frame: it must outlive every view decoded from it. It
 * is writable so Produce record sets can be stamped in place; nothing else
 * writes to it. */
void kp_reader_init(struct kp_reader *r, uint8_t *buf, size_t len, struct kp_arena *arena);

static inline size_t kp_reader_remaining(const struct kp_reader *r)
{
	return (size_t)(r->kr_end - r->kr_pos);
}

/* Record a failure unless one is recorded already; returns kr_err. */
int kp_reader_fail(struct kp_reader *r, int err);

/* End of a body: kr_err if set, else KP_ETRAILING when bytes remain, else 0. */
int kp_reader_finish(const struct kp_reader *r);

/* Fixed-size integers, big-endian. 0 (false, all-zero uuid) after an error. */
int8_t kp_read_int8(struct kp_reader *r);
int16_t kp_read_int16(struct kp_reader *r);
int32_t kp_read_int32(struct kp_reader *r);
int64_t kp_read_int64(struct kp_reader *r);
uint32_t kp_read_uint32(struct kp_reader *r);
bool kp_read_bool(struct kp_reader *r); /* any non-zero byte is true, as in Kafka */
struct kp_uuid kp_read_uuid(struct kp_reader *r);

/* Variable-length integers (log/varint.h rules: at most 5 bytes for 32 bits,
 * overflow refused as KP_EMALFORMED, cut short as KP_ETRUNCATED). */
uint32_t kp_read_uvarint(struct kp_reader *r);
int32_t kp_read_varint(struct kp_reader *r);
int64_t kp_read_varlong(struct kp_reader *r);

/* Strings: form from kr_flexible. A null where the field is not nullable, a
 * negative length other than null, or a compact length above KP_STRING_MAX
 * is KP_EMALFORMED. Views into the frame. */
struct kp_str kp_read_string(struct kp_reader *r);
struct kp_str kp_read_nullable_string(struct kp_reader *r);
struct kp_str kp_read_string_form(struct kp_reader *r, enum kp_form form, bool nullable);

/* Bytes (int32 length classic, uvarint compact). */
struct kp_bytes kp_read_bytes(struct kp_reader *r);
struct kp_bytes kp_read_nullable_bytes(struct kp_reader *r);
struct kp_bytes kp_read_bytes_form(struct kp_reader *r, enum kp_form form, bool nullable);
/* A nullable record set, as a writable view. */
struct kp_records kp_read_records(struct kp_reader *r);

/* Array count: -1 for null (only if nullable), else 0..INT32_MAX. A count
 * whose elements could not fit in the bytes left, at min_elem_bytes each
 * (>= 1), is KP_ETRUNCATED: that bounds every arena allocation by the frame
 * size. Returns 0 after an error. */
int32_t kp_read_array_count(struct kp_reader *r, bool nullable, size_t min_elem_bytes);
int32_t kp_read_array_count_form(struct kp_reader *r, enum kp_form form, bool nullable,
				 size_t min_elem_bytes);

/* count elements of elem_size bytes from the arena, zeroed; NULL for count
 * <= 0. Exhaustion (or no arena) is KP_EARENA. */
void *kp_read_alloc(struct kp_reader *r, int32_t count, size_t elem_size);

/* An array count followed by its elements, allocated from the arena. Sets
 * *count (-1 = null); returns the elements (NULL when null, empty or on
 * error). */
void *kp_read_struct_array(struct kp_reader *r, bool nullable, size_t min_elem_bytes,
			   size_t elem_size, int32_t *count);
int32_t *kp_read_int32_array(struct kp_reader *r, bool nullable, int32_t *count);
int64_t *kp_read_int64_array(struct kp_reader *r, bool nullable, int32_t *count);
struct kp_str *kp_read_string_array(struct kp_reader *r, bool nullable, int32_t *count);

/* A tagged-field section, validated and kept raw: count <= the bytes left
 * / 2, each size within the frame, tags strictly increasing (stricter than
 * Java, which reads any order; KIP-482 writes them sorted). Unknown tags
 * are thereby skipped. */
struct kp_tags kp_read_tags(struct kp_reader *r);

/* Walk a section decoded by kp_read_tags (or built by kp_write_tag_fields).
 * Returns 1 with *f set, 0 at the end, KP_EMALFORMED if the section is not
 * well-formed. The iterator holds no resources. */
struct kp_tags_iter {
	const uint8_t *ti_pos;
	const uint8_t *ti_end;
	uint32_t ti_left; /* fields still to walk */
	bool ti_started;
};
void kp_tags_iter_init(struct kp_tags_iter *it, struct kp_tags tags);
int kp_tags_next(struct kp_tags_iter *it, struct kp_tag_field *f);

/* ---------------------------------------------------------------- writer */

struct kp_writer {
	uint8_t *kw_buf;  /* the bytes written so far */
	size_t kw_len;	  /* bytes written */
	size_t kw_size;	  /* bytes allocated at kw_buf */
	size_t kw_cap;	  /* hard limit on kw_len */
	int kw_err;	  /* first failure, sticky; 0 = none */
	bool kw_flexible; /* compact strings/bytes/arrays */
	bool kw_owned;	  /* kw_buf is a heap buffer the writer grows and frees */
};

/* A heap buffer grown on demand up to cap_bytes (KP_ETOO_LARGE beyond,
 * -ENOMEM if the allocator fails). Release with kp_writer_deinit(). */
void kp_writer_init(struct kp_writer *w, size_t cap_bytes);
/* The caller's block of `size` bytes; never grows, never allocates. */
void kp_writer_init_fixed(struct kp_writer *w, uint8_t *buf, size_t size);
void kp_writer_deinit(struct kp_writer *w);
/* Empty the writer (keeps its buffer) and clear its error. */
void kp_writer_reset(struct kp_writer *w);
int kp_writer_fail(struct kp_writer *w, int err);

static inline int kp_writer_error(const struct kp_writer *w)
{
	return w->kw_err;
}

void kp_write_raw(struct kp_writer *w, const void *data, size_t len);
void kp_write_int8(struct kp_writer *w, int8_t v);
void kp_write_int16(struct kp_writer *w, int16_t v);
void kp_write_int32(struct kp_writer *w, int32_t v);
void kp_write_int64(struct kp_writer *w, int64_t v);
void kp_write_uint32(struct kp_writer *w, uint32_t v);
void kp_write_bool(struct kp_writer *w, bool v);
void kp_write_uuid(struct kp_writer *w, const struct kp_uuid *v);
void kp_write_uvarint(struct kp_writer *w, uint32_t v);
void kp_write_varint(struct kp_writer *w, int32_t v);
void kp_write_varlong(struct kp_writer *w, int64_t v);

/* Null into a non-nullable field, a length above KP_STRING_MAX (strings) or
 * below -1, or a NULL ptr with a positive length, is KP_EINVAL. */
void kp_write_string(struct kp_writer *w, struct kp_str s);
void kp_write_nullable_string(struct kp_writer *w, struct kp_str s);
void kp_write_string_form(struct kp_writer *w, enum kp_form form, bool nullable, struct kp_str s);
void kp_write_bytes(struct kp_writer *w, struct kp_bytes b);
void kp_write_nullable_bytes(struct kp_writer *w, struct kp_bytes b);
void kp_write_bytes_form(struct kp_writer *w, enum kp_form form, bool nullable, struct kp_bytes b);
void kp_write_records(struct kp_writer *w, struct kp_records rec);

/* An array count (-1 = null, refused with KP_EINVAL unless nullable). The
 * caller writes the elements. */
void kp_write_array_count(struct kp_writer *w, int32_t count, bool nullable);
void kp_write_array_count_form(struct kp_writer *w, enum kp_form form, bool nullable,
			       int32_t count);
/* The count of an array of structs the caller then writes: KP_EINVAL when
 * count > 0 but elems is NULL, or count is null and the array is not
 * nullable. Returns true when the caller should go on writing elements. */
bool kp_write_array_begin(struct kp_writer *w, const void *elems, int32_t count, bool nullable);
void kp_write_int32_array(struct kp_writer *w, bool nullable, const int32_t *v, int32_t count);
void kp_write_int64_array(struct kp_writer *w, bool nullable, const int64_t *v, int32_t count);
void kp_write_string_array(struct kp_writer *w, bool nullable, const struct kp_str *v,
			   int32_t count);

/* A raw section as decoded (len 0 writes the empty section 0x00). */
void kp_write_tags(struct kp_writer *w, struct kp_tags tags);
/* A section built from fields, which must be in strictly increasing tag
 * order (KP_EINVAL otherwise). count 0 writes 0x00. */
void kp_write_tag_fields(struct kp_writer *w, const struct kp_tag_field *fields, int count);

/* --------------------------------------------------------------- framing */

/* The int32 size prefix of a frame: begin reserves it and returns its
 * offset; end stores the number of bytes written after it. */
size_t kp_write_frame_begin(struct kp_writer *w);
void kp_write_frame_end(struct kp_writer *w, size_t mark);

/* Read the size prefix at buf. Returns the size of the frame after the
 * prefix (0..max_frame_bytes); KP_ETRUNCATED when fewer than 4 bytes are
 * given (read more); KP_EMALFORMED for a negative size; KP_ETOO_LARGE above
 * max_frame_bytes (the connection should be closed, as Kafka does). */
int32_t kp_frame_size(const uint8_t *buf, size_t len, int32_t max_frame_bytes);

#define KP_FRAME_PREFIX_BYTES 4

#endif
