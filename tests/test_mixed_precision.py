"""config.compute_dtype: float32 applies the networks exactly as before;
bfloat16 computes them in bfloat16 while parameters, optimiser states,
batch statistics and losses stay float32 (`state.apply_model`)."""
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ppogan_jax import config_check
from ppogan_jax import step as step_lib
from ppogan_jax import tasks
from ppogan_jax import train
from ppogan_jax import variants
from ppogan_jax.errors import ConfigError
from ppogan_jax.state import apply_model
from ppogan_jax.tasks import relgan_text
from tests import engine_utils

BF16 = jnp.dtype(jnp.bfloat16)
NUM_STEPS = 3
VOCAB, LENGTH = 16, 6
NETWORKS = ("generator", "critic", "classifier")
# bf16 − f32 tolerances: 0.01 + 5 % of the float32 value, except for the
# fractions of the 64 samples (a sample whose ratio lies near the clip
# boundary may cross it) and the critic loss, which adds λ = 10 times a
# gradient penalty (‖∇f‖ − 1)² that loses precision to the cancellation.
ATOL, RTOL = 0.01, 0.05
COARSE_ATOL = {"critic/loss": 0.2, "ppo/clip_fraction": 0.2,
               "ppo/clip_binding_fraction": 0.2,
               "ppo/advantage_positive_fraction": 0.2}


def _toy_config():
  return engine_utils.tiny_toy_config("ppogan", n_critic=1, n_gen=2)


def _text_config():
  """A RelGAN text config (ppogan) with tiny networks, no pre-training."""
  c = engine_utils.tiny_text_config("", "ppogan", n_critic=1, n_gen=1)
  c.data.update(vocab_size=VOCAB, length=LENGTH)
  c.model.update(filter_sizes=(2, 3))
  c.pretrain.epochs = 0
  return c


def _text_task(config):
  """The RelGAN task of `config` on random sentences (no oracle to build)."""
  models = relgan_text.relgan_models(config, vocab_size=VOCAB, length=LENGTH)
  data = np.random.default_rng(0).integers(2, VOCAB, (256, LENGTH))
  return relgan_text.relgan_task(config, models, data=data, evaluate=None,
                                 write_samples=None, mle_metrics=None)


def _random_state(abstract_state, seed: int):
  """A GANState shaped like `abstract_state`: floating-point leaves uniform
  in ±√(3/fan_in) (fan_in: the product of all but the last axis), the
  others 0, and C^(t) = 0.9·C. Much cheaper than the jitted inits of the
  RelGAN networks, and unlike their init (scores ≈ 0.01, C = C^(t)) it
  gives O(1) scores and ratios r ≠ 1."""
  rng = np.random.default_rng(seed)

  def fill(leaf):
    if not jnp.issubdtype(leaf.dtype, jnp.floating):
      return jnp.zeros(leaf.shape, leaf.dtype)
    bound = (3.0 / max(1, int(np.prod(leaf.shape[:-1])))) ** 0.5
    return jnp.asarray(rng.uniform(-bound, bound, leaf.shape), leaf.dtype)

  state = jax.tree.map(fill, abstract_state)
  return state.replace(old_classifier_params=jax.tree.map(
      lambda p: 0.9 * p, state.classifier.params))


def _with_compute_dtype(state, dtype):
  return state.replace(**{net: getattr(state, net).replace(
      compute_dtype=jnp.dtype(dtype)) for net in NETWORKS})


def _real(config, task, step: int) -> jax.Array:
  return jnp.asarray(task.real_batches(
      step, num_batches=config.n_critic + config.n_gen,
      batch_size=config.batch_size))


def _floating_dtypes(tree) -> set[str]:
  return {str(x.dtype) for x in jax.tree.leaves(tree)
          if jnp.issubdtype(x.dtype, jnp.floating)}


def _config_with(config, compute_dtype: str):
  config = config.copy_and_resolve_references()
  config.compute_dtype = compute_dtype
  return config


@functools.lru_cache(maxsize=None)
def _initial(name: str):
  """(config, task, initial float32 GANState): the toy task's from
  `train.create_state`, the text task's from `_random_state`."""
  if name == "toy":
    config = _toy_config()
    task = tasks.build_task(config)
    return config, task, train.create_state(config, task)
  config = _text_config()
  task = _text_task(config)
  abstract = jax.eval_shape(lambda: train.create_state(config, task))
  return config, task, _random_state(abstract, seed=0)


@functools.lru_cache(maxsize=None)
def _toy_run(compute_dtype: str):
  """(final state, [metrics of each step]) of NUM_STEPS jitted toy train
  steps from `_initial('toy')`'s parameters."""
  config, task, state = _initial("toy")
  config = _config_with(config, compute_dtype)
  state = _with_compute_dtype(state, compute_dtype)
  step = jax.jit(step_lib.make_train_step(config, task))
  metrics = []
  for s in range(NUM_STEPS):
    state, m = step(state, _real(config, task, s))
    metrics.append(jax.device_get(m))
  return jax.device_get(state), metrics


def _apply_fns(model, **kwargs):
  """(params, x) -> outputs through `apply_model` and through the plain
  apply_fn."""
  via = lambda p, x: apply_model(model, p, x, rng=None, train=False,
                                 **kwargs)[0]
  plain = lambda p, x: model.apply_fn({"params": p}, x, train=False,
                                      rngs={}, mutable=False, **kwargs)
  return via, plain


def _models_and_inputs(name: str, compute_dtype: str):
  """[(ModelState, example input, kwargs)] of the critic and the generator
  of task `name`, computing in `compute_dtype`."""
  config, task, state = _initial(name)
  state = _with_compute_dtype(state, compute_dtype)
  real = task.to_critic_input(_real(config, task, 0)[0])
  z = task.sample_latent(jax.random.PRNGKey(0), config.batch_size)
  step = jnp.zeros((), jnp.int32)
  return [(state.critic, real, {}),
          (state.generator, z, task.generator_kwargs(step))]


def _assert_close(f32_metrics, bf16_metrics):
  """bf16 metrics: float32, finite, and within the tolerances above."""
  assert bf16_metrics.keys() == f32_metrics.keys()
  for name, value in f32_metrics.items():
    assert bf16_metrics[name].dtype == np.float32, name
    assert np.isfinite(bf16_metrics[name]), name
    np.testing.assert_allclose(
        bf16_metrics[name], value, atol=COARSE_ATOL.get(name, ATOL),
        rtol=0 if name in COARSE_ATOL else RTOL, err_msg=name)


@pytest.mark.parametrize("name", ["toy", "text"])
def test_float32_apply_model_is_the_plain_apply(name):
  for model, x, kwargs in _models_and_inputs(name, "float32"):
    via, plain = _apply_fns(model, **kwargs)
    assert (str(jax.make_jaxpr(via)(model.params, x))
            == str(jax.make_jaxpr(plain)(model.params, x)))
    assert engine_utils.trees_equal(via(model.params, x),
                                    plain(model.params, x))


@pytest.mark.parametrize("name", ["toy", "text"])
def test_bfloat16_networks_compute_in_bfloat16(name):
  """Every matrix product of the lowered critic and generator is bf16 (none
  is promoted to float32 by a float32 operand); under float32 none is."""
  for dtype in ("float32", "bfloat16"):
    for model, x, kwargs in _models_and_inputs(name, dtype):
      hlo = jax.jit(_apply_fns(model, **kwargs)[0]).lower(
          model.params, x).as_text()
      dots = [line for line in hlo.splitlines() if "dot_general" in line]
      bf16_dots = [line for line in dots if "xbf16>" in line]
      assert dots and len(bf16_dots) == (len(dots) if dtype == "bfloat16"
                                         else 0)


def test_create_state_takes_config_compute_dtype():
  config, task, _ = _initial("toy")
  config = _config_with(config, "bfloat16")
  state = jax.eval_shape(lambda: train.create_state(config, task))
  assert all(getattr(state, net).compute_dtype == BF16 for net in NETWORKS)
  assert _floating_dtypes(state) == {"float32"}


def test_bfloat16_toy_steps_keep_float32_state_and_match_float32():
  """NUM_STEPS ppogan steps on the toy task from the same parameters.
  Measured |bf16 − f32| over the steps: ≤ 0.19 for a metric (critic/
  grad_norm of 12.8; the closest to its tolerance, at a third of it, are
  critic/importance_ess, 0.066 of 3.5, and generator/fake_score, 0.0033 of
  0.087), ≤ 5e-4 for a parameter. Asserted: the metrics to ATOL + RTOL
  (COARSE_ATOL), the parameters to 5e-3."""
  f32_state, f32_metrics = _toy_run("float32")
  bf16_state, bf16_metrics = _toy_run("bfloat16")
  assert _floating_dtypes(bf16_state) == {"float32"}
  assert all(getattr(bf16_state, net).compute_dtype == BF16
             for net in NETWORKS)
  for step_f32, step_bf16 in zip(f32_metrics, bf16_metrics):
    _assert_close(step_f32, step_bf16)
  for net in NETWORKS:
    assert engine_utils.max_abs_difference(
        getattr(f32_state, net).params,
        getattr(bf16_state, net).params) < 5e-3, net


def test_bfloat16_text_step_keeps_float32_state():
  """A whole RelGAN train step traces under bf16 (the RMC scan carry and the
  windowed-max custom gradients are dtype-consistent) and returns a float32
  state and float32 metrics."""
  config, task, state = _initial("text")
  config = _config_with(config, "bfloat16")
  new_state, metrics = jax.eval_shape(
      step_lib.make_train_step(config, task),
      _with_compute_dtype(state, "bfloat16"), _real(config, task, 0))
  assert _floating_dtypes(new_state) == {"float32"}
  assert _floating_dtypes(metrics) == {"float32"}
  assert new_state.generator.compute_dtype == BF16


def _text_losses(compute_dtype: str):
  """The metrics of `step.critic_loss` (gradient penalty included) and
  `step.generator_loss` (ppogan) at `_initial('text')`'s state."""
  config, task, state = _initial("text")
  config = _config_with(config, compute_dtype)
  ctx = step_lib.StepContext(config=config, task=task,
                             variant=variants.get_variant(config.objective),
                             constrain_batch=lambda x: x)

  @jax.jit
  def losses(state, real, key):
    fake_key, critic_key, z_key, generator_key = jax.random.split(key, 4)
    fake = step_lib.fresh_fakes(ctx, state, config.batch_size, fake_key)
    _, critic_metrics = step_lib.critic_loss(
        ctx, state.critic, state.critic.params,
        task.to_critic_input(real[0]), fake, critic_key)
    z = task.sample_latent(z_key, config.batch_size)
    _, (_, generator_metrics) = step_lib.generator_loss(
        ctx, state, state.generator.params, real[1], z, None, generator_key,
        jnp.float32(config.epsilon))
    return {**critic_metrics, **generator_metrics}

  return jax.device_get(losses(_with_compute_dtype(state, compute_dtype),
                               _real(config, task, 0),
                               jax.random.PRNGKey(1)))


def test_bfloat16_text_losses_match_float32():
  """The RelGAN critic's and generator's losses and metrics (mean ratio
  1.18, 11 % of the ratios clipped). Measured |bf16 − f32|: critic/loss
  0.046 of 0.33 (the penalty 0.0045 of 0.026), ppo/clip_fraction 0.0625
  (4 of 64 samples), ≤ 0.009 for the others (the closest to its tolerance,
  at 40 % of it, is critic/gradient_penalty). Asserted: ATOL + RTOL
  (COARSE_ATOL)."""
  _assert_close(_text_losses("float32"), _text_losses("bfloat16"))


@pytest.mark.parametrize("value", ["float16", "bf16"])
def test_config_check_rejects_other_compute_dtypes(value):
  config = engine_utils.tiny_toy_config()
  config.compute_dtype = value
  with pytest.raises(ConfigError, match=(
      f"config.compute_dtype='{value}': choose one of "
      r"\['float32', 'bfloat16'\]")):
    config_check.check_config(config)
