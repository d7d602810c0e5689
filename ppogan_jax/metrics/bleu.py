"""BLEU and self-BLEU of generated sentences, as TextGAN-PyTorch computes them.

Reference protocol (TextGAN `metrics/bleu.py`, from the PPO-GAN code's
parent): BLEU-n of a set of generated sentences is the mean, over the first
N = 200 of them (the hypotheses), of

  nltk.translate.bleu_score.sentence_bleu(
      references, hypothesis, weights=(1/n,) * n,
      smoothing_function=SmoothingFunction().method1)

with the whole test set as the references of every hypothesis. Self-BLEU-n
takes the generated sentences themselves as references: each hypothesis is
scored against all the OTHER generated sentences (itself excluded).

`sentence_bleu`, for a hypothesis h of length |h| and orders k = 1 .. n:

  p_k = clipped_k / max(1, number of k-grams of h), where clipped_k sums,
        over the distinct k-grams g of h, min(count of g in h, the largest
        count of g in any one reference); when clipped_k = 0 (also when
        |h| < k) p_k = 0.1 / max(1, number of k-grams of h) (method1,
        epsilon 0.1);
  r   = the reference length closest to |h|, the shorter one on a tie;
  BP  = 1 if |h| > r, else exp(1 − r / |h|);
  BLEU-n = 0 if clipped_1 = 0 (e.g. |h| = 0), else
           BP · exp(Σ_k (1/n) · log p_k).

Here the references' n-gram counts are gathered once into tables (for every
k-gram, its largest count in one reference, which reference that is, and
the largest count in any other reference) and their lengths into a sorted
array, so that a hypothesis costs time in its own length, whatever the
number of references, and excluding a reference (self-BLEU) costs nothing.
The values are nltk's to floating-point rounding (float addition order).

`smoothing="method4"` (`References.scores`, `paired_bleu`) replaces method1
by nltk's SmoothingFunction().method4, the smoothing of the style-transfer
reference's manual_BLEU.py: the i-th order (counting from 1) with no
clipped match gets p_k = 1 / (2^i · 5 / ln|h|) / max(1, number of k-grams
of h) when |h| > 1; for |h| = 1 such orders stay 0 and, as in nltk, orders
with p_k = 0 are left out of the sum of logarithms.
"""
import bisect
import collections
import math
from typing import Iterator, Sequence

DEFAULT_NUM_HYPOTHESES = 200
DEFAULT_ORDERS = (2, 3, 4, 5)
_EPSILON = 0.1  # nltk SmoothingFunction().method1's default epsilon.
_METHOD4_K = 5  # nltk SmoothingFunction's default k.
SMOOTHINGS = ("method1", "method4")

Sentence = Sequence[str]


def _ngram_counts(sentence: Sentence, k: int) -> collections.Counter:
  """Counts of the k-grams (tuples of k tokens) of `sentence`."""
  return collections.Counter(zip(*(sentence[i:] for i in range(k))))


class References:
  """The n-gram statistics of a set of reference sentences, built once.

  Attributes:
    max_order: the largest n-gram order the tables cover.
    num_sentences: the number of references.
  """

  def __init__(self, sentences: Sequence[Sentence], max_order: int):
    """Gathers the k-gram counts, k = 1 .. `max_order`, and the lengths.

    Args:
      sentences: the references, token lists (at least one).
      max_order: the largest BLEU order these references will serve.
    """
    if not sentences:
      raise ValueError("BLEU needs at least one reference sentence")
    if max_order < 1:
      raise ValueError(f"max_order={max_order}, not a positive order")
    self.max_order = max_order
    self.num_sentences = len(sentences)
    # _tables[k − 1][g] = (best, owner, second): the largest count of k-gram
    # g in one reference, the first reference with that count, and the
    # largest count in any other reference (equal to best on a tie).
    self._tables = [{} for _ in range(max_order)]
    for index, sentence in enumerate(sentences):
      for table, k in zip(self._tables, range(1, max_order + 1)):
        for gram, count in _ngram_counts(sentence, k).items():
          best, owner, second = table.get(gram, (0, -1, 0))
          if count > best:
            table[gram] = (count, index, best)
          elif count > second:
            table[gram] = (best, owner, count)
    self._own_lengths = [len(s) for s in sentences]
    self._length_counts = collections.Counter(self._own_lengths)
    self._lengths = sorted(self._length_counts)

  def _closest_length(self, hyp_len: int, exclude: int) -> int:
    """The reference length closest to `hyp_len` (the shorter on a tie),
    reference `exclude` (−1: none) left out."""
    gone = -1
    if exclude >= 0:
      own = self._own_lengths[exclude]
      if self._length_counts[own] == 1:
        gone = own
    lengths = self._lengths
    at = bisect.bisect_left(lengths, hyp_len)
    below = (lengths[i] for i in range(at - 1, -1, -1) if lengths[i] != gone)
    above = (lengths[i] for i in range(at, len(lengths))
             if lengths[i] != gone)
    candidates = [x for x in (next(below, None), next(above, None))
                  if x is not None]
    if not candidates:
      raise ValueError("no reference left once the hypothesis is excluded")
    return min(candidates, key=lambda x: (abs(x - hyp_len), x))

  def scores(self, hypothesis: Sentence, orders: Sequence[int],
             exclude: int = -1, smoothing: str = "method1") -> list[float]:
    """nltk `sentence_bleu` of one hypothesis, for each order in `orders`.

    Args:
      hypothesis: a token list.
      orders: BLEU orders n, each in 1 .. max_order.
      exclude: the index of a reference to leave out (self-BLEU), or −1.
      smoothing: nltk's SmoothingFunction method, one of `SMOOTHINGS`.

    Returns:
      BLEU-n for each n of `orders`.
    """
    if max(orders) > self.max_order or min(orders) < 1:
      raise ValueError(f"orders {tuple(orders)} outside 1 .. "
                       f"max_order={self.max_order}")
    if smoothing not in SMOOTHINGS:
      raise ValueError(f"smoothing {smoothing!r}; choose from {SMOOTHINGS}")
    hyp_len = len(hypothesis)
    precisions = []
    num_smoothed = 0
    for table, k in zip(self._tables, range(1, max(orders) + 1)):
      clipped = 0
      for gram, count in _ngram_counts(hypothesis, k).items():
        best, owner, second = table.get(gram, (0, -1, 0))
        clipped += min(count, second if owner == exclude else best)
      if k == 1 and not clipped:
        return [0.0] * len(orders)
      total = max(1, hyp_len - k + 1)
      if clipped:
        precisions.append(clipped / total)
      elif smoothing == "method1":
        precisions.append(_EPSILON / total)
      else:
        num_smoothed += 1
        precisions.append(_method4_numerator(num_smoothed, hyp_len) / total)
    ref_len = self._closest_length(hyp_len, exclude)
    penalty = 1.0 if hyp_len > ref_len else math.exp(1 - ref_len / hyp_len)
    return [penalty * math.exp(math.fsum(
        1.0 / n * math.log(p) for p in precisions[:n] if p > 0))
            for n in orders]


def _method4_numerator(index: int, hyp_len: int) -> float:
  """nltk method4's smoothed count of the `index`-th unmatched order."""
  if hyp_len <= 1:
    return 0.0
  return 1 / (2 ** index * _METHOD4_K / math.log(hyp_len))


def _check_orders(orders: Sequence[int]) -> tuple[int, ...]:
  orders = tuple(orders)
  if not orders or min(orders) < 1:
    raise ValueError(f"orders {orders}: need positive BLEU orders")
  return orders


def _mean_scores(rows: Iterator[list[float]], orders: tuple[int, ...],
                 prefix: str) -> dict[str, float]:
  columns = list(zip(*rows))
  if not columns:
    raise ValueError("BLEU needs at least one hypothesis")
  return {f"{prefix}{n}": math.fsum(c) / len(c)
          for n, c in zip(orders, columns)}


def bleu_scores(hypotheses: Sequence[Sentence],
                references: Sequence[Sentence] | References,
                orders: Sequence[int] = DEFAULT_ORDERS, *,
                num_hypotheses: int | None = DEFAULT_NUM_HYPOTHESES
                ) -> dict[str, float]:
  """Mean nltk `sentence_bleu` (uniform weights, smoothing method1).

  Args:
    hypotheses: generated sentences, token lists; the first
      `num_hypotheses` (all if None) are scored.
    references: the references of every hypothesis (token lists, e.g. the
      whole test set), or `References` built from them once for many calls.
    orders: the BLEU orders n.
    num_hypotheses: N, 200 in the reference.

  Returns:
    {"bleu{n}": BLEU-n averaged over the hypotheses, for n in orders}.
  """
  orders = _check_orders(orders)
  if not isinstance(references, References):
    references = References(references, max(orders))
  chosen = hypotheses[:num_hypotheses]
  return _mean_scores((references.scores(h, orders) for h in chosen),
                      orders, "bleu")


def bleu(hypotheses: Sequence[Sentence],
         references: Sequence[Sentence] | References, max_order: int, *,
         num_hypotheses: int | None = DEFAULT_NUM_HYPOTHESES) -> float:
  """BLEU-`max_order`, i.e. `bleu_scores` for the one order `max_order`."""
  return bleu_scores(hypotheses, references, (max_order,),
                     num_hypotheses=num_hypotheses)[f"bleu{max_order}"]


def self_bleu(sentences: Sequence[Sentence],
              orders: Sequence[int] = DEFAULT_ORDERS, *,
              num_hypotheses: int | None = DEFAULT_NUM_HYPOTHESES
              ) -> dict[str, float]:
  """Self-BLEU: each sentence scored against all the other sentences.

  Args:
    sentences: generated sentences, token lists (at least two); the first
      `num_hypotheses` (all if None) are the hypotheses, each with every
      other sentence (all of `sentences` but itself) as references.
    orders: the BLEU orders n.
    num_hypotheses: the number of hypotheses, or None for all.

  Returns:
    {"self_bleu{n}": the mean BLEU-n of the hypotheses, for n in orders}.
  """
  orders = _check_orders(orders)
  if len(sentences) < 2:
    raise ValueError("self-BLEU needs at least two sentences")
  references = References(sentences, max(orders))
  count = len(sentences) if num_hypotheses is None else num_hypotheses
  return _mean_scores(
      (references.scores(h, orders, exclude=i)
       for i, h in enumerate(sentences[:count])), orders, "self_bleu")


def paired_bleu(hypotheses: Sequence[Sentence],
                references: Sequence[Sentence], max_order: int = 4, *,
                smoothing: str = "method4") -> float:
  """Mean over i of nltk `sentence_bleu([references[i]], hypotheses[i])`.

  Uniform weights 1/max_order; the style-transfer reference's
  manual_BLEU.py (4-gram, smoothing method4), each hypothesis scored
  against its own single reference.
  """
  if len(hypotheses) != len(references) or not hypotheses:
    raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} "
                     "references; need the same positive number")
  orders = (max_order,)
  return math.fsum(
      References([r], max_order).scores(h, orders, smoothing=smoothing)[0]
      for h, r in zip(hypotheses, references)) / len(hypotheses)
