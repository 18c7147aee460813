"""Description: what a single replogd keeps across a clean stop, a restart and a kill -9.

Real broker processes (tests/cluster/replogd.py), real clients: data
produced before a SIGTERM/restart comes back unchanged at the same offsets
and the second start says it recovered after a clean shutdown; every
record acknowledged (acks=1, the default flush-every-append config) before
a kill -9 in the middle of a produce load is there after the restart at the
offset it was acknowledged at, and the log passes `replog dump-log`; SIGTERM
and SIGINT stop the broker within seconds, exit 0 and leave .clean-shutdown
in every partition directory.
"""
import random
import re
import signal
import threading
import time

import pytest

pytest.register_assert_rewrite("replogd")
from replogd import (API_FETCH, build_batch, dump_log, fetch_body, flush,  # noqa: E402
                     log_end, needs_broker, wait_for)

pytest_plugins = ["replogd"]
pytestmark = needs_broker

ck = pytest.importorskip("confluent_kafka")


def read_all(b, topic, partition, end, timeout_s=60.0):
    """{offset: (key, value, headers)} of offsets [0, end) via confluent-kafka."""
    c = ck.Consumer({"bootstrap.servers": b.bootstrap, "group.id": "replog-tests-assign-only",
                     "enable.auto.commit": False, "enable.auto.offset.store": False})
    out = {}
    try:
        c.assign([ck.TopicPartition(topic, partition, ck.OFFSET_BEGINNING)])
        deadline = time.monotonic() + timeout_s
        for _ in range(1_000_000):
            if len(out) >= end or time.monotonic() > deadline:
                break
            assert b.running(), "replogd died" + b.ctx()
            for m in c.consume(num_messages=1000, timeout=0.2):
                assert m.error() is None, f"consumer error {m.error()}" + b.ctx()
                assert m.offset() not in out, f"offset {m.offset()} delivered twice"
                out[m.offset()] = (m.key(), m.value(), list(m.headers() or []))
    finally:
        c.close()
    assert sorted(out) == list(range(end)), \
        (f"{topic}-{partition}: read offsets {min(out, default=None)}..{max(out, default=None)} "
         f"({len(out)} records), expected 0..{end - 1}" + b.ctx())
    return out


def partition_dirs(b):
    return b.partition_dirs()


def led_epochs(b):
    """{(topic, partition): leader epoch} this broker last took leadership at."""
    return {(e["topic"], int(e["partition"])): int(e["leader_epoch"])
            for e in b.events("became_leader", since_start=True)}


def opened_events(b):
    return {(e["topic"], int(e["partition"])): e
            for e in b.events("partition_opened", since_start=True)
            if e["topic"] != "__cluster_metadata"}


# ---- restart -------------------------------------------------------------------

def test_restart_keeps_every_record_at_its_offset(brokers):
    b = brokers({"topic_defaults": {"partitions": 2}})
    rng = random.Random(7)
    sent = {}  # (topic, partition, offset) -> (key, value, headers)
    by_key = {}
    for topic, codec in (("plain", "none"), ("packed", "zstd")):
        errors = []

        def on_delivery(err, msg, errors=errors):
            if err is not None:
                errors.append(err)
            else:
                sent[(msg.topic(), msg.partition(), msg.offset())] = by_key[msg.key()]

        # One request in flight: pipelined produce load is the kill -9 test's.
        p = ck.Producer({"bootstrap.servers": b.bootstrap, "acks": "all",
                         "compression.type": codec, "linger.ms": 5, "max.in.flight": 1})
        for i in range(1500):
            key, value = f"{topic}-{i}".encode(), ("%d:" % i + "x" * rng.randint(0, 400)).encode()
            by_key[key] = (key, value, [("i", str(i).encode())])
            p.produce(topic, key=key, value=value, partition=i % 2, headers=by_key[key][2],
                      on_delivery=on_delivery)
            p.poll(0)
        assert flush(p, b) == 0, "undelivered messages" + b.ctx()
        assert errors == [], errors[:5]
    ends = {}
    for (t, part, off) in sent:
        ends[(t, part)] = max(ends.get((t, part), 0), off + 1)
    assert ends == {("plain", 0): 750, ("plain", 1): 750, ("packed", 0): 750,
                    ("packed", 1): 750}, ends
    first = led_epochs(b)

    b.stop()
    dirs = partition_dirs(b)
    assert [d.name for d in dirs] == ["packed-0", "packed-1", "plain-0", "plain-1"], dirs
    for d in dirs:
        assert (d / ".clean-shutdown").exists(), f"no .clean-shutdown in {d}" + b.ctx()
    log_sizes = {d.name: {f.name: f.stat().st_size for f in d.glob("*.log")} for d in dirs}

    b.start()
    opened = opened_events(b)
    assert sorted(opened) == sorted(ends), opened
    for key, e in opened.items():
        assert e["recovery"].startswith("recovered after clean shutdown"), e
        assert int(e["log_end"]) == ends[key], e
    # Each partition has a new leader epoch: the restarted broker is a new
    # incarnation, and fetches fenced by the old epoch must fail.
    again = led_epochs(b)
    assert sorted(again) == sorted(ends) and all(again[k] > first[k] for k in ends), (first, again)
    for d in dirs:
        assert not (d / ".clean-shutdown").exists(), f"{d}/.clean-shutdown while the log is open"
        assert {f.name: f.stat().st_size for f in d.glob("*.log")} == log_sizes[d.name]

    for (t, part), end in ends.items():
        assert log_end(b, t, part) == end
        got = read_all(b, t, part, end)
        for off, rec in got.items():
            assert rec == sent[(t, part, off)], (t, part, off, rec, sent[(t, part, off)])

    # New data continues after the old offsets.
    with b.conn() as c:
        r = c.produce("plain", 1, build_batch([(b"after", b"restart", [])]), acks=-1)
    assert (r["error_code"], r["base_offset"]) == (0, 750), r


# ---- kill -9 under load -----------------------------------------------------------

@pytest.mark.parametrize("inflight", [1, 5])
def test_kill9_during_produce_keeps_every_acked_record(brokers, inflight):
    b = brokers()
    topic = "crash"
    acked = {}      # offset -> (key, value): acknowledged (acks=1 = fsynced here)
    failed = []
    state = {"produced": 0, "error": None}
    stop = threading.Event()
    p = ck.Producer({"bootstrap.servers": b.bootstrap, "acks": "1", "linger.ms": 2,
                     "batch.num.messages": 25, "max.in.flight": inflight,
                     "message.timeout.ms": 4000, "retries": 0, "enable.idempotence": False,
                     "queue.buffering.max.messages": 20000, "reconnect.backoff.ms": 50,
                     "reconnect.backoff.max.ms": 200})

    def on_delivery(err, msg):
        if err is None:
            assert msg.offset() not in acked, f"offset {msg.offset()} acknowledged twice"
            acked[msg.offset()] = (msg.key(), msg.value())
        else:
            failed.append(err)

    def produce_load():
        try:
            for i in range(5_000_000):
                if stop.is_set():
                    break
                for _ in range(1000):  # a full local queue: serve callbacks, retry
                    try:
                        p.produce(topic, key=b"k%d" % i, value=b"value-%d-" % i + b"v" * 150,
                                  partition=0, on_delivery=on_delivery)
                        break
                    except BufferError:
                        p.poll(0.01)
                else:
                    raise AssertionError("the producer's queue stayed full for 10 s")
                p.poll(0)
                state["produced"] = i + 1
        except Exception as e:  # reported by the main thread
            state["error"] = e

    th = threading.Thread(target=produce_load, daemon=True)
    th.start()
    try:
        wait_for(lambda: len(acked) >= 3000, 90, "3000 acknowledged records", ctx=b.ctx,
                 alive=b)
        assert b.running(), "the broker died under load" + b.ctx()
        b.kill9()
    finally:
        stop.set()
        th.join(30)
    assert not th.is_alive(), "the producer thread did not stop"
    assert state["error"] is None, state["error"]
    # Every message resolves: acknowledged before the kill, or failed.
    assert p.flush(30) == 0, "messages neither acknowledged nor failed"
    assert failed, "nothing was in flight at the kill: the load did not overlap it"
    assert len(acked) + len(failed) == state["produced"]
    for d in partition_dirs(b):
        assert not (d / ".clean-shutdown").exists(), f"{d}/.clean-shutdown after kill -9"

    b.start()
    (e,) = [e for e in b.events("partition_opened", since_start=True) if e["topic"] == topic]
    assert not e["recovery"].startswith("recovered after clean shutdown"), e
    end = log_end(b, topic, 0)
    assert int(e["log_end"]) == end, e
    top = max(acked)
    assert end >= top + 1, f"log ends at {end}, but offset {top} was acknowledged" + b.ctx()
    got = read_all(b, topic, 0, end)
    missing = [o for o in sorted(acked) if o not in got]
    assert not missing, f"{len(missing)} acknowledged records lost, first {missing[:10]}"
    wrong = [(o, got[o][:2], acked[o]) for o in sorted(acked) if got[o][:2] != acked[o]]
    assert not wrong, f"{len(wrong)} acknowledged offsets hold other records: {wrong[:5]}"

    b.stop()
    r = dump_log(b.partition_dir(topic, 0))
    assert r.returncode == 0, f"dump-log rc={r.returncode}\n{r.stderr[-3000:]}"
    m = re.search(r"logEndOffset: (\d+) ", r.stdout)
    assert m and int(m.group(1)) == end, r.stdout[-2000:]


# ---- graceful shutdown --------------------------------------------------------------

@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_cleanly_within_seconds(brokers, sig):
    b = brokers({"topic_defaults": {"partitions": 3}})
    # One request at a time (the raw client): this test is about stopping.
    with b.conn() as c:
        for i in range(30):
            batch = build_batch([(b"k%d-%d" % (i, j), b"v%d" % j, []) for j in range(10)])
            assert c.produce("alpha", i % 3, batch, acks=-1)["error_code"] == 0
        batch = build_batch([(None, b"one", []), (None, b"two", [])])
        assert c.produce("beta", 1, batch, acks=1)["error_code"] == 0
    assert [log_end(b, "alpha", i) for i in range(3)] == [100, 100, 100]
    end = log_end(b, "beta", 1)
    assert end == 2
    idle = b.conn()
    idle.api_versions()
    poller = b.conn()
    poller.send(API_FETCH, 4, fetch_body("beta", 1, end, max_wait_ms=30000))
    with pytest.raises(TimeoutError):  # parked: no data past the end
        poller.recv_frame(timeout_s=0.2)
    try:
        took = b.stop(sig=sig)
    finally:
        idle.close()
        poller.close()
    assert took < 5.0, f"exit took {took:.2f}s"
    (stopping,) = b.events("broker_stopping", since_start=True)
    assert stopping["reason"] == sig.name, stopping
    (stopped,) = b.events("broker_stopped", since_start=True)
    assert stopped["clean"] == "true", stopped
    dirs = partition_dirs(b)
    assert [d.name for d in dirs] == [f"{t}-{i}" for t in ("alpha", "beta") for i in range(3)]
    for d in dirs:
        assert (d / ".clean-shutdown").exists(), f"no .clean-shutdown in {d}" + b.ctx()
        r = dump_log(d)
        assert r.returncode == 0 and "cleanShutdown: true" in r.stdout, (d, r.stdout, r.stderr)
