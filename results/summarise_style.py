"""Table 4 / Figure 4 analogue from style-transfer workdirs.

  python results/summarise_style.py /work/runs/style/exp [--png=results/style_transfer_tradeoff.png]

Reads every ROOT/<run>/config.json and metrics.jsonl written by
`python -m ppogan_jax.main --config=configs/style_transfer_yelp.py ...`,
prints a markdown table with every evaluation of each run (reference-BLEU,
source-BLEU, style accuracy on the manual set; accuracy on held-out
sentences), its objective, λ_g, step and wall time, and plots style accuracy
against reference-BLEU: one line per run through its evaluations, starting
from the end of pre-training.
"""
import argparse
import json
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ppogan_jax import logs  # noqa: E402


METRICS = ("eval/bleu_ref", "eval/bleu_src", "eval/accuracy", "val/accuracy")


def read_run(workdir: str) -> dict | None:
  """The run's config fields and evaluations, or None if it has none."""
  try:
    with open(os.path.join(workdir, "config.json")) as f:
      config = json.load(f)
  except OSError:
    return None
  records = logs.read_metrics(workdir)
  evals = [r for r in records if "eval/bleu_ref" in r]
  if not evals:
    return None
  seconds = {r["step"]: r["elapsed_s"] for r in records if "generator/ae" in r}
  return {
      "name": os.path.basename(workdir.rstrip("/")),
      "objective": config["objective"],
      "lambda_g": config["schedule"]["lambda_g"],
      "evals": [{"step": r["step"], "seconds": seconds.get(r["step"]),
                 **{k: r[k] for k in METRICS}} for r in evals],
  }


def table(runs: list[dict]) -> str:
  lines = ["| run | objective | λ_g | step | ref-BLEU | src-BLEU | "
           "accuracy % | held-out acc. % | wall s (this invocation) |",
           "|---|---|---|---|---|---|---|---|---|"]
  for run in runs:
    for e in run["evals"]:
      lines.append(
          f"| {run['name']} | {run['objective']} | {run['lambda_g']:g} "
          f"| {e['step']} | {e['eval/bleu_ref']:.2f} "
          f"| {e['eval/bleu_src']:.2f} | {e['eval/accuracy']:.1f} "
          f"| {e['val/accuracy']:.1f} | {e['seconds'] or float('nan'):.0f} |")
  return "\n".join(lines)


def plot(runs: list[dict], path: str, start: str) -> None:
  """Accuracy vs ref-BLEU; every run's line starts at run `start`'s last
  evaluation (the shared pre-training checkpoint)."""
  first = [r for r in runs if r["name"] == start]
  origin = first[0]["evals"][-1:] if first else []
  fig, ax = plt.subplots(figsize=(6, 4.2))
  for run in runs:
    if run["name"] == start:
      continue
    points = origin + run["evals"]
    style = "o-" if run["objective"] in ("reweight", "reweight_only") else "s--"
    ax.plot([e["eval/accuracy"] for e in points],
            [e["eval/bleu_ref"] for e in points], style,
            label=f"{run['objective']}, λ_g={run['lambda_g']:g}")
    for e in run["evals"]:
      ax.annotate(str(e["step"]), (e["eval/accuracy"], e["eval/bleu_ref"]),
                  fontsize=6, xytext=(3, 3), textcoords="offset points")
  if origin:
    ax.plot(origin[0]["eval/accuracy"], origin[0]["eval/bleu_ref"], "k^",
            label=f"end of pre-training (step {origin[0]['step']})")
  ax.set_xlabel("style accuracy on the manual set (%)")
  ax.set_ylabel("BLEU vs human reference")
  ax.set_title("Yelp transfer, reduced CPU budget (labels: step)")
  ax.grid(alpha=0.3)
  ax.legend(fontsize=7)
  fig.tight_layout()
  fig.savefig(path, dpi=120)


def main():
  parser = argparse.ArgumentParser(description=__doc__)
  parser.add_argument("root")
  parser.add_argument("--png", default="")
  parser.add_argument("--start", default="pretrain",
                      help="the run the others start from")
  args = parser.parse_args()
  runs = sorted((r for name in os.listdir(args.root)
                 if (r := read_run(os.path.join(args.root, name)))),
                key=lambda r: (r["name"] != args.start, r["objective"],
                               r["lambda_g"]))
  print(table(runs))
  if args.png:
    plot(runs, args.png, args.start)
    print(f"wrote {args.png}")


if __name__ == "__main__":
  main()
