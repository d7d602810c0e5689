"""Tests for ppogan_jax.objectives: hand-computed values, gradients, jit/vmap agreement."""
import jax
import jax.numpy as jnp
from jax.test_util import check_grads
import numpy as np
import pytest

from ppogan_jax import objectives

LN2 = 0.6931471805599453
LN3 = 1.0986122886681098
ATOL = 1e-6


@pytest.fixture(params=["nojit", "jit"])
def variant(request):
  return jax.jit if request.param == "jit" else (lambda fn: fn)


def _normal(seed, shape, scale=1.0):
  """Test data from NumPy (no per-shape compilation, unlike jax.random in eager mode)."""
  return jnp.asarray(scale * np.random.default_rng(seed).normal(size=shape), jnp.float32)


def _check_grads_f64(fn, args, order=2):
  """`check_grads` of the jitted `fn` in float64 at `args`, a tuple of array pytrees."""
  with jax.enable_x64(True):
    args = jax.tree.map(lambda a: jnp.asarray(a, jnp.float64), args)
    check_grads(jax.jit(fn), args, order=order, modes=["rev"])


class TestImportanceWeights:

  def test_hand_value(self, variant):
    # exp(scores) = [1, 2, 3]; w = 3·[1, 2, 3]/6; ESS = 3²/(0.25 + 1 + 2.25) = 9/3.5.
    result = variant(objectives.importance_weights)(jnp.array([0.0, LN2, LN3]))
    np.testing.assert_allclose(result.weights, [0.5, 1.0, 1.5], rtol=1e-6)
    np.testing.assert_allclose(result.effective_sample_size, 2.5714285714285716, rtol=1e-6)

  def test_shift_invariant(self, variant):
    scores = _normal(0, (16,), scale=3.0)
    fn = variant(objectives.importance_weights)
    np.testing.assert_allclose(fn(scores + 100.0).weights, fn(scores).weights, rtol=1e-4)

  def test_mean_is_one(self, variant):
    scores = _normal(1, (64,), scale=10.0)
    np.testing.assert_allclose(jnp.mean(variant(objectives.importance_weights)(scores).weights), 1.0, atol=1e-6)

  def test_effective_sample_size_extremes(self, variant):
    fn = variant(objectives.importance_weights)
    np.testing.assert_allclose(fn(jnp.full((8,), 0.3)).effective_sample_size, 8.0, rtol=1e-6)
    np.testing.assert_allclose(fn(jnp.array([100.0, 0.0, 0.0, 0.0])).effective_sample_size, 1.0, atol=1e-6)

  def test_no_gradient(self):
    scores = jnp.array([0.3, -1.2, 2.0, 0.5])
    constant = jnp.array([1.0, 2.0, 3.0, 4.0])

    def weighted_sum(f):
      result = objectives.importance_weights(f)
      return jnp.sum(result.weights * constant) + result.effective_sample_size

    np.testing.assert_array_equal(jax.grad(weighted_sum)(scores), jnp.zeros(4))

  def test_extreme_scores_finite(self):
    result = objectives.importance_weights(jnp.array([1e4, -1e4, 0.0]))
    np.testing.assert_allclose(result.weights, [3.0, 0.0, 0.0], atol=ATOL)
    np.testing.assert_allclose(result.effective_sample_size, 1.0, atol=ATOL)

  def test_bfloat16_dtype_preserved(self):
    result = objectives.importance_weights(jnp.array([0.0, 1.0, 2.0, 3.0], jnp.bfloat16))
    assert result.weights.dtype == jnp.bfloat16
    assert result.effective_sample_size.dtype == jnp.bfloat16
    np.testing.assert_allclose(jnp.mean(result.weights.astype(jnp.float32)), 1.0, atol=1e-2)


class TestWassersteinCriticLoss:
  real = jnp.array([1.0, 2.0, 3.0])
  fake = jnp.array([0.5, -0.5])

  def test_plain(self, variant):
    result = variant(objectives.wasserstein_critic_loss)(self.real, self.fake)
    np.testing.assert_allclose(result.loss, -2.0, atol=ATOL)
    np.testing.assert_allclose(result.wasserstein_estimate, 2.0, atol=ATOL)

  def test_weighted_hand_value(self, variant):
    # mean([1.5·0.5, 0.5·(−0.5)]) − mean([1, 2, 3]) = 0.25 − 2.
    result = variant(objectives.wasserstein_critic_loss)(self.real, self.fake, jnp.array([1.5, 0.5]))
    np.testing.assert_allclose(result.loss, -1.75, atol=ATOL)
    np.testing.assert_allclose(result.wasserstein_estimate, 2.0, atol=ATOL)

  def test_uniform_weights_equal_plain(self, variant):
    fn = variant(objectives.wasserstein_critic_loss)
    real, fake = _normal(2, (2, 8))
    uniform = objectives.importance_weights(jnp.zeros(8)).weights
    np.testing.assert_allclose(fn(real, fake, uniform).loss, fn(real, fake).loss, atol=ATOL)

  def test_gradient_is_weight_over_batch(self):
    weights = jnp.array([1.5, 0.5])
    grad_real, grad_fake = jax.grad(
        lambda r, f: objectives.wasserstein_critic_loss(r, f, weights).loss, argnums=(0, 1))(self.real, self.fake)
    np.testing.assert_allclose(grad_fake, [0.75, 0.25], atol=ATOL)
    np.testing.assert_allclose(grad_real, [-1 / 3] * 3, atol=ATOL)

  def test_weights_from_scores_are_constants(self):
    fake = jnp.array([0.0, LN2, LN3])
    live_weights = lambda f: 3 * jax.nn.softmax(f)
    grad_fake = jax.grad(
        lambda f: objectives.wasserstein_critic_loss(self.real, f, live_weights(f)).loss)(fake)
    np.testing.assert_allclose(grad_fake, [0.5 / 3, 1.0 / 3, 1.5 / 3], atol=ATOL)

  def test_check_grads(self):
    weights = jnp.array([1.5, 0.5])
    _check_grads_f64(lambda r, f: objectives.wasserstein_critic_loss(r, f, weights).loss, (self.real, self.fake))


def _linear_critic(weight):
  return lambda x: jnp.sum(weight[None] * x, axis=tuple(range(1, x.ndim)))


class TestGradientPenalty:

  @pytest.mark.parametrize("shape", [(4, 3), (4, 2, 3, 2), (4, 3, 5)], ids=["vector", "image", "text"])
  def test_linear_critic(self, variant, shape):
    # f(x) = ⟨w, x⟩ ⇒ ‖g_i‖ = ‖w‖ for every sample: penalty (‖w‖ − 1)², one-sided max(0, ‖w‖ − 1)².
    direction = _normal(3, shape[1:])
    unit_weight = direction / jnp.linalg.norm(direction)
    real = _normal(4, shape)
    fake = jax.nn.softmax(_normal(5, shape), axis=-1)
    penalty_fns = {
        one_sided: variant(lambda w, r, f, k, one_sided=one_sided: objectives.gradient_penalty(
            _linear_critic(w), r, f, k, one_sided=one_sided)) for one_sided in (False, True)}
    for weight_norm, one_sided, expected_penalty in [
        (1.0, False, 0.0), (2.0, False, 1.0), (2.0, True, 1.0), (0.5, False, 0.25), (0.5, True, 0.0)]:
      result = penalty_fns[one_sided](weight_norm * unit_weight, real, fake, jax.random.key(6))
      np.testing.assert_allclose(result.penalty, expected_penalty, atol=1e-5)
      np.testing.assert_allclose(result.grad_norm, weight_norm, atol=1e-5)

  def test_multi_output_critic_sums_outputs(self, variant):
    weight = jnp.array([0.6, 0.8])
    two_heads = lambda x: jnp.stack([x @ weight, x @ weight], axis=1)
    real, fake = _normal(7, (2, 5, 2))
    result = variant(lambda r, f, k: objectives.gradient_penalty(two_heads, r, f, k))(real, fake, jax.random.key(5))
    np.testing.assert_allclose(result.penalty, 1.0, atol=1e-5)
    np.testing.assert_allclose(result.grad_norm, 2.0, atol=1e-5)

  def test_per_sample_norms(self, variant):
    # f(x) = ½‖x‖² ⇒ g_i = x_i; real = fake ⇒ x̂ = x; norms [5, 1]: penalty mean([16, 0]), grad_norm mean([5, 1]).
    half_square = lambda x: 0.5 * jnp.sum(jnp.square(x), axis=1)
    points = jnp.array([[3.0, 4.0], [0.0, 1.0]])
    result = variant(lambda x, k: objectives.gradient_penalty(half_square, x, x, k))(points, jax.random.key(6))
    np.testing.assert_allclose(result.penalty, 8.0, atol=1e-5)
    np.testing.assert_allclose(result.grad_norm, 3.0, atol=1e-5)

  def test_alpha_uniform_per_sample_broadcast(self):
    # f(x) = ½‖x‖², real = 1, fake = 0 on [N, 2, 2, 1] ⇒ g_i = α_i·1, ‖g_i‖ = 2α_i when α is one number per sample:
    # E‖g‖ = 1 and E‖g‖² = 4/3 for α ~ U(0, 1). A per-element α would give E‖g‖ ≈ 1.13; a per-batch α cannot
    # match both moments.
    half_square = lambda x: 0.5 * jnp.sum(jnp.square(x), axis=(1, 2, 3))
    real = jnp.ones((2000, 2, 2, 1))
    result = objectives.gradient_penalty(half_square, real, jnp.zeros_like(real), jax.random.key(7), target=0.0)
    np.testing.assert_allclose(result.grad_norm, 1.0, atol=0.04)
    np.testing.assert_allclose(result.penalty, 4 / 3, atol=0.08)

  def test_differentiable_in_critic_params(self, variant):
    # critic x ↦ ⟨w, x⟩: penalty (‖w‖ − 1)², gradient 2(‖w‖ − 1)·w/‖w‖; w = [1.8, 2.4], ‖w‖ = 3.
    real, fake = _normal(8, (2, 4, 2))
    penalty = lambda w: objectives.gradient_penalty(lambda x: x @ w, real, fake, jax.random.key(9)).penalty
    value, grad = variant(jax.value_and_grad(penalty))(jnp.array([1.8, 2.4]))
    np.testing.assert_allclose(value, 4.0, rtol=1e-5)
    np.testing.assert_allclose(grad, [2.4, 3.2], rtol=1e-5)

  def test_no_gradient_to_samples(self):
    half_square = lambda x: 0.5 * jnp.sum(jnp.square(x), axis=1)
    penalty = lambda r, f: objectives.gradient_penalty(half_square, r, f, jax.random.key(16)).penalty
    real, fake = _normal(9, (2, 4, 2))
    for grad in jax.grad(penalty, argnums=(0, 1))(real, fake):
      np.testing.assert_array_equal(grad, jnp.zeros((4, 2)))

  def test_gradient_finite_at_zero_input_gradient(self):
    real, fake = _normal(10, (2, 4, 2))
    penalty = lambda w: objectives.gradient_penalty(lambda x: x @ w, real, fake, jax.random.key(11)).penalty
    np.testing.assert_array_equal(jax.grad(penalty)(jnp.zeros(2)), jnp.zeros(2))

  def test_check_grads_mlp_critic(self):
    params = (_normal(12, (3, 4)), _normal(13, (4,)))
    real, fake = _normal(14, (2, 5, 3))

    def penalty(params):
      critic = lambda x: jnp.tanh(x @ params[0]) @ params[1]
      dtype = params[0].dtype
      return objectives.gradient_penalty(critic, real.astype(dtype), fake.astype(dtype), jax.random.key(15)).penalty

    _check_grads_f64(penalty, (params,), order=1)


class TestConsistencyTerm:
  scores_1 = jnp.array([1.0, 0.0])
  scores_2 = jnp.array([0.0, 0.0])
  features_1 = jnp.array([[1.0, 1.0], [2.0, 0.0]])
  features_2 = jnp.array([[0.0, 1.0], [0.0, 0.0]])

  def _term(self, variant, **hyper):
    fn = variant(lambda *args: objectives.consistency_term(*args, **hyper))
    return fn(self.scores_1, self.scores_2, self.features_1, self.features_2)

  def test_hand_value(self, variant):
    # per sample: 2·[1, 0] + 2·0.1·[mean(1, 0), mean(4, 0)] = [2.1, 0.4].
    np.testing.assert_allclose(self._term(variant), 1.25, atol=ATOL)
    np.testing.assert_allclose(self._term(variant, weight=1.0, feature_weight=1.0), 1.75, atol=ATOL)

  def test_margin_is_per_sample(self, variant):
    # relu([2.1, 0.4] − 0.5) = [1.6, 0]; the reference's [B, B] broadcast would give mean(1.6, 1.9, 0, 0) = 0.875.
    np.testing.assert_allclose(self._term(variant, margin=0.5), 0.8, atol=ATOL)
    np.testing.assert_allclose(self._term(variant, margin=2.0), 0.05, atol=ATOL)
    np.testing.assert_allclose(self._term(variant, margin=2.1), 0.0, atol=ATOL)

  def test_identical_passes_zero(self, variant):
    fn = variant(objectives.consistency_term)
    np.testing.assert_allclose(fn(self.scores_1, self.scores_1, self.features_1, self.features_1), 0.0, atol=ATOL)

  def test_check_grads(self):
    _check_grads_f64(lambda *a: objectives.consistency_term(*a, margin=0.1),
                     (self.scores_1, self.scores_2, self.features_1, self.features_2))


class TestDensityRatio:

  def test_hand_value(self, variant):
    ratio = variant(objectives.density_ratio)(jnp.array([0.0, 1.0]), jnp.array([LN2, 0.0]))
    np.testing.assert_allclose(ratio, [2.0, 0.36787944117144233], rtol=1e-6)

  def test_identical_logits(self, variant):
    logits = jnp.array([-3.0, 0.0, 2.5])
    np.testing.assert_allclose(variant(objectives.density_ratio)(logits, logits), jnp.ones(3), atol=ATOL)

  def test_gradients_flow_through_both_logits(self):
    # Eq. 6 at x = G_θ(z): ∂r/∂ℓ = −r, ∂r/∂ℓ_old = +r.
    logits, old_logits = jnp.array([0.0, 1.0, -0.5]), jnp.array([LN2, 0.0, 0.3])
    ratio = objectives.density_ratio(logits, old_logits)
    grad_new, grad_old = jax.grad(lambda l, o: jnp.sum(objectives.density_ratio(l, o)), argnums=(0, 1))(
        logits, old_logits)
    np.testing.assert_allclose(grad_new, -ratio, rtol=1e-5)
    np.testing.assert_allclose(grad_old, ratio, rtol=1e-5)

  @pytest.mark.parametrize("ratio_fn", [objectives.density_ratio_constant_old, objectives.reference_density_ratio])
  def test_constant_old_side_gradients(self, ratio_fn):
    logits, old_logits = jnp.array([0.0, 1.0, -0.5]), jnp.array([LN2, 0.0, 0.3])
    ratio = ratio_fn(logits, old_logits)
    np.testing.assert_allclose(ratio, objectives.density_ratio(logits, old_logits), rtol=1e-5)
    grad_new, grad_old = jax.grad(lambda l, o: jnp.sum(ratio_fn(l, o)), argnums=(0, 1))(logits, old_logits)
    np.testing.assert_allclose(grad_new, -ratio, rtol=1e-5)
    np.testing.assert_array_equal(grad_old, jnp.zeros(3))

  def test_gradient_through_samples_is_zero_when_classifiers_agree(self):
    # ℓ = ℓ_old as functions of x (C = C^(t)): r ≡ 1, so d r(x)/dx = 0 for the paper form, while the
    # constant-old form keeps −∇ₓℓ(x) = −[2x₀, cos x₁] at r = 1.
    classifier = lambda x: jnp.sum(jnp.array([1.0, 0.0]) * x**2) + jnp.sin(x[1])
    x = jnp.array([0.7, -0.3])
    paper = jax.grad(lambda x: objectives.density_ratio(classifier(x), classifier(x)))(x)
    constant_old = jax.grad(lambda x: objectives.density_ratio_constant_old(classifier(x), classifier(x)))(x)
    np.testing.assert_array_equal(paper, jnp.zeros(2))
    np.testing.assert_allclose(constant_old, [-1.4, -np.cos(-0.3)], rtol=1e-6)

  def test_reference_agrees_for_moderate_logits(self, variant):
    logits, old_logits = jnp.asarray(np.random.default_rng(16).uniform(-5.0, 5.0, size=(2, 32)), jnp.float32)
    np.testing.assert_allclose(variant(objectives.reference_density_ratio)(logits, old_logits),
                               objectives.density_ratio(logits, old_logits), rtol=1e-4)

  def test_reference_clamp_binds_for_tiny_old_probability(self, variant):
    # σ(−20) ≈ 2.06e-9 < 1e-7 ⇒ P0 = 1e7 (true odds 4.85e8), r = 1e-7·(1 + e^20) ≈ 48.52 instead of 1.
    logits = jnp.array([-20.0])
    np.testing.assert_allclose(variant(objectives.reference_density_ratio)(logits, logits), [48.51652], rtol=1e-4)
    np.testing.assert_allclose(objectives.density_ratio(logits, logits), [1.0], atol=ATOL)

  def test_reference_finite_for_extreme_logits(self):
    grid = jnp.array([-1e4, 0.0, 1e4])
    logits, old_logits = jnp.meshgrid(grid, grid)
    assert jnp.all(jnp.isfinite(objectives.reference_density_ratio(logits, old_logits)))

  def test_check_grads(self):
    logits, old_logits = np.array([0.0, 1.0, -0.5]), np.array([LN2, 0.0, 0.3])
    _check_grads_f64(objectives.density_ratio, (logits, old_logits))
    _check_grads_f64(lambda l: objectives.density_ratio_constant_old(l, old_logits), (logits,))
    _check_grads_f64(lambda l: objectives.reference_density_ratio(l, old_logits), (logits,))


class TestClippedSurrogate:
  # ε = 0.2; rows: A = +2, A = −2; columns r = 0.5 (below 1 − ε), 1.0 (inside), 1.5 (above 1 + ε).
  ratio = jnp.array([[0.5, 1.0, 1.5], [0.5, 1.0, 1.5]])
  advantage = jnp.array([[2.0, 2.0, 2.0], [-2.0, -2.0, -2.0]])

  def test_hand_value(self, variant):
    surrogate = variant(lambda r, a: objectives.clipped_surrogate(r, a, epsilon=0.2))(self.ratio, self.advantage)
    np.testing.assert_allclose(surrogate, [[1.0, 2.0, 2.4], [-1.6, -2.0, -3.0]], atol=ATOL)

  def test_gradients(self, variant):
    grad_fn = jax.grad(lambda r, a: jnp.sum(objectives.clipped_surrogate(r, a, epsilon=0.2)), argnums=(0, 1))
    grad_ratio, grad_advantage = variant(grad_fn)(self.ratio, self.advantage)
    np.testing.assert_allclose(grad_ratio, [[2.0, 2.0, 0.0], [0.0, -2.0, -2.0]], atol=ATOL)
    np.testing.assert_allclose(grad_advantage, [[0.5, 1.0, 1.2], [0.8, 1.0, 1.5]], atol=ATOL)

  def test_negative_advantage_is_max_form(self, variant):
    ratio = jnp.linspace(0.1, 3.0, 30)
    advantage = -jnp.linspace(0.1, 3.0, 30)[::-1]
    ratio_grid, advantage_grid = jnp.meshgrid(ratio, advantage)
    surrogate = variant(lambda r, a: objectives.clipped_surrogate(r, a, epsilon=0.4))(ratio_grid, advantage_grid)
    np.testing.assert_allclose(surrogate, advantage_grid * jnp.maximum(ratio_grid, 0.6), rtol=1e-6)

  def test_traced_epsilon(self):
    fn = jax.jit(lambda r, a, eps: objectives.clipped_surrogate(r, a, epsilon=eps))
    np.testing.assert_allclose(fn(self.ratio, self.advantage, 0.2), [[1.0, 2.0, 2.4], [-1.6, -2.0, -3.0]],
                               atol=ATOL)
    np.testing.assert_allclose(fn(self.ratio, self.advantage, 0.6), [[1.0, 2.0, 3.0], [-1.0, -2.0, -3.0]],
                               atol=ATOL)

  def test_check_grads(self):
    ratio = np.array([[0.5, 0.9, 1.5], [0.5, 1.1, 1.5]])
    for fn in (objectives.clipped_surrogate, objectives.reference_clipped_surrogate):
      _check_grads_f64(lambda r, a: fn(r, a, epsilon=0.2), (ratio, self.advantage))


class TestDualClippedSurrogate:
  # ε = 0.2, c = 3; rows: A = +2, A = −2; columns r = 0.5, 1.0, 1.5, 4.0 (above c).
  ratio = jnp.array([[0.5, 1.0, 1.5, 4.0], [0.5, 1.0, 1.5, 4.0]])
  advantage = jnp.array([[2.0] * 4, [-2.0] * 4])

  def _surrogate(self, r, a):
    return objectives.dual_clipped_surrogate(r, a, epsilon=0.2, bound=3.0)

  def test_hand_value(self, variant):
    # Eq. 5 would give −8 at (A = −2, r = 4); the bound holds it at 3·A = −6.
    np.testing.assert_allclose(variant(self._surrogate)(self.ratio, self.advantage),
                               [[1.0, 2.0, 2.4, 2.4], [-1.6, -2.0, -3.0, -6.0]], atol=ATOL)

  def test_gradients(self, variant):
    grad_fn = jax.grad(lambda r, a: jnp.sum(self._surrogate(r, a)), argnums=(0, 1))
    grad_ratio, grad_advantage = variant(grad_fn)(self.ratio, self.advantage)
    np.testing.assert_allclose(grad_ratio, [[2.0, 2.0, 0.0, 0.0], [0.0, -2.0, -2.0, 0.0]], atol=ATOL)
    np.testing.assert_allclose(grad_advantage, [[0.5, 1.0, 1.2, 1.2], [0.8, 1.0, 1.5, 3.0]], atol=ATOL)

  def test_equals_eq5_below_the_bound(self):
    ratio, advantage = jnp.meshgrid(jnp.linspace(0.1, 2.9, 29), jnp.linspace(-3.0, 3.0, 31))
    np.testing.assert_allclose(self._surrogate(ratio, advantage),
                               objectives.clipped_surrogate(ratio, advantage, epsilon=0.2), rtol=1e-6)


class TestCentredAdvantage:

  def test_hand_value_and_constant_baseline(self, variant):
    scores = jnp.array([1.0, -2.0, 4.0])
    np.testing.assert_allclose(variant(objectives.centred_advantage)(scores, jnp.mean(scores)), [0.0, -3.0, 3.0],
                               atol=ATOL)
    # ∂A_i/∂f_j = δ_ij: the baseline (here the batch mean) carries no gradient.
    jacobian = jax.jacobian(lambda f: objectives.centred_advantage(f, jnp.mean(f)))(scores)
    np.testing.assert_array_equal(jacobian, jnp.eye(3))

  def test_zero_baseline_is_eq5(self):
    scores = jnp.array([0.5, -0.25])
    np.testing.assert_array_equal(objectives.centred_advantage(scores, 0.0), scores)

  def test_baseline_changes_which_side_of_the_clip_binds(self):
    # All scores negative: only r < 1 − ε is clipped. Centred, the best sample's r > 1 + ε is capped.
    ratio, scores = jnp.array([1.5, 0.5, 1.5]), jnp.array([-1.0, -2.0, -3.0])
    raw = objectives.clip_binding_fraction(ratio, scores, epsilon=0.2)
    centred = objectives.clip_binding_fraction(ratio, objectives.centred_advantage(scores, -2.0), epsilon=0.2)
    np.testing.assert_allclose(raw, 1 / 3, rtol=1e-6)
    np.testing.assert_allclose(centred, 1 / 3, rtol=1e-6)
    grad_raw = jax.grad(lambda r: jnp.sum(objectives.clipped_surrogate(r, scores, epsilon=0.2)))(ratio)
    grad_centred = jax.grad(lambda r: jnp.sum(objectives.clipped_surrogate(
        r, objectives.centred_advantage(scores, -2.0), epsilon=0.2)))(ratio)
    np.testing.assert_allclose(grad_raw, [-1.0, 0.0, -3.0], atol=ATOL)
    np.testing.assert_allclose(grad_centred, [0.0, 0.0, -1.0], atol=ATOL)


class TestReferenceClippedSurrogate:
  ratio = TestClippedSurrogate.ratio
  advantage = TestClippedSurrogate.advantage

  def test_hand_value(self, variant):
    fn = variant(lambda r, a: objectives.reference_clipped_surrogate(r, a, epsilon=0.2))
    np.testing.assert_allclose(fn(self.ratio, self.advantage), [[1.0, 2.0, 2.4], [-1.0, -2.0, -2.4]], atol=ATOL)

  def test_equals_advantage_times_upper_clipped_ratio(self, variant):
    ratio_grid, advantage_grid = jnp.meshgrid(jnp.linspace(0.05, 3.0, 40), jnp.linspace(-3.0, 3.0, 41))
    surrogate = variant(lambda r, a: objectives.reference_clipped_surrogate(r, a, epsilon=0.4))(
        ratio_grid, advantage_grid)
    np.testing.assert_allclose(surrogate, advantage_grid * jnp.minimum(ratio_grid, 1.4), rtol=1e-6, atol=ATOL)

  def test_gradients(self):
    # A·min(r, 1 + ε): ∂/∂r = A below 1 + ε, 0 above; ∂/∂A = min(r, 1 + ε) (A is not detached).
    grad_fn = jax.grad(lambda r, a: jnp.sum(objectives.reference_clipped_surrogate(r, a, epsilon=0.2)),
                       argnums=(0, 1))
    grad_ratio, grad_advantage = grad_fn(self.ratio, self.advantage)
    np.testing.assert_allclose(grad_ratio, [[2.0, 2.0, 0.0], [-2.0, -2.0, 0.0]], atol=ATOL)
    np.testing.assert_allclose(grad_advantage, [[0.5, 1.0, 1.2], [0.5, 1.0, 1.2]], atol=ATOL)


class TestClassifierLoss:

  def test_hand_value(self, variant):
    # −mean(log σ([0, ln 3])) − mean(log σ([ln 3, ln 3, 0])) = −mean(ln ½, ln ¾) − mean(ln ¾, ln ¾, ln ½).
    result = variant(objectives.classifier_loss)(jnp.array([0.0, LN3]), jnp.array([-LN3, -LN3, 0.0]))
    np.testing.assert_allclose(result.loss, 0.9132517349936988, rtol=1e-6)
    np.testing.assert_allclose(result.real_accuracy, 0.5, atol=ATOL)
    np.testing.assert_allclose(result.fake_accuracy, 2 / 3, atol=ATOL)

  def test_extreme_logits(self):
    real, fake = jnp.array([1e4, -1e4]), jnp.array([1e4, -1e4])
    loss_fn = lambda r, f: objectives.classifier_loss(r, f).loss
    np.testing.assert_allclose(loss_fn(real, fake), 1e4, rtol=1e-6)
    grads = jax.grad(loss_fn, argnums=(0, 1))(real, fake)
    np.testing.assert_allclose(grads[0], [0.0, -0.5], atol=ATOL)
    np.testing.assert_allclose(grads[1], [0.5, 0.0], atol=ATOL)

  def test_check_grads(self):
    real, fake = np.array([0.0, LN3]), np.array([-LN3, LN3, 0.0])
    _check_grads_f64(lambda r, f: objectives.classifier_loss(r, f).loss, (real, fake))


GAN_LOSS_CASES = {
    # name: (loss_fn, real, fake, expected discriminator, expected generator)
    "minimax": (objectives.minimax_gan_loss, [LN3, 0.0], [-LN3, 0.0], 0.9808292530117262, -0.4904146265058631),
    "non_saturating": (objectives.non_saturating_gan_loss, [LN3, 0.0], [-LN3, 0.0], 0.9808292530117262,
                       1.039720770839918),
    "hinge": (objectives.hinge_gan_loss, [2.0, 0.5], [-2.0, 0.5], 1.0, 0.75),
    "least_squares": (objectives.least_squares_gan_loss, [1.0, 3.0], [0.0, 2.0], 2.0, 0.5),
    "relativistic_standard": (objectives.relativistic_standard_gan_loss, [LN3, 0.0], [-LN3, 0.0],
                              0.39925384810888576, 1.4978661367769956),
    "wasserstein": (objectives.wasserstein_gan_loss, [1.0, 3.0], [0.0, 2.0], -1.0, -1.0),
}


@pytest.mark.parametrize("name", list(GAN_LOSS_CASES))
class TestGANLosses:

  def test_hand_value(self, variant, name):
    loss_fn, real, fake, expected_discriminator, expected_generator = GAN_LOSS_CASES[name]
    result = variant(loss_fn)(jnp.array(real), jnp.array(fake))
    np.testing.assert_allclose(result.discriminator, expected_discriminator, rtol=1e-6, atol=ATOL)
    np.testing.assert_allclose(result.generator, expected_generator, rtol=1e-6, atol=ATOL)

  def test_vmap_matches_loop(self, name):
    loss_fn = GAN_LOSS_CASES[name][0]
    real, fake = _normal(17, (2, 3, 4))
    batched = jax.vmap(loss_fn)(real, fake)
    looped = [loss_fn(real[i], fake[i]) for i in range(3)]
    for field in objectives.GANLoss._fields:
      np.testing.assert_allclose(getattr(batched, field), [getattr(l, field) for l in looped], rtol=1e-6)

  def test_extreme_logits_finite(self, name):
    loss_fn = GAN_LOSS_CASES[name][0]
    real, fake = jnp.array([1e4, -1e4]), jnp.array([-1e4, 1e4])
    for field in objectives.GANLoss._fields:
      value_fn = lambda r, f: getattr(loss_fn(r, f), field)
      assert jnp.isfinite(value_fn(real, fake))
      assert all(jnp.all(jnp.isfinite(g)) for g in jax.grad(value_fn, argnums=(0, 1))(real, fake))

  def test_check_grads(self, name):
    loss_fn = GAN_LOSS_CASES[name][0]
    real, fake = np.array([0.3, -1.2]), np.array([0.7, -0.4])
    _check_grads_f64(lambda r, f: loss_fn(r, f), (real, fake))


class TestVmapOverProblems:

  @pytest.mark.parametrize("fn", [
      objectives.importance_weights,
      lambda r, f: objectives.wasserstein_critic_loss(r, f, objectives.importance_weights(f).weights),
      objectives.classifier_loss,
      lambda r, f: objectives.consistency_term(r, f, r[:, None] * f[None, :], f[:, None] * f[None, :]),
      lambda r, a: objectives.clipped_surrogate(r, a, epsilon=0.2),
  ], ids=["importance_weights", "critic_loss", "classifier_loss", "consistency_term", "clipped_surrogate"])
  def test_vmap_matches_loop(self, fn):
    problems = _normal(18, (2, 3, 4))
    args = problems[:1] if fn is objectives.importance_weights else problems
    batched = jax.vmap(fn)(*args)
    looped = [fn(*(a[i] for a in args)) for i in range(3)]
    jax.tree.map(lambda b, *l: np.testing.assert_allclose(b, np.stack(l), rtol=1e-5, atol=ATOL), batched, *looped)


class TestClipWeights:

  def test_projection(self, variant):
    params = {"a": jnp.array([-2.0, 0.005, 0.5]), "b": {"c": jnp.array([[0.02]], jnp.bfloat16)}}
    clipped = variant(lambda p: objectives.clip_weights(p, 0.01))(params)
    np.testing.assert_allclose(clipped["a"], [-0.01, 0.005, 0.01], atol=ATOL)
    np.testing.assert_allclose(clipped["b"]["c"].astype(jnp.float32), [[0.01]], rtol=1e-2)
    assert clipped["b"]["c"].dtype == jnp.bfloat16


class TestPPODiagnostics:

  def test_approximate_kl_hand_value(self, variant):
    # terms (r − 1) − ln r at r = 1, 2, 4: 0, 1 − ln 2, 3 − ln 4.
    np.testing.assert_allclose(variant(objectives.approximate_kl)(jnp.array([1.0, 2.0, 4.0])),
                               0.6401861527733881, rtol=1e-6)

  def test_approximate_kl_direction(self):
    # x ~ p_old = N(0, 2²), p_new = N(0, 1): r = N(x; 0, 1)/N(x; 0, 2²) = 2·exp(−3x²/8);
    # KL(old‖new) = ln ½ + 4/2 − 1/2 ≈ 0.807, whereas KL(new‖old) ≈ 0.318.
    samples = np.random.default_rng(19).normal(scale=2.0, size=100_000)
    ratio = jnp.asarray(2.0 * np.exp(-3.0 * samples**2 / 8.0), jnp.float32)
    np.testing.assert_allclose(objectives.approximate_kl(ratio), 0.8068528194400547, atol=0.02)

  def test_approximate_kl_check_grads(self):
    _check_grads_f64(objectives.approximate_kl, (np.array([0.5, 1.0, 2.0]),))

  def test_clip_binding_fraction(self, variant):
    # Binds: A > 0 with r > 1.2 (column 3), A < 0 with r < 0.8 (column 1); not A = 0.
    ratio = jnp.array([0.5, 1.0, 1.5, 0.5, 1.0, 1.5, 1.5])
    advantage = jnp.array([2.0, 2.0, 2.0, -2.0, -2.0, -2.0, 0.0])
    fn = variant(lambda r, a: objectives.clip_binding_fraction(r, a, epsilon=0.2))
    np.testing.assert_allclose(fn(ratio, advantage), 2 / 7, rtol=1e-6)

  def test_clip_fraction(self, variant):
    ratio = jnp.array([0.7, 0.9, 1.0, 1.3, 1.1])
    np.testing.assert_allclose(variant(lambda r: objectives.clip_fraction(r, epsilon=0.2))(ratio), 0.4, atol=ATOL)


class TestDtypes:

  @pytest.mark.parametrize("fn", [
      lambda x: objectives.wasserstein_critic_loss(x, x).loss,
      lambda x: objectives.classifier_loss(x, x).loss,
      lambda x: objectives.density_ratio(x, x),
      lambda x: objectives.clipped_surrogate(x, x, epsilon=0.2),
      lambda x: objectives.gradient_penalty(lambda y: jnp.sum(y, axis=1), x[:, None], x[:, None],
                                            jax.random.key(0)).penalty,
      lambda x: objectives.non_saturating_gan_loss(x, x).generator,
  ], ids=["critic_loss", "classifier_loss", "density_ratio", "clipped_surrogate", "gradient_penalty", "gan_loss"])
  def test_bfloat16_preserved(self, fn):
    assert fn(jnp.array([0.5, -1.0, 2.0], jnp.bfloat16)).dtype == jnp.bfloat16
