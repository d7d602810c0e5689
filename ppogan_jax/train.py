"""The training program: set-up, the loop, evaluation, checkpoints, sampling.

`train_and_evaluate(config, workdir)` runs (or resumes) an experiment;
`write_samples(config, workdir, num_samples)` loads the latest checkpoint and
writes samples without training. `run_loop` is every task's training loop
(the GAN tasks' and the style-transfer task's), over a
`program.TrainProgram`.
"""
import dataclasses
import json
import math
import os
import signal
from typing import Any, Callable

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from ppogan_jax import checkpoint as checkpoint_lib
from ppogan_jax import config_check
from ppogan_jax import errors
from ppogan_jax import logs
from ppogan_jax import optim
from ppogan_jax import parallel
from ppogan_jax import program as program_lib
from ppogan_jax import step as step_lib
from ppogan_jax import tasks as tasks_lib
from ppogan_jax.state import GANState, apply_model, create_gan_state

PROGRESS_LABELS = {"d_loss": "critic/loss", "W": "critic/wasserstein_estimate",
                   "g_loss": "generator/loss", "ratio": "ppo/ratio_mean",
                   "clipped": "ppo/clip_fraction"}
log = logs.get_logger()


class NonFiniteLossError(RuntimeError):
  """Training produced NaN/inf; the last good checkpoint is kept."""


@dataclasses.dataclass
class Experiment:
  """What the loop and the sampler need, built from a config."""
  config: ml_collections.ConfigDict
  task: tasks_lib.Task
  mesh: Any
  state: GANState
  checkpointer: checkpoint_lib.Checkpointer


def create_state(config: ml_collections.ConfigDict,
                 task: tasks_lib.Task) -> GANState:
  """The initial GANState of a run, from config.seed (float32 parameters and
  optimiser states; networks computing in config.compute_dtype)."""
  key = jax.random.PRNGKey(config.seed)
  total = {"generator": config.num_steps * config.n_gen,
           "critic": config.num_steps * config.n_critic,
           "classifier": config.num_steps * config.n_gen}
  optimizers = {name: optim.make_optimizer(config.optimizer[name],
                                           total_updates=total[name])
                for name in total}
  real = task.real_batches(0, num_batches=1, batch_size=config.batch_size)[0]
  latent_key, state_key = jax.random.split(key)
  state = create_gan_state(
      key=state_key,
      generator=task.generator, critic=task.critic,
      classifier=task.classifier,
      example_latent=task.sample_latent(latent_key, config.batch_size),
      example_sample=task.to_critic_input(jnp.asarray(real)),
      optimizers=optimizers,
      generator_kwargs=task.generator_kwargs(jnp.zeros((), jnp.int32)),
      use_ema=config.generator_ema_decay > 0,
      compute_dtype=jnp.dtype(config.compute_dtype),
  )
  params = task.initialise_generator(state.generator.params)
  return state.replace(
      generator=state.generator.replace(params=params),
      generator_ema_params=(None if state.generator_ema_params is None
                            else jax.tree.map(jnp.copy, params)))


def pretrain_generator(config: ml_collections.ConfigDict) -> None:
  """Runs only the task's generator initialisation (the text tasks' MLE
  pre-training, cached where every later run of the config finds it)."""
  config_check.check_config(config)
  create_state(config, tasks_lib.build_task(config))


def setup(config: ml_collections.ConfigDict, workdir: str) -> Experiment:
  """Validates, builds the task and restores or creates the state.

  Every check that can fail on a bad config, bad data or a bad workdir runs
  here, before the train step is compiled.
  """
  config_check.check_workdir(workdir)
  config_check.check_config(config)
  task = tasks_lib.build_task(config)
  if jax.process_index() == 0:
    task.prepare_workdir(workdir)
  mesh = parallel.make_mesh()
  state = create_state(config, task)
  checkpointer = checkpoint_lib.Checkpointer(
      os.path.join(workdir, "checkpoints"), keep=config.keep_checkpoints)
  restored = checkpointer.restore_latest(
      checkpoint_lib.abstract(state), config)
  if restored is not None:
    state = restored
  return Experiment(config, task, mesh, parallel.replicate(state, mesh),
                    checkpointer)


def eval_generator_params(state: GANState) -> Any:
  """The EMA generator parameters when the run keeps them, else the live
  ones."""
  if state.generator_ema_params is None:
    return state.generator.params
  return state.generator_ema_params


def make_sampler(config: ml_collections.ConfigDict, task: tasks_lib.Task
                 ) -> Callable[[GANState, jax.Array, int], np.ndarray]:
  """Returns sample(state, key, n) -> n generated samples on the host.

  Uses eval-mode models (batch-norm running statistics) and the EMA
  generator when the run keeps one.
  """
  batch = config.batch_size

  @jax.jit
  def generate(state: GANState, key: jax.Array) -> jax.Array:
    z = task.sample_latent(key, batch)
    out, _ = apply_model(state.generator, eval_generator_params(state), z,
                         rng=None, train=False,
                         **task.generator_kwargs(state.step))
    return task.sample_view(out)

  def sample(state: GANState, key: jax.Array, n: int) -> np.ndarray:
    keys = jax.random.split(key, math.ceil(n / batch))
    return np.concatenate([np.asarray(generate(state, k)) for k in keys])[:n]

  return sample


def _install_stop_handlers() -> dict[str, int | None]:
  """SIGTERM (preemption) and SIGINT ask the loop to checkpoint and stop."""
  received = {"signal": None}

  def handler(signum, frame):
    del frame
    received["signal"] = signum

  signal.signal(signal.SIGTERM, handler)
  signal.signal(signal.SIGINT, handler)
  return received


def mean_metrics(pending: list[dict[str, jax.Array]]) -> dict[str, float]:
  """Means of the pending steps' metrics, as Python floats."""
  stacked = jax.device_get(pending)
  return {k: float(np.mean([m[k] for m in stacked])) for k in stacked[0]}


def check_finite(step: int, scalars: dict[str, float]) -> None:
  """Raises NonFiniteLossError naming the metrics that are NaN or inf."""
  bad = sorted(k for k, v in scalars.items() if not math.isfinite(v))
  if bad:
    raise NonFiniteLossError(
        f"non-finite metrics at step {step}: {', '.join(bad)}; stopped "
        "without saving, the last good checkpoint is kept (lower the learning "
        "rates or raise the gradient penalty)")


def evaluate_and_dump(exp: Experiment, state: GANState, step: int,
                      sample: Callable, workdir: str) -> dict[str, float]:
  """Evaluates `config.eval.num_samples` samples and writes a sample dump."""
  key = jax.random.fold_in(jax.random.PRNGKey(exp.config.seed + 1), step)
  sample_key, metric_key = jax.random.split(key)
  with logs.Heartbeat(f"evaluation at step {step} "
                      f"({exp.config.eval.num_samples} samples)"):
    samples = sample(state, sample_key, exp.config.eval.num_samples)
    metrics = exp.task.evaluate(
        samples, metric_key,
        state.generator.variables(eval_generator_params(state)))
  if jax.process_index() == 0:
    sample_dir = os.path.join(workdir, "samples")
    os.makedirs(sample_dir, exist_ok=True)
    exp.task.write_samples(samples,
                           os.path.join(sample_dir, f"step_{step:07d}"))
    if exp.task.write_critic is not None:
      exp.task.write_critic(
          critic_scores(state), samples,
          os.path.join(sample_dir, f"critic_step_{step:07d}"))
  return {f"eval/{k}": v for k, v in metrics.items()}


def critic_scores(state: GANState) -> Callable[[np.ndarray], np.ndarray]:
  """Host inputs [N, ...] -> the eval-mode critic's scores [N] (floats)."""
  def scores(x: np.ndarray) -> np.ndarray:
    out, _ = apply_model(state.critic, state.critic.params, jnp.asarray(x),
                         rng=None, train=False)
    return np.asarray(out).reshape(len(x))
  return scores


def gan_program(exp: Experiment, workdir: str) -> program_lib.TrainProgram:
  """The GAN loop of `exp`: evaluation every config.eval_every steps, at the
  end and (config.eval_at_start) before training; checkpoints every
  config.checkpoint_every steps."""
  config, task, mesh = exp.config, exp.task, exp.mesh
  train_step = parallel.compile_train_step(
      step_lib.make_train_step(
          config, task, constrain_batch=parallel.batch_constraint(mesh)),
      mesh, exp.state)
  sample = make_sampler(config, task)
  n_real = config.n_critic + config.n_gen

  def step(state: GANState, s: int) -> tuple[GANState, dict[str, jax.Array]]:
    local = task.real_batches(
        s, num_batches=n_real, batch_size=config.batch_size,
        process_index=jax.process_index(),
        process_count=jax.process_count())
    return train_step(state, parallel.global_real_batch(local, mesh))

  def should_evaluate(completed: int) -> bool:
    if completed == 0:
      return config.eval_at_start
    return (completed == config.num_steps
            or completed % config.eval_every == 0)

  return program_lib.TrainProgram(
      state=exp.state, num_steps=config.num_steps,
      checkpointer=exp.checkpointer, step=step,
      should_evaluate=should_evaluate,
      evaluate=lambda state, completed: evaluate_and_dump(
          exp, state, completed, sample, workdir),
      should_checkpoint=lambda completed: (
          completed % config.checkpoint_every == 0),
      progress_labels=PROGRESS_LABELS,
      describe=lambda completed: (f"step {completed}" if completed
                                  else "step 0 (before training)"))


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str, *,
                       until_step: int = 0) -> GANState:
  """Trains `config` in `workdir`, resuming from its latest checkpoint.

  With `until_step` > 0 the run pauses after that step (saving a checkpoint):
  the same call without it, or with a later one, continues the run exactly,
  with every schedule still following config.num_steps (how long
  experiments are trained in chunks, e.g. several objectives in turn).

  Returns the final state. Raises NonFiniteLossError on NaN/inf losses.
  """
  exp = setup(config, workdir)
  log.info("devices: %s; mesh %s; process %d of %d", jax.devices(),
           dict(exp.mesh.shape), jax.process_index(), jax.process_count())
  state, _ = run_loop(gan_program(exp, workdir), config, workdir,
                      until_step=until_step)
  return state


def run_loop(program: program_lib.TrainProgram,
             config: ml_collections.ConfigDict, workdir: str, *,
             until_step: int = 0) -> tuple[Any, dict[str, float]]:
  """Runs `program` from its state's step to `until_step` (if > 0) or to
  its end: every task's training loop.

  Writes workdir/config.json, logs the steps' mean metrics every
  config.log_every steps and before each checkpoint (TensorBoard,
  metrics.jsonl, a progress line with the ETA), evaluates and checkpoints
  where the program says, saves at the last step, and on SIGTERM/SIGINT
  saves and returns (rerunning continues the run exactly).

  Returns:
    The final state and the metrics of the last evaluation run ({} if none).
  Raises:
    NonFiniteLossError on NaN/inf metrics, without saving.
  """
  state = program.state
  start = int(state.step)
  log.info("config:\n%s", config)
  if start:
    log.info("resuming at step %d of %d", start, program.num_steps)
  if jax.process_index() == 0:
    with open(os.path.join(workdir, "config.json"), "w") as f:
      f.write(config.to_json(indent=2))
  writer = logs.MetricWriter(workdir, active=jax.process_index() == 0)
  progress = logs.Progress(program.num_steps)
  stop = _install_stop_handlers()

  def evaluate(state: Any, completed: int) -> dict[str, float]:
    scalars = program.evaluate(state, completed)
    writer.write(completed, scalars)
    log.info("eval at %s: %s", program.describe(completed),
             json.dumps(scalars))
    return scalars

  pending, eval_scalars = [], {}
  step = start
  end = min(until_step or program.num_steps, program.num_steps)
  try:
    if start == 0 and program.should_evaluate(0):
      eval_scalars = evaluate(state, 0)
    with logs.Heartbeat(f"training steps {start + 1}-{end} of "
                        f"{program.num_steps}",
                        status=lambda: progress.line(step, {}, {})):
      while step < end:
        if step == start:
          with logs.Heartbeat("compiling the train step and running step "
                              f"{step + 1}"):
            state, metrics = jax.block_until_ready(program.step(state, step))
        else:
          state, metrics = program.step(state, step)
        pending.append(metrics)
        step += 1
        if step == start + 1:
          progress.start(step)
        stopping = stop["signal"] is not None
        save = step == end or stopping or program.should_checkpoint(step)
        if save or step % config.log_every == 0:
          scalars = {**mean_metrics(pending), **program.step_scalars(step)}
          pending = []
          check_finite(step, scalars)
          writer.write(step, scalars)
          log.info("%s", progress.line(step, scalars,
                                       program.progress_labels))
        if program.should_evaluate(step):
          eval_scalars = evaluate(state, step)
        if save:
          program.checkpointer.save(step, state, config, force=stopping)
        if stopping:
          log.warning("received signal %d: saved the checkpoint at step %d; "
                      "rerun the same command to resume", stop["signal"],
                      step)
          break
  finally:
    program.checkpointer.wait()
    program.checkpointer.close()
    writer.close()
  if step == program.num_steps and jax.process_index() == 0:
    log_first_and_last_eval(workdir)
  return state, eval_scalars


def log_first_and_last_eval(workdir: str) -> None:
  """Logs 'metric first → last' over the run's evaluations (from step 0
  when config.eval_at_start), read back from its metrics.jsonl."""
  evals = [r for r in logs.read_metrics(workdir)
           if any(k.startswith("eval/") for k in r)]
  if not evals:
    return
  first, last = evals[0], evals[-1]
  log.info("evaluation, step %d → step %d: %s", first["step"], last["step"],
           ", ".join(f"{k[len('eval/'):]} {first[k]:.4g} → {last[k]:.4g}"
                     for k in first if k.startswith("eval/") and k in last))


def write_samples(config: ml_collections.ConfigDict, workdir: str,
                  num_samples: int) -> str:
  """Writes `num_samples` samples of the latest checkpoint; returns the path."""
  exp = setup(config, workdir)
  exp.checkpointer.close()
  step = int(exp.state.step)
  if step == 0:
    raise errors.ConfigError(
        f"no checkpoint in {workdir!r}: train first (--mode=train)")
  samples = make_sampler(config, exp.task)(
      exp.state, jax.random.PRNGKey(config.seed + 2), num_samples)
  path = os.path.join(workdir, "samples", f"sampled_step_{step:07d}")
  os.makedirs(os.path.dirname(path), exist_ok=True)
  np.save(path + ".npy", samples)
  exp.task.write_samples(samples, path)
  return path
