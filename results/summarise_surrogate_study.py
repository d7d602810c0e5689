"""Tables, JSON records and learning curves of a surrogate study.

  python results/summarise_surrogate_study.py ROOT --out=results/surrogate_study

  python results/summarise_surrogate_study.py NEW_ROOT \
      --previous=results/surrogate_study.json --out=results/surrogate_study \
      --plot=results/surrogate_study_slow_classifier_curves.png

ROOT is a `results/surrogate_study.py` root (ROOT/<task>/<row>_seed<k>).
Writes OUT.json (one record per run: task, row, objective, options, seed,
step, final metrics, evaluation curve, PPO diagnostics, wall seconds), a plot
(default OUT_curves.png: the quality metric against iteration, mean over
seeds, of the runs that have curves) and prints one markdown table per task:
the final metrics as mean ± std over seeds, and the PPO diagnostics averaged
over each run's logged steps. `--previous` adds the records of an earlier
OUT.json whose runs are not under ROOT, so a study continued on a machine
without the earlier workdirs keeps its earlier rows.
"""
import argparse
import collections
import json
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from ppogan_jax import logs  # pylint: disable=wrong-import-position
from results import surrogate_study  # pylint: disable=wrong-import-position

QUALITY = {"8gaussians": "sliced_wasserstein", "25gaussians":
           "sliced_wasserstein", "digits": "classifier_is"}
FINAL = {"8gaussians": ("sliced_wasserstein", "modes_covered"),
         "25gaussians": ("sliced_wasserstein", "modes_covered"),
         "digits": ("classifier_is", "classifier_fid")}
DIAGNOSTICS = ("ppo/ratio_mean", "ppo/first_step_ratio_mean",
               "ppo/clip_fraction", "ppo/clip_binding_fraction",
               "ppo/advantage_positive_fraction", "ppo/approx_kl")
RUN_NAME = re.compile(r"^(?P<row>.+)_seed(?P<seed>\d+)$")


def read_run(workdir: str) -> dict:
  """One run's record from its metrics.jsonl and config.json."""
  records = logs.read_metrics(workdir)
  with open(os.path.join(workdir, "config.json")) as f:
    config = json.load(f)
  evals = [r for r in records if any(k.startswith("eval/") for k in r)]
  curve = [(r["step"], {k[5:]: v for k, v in r.items()
                        if k.startswith("eval/")}) for r in evals]
  train = [r for r in records if "critic/loss" in r]
  diagnostics = {k: float(np.mean([r[k] for r in train if k in r]))
                 for k in DIAGNOSTICS if any(k in r for r in train)}
  return {"step": curve[-1][0] if curve else 0,
          "metrics": curve[-1][1] if curve else {},
          "curve": curve, "diagnostics": diagnostics,
          "wall_s": logs.compute_seconds(records),
          "objective": config["objective"], "n_gen": config["n_gen"],
          "surrogate": config["surrogate"], "epsilon": config["epsilon"],
          "classifier_learning_rate":
              config["optimizer"]["classifier"]["learning_rate"]}


def collect(root: str) -> list[dict]:
  runs = []
  for task in sorted(os.listdir(root)):
    task_dir = os.path.join(root, task)
    if task not in surrogate_study.TASKS or not os.path.isdir(task_dir):
      continue
    for name in sorted(os.listdir(task_dir)):
      match = RUN_NAME.match(name)
      path = os.path.join(task_dir, name)
      if not match or not os.path.exists(os.path.join(path, "config.json")):
        continue
      run = read_run(path)
      if run["step"] == 0:
        continue
      runs.append({"task": task, "row": match["row"],
                   "seed": int(match["seed"]), **run,
                   "quality_mean_over_evals": curve_mean(run, QUALITY[task])})
  return runs


def curve_mean(run: dict, metric: str) -> float:
  """The mean of `metric` over a run's evaluations: a measure of how fast it
  trains, since early evaluations count as much as the last."""
  return float(np.mean([m[metric] for _, m in run["curve"] if metric in m]))


def _cell(values: list[float]) -> str:
  if not values:
    return ""
  return f"{np.mean(values):.3f} ± {np.std(values):.3f}"


def table(runs: list[dict], task: str) -> str:
  rows = collections.OrderedDict()
  for run in runs:
    if run["task"] == task:
      rows.setdefault(run["row"], []).append(run)
  finals = FINAL[task]
  quality = QUALITY[task]
  header = (["row", "seeds", "step"] + list(finals) + [f"{quality} (mean over evals)"]
            + [k.split("/")[1] for k in DIAGNOSTICS] + ["wall (min)"])
  lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
  order = [r for r in surrogate_study.ROWS if r in rows]
  for row in order:
    group = rows[row]
    cells = [row, str(len(group)),
             ",".join(sorted({str(r["step"]) for r in group}))]
    cells += [_cell([r["metrics"][k] for r in group if k in r["metrics"]])
              for k in finals]
    cells.append(_cell([r["quality_mean_over_evals"] for r in group]))
    for k in DIAGNOSTICS:
      values = [r["diagnostics"][k] for r in group if k in r["diagnostics"]]
      cells.append(f"{np.mean(values):.3f}" if values else "")
    cells.append(f"{np.mean([r['wall_s'] for r in group]) / 60:.1f}")
    lines.append("| " + " | ".join(cells) + " |")
  return "\n".join(lines)


def plot(runs: list[dict], path: str) -> None:
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  tasks = [t for t in QUALITY
           if any(r["task"] == t and r.get("curve") for r in runs)]
  fig, axes = plt.subplots(1, len(tasks), figsize=(5.5 * len(tasks), 4),
                           squeeze=False)
  for ax, task in zip(axes[0], tasks):
    metric = QUALITY[task]
    by_row = collections.defaultdict(list)
    for run in runs:
      if run["task"] == task and run.get("curve"):
        by_row[run["row"]].append(dict(
            (s, m[metric]) for s, m in run["curve"] if metric in m))
    for row in [r for r in surrogate_study.ROWS if r in by_row]:
      curves = by_row[row]
      steps = sorted(set.intersection(*(set(c) for c in curves)))
      mean = [np.mean([c[s] for c in curves]) for s in steps]
      ax.plot(steps, mean, label=f"{row} ({len(curves)})",
              linestyle="-" if "clip" in row or "ppogan" in row else "--")
    ax.set_title(f"{task}: {metric} (mean over seeds)", fontsize=9)
    ax.set_xlabel("outer iteration")
    if metric == "sliced_wasserstein":
      ax.set_yscale("log")
    ax.legend(fontsize=6)
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)


def main() -> None:
  p = argparse.ArgumentParser(description=__doc__,
                              formatter_class=argparse.RawTextHelpFormatter)
  p.add_argument("root")
  p.add_argument("--out", default="")
  p.add_argument("--previous", default="",
                 help="an earlier OUT.json whose other runs to keep")
  p.add_argument("--plot", default="",
                 help="the plot's path (default OUT_curves.png)")
  args = p.parse_args()
  runs = collect(args.root)
  if args.previous:
    runs = logs.with_previous_records(
        runs, args.previous, lambda r: (r["task"], r["row"], r["seed"]))
  for task in QUALITY:
    if any(r["task"] == task for r in runs):
      print(f"\n### {task}\n\n{table(runs, task)}")
  if args.out:
    with open(args.out + ".json", "w") as f:
      json.dump(runs, f, indent=1)
    plot(runs, args.plot or args.out + "_curves.png")


if __name__ == "__main__":
  main()
