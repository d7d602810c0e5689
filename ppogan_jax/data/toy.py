"""The 2-D toy datasets of WGAN-GP's `gan_toy.py` (Gulrajani et al., 2017).

Host-side NumPy samplers. Each is a pure function of a `np.random.Generator`
and a sample count and returns a float32 array of shape [n, 2]:

  * `8gaussians`: 8 isotropic Gaussians on a circle of radius 2, std 0.02,
    the batch then divided by 1.414 (radius ~1.414, std ~0.0141).
  * `25gaussians`: a 5 x 5 grid of isotropic Gaussians at (2i, 2j),
    i, j in {-2..2}, std 0.05, divided by 2.828.
  * `swissroll`: sklearn's `make_swiss_roll(n, noise=0.25)`, coordinates
    [x, z], divided by 7.5.

`mixture_centres` and `mixture_std` give the centres and per-coordinate std of
the two mixtures in the final, rescaled coordinates, for mode statistics.
"""
from typing import Callable

import numpy as np

Sampler = Callable[[np.random.Generator, int], np.ndarray]

_EIGHT_SCALE = 1.414
_EIGHT_NOISE_STD = 0.02
_TWENTY_FIVE_SCALE = 2.828
_TWENTY_FIVE_NOISE_STD = 0.05
_SWISS_ROLL_NOISE_STD = 0.25
_SWISS_ROLL_SCALE = 7.5


def _eight_raw_centres() -> np.ndarray:
  """Centres 2·{(±1, 0), (0, ±1), (±1/√2, ±1/√2)} before rescaling,
  [8, 2]."""
  s = 1.0 / np.sqrt(2.0)
  unit = np.array(
      [(1, 0), (-1, 0), (0, 1), (0, -1), (s, s), (s, -s), (-s, s), (-s, -s)],
      dtype=np.float64,
  )
  return 2.0 * unit


def _twenty_five_raw_centres() -> np.ndarray:
  """Centres (2i, 2j), i, j in {-2..2}, before rescaling, [25, 2]."""
  grid = 2.0 * np.arange(-2, 3, dtype=np.float64)
  i, j = np.meshgrid(grid, grid, indexing="ij")
  return np.stack([i.ravel(), j.ravel()], axis=-1)


def _sample_mixture(
    rng: np.random.Generator, n: int, raw_centres: np.ndarray,
    noise_std: float, scale: float,
) -> np.ndarray:
  idx = rng.integers(len(raw_centres), size=n)
  points = raw_centres[idx] + noise_std * rng.standard_normal((n, 2))
  return (points / scale).astype(np.float32)


def eight_gaussians(rng: np.random.Generator, n: int) -> np.ndarray:
  """Samples WGAN-GP's `8gaussians`: x = (c_k + ε) / 1.414.

  k ~ U{0..7}, c_k ∈ 2·{(±1, 0), (0, ±1), (±1/√2, ±1/√2)},
  ε ~ N(0, 0.02² I). Fresh samples every call, as in the reference.

  Args:
    rng: NumPy random generator; the output is a pure function of its state.
    n: number of samples.

  Returns:
    float32 array of shape [n, 2].
  """
  return _sample_mixture(
      rng, n, _eight_raw_centres(), _EIGHT_NOISE_STD, _EIGHT_SCALE)


def twenty_five_gaussians(rng: np.random.Generator, n: int) -> np.ndarray:
  """Samples WGAN-GP's `25gaussians`: x = (c_k + ε) / 2.828.

  k ~ U{0..24}, c_k = (2i, 2j) with i, j ∈ {−2..2}, ε ~ N(0, 0.05² I).

  Difference from the reference: `gan_toy.py` draws a fixed set of 100,000
  points (4,000 per centre) once, shuffles it and iterates over it in
  batches (the last 160 points are never used). Here every call draws fresh
  i.i.d. samples with a uniformly random centre per point, so batch counts per
  centre are multinomial instead of following one fixed shuffle.

  Args:
    rng: NumPy random generator; the output is a pure function of its state.
    n: number of samples.

  Returns:
    float32 array of shape [n, 2].
  """
  return _sample_mixture(
      rng, n, _twenty_five_raw_centres(), _TWENTY_FIVE_NOISE_STD,
      _TWENTY_FIVE_SCALE)


def swiss_roll(rng: np.random.Generator, n: int) -> np.ndarray:
  """Samples WGAN-GP's `swissroll`: sklearn's `make_swiss_roll`, [x, z] / 7.5.

  Re-implements `sklearn.datasets.make_swiss_roll(n, noise=0.25)`:
    t = 1.5π(1 + 2u), u ~ U(0, 1);  y = 21v, v ~ U(0, 1);
    (x, y, z) = (t cos t, y, t sin t) + 0.25·ε, ε ~ N(0, I₃);
  and keeps columns [0, 2] as `gan_toy.py` does. The height y is drawn (and
  discarded) so that the coordinates follow sklearn's generative process; the
  random stream itself differs from sklearn's.

  Args:
    rng: NumPy random generator; the output is a pure function of its state.
    n: number of samples.

  Returns:
    float32 array of shape [n, 2].
  """
  t = 1.5 * np.pi * (1.0 + 2.0 * rng.uniform(size=n))
  y = 21.0 * rng.uniform(size=n)
  roll = np.stack([t * np.cos(t), y, t * np.sin(t)], axis=-1)
  roll = roll + _SWISS_ROLL_NOISE_STD * rng.standard_normal((n, 3))
  return (roll[:, [0, 2]] / _SWISS_ROLL_SCALE).astype(np.float32)


TOY_DATASETS: dict[str, Sampler] = {
    "8gaussians": eight_gaussians,
    "25gaussians": twenty_five_gaussians,
    "swissroll": swiss_roll,
}

_MIXTURES = {
    "8gaussians": (_eight_raw_centres, _EIGHT_NOISE_STD, _EIGHT_SCALE),
    "25gaussians": (
        _twenty_five_raw_centres, _TWENTY_FIVE_NOISE_STD, _TWENTY_FIVE_SCALE),
}


def _mixture(name: str):
  if name not in _MIXTURES:
    raise ValueError(
        f"Unknown mixture {name!r}; valid names are {list(_MIXTURES)}.")
  return _MIXTURES[name]


def mixture_centres(name: str) -> np.ndarray:
  """Centres of a Gaussian-mixture toy dataset in rescaled coordinates.

  Args:
    name: "8gaussians" or "25gaussians".

  Returns:
    float32 array of shape [K, 2] (K = 8 or 25).

  Raises:
    ValueError: if `name` is not a mixture dataset.
  """
  raw_centres, _, scale = _mixture(name)
  return (raw_centres() / scale).astype(np.float32)


def mixture_std(name: str) -> float:
  """Per-coordinate std of each mixture component in rescaled coordinates.

  0.02 / 1.414 for "8gaussians" and 0.05 / 2.828 for "25gaussians".

  Raises:
    ValueError: if `name` is not a mixture dataset.
  """
  _, noise_std, scale = _mixture(name)
  return noise_std / scale
