#!/usr/bin/python3
"""Resident memory of running processes over time (issue 10, point 6): samples VmRSS from
/proc/PID/status every --every seconds into a CSV, then prints per process the start, peak and
end RSS and the slope after warm-up, an ASCII curve, and (with matplotlib) a PNG.

    scripts/rss_curve.py sample --out rss.csv [--every 2] [--duration S] NAME=PID|NAME=/REGEX/ ...
    scripts/rss_curve.py report rss.csv [--warmup-frac 0.25] [--png rss.png]

NAME=/REGEX/ follows the newest process whose command line (NUL bytes as spaces) matches REGEX
and that is not this script, e.g. featurize='/Moments featurize/'. A process that is not there
yet is waited for; one that has exited stops being sampled; sampling ends when every process has
exited, after --duration seconds, or on Ctrl-C / SIGTERM. CSV columns: t_s (seconds since the
start), name, pid, rss_kb, and for JVMs nothing more (heap vs native: use jcmd PID GC.heap_info
and, with -XX:NativeMemoryTracking=summary, jcmd PID VM.native_memory summary).

The slope is a least-squares line through the samples after the first --warmup-frac of each
process's sampled time, in MB per minute and as MB per hour of run time.
"""
import argparse
import csv
import os
import re
import signal
import sys
import time


def rss_kb(pid):
  try:
    with open("/proc/%d/status" % pid) as f:
      for line in f:
        if line.startswith("VmRSS:"):
          return int(line.split()[1])
  except OSError:
    return None
  return None


def find(regex):
  me = os.getpid()
  best = None
  for d in os.listdir("/proc"):
    if not d.isdigit() or int(d) == me:
      continue
    try:
      with open("/proc/%s/cmdline" % d, "rb") as f:
        cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
      continue
    if "rss_curve.py" in cmd or not regex.search(cmd):
      continue
    if best is None or int(d) > best:
      best = int(d)
  return best


def sample(args):
  targets = []
  for spec in args.targets:
    name, _, what = spec.partition("=")
    if not name or not what:
      sys.exit("rss_curve: expected NAME=PID or NAME=/REGEX/, got " + spec)
    if what.startswith("/") and what.endswith("/") and len(what) > 1:
      targets.append({"name": name, "regex": re.compile(what[1:-1]), "pid": None, "done": False})
    else:
      targets.append({"name": name, "regex": None, "pid": int(what), "done": False})
  stop = []
  signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
  t0 = time.monotonic()
  with open(args.out, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["t_s", "name", "pid", "rss_kb"])
    try:
      while not stop:
        t = time.monotonic() - t0
        for tg in targets:
          if tg["done"]:
            continue
          if tg["pid"] is None:
            tg["pid"] = find(tg["regex"])
            if tg["pid"] is None:
              continue
          kb = rss_kb(tg["pid"])
          if kb is None:
            tg["done"] = True
            continue
          w.writerow(["%.1f" % t, tg["name"], tg["pid"], kb])
        f.flush()
        if all(tg["done"] for tg in targets):
          break
        if args.duration and t >= args.duration:
          break
        time.sleep(max(0.0, args.every - (time.monotonic() - t0 - t)))
    except KeyboardInterrupt:
      pass


def slope(points):
  n = len(points)
  if n < 2:
    return float("nan")
  mx = sum(p[0] for p in points) / n
  my = sum(p[1] for p in points) / n
  sxx = sum((p[0] - mx) ** 2 for p in points)
  return float("nan") if sxx == 0 else sum((p[0] - mx) * (p[1] - my) for p in points) / sxx


def report(args):
  series = {}
  with open(args.csv) as f:
    for row in csv.DictReader(f):
      series.setdefault(row["name"], []).append((float(row["t_s"]), int(row["rss_kb"]) / 1024.0))
  if not series:
    sys.exit("rss_curve: no samples in " + args.csv)
  print("%-12s %8s %9s %9s %9s %9s %14s %12s" % ("process", "samples", "start MB", "peak MB", "end MB",
                                               "span s", "slope MB/min", "(MB/hour)"))
  for name, pts in series.items():
    t_first, t_last = pts[0][0], pts[-1][0]
    after = [p for p in pts if p[0] >= t_first + args.warmup_frac * (t_last - t_first)]
    s = slope(after) * 60
    print("%-12s %8d %9.1f %9.1f %9.1f %9.0f %14.2f %12.1f" % (name, len(pts), pts[0][1], max(p[1] for p in pts),
                                                              pts[-1][1], t_last - t_first, s, s * 60))
  print("slope: least squares over the samples after the first %.0f %% of each process's span"
        % (100 * args.warmup_frac))
  # ASCII curve: one row per process, RSS over time in 60 columns, 8 levels between its min and max
  levels = " .:-=+*#"
  t_min = min(p[0] for pts in series.values() for p in pts)
  t_max = max(p[0] for pts in series.values() for p in pts)
  cols = 60
  print("\nRSS over time (%.0f s in %d columns; each row scaled from its min to its max MB):" % (t_max - t_min, cols))
  for name, pts in series.items():
    lo, hi = min(p[1] for p in pts), max(p[1] for p in pts)
    cells = [None] * cols
    for t, mb in pts:
      c = min(cols - 1, int((t - t_min) / max(1e-9, t_max - t_min) * cols))
      cells[c] = mb if cells[c] is None else max(cells[c], mb)
    line = "".join(" " if v is None else levels[min(len(levels) - 1, int((v - lo) / max(1e-9, hi - lo) * len(levels)))]
                   for v in cells)
    print("%-12s |%s| %.0f-%.0f MB" % (name, line, lo, hi))
  if args.png:
    try:
      import matplotlib
      matplotlib.use("Agg")
      import matplotlib.pyplot as plt
    except ImportError:
      print("no matplotlib: no PNG (install python3-matplotlib)")
      return
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for name, pts in series.items():
      ax.plot([p[0] / 60 for p in pts], [p[1] for p in pts], label=name)
    ax.set_xlabel("minutes since sampling started")
    ax.set_ylabel("RSS (MB)")
    ax.set_title(args.title or os.path.basename(args.csv))
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.png, dpi=100)
    print("wrote " + args.png)


def main():
  ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  sub = ap.add_subparsers(dest="cmd", required=True)
  s = sub.add_parser("sample")
  s.add_argument("--out", required=True)
  s.add_argument("--every", type=float, default=2.0)
  s.add_argument("--duration", type=float, default=0)
  s.add_argument("targets", nargs="+")
  r = sub.add_parser("report")
  r.add_argument("csv")
  r.add_argument("--warmup-frac", type=float, default=0.25)
  r.add_argument("--png")
  r.add_argument("--title")
  args = ap.parse_args()
  sample(args) if args.cmd == "sample" else report(args)


if __name__ == "__main__":
  main()
