"""Description: a live replogd against bad input, pipelining and a client that does not read.

Bad input (one broker for the module, limits.max_request_bytes 65536,
topic_defaults.max_message_bytes 16384): for each kind of bad request, the
offending connection gets the protocol's error or is closed (with a warning
naming the peer in the log), a client connected before and one connecting
after are still served, and the topic "victim" (files and end offset) is
unchanged. Then: pipelined requests are answered in order, and a slow
reader with 200 pipelined 1 MiB fetches is paused (the broker's RSS stays
within a bound derived from limits.max_connection_buffer_bytes) while
other clients are served, and finally gets every response, complete and in
order.
"""
import os
import random
import socket
import struct
import time

import pytest

pytest.register_assert_rewrite("replogd")
import replogd  # noqa: E402
from replogd import (API_API_VERSIONS, API_FETCH, API_LIST_OFFSETS, API_METADATA,  # noqa: E402
                     API_PRODUCE, Broker, array, build_batch, bytes32, decode_apiversions,
                     decode_fetch, decode_listoffsets, decode_metadata, decode_produce,
                     fetch_body, listoffsets_body, log_end, metadata_body, needs_broker,
                     parse_batches, produce_body, request_frame, s16, wait_for)

pytest_plugins = ["replogd"]
pytestmark = needs_broker

# Set by scripts/test when the binaries are an ASan/UBSan build.
SANITIZED = os.environ.get("REPLOG_SANITIZED") == "1"

MAX_REQUEST = 65536
MAX_MESSAGE = 16384
CONFIG = {"limits": {"max_request_bytes": MAX_REQUEST},
          "topic_defaults": {"max_message_bytes": MAX_MESSAGE}}
ERR_INVALID_REQUIRED_ACKS = 21
VICTIM = "victim"
SCRATCH = "scratch"


def victim_batch(tag=b"x", n=3, value_size=100):
    return build_batch([(tag + b"-%d" % i, b"v" * value_size, []) for i in range(n)])


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    b = replogd.register(Broker(tmp_path_factory.mktemp("bad-input"), "bad-input-broker",
                                CONFIG))
    try:
        b.start()
        with b.conn() as c:
            for i in range(3):
                r = c.produce(VICTIM, 0, victim_batch(b"seed%d" % i, 5), acks=-1)
                assert r["error_code"] == 0, r
        yield b
        # After all the abuse it still stops cleanly.
        if b.running():
            b.stop()
    finally:
        b.cleanup()


@pytest.fixture
def broker(shared):
    if not shared.running():  # an earlier test killed it (and failed): go on
        shared.start()
    return shared


class Guard:
    """Taken before the bad input: a connected client, the victim's files
    and end offset, where the log stood. check() after it."""

    def __init__(self, b):
        self.b = b
        self.log_mark = b.log_size()
        self.before = b.conn()
        assert self.before.api_versions()["error_code"] == 0
        self.files = self.log_files()
        self.end = log_end(b, VICTIM)

    def log_files(self):
        """Sizes of the victim's segments, indexes and epoch checkpoint (not the
        high-watermark checkpoint, which housekeeping rewrites on its own)."""
        return {k: v for k, v in self.b.files(VICTIM).items()
                if k != "high-watermark-checkpoint"}

    def closed_event(self, port):
        """The broker's connection_closed line for our peer port."""
        peer = f"{replogd.HOST}:{port}"
        return wait_for(lambda: [e for e in self.b.events("connection_closed", since=self.log_mark)
                                 if e.get("peer") == peer], 5,
                        f"a connection_closed log line for {peer}", ctx=self.b.ctx)[0]

    def expect_closed(self, c, port, words=()):
        assert c.wait_closed(5), "the broker kept the offending connection open" + self.b.ctx()
        assert not c.buf, f"the broker answered {bytes(c.buf[:64]).hex()} before closing"
        e = self.closed_event(port)
        assert e["level"] == "warn" and e.get("reason"), e
        for w in words:
            assert w in e["reason"], e

    def check(self):
        b = self.b
        assert b.running(), "replogd died" + b.ctx()
        # (b) a client connected before still works: metadata, produce, fetch.
        md = self.before.metadata([VICTIM])
        (t,) = md["topics"]
        assert t["error_code"] == 0 and [p["leader_id"] for p in t["partitions"]] == [1], md
        probe = b"probe-%d" % time.monotonic_ns()
        r = self.before.produce(SCRATCH, 0, build_batch([(b"probe", probe, [])]), acks=-1)
        assert r["error_code"] == 0, r
        f = self.before.fetch(SCRATCH, 0, r["base_offset"])
        assert f["error_code"] == 0, f
        recs = [x for bt in parse_batches(f["records"] or b"") for x in bt["records"]]
        assert recs and recs[0][:3] == (r["base_offset"], b"probe", probe), recs[:1]
        self.before.close()
        # (b) a client connecting after works.
        text = b.kcat("-L", "-t", VICTIM).stdout.decode()
        assert f'topic "{VICTIM}" with 1 partitions:' in text and "leader 1" in text, text
        # (c) nothing in the victim's log changed.
        assert self.log_files() == self.files, "the victim partition's files changed"
        assert log_end(b, VICTIM) == self.end


def send_bad(b, data, half_close=False):
    """A new connection that sends `data`; returns (conn, its local port)."""
    c = b.conn()
    port = c.local_port
    c.send_raw(data)
    if half_close:
        try:
            c.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
    return c, port


# ---- framing ---------------------------------------------------------------------

APIVERSIONS_V0 = request_frame(API_API_VERSIONS, 0, 1)


@pytest.mark.parametrize("size", [MAX_REQUEST + 1, 1 << 20, 0x7FFFFFFF])
def test_frame_larger_than_max_request_bytes_closes(broker, size):
    g = Guard(broker)
    head = struct.pack(">i", size) + APIVERSIONS_V0[4:]
    body = bytes(min(size, MAX_REQUEST + 1) - len(head) + 4)
    c, port = send_bad(broker, head + body)
    g.expect_closed(c, port, ["max_request_bytes"])
    c.close()
    g.check()


def test_frame_of_exactly_max_request_bytes_is_served(broker):
    g = Guard(broker)
    frame = request_frame(API_METADATA, 1, 7, metadata_body(1, [VICTIM]))
    frame += bytes(MAX_REQUEST + 4 - len(frame))  # bytes after the body are ignored
    frame = struct.pack(">i", MAX_REQUEST) + frame[4:]
    with broker.conn() as c:
        c.send_raw(frame)
        corr, body = c.recv_frame()
        assert corr == 7
        md = decode_metadata(body, 1)
        assert [t["name"] for t in md["topics"]] == [VICTIM], md
        assert c.api_versions()["error_code"] == 0
    g.check()


@pytest.mark.parametrize("size", [-1, -65536, -(1 << 31)])
def test_negative_frame_size_closes(broker, size):
    g = Guard(broker)
    c, port = send_bad(broker, struct.pack(">i", size) + APIVERSIONS_V0[4:])
    g.expect_closed(c, port)
    c.close()
    g.check()


@pytest.mark.parametrize("size", [0, 1, 7])
def test_frame_too_small_for_a_request_header_closes(broker, size):
    g = Guard(broker)
    c, port = send_bad(broker, struct.pack(">i", size) + APIVERSIONS_V0[4:4 + size])
    g.expect_closed(c, port)
    c.close()
    g.check()


# ---- APIs and versions -------------------------------------------------------------

@pytest.mark.parametrize("api_key", [999, 21, 37, -1, 32767])
def test_unknown_api_key_closes(broker, api_key):
    g = Guard(broker)
    c, port = send_bad(broker, request_frame(api_key, 0, 5, b"\x00\x00\x00\x00"))
    g.expect_closed(c, port)
    c.close()
    g.check()


def _versioned(api_key, version):
    """A request of a version we do not speak, with a plausible body that
    would change the victim if it were handled."""
    batch = victim_batch(b"never")
    if api_key == API_PRODUCE:
        body, flex = produce_body(VICTIM, 0, batch, acks=-1, version=min(version, 7)), version >= 9
    elif api_key == API_METADATA:
        body, flex = metadata_body(4, ["never-created"]), version >= 9
    elif api_key == API_FETCH:
        body, flex = fetch_body(VICTIM, 0, 0), version >= 12
    else:
        body, flex = listoffsets_body(VICTIM, 0, -1), version >= 6
    return request_frame(api_key, version, 9, body, flexible=flex)


@pytest.mark.parametrize("api_key,version", [(API_PRODUCE, 99), (API_METADATA, 99),
                                             (API_PRODUCE, 2), (API_FETCH, 12),
                                             (API_FETCH, 3), (API_LIST_OFFSETS, 3)],
                         ids=["Produce-v99", "Metadata-v99", "Produce-v2", "Fetch-v12",
                              "Fetch-v3", "ListOffsets-v3"])
def test_unsupported_version_closes(broker, api_key, version):
    g = Guard(broker)
    c, port = send_bad(broker, _versioned(api_key, version))
    g.expect_closed(c, port)
    c.close()
    assert not (broker.data_dir / "never-created-0").exists()
    g.check()


def test_apiversions_v99_answers_unsupported_version_with_a_v0_body(broker):
    g = Guard(broker)
    with broker.conn() as c:
        normal = c.api_versions(0)
        assert normal["error_code"] == 0
        # replog's inter-broker APIs (keys 10000 and up) are served, never advertised.
        assert normal["api_keys"] and max(normal["api_keys"]) < 10000, normal
        c.send_raw(request_frame(API_API_VERSIONS, 99, 42, replogd.apiversions_body(3),
                                 flexible=True))
        corr, body = c.recv_frame()  # response header v0: no tag buffer
        assert corr == 42
        r = decode_apiversions(body, 0)  # exactly a v0 body: error, array, nothing else
        assert r["error_code"] == replogd.ERR_UNSUPPORTED_VERSION, r
        assert r["api_keys"][API_API_VERSIONS] == (0, 3), r
        assert r["api_keys"] == normal["api_keys"], (r, normal)
        # The connection stays usable: the client retries with a version we know.
        assert c.api_versions(0)["error_code"] == 0
        assert c.api_versions(3)["error_code"] == 0
    g.check()


# ---- truncated requests ---------------------------------------------------------------

def _truncated():
    batch = victim_batch(b"cut")
    hdr = struct.pack(">hhi", API_PRODUCE, 7, 3) + s16("replog-test")
    produce_records_cut = (hdr + s16(None) + struct.pack(">hi", -1, 30000)
                           + struct.pack(">i", 1) + s16(VICTIM) + struct.pack(">i", 1)
                           + struct.pack(">i", 0) + struct.pack(">i", len(batch))
                           + batch[:len(batch) // 2])
    two_topics_second_cut = (hdr + s16(None) + struct.pack(">hi", -1, 30000)
                             + struct.pack(">i", 2)
                             + s16(VICTIM) + array([struct.pack(">i", 0) + bytes32(batch)])
                             + s16(SCRATCH) + struct.pack(">i", 1) + struct.pack(">i", 0))
    meta_hdr = struct.pack(">hhi", API_METADATA, 1, 3) + s16("replog-test")
    fetch = request_frame(API_FETCH, 4, 3, fetch_body(VICTIM, 0, 0))[4:]
    fetch_parts_cut = fetch[:-16]  # the partition array says 1, its entry is cut
    fetch_parts_cut = fetch_parts_cut[:-4] + struct.pack(">i", 3)  # ... and says 3
    cases = {
        "header-without-client-id": struct.pack(">hhi", API_API_VERSIONS, 0, 3),
        "client-id-cut": struct.pack(">hhih", API_API_VERSIONS, 0, 3, 50) + b"rep",
        "metadata-topic-name-cut": meta_hdr + struct.pack(">ih", 1, 20) + b"vic",
        "metadata-array-cut": meta_hdr + struct.pack(">i", 5) + s16(VICTIM),
        "produce-records-cut": produce_records_cut,
        "produce-second-topic-cut": two_topics_second_cut,
        "fetch-partitions-cut": fetch_parts_cut,
    }
    return {k: struct.pack(">i", len(v)) + v for k, v in cases.items()}


TRUNCATED = _truncated()


@pytest.mark.parametrize("case", sorted(TRUNCATED))
def test_truncated_request_closes(broker, case):
    g = Guard(broker)
    c, port = send_bad(broker, TRUNCATED[case])
    g.expect_closed(c, port)
    c.close()
    g.check()


# ---- garbage ------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(1, 7))
def test_random_garbage_closes(broker, seed):
    rng = random.Random(seed)
    data = rng.randbytes(rng.choice([5, 64, 1000, 4096, 70000]))
    g = Guard(broker)
    size = struct.unpack_from(">i", data)[0]
    # A prefix that announces a plausible frame makes the broker wait for the
    # rest, legitimately: end our side then, and it must close too.
    waits = 8 <= size <= MAX_REQUEST and len(data) < size + 4
    c, port = send_bad(broker, data, half_close=waits)
    assert c.wait_closed(5), f"still open after {len(data)} garbage bytes" + broker.ctx()
    c.close()
    if not waits:
        e = g.closed_event(port)
        assert e["level"] == "warn", e
    g.check()


@pytest.mark.parametrize("seed", range(1, 5))
def test_framed_garbage_closes(broker, seed):
    rng = random.Random(100 + seed)
    payload = rng.randbytes(rng.randint(8, 2000))
    g = Guard(broker)
    c, port = send_bad(broker, struct.pack(">i", len(payload)) + payload)
    g.expect_closed(c, port)
    c.close()
    g.check()


GARBAGE_FRAME = struct.pack(">i", 40) + bytes([0xEE] * 40)


def test_garbage_after_a_good_request_closes(broker):
    g = Guard(broker)
    c = broker.conn()
    port = c.local_port
    assert c.api_versions()["error_code"] == 0
    c.send_raw(GARBAGE_FRAME)
    g.expect_closed(c, port)
    c.close()
    g.check()


def test_pipelined_requests_before_a_bad_one_are_answered_before_the_close(broker):
    """As Kafka does (it reads the next request only after answering the
    last): what came before the bad request is answered, then the close."""
    g = Guard(broker)
    c, port = send_bad(broker, APIVERSIONS_V0
                       + request_frame(API_METADATA, 1, 2, metadata_body(1, [VICTIM]))
                       + GARBAGE_FRAME)
    got = []
    for corr, decode in ((1, lambda body: decode_apiversions(body, 0)),
                         (2, lambda body: decode_metadata(body, 1))):
        try:
            got.append((c.recv_frame(5)[0], corr))
        except (replogd.Closed, TimeoutError) as e:
            raise AssertionError(f"request {corr} of 2 before the bad one got no response "
                                 f"({e!r}); answered: {got}" + broker.ctx()) from None
    assert [g_ for g_, _ in got] == [1, 2], got
    g.expect_closed(c, port)
    c.close()
    g.check()


# ---- bad batches -----------------------------------------------------------------------

def test_produce_with_a_bad_crc_is_rejected(broker):
    g = Guard(broker)
    good = victim_batch(b"good")
    bad = bytearray(victim_batch(b"bad"))
    bad[-5] ^= 0x01  # a value byte: the CRC no longer matches
    with broker.conn() as c:
        for records in (bytes(bad), good + bytes(bad)):
            for acks in (1, -1):
                r = c.produce(VICTIM, 0, records, acks=acks)
                assert (r["error_code"], r["base_offset"]) == \
                    (replogd.ERR_CORRUPT_MESSAGE, -1), r
        # The connection stays open.
        assert c.api_versions()["error_code"] == 0
    g.check()


def _batch_of_size(size):
    """One record whose batch is exactly `size` bytes."""
    for n in range(size - 80, size):
        b = build_batch([(b"big", b"z" * n, [])])
        if len(b) == size:
            return b
    raise AssertionError(f"no batch of {size} bytes")


def test_produce_batch_larger_than_max_message_bytes_is_rejected(broker):
    g = Guard(broker)
    with broker.conn() as c:
        r = c.produce(VICTIM, 0, _batch_of_size(MAX_MESSAGE + 1), acks=-1)
        assert (r["error_code"], r["base_offset"]) == (replogd.ERR_MESSAGE_TOO_LARGE, -1), r
        r = c.produce(VICTIM, 0, _batch_of_size(4 * MAX_MESSAGE - 100), acks=1)
        assert r["error_code"] == replogd.ERR_MESSAGE_TOO_LARGE, r
        # At the limit it is accepted (into another topic).
        r = c.produce(SCRATCH, 0, _batch_of_size(MAX_MESSAGE), acks=-1)
        assert r["error_code"] == 0, r
        assert c.api_versions()["error_code"] == 0
    g.check()


def test_produce_with_invalid_acks_is_rejected(broker):
    g = Guard(broker)
    with broker.conn() as c:
        for acks in (2, -2, 100):
            r = c.produce(VICTIM, 0, victim_batch(b"acks"), acks=acks)
            assert (r["error_code"], r["base_offset"]) == (ERR_INVALID_REQUIRED_ACKS, -1), r
    g.check()


def test_fetch_outside_the_log_or_of_an_unknown_topic_is_an_error(broker):
    g = Guard(broker)
    with broker.conn() as c:
        for offset in (g.end + 1, g.end + 1000, -5):
            p = c.fetch(VICTIM, 0, offset, max_wait_ms=2000)
            assert p["error_code"] == replogd.ERR_OFFSET_OUT_OF_RANGE and not p["records"], p
        p = c.fetch("no-such-topic", 0, 0, max_wait_ms=2000)
        assert p["error_code"] == replogd.ERR_UNKNOWN_TOPIC_OR_PARTITION, p
        p = c.fetch(VICTIM, 7, 0, max_wait_ms=2000)
        assert p["error_code"] == replogd.ERR_UNKNOWN_TOPIC_OR_PARTITION, p
    assert not (broker.data_dir / "no-such-topic-0").exists()
    g.check()


@pytest.mark.parametrize("name", ["bad topic", "a/b", "..", ".", "x" * 250, "t\u00e9st",
                                  "new\nline", ""],
                         ids=["space", "slash", "dotdot", "dot", "250-chars", "non-ascii",
                              "newline", "empty"])
def test_produce_to_an_invalid_topic_name_is_rejected(broker, name):
    g = Guard(broker)
    before = sorted(p.name for p in broker.data_dir.iterdir())
    with broker.conn() as c:
        r = c.produce(name, 0, victim_batch(b"inv"), acks=-1)
        assert r["error_code"] == replogd.ERR_INVALID_TOPIC_EXCEPTION, r
        md = c.metadata([name])
        assert [t["error_code"] for t in md["topics"]] == \
            [replogd.ERR_INVALID_TOPIC_EXCEPTION], md
    assert sorted(p.name for p in broker.data_dir.iterdir()) == before
    assert name not in [t["topic"] for t in broker.metadata_json()["topics"]]
    g.check()


# ---- pipelining ----------------------------------------------------------------------------

def _read_in_order(b, c, expected, timeout_s=20):
    """Read len(expected) responses; expected = [(corr, decoder)]."""
    out = []
    for corr, decode in expected:
        try:
            got, body = c.recv_frame(timeout_s)
        except (TimeoutError, replogd.Closed, replogd.Garbled) as e:
            raise AssertionError(f"after {len(out)} of {len(expected)} responses "
                                 f"(ids {[x[0] for x in out][-5:]}): {e}" + b.ctx()) from None
        assert got == corr, (f"response {len(out)}: correlation id {got}, expected {corr} "
                             f"(ids so far {[x[0] for x in out][-5:]})" + b.ctx())
        out.append((got, decode(body)))
    return out


@pytest.mark.parametrize("count", [50, 300])
def test_pipelined_requests_are_answered_in_order(broker, count):
    g = Guard(broker)
    frames, expected = [], []
    for i in range(1, count + 1):
        if i % 2:
            frames.append(request_frame(API_API_VERSIONS, 0, i))
            expected.append((i, lambda body: decode_apiversions(body, 0)))
        else:
            frames.append(request_frame(API_METADATA, 1, i, metadata_body(1, [VICTIM])))
            expected.append((i, lambda body: decode_metadata(body, 1)))
    with broker.conn() as c:
        c.send_raw(b"".join(frames))
        got = _read_in_order(broker, c, expected)
        for corr, resp in got:
            if corr % 2:
                assert resp["error_code"] == 0 and API_PRODUCE in resp["api_keys"], resp
            else:
                assert [t["name"] for t in resp["topics"]] == [VICTIM], resp
        with pytest.raises(TimeoutError):  # nothing more than one response each
            c.recv_frame(timeout_s=0.2)
    g.check()


def test_pipelined_produces_and_fast_requests_keep_request_order(broker):
    """Produce acks=1 waits for an fsync, ApiVersions does not: the answers
    still leave in request order; acks=0 requests get none."""
    g = Guard(broker)
    topic = "pipelined-produce"
    frames, expected, sent = [], [], []
    for i in range(1, 61):
        kind = i % 4
        if kind in (0, 2):
            acks = 0 if kind == 0 else 1
            rec = (b"p%d" % i, b"value-%d" % i, [])
            sent.append(rec)
            frames.append(request_frame(API_PRODUCE, 7, i,
                                        produce_body(topic, 0, build_batch([rec]), acks=acks)))
            if acks:
                expected.append((i, decode_produce))
        elif kind == 1:
            frames.append(request_frame(API_API_VERSIONS, 0, i))
            expected.append((i, lambda body: decode_apiversions(body, 0)))
        else:
            frames.append(request_frame(API_LIST_OFFSETS, 1, i, listoffsets_body(VICTIM, 0, -1)))
            expected.append((i, decode_listoffsets))
    with broker.conn() as c:
        c.send_raw(b"".join(frames))
        got = _read_in_order(broker, c, expected)
        offsets = [r["responses"][0]["partitions"][0] for _, r in got if "responses" in r]
        assert all(p["error_code"] == 0 for p in offsets), offsets
        bases = [p["base_offset"] for p in offsets]
        assert bases == sorted(bases) and len(set(bases)) == len(bases), bases
        with pytest.raises(TimeoutError):  # acks=0 produces got no response
            c.recv_frame(timeout_s=0.2)
        end = wait_for(lambda: (e := log_end(broker, topic)) == len(sent) and e, 10,
                       "every produce, acks=0 included, to be in the log", ctx=broker.ctx)
        f = c.fetch(topic, 0, 0, max_bytes=1 << 20)
    recs = [r[1:4] for bt in parse_batches(f["records"]) for r in bt["records"]]
    assert recs == sent, "the log does not hold the produces in request order"
    assert end == len(sent)
    g.check()


# ---- back-pressure -----------------------------------------------------------------------

def test_slow_reader_is_paused_not_buffered(brokers):
    limit = 4 << 20
    b = brokers({"limits": {"max_connection_buffer_bytes": limit}}, name="backpressure")
    topic = "bulk"
    rng = random.Random(5)
    with b.conn() as c:
        for i in range(17):  # 17 x ~61 KB: about 1 MiB
            batch = build_batch([(b"k%d-%d" % (i, j), rng.randbytes(1000), []) for j in range(60)])
            r = c.produce(topic, 0, batch, acks=1)
            assert r["error_code"] == 0, r
    end = log_end(b, topic)
    assert end == 17 * 60
    with b.conn() as c:
        reference = c.fetch(topic, 0, 0, max_bytes=1 << 20, partition_max_bytes=1 << 20)
    ref_records = reference["records"]
    ref_batches = parse_batches(ref_records)
    assert all(x["complete"] and x["crc_ok"] for x in ref_batches), ref_batches[-1:]
    assert 900_000 < len(ref_records) <= 1 << 20, len(ref_records)

    base_kb = b.rss_kb()
    n = 200
    frames = b"".join(request_frame(API_FETCH, 4, i, fetch_body(
        topic, 0, 0, max_wait_ms=0, max_bytes=1 << 20, partition_max_bytes=1 << 20))
        for i in range(1, n + 1))
    slow = b.conn(timeout_s=30)
    try:
        slow.send_raw(frames)  # ~14 KB of requests for ~200 MiB of answers; read none
        # Meanwhile: other clients are served, and the broker does not buffer
        # the slow reader's answers beyond its per-connection limit.
        bound_kb = base_kb + (4 * limit + (32 << 20)) // 1024
        peak_kb = base_kb
        for round_ in range(4):
            peak_kb = max(peak_kb, b.rss_kb())
            t0 = time.monotonic()
            with b.conn(timeout_s=5) as other:
                md = other.metadata([topic])
                assert md["topics"][0]["error_code"] == 0, md
                r = other.produce("other", 0, build_batch([(b"o", b"%d" % round_, [])]), acks=1)
                assert r["error_code"] == 0 and r["base_offset"] == round_, r
                f = other.fetch("other", 0, round_)
                assert [x[2] for x in parse_batches(f["records"])[0]["records"]] == \
                    [b"%d" % round_]
            assert time.monotonic() - t0 < 5, "another client waited behind the slow reader"
            b.kcat("-L", "-t", topic, timeout_s=30)
            peak_kb = max(peak_kb, b.rss_kb())
        assert peak_kb < bound_kb, (
            f"RSS grew from {base_kb} KiB to {peak_kb} KiB with a client not reading; the bound "
            f"is {bound_kb} KiB (max_connection_buffer_bytes {limit})" + b.ctx())

        # Now read: every answer, in order, complete.
        for i in range(1, n + 1):
            try:
                corr, body = slow.recv_frame(timeout_s=30)
            except (TimeoutError, replogd.Closed, replogd.Garbled) as e:
                raise AssertionError(f"response {i} of {n}: {e}" + b.ctx()) from None
            assert corr == i, f"response {i}: correlation id {corr}" + b.ctx()
            p = decode_fetch(body)["responses"][0]["partitions"][0]
            assert p["error_code"] == 0 and p["high_watermark"] == end, \
                {k: v for k, v in p.items() if k != "records"}
            assert p["records"] == ref_records, f"response {i}: records differ from a lone fetch"
        peak_kb = max(peak_kb, b.rss_kb())
        assert SANITIZED or peak_kb < bound_kb, (peak_kb, bound_kb)
    finally:
        slow.close()
    assert b.running()
