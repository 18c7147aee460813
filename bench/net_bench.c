/*
 * net_bench — `replog-bench loopback`: how many bytes per second one TCP
 * connection carries over 127.0.0.1 on this machine, the ceiling of any
 * figure that moves records through a socket (a producer to a broker, a
 * broker to a consumer or a follower). bench/compare divides replog's and
 * the peer broker's produce/consume bandwidth by it.
 *
 * What this module owns: the options of the `loopback` subcommand, one
 * listening socket and one connection per run, the two buffers (allocated
 * at start, --write-bytes each), one sample per run, and the report.
 *
 * One run: a listener on 127.0.0.1 at a port the kernel picks; a receiver
 * thread accepts one connection and read()s into its buffer until it has
 * --bytes, then notes the time; the calling thread (the sender) connects
 * and write()s its --write-bytes buffer over and over (retrying short
 * writes) until --bytes are sent. Timed from the sender's first write to
 * the receiver's last read: the bytes were copied into the kernel, across
 * loopback and out again, with TCP's flow control in the middle, which is
 * what a broker's sockets go through. Socket buffers are the kernel's
 * defaults (autotuned), Nagle is irrelevant for writes this large.
 *
 * --repeat runs, each on a fresh connection; the report is the median
 * MiB/s (2^20 bytes per second, as every replog-bench figure) and min..max,
 * so one disturbed run does not move it.
 *
 * Return convention inside: 0 or -errno; the entry point maps that to the
 * exit codes shared by replog-bench's subcommands.
 */
#include "net_bench.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NET_BENCH_EXIT_OK    0
#define NET_BENCH_EXIT_ERROR 1
#define NET_BENCH_EXIT_USAGE 2

#define NET_BENCH_MIB		 (1024.0 * 1024.0)
#define NET_BENCH_BYTES_DEFAULT	 (4ull << 30)
#define NET_BENCH_BYTES_MAX	 (1ull << 40)
#define NET_BENCH_WRITE_DEFAULT	 (1u << 20)
#define NET_BENCH_WRITE_MIN	 1u
#define NET_BENCH_WRITE_MAX	 (64u << 20)
#define NET_BENCH_REPEAT_DEFAULT 3u
#define NET_BENCH_REPEAT_MAX	 100u

struct net_bench_opts {
	uint64_t no_bytes;	 /* per run */
	uint32_t no_write_bytes; /* per write() (and per read()) */
	uint32_t no_repeat;
	bool no_json;
};

/* The receiver's side of one run; written by the receiver thread, read by
 * the sender after pthread_join (which orders the two). */
struct net_bench_rx {
	int nr_listen_fd;
	char *nr_buf; /* borrowed: no_write_bytes, owned by net_bench_main */
	uint32_t nr_buf_bytes;
	uint64_t nr_want;
	uint64_t nr_got;
	uint64_t nr_end_ns;
	int nr_err; /* 0 or -errno */
};

static uint64_t net_bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Parse "N", "NK", "NM", "NG" (binary; "KiB" etc. also accepted). Returns 0
 * with *out, or -EINVAL. */
static int net_bench_parse_size(const char *s, uint64_t *out)
{
	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	uint64_t mult = 1;
	switch (*end) {
	case 'k':
	case 'K':
		mult = 1ull << 10;
		break;
	case 'm':
	case 'M':
		mult = 1ull << 20;
		break;
	case 'g':
	case 'G':
		mult = 1ull << 30;
		break;
	default:
		break;
	}
	if (mult > 1) {
		end++;
		if (strcmp(end, "iB") == 0)
			end += 2;
	}
	uint64_t r;
	if (*end != '\0' || __builtin_mul_overflow((uint64_t)v, mult, &r))
		return -EINVAL;
	*out = r;
	return 0;
}

void net_bench_usage(void)
{
	printf("usage: replog-bench loopback [options]\n"
	       "\n"
	       "Measures TCP bandwidth over 127.0.0.1: the ceiling of any figure that moves\n"
	       "records through a socket on this machine, and the reference bench/compare\n"
	       "divides produce and consume bandwidth by.\n"
	       "\n"
	       "One run: a receiver thread accepts one connection on 127.0.0.1 (a port the\n"
	       "kernel picks) and reads into a --write-bytes buffer until it has --bytes;\n"
	       "the sender (the main thread) connects and writes its --write-bytes buffer\n"
	       "over and over until --bytes are sent. Timed from the first write to the\n"
	       "last read. Kernel-default socket buffers. The report is the median over\n"
	       "--repeat runs, each on a fresh connection.\n"
	       "\n"
	       "options:\n"
	       "  --bytes N           bytes sent per run (default 4G, at most 1T).\n"
	       "  --write-bytes N     bytes per write() and per read() (default 1M, %u..%uM).\n"
	       "  --repeat N          runs (default %u, at most %u).\n"
	       "  --json              one JSON object instead of text.\n"
	       "  -h, --help          this text.\n"
	       "\n"
	       "Sizes take a K, M or G suffix (binary: 1K = 1024), optionally followed by\n"
	       "iB.\n"
	       "\n"
	       "output (text):\n"
	       "\n"
	       "    loopback: 4096MiB/run x3, writes of 1048576 B: 3012.4 MiB/s [2950.1..3100.7]\n"
	       "\n"
	       "  the median MiB/s (2^20 bytes per second) and [min..max] over the runs.\n"
	       "\n"
	       "output (--json):\n"
	       "\n"
	       "    {\"tool\":\"loopback\",\"mb_per_sec\":3012.4,\"bytes\":4294967296,\n"
	       "     \"write_bytes\":1048576,\"repeat\":3,\"min\":2950.1,\"max\":3100.7,\n"
	       "     \"runs\":[3012.4,2950.1,3100.7]}\n"
	       "\n"
	       "  (one line); mb_per_sec is the median, in MiB/s.\n"
	       "\n"
	       "exit status: 0 the benchmark ran, 1 an error stopped it (the cause is\n"
	       "  printed on stderr), 2 usage error.\n"
	       "\n"
	       "example:\n"
	       "  replog-bench loopback --bytes 1G --repeat 5\n",
	       NET_BENCH_WRITE_MIN, NET_BENCH_WRITE_MAX >> 20, NET_BENCH_REPEAT_DEFAULT,
	       NET_BENCH_REPEAT_MAX);
}

static int net_bench_parse(int argc, char **argv, struct net_bench_opts *o, bool *done)
{
	enum {
		OPT_BYTES = 256,
		OPT_WRITE_BYTES,
		OPT_REPEAT,
		OPT_JSON,
	};
	static const struct option longopts[] = {
		{"bytes", required_argument, NULL, OPT_BYTES},
		{"write-bytes", required_argument, NULL, OPT_WRITE_BYTES},
		{"repeat", required_argument, NULL, OPT_REPEAT},
		{"json", no_argument, NULL, OPT_JSON},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	o->no_bytes = NET_BENCH_BYTES_DEFAULT;
	o->no_write_bytes = NET_BENCH_WRITE_DEFAULT;
	o->no_repeat = NET_BENCH_REPEAT_DEFAULT;
	o->no_json = false;
	*done = false;
	optind = 1;
	int c;
	uint64_t v;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_BYTES:
			if (net_bench_parse_size(optarg, &v) < 0 || v == 0 ||
			    v > NET_BENCH_BYTES_MAX) {
				fprintf(stderr, "replog-bench loopback: --bytes: 1..1T\n");
				return NET_BENCH_EXIT_USAGE;
			}
			o->no_bytes = v;
			break;
		case OPT_WRITE_BYTES:
			if (net_bench_parse_size(optarg, &v) < 0 || v < NET_BENCH_WRITE_MIN ||
			    v > NET_BENCH_WRITE_MAX) {
				fprintf(stderr, "replog-bench loopback: --write-bytes: %u..%uM\n",
					NET_BENCH_WRITE_MIN, NET_BENCH_WRITE_MAX >> 20);
				return NET_BENCH_EXIT_USAGE;
			}
			o->no_write_bytes = (uint32_t)v;
			break;
		case OPT_REPEAT:
			if (net_bench_parse_size(optarg, &v) < 0 || v == 0 ||
			    v > NET_BENCH_REPEAT_MAX) {
				fprintf(stderr, "replog-bench loopback: --repeat: 1..%u\n",
					NET_BENCH_REPEAT_MAX);
				return NET_BENCH_EXIT_USAGE;
			}
			o->no_repeat = (uint32_t)v;
			break;
		case OPT_JSON:
			o->no_json = true;
			break;
		case 'h':
			net_bench_usage();
			*done = true;
			return NET_BENCH_EXIT_OK;
		default:
			fprintf(stderr, "(see replog-bench loopback --help)\n");
			return NET_BENCH_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "replog-bench loopback: unexpected argument '%s'\n", argv[optind]);
		return NET_BENCH_EXIT_USAGE;
	}
	return 0;
}

/* The receiver thread: accept one connection, read nr_want bytes. */
static void *net_bench_receive(void *arg)
{
	struct net_bench_rx *rx = arg;
	int fd;
	do {
		fd = accept(rx->nr_listen_fd, NULL, NULL);
	} while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		rx->nr_err = -errno;
		return NULL;
	}
	while (rx->nr_got < rx->nr_want) {
		uint64_t left = rx->nr_want - rx->nr_got;
		size_t n = left < rx->nr_buf_bytes ? (size_t)left : rx->nr_buf_bytes;
		ssize_t r = read(fd, rx->nr_buf, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rx->nr_err = r < 0 ? -errno : -ECONNRESET;
			break;
		}
		rx->nr_got += (uint64_t)r;
	}
	rx->nr_end_ns = net_bench_now_ns();
	close(fd);
	return NULL;
}

/* Send all of len bytes from buf, retrying short writes. 0 or -errno. */
static int net_bench_send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = send(fd, buf, len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/* One run. Returns 0 with *mib_per_sec, or -errno with *what naming the
 * step that failed. */
static int net_bench_run(const struct net_bench_opts *o, char *tx_buf, char *rx_buf,
			 double *mib_per_sec, const char **what)
{
	struct net_bench_rx rx = {.nr_listen_fd = -1,
				  .nr_buf = rx_buf,
				  .nr_buf_bytes = o->no_write_bytes,
				  .nr_want = o->no_bytes};
	struct sockaddr_in addr = {
		.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = 0};
	socklen_t alen = sizeof(addr);
	int tx = -1, rc = 0;
	pthread_t thr;
	bool started = false;

	*what = "socket";
	rx.nr_listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (rx.nr_listen_fd < 0)
		goto fail;
	*what = "bind 127.0.0.1";
	if (bind(rx.nr_listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		goto fail;
	*what = "listen";
	if (listen(rx.nr_listen_fd, 1) < 0 ||
	    getsockname(rx.nr_listen_fd, (struct sockaddr *)&addr, &alen) < 0)
		goto fail;
	*what = "pthread_create";
	rc = pthread_create(&thr, NULL, net_bench_receive, &rx);
	if (rc) {
		rc = -rc;
		goto out;
	}
	started = true;
	*what = "connect";
	tx = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (tx < 0 || connect(tx, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		goto fail;

	*what = "send";
	uint64_t start_ns = net_bench_now_ns();
	for (uint64_t sent = 0; sent < o->no_bytes;) {
		uint64_t left = o->no_bytes - sent;
		size_t n = left < o->no_write_bytes ? (size_t)left : o->no_write_bytes;
		rc = net_bench_send_all(tx, tx_buf, n);
		if (rc < 0)
			goto out;
		sent += n;
	}
	close(tx);
	tx = -1;
	pthread_join(thr, NULL);
	started = false;
	*what = "receive";
	if (rx.nr_err) {
		rc = rx.nr_err;
		goto out;
	}
	double sec = (double)(rx.nr_end_ns - start_ns) / 1e9;
	*mib_per_sec = (double)o->no_bytes / NET_BENCH_MIB / sec;
	rc = 0;
	goto out;
fail:
	rc = -errno;
out:
	if (tx >= 0)
		close(tx);
	if (started) {
		/* The receiver may still wait in accept() or read(): shutting the
		 * listener and the sender's side down wakes it. */
		shutdown(rx.nr_listen_fd, SHUT_RDWR);
		pthread_join(thr, NULL);
	}
	if (rx.nr_listen_fd >= 0)
		close(rx.nr_listen_fd);
	return rc;
}

static int net_bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int net_bench_main(int argc, char **argv)
{
	struct net_bench_opts o;
	bool done;
	int ret = net_bench_parse(argc, argv, &o, &done);
	if (ret || done)
		return ret;

	char *tx_buf = malloc(o.no_write_bytes);
	char *rx_buf = malloc(o.no_write_bytes);
	double runs[NET_BENCH_REPEAT_MAX], sorted[NET_BENCH_REPEAT_MAX];
	if (!tx_buf || !rx_buf) {
		fprintf(stderr, "replog-bench loopback: out of memory for buffers\n");
		free(tx_buf);
		free(rx_buf);
		return NET_BENCH_EXIT_ERROR;
	}
	/* Contents do not matter to TCP; touch every page before the clock. */
	memset(tx_buf, 'r', o.no_write_bytes);
	memset(rx_buf, 0, o.no_write_bytes);

	ret = NET_BENCH_EXIT_OK;
	for (uint32_t i = 0; i < o.no_repeat; i++) {
		const char *what = "";
		int rc = net_bench_run(&o, tx_buf, rx_buf, &runs[i], &what);
		if (rc < 0) {
			fprintf(stderr, "replog-bench loopback: run %u: %s: %s\n", i + 1, what,
				strerror(-rc));
			ret = NET_BENCH_EXIT_ERROR;
			break;
		}
	}
	free(tx_buf);
	free(rx_buf);
	if (ret != NET_BENCH_EXIT_OK)
		return ret;

	memcpy(sorted, runs, o.no_repeat * sizeof(runs[0]));
	qsort(sorted, o.no_repeat, sizeof(sorted[0]), net_bench_cmp_double);
	/* The median; with an even count, the mean of the two middle runs. */
	uint32_t m = o.no_repeat / 2;
	double median = o.no_repeat % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
	double lo = sorted[0], hi = sorted[o.no_repeat - 1];
	if (o.no_json) {
		printf("{\"tool\":\"loopback\",\"mb_per_sec\":%.1f,\"bytes\":%" PRIu64
		       ",\"write_bytes\":%u,\"repeat\":%u,\"min\":%.1f,\"max\":%.1f,\"runs\":[",
		       median, o.no_bytes, o.no_write_bytes, o.no_repeat, lo, hi);
		for (uint32_t i = 0; i < o.no_repeat; i++)
			printf("%s%.1f", i ? "," : "", runs[i]);
		printf("]}\n");
	} else {
		printf("loopback: %.0fMiB/run x%u, writes of %u B: %.1f MiB/s [%.1f..%.1f]\n",
		       (double)o.no_bytes / NET_BENCH_MIB, o.no_repeat, o.no_write_bytes, median,
		       lo, hi);
	}
	return NET_BENCH_EXIT_OK;
}
