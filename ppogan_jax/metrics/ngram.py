"""Character n-gram distributions and their Jensen–Shannon divergence.

The metric of the WGAN-GP character language model (Gulrajani et al. 2017,
§5.5; `gan_language.py` with `language_helpers.NgramLanguageModel`,
docs/reference_code.md §9.1): every `n`-gram of contiguous positions of every
sequence (L − n + 1 per sequence of length L, padding characters included)
is counted, and p(g) = count(g) / total is the n-gram distribution. For the
distributions p (of the real data) and q (of the samples), with
m = (p + q) / 2,

  JS(p, q) = ½ Σ_{g: p(g)>0} p(g) log₂(p(g)/m(g))
           + ½ Σ_{g: q(g)>0} q(g) log₂(q(g)/m(g)),

in bits (the reference's `js_with` divides its natural-log sum by ln 2), so
0 ≤ JS ≤ 1: 0 for equal distributions, 1 for disjoint supports. It is
symmetric. Sequences are rows of integer ids; an n-gram is one int64 key
Σ_k ids[i + k]·V^(n−1−k), so V^n must stay below 2^63 (V = 2048 allows
n ≤ 5).
"""
import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class NgramCounts:
  """The n-grams of a set of sequences.

  Attributes:
    keys: int64 [K], the distinct n-grams' keys, ascending.
    counts: int64 [K], how often each occurs (all > 0).
  """
  keys: np.ndarray
  counts: np.ndarray

  def probabilities(self) -> np.ndarray:
    """float64 [K]: counts / total."""
    return self.counts / self.counts.sum()


def ngram_counts(ids: np.ndarray, n: int, vocab_size: int) -> NgramCounts:
  """Counts the n-grams of the rows of `ids`.

  Args:
    ids: int [N, L] with values in [0, vocab_size), L ≥ n.
    n: the n-gram order, ≥ 1.
    vocab_size: V.

  Returns:
    The N·(L − n + 1) n-grams' distinct keys and counts.
  """
  ids = np.asarray(ids, np.int64)
  if ids.ndim != 2 or not 1 <= n <= ids.shape[1] or not ids.size:
    raise ValueError(f"need ids [N, L] with N ≥ 1 and L ≥ n={n}, got "
                     f"{ids.shape}")
  if vocab_size ** n >= 2 ** 63:
    raise ValueError(f"{n}-grams of {vocab_size} symbols do not fit in int64")
  width = ids.shape[1] - n + 1
  keys = np.zeros((ids.shape[0], width), np.int64)
  for k in range(n):
    keys = keys * vocab_size + ids[:, k:k + width]
  unique, counts = np.unique(keys, return_counts=True)
  return NgramCounts(keys=unique, counts=counts.astype(np.int64))


def js_divergence(p: NgramCounts, q: NgramCounts) -> float:
  """JS(p, q) in bits, the module docstring's formula (in [0, 1])."""
  keys = np.union1d(p.keys, q.keys)
  dense = np.zeros((2, len(keys)))
  dense[0, np.searchsorted(keys, p.keys)] = p.probabilities()
  dense[1, np.searchsorted(keys, q.keys)] = q.probabilities()
  mixture = dense.mean(axis=0)
  positive = dense > 0
  terms = np.where(positive, dense * np.log2(
      np.where(positive, dense, 1.0) / mixture), 0.0)
  return float(0.5 * terms.sum())
