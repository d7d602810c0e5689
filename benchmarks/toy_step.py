"""The toy 8-Gaussians iteration (WGAN-GP's gan_toy.py sizes: MLP 3 × 512,
B = 256, 5 critic steps + 1 generator step; PPO-GAN adds a classifier step).

  python benchmarks/toy_step.py --objectives=wgan_gp,ppogan --json=/tmp/toy.json
"""
import importlib.util
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "benchmarks"))

import harness  # noqa: E402
from ppogan_jax import parallel, step as step_lib, tasks, train  # noqa: E402


def load_config(arg: str):
  spec = importlib.util.spec_from_file_location(
      "toy_8gaussians", os.path.join(REPO, "configs", "toy_8gaussians.py"))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config(arg)


def iteration(config, repeats):
  task = tasks.build_task(config)
  mesh = parallel.make_mesh()
  state = parallel.replicate(train.create_state(config, task), mesh)
  step_fn = parallel.compile_train_step(
      step_lib.make_train_step(
          config, task, constrain_batch=parallel.batch_constraint(mesh)),
      mesh, state)
  real = parallel.global_real_batch(task.real_batches(
      0, config.n_critic + config.n_gen, config.batch_size, 0, 1), mesh)
  return harness.benchmark(
      f"toy_{config.objective}_{config.n_critic}d{config.n_gen}g"
      f"_B{config.batch_size}_{parallel.make_mesh().size}dev",
      step_fn, (state, real), repeats=repeats,
      items_per_call=config.batch_size * (config.n_critic + config.n_gen),
      donate_result_into=lambda args, out: (out[0], args[1]))


def main():
  p = harness.parser(__doc__)
  p.add_argument("--objectives", default="wgan_gp,ppogan")
  args = p.parse_args()
  results = [iteration(load_config(o), args.repeats)
             for o in args.objectives.split(",")]
  harness.report(results, args.json)


if __name__ == "__main__":
  main()
