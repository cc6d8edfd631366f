#!/usr/bin/env python3
"""Medians, ratios and targets of a bench/run.sh run.

    bench/summarize.py OUT_DIR

Reads OUT_DIR/machine.json and OUT_DIR/results.jsonl (one line per measurement) and writes
summary.md (the tables docs/benchmarks.md quotes), summary.csv, summary.json and
iops_vs_qd.dat (bench/plot.gp's data); prints summary.md. Every figure is the median over
the repeats; a ratio is the ratio of two medians measured in the same run.
"""
import csv
import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path

SYSTEMS = ["toyos-uring", "toyos-threads", "fio", "raw"]


def load(out):
    machine = json.loads((out / "machine.json").read_text())
    rows = [json.loads(l) for l in (out / "results.jsonl").read_text().splitlines() if l]
    return machine, rows


def group(rows):
    """(case, system) -> list of measurements, and the cases in the order they ran."""
    by = defaultdict(list)
    order = []
    for r in rows:
        if r["case"] not in order:
            order.append(r["case"])
        by[(r["case"], r["system"])].append(r)
    return by, order


def median(runs, key):
    vals = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def per_op(runs, key):
    vals = [r[key] / r["total_ios"] for r in runs if r.get(key) is not None and r["total_ios"]]
    return statistics.median(vals) if vals else None


def per_second(runs, key):
    vals = [r[key] / r["runtime_s"] for r in runs if r.get(key) is not None and r["runtime_s"]]
    return statistics.median(vals) if vals else None


def paired_cost(by, case, system):
    """1 - median of SYSTEM's IOPS / toyos-stats-off's IOPS in the same repeat and round."""
    def key(r):
        return r["repeat"], r.get("round", 1)

    off = {key(r): r["iops"] for r in by.get((case, "toyos-stats-off"), [])}
    ratios = [r["iops"] / off[key(r)] for r in by.get((case, system), []) if off.get(key(r))]
    return 1 - statistics.median(ratios) if ratios else None


def ratio(a, b):
    return a / b if a is not None and b else None


def fmt_iops(v):
    if v is None:
        return "-"
    return f"{v / 1e6:.2f} M" if v >= 1e6 else f"{v / 1e3:.1f} k"


def fmt_ratio(v):
    return "-" if v is None else f"{v:.2f}x"


def fmt_num(v, digits=4):
    return "-" if v is None else f"{v:.{digits}f}"


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def main():
    out = Path(sys.argv[1])
    machine, rows = load(out)
    by, order = group(rows)
    summary = {"machine": machine, "cases": {}}
    md = [
        f"Run: `{machine['command']}` at {machine['date']} (commit {machine['commit']}); "
        f"{machine['repeats']} repeats x {machine['runtime']} s per measurement, "
        f"file {machine['size']}; {machine['nproc']} CPUs ({machine['cpu']}), "
        f"kernel {machine['kernel']}, {machine['fio']}. Medians over the repeats; "
        "ratios are ratios of medians.",
        "",
    ]

    # --- throughput cases -------------------------------------------------------------------
    io_rows, csv_rows = [], []
    for case in order:
        systems = {s for (c, s) in by if c == case}
        if not systems & set(SYSTEMS) or case.startswith("wal"):
            continue
        med = {s: median(by.get((case, s), []), "iops") for s in SYSTEMS}
        uring = by.get((case, "toyos-uring"), [])
        entry = {
            "iops": med,
            "repeats": {s: len(by.get((case, s), [])) for s in SYSTEMS},
            "toyos_over_fio": ratio(med["toyos-uring"], med["fio"]),
            "toyos_over_raw": ratio(med["toyos-uring"], med["raw"]),
            "uring_over_threads": ratio(med["toyos-uring"], med["toyos-threads"]),
            "host_enters_per_op": per_op(uring, "host_enters"),
            "toy_enters_per_op": per_op(uring, "toy_enters"),
            "host_enters_per_s": per_second(uring, "host_enters"),
            "toy_enters_per_s": per_second(uring, "toy_enters"),
        }
        summary["cases"][case] = entry
        io_rows.append([
            case, *(fmt_iops(med[s]) for s in SYSTEMS),
            fmt_ratio(entry["toyos_over_fio"]), fmt_ratio(entry["toyos_over_raw"]),
            fmt_ratio(entry["uring_over_threads"]),
            fmt_num(entry["toy_enters_per_op"]), fmt_num(entry["host_enters_per_op"]),
        ])
        for s in SYSTEMS:
            if med[s] is not None:
                csv_rows.append([case, s, med[s], len(by[(case, s)])])
    md += ["### IOPS (median)", "", table(
        ["case", "toyos uring", "toyos threads", "fio", "raw liburing", "toyos/fio",
         "toyos/raw", "uring/threads", "toy enters/op", "host enters/op"], io_rows), ""]

    # --- SQPOLL: enters per second under sustained load ---------------------------------------
    sq_rows = []
    for case in order:
        e = summary["cases"].get(case)
        if e and case.endswith("sqpoll"):
            sq_rows.append([case, fmt_iops(e["iops"]["toyos-uring"]),
                            fmt_num(e["toy_enters_per_s"], 1), fmt_num(e["host_enters_per_s"], 1)])
    if sq_rows:
        md += ["### SQPOLL: enters per second (toyos uring, median)", "", table(
            ["case", "IOPS", "toy enters/s", "host enters/s"], sq_rows), ""]

    # --- statistics and tracing: what they cost ------------------------------------------------
    st_rows = []
    for case in order:
        if not case.startswith("stats-"):
            continue
        off = median(by.get((case, "toyos-stats-off"), []), "iops")
        on = median(by.get((case, "toyos-stats-on"), []), "iops")
        trace = median(by.get((case, "toyos-trace"), []), "iops")
        # A cost is paired: each round runs off, on and trace back to back, so its ratio to
        # that round's "off" is less noisy than a ratio of medians; the median is taken.
        cost_on = paired_cost(by, case, "toyos-stats-on")
        cost_trace = paired_cost(by, case, "toyos-trace")
        summary["cases"][case] = {"stats_off": off, "stats_on": on, "trace": trace,
                                  "stats_cost": cost_on, "trace_cost": cost_trace}
        st_rows.append([case, fmt_iops(off), fmt_iops(on), fmt_iops(trace),
                        "-" if cost_on is None else f"{cost_on * 100:.1f}%",
                        "-" if cost_trace is None else f"{cost_trace * 100:.1f}%"])
        for key, s in [("stats_off", "toyos-stats-off"), ("stats_on", "toyos-stats-on"),
                       ("trace", "toyos-trace")]:
            if summary["cases"][case][key] is not None:
                csv_rows.append([case, s, summary["cases"][case][key], len(by[(case, s)])])
    if st_rows:
        md += ["### Statistics and tracing cost (toyos uring, median IOPS)", "", table(
            ["case", "--stats off", "--stats on", "--trace FILE", "stats cost (paired)",
             "trace cost (paired)"],
            st_rows), ""]

    # --- the same, in instructions per NOP (callgrind) ---------------------------------------
    cg_path = out / "callgrind.jsonl"
    cg = {}
    if cg_path.exists():
        cg = {r["mode"]: r["instructions_per_op"]
              for r in map(json.loads, cg_path.read_text().splitlines()) if r}
    if cg.get("stats off"):
        base = cg["stats off"]
        summary["callgrind_nop_b32"] = cg
        md += ["### Instructions per NOP, batch 32 (callgrind, ringbench's thread)", "", table(
            ["mode", "instructions/op", "over --stats off"],
            [[m, v, f"{(v / base - 1) * 100:+.1f}%"] for m, v in cg.items()]), ""]

    # --- wal ----------------------------------------------------------------------------------
    wal_rows = []
    for case in order:
        if not case.startswith("wal"):
            continue
        runs = by.get((case, "toyos-uring"), [])
        e = {k: median(runs, k) for k in
             ["append_p50_ns", "append_p99_ns", "commit_p50_ns", "commit_p99_ns", "appends_per_sec"]}
        summary["cases"][case] = e
        wal_rows.append([case, fmt_num(e["append_p50_ns"], 0), fmt_num(e["append_p99_ns"], 0),
                         fmt_num(e["commit_p99_ns"] and e["commit_p99_ns"] / 1e3, 1),
                         fmt_iops(e["appends_per_sec"])])
        csv_rows.append([case, "toyos-uring-append-p99-ns", e["append_p99_ns"], len(runs)])
    if wal_rows:
        md += ["### wal (median)", "", table(
            ["case", "append p50 (ns)", "append p99 (ns)", "commit p99 (us)", "appends/s"],
            wal_rows), ""]

    # --- targets ------------------------------------------------------------------------------
    c = summary["cases"]

    def get(case, *keys):
        v = c.get(case)
        for k in keys:
            v = v.get(k) if isinstance(v, dict) else None
        return v

    targets = []

    def target(name, value, at_least, limit, shown):
        """A row: the measured median, met or MISSED, and by how much it misses the limit."""
        if value is None:
            targets.append({"target": name, "value": None, "met": None})
            return [name, "not measured", "-", "-"]
        met = value >= limit if at_least else value < limit
        targets.append({"target": name, "value": value, "limit": limit, "met": met})
        if met:
            by = "-"
        elif shown is pct:
            by = f"{abs(value - limit) * 100:.1f} points"
        else:
            by = f"{abs(value / limit - 1) * 100:.0f}% of the limit"
        return [name, shown(value), "met" if met else "MISSED", by]

    def pct(v):
        return f"{v * 100:.1f}%"

    def per_s(v):
        return fmt_num(v, 1)

    def usec(v):
        return f"{v / 1e3:.1f} us"

    cg_cost = (cg["stats on"] / cg["stats off"] - 1
               if cg.get("stats off") and cg.get("stats on") else None)
    t_rows = [
        target("4k randread page cache QD64: toyos >= 0.9x fio",
               get("randread-4k-qd64", "toyos_over_fio"), True, 0.9, fmt_ratio),
        target("128k seq read O_DIRECT QD128: toyos >= 0.95x fio",
               get("direct-read-128k-qd128", "toyos_over_fio"), True, 0.95, fmt_ratio),
        target("NOP batch 32: toyos >= raw liburing",
               get("nop-b32", "toyos_over_raw"), True, 1.0, fmt_ratio),
        target("batched QD64: host io_uring_enter per op <= 1/16 (0.0625)",
               get("randread-4k-qd64", "host_enters_per_op"), False, 1 / 16 + 1e-12, fmt_num),
        target("SQPOLL QD64: host enters/s < 10",
               get("randread-4k-qd64-sqpoll", "host_enters_per_s"), False, 10, per_s),
        target("SQPOLL QD64: toy enters/s < 10",
               get("randread-4k-qd64-sqpoll", "toy_enters_per_s"), False, 10, per_s),
        target("wal append p99 < 10 us", get("wal", "append_p99_ns"), False, 10000, usec),
        target("wal --sqpoll append p99 < 10 us", get("wal-sqpoll", "append_p99_ns"), False,
               10000, usec),
        target("uring >= 3x threads executor, 4k randread QD64",
               get("randread-4k-qd64", "uring_over_threads"), True, 3, fmt_ratio),
        target("counters cost < 3% (NOP batch 32, time)", get("stats-nop-b32", "stats_cost"),
               False, 0.03, pct),
        target("counters cost < 3% (4k randread QD64, time)",
               get("stats-randread-4k-qd64", "stats_cost"), False, 0.03, pct),
        target("counters cost < 3% (instructions per NOP, callgrind)", cg_cost, False, 0.03,
               pct),
    ]
    summary["targets"] = targets
    md += ["### Targets", "", table(["target", "measured (median)", "", "missed by"], t_rows),
           ""]

    # --- files --------------------------------------------------------------------------------
    text = "\n".join(md)
    (out / "summary.md").write_text(text)
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    with open(out / "summary.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["case", "system", "median", "repeats"])
        w.writerows(csv_rows)
    with open(out / "iops_vs_qd.dat", "w") as f:
        f.write("# qd " + " ".join(SYSTEMS) + "  (4k randread, page cache, median IOPS)\n")
        for qd in (1, 16, 64):
            e = c.get(f"randread-4k-qd{qd}", {}).get("iops", {})
            f.write(f"{qd} " + " ".join(
                "NaN" if e.get(s) is None else f"{e[s]:.0f}" for s in SYSTEMS) + "\n")
    print(text)


if __name__ == "__main__":
    main()
