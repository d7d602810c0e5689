"""Real-text corpora (one sentence per line): tokens, vocabulary, id arrays.

Reference preprocessing (TextGAN-PyTorch `utils/text_process.py`, which the
PPO-GAN code forks; used for MS COCO captions and EMNLP2017 News):

  * every line is lower-cased and tokenized with `nltk.word_tokenize`;
  * the vocabulary holds every token of the training file AND of the test
    file, after id 0 = 'EOS' (the padding token) and id 1 = 'BOS' (the start
    token);
  * the maximum sentence length is that of the longest sentence of the two
    files, in tokens;
  * a sentence becomes its token ids right-padded with 0 to that length.

Differences, all documented where they occur:

  * `tokenize` reimplements, with the standard library only, the rules of
    nltk's `NLTKWordTokenizer` (the word tokenizer inside `word_tokenize`) as
    of nltk 3.10. `word_tokenize` first splits the text into sentences with
    the Punkt model, a data download; lines are taken to hold one sentence,
    so a period inside a line stays attached to its word ("them." in
    "them. thanks"), as with `NLTKWordTokenizer` alone.
  * The reference orders the words after 'BOS' as a Python set does (varying
    from run to run); here they are sorted by decreasing count over the
    files, ties in code-point order of the words, so that a vocabulary is a
    function of the data.
  * Blank lines are skipped and counted (the reference makes them empty
    sentences); malformed input (undecodable bytes, an over-long line, an
    empty file) is a `TextDataError` naming the file and the line.
  * `encode` rejects unknown words and sentences longer than `max_length`
    (the reference fails on the first and truncates the second); neither
    happens for the files the vocabulary and the length were built from.
"""
import collections
import dataclasses
import json
import logging
import os
import re
import tempfile
from typing import Iterable, NamedTuple, Sequence

import numpy as np

from ppogan_jax.errors import ConfigError
from ppogan_jax.models.sequence import BOS, PADDING_IDX

PAD_TOKEN = "EOS"  # The word of id PADDING_IDX (TextGAN `padding_token`).
BOS_TOKEN = "BOS"  # The word of id BOS (TextGAN `start_token`).
VOCABULARY_FILENAME = "vocabulary.json"
DEFAULT_MAX_LINE_CHARS = 2000

_logger = logging.getLogger(__name__)


class TextDataError(ConfigError):
  """A text file, a vocabulary or a sentence that cannot be used as given."""


def _rules(*pairs: tuple[str, str]) -> tuple[tuple[re.Pattern, str], ...]:
  return tuple((re.compile(pattern), repl) for pattern, repl in pairs)


# NLTKWordTokenizer's substitutions, in its order of application, except
# that its second final-period rule is left out (it can only match where the
# first one already split the period off, and then adds spaces, no tokens)
# and that consecutive rules with the same replacement are merged into one
# (e.g. the padding of single characters, into one character class).
_PAD = r" \g<0> "
_OPENING_QUOTES = _rules(
    ("[«“‘„]|`+", _PAD),
    ('^"', "``"),
    ("``", _PAD),
    (r"""([ (\[{<])("|'')""", r"\1 `` "),
    # An opening single quote, unless it starts a clitic ('s, 're, 'll ...).
    (r"(?i)(?<!\w)'(?!(?:re|ve|ll|m|t|s|d|n)\b)(?=\w)", "' "),
)
_PUNCTUATION = _rules(
    # The final period, before any closing brackets, quotes and spaces.
    (r"""([^.])\.([\])}>"'»”’ ]*)\s*$""", r"\1 . \2 "),
    (r"([:,])([^\d])", r" \1 \2"),
    (r"([:,])$", r" \1 "),
    (r"\.{2,}", _PAD),
    ("[;@#$%&\u2012-\u2015?!]", _PAD),
    # A closing single quote followed by a space.
    (r"([^'])' ", r"\1 ' "),
    (r"[*\][(){}<>]", _PAD),
    ("--", _PAD),
)
_CLOSING_QUOTES = _rules(
    ("[»”’]", _PAD),
    ("''|\"", " '' "),
    (r"\s+", " "),
    (r"([^' ])('[sSmMdD]|') ", r"\1 \2 "),
    (r"([^' ])('(?:ll|re|ve|LL|RE|VE)|n't|N'T) ", r"\1 \2 "),
)
# Words split in two, e.g. "cannot" -> "can not" (Robert MacIntyre's list).
_SPLIT_WORDS = _rules(*(
    (rf"(?i)\b({first})({second})\b", r" \1 \2 ")
    for first, second in (("can", "not"), ("d", "'ye"), ("gim", "me"),
                          ("gon", "na"), ("got", "ta"), ("lem", "me"),
                          ("more", "'n"))
)) + _rules(
    (r"(?i)\b(wan)(na)(?=\s)", r" \1 \2 "),
    (r"(?i) ('t)(is|was)\b", r" \1 \2 "),
)


def tokenize(line: str) -> list[str]:
  """Splits one sentence into tokens like nltk's `NLTKWordTokenizer`.

  Treebank conventions: punctuation, brackets and the final period become
  tokens; clitics are split off ("don't" -> "do", "n't"; "i'm" -> "i",
  "'m"); double quotes become `` and ''; a period inside the line, commas
  between digits (3,000) and periods between digits (3.5) stay in the word.
  The text is not lower-cased here (`load_sentences` does that).

  Args:
    line: one sentence.

  Returns:
    The tokens, none empty or containing whitespace.
  """
  text = line
  for rules in (_OPENING_QUOTES, _PUNCTUATION):
    for pattern, repl in rules:
      text = pattern.sub(repl, text)
  text = f" {text} "
  for rules in (_CLOSING_QUOTES, _SPLIT_WORDS):
    for pattern, repl in rules:
      text = pattern.sub(repl, text)
  return text.split()


@dataclasses.dataclass(frozen=True)
class TextFile:
  """The sentences of a text file.

  Attributes:
    path: the file read.
    sentences: the tokens of each non-blank line, lower-cased, in file order.
    num_blank_lines: lines skipped because they hold only whitespace.
  """
  path: str
  sentences: list[list[str]]
  num_blank_lines: int


class TextLines(NamedTuple):
  """The non-blank lines of a text file.

  Attributes:
    lines: each line without its line break, as written, in file order.
    num_blank_lines: lines skipped because they hold only whitespace.
  """
  lines: list[str]
  num_blank_lines: int


def read_lines(path: str, *,
               max_line_chars: int = DEFAULT_MAX_LINE_CHARS) -> TextLines:
  """Reads the non-blank lines of a UTF-8 file, unchanged.

  Lines end with '\\n' (a '\\r' before it is dropped too). Lines holding only
  whitespace are skipped, counted and logged.

  Args:
    path: the text file.
    max_line_chars: the most characters a line may have (without its line
      break).

  Returns:
    The file's lines and its number of blank lines.

  Raises:
    TextDataError: the file is missing, has a line that is not UTF-8 or is
      longer than `max_line_chars` (the message names `path:line`), or has
      no non-blank line.
  """
  lines = []
  num_blank = 0
  try:
    with open(path, "rb") as f:
      for number, raw in enumerate(f, start=1):
        try:
          line = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as e:
          raise TextDataError(
              f"{path}:{number}: not valid UTF-8 ({e.reason} at byte "
              f"{e.start} of the line)") from None
        if len(line) > max_line_chars:
          raise TextDataError(
              f"{path}:{number}: line has {len(line)} characters, more than "
              f"max_line_chars={max_line_chars}")
        if line.strip():
          lines.append(line)
        else:
          num_blank += 1
  except OSError as e:
    raise TextDataError(f"{path}: cannot read the text file ({e})") from None
  if not lines:
    raise TextDataError(f"{path}: no sentence in the file ({num_blank} blank "
                        "lines)")
  if num_blank:
    _logger.info("%s: skipped %d blank lines", path, num_blank)
  return TextLines(lines=lines, num_blank_lines=num_blank)


def load_sentences(path: str, *,
                   max_line_chars: int = DEFAULT_MAX_LINE_CHARS) -> TextFile:
  """Reads a UTF-8 file of one sentence per line, lower-cased and tokenized.

  The lines, the limit on their length and the errors are `read_lines`'s.

  Returns:
    The file's sentences and its number of blank lines.
  """
  lines, num_blank = read_lines(path, max_line_chars=max_line_chars)
  return TextFile(path=path,
                  sentences=[tokenize(line.lower()) for line in lines],
                  num_blank_lines=num_blank)


def save_json(directory: str, filename: str, content: dict) -> str:
  """Writes `content` to `directory/filename` atomically; returns its path."""
  os.makedirs(directory, exist_ok=True)
  path = os.path.join(directory, filename)
  with tempfile.NamedTemporaryFile(
      "w", encoding="utf-8", dir=directory, suffix=".json.tmp",
      delete=False) as f:
    json.dump(content, f, ensure_ascii=False)
  os.replace(f.name, path)
  return path


def load_json_list(path: str, key: str, what: str) -> list:
  """The list `content[key]` of the JSON file `path` (`save_json`'s output).

  Raises:
    TextDataError: naming `path` and `what` (e.g. 'the vocabulary') when the
      file cannot be read or parsed or `key` does not hold a list.
  """
  try:
    with open(path, encoding="utf-8") as f:
      value = json.load(f)[key]
  except (OSError, ValueError, KeyError, TypeError) as e:
    raise TextDataError(f"{path}: cannot read {what} ({e!r})") from None
  if not isinstance(value, list):
    raise TextDataError(f"{path}: {key!r} is not a list")
  return value


class Vocabulary:
  """The words of a corpus and their ids.

  Id `PADDING_IDX` = 0 is `PAD_TOKEN` ('EOS'), id `BOS` = 1 is `BOS_TOKEN`
  ('BOS'); the corpus words have ids 2, 3, ...
  """

  def __init__(self, words: Sequence[str]):
    """Args: words: the word of each id, starting with 'EOS', 'BOS'."""
    words = tuple(words)
    if words[:2] != (PAD_TOKEN, BOS_TOKEN):
      raise TextDataError(
          f"a vocabulary starts with {PAD_TOKEN!r}, {BOS_TOKEN!r} (ids "
          f"{PADDING_IDX}, {BOS}), not {list(words[:2])}")
    self._ids = {}
    for i, word in enumerate(words):
      if not isinstance(word, str) or not word or word.split() != [word]:
        raise TextDataError(f"vocabulary id {i}: {word!r} is not a word")
      if self._ids.setdefault(word, i) != i:
        raise TextDataError(
            f"vocabulary ids {self._ids[word]} and {i}: same word {word!r}")
    self._words = words

  @property
  def words(self) -> tuple[str, ...]:
    """The word of each id."""
    return self._words

  def __len__(self) -> int:
    return len(self._words)

  def __eq__(self, other: object) -> bool:
    return isinstance(other, Vocabulary) and self._words == other._words

  def __hash__(self) -> int:
    return hash(self._words)

  def __contains__(self, word: str) -> bool:
    return word in self._ids

  def id_of(self, word: str) -> int:
    """The id of `word`; a `TextDataError` if it is not in the vocabulary."""
    try:
      return self._ids[word]
    except KeyError:
      raise TextDataError(
          f"word {word!r} is not in the vocabulary") from None

  def save(self, directory: str) -> str:
    """Writes `directory/vocabulary.json` atomically; returns its path."""
    return save_json(directory, VOCABULARY_FILENAME,
                     {"words": list(self._words)})

  @classmethod
  def load(cls, directory: str) -> "Vocabulary":
    """Reads the vocabulary that `save(directory)` wrote."""
    path = os.path.join(directory, VOCABULARY_FILENAME)
    words = load_json_list(path, "words", "the vocabulary")
    try:
      return cls(words)
    except TextDataError as e:
      raise TextDataError(f"{path}: {e}") from None

  def check_saved(self, directory: str) -> None:
    """Raises a `TextDataError` unless `directory` holds this vocabulary.

    For resuming: the ids a run was trained with must not change.
    """
    check_same_entries(os.path.join(directory, VOCABULARY_FILENAME),
                       Vocabulary.load(directory).words, self.words,
                       unit="words")


def check_same_entries(path: str, saved: Sequence[str],
                       current: Sequence[str], *, unit: str) -> None:
  """Raises a `TextDataError` unless a vocabulary saved in `path` equals the
  one built now, naming the first id where they differ.

  Args:
    path: the saved vocabulary's file (for the message).
    saved: the entry of each id, as saved.
    current: the entry of each id, as built from the data now.
    unit: what the entries are ('words', 'characters').
  """
  saved, current = tuple(saved), tuple(current)
  if saved == current:
    return
  first = next((i for i, (a, b) in enumerate(zip(saved, current)) if a != b),
               min(len(saved), len(current)))
  raise TextDataError(
      f"{path}: the saved vocabulary ({len(saved)} {unit}) differs from the "
      f"one built from the data now ({len(current)} {unit}); first at id "
      f"{first}: saved {_entry_at(saved, first)}, now "
      f"{_entry_at(current, first)}. Use the text files the run started "
      "with, or a new workdir.")


def _entry_at(entries: Sequence[str], i: int) -> str:
  return repr(entries[i]) if i < len(entries) else "none"


def build_vocabulary(
    train: Iterable[Sequence[str]],
    test: Iterable[Sequence[str]] | None = None) -> Vocabulary:
  """The vocabulary of the training sentences and, as in the reference, of
  the test sentences when given.

  Args:
    train: token lists.
    test: token lists, or None.

  Returns:
    'EOS', 'BOS', then every distinct token by decreasing number of
    occurrences in train + test, ties in code-point order.
  """
  counts = collections.Counter()
  for sentences in (train, test or ()):
    for sentence in sentences:
      counts.update(sentence)
  for special in (PAD_TOKEN, BOS_TOKEN):
    if special in counts:
      raise TextDataError(f"the reserved word {special!r} is in the text")
  words = sorted(counts, key=lambda w: (-counts[w], w))
  return Vocabulary([PAD_TOKEN, BOS_TOKEN, *words])


def max_sentence_length(*corpora: Iterable[Sequence[str]]) -> int:
  """The number of tokens of the longest sentence of all `corpora`."""
  return max((len(s) for sentences in corpora for s in sentences), default=0)


def encode(sentences: Sequence[Sequence[str]], vocab: Vocabulary,
           max_length: int) -> np.ndarray:
  """Token ids, right-padded with `PADDING_IDX`.

  Args:
    sentences: N token lists, each of at most `max_length` corpus words.
    vocab: the vocabulary.
    max_length: L, the width of the result.

  Returns:
    int32 [N, L].

  Raises:
    TextDataError: a sentence is too long or has a word that is not a corpus
      word of `vocab` (the message gives the sentence's index).
  """
  ids = np.full((len(sentences), max_length), PADDING_IDX, np.int32)
  for i, sentence in enumerate(sentences):
    if len(sentence) > max_length:
      raise TextDataError(f"sentence {i} has {len(sentence)} tokens, more "
                          f"than max_length={max_length}")
    for j, word in enumerate(sentence):
      if word in (PAD_TOKEN, BOS_TOKEN):
        raise TextDataError(f"sentence {i}: reserved word {word!r}")
      try:
        ids[i, j] = vocab.id_of(word)
      except TextDataError as e:
        raise TextDataError(f"sentence {i}: {e}") from None
  return ids


def decode_tokens(ids: np.ndarray, vocab: Vocabulary) -> list[list[str]]:
  """The words of each row of int ids [N, L], up to its first padding id.

  The inverse of `encode` (TextGAN `tensor_to_tokens`).
  """
  ids = np.asarray(ids)
  if ids.ndim != 2:
    raise TextDataError(f"ids of shape {ids.shape}, not [N, L]")
  if ids.size and (ids.min() < 0 or ids.max() >= len(vocab)):
    raise TextDataError(f"ids outside [0, {len(vocab)}): min {ids.min()}, "
                        f"max {ids.max()}")
  sentences = []
  for row in ids.tolist():
    end = row.index(PADDING_IDX) if PADDING_IDX in row else len(row)
    sentences.append([vocab.words[i] for i in row[:end]])
  return sentences


def decode(ids: np.ndarray, vocab: Vocabulary) -> list[str]:
  """`decode_tokens`, each sentence's words joined by single spaces."""
  return [" ".join(words) for words in decode_tokens(ids, vocab)]


@dataclasses.dataclass(frozen=True)
class Corpus:
  """A real-text dataset prepared as in the reference (`text_precess`).

  Attributes:
    train: the training file's sentences.
    test: the test file's sentences, or None.
    vocabulary: `build_vocabulary` of train and test.
    max_length: L, `max_sentence_length` of train and test.
    train_ids: int32 [N_train, L], `encode`d training sentences.
    test_ids: int32 [N_test, L], or None.
  """
  train: TextFile
  test: TextFile | None
  vocabulary: Vocabulary
  max_length: int
  train_ids: np.ndarray
  test_ids: np.ndarray | None


def load_corpus(train_path: str, test_path: str | None = None, *,
                max_line_chars: int = DEFAULT_MAX_LINE_CHARS) -> Corpus:
  """Loads, tokenizes and encodes a training file and an optional test file.

  Args:
    train_path: the training sentences, one per line.
    test_path: the test sentences, or None.
    max_line_chars: see `load_sentences`.

  Returns:
    The corpus, its vocabulary and length built from both files.
  """
  train = load_sentences(train_path, max_line_chars=max_line_chars)
  test = (None if test_path is None else
          load_sentences(test_path, max_line_chars=max_line_chars))
  test_sentences = None if test is None else test.sentences
  vocab = build_vocabulary(train.sentences, test_sentences)
  length = max_sentence_length(train.sentences, test_sentences or [])
  return Corpus(
      train=train, test=test, vocabulary=vocab, max_length=length,
      train_ids=encode(train.sentences, vocab, length),
      test_ids=(None if test is None else
                encode(test.sentences, vocab, length)))


def sentence_batches(step: int, *, num_batches: int, batch_size: int,
                     process_index: int = 0, process_count: int = 1,
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
