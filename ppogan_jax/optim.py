"""Optimisers and schedules built from config, all functions of the step."""
import jax.numpy as jnp
import ml_collections
import optax


def learning_rate_schedule(
    learning_rate: float, *, schedule: str, total_updates: int
) -> optax.Schedule:
  """'constant', or 'linear' decay to 0 over `total_updates` (PPO-GAN §6.3)."""
  if schedule == "constant":
    return optax.constant_schedule(learning_rate)
  if schedule == "linear":
    return optax.linear_schedule(learning_rate, 0.0, total_updates)
  raise ValueError(
      f"unknown lr schedule {schedule!r}; choose 'constant' or 'linear'")


def make_optimizer(
    cfg: ml_collections.ConfigDict, *, total_updates: int
) -> optax.GradientTransformation:
  """Adam with optional global-norm clipping.

  Args:
    cfg: fields learning_rate, b1, b2, eps, grad_clip_norm (0 = off),
      lr_schedule.
    total_updates: how many times this optimiser steps in the whole run (the
      horizon of a linear decay).
  """
  lr = learning_rate_schedule(
      cfg.learning_rate, schedule=cfg.lr_schedule, total_updates=total_updates)
  adam = optax.adam(lr, b1=cfg.b1, b2=cfg.b2, eps=cfg.eps)
  if cfg.grad_clip_norm > 0:
    return optax.chain(optax.clip_by_global_norm(cfg.grad_clip_norm), adam)
  return adam


def clip_epsilon(step: jnp.ndarray, *, epsilon: float, schedule: str,
                 total_steps: int) -> jnp.ndarray:
  """The surrogate's clip range ε at an outer step (traced inside jit).

  'constant' keeps ε; 'linear' anneals it to 0 over the run, as PPO does.
  """
  if schedule == "constant":
    return jnp.asarray(epsilon, jnp.float32)
  if schedule == "linear":
    frac = 1.0 - step.astype(jnp.float32) / total_steps
    return epsilon * jnp.clip(frac, 0.0, 1.0)
  raise ValueError(
      f"unknown epsilon schedule {schedule!r}; choose 'constant' or 'linear'")
