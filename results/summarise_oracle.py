"""Table 2 (oracle, L=20) from the runs of results/oracle_experiment.sh.

  python results/summarise_oracle.py /path/to/root [--png=results/oracle_curves.png]

Reads ROOT/<objective>/metrics.jsonl (adversarial runs) and the metrics of
the MLE generator they start from (in the cache directory of their config), and prints a markdown table
in the layout of the paper's Table 2 with the latest NLL_oracle and NLL_gen of
each row, its step and its compute time, plus the oracle's NLL of its own
training data ("real data"). Writes the learning curves (NLL_oracle vs
adversarial step, MLE epochs before step 0) as a PNG.
"""
import argparse
import json
import os

import jax.numpy as jnp
import matplotlib
import ml_collections

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ppogan_jax import logs  # noqa: E402
from ppogan_jax.data import oracle as oracle_data  # noqa: E402
from ppogan_jax.metrics import text as text_metrics  # noqa: E402
from ppogan_jax.models import oracle as oracle_models  # noqa: E402
from ppogan_jax.tasks import relgan_text  # noqa: E402

PAPER_L20 = {"mle": 9.038, "rsgan": 6.680, "wgan_gp": 6.89, "ppogan": 5.67,
             "real": 5.750}
ROWS = [("mle", "MLE"), ("rsgan", "RelGAN (`rsgan`)"),
        ("wgan_gp", "WGAN-GP (`wgan_gp`)"), ("ppogan", "PPO-GAN (`ppogan`)"),
        ("ppogan_reference", "PPO-GAN, public code's ratio/surrogate")]


def read_jsonl(path):
  with open(path) as f:
    return [json.loads(line) for line in f]


def _hours(seconds):
  return f"{seconds / 3600:.2f} h" if seconds else "not recorded"


def real_data_nll(root, config):
  d = config["data"]
  params, data = oracle_data.make_oracle_dataset(
      os.path.join(root, "cache"),
      oracle=oracle_models.OracleLSTM(vocab_size=d["vocab_size"]),
      sample_fn=oracle_models.sample_oracle, seed=d["oracle_seed"],
      length=d["length"], num_samples=d["num_samples"])
  oracle = oracle_models.OracleLSTM(vocab_size=d["vocab_size"])
  return float(text_metrics.oracle_nll(params, oracle, jnp.asarray(data)))


def main():
  p = argparse.ArgumentParser(description=__doc__)
  p.add_argument("root")
  p.add_argument("--png", default="")
  args = p.parse_args()
  runs = {}
  for name, _ in ROWS[1:]:
    path = os.path.join(args.root, name, "metrics.jsonl")
    if os.path.exists(path):
      records = read_jsonl(path)
      evals = [r for r in records if "eval/nll_oracle" in r]
      config = json.load(open(os.path.join(args.root, name, "config.json")))
      runs[name] = (evals, logs.compute_seconds(records), config)
  mle = []
  if runs:
    config = ml_collections.ConfigDict(next(iter(runs.values()))[2])
    path = os.path.join(relgan_text.pretrain_directory(config),
                        "metrics.jsonl")
    mle = read_jsonl(path) if os.path.exists(path) else []
  print("| model | NLL_oracle (ours) | NLL_gen (ours) | MLE epochs | "
        "adversarial steps | compute time | paper NLL_oracle (L=20) |")
  print("|---|---|---|---|---|---|---|")
  if mle:
    last = mle[-1]
    print(f"| MLE | {last['mle/nll_oracle']:.3f} | {last['mle/nll_gen']:.3f} | "
          f"{last['epoch']} | 0 | {_hours(logs.compute_seconds(mle))} | "
          f"{PAPER_L20['mle']} |")
  for name, label in ROWS[1:]:
    if name not in runs or not runs[name][0]:
      continue
    evals, seconds, config = runs[name]
    last = evals[-1]
    print(f"| {label} | {last['eval/nll_oracle']:.3f} | "
          f"{last['eval/nll_gen']:.3f} | {config['pretrain']['epochs']} | "
          f"{last['step']} of {config['num_steps']} | {_hours(seconds)} | "
          f"{PAPER_L20.get(name, '—')} |")
  if runs:
    config = next(iter(runs.values()))[2]
    print(f"| real data (oracle NLL of its training sentences) | "
          f"{real_data_nll(args.root, config):.3f} | | | | | "
          f"{PAPER_L20['real']} |")
  if args.png:
    fig, (ax_mle, ax_adv) = plt.subplots(1, 2, figsize=(11, 4))
    if mle:
      ax_mle.plot([r["epoch"] for r in mle], [r["mle/nll_oracle"] for r in mle],
                  "o-", label="NLL_oracle")
      ax_mle.plot([r["epoch"] for r in mle], [r["mle/nll_gen"] for r in mle],
                  "s--", label="NLL_gen")
      ax_mle.set(xlabel="MLE epoch", ylabel="NLL per token",
                 title="MLE pre-training")
      ax_mle.legend()
    for name, (evals, _, _) in runs.items():
      ax_adv.plot([0] + [r["step"] for r in evals],
                  [mle[-1]["mle/nll_oracle"] if mle else float("nan")]
                  + [r["eval/nll_oracle"] for r in evals], "o-", label=name)
    ax_adv.axhline(PAPER_L20["ppogan"], color="gray", ls=":",
                   label="paper PPO-GAN (3000 steps)")
    ax_adv.set(xlabel="adversarial iteration", ylabel="NLL_oracle",
               title="adversarial training (L=20, seed 0)")
    ax_adv.legend()
    fig.tight_layout()
    fig.savefig(args.png, dpi=120)


if __name__ == "__main__":
  main()
