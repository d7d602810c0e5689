"""Tasks: what a config trains on, as models + a data sampler + metrics.

The train step and the training loop only see a `Task`; they never branch on
which task it is. `build_task(config)` picks one by `config.task`.
"""
import dataclasses
import importlib
import os
from typing import Any, Callable, Mapping, Protocol

import jax
import ml_collections
import numpy as np
from flax import linen as nn

Array = jax.Array


def _identity(x):
  return x


def write_text_lines(lines: list[str], path: str) -> None:
  """A text sample dump: `lines`, one per line, to `path`.txt (UTF-8)."""
  with open(path + ".txt", "w", encoding="utf-8") as f:
    f.writelines(line + "\n" for line in lines)


def keep_vocabulary(vocab: Any, filename: str, workdir: str) -> None:
  """A `prepare_workdir` for token tasks: saves `vocab` (with `save`) on the
  first run; on a resume `vocab.check_saved` raises unless it matches."""
  if os.path.exists(os.path.join(workdir, filename)):
    vocab.check_saved(workdir)
  else:
    vocab.save(workdir)


def no_workdir_setup(workdir: str) -> None:
  """The default `Task.prepare_workdir`: nothing to write or check."""
  del workdir


class RealBatches(Protocol):
  """A task's sampler of real data, a pure function of the outer step: its
  position is the step itself, so a resumed run reads exactly the data the
  uninterrupted run reads."""

  def __call__(self, step: int, *, num_batches: int, batch_size: int,
               process_index: int = 0,
               process_count: int = 1) -> np.ndarray:
    """np.ndarray [num_batches, batch_size // process_count, ...]: process
    `process_index`'s contiguous block of rows of each of the `num_batches`
    global batches of outer step `step`."""


@dataclasses.dataclass(frozen=True)
class Task:
  """Models, data and metrics of one experiment.

  Attributes:
    generator: Flax module G(z, *, train, **generator_kwargs).
    critic: Flax module f(x, *, train) -> scores [B] or [B, K].
    classifier: Flax module C(x, *, train) -> logits shaped like the
      critic's scores (the PPO classifier of Eq. 6).
    sample_latent: (key, batch_size) -> latent batch z (inside jit).
    generator_kwargs: traced outer step -> extra generator keyword arguments
      (e.g. the Gumbel-softmax inverse temperature schedule).
    real_batches: host-side, stateless sampler (`RealBatches`): this
      process's share of the real batches of outer step `step`.
    evaluate: (generated samples as np.ndarray, key, generator variables)
      -> dict of float metrics (the variables serve model-based metrics such
      as the generator's NLL on the training data).
    write_samples: (generated samples, path without suffix) -> None; writes a
      PNG plot/grid or a text dump.
    to_critic_input: real data batch -> the critic's input (e.g. token ids
      to one-hots); inside jit.
    critic_view: generator output -> the critic's input; inside jit.
    sample_view: generator output -> the samples evaluated and written
      (e.g. token ids rather than soft one-hots); inside jit.
    initialise_generator: freshly initialised generator params -> the params
      adversarial training starts from (e.g. after MLE pre-training).
    prepare_workdir: workdir -> None, called before training: writes what a
      run's outputs depend on besides the config (e.g. a vocabulary) on the
      first run, and checks it on a resume (raising ConfigError).
    write_critic: None, or (scores, generated samples, path without suffix)
      -> None, called with each sample dump: a picture of the critic, where
      `scores` maps host inputs [N, ...] to the eval-mode critic's scores
      [N] (the toy task draws its contours over the plane).
  """
  generator: nn.Module
  critic: nn.Module
  classifier: nn.Module
  sample_latent: Callable[[Array, int], Array]
  generator_kwargs: Callable[[Array], Mapping[str, Any]]
  real_batches: RealBatches
  evaluate: Callable[[np.ndarray, Array, Any], dict[str, float]]
  write_samples: Callable[[np.ndarray, str], None]
  to_critic_input: Callable[[Array], Array] = _identity
  critic_view: Callable[[Any], Array] = _identity
  sample_view: Callable[[Any], Array] = _identity
  initialise_generator: Callable[[Any], Any] = _identity
  prepare_workdir: Callable[[str], None] = no_workdir_setup
  write_critic: Callable[[Callable[[np.ndarray], np.ndarray], np.ndarray,
                          str], None] | None = None


TASKS = {"toy": "ppogan_jax.tasks.toy",
         "oracle_text": "ppogan_jax.tasks.oracle_text",
         "real_text": "ppogan_jax.tasks.real_text",
         "char_lm": "ppogan_jax.tasks.char_lm",
         "images": "ppogan_jax.tasks.images"}


def build_task(config: ml_collections.ConfigDict) -> Task:
  """Builds the task named by `config.task` (ValueError for an unknown one)."""
  if config.task not in TASKS:
    raise ValueError(
        f"unknown task {config.task!r}; choose one of {sorted(TASKS)}")
  return importlib.import_module(TASKS[config.task]).build(config)
