"""Oracle training data for the synthetic experiment, cached on disk.

docs/reference_code.md §5 (TextGAN/PPOGAN `utils/helpers.create_oracle`): a
random LSTM oracle (every parameter N(0, 1), V = 5000, embed/hidden 32)
generates 10,000 sentences of fixed length L = 20 or 40 from start token 1,
with no EOS; they are the training set. The reference stores the oracle's
state dict and its samples in separate files (`oracle_lstm.pt`,
`oracle_lstm_samples_10000[_sl40].pt`) and silently makes a NEW oracle when
the sl40 samples are missing. Here one seed determines both the oracle and its
samples, and the pair is stored in one file whose name and contents record the
seed, the model sizes and the sample shape.

This module knows no model: the caller passes the oracle module (anything with
`vocab_size`, `embed_dim` and `hidden_dim` attributes and a teacher-forced
`logits(tokens [B, L])` method, e.g. `models.oracle.OracleLSTM`) and its
sampler (e.g. `models.oracle.sample_oracle`).
"""
import os
import tempfile
from typing import Any, Callable

import chex
import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

SampleFn = Callable[[Any, nn.Module, chex.PRNGKey, int, int], chex.Array]

_PARAM_PREFIX = "param/"


def cache_filename(oracle: nn.Module, *, seed: int, length: int,
                   num_samples: int) -> str:
  """Name of the cache file of one (oracle sizes, seed, L, N)."""
  return (f"oracle_lstm_seed{seed}_v{oracle.vocab_size}_e{oracle.embed_dim}"
          f"_h{oracle.hidden_dim}_sl{length}_n{num_samples}.npz")


def _metadata(oracle: nn.Module, *, seed: int, length: int,
              num_samples: int) -> dict[str, int]:
  return dict(seed=seed, vocab_size=oracle.vocab_size,
              embed_dim=oracle.embed_dim, hidden_dim=oracle.hidden_dim,
              length=length, num_samples=num_samples)


def _init(oracle: nn.Module, key: chex.PRNGKey, length: int):
  return oracle.init(key, jnp.zeros((1, length), jnp.int32), method="logits")


def _flatten(params) -> dict[str, Any]:
  flat = flax.traverse_util.flatten_dict(flax.core.unfreeze(params), sep="/")
  return {_PARAM_PREFIX + k: v for k, v in flat.items()}


def _load(path: str, expected_meta: dict[str, int],
          expected_params) -> tuple[Any, np.ndarray]:
  """Reads a cache file; ValueError unless it holds what was asked for."""
  with np.load(path) as f:
    contents = {k: f[k] for k in f.files}
  meta = {k: int(contents[k]) for k in expected_meta if k in contents}
  if meta != expected_meta:
    raise ValueError(f"oracle cache {path} records {meta}, expected "
                     f"{expected_meta}; delete it to regenerate")
  n = len(_PARAM_PREFIX)
  flat = {k[n:]: v for k, v in contents.items() if k.startswith(_PARAM_PREFIX)}
  shapes = {k: v.shape for k, v in flat.items()}
  expected_shapes = {k[n:]: tuple(v.shape)
                     for k, v in _flatten(expected_params).items()}
  samples = contents["samples"]
  sample_shape = (expected_meta["num_samples"], expected_meta["length"])
  if shapes != expected_shapes or samples.shape != sample_shape:
    raise ValueError(
        f"oracle cache {path} holds parameters {shapes} and samples "
        f"{samples.shape}, expected {expected_shapes} and {sample_shape}; "
        "delete it to regenerate")
  params = flax.traverse_util.unflatten_dict(flat, sep="/")
  return jax.tree.map(jnp.asarray, params), samples.astype(np.int32)


def _save(path: str, params, samples: np.ndarray,
          meta: dict[str, int]) -> None:
  """Writes the cache file atomically (temporary file, then rename)."""
  arrays = {k: np.asarray(v) for k, v in _flatten(params).items()}
  arrays.update({k: np.asarray(v) for k, v in meta.items()})
  arrays["samples"] = samples
  with tempfile.NamedTemporaryFile(dir=os.path.dirname(path), suffix=".npz",
                                   delete=False) as f:
    np.savez(f, **arrays)
  os.replace(f.name, path)


def make_oracle_dataset(cache_dir: str, *, oracle: nn.Module,
                        sample_fn: SampleFn, seed: int, length: int,
                        num_samples: int = 10_000) -> tuple[Any, np.ndarray]:
  """The oracle's parameters and its training sentences, made once, cached.

  `jax.random.key(seed)` is split into an init key (`oracle.init`) and a
  sampling key (`sample_fn(params, oracle, key, num_samples, length)`). The
  pair is written to `cache_dir/cache_filename(...)` and read back on later
  calls; a cached file whose recorded seed, sizes or shapes differ from the
  request raises ValueError rather than being used.

  Args:
    cache_dir: directory of the cache (created if missing).
    oracle: the oracle module, e.g. `OracleLSTM(vocab_size=5000)`.
    sample_fn: its ancestral sampler, e.g. `models.oracle.sample_oracle`.
    seed: determines the oracle and its samples.
    length: L, the fixed sentence length (20 or 40 in the reference).
    num_samples: N (10,000 in the reference, which also writes a 5,000 set).

  Returns:
    (oracle variables, int32 np.ndarray [N, L] of token ids in [0, V)).
  """
  meta = _metadata(oracle, seed=seed, length=length, num_samples=num_samples)
  init_key, sample_key = jax.random.split(jax.random.key(seed))
  path = os.path.join(cache_dir, cache_filename(
      oracle, seed=seed, length=length, num_samples=num_samples))
  if os.path.exists(path):
    expected = jax.eval_shape(lambda k: _init(oracle, k, length), init_key)
    return _load(path, meta, expected)
  params = _init(oracle, init_key, length)
  samples = sample_fn(params, oracle, sample_key, num_samples, length)
  samples = np.asarray(samples, np.int32)
  os.makedirs(cache_dir, exist_ok=True)
  _save(path, params, samples, meta)
  return params, samples
