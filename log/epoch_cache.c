/*
 * epoch_cache — leader epoch → start offset history (see epoch_cache.h).
 */
#include "epoch_cache.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "rlerr.h"

static int epoch_cache_reserve(struct epoch_cache *ec, uint32_t need)
{
	if (need <= ec->ec_cap)
		return 0;
	if (need > EPOCH_CACHE_MAX_ENTRIES)
		return RL_EFULL;
	uint32_t ncap = ec->ec_cap ? ec->ec_cap * 2 : 16;
	while (ncap < need)
		ncap *= 2;
	struct epoch_entry *n = realloc(ec->ec_entries, ncap * sizeof(*n));
	if (!n)
		return -ENOMEM;
	ec->ec_entries = n;
	ec->ec_cap = ncap;
	return 0;
}

static int epoch_cache_persist(const struct epoch_cache *ec)
{
	if (ec->ec_dir_fd < 0)
		return 0;
	/* Worst case per line: 11 + 1 + 20 + 1 characters. */
	size_t cap = 32 + (size_t)ec->ec_count * 34;
	char *text = malloc(cap);
	if (!text)
		return -ENOMEM;
	size_t len = (size_t)snprintf(text, cap, "0\n%u\n", ec->ec_count);
	for (uint32_t i = 0; i < ec->ec_count; i++)
		len += (size_t)snprintf(text + len, cap - len, "%d %" PRId64 "\n",
					ec->ec_entries[i].ee_epoch,
					ec->ec_entries[i].ee_start_offset);
	int rc = checkpoint_write(ec->ec_dir_fd, EPOCH_CACHE_FILE, text, len);
	free(text);
	return rc;
}

static int epoch_cache_parse(struct epoch_cache *ec, const char *text, size_t len)
{
	const char *p = text;
	char *end;
	long long version = strtoll(p, &end, 10);
	if (end == p || *end != '\n' || version != 0)
		return RL_ECORRUPT;
	p = end + 1;
	long long count = strtoll(p, &end, 10);
	if (end == p || *end != '\n' || count < 0 || count > EPOCH_CACHE_MAX_ENTRIES)
		return RL_ECORRUPT;
	p = end + 1;
	int rc = epoch_cache_reserve(ec, (uint32_t)count);
	if (rc < 0)
		return rc;
	for (long long i = 0; i < count; i++) {
		long long epoch = strtoll(p, &end, 10);
		if (end == p || *end != ' ' || epoch < 0 || epoch > INT32_MAX)
			return RL_ECORRUPT;
		p = end + 1;
		long long start = strtoll(p, &end, 10);
		if (end == p || *end != '\n' || start < 0)
			return RL_ECORRUPT;
		p = end + 1;
		if (ec->ec_count > 0) {
			const struct epoch_entry *last = &ec->ec_entries[ec->ec_count - 1];
			if (epoch <= last->ee_epoch || start <= last->ee_start_offset)
				return RL_ECORRUPT;
		}
		ec->ec_entries[ec->ec_count++] =
			(struct epoch_entry){.ee_epoch = (int32_t)epoch, .ee_start_offset = start};
	}
	/* The text must end exactly here: a NUL inside the file (a zero-filled
	 * tail) would otherwise hide whatever follows it. */
	return p == text + len ? 0 : RL_ECORRUPT;
}

int epoch_cache_load(struct epoch_cache *ec, int dir_fd)
{
	*ec = (struct epoch_cache){.ec_dir_fd = dir_fd};
	if (dir_fd < 0)
		return 0;
	size_t cap = 64 + (size_t)EPOCH_CACHE_MAX_ENTRIES * 34;
	char *text = malloc(cap);
	if (!text)
		return -ENOMEM;
	int n = checkpoint_read(dir_fd, EPOCH_CACHE_FILE, text, cap);
	int rc = 0;
	if (n >= 0)
		rc = epoch_cache_parse(ec, text, (size_t)n);
	else if (n == RL_ETOO_LARGE)
		rc = RL_ECORRUPT; /* larger than any valid file: malformed */
	else if (n != -ENOENT)
		rc = n;
	free(text);
	if (rc < 0)
		ec->ec_count = 0;
	return rc;
}

void epoch_cache_deinit(struct epoch_cache *ec)
{
	free(ec->ec_entries);
	ec->ec_entries = NULL;
	ec->ec_count = ec->ec_cap = 0;
}

int32_t epoch_cache_latest(const struct epoch_cache *ec)
{
	return ec->ec_count ? ec->ec_entries[ec->ec_count - 1].ee_epoch : -1;
}

int epoch_cache_assign(struct epoch_cache *ec, int32_t epoch, int64_t start_offset)
{
	if (epoch < 0 || start_offset < 0)
		return RL_EORDER;
	if (ec->ec_count > 0) {
		const struct epoch_entry *last = &ec->ec_entries[ec->ec_count - 1];
		if (epoch == last->ee_epoch)
			return start_offset >= last->ee_start_offset ? 0 : RL_EORDER;
		if (epoch < last->ee_epoch || start_offset <= last->ee_start_offset)
			return RL_EORDER;
	}
	int rc = epoch_cache_reserve(ec, ec->ec_count + 1);
	if (rc < 0)
		return rc;
	ec->ec_entries[ec->ec_count++] =
		(struct epoch_entry){.ee_epoch = epoch, .ee_start_offset = start_offset};
	rc = epoch_cache_persist(ec);
	if (rc < 0)
		ec->ec_count--;
	return rc;
}

int epoch_cache_begin(struct epoch_cache *ec, int32_t epoch, int64_t leo)
{
	if (ec->ec_count > 0) {
		struct epoch_entry *last = &ec->ec_entries[ec->ec_count - 1];
		if (epoch > last->ee_epoch && leo == last->ee_start_offset) {
			int32_t old = last->ee_epoch;
			last->ee_epoch = epoch;
			int rc = epoch_cache_persist(ec);
			if (rc < 0)
				last->ee_epoch = old;
			return rc;
		}
	}
	return epoch_cache_assign(ec, epoch, leo);
}

/* Index of the last entry with epoch <= `epoch`, or -1. */
static int64_t epoch_cache_floor(const struct epoch_cache *ec, int32_t epoch)
{
	uint32_t lo = 0, hi = ec->ec_count;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (ec->ec_entries[mid].ee_epoch <= epoch)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (int64_t)lo - 1;
}

void epoch_cache_end_offset(const struct epoch_cache *ec, int32_t epoch, int64_t leo,
			    int32_t *found_epoch, int64_t *end_offset)
{
	*found_epoch = -1;
	*end_offset = -1;
	if (epoch < 0 || ec->ec_count == 0 || epoch > epoch_cache_latest(ec))
		return; /* undefined: nothing to say about an epoch we never saw the end of */
	if (epoch == epoch_cache_latest(ec)) {
		*found_epoch = epoch;
		*end_offset = leo;
		return;
	}
	int64_t i = epoch_cache_floor(ec, epoch);
	/* Before our first epoch: it ended where our history begins. */
	*found_epoch = i < 0 ? epoch : ec->ec_entries[i].ee_epoch;
	*end_offset = ec->ec_entries[i + 1].ee_start_offset;
}

int32_t epoch_cache_epoch_at(const struct epoch_cache *ec, int64_t offset)
{
	uint32_t lo = 0, hi = ec->ec_count;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (ec->ec_entries[mid].ee_start_offset <= offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == 0 ? -1 : ec->ec_entries[lo - 1].ee_epoch;
}

int epoch_cache_truncate_end(struct epoch_cache *ec, int64_t offset)
{
	uint32_t n = ec->ec_count;
	while (n > 0 && ec->ec_entries[n - 1].ee_start_offset >= offset)
		n--;
	if (n == ec->ec_count)
		return 0;
	uint32_t old = ec->ec_count;
	ec->ec_count = n;
	int rc = epoch_cache_persist(ec);
	if (rc < 0)
		ec->ec_count = old;
	return rc;
}

int epoch_cache_truncate_start(struct epoch_cache *ec, int64_t offset)
{
	/* Keep the entry covering offset (last with start <= offset). */
	uint32_t first = 0;
	while (first + 1 < ec->ec_count && ec->ec_entries[first + 1].ee_start_offset <= offset)
		first++;
	if (ec->ec_count == 0 || (first == 0 && ec->ec_entries[0].ee_start_offset >= offset))
		return 0;
	memmove(ec->ec_entries, ec->ec_entries + first,
		(ec->ec_count - first) * sizeof(ec->ec_entries[0]));
	ec->ec_count -= first;
	if (ec->ec_entries[0].ee_start_offset < offset)
		ec->ec_entries[0].ee_start_offset = offset;
	return epoch_cache_persist(ec);
}
