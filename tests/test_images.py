"""Tests for the image task: DCGAN/ResNet models, datasets and sampler,
IS/FID, the evaluation classifier and tiny end-to-end runs."""
import json
import os

import flax
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import tensorflow_datasets as tfds

from ppogan_jax import config_check
from ppogan_jax import train
from ppogan_jax.data import images as image_data
from ppogan_jax.errors import ConfigError
from ppogan_jax.metrics import images as image_metrics
from ppogan_jax.models import dcgan
from ppogan_jax.models import inception
from ppogan_jax.models import resnet
from ppogan_jax.tasks import images as image_task
from tests import engine_utils


def _key(seed):
  """An 'rbg' key: compiles far faster on CPU than threefry."""
  return jax.random.key(seed, impl="rbg")


def _normal(seed, shape):
  return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _shapes(module, x, **kwargs):
  """(variables, outputs) of init + apply as shapes only (nothing compiles)."""
  def run(x):
    variables = module.init(
        {"params": jax.random.key(0), "dropout": jax.random.key(1)}, x,
        train=False)
    mutable = [k for k in variables if k != "params"]
    out = module.apply(variables, x, train=True, mutable=mutable or False,
                       rngs={"dropout": jax.random.key(2)}, **kwargs)
    return variables, out[0] if mutable else out
  return jax.eval_shape(run, x)


def _structure(tree):
  return jax.tree.map(lambda a: a.shape, tree)


# ------------------------------------------------------------------- models --


class TestModels:

  @pytest.mark.parametrize("size", [8, 16])
  def test_dcgan_shapes_and_collections(self, size):
    z = jnp.ones((4, 16))
    g_vars, x = _shapes(dcgan.DCGANGenerator(image_size=size, channels=1,
                                             base_filters=8), z)
    assert set(g_vars) == {"params", "batch_stats"}
    assert x.shape == (4, size, size, 1) and x.dtype == jnp.float32
    d_vars, (scores, features) = _shapes(
        dcgan.DCGANDiscriminator(image_size=size, base_filters=8,
                                 norm="layer", dropout_rate=0.5),
        x, return_features=True)
    assert set(d_vars) == {"params"}
    assert scores.shape == (4,)
    assert features.shape == (4, 4 * 4 * 8 * 2 ** (size // 8 - 1))
    no_bn, _ = _shapes(dcgan.DCGANGenerator(image_size=size, base_filters=8,
                                            batch_norm=False), z)
    assert set(no_bn) == {"params"}
    clf, _ = _shapes(dcgan.DCGANDiscriminator(image_size=size, base_filters=8,
                                              norm="batch"), x)
    # S = 8 has a single convolution, which is never normalised.
    assert ("batch_stats" in clf) == (size > 8)

  @pytest.mark.parametrize("size", [8, 16])
  def test_resnet_shapes_and_collections(self, size):
    z = jnp.ones((4, 16))
    g_vars, x = _shapes(resnet.ResNetGenerator(image_size=size, channels=3,
                                               width=8), z)
    assert set(g_vars) == {"params", "batch_stats"}
    assert len([k for k in g_vars["params"] if k.startswith("block_")]) == (
        {8: 1, 16: 2}[size])
    assert x.shape == (4, size, size, 3)
    c_vars, (scores, features) = _shapes(resnet.ResNetCritic(width=8), x,
                                         return_features=True)
    assert set(c_vars) == {"params"}
    assert scores.shape == (4,) and features.shape == (4, 8)
    k_vars, logits = _shapes(resnet.resnet_classifier(width=8), x)
    assert logits.shape == (4,)
    assert set(k_vars) == {"params", "batch_stats"}
    assert set(k_vars["batch_stats"]) == {"block_1", "block_2", "block_3"}

  def test_resnet_reference_layout(self):
    g_vars, _ = _shapes(resnet.ResNetGenerator(image_size=32, width=4),
                        jnp.ones((2, 8)))
    g = _structure(g_vars["params"])
    assert set(g["block_0"]) == {"bn_0", "conv_0", "bn_1", "conv_1"}  # No 1×1.
    assert g["project"]["kernel"] == (8, 4 * 4 * 4)
    assert g["head_conv"]["kernel"] == (3, 3, 4, 3)
    c_vars, _ = _shapes(resnet.ResNetCritic(width=4), jnp.ones((2, 32, 32, 3)))
    c = _structure(c_vars["params"])
    assert c["block_0"]["shortcut"]["kernel"] == (1, 1, 3, 4)
    assert set(c["block_1"]) == {"conv_0", "conv_1", "shortcut"}
    assert set(c["block_2"]) == set(c["block_3"]) == {"conv_0", "conv_1"}
    assert c["output"]["kernel"] == (4, 1)

  def test_generators_output_images_in_range(self):
    z = _normal(0, (4, 8))
    g = dcgan.DCGANGenerator(image_size=8, base_filters=4)
    x = jax.jit(lambda z: g.apply(g.init(_key(0), z), z, train=False))(z)
    assert x.shape == (4, 8, 8, 3)
    assert 0.0 < float(jnp.max(jnp.abs(x))) <= 1.0

  @pytest.mark.parametrize("critic", [
      resnet.ResNetCritic(width=4),
      dcgan.DCGANDiscriminator(image_size=8, base_filters=4, norm="layer",
                               dropout_rate=0.5)])
  def test_dropout_only_in_train_mode(self, critic):
    x = _normal(2, (4, 8, 8, 3))

    @jax.jit
    def outputs(x):
      params = critic.init(_key(0), x, train=False)
      f = lambda seed, train: critic.apply(
          params, x, train=train, rngs={"dropout": _key(seed)})
      return f(3, False), f(4, False), f(3, True), f(3, True), f(4, True)

    eval_a, eval_b, train_a, train_a2, train_b = outputs(x)
    np.testing.assert_array_equal(eval_a, eval_b)
    np.testing.assert_array_equal(train_a, train_a2)
    assert not np.allclose(train_a, train_b)
    assert not np.allclose(train_a, eval_a)

  @pytest.mark.parametrize("critic", [
      resnet.ResNetCritic(width=4),
      dcgan.DCGANDiscriminator(image_size=8, base_filters=4, norm="layer")])
  def test_critic_has_no_cross_example_coupling(self, critic):
    """The gradient penalty needs ∂f(x_i)/∂x_j = 0 for i ≠ j."""
    x = _normal(5, (3, 8, 8, 3))

    @jax.jit
    def grad(x):
      params = critic.init(_key(0), x, train=False)
      return jax.grad(lambda x: critic.apply(
          params, x, train=True, rngs={"dropout": _key(1)})[0])(x)

    g = grad(x)
    assert np.any(g[0] != 0.0)
    np.testing.assert_array_equal(g[1:], 0.0)

  def test_bad_image_size(self):
    with pytest.raises(ValueError, match="power of two"):
      dcgan.num_doublings(12)


class TestInception:

  def test_architecture_shapes_and_parameter_count(self):
    variables = inception.abstract_variables()
    params = sum(int(np.prod(a.shape)) for a in jax.tree.leaves(
        variables["params"]))
    # torchvision's inception_v3 (27,161,264) − AuxLogits (3,326,696)
    # + the 1008-way head's 8 extra classes (8·2048 + 8).
    assert params == 23_850_960
    features, logits = jax.eval_shape(
        lambda v, x: inception.InceptionV3FID().apply(v, x), variables,
        jnp.zeros((2, 32, 32, 3)))
    assert features.shape == (2, 2048) and logits.shape == (2, 1008)
    mixed = jax.eval_shape(lambda v, x: inception.InceptionV3FID().apply(
        v, x, capture_intermediates=True)[1], variables,
        jnp.zeros((1, 299, 299, 3)))["intermediates"]
    assert mixed["Mixed_5d"]["__call__"][0].shape == (1, 35, 35, 288)
    assert mixed["Mixed_6e"]["__call__"][0].shape == (1, 17, 17, 768)
    assert mixed["Mixed_7c"]["__call__"][0].shape == (1, 8, 8, 2048)

  def test_pytorch_state_dict_mapping(self, tmp_path):
    flat = flax.traverse_util.flatten_dict(inception.abstract_variables())
    torch_shape = lambda s: (s[3], s[2], s[0], s[1]) if len(s) == 4 else s[::-1]
    state = {}
    for path, spec in flat.items():
      key, transpose = inception._torch_name(path)
      state[key] = np.zeros(torch_shape(spec.shape) if transpose
                            else spec.shape, np.float32)
    assert len(state) == 94 * 5 + 2  # 94 conv+BN layers, fc weight and bias.
    assert "Mixed_7c.branch3x3dbl_3b.bn.running_var" in state
    conv = np.arange(64 * 32 * 9, dtype=np.float32).reshape(64, 32, 3, 3)
    state["Conv2d_2b_3x3.conv.weight"] = conv
    state["Conv2d_2b_3x3.bn.num_batches_tracked"] = np.array(7)
    path = str(tmp_path / "fid_inception.npz")
    np.savez(path, **state)
    variables = inception.load_pytorch_fid_weights(path)
    np.testing.assert_array_equal(
        variables["params"]["Conv2d_2b_3x3"]["conv"]["kernel"],
        conv.transpose(2, 3, 1, 0))
    assert variables["batch_stats"]["Mixed_5b"]["branch_pool"]["bn"][
        "var"].shape == (32,)
    del state["fc.bias"]
    state["AuxLogits.fc.weight"] = np.zeros((1000, 768), np.float32)
    with pytest.raises(ValueError, match="missing fc.bias.*unexpected "
                       "AuxLogits.fc.weight"):
      inception.state_dict_to_variables(state)


# --------------------------------------------------------------------- data --


class TestSampler:

  def test_every_epoch_is_a_permutation(self):
    n, batch, per_step = 10, 3, 2
    stream = np.concatenate([
        image_data.epoch_batch_indices(7, step, n, batch, per_step).ravel()
        for step in range(10)])
    epochs = stream[:50].reshape(5, n)
    for epoch in epochs:
      np.testing.assert_array_equal(np.sort(epoch), np.arange(n))
    assert len({tuple(e) for e in epochs}) == 5  # Reshuffled every epoch.

  def test_is_a_pure_function_of_seed_and_step(self):
    a = image_data.epoch_batch_indices(3, 11, 50, 8, 4)
    assert a.shape == (4, 8) and a.dtype == np.int64
    np.testing.assert_array_equal(
        a, image_data.epoch_batch_indices(3, 11, 50, 8, 4))
    other_seed = image_data.epoch_batch_indices(4, 11, 50, 8, 4)
    assert not np.array_equal(a, other_seed)
    later = image_data.epoch_batch_indices(3, 5, 50, 8, 8)
    np.testing.assert_array_equal(a, later[4:])  # Steps are stream windows.

  def test_processes_partition_the_global_batch(self):
    raw = image_data.load_digits_raw()
    batches = lambda index, count: image_task.real_batches(
        5, num_batches=3, batch_size=8, process_index=index,
        process_count=count, raw=raw, image_size=8, seed=1)
    full = batches(0, 1)
    assert full.shape == (3, 8, 8, 8, 1) and full.dtype == np.float32
    np.testing.assert_array_equal(
        np.concatenate([batches(i, 4) for i in range(4)], axis=1), full)


class TestDatasets:

  def test_digits(self):
    images, labels = image_data.load_digits_images()
    assert images.shape == (1797, 8, 8, 1) and images.dtype == np.float32
    assert images.min() == -1.0 and images.max() == 1.0
    assert labels.shape == (1797,) and set(np.unique(labels)) == set(range(10))
    big, _ = image_data.load_digits_images(16)
    assert big.shape == (1797, 16, 16, 1)
    np.testing.assert_array_equal(big[:, ::2, ::2], images)
    np.testing.assert_array_equal(big[:, 1::2, 1::2], images)

  def test_resize_rule(self):
    x = np.random.default_rng(0).uniform(-1, 1, (2, 28, 28, 1)).astype(
        np.float32)
    padded = image_data.resize_images(x, 32)
    assert padded.shape == (2, 32, 32, 1)
    np.testing.assert_array_equal(padded[:, 2:30, 2:30], x)
    assert np.all(padded[:, :2] == -1.0) and np.all(padded[:, :, 30:] == -1.0)
    half = image_data.resize_images(x, 16)
    np.testing.assert_allclose(
        half, padded.reshape(2, 16, 2, 16, 2, 1).mean(axis=(2, 4)), rtol=1e-6)
    y = x[:, :16, :16]
    np.testing.assert_allclose(
        image_data.resize_images(y, 8)[0, 0, 0, 0], y[0, :2, :2, 0].mean(),
        rtol=1e-6)
    assert image_data.resize_images(y, 16) is y

  @pytest.mark.parametrize("name, shape", [("mnist", (28, 28, 1)),
                                           ("cifar10", (32, 32, 3))])
  def test_tfds_data_source_with_mock_data(self, name, shape, tmp_path):
    with tfds.testing.mock_data(num_examples=12):
      raw = image_data.load_dataset(name, data_dir=str(tmp_path))
    assert raw.pixels.shape == (12,) + shape and raw.pixels.dtype == np.uint8
    assert raw.labels.shape == (12,) and raw.num_classes == 10
    assert np.all((raw.labels >= 0) & (raw.labels < 10))
    x = raw.as_float(np.array([[0, 3], [5, 11]]), image_size=16)
    assert x.shape == (2, 2, 16, 16, shape[-1]) and x.dtype == np.float32
    assert -1.0 <= x.min() and x.max() <= 1.0

  def test_missing_tfds_dataset_is_a_config_error(self, tmp_path):
    with pytest.raises(ConfigError, match="tfds build mnist"):
      image_data.load_dataset("mnist", data_dir=str(tmp_path))

  def test_unknown_dataset_is_a_config_error(self):
    with pytest.raises(ConfigError, match="digits"):
      image_data.load_dataset("imagenet")


# ------------------------------------------------------------------ metrics --


def _closed_form_2x2(mu1, s1, mu2, s2):
  """FID via tr √M = √(tr M + 2√det M) for the 2×2 matrix M = Σ1Σ2."""
  m = s1 @ s2
  tr_sqrt = np.sqrt(np.trace(m) + 2 * np.sqrt(np.linalg.det(m)))
  return np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * tr_sqrt


class TestFrechetDistance:

  @pytest.mark.parametrize("method", ["symmetric", "sqrtm"])
  def test_diagonal_closed_form(self, method):
    mu1, mu2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.5])
    a, b = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    fid = image_metrics.frechet_distance(mu1, np.diag(a), mu2, np.diag(b),
                                         method=method)
    np.testing.assert_allclose(fid, expected, rtol=1e-10)

  @pytest.mark.parametrize("method", ["symmetric", "sqrtm"])
  def test_non_diagonal_closed_form(self, method):
    mu1, mu2 = np.array([0.3, -1.0]), np.array([-0.2, 0.5])
    s1 = np.array([[2.0, 0.8], [0.8, 1.0]])
    s2 = np.array([[0.5, -0.3], [-0.3, 1.5]])
    assert not np.allclose(s1 @ s2, s2 @ s1)
    fid = image_metrics.frechet_distance(mu1, s1, mu2, s2, method=method)
    np.testing.assert_allclose(fid, _closed_form_2x2(mu1, s1, mu2, s2),
                               rtol=1e-10)
    np.testing.assert_allclose(
        image_metrics.frechet_distance(mu2, s2, mu1, s1, method=method), fid,
        rtol=1e-10)

  def test_methods_agree_in_higher_dimension(self):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 6, 6))
    s1, s2 = a @ a.T + 0.1 * np.eye(6), b @ b.T
    mu1, mu2 = rng.standard_normal((2, 6))
    np.testing.assert_allclose(
        image_metrics.frechet_distance(mu1, s1, mu2, s2),
        image_metrics.frechet_distance(mu1, s1, mu2, s2, method="sqrtm"),
        rtol=1e-8)
    assert image_metrics.frechet_distance(mu1, s1, mu1, s1) == pytest.approx(
        0.0, abs=1e-9)

  def test_from_samples_via_gaussian_statistics(self):
    rng = np.random.default_rng(1)
    mu1, mu2 = np.array([0.3, -1.0]), np.array([-0.2, 0.5])
    s1 = np.array([[2.0, 0.8], [0.8, 1.0]])
    s2 = np.array([[0.5, -0.3], [-0.3, 1.5]])
    x = rng.multivariate_normal(mu1, s1, 200_000)
    y = rng.multivariate_normal(mu2, s2, 100_000)
    mu, sigma = image_metrics.gaussian_statistics(x)
    np.testing.assert_allclose(mu, x.mean(0))
    np.testing.assert_allclose(sigma, np.cov(x.T))
    result = image_metrics.frechet_distance_from_features(x, y)
    assert (result.n_real, result.n_fake) == (200_000, 100_000)
    np.testing.assert_allclose(result.fid, _closed_form_2x2(mu1, s1, mu2, s2),
                               rtol=0.02)

  def test_singular_covariances(self):
    s = np.diag([1.0, 0.0, 0.0])
    fid = image_metrics.frechet_distance(np.zeros(3), s, np.zeros(3),
                                         np.diag([0.0, 4.0, 0.0]))
    np.testing.assert_allclose(fid, 5.0, rtol=1e-10)

  @pytest.mark.parametrize("method", ["symmetric", "sqrtm"])
  def test_rejects_bad_covariances(self, method):
    with pytest.raises(ValueError):
      image_metrics.frechet_distance(np.zeros(2), np.diag([1.0, -1.0]),
                                     np.zeros(2), np.eye(2), method=method)
    with pytest.raises(ValueError, match="mismatched"):
      image_metrics.frechet_distance(np.zeros(2), np.eye(2), np.zeros(3),
                                     np.eye(3), method=method)


class TestInceptionScore:

  def test_uniform_predictions_score_one(self):
    result = image_metrics.inception_score(np.full((40, 7), 1 / 7), splits=10)
    np.testing.assert_allclose(result.mean, 1.0, rtol=1e-12)
    assert result.std == pytest.approx(0.0, abs=1e-12)
    assert (result.num_samples, result.splits) == (40, 10)

  @pytest.mark.parametrize("k", [2, 5, 10])
  def test_confident_balanced_predictions_score_k(self, k):
    probs = np.eye(k)[np.tile(np.arange(k), 10)]
    result = image_metrics.inception_score(probs, splits=10)
    np.testing.assert_allclose(result.mean, k, rtol=1e-12)
    assert result.std == pytest.approx(0.0, abs=1e-9)

  def test_hand_computed(self):
    probs = np.array([[1.0, 0.0], [0.5, 0.5]])
    kl1 = np.log(1 / 0.75)
    kl2 = 0.5 * np.log(0.5 / 0.75) + 0.5 * np.log(0.5 / 0.25)
    result = image_metrics.inception_score(probs, splits=1)
    np.testing.assert_allclose(result.mean, np.exp((kl1 + kl2) / 2))
    split = image_metrics.inception_score(np.concatenate([probs, probs[::-1]]),
                                          splits=2)
    np.testing.assert_allclose(split.mean, np.exp((kl1 + kl2) / 2))
    # The last N mod splits samples are dropped.
    assert image_metrics.inception_score(np.eye(3)[[0, 1, 2, 0, 1]],
                                         splits=2).num_samples == 4

  def test_rejects_bad_input(self):
    with pytest.raises(ValueError, match="at least splits"):
      image_metrics.inception_score(np.full((5, 2), 0.5), splits=10)
    with pytest.raises(ValueError, match="distributions"):
      image_metrics.inception_score(np.full((10, 2), 0.6), splits=2)


# --------------------------------------------------------------------- task --


@pytest.fixture(scope="module")
def digits_cache(tmp_path_factory):
  """A cache dir holding the tiny digits config's evaluation classifier,
  trained once through the task (shared with the end-to-end run)."""
  tmp = tmp_path_factory.mktemp("digits")
  task = image_task.build(engine_utils.tiny_digits_config(str(tmp)))
  return tmp / "cache", task.evaluate.classifier


class TestFeatureClassifier:

  def test_trained_through_the_task_and_cached(self, digits_cache):
    cache_dir, clf = digits_cache
    assert clf.validation_accuracy > 0.7
    images, labels = image_data.load_digits_images()
    probs, features = image_metrics.classifier_outputs(clf, images[:300],
                                                        batch_size=128)
    assert probs.shape == (300, 10) and features.shape == (300, 16)
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)
    assert np.mean(np.argmax(probs, 1) == labels[:300]) > 0.7
    assert image_metrics.inception_score(probs, splits=3).mean > 3.0
    (path,) = cache_dir.glob("feature_classifier_*.npz")
    loaded = image_metrics.load_feature_classifier(str(path))
    assert loaded.module == clf.module
    assert loaded.validation_accuracy == clf.validation_accuracy
    np.testing.assert_array_equal(
        image_metrics.classifier_outputs(loaded, images[:300],
                                         batch_size=128)[0], probs)

  def test_cache_hit_does_not_train(self, digits_cache, monkeypatch):
    cache_dir, clf = digits_cache
    (path,) = cache_dir.glob("feature_classifier_*.npz")
    key = path.stem[len("feature_classifier_"):]
    monkeypatch.setattr(image_metrics, "train_feature_classifier", None)
    cached = image_metrics.load_or_train_feature_classifier(
        str(cache_dir), key, None, None)
    assert cached.validation_accuracy == clf.validation_accuracy


class TestBuild:

  @pytest.mark.parametrize("field, value, match", [
      ("data.name", "svhn", "config.data.name"),
      ("data.image_size", 12, "config.data.image_size"),
      ("model.architecture", "vgg", "config.model.architecture"),
      ("model.critic_norm", "batch", "gradient penalty"),
      ("eval.is_splits", 32, "config.eval.num_samples"),
  ])
  def test_config_errors(self, tmp_path, field, value, match):
    c = engine_utils.tiny_digits_config(str(tmp_path))
    section, name = field.split(".")
    c[section][name] = value
    with pytest.raises(ConfigError, match=match):
      config_check.check_config(c)

  def test_consistency_needs_dropout(self, tmp_path):
    c = engine_utils.tiny_digits_config(str(tmp_path), "ct_gan")
    c.model.critic_dropout = 0.0
    with pytest.raises(ConfigError, match="dropout"):
      config_check.check_config(c)

  def test_missing_cifar10_is_a_config_error(self, tmp_path):
    with pytest.raises(ConfigError, match="tfds build cifar10"):
      image_task.build(engine_utils.tiny_cifar_config(str(tmp_path)))

  def test_image_grid(self):
    x = np.stack([np.full((8, 8, 1), -1.0), np.full((8, 8, 1), 1.0),
                  np.zeros((8, 8, 1))]).astype(np.float32)
    grid = image_task.image_grid(x, columns=2, min_tile=16)
    assert grid.shape == (2 * 17 + 1, 2 * 17 + 1, 1)
    assert grid[1:17, 1:17].max() == 0.0 and grid[1:17, 18:34].min() == 1.0
    np.testing.assert_array_equal(grid[18:34, 1:17], 0.5)


def _eval_metrics(workdir):
  lines = [json.loads(l) for l in open(os.path.join(workdir, "metrics.jsonl"))]
  return {k: v for line in lines for k, v in line.items()
          if k.startswith("eval/")}


EVAL_KEYS = {"eval/classifier_is", "eval/classifier_is_std",
             "eval/classifier_fid", "eval/fid_n_real", "eval/fid_n_fake",
             "eval/is_splits", "eval/is_num_samples", "eval/classifier_is_real",
             "eval/classifier_accuracy"}


def test_end_to_end_digits_dcgan_ppogan(tmp_path, digits_cache):
  workdir = str(tmp_path / "run")
  config = engine_utils.tiny_digits_config(str(tmp_path))
  config.data.cache_dir = str(digits_cache[0])  # Reuses its classifier.
  state = train.train_and_evaluate(config, workdir)
  assert int(state.step) == 2
  assert "batch_stats" in state.generator.collections
  assert not state.critic.collections
  metrics = _eval_metrics(workdir)
  assert EVAL_KEYS <= set(metrics)
  assert all(np.isfinite(v) for v in metrics.values())
  assert metrics["eval/fid_n_fake"] == 16 and metrics["eval/fid_n_real"] == 64
  assert metrics["eval/is_splits"] == 2
  assert os.path.getsize(os.path.join(workdir, "samples",
                                      "step_0000002.png")) > 0
  assert len(os.listdir(digits_cache[0])) == 1


def test_end_to_end_cifar10_resnet_ct_gan_on_mock_data(tmp_path):
  workdir = str(tmp_path / "run")
  with tfds.testing.mock_data(num_examples=24):
    state = train.train_and_evaluate(
        engine_utils.tiny_cifar_config(str(tmp_path)), workdir)
  assert int(state.step) == 2
  assert not state.critic.collections
  metrics = _eval_metrics(workdir)
  assert EVAL_KEYS <= set(metrics)
  assert all(np.isfinite(v) for v in metrics.values())
  lines = [json.loads(l) for l in open(os.path.join(workdir, "metrics.jsonl"))]
  assert any("critic/consistency_term" in l for l in lines)
  assert os.path.getsize(os.path.join(workdir, "samples",
                                      "step_0000002.png")) > 0
