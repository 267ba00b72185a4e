#!/usr/bin/env python3
"""Ratio tables from the text criterion prints for benches/channels.rs.

    cargo bench -p weir-benches --bench channels -- '^spsc_' > spsc.txt
    python3 benches/ratios.py spsc.txt [more.txt ...]

For every group it prints the median time of each function and these ratios (below 1.00 weir
is ahead):
  weir / best async peer on its usual runtime (tokio)      -- the issue's goal 1
  weir / best async peer on weir's runtime                 -- the channels alone, one scheduler
  weir_on_tokio / best async peer on tokio                 -- the same on tokio's scheduler
  weir_blocking / best blocking peer (kanal_sync, crossbeam)
"""
import re
import sys

UNITS = {"ps": 1e-3, "ns": 1.0, "µs": 1e3, "us": 1e3, "ms": 1e6, "s": 1e9}
TIME = re.compile(r"time:\s+\[\S+ \S+ (\S+) (\S+) \S+ \S+\]")
ASYNC_PEERS = ["tokio_mpsc", "kanal", "flume", "async_channel"]
BLOCKING_PEERS = ["kanal_sync", "crossbeam"]


def medians(paths):
    out = {}
    for path in paths:
        name = None
        for line in open(path, encoding="utf-8"):
            line = line.rstrip("\n")
            m = TIME.search(line)
            if not m:
                if line.strip() and not line.startswith(" "):
                    name = line.split()[0]
                continue
            head = line[: m.start()].strip()
            if head:
                name = head.split()[0]
            if name and "/" in name:
                group, func = name.split("/", 1)
                out.setdefault(group, {})[func] = float(m.group(1)) * UNITS[m.group(2)]
            name = None
    return out


def fmt(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.2f} {unit}"
    return f"{ns:.2f} ns"


def best(times, names):
    found = [(times[n], n) for n in names if n in times]
    return min(found) if found else None


def ratio(times, mine, names):
    b = best(times, names)
    if mine not in times or b is None:
        return "—", "—"
    return f"{times[mine] / b[0]:.2f}", b[1]


def main():
    groups = medians(sys.argv[1:])
    cols = ["weir", "weir_on_tokio"]
    for p in ASYNC_PEERS:
        cols += [p, p + "_on_weir"]
    cols += ["weir_blocking"] + BLOCKING_PEERS
    present = [c for c in cols if any(c in t for t in groups.values())]
    print("| group | " + " | ".join(present) + " | weir / best peer on tokio | weir / best peer on weir | weir_on_tokio / best peer on tokio | weir_blocking / best blocking |")
    print("|---|" + "---:|" * len(present) + "---|---|---|---|")
    for group, times in groups.items():
        cells = [fmt(times[c]) if c in times else "—" for c in present]
        r1, b1 = ratio(times, "weir", ASYNC_PEERS)
        r2, b2 = ratio(times, "weir", [p + "_on_weir" for p in ASYNC_PEERS])
        r3, b3 = ratio(times, "weir_on_tokio", ASYNC_PEERS)
        r4, b4 = ratio(times, "weir_blocking", BLOCKING_PEERS)
        print(f"| {group} | " + " | ".join(cells)
              + f" | **{r1}** ({b1}) | {r2} ({b2}) | {r3} ({b3}) | {r4} ({b4}) |")


if __name__ == "__main__":
    main()
