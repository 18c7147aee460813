"""Description: `replog dump-log` on real logs written by the storage engine.

Each test writes a partition log with tests/tools/mklog (plog_open,
plog_append_leader, plog_truncate_preserving, plog_close), which prints what
it wrote as JSON, optionally damages the files the way a disk or a crash
would, runs the real `replog` binary and checks stdout, stderr and the exit
code against what was written. No sleeps; every input is deterministic.
"""
import datetime
import hashlib
import json
import os
import re
import struct
import subprocess
from pathlib import Path

import pytest

BUILD = os.environ.get("REPLOG_BUILD_ROOT", "")
REPLOG = Path(BUILD) / "tools" / "replog"
MKLOG = Path(BUILD) / "tests" / "tools" / "mklog"

pytestmark = pytest.mark.skipif(
    not (REPLOG.exists() and MKLOG.exists()),
    reason="REPLOG_BUILD_ROOT must name a build with tools/replog and tests/tools/mklog",
)

DUMP_OPTIONS = [
    "--print-data-log", "-d", "--deep-iteration", "--verify-index",
    "--verify-index-only", "--discarded", "--max-batch-bytes", "--files", "--help",
]


# ---- running the programs ------------------------------------------------

def mklog(tmp_path, *args, name="topic-0"):
    """Write a log with mklog; returns (partition dir, what mklog wrote)."""
    d = tmp_path / name
    out = subprocess.run([str(MKLOG), "--dir", str(d), *map(str, args)],
                         capture_output=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr.decode()
    return d, json.loads(out.stdout)


class Run:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.out = proc.stdout.decode("utf-8")  # dump-log escapes what is not UTF-8
        self.err = proc.stderr.decode("utf-8")

    def __repr__(self):
        return f"rc={self.rc}\n--- stdout\n{self.out[-3000:]}\n--- stderr\n{self.err[-3000:]}"


def replog(*args):
    return Run(subprocess.run([str(REPLOG), *map(str, args)], capture_output=True,
                              timeout=120, check=False))


def dump(*args):
    return replog("dump-log", *args)


# ---- reading the output --------------------------------------------------

def fields(line):
    """`Label: value` pairs of a batch line (values have no spaces)."""
    toks = line.split(" ")
    out = {}
    for i in range(0, len(toks) - 1):
        if toks[i].endswith(":") and not toks[i + 1].endswith(":"):
            out[toks[i][:-1]] = toks[i + 1]
    return out


def batch_lines(text):
    return [fields(l) for l in text.splitlines() if l.startswith("baseOffset: ")]


def record_lines(text):
    return [l for l in text.splitlines() if l.startswith("| ")]


def sections(text):
    """{path: [lines]} for each `Dumping <path>` section."""
    out, cur = {}, None
    for line in text.splitlines():
        if line.startswith("Dumping "):
            cur = line[len("Dumping "):]
            out[cur] = []
        elif cur is not None:
            out[cur].append(line)
    return out


def esc(b):
    """dump-log's rendering of key/value bytes: printable ASCII and printable
    UTF-8 (code points >= U+00A0, well formed) as is; anything else, and the
    backslash, as \\xNN; None as null."""
    if b is None:
        return "null"
    out, i = [], 0
    while i < len(b):
        c = b[i]
        if 0x20 <= c < 0x7F and c != 0x5C:
            out.append(chr(c))
            i += 1
            continue
        n = 2 if 0xC2 <= c <= 0xDF else 3 if 0xE0 <= c <= 0xEF else 4 if 0xF0 <= c <= 0xF4 else 0
        if n and i + n <= len(b) and all(0x80 <= x < 0xC0 for x in b[i + 1:i + n]):
            cp = c & (0x1F, 0x0F, 0x07)[n - 2]
            for x in b[i + 1:i + n]:
                cp = cp << 6 | (x & 0x3F)
            if (cp >= (0x80, 0x800, 0x10000)[n - 2] and cp >= 0xA0 and cp <= 0x10FFFF
                    and not 0xD800 <= cp <= 0xDFFF):
                out.append(b[i:i + n].decode("utf-8"))
                i += n
                continue
        out.append("\\x%02x" % c)
        i += 1
    return "".join(out)


def hexbytes(h):
    return None if h is None else bytes.fromhex(h)


def expected_record_line(rec, data=True, seq=-1, label="CreateTime", ts=None):
    key, value = hexbytes(rec["key"]), hexbytes(rec["value"])
    line = (f"| offset: {rec['offset']} {label}: {rec['timestamp'] if ts is None else ts} "
            f"keySize: {-1 if key is None else len(key)} "
            f"valueSize: {-1 if value is None else len(value)} sequence: {seq} "
            f"headerKeys: [{','.join(h[0] for h in rec['headers'])}]")
    if data:
        line += f" key: {esc(key)} payload: {esc(value)}"
    return line


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def iso_utc(ms):
    t = datetime.datetime.fromtimestamp(ms // 1000, tz=datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (ms % 1000)


def segments(d):
    return sorted(d.glob("*.log"))


def positions(d):
    """{baseOffset: (segment path, position, size)} from a clean dump."""
    r = dump(d)
    assert r.rc == 0, r
    out = {}
    for path, lines in sections(r.out).items():
        for f in batch_lines("\n".join(lines)):
            out[int(f["baseOffset"])] = (Path(path), int(f["position"]), int(f["size"]))
    return out


def snapshot(d):
    return {str(p): (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
            for p in sorted(d.rglob("*")) if p.is_file()}


# ---- the escaping reference itself -----------------------------------------

def test_escape_reference():
    assert esc(b"hello world") == "hello world"
    assert esc(b"a\\b") == "a\\x5cb"
    assert esc("é€😀".encode()) == "é€😀"
    assert esc(b"\x00\n\x7f\xff") == "\\x00\\x0a\\x7f\\xff"
    assert esc(b"\xc2\x85") == "\\xc2\\x85"          # C1 control
    assert esc(b"\xed\xa0\x80") == "\\xed\\xa0\\x80"  # surrogate
    assert esc(b"\xc3a") == "\\xc3a"                  # cut sequence
    assert esc(b"\xc0\xaf") == "\\xc0\\xaf"           # overlong
    assert esc(None) == "null"


# ---- clean logs ----------------------------------------------------------

def test_clean_multi_segment_log(tmp_path):
    d, w = mklog(tmp_path, "--batches", 12, "--records", 3, "--value-size", 40,
                 "--segment-bytes", 700, "--index-interval", 150, "--keys",
                 "--epoch", 5, "--epoch-every", 4)
    assert len(segments(d)) >= 3
    before = snapshot(d)
    r = dump(d)
    assert r.rc == 0, r
    assert r.err == "", r
    got = batch_lines(r.out)
    assert [(int(b["baseOffset"]), int(b["lastOffset"]), int(b["count"]),
             int(b["partitionLeaderEpoch"])) for b in got] == \
        [(b["baseOffset"], b["lastOffset"], b["count"], b["epoch"]) for b in w["batches"]]
    for b, wb in zip(got, w["batches"]):
        assert b["isvalid"] == "true" and b["magic"] == "2"
        assert b["compresscodec"] == "none"
        assert int(b["size"]) == wb["size"]
        assert int(b["CreateTime"]) == wb["maxTimestamp"]
        assert b["deleteHorizonMs"] == "none" and b["producerId"] == "-1"
    # Positions chain inside each segment, from 0; each segment starts at its base.
    secs = sections(r.out)
    for seg in segments(d):
        lines = secs[str(seg)]
        assert lines[0] == f"Log starting offset: {int(seg.name[:20])}"
        pos = 0
        bl = batch_lines("\n".join(lines))
        assert bl and int(bl[0]["baseOffset"]) == int(seg.name[:20])
        for b in bl:
            assert int(b["position"]) == pos
            pos += int(b["size"])
        assert pos == seg.stat().st_size
    assert secs[str(d / "leader-epoch-checkpoint")] == [
        "version: 0 entries: 3", "epoch: 5 startOffset: 0",
        "epoch: 6 startOffset: 12", "epoch: 7 startOffset: 24"]
    assert secs[str(d / "high-watermark-checkpoint")][0] == "highWatermark: 36"
    assert (f"Partition: {d} segments: {len(segments(d))} logStartOffset: 0 logEndOffset: 36 "
            f"batches: 12 cleanShutdown: true discarded: 0") in r.out
    # One segment alone, with its indexes verified, says the same about it.
    seg = segments(d)[1]
    r1 = dump("--verify-index", seg)
    assert r1.rc == 0 and r1.err == "", r1
    assert batch_lines(r1.out) == batch_lines("\n".join(secs[str(seg)]))
    assert snapshot(d) == before, "dump-log must not modify anything"


@pytest.mark.parametrize("codec,style", [("none", "ascii"), ("zstd", "ascii"),
                                         ("zstd", "binary"), ("none", "binary")])
def test_print_data_log_shows_what_was_written(tmp_path, codec, style):
    d, w = mklog(tmp_path, "--batches", 4, "--records", 6, "--value-size", 300,
                 "--codec", codec, "--value-style", style, "--keys", "--headers",
                 "--null-values", "--seed", 7)
    if codec == "zstd":
        assert any(b["codec"] == "zstd" for b in w["batches"]), "values must compress"
    r = dump("--print-data-log", segments(d)[0])
    assert r.rc == 0, r
    assert [b["compresscodec"] for b in batch_lines(r.out)] == [b["codec"] for b in w["batches"]]
    want = [expected_record_line(rec) for b in w["batches"] for rec in b["records"]]
    assert record_lines(r.out) == want
    # Each batch line is followed by exactly its records.
    lines = [l for l in r.out.splitlines() if l.startswith(("baseOffset:", "| "))]
    i = 0
    for b in w["batches"]:
        assert lines[i].startswith(f"baseOffset: {b['baseOffset']} ")
        assert len([l for l in lines[i + 1:i + 1 + b["count"]] if l.startswith("| ")]) == b["count"]
        i += 1 + b["count"]
    # -d is the same option.
    assert dump("-d", segments(d)[0]).out == r.out


def test_deep_iteration_without_data(tmp_path):
    d, w = mklog(tmp_path, "--batches", 3, "--records", 4, "--codec", "zstd",
                 "--value-size", 200, "--keys", "--headers")
    r = dump("--deep-iteration", segments(d)[0])
    assert r.rc == 0, r
    assert record_lines(r.out) == [expected_record_line(rec, data=False)
                                   for b in w["batches"] for rec in b["records"]]
    assert " payload: " not in r.out and " key: " not in r.out


def test_producer_sequences_and_log_append_time(tmp_path):
    d, w = mklog(tmp_path, "--batches", 3, "--records", 4, "--producer-id", 4242,
                 "--log-append-time", "--keys")
    r = dump("-d", segments(d)[0])
    assert r.rc == 0, r
    for b, wb in zip(batch_lines(r.out), w["batches"]):
        first = wb["baseOffset"]
        assert b["producerId"] == "4242" and b["producerEpoch"] == "0"
        assert (int(b["baseSequence"]), int(b["lastSequence"])) == (first, first + 3)
        assert int(b["LogAppendTime"]) == wb["maxTimestamp"]
        assert "CreateTime" not in b
    want = [expected_record_line(rec, seq=rec["offset"], label="LogAppendTime",
                                 ts=b["maxTimestamp"])
            for b in w["batches"] for rec in b["records"]]
    assert record_lines(r.out) == want


def test_gzip_batch_is_listed_but_not_decoded(tmp_path):
    d, w = mklog(tmp_path, "--batches", 3, "--records", 2)
    seg = segments(d)[0]
    pos = positions(d)
    _, p, size = pos[w["batches"][1]["baseOffset"]]
    b = bytearray(seg.read_bytes())
    attrs = struct.unpack_from(">h", b, p + 21)[0]
    struct.pack_into(">h", b, p + 21, (attrs & ~7) | 1)  # gzip
    struct.pack_into(">I", b, p + 17, crc32c(bytes(b[p + 21:p + size])))
    seg.write_bytes(bytes(b))
    r = dump("-d", seg)
    assert r.rc == 0, r
    assert [x["compresscodec"] for x in batch_lines(r.out)] == ["none", "gzip", "none"]
    assert all(x["isvalid"] == "true" for x in batch_lines(r.out))
    assert "| records not decoded: compresscodec gzip is not supported by this tool" in r.out
    assert len(record_lines(r.out)) == 2 + 1 + 2


# ---- damage --------------------------------------------------------------

def test_flipped_byte_marks_the_batch_invalid(tmp_path):
    d, w = mklog(tmp_path, "--batches", 6, "--records", 3, "--keys")
    seg = segments(d)[0]
    bad = w["batches"][3]["baseOffset"]
    _, p, size = positions(d)[bad]
    b = bytearray(seg.read_bytes())
    b[p + 61 + 5] ^= 0x40  # inside the records: covered by the CRC
    seg.write_bytes(bytes(b))
    r = dump(seg)
    assert r.rc == 1, r
    got = batch_lines(r.out)
    assert len(got) == 6, "the walk goes on after a bad CRC"
    assert [x["isvalid"] for x in got] == ["true"] * 3 + ["false"] + ["true"] * 2
    assert f"Invalid batch in {seg} at offset {bad} position {p} (size {size})" in r.err
    assert "CRC32C mismatch" in r.err
    # The directory dump finds it too (and the indexes still match).
    r = dump(d)
    assert r.rc == 1 and f"at offset {bad} position {p}" in r.err, r


def test_cut_in_the_last_batch_reports_invalid_bytes(tmp_path):
    d, w = mklog(tmp_path, "--batches", 5, "--records", 3)
    seg = segments(d)[0]
    last = w["batches"][-1]
    _, p, size = positions(d)[last["baseOffset"]]
    keep = p + size // 2
    with open(seg, "r+b") as f:
        f.truncate(keep)
    r = dump(seg)
    assert r.rc == 1, r
    assert len(batch_lines(r.out)) == 4
    prev_last = w["batches"][-2]["lastOffset"]
    assert (f"Found {keep - p} invalid bytes at the end of {seg} "
            f"(position {p}, after offset {prev_last})") in r.err
    assert f"claims {size} bytes, only {keep - p} remain" in r.err
    # A stub shorter than a length field.
    with open(seg, "r+b") as f:
        f.truncate(p + 5)
    r = dump(seg)
    assert r.rc == 1 and f"Found 5 invalid bytes at the end of {seg} (position {p}," in r.err, r


def test_offsets_and_epochs_outside_the_crc_are_checked(tmp_path):
    d, w = mklog(tmp_path, "--batches", 5, "--records", 3)
    seg = segments(d)[0]
    pos = positions(d)
    b = bytearray(seg.read_bytes())
    _, p2, _ = pos[w["batches"][2]["baseOffset"]]
    struct.pack_into(">q", b, p2, 100)         # baseOffset 6 -> 100
    seg.write_bytes(bytes(b))
    r = dump(seg)
    assert r.rc == 1, r
    assert f"Non-consecutive offsets in {seg}" in r.err
    assert f"  5 is followed by 100 at position {p2}" in r.err
    assert f"  102 is followed by 9 at position {pos[9][1]}" in r.err
    assert all(x["isvalid"] == "true" for x in batch_lines(r.out)), "the CRC does not cover it"
    # An epoch going down.
    d2, w2 = mklog(tmp_path, "--batches", 4, "--records", 2, "--epoch", 3, "--epoch-every", 2,
                   name="topic-1")
    seg2 = segments(d2)[0]
    _, p3, _ = positions(d2)[w2["batches"][3]["baseOffset"]]
    b = bytearray(seg2.read_bytes())
    struct.pack_into(">i", b, p3 + 12, 2)
    seg2.write_bytes(bytes(b))
    r = dump(seg2)
    assert r.rc == 1, r
    assert (f"Leader epoch goes down in {seg2}: the batch at offset 6 position {p3} "
            f"has partitionLeaderEpoch 2, after 4 in the batch before it (ending at offset 5)") in r.err
    assert r.err.count("Leader epoch goes down") == 1


def test_max_batch_bytes_refuses_large_batches(tmp_path):
    d, w = mklog(tmp_path, "--batches", 3, "--records", 3, "--value-size", 100)
    seg = segments(d)[0]
    r = dump("--max-batch-bytes", 200, seg)
    assert r.rc == 1, r
    got = batch_lines(r.out)
    assert len(got) == 3 and all(x["isvalid"] == "false" for x in got)
    assert "larger than --max-batch-bytes 200" in r.err
    assert f"at offset 3 position {got[1]['position']}" in r.err
    assert dump("--max-batch-bytes", "1m", seg).rc == 0
    assert dump("--max-batch-bytes", 60, seg).rc == 2
    assert dump("--max-batch-bytes", "lots", seg).rc == 2


def test_decompressed_records_are_bounded(tmp_path):
    d, w = mklog(tmp_path, "--batches", 2, "--records", 5, "--value-size", 2000,
                 "--codec", "zstd")
    assert all(b["codec"] == "zstd" for b in w["batches"])
    size = max(b["size"] for b in w["batches"])
    limit = size + 100  # each batch fits; its 10000 bytes of records do not
    assert limit < 5 * 2000
    r = dump("-d", "--max-batch-bytes", limit, segments(d)[0])
    assert r.rc == 0, r
    assert all(b["isvalid"] == "true" for b in batch_lines(r.out))
    assert record_lines(r.out) == [
        f"| records not decoded: decompressed records exceed {limit} bytes (--max-batch-bytes)"] * 2
    assert r.err.count("Warning: records of the batch at offset") == 2


# ---- indexes ---------------------------------------------------------------

def read_index(path):
    b = path.read_bytes()
    base = int(path.name[:20])
    return [(base + struct.unpack_from(">I", b, i)[0], struct.unpack_from(">I", b, i + 4)[0])
            for i in range(0, len(b), 8)]


def read_timeindex(path):
    b = path.read_bytes()
    base = int(path.name[:20])
    return [(struct.unpack_from(">q", b, i)[0], base + struct.unpack_from(">I", b, i + 8)[0])
            for i in range(0, len(b), 12)]


def test_index_and_timeindex_dumps(tmp_path):
    d, w = mklog(tmp_path, "--batches", 20, "--records", 2, "--index-interval", 150,
                 "--segment-bytes", 1000)
    pos = positions(d)
    seg = segments(d)[1]
    idx, tix = seg.with_suffix(".index"), seg.with_suffix(".timeindex")
    entries = read_index(idx)
    assert len(entries) >= 2
    r = dump(idx)
    assert r.rc == 0 and r.err == "", r
    assert sections(r.out)[str(idx)] == [f"offset: {o} position: {p}" for o, p in entries]
    for o, p in entries:
        assert pos[o][1] == p
    tentries = read_timeindex(tix)
    r = dump(tix)
    assert r.rc == 0 and r.err == "", r
    assert sections(r.out)[str(tix)] == [f"timestamp: {t} offset: {o}" for t, o in tentries]
    by_base = {b["baseOffset"]: b for b in w["batches"]}
    for t, o in tentries:
        assert t == max(b["maxTimestamp"] for b in w["batches"]
                        if int(seg.name[:20]) <= b["baseOffset"] <= o)
        assert o in by_base
    # --files is Kafka's spelling of the same thing.
    r2 = dump("--files", f"{idx},{tix}")
    assert r2.rc == 0 and f"Dumping {idx}" in r2.out and f"Dumping {tix}" in r2.out


def test_corrupt_index_entry_is_a_mismatch(tmp_path):
    d, w = mklog(tmp_path, "--batches", 6, "--records", 2, "--index-interval", 1)
    seg = segments(d)[0]
    idx = seg.with_suffix(".index")
    entries = read_index(idx)
    b = bytearray(idx.read_bytes())
    struct.pack_into(">I", b, 8 * 2, entries[2][0] + 1)  # offset 4 -> 5
    idx.write_bytes(bytes(b))
    for args in ([d], ["--verify-index", seg], [idx], ["--verify-index-only", d]):
        r = dump(*args)
        assert r.rc == 1, (args, r)
        assert f"Mismatches in :{idx}" in r.err
        assert (f"  Index offset: {entries[2][0] + 1}, log offset: {entries[2][0]} "
                f"(entry 2, position {entries[2][1]})") in r.err
    # Without --verify-index a segment dump does not look at its index.
    assert dump(seg).rc == 0
    # --verify-index-only prints no batch lines.
    assert batch_lines(dump("--verify-index-only", seg).out) == []
    # A position in the middle of a batch.
    struct.pack_into(">I", b, 8 * 2, entries[2][0] - int(seg.name[:20]))
    struct.pack_into(">I", b, 8 * 2 + 4, entries[2][1] + 3)
    idx.write_bytes(bytes(b))
    r = dump(idx)
    assert r.rc == 1 and f"position {entries[2][1] + 3}: not the start of a batch" in r.err, r


def test_corrupt_timeindex_entry_is_a_mismatch(tmp_path):
    d, w = mklog(tmp_path, "--batches", 6, "--records", 2, "--index-interval", 1)
    tix = segments(d)[0].with_suffix(".timeindex")
    tentries = read_timeindex(tix)
    b = bytearray(tix.read_bytes())
    struct.pack_into(">q", b, 12 * 3, tentries[3][0] - 1)
    tix.write_bytes(bytes(b))
    r = dump(d)
    assert r.rc == 1, r
    assert f"Found timestamp mismatch in :{tix}" in r.err
    assert (f"  Index timestamp: {tentries[3][0] - 1}, log timestamp: {tentries[3][0]} "
            f"(entry 3, offset {tentries[3][1]}") in r.err
    struct.pack_into(">q", b, 12 * 3, tentries[1][0])
    tix.write_bytes(bytes(b))
    r = dump(tix)
    assert r.rc == 1 and f"Found out of order timestamp in :{tix}" in r.err, r


def test_missing_index_is_only_a_warning(tmp_path):
    d, w = mklog(tmp_path, "--batches", 8, "--records", 2, "--segment-bytes", 600)
    seg = segments(d)[0]
    seg.with_suffix(".index").unlink()
    seg.with_suffix(".timeindex").unlink()
    r = dump(d)
    assert r.rc == 0, r
    assert (f"Warning: no offset index {seg.with_suffix('.index')} for {seg} "
            "(the broker rebuilds a missing index on open)") in r.err
    assert "Warning: no time index" in r.err
    assert len(batch_lines(r.out)) == 8
    assert dump("--verify-index", seg).rc == 0


def test_unclean_close_dumps_clean(tmp_path):
    d, w = mklog(tmp_path, "--batches", 6, "--records", 2, "--segment-bytes", 500, "--unclean")
    r = dump(d)
    assert r.rc == 0, r
    assert "cleanShutdown: false" in r.out
    assert len(batch_lines(r.out)) == 6


def test_epoch_checkpoint_must_match_the_log(tmp_path):
    d, w = mklog(tmp_path, "--batches", 6, "--records", 2, "--epoch", 1, "--epoch-every", 2)
    cp = d / "leader-epoch-checkpoint"
    assert cp.read_text() == "0\n3\n1 0\n2 4\n3 8\n"
    cp.write_text("0\n3\n1 0\n2 5\n3 8\n")
    r = dump(d)
    assert r.rc == 1, r
    assert (f"{cp}: epoch 2 starts at offset 5, but its first batch in the log is at "
            f"offset 4 (position") in r.err
    cp.write_text("0\n2\n1 0\n3 8\n")
    r = dump(d)
    assert r.rc == 1 and f"{cp} has no entry for epoch 2, whose first batch is at offset 4" in r.err
    cp.write_text("0\n4\n1 0\n2 4\n3 8\n4 12\n")  # recorded, then a crash before its batch
    r = dump(d)
    assert r.rc == 0 and "Warning:" in r.err and "epoch 4 starts at offset 12" in r.err, r
    cp.write_text("0\nthree\n")
    r = dump(d)
    assert r.rc == 1 and f"Malformed {cp}" in r.err, r


def test_missing_segment_and_high_watermark(tmp_path):
    d, w = mklog(tmp_path, "--batches", 9, "--records", 2, "--segment-bytes", 400, "--hw", 7)
    segs = segments(d)
    assert len(segs) >= 3
    r = dump(d)
    assert r.rc == 0 and "highWatermark: 7" in r.out, r
    missing = segs[1]
    for suffix in (".log", ".index", ".timeindex"):
        missing.with_suffix(suffix).unlink()
    r = dump(d)
    assert r.rc == 1, r
    assert (f"Non-consecutive segments in {d}: the log before {segs[2].name} ends before "
            f"offset {int(missing.name[:20])}, but the segment starts at offset "
            f"{int(segs[2].name[:20])} (position 0)") in r.err
    hw = d / "high-watermark-checkpoint"
    hw.write_text("0\n1\n1000\n")
    r = dump(d)
    assert "Warning:" in r.err and "high watermark 1000 is past the log end offset" in r.err, r
    hw.write_text("0\n1\n")
    r = dump(d)
    assert r.rc == 1 and f"Malformed {hw}" in r.err, r


# ---- discarded writes --------------------------------------------------------

def test_discarded_listing_and_decoding(tmp_path):
    d, w = mklog(tmp_path, "--batches", 9, "--records", 3, "--value-size", 120, "--keys",
                 "--codec", "zstd", "--epoch", 2, "--epoch-every", 3, "--truncate", 4,
                 "--reason", "truncate", "--segment-bytes", 800)
    t = w["truncation"]
    gone = [b for b in w["batches"] if b["discarded"]]
    assert len(gone) == 4 and t["batches"] == 4
    r = dump("--discarded", d)
    assert r.rc == 0, r
    line = (f"discarded: {t['name']} reason: truncate time: {iso_utc(t['timeMs'])} "
            f"firstOffset: {gone[0]['baseOffset']} nextOffset: {gone[-1]['lastOffset'] + 1} "
            f"batches: 4 bytes: {sum(b['size'] for b in gone)} epochs: {gone[0]['epoch']}.."
            f"{gone[-1]['epoch']} segment: {t['segment']} position: {t['position']} "
            f"detail: {t['detail']}")
    assert r.out.splitlines() == [line]
    assert iso_utc(t["timeMs"]) == "2023-11-14T22:15:00.000Z"
    # With -d, every discarded batch and record, decoded.
    r = dump("--discarded", "-d", d)
    assert r.rc == 0, r
    assert r.out.splitlines()[0] == line
    path = d / "discarded" / f"{t['name']}.log"
    assert f"Dumping {path}" in r.out
    assert [(int(b["baseOffset"]), int(b["count"]), int(b["partitionLeaderEpoch"]))
            for b in batch_lines(r.out)] == \
        [(b["baseOffset"], b["count"], b["epoch"]) for b in gone]
    assert record_lines(r.out) == [expected_record_line(rec) for b in gone for rec in b["records"]]
    # The log itself ends where the discard begins, and says it has one.
    r = dump(d)
    assert r.rc == 0, r
    assert f"logEndOffset: {gone[0]['baseOffset']} " in r.out and "discarded: 1" in r.out
    assert len(batch_lines(r.out)) == 5
    # A discarded file given directly: its .meta line, then its batches.
    r = dump(path)
    assert r.rc == 0, r
    assert line in r.out.splitlines()
    assert f"Log starting offset: {gone[0]['baseOffset']}" in r.out
    assert len(batch_lines(r.out)) == 4


def test_discarded_damage_is_reported(tmp_path):
    d, w = mklog(tmp_path, "--batches", 5, "--records", 2, "--truncate", 2)
    name = w["truncation"]["name"]
    disc = d / "discarded"
    # An interrupted discard (a .log without .meta) is a warning.
    (disc / "00000000000000000099-1.log").write_bytes(b"")
    r = dump("--discarded", d)
    assert r.rc == 0 and "has no .meta: an interrupted discard" in r.err, r
    # A .log shorter than its .meta says.
    log = disc / f"{name}.log"
    data = log.read_bytes()
    log.write_bytes(data[:-10])
    r = dump("--discarded", d)
    assert r.rc == 1 and f"has {len(data) - 10} bytes, its .meta says {len(data)}" in r.err, r
    log.write_bytes(data)
    # A damaged .meta is not listed, and said.
    meta = disc / f"{name}.meta"
    meta.write_text("reason=truncate\n")
    r = dump("--discarded", d)
    assert r.rc == 1 and "Damaged discard metadata" in r.err and r.out == "", r


def test_recovery_discard_of_a_torn_tail(tmp_path):
    d, w = mklog(tmp_path, "--batches", 4, "--records", 2)
    seg = segments(d)[0]
    last = w["batches"][-1]
    _, p, size = positions(d)[last["baseOffset"]]
    with open(seg, "r+b") as f:
        f.truncate(p + size - 7)
    (d / ".clean-shutdown").unlink()
    # Opening the log again recovers: the torn batch goes to discarded/.
    d, w2 = mklog(tmp_path, "--batches", 1, "--records", 2, "--timestamp", 1800000000000)
    assert w2["batches"][0]["baseOffset"] == last["baseOffset"]
    r = dump("--discarded", d)
    assert r.rc == 0, r
    (line,) = r.out.splitlines()
    f = fields(line)
    assert (f["reason"], f["firstOffset"], f["nextOffset"], f["batches"], f["bytes"],
            f["position"]) == ("torn-tail", str(last["baseOffset"]), "-1", "0",
                               str(size - 7), str(p))
    # Its bytes are the torn batch: dumping them says so, with the position.
    r = dump("--discarded", "-d", d)
    assert r.rc == 1, r
    disc = d / "discarded" / f"{f['discarded']}.log"
    assert (f"Found {size - 7} invalid bytes at the end of {disc} "
            f"(position 0, after offset {last['baseOffset'] - 1})") in r.err
    # The log itself is whole again.
    r = dump(d)
    assert r.rc == 0 and "discarded: 1" in r.out, r


# ---- the command line --------------------------------------------------------

def test_missing_file_exits_3(tmp_path):
    r = dump(tmp_path / "00000000000000000000.log")
    assert r.rc == 3, r
    assert f"cannot open {tmp_path / '00000000000000000000.log'}: No such file or directory" in r.err
    d, _ = mklog(tmp_path, "--batches", 2)
    r = dump(d, tmp_path / "nope")
    assert r.rc == 3 and "Partition:" in r.out, "the other paths are still dumped"


def test_usage_errors_exit_2(tmp_path):
    d, _ = mklog(tmp_path, "--batches", 1)
    for args in (["--no-such-option", d], ["-x", d], [], ["--max-batch-bytes"]):
        r = dump(*args)
        assert r.rc == 2, (args, r)
        assert "replog dump-log --help" in r.err
    (tmp_path / "notes.txt").write_text("hi")
    r = dump(tmp_path / "notes.txt")
    assert r.rc == 2 and "not a .log, .index or .timeindex file" in r.err and r.out == "", r


def test_help_and_version():
    r = replog("--help")
    assert r.rc == 0 and "dump-log" in r.out and "usage: replog <command>" in r.out, r
    h = replog("dump-log", "--help")
    assert h.rc == 0, h
    for opt in DUMP_OPTIONS:
        assert opt in h.out, opt
    for section in ("SYNOPSIS", "DESCRIPTION", "OPTIONS", "OUTPUT", "EXIT STATUS", "EXAMPLES"):
        assert section in h.out, section
    assert replog("help", "dump-log").out == h.out
    assert replog("dump-log", "-h").out == h.out
    v = replog("--version")
    assert v.rc == 0 and re.fullmatch(r"replog \d+\.\d+\.\d+\n", v.out), v


def test_unknown_command_exits_2():
    r = replog("nosuch")
    assert r.rc == 2 and "unknown command 'nosuch'" in r.err and "dump-log" in r.err, r
    assert replog().rc == 2
    assert replog("--frobnicate").rc == 2
    assert replog("help", "nosuch").rc == 2
