"""The clipped-surrogate study of results/surrogate_study.md.

  python results/surrogate_study.py ROOT --tasks=8gaussians,25gaussians \
      --rows=main --seeds=3 --steps=2000 [--jobs=2] [--set=model.hidden=128]
  python results/summarise_surrogate_study.py ROOT --out=results/surrogate_study

Each row is an objective and the options it changes (ROWS); a run is
(task, row, seed), in ROOT/<task>/<row>_seed<k>, trained by
`python -m ppogan_jax.main` with one CPU thread and `--jobs` runs at a time.
A finished run (its final sample file exists) is skipped, and so is one that
failed (RUN.failed holds its exit code), so rerunning the command continues
an interrupted study; an interrupted run resumes from its checkpoint.
`--rows` takes row names or the groups in ROW_GROUPS.
"""
import argparse
import concurrent.futures
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from results import images_experiment  # pylint: disable=wrong-import-position
TASKS = {
    "8gaussians": ("configs/toy_8gaussians.py", {}),
    "25gaussians": ("configs/toy_8gaussians.py", {"data.name": "25gaussians"}),
    "digits": ("configs/digits_dcgan.py", {
        "model.generator_filters": 32, "model.critic_filters": 32}),
}
# Every row states every surrogate option, so that a row means the same
# thing whatever the config defaults are. PAPER: Eq. 5-6 as written, C^(t)
# frozen after the phase's first fine-tune; PREVIOUS: the options before
# this study (C^(t)'s logits a constant, C^(t) frozen at the phase start).
PAPER = {"surrogate.ratio_gradient": "both",
         "surrogate.advantage_baseline": "none",
         "surrogate.old_classifier": "after_first_finetune",
         "surrogate.classifier_steps": 1}
PREVIOUS = {**PAPER, "surrogate.ratio_gradient": "current",
            "surrogate.old_classifier": "phase_start"}
ROWS: dict[str, dict[str, object]] = {
    "wgan_gp": {"objective": "wgan_gp", "n_gen": 1},
    "wgan_gp_n5": {"objective": "wgan_gp", "n_gen": 5},
    "reweight_only": {"objective": "reweight_only", "n_gen": 1},
    "reweight_only_n5": {"objective": "reweight_only", "n_gen": 5},
    "clip_only_previous": {"objective": "clip_only", "n_gen": 1, **PREVIOUS},
    "clip_only_previous_n5": {"objective": "clip_only", "n_gen": 5,
                              **PREVIOUS},
    "clip_only_both_phase_start": {
        "objective": "clip_only", "n_gen": 1, **PAPER,
        "surrogate.old_classifier": "phase_start"},
    "clip_only_both_phase_start_n5": {
        "objective": "clip_only", "n_gen": 5, **PAPER,
        "surrogate.old_classifier": "phase_start"},
    "clip_only_n5": {"objective": "clip_only", "n_gen": 5, **PAPER},
    "clip_only_n5_fake_mean": {
        "objective": "clip_only", "n_gen": 5, **PAPER,
        "surrogate.advantage_baseline": "fake_mean"},
    "clip_only_n5_midpoint": {
        "objective": "clip_only", "n_gen": 5, **PAPER,
        "surrogate.advantage_baseline": "midpoint"},
    "clip_only_n5_constant_ratio": {
        "objective": "clip_only", "n_gen": 5, **PAPER,
        "surrogate.ratio_gradient": "none"},
    "clip_only_n5_slow_classifier": {
        "objective": "clip_only", "n_gen": 5, **PAPER,
        "optimizer.classifier.learning_rate": 2e-5},
    "clip_only_n5_eps04": {"objective": "clip_only", "n_gen": 5, **PAPER,
                           "epsilon": 0.4},
    "clip_only_n5_unclipped": {"objective": "clip_only", "n_gen": 5,
                               **PAPER, "epsilon": 0.99},
    "ppogan_previous": {"objective": "ppogan", "n_gen": 1, **PREVIOUS},
    "ppogan_n5": {"objective": "ppogan", "n_gen": 5, **PAPER},
    "ppogan_n5_fake_mean": {"objective": "ppogan", "n_gen": 5, **PAPER,
                            "surrogate.advantage_baseline": "fake_mean"},
}
SLOW_CLASSIFIER = {"optimizer.classifier.learning_rate": 2e-5}
ROWS.update({f"{row}_slow_classifier": {**ROWS[row], **SLOW_CLASSIFIER}
             for row in ("clip_only_n5_fake_mean", "ppogan_n5_fake_mean")})
# The clip range of the default clip_only: ε = 0.2 is the row above.
EPSILONS = {"eps005": 0.05, "eps01": 0.1, "eps04": 0.4}
ROWS.update({f"clip_only_n5_fake_mean_{name}": {
    **ROWS["clip_only_n5_fake_mean"], "epsilon": epsilon}
             for name, epsilon in EPSILONS.items()})
ROWS["clip_only_fake_mean"] = {**ROWS["clip_only_n5_fake_mean"], "n_gen": 1}
ROW_GROUPS = {
    "digits": ["wgan_gp", "reweight_only", "clip_only_n5_fake_mean",
               "ppogan_n5_fake_mean"],
    "25gaussians": ["wgan_gp", "reweight_only", "clip_only_previous",
                    "clip_only_n5_fake_mean", "ppogan_n5_fake_mean"],
    "full_width": ["clip_only_n5_fake_mean", "ppogan_n5_fake_mean"],
    "slow_classifier": ["clip_only_n5_fake_mean_slow_classifier",
                        "ppogan_n5_fake_mean_slow_classifier"],
    "epsilon": ["clip_only_fake_mean"] + [
        f"clip_only_n5_fake_mean_{name}" for name in EPSILONS],
    "main": ["wgan_gp", "wgan_gp_n5", "reweight_only", "clip_only_previous",
             "clip_only_n5", "ppogan_previous", "ppogan_n5"],
    "ablation": ["clip_only_both_phase_start_n5", "clip_only_previous_n5",
                 "clip_only_n5_fake_mean", "clip_only_n5_midpoint",
                 "clip_only_n5_constant_ratio",
                 "clip_only_n5_slow_classifier", "clip_only_n5_unclipped",
                 "ppogan_n5_fake_mean"],
}


def expand_rows(spec: str) -> list[str]:
  rows = []
  for name in spec.split(","):
    for row in ROW_GROUPS.get(name, [name]):
      if row not in ROWS:
        raise SystemExit(f"unknown row {row!r}; rows: {sorted(ROWS)}, "
                         f"groups: {sorted(ROW_GROUPS)}")
      if row not in rows:
        rows.append(row)
  return rows


def train(root: str, task: str, row: str, seed: int, steps: int,
          eval_every: int, extra: dict[str, str]) -> str:
  """Trains one run with `images_experiment.train` (which skips finished and
  failed runs and resumes interrupted ones); returns its name."""
  config, task_overrides = TASKS[task]
  name = f"{row}_seed{seed}"
  overrides = {**task_overrides, **ROWS[row], "seed": seed, "log_every": 25,
               **extra}
  objective = overrides.pop("objective")
  images_experiment.train(root, task, name, f"{config}:{objective}", steps,
                          overrides, eval_every)
  return name


def main() -> None:
  p = argparse.ArgumentParser(description=__doc__,
                              formatter_class=argparse.RawTextHelpFormatter)
  p.add_argument("root")
  p.add_argument("--tasks", default="8gaussians")
  p.add_argument("--rows", default="main")
  p.add_argument("--seeds", type=int, default=3)
  p.add_argument("--first_seed", type=int, default=0)
  p.add_argument("--steps", type=int, default=2000)
  p.add_argument("--eval_every", type=int, default=250)
  p.add_argument("--jobs", type=int, default=2)
  p.add_argument("--set", action="append", default=[],
                 help="FIELD=VALUE config override for every run")
  args = p.parse_args()
  extra = dict(item.split("=", 1) for item in args.set)
  runs = [(task, row, seed) for seed in range(
              args.first_seed, args.first_seed + args.seeds)
          for task in args.tasks.split(",")
          for row in expand_rows(args.rows)]
  with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
    futures = [pool.submit(train, args.root, task, row, seed, args.steps,
                           args.eval_every, extra)
               for task, row, seed in runs]
    for future in concurrent.futures.as_completed(futures):
      print("done:", future.result(), flush=True)


if __name__ == "__main__":
  main()
