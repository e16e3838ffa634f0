#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""plot.py - turn migbench's CSV into plots and a markdown table.

Usage: plot.py --csv out/bench.csv [--timeline out/timeline.csv]
               [--env out/env.txt] [--outdir out]

Writes, into --outdir:
  cpu_per_gib.png  CPU-s per GiB moved, per case, stopped and running target
  hot_vs_all.png   running target: time until 95% of the hot half is on the
                   destination vs time until everything is
  timeline.png     running target, first rep: share of the hot and the cold
                   half on the destination over time (from --timeline)
  results.md       medians, and ratios to migrate_pages(2) of the same run
"""

import argparse
import csv
import os
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

CASES = ["migrate_pages", "move_pages", "eager", "periodical", "mild", "severe"]
VARIANTS = ["stopped", "running"]
LABELS = {
    "migrate_pages": "migrate_pages(2)",
    "move_pages": "move_pages(2)",
    "eager": "numamig eager",
    "periodical": "numamig periodical",
    "mild": "numamig mild",
    "severe": "numamig severe",
}
DISTURBED = []  # runs redone because another QEMU guest ran meanwhile
NUMERIC = ["wall_ms", "cpu_ms", "cpu_s_per_gib", "pages", "hot_local_ms",
           "all_local_ms", "pages_total", "reported", "walk_done_ms",
           "sleep_ms", "data_bad", "tlb_ipis"]


def num(s):
    if s in ("", "NA", None):
        return None
    return float(s)


def read_csv(path):
    """Rows as dicts with numbers parsed, and the '# migbench k=v' header."""
    meta = {}
    lines = []
    with open(path, newline="") as f:
        for line in f:
            if line.startswith("#"):
                for kv in line[1:].split():
                    if "=" in kv:
                        k, v = kv.split("=", 1)
                        meta[k] = v
                continue
            lines.append(line)
    rows = []
    for r in csv.DictReader(lines):
        if r["status"] == "disturbed":
            DISTURBED.append(r)
            continue
        for k in NUMERIC:
            if k in r:
                r[k] = num(r[k])
        r["rep"] = int(r["rep"])
        rows.append(r)
    return meta, rows


def read_timeline(path):
    if not path or not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        r["rep"] = int(r["rep"])
        for k in ("t_ms", "hot_pct", "cold_pct"):
            r[k] = float(r[k])
    return rows


def values(rows, case, variant, key):
    return [r[key] for r in rows
            if r["case"] == case and r["variant"] == variant
            and r[key] is not None]


def med(rows, case, variant, key):
    v = values(rows, case, variant, key)
    return statistics.median(v) if v else None


def spread(rows, case, variant, key):
    """(median, median - min, max - median) for error bars."""
    v = values(rows, case, variant, key)
    if not v:
        return None, 0, 0
    m = statistics.median(v)
    return m, m - min(v), max(v) - m


def present(rows, key="case", order=CASES):
    seen = {r[key] for r in rows}
    return [c for c in order if c in seen]


def subtitle(meta):
    return ("{} MiB target, 4 KiB pages, numamig n={} pages t={} ms, "
            "{} rep(s); QEMU TCG guest, emulated nodes".format(
                meta.get("size_mb", "?"), meta.get("batch", "?"),
                meta.get("sleep_ms", "?"), meta.get("reps", "?")))


def plot_cpu(rows, meta, path):
    cases = present(rows)
    variants = present(rows, "variant", VARIANTS)
    fig, ax = plt.subplots(figsize=(9, 4.8))
    width = 0.8 / max(1, len(variants))
    colors = {"stopped": "#4c72b0", "running": "#dd8452"}
    for i, v in enumerate(variants):
        ms, lo, hi = [], [], []
        for c in cases:
            m, a, b = spread(rows, c, v, "cpu_s_per_gib")
            ms.append(m or 0)
            lo.append(a)
            hi.append(b)
        xs = [j + (i - (len(variants) - 1) / 2) * width for j in range(len(cases))]
        bars = ax.bar(xs, ms, width, yerr=[lo, hi], capsize=3,
                      label="target " + v, color=colors.get(v))
        for b, m, h in zip(bars, ms, hi):
            ax.annotate("{:.2f}".format(m), (b.get_x() + b.get_width() / 2, m + h),
                        ha="center", va="bottom", fontsize=7,
                        xytext=(0, 2), textcoords="offset points")
    ax.set_xticks(range(len(cases)))
    ax.set_xticklabels([LABELS[c] for c in cases], rotation=20, ha="right")
    ax.set_ylabel("CPU-s per GiB moved (median, min-max)")
    ax.set_title("CPU cost of moving a process to the other node\n" +
                 subtitle(meta), fontsize=9)
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_hot(rows, meta, path):
    run = [r for r in rows if r["variant"] == "running"]
    cases = present(run)
    if not cases:
        return False
    fig, ax = plt.subplots(figsize=(9, 4.8))
    width = 0.38
    for i, (key, label, color) in enumerate([
            ("hot_local_ms", "95% of the hot half on the destination", "#c44e52"),
            ("all_local_ms", "everything on the destination (done)", "#8c8c8c")]):
        ms, lo, hi = [], [], []
        for c in cases:
            m, a, b = spread(run, c, "running", key)
            ms.append(m or 0)
            lo.append(a)
            hi.append(b)
        xs = [j + (i - 0.5) * width for j in range(len(cases))]
        bars = ax.bar(xs, ms, width, yerr=[lo, hi], capsize=3, label=label,
                      color=color)
        for b, m, h in zip(bars, ms, hi):
            ax.annotate("{:.0f}".format(m), (b.get_x() + b.get_width() / 2, m + h),
                        ha="center", va="bottom", fontsize=7,
                        xytext=(0, 2), textcoords="offset points")
    ax.set_xticks(range(len(cases)))
    ax.set_xticklabels([LABELS[c] for c in cases], rotation=20, ha="right")
    ax.set_ylabel("ms from the start (median, min-max)")
    ax.set_title("Running target: when the hot half became local vs when "
                 "all of it did\n" + subtitle(meta), fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def plot_timeline(tl, meta, path):
    run = [r for r in tl if r["variant"] == "running"]
    cases = present(run)
    if not cases:
        return False
    rep = min(r["rep"] for r in run)
    fig, ax = plt.subplots(figsize=(9, 4.8))
    cmap = plt.get_cmap("tab10")
    for i, c in enumerate(cases):
        pts = [r for r in run if r["case"] == c and r["rep"] == rep]
        t = [p["t_ms"] for p in pts]
        ax.plot(t, [p["hot_pct"] for p in pts], color=cmap(i),
                label=LABELS[c] + " (hot half)")
        ax.plot(t, [p["cold_pct"] for p in pts], color=cmap(i),
                linestyle=":", alpha=0.8)
    ax.axhline(95, color="k", linewidth=0.5, linestyle="--")
    ax.set_xlabel("ms from the start of the migration")
    ax.set_ylabel("% of sampled pages on the destination")
    ax.set_title("Running target, rep {}: hot half (solid) and cold half "
                 "(dotted) on the destination\n".format(rep) + subtitle(meta),
                 fontsize=9)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def fmt(v, f="{:.1f}"):
    return "NA" if v is None else f.format(v)


def table(rows, meta, env, host):
    out = []
    out.append("Medians of {} run(s) per row; {}.".format(
        meta.get("reps", "?"), subtitle(meta)))
    if env:
        out.append("Guest: " + "; ".join(env) + ".")
    if host:
        out.append("Host: {} CPUs, busy (another QEMU guest, or more than {} "
                   "ticks of other load per half second) in {} of {} "
                   "samples taken while the VM ran; migbench waited for "
                   "quiet before each run.".format(
                       host.get("cpus", "?"), host.get("busy_limit", "?"),
                       host.get("busy_samples", "?"),
                       host.get("samples", "?")))
    if DISTURBED:
        out.append("{} run(s) overlapped other load on the host and were redone; "
                   "they are in the CSV (status `disturbed`), not in the "
                   "medians.".format(len(DISTURBED)))
    out.append("`vs mp`: CPU-s/GiB divided by migrate_pages(2)'s with the "
               "target in the same state, same run. `hot/all`: hot_local / "
               "all_local.")
    out.append("")
    out.append("| case | target | wall ms | CPU ms | CPU-s/GiB | vs mp | "
               "hot local ms | all local ms | hot/all | TLB IPIs/page | "
               "pages moved | bad runs |")
    out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for v in present(rows, "variant", VARIANTS):
        base = med(rows, "migrate_pages", v, "cpu_s_per_gib")
        for c in present(rows):
            sel = [r for r in rows if r["case"] == c and r["variant"] == v]
            if not sel:
                continue
            cpg = med(rows, c, v, "cpu_s_per_gib")
            hot = med(rows, c, v, "hot_local_ms")
            all_ = med(rows, c, v, "all_local_ms")
            pages = med(rows, c, v, "pages")
            total = med(rows, c, v, "pages_total")
            bad = sum(1 for r in sel if r["status"] != "ok")
            ipis = med(rows, c, v, "tlb_ipis")
            out.append("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
                LABELS[c], v, fmt(med(rows, c, v, "wall_ms"), "{:.0f}"),
                fmt(med(rows, c, v, "cpu_ms"), "{:.0f}"), fmt(cpg, "{:.2f}"),
                fmt(cpg / base if cpg is not None and base else None, "{:.2f}x"),
                fmt(hot, "{:.0f}"), fmt(all_, "{:.0f}"),
                fmt(hot / all_ if hot is not None and all_ else None, "{:.2f}"),
                fmt(ipis / pages if ipis is not None and pages else None,
                    "{:.3f}"),
                "{:.0f}/{:.0f}".format(pages or 0, total or 0), bad))
    # The paper's latency-recovery result, in one line.
    per = med(rows, "periodical", "running", "hot_local_ms")
    lines = []
    for c in ("mild", "severe"):
        h = med(rows, c, "running", "hot_local_ms")
        if per and h is not None:
            lines.append("{} reached hot-local in {:.2f}x the time of "
                         "periodical".format(c, h / per))
    if lines:
        out.append("")
        out.append("Running target: " + "; ".join(lines) +
                   " (paper 000: about 0.5x).")
    return "\n".join(out) + "\n"


def read_env(path):
    if not path or not os.path.exists(path):
        return []
    keep = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith(("kernel:", "cpus:", "thp:", "numa_balancing:")):
                keep.append(line)
    return keep


def read_host(path):
    """run.sh's host.txt: 'samples=N other_qemu_samples=N cpus=N'."""
    if not path or not os.path.exists(path):
        return {}
    with open(path) as f:
        return dict(kv.split("=", 1) for kv in f.read().split() if "=" in kv)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--csv", required=True)
    ap.add_argument("--timeline")
    ap.add_argument("--env")
    ap.add_argument("--host")
    ap.add_argument("--outdir", default=".")
    a = ap.parse_args()

    meta, rows = read_csv(a.csv)
    if not rows:
        sys.exit("plot.py: {} has no runs".format(a.csv))
    os.makedirs(a.outdir, exist_ok=True)
    made = []
    plot_cpu(rows, meta, os.path.join(a.outdir, "cpu_per_gib.png"))
    made.append("cpu_per_gib.png")
    if plot_hot(rows, meta, os.path.join(a.outdir, "hot_vs_all.png")):
        made.append("hot_vs_all.png")
    if plot_timeline(read_timeline(a.timeline), meta,
                     os.path.join(a.outdir, "timeline.png")):
        made.append("timeline.png")
    md = table(rows, meta, read_env(a.env), read_host(a.host))
    with open(os.path.join(a.outdir, "results.md"), "w") as f:
        f.write(md)
    made.append("results.md")
    sys.stdout.write(md)
    print("plot.py: wrote {} in {}".format(", ".join(made), a.outdir))


if __name__ == "__main__":
    main()
