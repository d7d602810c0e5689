"""Config checks that run before anything is compiled, with one-line errors."""
import os
import tempfile

import jax
import ml_collections

from ppogan_jax import step as step_lib
from ppogan_jax import tasks as tasks_lib
from ppogan_jax import variants
from ppogan_jax.errors import ConfigError


def _positive_int(config: ml_collections.ConfigDict, name: str) -> None:
  value = config[name]
  if not isinstance(value, int) or value < 1:
    raise ConfigError(f"config.{name}={value!r}: expected a positive integer")


def check_workdir(workdir: str) -> None:
  """The workdir exists (or can be made) and is writable."""
  if not workdir:
    raise ConfigError("--workdir is empty: pass --workdir=DIR for "
                      "checkpoints, logs and samples")
  try:
    os.makedirs(workdir, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=workdir):
      pass
  except OSError as e:
    raise ConfigError(f"--workdir={workdir!r} is not writable ({e.strerror}); "
                      "choose a directory you can write to") from None


def _check_surrogate(options: ml_collections.ConfigDict) -> None:
  choices = {"ratio_gradient": sorted(step_lib.RATIO_FORMS),
             "advantage_baseline": list(step_lib.ADVANTAGE_BASELINES),
             "old_classifier": list(step_lib.OLD_CLASSIFIER_SNAPSHOTS)}
  for name, valid in choices.items():
    if options[name] not in valid:
      raise ConfigError(f"config.surrogate.{name}={options[name]!r}: choose "
                        f"one of {valid}")
  steps = options.classifier_steps
  if not isinstance(steps, int) or steps < 1:
    raise ConfigError(f"config.surrogate.classifier_steps={steps!r}: "
                      "expected a positive integer")


def check_config(config: ml_collections.ConfigDict) -> None:
  """Raises ConfigError for settings the trainer cannot run."""
  if config.task not in tasks_lib.TASKS:
    raise ConfigError(f"config.task={config.task!r}: choose one of "
                      f"{sorted(tasks_lib.TASKS)}")
  try:
    variant = variants.get_variant(config.objective)
  except ValueError as e:
    raise ConfigError(f"config.objective: {e}") from None
  for name in ("batch_size", "num_steps", "n_critic", "n_gen", "log_every",
               "checkpoint_every", "eval_every", "keep_checkpoints"):
    _positive_int(config, name)
  devices, processes = jax.device_count(), jax.process_count()
  if config.batch_size % devices:
    raise ConfigError(
        f"config.batch_size={config.batch_size} is not divisible by the "
        f"{devices} devices; use a multiple of {devices} "
        f"(e.g. --config.batch_size="
        f"{devices * max(1, config.batch_size // devices)})")
  if config.batch_size % processes:
    raise ConfigError(f"config.batch_size={config.batch_size} is not "
                      f"divisible by the {processes} processes")
  if config.gp_weight < 0 or config.consistency_weight < 0:
    raise ConfigError("config.gp_weight and config.consistency_weight must "
                      "be >= 0")
  if variant.consistency and config.consistency_weight <= 0:
    raise ConfigError(f"config.objective={config.objective!r} needs "
                      "config.consistency_weight > 0 (CT-GAN uses 2.0)")
  if variant.uses_classifier and not 0 < config.epsilon < 1:
    raise ConfigError(f"config.epsilon={config.epsilon}: the clip range must "
                      "lie in (0, 1); the paper uses 0.2 or 0.4")
  _check_surrogate(config.surrogate)
  if not 0 <= config.generator_ema_decay < 1:
    raise ConfigError(f"config.generator_ema_decay="
                      f"{config.generator_ema_decay}: expected 0 (off) or a "
                      "decay in (0, 1)")
  for net in ("generator", "critic", "classifier"):
    opt = config.optimizer[net]
    if opt.lr_schedule not in ("constant", "linear"):
      raise ConfigError(f"config.optimizer.{net}.lr_schedule="
                        f"{opt.lr_schedule!r}: choose 'constant' or 'linear'")
    if opt.learning_rate <= 0:
      raise ConfigError(f"config.optimizer.{net}.learning_rate must be > 0")
  if config.epsilon_schedule not in ("constant", "linear"):
    raise ConfigError(f"config.epsilon_schedule={config.epsilon_schedule!r}: "
                      "choose 'constant' or 'linear'")
