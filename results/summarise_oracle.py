"""Table 2 (synthetic oracle) from the runs of results/oracle_experiment.py.

  python results/summarise_oracle.py ROOT [--json=results/oracle.json]
      [--png=results/oracle_curves.png] [--previous=results/oracle.json]

Reads ROOT/L<length>/<objective>_seed<k>/metrics.jsonl (adversarial runs)
and the MLE pre-training metrics of each (length, seed) from the cache,
prints per length a markdown table in the layout of the paper's Table 2
(NLL_oracle and NLL_gen at each run's last evaluation, mean ± std over the
seeds that finished, the steps and the wall time per run), the oracle's NLL
of its own training data ("real data"), and writes one JSON record per row
and seed plus the learning curves. `--previous` keeps the records of an
earlier --json file for the runs that ROOT lacks (same model, length and
seed), so seeds run on different machines make one table.
"""
import argparse
import glob
import json
import os
import re
import statistics

import jax.numpy as jnp
import matplotlib
import ml_collections

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ppogan_jax import config_defaults  # noqa: E402
from ppogan_jax import logs  # noqa: E402
from ppogan_jax.data import oracle as oracle_data  # noqa: E402
from ppogan_jax.metrics import text as text_metrics  # noqa: E402
from ppogan_jax.models import oracle as oracle_models  # noqa: E402
from ppogan_jax.tasks import relgan_text  # noqa: E402

PAPER = {20: {"mle": 9.038, "rsgan": 6.680, "wgan_gp": 6.89, "ppogan": 5.67,
              "real": 5.750},
         40: {"mle": 10.411, "rsgan": 6.765, "wgan_gp": 6.78, "ppogan": 6.14,
              "real": 4.071}}
LABELS = {"mle": "MLE", "rsgan": "RelGAN (`rsgan`)",
          "wgan_gp": "WGAN-GP (`wgan_gp`)", "ppogan": "PPO-GAN (`ppogan`)"}
RUN = re.compile(r"L(\d+)/(\w+?)_seed(\d+)$")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def adversarial_record(workdir: str) -> dict | None:
  """The run's last evaluation, steps, wall time and curve; None before its
  first evaluation."""
  records = logs.read_metrics(workdir)
  evals = [r for r in records if "eval/nll_oracle" in r]
  if not evals:
    return None
  with open(os.path.join(workdir, "config.json")) as f:
    config = ml_collections.ConfigDict(json.load(f))
  return {"steps": evals[-1]["step"], "num_steps": config.num_steps,
          "nll_oracle": evals[-1]["eval/nll_oracle"],
          "nll_gen": evals[-1]["eval/nll_gen"],
          "wall_s": round(logs.compute_seconds(records)),
          "curve": [(r["step"], r["eval/nll_oracle"], r["eval/nll_gen"])
                    for r in evals]}


def mle_record(config: ml_collections.ConfigDict) -> dict | None:
  """The MLE generator's last evaluation, from its pre-training metrics
  (its steps are epochs)."""
  records = logs.read_metrics(relgan_text.pretrain_directory(config))
  if not records:
    return None
  last = records[-1]
  return {"steps": last["epoch"], "num_steps": config.pretrain.epochs,
          "nll_oracle": last["mle/nll_oracle"], "nll_gen": last["mle/nll_gen"],
          "wall_s": round(last["elapsed_s"]),
          "curve": [(r["epoch"], r["mle/nll_oracle"], r["mle/nll_gen"])
                    for r in records]}


def real_data_nll(config: ml_collections.ConfigDict) -> float:
  d = config.data
  oracle = oracle_models.OracleLSTM(vocab_size=d.vocab_size)
  params, data = oracle_data.make_oracle_dataset(
      d.cache_dir, oracle=oracle, sample_fn=oracle_models.sample_oracle,
      seed=d.oracle_seed, length=d.length, num_samples=d.num_samples)
  return float(text_metrics.oracle_nll(params, oracle, jnp.asarray(data)))


def pretrain_config(log_path: str) -> ml_collections.ConfigDict:
  """The config of a `--mode=pretrain` job, from the command line that
  results/oracle_experiment.py writes first in its log."""
  with open(log_path) as f:
    command = f.readline()
  flags = dict(re.findall(r"--([\w.]+)=(\S+)", command))
  config = config_defaults.load_config(
      os.path.join(REPO, flags["config"].split(":")[0]),
      flags["config"].split(":")[1])
  config.seed = int(flags["config.seed"])
  config.data.cache_dir = flags["config.data.cache_dir"]
  return config


def collect(root: str) -> list[dict]:
  """One record per (length, model, seed) that has evaluated."""
  out = []
  for workdir in sorted(glob.glob(os.path.join(root, "L*", "*_seed*"))):
    match = RUN.search(workdir)
    if not match or not os.path.isdir(workdir):
      continue
    length, model, seed = int(match[1]), match[2], int(match[3])
    record = adversarial_record(workdir)
    if record is not None:
      out.append({"model": model, "length": length, "seed": seed, **record})
  for log in sorted(glob.glob(os.path.join(root, "L*", "mle_seed*.log"))):
    config = pretrain_config(log)
    mle = mle_record(config)
    if mle is not None:
      out.append({"model": "mle", "length": config.data.length,
                  "seed": config.seed, **mle, "config": config})
  return out


def mean_std(values: list[float]) -> str:
  if len(values) == 1:
    return f"{values[0]:.3f}"
  return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def is_finished(record: dict) -> bool:
  return record["steps"] >= record["num_steps"]


def table(records: list[dict], length: int, real: float | None) -> str:
  """The markdown table of one length; `real`, the oracle's NLL of its
  training data, is known when ROOT has that length's MLE run."""
  lines = [f"| model (L={length}) | NLL_oracle | NLL_gen | seeds finished "
           "| steps | wall time per run | paper NLL_oracle |",
           "|---|---|---|---|---|---|---|"]
  for model, label in LABELS.items():
    rows = [r for r in records if r["length"] == length
            and r["model"] == model]
    done = [r for r in rows if is_finished(r)]
    partial = [r for r in rows if not is_finished(r)]
    unit = " epochs" if model == "mle" else ""
    if done:
      wall = statistics.mean(r["wall_s"] for r in done) / 60
      lines.append(
          f"| {label} | {mean_std([r['nll_oracle'] for r in done])} | "
          f"{mean_std([r['nll_gen'] for r in done])} | "
          f"{', '.join(str(r['seed']) for r in done)} | "
          f"{done[0]['num_steps']}{unit} | {wall:.0f} min | "
          f"{PAPER[length][model]} |")
    for r in partial:
      lines.append(
          f"| {label}, seed {r['seed']} (unfinished) | {r['nll_oracle']:.3f} "
          f"| {r['nll_gen']:.3f} | – | "
          f"{r['steps']} of {r['num_steps']}{unit} | "
          f"{r['wall_s'] / 60:.0f} min so far | {PAPER[length][model]} |")
  if real is not None:
    lines.append(f"| real data (oracle NLL of its training sentences) | "
                 f"{real:.3f} | | | | | {PAPER[length]['real']} |")
  return "\n".join(lines)


def paired_differences(records: list[dict], length: int) -> str:
  """PPO-GAN minus each baseline, seed by seed: the rows of one seed start
  from the same MLE generator, so the per-seed difference removes the
  spread of the start. Finished runs only."""
  def finished(model):
    return {r["seed"]: r for r in records
            if r["length"] == length and r["model"] == model
            and is_finished(r)}

  ppogan = finished("ppogan")
  lines = []
  for baseline in ("rsgan", "wgan_gp"):
    other = finished(baseline)
    seeds = sorted(set(ppogan) & set(other))
    if not seeds:
      continue
    parts = [
        f"{metric} " + mean_std([ppogan[s][metric] - other[s][metric]
                                 for s in seeds])
        for metric in ("nll_oracle", "nll_gen")]
    lines.append(f"- PPO-GAN − {LABELS[baseline]}, paired by seed "
                 f"({', '.join(map(str, seeds))}): {'; '.join(parts)}")
  return "\n".join(lines)


def plot(records: list[dict], path: str) -> None:
  lengths = sorted({r["length"] for r in records})
  fig, axes = plt.subplots(1, len(lengths), figsize=(6 * len(lengths), 4),
                           squeeze=False)
  colours = dict(zip(LABELS, ["gray", "tab:blue", "tab:orange", "tab:green"]))
  for ax, length in zip(axes[0], lengths):
    for r in records:
      if r["length"] != length or r["model"] == "mle":
        continue
      steps, values, _ = zip(*r["curve"])
      ax.plot(steps, values, "o-", ms=3, color=colours[r["model"]],
              label=r["model"] if r["seed"] == 0 else None)
    ax.axhline(PAPER[length]["ppogan"], color="tab:green", ls=":",
               label="paper PPO-GAN (3000 iterations)")
    ax.set(xlabel="adversarial iteration", ylabel="NLL_oracle",
           title=f"L={length}, CPU protocol, one line per seed")
    ax.legend()
  fig.tight_layout()
  fig.savefig(path, dpi=120)


def main():
  p = argparse.ArgumentParser(description=__doc__)
  p.add_argument("root")
  p.add_argument("--json", default="")
  p.add_argument("--png", default="")
  p.add_argument("--previous", default="")
  args = p.parse_args()
  records = collect(args.root)
  if args.previous:
    records = logs.with_previous_records(
        records, args.previous,
        lambda r: (r["model"], r["length"], r["seed"]))
  for length in sorted({r["length"] for r in records}):
    configs = [r["config"] for r in records
               if r["length"] == length and "config" in r]
    real = real_data_nll(configs[0]) if configs else None
    print(table(records, length, real), "\n")
    print(paired_differences(records, length), "\n")
  for r in records:
    r.pop("config", None)
  if args.json:
    with open(args.json, "w") as f:
      json.dump(records, f, indent=1)
  if args.png:
    plot(records, args.png)


if __name__ == "__main__":
  main()
