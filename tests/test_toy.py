"""Tests for the toy datasets, MLPs and metrics (WGAN-GP `gan_toy.py`)."""
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ppogan_jax.data import toy as toy_data
from ppogan_jax.metrics import toy as toy_metrics
from ppogan_jax.models import latent
from ppogan_jax.models import toy as toy_models

MIXTURES = ("8gaussians", "25gaussians")


@pytest.fixture(params=["nojit", "jit"])
def variant(request):
  """Runs a test with and without `jax.jit`."""
  return (lambda f: f) if request.param == "nojit" else jax.jit


def _rayleigh_cdf(num_std):
  """P(‖ε‖ ≤ num_std·σ) for ε ~ N(0, σ² I₂)."""
  return 1.0 - np.exp(-0.5 * num_std**2)


# ----------------------------------------------------------------- datasets --


class TestDatasets:

  @pytest.mark.parametrize("name", sorted(toy_data.TOY_DATASETS))
  def test_shape_dtype_and_determinism(self, name):
    sample = toy_data.TOY_DATASETS[name]
    x = sample(np.random.default_rng(0), 300)
    assert x.shape == (300, 2)
    assert x.dtype == np.float32
    assert np.all(np.isfinite(x))
    np.testing.assert_array_equal(x, sample(np.random.default_rng(0), 300))
    assert not np.allclose(x, sample(np.random.default_rng(1), 300))
    assert sample(np.random.default_rng(0), 0).shape == (0, 2)

  def test_eight_gaussians_radius_and_spread(self):
    x = toy_data.eight_gaussians(np.random.default_rng(0), 20_000)
    std = 0.02 / 1.414
    radius = np.linalg.norm(x, axis=-1)
    np.testing.assert_allclose(np.mean(radius), 2.0 / 1.414, atol=1e-3)
    assert np.max(np.abs(radius - 2.0 / 1.414)) < 6 * std
    centres = toy_data.mixture_centres("8gaussians")
    nearest = np.argmin(
        np.linalg.norm(x[:, None, :] - centres[None, :, :], axis=-1), axis=-1)
    residual = x - centres[nearest]
    np.testing.assert_allclose(np.std(residual, axis=0), [std, std], rtol=0.03)

  @pytest.mark.parametrize("name", MIXTURES)
  def test_samples_lie_at_centres_with_uniform_weights(self, name):
    centres = toy_data.mixture_centres(name)
    std = toy_data.mixture_std(name)
    n = 20_000
    x = toy_data.TOY_DATASETS[name](np.random.default_rng(1), n)
    dist = np.linalg.norm(x[:, None, :] - centres[None, :, :], axis=-1)
    assert np.all(np.min(dist, axis=-1) < 6 * std)
    counts = np.bincount(np.argmin(dist, axis=-1), minlength=len(centres))
    expected = n / len(centres)
    np.testing.assert_allclose(counts, expected, rtol=0.15)
    np.testing.assert_allclose(np.mean(x, axis=0), [0.0, 0.0], atol=0.03)

  def test_mixture_centres_values(self):
    eight = toy_data.mixture_centres("8gaussians")
    assert eight.shape == (8, 2) and eight.dtype == np.float32
    np.testing.assert_allclose(
        np.linalg.norm(eight, axis=-1), 2.0 / 1.414, rtol=1e-6)
    angles = np.sort(np.mod(np.arctan2(eight[:, 1], eight[:, 0]), 2 * np.pi))
    np.testing.assert_allclose(angles, np.arange(8) * np.pi / 4, atol=1e-6)

    grid = toy_data.mixture_centres("25gaussians")
    assert grid.shape == (25, 2) and grid.dtype == np.float32
    levels = np.array([-4.0, -2.0, 0.0, 2.0, 4.0]) / 2.828
    expected = np.stack(np.meshgrid(levels, levels), axis=-1).reshape(-1, 2)
    np.testing.assert_allclose(
        np.unique(grid, axis=0), np.unique(expected, axis=0), rtol=1e-6)

  def test_mixture_std(self):
    assert toy_data.mixture_std("8gaussians") == pytest.approx(0.02 / 1.414)
    assert toy_data.mixture_std("25gaussians") == pytest.approx(0.05 / 2.828)

  @pytest.mark.parametrize("name", ["swissroll", "8Gaussians", "moons"])
  def test_bad_mixture_name_lists_valid_names(self, name):
    for fn in (toy_data.mixture_centres, toy_data.mixture_std):
      with pytest.raises(ValueError, match="8gaussians.*25gaussians"):
        fn(name)

  def test_swiss_roll_follows_the_spiral(self):
    x = 7.5 * toy_data.swiss_roll(np.random.default_rng(2), 2000)
    t = np.linspace(1.5 * np.pi, 4.5 * np.pi, 5000)
    curve = np.stack([t * np.cos(t), t * np.sin(t)], axis=-1)
    dist = np.min(
        np.linalg.norm(x[:, None, :] - curve[None, :, :], axis=-1), axis=-1)
    noise_std = 0.25
    assert np.max(dist) < 6 * noise_std
    # Distance to the curve is ~ the normal component of the noise, |N(0, σ²)|.
    np.testing.assert_allclose(
        np.mean(dist), noise_std * np.sqrt(2 / np.pi), rtol=0.06)
    # t ~ U(1.5π, 4.5π), so the mean radius is ≈ 3π.
    np.testing.assert_allclose(
        np.mean(np.linalg.norm(x, axis=-1)), 3 * np.pi, atol=0.15)


# ------------------------------------------------------------------- models --


class TestModels:

  def _init(self, module, in_dim=2, batch=16):
    x = jnp.ones((batch, in_dim), jnp.float32)
    return module.init(jax.random.key(0), x)["params"], x

  def test_output_shapes(self, variant):
    generator = toy_models.MLPGenerator()
    critic = toy_models.MLPCritic()
    g_params, z = self._init(generator)
    d_params, x = self._init(critic)
    g_out = variant(lambda p, z: generator.apply({"params": p}, z,
                                                 train=False))(g_params, z)
    d_out = variant(lambda p, x: critic.apply({"params": p}, x))(d_params, x)
    assert g_out.shape == (16, 2) and g_out.dtype == jnp.float32
    assert d_out.shape == (16,) and d_out.dtype == jnp.float32

  def test_parameter_shapes_follow_hidden_and_depth(self):
    params, _ = self._init(
        toy_models.MLPGenerator(hidden=8, depth=2, output_dim=3), in_dim=5)
    shapes = jax.tree.map(jnp.shape, params)
    assert shapes == {
        "tower": {
            "Dense_0": {"kernel": (5, 8), "bias": (8,)},
            "Dense_1": {"kernel": (8, 8), "bias": (8,)},
        },
        "output": {"kernel": (8, 3), "bias": (3,)},
    }
    reference, _ = self._init(toy_models.MLPCritic())
    assert len(reference["tower"]) == 3
    assert reference["output"]["kernel"].shape == (512, 1)

  def test_init_scales(self):
    params, _ = self._init(toy_models.MLPGenerator())
    hidden = np.asarray(params["tower"]["Dense_1"]["kernel"])
    he_std = np.sqrt(2.0 / 512)
    np.testing.assert_allclose(np.std(hidden), he_std, rtol=0.01)
    np.testing.assert_allclose(np.mean(hidden), 0.0, atol=0.01 * he_std)
    assert np.max(np.abs(hidden)) <= np.sqrt(3.0) * he_std
    assert np.max(np.abs(hidden)) > 0.99 * np.sqrt(3.0) * he_std

    first = np.asarray(params["tower"]["Dense_0"]["kernel"])
    assert np.max(np.abs(first)) <= np.sqrt(3.0) * np.sqrt(2.0 / 2)
    assert np.max(np.abs(first)) > 0.9 * np.sqrt(3.0) * np.sqrt(2.0 / 2)

    output = np.asarray(params["output"]["kernel"])
    glorot_std = np.sqrt(2.0 / (512 + 2))
    np.testing.assert_allclose(np.std(output), glorot_std, rtol=0.07)
    assert np.max(np.abs(output)) <= np.sqrt(3.0) * glorot_std
    assert np.max(np.abs(output)) > 0.95 * np.sqrt(3.0) * glorot_std

    for layer in [*params["tower"].values(), params["output"]]:
      np.testing.assert_array_equal(layer["bias"], 0.0)

  def test_gradients_flow_through_generator_and_critic(self):
    generator = toy_models.MLPGenerator()
    critic = toy_models.MLPCritic()
    g_params, _ = self._init(generator)
    d_params, _ = self._init(critic)
    z = latent.gaussian_latent(jax.random.key(1), 64, dim=2)

    def loss(g_params, d_params):
      fake = generator.apply({"params": g_params}, z)
      return jnp.mean(critic.apply({"params": d_params}, fake))

    g_grads, d_grads = jax.jit(jax.grad(loss, argnums=(0, 1)))(
        g_params, d_params)
    for grads in (g_grads, d_grads):
      for leaf in jax.tree.leaves(grads):
        assert np.all(np.isfinite(leaf))
        assert np.any(leaf != 0.0)

  def test_gaussian_latent(self):
    z = latent.gaussian_latent(jax.random.key(3), 20_000, dim=3)
    assert z.shape == (20_000, 3) and z.dtype == jnp.float32
    np.testing.assert_allclose(np.mean(z, axis=0), 0.0, atol=0.03)
    np.testing.assert_allclose(np.std(z, axis=0), 1.0, rtol=0.03)
    np.testing.assert_array_equal(
        z, latent.gaussian_latent(jax.random.key(3), 20_000, dim=3))


# ------------------------------------------------------------------ metrics --


class TestModeStatistics:

  @pytest.mark.parametrize("name", MIXTURES)
  def test_real_data_covers_every_mode(self, name, variant):
    x = toy_data.TOY_DATASETS[name](np.random.default_rng(4), 20_000)
    stats = variant(toy_metrics.mode_statistics)(
        x, toy_data.mixture_centres(name), toy_data.mixture_std(name))
    assert float(stats.modes_covered) == 1.0
    # 3 std in 2-D holds 1 − exp(−4.5) ≈ 98.9% of a Gaussian's mass.
    np.testing.assert_allclose(
        stats.high_quality_fraction, _rayleigh_cdf(3.0), atol=0.004)

  def test_num_std_sets_the_radius(self):
    x = toy_data.eight_gaussians(np.random.default_rng(5), 20_000)
    stats = toy_metrics.mode_statistics(
        x, toy_data.mixture_centres("8gaussians"),
        toy_data.mixture_std("8gaussians"), num_std=1.0)
    np.testing.assert_allclose(
        stats.high_quality_fraction, _rayleigh_cdf(1.0), atol=0.015)

  @pytest.mark.parametrize("name", MIXTURES)
  def test_collapse_to_one_centre(self, name, variant):
    centres = toy_data.mixture_centres(name)
    x = np.tile(centres[3:4], (100, 1))
    stats = variant(toy_metrics.mode_statistics)(
        x, centres, toy_data.mixture_std(name))
    np.testing.assert_allclose(stats.modes_covered, 1.0 / len(centres))
    np.testing.assert_allclose(stats.high_quality_fraction, 1.0)

  def test_far_samples_cover_nothing(self, variant):
    centres = toy_data.mixture_centres("8gaussians")
    x = np.full((50, 2), 10.0, np.float32)
    stats = variant(toy_metrics.mode_statistics)(x, centres, 0.01)
    np.testing.assert_array_equal(stats.modes_covered, 0.0)
    np.testing.assert_array_equal(stats.high_quality_fraction, 0.0)

  def test_hand_computed_radius_and_min_count(self, variant):
    centres = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]], np.float32)
    std = 0.1
    x = np.array([
        [0.29, 0.0],   # 2.9 std from centre 0: high quality.
        [0.0, -0.29],  # idem.
        [1.0, 0.31],   # 3.1 std from centre 1: not high quality.
        [0.0, 0.8],    # 2 std from centre 2: high quality.
    ], np.float32)
    stats = variant(toy_metrics.mode_statistics)(x, centres, std)
    np.testing.assert_allclose(stats.modes_covered, 2.0 / 3.0)
    np.testing.assert_allclose(stats.high_quality_fraction, 3.0 / 4.0)

    stats = variant(lambda x, c: toy_metrics.mode_statistics(
        x, c, std, min_count=2))(x, centres)
    np.testing.assert_allclose(stats.modes_covered, 1.0 / 3.0)

    stats = toy_metrics.mode_statistics(x, centres, std, num_std=3.5)
    np.testing.assert_allclose(stats.modes_covered, 1.0)
    np.testing.assert_allclose(stats.high_quality_fraction, 1.0)


class TestSlicedWasserstein:

  def test_identical_sets(self, variant):
    x = toy_data.swiss_roll(np.random.default_rng(6), 500)
    sw = variant(toy_metrics.sliced_wasserstein)(x, x, jax.random.key(0))
    assert sw.shape == ()
    np.testing.assert_array_equal(sw, 0.0)

  def test_one_dimensional_is_exact_w1(self, variant):
    # Sorted: {0, 3} vs {0, 1} -> (|0 − 0| + |3 − 1|) / 2.
    x = np.array([[3.0], [0.0]], np.float32)
    y = np.array([[0.0], [1.0]], np.float32)
    sw = variant(toy_metrics.sliced_wasserstein)(x, y, jax.random.key(0))
    np.testing.assert_allclose(sw, 1.0, rtol=1e-6)

  def test_permutation_invariant_and_symmetric(self):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((64, 2)).astype(np.float32)
    y = rng.standard_normal((64, 2)).astype(np.float32) + 1.0
    key = jax.random.key(1)
    sw = toy_metrics.sliced_wasserstein(x, y, key)
    assert float(sw) > 0.1
    np.testing.assert_allclose(
        toy_metrics.sliced_wasserstein(y, x[::-1], key), sw, rtol=1e-5)

  @pytest.mark.parametrize(
      "dim, mean_abs_projection",
      [(2, 2.0 / np.pi),  # E|cos φ|, φ ~ U(0, 2π).
       (3, 0.5)])         # E|θ₁|, θ ~ U(S²) (Archimedes).
  def test_shift_matches_closed_form(self, dim, mean_abs_projection, variant):
    x = np.random.default_rng(8).standard_normal((256, dim)).astype(np.float32)
    delta = np.zeros((dim,), np.float32)
    delta[0] = 0.7
    sw = variant(lambda x, y, k: toy_metrics.sliced_wasserstein(
        x, y, k, num_projections=8192))(x, x + delta[None, :],
                                        jax.random.key(2))
    np.testing.assert_allclose(sw, 0.7 * mean_abs_projection, rtol=0.03)

  def test_grows_linearly_with_shift(self):
    x = toy_data.eight_gaussians(np.random.default_rng(9), 512)
    delta = np.array([[0.3, -0.4]], np.float32)
    key = jax.random.key(3)
    sw_1 = toy_metrics.sliced_wasserstein(x, x + delta, key)
    sw_2 = toy_metrics.sliced_wasserstein(x, x + 2.0 * delta, key)
    np.testing.assert_allclose(sw_2, 2.0 * sw_1, rtol=1e-4)

  def test_requires_equal_sizes(self):
    with pytest.raises(AssertionError):
      toy_metrics.sliced_wasserstein(
          jnp.zeros((4, 2)), jnp.zeros((5, 2)), jax.random.key(0))


def _mmd_reference(x, y, bandwidths):
  """Unbiased MMD² with explicit loops (Gretton et al., 2012, Lemma 6)."""
  def k(a, b):
    return sum(np.exp(-np.sum((a - b) ** 2) / (2 * s**2)) for s in bandwidths)
  n, m = len(x), len(y)
  xx = sum(k(x[i], x[j]) for i in range(n) for j in range(n) if i != j)
  yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j)
  xy = sum(k(x[i], y[j]) for i in range(n) for j in range(m))
  return xx / (n * (n - 1)) + yy / (m * (m - 1)) - 2 * xy / (n * m)


class TestMMD:

  def test_matches_reference(self, variant):
    rng = np.random.default_rng(10)
    x = rng.standard_normal((5, 2)).astype(np.float32)
    y = (0.5 * rng.standard_normal((7, 2)) + 0.3).astype(np.float32)
    bandwidths = (0.5, 1.0, 2.0)
    mmd = variant(lambda x, y: toy_metrics.mmd_rbf(
        x, y, bandwidths=bandwidths))(x, y)
    np.testing.assert_allclose(
        mmd, _mmd_reference(x.astype(np.float64), y.astype(np.float64),
                            bandwidths), rtol=1e-4, atol=1e-6)

  def test_same_set_is_small_and_non_positive(self, variant):
    x = toy_data.eight_gaussians(np.random.default_rng(11), 1000)
    mmd = variant(toy_metrics.mmd_rbf)(x, x)
    assert mmd.shape == ()
    assert -8.0 / 1000 <= float(mmd) <= 0.0

  def test_separates_distributions(self):
    rng = np.random.default_rng(12)
    a = toy_data.twenty_five_gaussians(rng, 1000)
    b = toy_data.twenty_five_gaussians(rng, 1000)
    c = toy_data.eight_gaussians(rng, 1000)
    same = toy_metrics.mmd_rbf(a, b)
    different = toy_metrics.mmd_rbf(a, c)
    assert abs(float(same)) < 0.01
    assert float(different) > 0.1
    shifted = toy_metrics.mmd_rbf(a, b + np.float32(0.05))
    assert float(same) < float(shifted) < float(different)

  def test_needs_two_samples(self):
    with pytest.raises(ValueError, match="at least 2"):
      toy_metrics.mmd_rbf(jnp.zeros((1, 2)), jnp.zeros((3, 2)))


def test_critic_contours_cover_the_data_and_samples(tmp_path):
  """The contour grid spans real and generated points; the score function
  is evaluated once on [128², 2] float32 points."""
  from ppogan_jax.tasks import toy as toy_task
  calls = []

  def scores(x):
    calls.append(x)
    return -np.sum(x ** 2, axis=1)

  samples = np.full((64, 2), 5.0, np.float32)  # far outside the 8 Gaussians
  path = str(tmp_path / "critic")
  toy_task.write_critic(scores, samples, path, dataset="8gaussians", seed=0)
  (grid,) = calls
  assert grid.shape == (128 * 128, 2) and grid.dtype == np.float32
  assert grid.max() > 5.0 and grid.min() < -2.0
  assert os.path.getsize(path + ".png") > 1000
