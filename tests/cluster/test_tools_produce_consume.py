"""Description: `replog produce` and `replog consume` against real brokers, checked with kcat.

A single broker (auto-created topics are never made by the tools) and a
3-broker cluster, the real `replog` binary and kcat on the other side:
  * produce 100 lines, kcat reads them back identical and in order, the
    final stderr line names the offsets; --key-separator keys read back by
    kcat -f '%k=%s\\n'; --acks 0, 1 and all;
  * consume what kcat produced: default format, custom formats (%k %v %o %p
    %t %T, escapes), --count, --offset N, --offset end, OFFSET_OUT_OF_RANGE;
  * unknown topic or partition is exit 1; bad flags exit 2; a bootstrap
    server nobody listens on is exit 1;
  * on 3 brokers, produce through a non-leader bootstrap server lands on the
    leader.
No fixed sleeps: every wait is a poll with a deadline.
"""
import subprocess
import time

import pytest

pytest.register_assert_rewrite("replogd")
import replogd  # noqa: E402,F401
from replogd import REPLOG, free_port, needs_broker, wait_for  # noqa: E402
from replogd import run_replog as replog  # noqa: E402

pytest_plugins = ["replogd"]
pytestmark = needs_broker

WAIT_S = 30.0


def produce(*args, input, timeout_s=120):
    """`replog produce ARGS...` with stdin (run_replog has no stdin)."""
    args = ["produce", *[str(a) for a in args]]
    t0 = time.monotonic()
    p = subprocess.run([str(REPLOG), *args], input=input, capture_output=True, text=True,
                       errors="replace", timeout=timeout_s, check=False)
    return replogd.ToolRun(args, p, time.monotonic() - t0)


def make_topic(b, topic, partitions=1):
    r = replog("topics", "create", "-b", b.bootstrap, "--topic", topic,
               "--partitions", partitions, "--replication-factor", 1)
    assert r.rc == 0, r
    for p in range(partitions):
        wait_for(lambda: replog("consume", "-b", b.bootstrap, "--topic", topic,
                                "--partition", p).rc == 0,
                 WAIT_S, f"{topic}-{p} to have a leader", ctx=b.ctx)


def kcat_read(b, topic, fmt="%s\n", partition=0):
    return b.kcat("-C", "-t", topic, "-p", partition, "-o", "beginning", "-e", "-q",
                  "-f", fmt).stdout.decode()


def test_produce_lines_read_back_by_kcat(brokers):
    b = brokers()
    make_topic(b, "lines")
    lines = [f"line {i} " + "x" * (i % 7) for i in range(100)]
    r = produce("-b", b.bootstrap, "--topic", "lines", input="\n".join(lines) + "\n")
    assert r.rc == 0 and r.out == "", r
    assert r.err == "produced 100 records to lines-0 (offsets 0..99)\n", r
    assert kcat_read(b, "lines").splitlines() == lines
    # A second run appends after the first; a last line without newline counts.
    r = produce("-b", b.bootstrap, "--topic", "lines", input="a\n\nb")
    assert r.rc == 0 and r.err == "produced 3 records to lines-0 (offsets 100..102)\n", r
    assert kcat_read(b, "lines").splitlines() == lines + ["a", "", "b"]
    # More than one request's worth (1000 records each) stays in order.
    many = [str(i) for i in range(2500)]
    r = produce("-b", b.bootstrap, "--topic", "lines", input="\n".join(many) + "\n")
    assert r.rc == 0 and r.err == "produced 2500 records to lines-0 (offsets 103..2602)\n", r
    assert kcat_read(b, "lines").splitlines()[103:] == many


def test_produce_keys(brokers):
    b = brokers()
    make_topic(b, "keyed")
    r = produce("-b", b.bootstrap, "--topic", "keyed", "--key-separator", "::",
                input="k1::v1\nk2::v::2\nnokey\n::empty-key\n")
    assert r.rc == 0, r
    out = kcat_read(b, "keyed", "%k=%s\n").splitlines()
    assert out == ["k1=v1", "k2=v::2", "=nokey", "=empty-key"]
    r = replog("consume", "-b", b.bootstrap, "--topic", "keyed", "--format", "%k|%v\\n")
    assert r.rc == 0 and r.out == "k1|v1\nk2|v::2\n|nokey\n|empty-key\n", r


@pytest.mark.parametrize("acks", ["0", "1", "all"])
def test_produce_acks(brokers, acks):
    b = brokers()
    make_topic(b, "acks")
    lines = [f"{acks}-{i}" for i in range(50)]
    r = produce("-b", b.bootstrap, "--topic", "acks", "--acks", acks,
                input="\n".join(lines) + "\n")
    assert r.rc == 0, r
    if acks == "0":
        assert r.err == "produced 50 records to acks-0 (acks 0: offsets not known)\n", r
    else:
        assert r.err == "produced 50 records to acks-0 (offsets 0..49)\n", r
    wait_for(lambda: kcat_read(b, "acks").splitlines() == lines, WAIT_S,
             "the records to be readable", ctx=b.ctx)


def test_consume_what_kcat_produced(brokers):
    b = brokers()
    make_topic(b, "fromkcat", partitions=2)
    vals = [f"value-{i}" for i in range(20)]
    b.kcat("-P", "-t", "fromkcat", "-p", "1", "-K", ":",
           input="".join(f"key{i}:{v}\n" for i, v in enumerate(vals)).encode())
    boot = ("-b", b.bootstrap, "--topic", "fromkcat", "--partition", "1")
    wait_for(lambda: replog("consume", *boot).out.splitlines() == vals, WAIT_S,
             "kcat's records in replog consume", ctx=b.ctx)
    r = replog("consume", *boot)
    assert r.rc == 0 and r.err == "" and r.out == "".join(v + "\n" for v in vals), r
    r = replog("consume", *boot, "--format", "%t/%p@%o\\t%k=%s\\n")
    assert r.rc == 0, r
    assert r.out.splitlines() == [f"fromkcat/1@{i}\tkey{i}={v}" for i, v in enumerate(vals)]
    r = replog("consume", *boot, "--format", "%T %%\\n")
    assert r.rc == 0, r
    now_ms = time.time() * 1000
    for line in r.out.splitlines():
        ts, pct = line.split(" ")
        assert pct == "%" and abs(int(ts) - now_ms) < 600_000, r
    r = replog("consume", *boot, "--count", "3")
    assert r.rc == 0 and r.out.splitlines() == vals[:3], r
    r = replog("consume", *boot, "--offset", "15")
    assert r.rc == 0 and r.out.splitlines() == vals[15:], r
    r = replog("consume", *boot, "--offset", "5", "--count", "2", "--format", "%o\\n")
    assert r.rc == 0 and r.out == "5\n6\n", r
    r = replog("consume", *boot, "--offset", "20")
    assert r.rc == 0 and r.out == "", r
    r = replog("consume", *boot, "--offset", "end")
    assert r.rc == 0 and r.out == "", r
    r = replog("consume", *boot, "--offset", "500")
    assert r.rc == 1 and "OFFSET_OUT_OF_RANGE" in r.err, r
    # --follow stops at --count when the records arrive later.
    p = subprocess.Popen([str(REPLOG), "consume", *boot, "--offset", "end", "--follow",
                          "--count", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        def fed():
            b.kcat("-P", "-t", "fromkcat", "-p", "1", input=b"late\n")
            try:
                p.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                return False
            return True
        wait_for(fed, WAIT_S, "consume --follow to print 2 new records", ctx=b.ctx)
        out, err = p.communicate(timeout=10)
        assert p.returncode == 0 and out == "late\nlate\n", (out, err)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_errors(brokers):
    b = brokers()
    make_topic(b, "exists")
    r = replog("consume", "-b", b.bootstrap, "--topic", "nope")
    assert r.rc == 1 and "UNKNOWN_TOPIC_OR_PARTITION" in r.err, r
    r = replog("consume", "-b", b.bootstrap, "--topic", "exists", "--partition", "7")
    assert r.rc == 1 and "UNKNOWN_TOPIC_OR_PARTITION" in r.err, r
    r = produce("-b", b.bootstrap, "--topic", "exists", "--partition", "7", input="x\n")
    assert r.rc == 1 and "UNKNOWN_TOPIC_OR_PARTITION" in r.err, r
    # consume never creates a topic.
    assert "nope" not in [t["topic"] for t in b.metadata_json()["topics"]]

    for args in (["--acks", "2"], ["--partition", "-1"], ["--bogus"], [],
                 ["--topic", "a", "--topic", "b"], ["--key-separator", ""],
                 ["--timeout-ms", "0"], ["extra"]):
        r = produce("-b", b.bootstrap, *(["--topic", "exists"] if args and "--topic"
                                         not in args else []), *args, input="x\n")
        assert r.rc == 2 and "--help" in r.err, r
    for args in (["--offset", "middle"], ["--count", "0"], ["--format", "%q"],
                 ["--format", "\\x"], ["--follow=yes"], ["--partition", "x"]):
        r = replog("consume", "-b", b.bootstrap, "--topic", "exists", *args)
        assert r.rc == 2 and "--help" in r.err, r
    r = replog("consume", "-b", b.bootstrap)
    assert r.rc == 2, r

    for cmd in ("produce", "consume"):
        r = replog(cmd, "--help")
        assert r.rc == 0, r
        for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "OUTPUT",
                        "EXIT STATUS", "EXAMPLES"):
            assert f"\n{section}\n" in "\n" + r.out, (section, r)
        assert replog("help", cmd).out == r.out

    down = f"127.0.0.1:{free_port()}"
    r = produce("-b", down, "--topic", "exists", "--timeout-ms", "2000", input="x\n")
    assert r.rc == 1 and "refused" in r.err and r.out == "", r
    r = replog("consume", "-b", down, "--topic", "exists", "--timeout-ms", "2000")
    assert r.rc == 1 and "refused" in r.err and r.out == "", r


def test_produce_through_non_leader(cluster):
    c = cluster(3)
    c.create_topic("moved", partitions=1, replication_factor=3, min_isr=2)
    leader = c.wait_leader("moved")
    other = next(i for i in (1, 2, 3) if i != leader)
    # The bootstrap server must know the topic and its leader first.
    assert c.wait_leader("moved", via=c[other]) == leader
    lines = [f"m{i}" for i in range(30)]
    r = produce("-b", c[other].bootstrap, "--topic", "moved", "--acks", "all",
                input="\n".join(lines) + "\n")
    assert r.rc == 0 and r.err == "produced 30 records to moved-0 (offsets 0..29)\n", r
    assert kcat_read(c[leader], "moved").splitlines() == lines
    r = replog("consume", "-b", c[other].bootstrap, "--topic", "moved", "--format", "%o:%v\\n")
    assert r.rc == 0 and r.out.splitlines() == [f"{i}:m{i}" for i in range(30)], r


def test_produce_creates_a_topic_only_when_the_broker_allows(brokers):
    b = brokers()
    r = produce("-b", b.bootstrap, "--topic", "fresh", input="one\ntwo\n")
    assert r.rc == 0 and "produced 2 records to fresh-0" in r.err, r
    r = replog("consume", "-b", b.bootstrap, "--topic", "fresh")
    assert r.rc == 0 and r.out == "one\ntwo\n", r
    strict = brokers({"auto_create_topics": False})
    r = produce("-b", strict.bootstrap, "--topic", "fresh", input="x\n")
    assert r.rc == 1 and "UNKNOWN_TOPIC_OR_PARTITION" in r.err, r


def test_produce_receipts_and_zstd(brokers):
    """--receipts prints one receipt per record in input order, each one
    COMMITTED for `replog receipt`; --compression zstd stores compressed
    batches that kcat reads back."""
    b = brokers()
    make_topic(b, "receipted")
    lines = [f"r{i}-" + "y" * 40 for i in range(300)]
    r = produce("-b", b.bootstrap, "--topic", "receipted", "--receipts", "--compression",
                "zstd", input="\n".join(lines) + "\n")
    assert r.rc == 0 and r.err == "produced 300 records to receipted-0 (offsets 0..299)\n", r
    receipts = r.out.splitlines()
    assert len(receipts) == 300, r
    offsets = [int(x.split(":")[2]) for x in receipts]
    assert offsets == list(range(300)), receipts[:5]
    assert all(x.startswith("receipted:0:") for x in receipts)
    assert kcat_read(b, "receipted").splitlines() == lines
    dump = replog("dump-log", str(b.partition_dir("receipted")))
    assert dump.rc == 0 and "compresscodec: zstd" in dump.out, dump
    assert "compresscodec: none" not in dump.out, dump
    chk = subprocess.run([REPLOG, "receipt", "-b", b.bootstrap], input=r.out, text=True,
                         capture_output=True, timeout=60)
    assert chk.returncode == 0, chk
    assert [ln.split()[1] for ln in chk.stdout.splitlines()] == ["COMMITTED"] * 300, chk
    # A second run's receipts continue where the first stopped.
    r = produce("-b", b.bootstrap, "--topic", "receipted", "--receipts", input="last\n")
    assert r.rc == 0 and r.out.split(":")[2] == "300", r
    r = produce("-b", b.bootstrap, "--topic", "receipted", "--compression", "gzip",
                input="x\n")
    assert r.rc == 2 and "--compression" in r.err, r
    down = f"127.0.0.1:{free_port()}"
    r = replog("receipt", "-b", down, "--timeout-ms", "1000", receipts[0])
    assert r.rc == 1 and "refused" in r.err and r.out == "", r
    r = replog("receipt", "--bogus")
    assert r.rc == 2 and "--help" in r.err, r
