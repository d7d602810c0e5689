"""The CIFAR-10 ResNet generator, critic and classifier of PPO-GAN's code.

docs/reference_code.md §3.1 (PPOGAN cifar10/main.py, a PyTorch port of
CT-GAN's ResNet), NHWC:

  G: z [B, 128] → Linear → 4×4×W_G → n × ResBlockUp(W_G) → BN
       → ReLU → Conv3×3(C) → tanh                            [B, S, S, C]
     ResBlockUp: main BN → ReLU → nearest ×2 → Conv3×3 → BN → ReLU
                      → Conv3×3;
                 shortcut nearest ×2 (no 1×1 conv).
  f: x → FirstResBlock(↓2) → ResBlock(↓2) → dropout 0.2 → ResBlock
       → dropout 0.5 → ResBlock → dropout 0.5 → ReLU
       → global average pool → features [B, W_D] → Linear → score [B]
     FirstResBlock: main Conv3×3 → ReLU → Conv3×3 → avgpool 2;
                    shortcut avgpool 2 → Conv1×1.
     ResBlock(↓2): main ReLU → Conv3×3 → ReLU → Conv3×3 → avgpool 2;
                   shortcut Conv1×1 → avgpool 2.
     ResBlock: main ReLU → Conv3×3 → ReLU → Conv3×3; identity shortcut.
  C: f's trunk with BN before every ReLU of blocks 2–4 and no dropout, then
     ReLU → pool → Linear → logit (the engine applies the sigmoid).

W_G = 256, W_D = int(256·1.3) = 332, S = 32 (n = 3 up-blocks) in the
reference. Here S is any power of two ≥ 8 with n = log2(S/4) up-blocks; the
critic always halves twice (S → S/4, 8×8 before the pool for CIFAR).

Initialisation (PyTorch): G's Linear xavier-uniform (gain 1), its block convs
kaiming-uniform (fan_in, ReLU), its head conv xavier-uniform (gain 5/3); the
critic's 3×3 convs kaiming-uniform (fan_out, ReLU), its 1×1 shortcuts and
Linear xavier-uniform; every bias PyTorch's default U(±1/√fan_in); BN γ = 1,
β = 0 (Flax momentum 0.9 = PyTorch momentum 0.1).

The critic's dropout is on in every train-mode call (the reference calls
F.dropout with training=True everywhere: real/fake terms, both CT passes, the
GP and the generator's advantage) and off in eval mode.

Appendix 6.3.1's cheaper classifier, C trained on the critic's first-block
features, is not implemented: C would have to read the current critic's
parameters, which the engine's classifier calls do not pass (see the task
module's docstring).
"""
from typing import Sequence

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp

from ppogan_jax.models import matmul_conv

xavier_uniform = nn.initializers.xavier_uniform()
kaiming_uniform_fan_in = nn.initializers.variance_scaling(
    2.0, "fan_in", "uniform")
kaiming_uniform_fan_out = nn.initializers.variance_scaling(
    2.0, "fan_out", "uniform")
head_init = nn.initializers.variance_scaling(
    (5.0 / 3.0) ** 2, "fan_avg", "uniform")


def torch_bias_init(fan_in: int) -> nn.initializers.Initializer:
  """PyTorch's default bias init for Linear/Conv:
  U(−1/√fan_in, 1/√fan_in)."""
  bound = 1.0 / fan_in ** 0.5

  def init(key, shape, dtype=jnp.float32):
    return jax.random.uniform(key, shape, dtype, -bound, bound)
  return init


def _conv(x: chex.Array, features: int, kernel: int, init, name: str,
          conv_impl: str) -> chex.Array:
  fan_in = x.shape[-1] * kernel * kernel
  conv = matmul_conv.stride_one_conv_layer(conv_impl)
  return conv(features, (kernel, kernel), padding="SAME", kernel_init=init,
              bias_init=torch_bias_init(fan_in), name=name)(x)


def _dense(x: chex.Array, features: int, init, name: str) -> chex.Array:
  return nn.Dense(features, kernel_init=init,
                  bias_init=torch_bias_init(x.shape[-1]), name=name)(x)


def upsample_nearest(x: chex.Array) -> chex.Array:
  """[B, H, W, C] → [B, 2H, 2W, C] by repeating pixels (nn.Upsample ×2)."""
  return jnp.repeat(jnp.repeat(x, 2, axis=1), 2, axis=2)


def avg_pool_2(x: chex.Array) -> chex.Array:
  return nn.avg_pool(x, (2, 2), strides=(2, 2))


def _batch_norm(train: bool, name: str) -> nn.BatchNorm:
  return nn.BatchNorm(use_running_average=not train, momentum=0.9,
                      epsilon=1e-5, name=name)


class ResBlockUp(nn.Module):
  """G's block: BN-ReLU-up-conv-BN-ReLU-conv + nearest-upsampled shortcut."""

  features: int
  conv_impl: str = "xla"

  @nn.compact
  def __call__(self, x: chex.Array, *, train: bool) -> chex.Array:
    h = nn.relu(_batch_norm(train, "bn_0")(x))
    h = _conv(upsample_nearest(h), self.features, 3, kaiming_uniform_fan_in,
              "conv_0", self.conv_impl)
    h = nn.relu(_batch_norm(train, "bn_1")(h))
    h = _conv(h, self.features, 3, kaiming_uniform_fan_in, "conv_1",
              self.conv_impl)
    return h + upsample_nearest(x)


class ResNetGenerator(nn.Module):
  """G: z [B, Z] → images [B, S, S, C] ∈ [−1, 1]
  (docs/reference_code.md §3.1).

  Attributes:
    image_size: S, a power of two ≥ 8 (32 for CIFAR-10: 3 up-blocks).
    channels: C.
    width: W_G, channels of every block (G_SIZE = 256).
    conv_impl: the convolutions, one of
      `matmul_conv.STRIDE_ONE_IMPLEMENTATIONS` (same parameters and maps;
      'gemm_weight_grad' is the fastest on XLA:CPU, 'xla' on accelerators).
  """

  image_size: int = 32
  channels: int = 3
  width: int = 256
  conv_impl: str = "xla"

  @nn.compact
  def __call__(self, z: chex.Array, *, train: bool = True) -> chex.Array:
    chex.assert_rank(z, 2)
    n = _num_up_blocks(self.image_size)
    h = _dense(z, 4 * 4 * self.width, xavier_uniform, "project")
    h = h.reshape(z.shape[0], 4, 4, self.width)
    for i in range(n):
      h = ResBlockUp(self.width, self.conv_impl, name=f"block_{i}")(
          h, train=train)
    h = nn.relu(_batch_norm(train, "head_bn")(h))
    return jnp.tanh(_conv(h, self.channels, 3, head_init, "head_conv",
                          self.conv_impl))


def _num_up_blocks(image_size: int) -> int:
  if image_size < 8 or image_size & (image_size - 1):
    raise ValueError(
        f"image size {image_size} is not a power of two >= 8 (8, 16, 32, 64)")
  return image_size.bit_length() - 3


class FirstResBlock(nn.Module):
  """Main Conv-ReLU-Conv-avgpool; shortcut avgpool-Conv1×1."""

  features: int
  conv_impl: str = "xla"

  @nn.compact
  def __call__(self, x: chex.Array) -> chex.Array:
    h = _conv(x, self.features, 3, kaiming_uniform_fan_out, "conv_0",
              self.conv_impl)
    h = _conv(nn.relu(h), self.features, 3, kaiming_uniform_fan_out, "conv_1",
              self.conv_impl)
    shortcut = _conv(avg_pool_2(x), self.features, 1, xavier_uniform,
                     "shortcut", self.conv_impl)
    return avg_pool_2(h) + shortcut


class ResBlockDown(nn.Module):
  """Pre-activation block: [BN] ReLU Conv [BN] ReLU Conv (+ avgpool if
  `downsample`, with a Conv1×1 → avgpool shortcut; else identity)."""

  features: int
  downsample: bool
  batch_norm: bool = False
  conv_impl: str = "xla"

  @nn.compact
  def __call__(self, x: chex.Array, *, train: bool) -> chex.Array:
    def pre(h, i):
      if self.batch_norm:
        h = _batch_norm(train, f"bn_{i}")(h)
      return nn.relu(h)

    h = _conv(pre(x, 0), self.features, 3, kaiming_uniform_fan_out, "conv_0",
              self.conv_impl)
    h = _conv(pre(h, 1), self.features, 3, kaiming_uniform_fan_out, "conv_1",
              self.conv_impl)
    if not self.downsample:
      return h + x
    shortcut = _conv(x, self.features, 1, xavier_uniform, "shortcut",
                     self.conv_impl)
    return avg_pool_2(h) + avg_pool_2(shortcut)


class ResNetCritic(nn.Module):
  """Critic f (or classifier C): x [B, S, S, C] → scores (logits) [B].

  Attributes:
    width: W_D, channels of every block (DISC_SIZE = 332).
    dropout_rates: dropout after blocks 2, 3, 4 in train mode
      ((0.2, 0.5, 0.5) for the critic, zeros for C).
    batch_norm: BN before each ReLU of blocks 2–4 (the classifier C only:
      the gradient penalty needs a critic without cross-example coupling).
    conv_impl: as in `ResNetGenerator`.
  """

  width: int = 332
  dropout_rates: Sequence[float] = (0.2, 0.5, 0.5)
  batch_norm: bool = False
  conv_impl: str = "xla"

  @nn.compact
  def __call__(self, x: chex.Array, *, train: bool = True,
               return_features: bool = False):
    """Scores x; with `return_features` returns (scores [B], features
    [B, width]): the pooled post-ReLU features fed to the output layer (h in
    CT-GAN's consistency term)."""
    chex.assert_rank(x, 4)
    if len(self.dropout_rates) != 3:
      raise ValueError(f"dropout_rates={self.dropout_rates!r}: expected 3 "
                       "rates (after blocks 2, 3 and 4)")
    h = FirstResBlock(self.width, self.conv_impl, name="block_0")(x)
    for i, rate in enumerate(self.dropout_rates, start=1):
      h = ResBlockDown(self.width, downsample=i == 1,
                       batch_norm=self.batch_norm, conv_impl=self.conv_impl,
                       name=f"block_{i}")(h, train=train)
      h = nn.Dropout(rate, deterministic=not train)(h)
    features = jnp.mean(nn.relu(h), axis=(1, 2))
    score = jnp.squeeze(_dense(features, 1, xavier_uniform, "output"), axis=-1)
    return (score, features) if return_features else score


def resnet_classifier(width: int = 332, conv_impl: str = "xla"
                      ) -> ResNetCritic:
  """The PPO classifier C of the CIFAR code: the critic's trunk with BN in
  blocks 2–4 and no dropout (docs/reference_code.md §2.1)."""
  return ResNetCritic(width=width, dropout_rates=(0.0, 0.0, 0.0),
                      batch_norm=True, conv_impl=conv_impl)
