"""Unconditional image generation: digits, MNIST and CIFAR-10 with DCGAN or
the CIFAR ResNet of PPO-GAN's code.

Config fields read by `build`:
  data.name: 'digits' | 'mnist' | 'cifar10'.
  data.image_size: the model's square side S, a power of two ≥ 8 (datasets
    are resized to it by `ppogan_jax.data.images.resize_images`).
  data.data_dir: TFDS data directory ('' = TFDS's default).
  data.cache_dir: where the evaluation classifier is cached
    ('' = $XDG_CACHE_HOME/ppogan_jax, default ~/.cache/ppogan_jax). The Task
    does not see the workdir, and the classifier depends only on the data
    and its own settings, so runs share it.
  model.architecture: 'dcgan' or 'resnet', with
    dcgan: latent_dim, generator_filters, critic_filters,
      generator_activation, critic_activation ('relu' | 'leaky_relu'),
      generator_batch_norm, critic_norm ('none' | 'layer'),
      critic_dropout, classifier_norm ('none' | 'layer' | 'batch');
    resnet: latent_dim, generator_width, critic_width, critic_dropout
      (three rates), classifier ('resnet_bn'), classifier_width.
  eval.num_samples, eval.is_splits, eval.num_real (real images behind the
    FID statistics, at most the dataset), eval.classifier.{width,
    feature_dim, steps, batch_size, learning_rate}, and optionally
    eval.inception_weights ('' = off).

Evaluation: classifier-based IS and FID (`ppogan_jax.metrics.images`). A
`DigitClassifier` is trained once on the dataset's labels (all of the
'train' split but a 10% hold-out) and cached in data.cache_dir under a key
of the data's fingerprint, S, the classifier settings and the seed; the
real-feature statistics are computed once per process. For CIFAR-10 these
are NOT the paper's Inception scores: for those set eval.inception_weights
to a local copy of pytorch-fid's `pt_inception-2015-12-05-6726825d.pth` (or
an .npz of its state dict), which adds inception_is / inception_fid
(`ppogan_jax.models.inception`; 1-channel images are repeated to RGB; IS is
computed on the unquantised samples, where the reference truncates them to
8-bit first).

The classifier C of the 'resnet' architecture is option (a) of the reference
(a separate ResNet with BN in blocks 2–4). Option (b) of appendix 6.3.1, C on
the critic's first-block features, would need the engine to pass the
current critic's parameters into the classifier's calls (its fine-tuning,
and the ratio inside the generator loss), e.g. a Task hook
`classifier_input(critic_params, x)` that returns
stop_gradient(critic.block_0(x)) for C's update and the differentiable
features for the generator's ratio.
"""
import functools
import hashlib
import json
import math
from typing import Any

import jax
import ml_collections
import numpy as np
import scipy.special

from ppogan_jax import logs
from ppogan_jax.data import images as image_data
from ppogan_jax.metrics import images as image_metrics
from ppogan_jax.models import dcgan
from ppogan_jax.models import inception as inception_lib
from ppogan_jax.models import latent
from ppogan_jax.models import matmul_conv
from ppogan_jax.models import resnet
from ppogan_jax.tasks import Task

log = logs.get_logger()


def real_batches(step: int, *, num_batches: int, batch_size: int,
                 process_index: int = 0, process_count: int = 1,
                 raw: image_data.RawImages, image_size: int,
                 seed: int) -> np.ndarray:
  """This process's rows of outer step `step`'s global batches:
  float32 [num_batches, batch_size // process_count, S, S, C] in [−1, 1]."""
  indices = image_data.epoch_batch_indices(
      seed, step, len(raw.labels), batch_size, num_batches)
  return raw.as_float(
      image_data.local_rows(indices, process_index, process_count),
      image_size)


class ClassifierEvaluator:
  """The Task's evaluate(samples, key[, generator variables]): classifier
  IS / FID, plus Inception IS / FID when eval.inception_weights is set.

  The classifier, the Inception weights and the real statistics are made
  on the first call.
  """

  def __init__(self, raw: image_data.RawImages, *, image_size: int,
               cache_dir: str, eval_config: ml_collections.ConfigDict,
               seed: int):
    self._raw = raw
    self._image_size = image_size
    self._cache_dir = cache_dir
    self._splits = eval_config.is_splits
    self._num_real = min(eval_config.num_real, len(raw.labels))
    self._train_kwargs = dict(
        num_classes=raw.num_classes, seed=seed,
        **{k: eval_config.classifier[k] for k in (
            "width", "feature_dim", "steps", "batch_size", "learning_rate")})
    self._inception_weights = eval_config.get("inception_weights", "")
    self._real_rows = np.random.default_rng([seed, 2]).permutation(
        len(raw.labels))[:self._num_real]

  @functools.cached_property
  def classifier(self) -> image_metrics.FeatureClassifier:
    key = hashlib.sha256(json.dumps(dict(
        data=image_data.fingerprint(self._raw), image_size=self._image_size,
        **self._train_kwargs), sort_keys=True).encode()).hexdigest()[:16]
    classifier = image_metrics.load_or_train_feature_classifier(
        self._cache_dir, key, self._raw.as_float(image_size=self._image_size),
        self._raw.labels, **self._train_kwargs)
    log.info("evaluation classifier for %s (%s): held-out accuracy %.4f",
             self._raw.name, key, classifier.validation_accuracy)
    return classifier

  @functools.cached_property
  def real(self) -> dict:
    """The real images' classifier-feature statistics and IS."""
    probs, features = image_metrics.classifier_outputs(
        self.classifier,
        self._raw.as_float(np.sort(self._real_rows), self._image_size))
    splits = min(self._splits, len(self._real_rows))
    return dict(stats=image_metrics.gaussian_statistics(features),
                inception_score=image_metrics.inception_score(
                    probs, splits=splits))

  @functools.cached_property
  def inception(self) -> dict | None:
    """Inception variables and the real images' Inception-feature
    statistics, or None when eval.inception_weights is ''."""
    if not self._inception_weights:
      return None
    variables = inception_lib.load_pytorch_fid_weights(self._inception_weights)
    features, _ = inception_outputs(variables, self._raw.as_float(
        np.sort(self._real_rows), self._image_size))
    return dict(variables=variables,
                stats=image_metrics.gaussian_statistics(features))

  def __call__(self, samples: np.ndarray, key: jax.Array,
               generator_variables: Any = None) -> dict[str, float]:
    """Metrics of generated samples [N, S, S, C]; `key` and
    `generator_variables` are unused (every metric is a deterministic
    function of the samples)."""
    del key, generator_variables
    samples = np.asarray(samples, np.float32)
    probs, features = image_metrics.classifier_outputs(self.classifier,
                                                       samples)
    score = image_metrics.inception_score(probs, splits=self._splits)
    fid = image_metrics.frechet_distance(
        *self.real["stats"], *image_metrics.gaussian_statistics(features))
    metrics = {
        "classifier_is": score.mean,
        "classifier_is_std": score.std,
        "is_num_samples": float(score.num_samples),
        "is_splits": float(score.splits),
        "classifier_is_real": self.real["inception_score"].mean,
        "classifier_fid": fid,
        "fid_n_real": float(len(self._real_rows)),
        "fid_n_fake": float(len(samples)),
        "classifier_accuracy": self.classifier.validation_accuracy,
    }
    if self.inception is not None:
      features, logits = inception_outputs(self.inception["variables"],
                                           samples)
      score = image_metrics.inception_score(
          scipy.special.softmax(logits.astype(np.float64), axis=-1),
          splits=self._splits)
      metrics.update(
          inception_is=score.mean, inception_is_std=score.std,
          inception_fid=image_metrics.frechet_distance(
              *self.inception["stats"],
              *image_metrics.gaussian_statistics(features)))
    return metrics


@functools.partial(jax.jit, static_argnums=0)
def _inception_apply(model: inception_lib.InceptionV3FID, variables,
                     x: jax.Array):
  return model.apply(variables, x)


def inception_outputs(variables, images: np.ndarray, *, batch_size: int = 100
                      ) -> tuple[np.ndarray, np.ndarray]:
  """(pool features [N, 2048], logits [N, 1008]) of images [N, S, S, C] in
  [−1, 1] (C = 1 is repeated to RGB), in zero-padded chunks."""
  model = inception_lib.InceptionV3FID()
  images = np.asarray(images, np.float32)
  if images.shape[-1] == 1:
    images = np.repeat(images, 3, axis=-1)
  features, logits = [], []
  for start in range(0, len(images), batch_size):
    chunk = images[start:start + batch_size]
    valid = len(chunk)
    chunk = np.pad(chunk, ((0, batch_size - valid),) + ((0, 0),) * 3)
    f, l = jax.device_get(_inception_apply(model, variables, chunk))
    features.append(f[:valid])
    logits.append(l[:valid])
  return np.concatenate(features), np.concatenate(logits)


def image_grid(images: np.ndarray, *, columns: int = 8,
               min_tile: int = 32, border: int = 1) -> np.ndarray:
  """Images [N, S, S, C] in [−1, 1] → one [H, W, C] grid in [0, 1], tiles
  upsampled by pixel repetition to at least `min_tile` pixels."""
  n, s, _, c = images.shape
  factor = max(1, math.ceil(min_tile / s))
  tiles = np.repeat(np.repeat(images, factor, axis=1), factor, axis=2)
  tiles = np.clip((tiles + 1.0) / 2.0, 0.0, 1.0)
  t = s * factor
  columns = max(1, min(columns, n))
  rows = math.ceil(n / columns)
  grid = np.ones((rows * (t + border) + border,
                  columns * (t + border) + border, c), np.float32)
  for i in range(n):
    r, col = divmod(i, columns)
    top, left = border + r * (t + border), border + col * (t + border)
    grid[top:top + t, left:left + t] = tiles[i]
  return grid


def write_samples(samples: np.ndarray, path: str, *,
                  max_images: int = 64) -> None:
  """The first `max_images` samples as an 8-column PNG grid at `path`.png."""
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  grid = image_grid(np.asarray(samples[:max_images], np.float32))
  if grid.shape[-1] == 1:
    plt.imsave(path + ".png", grid[..., 0], cmap="gray", vmin=0.0, vmax=1.0)
  else:
    plt.imsave(path + ".png", grid)


def _models(config: ml_collections.ConfigDict, channels: int, image_size: int):
  """(generator, critic, classifier) for config.model.architecture (checked
  by `config_check.check_config`)."""
  m = config.model
  if m.architecture == "dcgan":
    critic_args = dict(image_size=image_size, base_filters=m.critic_filters,
                       activation=m.critic_activation, conv_impl=m.conv_impl)
    return (
        dcgan.DCGANGenerator(
            image_size=image_size, channels=channels,
            base_filters=m.generator_filters,
            activation=m.generator_activation,
            batch_norm=m.generator_batch_norm, conv_impl=m.conv_impl),
        dcgan.DCGANDiscriminator(norm=m.critic_norm,
                                 dropout_rate=m.critic_dropout, **critic_args),
        dcgan.DCGANDiscriminator(norm=m.classifier_norm, **critic_args),
    )
  conv_impl = matmul_conv.resolve_stride_one(m.conv_impl)
  return (
      resnet.ResNetGenerator(image_size=image_size, channels=channels,
                             width=m.generator_width, conv_impl=conv_impl),
      resnet.ResNetCritic(width=m.critic_width,
                          dropout_rates=tuple(m.critic_dropout),
                          conv_impl=conv_impl),
      resnet.resnet_classifier(width=m.classifier_width, conv_impl=conv_impl),
  )


def build(config: ml_collections.ConfigDict) -> Task:
  """The image task of config.data / config.model / config.eval (see the
  module docstring; checked by `config_check.check_config`)."""
  name, image_size = config.data.name, config.data.image_size
  cache_dir = config.data.cache_dir or image_data.default_cache_dir()
  raw = image_data.load_dataset(name, split="train",
                                data_dir=config.data.data_dir or None)
  channels = raw.pixels.shape[-1]
  generator, critic, classifier = _models(config, channels, image_size)
  log.info("%s: %d training images %s → %d×%d×%d", name, len(raw.labels),
           raw.pixels.shape[1:], image_size, image_size, channels)
  return Task(
      generator=generator,
      critic=critic,
      classifier=classifier,
      sample_latent=functools.partial(latent.gaussian_latent,
                                      dim=config.model.latent_dim),
      generator_kwargs=lambda step: {},
      real_batches=functools.partial(real_batches, raw=raw,
                                     image_size=image_size, seed=config.seed),
      evaluate=ClassifierEvaluator(raw, image_size=image_size,
                                   cache_dir=cache_dir,
                                   eval_config=config.eval, seed=config.seed),
      write_samples=write_samples,
  )
