#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""plot.py - tables and plots of the page-cache carry-over benchmark.

Usage: plot.py OUTDIR

Reads OUTDIR/runs.csv, dumps.csv, timeline/*.csv, iotl/*.csv, layout.txt,
dump-*.json, env.txt and host.txt (written by guest.sh and run.sh); writes
OUTDIR/results.md and, per storage profile P, timeline-P.png (bytes read
by the reader over time), totals-P.png (bytes read in the fixed time, and
bytes read from storage by the reader and by the prefetcher) and disk-P.png
(storage reads over time, first repetition).
"""
import csv
import glob
import json
import os
import statistics
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

MIB = 1 << 20
ORDER = ["none", "hot", "hot-j1", "hot-j2", "hot-before", "hot-rate", "whole", "whole-cat"]
LABEL = {
    "none": "no prefetch",
    "hot": "hot set, with the reader",
    "hot-before": "hot set, before the reader",
    "hot-rate": "hot set, with the reader, --rate",
    "hot-j1": "hot set, with the reader, --jobs 1",
    "hot-j2": "hot set, with the reader, --jobs 2",
    "whole": "whole file (numamigctl), with the reader",
    "whole-cat": "whole file (cat), with the reader",
}
PROFILE = {
    "bw": "bandwidth only (io.max)",
    "lat": "bandwidth and per-read latency (io.max + dm-delay)",
}
COLOR = {
    "none": "tab:gray", "hot": "tab:blue", "hot-before": "tab:cyan",
    "hot-rate": "tab:purple", "whole": "tab:orange", "whole-cat": "tab:red",
    "hot-j1": "tab:green", "hot-j2": "tab:olive",
}


def num(s):
    if s is None or s == "":
        return None
    try:
        return int(s)
    except ValueError:
        return float(s)


def read_csv(path):
    with open(path, newline="") as f:
        return [{k: v if k in ("case", "profile") else num(v) for k, v in row.items()}
                for row in csv.DictReader(f)]


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, spec=".0f", none="–"):
    return none if x is None else format(x, spec)


def read_env(path):
    env = {}
    if os.path.exists(path):
        for line in open(path):
            k, _, v = line.partition(":")
            env[k.strip()] = v.strip()
    return env


def read_layout(path):
    """Hot regions as a set of page ranges [(first, end)), and page size."""
    bs = ps = 0
    regions = []
    for line in open(path):
        if line.startswith("# block_size="):
            kv = dict(w.split("=") for w in line[2:].split())
            bs, ps = int(kv["block_size"]), int(kv["page_size"])
        elif not line.startswith("#") and line.strip():
            _, first, n = map(int, line.split())
            regions.append((first, n))
    ppb = bs // ps
    return [(f * ppb, (f + n) * ppb) for f, n in regions], ps


def overlap(a, b):
    """Pages in both sorted range lists (lists of [start, end))."""
    i = j = n = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo < hi:
            n += hi - lo
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return n


def dump_quality(out, layout, datafile):
    """Per repetition: data-file pages in the dump, share of them in the hot
    regions (precision), share of the hot regions in the dump (recall)."""
    res = {}
    hot, _ = layout
    nhot = sum(e - s for s, e in hot)
    for path in glob.glob(os.path.join(out, "dump-*.json")):
        rep = int(os.path.basename(path)[5:-5])
        d = json.load(open(path))
        ranges = []
        other = 0
        for f in d["files"]:
            if f["path"] == datafile:
                ranges = [(r["start"], r["start"] + r["pages"]) for r in f["ranges"]]
            else:
                other += f["pages"]
        n = sum(e - s for s, e in ranges)
        both = overlap(ranges, hot)
        res[rep] = dict(pages=n, other=other, nfiles=len(d["files"]),
                        precision=both / n if n else None,
                        recall=both / nhot if nhot else None)
    return res


def timeline(path):
    rows = read_csv(path)
    return [r["t_s"] for r in rows], [r["bytes"] / MIB for r in rows]


def interp(ts, ys, t):
    if not ts or t <= ts[0]:
        return ys[0] * t / ts[0] if ts and ts[0] > 0 else 0.0
    for k in range(1, len(ts)):
        if t <= ts[k]:
            a = (t - ts[k - 1]) / (ts[k] - ts[k - 1]) if ts[k] > ts[k - 1] else 1
            return ys[k - 1] + a * (ys[k] - ys[k - 1])
    return ys[-1]


def case_stats(rows, out, p, T):
    """Medians of one case's repetitions."""
    b = [r["reader_bytes"] for r in rows]
    # Bytes read by T seconds after the prefetch started: for hot-before the
    # reader had only T - prefetch time of them.
    incl = []
    for r in rows:
        w = r["prefetch_wall_s"] if r["case"] == "hot-before" else None
        if w:
            path = os.path.join(out, "timeline", f"{p}-{r['case']}-{r['rep']}.csv")
            ts, ys = timeline(path)
            incl.append(interp(ts, ys, max(0.0, T - w)) * MIB)
        else:
            incl.append(r["reader_bytes"])
    return dict(
        bytes=med(b), lo=min(b), hi=max(b), incl=med(incl),
        hit=med([r["hit_pages"] / r["pages"] for r in rows if r["pages"]]),
        hot_hit=med([r["hot_hit_pages"] / (r["pages"] / r["reader_reads"] * r["hot_reads"])
                     for r in rows if r["hot_reads"]]),
        rdisk=med([r["reader_disk_bytes"] for r in rows]),
        pdisk=med([r["prefetch_disk_bytes"] for r in rows]),
        done=sum(r["prefetch_done"] or 0 for r in rows),
        has_pf=any(r["prefetch_done"] is not None for r in rows),
        pwall=med([r["prefetch_wall_s"] for r in rows]),
        resident=med([r["resident_pages"] for r in rows]),
        first=med([r.get("first_read_ms") for r in rows if r.get("first_read_ms") is not None]),
        n=len(rows))


def profile_table(md, stat, cases, T):
    base = stat.get("none", {}).get("bytes")
    md.append("| case | read in T (MiB) | min–max | vs none | from prefetch start | hit | hot-block hit "
              "| reader disk (MiB) | prefetch disk (MiB) | prefetch s | done | cached (MiB) "
              "| first read ms |")
    md.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for c in cases:
        s = stat[c]
        ratio = s["bytes"] / base if base else None
        incl = s["incl"] / base if base else None
        done = f"{s['done']}/{s['n']}" if s["has_pf"] else "–"
        md.append(f"| {c} | {fmt(s['bytes'] / MIB)} | {fmt(s['lo'] / MIB)}–{fmt(s['hi'] / MIB)} "
                  f"| **{fmt(ratio, '.2f')}x** | {fmt(incl, '.2f')}x | {fmt(100 * s['hit'], '.1f')}% "
                  f"| {fmt(100 * s['hot_hit'] if s['hot_hit'] is not None else None, '.1f')}% "
                  f"| {fmt(s['rdisk'] / MIB)} | {fmt(s['pdisk'] / MIB)} "
                  f"| {fmt(s['pwall'], '.1f')} | {done} "
                  f"| {fmt(s['resident'] * 4096 / MIB if s['resident'] is not None else None)} "
                  f"| {fmt(s['first'], '.1f')} |")
    md.append("")


def plot_timeline(out, p, stat, cases, reps, T, env):
    fig, ax = plt.subplots(figsize=(8, 5))
    grid = [k * 0.1 for k in range(int(T * 10) + 1)]
    for c in cases:
        curves = []
        for rep in reps:
            path = os.path.join(out, "timeline", f"{p}-{c}-{rep}.csv")
            if not os.path.exists(path):
                continue
            ts, ys = timeline(path)
            ax.plot(ts, ys, color=COLOR.get(c), alpha=0.25, linewidth=0.8)
            curves.append([interp(ts, ys, t) for t in grid])
        if curves:
            m = [statistics.median(v) for v in zip(*curves)]
            lab = LABEL.get(c, c)
            if c == "hot-before" and stat[c]["pwall"] is not None:
                lab += f" (+{stat[c]['pwall']:.1f} s before t=0)"
            ax.plot(grid, m, color=COLOR.get(c), linewidth=2, label=lab)
    ax.set_xlabel("seconds since the reader resumed at the destination")
    ax.set_ylabel("MiB read by the reader (cumulative)")
    rate = " ".join(env.get("throttle", "").split()[2:4])
    ax.set_title(f"{p}: {PROFILE.get(p, p)}, {rate}\n(median of {len(reps)} runs; thin: each run)",
                 fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(os.path.join(out, f"timeline-{p}.png"), dpi=110)
    plt.close(fig)


def plot_totals(out, p, stat, cases, T):
    base = stat.get("none", {}).get("bytes")
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.5))
    xs = list(range(len(cases)))
    vals = [stat[c]["bytes"] / MIB for c in cases]
    err = [[stat[c]["bytes"] / MIB - stat[c]["lo"] / MIB for c in cases],
           [stat[c]["hi"] / MIB - stat[c]["bytes"] / MIB for c in cases]]
    bars = a1.bar(xs, vals, yerr=err, capsize=4, color=[COLOR.get(c) for c in cases])
    for b, c in zip(bars, cases):
        if base:
            a1.annotate(f"{stat[c]['bytes'] / base:.2f}x",
                        (b.get_x() + b.get_width() / 2, b.get_height()),
                        ha="center", va="bottom", fontsize=8, xytext=(0, 3),
                        textcoords="offset points")
    a1.set_xticks(xs, cases, rotation=20)
    a1.set_ylabel(f"MiB read by the reader in {T} s")
    a1.set_title(f"{p}: data read after migration (median, min–max)", fontsize=10)
    a1.grid(axis="y", alpha=0.3)
    rd = [stat[c]["rdisk"] / MIB for c in cases]
    pd = [stat[c]["pdisk"] / MIB for c in cases]
    a2.bar(xs, rd, color="tab:gray", label="reader")
    a2.bar(xs, pd, bottom=rd, color="tab:green", label="prefetcher")
    a2.set_xticks(xs, cases, rotation=20)
    a2.set_ylabel("MiB read from storage (median)")
    a2.set_title(f"{p}: storage reads during the case", fontsize=10)
    a2.legend(fontsize=8)
    a2.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(out, f"totals-{p}.png"), dpi=110)
    plt.close(fig)


def plot_disk(out, p, cases, rep):
    n = len(cases)
    cols = min(3, n)
    nrows = (n + cols - 1) // cols
    fig, axs = plt.subplots(nrows, cols, figsize=(4 * cols, 3 * nrows), squeeze=False, sharey=True)
    for k, c in enumerate(cases):
        ax = axs[k // cols][k % cols]
        path = os.path.join(out, "iotl", f"{p}-{c}-{rep}.csv")
        rows = read_csv(path) if os.path.exists(path) else []
        if rows:
            r0, p0 = rows[0]["reader_rbytes"], rows[0]["prefetch_rbytes"]
            ts = [r["t_s"] for r in rows]
            ax.plot(ts, [(r["reader_rbytes"] - r0) / MIB for r in rows],
                    label="reader", color="tab:gray")
            ax.plot(ts, [(r["prefetch_rbytes"] - p0) / MIB for r in rows],
                    label="prefetcher", color="tab:green")
        ax.set_title(f"{p}: {c}", fontsize=9)
        ax.grid(alpha=0.3)
        if k % cols == 0:
            ax.set_ylabel("MiB read from storage")
        if k // cols == nrows - 1:
            ax.set_xlabel("s since the case started")
        if k == 0:
            ax.legend(fontsize=8)
    for k in range(n, nrows * cols):
        axs[k // cols][k % cols].axis("off")
    fig.tight_layout()
    fig.savefig(os.path.join(out, f"disk-{p}.png"), dpi=110)
    plt.close(fig)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    runs = read_csv(os.path.join(out, "runs.csv"))
    dumps = read_csv(os.path.join(out, "dumps.csv"))
    env = read_env(os.path.join(out, "env.txt"))
    host = read_env(os.path.join(out, "host.txt"))
    if not runs:
        sys.exit("plot.py: no runs in runs.csv")
    profiles = list(dict.fromkeys(r["profile"] for r in runs))
    cases = [c for c in ORDER if any(r["case"] == c for r in runs)]
    cases += sorted({r["case"] for r in runs} - set(cases))
    T = runs[0]["T_s"]
    reps = sorted({r["rep"] for r in runs})
    datafile = env.get("file", "").split(",")[0].strip()
    quality = dump_quality(out, read_layout(os.path.join(out, "layout.txt")), datafile)

    stats = {}
    for p in profiles:
        stats[p] = {c: case_stats([r for r in runs if r["profile"] == p and r["case"] == c],
                                  out, p, T)
                    for c in cases if any(r["profile"] == p and r["case"] == c for r in runs)}

    md = ["# Page-cache carry-over after migration: results\n"]
    md.append(f"Reader: `hcreader {env.get('reader', '?')}`; file {env.get('file', '?')}; "
              f"storage: {env.get('throttle', '?')}; profiles {env.get('profiles', '?')}; "
              f"{env.get('settings', '')}.")
    md.append(f"Guest: kernel {env.get('kernel', '?')}, {env.get('cpus', '?')} vCPUs (QEMU TCG), "
              f"lru_gen {env.get('lru_gen', '?')}; disk {env.get('disk', '?')}. "
              f"Host: {host.get('host', '?')}; other QEMU guests at start/end: "
              f"{host.get('other QEMU guests at start', '?')}/"
              f"{host.get('other QEMU guests at end', '?')}, during the run: "
              f"{host.get('other QEMU guests during the run', '?')} (they compete for the "
              "host's CPUs: see the README).\n")
    md.append("Summary: median MiB read by the reader in the T seconds after it resumed, "
              "and the ratio to no prefetch.\n")
    md.append("| case | " + " | ".join(f"{p}: MiB | {p}: vs none" for p in profiles) + " |")
    md.append("|---|" + "--:|--:|" * len(profiles))
    for c in cases:
        cells = []
        for p in profiles:
            s = stats[p].get(c)
            base = stats[p].get("none", {}).get("bytes")
            cells.append(f"{fmt(s['bytes'] / MIB) if s else '–'} | "
                         f"{fmt(s['bytes'] / base, '.2f') + 'x' if s and base else '–'}")
        md.append(f"| {c} | " + " | ".join(cells) + " |")
    md.append("")
    md.append(f"Columns of the tables below (medians over {len(reps)} repetitions; the reader "
              f"runs T = {T} s after the caches are dropped): *vs none*: bytes read / bytes "
              "read without prefetch. *from prefetch start*: the same, counting T from the "
              "start of the prefetch (differs for hot-before only: its reader had T minus the "
              "prefetch time). *hit*: share of the pages the reader asked for that were cached "
              "before its read (mincore); *hot-block hit*: the same for its reads of hot "
              "blocks. *disk*: bytes read from the device by the reader's and by the "
              "prefetcher's cgroup during the case (io.stat). *prefetch s*: the "
              "prefetcher's wall time, when it finished (for hot-before before the reader "
              "started); *done*: repetitions in which it finished before the reader's T "
              "was over (else it was killed then). *cached*: the file's pages in the page "
              "cache at the end.\n")
    for p in profiles:
        md.append(f"## {p}: {PROFILE.get(p, p)}\n")
        profile_table(md, stats[p], [c for c in cases if c in stats[p]], T)
        st = stats[p]
        if "hot" in st and "whole" in st and st["hot"]["pdisk"]:
            md.append(f"In the same T, the whole-file prefetch read "
                      f"{st['whole']['pdisk'] / st['hot']['pdisk']:.1f}x the bytes of the "
                      "hot-set prefetch from storage.\n")
        md.append(f"Plots: `timeline-{p}.png`, `totals-{p}.png`, `disk-{p}.png`.\n")
    md.append("## The dumps\n")
    md.append("At the source, one per repetition: the reader stopped itself (like a CRIU "
              "freeze), then `hotcache dump --pid --sync`. *precision*: share of the dumped "
              "pages of the data file that lie in its hot regions; *recall*: share of the hot "
              "regions' pages that the dump lists.\n")
    md.append("| rep | dump time (ms) | dump size (B) | hot pages | hot (MiB) | cached at source (MiB) "
              "| precision | recall | other files |")
    md.append("|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for d in dumps:
        q = quality.get(d["rep"], {})
        md.append(f"| {d['rep']} | {d['dump_s'] * 1000:.0f} | {d['dump_bytes']} | {d['hot_pages']} "
                  f"| {d['hot_pages'] * 4096 / MIB:.1f} | {d['cached_pages'] * 4096 / MIB:.1f} "
                  f"| {fmt(100 * q['precision'] if q.get('precision') is not None else None, '.1f')}% "
                  f"| {fmt(100 * q['recall'] if q.get('recall') is not None else None, '.1f')}% "
                  f"| {q.get('nfiles', 1) - 1} files, {q.get('other', 0)} pages |")
    md.append("")
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write("\n".join(md))

    for p in profiles:
        pc = [c for c in cases if c in stats[p]]
        plot_timeline(out, p, stats[p], pc, reps, T, env)
        plot_totals(out, p, stats[p], pc, T)
        plot_disk(out, p, pc, reps[0])
    print(open(os.path.join(out, "results.md")).read())


if __name__ == "__main__":
    main()
