"""Tests for the real-text pipeline: tokenizer, files, vocabulary, ids."""
import json
import os
import random
import re

import numpy as np
import pytest
from nltk.tokenize.destructive import NLTKWordTokenizer

from ppogan_jax.data import text

TRICKY = [
    "a man riding a bike down the street.",
    "I don't think I'm going, are you?",
    "the dog's bowl and the cats' toys are on the floor .",
    'she said "hello" and left.',
    "\"quoted at the start\" then 'single quotes' here.",
    "a pizza (with cheese) costs $3.50 or 3,000 yen!",
    "it's 3.5 miles... roughly; maybe more!!",
    "a well-known double--dash and a dash – en.",
    "we'll see, they've gone, you're late, he'd go, i'd've.",
    "i cannot believe you gonna wanna gimme that 'tis 'twas.",
    "ROCK 'N' ROLL CAN'T STOP, WE'RE HERE!",
    "50% of #hashtags @people & more: yes; no*",
    "«french» “curly” ‘single’ „low” quotes.",
    "brackets [like] {these} <and> these.",
    "ends with a quote.'",
    "ends with brackets.)]",
    "time: 10:30, list: a,b,c",
    "``already`` ''converted'' quotes",
    "a line. with an inner period. and more",
    "",
    "   ",
]

CORPUS = """\
A man riding a wave on top of a surfboard.
A bicycle replica with a clock as the front wheel.
Two dogs sit on a bench, looking at the camera.
The cat's toy is under the bed .
A woman doesn't like the \"modern\" kitchen (seriously).
There are 3.5 pizzas on a table...
"""


def _write(directory, name: str, content: str | bytes) -> str:
  path = os.path.join(directory, name)
  with open(path, "wb") as f:
    f.write(content if isinstance(content, bytes) else content.encode())
  return path


@pytest.mark.parametrize("line", TRICKY)
def test_tokenize_matches_nltk_word_tokenizer(line):
  nltk_tokenizer = NLTKWordTokenizer()
  assert text.tokenize(line) == nltk_tokenizer.tokenize(line)
  assert text.tokenize(line.lower()) == nltk_tokenizer.tokenize(line.lower())


def test_tokenize_matches_nltk_on_corpus_and_random_strings():
  nltk_tokenizer = NLTKWordTokenizer()
  lines = CORPUS.lower().splitlines()
  pieces = ["a", "can", "not", "gon", "na", "'t", "is", "'", "''", '"', "`",
            ".", "..", ",", ":", ";", "3", "(", ")", "]", "<", "-", "--",
            "\u2013", "?", "!", "*", "$", "%", " ", " ", "\t", "n't", "'s",
            "'m", "'ll", "'RE", "«", "»", "“", "’", "x", "é"]
  rng = random.Random(0)
  lines += ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 10)))
            for _ in range(2000)]
  mismatches = [line for line in lines
                if text.tokenize(line) != nltk_tokenizer.tokenize(line)]
  assert not mismatches


def test_tokenize_treebank_examples():
  assert text.tokenize("i don't know, i'm 3.5 miles away.") == [
      "i", "do", "n't", "know", ",", "i", "'m", "3.5", "miles", "away", "."]
  assert text.tokenize('the "dog\'s" bowl (red)...') == [
      "the", "``", "dog", "'s", "''", "bowl", "(", "red", ")", "..."]
  assert text.tokenize("first. second.") == ["first.", "second", "."]


def test_load_sentences_lowercases_and_counts_blank_lines(tmp_path):
  path = _write(tmp_path, "train.txt",
                b"A Dog's Bowl.\r\n\n   \nTwo CATS, sleeping\n\t\n")
  loaded = text.load_sentences(path)
  assert loaded.path == path
  assert loaded.sentences == [["a", "dog", "'s", "bowl", "."],
                              ["two", "cats", ",", "sleeping"]]
  assert loaded.num_blank_lines == 3


@pytest.mark.parametrize("content, message", [
    (b"", "no sentence in the file (0 blank lines)"),
    (b"\n  \n", "no sentence in the file (2 blank lines)"),
    (b"fine line\nanother\nbad \xff byte\n", ":3: not valid UTF-8"),
    (b"short\n0123456789x\n", ":2: line has 11 characters, more than "
     "max_line_chars=10"),
])
def test_load_sentences_reports_malformed_files(tmp_path, content, message):
  path = _write(tmp_path, "data.txt", content)
  with pytest.raises(text.TextDataError) as error:
    text.load_sentences(path, max_line_chars=10)
  assert str(error.value).startswith(path)
  assert message in str(error.value)


def test_load_sentences_line_limit_counts_characters(tmp_path):
  path = _write(tmp_path, "data.txt", "ééééé\n")  # 5 characters, 10 bytes.
  assert text.load_sentences(path, max_line_chars=5).sentences == [["ééééé"]]


def test_load_sentences_missing_file(tmp_path):
  with pytest.raises(text.TextDataError, match="cannot read"):
    text.load_sentences(os.path.join(tmp_path, "missing.txt"))


def test_build_vocabulary_orders_by_count_then_word():
  train = [["b", "a", "c"], ["c", "b", "c"]]
  test = [["d", "a", "a", "z"]]
  assert text.build_vocabulary(train).words == (
      "EOS", "BOS", "c", "b", "a")
  assert text.build_vocabulary(train, test).words == (
      "EOS", "BOS", "a", "c", "b", "d", "z")
  with pytest.raises(text.TextDataError, match="reserved"):
    text.build_vocabulary([["a", "BOS"]])


def test_load_corpus_follows_the_reference(tmp_path):
  train = _write(tmp_path, "train.txt", "A cat.\nThe cat sat, then ran.\n")
  test = _write(tmp_path, "test.txt", "\nA dog sat on the cat mat today.\n")
  corpus = text.load_corpus(train, test)
  assert corpus.test.num_blank_lines == 1
  # The vocabulary and the length include the test file (TextGAN).
  assert "dog" in corpus.vocabulary
  assert corpus.max_length == 9
  assert corpus.vocabulary.id_of("EOS") == 0
  assert corpus.vocabulary.id_of("BOS") == 1
  # 3 occurrences each, then in code-point order.
  assert corpus.vocabulary.words[2:4] == (".", "cat")
  assert corpus.train_ids.dtype == np.int32
  assert corpus.train_ids.shape == (2, 9)
  assert corpus.test_ids.shape == (1, 9)
  np.testing.assert_array_equal(corpus.train_ids[0, 3:], 0)
  assert (corpus.train_ids[0, :3] >= 2).all()
  assert text.decode(corpus.train_ids, corpus.vocabulary) == [
      "a cat .", "the cat sat , then ran ."]
  assert text.decode_tokens(corpus.test_ids, corpus.vocabulary) == (
      corpus.test.sentences)
  only_train = text.load_corpus(train)
  assert only_train.test is None and only_train.test_ids is None
  assert "dog" not in only_train.vocabulary
  assert only_train.max_length == 7


def test_encode_decode():
  vocab = text.Vocabulary(["EOS", "BOS", "a", "b", "c"])
  ids = text.encode([["a", "b"], [], ["c", "c", "a"]], vocab, 3)
  np.testing.assert_array_equal(ids, [[2, 3, 0], [0, 0, 0], [4, 4, 2]])
  assert ids.dtype == np.int32
  assert text.decode(ids, vocab) == ["a b", "", "c c a"]
  # Decoding stops at the first padding id; BOS decodes as its word.
  assert text.decode_tokens(np.array([[2, 0, 3], [1, 4, 4]]), vocab) == [
      ["a"], ["BOS", "c", "c"]]
  with pytest.raises(text.TextDataError, match="sentence 1 has 4 tokens"):
    text.encode([["a"], ["a"] * 4], vocab, 3)
  with pytest.raises(text.TextDataError, match="sentence 0: word 'd'"):
    text.encode([["d"]], vocab, 3)
  with pytest.raises(text.TextDataError, match="reserved word 'EOS'"):
    text.encode([["a", "EOS"]], vocab, 3)
  with pytest.raises(text.TextDataError, match="outside"):
    text.decode(np.array([[2, 5]]), vocab)


def test_vocabulary_rejects_bad_word_lists():
  with pytest.raises(text.TextDataError, match="starts with"):
    text.Vocabulary(["BOS", "EOS", "a"])
  with pytest.raises(text.TextDataError, match="same word 'a'"):
    text.Vocabulary(["EOS", "BOS", "a", "b", "a"])
  with pytest.raises(text.TextDataError, match="not a word"):
    text.Vocabulary(["EOS", "BOS", "a b"])


def test_vocabulary_save_load_and_check(tmp_path):
  vocab = text.Vocabulary(["EOS", "BOS", "the", "café", "dog"])
  path = vocab.save(str(tmp_path))
  assert path == os.path.join(tmp_path, text.VOCABULARY_FILENAME)
  assert os.listdir(tmp_path) == [text.VOCABULARY_FILENAME]
  loaded = text.Vocabulary.load(str(tmp_path))
  assert loaded == vocab and loaded.id_of("café") == 3
  vocab.check_saved(str(tmp_path))
  changed = text.Vocabulary(["EOS", "BOS", "the", "dog", "café"])
  with pytest.raises(text.TextDataError,
                     match="first at id 3: saved 'café', now 'dog'"):
    changed.check_saved(str(tmp_path))
  longer = text.Vocabulary([*vocab.words, "cat"])
  with pytest.raises(text.TextDataError,
                     match=r"\(5 words\).*\(6 words\).*saved none, now 'cat'"):
    longer.check_saved(str(tmp_path))
  with pytest.raises(text.TextDataError, match="cannot read"):
    vocab.check_saved(os.path.join(tmp_path, "elsewhere"))


def test_vocabulary_load_reports_corrupt_files(tmp_path):
  path = os.path.join(tmp_path, text.VOCABULARY_FILENAME)
  _write(tmp_path, text.VOCABULARY_FILENAME, "{not json")
  with pytest.raises(text.TextDataError, match="cannot read"):
    text.Vocabulary.load(str(tmp_path))
  _write(tmp_path, text.VOCABULARY_FILENAME,
         json.dumps({"words": ["EOS", "BOS", "a", "a"]}))
  with pytest.raises(text.TextDataError,
                     match=re.escape(path) + ": .*same word"):
    text.Vocabulary.load(str(tmp_path))
