"""Description: read a partition's final on-disk state, offline and read-only.

What a partition directory `<data_dir>/<topic>-<partition>/` holds, and how
it is read here:

  * `<20-digit base offset>.log` segments: RecordBatch v2 batches back to
    back. Read in base-offset order, each batch framed by its 12-byte
    (base offset, length) header, decoded with tests/cluster/replogd.py's
    `parse_batches`. The leader epoch is the batch's partitionLeaderEpoch.
    Reading a segment stops at the first batch that is not valid (length out
    of range, CRC failure, magic not 2, records that do not decode): the rest
    of that segment is reported in "bad", never guessed at. An incomplete
    batch (or a run of zero bytes) at the end of the *last* segment is a
    "torn tail"; the same in an earlier segment, or a bad CRC/length
    anywhere, is "corrupt". Every text in "bad" starts with one of those two
    words (TORN_TAIL / CORRUPT) or with CHECKPOINT.
  * `.index` / `.timeindex`: ignored.
  * `high-watermark-checkpoint`: "0\\n1\\n<hw>\\n" (log/checkpoint.c).
  * `leader-epoch-checkpoint`: "0\\n<count>\\n" then "<epoch> <start>\\n" per
    entry (log/epoch_cache.c).
  * `discarded/<first offset 20 digits>-<time ms>[.<n>].log` with a `.meta`
    of key=value lines beside it (log/discard.h). A `.log` without its
    `.meta` is an interrupted discard: not read, only counted. Discards are
    listed oldest first (time, then offset, then suffix), as discard_list()
    does. Damaged bytes in a discard (torn/corrupt tails are expected there)
    go to that discard's "problems", not to the partition's "bad".

A Batch is a dict: base_offset, last_offset, epoch, crc (the stored one),
raw (the batch's bytes), records [(offset, value bytes or None)] or None for
a compressed batch (noted in "notes"), plus codec, segment and position.
Only batches whose CRC checks are returned.
"""
import re
import struct
import sys
from pathlib import Path

_CLUSTER = Path(__file__).resolve().parent.parent / "cluster"
if str(_CLUSTER) not in sys.path:
    sys.path.insert(0, str(_CLUSTER))

from replogd import crc32c, parse_batches  # noqa: E402

TORN_TAIL = "torn tail"
CORRUPT = "corrupt"
CHECKPOINT = "checkpoint"

HW_FILE = "high-watermark-checkpoint"
EPOCH_FILE = "leader-epoch-checkpoint"
DISCARD_DIR = "discarded"

BATCH_HEADER_BYTES = 12  # base offset (8) + batch length (4)
BATCH_MIN_BYTES = 61  # a v2 batch header without records
BATCH_MAX_BYTES = 1 << 30  # larger than any batch a broker accepts

_SEGMENT_RE = re.compile(r"^(\d{20})\.log$")
_DISCARD_RE = re.compile(r"^(\d+)-(\d+)(?:\.(\d+))?$")
_META_INT_KEYS = ("time_ms", "first_offset", "next_offset", "batches", "bytes", "epoch_min",
                  "epoch_max", "segment", "position")


def scan_batches(data, where, last=True):
    """Valid batches of `data` (the bytes of one segment or discard file).
    Returns (batches, problems, notes): problems are texts starting with
    TORN_TAIL or CORRUPT; scanning stops at the first one. `last` says the
    bytes end the log, so an incomplete final batch is a torn tail."""
    out, problems, notes = [], [], []
    pos, n = 0, len(data)
    while pos < n:
        left = n - pos
        tail_kind = TORN_TAIL if last else CORRUPT
        if not any(data[pos:pos + BATCH_HEADER_BYTES]) and not any(data[pos:]):
            # A file extended without its data (a crash before writeback).
            problems.append(f"{tail_kind}: {where} position {pos}: {left} zero bytes")
            break
        if left < BATCH_HEADER_BYTES:
            problems.append(f"{tail_kind}: {where} position {pos}: {left} bytes, "
                            f"shorter than a batch header")
            break
        base, blen = struct.unpack_from(">qi", data, pos)
        size = blen + BATCH_HEADER_BYTES
        if size < BATCH_MIN_BYTES or size > BATCH_MAX_BYTES or base < 0:
            problems.append(f"{CORRUPT}: {where} position {pos}: batch length {blen} "
                            f"base offset {base} out of range; {left} bytes not read")
            break
        if size > left:
            problems.append(f"{tail_kind}: {where} position {pos}: batch at offset {base} "
                            f"needs {size} bytes, {left} present")
            break
        raw = bytes(data[pos:pos + size])
        epoch, magic, crc = struct.unpack_from(">ibI", raw, 12)
        try:
            pb = parse_batches(raw)
            pb = pb[0] if len(pb) == 1 and pb[0].get("complete") else None
            err = None if pb is not None else "does not parse"
        except Exception as e:  # damaged record bytes under a CRC that fails
            pb, err = None, f"{type(e).__name__}: {e}"
        crc_ok = pb["crc_ok"] if pb is not None else crc32c(raw[21:]) == crc
        if not crc_ok or magic != 2 or err:
            why = ("CRC failure" if not crc_ok else
                   f"magic {magic}" if magic != 2 else f"records do not decode ({err})")
            problems.append(f"{CORRUPT}: {where} position {pos}: batch at offset {base} "
                            f"epoch {epoch}: {why}; {left} bytes not read")
            break
        recs = None
        if pb["records"] is not None:
            recs = [(r[0], r[2]) for r in pb["records"]]
        else:
            notes.append(f"{where} position {pos}: batch at offset {base} has codec "
                         f"{pb['codec']}: records not decoded")
        out.append({"base_offset": base, "last_offset": pb["last_offset"], "epoch": epoch,
                    "crc": crc, "raw": raw, "records": recs, "codec": pb["codec"],
                    "segment": where, "position": pos})
        pos += size
    return out, problems, notes


def read_checkpoint(path):
    """Lines of a checkpoint file as ints: (version, count, [entry fields]).
    Returns None when the file is missing; raises ValueError when malformed."""
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        return None
    lines = text.split("\n")
    if not text.endswith("\n") or len(lines) < 3:
        raise ValueError(f"{Path(path).name}: not newline-terminated lines: {text[:80]!r}")
    lines = lines[:-1]
    version, count = int(lines[0]), int(lines[1])
    if version != 0 or count < 0 or len(lines) != 2 + count:
        raise ValueError(f"{Path(path).name}: version {version}, count {count}, "
                         f"{len(lines) - 2} entries")
    return version, count, [[int(f) for f in ln.split(" ")] for ln in lines[2:]]


def read_hw(path):
    """The high watermark in `path`, or None when missing. Raises ValueError."""
    cp = read_checkpoint(path)
    if cp is None:
        return None
    if cp[1] != 1 or len(cp[2][0]) != 1:
        raise ValueError(f"{Path(path).name}: want one one-field entry")
    return cp[2][0][0]


def read_epochs(path):
    """[(epoch, start_offset)] from a leader-epoch checkpoint; [] when missing.
    Raises ValueError."""
    cp = read_checkpoint(path)
    if cp is None:
        return []
    if any(len(e) != 2 for e in cp[2]):
        raise ValueError(f"{Path(path).name}: want '<epoch> <start>' entries")
    return [(e[0], e[1]) for e in cp[2]]


def parse_meta(text):
    """A discard .meta: {key: value}, ints where the key is numeric."""
    meta = {}
    for line in text.splitlines():
        if "=" not in line:
            continue
        k, v = line.split("=", 1)
        if k in _META_INT_KEYS:
            try:
                v = int(v)
            except ValueError:
                pass
        meta[k] = v
    return meta


def _discard_key(stem):
    m = _DISCARD_RE.match(stem)
    if not m:
        return (1, 0, 0, 0, stem)
    return (0, int(m.group(2)), int(m.group(1)), int(m.group(3) or 0), stem)


def read_discards(ddir):
    """(discards oldest first, number of interrupted discards)."""
    ddir = Path(ddir)
    if not ddir.is_dir():
        return [], 0
    names = {p.name for p in ddir.iterdir() if p.is_file()}
    metas = sorted((n[:-5] for n in names if n.endswith(".meta")), key=_discard_key)
    interrupted = sum(1 for n in names if n.endswith(".log") and n[:-4] + ".meta" not in names)
    out = []
    for stem in metas:
        problems = []
        meta = parse_meta((ddir / f"{stem}.meta").read_text(errors="replace"))
        missing = [k for k in ("reason",) + _META_INT_KEYS if k not in meta]
        if missing:
            problems.append(f"{CORRUPT}: {stem}.meta: missing {', '.join(missing)}")
        batches, notes = [], []
        try:
            data = (ddir / f"{stem}.log").read_bytes()
        except FileNotFoundError:
            problems.append(f"{CORRUPT}: {stem}.log missing")
            data = b""
        if data:
            batches, probs, notes = scan_batches(data, f"{DISCARD_DIR}/{stem}.log")
            problems += probs
        fo, no = meta.get("first_offset"), meta.get("next_offset")
        out.append({"reason": meta.get("reason"), "name": stem,
                    "first_offset": fo if isinstance(fo, int) else None,
                    "next_offset": no if isinstance(no, int) else None,
                    "meta": meta, "batches": batches, "problems": problems, "notes": notes})
    return out, interrupted


def read_partition(path):
    """The on-disk state of one partition directory (see the module doc):
    {"batches", "hw", "epochs", "discarded", "interrupted_discards", "bad",
     "notes", "log_start", "path"}. log_start is the base offset of the
    first segment (None when there is none)."""
    path = Path(path)
    segs = sorted((int(m.group(1)), p) for p in path.iterdir()
                  if p.is_file() and (m := _SEGMENT_RE.match(p.name)))
    batches, bad, notes = [], [], []
    for i, (_, seg) in enumerate(segs):
        bs, probs, nts = scan_batches(seg.read_bytes(), seg.name, last=i == len(segs) - 1)
        batches += bs
        bad += probs
        notes += nts
    hw = None
    epochs = []
    try:
        hw = read_hw(path / HW_FILE)
    except (ValueError, IndexError) as e:
        bad.append(f"{CHECKPOINT}: {e}")
    try:
        epochs = read_epochs(path / EPOCH_FILE)
    except (ValueError, IndexError) as e:
        bad.append(f"{CHECKPOINT}: {e}")
    discarded, interrupted = read_discards(path / DISCARD_DIR)
    return {"batches": batches, "hw": hw, "epochs": epochs, "discarded": discarded,
            "interrupted_discards": interrupted, "bad": bad, "notes": notes,
            "log_start": segs[0][0] if segs else None, "path": str(path)}


def read_replicas(data_dirs, topic, partition):
    """{broker_id: read_partition(<data_dir>/<topic>-<partition>)} for every
    broker in `data_dirs` ({broker_id: Path}) that holds the partition."""
    out = {}
    for bid, d in data_dirs.items():
        p = Path(d) / f"{topic}-{partition}"
        if p.is_dir():
            out[bid] = read_partition(p)
    return out
