"""The synthetic-oracle text task of RelGAN and PPO-GAN (Table 2).

An LSTM oracle with N(0, 1) parameters defines the true distribution; its
10,000 sampled sentences are the training data; a RelGAN generator is
pre-trained by MLE and then trained adversarially; quality is NLL_oracle, the
oracle's per-token NLL of generated sentences (REFERENCE_SPEC §4, §5).
"""
import functools
import hashlib
import json
import os
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from ppogan_jax import pretrain
from ppogan_jax.data import oracle as oracle_data
from ppogan_jax.errors import ConfigError
from ppogan_jax.metrics import text as text_metrics
from ppogan_jax.models import oracle as oracle_models
from ppogan_jax.models import relgan
from ppogan_jax.tasks import Task


def real_batches(step: int, num_batches: int, batch_size: int,
                 process_index: int, process_count: int, *,
                 data: np.ndarray, seed: int) -> np.ndarray:
  """This process's rows of step `step`'s real batches, int32 [n, B/P, L].

  Sentences are drawn uniformly with replacement, seeded by (seed, step).
  (The reference draws one of its fixed contiguous 64-sentence batches
  uniformly at random, also with replacement.)
  """
  rng = np.random.default_rng([seed, step])
  index = rng.integers(len(data), size=(num_batches, batch_size))
  local = batch_size // process_count
  return data[index[:, process_index * local:(process_index + 1) * local]]


def write_samples(samples: np.ndarray, path: str) -> None:
  """Writes generated token ids, one sentence per line, to `path`.txt."""
  np.savetxt(path + ".txt", samples, fmt="%d")


def _pretrain_directory(config: ml_collections.ConfigDict) -> str:
  """Cache directory of the MLE generator, keyed by what determines it."""
  key = json.dumps({"data": config.data.to_dict(),
                    "model": config.model.to_dict(),
                    "pretrain": config.pretrain.to_dict(),
                    "seed": config.seed}, sort_keys=True)
  digest = hashlib.sha256(key.encode()).hexdigest()[:12]
  return os.path.join(os.path.expanduser(config.data.cache_dir),
                      f"mle_generator_{digest}")


def build(config: ml_collections.ConfigDict) -> Task:
  """The oracle task from config.data, config.model, config.temperature and
  config.pretrain (see configs/text_relgan.py)."""
  d, m, t = config.data, config.model, config.temperature
  if t.schedule not in relgan.TEMPERATURE_SCHEDULES:
    raise ConfigError(f"config.temperature.schedule={t.schedule!r}: choose "
                      f"one of {list(relgan.TEMPERATURE_SCHEDULES)}")
  cache_dir = os.path.expanduser(d.cache_dir)
  oracle = oracle_models.OracleLSTM(vocab_size=d.vocab_size)
  oracle_params, data = oracle_data.make_oracle_dataset(
      cache_dir, oracle=oracle, sample_fn=oracle_models.sample_oracle,
      seed=d.oracle_seed, length=d.length, num_samples=d.num_samples)
  generator = relgan.RelGANGenerator(
      vocab_size=d.vocab_size, max_length=d.length, embed_dim=m.embed_dim,
      mem_slots=m.mem_slots, num_heads=m.num_heads, head_size=m.head_size)

  def discriminator():
    return relgan.RelGANDiscriminator(
        vocab_size=d.vocab_size, embed_dim=m.dis_embed_dim,
        num_representations=m.num_representations,
        filter_sizes=tuple(m.filter_sizes), num_filters=m.num_filters,
        dropout_rate=m.dis_dropout)

  def sample_latent(key: jax.Array, batch_size: int) -> jax.Array:
    return jax.random.gumbel(key, (batch_size, d.length, d.vocab_size))

  def generator_kwargs(step: jax.Array) -> dict[str, jax.Array]:
    return {"inverse_temperature": relgan.inverse_temperature(
        step, maximum=t.maximum, schedule=t.schedule, horizon=t.horizon)}

  training_data = jnp.asarray(data)

  @jax.jit
  def nll_gen(variables: Any) -> jax.Array:
    return text_metrics.model_nll(variables, generator, training_data,
                                  method="teacher_forced_logits")

  @jax.jit
  def nll_oracle(samples: jax.Array) -> jax.Array:
    return text_metrics.oracle_nll(oracle_params, oracle, samples)

  def evaluate(samples: np.ndarray, key: jax.Array,
               generator_variables: Any) -> dict[str, float]:
    del key
    return {"nll_oracle": float(nll_oracle(jnp.asarray(samples))),
            "nll_gen": float(nll_gen(generator_variables))}

  @jax.jit
  def hard_samples(params: Any, noise: jax.Array) -> jax.Array:
    return generator.apply({"params": params}, noise, inverse_temperature=1.0,
                           train=False).tokens

  def sample_tokens(params: Any, num_samples: int) -> np.ndarray:
    keys = jax.random.split(jax.random.PRNGKey(config.seed + 3),
                            -(-num_samples // 256))
    out = [hard_samples(params, sample_latent(k, 256)) for k in keys]
    return np.concatenate(out)[:num_samples]

  def initialise_generator(params: Any) -> Any:
    p = config.pretrain
    if p.epochs == 0:
      return params

    def mle_metrics(params):
      samples = sample_tokens(params, config.eval.num_samples)
      return {"mle/nll_oracle": float(nll_oracle(jnp.asarray(samples))),
              "mle/nll_gen": float(nll_gen({"params": params}))}

    return pretrain.mle_pretrain(
        generator, params, data, directory=_pretrain_directory(config),
        epochs=p.epochs, batch_size=p.batch_size,
        learning_rate=p.learning_rate, grad_clip_norm=p.grad_clip_norm,
        evaluate=mle_metrics, eval_every_epochs=p.eval_every_epochs)

  return Task(
      generator=generator,
      critic=discriminator(),
      classifier=discriminator(),
      sample_latent=sample_latent,
      generator_kwargs=generator_kwargs,
      real_batches=functools.partial(real_batches, data=data,
                                     seed=config.seed),
      evaluate=evaluate,
      write_samples=write_samples,
      to_critic_input=lambda tokens: jax.nn.one_hot(tokens, d.vocab_size),
      critic_view=lambda out: out.soft_one_hot,
      sample_view=lambda out: out.tokens,
      initialise_generator=initialise_generator,
  )
