"""The image iteration: CT-GAN ResNet on CIFAR-10 shapes, or DCGAN on digits.

  python benchmarks/image_step.py                          # B=32 and B=64
  python benchmarks/image_step.py --objectives=ppogan,ct_gan --batch_sizes=32
  python benchmarks/image_step.py --config=digits_dcgan --batch_sizes=64 \
      --conv_impls=xla,matmul                              # DCGAN, 16×16

With --config=digits_dcgan the data are scikit-learn's bundled digits and
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


def main():
  p = harness.parser(__doc__)
  p.add_argument("--objectives", default="ppogan")
  p.add_argument("--batch_sizes", default="32,64")
  p.add_argument("--config", default="cifar10_resnet_ppogan",
                 choices=["cifar10_resnet_ppogan", "digits_dcgan"])
  p.add_argument("--conv_impls", default="",
                 help="DCGAN only: comma-separated model.conv_impl values")
  args = harness.parse(p)
  results = []
  with tfds.testing.mock_data(num_examples=256):
    for objective in args.objectives.split(","):
      for batch_size in map(int, args.batch_sizes.split(",")):
        for conv_impl in args.conv_impls.split(","):
          config = harness.load_config(args.config, objective)
          config.batch_size = batch_size
          config.data.cache_dir = "/tmp/ppogan_jax_benchmark_cache"
          if conv_impl:
            config.model.conv_impl = conv_impl
          name = (f"{args.config}_{objective}_{config.n_critic}d"
                  f"{config.n_gen}g_B{batch_size}"
                  f"{'_' + conv_impl if conv_impl else ''}"
                  f"_{parallel.make_mesh().size}dev")
          results.append(harness.train_step_benchmark(config, name,
                                                      args.repeats))
          print(results[-1], flush=True)
  harness.report(results, args.json)


if __name__ == "__main__":
  main()
