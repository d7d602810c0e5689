"""Tests for RelGAN: generator, Gumbel-softmax, temperatures, discriminator."""
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ppogan_jax.models import relgan

V, L, B = 50, 8, 4


# ------------------------------------------------------------ temperatures --


class TestInverseTemperature:

  # Endpoint where each schedule reaches β_max (None: approaches it only).
  END = {"exp": 5000, "lin": 4999, "log": 4999, "sigmoid": None,
         "quad": 4999, "sqrt": 4999, "no": None}
  # β at i = 2500 with β_max = 100, N = 5000, from the §4.2 formulas by hand.
  AT_2500 = {"exp": 10.0,
             "lin": 1 + 2500 / 4999 * 99,
             "log": 1 + 99 / math.log(5000) * math.log(2501),
             "sigmoid": 50.5,
             "quad": 1 + 99 / 4999**2 * 2500**2,
             "sqrt": 1 + 99 / math.sqrt(4999) * 50,
             "no": 1.0}

  @pytest.mark.parametrize("schedule", relgan.TEMPERATURE_SCHEDULES)
  def test_endpoints_and_hand_value(self, schedule):
    beta = lambda i: float(relgan.inverse_temperature(
        i, maximum=100.0, schedule=schedule))
    start = 1.0 + 99 / (1 + math.exp(10)) if schedule == "sigmoid" else 1.0
    np.testing.assert_allclose(beta(0), start, rtol=1e-6)
    if self.END[schedule] is not None:
      np.testing.assert_allclose(beta(self.END[schedule]), 100.0, rtol=1e-5)
    if schedule == "sigmoid":
      np.testing.assert_allclose(beta(5000), 100 - 99 / (1 + math.exp(10)),
                                 rtol=1e-6)
    np.testing.assert_allclose(beta(2500), self.AT_2500[schedule], rtol=1e-5)

  @pytest.mark.parametrize("schedule", relgan.TEMPERATURE_SCHEDULES)
  def test_monotone_and_jittable(self, schedule):
    steps = jnp.arange(0, 5001, 25)
    fn = lambda s, m: relgan.inverse_temperature(s, maximum=m,
                                                 schedule=schedule)
    eager = fn(steps, 5.0)
    traced = jax.jit(jax.vmap(fn, in_axes=(0, None)))(steps, 5.0)
    np.testing.assert_allclose(traced, eager, rtol=1e-6)
    assert traced.dtype == jnp.float32
    assert np.all(np.diff(np.asarray(eager)) >= 0)

  def test_horizon_keyword(self):
    beta = relgan.inverse_temperature(100, maximum=4.0, schedule="exp",
                                      horizon=200)
    np.testing.assert_allclose(beta, 2.0, rtol=1e-6)

  def test_unknown_schedule(self):
    with pytest.raises(ValueError, match="'exp'.*'sqrt'"):
      relgan.inverse_temperature(0, maximum=2.0, schedule="cosine")


# ------------------------------------------------------------ generator --


def _sigmoid(x):
  return 1 / (1 + np.exp(-x))


def _softmax(x):
  e = np.exp(x - x.max(-1, keepdims=True))
  return e / e.sum(-1, keepdims=True)


def _dense(p, x):
  return x @ np.asarray(p["kernel"], np.float64) + np.asarray(p["bias"])


def _layer_norm(p, x):
  mean = x.mean(axis=(-2, -1), keepdims=True)
  var = x.var(axis=(-2, -1), keepdims=True)
  return (x - mean) / np.sqrt(var + 1e-5) * p["scale"] + p["bias"]


def _rmc_step(p, inputs, memory, num_heads, head_size):
  """TextGAN RelationalMemory.forward_step, transcribed in NumPy float64."""
  batch, slots, size = memory.shape
  x = _dense(p["input_projector"], inputs)[:, None, :]
  m = np.concatenate([memory, x], axis=1)
  qkv = _layer_norm(p["qkv_layernorm"], _dense(p["qkv_projector"], m))
  qkv = qkv.reshape(batch, slots + 1, num_heads, 3 * head_size)
  heads = []
  for h in range(num_heads):
    q = qkv[:, :, h, :head_size] * head_size**-0.5
    k = qkv[:, :, h, head_size:2 * head_size]
    v = qkv[:, :, h, 2 * head_size:]
    heads.append(_softmax(q @ k.transpose(0, 2, 1)) @ v)
  m = _layer_norm(p["attended_memory_layernorm"],
                  m + np.concatenate(heads, axis=-1))
  mlp = m
  for _ in range(2):
    mlp = np.maximum(_dense(p["attention_mlp"], mlp), 0)
  m = _layer_norm(p["attended_memory_layernorm2"], m + mlp)
  gates = (_dense(p["input_gate_projector"], x)
           + _dense(p["memory_gate_projector"], np.tanh(memory)))
  i = _sigmoid(gates[..., :size] + p["input_bias"])
  f = _sigmoid(gates[..., size:] + p["forget_bias"])
  memory = i * np.tanh(m[:, :slots]) + f * memory
  return memory.reshape(batch, -1), memory


def _reference_logits(params, inputs, gen):
  """Step-by-step NumPy generator on given input tokens [B, L] → [B, L, V]."""
  p = jax.tree.map(lambda a: np.asarray(a, np.float64), params["params"])
  cell = p["cell"]
  size = gen.num_heads * gen.head_size
  memory = np.zeros((inputs.shape[0], gen.mem_slots, size))
  memory[:, np.arange(gen.mem_slots), np.arange(gen.mem_slots)] = 1.0
  logits = []
  for t in range(inputs.shape[1]):
    out, memory = _rmc_step(cell["rmc"], cell["embedding"][inputs[:, t]],
                            memory, gen.num_heads, gen.head_size)
    logits.append(_dense(cell["lstm2out"], out))
  return np.stack(logits, axis=1)


def _shift_right(tokens):
  return np.concatenate([np.ones((tokens.shape[0], 1), tokens.dtype),
                         tokens[:, :-1]], axis=1)


@functools.lru_cache
def _make_generator(mem_slots):
  gen = relgan.RelGANGenerator(vocab_size=V, max_length=L, embed_dim=8,
                               mem_slots=mem_slots, num_heads=2, head_size=8)
  init = jax.jit(lambda k: gen.init(k, jnp.zeros((B, L, V)),
                                    inverse_temperature=1.0))
  return gen, init(jax.random.key(0))


@pytest.fixture(scope="module")
def generator():
  return _make_generator(mem_slots=1)


@pytest.fixture(scope="module", params=[1, 2], ids=["slots1", "slots2"])
def any_generator(request):
  return _make_generator(mem_slots=request.param)


class TestGenerator:

  def test_teacher_forced_logits_match_reference_loop(self, any_generator):
    gen, params = any_generator
    tokens = np.asarray(jax.random.randint(jax.random.key(1), (B, L), 0, V))
    logits = jax.jit(lambda x: gen.apply(
        params, x, method=gen.teacher_forced_logits))(jnp.asarray(tokens))
    assert logits.shape == (B, L, V) and logits.dtype == jnp.float32
    expected = _reference_logits(params, _shift_right(tokens), gen)
    np.testing.assert_allclose(logits, expected, atol=2e-4, rtol=2e-4)

  def test_step_loop_matches_scan(self, generator):
    gen, params = generator
    tokens = jax.random.randint(jax.random.key(2), (B, L), 0, V)
    inputs = _shift_right(np.asarray(tokens))
    memory = gen.apply(params, B, method=gen.initial_memory)
    step = jax.jit(lambda x, m: gen.apply(params, x, m, method=gen.step))
    stepped = []
    for t in range(L):
      logits, memory = step(jnp.asarray(inputs[:, t]), memory)
      stepped.append(logits)
    teacher_forced = jax.jit(lambda x: gen.apply(
        params, x, method=gen.teacher_forced_logits))(tokens)
    np.testing.assert_allclose(jnp.stack(stepped, axis=1), teacher_forced,
                               atol=1e-5, rtol=1e-5)

  def test_rollout_matches_reference_loop(self, any_generator):
    gen, params = any_generator
    noise = jax.random.gumbel(jax.random.key(3), (B, L, V))
    out = jax.jit(lambda z: gen.apply(params, z, inverse_temperature=1.0))(
        noise)
    tokens = np.asarray(out.tokens)
    assert out.tokens.dtype == jnp.int32
    assert out.soft_one_hot.shape == (B, L, V)
    assert out.soft_one_hot.dtype == jnp.float32
    expected = _reference_logits(params, _shift_right(tokens), gen)
    perturbed = expected + np.asarray(noise, np.float64)
    np.testing.assert_array_equal(tokens, perturbed.argmax(-1))
    np.testing.assert_allclose(out.soft_one_hot, _softmax(perturbed),
                               atol=1e-5)

  def test_zero_noise_gives_argmax_of_logits(self, generator):
    gen, params = generator
    out = jax.jit(lambda z: gen.apply(params, z, inverse_temperature=1.0))(
        jnp.zeros((B, L, V)))
    logits = jax.jit(lambda x: gen.apply(
        params, x, method=gen.teacher_forced_logits))(out.tokens)
    np.testing.assert_array_equal(out.tokens, jnp.argmax(logits, -1))
    np.testing.assert_allclose(out.soft_one_hot, jax.nn.softmax(logits),
                               atol=1e-6)

  def test_soft_one_hot_is_a_distribution_and_hardens(self, generator):
    gen, params = generator
    noise = jax.random.gumbel(jax.random.key(4), (B, L, V))
    apply = jax.jit(lambda z, beta: gen.apply(params, z,
                                              inverse_temperature=beta))
    soft = apply(noise, 0.3).soft_one_hot
    np.testing.assert_allclose(soft.sum(-1), 1.0, rtol=1e-5)
    assert np.all(soft > 0)
    hard = apply(noise, 1e6)
    np.testing.assert_allclose(hard.soft_one_hot,
                               jax.nn.one_hot(hard.tokens, V), atol=1e-6)
    np.testing.assert_array_equal(hard.tokens, apply(noise, 0.3).tokens)

  def test_gradients_reach_every_parameter(self, generator):
    gen, params = generator
    noise = jax.random.gumbel(jax.random.key(5), (B, L, V))
    weights = jax.random.normal(jax.random.key(6), (B, L, V))

    def loss(p):
      soft = gen.apply(p, noise, inverse_temperature=2.0).soft_one_hot
      return jnp.sum(soft * weights)

    grads = jax.jit(jax.grad(loss))(params)
    flat = jax.tree_util.tree_flatten_with_path(grads)[0]
    for path, g in flat:
      assert np.all(np.isfinite(g)), path
      assert np.any(g != 0), f"no gradient reaches {jax.tree_util.keystr(path)}"

  def test_padding_row_gets_no_gradient(self, generator):
    gen, params = generator
    tokens = jnp.zeros((B, L), jnp.int32).at[:, ::2].set(3)

    def nll(p):
      logits = gen.apply(p, tokens, method=gen.teacher_forced_logits)
      return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits),
                                           tokens[..., None], -1))

    grad = jax.jit(jax.grad(nll))(params)["params"]["cell"]["embedding"]
    np.testing.assert_array_equal(grad[relgan.PADDING_IDX], 0.0)
    assert np.any(grad[relgan.BOS] != 0) and np.any(grad[3] != 0)

  def test_init_follows_reference_rule(self, generator):
    gen, params = generator
    rmc = params["params"]["cell"]["rmc"]
    assert float(rmc["forget_bias"]) == 1.0
    assert float(rmc["input_bias"]) == 0.0
    for path, x in jax.tree_util.tree_flatten_with_path(params)[0]:
      name = jax.tree_util.keystr(path)
      if x.ndim == 0:
        continue
      torch_dim0 = x.shape[-1] if name.endswith("['kernel']") else x.shape[0]
      std = 1 / math.sqrt(torch_dim0)
      assert np.all(np.abs(x) <= 2 * std + 1e-7), name
      if x.size >= 500:
        # N(0,1) cut at ±2 has std 0.8796 (no variance correction).
        np.testing.assert_allclose(np.std(x), 0.8796 * std, rtol=0.12,
                                   err_msg=name)

  def test_full_size_parameter_shapes(self):
    gen = relgan.RelGANGenerator(vocab_size=5000, max_length=20)
    shapes = jax.eval_shape(
        lambda: gen.init(jax.random.key(0), jnp.zeros((2, 20, 5000)),
                         inverse_temperature=1.0))["params"]["cell"]
    assert shapes["embedding"].shape == (5000, 32)
    assert shapes["lstm2out"]["kernel"].shape == (512, 5000)
    rmc = shapes["rmc"]
    assert rmc["input_projector"]["kernel"].shape == (32, 512)
    assert rmc["qkv_projector"]["kernel"].shape == (512, 1536)
    assert rmc["qkv_layernorm"]["scale"].shape == (2, 1536)
    assert rmc["attended_memory_layernorm"]["bias"].shape == (2, 512)
    assert rmc["attention_mlp"]["kernel"].shape == (512, 512)
    assert rmc["input_gate_projector"]["kernel"].shape == (512, 1024)
    assert rmc["memory_gate_projector"]["kernel"].shape == (512, 1024)
    assert rmc["forget_bias"].shape == ()


# ------------------------------------------------------------ discriminator --


def _reference_discriminator(params, one_hot, disc):
  """TextGAN RelGAN_D.forward in eval mode, transcribed in NumPy float64."""
  p = jax.tree.map(lambda a: np.asarray(a, np.float64), params["params"])
  batch, length, _ = one_hot.shape
  reps = disc.num_representations
  d = disc.embed_dim // reps
  emb = one_hot @ p["embedding"]
  pools = []
  for f in disc.filter_sizes:
    kernel, bias = p[f"conv{f}_kernel"], p[f"conv{f}_bias"]
    out = np.zeros((batch, length - f + 1, reps, disc.num_filters))
    for t in range(length - f + 1):
      for r in range(reps):
        window = emb[:, t:t + f, r * d:(r + 1) * d]
        out[:, t, r] = np.einsum("bkd,kdn->bn", window, kernel) + bias
    pools.append(np.maximum(out, 0).max(axis=1))
  h = np.concatenate(pools, axis=-1)
  s = _dense(p["highway"], h)
  h = _sigmoid(s) * np.maximum(s, 0) + (1 - _sigmoid(s)) * h
  return _dense(p["out2logits"], _dense(p["feature2out"], h))[..., 0]


@functools.lru_cache
def _make_discriminator(rep_dim):
  reps = 8
  disc = relgan.RelGANDiscriminator(
      vocab_size=V, embed_dim=reps * rep_dim, num_representations=reps,
      filter_sizes=(2, 3, 5), num_filters=6)
  tokens = jax.random.randint(jax.random.key(10), (B, L), 0, V)
  params = jax.jit(lambda k: disc.init(k, tokens, train=False))(
      jax.random.key(11))
  return disc, params, tokens


def _soft_inputs_and_weights(disc):
  """Soft one-hots [B, L, V] and weights of the critic's logits."""
  soft = jax.nn.softmax(jax.random.normal(jax.random.key(13), (B, L, V)))
  weights = jax.random.normal(jax.random.key(14),
                              (B, disc.num_representations))
  return soft, weights


def _first_and_second_order(disc, params, soft, weights):
  """The gradient of Σ weights·D(x) in (params, x), and that of a penalty on
  its x-gradient in params (the gradient penalty's shape: D differentiated
  twice)."""

  def loss(p, x):
    return jnp.sum(disc.apply(p, x, train=False) * weights)

  def penalty(p, x):
    return jnp.sum(jnp.square(jax.grad(loss, argnums=1)(p, x) - 0.01))

  return (jax.jit(jax.grad(loss, argnums=(0, 1)))(params, soft),
          jax.jit(jax.grad(penalty))(params, soft))


@pytest.fixture(scope="module")
def discriminator():
  return _make_discriminator(rep_dim=1)


@pytest.fixture(scope="module", params=[1, 2], ids=["repdim1", "repdim2"])
def any_discriminator(request):
  return _make_discriminator(rep_dim=request.param)


class TestDiscriminator:

  def test_matches_reference(self, any_discriminator):
    disc, params, _ = any_discriminator
    soft = jax.nn.softmax(3 * jax.random.normal(jax.random.key(12), (B, L, V)))
    logits = jax.jit(lambda x: disc.apply(params, x, train=False))(soft)
    assert logits.shape == (B, disc.num_representations)
    np.testing.assert_allclose(
        logits, _reference_discriminator(params, np.asarray(soft), disc),
        atol=1e-5, rtol=1e-4)

  def test_token_ids_equal_one_hots(self, discriminator):
    disc, params, tokens = discriminator
    apply = jax.jit(lambda x: disc.apply(params, x, train=False))
    from_ids = apply(tokens)
    from_one_hot = apply(jax.nn.one_hot(tokens, V))
    assert from_ids.shape == (B, disc.num_representations)
    np.testing.assert_allclose(from_ids, from_one_hot, atol=1e-6)

  @pytest.mark.parametrize("rule", sorted(relgan.MAX_POOL_SECOND_ORDER))
  def test_gradients_match_plain_max_pool(self, discriminator, monkeypatch,
                                          rule):
    disc, params, _ = discriminator
    disc = disc.clone(max_pool_second_order=rule)
    soft, weights = _soft_inputs_and_weights(disc)

    def plain(embedded, kernels, second_order):
      del second_order
      pooled = []
      for kernel in kernels:
        f = kernel.shape[0]
        steps = embedded.shape[1] - f + 1
        c = sum(jnp.einsum("btrd,dn->btrn", embedded[:, k:k + steps],
                           kernel[k]) for k in range(f))
        pooled.append(jnp.max(c, axis=1))
      return jnp.concatenate(pooled, axis=-1)

    grads, second = _first_and_second_order(disc, params, soft, weights)
    monkeypatch.setattr(relgan, "_conv_max_over_time", plain)
    expected, expected_second = _first_and_second_order(disc, params, soft,
                                                        weights)
    for g, e in zip(jax.tree.leaves((grads, second)),
                    jax.tree.leaves((expected, expected_second))):
      np.testing.assert_allclose(g, e, atol=1e-5, rtol=1e-4)

  def test_second_order_rules_share_values_and_first_order(self,
                                                           discriminator):
    disc, params, _ = discriminator
    soft, weights = _soft_inputs_and_weights(disc)
    results = {}
    for rule in relgan.MAX_POOL_SECOND_ORDER:
      rule_disc = disc.clone(max_pool_second_order=rule)
      scores = jax.jit(lambda x, d=rule_disc: d.apply(params, x,
                                                      train=False))(soft)
      results[rule] = (scores, *_first_and_second_order(rule_disc, params,
                                                        soft, weights))
    (scores, grads, second), (w_scores, w_grads, w_second) = (
        results["autodiff"], results["winning_window"])
    np.testing.assert_array_equal(w_scores, scores)
    for g, e in zip(jax.tree.leaves(w_grads), jax.tree.leaves(grads)):
      np.testing.assert_array_equal(g, e)
    for g, e in zip(jax.tree.leaves(w_second), jax.tree.leaves(second)):
      np.testing.assert_allclose(g, e, atol=1e-6, rtol=1e-5)

  def test_dropout_only_in_train_mode(self, discriminator):
    disc, params, tokens = discriminator
    evaluate = jax.jit(lambda: disc.apply(params, tokens, train=False))
    train = jax.jit(lambda k: disc.apply(params, tokens, train=True,
                                         rngs={"dropout": jax.random.key(k)}))
    np.testing.assert_array_equal(evaluate(), evaluate())
    np.testing.assert_array_equal(train(0), train(0))
    assert not np.allclose(train(0), evaluate())
    assert not np.allclose(train(0), train(1))

  def test_uniform_init(self, discriminator):
    _, params, _ = discriminator
    values = np.concatenate([np.ravel(x) for x in jax.tree.leaves(params)])
    assert np.all(np.abs(values) <= 0.05)
    assert values.min() < -0.045 and values.max() > 0.045
    np.testing.assert_allclose(values.std(), 0.05 / math.sqrt(3), rtol=0.1)

  def test_rejects_bad_shapes(self):
    disc = relgan.RelGANDiscriminator(vocab_size=V, embed_dim=8,
                                      num_representations=3)
    with pytest.raises(ValueError, match="must divide"):
      disc.init(jax.random.key(0), jnp.zeros((B, L), jnp.int32))
    disc = relgan.RelGANDiscriminator(vocab_size=V, embed_dim=8,
                                      num_representations=8)
    with pytest.raises(ValueError, match="shorter"):
      disc.init(jax.random.key(0), jnp.zeros((B, 4), jnp.int32))
