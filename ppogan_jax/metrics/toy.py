"""Sample-quality metrics for the 2-D toy experiments.

Pure, jit-able functions of sample arrays:
  * `mode_statistics`: modes covered and high-quality fraction for Gaussian
    mixtures (Srivastava et al., 2017, "VEEGAN"; Metz et al., 2017,
    "Unrolled GANs").
  * `sliced_wasserstein`: sliced 1-Wasserstein distance (Rabin et al., 2011;
    Bonneel et al., 2015).
  * `mmd_rbf`: unbiased MMD² with a sum of Gaussian kernels (Gretton et al.,
    2012).
"""
from typing import NamedTuple, Sequence

import chex
import jax
import jax.numpy as jnp


class ModeStatistics(NamedTuple):
  """Mode-coverage summary of a set of samples.

  Attributes:
    modes_covered: fraction of the K mixture centres that are covered, in
      [0, 1]. Multiply by K for the count reported in VEEGAN-style tables.
    high_quality_fraction: fraction of the samples that are high quality,
      i.e. within `num_std`·std of their nearest centre.
  """

  modes_covered: chex.Array
  high_quality_fraction: chex.Array


def _squared_distances(x: chex.Array, y: chex.Array) -> chex.Array:
  """‖x_i − y_j‖² for x [N, D], y [M, D];
  returns [N, M], clipped at 0."""
  sq_x = jnp.sum(jnp.square(x), axis=-1)
  sq_y = jnp.sum(jnp.square(y), axis=-1)
  cross = x @ y.T
  return jnp.maximum(sq_x[:, None] + sq_y[None, :] - 2.0 * cross, 0.0)


def mode_statistics(
    samples: chex.Array,
    centres: chex.Array,
    std: chex.Numeric,
    *,
    num_std: float = 3.0,
    min_count: int = 1,
) -> ModeStatistics:
  """Modes covered and fraction of high-quality samples.

  A sample x_i is high quality if ‖x_i − c_{k(i)}‖ ≤ num_std·std, with
  k(i) = argmin_k ‖x_i − c_k‖ its nearest centre. Centre k is covered if
  at least `min_count` high-quality samples have k as their nearest centre.
  The defaults (3 std, one sample) are the convention of VEEGAN
  (Srivastava et al., 2017) and Unrolled GANs (Metz et al., 2017), which
  report "modes" = K·modes_covered and "% high quality" =
  100·high_quality_fraction. Raise `min_count` to ignore modes hit by a few
  stray samples only.

  Args:
    samples: generated samples, [N, D].
    centres: mixture centres c_k, [K, D].
    std: per-coordinate standard deviation of a mixture component.
    num_std: radius of the high-quality ball, in units of `std`.
    min_count: high-quality samples needed for a centre to count as covered.

  Returns:
    `ModeStatistics` of float32 scalars.
  """
  chex.assert_rank([samples, centres], 2)
  chex.assert_equal_shape_suffix([samples, centres], 1)
  dist_sq = _squared_distances(samples, centres)
  nearest = jnp.argmin(dist_sq, axis=-1)
  radius = num_std * jnp.asarray(std, dtype=jnp.float32)
  is_high_quality = jnp.min(dist_sq, axis=-1) <= jnp.square(radius)
  num_centres = centres.shape[0]
  counts = jax.ops.segment_sum(
      is_high_quality.astype(jnp.int32), nearest, num_segments=num_centres)
  return ModeStatistics(
      modes_covered=jnp.mean((counts >= min_count).astype(jnp.float32)),
      high_quality_fraction=jnp.mean(is_high_quality.astype(jnp.float32)),
  )


def sliced_wasserstein(
    x: chex.Array,
    y: chex.Array,
    key: chex.PRNGKey,
    *,
    num_projections: int = 128,
) -> chex.Array:
  """Monte-Carlo sliced 1-Wasserstein distance between two empirical samples.

    SW₁(x, y) ≈ (1/P) Σ_p W₁(⟨x, θ_p⟩, ⟨y, θ_p⟩),
    θ_p ~ U(S^{D−1}),

  where for equal sample sizes the 1-D distance is exact:
  W₁(a, b) = (1/N) Σ_i |a_(i) − b_(i)| over the sorted projections.
  Both sets must therefore have the same number of samples N (no quantile
  interpolation). For a pure translation y = x + δ the estimate is exactly
  (1/P) Σ_p |⟨δ, θ_p⟩|, whose expectation is ‖δ‖·2/π in 2-D.

  Args:
    x: samples [N, D].
    y: samples [N, D].
    key: PRNG key for the random directions.
    num_projections: number P of random directions.

  Returns:
    float32 scalar.
  """
  chex.assert_rank([x, y], 2)
  chex.assert_equal_shape([x, y])
  directions = jax.random.normal(
      key, (num_projections, x.shape[-1]), dtype=jnp.float32)
  directions = directions / jnp.linalg.norm(directions, axis=-1, keepdims=True)
  proj_x = jnp.sort(x @ directions.T, axis=0)
  proj_y = jnp.sort(y @ directions.T, axis=0)
  return jnp.mean(jnp.abs(proj_x - proj_y))


def mmd_rbf(
    x: chex.Array,
    y: chex.Array,
    *,
    bandwidths: Sequence[float] = (0.02, 0.1, 0.5, 2.0),
) -> chex.Array:
  """Unbiased squared MMD with a sum of Gaussian (RBF) kernels.

    k(a, b) = Σ_σ exp(−‖a − b‖² / (2σ²)),
    MMD²_u = 1/(N(N−1)) Σ_{i≠i'} k(x_i, x_i')
             + 1/(M(M−1)) Σ_{j≠j'} k(y_j, y_j')
             − 2/(NM) Σ_{i,j} k(x_i, y_j)

  (Gretton et al., 2012, Lemma 6). Being unbiased, the estimate has zero mean
  when x and y come from the same distribution and can then be slightly
  negative; for y = x it equals
  −(2/N)·(Σ_σ 1 − mean_{i≠i'} k(x_i, x_i')), which is O(1/N). The
  default bandwidths span the toy mixtures' component width (~0.015) up to
  the data's extent (~2).

  Args:
    x: samples [N, D], N ≥ 2.
    y: samples [M, D], M ≥ 2.
    bandwidths: kernel widths σ, Python floats (static under `jit`).

  Returns:
    float32 scalar.
  """
  chex.assert_rank([x, y], 2)
  chex.assert_equal_shape_suffix([x, y], 1)
  n, m = x.shape[0], y.shape[0]
  if n < 2 or m < 2:
    raise ValueError(f"Need at least 2 samples per set, got {n} and {m}.")

  def kernel(a, b):
    dist_sq = _squared_distances(a, b)
    return sum(jnp.exp(-dist_sq / (2.0 * s**2)) for s in bandwidths)

  k_xx, k_yy, k_xy = kernel(x, x), kernel(y, y), kernel(x, y)
  within_x = (jnp.sum(k_xx) - jnp.trace(k_xx)) / (n * (n - 1))
  within_y = (jnp.sum(k_yy) - jnp.trace(k_yy)) / (m * (m - 1))
  return within_x + within_y - 2.0 * jnp.mean(k_xy)
