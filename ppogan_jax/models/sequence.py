"""Conventions shared by the sequence models (oracle LSTM, RelGAN generator)."""
import chex
import jax.numpy as jnp

PADDING_IDX = 0  # 'EOS', also the padding id (TextGAN).
BOS = 1  # the start letter (TextGAN start_letter).


def teacher_forcing_inputs(tokens: chex.Array) -> chex.Array:
  """[BOS, x_1 .. x_{L−1}] for targets tokens = [x_1 .. x_L], int [B, L]."""
  chex.assert_rank(tokens, 2)
  start = jnp.full((tokens.shape[0], 1), BOS, tokens.dtype)
  return jnp.concatenate([start, tokens[:, :-1]], axis=1)
