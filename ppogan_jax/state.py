"""GANState: the generator, critic and PPO classifier as Flax TrainStates.

One pytree holds everything a train step reads and writes, so a step is a pure
function `GANState -> GANState` that can be jitted, sharded, donated and saved
with Orbax as a unit. Parameters, optimiser states and batch statistics are
float32 whatever `config.compute_dtype` the networks compute in: the train
step, the sampler and the critic plots apply them through `apply_model`,
while MLE pre-training and the metrics' own model applies (NLL_gen,
Inception features) stay float32.
"""
import functools
from typing import Any, Mapping

import flax
import jax
import jax.numpy as jnp
import optax
from flax import linen as nn
from flax.training import train_state

Array = jax.Array
PyTree = Any

# config.compute_dtype values: what the networks compute in.
COMPUTE_DTYPES = ("float32", "bfloat16")


class ModelState(train_state.TrainState):
  """A TrainState that also carries the model's non-parameter collections.

  `params`, `opt_state` and `collections` are float32 pytrees (as
  initialised); only `apply_model` computes in `compute_dtype`.

  Attributes:
    collections: Flax variable collections other than 'params' (e.g.
      {'batch_stats': ...} for batch-norm), updated by train-mode applies.
    compute_dtype: the dtype the network computes in (static, not a pytree
      leaf, so not checkpointed): float32, or bfloat16 for mixed precision
      (see `apply_model`).
  """
  collections: Mapping[str, PyTree] = flax.struct.field(default_factory=dict)
  compute_dtype: jnp.dtype = flax.struct.field(
      pytree_node=False, default=jnp.dtype(jnp.float32))

  def variables(self, params: PyTree | None = None) -> dict[str, PyTree]:
    """The variables dict for `apply_fn`, with `params` substituted if given."""
    return {"params": self.params if params is None else params,
            **self.collections}


def cast_floating(tree: PyTree, dtype: jnp.dtype) -> PyTree:
  """`tree` with its floating-point leaves cast to `dtype`, others kept."""
  return jax.tree.map(
      lambda x: x.astype(dtype) if jnp.issubdtype(x.dtype, jnp.floating)
      else x, tree)


def apply_model(
    state: ModelState,
    params: PyTree,
    inputs: Array,
    *,
    rng: Array | None,
    train: bool,
    **kwargs,
) -> tuple[Any, Mapping[str, PyTree]]:
  """Applies a model and returns (outputs, updated non-param collections).

  Dropout draws from `rng` (as the 'dropout' stream; None for a
  deterministic eval-mode apply). In train mode mutable
  collections (batch statistics) are updated and returned; in eval mode the
  stored ones are returned unchanged.

  Mixed precision: with `state.compute_dtype` other than float32 the
  floating-point leaves of `params` and `inputs` (the RelGAN generator's
  Gumbel noise included, which thus has bfloat16 precision) are cast to
  it, and the floating-point outputs and collections back to float32;
  `kwargs` and the batch statistics passed in are not cast. Gradients
  reach the float32 `params` through the casts, so parameters and
  optimiser states stay float32, and so do the losses computed from the
  outputs. The models compute their softmaxes and Gumbel-perturbed logits
  in float32 themselves. With float32 nothing is cast.
  """
  if state.compute_dtype != jnp.float32:
    params = cast_floating(params, state.compute_dtype)
    inputs = cast_floating(inputs, state.compute_dtype)
  mutable = list(state.collections) if train and state.collections else False
  out = state.apply_fn(
      state.variables(params), inputs, train=train,
      rngs={} if rng is None else {"dropout": rng}, mutable=mutable, **kwargs)
  if not mutable:
    out = out, state.collections
  if state.compute_dtype != jnp.float32:
    out = cast_floating(out, jnp.float32)
  return out


@flax.struct.dataclass
class GANState:
  """Everything one PPO-GAN iteration reads and writes.

  Attributes:
    step: number of completed outer iterations (Algorithm 1 loop count).
    rng: root PRNG key; the step's key is `fold_in(rng, step)`.
    generator: generator G_θ.
    critic: Lipschitz critic f (Eq. 7).
    classifier: real/fake classifier C used for the ratio of Eq. 6.
    old_classifier_params: C^(t), the classifier frozen at the start of the
      latest generator phase (Eq. 6's historical copy).
    generator_ema_params: exponential moving average of the generator's
      parameters, or None when disabled.
  """
  step: Array
  rng: Array
  generator: ModelState
  critic: ModelState
  classifier: ModelState
  old_classifier_params: PyTree
  generator_ema_params: PyTree | None


def init_model_state(
    module: nn.Module,
    example_input: Array,
    optimizer: optax.GradientTransformation,
    key: Array,
    *,
    compute_dtype: jnp.dtype = jnp.dtype(jnp.float32),
    **init_kwargs,
) -> ModelState:
  """Initialises a module's variables (one jitted call, float32) in a
  ModelState that computes in `compute_dtype`."""
  params_key, dropout_key = jax.random.split(key)
  init = jax.jit(functools.partial(module.init, train=False, **init_kwargs))
  variables = dict(init({"params": params_key, "dropout": dropout_key},
                        example_input))
  params = variables.pop("params")
  return ModelState.create(
      apply_fn=module.apply, params=params, tx=optimizer,
      collections=variables, compute_dtype=compute_dtype)


def create_gan_state(
    *,
    key: Array,
    generator: nn.Module,
    critic: nn.Module,
    classifier: nn.Module,
    example_latent: Array,
    example_sample: Array,
    optimizers: Mapping[str, optax.GradientTransformation],
    generator_kwargs: Mapping[str, Any],
    use_ema: bool,
    compute_dtype: jnp.dtype = jnp.dtype(jnp.float32),
) -> GANState:
  """Creates the initial GANState.

  Args:
    key: root PRNG key of the run.
    generator, critic, classifier: Flax modules with a `train` keyword.
    example_latent: a latent batch for initialising the generator.
    example_sample: a data batch (the critic and classifier input).
    optimizers: optax transformations keyed 'generator', 'critic',
      'classifier'.
    generator_kwargs: extra keyword arguments for the generator's call.
    use_ema: keep an EMA copy of the generator's parameters.
    compute_dtype: what the three networks compute in (`apply_model`).
  """
  root, g_key, d_key, c_key = jax.random.split(key, 4)
  g = init_model_state(generator, example_latent, optimizers["generator"],
                       g_key, compute_dtype=compute_dtype, **generator_kwargs)
  d = init_model_state(critic, example_sample, optimizers["critic"], d_key,
                       compute_dtype=compute_dtype)
  c = init_model_state(classifier, example_sample, optimizers["classifier"],
                       c_key, compute_dtype=compute_dtype)
  # Donated leaves must not alias.
  copy = lambda tree: jax.tree.map(jnp.copy, tree)
  return GANState(
      step=jnp.zeros((), jnp.int32),
      rng=root,
      generator=g,
      critic=d,
      classifier=c,
      old_classifier_params=copy(c.params),
      generator_ema_params=copy(g.params) if use_ema else None,
  )


def parameter_count(params: PyTree) -> int:
  """Number of scalars in a parameter pytree."""
  return sum(x.size for x in jax.tree.leaves(params))

