"""WGAN-GP's character-level language model (Gulrajani et al. 2017, §5.5).

`gan_language.py` (docs/reference_code.md §9.1) as a task of the engine:
the residual CNN generator and critic of `ppogan_jax.models.char_cnn` (the
PPO classifier C is a second critic), trained on lines of
`config.data.seq_len` = 32 characters (`ppogan_jax.data.chars`: truncated,
padded with "`", the 2048 most common characters with 'unk' = 0). Real
sequences reach the critic as one-hots [B, L, V], generated ones as the
generator's softmax outputs, so the gradient penalty interpolates between
the two, one α per sequence. Real batches are drawn uniformly with
replacement, seeded by the step (the reference shuffles the lines every
epoch). An iteration is `n_critic` = 10 critic steps, then one generator
step; the reference's is one generator step (none at iteration 0), then 10
critic steps: the same sequence of updates. The character vocabulary is
written to the workdir on the first run and checked on a resume.

Metrics, every `eval_every` iterations, of `config.eval.num_samples` = 640
samples (the reference's 10 batches of 64), each the argmax character of
every position: `js{n}` for n = 1..4, the Jensen–Shannon divergence in bits
between the samples' character n-gram distribution and that of the whole
training data (`ppogan_jax.metrics.ngram`). As a floor, the divergence of
the first 640 training lines from the others is logged once (the reference
prints it as the "validation set JSD"). The sample dump holds the decoded
samples, one per line, padding kept.
"""
import functools
from typing import Any

import jax
import ml_collections
import numpy as np

from ppogan_jax import logs
from ppogan_jax.data import chars
from ppogan_jax.data import text as text_data
from ppogan_jax.errors import ConfigError
from ppogan_jax.metrics import ngram
from ppogan_jax.models import char_cnn
from ppogan_jax.models import latent
from ppogan_jax import tasks
from ppogan_jax.tasks import Task

NGRAM_ORDERS = (1, 2, 3, 4)
log = logs.get_logger()


def ngram_distributions(ids: np.ndarray, vocab_size: int
                        ) -> dict[int, ngram.NgramCounts]:
  """The n-gram counts of the sequences ids [N, L] for n in NGRAM_ORDERS."""
  return {n: ngram.ngram_counts(ids, n, vocab_size) for n in NGRAM_ORDERS}


def js_metrics(samples: np.ndarray, real: dict[int, ngram.NgramCounts],
               vocab_size: int) -> dict[str, float]:
  """{'js{n}': JS divergence (bits) of the samples' [N, L] n-grams and
  `real`'s}, for n in NGRAM_ORDERS."""
  generated = ngram_distributions(samples, vocab_size)
  return {f"js{n}": ngram.js_divergence(real[n], generated[n])
          for n in NGRAM_ORDERS}


def build(config: ml_collections.ConfigDict) -> Task:
  """The task of config.data (train_path, seq_len, max_vocab_size,
  max_line_chars), config.model (dim, num_blocks, latent_dim) and
  config.eval.num_samples."""
  d, m = config.data, config.model
  if not d.train_path:
    raise ConfigError("config.data.train_path must name a text file (one "
                      "line per sequence)")
  lines, num_blank = text_data.read_lines(d.train_path,
                                          max_line_chars=d.max_line_chars)
  vocab = chars.build_vocabulary(lines, d.seq_len, max_size=d.max_vocab_size)
  data = chars.encode(lines, vocab, d.seq_len)
  vocab_size = len(vocab)
  real = ngram_distributions(data, vocab_size)
  log.info("char LM: %d lines of %d characters (%d blank lines skipped), "
           "vocabulary %d", len(data), d.seq_len, num_blank, vocab_size)
  floor = config.eval.num_samples
  if len(data) > floor:
    log.info("char LM: JS of the first %d lines vs the rest (a floor): %s",
             floor, js_metrics(data[:floor], ngram_distributions(
                 data[floor:], vocab_size), vocab_size))

  def evaluate(samples: np.ndarray, key: jax.Array,
               generator_variables: Any) -> dict[str, float]:
    """js1..js4 of the argmax samples [N, L] (key, variables unused)."""
    del key, generator_variables
    return js_metrics(samples, real, vocab_size)

  def write_samples(samples: np.ndarray, path: str) -> None:
    tasks.write_text_lines(chars.decode(samples, vocab), path)

  prepare_workdir = functools.partial(tasks.keep_vocabulary, vocab,
                                      chars.VOCABULARY_FILENAME)

  def critic():
    return char_cnn.CharCritic(dim=m.dim, num_blocks=m.num_blocks)

  return Task(
      generator=char_cnn.CharGenerator(
          vocab_size=vocab_size, length=d.seq_len, dim=m.dim,
          num_blocks=m.num_blocks),
      critic=critic(),
      classifier=critic(),
      sample_latent=functools.partial(latent.gaussian_latent,
                                      dim=m.latent_dim),
      generator_kwargs=lambda step: {},
      real_batches=functools.partial(text_data.sentence_batches, data=data,
                                     seed=config.seed),
      evaluate=evaluate,
      write_samples=write_samples,
      to_critic_input=lambda ids: jax.nn.one_hot(ids, vocab_size),
      sample_view=lambda probs: probs.argmax(axis=-1),
      prepare_workdir=prepare_workdir,
  )
