"""Markdown table of the last evaluation of each run, grouped over seeds.

  python results/summarise_runs.py /tmp/toy/*_seed*

Run directories are named <group>_seed<k>; each holds the metrics.jsonl and
config.json that `ppogan_jax.main` writes. Prints mean ± std over seeds of
every eval/* metric at the last evaluated step, and the wall time of the runs.
"""
import collections
import os
import re
import sys

import numpy as np

from ppogan_jax import logs


def last_eval(workdir: str) -> tuple[int, dict[str, float]]:
  rows = [r for r in logs.read_metrics(workdir)
          if any(k.startswith("eval/") for k in r)]
  if not rows:
    raise ValueError(f"{workdir}: no evaluation in metrics.jsonl")
  last = rows[-1]
  return last["step"], {k[5:]: v for k, v in last.items()
                        if k.startswith("eval/")}


def main(workdirs: list[str]) -> None:
  groups = collections.defaultdict(list)
  for workdir in sorted(workdirs):
    name = re.sub(r"_seed\d+$", "", os.path.basename(workdir.rstrip("/")))
    groups[name].append(last_eval(workdir))
  metrics = sorted({k for runs in groups.values() for _, m in runs for k in m})
  print("| run | seeds | step | " + " | ".join(metrics) + " |")
  print("|---" * (3 + len(metrics)) + "|")
  for name, runs in groups.items():
    cells = []
    for k in metrics:
      values = np.array([m[k] for _, m in runs if k in m])
      cells.append(f"{values.mean():.3f} ± {values.std():.3f}")
    steps = sorted({s for s, _ in runs})
    print(f"| {name} | {len(runs)} | {','.join(map(str, steps))} | "
          + " | ".join(cells) + " |")


if __name__ == "__main__":
  main(sys.argv[1:])
