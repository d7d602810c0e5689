"""What the RelGAN text tasks share (docs/reference_code.md §4): the
Gumbel-softmax generator and its temperature schedule, the
multi-representation CNN critic (also the PPO classifier C), and the
generator's MLE pre-training, cached so that every adversarial variant of
one dataset starts from the same generator. The oracle task and the
real-text task add their data and metrics."""
import dataclasses
import functools
import hashlib
import json
import os
from typing import Any, Callable

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from ppogan_jax import pretrain
from ppogan_jax.data import text as text_data
from ppogan_jax.metrics import text as text_metrics
from ppogan_jax.models import relgan
from ppogan_jax import tasks
from ppogan_jax.tasks import Task


# Model fields that leave the MLE generator unchanged and are not in the cache
# key (so that adding them kept the existing caches' keys).
NOT_IN_PRETRAIN_KEY = ("max_pool_second_order",)


def pretrain_directory(config: ml_collections.ConfigDict) -> str:
  """Cache directory of the MLE generator, keyed by what determines it."""
  model = {k: v for k, v in config.model.to_dict().items()
           if k not in NOT_IN_PRETRAIN_KEY}
  key = json.dumps({"data": config.data.to_dict(),
                    "model": model,
                    "pretrain": config.pretrain.to_dict(),
                    "seed": config.seed}, sort_keys=True)
  digest = hashlib.sha256(key.encode()).hexdigest()[:12]
  return os.path.join(os.path.expanduser(config.data.cache_dir),
                      f"mle_generator_{digest}")


@dataclasses.dataclass(frozen=True)
class RelGANModels:
  """The models of a RelGAN text task and how to sample them.

  Attributes:
    generator: the RelGAN generator G.
    discriminator: a new RelGAN discriminator (the critic, and C).
    sample_latent: (key, batch_size) -> Gumbel noise [B, L, V].
    generator_kwargs: traced step -> {"inverse_temperature": β(step)}.
    sample_tokens: (generator params, n) -> int token ids [n, L] (β = 1).
  """
  generator: relgan.RelGANGenerator
  discriminator: Callable[[], relgan.RelGANDiscriminator]
  sample_latent: Callable[[jax.Array, int], jax.Array]
  generator_kwargs: Callable[[jax.Array], dict[str, jax.Array]]
  sample_tokens: Callable[[Any, int], np.ndarray]


def relgan_models(config: ml_collections.ConfigDict, *, vocab_size: int,
                  length: int) -> RelGANModels:
  """The models of config.model and config.temperature for V and L."""
  m, t = config.model, config.temperature
  generator = relgan.RelGANGenerator(
      vocab_size=vocab_size, max_length=length, embed_dim=m.embed_dim,
      mem_slots=m.mem_slots, num_heads=m.num_heads, head_size=m.head_size)

  def discriminator():
    return relgan.RelGANDiscriminator(
        vocab_size=vocab_size, embed_dim=m.dis_embed_dim,
        num_representations=m.num_representations,
        filter_sizes=tuple(m.filter_sizes), num_filters=m.num_filters,
        dropout_rate=m.dis_dropout,
        max_pool_second_order=m.max_pool_second_order)

  def sample_latent(key: jax.Array, batch_size: int) -> jax.Array:
    return jax.random.gumbel(key, (batch_size, length, vocab_size))

  def generator_kwargs(step: jax.Array) -> dict[str, jax.Array]:
    return {"inverse_temperature": relgan.inverse_temperature(
        step, maximum=t.maximum, schedule=t.schedule, horizon=t.horizon)}

  @jax.jit
  def hard_samples(params: Any, noise: jax.Array) -> jax.Array:
    return generator.apply({"params": params}, noise, inverse_temperature=1.0,
                           train=False).tokens

  def sample_tokens(params: Any, num_samples: int) -> np.ndarray:
    keys = jax.random.split(jax.random.PRNGKey(config.seed + 3),
                            -(-num_samples // 256))
    out = [hard_samples(params, sample_latent(k, 256)) for k in keys]
    return np.concatenate(out)[:num_samples]

  return RelGANModels(generator, discriminator, sample_latent,
                      generator_kwargs, sample_tokens)


def relgan_task(
    config: ml_collections.ConfigDict,
    models: RelGANModels,
    *,
    data: np.ndarray,
    evaluate: Callable[[np.ndarray, jax.Array, Any], dict[str, float]],
    write_samples: Callable[[np.ndarray, str], None],
    mle_metrics: Callable[[Any], dict[str, float]],
    prepare_workdir: Callable[[str], None] = tasks.no_workdir_setup,
) -> Task:
  """A Task training `models` on token ids `data` [N, L] (MLE first).

  Args:
    config: the experiment config (config.pretrain: MLE epochs etc.).
    models: from `relgan_models`.
    data: int training sentences [N, L]: MLE batches and real batches.
    evaluate: the task's metrics of generated token ids.
    write_samples: the task's sample dump.
    mle_metrics: generator params -> metrics logged during pre-training.
    prepare_workdir: the task's workdir setup and check (see `Task`).
  """
  vocab_size = models.generator.vocab_size

  def initialise_generator(params: Any) -> Any:
    p = config.pretrain
    if p.epochs == 0:
      return params
    return pretrain.mle_pretrain(
        models.generator, params, data, directory=pretrain_directory(config),
        epochs=p.epochs, batch_size=p.batch_size,
        learning_rate=p.learning_rate, grad_clip_norm=p.grad_clip_norm,
        evaluate=mle_metrics, eval_every_epochs=p.eval_every_epochs)

  return Task(
      generator=models.generator,
      critic=models.discriminator(),
      classifier=models.discriminator(),
      sample_latent=models.sample_latent,
      generator_kwargs=models.generator_kwargs,
      real_batches=functools.partial(text_data.sentence_batches, data=data,
                                     seed=config.seed),
      evaluate=evaluate,
      write_samples=write_samples,
      to_critic_input=lambda tokens: jax.nn.one_hot(tokens, vocab_size),
      critic_view=lambda out: out.soft_one_hot,
      sample_view=lambda out: out.tokens,
      initialise_generator=initialise_generator,
      prepare_workdir=prepare_workdir,
  )


def nll_fn(generator: relgan.RelGANGenerator,
           sentences: np.ndarray) -> Callable[[Any], float]:
  """NLL_gen: the generator's per-token NLL of `sentences` [N, L]."""
  sentences = jnp.asarray(sentences)

  @jax.jit
  def nll(variables: Any) -> jax.Array:
    return text_metrics.model_nll(variables, generator, sentences,
                                  method="teacher_forced_logits")

  return lambda variables: float(nll(variables))
