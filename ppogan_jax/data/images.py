"""Image datasets held in host memory, their resizing rule and a stateless
epoch sampler.

Datasets (`load_dataset(name, ...)`):
  * 'digits': scikit-learn's bundled 8×8 handwritten digits (1,797 images,
    pixel values 0..16, 10 classes; no download).
  * 'mnist', 'cifar10': TFDS, read with `tfds.data_source` (random access to
    the ArrayRecord files, no TensorFlow needed). The dataset must already be
    prepared in ArrayRecord format, e.g.
      tfds build mnist --file_format=array_record [--data_dir=DIR]
    (a missing one is a `ConfigError` saying so; nothing is downloaded).

Images are kept as their integer pixels (`RawImages`) and converted per batch
to float32 NHWC in [−1, 1] by x ↦ 2·x/max_value − 1 (max_value = 16 for
digits, 255 for TFDS), then brought to the model's square size S:

  * S = s (the native side): unchanged;
  * S a multiple of s: nearest-neighbour upsampling (digits 8 → 16 or 32);
  * otherwise: pad with the background value −1 to p, the smallest multiple
    of S with p ≥ s (centred; the odd pixel goes bottom/right), then average
    pool by p/S (MNIST 28 → 32 by padding, 28 → 16 by padding to 32 and 2×2
    pooling; CIFAR-10 32 → 16 by 2×2 pooling).

No dequantisation noise is added (as in PPO-GAN's CIFAR code).

The sampler `epoch_batch_indices` is a pure function of (seed, step): the
examples form one stream of epochs, each a fresh permutation seeded by
(seed, epoch), and outer step `step` reads the next
batches_per_step × batch_size positions of that stream. A batch that crosses
an epoch boundary takes the end of one epoch and the start of the next (the
reference's DataLoader instead yields a short last batch).
"""
import functools
import hashlib
import os
from typing import NamedTuple

import numpy as np

from ppogan_jax.errors import ConfigError

TFDS_DATASETS = ("mnist", "cifar10")
DATASETS = ("digits",) + TFDS_DATASETS


def default_cache_dir() -> str:
  """$XDG_CACHE_HOME/ppogan_jax, or ~/.cache/ppogan_jax: where derived data
  (the feature classifier of the image metrics) are cached."""
  base = os.environ.get("XDG_CACHE_HOME") or os.path.join(
      os.path.expanduser("~"), ".cache")
  return os.path.join(base, "ppogan_jax")


# Separates the data permutations from other draws seeded by config.seed.
_DATA_STREAM = 0x1A6E5


class RawImages(NamedTuple):
  """A labelled image dataset as stored pixels.

  Attributes:
    pixels: uint8 [N, s, s, C] integer pixel values in [0, max_value].
    labels: int32 [N] class labels.
    max_value: the largest pixel value (16 for digits, 255 for TFDS).
    num_classes: number of classes.
    name: dataset name.
  """
  pixels: np.ndarray
  labels: np.ndarray
  max_value: int
  num_classes: int
  name: str

  def as_float(self, indices: np.ndarray | None = None,
               image_size: int | None = None) -> np.ndarray:
    """float32 images in [−1, 1] (rows `indices`, any shape, default all),
    resized to `image_size` by the module's rule (default: native)."""
    pixels = self.pixels if indices is None else self.pixels[indices]
    lead = pixels.shape[:-3]
    flat = pixels.reshape((-1,) + pixels.shape[-3:])
    images = flat.astype(np.float32) * np.float32(2.0 / self.max_value) - 1.0
    if image_size is not None:
      images = resize_images(images, image_size)
    return images.reshape(lead + images.shape[1:])


def resize_images(images: np.ndarray, size: int) -> np.ndarray:
  """Square images [N, s, s, C] in [−1, 1] → [N, size, size, C].

  Nearest upsampling when size is a multiple of s; otherwise pad with −1 to
  the smallest multiple p ≥ s of `size`, then average-pool by p/size.
  """
  n, s, s2, c = images.shape
  if s != s2:
    raise ValueError(f"images must be square, got {s}×{s2}")
  if size == s:
    return images
  if size > s and size % s == 0:
    factor = size // s
    return np.repeat(np.repeat(images, factor, axis=1), factor, axis=2)
  p = -(-s // size) * size
  before = (p - s) // 2
  padded = np.pad(images, ((0, 0), (before, p - s - before),
                           (before, p - s - before), (0, 0)),
                  constant_values=-1.0)
  k = p // size
  return padded.reshape(n, size, k, size, k, c).mean(axis=(2, 4),
                                                    dtype=np.float32)


def load_digits_raw() -> RawImages:
  """scikit-learn's 8×8 digits (1,797 images, values 0..16), no download."""
  try:
    from sklearn import datasets
  except ImportError:
    raise ConfigError("config.data.name='digits' needs scikit-learn: "
                      "pip install scikit-learn") from None
  digits = datasets.load_digits()
  pixels = digits.images.astype(np.uint8)[..., None]
  return RawImages(pixels=pixels, labels=digits.target.astype(np.int32),
                   max_value=16, num_classes=10, name="digits")


def load_digits_images(image_size: int = 8) -> tuple[np.ndarray, np.ndarray]:
  """The 1,797 digits as float32 [1797, S, S, 1] in [−1, 1] and int32 labels.

  S = 8 is native; 16 or 32 upsample by pixel repetition (the module's
  resizing rule).
  """
  raw = load_digits_raw()
  return raw.as_float(image_size=image_size), raw.labels


def load_tfds_raw(name: str, *, split: str = "train",
                  data_dir: str | None = None) -> RawImages:
  """An image-classification TFDS dataset ('mnist', 'cifar10') via
  `tfds.data_source`, read fully into memory.

  Raises:
    ConfigError: the dataset is not prepared (in ArrayRecord format) in
      `data_dir`, with the command that prepares it.
  """
  where = data_dir or ("the default TFDS data_dir (~/tensorflow_datasets or "
                       "$TFDS_DATA_DIR)")
  fix = (f"prepare it with `tfds build {name} --file_format=array_record"
         + (f" --data_dir={data_dir}`" if data_dir else "`")
         + " or point --config.data.data_dir at a directory that has it")
  try:
    import tensorflow_datasets as tfds
  except ImportError:
    raise ConfigError(f"config.data.name={name!r} needs tensorflow-datasets: "
                      "pip install tensorflow-datasets") from None
  try:
    source = tfds.data_source(name, split=split, data_dir=data_dir or None,
                              download=False)
    num = len(source)
    if num == 0:
      raise ValueError("the split is empty")
    first = source[0]
  except Exception as e:  # TFDS signals a missing dataset in several ways.
    reason = (str(e).strip().splitlines() or [type(e).__name__])[0]
    raise ConfigError(
        f"config.data.name={name!r}: could not read TFDS split {split!r} from "
        f"{where} ({type(e).__name__}: {reason}); {fix}") from None
  pixels = np.empty((num,) + np.shape(first["image"]), np.uint8)
  labels = np.empty((num,), np.int32)
  for i in range(num):  # Per-record reads: tfds.testing.mock_data mocks these.
    example = first if i == 0 else source[i]
    pixels[i] = example["image"]
    labels[i] = example["label"]
  info = source.dataset_info
  num_classes = int(info.features["label"].num_classes)
  return RawImages(pixels=pixels, labels=labels, max_value=255,
                   num_classes=num_classes, name=name)


def load_dataset(name: str, *, split: str = "train",
                 data_dir: str | None = None) -> RawImages:
  """'digits' (all 1,797 images, whatever `split`), 'mnist' or 'cifar10'."""
  if name == "digits":
    return load_digits_raw()
  if name in TFDS_DATASETS:
    return load_tfds_raw(name, split=split, data_dir=data_dir)
  raise ConfigError(f"config.data.name={name!r}: choose one of {DATASETS}")


def fingerprint(raw: RawImages) -> str:
  """A hex digest of the pixels and labels (identifies cached artefacts)."""
  h = hashlib.sha256()
  h.update(f"{raw.name}:{raw.pixels.shape}:{raw.max_value}".encode())
  h.update(np.ascontiguousarray(raw.pixels).tobytes())
  h.update(np.ascontiguousarray(raw.labels).tobytes())
  return h.hexdigest()


@functools.lru_cache(maxsize=4)
def epoch_permutation(seed: int, epoch: int, num_examples: int) -> np.ndarray:
  """The example order of data epoch `epoch` (read-only int64 [N])."""
  perm = np.random.default_rng([seed, _DATA_STREAM, epoch]).permutation(
      num_examples)
  perm.flags.writeable = False
  return perm


def epoch_batch_indices(seed: int, step: int, num_examples: int,
                        batch_size: int, batches_per_step: int) -> np.ndarray:
  """Example indices of outer step `step`: int64 [batches_per_step, batch_size].

  Position q = step·batches_per_step·batch_size + j of the example stream is
  example perm_e[q mod N] with e = q div N and perm_e the permutation of
  epoch e seeded by (seed, e). So every epoch visits each example exactly
  once, epochs are reshuffled, and the result depends only on the arguments.
  """
  if num_examples < 1 or batch_size < 1 or batches_per_step < 1:
    raise ValueError("num_examples, batch_size and batches_per_step must be "
                     "positive")
  total = batches_per_step * batch_size
  positions = int(step) * total + np.arange(total, dtype=np.int64)
  epochs, offsets = np.divmod(positions, num_examples)
  indices = np.empty((total,), np.int64)
  for epoch in np.unique(epochs):
    rows = epochs == epoch
    indices[rows] = epoch_permutation(seed, int(epoch), num_examples)[
        offsets[rows]]
  return indices.reshape(batches_per_step, batch_size)


def local_rows(global_batch: np.ndarray, process_index: int,
               process_count: int) -> np.ndarray:
  """This process's contiguous share of axis 1 of [num_batches, B, ...]."""
  batch = global_batch.shape[1]
  if batch % process_count:
    raise ValueError(f"batch size {batch} is not divisible by the "
                     f"{process_count} processes")
  local = batch // process_count
  return global_batch[:, process_index * local:(process_index + 1) * local]
