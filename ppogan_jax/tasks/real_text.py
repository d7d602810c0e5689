"""Real text (COCO captions, EMNLP2017 News): RelGAN + the PPO-GAN
objectives, evaluated by BLEU, self-BLEU and NLL_gen (the paper's Table 3).

The data are two files of one sentence per line, prepared as the reference
does (`ppogan_jax.data.text`: lower-cased, nltk-equivalent tokens, the
vocabulary and the maximum length from train + test, EOS/padding 0, BOS 1).
The vocabulary is written to the workdir on the first run and checked on a
resume. Metrics, every `eval_every` iterations, of `config.eval.num_samples`
generated sentences (β = 1, decoded up to the first padding token):
  bleu{n}       nltk sentence_bleu (uniform weights, smoothing method 1) of
                the first config.eval.bleu_hypotheses (200) generated
                sentences against the whole test set, averaged;
  self_bleu{n}  the same against the other generated sentences;
  nll_gen       the generator's per-token NLL of the test set;
  nll_gen_train the same on the training set (what the reference logs as
                NLL_gen).
"""
import functools
from typing import Any

import jax
import ml_collections
import numpy as np

from ppogan_jax import logs
from ppogan_jax.data import text as text_data
from ppogan_jax.errors import ConfigError
from ppogan_jax.metrics import bleu
from ppogan_jax import tasks
from ppogan_jax.tasks import Task
from ppogan_jax.tasks import relgan_text

log = logs.get_logger()


def build(config: ml_collections.ConfigDict) -> Task:
  """The real-text task of config.data (train_path, test_path,
  max_line_chars), config.model, config.temperature and config.pretrain."""
  d, e = config.data, config.eval
  if not d.train_path or not d.test_path:
    raise ConfigError("config.data.train_path and config.data.test_path must "
                      "name text files (one sentence per line)")
  corpus = text_data.load_corpus(d.train_path, d.test_path,
                                 max_line_chars=d.max_line_chars)
  vocab = corpus.vocabulary
  log.info("real text: %d training and %d test sentences (%d and %d blank "
           "lines skipped), vocabulary %d, max length %d",
           len(corpus.train.sentences), len(corpus.test.sentences),
           corpus.train.num_blank_lines, corpus.test.num_blank_lines,
           len(vocab), corpus.max_length)
  models = relgan_text.relgan_models(config, vocab_size=len(vocab),
                                     length=corpus.max_length)
  orders = tuple(e.bleu_orders)
  references = bleu.References(corpus.test.sentences, max(orders))
  nll_test = relgan_text.nll_fn(models.generator, corpus.test_ids)
  nll_train = relgan_text.nll_fn(models.generator, corpus.train_ids)

  def metrics(samples: np.ndarray, variables: Any) -> dict[str, float]:
    sentences = text_data.decode_tokens(samples, vocab)
    return {**bleu.bleu_scores(sentences, references, orders,
                               num_hypotheses=e.bleu_hypotheses),
            **bleu.self_bleu(sentences, orders,
                             num_hypotheses=e.bleu_hypotheses),
            "nll_gen": nll_test(variables),
            "nll_gen_train": nll_train(variables)}

  def evaluate(samples: np.ndarray, key: jax.Array,
               generator_variables: Any) -> dict[str, float]:
    del key
    return metrics(samples, generator_variables)

  def mle_metrics(params: Any) -> dict[str, float]:
    samples = models.sample_tokens(params, e.num_samples)
    return {f"mle/{k}": v
            for k, v in metrics(samples, {"params": params}).items()}

  def write_samples(samples: np.ndarray, path: str) -> None:
    tasks.write_text_lines(text_data.decode(samples, vocab), path)

  prepare_workdir = functools.partial(tasks.keep_vocabulary, vocab,
                                      text_data.VOCABULARY_FILENAME)

  return relgan_text.relgan_task(
      config, models, data=corpus.train_ids, evaluate=evaluate,
      write_samples=write_samples, mle_metrics=mle_metrics,
      prepare_workdir=prepare_workdir)
