"""MLE pre-training of a sequence generator (RelGAN §3).

Teacher forcing with token-level cross-entropy, Adam with global-norm clipping,
over fixed, unshuffled, contiguous batches (the reference's data_shuffle=False,
drop_last=True; docs/reference_code.md §3.2). One jitted call runs a whole
epoch as a `lax.scan`. The
result is its own Orbax checkpoint directory, keyed by everything that
determines it, so every adversarial variant starts from the same pre-trained
generator, and an interrupted pre-training resumes from its last saved epoch.
"""
import json
import os
import time
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
import orbax.checkpoint as ocp
from flax import linen as nn

from ppogan_jax import checkpoint
from ppogan_jax import logs
from ppogan_jax.metrics import text as text_metrics

log = logs.get_logger()


def make_mle_epoch(module: nn.Module, optimizer: optax.GradientTransformation
                   ) -> Callable[[Any, Any, jax.Array],
                                 tuple[Any, Any, jax.Array]]:
  """Returns epoch(params, opt_state, batches [S, B, L]) -> (params, opt_state,
  mean training NLL per token)."""

  def loss_fn(params, tokens):
    logits = module.apply({"params": params}, tokens,
                          method="teacher_forced_logits")
    return text_metrics.per_token_nll(logits, tokens)

  def step(carry, tokens):
    params, opt_state = carry
    loss, grads = jax.value_and_grad(loss_fn)(params, tokens)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return (optax.apply_updates(params, updates), opt_state), loss

  @jax.jit
  def epoch(params, opt_state, batches):
    (params, opt_state), losses = jax.lax.scan(step, (params, opt_state),
                                               batches)
    return params, opt_state, losses.mean()

  return epoch


def contiguous_batches(data: np.ndarray, batch_size: int) -> np.ndarray:
  """data [N, L] as [N // batch_size, batch_size, L], the remainder dropped."""
  num_batches = len(data) // batch_size
  if num_batches == 0:
    raise ValueError(f"{len(data)} training sequences are fewer than one "
                     f"batch of {batch_size}")
  return data[:num_batches * batch_size].reshape(num_batches, batch_size, -1)


def mle_pretrain(
    module: nn.Module,
    params: Any,
    data: np.ndarray,
    *,
    directory: str,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    grad_clip_norm: float,
    evaluate: Callable[[Any], dict[str, float]],
    eval_every_epochs: int,
) -> Any:
  """Pre-trains `module` by MLE on `data` [N, L]; returns the final params.

  Args:
    module: a generator with a `teacher_forced_logits(tokens)` method.
    params: its initial parameters.
    data: int token ids [N, L].
    directory: checkpoint directory of this pre-training (resumed if it
      holds a checkpoint; the final epoch's checkpoint is the result).
    epochs: number of passes over the data (150 in the reference).
    batch_size: 64 in the reference.
    learning_rate: Adam learning rate (1e-2 in the reference).
    grad_clip_norm: global-norm gradient clipping (5.0 in the reference).
    evaluate: params -> metrics logged every `eval_every_epochs` epochs
      (e.g. NLL_oracle), also appended to `directory`/metrics.jsonl with
      `elapsed_s`, the seconds since this call started.
    eval_every_epochs: evaluation period in epochs (10 in the reference).
  """
  started = time.perf_counter()
  optimizer = optax.chain(optax.clip_by_global_norm(grad_clip_norm),
                          optax.adam(learning_rate))
  state = {"params": params, "opt_state": optimizer.init(params)}
  manager = checkpoint.make_manager(directory, keep=1)
  start = manager.latest_step() or 0
  if start:
    state = manager.restore(start, args=ocp.args.StandardRestore(state))
    log.info("MLE pre-training: resumed at epoch %d of %d from %s", start,
             epochs, directory)
  if start >= epochs:
    manager.close()
    return state["params"]
  batches = jnp.asarray(contiguous_batches(data, batch_size))
  epoch_fn = make_mle_epoch(module, optimizer)
  progress = logs.Progress(epochs, unit="epoch")
  params, opt_state = state["params"], state["opt_state"]
  done = {"epoch": start, "scalars": {}}

  def status() -> str:
    scalars = done["scalars"]
    return progress.line(done["epoch"], scalars,
                         {k.split("/")[-1]: k for k in scalars})

  with logs.Heartbeat(f"MLE pre-training ({epochs} epochs of {len(batches)} "
                      f"batches; the first compiles)", status=status):
    for epoch in range(start + 1, epochs + 1):
      params, opt_state, loss = jax.block_until_ready(
          epoch_fn(params, opt_state, batches))
      done["epoch"] = epoch
      if epoch == start + 1:
        progress.start(epoch)
      if epoch % eval_every_epochs == 0 or epoch == epochs:
        scalars = {"mle/train_nll": float(loss), **evaluate(params)}
        done["scalars"] = scalars
        with open(os.path.join(directory, "metrics.jsonl"), "a") as f:
          f.write(json.dumps({"epoch": epoch, **scalars, "elapsed_s": round(
              time.perf_counter() - started, 3)}) + "\n")
        manager.save(epoch, args=ocp.args.StandardSave(
            {"params": params, "opt_state": opt_state}))
        log.info("MLE %s", status())
  manager.wait_until_finished()
  manager.close()
  return params
