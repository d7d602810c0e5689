"""The synthetic-data oracle: a randomly initialised LSTM language model.

docs/reference_code.md §5 (TextGAN/PPOGAN `models/Oracle.py`,
`models/generator.py` `LSTMGenerator`, `init_oracle`): Embedding(V, 32) →
one-layer nn.LSTM(32 → 32) → Linear(32 → V), every parameter drawn from
N(0, 1). The oracle is never trained; its samples are the "real" data of the
oracle experiment and its log-likelihood scores the generator's samples
(NLL_oracle).
"""
import functools
from typing import NamedTuple

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp

from ppogan_jax.models import sequence
from ppogan_jax.models.sequence import BOS


class LSTMCarry(NamedTuple):
  """Recurrent state of the oracle LSTM: hidden h [B, H] and cell c [B, H]."""
  h: chex.Array
  c: chex.Array


class _LSTMWeights(NamedTuple):
  kernel_ih: chex.Array
  kernel_hh: chex.Array
  bias_ih: chex.Array
  bias_hh: chex.Array


def _lstm_cell(w: _LSTMWeights, carry: LSTMCarry, x: chex.Array) -> LSTMCarry:
  """One step of PyTorch's nn.LSTM, gate order (i, f, g, o).

    [i, f, g, o] = x W_ih + h W_hh + b_ih + b_hh
    c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g),   h' = σ(o) ⊙ tanh(c').

  Args:
    w: kernels [E, 4H], [H, 4H] (PyTorch's weight_ih, weight_hh transposed)
      and biases [4H].
    carry: (h, c), each [B, H].
    x: embedded input [B, E].

  Returns:
    The next (h, c).
  """
  bias = (w.bias_ih + w.bias_hh)[None, :]
  gates = x @ w.kernel_ih + carry.h @ w.kernel_hh + bias
  i, f, g, o = jnp.split(gates, 4, axis=-1)
  c = jax.nn.sigmoid(f) * carry.c + jax.nn.sigmoid(i) * jnp.tanh(g)
  h = jax.nn.sigmoid(o) * jnp.tanh(c)
  return LSTMCarry(h=h, c=c)


class OracleLSTM(nn.Module):
  """LSTM oracle, every parameter ~ N(0, 1) (docs/reference_code.md §5).

  Parameters (all N(0, 1) as in init_oracle; PyTorch layouts transposed to
  x @ W):
    embedding [V, E]; kernel_ih [E, 4H]; kernel_hh [H, 4H]; bias_ih [4H];
    bias_hh [4H]; out_kernel [H, V]; out_bias [V].

  PyTorch's nn.LSTM has two bias vectors b_ih and b_hh that only enter as
  their sum; both are kept as parameters, so the effective bias is
  N(0, 1) + N(0, 1) = N(0, 2) exactly as in the reference and a PyTorch state
  dict maps one-to-one. The embedding's padding row 0 is an ordinary N(0, 1)
  row (init_oracle overwrites it) and token 0 an ordinary token.

  Attributes:
    vocab_size: V (5000 in the reference).
    embed_dim: E (gen_embed_dim = 32).
    hidden_dim: H (gen_hidden_dim = 32).
  """
  vocab_size: int = 5000
  embed_dim: int = 32
  hidden_dim: int = 32

  def setup(self):
    normal = nn.initializers.normal(stddev=1.0)
    four_h = 4 * self.hidden_dim
    self.embedding = self.param("embedding", normal,
                                (self.vocab_size, self.embed_dim))
    self.kernel_ih = self.param("kernel_ih", normal, (self.embed_dim, four_h))
    self.kernel_hh = self.param("kernel_hh", normal, (self.hidden_dim, four_h))
    self.bias_ih = self.param("bias_ih", normal, (four_h,))
    self.bias_hh = self.param("bias_hh", normal, (four_h,))
    self.out_kernel = self.param("out_kernel", normal,
                                 (self.hidden_dim, self.vocab_size))
    self.out_bias = self.param("out_bias", normal, (self.vocab_size,))

  def _weights(self) -> _LSTMWeights:
    return _LSTMWeights(self.kernel_ih, self.kernel_hh, self.bias_ih,
                        self.bias_hh)

  def _project(self, h: chex.Array) -> chex.Array:
    bias = self.out_bias.reshape((1,) * (h.ndim - 1) + (-1,))
    return h @ self.out_kernel + bias

  def initial_carry(self, batch_size: int) -> LSTMCarry:
    """Zero (h, c), each [batch_size, H], as `LSTMGenerator.init_hidden`."""
    zeros = jnp.zeros((batch_size, self.hidden_dim), jnp.float32)
    return LSTMCarry(h=zeros, c=zeros)

  def step(self, tokens: chex.Array,
           carry: LSTMCarry) -> tuple[chex.Array, LSTMCarry]:
    """One autoregressive step.

    Args:
      tokens: int [B], the previous tokens (BOS = 1 at the first step).
      carry: (h, c), each [B, H].

    Returns:
      (logits [B, V] of the next token, next carry).
    """
    chex.assert_rank(tokens, 1)
    carry = _lstm_cell(self._weights(), carry, self.embedding[tokens])
    return self._project(carry.h), carry

  def logits(self, tokens: chex.Array) -> chex.Array:
    """Teacher-forced next-token logits.

    The input is [BOS, x_1 .. x_{L−1}]; position t holds the logits of
    p(x_t | x_<t), as `LSTMGenerator.batchNLLLoss` with `inp` = the target
    shifted right by the start letter. The time loop is a `jax.lax.scan`.

    Args:
      tokens: int [B, L], the targets x_1 .. x_L.

    Returns:
      float32 [B, L, V].
    """
    batch_size = tokens.shape[0]
    inputs = sequence.teacher_forcing_inputs(tokens)
    embedded = jnp.swapaxes(self.embedding[inputs], 0, 1)
    weights = self._weights()

    def body(carry, x):
      carry = _lstm_cell(weights, carry, x)
      return carry, carry.h

    _, hidden = jax.lax.scan(body, self.initial_carry(batch_size), embedded)
    return self._project(jnp.swapaxes(hidden, 0, 1))


@functools.partial(
    jax.jit, static_argnames=("module", "num_samples", "length", "batch_size"))
def sample_oracle(params, module: OracleLSTM, key: chex.PRNGKey,
                  num_samples: int, length: int, *,
                  batch_size: int = 256) -> chex.Array:
  """Ancestral samples x_t ~ softmax(logits(x_<t)) from BOS = 1, no EOS.

  docs/reference_code.md §5 (`LSTMGenerator.sample`: multinomial from the
  softmax, start letter 1, fixed length, batches of 4·64 = 256). Sample n
  draws with its own key split(key, ·)[n] folded with the step index, so it
  depends only on (key, n): not on `batch_size`, and the first 5,000 of a
  10,000-sample draw are the 5,000-sample draw. (The reference consumes one
  global torch RNG stream.)

  Args:
    params: the oracle's variables.
    module: the OracleLSTM (static).
    key: PRNG key.
    num_samples: N.
    length: L (max_seq_len: 20 or 40).
    batch_size: sentences per scan; the last batch is padded, then cut off.

  Returns:
    int32 [N, L] token ids.
  """
  batch_size = min(batch_size, num_samples)
  num_batches = -(-num_samples // batch_size)
  keys = jax.random.split(key, num_batches * batch_size)
  keys = keys.reshape(num_batches, batch_size)

  def sample_batch(batch_keys):
    def body(state, t):
      carry, tokens = state
      logits, carry = module.apply(params, tokens, carry,
                                   method=OracleLSTM.step)
      step_keys = jax.vmap(jax.random.fold_in, in_axes=(0, None))(batch_keys,
                                                                   t)
      tokens = jax.vmap(jax.random.categorical)(step_keys, logits)
      tokens = tokens.astype(jnp.int32)
      return (carry, tokens), tokens

    carry = module.apply(params, batch_size, method=OracleLSTM.initial_carry)
    start = jnp.full((batch_size,), BOS, jnp.int32)
    _, tokens = jax.lax.scan(body, (carry, start), jnp.arange(length))
    return tokens.T

  samples = jax.lax.map(sample_batch, keys)
  return samples.reshape(num_batches * batch_size, length)[:num_samples]
