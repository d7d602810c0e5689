"""The fused train step: every objective, Algorithm 1's bookkeeping, and
the same numbers on 1 and 8 devices."""
import functools
import json

import jax
import ml_collections
import numpy as np
import pytest

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
    real = task.real_batches(s, n_real, config.batch_size, 0, 1)
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


def test_old_classifier_is_frozen_at_the_start_of_the_generator_phase():
  config = engine_utils.tiny_toy_config("ppogan")
  _, (one, two), _ = _run(config, 1, 2)
  assert engine_utils.trees_equal(two.old_classifier_params,
                                  one.classifier.params)
  assert not engine_utils.trees_equal(two.old_classifier_params,
                                      two.classifier.params)


def test_ratio_starts_at_one_and_moves_as_the_classifier_is_fine_tuned():
  config = engine_utils.tiny_toy_config("ppogan")
  *_, metrics = _run(config, 1, 1)
  # A fine-tune step or two separate C from C^(t): r is near, but not, 1.
  assert 0.9 < metrics["ppo/ratio_min"] <= metrics["ppo/ratio_max"] < 1.1
  assert metrics["ppo/ratio_max"] - metrics["ppo/ratio_min"] > 1e-6


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
