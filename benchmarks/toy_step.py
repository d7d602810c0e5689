"""The toy 8-Gaussians iteration (WGAN-GP's gan_toy.py sizes: MLP 3 × 512,
B = 256, 5 critic steps + 1 generator step; PPO-GAN adds a classifier step).

  python benchmarks/toy_step.py --objectives=wgan_gp,ppogan --json=/tmp/toy.json
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from ppogan_jax import parallel  # noqa: E402


def main():
  p = harness.parser(__doc__)
  p.add_argument("--objectives", default="wgan_gp,ppogan")
  args = harness.parse(p)
  results = []
  for objective in args.objectives.split(","):
    config = harness.load_config("toy_8gaussians", objective)
    name = (f"toy_{objective}_{config.n_critic}d{config.n_gen}g"
            f"_B{config.batch_size}_{parallel.make_mesh().size}dev")
    results.append(harness.train_step_benchmark(config, name, args.repeats))
  harness.report(results, args.json)


if __name__ == "__main__":
  harness.run(main)
