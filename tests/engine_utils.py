"""Shared helpers for the engine tests: tiny configs, tree comparisons and
the repository's scripts as modules."""
import importlib.util
import os
import signal
import subprocess
import time

import jax
import numpy as np

from ppogan_jax import config_defaults

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_script(*path: str):
  """The script at REPO/<path...> (e.g. 'results', 'oracle_experiment.py'),
  imported as a module."""
  spec = importlib.util.spec_from_file_location(
      os.path.splitext(path[-1])[0], os.path.join(REPO, *path))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def load_config(name: str, *args):
  """get_config(*args) of configs/<name>.py, as config_flags would load it."""
  return config_defaults.load_config(
      os.path.join(REPO, "configs", name + ".py"), *args)


def tiny_toy_config(objective: str = "ppogan", **overrides):
  """The 8-Gaussians config at a size that compiles and runs in seconds."""
  c = load_config("toy_8gaussians", objective)
  c.model.hidden = 32
  c.model.depth = 2
  c.batch_size = 16
  c.num_steps = 6
  c.n_critic = 3
  c.n_gen = 2
  c.log_every = 1
  c.eval_every = 3
  c.checkpoint_every = 3
  c.eval.num_samples = 64
  if objective == "ct_gan":
    c.consistency_weight = 2.0
    c.model.critic_dropout = 0.5
  for key, value in overrides.items():
    c[key] = value
  return c


def max_abs_difference(a, b) -> float:
  diffs = jax.tree.map(
      lambda x, y: float(np.max(np.abs(np.asarray(x, np.float64)
                                       - np.asarray(y, np.float64)))),
      jax.device_get(a), jax.device_get(b))
  return max(jax.tree.leaves(diffs))


def trees_equal(a, b) -> bool:
  leaves_a = jax.tree.leaves(jax.device_get(a))
  leaves_b = jax.tree.leaves(jax.device_get(b))
  return len(leaves_a) == len(leaves_b) and all(
      np.array_equal(np.asarray(x), np.asarray(y))
      for x, y in zip(leaves_a, leaves_b))


def tiny_text_config(cache_dir: str, objective: str = "ppogan", **overrides):
  """The oracle-text config with a tiny oracle, generator and critic."""
  c = load_config("text_relgan", objective)
  c.data.update(vocab_size=40, length=8, num_samples=512, cache_dir=cache_dir)
  c.model.update(embed_dim=8, head_size=16, dis_embed_dim=8,
                 num_representations=4, num_filters=8)
  c.pretrain.update(epochs=30, eval_every_epochs=30)
  c.batch_size = 16
  c.num_steps = 20
  c.log_every = 10
  c.eval_every = 20
  c.checkpoint_every = 20
  c.eval.num_samples = 512
  for key, value in overrides.items():
    c[key] = value
  return c


def _tiny_image_run(c, eval_classifier: dict, overrides: dict):
  """Two iterations of one critic and one generator step at batch 8, and a
  small evaluation, with `overrides` (top-level fields) applied last."""
  c.data.image_size = 8
  c.batch_size = 8
  c.num_steps = 2
  c.n_critic = 1
  c.n_gen = 1
  c.log_every = 1
  c.eval_every = 2
  c.checkpoint_every = 2
  c.eval.num_samples = 16
  c.eval.is_splits = 2
  c.eval.num_real = 64
  c.eval.classifier.update(eval_classifier)
  for key, value in overrides.items():
    c[key] = value
  return c


def tiny_digits_config(root: str, objective: str = "ppogan", **overrides):
  """The digits DCGAN config at 8×8 pixels and 8 filters (cache under
  `root`)."""
  c = load_config("digits_dcgan", objective)
  c.data.cache_dir = os.path.join(root, "cache")
  c.model.update(dict(latent_dim=8, generator_filters=8, critic_filters=8))
  return _tiny_image_run(c, dict(width=8, feature_dim=16, steps=150,
                                 batch_size=64, learning_rate=3e-3),
                         overrides)


def tiny_cifar_config(root: str, objective: str = "ct_gan", **overrides):
  """The CIFAR-10 ResNet config at 8×8 pixels and width 8, reading
  tfds.testing.mock_data (its data_dir under `root`)."""
  c = load_config("cifar10_resnet_ppogan", objective)
  c.data.data_dir = os.path.join(root, "tfds")
  c.data.cache_dir = os.path.join(root, "cache")
  c.model.update(dict(latent_dim=8, generator_width=8, critic_width=8,
                      classifier_width=8))
  return _tiny_image_run(c, dict(width=4, feature_dim=8, steps=3,
                                 batch_size=16), overrides)


def run_until_sigterm(command: list[str], metrics_path: str, *,
                      timeout: float, **popen_kwargs
                      ) -> subprocess.CompletedProcess:
  """Runs `command`, sends SIGTERM once `metrics_path` has 3 lines, and
  returns the finished process (stdout and stderr as text)."""
  proc = subprocess.Popen(command, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, **popen_kwargs)
  deadline = time.time() + timeout
  while time.time() < deadline and not (
      os.path.exists(metrics_path)
      and len(open(metrics_path).read().splitlines()) >= 3):
    time.sleep(0.2)
  proc.send_signal(signal.SIGTERM)
  stdout, stderr = proc.communicate(timeout=timeout)
  return subprocess.CompletedProcess(command, proc.returncode, stdout,
                                     stderr)
