"""Data parallelism: a 1-D device mesh, shardings, and multi-host set-up.

The train step is `jax.jit` over a `Mesh` with axis 'data': the state is
replicated, real and generated batches are split along their batch axis, and
XLA inserts the all-reduces of gradients, batch statistics and batch-level
reductions (the softmax of Eq. 8 is over the *global* batch). The program is
the same on 1 device, 8 simulated CPU devices or a TPU pod slice.
"""
from typing import Any, Callable

import jax
import ml_collections
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

DATA_AXIS = "data"


def initialize_distributed(config: ml_collections.ConfigDict) -> None:
  """Calls `jax.distributed.initialize` when the config asks for multi-host.

  Reads config.distributed.{coordinator_address, num_processes, process_id};
  empty/negative fields let JAX detect them (as on Cloud TPU). CPU
  collectives use gloo, so multi-process runs also work on CPU hosts.
  """
  d = config.distributed
  if not d.enabled:
    return
  jax.config.update("jax_cpu_collectives_implementation", "gloo")
  kwargs = {}
  if d.coordinator_address:
    kwargs["coordinator_address"] = d.coordinator_address
  if d.num_processes > 0:
    kwargs["num_processes"] = d.num_processes
  if d.process_id >= 0:
    kwargs["process_id"] = d.process_id
  jax.distributed.initialize(**kwargs)


def make_mesh(num_devices: int | None = None) -> Mesh:
  """A 1-D 'data' mesh over the first `num_devices` devices (default all)."""
  devices = jax.devices()
  if num_devices is not None:
    devices = devices[:num_devices]
  return Mesh(np.asarray(devices), (DATA_AXIS,))


def replicated(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, P())


def real_batch_sharding(mesh: Mesh) -> NamedSharding:
  """Sharding of real batches [num_batches, B, ...]: split along B."""
  return NamedSharding(mesh, P(None, DATA_AXIS))


def batch_constraint(mesh: Mesh) -> Callable[[jax.Array], jax.Array]:
  """Constrains a generated batch [B, ...] to be split along B."""
  sharding = NamedSharding(mesh, P(DATA_AXIS))
  return lambda x: jax.lax.with_sharding_constraint(x, sharding)


def global_real_batch(local: np.ndarray, mesh: Mesh) -> jax.Array:
  """Assembles this process's rows [n, B/processes, ...] into a global array."""
  return jax.make_array_from_process_local_data(
      real_batch_sharding(mesh), local)


def compile_train_step(
    train_step: Callable[..., Any], mesh: Mesh, state: Any
) -> Callable[..., Any]:
  """Jits the step over `mesh`: state replicated and donated, batch split."""
  state_sharding = jax.tree.map(lambda _: replicated(mesh), state)
  return jax.jit(
      train_step,
      in_shardings=(state_sharding, real_batch_sharding(mesh)),
      out_shardings=(state_sharding, replicated(mesh)),
      donate_argnums=0,
  )


def replicate(tree: Any, mesh: Mesh) -> Any:
  """Places every leaf of `tree` replicated on the mesh."""
  return jax.device_put(tree, replicated(mesh))
