"""Tests for the LSTM oracle, its cached dataset and the text NLL metrics."""
import functools
import os
import shutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ppogan_jax.data import oracle as oracle_data
from ppogan_jax.metrics import text
from ppogan_jax.models import oracle as oracle_models

V, L = 50, 8


@pytest.fixture(params=["nojit", "jit"])
def variant(request):
  """Runs a test with and without `jax.jit`."""
  return (lambda f: f) if request.param == "nojit" else jax.jit


@functools.lru_cache
def _oracle():
  module = oracle_models.OracleLSTM(vocab_size=V)
  params = jax.jit(lambda k: module.init(k, jnp.zeros((1, L), jnp.int32),
                                         method="logits"))(jax.random.key(0))
  return module, params


def _sigmoid(x):
  return 1 / (1 + np.exp(-x))


def _reference_logits(params, tokens):
  """PyTorch nn.LSTM equations, gate order (i, f, g, o), in NumPy float64."""
  p = jax.tree.map(lambda a: np.asarray(a, np.float64), params["params"])
  batch, length = tokens.shape
  hidden = p["kernel_hh"].shape[0]
  h, c = np.zeros((batch, hidden)), np.zeros((batch, hidden))
  inputs = np.concatenate([np.ones((batch, 1), int), tokens[:, :-1]], axis=1)
  logits = []
  for t in range(length):
    x = p["embedding"][inputs[:, t]]
    gates = (x @ p["kernel_ih"] + p["bias_ih"]
             + h @ p["kernel_hh"] + p["bias_hh"])
    i, f, g, o = np.split(gates, 4, axis=-1)
    c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
    h = _sigmoid(o) * np.tanh(c)
    logits.append(h @ p["out_kernel"] + p["out_bias"])
  return np.stack(logits, axis=1)


# ------------------------------------------------------------------ oracle --


class TestOracleLSTM:

  def test_parameters_are_standard_normal(self):
    _, params = _oracle()
    shapes = jax.tree.map(lambda x: x.shape, params["params"])
    assert shapes == {"embedding": (V, 32), "kernel_ih": (32, 128),
                      "kernel_hh": (32, 128), "bias_ih": (128,),
                      "bias_hh": (128,), "out_kernel": (32, V),
                      "out_bias": (V,)}
    values = np.concatenate([np.ravel(x) for x in jax.tree.leaves(params)])
    np.testing.assert_allclose(values.mean(), 0.0, atol=0.05)
    np.testing.assert_allclose(values.std(), 1.0, atol=0.05)

  def test_full_size_shapes(self):
    module = oracle_models.OracleLSTM()
    shapes = jax.eval_shape(lambda: module.init(
        jax.random.key(0), jnp.zeros((1, 20), jnp.int32), method="logits"))
    assert shapes["params"]["embedding"].shape == (5000, 32)
    assert shapes["params"]["out_kernel"].shape == (32, 5000)

  def test_logits_match_pytorch_lstm_equations(self):
    module, params = _oracle()
    tokens = np.asarray(jax.random.randint(jax.random.key(1), (3, L), 0, V))
    logits = jax.jit(lambda x: module.apply(params, x, method="logits"))(
        jnp.asarray(tokens))
    assert logits.shape == (3, L, V) and logits.dtype == jnp.float32
    np.testing.assert_allclose(logits, _reference_logits(params, tokens),
                               rtol=1e-4, atol=1e-4)

  def test_sampling_is_reproducible(self):
    module, params = _oracle()
    sample = lambda seed, n, bs: np.asarray(oracle_models.sample_oracle(
        params, module, jax.random.key(seed), n, L, batch_size=bs))
    samples = sample(0, 100, 32)
    assert samples.shape == (100, L) and samples.dtype == np.int32
    assert samples.min() >= 0 and samples.max() < V
    np.testing.assert_array_equal(samples, sample(0, 100, 32))
    np.testing.assert_array_equal(samples, sample(0, 100, 100))
    np.testing.assert_array_equal(samples[:40], sample(0, 40, 32))
    assert np.mean(samples != sample(1, 100, 32)) > 0.5

  def test_nll_on_own_samples_matches_entropy(self):
    module, params = _oracle()
    samples = oracle_models.sample_oracle(params, module, jax.random.key(2),
                                          3000, L, batch_size=512)
    nll = text.oracle_nll(params, module, samples, batch_size=700)
    logits = jax.jit(lambda x: module.apply(params, x, method="logits"))(
        samples)
    log_p = jax.nn.log_softmax(logits)
    entropy = -jnp.sum(jnp.exp(log_p) * log_p, axis=-1)
    token_nll = text.token_nll(logits, samples)
    per_sequence_gap = np.mean(np.asarray(token_nll - entropy), axis=1)
    standard_error = per_sequence_gap.std() / np.sqrt(len(samples))
    assert abs(float(nll) - float(entropy.mean())) < 4 * standard_error
    np.testing.assert_allclose(nll, token_nll.mean(), rtol=1e-5)


# ----------------------------------------------------------------- dataset --


class _CountingSampler:

  def __init__(self):
    self.calls = 0

  def __call__(self, *args, **kwargs):
    self.calls += 1
    return oracle_models.sample_oracle(*args, **kwargs)


def _dataset(cache_dir, sampler=oracle_models.sample_oracle, *, seed=0,
             length=L, num_samples=64):
  return oracle_data.make_oracle_dataset(
      str(cache_dir), oracle=oracle_models.OracleLSTM(vocab_size=V),
      sample_fn=sampler, seed=seed, length=length, num_samples=num_samples)


class TestOracleDataset:

  def test_reproducible_from_seed(self, tmp_path):
    params, samples = _dataset(tmp_path / "a")
    params_again, samples_again = _dataset(tmp_path / "b")
    assert samples.shape == (64, L) and samples.dtype == np.int32
    np.testing.assert_array_equal(samples, samples_again)
    for x, y in zip(jax.tree.leaves(params), jax.tree.leaves(params_again)):
      np.testing.assert_array_equal(x, y)
    other_params, other_samples = _dataset(tmp_path / "a", seed=1)
    assert np.mean(samples != other_samples) > 0.5
    assert not np.allclose(params["params"]["embedding"],
                           other_params["params"]["embedding"])

  def test_cache_is_reused(self, tmp_path):
    sampler = _CountingSampler()
    params, samples = _dataset(tmp_path, sampler)
    (path,) = os.listdir(tmp_path)
    assert path == "oracle_lstm_seed0_v50_e32_h32_sl8_n64.npz"
    mtime = os.path.getmtime(tmp_path / path)
    cached_params, cached_samples = _dataset(tmp_path, sampler)
    assert sampler.calls == 1
    assert os.path.getmtime(tmp_path / path) == mtime
    np.testing.assert_array_equal(samples, cached_samples)
    for x, y in zip(jax.tree.leaves(params), jax.tree.leaves(cached_params)):
      np.testing.assert_array_equal(x, y)
    _, longer = _dataset(tmp_path, sampler, length=L + 2)
    assert sampler.calls == 2 and longer.shape == (64, L + 2)

  def test_mismatched_cache_is_refused(self, tmp_path):
    _dataset(tmp_path)
    source = tmp_path / "oracle_lstm_seed0_v50_e32_h32_sl8_n64.npz"
    shutil.copy(source, tmp_path / "oracle_lstm_seed1_v50_e32_h32_sl8_n64.npz")
    with pytest.raises(ValueError, match="'seed': 0.*expected.*'seed': 1"):
      _dataset(tmp_path, seed=1)
    shutil.copy(source, tmp_path / "oracle_lstm_seed0_v50_e32_h32_sl9_n64.npz")
    with pytest.raises(ValueError, match="'length': 8.*expected.*'length': 9"):
      _dataset(tmp_path, length=9)


# ----------------------------------------------------------------- metrics --


class TestTextMetrics:

  def test_per_token_nll_by_hand(self, variant):
    probs = np.array([[[0.5, 0.25, 0.25], [0.1, 0.2, 0.7]],
                      [[0.3, 0.3, 0.4], [0.6, 0.2, 0.2]]])
    tokens = jnp.array([[0, 2], [1, 0]])
    expected = -(np.log(0.5) + np.log(0.7) + np.log(0.3) + np.log(0.6)) / 4
    logits = jnp.asarray(np.log(probs) + 3.0, jnp.float32)
    np.testing.assert_allclose(variant(text.per_token_nll)(logits, tokens),
                               expected, rtol=1e-6)
    np.testing.assert_allclose(
        variant(text.token_nll)(logits, tokens),
        -np.log([[0.5, 0.7], [0.3, 0.6]]), rtol=1e-6)

  def test_model_nll_keeps_the_last_partial_batch(self):
    module, params = _oracle()
    samples = jax.random.randint(jax.random.key(3), (37, L), 0, V)
    logits = module.apply(params, samples, method="logits")
    expected = text.per_token_nll(logits, samples)
    for batch_size in (8, 37, 64):
      np.testing.assert_allclose(
          text.model_nll(params, module, samples, batch_size=batch_size),
          expected, rtol=1e-5)
    dropped = text.per_token_nll(logits[:32], samples[:32])
    assert not np.isclose(text.oracle_nll(params, module, samples,
                                          batch_size=8), dropped, rtol=1e-4)
