"""Orbax checkpoints of the GANState, with resume, fallback and config checks.

A checkpoint holds the whole GANState (params, optimiser states, frozen
classifier, EMA, RNG, step) plus JSON metadata: the config it was written
with and the data sampler's position. The sampler is a pure function of the
outer step (see `Task.real_batches`), so its position is the step.
"""
import json
import os
from typing import Any

import jax
import ml_collections
import orbax.checkpoint as ocp

from ppogan_jax import config_defaults
from ppogan_jax import logs

log = logs.get_logger()

# Fields that may change between a run and its resumption.
RUN_CONTROL_FIELDS = frozenset({
    "num_steps", "log_every", "checkpoint_every", "eval_every",
    "eval_at_start", "keep_checkpoints", "eval", "distributed",
    "data.cache_dir", "data.data_dir",
})


class ConfigMismatchError(ValueError):
  """The workdir's checkpoint was written by a different config."""


def _flatten(d: Any, prefix: str = "") -> dict[str, Any]:
  if isinstance(d, dict):
    out = {}
    for k, v in d.items():
      out.update(_flatten(v, f"{prefix}{k}."))
    return out
  return {prefix[:-1]: d}


def _is_run_control(field: str) -> bool:
  return any(field == f or field.startswith(f + ".")
             for f in RUN_CONTROL_FIELDS)


def config_differences(saved: dict[str, Any],
                       config: ml_collections.ConfigDict) -> list[str]:
  """Fields (dotted) whose values differ, ignoring run-control fields and
  engine fields newer than the checkpoint that are at their default (an
  option added with a default that keeps the earlier behaviour)."""
  current = _flatten(json.loads(config.to_json()))
  saved = _flatten(saved)
  defaults = _flatten(json.loads(config_defaults.base_config().to_json()))

  def newer_at_default(k: str) -> bool:
    return k not in saved and k in defaults and current.get(k) == defaults[k]

  return sorted(
      f"{k}: checkpoint={saved.get(k)!r} config={current.get(k)!r}"
      for k in set(saved) | set(current)
      if not _is_run_control(k) and not newer_at_default(k)
      and saved.get(k) != current.get(k))


def make_manager(directory: str, *, keep: int, asynchronous: bool = False,
                 item_names: tuple[str, ...] | None = None
                 ) -> ocp.CheckpointManager:
  """The project's Orbax CheckpointManager for `directory` (created if
  missing), keeping the newest `keep` steps."""
  return ocp.CheckpointManager(
      os.path.abspath(directory),
      options=ocp.CheckpointManagerOptions(
          max_to_keep=keep, create=True,
          enable_async_checkpointing=asynchronous),
      item_names=item_names)


class Checkpointer:
  """Saves and restores train states with their config in `directory`
  (async, keep-last-N): the one checkpoint format of every training loop."""

  def __init__(self, directory: str, *, keep: int):
    self._manager = make_manager(directory, keep=keep, asynchronous=True,
                                 item_names=("state", "meta"))

  def save(self, step: int, state: Any, config: ml_collections.ConfigDict,
           *, force: bool = False) -> None:
    meta = {"config": json.loads(config.to_json()), "data_position": step}
    self._manager.save(
        step,
        args=ocp.args.Composite(state=ocp.args.StandardSave(state),
                                meta=ocp.args.JsonSave(meta)),
        force=force)

  def wait(self) -> None:
    self._manager.wait_until_finished()

  def steps(self) -> list[int]:
    return sorted(self._manager.all_steps())

  def restore_latest(self, abstract_state: Any,
                     config: ml_collections.ConfigDict | None) -> Any | None:
    """Restores the newest readable checkpoint, or None if there is none.

    A checkpoint that fails to load (corrupt or partial files) is reported
    and the next older one is tried. A checkpoint written by a different
    config raises ConfigMismatchError naming the differing fields; with
    `config` None (starting a new run from another run's state) the
    check is skipped.
    """
    for step in reversed(self.steps()):
      try:
        restored = self._manager.restore(step, args=ocp.args.Composite(
            state=ocp.args.StandardRestore(abstract_state),
            meta=ocp.args.JsonRestore()))
      except Exception as e:  # Orbax raises many types for damaged files.
        log.error("checkpoint at step %d is unreadable (%s: %s); "
                      "trying the previous one", step, type(e).__name__,
                      str(e).splitlines()[0] if str(e) else "")
        continue
      diffs = ([] if config is None
               else config_differences(restored.meta["config"], config))
      if diffs:
        raise ConfigMismatchError(
            f"checkpoint at step {step} was written with a different config "
            f"({'; '.join(diffs)}); use a new --workdir or the same config")
      log.info("restored checkpoint at step %d", step)
      return restored.state
    return None

  def close(self) -> None:
    self._manager.close()


def abstract(tree: Any) -> Any:
  """ShapeDtypeStructs (with shardings) describing `tree`, for restoring."""
  return jax.tree.map(ocp.utils.to_shape_dtype_struct, tree)
