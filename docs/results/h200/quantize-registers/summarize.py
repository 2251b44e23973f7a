#!/usr/bin/env python3
"""Kernel time of one decode step from an Nsight Compute timeline CSV (scripts: the device call's
ncu --graph-profiling node --cache-control none --clock-control none --metrics gpu__time_duration.sum):
the kernels between two argmax launches, summed by name. Usage: summarize.py timeline.csv"""
import collections, csv, re, sys

rows = [l for l in open(sys.argv[1]) if l.startswith('"')]
seq = []
for r in csv.DictReader(rows):
    if r.get("Metric Name") != "gpu__time_duration.sum":
        continue
    v, unit = float(r["Metric Value"].replace(",", "")), r.get("Metric Unit", "")
    us = v / 1000 if unit in ("nsecond", "ns") else v if unit in ("usecond", "us") else v * 1000
    seq.append((re.sub(r"\(.*", "", r["Kernel Name"]), us))
marks = [i for i, (n, _) in enumerate(seq) if "argmax" in n]
step = seq[marks[0] + 1:marks[1] + 1]
total, count = collections.defaultdict(float), collections.Counter()
for n, us in step:
    total[n] += us
    count[n] += 1
S = sum(total.values())
print(f"one decode step: {len(step)} kernels, {S:.1f} us summed")
for n, us in sorted(total.items(), key=lambda x: -x[1]):
    print(f"  {us:9.1f} us {us / S * 100:5.1f} % x{count[n]:4d}  {n}")
