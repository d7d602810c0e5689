"""Every config check, run before anything is built or compiled, with
one-line errors.

`check_config` is the one entry point for every task: the engine's fields
(`config_defaults.base_config`), then the fields of the task's own sections
(data, model, eval, temperature; style transfer has its own engine fields).
Whether a named file exists or a dataset is prepared is checked where it is
read (`ppogan_jax/data/`), with the file and line at fault.
"""
import os
import tempfile

import jax
import ml_collections

from ppogan_jax import state as state_lib
from ppogan_jax import step as step_lib
from ppogan_jax import tasks as tasks_lib
from ppogan_jax import variants
from ppogan_jax.data import images as image_data
from ppogan_jax.data import toy as toy_data
from ppogan_jax.errors import ConfigError
from ppogan_jax.models import dcgan
from ppogan_jax.models import matmul_conv
from ppogan_jax.models import relgan

STYLE_TASK = "style_transfer"
# Style transfer re-weights the generator's critic term or not; it has no
# classifier-estimated ratio (the paper's Table 4 setting).
STYLE_OBJECTIVES = ("reweight_only", "wgan_gp")
IMAGE_ARCHITECTURES = ("dcgan", "resnet")


def _positive_int(config: ml_collections.ConfigDict, name: str) -> None:
  value = config[name]
  if not isinstance(value, int) or value < 1:
    raise ConfigError(f"config.{name}={value!r}: expected a positive integer")


def check_writable_directory(path: str, name: str) -> None:
  """The directory `path` (the value of option `name`) exists, or can be
  made, and is writable."""
  try:
    os.makedirs(path, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path):
      pass
  except OSError as e:
    raise ConfigError(f"{name}={path!r} is not writable ({e.strerror}); "
                      "choose a directory you can write to") from None


def check_workdir(workdir: str) -> None:
  """The workdir exists (or can be made) and is writable."""
  if not workdir:
    raise ConfigError("--workdir is empty: pass --workdir=DIR for "
                      "checkpoints, logs and samples")
  check_writable_directory(workdir, "--workdir")


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
  if options.dual_clip != 0 and options.dual_clip <= 1:
    raise ConfigError(f"config.surrogate.dual_clip={options.dual_clip}: "
                      "expected 0 (off) or a bound c > 1 (e.g. 3)")


def check_config(config: ml_collections.ConfigDict) -> None:
  """Raises ConfigError for settings the trainer cannot run."""
  if config.task == STYLE_TASK:
    _check_style(config)
    return
  if config.task not in tasks_lib.TASKS:
    raise ConfigError(f"config.task={config.task!r}: choose one of "
                      f"{sorted([*tasks_lib.TASKS, STYLE_TASK])}")
  _check_engine(config)
  TASK_CHECKS.get(config.task, _no_task_fields)(config)


def _check_engine(config: ml_collections.ConfigDict) -> None:
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
  if config.compute_dtype not in state_lib.COMPUTE_DTYPES:
    raise ConfigError(f"config.compute_dtype={config.compute_dtype!r}: choose "
                      f"one of {list(state_lib.COMPUTE_DTYPES)}")


def _no_task_fields(config: ml_collections.ConfigDict) -> None:
  del config


def _check_toy(config: ml_collections.ConfigDict) -> None:
  if config.data.name not in toy_data.TOY_DATASETS:
    raise ConfigError(f"config.data.name: unknown toy dataset "
                      f"{config.data.name!r}; choose one of "
                      f"{sorted(toy_data.TOY_DATASETS)}")


def _check_relgan_text(config: ml_collections.ConfigDict) -> None:
  schedule = config.temperature.schedule
  if schedule not in relgan.TEMPERATURE_SCHEDULES:
    raise ConfigError(f"config.temperature.schedule={schedule!r}: choose "
                      f"one of {list(relgan.TEMPERATURE_SCHEDULES)}")
  rule = config.model.max_pool_second_order
  if rule not in relgan.MAX_POOL_SECOND_ORDER:
    raise ConfigError(f"config.model.max_pool_second_order={rule!r}: choose "
                      f"one of {list(relgan.MAX_POOL_SECOND_ORDER)}")


def _check_images(config: ml_collections.ConfigDict) -> None:
  name, image_size = config.data.name, config.data.image_size
  if name not in image_data.DATASETS:
    raise ConfigError(f"config.data.name={name!r}: choose one of "
                      f"{image_data.DATASETS}")
  if not isinstance(image_size, int) or image_size < 8 or (
      image_size & (image_size - 1)):
    raise ConfigError(f"config.data.image_size={image_size!r}: choose a power"
                      " of two >= 8 (8, 16, 32)")
  splits = config.eval.is_splits
  if splits < 1 or config.eval.num_samples < splits:
    raise ConfigError(f"config.eval.num_samples={config.eval.num_samples} "
                      f"must be >= config.eval.is_splits="
                      f"{config.eval.is_splits} >= 1")
  weights = config.eval.get("inception_weights", "")
  if weights and not os.path.isfile(weights):
    raise ConfigError(f"config.eval.inception_weights={weights!r} is not a "
                      "file: download pytorch-fid's pt_inception-2015-12-05-"
                      "6726825d.pth (or an .npz of it), or set it to ''")
  check_writable_directory(
      config.data.cache_dir or image_data.default_cache_dir(),
      "config.data.cache_dir")
  critic_rates = _check_image_models(config.model)
  uses_ct = (config.consistency_weight > 0
             or variants.get_variant(config.objective).consistency)
  if uses_ct and not any(r > 0 for r in critic_rates):
    raise ConfigError("the CT-GAN consistency term compares two dropout "
                      "passes and is 0 without critic dropout: set "
                      "config.model.critic_dropout > 0 or "
                      "config.consistency_weight=0")


def _check_image_models(m: ml_collections.ConfigDict) -> tuple[float, ...]:
  """Checks config.model; returns the critic's dropout rates."""
  if m.architecture == "dcgan":
    for field in ("generator_activation", "critic_activation"):
      if m[field] not in dcgan.ACTIVATIONS:
        raise ConfigError(f"config.model.{field}={m[field]!r}: choose one of "
                          f"{sorted(dcgan.ACTIVATIONS)}")
    if m.critic_norm not in ("none", "layer"):
      raise ConfigError(f"config.model.critic_norm={m.critic_norm!r}: choose "
                        "'none' or 'layer' (batch-norm couples the examples "
                        "and breaks the per-sample gradient penalty)")
    if m.classifier_norm not in dcgan.NORMS:
      raise ConfigError(f"config.model.classifier_norm={m.classifier_norm!r}:"
                        f" choose one of {dcgan.NORMS}")
    if m.conv_impl not in matmul_conv.IMPLEMENTATIONS:
      raise ConfigError(f"config.model.conv_impl={m.conv_impl!r}: choose one "
                        f"of {matmul_conv.IMPLEMENTATIONS}")
    return (m.critic_dropout,)
  if m.architecture == "resnet":
    if len(m.critic_dropout) != 3:
      raise ConfigError(f"config.model.critic_dropout={m.critic_dropout!r}: "
                        "give 3 rates (after critic blocks 2, 3, 4)")
    if m.classifier == "critic_features":
      raise ConfigError("config.model.classifier='critic_features' (appendix "
                        "6.3.1) is not implemented: it needs the engine to "
                        "pass the critic's parameters to C; use 'resnet_bn'")
    if m.classifier != "resnet_bn":
      raise ConfigError(f"config.model.classifier={m.classifier!r}: choose "
                        "'resnet_bn'")
    if m.conv_impl not in ("auto",) + matmul_conv.STRIDE_ONE_IMPLEMENTATIONS:
      raise ConfigError(f"config.model.conv_impl={m.conv_impl!r}: choose "
                        "'auto' or one of "
                        f"{matmul_conv.STRIDE_ONE_IMPLEMENTATIONS}")
    return tuple(m.critic_dropout)
  raise ConfigError(f"config.model.architecture={m.architecture!r}: choose "
                    f"one of {IMAGE_ARCHITECTURES}")


TASK_CHECKS = {"toy": _check_toy, "oracle_text": _check_relgan_text,
               "real_text": _check_relgan_text, "images": _check_images}


def _check_style(config: ml_collections.ConfigDict) -> None:
  if config.objective not in STYLE_OBJECTIVES:
    raise ConfigError(f"config.objective={config.objective!r}: style "
                      f"transfer runs one of {STYLE_OBJECTIVES} "
                      "(configs/style_transfer_yelp.py:OBJECTIVE[,SIZE])")
  s = config.schedule
  if not 0 <= s.pretrain_epochs <= s.num_epochs or s.num_epochs < 1:
    raise ConfigError(f"schedule: need 0 <= pretrain_epochs="
                      f"{s.pretrain_epochs} <= num_epochs={s.num_epochs}, "
                      "num_epochs >= 1")
  if min(s.diter, s.pretrain_diter, config.batch_size) < 1:
    raise ConfigError("diter, pretrain_diter and batch_size must be >= 1")
  if config.model.style_dim >= config.model.hidden_size:
    raise ConfigError(f"model.style_dim={config.model.style_dim} leaves no "
                      f"content code in hidden_size={config.model.hidden_size}")
  if config.model.train_length < config.data.max_length + 1:
    raise ConfigError("model.train_length must be >= data.max_length + 1 "
                      "(words + EOS)")
