"""DCGAN generator and discriminator (Radford et al., 2016), NHWC.

The networks of PPO-GAN's Figure 3 / Table 5 study (DCGAN with and without
sample re-weighting; ReLU or LeakyReLU, base filters 32/64).

Image-size rule: the image side S must be a power of two ≥ 8. With
n = log2(S/4) resolution doublings,

  G: z [B, Z] → Dense → 4×4×(F·2^(n−1)) → BN → act
       → (n−1) × [ConvT 4×4 stride 2, channels halved → BN → act]
       → ConvT 4×4 stride 2 → C channels → tanh
         ([B, S, S, C] in [−1, 1])
  D: x [B, S, S, C] → Conv 4×4 stride 2 → F → act
       → (n−1) × [Conv 4×4 stride 2, channels doubled → norm → act]
       → flatten: features [B, 4·4·F·2^(n−1)] → dropout → Dense(1)
       → score [B]

so S = 8, 16, 32 give 1, 2, 3 doublings (F = base filters). Datasets of other
sizes are padded / pooled to such an S by `ppogan_jax.data.images` (MNIST
28 → 32). Weights are N(0, 0.02) as in DCGAN; biases 0.

The critic is used with a gradient penalty, whose per-sample gradients are
only meaningful without cross-example coupling, so `DCGANDiscriminator` offers
layer-norm or no normalisation; 'batch' exists for the PPO classifier C only
(the task builder refuses it for the critic).
"""
import math

import chex
import flax.linen as nn
import jax.numpy as jnp

from ppogan_jax.models import matmul_conv

dcgan_init = nn.initializers.normal(0.02)
ACTIVATIONS = {"relu": nn.relu,
               "leaky_relu": lambda x: nn.leaky_relu(x, negative_slope=0.2)}
NORMS = ("none", "layer", "batch")


def num_doublings(image_size: int) -> int:
  """n = log2(image_size / 4); ValueError unless image_size is 2^k ≥ 8."""
  if image_size < 8 or image_size & (image_size - 1):
    raise ValueError(
        f"image size {image_size} is not a power of two >= 8 (8, 16, 32, 64)")
  return int(math.log2(image_size // 4))


def _activation(name: str):
  if name not in ACTIVATIONS:
    raise ValueError(
        f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}")
  return ACTIVATIONS[name]


class DCGANGenerator(nn.Module):
  """G: z [B, Z] → images [B, S, S, C] in [−1, 1].

  Attributes:
    image_size: S, a power of two ≥ 8.
    channels: C (1 for digits/MNIST, 3 for CIFAR-10).
    base_filters: F, the channels of the last hidden layer (64 in DCGAN).
    activation: 'relu' (DCGAN) or 'leaky_relu' (slope 0.2).
    batch_norm: batch-norm after every hidden layer (DCGAN: on).
    conv_impl: 'xla' (library convolutions) or 'matmul' (the same maps as
      matrix products, much faster on XLA:CPU; `matmul_conv`).
  """

  image_size: int = 32
  channels: int = 3
  base_filters: int = 64
  activation: str = "relu"
  batch_norm: bool = True
  conv_impl: str = "xla"

  @nn.compact
  def __call__(self, z: chex.Array, *, train: bool = True) -> chex.Array:
    chex.assert_rank(z, 2)
    act = _activation(self.activation)
    n = num_doublings(self.image_size)
    _, conv_transpose = matmul_conv.conv_layers(self.conv_impl)

    def norm(h, name):
      if not self.batch_norm:
        return h
      return nn.BatchNorm(use_running_average=not train, momentum=0.9,
                          epsilon=1e-5, name=name)(h)

    width = self.base_filters * 2 ** (n - 1)
    h = nn.Dense(4 * 4 * width, kernel_init=dcgan_init, name="project")(z)
    h = act(norm(h.reshape(z.shape[0], 4, 4, width), "project_bn"))
    for i in range(n - 1):
      width //= 2
      h = conv_transpose(width, (4, 4), strides=(2, 2), padding="SAME",
                         kernel_init=dcgan_init, name=f"up_{i}")(h)
      h = act(norm(h, f"up_{i}_bn"))
    h = conv_transpose(self.channels, (4, 4), strides=(2, 2),
                       padding="SAME", kernel_init=dcgan_init,
                       name="output")(h)
    return jnp.tanh(h)


class DCGANDiscriminator(nn.Module):
  """Critic f (or PPO classifier C): x [B, S, S, C] → scores (logits) [B].

  Attributes:
    image_size: S, a power of two ≥ 8 (checked against the input).
    base_filters: F, the channels of the first convolution (64 in DCGAN).
    activation: 'leaky_relu' (DCGAN, slope 0.2) or 'relu'.
    norm: 'none' or 'layer' (per-example, gradient-penalty safe) after every
      convolution but the first; 'batch' for the classifier C only.
    dropout_rate: dropout on the features in train mode (0 in DCGAN; CT-GAN's
      consistency term needs it > 0).
    conv_impl: 'xla' or 'matmul', as in `DCGANGenerator`.
  """

  image_size: int = 32
  base_filters: int = 64
  activation: str = "leaky_relu"
  norm: str = "none"
  dropout_rate: float = 0.0
  conv_impl: str = "xla"

  @nn.compact
  def __call__(self, x: chex.Array, *, train: bool = True,
               return_features: bool = False):
    """Scores x; with `return_features` returns (scores [B], features [B, F'])
    where the features are the flattened last convolution (the input of the
    output layer, after dropout)."""
    chex.assert_rank(x, 4)
    chex.assert_equal(x.shape[1], self.image_size)
    chex.assert_equal(x.shape[2], self.image_size)
    if self.norm not in NORMS:
      raise ValueError(f"unknown norm {self.norm!r}; choose one of {NORMS}")
    act = _activation(self.activation)
    n = num_doublings(self.image_size)
    conv, _ = matmul_conv.conv_layers(self.conv_impl)
    width = self.base_filters
    h = act(conv(width, (4, 4), strides=(2, 2), padding="SAME",
                 kernel_init=dcgan_init, name="conv_0")(x))
    for i in range(1, n):
      width *= 2
      h = conv(width, (4, 4), strides=(2, 2), padding="SAME",
               kernel_init=dcgan_init, name=f"conv_{i}")(h)
      if self.norm == "layer":
        h = nn.LayerNorm(reduction_axes=(-3, -2, -1), name=f"conv_{i}_ln")(h)
      elif self.norm == "batch":
        h = nn.BatchNorm(use_running_average=not train, momentum=0.9,
                         epsilon=1e-5, name=f"conv_{i}_bn")(h)
      h = act(h)
    features = h.reshape(h.shape[0], -1)
    features = nn.Dropout(self.dropout_rate, deterministic=not train)(features)
    score = jnp.squeeze(
        nn.Dense(1, kernel_init=dcgan_init, name="output")(features), axis=-1)
    return (score, features) if return_features else score
