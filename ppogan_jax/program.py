"""What a task gives the training loop (`train.run_loop`) to run.

The loop owns checkpointing, preemption, progress, metric files and the
non-finite stop; a `TrainProgram` holds what differs between tasks: the
state, the step, when and how to evaluate and when to checkpoint.
"""
import dataclasses
from typing import Any, Callable

import jax

from ppogan_jax import checkpoint


def no_scalars(completed: int) -> dict[str, float]:
  """A program's `step_scalars` when it logs only the step's metrics."""
  del completed
  return {}


@dataclasses.dataclass(frozen=True)
class TrainProgram:
  """One task's training run, as `train.run_loop` drives it.

  "completed" counts the outer steps done: 0 before the first step,
  `num_steps` at the end of the run.

  Attributes:
    state: the initial or restored train state (a pytree with a scalar
      `step` field, the completed steps).
    num_steps: the run's length (schedules follow it, not `until_step`).
    checkpointer: where `state` was restored from and is saved to; the loop
      closes it.
    step: step(state, s) -> (state, metrics) runs the 0-based step s,
      reading its batches itself; metrics are device scalars.
    should_evaluate: whether to evaluate after `completed` steps (0: before
      training).
    evaluate: evaluate(state, completed) -> metrics (floats), writing the
      evaluation's sample dumps.
    should_checkpoint: whether to save after `completed` steps (the loop
      also saves at the end of the invocation and on SIGTERM/SIGINT).
    progress_labels: {label: metric name} shown in the progress lines.
    describe: describe(completed) -> how the evaluation log line names the
      point of the run, e.g. "step 4 (epoch 2)".
    step_scalars: step_scalars(completed) -> scalars logged with the means
      of the steps' metrics (e.g. the epoch).
  """
  state: Any
  num_steps: int
  checkpointer: checkpoint.Checkpointer
  step: Callable[[Any, int], tuple[Any, dict[str, jax.Array]]]
  should_evaluate: Callable[[int], bool]
  evaluate: Callable[[Any, int], dict[str, float]]
  should_checkpoint: Callable[[int], bool]
  progress_labels: dict[str, str]
  describe: Callable[[int], str]
  step_scalars: Callable[[int], dict[str, float]] = no_scalars
