"""The CPU image experiments of results/images.md, one run after another.

  python results/images_experiment.py ROOT [--parts=toy,figure3,table5]
      [--seeds=N] [--trials=N]
  python results/summarise_images.py ROOT --png_dir=results

Parts (run directories ROOT/<part>/<name>_seed<k>):
  toy      8 Gaussians, every objective × --seeds, --toy_steps iterations;
  figure3  digits DCGAN (configs/digits_dcgan.py) with DCGAN's loss, WGAN-GP,
           clipping only, re-weighting only and PPO-GAN × --seeds,
           --digits_steps iterations, classifier IS every 50;
  table5   --trials random DCGAN configurations (learning rate log-uniform
           in [1e-5, 1e-3], batch 32/64/128, ReLU or LeakyReLU in both
           networks, base filters 32/64; drawn from --trial_seed), each
           trained with DCGAN's loss and with re-weighting (`reweight_only`)
           for --table5_steps iterations.
The parts run in the order given, each over its seeds in turn.
A finished run (its final sample file exists) is skipped, and so is a run
that failed (RUN.failed holds its exit code; e.g. 2 for non-finite losses,
which Table 5 counts as a collapse), so rerunning the command continues an
interrupted experiment. Each run uses one CPU thread.
"""
import argparse
import os
import subprocess
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOY_OBJECTIVES = ("wgan_gp", "reweight_only", "clip_only", "ppogan",
                  "non_saturating")
FIGURE3_OBJECTIVES = ("non_saturating", "wgan_gp", "clip_only",
                      "reweight_only", "ppogan")
TABLE5_OBJECTIVES = ("non_saturating", "reweight_only")
ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def random_dcgan_configs(trials: int, seed: int) -> list[dict[str, object]]:
  """The Table 5 search space (Wu et al. 2020, appendix), `trials` draws."""
  rng = np.random.default_rng(seed)
  configs = []
  for _ in range(trials):
    activation = str(rng.choice(["relu", "leaky_relu"]))
    filters = int(rng.choice([32, 64]))
    configs.append({
        "optimizer.generator.learning_rate": float(10 ** rng.uniform(-5, -3)),
        "batch_size": int(rng.choice([32, 64, 128])),
        "model.generator_activation": activation,
        "model.critic_activation": activation,
        "model.generator_filters": filters,
        "model.critic_filters": filters,
    })
  return configs


def train(root: str, part: str, name: str, config: str, steps: int,
          overrides: dict[str, object], eval_every: int) -> None:
  workdir = os.path.join(root, part, name)
  if os.path.exists(workdir + ".failed") or os.path.exists(
      os.path.join(workdir, "samples", f"step_{steps:07d}.png")):
    return
  os.makedirs(workdir, exist_ok=True)
  flags = {"num_steps": steps, "eval_every": eval_every,
           "checkpoint_every": eval_every, "log_every": 10, **overrides}
  command = [sys.executable, "-m", "ppogan_jax.main", f"--config={config}",
             f"--workdir={workdir}"]
  command += [f"--config.{k}={v}" for k, v in flags.items()]
  print(" ".join(command[1:]), flush=True)
  env = dict(os.environ, XLA_FLAGS=ONE_THREAD)
  with open(workdir + ".log", "a") as log:
    returncode = subprocess.run(command, cwd=REPO, env=env, stdout=log,
                                stderr=subprocess.STDOUT).returncode
  if returncode > 0:  # not when killed by a signal: rerun resumes it
    with open(workdir + ".failed", "w") as f:
      f.write(f"{returncode}\n")


def main() -> None:
  p = argparse.ArgumentParser(description=__doc__,
                              formatter_class=argparse.RawTextHelpFormatter)
  p.add_argument("root")
  p.add_argument("--parts", default="toy,figure3,table5")
  p.add_argument("--seeds", type=int, default=3)
  p.add_argument("--toy_steps", type=int, default=500)
  p.add_argument("--digits_steps", type=int, default=300)
  p.add_argument("--table5_steps", type=int, default=200)
  p.add_argument("--trials", type=int, default=6)
  p.add_argument("--trial_seed", type=int, default=0)
  args = p.parse_args()
  cache = os.path.join(args.root, "cache")
  digits = "configs/digits_dcgan.py"
  for part in args.parts.split(","):
    if part == "toy":
      for seed in range(args.seeds):
        for objective in TOY_OBJECTIVES:
          train(args.root, part, f"{objective}_seed{seed}",
                f"configs/toy_8gaussians.py:{objective}", args.toy_steps,
                {"seed": seed}, eval_every=args.toy_steps // 2)
    elif part == "figure3":
      for seed in range(args.seeds):
        for objective in FIGURE3_OBJECTIVES:
          train(args.root, part, f"{objective}_seed{seed}",
                f"{digits}:{objective}", args.digits_steps,
                {"seed": seed, "data.cache_dir": cache}, eval_every=50)
    elif part == "table5":
      for trial, overrides in enumerate(
          random_dcgan_configs(args.trials, args.trial_seed)):
        lr = overrides["optimizer.generator.learning_rate"]
        for objective in TABLE5_OBJECTIVES:
          train(args.root, part, f"trial{trial:03d}_{objective}_seed0",
                f"{digits}:{objective}", args.table5_steps,
                {**overrides, "optimizer.critic.learning_rate": lr,
                 "optimizer.classifier.learning_rate": lr,
                 "data.cache_dir": cache}, eval_every=args.table5_steps)
    else:
      raise SystemExit(f"unknown part {part!r}: toy, figure3 or table5")

if __name__ == "__main__":
  main()
