"""Description: the safety checker of the fault-injection harness.

check(history, final, recoveries=(), converge_bound_s=30.0) -> Result

Inputs (see tests/faults/README or the harness for who writes them):
  history  every client's JSON-lines events, concatenated; each has "t"
           (CLOCK_MONOTONIC seconds) and "proc". List order is taken as each
           proc's own order (the events are not re-sorted by t).
             invoke {id, topic, partition, acks: "all"|"1"}; value = id
             ok     {id, topic, partition, offset}
             fail   {id, error, definite}
             read   {topic, partition, offset, value}
             seek   {topic, partition, offset}
             error  {error}  (a client-side error: counted only)
  final    {(topic, partition): {"replicas": {broker: logstate.read_partition()},
            "leader", "isr", "hw", "unclean", "leaders": [{broker, epoch, t}]}}.
           A key may also be the string "<topic>-<partition>".
  recoveries [{fault, healed_at, converged_at or None}]

Checks (violation kinds; every violation is a dict with "kind"):
  lost                 an acknowledged write missing (acks=all: from the final
                       leader or any final-ISR replica; acks=1: from the leader
                       and from every discarded/)
  wrong-offset         an acknowledged value found at another offset only
  phantom              a value in a final leader log that no invoke produced
                       (for this partition)
  failed-but-present   a definitely failed write in a final leader log
  dirty-read           a read (offset, value) not in the final leader log
  nonmonotonic-read    a consumer going back (or re-reading) without a seek
  two-leaders-one-epoch  one (topic, partition, epoch) led by two brokers
  epoch-offset-conflict  batches with one (epoch, base offset) but different
                       CRCs, or overlapping offsets within one epoch, across
                       all replicas' logs and discards
  replica-mismatch     a final-ISR replica's batches below HW differ from the
                       leader's
  epoch-decrease / offset-order  within one replica's log
  log-damage           a CRC/length failure or malformed checkpoint on the
                       final leader or an ISR member (a torn tail is counted)
  missing-state        no final state for a written partition, no leader, or
                       the leader's / an ISR member's directory not collected
  no-convergence / slow-convergence
Counted, not violations: duplicates, skips, reads and acknowledged records
found in discarded/ ("discarded-and-reported": acks=1 always, acks=all and
reads only on unclean partitions), torn tails, interrupted discards.

Everything is a dict lookup keyed by (topic, partition, offset) or by value;
skips use bisect on the leader's sorted offsets: O(events + records).
"""
import bisect
from collections import defaultdict

try:
    from .logstate import TORN_TAIL
except ImportError:  # imported as a top-level module (tests/faults on sys.path)
    from logstate import TORN_TAIL

FIRST_VIOLATIONS = 10
EXAMPLES = 5


class _Unknown:
    """The value at an offset inside a compressed batch: not decoded."""

    def __repr__(self):
        return "<compressed>"


UNKNOWN = _Unknown()


class Result:
    """ok: no violations. violations: [dict]. report: dict (see check())."""

    def __init__(self, violations, report):
        self.violations = violations
        self.report = report
        self.ok = not violations

    def __bool__(self):
        return self.ok

    def __str__(self):
        return format_report(self)

    __repr__ = __str__


def _bid(b):
    if isinstance(b, str) and b.lstrip("-").isdigit():
        return int(b)
    return b


def _tp_key(k):
    if isinstance(k, tuple):
        return (k[0], int(k[1]))
    t, p = str(k).rsplit("-", 1)
    return (t, int(p))


def _acks(a):
    a = str(a).lower()
    return "all" if a in ("all", "-1") else a


def _val(v):
    return None if v is None else v.decode("utf-8", "backslashreplace")


def _log_map(batches):
    """{offset: value str} of a replica's batches; UNKNOWN inside compressed."""
    m = {}
    for b in batches:
        recs = b["records"]
        if recs is None:
            for o in range(b["base_offset"], b["last_offset"] + 1):
                m[o] = UNKNOWN
        else:
            for o, v in recs:
                m[o] = _val(v)
    return m


class _Part:
    """What the checks need of one partition's final state."""

    def __init__(self, tp, st, violations, counts):
        self.tp = tp
        self.unclean = bool(st.get("unclean"))
        self.replicas = {_bid(b): r for b, r in (st.get("replicas") or {}).items()}
        self.leader = _bid(st.get("leader"))
        self.isr = [_bid(b) for b in (st.get("isr") or [])]
        lrep = self.replicas.get(self.leader)
        self.hw = st.get("hw")
        if self.hw is None and lrep is not None:
            self.hw = lrep.get("hw")
        self.leaders = st.get("leaders") or []
        self.log = None  # the final leader's {offset: value}
        self.log_start = 0
        if self.leader is None or self.leader == -1:
            self.leader = None
            violations.append({"kind": "missing-state", "topic": tp[0], "partition": tp[1],
                               "detail": "no leader at the end"})
        elif lrep is None:
            violations.append({"kind": "missing-state", "topic": tp[0], "partition": tp[1],
                               "detail": f"leader {self.leader}'s partition dir not collected"})
        else:
            self.log = _log_map(lrep["batches"])
            self.log_start = lrep.get("log_start") or 0
        self.offsets = sorted(self.log) if self.log is not None else []
        # value -> first offset in the leader log; value -> all offsets if > 1
        self.where = {}
        self.dups = {}
        for o in self.offsets:
            v = self.log[o]
            if v is UNKNOWN:
                continue
            first = self.where.setdefault(v, o)
            if first != o:
                self.dups.setdefault(v, [first]).append(o)
        self.isr_logs = {}
        for b in self.isr:
            if b == self.leader:
                continue
            r = self.replicas.get(b)
            if r is None:
                violations.append({"kind": "missing-state", "topic": tp[0], "partition": tp[1],
                                   "detail": f"ISR member {b}'s partition dir not collected"})
            else:
                self.isr_logs[b] = _log_map(r["batches"])
        # (offset, value) -> (broker, discard name, reason); value -> same + offset
        self.disc = {}
        self.disc_vals = {}
        for b, r in self.replicas.items():
            counts["interrupted_discards"] += r.get("interrupted_discards", 0)
            for d in r.get("discarded", ()):
                counts["discards"] += 1
                for bt in d["batches"]:
                    for o, v in bt["records"] or ():
                        v = _val(v)
                        self.disc.setdefault((o, v), (b, d.get("name"), d.get("reason")))
                        self.disc_vals.setdefault(v, (b, o, d.get("name"), d.get("reason")))

    def ident(self):
        return {"topic": self.tp[0], "partition": self.tp[1]}


def _check_replicas(part, violations, counts, anomalies):
    tp = part.ident()
    lrep = part.replicas.get(part.leader)
    # 8. per-replica order, damage, and ISR agreement below HW
    for b, r in part.replicas.items():
        prev = None
        for bt in r["batches"]:
            if prev is not None:
                if bt["epoch"] < prev["epoch"]:
                    violations.append({"kind": "epoch-decrease", **tp, "broker": b,
                                       "offset": bt["base_offset"], "epoch": bt["epoch"],
                                       "previous_epoch": prev["epoch"]})
                if bt["base_offset"] <= prev["last_offset"]:
                    violations.append({"kind": "offset-order", **tp, "broker": b,
                                       "offset": bt["base_offset"],
                                       "previous_last_offset": prev["last_offset"]})
            prev = bt
        counts["compressed_batches"] += sum(1 for bt in r["batches"] if bt["records"] is None)
        for p in r.get("bad", ()):
            if p.startswith(TORN_TAIL):
                counts["torn_tails"] += 1
                anomalies.append({"kind": "torn-tail", **tp, "broker": b, "detail": p})
            elif b == part.leader or b in part.isr:
                violations.append({"kind": "log-damage", **tp, "broker": b, "detail": p})
            else:
                counts["log_problems"] += 1
                anomalies.append({"kind": "log-problem", **tp, "broker": b, "detail": p})
    if lrep is not None and part.hw is not None:
        lead = [bt for bt in lrep["batches"] if bt["last_offset"] < part.hw]
        for b in part.isr:
            r = part.replicas.get(b)
            if b == part.leader or r is None:
                continue
            mine = [bt for bt in r["batches"] if bt["last_offset"] < part.hw]
            for i in range(max(len(lead), len(mine))):
                x = lead[i] if i < len(lead) else None
                y = mine[i] if i < len(mine) else None
                if x is None or y is None or x["raw"] != y["raw"]:
                    at = min(z["base_offset"] for z in (x, y) if z is not None)
                    violations.append({
                        "kind": "replica-mismatch", **tp, "broker": b, "leader": part.leader,
                        "offset": at, "hw": part.hw,
                        "detail": ("missing on replica" if y is None else
                                   "missing on leader" if x is None else
                                   f"leader batch {x['base_offset']}-{x['last_offset']} "
                                   f"epoch {x['epoch']} crc {x['crc']:#x}, replica "
                                   f"{y['base_offset']}-{y['last_offset']} epoch {y['epoch']} "
                                   f"crc {y['crc']:#x}")})
                    counts["replica_mismatches"] += 1
                    break
    # 7a. one leader per epoch
    claimed = {}
    for ev in part.leaders:
        e, b = ev.get("epoch"), _bid(ev.get("broker"))
        other = claimed.setdefault(e, b)
        if other != b:
            violations.append({"kind": "two-leaders-one-epoch", **tp, "epoch": e,
                               "brokers": sorted({other, b}, key=str), "t": ev.get("t")})
            counts["leader_conflicts"] += 1
    # 7b. one content per (epoch, base offset), no overlap within an epoch
    seen = {}  # (epoch, base offset) -> (crc, last offset, where) of the first seen
    other_crcs = {}  # (epoch, base offset) -> {crc} once a second copy was seen
    for b, r in part.replicas.items():
        srcs = [(bt, f"broker {b} log") for bt in r["batches"]]
        for d in r.get("discarded", ()):
            srcs += [(bt, f"broker {b} discarded/{d.get('name')}") for bt in d["batches"]]
        for bt, where in srcs:
            k = (bt["epoch"], bt["base_offset"])
            first = seen.get(k)
            if first is None:
                seen[k] = (bt["crc"], bt["last_offset"], where)
                continue
            crcs = other_crcs.setdefault(k, {first[0]})
            if bt["crc"] not in crcs:  # each further content reported once
                crcs.add(bt["crc"])
                violations.append({"kind": "epoch-offset-conflict", **tp, "epoch": k[0],
                                   "offset": k[1], "detail": f"crc {first[0]:#x} in {first[2]}, "
                                   f"{bt['crc']:#x} in {where}"})
                counts["epoch_conflicts"] += 1
    prev = None
    for (e, base), (crc, last, where) in sorted(seen.items()):
        if prev is not None and prev[0] == e and base <= prev[2]:
            violations.append({"kind": "epoch-offset-conflict", **tp, "epoch": e, "offset": base,
                               "detail": f"batch {base}-{last} in {where} overlaps "
                               f"{prev[1]}-{prev[2]} in {prev[3]} in the same epoch"})
            counts["epoch_conflicts"] += 1
        if prev is None or prev[0] != e or last > prev[2]:
            prev = (e, base, last, where)


def check(history, final, recoveries=(), converge_bound_s=30.0):
    """Check a whole run. Returns a Result; Result.report holds:
    operations, acknowledged {all, 1, other, total}, failed {definite,
    indefinite}, indeterminate, committed_unacknowledged {failed_indefinite,
    indeterminate}, lost, wrong_offset, discarded_and_reported {acks_all,
    acks_1}, discarded_reported (their sum), discarded_ids, duplicates,
    duplicate_copies, phantoms, failed_but_present,
    definite_failed_in_discarded, reads, dirty_reads, dirty_reads_reported,
    nonmonotonic_reads, skips, skipped_offsets, unverified, partitions,
    leader_conflicts, epoch_conflicts, replica_mismatches, torn_tails,
    log_problems, discards, interrupted_discards, compressed_batches,
    client_errors, history_anomalies, recovery {fault: {count, converged,
    max_s, mean_s}}, recovery_times [s, converged recoveries in order],
    violations (count), violations_by_kind, first_violations,
    duplicate_examples, skip_examples, anomalies (first few)."""
    violations, anomalies = [], []
    counts = defaultdict(int)
    parts = {}
    for k, st in final.items():
        tp = _tp_key(k)
        parts[tp] = _Part(tp, st, violations, counts)
    for part in parts.values():
        _check_replicas(part, violations, counts, anomalies)

    # ---- one pass over the history
    invokes = {}  # id -> (topic, partition, acks)
    outcomes = {}  # id -> ("ok", topic, partition, offset) | ("fail", definite, error)
    consumers = {}  # (proc, topic, partition) -> [last offset, seek target]
    reads = dirty = dirty_reported = nonmono = skips = skipped = 0
    skip_examples = []
    no_state = set()
    hist = counts  # history_anomalies go into counts too, prefixed
    for ev in history:
        typ = ev.get("type")
        if typ == "invoke":
            i = ev["id"]
            if i in invokes:
                hist["dup_invoke_id"] += 1
                continue
            invokes[i] = (ev["topic"], int(ev["partition"]), _acks(ev.get("acks", "all")))
        elif typ == "ok" or typ == "fail":
            i = ev["id"]
            if i in outcomes:
                hist["multiple_outcomes"] += 1
                continue
            if typ == "ok":
                inv = invokes.get(i)
                t = ev.get("topic", inv and inv[0])
                p = ev.get("partition", inv and inv[1])
                outcomes[i] = ("ok", t, int(p), int(ev["offset"]))
            else:
                outcomes[i] = ("fail", bool(ev.get("definite")), ev.get("error"))
        elif typ == "read":
            reads += 1
            tp = (ev["topic"], int(ev["partition"]))
            off, val = int(ev["offset"]), ev.get("value")
            part = parts.get(tp)
            # 6. monotonic, per consumer
            ck = (ev.get("proc"), tp[0], tp[1])
            st = consumers.get(ck)
            if st is None:
                consumers[ck] = [off, None]
            else:
                last, seek = st
                if seek is not None:
                    if off < seek:
                        nonmono += 1
                        violations.append({"kind": "nonmonotonic-read", "proc": ck[0],
                                           "topic": tp[0], "partition": tp[1], "offset": off,
                                           "seek": seek, "t": ev.get("t")})
                    last = seek - 1  # for the skip count: the seek target comes next
                elif last is not None and off <= last:
                    nonmono += 1
                    violations.append({"kind": "nonmonotonic-read", "proc": ck[0],
                                       "topic": tp[0], "partition": tp[1], "offset": off,
                                       "previous": last, "t": ev.get("t")})
                if (last is not None and off > last + 1 and part is not None
                        and part.log is not None):
                    n = (bisect.bisect_left(part.offsets, off)
                         - bisect.bisect_right(part.offsets, last))
                    if n > 0:
                        skips += 1
                        skipped += n
                        if len(skip_examples) < EXAMPLES:
                            skip_examples.append({"proc": ck[0], "topic": tp[0],
                                                  "partition": tp[1], "from": last, "to": off,
                                                  "skipped": n, "t": ev.get("t")})
                st[0], st[1] = off, None
            # 5. dirty reads
            if part is None or part.log is None:
                counts["unverified"] += 1
                if part is None:
                    no_state.add(tp)
                continue
            have = part.log.get(off, _MISSING)
            if have == val:
                continue
            if have is UNKNOWN or (have is _MISSING and off < part.log_start):
                counts["unverified"] += 1
                continue
            d = part.disc.get((off, val))
            if d is not None and part.unclean:
                dirty_reported += 1
                continue
            dirty += 1
            violations.append({"kind": "dirty-read", "proc": ev.get("proc"), "topic": tp[0],
                               "partition": tp[1], "offset": off, "value": val,
                               "final": None if have is _MISSING else have,
                               "discarded": d, "t": ev.get("t")})
        elif typ == "error":
            counts["client_errors"] += 1
        elif typ == "seek":
            ck = (ev.get("proc"), ev["topic"], int(ev["partition"]))
            st = consumers.setdefault(ck, [None, None])
            st[1] = int(ev["offset"])
        elif typ == "done":
            pass  # a client's last line: it stopped by itself
        else:
            hist["unknown_event_type"] += 1

    # ---- 1, 2, 4: outcomes against the final logs
    acked = defaultdict(int)
    failed = {"definite": 0, "indefinite": 0}
    committed_unacked = {"failed_indefinite": 0, "indeterminate": 0}
    lost = wrong = phantoms = fbp = fbd = 0
    disc_rep = {"acks_all": 0, "acks_1": 0}
    disc_ids = []
    for i, out in outcomes.items():
        inv = invokes.get(i)
        if inv is None:
            hist["outcome_without_invoke"] += 1
        if out[0] == "fail":
            failed["definite" if out[1] else "indefinite"] += 1
            if inv is None:
                continue
            part = parts.get((inv[0], inv[1]))
            if part is None or part.log is None:
                continue
            if i in part.where:
                if out[1]:
                    fbp += 1
                    violations.append({"kind": "failed-but-present", **part.ident(), "id": i,
                                       "offset": part.where[i], "error": out[2]})
                else:
                    committed_unacked["failed_indefinite"] += 1
            elif out[1] and i in part.disc_vals:
                fbd += 1
                anomalies.append({"kind": "definite-failed-in-discarded", **part.ident(),
                                  "id": i, "discarded": part.disc_vals[i]})
            continue
        _, t, p, off = out
        acks = inv[2] if inv is not None else "1"
        acked[acks] += 1
        part = parts.get((t, p))
        if part is None or part.log is None:
            counts["unverified"] += 1
            if part is None:
                no_state.add((t, p))
            continue
        have = part.log.get(off, _MISSING)
        if have is UNKNOWN or (have is _MISSING and off < part.log_start):
            counts["unverified"] += 1
            continue
        base = {**part.ident(), "id": i, "offset": off, "acks": acks}
        if have == i:
            if acks == "all":
                missing = [b for b, m in part.isr_logs.items()
                           if m.get(off) != i and m.get(off) is not UNKNOWN]
                if missing:
                    lost += 1
                    violations.append({"kind": "lost", **base, "missing_on": missing,
                                       "detail": "on the leader, missing on ISR replicas"})
            continue
        d = part.disc.get((off, i))
        if d is not None and (acks != "all" or part.unclean):
            disc_rep["acks_all" if acks == "all" else "acks_1"] += 1
            disc_ids.append(i)
            continue
        if i in part.where:
            wrong += 1
            violations.append({"kind": "wrong-offset", **base, "found_at": part.where[i]})
            continue
        if acks == "0":
            continue  # never acknowledged in earnest
        lost += 1
        violations.append({"kind": "lost", **base,
                           "final": None if have is _MISSING else have,
                           "discarded": d or part.disc_vals.get(i)})
    indeterminate = 0
    for i, inv in invokes.items():
        if i in outcomes:
            continue
        indeterminate += 1
        part = parts.get((inv[0], inv[1]))
        if part is not None and i in part.where:
            committed_unacked["indeterminate"] += 1

    # ---- 3, 4: the final leader logs themselves
    written_topics = {inv[0] for inv in invokes.values()}
    dup_examples = []
    for tp, part in sorted(parts.items()):
        if part.log is None:
            continue
        for v, offs in part.dups.items():
            counts["duplicates"] += 1
            counts["duplicate_copies"] += len(offs) - 1
            if len(dup_examples) < EXAMPLES:
                dup_examples.append({**part.ident(), "value": v, "offsets": offs})
        if tp[0] not in written_topics:
            continue
        for v, o in part.where.items():
            inv = invokes.get(v)
            if inv is None or (inv[0], inv[1]) != tp:
                phantoms += 1
                violations.append({"kind": "phantom", **part.ident(), "offset": o, "value": v,
                                   "detail": "never invoked" if inv is None else
                                   f"invoked for {inv[0]}-{inv[1]}"})
    for tp in sorted(no_state, key=str):
        violations.append({"kind": "missing-state", "topic": tp[0], "partition": tp[1],
                           "detail": "the history used this partition; no final state"})

    # ---- 9: convergence
    recovery = {}
    recovery_times = []
    for r in recoveries:
        f = r.get("fault")
        s = recovery.setdefault(f, {"count": 0, "converged": 0, "_t": []})
        s["count"] += 1
        ca, ha = r.get("converged_at"), r.get("healed_at")
        if ca is None:
            violations.append({"kind": "no-convergence", "fault": f, "healed_at": ha})
            continue
        took = ca - ha
        s["converged"] += 1
        s["_t"].append(took)
        recovery_times.append(round(took, 3))
        if took > converge_bound_s:
            violations.append({"kind": "slow-convergence", "fault": f, "healed_at": ha,
                               "took_s": round(took, 3), "bound_s": converge_bound_s})
    for s in recovery.values():
        ts = s.pop("_t")
        s["max_s"] = round(max(ts), 3) if ts else None
        s["mean_s"] = round(sum(ts) / len(ts), 3) if ts else None

    by_kind = defaultdict(int)
    for v in violations:
        by_kind[v["kind"]] += 1
    history_anomalies = {k: counts.pop(k) for k in ("dup_invoke_id", "multiple_outcomes",
                                                    "outcome_without_invoke",
                                                    "unknown_event_type") if k in counts}
    report = {
        "operations": len(invokes),
        "acknowledged": {"all": acked.get("all", 0), "1": acked.get("1", 0),
                         "other": sum(n for a, n in acked.items() if a not in ("all", "1")),
                         "total": sum(acked.values())},
        "failed": failed,
        "indeterminate": indeterminate,
        "committed_unacknowledged": committed_unacked,
        "lost": lost,
        "wrong_offset": wrong,
        "discarded_and_reported": disc_rep,
        "discarded_reported": disc_rep["acks_all"] + disc_rep["acks_1"],
        "discarded_ids": disc_ids,
        "duplicates": counts["duplicates"],
        "duplicate_copies": counts["duplicate_copies"],
        "phantoms": phantoms,
        "failed_but_present": fbp,
        "definite_failed_in_discarded": fbd,
        "reads": reads,
        "dirty_reads": dirty,
        "dirty_reads_reported": dirty_reported,
        "nonmonotonic_reads": nonmono,
        "skips": skips,
        "skipped_offsets": skipped,
        "unverified": counts["unverified"],
        "partitions": len(parts),
        "leader_conflicts": counts["leader_conflicts"],
        "epoch_conflicts": counts["epoch_conflicts"],
        "replica_mismatches": counts["replica_mismatches"],
        "torn_tails": counts["torn_tails"],
        "log_problems": counts["log_problems"],
        "discards": counts["discards"],
        "interrupted_discards": counts["interrupted_discards"],
        "compressed_batches": counts["compressed_batches"],
        "client_errors": counts["client_errors"],
        "history_anomalies": history_anomalies,
        "recovery": recovery,
        "recovery_times": recovery_times,
        "violations": len(violations),
        "violations_by_kind": dict(by_kind),
        "first_violations": violations[:FIRST_VIOLATIONS],
        "duplicate_examples": dup_examples,
        "skip_examples": skip_examples,
        "anomalies": anomalies[:FIRST_VIOLATIONS],
    }
    return Result(violations, report)


class _Missing:
    def __repr__(self):
        return "<missing>"


_MISSING = _Missing()


def _short(v, limit=160):
    s = ", ".join(f"{k}={v[k]!r}" if isinstance(v[k], str) else f"{k}={v[k]}"
                  for k in v if k != "kind")
    return s if len(s) <= limit else s[:limit - 3] + "..."


def format_report(result):
    """A short text form of a Result (or of its report dict)."""
    r = result.report if isinstance(result, Result) else result
    a, f, d = r["acknowledged"], r["failed"], r["discarded_and_reported"]
    cu = r["committed_unacknowledged"]
    lines = [
        f"history check: {'OK' if r['violations'] == 0 else 'FAILED'} "
        f"({r['violations']} violations)",
        f"  operations {r['operations']}: acknowledged {a['total']} (acks=all {a['all']}, "
        f"acks=1 {a['1']}), failed definite {f['definite']} / indefinite {f['indefinite']}, "
        f"indeterminate {r['indeterminate']} (committed anyway: {cu['failed_indefinite']} "
        f"failed, {cu['indeterminate']} indeterminate)",
        f"  lost {r['lost']}, wrong offset {r['wrong_offset']}, discarded-and-reported "
        f"{d['acks_all'] + d['acks_1']} (acks=all {d['acks_all']}, acks=1 {d['acks_1']}), "
        f"duplicates {r['duplicates']} ({r['duplicate_copies']} extra copies), phantoms "
        f"{r['phantoms']}, failed-but-present {r['failed_but_present']}",
        f"  reads {r['reads']}: dirty {r['dirty_reads']} (reported discarded "
        f"{r['dirty_reads_reported']}), nonmonotonic {r['nonmonotonic_reads']}, skips "
        f"{r['skips']} ({r['skipped_offsets']} offsets); unverified {r['unverified']}",
        f"  replicas: {r['partitions']} partitions, leader conflicts {r['leader_conflicts']}, "
        f"epoch conflicts {r['epoch_conflicts']}, mismatches {r['replica_mismatches']}, "
        f"torn tails {r['torn_tails']}, discards {r['discards']} (interrupted "
        f"{r['interrupted_discards']})",
    ]
    if r["recovery"]:
        lines.append("  recovery: " + "; ".join(
            f"{k} n={s['count']} max {s['max_s']}s mean {s['mean_s']}s"
            + (f" ({s['count'] - s['converged']} never converged)"
               if s["converged"] < s["count"] else "")
            for k, s in sorted(r["recovery"].items(), key=lambda kv: str(kv[0]))))
    if r["history_anomalies"]:
        lines.append(f"  history anomalies: {r['history_anomalies']}")
    if r["violations"]:
        lines.append("  by kind: " + ", ".join(f"{k} {n}" for k, n in
                                               sorted(r["violations_by_kind"].items())))
        for v in r["first_violations"]:
            lines.append(f"  - {v['kind']}: {_short(v)}")
        more = r["violations"] - len(r["first_violations"])
        if more > 0:
            lines.append(f"  ... and {more} more")
    return "\n".join(lines)
