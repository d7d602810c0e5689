"""GANState: the generator, critic and PPO classifier as Flax TrainStates.

One pytree holds everything a train step reads and writes, so a step is a pure
function `GANState -> GANState` that can be jitted, sharded, donated and saved
with Orbax as a unit.
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


class ModelState(train_state.TrainState):
  """A TrainState that also carries the model's non-parameter collections.

  Attributes:
    collections: Flax variable collections other than 'params' (e.g.
      {'batch_stats': ...} for batch-norm), updated by train-mode applies.
  """
  collections: Mapping[str, PyTree] = flax.struct.field(default_factory=dict)

  def variables(self, params: PyTree | None = None) -> dict[str, PyTree]:
    """The variables dict for `apply_fn`, with `params` substituted if given."""
    return {"params": self.params if params is None else params,
            **self.collections}


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
  """
  mutable = list(state.collections) if train and state.collections else False
  out = state.apply_fn(
      state.variables(params), inputs, train=train,
      rngs={} if rng is None else {"dropout": rng}, mutable=mutable, **kwargs)
  if mutable:
    return out
  return out, state.collections


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
    **init_kwargs,
) -> ModelState:
  """Initialises a module's variables (one jitted call) in a ModelState."""
  params_key, dropout_key = jax.random.split(key)
  init = jax.jit(functools.partial(module.init, train=False, **init_kwargs))
  variables = dict(init({"params": params_key, "dropout": dropout_key},
                        example_input))
  params = variables.pop("params")
  return ModelState.create(
      apply_fn=module.apply, params=params, tx=optimizer,
      collections=variables)


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
  """
  root, g_key, d_key, c_key = jax.random.split(key, 4)
  g = init_model_state(generator, example_latent, optimizers["generator"],
                       g_key, **generator_kwargs)
  d = init_model_state(critic, example_sample, optimizers["critic"], d_key)
  c = init_model_state(classifier, example_sample, optimizers["classifier"],
                       c_key)
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

