"""Description: the soak mode of the fault harness: back-to-back runs of the
random fault mix (harness.random_faults) for as long as asked, each run a
fresh cluster checked in full by the history checker, seeds counting up
from --seed so any run can be replayed alone.

    /usr/bin/python3 tests/faults/soak.py --build BUILD_DIR --minutes 60 \
        [--seed 1000] [--run-minutes 5] [--n 3] [--out FILE] [--keep DIR]

Prints each run's report as it ends and a summary at the end (also to
--out, markdown); exits 1 if any run had a violation. Off by default in CI.
"""
import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", required=True,
                    help="meson build dir with tests/faults/replogd-faults")
    ap.add_argument("--minutes", type=float, default=60.0,
                    help="how long the whole soak runs (default 60); the last run is cut short "
                         "to fit, but never below 30 s")
    ap.add_argument("--run-minutes", type=float, default=5.0,
                    help="length of each run, a fresh cluster (default 5)")
    ap.add_argument("--seed", type=int, default=1000,
                    help="seed of the first run; each next run adds 1 (default 1000)")
    ap.add_argument("--n", type=int, default=3, choices=[3, 5], help="brokers (default 3)")
    ap.add_argument("--out", help="write the summary (markdown) here")
    ap.add_argument("--keep", help="keep every run's directory under here, created if missing "
                                   "(default: keep only failed runs', under the system temp dir)")
    a = ap.parse_args()
    # A SIGTERM ends the soak like ^C: the current run's brokers, proxy and
    # clients are stopped on the way out.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    os.environ["REPLOG_BUILD_ROOT"] = str(Path(a.build).resolve())
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import harness  # after REPLOG_BUILD_ROOT: it finds the binaries through it

    if not harness.faults_available():
        sys.exit(f"no {harness.FAULTY}: build first (meson compile -C {a.build})")
    if a.keep:
        Path(a.keep).mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + a.minutes * 60
    rows, failed, seed = [], 0, a.seed
    t0 = time.monotonic()
    while time.monotonic() < deadline:
        root = Path(tempfile.mkdtemp(prefix=f"soak-{seed}-", dir=a.keep))
        left = deadline - time.monotonic()
        dur = max(30.0, min(a.run_minutes * 60, left))
        start = time.monotonic()
        res, err = None, None
        try:
            with harness.Run(root, seed, n=a.n) as r:
                r.start_workload()
                r.wait_acks(30)
                harness.random_faults(r, dur)
                res = r.finish()
        except Exception as e:  # a harness-level failure is a failed run too
            err = f"{type(e).__name__}: {e}"
        took = time.monotonic() - start
        ok = res is not None and res.ok
        failed += not ok
        rep = res.report if res is not None else {}
        rows.append((seed, round(took), ok, rep, err))
        print(f"== run seed {seed}: {'ok' if ok else 'FAILED'} in {took:.0f} s", flush=True)
        print(str(res) if res is not None else err, flush=True)
        if ok and not a.keep:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"   kept {root}", flush=True)
        seed += 1
    summary = summarize(rows, time.monotonic() - t0, a)
    print(summary)
    if a.out:
        Path(a.out).write_text(summary)
    return 1 if failed else 0


def summarize(rows, took, a):
    tot = {"operations": 0, "lost": 0, "discarded_reported": 0, "duplicates": 0}
    ack_all = ack_one = 0
    kinds = {}  # fault kind -> [count, converged, sum of seconds, max seconds]
    for _, _, _, rep, _ in rows:
        for k in tot:
            v = rep.get(k, 0)
            tot[k] += v if isinstance(v, int) else 0
        ack = rep.get("acknowledged", {})
        ack_all += ack.get("all", 0)
        ack_one += ack.get("1", 0)
        for name, s in rep.get("recovery", {}).items():
            kind = name.split(" on ")[0]
            if kind == "final":
                continue
            k = kinds.setdefault(kind, [0, 0, 0.0, 0.0])
            k[0] += s.get("count", 0)
            k[1] += s.get("converged", 0)
            if s.get("mean_s") is not None:
                k[2] += s["mean_s"] * s.get("converged", 0)
                k[3] = max(k[3], s.get("max_s") or 0.0)
    lines = [f"Soak: {len(rows)} runs, {took / 60:.1f} min, {a.n} brokers, seeds {a.seed}.."
             f"{a.seed + len(rows) - 1}, {sum(1 for r in rows if not r[2])} failed.", "",
             "| seed | s | ok | operations | acks=all | acks=1 | lost | discarded+reported "
             "| duplicates | error |", "|---|---|---|---|---|---|---|---|---|---|"]
    for seed, t, ok, rep, err in rows:
        ack = rep.get("acknowledged", {})
        lines.append(f"| {seed} | {t} | {'yes' if ok else 'NO'} | {rep.get('operations', '-')} "
                     f"| {ack.get('all', '-')} | {ack.get('1', '-')} | {rep.get('lost', '-')} "
                     f"| {rep.get('discarded_reported', '-')} | {rep.get('duplicates', '-')} "
                     f"| {err or ''} |")
    lines += ["", f"Totals: operations {tot['operations']}, acknowledged acks=all {ack_all}, "
              f"acks=1 {ack_one}, lost {tot['lost']}, discarded and reported "
              f"{tot['discarded_reported']}, duplicates {tot['duplicates']}, faults "
              f"{sum(k[0] for k in kinds.values())}.", "",
              "Time from heal to convergence (every broker agreeing on each partition's "
              "leader and epoch, full ISR), by fault:", "",
              "| fault | count | converged | mean s | max s |", "|---|---|---|---|---|"]
    for kind, (n, conv, total, mx) in sorted(kinds.items()):
        mean = f"{total / conv:.2f}" if conv else "-"
        lines.append(f"| {kind} | {n} | {conv} | {mean} | {mx:.2f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
