"""Description: a single replogd driven by real clients: kcat, kafka-python, confluent-kafka.

Each test starts its own broker (tests/cluster/replogd.py) on a free port
with its data under tmp_path, produces with a real client, and reads back
with real clients: content, order, offsets, keys, values and headers must
come back as sent. Also: acks 0/1/all, long-polling fetches, ListOffsets
(earliest, latest, by timestamp) and CreateTopics/DeleteTopics through
kafka-python's KafkaAdminClient. No fixed sleeps: every wait is a poll with
a deadline.
"""
import random
import time

import pytest

pytest.register_assert_rewrite("replogd")
import replogd  # noqa: E402
from replogd import (API_FETCH, build_batch, decode_fetch, dump_log,  # noqa: E402
                     fetch_body, flush, needs_broker, parse_batches, wait_for)

pytest_plugins = ["replogd"]
pytestmark = needs_broker

kafka = pytest.importorskip("kafka")
ck = pytest.importorskip("confluent_kafka")
from kafka import KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402
from kafka.admin import KafkaAdminClient, NewTopic  # noqa: E402
from kafka import errors as kerrors  # noqa: E402

CONSUME_TIMEOUT_S = 60.0


# ---- helpers -------------------------------------------------------------------

def payload(rng, lo=10, hi=200):
    """Printable ASCII without tab or newline (kcat's delimiters)."""
    n = rng.randint(lo, hi)
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789 .,:;-_+=/!?") for _ in range(n))


def consume_confluent(b, topic, count, partition=0, start=None, timeout_s=CONSUME_TIMEOUT_S):
    """Read `count` messages from `start` (default: beginning) with
    confluent-kafka; [(offset, key, value, headers)]."""
    c = ck.Consumer({"bootstrap.servers": b.bootstrap, "group.id": "replog-tests-assign-only",
                     "enable.auto.commit": False, "enable.auto.offset.store": False,
                     "enable.partition.eof": False})
    try:
        c.assign([ck.TopicPartition(topic, partition,
                                    ck.OFFSET_BEGINNING if start is None else start)])
        out = []
        deadline = time.monotonic() + timeout_s
        for _ in range(100000):
            if len(out) >= count or time.monotonic() > deadline:
                break
            assert b.running(), "replogd died" + b.ctx()
            for m in c.consume(num_messages=1000, timeout=0.2):
                assert m.error() is None, f"consumer error {m.error()}" + b.ctx()
                out.append((m.offset(), m.key(), m.value(), list(m.headers() or [])))
        assert len(out) >= count, (f"confluent-kafka read {len(out)} of {count} messages of "
                                   f"{topic} in {timeout_s}s" + b.ctx())
        return out
    finally:
        c.close()


def consume_kafka_python(b, topic, count, partition=0, timeout_s=CONSUME_TIMEOUT_S):
    c = KafkaConsumer(bootstrap_servers=b.bootstrap, group_id=None, enable_auto_commit=False,
                      consumer_timeout_ms=1000)
    try:
        tp = TopicPartition(topic, partition)
        c.assign([tp])
        c.seek_to_beginning(tp)
        out = []
        deadline = time.monotonic() + timeout_s
        for _ in range(100000):
            if len(out) >= count or time.monotonic() > deadline:
                break
            assert b.running(), "replogd died" + b.ctx()
            for recs in c.poll(timeout_ms=200, max_records=1000).values():
                out += [(r.offset, r.key, r.value, list(r.headers or [])) for r in recs]
        assert len(out) >= count, (f"kafka-python read {len(out)} of {count} messages of "
                                   f"{topic} in {timeout_s}s" + b.ctx())
        return out
    finally:
        c.close()


def watermarks(b, topic, partition=0):
    c = ck.Consumer({"bootstrap.servers": b.bootstrap, "group.id": "replog-tests-assign-only",
                     "enable.auto.commit": False})
    try:
        return c.get_watermark_offsets(ck.TopicPartition(topic, partition), timeout=10)
    finally:
        c.close()


def dump_codecs(b, topic, partition=0):
    r = dump_log(b.partition_dir(topic, partition))
    assert r.returncode == 0, f"dump-log rc={r.returncode}\n{r.stderr[-2000:]}" + b.ctx()
    return [tok.split(" ")[0] for tok in r.stdout.split("compresscodec: ")[1:]]


# ---- kcat ----------------------------------------------------------------------

@pytest.mark.parametrize("codec", ["none", "zstd"])
def test_kcat_produces_and_consumes_10000_keyed_messages(brokers, codec):
    b = brokers()
    topic = f"kcat-{codec}"
    rng = random.Random(10000)
    msgs = [(f"key-{i:05d}-{rng.randint(0, 1 << 30)}", payload(rng)) for i in range(10000)]
    data = "".join(f"{k}\t{v}\n" for k, v in msgs).encode()
    args = ["-P", "-t", topic, "-p", "0", "-K", "\t"]
    if codec != "none":
        args += ["-z", codec]
    b.kcat(*args, input=data, timeout_s=120)

    r = b.kcat("-C", "-t", topic, "-p", "0", "-o", "beginning", "-e", "-q",
               "-f", "%o\t%k\t%s\n", timeout_s=120)
    lines = r.stdout.decode().splitlines()
    assert len(lines) == len(msgs), f"read {len(lines)} of {len(msgs)} messages" + b.ctx()
    for i, (line, (k, v)) in enumerate(zip(lines, msgs)):
        assert line == f"{i}\t{k}\t{v}", f"message {i}: got {line!r}, sent {(k, v)!r}"
    assert watermarks(b, topic) == (0, 10000)

    # The batches are stored as sent: compressed with zstd only when asked.
    codecs = dump_codecs(b, topic)
    assert codecs, "dump-log found no batches"
    if codec == "none":
        assert set(codecs) == {"none"}, codecs
    else:
        # librdkafka sends a batch uncompressed when zstd would not make it
        # smaller (a tiny first batch on a loaded machine): allowed, but
        # the batches it compressed are stored compressed.
        assert codecs.count("zstd") > codecs.count("none"), codecs

    # kcat -L: the topic, its one partition, led by broker 1.
    text = b.kcat("-L", "-t", topic).stdout.decode()
    assert f'topic "{topic}" with 1 partitions:' in text, text
    assert "partition 0, leader 1, replicas: 1, isrs: 1" in text, text
    assert f"broker 1 at {b.bootstrap}" in text, text
    md = b.metadata_json()
    (t,) = [t for t in md["topics"] if t["topic"] == topic]
    assert [(p["partition"], p["leader"]) for p in t["partitions"]] == [(0, 1)], md
    assert md["brokers"] == [{"id": 1, "name": b.bootstrap}], md


# ---- kafka-python and confluent-kafka, acks 0 / 1 / all ------------------------

N_CLIENT_MSGS = 600


def client_messages(tag):
    rng = random.Random(tag)
    out = []
    for i in range(N_CLIENT_MSGS):
        key = None if i % 97 == 5 else f"{tag}-key-{i}".encode()
        value = payload(rng, 0, 300).encode() if i % 89 != 7 else None
        headers = [("seq", str(i).encode()), ("src", tag.encode())] if i % 3 else []
        out.append((key, value, headers))
    return out


def check_read_back(b, got, sent, what):
    assert len(got) == len(sent), f"{what}: read {len(got)} of {len(sent)}" + b.ctx()
    for i, ((off, k, v, h), (sk, sv, sh)) in enumerate(zip(got, sent)):
        assert (off, k, v, h) == (i, sk, sv, sh), \
            f"{what}: message {i}: got {(off, k, v, h)!r}, sent {(sk, sv, sh)!r}"


@pytest.mark.parametrize("acks", [0, 1, "all"])
def test_kafka_python_produce_and_consume(brokers, acks):
    b = brokers()
    topic = f"kafka-python-acks-{acks}"
    sent = client_messages(topic)
    p = KafkaProducer(bootstrap_servers=b.bootstrap, acks=acks, linger_ms=5,
                      request_timeout_ms=20000, max_block_ms=20000)
    try:
        futures = [p.send(topic, key=k, value=v, headers=h, partition=0) for k, v, h in sent]
        for _ in range(120):  # flush, failing at once if the broker dies
            try:
                p.flush(timeout=0.5)
                break
            except kerrors.KafkaTimeoutError:
                assert b.running(), "replogd died" + b.ctx()
        metas = [f.get(timeout=30) for f in futures]
    finally:
        p.close(timeout=10)
    if acks != 0:
        assert [m.offset for m in metas] == list(range(len(sent))), \
            "acknowledged offsets are not 0..n-1" + b.ctx()
    # acks=0 gets no answer: the data must still arrive (the consumers poll
    # with a deadline).
    check_read_back(b, consume_kafka_python(b, topic, len(sent)), sent, "kafka-python consumer")
    check_read_back(b, consume_confluent(b, topic, len(sent)), sent, "confluent-kafka consumer")
    assert watermarks(b, topic) == (0, len(sent))


@pytest.mark.parametrize("acks", [0, 1, "all"])
def test_confluent_kafka_produce_and_consume(brokers, acks):
    b = brokers()
    topic = f"confluent-acks-{acks}"
    sent = client_messages(topic)
    reports = []
    p = ck.Producer({"bootstrap.servers": b.bootstrap, "acks": str(acks), "linger.ms": 5,
                     "message.timeout.ms": 30000, "enable.idempotence": False})
    for k, v, h in sent:
        p.produce(topic, key=k, value=v, headers=h or None, partition=0,
                  on_delivery=lambda err, msg: reports.append((err, msg.offset())))
        p.poll(0)
    assert flush(p, b) == 0, "messages still undelivered after 60 s" + b.ctx()
    assert len(reports) == len(sent)
    assert [e for e, _ in reports if e is not None] == [], reports[:5]
    if acks != 0:
        assert [o for _, o in reports] == list(range(len(sent))), \
            "acknowledged offsets are not 0..n-1" + b.ctx()
    check_read_back(b, consume_confluent(b, topic, len(sent)), sent, "confluent-kafka consumer")
    check_read_back(b, consume_kafka_python(b, topic, len(sent)), sent, "kafka-python consumer")
    assert watermarks(b, topic) == (0, len(sent))


# ---- long polling ----------------------------------------------------------------

def test_fetch_long_poll_returns_when_data_arrives(brokers):
    b = brokers()
    topic = "long-poll"
    with b.conn() as c:
        assert c.produce(topic, 0, build_batch([(b"k0", b"first", [])]), acks=1)["error_code"] == 0
    with b.conn() as waiter, b.conn() as producer:
        t0 = time.monotonic()
        corr = waiter.send(API_FETCH, 4, fetch_body(topic, 0, 1, max_wait_ms=3000, min_bytes=1))
        # Nothing at offset 1 yet: the fetch must wait, not answer empty at once.
        with pytest.raises(TimeoutError):
            waiter.recv_frame(timeout_s=0.3)
        t1 = time.monotonic()
        r = producer.produce(topic, 0, build_batch([(b"k1", b"second", [("h", b"v")])]), acks=1)
        assert (r["error_code"], r["base_offset"]) == (0, 1), r
        got, body = waiter.recv_frame(timeout_s=5)
        t2 = time.monotonic()
    assert got == corr
    p = decode_fetch(body)["responses"][0]["partitions"][0]
    assert p["error_code"] == 0 and p["high_watermark"] == 2, p
    batches = parse_batches(p["records"] or b"")
    recs = [r[:4] for bt in batches for r in bt["records"]]
    assert recs == [(1, b"k1", b"second", [("h", b"v")])], recs
    assert t2 - t1 < 1.5, f"the fetch answered {t2 - t1:.3f}s after the produce, not at once"
    assert t2 - t0 < 2.5, f"the fetch took {t2 - t0:.3f}s of its 3 s max_wait"


def test_fetch_long_poll_times_out_after_max_wait(brokers):
    b = brokers()
    topic = "long-poll-idle"
    with b.conn() as c:
        assert c.produce(topic, 0, build_batch([(b"k0", b"only", [])]), acks=1)["error_code"] == 0
        t0 = time.monotonic()
        p = c.fetch(topic, 0, 1, max_wait_ms=3000, min_bytes=1, timeout_s=10)
        took = time.monotonic() - t0
    assert p["error_code"] == 0 and p["high_watermark"] == 1, p
    assert not p["records"], p
    assert took >= 0.9 * 3.0, f"an empty long poll answered after {took:.3f}s, before max_wait"
    assert took <= 3.0 + 1.5, f"an empty long poll answered after {took:.3f}s"


def test_fetch_wait_is_capped_by_max_fetch_wait_ms(brokers):
    b = brokers({"limits": {"max_fetch_wait_ms": 1000}})
    topic = "long-poll-capped"
    with b.conn() as c:
        assert c.produce(topic, 0, build_batch([(b"k0", b"only", [])]), acks=1)["error_code"] == 0
        t0 = time.monotonic()
        p = c.fetch(topic, 0, 1, max_wait_ms=20000, min_bytes=1, timeout_s=10)
        took = time.monotonic() - t0
    assert p["error_code"] == 0 and not p["records"], p
    assert 0.9 <= took <= 2.5, f"max_wait 20000 capped to 1000 ms answered after {took:.3f}s"


# ---- ListOffsets -------------------------------------------------------------------

def test_list_offsets_earliest_latest_and_by_timestamp(brokers):
    b = brokers()
    topic = "timestamps"
    t0 = int(time.time() * 1000) - 3_600_000
    stamps = [t0] * 10 + [t0 + 10_000] * 10 + [t0 + 20_000] * 10
    # One request in flight: this test is about ListOffsets, pipelining has its own.
    p = ck.Producer({"bootstrap.servers": b.bootstrap, "acks": "all", "linger.ms": 0,
                     "max.in.flight": 1})
    errors = []
    for i, ts in enumerate(stamps):
        p.produce(topic, key=f"k{i}".encode(), value=f"v{i}".encode(), partition=0,
                  timestamp=ts, on_delivery=lambda err, msg: errors.append(err) if err else None)
        if i % 10 == 9:
            assert flush(p, b, 30) == 0
    assert errors == []

    # confluent-kafka: watermarks (earliest/latest) and offsets_for_times.
    c = ck.Consumer({"bootstrap.servers": b.bootstrap, "group.id": "replog-tests-assign-only",
                     "enable.auto.commit": False})
    try:
        assert c.get_watermark_offsets(ck.TopicPartition(topic, 0), timeout=10) == (0, 30)
        for ts, want in [(t0 - 1, 0), (t0, 0), (t0 + 1, 10), (t0 + 10_000, 10),
                         (t0 + 15_000, 20), (t0 + 20_000, 20), (t0 + 20_001, -1)]:
            (r,) = c.offsets_for_times([ck.TopicPartition(topic, 0, ts)], timeout=10)
            assert r.error is None and r.offset == want, (ts - t0, r)
    finally:
        c.close()

    # kafka-python: ListOffsets v1.
    kc = KafkaConsumer(bootstrap_servers=b.bootstrap, group_id=None, enable_auto_commit=False)
    try:
        tp = TopicPartition(topic, 0)
        assert kc.beginning_offsets([tp]) == {tp: 0}
        assert kc.end_offsets([tp]) == {tp: 30}
        r = kc.offsets_for_times({tp: t0 + 5_000})[tp]
        assert (r.offset, r.timestamp) == (10, t0 + 10_000), r
        assert kc.offsets_for_times({tp: t0 + 30_000})[tp] is None
    finally:
        kc.close()

    # kcat: -Q by timestamp; -o -N reads from latest - N; -o beginning.
    out = b.kcat("-Q", "-t", f"{topic}:0:{t0 + 10_001}").stdout.decode()
    assert f"{topic} [0] offset 20" in out, out
    out = b.kcat("-C", "-t", topic, "-p", "0", "-o", "-3", "-e", "-q", "-f", "%o %k %T\n").stdout
    assert out.decode().splitlines() == [f"{o} k{o} {t0 + 20_000}" for o in (27, 28, 29)], out
    out = b.kcat("-C", "-t", topic, "-p", "0", "-o", "beginning", "-c", "2", "-q",
                 "-f", "%o %k\n").stdout
    assert out.decode().splitlines() == ["0 k0", "1 k1"], out

    # Raw ListOffsets v1: the timestamp returned is the record's.
    with b.conn() as conn:
        assert conn.list_offset(topic, 0, -2)["offset"] == 0
        assert conn.list_offset(topic, 0, -1)["offset"] == 30
        r = conn.list_offset(topic, 0, t0 + 1)
        assert (r["error_code"], r["offset"], r["timestamp"]) == (0, 10, t0 + 10_000), r
        r = conn.list_offset(topic, 0, t0 + 99_999)
        assert (r["error_code"], r["offset"], r["timestamp"]) == (0, -1, -1), r
        r = conn.list_offset("no-such-topic", 0, -1)
        assert r["error_code"] == replogd.ERR_UNKNOWN_TOPIC_OR_PARTITION, r


# ---- CreateTopics / DeleteTopics ----------------------------------------------------

def test_create_and_delete_topics_with_admin_client(brokers):
    b = brokers()
    admin = KafkaAdminClient(bootstrap_servers=b.bootstrap, request_timeout_ms=20000)
    try:
        admin.create_topics([NewTopic("orders", 3, 1, topic_configs={
            "retention.ms": "3600000", "segment.bytes": "1048576"})])
        md = b.metadata_json()
        (t,) = [t for t in md["topics"] if t["topic"] == "orders"]
        assert sorted((p["partition"], p["leader"]) for p in t["partitions"]) == \
            [(0, 1), (1, 1), (2, 1)], md
        for i in range(3):
            assert b.partition_dir("orders", i).is_dir(), b.ctx()
        (ev,) = b.events("topic_created")
        assert ev["topic"] == "orders" and ev["partitions"] == "3", ev
        cfg = dict(kv.split("=", 1) for kv in ev["config"].split(","))
        assert cfg["retention.ms"] == "3600000" and cfg["segment.bytes"] == "1048576", cfg

        # segment.bytes is in effect: 2.5 MiB into partition 1 rolls segments.
        # (One request in flight: pipelining has its own tests.)
        p = ck.Producer({"bootstrap.servers": b.bootstrap, "acks": "1", "linger.ms": 20,
                         "batch.size": 200000, "max.in.flight": 1})
        for i in range(2500):
            p.produce("orders", value=bytes(1000), key=str(i).encode(), partition=1)
            p.poll(0)
        assert flush(p, b) == 0
        segs = sorted(b.partition_dir("orders", 1).glob("*.log"))
        assert len(segs) >= 3, f"2.5 MB with segment.bytes=1048576 gave segments {segs}"
        assert all(s.stat().st_size <= 1048576 for s in segs), [s.stat().st_size for s in segs]

        with pytest.raises(kerrors.TopicAlreadyExistsError):
            admin.create_topics([NewTopic("orders", 1, 1)])
        for bad in ({"segment.bytes": "12"}, {"retention.ms": "soon"},
                    {"no.such.config": "1"}):
            with pytest.raises(kerrors.InvalidConfigurationError):
                admin.create_topics([NewTopic("badcfg", 1, 1, topic_configs=bad)])
        with pytest.raises(kerrors.InvalidReplicationFactorError):
            admin.create_topics([NewTopic("rf2", 1, 2)])
        assert not (b.data_dir / "badcfg-0").exists() and not (b.data_dir / "rf2-0").exists()
        assert sorted(admin.list_topics()) == ["orders"]

        admin.delete_topics(["orders"])
        assert "orders" not in admin.list_topics()
        assert "orders" not in [t["topic"] for t in b.metadata_json()["topics"]]
        wait_for(lambda: not any(b.partition_dir("orders", i).exists() for i in range(3)),
                 10, "the deleted topic's directories to be removed", ctx=b.ctx)
        with pytest.raises(kerrors.UnknownTopicOrPartitionError):
            admin.delete_topics(["orders"])
    finally:
        admin.close()

    # Producing to it again auto-creates a fresh, empty topic (defaults: 1 partition).
    b.kcat("-P", "-t", "orders", "-p", "0", "-K", ":", input=b"again:fresh\n")
    out = b.kcat("-C", "-t", "orders", "-p", "0", "-o", "beginning", "-e", "-q",
                 "-f", "%o %k %s\n").stdout.decode()
    assert out.splitlines() == ["0 again fresh"], out
    md = b.metadata_json()
    (t,) = [t for t in md["topics"] if t["topic"] == "orders"]
    assert len(t["partitions"]) == 1, md
    assert [p.name for p in b.partition_dirs()] == ["orders-0"]
