"""Character-level text: fixed-length lines, the character vocabulary, ids.

Reference preprocessing (WGAN-GP `language_helpers.load_dataset`, used by
`gan_language.py` on the Billion Word corpus; docs/reference_code.md §9.1):

  * each line (without its line break, NOT lower-cased) is a sequence of
    characters, truncated to `length` = 32 and right-padded with the
    backquote PAD_CHAR = "`";
  * the vocabulary is id 0 = UNK = 'unk', then the `max_size` − 1 = 2047
    most common characters of the padded lines (the padding counts, so "`"
    is usually id 1);
  * a character outside the vocabulary becomes 'unk' (id 0).

Differences, all documented where they occur:

  * Ties in the character counts are broken by code point (the reference
    counts after shuffling the lines, so its order of ties varies).
  * Blank lines are skipped (`data.text.read_lines`; the reference makes
    them all-padding lines), malformed files are a `TextDataError`.
  * `decode` writes 'unk' as the one character UNK_DISPLAY (U+FFFD), so that
    every decoded line has exactly `length` characters; the reference writes
    the three letters 'unk'.
  * A backquote in the text is indistinguishable from padding, as in the
    reference.
"""
import collections
import dataclasses
import functools
import os
from typing import Iterable, Sequence

import numpy as np

from ppogan_jax.data import text

UNK = "unk"
UNK_ID = 0
PAD_CHAR = "`"
UNK_DISPLAY = "\ufffd"
VOCABULARY_FILENAME = "char_vocabulary.json"
DEFAULT_MAX_SIZE = 2048


def pad_line(line: str, length: int) -> str:
  """`line` truncated to `length` characters and right-padded with "`"."""
  return line[:length].ljust(length, PAD_CHAR)


@dataclasses.dataclass(frozen=True)
class CharVocabulary:
  """The characters of a corpus and their ids.

  Attributes:
    entries: the entry of each id: UNK ('unk') for id 0, then one character
      per id (the reference's `inv_charmap`).
  """
  entries: tuple[str, ...]

  def __post_init__(self):
    if not self.entries or self.entries[0] != UNK:
      raise text.TextDataError(
          f"a character vocabulary starts with {UNK!r} (id {UNK_ID}), not "
          f"{list(self.entries[:1])}")
    for i, char in enumerate(self.entries[1:], start=1):
      if not isinstance(char, str) or len(char) != 1:
        raise text.TextDataError(
            f"character vocabulary id {i}: {char!r} is not one character")
    if len(set(self.entries)) != len(self.entries):
      raise text.TextDataError("character vocabulary: repeated characters")

  def __len__(self) -> int:
    return len(self.entries)

  @functools.cached_property
  def ids(self) -> dict[str, int]:
    """The id of each character (UNK excluded)."""
    return {char: i for i, char in enumerate(self.entries) if i != UNK_ID}

  def save(self, directory: str) -> str:
    """Writes `directory/char_vocabulary.json` atomically; returns its path."""
    return text.save_json(directory, VOCABULARY_FILENAME,
                          {"entries": list(self.entries)})

  @classmethod
  def load(cls, directory: str) -> "CharVocabulary":
    """Reads the vocabulary that `save(directory)` wrote."""
    path = os.path.join(directory, VOCABULARY_FILENAME)
    entries = text.load_json_list(path, "entries",
                                  "the character vocabulary")
    try:
      return cls(tuple(entries))
    except text.TextDataError as e:
      raise text.TextDataError(f"{path}: {e}") from None

  def check_saved(self, directory: str) -> None:
    """Raises a `TextDataError` unless `directory` holds this vocabulary
    (for resuming: the ids a run was trained with must not change)."""
    text.check_same_entries(os.path.join(directory, VOCABULARY_FILENAME),
                            CharVocabulary.load(directory).entries,
                            self.entries, unit="characters")


def build_vocabulary(lines: Iterable[str], length: int, *,
                     max_size: int = DEFAULT_MAX_SIZE) -> CharVocabulary:
  """The vocabulary of the padded lines (`pad_line(line, length)`).

  Args:
    lines: the corpus, one string per line.
    length: L, the sequence length (32 in the reference).
    max_size: the most entries, 'unk' included (2048 in the reference).

  Returns:
    'unk', then the `max_size` − 1 most common characters by decreasing
    count, ties in code-point order.
  """
  if max_size < 2:
    raise text.TextDataError(f"max_size={max_size}: a character vocabulary "
                             "holds 'unk' and at least one character")
  counts = collections.Counter()
  for line in lines:
    counts.update(pad_line(line, length))
  chars = sorted(counts, key=lambda c: (-counts[c], c))[:max_size - 1]
  return CharVocabulary((UNK, *chars))


def encode(lines: Sequence[str], vocab: CharVocabulary,
           length: int) -> np.ndarray:
  """The ids of the padded lines, characters outside `vocab` as UNK_ID.

  Args:
    lines: N strings.
    vocab: the vocabulary.
    length: L.

  Returns:
    int32 [N, L].
  """
  ids = vocab.ids
  return np.array([[ids.get(c, UNK_ID) for c in pad_line(line, length)]
                   for line in lines], np.int32).reshape(len(lines), length)


def decode(ids: np.ndarray, vocab: CharVocabulary) -> list[str]:
  """The string of each row of ids [N, L]: L characters, padding kept, UNK
  as UNK_DISPLAY."""
  ids = np.asarray(ids)
  if ids.ndim != 2:
    raise text.TextDataError(f"ids of shape {ids.shape}, not [N, L]")
  if ids.size and (ids.min() < 0 or ids.max() >= len(vocab)):
    raise text.TextDataError(f"ids outside [0, {len(vocab)}): min "
                             f"{ids.min()}, max {ids.max()}")
  chars = (UNK_DISPLAY, *vocab.entries[1:])
  return ["".join(chars[i] for i in row) for row in ids.tolist()]
