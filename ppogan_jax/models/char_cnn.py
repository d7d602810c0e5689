"""The residual 1-D CNNs of WGAN-GP's character language model.

Gulrajani et al. (2017), §5.5 and `gan_language.py` (docs/reference_code.md
§9.1), with DIM = 512 channels, L = 32 characters, V characters and 5 blocks:

  ResBlock: x ↦ x + 0.3·Conv1d_5(ReLU(Conv1d_5(ReLU(x)))), kernel 5, 'SAME',
  G: z ∈ R^128 → Linear(128 → L·DIM) → [B, L, DIM] → 5 ResBlocks
       → Conv1d 1×1 (DIM → V) → softmax over V (soft one-hots [B, L, V]),
  D: x [B, L, V] → Conv1d 1×1 (V → DIM) → 5 ResBlocks
       → flatten [B, L·DIM] → Linear(L·DIM → 1) (scores [B]).

There is no normalisation and no dropout. `CharCritic` also serves as
PPO-GAN's real/fake classifier C, whose output is then a logit.

Initialisation follows tflib: convolutions use its 'he_init', uniform with
std √(4/(fan_in + fan_out)), fan_in = in·k, fan_out = out·k; the Linear
layers use its default, Glorot uniform with std √(2/(fan_in + fan_out));
biases are 0. The reference's tensors are channel-major ([B, DIM, L]), so
its Linear maps to (and its flatten reads) the units in another order; that
is a fixed permutation of i.i.d. initialised weights, the same model.
"""
import chex
import flax.linen as nn
import jax.numpy as jnp

from ppogan_jax.models import toy

# Variance 2/fan_avg = 4/(fan_in + fan_out), uniform: tflib's 'he_init'.
tflib_he_uniform = nn.initializers.variance_scaling(2.0, "fan_avg", "uniform")


def _conv(features: int, kernel_size: int, name: str) -> nn.Conv:
  return nn.Conv(features, (kernel_size,), padding="SAME",
                 kernel_init=tflib_he_uniform, name=name)


class ResBlock(nn.Module):
  """x [B, L, C] ↦ x + scale·Conv_k(ReLU(Conv_k(ReLU(x)))), same shape.

  Attributes:
    kernel_size: k (5 in the reference).
    scale: the residual branch's factor (0.3 in the reference).
  """

  kernel_size: int = 5
  scale: float = 0.3

  @nn.compact
  def __call__(self, x: chex.Array) -> chex.Array:
    chex.assert_rank(x, 3)
    channels = x.shape[-1]
    h = _conv(channels, self.kernel_size, "conv_1")(nn.relu(x))
    h = _conv(channels, self.kernel_size, "conv_2")(nn.relu(h))
    return x + self.scale * h


def _res_blocks(h: chex.Array, num_blocks: int) -> chex.Array:
  """`num_blocks` ResBlocks, named block_0, block_1, ... in the caller."""
  for i in range(num_blocks):
    h = ResBlock(name=f"block_{i}")(h)
  return h


class CharGenerator(nn.Module):
  """G: z [B, Z] → per-position character distributions [B, L, V].

  Attributes:
    vocab_size: V.
    length: L (SEQ_LEN = 32).
    dim: the channels (DIM = 512).
    num_blocks: the ResBlocks (5).
  """

  vocab_size: int
  length: int = 32
  dim: int = 512
  num_blocks: int = 5

  @nn.compact
  def __call__(self, z: chex.Array, *, train: bool = True) -> chex.Array:
    """Maps z [B, Z] to softmax outputs [B, L, V] (rows sum to 1).

    `train` is unused (no dropout or batch-norm); it is part of the
    generator interface.
    """
    chex.assert_rank(z, 2)
    h = nn.Dense(self.length * self.dim, kernel_init=toy.glorot_uniform,
                 name="input")(z)
    h = _res_blocks(h.reshape(z.shape[0], self.length, self.dim),
                    self.num_blocks)
    logits = _conv(self.vocab_size, 1, "output")(h)
    return nn.softmax(logits.astype(jnp.float32), axis=-1)


class CharCritic(nn.Module):
  """Critic D (or PPO classifier C): x [B, L, V] → scores (logits) [B].

  Attributes:
    dim: the channels (DIM = 512).
    num_blocks: the ResBlocks (5).
  """

  dim: int = 512
  num_blocks: int = 5

  @nn.compact
  def __call__(self, x: chex.Array, *, train: bool = True) -> chex.Array:
    """Scores one-hot or soft one-hot sequences x [B, L, V]; `train` is
    unused (no dropout or batch-norm)."""
    chex.assert_rank(x, 3)
    h = _res_blocks(_conv(self.dim, 1, "input")(x), self.num_blocks)
    score = nn.Dense(1, kernel_init=toy.glorot_uniform, name="output")(
        h.reshape(h.shape[0], -1))
    return jnp.squeeze(score, axis=-1)
