"""MLP generator and critic of WGAN-GP's `gan_toy.py` (Gulrajani et al., 2017).

  G: z ∈ R² → depth × [Dense(hidden) + ReLU] → Dense(2),
  D: x ∈ R² → depth × [Dense(hidden) + ReLU] → Dense(1) → squeeze,
with hidden = 512 and depth = 3 in the reference. `MLPCritic` also serves as
PPO-GAN's real/fake classifier C, whose output is then a logit.

Initialisation follows `tflib.ops.linear.Linear`: weights are uniform with
half-width √3·std, std = √(2/fan_in) ('he') for the ReLU layers and
std = √(2/(fan_in + fan_out)) ('glorot') for the output layer; biases are 0.
"""
import chex
import flax.linen as nn
import jax.numpy as jnp

he_uniform = nn.initializers.variance_scaling(2.0, "fan_in", "uniform")
glorot_uniform = nn.initializers.variance_scaling(1.0, "fan_avg", "uniform")


class _ReLUTower(nn.Module):
  """depth × [Dense(hidden, 'he' uniform init) + ReLU]."""

  hidden: int
  depth: int

  @nn.compact
  def __call__(self, x: chex.Array) -> chex.Array:
    for _ in range(self.depth):
      x = nn.relu(nn.Dense(self.hidden, kernel_init=he_uniform)(x))
    return x


class MLPGenerator(nn.Module):
  """Toy generator G: z [B, Z] → x [B, output_dim].

  Attributes:
    hidden: width of the ReLU layers (DIM = 512 in `gan_toy.py`).
    depth: number of ReLU layers (3 in `gan_toy.py`).
    output_dim: data dimension (2).
  """

  hidden: int = 512
  depth: int = 3
  output_dim: int = 2

  @nn.compact
  def __call__(self, z: chex.Array, *, train: bool = True) -> chex.Array:
    """Maps latents z [B, Z] to samples [B, output_dim].

    `train` is unused (no dropout or batch-norm); it is part of the interface
    shared with the image and text generators.
    """
    chex.assert_rank(z, 2)
    h = _ReLUTower(self.hidden, self.depth, name="tower")(z)
    return nn.Dense(self.output_dim, kernel_init=glorot_uniform,
                    name="output")(h)


class MLPCritic(nn.Module):
  """Toy critic D (or PPO classifier C): x [B, 2] → scores (or logits) [B].

  Attributes:
    hidden: width of the ReLU layers (DIM = 512 in `gan_toy.py`).
    depth: number of ReLU layers (3 in `gan_toy.py`).
    dropout_rate: dropout on the last hidden layer in train mode (0 in
      `gan_toy.py`; CT-GAN's consistency term needs it > 0, since its two
      passes differ only by their dropout masks).
  """

  hidden: int = 512
  depth: int = 3
  dropout_rate: float = 0.0

  @nn.compact
  def __call__(self, x: chex.Array, *, train: bool = True,
               return_features: bool = False):
    """Scores samples x [B, D]; returns [B], or ([B], features [B, hidden])
    with `return_features` (the input of the output layer, for CT-GAN)."""
    chex.assert_rank(x, 2)
    h = _ReLUTower(self.hidden, self.depth, name="tower")(x)
    h = nn.Dropout(self.dropout_rate, deterministic=not train)(h)
    score = jnp.squeeze(
        nn.Dense(1, kernel_init=glorot_uniform, name="output")(h), axis=-1)
    return (score, h) if return_features else score
