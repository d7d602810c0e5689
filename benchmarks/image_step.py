"""The CT-GAN ResNet image iteration of configs/cifar10_resnet_ppogan.py.

  python benchmarks/image_step.py                          # B=32 and B=64
  python benchmarks/image_step.py --objectives=ppogan,ct_gan --batch_sizes=32

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
  args = p.parse_args()
  results = []
  with tfds.testing.mock_data(num_examples=256):
    for objective in args.objectives.split(","):
      for batch_size in map(int, args.batch_sizes.split(",")):
        config = harness.load_config("cifar10_resnet_ppogan", objective)
        config.batch_size = batch_size
        config.data.cache_dir = "/tmp/ppogan_jax_benchmark_cache"
        name = (f"cifar10_resnet_{objective}_{config.n_critic}d{config.n_gen}g"
                f"_B{batch_size}_{parallel.make_mesh().size}dev")
        results.append(harness.train_step_benchmark(config, name,
                                                    args.repeats))
        print(results[-1], flush=True)
  harness.report(results, args.json)


if __name__ == "__main__":
  main()
