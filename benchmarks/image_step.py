"""The image iteration: CT-GAN ResNet on CIFAR-10 shapes, or DCGAN on digits.

  python benchmarks/image_step.py                          # B=32 and B=64
  python benchmarks/image_step.py --objectives=ppogan,ct_gan --batch_sizes=32
  python benchmarks/image_step.py --config=digits_dcgan --batch_sizes=64 \
      --conv_impls=xla,matmul                              # DCGAN, 16×16

  python benchmarks/image_step.py --batch_sizes=32 \
      --conv_impls=xla,gemm_weight_grad                    # ResNet convs
  python benchmarks/image_step.py --batch_sizes=32 --set=unroll_inner_loops=False

With --config=digits_dcgan the data are scikit-learn's bundled digits.
--conv_impls compares the library convolutions with the matrix-product ones
(ppogan_jax/models/matmul_conv.py).

PPO-GAN's CIFAR-10 setting: G width 256, critic and classifier width 332
(critic dropout 0.2/0.5/0.5), 5 critic steps with gradient penalty and the
CT-GAN consistency term, then 5 × (classifier + generator) steps. The data
come from `tfds.testing.mock_data` (random CIFAR-shaped images): the
iteration's cost does not depend on the pixels, and no download is needed.
"""
import os
import sys

import tensorflow_datasets as tfds

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from ppogan_jax import parallel  # noqa: E402


def run_workload(config_name: str, objective: str, batch_size: int,
                 conv_impl: str = "", repeats: int = 10,
                 overrides=()) -> dict:
  """Times one iteration of configs/`config_name`.py:`objective` at
  `batch_size` (with model.conv_impl=`conv_impl` unless empty, then the
  FIELD=VALUE `overrides`) on mock CIFAR-shaped data; returns harness's
  report dict."""
  config = harness.load_config(config_name, objective)
  config.batch_size = batch_size
  config.data.cache_dir = "/tmp/ppogan_jax_benchmark_cache"
  if conv_impl:
    config.model.conv_impl = conv_impl
  harness.apply_overrides(config, overrides)
  name = (f"{config_name}_{objective}_{config.n_critic}d{config.n_gen}g"
          f"_B{batch_size}{'_' + conv_impl if conv_impl else ''}"
          f"_{parallel.make_mesh().size}dev")
  with tfds.testing.mock_data(num_examples=256):
    return harness.train_step_benchmark(config, name, repeats)


def main():
  p = harness.parser(__doc__)
  p.add_argument("--objectives", default="ppogan")
  p.add_argument("--batch_sizes", default="32,64")
  p.add_argument("--config", default="cifar10_resnet_ppogan",
                 choices=["cifar10_resnet_ppogan", "digits_dcgan"])
  p.add_argument("--conv_impls", default="",
                 help="comma-separated model.conv_impl values (DCGAN: xla, "
                      "matmul; ResNet: also gemm_weight_grad, auto)")
  harness.add_set_argument(p)
  args = harness.parse(p)
  results = []
  for objective in args.objectives.split(","):
    for batch_size in map(int, args.batch_sizes.split(",")):
      for conv_impl in args.conv_impls.split(","):
        results.append(run_workload(args.config, objective, batch_size,
                                    conv_impl, args.repeats, args.set))
        print(results[-1], flush=True)
  harness.report(results, args.json)


if __name__ == "__main__":
  harness.run(main)
