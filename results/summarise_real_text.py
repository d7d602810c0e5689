"""Tables of results/real_text_experiment.sh's runs (results/real_text.md).

  python results/summarise_real_text.py ROOT

COCO: the latest evaluation of ROOT/coco/<objective> and the last epoch of
the MLE generator they start from (ROOT/cache/mle_generator_*), in the layout
of the paper's Table 3, with the paper's EMNLP2017 numbers beside them (a
different dataset; the paper has no COCO table). Char-LM: the latest js1..js4
of ROOT/char_lm/<objective>. Then a few sentences of each row's last sample
dump.
"""
import argparse
import glob
import os

from ppogan_jax import logs

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


def print_char_lm(root: str) -> None:
  print("\n| objective | iteration | js1 | js2 | js3 | js4 | compute |")
  print("|---|---|---|---|---|---|---|")
  for path in sorted(glob.glob(os.path.join(root, "char_lm", "*",
                                            "metrics.jsonl"))):
    records = logs.read_metrics(os.path.dirname(path))
    last = last_with(records, "eval/js4")
    if last:
      print(f"| {os.path.basename(os.path.dirname(path))} | {last['step']} | "
            + " | ".join(f"{last[f'eval/js{n}']:.3f}" for n in range(1, 5))
            + f" | {logs.compute_seconds(records) / 60:.0f} min |")


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
  args = p.parse_args()
  print_coco(args.root)
  print_char_lm(args.root)
  print_samples(args.root, args.sample_lines)


if __name__ == "__main__":
  main()
