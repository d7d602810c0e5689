"""The synthetic-oracle text task of RelGAN and PPO-GAN (Table 2).

An LSTM oracle with N(0, 1) parameters defines the true distribution; its
10,000 sampled sentences are the training data; a RelGAN generator is
pre-trained by MLE and then trained adversarially; quality is NLL_oracle,
the oracle's per-token NLL of generated sentences (docs/reference_code.md
§4, §5).
"""
import os
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from ppogan_jax import logs
from ppogan_jax.data import oracle as oracle_data
from ppogan_jax.metrics import text as text_metrics
from ppogan_jax.models import oracle as oracle_models
from ppogan_jax.tasks import Task
from ppogan_jax.tasks import relgan_text


def write_samples(samples: np.ndarray, path: str) -> None:
  """Writes generated token ids, one sentence per line, to `path`.txt."""
  np.savetxt(path + ".txt", samples, fmt="%d")


def build(config: ml_collections.ConfigDict) -> Task:
  """The oracle task from config.data, config.model, config.temperature and
  config.pretrain (see configs/text_relgan.py)."""
  d = config.data
  models = relgan_text.relgan_models(config, vocab_size=d.vocab_size,
                                     length=d.length)
  oracle = oracle_models.OracleLSTM(vocab_size=d.vocab_size)
  with logs.Heartbeat(f"oracle LSTM and its {d.num_samples} training "
                      f"sentences of length {d.length} (made once, cached in "
                      f"{d.cache_dir})"):
    oracle_params, data = oracle_data.make_oracle_dataset(
        os.path.expanduser(d.cache_dir), oracle=oracle,
        sample_fn=oracle_models.sample_oracle, seed=d.oracle_seed,
        length=d.length, num_samples=d.num_samples)
  nll_gen = relgan_text.nll_fn(models.generator, data)

  @jax.jit
  def nll_oracle(samples: jax.Array) -> jax.Array:
    return text_metrics.oracle_nll(oracle_params, oracle, samples)

  def evaluate(samples: np.ndarray, key: jax.Array,
               generator_variables: Any) -> dict[str, float]:
    del key
    return {"nll_oracle": float(nll_oracle(jnp.asarray(samples))),
            "nll_gen": nll_gen(generator_variables)}

  def mle_metrics(params: Any) -> dict[str, float]:
    samples = models.sample_tokens(params, config.eval.num_samples)
    return {"mle/nll_oracle": float(nll_oracle(jnp.asarray(samples))),
            "mle/nll_gen": nll_gen({"params": params})}

  return relgan_text.relgan_task(
      config, models, data=data, evaluate=evaluate,
      write_samples=write_samples, mle_metrics=mle_metrics)
