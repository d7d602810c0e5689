"""Oracle-text workloads at the paper's setting (V=5000, B=64, RelGAN sizes).

  python benchmarks/text_step.py                      # L=20, both schedules + MLE
  python benchmarks/text_step.py --length=40 --json=/tmp/text40.json
  python benchmarks/text_step.py --protocol=cpu             # the CPU protocol's sizes
  python benchmarks/text_step.py --protocol=cpu --set=model.num_filters=32  # a candidate

Workloads: the MLE step; the adversarial iteration in the paper's schedule
(5 critic steps + 5 × (classifier + generator) steps) and in the public
code's (5 critic steps + 1 × (classifier + generator)), each one compiled call.
"""
import os
import sys

import jax.numpy as jnp
import optax

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from ppogan_jax import pretrain, tasks, train  # noqa: E402


def mle(config, repeats):
  task = tasks.build_task(config)
  params = train.create_state(config, task).generator.params
  optimizer = optax.chain(optax.clip_by_global_norm(5.0), optax.adam(1e-2))
  epoch = pretrain.make_mle_epoch(task.generator, optimizer)
  batches = jnp.asarray(task.real_batches(
      0, num_batches=1, batch_size=config.batch_size))
  return harness.benchmark(
      "mle_step", epoch, (params, optimizer.init(params), batches),
      repeats=repeats, items_per_call=config.batch_size)


def run_workload(workload: str, *, length: int, objective: str = "ppogan",
                 protocol: str = "paper", overrides=(), repeats: int = 10):
  """Times one workload ('mle', 'paper' or 'public') of configs/text_relgan.py
  at `length`, with FIELD=VALUE `overrides`; returns harness's report dict."""
  config = harness.load_config("text_relgan",
                               f"{objective},{length},{protocol}")
  config.pretrain.epochs = 0
  harness.apply_overrides(config, overrides)
  if workload == "mle":
    return mle(config, repeats)
  config.n_gen = 5 if workload == "paper" else 1
  return harness.train_step_benchmark(
      config, f"adversarial_{workload}_{config.n_critic}d{config.n_gen}g"
      f"_L{length}", repeats)


def main():
  p = harness.parser(__doc__)
  p.add_argument("--length", type=int, default=20)
  p.add_argument("--objective", default="ppogan")
  p.add_argument("--workloads", default="mle,paper,public")
  p.add_argument("--protocol", default="paper", choices=("paper", "cpu"),
                 help="configs/text_relgan.py's protocol (model sizes)")
  harness.add_set_argument(p)
  args = harness.parse(p)
  results = []
  for workload in args.workloads.split(","):
    results.append(run_workload(
        workload, length=args.length, objective=args.objective,
        protocol=args.protocol, overrides=args.set, repeats=args.repeats))
    print(results[-1], flush=True)
  harness.report(results, args.json)


if __name__ == "__main__":
  harness.run(main)
