"""Likelihood metrics of the synthetic-oracle experiment.

docs/reference_code.md §5 (TextGAN/PPOGAN `utils/helpers.NLL.cal_nll`):
teacher-forced per-token negative log-likelihood, input
[BOS, x_1 .. x_{L−1}], target x_1 .. x_L.

  NLL_oracle = model_nll(oracle, generator samples)      (`oracle_nll`)
  NLL_gen    = model_nll(generator, oracle samples)
               with method="teacher_forced_logits"
  NLL_div    = model_nll(generator, its own samples)
"""
import functools

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp


def token_nll(logits: chex.Array, tokens: chex.Array) -> chex.Array:
  """−log softmax(logits)[token] at every position.

  Args:
    logits: [B, L, V] next-token logits (log-softmax taken in float32).
    tokens: int [B, L] targets.

  Returns:
    float32 [B, L].
  """
  chex.assert_rank([logits, tokens], [3, 2])
  chex.assert_equal_shape_prefix([logits, tokens], 2)
  chex.assert_type(tokens, int)
  log_probs = jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1)
  return -jnp.take_along_axis(log_probs, tokens[..., None], axis=-1)[..., 0]


def per_token_nll(logits: chex.Array, tokens: chex.Array) -> chex.Array:
  """Mean over the B·L tokens of −log p(x_t | x_<t).

  `nn.NLLLoss()` on the flattened log-probabilities, as in the reference.

  Args:
    logits: [B, L, V] next-token logits.
    tokens: int [B, L] targets.

  Returns:
    float32 scalar.
  """
  return jnp.mean(token_nll(logits, tokens))


@functools.partial(jax.jit,
                   static_argnames=("module", "method", "batch_size"))
def model_nll(params, module: nn.Module, samples: chex.Array, *,
              method: str = "logits", batch_size: int = 256) -> chex.Array:
  """Per-token NLL of a sequence model on all of `samples`.

    NLL = 1/(N·L) Σ_n Σ_t −log p(x_{n,t} | x_{n,<t}).

  Batches of `batch_size` run through `jax.lax.map`; the last partial batch is
  zero-padded and its padding masked out, so every sample counts. The
  reference wraps the samples in a DataLoader with drop_last (10,000 → 156·64
  = 9,984 sentences) and averages the equal-sized batch means, i.e. the same
  per-token mean over the sentences it keeps; here none is dropped.

  Args:
    params: the model's variables.
    module: a Flax module (static) whose `method` maps int [b, L] to
      teacher-forced logits [b, L, V].
    samples: int [N, L] token ids.
    method: that method's name: "logits" (OracleLSTM) or
      "teacher_forced_logits" (RelGANGenerator).
    batch_size: sentences per forward pass.

  Returns:
    float32 scalar.
  """
  chex.assert_rank(samples, 2)
  chex.assert_type(samples, int)
  num_samples, length = samples.shape
  batch_size = min(batch_size, num_samples)
  num_batches = -(-num_samples // batch_size)
  padded = num_batches * batch_size
  batches = jnp.pad(samples, ((0, padded - num_samples), (0, 0)))
  batches = batches.reshape(num_batches, batch_size, length)
  weights = (jnp.arange(padded) < num_samples).astype(jnp.float32)
  weights = weights.reshape(num_batches, batch_size, 1)

  def batch_total(batch_and_weights):
    tokens, w = batch_and_weights
    logits = module.apply(params, tokens, method=method)
    return jnp.sum(token_nll(logits, tokens) * w)

  totals = jax.lax.map(batch_total, (batches, weights))
  return jnp.sum(totals) / (num_samples * length)


def oracle_nll(oracle_params, oracle_module: nn.Module, samples: chex.Array,
               *, batch_size: int = 256) -> chex.Array:
  """NLL_oracle: per-token NLL of `samples` [N, L] under the oracle.

  `model_nll` with the oracle's `logits` method. The reference scores the
  generator's 10,000 samples and reports this rounded to 4 decimals.
  """
  return model_nll(oracle_params, oracle_module, samples, method="logits",
                   batch_size=batch_size)
