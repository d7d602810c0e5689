"""Style-transfer metrics and the separately trained sentiment classifier.

Metrics of a set of greedy transfers (the paper's Table 4 protocol plus the
reference's own evaluation, docs/reference_code.md §8.6):

  * bleu_ref: mean nltk sentence_bleu([human reference], transfer), 4-gram
    uniform weights, smoothing method4 (manual_BLEU.py), × 100;
  * bleu_src: the same against the source sentence (content preservation);
  * accuracy: the fraction of transfers that the separately trained
    classifier assigns to the target style 1 − y (× 100).

The classifier is a Conv1DClassifier (kernels 3, 4, 5 × 256 filters, one
dense layer, one output; §8.2 (b)) trained on the labelled training sentences
only (the whole training split, whatever subset a generator trains on), once:
its parameters are cached under a key of the training data and its settings
and reused by every run on the same data. It reads words through its own
vocabulary (every word of the training text), so it scores the text of a
transfer whatever the generator's vocabulary size.
"""
import functools
import hashlib
import json
import os
from typing import Callable, NamedTuple, Sequence

import flax
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from ppogan_jax import logs
from ppogan_jax.metrics import bleu
from ppogan_jax.style import data as data_lib
from ppogan_jax.style import losses
from ppogan_jax.style.model import ConvClassifier

log = logs.get_logger()
_CLASSIFIER_STREAM = 100  # Sampler stream of the classifier's batches.
Array = jax.Array


def style_accuracy(predicted: np.ndarray, targets: np.ndarray) -> float:
  """Percentage of `predicted` labels equal to `targets`, both [N]."""
  return 100.0 * float(np.mean(np.asarray(predicted) == np.asarray(targets)))


def transfer_metrics(transfers: Sequence[Sequence[str]],
                     sources: Sequence[Sequence[str]],
                     references: Sequence[Sequence[str]] | None,
                     predicted: np.ndarray,
                     targets: np.ndarray) -> dict[str, float]:
  """bleu_ref (if `references`), bleu_src and accuracy, all × 100.

  Args:
    transfers: greedy transferred sentences, token lists.
    sources: the source sentences.
    references: human-written transfers, or None.
    predicted: the classifier's labels of `transfers`, [N].
    targets: the target styles 1 − y, [N].
  """
  out = {"bleu_src": 100 * bleu.paired_bleu(transfers, sources),
         "accuracy": style_accuracy(predicted, targets)}
  if references is not None:
    out["bleu_ref"] = 100 * bleu.paired_bleu(transfers, references)
  return out


def _batches(n: int, size: int):
  for start in range(0, n, size):
    yield slice(start, min(n, start + size))


def batched_apply(fn: Callable[..., Array], *arrays: np.ndarray,
                  batch_size: int) -> np.ndarray:
  """Concatenates `fn(*batch)` over batches, the last one zero-padded to
  `batch_size` (one compiled shape)."""
  n = len(arrays[0])
  outs = []
  for s in _batches(n, batch_size):
    count = s.stop - s.start
    padded = [np.pad(a[s], [(0, batch_size - count)] + [(0, 0)] * (a.ndim - 1))
              for a in arrays]
    outs.append(jax.tree.map(lambda x: np.asarray(x)[:count], fn(*padded)))
  return jax.tree.map(lambda *xs: np.concatenate(xs), *outs)


@functools.partial(jax.jit, static_argnums=0)
def _logits(module: ConvClassifier, params, ids: Array,
            lengths: Array) -> Array:
  return module.apply({"params": params}, ids, lengths=lengths,
                      train=False)[:, 0]


class StyleClassifier(NamedTuple):
  module: ConvClassifier
  params: dict
  vocab: data_lib.Vocab  # every word of the training text.
  max_length: int  # words per sentence; longer ones are truncated.
  holdout_accuracy: float  # % on the held-out sentences.

  def predict(self, ids: np.ndarray, lengths: np.ndarray, *,
              batch_size: int) -> np.ndarray:
    """Predicted styles (logit > 0), int [N], of rows [N, T] = [words, EOS,
    PAD ..] (data rows without BOS, or greedy decodes) of `lengths`."""
    logits = batched_apply(functools.partial(_logits, self.module, self.params),
                           ids, lengths, batch_size=batch_size)
    return (logits > 0).astype(np.int32)

  def predict_sentences(self, sentences: Sequence[Sequence[str]], *,
                        batch_size: int) -> np.ndarray:
    """Predicted styles, int [N], of token lists."""
    rows = data_lib.encode_corpus(sentences, np.zeros(len(sentences)),
                                  self.vocab, self.max_length)
    return self.predict(rows.ids[:, 1:], rows.lengths - 1,
                        batch_size=batch_size)


def _build(cfg: ml_collections.ConfigDict, vocab_size: int) -> ConvClassifier:
  return ConvClassifier(vocab_size, cfg.embed_dim, cfg.num_filters, 1,
                        num_dense=cfg.num_dense, dense_size=cfg.dense_size)


def _classifier_step(module: ConvClassifier, tx: optax.GradientTransformation):
  @jax.jit
  def step(params, opt_state, ids, lengths, labels, key):
    def loss_fn(p):
      logits = module.apply({"params": p}, ids, lengths=lengths, train=True,
                            rngs={"dropout": key})[:, 0]
      return jnp.mean(losses.sigmoid_bce(labels, logits))
    loss, grads = jax.value_and_grad(loss_fn)(params)
    updates, opt_state = tx.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss
  return step


def train_style_classifier(cfg: ml_collections.ConfigDict,
                           vocab: data_lib.Vocab, train: data_lib.Corpus,
                           holdout: data_lib.Corpus, *,
                           seed: int) -> StyleClassifier:
  """Trains the scorer on labelled real sentences (BCE, Adam) for
  cfg.num_steps batches and measures its held-out accuracy."""
  module = _build(cfg, len(vocab))
  key = jax.random.PRNGKey(seed)
  params = module.init(key, train.ids[:2, 1:], lengths=train.lengths[:2] - 1,
                       train=False)["params"]
  tx = optax.adam(cfg.learning_rate)
  opt_state = tx.init(params)
  step = _classifier_step(module, tx)
  progress = logs.Progress(cfg.num_steps)
  for k in range(cfg.num_steps):
    idx = data_lib.batch_indices(len(train), cfg.batch_size, seed=seed,
                                 stream=_CLASSIFIER_STREAM, draw=k)
    params, opt_state, loss = step(
        params, opt_state, train.ids[idx, 1:], train.lengths[idx] - 1,
        train.labels[idx], jax.random.fold_in(key, k))
    if k == 0:
      progress.start(1)
    if (k + 1) % 500 == 0:
      log.info("style classifier %s", progress.line(
          k + 1, {"loss": float(loss)}, {"loss": "loss"}))
  scorer = StyleClassifier(module, params, vocab, train.ids.shape[1] - 2, 0.0)
  predicted = scorer.predict(holdout.ids[:, 1:], holdout.lengths - 1,
                             batch_size=256)
  return scorer._replace(
      holdout_accuracy=style_accuracy(predicted, holdout.labels))



def _cache_key(cfg: ml_collections.ConfigDict, vocab: data_lib.Vocab,
               train: data_lib.Corpus, seed: int) -> str:
  settings = {k: v for k, v in cfg.to_dict().items() if k != "cache_dir"}
  digest = hashlib.sha256(json.dumps([settings, seed], sort_keys=True).encode())
  digest.update("\n".join(vocab.words).encode())
  digest.update(train.ids.tobytes())
  digest.update(train.labels.tobytes())
  return digest.hexdigest()[:16]


def load_or_train_style_classifier(
    cfg: ml_collections.ConfigDict, vocab: data_lib.Vocab,
    train: data_lib.Corpus, holdout: data_lib.Corpus, *,
    seed: int) -> StyleClassifier:
  """The cached classifier of this training set and settings, trained and
  saved (msgpack parameters + JSON accuracy) on the first call."""
  path = os.path.join(cfg.cache_dir,
                      f"style_classifier_{_cache_key(cfg, vocab, train, seed)}")
  module = _build(cfg, len(vocab))
  if os.path.exists(path + ".json"):
    template = module.init(jax.random.PRNGKey(0), train.ids[:1, 1:],
                           lengths=train.lengths[:1] - 1, train=False)["params"]
    with open(path + ".msgpack", "rb") as f:
      params = flax.serialization.from_bytes(template, f.read())
    with open(path + ".json") as f:
      accuracy = json.load(f)["holdout_accuracy"]
    log.info("loaded the style classifier %s (held-out accuracy %.2f%%)",
             path, accuracy)
    return StyleClassifier(module, params, vocab, train.ids.shape[1] - 2,
                           accuracy)
  log.info("training the style classifier (cached at %s)", path)
  scorer = train_style_classifier(cfg, vocab, train, holdout, seed=seed)
  os.makedirs(cfg.cache_dir, exist_ok=True)
  with open(path + ".msgpack.tmp", "wb") as f:
    f.write(flax.serialization.to_bytes(scorer.params))
  os.replace(path + ".msgpack.tmp", path + ".msgpack")
  with open(path + ".json.tmp", "w") as f:
    json.dump({"holdout_accuracy": scorer.holdout_accuracy,
               "num_train": len(train), "num_holdout": len(holdout)}, f)
  os.replace(path + ".json.tmp", path + ".json")
  log.info("style classifier held-out accuracy %.2f%%",
           scorer.holdout_accuracy)
  return scorer
