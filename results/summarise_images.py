"""Tables and the Figure 3 plot of results/images_experiment.py's runs.

  python results/summarise_images.py ROOT --png=results/images_figure3.png \
      --json=results/images.json

Prints (markdown) the toy table (mean ± std over seeds of the last
evaluation), the digits Figure 3 table (final classifier IS/FID) and the
Table 5 analogue: for each objective the collapse rate, the mean and the
best final classifier IS over the trials, then one row per trial.

Collapse (Wu et al. 2020, Table 5: "the average discriminator loss over 2000
batches is below 1e-20 or above 1 − 1e-20") is read here as: over the last
half of the logged steps, the mean of sigmoid(D's mean score) on real or on
generated samples leaves [1e-20, 1 − 1e-20] (|score| > 46), or the run
stopped on non-finite losses. Runs this short rarely saturate that far, so a
quality criterion is reported beside it: final classifier IS below
`--is_collapse` (a generator covering about one digit class scores ≈ 1).
"""
import argparse
import collections
import glob
import json
import os
import re

import numpy as np

from ppogan_jax import logs

SATURATION = 1e-20


def evaluations(workdir: str) -> list[dict]:
  return [r for r in logs.read_metrics(workdir) if "eval/classifier_is" in r
          or "eval/modes_covered" in r]


def group_runs(part_dir: str) -> dict[str, list[str]]:
  groups = collections.defaultdict(list)
  for workdir in sorted(glob.glob(os.path.join(part_dir, "*_seed*"))):
    if os.path.isdir(workdir):
      groups[re.sub(r"_seed\d+$", "", os.path.basename(workdir))].append(
          workdir)
  return groups


def mean_std(values: list[float]) -> str:
  return f"{np.mean(values):.3f} ± {np.std(values):.3f}"


def final_table(part_dir: str, metrics: tuple[str, ...]) -> None:
  """One row per group: seeds, step, mean ± std of the last evaluation."""
  print("| objective | seeds | step | " + " | ".join(metrics)
        + " | wall s/run |")
  print("|---" * (4 + len(metrics)) + "|")
  for name, workdirs in group_runs(part_dir).items():
    last = [evaluations(w)[-1] for w in workdirs if evaluations(w)]
    if not last:
      continue
    walls = [logs.compute_seconds(logs.read_metrics(w)) for w in workdirs]
    cells = [mean_std([r[f"eval/{m}"] for r in last]) for m in metrics]
    print(f"| {name} | {len(last)} | {last[0]['step']} | "
          + " | ".join(cells) + f" | {np.mean(walls):.0f} |")


def run_records(part_dir: str, part: str) -> list[dict]:
  """One record per finished run of a toy or figure3 part: part, objective,
  seed, n_gen, step and metrics of the last evaluation, the evaluation
  curve, and the training loop's wall seconds."""
  records = []
  for name, workdirs in group_runs(part_dir).items():
    for workdir in workdirs:
      evals = evaluations(workdir)
      if not evals:
        continue
      with open(os.path.join(workdir, "config.json")) as f:
        config = json.load(f)
      records.append({
          "part": part, "objective": name, "seed": config["seed"],
          "n_gen": config["n_gen"], "step": evals[-1]["step"],
          "metrics": {k[len("eval/"):]: v for k, v in evals[-1].items()
                      if k.startswith("eval/")},
          "curve": [{"step": r["step"], **{k[len("eval/"):]: v
                                           for k, v in r.items()
                                           if k.startswith("eval/")}}
                    for r in evals],
          "wall_s": logs.compute_seconds(logs.read_metrics(workdir))})
  return records


def figure3_plot(part_dir: str, png: str) -> None:
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt
  fig, ax = plt.subplots(figsize=(6, 4))
  for name, workdirs in group_runs(part_dir).items():
    curves = [[(r["step"], r["eval/classifier_is"]) for r in evaluations(w)]
              for w in workdirs]
    length = min(len(c) for c in curves)
    if not length:
      continue
    steps = [s for s, _ in curves[0][:length]]
    values = np.array([[v for _, v in c[:length]] for c in curves])
    ax.plot(steps, values.mean(0), marker="o", label=f"{name} ({len(curves)})")
    ax.fill_between(steps, values.min(0), values.max(0), alpha=0.2)
  ax.set_xlabel("outer iteration (5 critic steps, then n_gen generator steps)")
  ax.set_ylabel("classifier IS (digits)")
  ax.legend()
  fig.tight_layout()
  fig.savefig(png, dpi=120)
  print(f"\nwrote {png}")


def saturated(workdir: str) -> bool:
  """The paper's collapse criterion, as read in the module docstring."""
  if os.path.exists(workdir + ".failed"):
    return True
  train = [r for r in logs.read_metrics(workdir) if "critic/real_score" in r]
  late = train[len(train) // 2:]
  for key in ("critic/real_score", "critic/fake_score"):
    p = np.mean([1 / (1 + np.exp(-np.clip(r[key], -500, 500))) for r in late])
    if not SATURATION <= p <= 1 - SATURATION:
      return True
  return False


def table5(part_dir: str, is_collapse: float) -> None:
  trials = collections.defaultdict(dict)
  for workdir in sorted(glob.glob(os.path.join(part_dir, "trial*_seed0"))):
    if not os.path.isdir(workdir):
      continue
    trial, objective = re.match(r"(trial\d+)_(.+)_seed0$",
                                os.path.basename(workdir)).groups()
    failed = os.path.exists(workdir + ".failed")
    evals = [] if failed else evaluations(workdir)
    if not (failed or evals):
      continue  # still training
    with open(os.path.join(workdir, "config.json")) as f:
      config = json.load(f)
    trials[trial][objective] = dict(
        saturated=saturated(workdir),
        score=evals[-1]["eval/classifier_is"] if evals else float("nan"),
        config=config)
  objectives = sorted({o for t in trials.values() for o in t})
  print(f"\n| objective | trials | collapse (paper's criterion) | "
        f"collapse (IS < {is_collapse}) | avg IS | best IS |")
  print("|---|---|---|---|---|---|")
  for objective in objectives:
    runs = [t[objective] for t in trials.values() if objective in t]
    scores = np.array([r["score"] for r in runs])
    finite = scores[np.isfinite(scores)]
    low = np.mean([not (s >= is_collapse) for s in scores])
    print(f"| {objective} | {len(runs)} | "
          f"{np.mean([r['saturated'] for r in runs]):.2f} | {low:.2f} | "
          f"{finite.mean():.3f} | {finite.max():.3f} |")
  print("\n| trial | lr | batch | activation | filters | "
        + " | ".join(f"IS {o}" for o in objectives) + " |")
  print("|---" * (5 + len(objectives)) + "|")
  for trial, runs in sorted(trials.items()):
    c = next(iter(runs.values()))["config"]
    cells = [f"{runs[o]['score']:.3f}" + (" (sat.)" if runs[o]["saturated"]
                                          else "")
             if o in runs else "" for o in objectives]
    print(f"| {trial} | {c['optimizer']['generator']['learning_rate']:.2e} | "
          f"{c['batch_size']} | {c['model']['generator_activation']} | "
          f"{c['model']['generator_filters']} | " + " | ".join(cells) + " |")


def main() -> None:
  p = argparse.ArgumentParser(description=__doc__)
  p.add_argument("root")
  p.add_argument("--png", default="")
  p.add_argument("--is_collapse", type=float, default=2.0)
  p.add_argument("--json", default="",
                 help="write the toy and figure3 runs' records here")
  args = p.parse_args()
  records = []
  toy = os.path.join(args.root, "toy")
  if os.path.isdir(toy):
    print("## toy\n")
    final_table(toy, ("sliced_wasserstein", "modes_covered",
                      "high_quality_fraction"))
    records += run_records(toy, "toy")
  figure3 = os.path.join(args.root, "figure3")
  if os.path.isdir(figure3):
    print("\n## figure3\n")
    final_table(figure3, ("classifier_is", "classifier_fid"))
    records += run_records(figure3, "figure3")
    if args.png:
      figure3_plot(figure3, args.png)
  if args.json:
    with open(args.json, "w") as f:
      json.dump(records, f, indent=1)
    print(f"\nwrote {len(records)} records to {args.json}")
  table = os.path.join(args.root, "table5")
  if os.path.isdir(table):
    print("\n## table5")
    table5(table, args.is_collapse)


if __name__ == "__main__":
  main()
