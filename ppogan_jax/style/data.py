"""Yelp sentiment corpora for style transfer (docs/reference_code.md §8.5).

The files are already tokenised (lower-case words separated by spaces, as
prepared by Shen et al. 2017 and Li et al. 2018), so a line is split on
whitespace only. A sentence of L words becomes the ids

  [BOS, w_1 .. w_L, EOS, PAD ..]   (width max_length + 2)

as texar's MonoTextData writes them; the encoder reads ids[:, 1:] and the
decoder is teacher-forced on ids[:, :-1] against ids[:, 1:]. Words missing
from the vocabulary map to UNK; sentences longer than `max_length` words
are truncated (counted and logged), as texar's `max_seq_length` does.

Batches come from a stateless sampler: batch k of stream s is slice k of a
permutation drawn from (seed, s, epoch of k), so a run resumed at any step
reads exactly the batches it would have read.
"""
import dataclasses
import functools
from typing import Sequence

import numpy as np

from ppogan_jax import logs
from ppogan_jax.data.text import TextDataError, read_lines

PAD, BOS, EOS, UNK = 0, 1, 2, 3
SPECIAL_TOKENS = ("<PAD>", "<BOS>", "<EOS>", "<UNK>")

log = logs.get_logger()


class Vocab:
  """Words and ids: the special tokens (ids 0-3) then the given words."""

  def __init__(self, words: Sequence[str]):
    self.words = SPECIAL_TOKENS + tuple(words)
    self._ids = {w: i for i, w in enumerate(self.words)}
    if len(self._ids) != len(self.words):
      raise TextDataError("the vocabulary repeats a word or a special token")

  def __len__(self) -> int:
    return len(self.words)

  def encode(self, words: Sequence[str]) -> list[int]:
    return [self._ids.get(w, UNK) for w in words]

  def decode(self, ids: Sequence[int]) -> list[str]:
    """Words of `ids` up to the first EOS (PAD and BOS dropped)."""
    out = []
    for i in ids:
      if i == EOS:
        break
      if i not in (PAD, BOS):
        out.append(self.words[i])
    return out


def load_vocab(path: str, max_words: int = 0) -> Vocab:
  """The vocabulary file: one word per line (texar's format), most frequent
  first; only its first `max_words` words are kept if `max_words` > 0 (the
  rest become UNK).

  Raises:
    TextDataError: naming `path:line` for a line with more than one word or
      a repeated word.
  """
  words, seen = [], set()
  for number, line in enumerate(read_lines(path).lines, start=1):
    fields = line.split()
    if len(fields) != 1 or fields[0] in seen or fields[0] in SPECIAL_TOKENS:
      raise TextDataError(
          f"{path}:{number}: expected one new word per line, got {line!r}")
    seen.add(fields[0])
    words.append(fields[0])
  return Vocab(words[:max_words] if max_words else words)


def build_vocab(sentences: Sequence[Sequence[str]],
                max_words: int = 0) -> Vocab:
  """The words of `sentences` by decreasing count (ties alphabetical), the
  first `max_words` of them if `max_words` > 0."""
  counts = {}
  for sentence in sentences:
    for w in sentence:
      counts[w] = counts.get(w, 0) + 1
  words = sorted(counts, key=lambda w: (-counts[w], w))
  return Vocab(words[:max_words] if max_words else words)


def read_sentences(path: str) -> list[list[str]]:
  """Lower-cased whitespace-split lines of a tokenised text file."""
  return [line.lower().split() for line in read_lines(path).lines]


def read_labels(path: str, expected: int) -> np.ndarray:
  """Binary style labels, one per line; int32 [expected].

  Raises:
    TextDataError: a line other than 0/1 (naming `path:line`) or a line count
      different from the text file's.
  """
  lines = read_lines(path).lines
  for number, line in enumerate(lines, start=1):
    if line.strip() not in ("0", "1"):
      raise TextDataError(f"{path}:{number}: label {line!r} is not 0 or 1")
  if len(lines) != expected:
    raise TextDataError(
        f"{path}: {len(lines)} labels for {expected} sentences")
  return np.array([int(x) for x in lines], np.int32)


@dataclasses.dataclass(frozen=True)
class Corpus:
  """Encoded sentences.

  Attributes:
    ids: int32 [N, max_length + 2], [BOS, words, EOS, PAD ..].
    lengths: int32 [N], number of words + 2 (BOS and EOS counted).
    labels: int32 [N], style 0 (negative) or 1 (positive).
    sentences: the words of each sentence (after truncation).
  """
  ids: np.ndarray
  lengths: np.ndarray
  labels: np.ndarray
  sentences: list[list[str]]

  def __len__(self) -> int:
    return len(self.labels)

  def subset(self, indices: np.ndarray) -> "Corpus":
    return Corpus(self.ids[indices], self.lengths[indices],
                  self.labels[indices],
                  [self.sentences[i] for i in indices])


def encode_corpus(sentences: Sequence[Sequence[str]], labels: np.ndarray,
                  vocab: Vocab, max_length: int) -> Corpus:
  """Encodes sentences as [BOS, words, EOS, PAD ..] rows (see module doc)."""
  truncated = [list(s[:max_length]) for s in sentences]
  num_cut = sum(len(s) > max_length for s in sentences)
  if num_cut:
    log.info("truncated %d sentences to %d words", num_cut, max_length)
  ids = np.full((len(truncated), max_length + 2), PAD, np.int32)
  lengths = np.zeros(len(truncated), np.int32)
  for row, words in enumerate(truncated):
    encoded = [BOS] + vocab.encode(words) + [EOS]
    ids[row, :len(encoded)] = encoded
    lengths[row] = len(encoded)
  return Corpus(ids, lengths, np.asarray(labels, np.int32), truncated)


def load_corpus(text_path: str, labels_path: str, vocab: Vocab,
                max_length: int) -> Corpus:
  """Reads `text_path` and its `labels_path` and encodes them."""
  sentences = read_sentences(text_path)
  labels = read_labels(labels_path, len(sentences))
  return encode_corpus(sentences, labels, vocab, max_length)


def split_holdout(corpus: Corpus, num_holdout: int,
                  seed: int) -> tuple[Corpus, Corpus]:
  """A seeded random split into (rest, held-out) corpora, each in file
  order."""
  if not 0 < num_holdout < len(corpus):
    raise TextDataError(
        f"num_holdout={num_holdout} must be in 1 .. {len(corpus) - 1}")
  order = np.random.default_rng(seed).permutation(len(corpus))
  return (corpus.subset(np.sort(order[num_holdout:])),
          corpus.subset(np.sort(order[:num_holdout])))


def random_subset(corpus: Corpus, size: int, seed: int) -> Corpus:
  """`size` sentences drawn without replacement (all if size is 0 or too
  large), in file order."""
  if not 0 < size < len(corpus):
    return corpus
  order = np.random.default_rng([seed, 1]).permutation(len(corpus))
  return corpus.subset(np.sort(order[:size]))


@functools.lru_cache(maxsize=16)
def _permutation(seed: int, stream: int, epoch: int, size: int) -> np.ndarray:
  return np.random.default_rng([seed, stream, epoch]).permutation(size)


def batch_indices(size: int, batch_size: int, *, seed: int, stream: int,
                  draw: int) -> np.ndarray:
  """Indices of the `draw`-th batch of a stream (stateless, resumable).

  Each epoch of a stream is a fresh permutation of range(size), cut into
  size // batch_size batches (the remainder is dropped).

  Returns:
    int [batch_size].
  """
  per_epoch = size // batch_size
  if per_epoch == 0:
    raise TextDataError(f"{size} sentences, fewer than a batch of {batch_size}")
  epoch, position = divmod(draw, per_epoch)
  perm = _permutation(seed, stream, epoch, size)
  return perm[position * batch_size:(position + 1) * batch_size]
