"""Tables of results/real_text_experiment.sh's runs (results/real_text.md).

  python results/summarise_real_text.py ROOT [--json=OUT.json]
      [--previous=results/real_text_char_lm.json]

COCO: the latest evaluation of ROOT/coco/<objective> and the last epoch of
the MLE generator they start from (ROOT/cache/mle_generator_*), in the layout
of the paper's Table 3, with the paper's EMNLP2017 numbers beside them (a
different dataset; the paper has no COCO table). Char-LM: js1..js4 of each
run ROOT/char_lm/<name> at each evaluation, mean ± std over its seeds (the
objective and seed are read from the run's config.json; --json writes one
record per run; --previous adds the records of an earlier --json file
whose runs are not under ROOT, so rows trained on another machine stay in
the table). Then a few sentences of each row's last sample dump.
"""
import argparse
import glob
import json
import os
import statistics

from ppogan_jax import config_defaults, logs, variants

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

ORDERS = (2, 3, 4, 5)
# Wu et al. (2020) Table 3, EMNLP2017 WMT News: BLEU-2..5 and NLL_gen.
PAPER_EMNLP = {"mle": (.768, .473, .240, .126, 2.382),
               "rsgan": (.881, .705, .501, .319, 2.482),
               "wgan_gp": (.872, .636, .379, .220, 2.209),
               "ppogan": (.905, .692, .470, .322, 2.265)}
ROWS = (("mle", "MLE"), ("rsgan", "RelGAN (`rsgan`)"),
        ("wgan_gp", "WGAN-GP"), ("ppogan", "PPO-GAN"))


def last_with(records: list[dict], key: str) -> dict | None:
  rows = [r for r in records if key in r]
  return rows[-1] if rows else None


def coco_rows(root: str) -> list[tuple[str, str, dict]]:
  rows = []
  mle = sorted(glob.glob(os.path.join(root, "cache", "mle_generator_*",
                                      "metrics.jsonl")))
  if mle:
    records = logs.read_metrics(os.path.dirname(mle[-1]))
    last = records[-1]
    rows.append(("mle", f"epoch {last['epoch']}",
                 {k[4:]: v for k, v in last.items() if k.startswith("mle/")}
                 | {"seconds": logs.compute_seconds(records)}))
  for name, _ in ROWS[1:]:
    path = os.path.join(root, "coco", name, "metrics.jsonl")
    if not os.path.exists(path):
      continue
    records = logs.read_metrics(os.path.dirname(path))
    last = last_with(records, "eval/bleu2")
    if last:
      rows.append((name, f"iteration {last['step']}",
                   {k[5:]: v for k, v in last.items()
                    if k.startswith("eval/")}
                   | {"seconds": logs.compute_seconds(records)}))
  return rows


def print_coco(root: str) -> None:
  labels = dict(ROWS)
  print("| model | trained | " + " | ".join(f"BLEU-{n}" for n in ORDERS)
        + " | " + " | ".join(f"self-BLEU-{n}" for n in ORDERS)
        + " | NLL_gen (test) | NLL_gen (train) | compute | paper EMNLP "
        "BLEU-2..5 / NLL_gen |")
  print("|---" * 14 + "|")
  for name, trained, m in coco_rows(root):
    paper = PAPER_EMNLP[name]
    print(f"| {labels[name]} | {trained} | "
          + " | ".join(f"{m[f'bleu{n}']:.3f}" for n in ORDERS) + " | "
          + " | ".join(f"{m[f'self_bleu{n}']:.3f}" for n in ORDERS)
          + f" | {m['nll_gen']:.3f} | {m['nll_gen_train']:.3f} | "
          f"{m['seconds'] / 60:.0f} min | "
          + " / ".join(f"{v:.3f}" for v in paper) + " |")


def char_lm_records(root: str) -> list[dict]:
  """One record per run of ROOT/char_lm/*: objective, options, seed,
  js1..js4 at each evaluation, the run's wall time and its PPO diagnostics
  (the largest logged ratio max, the mean logged clip fraction)."""
  records = []
  for path in sorted(glob.glob(os.path.join(root, "char_lm", "*",
                                            "config.json"))):
    workdir = os.path.dirname(path)
    with open(path) as f:
      config = json.load(f)
    metrics = logs.read_metrics(workdir)
    evals = [r for r in metrics if "eval/js4" in r]
    ppo = [r for r in metrics if "ppo/ratio_max" in r]
    if evals:
      records.append({
          "table": "char_lm", "objective": config["objective"],
          "seed": config["seed"], "n_gen": config["n_gen"],
          "dim": config["model"]["dim"], "num_steps": config["num_steps"],
          "wall_s": round(logs.compute_seconds(metrics)),
          "options": {k: config["surrogate"][k] for k in ("dual_clip",)
                      if k in config["surrogate"]}
          | {"classifier_lr":
             config["optimizer"]["classifier"]["learning_rate"]},
          "ppo": ppo and {
              "ratio_max": max(r["ppo/ratio_max"] for r in ppo),
              "clip_fraction": statistics.mean(r["ppo/clip_fraction"]
                                               for r in ppo)},
          "evaluations": [{"step": r["step"], **{
              f"js{n}": r[f"eval/js{n}"] for n in range(1, 5)}}
                          for r in evals]})
  return records


def _run_key(record: dict) -> tuple:
  return (record["objective"], record["seed"], record["n_gen"],
          record["dim"], json.dumps(record["options"], sort_keys=True))


def _mean_std(values: list[float]) -> str:
  if len(values) == 1:
    return f"{values[0]:.3f}"
  return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def _char_lm_classifier_lr() -> float:
  config = config_defaults.load_config(
      os.path.join(REPO, "configs", "char_lm.py"), "ppogan")
  return config.optimizer.classifier.learning_rate


def run_label(record: dict) -> str:
  """The objective and the options that differ from configs/char_lm.py's."""
  options = []
  if record["options"].get("dual_clip"):
    options.append(f"dual_clip={record['options']['dual_clip']:g}")
  if (variants.get_variant(record["objective"]).uses_classifier
      and record["options"]["classifier_lr"] != _char_lm_classifier_lr()):
    options.append(f"classifier lr {record['options']['classifier_lr']:g}")
  if record["objective"] in ("ppogan", "clip_only") and record["n_gen"] != 5:
    options.append(f"n_gen={record['n_gen']}")
  return " ".join([f"`{record['objective']}`", *options])


def print_char_lm(records: list[dict]) -> None:
  """Per run label and evaluation step: js1..js4, mean ± std over seeds,
  with the PPO diagnostics of the label's runs."""
  print("\n| objective | iteration | seeds | js1 | js2 | js3 | js4 | "
        "largest ratio | clip fraction | wall per run |")
  print("|---|---|---|---|---|---|---|---|---|---|")
  labels = sorted({run_label(r) for r in records})
  for label in labels:
    runs = [r for r in records if run_label(r) == label]
    steps = sorted({e["step"] for r in runs for e in r["evaluations"]})
    for step in steps:
      at = [(r["seed"], e) for r in runs for e in r["evaluations"]
            if e["step"] == step]
      last = step == steps[-1]
      ppo = [r["ppo"] for r in runs if r["ppo"]]
      diagnostics = (f"{max(d['ratio_max'] for d in ppo):.3g} | "
                     + _mean_std([d["clip_fraction"] for d in ppo])
                     if ppo and last else " | ")
      wall = (f"{statistics.mean(r['wall_s'] for r in runs) / 60:.0f} min"
              if last else "")
      print(f"| {label} | {step} | "
            f"{','.join(str(seed) for seed, _ in at)} | "
            + " | ".join(_mean_std([e[f"js{n}"] for _, e in at])
                         for n in range(1, 5))
            + f" | {diagnostics} | {wall} |")


def print_samples(root: str, lines: int) -> None:
  for path in sorted(glob.glob(os.path.join(root, "*", "*", "samples"))):
    dumps = sorted(glob.glob(os.path.join(path, "*.txt")))
    if dumps:
      with open(dumps[-1], encoding="utf-8") as f:
        head = [next(f, "").rstrip("\n") for _ in range(lines)]
      print(f"\n{os.path.relpath(dumps[-1], root)}:\n```")
      print("\n".join(head))
      print("```")


def main() -> None:
  p = argparse.ArgumentParser(description=__doc__)
  p.add_argument("root")
  p.add_argument("--sample_lines", type=int, default=5)
  p.add_argument("--json", help="write the char-LM records here")
  p.add_argument("--previous", help="an earlier --json file to keep")
  args = p.parse_args()
  print_coco(args.root)
  records = char_lm_records(args.root)
  if args.previous:
    records = logs.with_previous_records(records, args.previous,
                                         _run_key)
  print_char_lm(records)
  if args.json:
    with open(args.json, "w") as f:
      json.dump(records, f, indent=1)
  print_samples(args.root, args.sample_lines)


if __name__ == "__main__":
  main()
