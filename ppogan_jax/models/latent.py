"""The generators' latent distribution."""
import chex
import jax
import jax.numpy as jnp


def gaussian_latent(key: chex.PRNGKey, batch_size: int, *,
                    dim: int) -> chex.Array:
  """z ~ N(0, I_dim), float32 [batch_size, dim]: the latent of the toy
  (`gan_toy.py`, dim 2), character-LM and image generators (nz = 128)."""
  return jax.random.normal(key, (batch_size, dim), dtype=jnp.float32)
