"""Tests for BLEU and self-BLEU against nltk's sentence_bleu."""
import math

import numpy as np
import pytest
from nltk.translate import bleu_score

from ppogan_jax.metrics import bleu

ORDERS = (1, 2, 3, 4, 5)


def _nltk_bleu(references, hypothesis, n):
  """The reference protocol (TextGAN `BLEU.cal_bleu`)."""
  return bleu_score.sentence_bleu(
      references, hypothesis, tuple(1. / n for _ in range(n)),
      smoothing_function=bleu_score.SmoothingFunction().method1)


def _random_sentences(rng, count, max_len, words):
  return [list(rng.choice(words, size=rng.integers(0, max_len + 1)))
          for _ in range(count)]


def _corpus():
  """300 references and 50 hypotheses over a small vocabulary: short and
  empty hypotheses, copies of references, and words no reference has."""
  rng = np.random.default_rng(0)
  words = np.array(list("abcdefgh"))
  references = _random_sentences(rng, 300, 14, words)
  hypotheses = _random_sentences(rng, 30, 14, words)
  hypotheses += _random_sentences(rng, 8, 4, words)
  hypotheses += [references[i] for i in (3, 50, 299)]
  hypotheses += _random_sentences(rng, 5, 6, np.array(["x", "y", "a"]))
  hypotheses += [[], ["x"], ["x", "y", "z"], ["a"]]
  return references, hypotheses


def test_each_hypothesis_matches_nltk():
  references, hypotheses = _corpus()
  tables = bleu.References(references, max(ORDERS))
  for hypothesis in hypotheses:
    expected = [_nltk_bleu(references, hypothesis, n) for n in ORDERS]
    np.testing.assert_allclose(tables.scores(hypothesis, ORDERS), expected,
                               rtol=0, atol=1e-12)


def test_bleu_scores_is_the_mean_of_nltk_sentence_bleu():
  references, hypotheses = _corpus()
  assert len(hypotheses) == 50
  scores = bleu.bleu_scores(hypotheses, references)
  assert set(scores) == {"bleu2", "bleu3", "bleu4", "bleu5"}
  for n in (2, 3, 4, 5):
    expected = np.mean([_nltk_bleu(references, h, n) for h in hypotheses])
    assert scores[f"bleu{n}"] == pytest.approx(expected, rel=0, abs=1e-9)
    assert bleu.bleu(hypotheses, references, n) == scores[f"bleu{n}"]
  tables = bleu.References(references, 5)
  assert bleu.bleu_scores(hypotheses, tables) == scores
  with pytest.raises(ValueError, match="max_order=5"):
    bleu.bleu_scores(hypotheses, tables, orders=(6,))


def test_self_bleu_matches_nltk_with_the_hypothesis_excluded():
  rng = np.random.default_rng(1)
  sentences = _random_sentences(rng, 30, 12, np.array(list("abcdef")))
  sentences += [sentences[4], sentences[7], list("abcdefabcdefabcdefa")]
  for count in (None, 10):
    scores = bleu.self_bleu(sentences, (2, 4), num_hypotheses=count)
    chosen = sentences if count is None else sentences[:count]
    for n in (2, 4):
      expected = np.mean([
          _nltk_bleu(sentences[:i] + sentences[i + 1:], h, n)
          for i, h in enumerate(chosen)])
      assert scores[f"self_bleu{n}"] == pytest.approx(expected, abs=1e-9)


def test_hand_computed_toy_example():
  references = ["the cat is on the mat".split(), "a cat sat".split()]
  long_hyp = "the cat sat on the mat".split()
  short_hyp = "the cat".split()
  # long_hyp: unigrams 6/6, bigrams 4/5 (not "sat on"), trigrams 1/4
  # ("on the mat"), no 4-gram of 3 or 5-gram of 2 (smoothed to 0.1/3 and
  # 0.1/2); the closest reference length is 6, so no brevity penalty.
  # short_hyp: all n-grams match; the closest length is 3 > 2, so a brevity
  # penalty exp(1 − 3/2).
  long2 = math.sqrt(0.8)
  long5 = (0.8 * 0.25 * (0.1 / 3) * (0.1 / 2)) ** (1 / 5)
  short = math.exp(-0.5)
  assert bleu.bleu([long_hyp, short_hyp], references, 2) == pytest.approx(
      (long2 + short) / 2, abs=1e-12)
  assert bleu.bleu([long_hyp], references, 5) == pytest.approx(long5,
                                                               abs=1e-12)
  assert bleu.bleu([long_hyp], references, 3) == pytest.approx(
      0.2 ** (1 / 3), abs=1e-12)


def test_closest_reference_length_tie_takes_the_shorter():
  # Lengths 3 and 5 are both 1 from 4: the shorter (3 < 4) means no penalty;
  # the longer would give exp(1 − 5/4).
  references = ["a b c".split(), "a b c d e".split()]
  assert bleu.bleu(["a b c d".split()], references, 2) == 1.0


def test_self_bleu_toy_excludes_only_the_hypothesis():
  # "a b" matches its copy (BLEU-3: no trigram, p_3 = 0.1); "c d" shares no
  # word with the others.
  sentences = [["a", "b"], ["a", "b"], ["c", "d"]]
  scores = bleu.self_bleu(sentences, (2, 3))
  assert scores["self_bleu2"] == pytest.approx(2 / 3)
  assert scores["self_bleu3"] == pytest.approx(2 / 3 * 0.1 ** (1 / 3))
  # Excluded, a sentence of unique length is not its own closest length.
  scores = bleu.self_bleu([["a"], ["a", "b", "c"]], (1,))
  assert scores["self_bleu1"] == pytest.approx(
      (math.exp(1 - 3) + 1 / 3) / 2)


def test_only_the_first_hypotheses_count():
  references = [["a", "b", "c"]]
  hypotheses = [["a", "b", "c"]] * 200 + [["x"]]
  assert bleu.bleu(hypotheses, references, 2) == 1.0
  assert bleu.bleu(hypotheses, references, 2,
                   num_hypotheses=None) == pytest.approx(200 / 201)
  assert bleu.bleu(hypotheses[-2:], references, 2,
                   num_hypotheses=1) == 1.0


def test_invalid_inputs():
  with pytest.raises(ValueError, match="reference"):
    bleu.bleu([["a"]], [], 2)
  with pytest.raises(ValueError, match="hypothesis"):
    bleu.bleu([], [["a"]], 2)
  with pytest.raises(ValueError, match="two sentences"):
    bleu.self_bleu([["a"]])
  with pytest.raises(ValueError, match="orders"):
    bleu.bleu_scores([["a"]], [["a"]], orders=(0, 2))


def _nltk_method4(reference, hypothesis):
  """manual_BLEU.py's score: 4-gram uniform weights, smoothing method4."""
  return bleu_score.sentence_bleu(
      [reference], hypothesis,
      smoothing_function=bleu_score.SmoothingFunction().method4)


def test_method4_matches_nltk_sentence_bleu():
  references, hypotheses = _corpus()
  pairs = list(zip(hypotheses, references[:len(hypotheses)]))
  pairs += [(["a"], ["b"]), (["a"], ["a", "b"]), (["a", "b"], ["a", "b"]),
            (["a", "x"], ["a", "b", "c"]), ([], ["a"])]
  for hypothesis, reference in pairs:
    tables = bleu.References([reference], 4)
    expected = _nltk_method4(reference, hypothesis)
    assert tables.scores(hypothesis, (4,), smoothing="method4")[0] == (
        pytest.approx(expected, rel=0, abs=1e-12))
  hyps, refs = zip(*pairs)
  assert bleu.paired_bleu(hyps, refs) == pytest.approx(
      np.mean([_nltk_method4(r, h) for h, r in pairs]), abs=1e-12)


def test_method4_hand_computed():
  # "a b c" vs "a b d": p1 = 2/3, p2 = 1/2, no trigram (1st smoothed order:
  # 1/(2·5/ln 3)/1) and no 4-gram (0 of max(1, 0) 4-grams; 2nd smoothed
  # order: 1/(4·5/ln 3)/1); equal lengths, no brevity penalty.
  log3 = math.log(3)
  expected = (2 / 3 * 1 / 2 * (log3 / 10) * (log3 / 20)) ** 0.25
  assert bleu.paired_bleu([["a", "b", "c"]], [["a", "b", "d"]]) == (
      pytest.approx(expected, abs=1e-12))
  with pytest.raises(ValueError, match="smoothing"):
    bleu.References([["a"]], 2).scores(["a"], (2,), smoothing="method9")
  with pytest.raises(ValueError, match="same positive number"):
    bleu.paired_bleu([["a"]], [])
