"""One convolution layer of the CIFAR ResNet, per implementation.

  python benchmarks/conv_layer.py                  # the ResNet's 3×3 shapes
  python benchmarks/conv_layer.py --shapes=32x16x16x332 --repeats=5

For each `--shapes` entry BxHxWxC (a 3×3, stride-1, C → C 'SAME' layer) and
each `--impls` value (ppogan_jax/models/matmul_conv.py: 'xla' the library
convolution, 'matmul' patches @ kernel, 'gemm_weight_grad' the library
forward with a GEMM weight gradient) it times three jitted functions of
(x, kernel), the three kinds of work a train step does with the layer:

  forward   conv(x, k);
  gradient  ∇_{x,k} Σ tanh(conv(x, k))·v (the critic's or generator's step);
  penalty   ∇_k Σ (∇_x Σ tanh(conv(x, k))·v)² (the gradient penalty's
            second-order terms).
"""
import os
import sys

import jax
import jax.numpy as jnp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from ppogan_jax.models import matmul_conv  # noqa: E402

CONVOLUTIONS = {
    "xla": matmul_conv.library_conv2d,
    "matmul": lambda x, k: matmul_conv.conv2d(x, k, 1),
    "gemm_weight_grad": matmul_conv.conv2d_gemm_weight_grad,
}


def layer_functions(conv, v):
  """{'forward', 'gradient', 'penalty'}: jitted functions of (x, kernel)."""
  def score(x, k):
    return jnp.sum(jnp.tanh(conv(x, k)) * v)

  def penalty(x, k):
    return jnp.sum(jnp.square(jax.grad(score)(x, k)))

  return {"forward": jax.jit(conv),
          "gradient": jax.jit(jax.grad(score, argnums=(0, 1))),
          "penalty": jax.jit(jax.grad(penalty, argnums=1))}


def main():
  p = harness.parser(__doc__)
  p.set_defaults(repeats=3)
  p.add_argument("--shapes", default="32x32x32x256,32x16x16x332,32x8x8x332",
                 help="comma list of BxHxWxC")
  p.add_argument("--impls", default=",".join(CONVOLUTIONS))
  args = harness.parse(p)
  results = []
  for shape in args.shapes.split(","):
    b, h, w, c = map(int, shape.split("x"))
    kx, kk, kv = jax.random.split(jax.random.PRNGKey(0), 3)
    x = jax.random.normal(kx, (b, h, w, c))
    kernel = 0.05 * jax.random.normal(kk, (3, 3, c, c))
    v = jax.random.normal(kv, (b, h, w, c))
    for impl in args.impls.split(","):
      for work, fn in layer_functions(CONVOLUTIONS[impl], v).items():
        results.append(harness.benchmark(f"{shape}_{impl}_{work}", fn,
                                         (x, kernel), repeats=args.repeats,
                                         items_per_call=b))
        print(results[-1], flush=True)
  harness.report(results, args.json)


if __name__ == "__main__":
  harness.run(main)
