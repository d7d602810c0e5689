"""The fused train step: every objective, Algorithm 1's bookkeeping, and
the same numbers on 1 and 8 devices."""
import functools
import json

import jax
import ml_collections
import numpy as np
import pytest
import tensorflow_datasets as tfds

from ppogan_jax import parallel
from ppogan_jax import step as step_lib
from ppogan_jax import tasks
from ppogan_jax import train
from ppogan_jax import variants
from tests import engine_utils


@functools.lru_cache(maxsize=None)
def _compiled(config_json: str, num_devices: int):
  """(config, task, mesh, initial host state, jitted step), built once."""
  config = ml_collections.ConfigDict(json.loads(config_json))
  task = tasks.build_task(config)
  mesh = parallel.make_mesh(num_devices)
  initial = jax.device_get(train.create_state(config, task))
  step_fn = parallel.compile_train_step(
      step_lib.make_train_step(
          config, task, constrain_batch=parallel.batch_constraint(mesh)),
      mesh, parallel.replicate(initial, mesh))
  return config, task, mesh, initial, step_fn


def _run(config, num_devices, num_steps):
  """Runs `num_steps` iterations on a mesh of `num_devices`.

  Returns (initial state, [state after each step], last step's metrics),
  all on the host.
  """
  config, task, mesh, initial, step_fn = _compiled(config.to_json(),
                                                   num_devices)
  state = parallel.replicate(initial, mesh)
  n_real = config.n_critic + config.n_gen
  states = []
  for s in range(num_steps):
    real = task.real_batches(s, num_batches=n_real,
                             batch_size=config.batch_size)
    state, metrics = step_fn(state, parallel.global_real_batch(real, mesh))
    states.append(jax.device_get(state))
  return initial, states, jax.device_get(metrics)


@pytest.mark.parametrize("objective", sorted(variants.VARIANTS))
def test_every_objective_trains_with_finite_metrics(objective):
  config = engine_utils.tiny_toy_config(objective)
  initial, (final,), metrics = _run(config, 1, 1)
  assert all(np.isfinite(v) for v in metrics.values()), metrics
  assert int(final.step) == 1
  assert engine_utils.max_abs_difference(
      initial.generator.params, final.generator.params) > 0
  assert engine_utils.max_abs_difference(
      initial.critic.params, final.critic.params) > 0
  variant = variants.get_variant(objective)
  classifier_moved = not engine_utils.trees_equal(
      initial.classifier.params, final.classifier.params)
  assert classifier_moved == variant.uses_classifier
  assert ("ppo/ratio_mean" in metrics) == variant.uses_classifier
  assert ("critic/importance_ess" in metrics) == variant.reweight
  assert ("critic/consistency_term" in metrics) == variant.consistency


def test_update_counts_follow_algorithm_1():
  config = engine_utils.tiny_toy_config("ppogan")
  assert (config.n_critic, config.n_gen) == (3, 2)
  _, (_, final), _ = _run(config, 1, 2)
  counts = {name: int(getattr(final, name).opt_state[0].count)
            for name in ("critic", "classifier", "generator")}
  assert counts == {"critic": 6, "classifier": 4, "generator": 4}


def test_old_classifier_is_frozen_after_the_phase_s_first_fine_tune():
  one_step = engine_utils.tiny_toy_config("ppogan", n_gen=1)
  _, (first,), metrics = _run(one_step, 1, 1)
  assert engine_utils.trees_equal(first.old_classifier_params,
                                  first.classifier.params)
  assert metrics["ppo/first_step_ratio_mean"] == 1.0
  assert metrics["ppo/ratio_min"] == metrics["ppo/ratio_max"] == 1.0
  _, (_, two), metrics = _run(engine_utils.tiny_toy_config("ppogan"), 1, 2)
  assert not engine_utils.trees_equal(two.old_classifier_params,
                                      two.classifier.params)
  assert metrics["ppo/first_step_ratio_mean"] == 1.0
  assert metrics["ppo/ratio_max"] > 1.0 + 1e-7 or metrics["ppo/ratio_min"] < 1.0 - 1e-7


def test_old_classifier_frozen_at_the_phase_start():
  config = engine_utils.tiny_toy_config("ppogan")
  config.surrogate.old_classifier = "phase_start"
  _, (one, two), metrics = _run(config, 1, 2)
  assert engine_utils.trees_equal(two.old_classifier_params,
                                  one.classifier.params)
  # One fine-tune step separates C from C^(t) before G has moved.
  assert 0.9 < metrics["ppo/ratio_min"] <= metrics["ppo/ratio_max"] < 1.1
  assert abs(metrics["ppo/first_step_ratio_mean"] - 1.0) > 1e-7


def test_classifier_steps_per_generator_step():
  config = engine_utils.tiny_toy_config("clip_only")
  config.surrogate.classifier_steps = 3
  _, (final,), _ = _run(config, 1, 1)
  assert int(final.classifier.opt_state[0].count) == 3 * config.n_gen


def _generator_gradient(objective, *, critic_offset=0.0, old_scale=1.0,
                        **surrogate):
  """∇_θ of the generator loss of `objective` through `step.generator_loss`
  at the initial state, on a fixed batch and key.

  At the initial state C = C^(t); `old_scale` ≠ 1 scales C^(t)'s parameters
  so that r ≠ 1, and `critic_offset` is added to the critic's output bias.
  """
  config = engine_utils.tiny_toy_config(objective)
  config.surrogate.update(surrogate)
  task = tasks.build_task(config)
  state = train.create_state(config, task)
  critic_params = dict(state.critic.params)
  critic_params["output"] = dict(
      critic_params["output"],
      bias=critic_params["output"]["bias"] + critic_offset)
  state = state.replace(
      critic=state.critic.replace(params=critic_params),
      old_classifier_params=jax.tree.map(lambda p: old_scale * p,
                                         state.old_classifier_params))
  ctx = step_lib.StepContext(config, task, variants.get_variant(objective),
                             lambda x: x)
  real = task.real_batches(0, num_batches=1,
                           batch_size=config.batch_size)[0]
  z = task.sample_latent(jax.random.key(3), config.batch_size)

  @jax.jit
  def gradient(state, real, z):
    return jax.grad(step_lib.generator_loss, argnums=2, has_aux=True)(
        ctx, state, state.generator.params, real, z, None, jax.random.key(4),
        jax.numpy.float32(config.epsilon))

  grads, (_, metrics) = gradient(state, real, z)
  return grads, metrics


def test_paper_surrogate_gradient_is_the_wgan_gradient_when_c_equals_c_old():
  wgan, _ = _generator_gradient("wgan_gp")
  paper, metrics = _generator_gradient("clip_only")
  assert metrics["ppo/ratio_min"] == metrics["ppo/ratio_max"] == 1.0
  assert engine_utils.max_abs_difference(wgan, paper) < 1e-6
  # Cutting the path through C^(t) adds −A·r·∇ℓ: a different gradient.
  constant_old, _ = _generator_gradient("clip_only", ratio_gradient="current")
  assert engine_utils.max_abs_difference(wgan, constant_old) > 1e-3


def test_centred_advantage_makes_the_surrogate_offset_invariant():
  """A WGAN critic is defined up to a constant; with the batch-mean baseline
  the surrogate's gradient does not depend on it, with Eq. 5's raw score it
  does (through A·∇r and which side of the clip binds)."""
  def gradients(baseline, offset):
    return _generator_gradient("clip_only", critic_offset=offset,
                               old_scale=1.3, advantage_baseline=baseline)[0]
  assert engine_utils.max_abs_difference(
      gradients("fake_mean", 0.0), gradients("fake_mean", 5.0)) < 1e-5
  assert engine_utils.max_abs_difference(
      gradients("none", 0.0), gradients("none", 5.0)) > 1e-3


def test_dual_clip_acts_only_on_ratios_above_its_bound():
  plain, metrics = _generator_gradient("clip_only", old_scale=1.3)
  assert metrics["ppo/ratio_max"] > 1.05
  assert 0 < metrics["ppo/advantage_positive_fraction"] < 1
  loose, _ = _generator_gradient("clip_only", old_scale=1.3, dual_clip=1e6)
  assert engine_utils.max_abs_difference(plain, loose) == 0.0
  tight, _ = _generator_gradient("clip_only", old_scale=1.3, dual_clip=1.05)
  assert engine_utils.max_abs_difference(plain, tight) > 1e-4


def test_ratio_gradient_is_zero_when_c_equals_c_old():
  config = engine_utils.tiny_toy_config("clip_only")
  task = tasks.build_task(config)
  state = train.create_state(config, task)
  z = task.sample_latent(jax.random.key(3), config.batch_size)

  def mean_ratio(params, form):
    fake = state.generator.apply_fn({"params": params}, z, train=False)
    logits = step_lib.classifier_logits(state, state.classifier.params, fake)
    old = step_lib.classifier_logits(state, state.old_classifier_params, fake)
    return step_lib.RATIO_FORMS[form](logits, old).mean()

  params = state.generator.params
  paper = jax.grad(mean_ratio)(params, "both")
  assert engine_utils.max_abs_difference(
      paper, jax.tree.map(jax.numpy.zeros_like, paper)) == 0.0
  constant_old = jax.grad(mean_ratio)(params, "current")
  assert engine_utils.max_abs_difference(
      constant_old, jax.tree.map(jax.numpy.zeros_like, paper)) > 1e-4


def test_clip_only_with_one_generator_step_is_wgan_gp():
  """With n_gen = 1, C^(t) is C after the phase's one fine-tune step, so
  r ≡ 1 and the whole iteration trains G and f exactly as WGAN-GP does."""
  wgan_initial, (wgan,), _ = _run(
      engine_utils.tiny_toy_config("wgan_gp", n_gen=1), 1, 1)
  clip_initial, (clip,), _ = _run(
      engine_utils.tiny_toy_config("clip_only", n_gen=1), 1, 1)
  assert engine_utils.trees_equal(wgan_initial.generator.params,
                                  clip_initial.generator.params)
  assert engine_utils.trees_equal(wgan.critic.params, clip.critic.params)
  assert engine_utils.max_abs_difference(
      wgan.generator.params, clip.generator.params) < 1e-6
  assert engine_utils.max_abs_difference(
      wgan_initial.generator.params, wgan.generator.params) > 1e-5


def test_one_and_eight_devices_give_the_same_parameters():
  """Data parallelism changes nothing but float summation order.

  Adam's eps is raised from 1e-8 for this comparison: the critic's output
  bias has an exactly-zero gradient under the Wasserstein loss (Σ w/B − 1 =
  0), so its float gradient is rounding noise that Adam with eps=1e-8 turns
  into ±lr steps, different on every device layout.
  """
  config = engine_utils.tiny_toy_config("ppogan")
  for net in ("generator", "critic", "classifier"):
    config.optimizer[net].eps = 1e-5
  initial, (*_, one), _ = _run(config, 1, 4)
  _, (*_, eight), _ = _run(config, 8, 4)
  moved = engine_utils.max_abs_difference(initial.critic.params,
                                          one.critic.params)
  assert moved > 1e-4
  for net in ("generator", "critic", "classifier"):
    assert engine_utils.max_abs_difference(
        getattr(one, net).params, getattr(eight, net).params) < 2e-5, net


def test_summarise_reduces_min_max_and_mean():
  stacked = {"a_min": np.array([3.0, 1.0]), "a_max": np.array([3.0, 1.0]),
             "a": np.array([3.0, 1.0])}
  out = step_lib.summarise(stacked)
  assert (out["a_min"], out["a_max"], out["a"]) == (1.0, 3.0, 2.0)


def _set(dotted: str, value):
  return lambda config: config.update_from_flattened_dict({dotted: value})


_UNROLLED = _set("unroll_inner_loops", True)
_ROLLED = _set("unroll_inner_loops", False)
_AUTODIFF = _set("model.max_pool_second_order", "autodiff")
_WINNING_WINDOW = _set("model.max_pool_second_order", "winning_window")


def _tiny_cifar_resnet(root: str):
  """The tiny CIFAR ResNet with 2 + 2 inner steps and Adam's ε at 1e-5:
  the biases before a BatchNorm and the critic's output bias have gradients
  that are zero up to rounding, which Adam's default ε would turn into
  steps of a whole learning rate in either direction."""
  config = engine_utils.tiny_cifar_config(root, "ppogan", n_critic=2,
                                          n_gen=2)
  for net in ("generator", "critic", "classifier"):
    config.optimizer[net].eps = 1e-5
  return config


@pytest.mark.parametrize("make_config,reference,change,atol", [
    (lambda cache: engine_utils.tiny_toy_config("ppogan"), _UNROLLED,
     _ROLLED, 1e-7),
    (lambda cache: engine_utils.tiny_text_config(
        cache, "ppogan", n_critic=2, n_gen=2), _UNROLLED, _ROLLED, 2e-4),
    (lambda cache: engine_utils.tiny_text_config(
        cache, "ppogan", n_critic=2, n_gen=2), _AUTODIFF, _WINNING_WINDOW,
     2e-4),
    (_tiny_cifar_resnet, _UNROLLED, _ROLLED, 1e-7),
], ids=["toy_rolled", "oracle_text_rolled", "oracle_text_max_pool",
        "cifar_resnet_rolled"])
def test_rewritten_steps_agree_to_rounding(make_config, reference, change,
                                           atol, tmp_path):
  """Rolled inner loops, and the critic's max-pool differentiated twice
  through its custom gradient, compute the same steps in another order
  (XLA fuses rolled loops differently; the second derivative sums the same
  products differently), so they agree to rounding, which Adam's
  normalised steps can lift to a fraction of a learning rate (3e-4 for the
  text critic) where a gradient is near zero. The CIFAR ResNet reads
  tfds.testing.mock_data (the other tasks make their own data)."""
  expected_config = make_config(str(tmp_path))
  reference(expected_config)
  changed = make_config(str(tmp_path))
  change(changed)
  with tfds.testing.mock_data(num_examples=24):
    initial, expected, expected_metrics = _run(expected_config, 1, 2)
    _, got, got_metrics = _run(changed, 1, 2)
  for net in ("generator", "critic", "classifier"):
    moved = engine_utils.max_abs_difference(
        getattr(initial, net).params, getattr(expected[-1], net).params)
    difference = engine_utils.max_abs_difference(
        getattr(got[-1], net).params, getattr(expected[-1], net).params)
    assert difference <= atol < moved, (net, difference, moved)
  assert got_metrics.keys() == expected_metrics.keys()
  for name, value in expected_metrics.items():
    np.testing.assert_allclose(got_metrics[name], value, rtol=1e-3,
                               atol=1e-5, err_msg=name)
