"""Inception Score and Fréchet distance, and a small feature classifier that
stands in for InceptionV3 on small datasets.

IS (Salimans et al., 2016; docs/reference_code.md §7): with p(y|x) the
classifier's class probabilities, the N samples are cut into `splits` equal
consecutive parts (the last N mod splits samples are dropped) and

  IS_k = exp(mean_{x ∈ part k} KL(p(y|x) ‖ p̄_k(y))),
  p̄_k = mean_{x ∈ part k} p(y|x),
  IS = mean_k IS_k,  IS_std = std_k IS_k  (population std, as the OpenAI code).

FID (Heusel et al., 2017): with (μ, Σ) the mean and covariance (np.cov,
ddof 1) of the features of real (r) and generated (g) samples,

  FID = ‖μ_r − μ_g‖² + tr Σ_r + tr Σ_g − 2·tr (Σ_r Σ_g)^½.

tr (Σ_r Σ_g)^½ = tr (Σ_r^½ Σ_g Σ_r^½)^½: the default 'symmetric' method
takes Σ_r^½ from `eigh` and sums the square roots of the eigenvalues of the
symmetric PSD product, so it never produces an imaginary part. The 'sqrtm'
method is pytorch-fid's: scipy.linalg.sqrtm of Σ_r Σ_g, retried with 1e-6 on
both diagonals if the result is not finite, and a ValueError if the
imaginary part exceeds 1e-3. Both run in float64 NumPy on the host (FID is
ill-conditioned in float32).

Every score carries its sample counts (and IS its number of splits), since
IS and FID are biased in N and are only comparable at equal N.

Inception weights cannot be downloaded here, so on digits, MNIST (and, as a
stand-in only, CIFAR-10) the task computes IS and FID with `DigitClassifier`,
a small CNN trained on the dataset's labels: IS uses its class
probabilities, FID its penultimate-layer features. These scores rank models
on one dataset but are not comparable with Inception-based numbers.
"""
import functools
import json
import os
import tempfile
from typing import Any, NamedTuple

import chex
import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import scipy.linalg
import scipy.special


class InceptionScore(NamedTuple):
  """IS mean and std over splits, with the sample count and split count."""
  mean: float
  std: float
  num_samples: int
  splits: int


class FrechetDistance(NamedTuple):
  """FID with the numbers of real and generated samples behind each Gaussian."""
  fid: float
  n_real: int
  n_fake: int


def inception_score(probs: np.ndarray, *, splits: int = 10) -> InceptionScore:
  """IS of class probabilities p(y|x) [N, K] (rows sum to 1).

  Raises:
    ValueError: fewer samples than splits, or rows that are not
      distributions.
  """
  probs = np.asarray(probs, np.float64)
  if probs.ndim != 2:
    raise ValueError(f"probs must be [N, K], got shape {probs.shape}")
  n = probs.shape[0]
  if splits < 1 or n < splits:
    raise ValueError(f"inception_score needs at least splits={splits} "
                     f"samples, got {n}")
  if np.any(probs < 0) or not np.allclose(probs.sum(axis=1), 1.0, atol=1e-4):
    raise ValueError("probs rows must be probability distributions")
  size = n // splits
  parts = probs[:size * splits].reshape(splits, size, probs.shape[1])
  marginal = parts.mean(axis=1, keepdims=True)
  kl = (scipy.special.xlogy(parts, parts)
        - scipy.special.xlogy(parts, np.broadcast_to(marginal, parts.shape)))
  scores = np.exp(kl.sum(axis=2).mean(axis=1))
  return InceptionScore(mean=float(scores.mean()), std=float(scores.std()),
                        num_samples=size * splits, splits=splits)


def gaussian_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """(μ [F], Σ [F, F]) of features [N, F] in float64 (Σ with ddof 1)."""
  features = np.asarray(features, np.float64)
  if features.ndim != 2 or features.shape[0] < 2:
    raise ValueError("gaussian_statistics needs features [N >= 2, F], got "
                     f"shape {features.shape}")
  return features.mean(axis=0), np.cov(features, rowvar=False).reshape(
      features.shape[1], features.shape[1])


def _check_psd(eigenvalues: np.ndarray, what: str, tolerance: float) -> None:
  scale = max(float(np.max(np.abs(eigenvalues))), 1e-300)
  if eigenvalues.min() < -tolerance * scale:
    raise ValueError(f"{what} is not positive semi-definite (eigenvalue "
                     f"{eigenvalues.min():.3g}, largest magnitude {scale:.3g})")


def _trace_sqrt_product_symmetric(sigma1: np.ndarray, sigma2: np.ndarray,
                                  *, tolerance: float = 1e-6) -> float:
  w1, v1 = np.linalg.eigh(0.5 * (sigma1 + sigma1.T))
  _check_psd(w1, "Σ1", tolerance)
  _check_psd(np.linalg.eigvalsh(0.5 * (sigma2 + sigma2.T)), "Σ2", tolerance)
  root = (v1 * np.sqrt(np.clip(w1, 0.0, None))[None, :]) @ v1.T
  product = root @ sigma2 @ root
  w = np.linalg.eigvalsh(0.5 * (product + product.T))
  return float(np.sum(np.sqrt(np.clip(w, 0.0, None))))


def _trace_sqrt_product_sqrtm(sigma1: np.ndarray, sigma2: np.ndarray,
                              *, eps: float = 1e-6) -> float:
  covmean = scipy.linalg.sqrtm(sigma1 @ sigma2)
  if not np.all(np.isfinite(covmean)):
    offset = np.eye(sigma1.shape[0]) * eps
    covmean = scipy.linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
  if np.iscomplexobj(covmean):
    if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
      raise ValueError("imaginary component "
                       f"{np.max(np.abs(covmean.imag)):.3g} in sqrtm(Σ1 Σ2)")
    covmean = covmean.real
  return float(np.trace(covmean))


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray,
                     sigma2: np.ndarray, *, method: str = "symmetric",
                     eps: float = 1e-6) -> float:
  """‖μ1 − μ2‖² + tr Σ1 + tr Σ2 − 2·tr (Σ1 Σ2)^½ (float64).

  Args:
    mu1, mu2: means [F].
    sigma1, sigma2: covariances [F, F].
    method: 'symmetric' (eigen-decomposition of Σ1^½ Σ2 Σ1^½) or 'sqrtm'
      (scipy, as pytorch-fid).
    eps: added to both diagonals when the first attempt is not finite.

  Raises:
    ValueError: mismatched shapes, a non-PSD covariance ('symmetric') or a
      large imaginary part ('sqrtm').
  """
  mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(
      np.asarray(mu2, np.float64))
  sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(
      np.asarray(sigma2, np.float64))
  if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or (
      sigma1.shape != mu1.shape * 2):
    raise ValueError(f"mismatched statistics: μ {mu1.shape} vs {mu2.shape}, "
                     f"Σ {sigma1.shape} vs {sigma2.shape}")
  if method == "symmetric":
    trace_fn = _trace_sqrt_product_symmetric
  elif method == "sqrtm":
    trace_fn = _trace_sqrt_product_sqrtm
  else:
    raise ValueError(f"unknown method {method!r}; choose 'symmetric' or "
                     "'sqrtm'")
  diff = mu1 - mu2
  tr_covmean = trace_fn(sigma1, sigma2)
  fid = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * tr_covmean
  if not np.isfinite(fid) and method == "symmetric":
    offset = np.eye(sigma1.shape[0]) * eps
    tr_covmean = trace_fn(sigma1 + offset, sigma2 + offset)
    fid = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * tr_covmean
  return float(fid)


def frechet_distance_from_features(
    real_features: np.ndarray, fake_features: np.ndarray, *,
    method: str = "symmetric") -> FrechetDistance:
  """FID between the Gaussians fitted to real and generated features."""
  mu_r, sigma_r = gaussian_statistics(real_features)
  mu_g, sigma_g = gaussian_statistics(fake_features)
  return FrechetDistance(
      fid=frechet_distance(mu_r, sigma_r, mu_g, sigma_g, method=method),
      n_real=len(real_features), n_fake=len(fake_features))


# -------------------------------------------------------- feature classifier --


class DigitClassifier(nn.Module):
  """A small CNN for classifier-based IS/FID on small images, NHWC.

    Conv3×3(w) → ReLU → Conv3×3(2w, stride 2) → ReLU
    → Conv3×3(2w, stride 2) → ReLU → global mean pool
    → Dense(feature_dim) → ReLU = features
    → Dense(num_classes) = logits

  Any image side ≥ 4 works (the pool is global).

  Attributes:
    num_classes: K.
    width: w.
    feature_dim: size of the penultimate (FID) features.
  """

  num_classes: int = 10
  width: int = 32
  feature_dim: int = 128

  @nn.compact
  def __call__(self, x: chex.Array, *, train: bool = False,
               return_features: bool = False):
    """Logits [B, K], or (logits, features [B, feature_dim])."""
    del train  # No dropout or batch-norm: train and eval mode agree.
    chex.assert_rank(x, 4)
    h = nn.relu(nn.Conv(self.width, (3, 3), padding="SAME")(x))
    h = nn.relu(nn.Conv(2 * self.width, (3, 3), strides=(2, 2),
                        padding="SAME")(h))
    h = nn.relu(nn.Conv(2 * self.width, (3, 3), strides=(2, 2),
                        padding="SAME")(h))
    features = nn.relu(nn.Dense(self.feature_dim)(jnp.mean(h, axis=(1, 2))))
    logits = nn.Dense(self.num_classes, name="logits")(features)
    return (logits, features) if return_features else logits


class FeatureClassifier(NamedTuple):
  """A trained DigitClassifier: module, parameters, held-out accuracy."""
  module: DigitClassifier
  params: Any
  validation_accuracy: float


@functools.partial(jax.jit, static_argnums=0)
def _probabilities_and_features(module: DigitClassifier, params: Any,
                                x: chex.Array) -> tuple[chex.Array, chex.Array]:
  logits, features = module.apply({"params": params}, x, train=False,
                                  return_features=True)
  return jax.nn.softmax(logits.astype(jnp.float32), axis=-1), features


def classifier_outputs(classifier: FeatureClassifier, images: np.ndarray, *,
                       batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
  """(class probabilities [N, K], features [N, feature_dim]) as float32 NumPy.

  Runs in chunks of `batch_size` (the last one zero-padded), so it compiles
  once per classifier and image shape.
  """
  images = np.asarray(images, np.float32)
  n = images.shape[0]
  probs, feats = [], []
  for start in range(0, n, batch_size):
    chunk = images[start:start + batch_size]
    valid = chunk.shape[0]
    if valid < batch_size:
      chunk = np.concatenate(
          [chunk, np.zeros((batch_size - valid,) + chunk.shape[1:],
                           np.float32)])
    p, f = jax.device_get(_probabilities_and_features(
        classifier.module, classifier.params, chunk))
    probs.append(p[:valid])
    feats.append(f[:valid])
  if not probs:
    raise ValueError("classifier_outputs needs at least one image")
  return np.concatenate(probs), np.concatenate(feats)


def train_feature_classifier(
    images: np.ndarray, labels: np.ndarray, *, num_classes: int,
    width: int = 32, feature_dim: int = 128, steps: int = 1000,
    batch_size: int = 64, learning_rate: float = 1e-3, seed: int = 0,
    validation_fraction: float = 0.1) -> FeatureClassifier:
  """Trains a DigitClassifier with Adam on softmax cross-entropy.

  A random `validation_fraction` of the examples is held out and its accuracy
  reported; the rest is read in reshuffled epochs.

  Args:
    images: float32 [N, S, S, C] in [−1, 1].
    labels: int [N] in [0, num_classes).
    num_classes, width, feature_dim: the DigitClassifier.
    steps, batch_size, learning_rate, seed: the optimisation.
    validation_fraction: held-out share (at least one example when > 0).
  """
  from ppogan_jax.data import images as image_data  # Avoids an import cycle.

  images = np.asarray(images, np.float32)
  labels = np.asarray(labels, np.int32)
  n = images.shape[0]
  order = np.random.default_rng([seed, 1]).permutation(n)
  n_val = int(round(validation_fraction * n))
  if validation_fraction > 0:
    n_val = min(max(n_val, 1), n - 1)
  val, train = order[:n_val], order[n_val:]
  module = DigitClassifier(num_classes=num_classes, width=width,
                           feature_dim=feature_dim)
  # An 'rbg' key compiles several times faster than threefry on CPU; the
  # classifier is cached, so its exact initial values are immaterial.
  params = jax.jit(module.init)(jax.random.key(seed, impl="rbg"),
                                images[:1])["params"]
  tx = optax.adam(learning_rate)
  opt_state = tx.init(params)

  @jax.jit
  def update(params, opt_state, x, y):
    def loss_fn(p):
      logits = module.apply({"params": p}, x).astype(jnp.float32)
      return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
    loss, grads = jax.value_and_grad(loss_fn)(params)
    updates, opt_state = tx.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss

  batch = min(batch_size, len(train))
  for step in range(steps):
    rows = train[image_data.epoch_batch_indices(seed, step, len(train),
                                                batch, 1)[0]]
    params, opt_state, _ = update(params, opt_state, images[rows],
                                  labels[rows])
  accuracy = float("nan")
  classifier = FeatureClassifier(module, params, accuracy)
  if n_val:
    probs, _ = classifier_outputs(classifier, images[val])
    accuracy = float(np.mean(np.argmax(probs, axis=1) == labels[val]))
  return classifier._replace(validation_accuracy=accuracy)


def save_feature_classifier(path: str, classifier: FeatureClassifier) -> None:
  """Writes the parameters and hyper-parameters to `path` (.npz), atomically."""
  flat = flax.traverse_util.flatten_dict(
      jax.device_get(classifier.params), sep="/")
  meta = dict(num_classes=classifier.module.num_classes,
              width=classifier.module.width,
              feature_dim=classifier.module.feature_dim,
              validation_accuracy=classifier.validation_accuracy)
  directory = os.path.dirname(os.path.abspath(path))
  os.makedirs(directory, exist_ok=True)
  fd, tmp = tempfile.mkstemp(dir=directory, suffix=".npz.tmp")
  try:
    with os.fdopen(fd, "wb") as f:
      np.savez(f, __meta__=np.asarray(json.dumps(meta)),
               **{f"params/{k}": np.asarray(v) for k, v in flat.items()})
    os.replace(tmp, path)
  except BaseException:
    if os.path.exists(tmp):
      os.remove(tmp)
    raise


def load_feature_classifier(path: str) -> FeatureClassifier:
  """Reads a classifier written by `save_feature_classifier`."""
  with np.load(path) as data:
    meta = json.loads(str(data["__meta__"]))
    flat = {k[len("params/"):]: np.asarray(data[k]) for k in data.files
            if k.startswith("params/")}
  params = flax.traverse_util.unflatten_dict(flat, sep="/")
  module = DigitClassifier(num_classes=meta["num_classes"],
                           width=meta["width"],
                           feature_dim=meta["feature_dim"])
  return FeatureClassifier(module, jax.tree.map(jnp.asarray, params),
                           meta["validation_accuracy"])


def load_or_train_feature_classifier(
    cache_dir: str, key: str, images: np.ndarray, labels: np.ndarray,
    **train_kwargs) -> FeatureClassifier:
  """The classifier cached as `cache_dir/feature_classifier_<key>.npz`,
  trained (and saved) by `train_feature_classifier(images, labels,
  **train_kwargs)` when absent. `key` must identify the data and the
  training arguments."""
  path = os.path.join(cache_dir, f"feature_classifier_{key}.npz")
  if os.path.exists(path):
    return load_feature_classifier(path)
  classifier = train_feature_classifier(images, labels, **train_kwargs)
  save_feature_classifier(path, classifier)
  return classifier
