"""Description: the /metrics endpoint (metrics.listen) of real replogd processes.

Scrapes are parsed with Debian's prometheus_client text parser, so what a
Prometheus server would refuse fails here. Checked:

  * one broker: the families and their types; records and bytes in and out
    match what kcat produced and consumed; request counters and latency
    histograms (cumulative buckets, +Inf = count); fsyncs measured;
    404, 405, HEAD; a client that sends nothing neither blocks other
    scrapes nor stays open past the deadline;
  * three brokers: a follower killed makes the leader count an ISR shrink
    and an under-replicated partition; back, an expansion and none under
    replicated; quorum gauges agree on the active controller;
  * metrics.listen absent: nothing listens.

Every wait polls with a deadline.
"""
import socket
import time
import urllib.error
import urllib.request

import pytest

pytest.register_assert_rewrite("replogd")
from replogd import HOST, free_port, needs_broker, wait_for  # noqa: E402

pytest_plugins = ["replogd"]
pytestmark = needs_broker

prom = pytest.importorskip("prometheus_client.parser")


def scrape(port, path="/metrics", method="GET", timeout_s=5.0):
    req = urllib.request.Request(f"http://{HOST}:{port}{path}", method=method)
    with urllib.request.urlopen(req, timeout=timeout_s) as r:
        return r.status, r.headers, r.read().decode()


def families(port):
    """{family name: Metric} of one scrape."""
    status, headers, text = scrape(port)
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4"), headers
    return {f.name: f for f in prom.text_string_to_metric_families(text)}


def value(fams, family, sample=None, **labels):
    """The value of the sample named `sample` (default: the family name) with
    exactly these labels, or None."""
    name = sample or family
    for s in fams[family].samples:
        if s.name == name and s.labels == {k: str(v) for k, v in labels.items()}:
            return s.value
    return None


def metrics_broker(brokers, **extra):
    port = free_port()
    cfg = {"metrics": {"listen": f"{HOST}:{port}"}}
    cfg.update(extra)
    return brokers(cfg), port


def test_single_broker_counts_what_clients_did(brokers):
    b, port = metrics_broker(brokers)
    n = 250
    b.kcat("-P", "-t", "m1", "-p", "0",
           input="".join(f"record-{i}\n" for i in range(n)).encode())
    out = b.kcat("-C", "-t", "m1", "-p", "0", "-o", "beginning", "-e", "-q").stdout
    assert len(out.splitlines()) == n

    fams = families(port)
    types = {name: f.type for name, f in fams.items()}
    for name, typ in {"replog_build_info": "gauge", "replog_requests": "counter",
                      "replog_request_duration_seconds": "histogram",
                      "replog_fsync_duration_seconds": "histogram",
                      "replog_partition_log_end_offset": "gauge",
                      "replog_partition_high_watermark": "gauge",
                      "replog_partition_isr_size": "gauge",
                      "replog_partition_leader_epoch": "gauge",
                      "replog_partition_records_in": "counter",
                      "replog_partition_bytes_out": "counter",
                      "replog_partition_isr_shrinks": "counter",
                      "replog_partition_discarded_records": "counter",
                      "replog_under_replicated_partitions": "gauge",
                      "replog_offline_partitions": "gauge", "replog_connections": "gauge",
                      "replog_quorum_term": "gauge"}.items():
        assert types.get(name) == typ, (name, types.get(name))

    part = {"topic": "m1", "partition": 0}
    assert value(fams, "replog_partition_log_end_offset", **part) == n
    assert value(fams, "replog_partition_high_watermark", **part) == n
    assert value(fams, "replog_partition_is_leader", **part) == 1
    assert value(fams, "replog_partition_records_in", "replog_partition_records_in_total",
                 **part) == n
    bytes_in = value(fams, "replog_partition_bytes_in", "replog_partition_bytes_in_total",
                     **part)
    assert bytes_in > n * len("record-0"), bytes_in
    assert value(fams, "replog_partition_records_out", "replog_partition_records_out_total",
                 **part) >= n
    assert value(fams, "replog_partition_bytes_out", "replog_partition_bytes_out_total",
                 **part) >= bytes_in
    assert value(fams, "replog_requests", "replog_requests_total", api="Produce") >= 1
    assert value(fams, "replog_requests", "replog_requests_total", api="Fetch") >= 1

    # Histograms: cumulative buckets, the last one (+Inf) equal to the count.
    for fam, labels in (("replog_request_duration_seconds", {"api": "Produce"}),
                        ("replog_fsync_duration_seconds", {})):
        buckets = [(s.labels["le"], s.value) for s in fams[fam].samples
                   if s.name == fam + "_bucket"
                   and {k: v for k, v in s.labels.items() if k != "le"} == labels]
        counts = [v for _, v in buckets]
        assert counts == sorted(counts), buckets
        assert buckets[-1][0] == "+Inf"
        count = value(fams, fam, fam + "_count", **labels)
        assert count >= 1 and buckets[-1][1] == count, (fam, buckets, count)
        assert value(fams, fam, fam + "_sum", **labels) >= 0

    # Other paths, other methods, HEAD.
    with pytest.raises(urllib.error.HTTPError) as e:
        scrape(port, "/nope")
    assert e.value.code == 404
    with pytest.raises(urllib.error.HTTPError) as e:
        scrape(port, method="POST")
    assert e.value.code == 405
    status, headers, body = scrape(port, method="HEAD")
    assert status == 200 and body == ""


def test_idle_client_does_not_block_scrapes(brokers):
    b, port = metrics_broker(brokers)
    idle = socket.create_connection((HOST, port), timeout=10)
    try:
        idle.sendall(b"GET /metr")  # and nothing more
        status, _, text = scrape(port)  # others are served meanwhile
        assert status == 200 and "replog_build_info" in text
        # The broker drops the silent one after its deadline (5 s).
        idle.settimeout(15)
        t0 = time.monotonic()
        assert idle.recv(100) == b""
        assert 3.0 < time.monotonic() - t0 < 12.0
    finally:
        idle.close()


def test_no_listener_without_metrics_listen(brokers):
    port = free_port()
    b = brokers()
    assert not b.events("metrics_listening", since_start=True)
    with pytest.raises(OSError):
        socket.create_connection((HOST, port), timeout=2).close()


def test_cluster_isr_changes_and_quorum_gauges(cluster):
    ports = {i: free_port() for i in (1, 2, 3)}
    c = cluster(3, controllers=[1, 2, 3], start=False)
    for i, b in c.brokers.items():
        b.config.setdefault("metrics", {})["listen"] = f"{HOST}:{ports[i]}"
    c.start()
    c.create_topic("iq", 1, 3, 2)
    leader = c.wait_leader("iq", 0)
    c.wait_isr("iq", 0, {1, 2, 3})
    follower = next(i for i in (1, 2, 3) if i != leader)
    part = {"topic": "iq", "partition": 0}

    def counter(name):
        return value(families(ports[leader]), name, name + "_total", **part)

    assert counter("replog_partition_isr_shrinks") == 0
    c[follower].kill9()
    wait_for(lambda: counter("replog_partition_isr_shrinks") >= 1, 30,
             "an ISR shrink counted by the leader", ctx=c.ctx)
    fams = families(ports[leader])
    assert value(fams, "replog_under_replicated_partitions") >= 1
    assert value(fams, "replog_partition_isr_size", **part) == 2
    c[follower].start(wait_unfenced=True, wait_leaders=False)
    wait_for(lambda: counter("replog_partition_isr_expands") >= 1, 30,
             "an ISR expansion counted by the leader", ctx=c.ctx)
    wait_for(lambda: value(families(ports[leader]), "replog_under_replicated_partitions") == 0,
             30, "no partition under-replicated", ctx=c.ctx)

    ctl = c.active_controller()
    for i in (1, 2, 3):
        fams = families(ports[i])
        assert value(fams, "replog_quorum_leader") == ctl
        assert value(fams, "replog_quorum_active_controller") == (1 if i == ctl else 0)
