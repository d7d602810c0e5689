"""PPO-GAN objectives (Wu et al., NeurIPS 2020) and the baseline GAN losses.

Pure functions over arrays, safe under `jit`, `vmap` and `grad`; batching over
problems is the caller's `vmap`. Section numbers (§) refer to
docs/reference_code.md, the project's description of the public reference code
(Holmeswww/PPOGAN and the repositories it builds on).

Sign conventions: every loss (the `loss` fields of `CriticLoss` and
`ClassifierLoss`, both fields of `GANLoss`) is MINIMISED; the other fields are
diagnostics for logging. `clipped_surrogate` and `reference_clipped_surrogate`
return per-element objectives whose mean is MAXIMISED (the generator loss is
minus that mean). Penalty terms (`gradient_penalty`, `consistency_term`) are
returned without their coefficient λ and are added (minimised) by the caller.
"""
from typing import Callable, NamedTuple, Optional

import chex
import jax
import jax.numpy as jnp

Array = chex.Array
Numeric = chex.Numeric

_GRAD_NORM_EPS = 1e-12
_REFERENCE_PROB_FLOOR = 1e-7


def _compute_dtype(dtype) -> jnp.dtype:
  """At least float32: bfloat16/float16 inputs are upcast, float64 is kept."""
  return jnp.promote_types(dtype, jnp.float32)


class ImportanceWeights(NamedTuple):
  weights: Array  # [B], mean exactly 1.
  effective_sample_size: Array  # scalar in [1, B].


def importance_weights(fake_scores: Array) -> ImportanceWeights:
  """Self-normalised importance weights of the fake batch,
  w = B·softmax(f(x̃)).

  Eq. 8 of Wu et al. (2020): the critic gradient under the re-weighted fake
  distribution is E_pθ[exp(f)·∇f]/Z, estimated on a minibatch by
  w_i = B·exp(f_i)/Σ_j exp(f_j), so that mean(w) = 1 and
  mean(w·f) = Σ_i softmax(f)_i·f_i
  (docs/reference_code.md §1.1, step 3; §0). The weights are constants: the
  scores pass through `lax.stop_gradient`, as the reference computes them under
  `no_grad`. The softmax runs in (at least) float32 and is shift invariant, so
  it is finite for any finite scores.

  The effective sample size is ESS = (Σ_i w_i)² / Σ_i w_i² ∈ [1, B]: B for
  equal scores, ≈ 1 when one score dominates.

  Args:
    fake_scores: f(x̃_i), raw critic outputs on the fake batch, shape [B].
      Multi-representation critics (the text critic's [B, K]) are flattened by
      the caller, which makes the softmax run over all B·K entries as in the
      reference's 'WWGAN' loss (§1.2).

  Returns:
    `ImportanceWeights(weights [B], effective_sample_size [])`, in the dtype of
    `fake_scores`.
  """
  chex.assert_rank(fake_scores, 1)
  chex.assert_type(fake_scores, float)
  batch_size = fake_scores.shape[0]
  constant_scores = jax.lax.stop_gradient(fake_scores)
  probabilities = jax.nn.softmax(
      constant_scores.astype(_compute_dtype(fake_scores.dtype)))
  weights = batch_size * probabilities
  effective_sample_size = (jnp.square(jnp.sum(weights))
                           / jnp.sum(jnp.square(weights)))
  return ImportanceWeights(
      weights=weights.astype(fake_scores.dtype),
      effective_sample_size=effective_sample_size.astype(fake_scores.dtype))


class CriticLoss(NamedTuple):
  loss: Array  # scalar, minimised.
  wasserstein_estimate: Array  # scalar, mean(f(real)) − mean(f(fake)),
                               # unweighted; for logging.


def wasserstein_critic_loss(
    real_scores: Array,
    fake_scores: Array,
    fake_weights: Optional[Array] = None,
) -> CriticLoss:
  """Re-weighted WGAN critic loss, L = mean_i(w_i·f(x̃_i)) − mean_j f(x_j).

  Eq. 7 of Wu et al. (2020) with the minibatch weights of Eq. 8
  (docs/reference_code.md §1.1, §1.2 'WWGAN'); with `fake_weights=None`
  (w ≡ 1) it is the plain WGAN critic loss of Arjovsky et al. (2017). The
  weights are treated as constants (`lax.stop_gradient`), so
  ∂L/∂f(x̃_i) = w_i/B'. MINIMISED by the critic.

  Args:
    real_scores: f(x_j) on the real batch, shape [B].
    fake_scores: f(x̃_i) on the fake batch, shape [B'].
    fake_weights: w_i, shape [B'] (usually
      `importance_weights(fake_scores).weights`), or None for w ≡ 1.

  Returns:
    `CriticLoss(loss, wasserstein_estimate)`; the estimate
    mean(f(real)) − mean(f(fake)) ignores the weights.
  """
  chex.assert_rank([real_scores, fake_scores], 1)
  chex.assert_type([real_scores, fake_scores], float)
  if fake_weights is None:
    weighted_fake_mean = jnp.mean(fake_scores)
  else:
    chex.assert_equal_shape([fake_scores, fake_weights])
    constant_weights = jax.lax.stop_gradient(fake_weights)
    weighted_fake_mean = jnp.mean(constant_weights * fake_scores)
  real_mean = jnp.mean(real_scores)
  return CriticLoss(
      loss=weighted_fake_mean - real_mean,
      wasserstein_estimate=real_mean - jnp.mean(fake_scores))


class GradientPenalty(NamedTuple):
  penalty: Array  # scalar, mean_i (‖g_i‖ − target)²,
                  # NOT multiplied by λ.
  grad_norm: Array  # scalar, mean_i ‖g_i‖.


def gradient_penalty(
    critic_fn: Callable[[Array], Array],
    real: Array,
    fake: Array,
    key: chex.PRNGKey,
    *,
    target: Numeric = 1.0,
    one_sided: bool = False,
) -> GradientPenalty:
  """WGAN-GP penalty, mean_i (‖∇_x̂ f(x̂_i)‖₂ − target)²,
  x̂ = α·x + (1 − α)·x̃, α ~ U(0, 1).

  Gulrajani et al. (2017), Eq. 3; docs/reference_code.md §1.1 step 4 (images),
  §1.2 (text), §1.3 (embeddings). One α per sample, broadcast over every
  non-batch axis; real and fake are `lax.stop_gradient`'d (the reference uses
  `.data`), so only the critic's parameters (closed over by `critic_fn`) receive
  gradient, through the double backward.

  The per-sample gradients come from one `grad` of the batch SUM of the critic's
  outputs. This is valid only when the critic has no cross-example coupling (no
  batch-norm, no batch statistics): then
  ∂(Σ_j f(x̂_j))/∂x̂_i = ∂f(x̂_i)/∂x̂_i. A critic with K outputs
  per sample ([B, K], the multi-representation text critic) is penalised on the
  gradient of the sum of its K outputs, as the reference does with grad_outputs
  of ones (§1.2).

  The norm is taken over every non-batch axis as sqrt(Σ g² + 1e-12); the
  epsilon inside the square root keeps the penalty's gradient finite at g = 0.
  With `one_sided=True` the penalty is mean_i max(0, ‖g_i‖ − target)²
  (only norms above `target` are penalised; discussed by Gulrajani et al. 2017
  and used by Petzka et al. 2018).

  The result is NOT multiplied by λ: the caller adds λ·penalty to the
  (minimised) critic loss.

  Args:
    critic_fn: maps a batch [B, ...] to scores [B] or [B, K].
    real: real batch, [B, D] (vectors), [B, L, V] (one-hot text) or [B, H, W, C]
      (images).
    fake: fake batch, same shape as `real` (soft one-hots for text).
    key: PRNG key for α.
    target: the norm the gradient is pulled towards (1 in WGAN-GP).
    one_sided: penalise only norms above `target`.

  Returns:
    `GradientPenalty(penalty, grad_norm)`, scalars; grad_norm = mean_i ‖g_i‖
    for logging.
  """
  chex.assert_rank(real, {2, 3, 4})
  chex.assert_equal_shape([real, fake])
  chex.assert_type([real, fake], float)
  batch_size = real.shape[0]
  real = jax.lax.stop_gradient(real)
  fake = jax.lax.stop_gradient(fake)
  alpha = jax.random.uniform(key, (batch_size,) + (1,) * (real.ndim - 1),
                             dtype=real.dtype)
  interpolates = alpha * real + (1 - alpha) * fake

  def summed_scores(inputs):
    scores = critic_fn(inputs)
    chex.assert_rank(scores, {1, 2})
    chex.assert_axis_dimension(scores, 0, batch_size)
    return jnp.sum(scores)

  grads = jax.grad(summed_scores)(interpolates)
  grads = grads.astype(_compute_dtype(grads.dtype))
  squared_norms = jnp.sum(jnp.square(grads), axis=tuple(range(1, grads.ndim)))
  grad_norms = jnp.sqrt(squared_norms + _GRAD_NORM_EPS)
  excess = grad_norms - target
  if one_sided:
    excess = jax.nn.relu(excess)
  return GradientPenalty(
      penalty=jnp.mean(jnp.square(excess)).astype(real.dtype),
      grad_norm=jnp.mean(grad_norms).astype(real.dtype))


def consistency_term(
    scores_1: Array,
    scores_2: Array,
    features_1: Array,
    features_2: Array,
    *,
    weight: Numeric = 2.0,
    feature_weight: Numeric = 0.1,
    margin: Numeric = 0.0,
) -> Array:
  """CT-GAN consistency term, mean_i max(0, λ₂·(D₁ − D₂)²
  + λ₂·μ·mean_k (h₁ − h₂)²_k − M).

  Wei et al. (2018), "Improving the improved training of Wasserstein GANs", §3,
  in the form of their code (with the penultimate-feature term);
  docs/reference_code.md §1.1 step 2 and §9.2. The subscripts 1, 2 are two
  forward passes of the SAME real batch with independent dropout masks (two
  dropout keys). The term is computed per sample: the reference PyTorch code
  adds a [B, 1] score term to a [B] feature term, which broadcasts to [B, B] and
  makes the hinge act on cross-sample sums when M > 0 (§10.9); here both terms
  are [B] and the hinge acts on each sample's own sum.

  MINIMISED (added to the critic loss; its coefficient λ₂ is `weight`).

  Args:
    scores_1: critic outputs D₁(x_i) of the first pass, shape [B].
    scores_2: critic outputs D₂(x_i) of the second pass, shape [B].
    features_1: penultimate features h₁(x_i) of the first pass, shape [B, F].
    features_2: penultimate features h₂(x_i) of the second pass, shape [B, F].
    weight: λ₂ (2 in CT-GAN and PPO-GAN).
    feature_weight: μ, the relative weight of the feature term (0.1).
    margin: M (0 in CT-GAN and PPO-GAN).

  Returns:
    The scalar term.
  """
  chex.assert_rank([scores_1, scores_2, features_1, features_2], [1, 1, 2, 2])
  chex.assert_equal_shape([scores_1, scores_2])
  chex.assert_equal_shape([features_1, features_2])
  chex.assert_equal_shape_prefix([scores_1, features_1], 1)
  score_term = weight * jnp.square(scores_1 - scores_2)
  feature_term = weight * feature_weight * jnp.mean(
      jnp.square(features_1 - features_2), axis=-1)
  return jnp.mean(jax.nn.relu(score_term + feature_term - margin))


def density_ratio(logits: Array, old_logits: Array) -> Array:
  """Probability ratio from the real/fake classifiers, r = exp(ℓ_old − ℓ),
  in log space; both sides differentiable.

  Eq. 6 of Wu et al. (2020): with the classifier C = σ(ℓ) = P(real | x), the
  generator's density ratio is estimated by
  p_θ/p_θold ≈ [(1 − C(x))/C(x)] / [(1 − C^(t)(x))/C^(t)(x)]
  = exp(ℓ_old(x) − ℓ(x)), since (1 − σ(ℓ))/σ(ℓ) = exp(−ℓ).
  C^(t) has frozen *parameters*, but in Eq. 5 both classifiers are evaluated at
  the same x = G_θ(z), so ℓ_old depends on θ through x exactly as ℓ does
  ("gradient can propagate through C to θ since x = G_θ(z)"). The gradient
  therefore flows through both arguments: ∂r/∂ℓ = −r and
  ∂r/∂ℓ_old = r, so ∇ₓr = r·(∇ₓℓ_old − ∇ₓℓ). When
  C = C^(t) (the same function), r ≡ 1 and ∇ₓr = 0: r_t(θ^(t)) = 1 holds
  as a function of x, as the paper requires, and the clipped surrogate's
  gradient is the WGAN generator gradient. The result is unbounded, as the ratio
  itself is. `density_ratio_constant_old` is the form whose old side is a
  constant.

  Args:
    logits: ℓ(x), the current classifier's logits, any shape.
    old_logits: ℓ_old(x), the frozen classifier's logits at the same samples,
      same shape.

  Returns:
    r, same shape as `logits`.
  """
  chex.assert_equal_shape([logits, old_logits])
  chex.assert_type([logits, old_logits], float)
  return jnp.exp(old_logits - logits)


def density_ratio_constant_old(logits: Array, old_logits: Array) -> Array:
  """Eq. 6's ratio r = exp(ℓ_old − ℓ) with the old side a constant:
  ∂r/∂ℓ = −r, ∂r/∂ℓ_old = 0.

  Not the paper's gradient (see `density_ratio`): cutting the path through C^(t)
  leaves ∇ₓr = −r·∇ₓℓ(x), so the surrogate's gradient gains
  −A·r·∇ₓℓ, a term driven by the classifier alone whose size is not
  bounded by the critic's Lipschitz constant, and r ≠ 1 in gradient even when
  C = C^(t). Kept as a named option (`surrogate.ratio_gradient='current'`) so
  that the two can be compared.

  Args:
    logits: ℓ(x), the current classifier's logits, any shape.
    old_logits: ℓ_old(x), the frozen classifier's logits at the same samples,
      same shape.

  Returns:
    r, same shape as `logits`.
  """
  return density_ratio(logits, jax.lax.stop_gradient(old_logits))


def centred_advantage(scores: Array, baseline: Numeric) -> Array:
  """The surrogate's advantage A = f(x̃) − b with a constant baseline b
  (`lax.stop_gradient`).

  Eq. 5 uses A = f(x̃). The critic is defined only up to an additive constant,
  which the WGAN losses ignore but Eq. 5 does not: its min/clip depends on the
  sign of A (A·min(r, 1 + ε) for A ≥ 0, A·max(r, 1 − ε) for A < 0).
  Subtracting a constant baseline, as PPO does with a value function, leaves
  ∂A/∂x̃ = ∂f/∂x̃ and re-centres which samples count as better than
  average. b = 0 gives Eq. 5.

  Args:
    scores: f(x̃), any shape.
    baseline: b, a scalar (e.g. the batch mean of f(x̃)).

  Returns:
    A, same shape as `scores`.
  """
  chex.assert_type(scores, float)
  return scores - jax.lax.stop_gradient(baseline)


def reference_density_ratio(logits: Array, old_logits: Array) -> Array:
  """The public code's clamped-probability ratio,
  r = (1 − c₁)/max(c₁·P₀, 1e-7), P₀ = (1 − D₀)/max(D₀, 1e-7).

  docs/reference_code.md §2.1–2.3 with c₁ = σ(ℓ), D₀ = σ(ℓ_old). It
  equals `density_ratio` (Eq. 6) wherever the clamps do not bind; it differs
  when D₀ < 1e-7 (P₀ is capped at 1e7) or c₁·P₀ < 1e-7 (r is capped at
  1e7·(1 − c₁)), and it works on probabilities, so it saturates
  (1 − σ(ℓ) rounds to 0) for large logits. The old side is a constant
  (`lax.stop_gradient`, the reference's `no_grad`). In the text code the two
  sides are evaluated on unrelated samples paired elementwise (§2.3, §10.1);
  choosing what to pair is the caller's business.

  Args:
    logits: ℓ, the current classifier's logits, any shape.
    old_logits: ℓ_old, the frozen classifier's logits, same shape.

  Returns:
    r, same shape as `logits`.
  """
  chex.assert_equal_shape([logits, old_logits])
  chex.assert_type([logits, old_logits], float)
  constant_old_logits = jax.lax.stop_gradient(old_logits)
  new_probs = jax.nn.sigmoid(logits)
  old_probs = jax.nn.sigmoid(constant_old_logits)
  old_odds = (1 - old_probs) / jnp.maximum(old_probs, _REFERENCE_PROB_FLOOR)
  return (1 - new_probs) / jnp.maximum(new_probs * old_odds,
                                       _REFERENCE_PROB_FLOOR)


def clipped_surrogate(ratio: Array, advantage: Array, *,
                      epsilon: Numeric) -> Array:
  """PPO clipped surrogate, min(r·A, clip(r, 1 − ε, 1 + ε)·A),
  per element.

  Eq. 5 of Wu et al. (2020) (Schulman et al. 2017, Eq. 7), with the critic score
  as the advantage A. For A ≥ 0 this is A·min(r, 1 + ε); for A < 0 it is
  A·max(r, 1 − ε). The gradient w.r.t. r is 0 where the clip binds (A > 0,
  r > 1 + ε, or A < 0, r < 1 − ε) and A elsewhere. Gradients flow through
  both `ratio` and `advantage`; detaching A is the caller's choice (the
  reference does NOT detach A, §2.2 step 4).

  The mean of the result is MAXIMISED; the generator loss is −mean(surrogate).

  Args:
    ratio: r = p_θ/p_θold, any shape.
    advantage: A, same shape.
    epsilon: ε, the clip range (0.2 or 0.4 in the paper); may be a traced
      scalar.

  Returns:
    The per-element surrogate, same shape as `ratio`.
  """
  chex.assert_equal_shape([ratio, advantage])
  chex.assert_type([ratio, advantage], float)
  clipped_ratio = jnp.clip(ratio, 1 - epsilon, 1 + epsilon)
  return jnp.minimum(ratio * advantage, clipped_ratio * advantage)


def dual_clipped_surrogate(ratio: Array, advantage: Array, *,
                           epsilon: Numeric, bound: Numeric) -> Array:
  """Eq. 5 with a lower bound for negative advantages,
  max(min(r·A, clip(r, 1 − ε, 1 + ε)·A), c·A) where A < 0, per element.

  Not in the paper: the dual clip of Ye et al. (2020, "Mastering complex
  control in MOBA games with deep reinforcement learning", Eq. 3). For A < 0,
  Eq. 5 is A·max(r, 1 − ε), unbounded below in r: one sample whose
  classifier-estimated ratio explodes (r ≫ 1) dominates the batch's loss and
  its gradient. Here that term is A·min(max(r, 1 − ε), c): where r > c the
  value is c·A and the gradient w.r.t. r is 0. For A ≥ 0 and where r ≤ c this
  is `clipped_surrogate`.

  The mean of the result is MAXIMISED; the generator loss is −mean(surrogate).

  Args:
    ratio: r, any shape.
    advantage: A, same shape.
    epsilon: ε, the clip range.
    bound: c > 1 (Ye et al. use 3); may be a traced scalar.

  Returns:
    The per-element surrogate, same shape as `ratio`.
  """
  surrogate = clipped_surrogate(ratio, advantage, epsilon=epsilon)
  return jnp.where(advantage < 0,
                   jnp.maximum(surrogate, bound * advantage), surrogate)


def reference_clipped_surrogate(ratio: Array, advantage: Array, *,
                                epsilon: Numeric) -> Array:
  """The public code's surrogate,
  where(A > 0, min(r·A, clip(r)·A), max(r·A, clip(r)·A)), per element.

  docs/reference_code.md §2.2 step 5, §2.3 step d. In both branches this
  equals A·min(r, 1 + ε) (§2.4): the lower clip is inert, and for A < 0 it
  differs from Eq. 5 (`clipped_surrogate`, A·max(r, 1 − ε)). Implemented
  literally so that the identity is a tested property rather than an assumption.

  The mean of the result is MAXIMISED; the generator loss is −mean(surrogate).

  Args:
    ratio: r, any shape.
    advantage: A, same shape.
    epsilon: ε, the clip range (0.4 in the reference code).

  Returns:
    The per-element surrogate, same shape as `ratio`.
  """
  chex.assert_equal_shape([ratio, advantage])
  chex.assert_type([ratio, advantage], float)
  unclipped = ratio * advantage
  clipped = jnp.clip(ratio, 1 - epsilon, 1 + epsilon) * advantage
  return jnp.where(advantage > 0, jnp.minimum(unclipped, clipped),
                   jnp.maximum(unclipped, clipped))


def _real_fake_cross_entropy(real_logits: Array, fake_logits: Array) -> Array:
  """−mean log σ(real) − mean log σ(−fake), using
  log(1 − σ(x)) = log σ(−x)."""
  return (-jnp.mean(jax.nn.log_sigmoid(real_logits))
          - jnp.mean(jax.nn.log_sigmoid(-fake_logits)))


class ClassifierLoss(NamedTuple):
  loss: Array  # scalar, minimised.
  real_accuracy: Array  # scalar, fraction of real logits > 0.
  fake_accuracy: Array  # scalar, fraction of fake logits < 0.


def classifier_loss(real_logits: Array, fake_logits: Array) -> ClassifierLoss:
  """Binary cross-entropy of the real/fake classifier C,
  −mean log σ(ℓ(x)) − mean log σ(−ℓ(x̃)).

  Labels real = 1, fake = 0 (docs/reference_code.md §2.1; appendix 6.3.1 of Wu
  et al. 2020). Computed from logits with log(1 − σ(x)) = log σ(−x), so it
  is finite for any finite logits (the reference applies BCE to probabilities).
  MINIMISED by the classifier.

  Args:
    real_logits: ℓ(x) on a real batch, shape [B].
    fake_logits: ℓ(x̃) on a fake batch, shape [B'].

  Returns:
    `ClassifierLoss(loss, real_accuracy, fake_accuracy)`, scalars.
  """
  chex.assert_rank([real_logits, fake_logits], 1)
  chex.assert_type([real_logits, fake_logits], float)
  return ClassifierLoss(
      loss=_real_fake_cross_entropy(real_logits, fake_logits),
      real_accuracy=jnp.mean((real_logits > 0).astype(real_logits.dtype)),
      fake_accuracy=jnp.mean((fake_logits < 0).astype(fake_logits.dtype)))


class GANLoss(NamedTuple):
  discriminator: Array  # scalar, minimised by the discriminator.
  generator: Array  # scalar, minimised by the generator.


def minimax_gan_loss(real_logits: Array, fake_logits: Array) -> GANLoss:
  """Original GAN (Goodfellow et al. 2014, Eq. 1), both sides MINIMISED.

  D: −mean log σ(ℓ(x)) − mean log σ(−ℓ(x̃)).
  G: mean log σ(−ℓ(x̃)) = mean log(1 − D(G(z))).

  Args:
    real_logits: discriminator logits on the real batch, shape [B].
    fake_logits: discriminator logits on the fake batch, shape [B'].
  """
  chex.assert_rank([real_logits, fake_logits], 1)
  chex.assert_type([real_logits, fake_logits], float)
  return GANLoss(
      discriminator=_real_fake_cross_entropy(real_logits, fake_logits),
      generator=jnp.mean(jax.nn.log_sigmoid(-fake_logits)))


def non_saturating_gan_loss(real_logits: Array, fake_logits: Array) -> GANLoss:
  """Non-saturating GAN (Goodfellow et al. 2014, §3), both sides MINIMISED.

  D: −mean log σ(ℓ(x)) − mean log σ(−ℓ(x̃)).
  G: −mean log σ(ℓ(x̃)) = −mean log D(G(z)).

  Args:
    real_logits: discriminator logits on the real batch, shape [B].
    fake_logits: discriminator logits on the fake batch, shape [B'].
  """
  chex.assert_rank([real_logits, fake_logits], 1)
  chex.assert_type([real_logits, fake_logits], float)
  return GANLoss(
      discriminator=_real_fake_cross_entropy(real_logits, fake_logits),
      generator=-jnp.mean(jax.nn.log_sigmoid(fake_logits)))


def hinge_gan_loss(real_logits: Array, fake_logits: Array) -> GANLoss:
  """Hinge GAN (Lim & Ye 2017; Miyato et al. 2018), both sides MINIMISED.

  D: mean max(0, 1 − ℓ(x)) + mean max(0, 1 + ℓ(x̃)).
  G: −mean ℓ(x̃).

  Args:
    real_logits: discriminator outputs on the real batch, shape [B].
    fake_logits: discriminator outputs on the fake batch, shape [B'].
  """
  chex.assert_rank([real_logits, fake_logits], 1)
  chex.assert_type([real_logits, fake_logits], float)
  return GANLoss(
      discriminator=(jnp.mean(jax.nn.relu(1 - real_logits))
                     + jnp.mean(jax.nn.relu(1 + fake_logits))),
      generator=-jnp.mean(fake_logits))


def least_squares_gan_loss(real_logits: Array, fake_logits: Array) -> GANLoss:
  """Least-squares GAN (Mao et al. 2017, with a = 0, b = c = 1), both sides
  MINIMISED.

  D: ½·mean (ℓ(x) − 1)² + ½·mean ℓ(x̃)².
  G: ½·mean (ℓ(x̃) − 1)².

  Args:
    real_logits: discriminator outputs on the real batch, shape [B].
    fake_logits: discriminator outputs on the fake batch, shape [B'].
  """
  chex.assert_rank([real_logits, fake_logits], 1)
  chex.assert_type([real_logits, fake_logits], float)
  return GANLoss(
      discriminator=(0.5 * jnp.mean(jnp.square(real_logits - 1))
                     + 0.5 * jnp.mean(jnp.square(fake_logits))),
      generator=0.5 * jnp.mean(jnp.square(fake_logits - 1)))


def relativistic_standard_gan_loss(real_logits: Array,
                                   fake_logits: Array) -> GANLoss:
  """Relativistic standard GAN (Jolicoeur-Martineau 2018), RelGAN's loss;
  both sides MINIMISED.

  D: −mean_i log σ(ℓ(x_i) − ℓ(x̃_i)).
  G: −mean_i log σ(ℓ(x̃_i) − ℓ(x_i)).
  Real and fake are paired elementwise, as TextGAN's 'rsgan'
  (BCEWithLogits(d_real − d_fake, 1)) does.

  Args:
    real_logits: discriminator logits on the real batch, shape [B].
    fake_logits: discriminator logits on the fake batch, shape [B].
  """
  chex.assert_rank([real_logits, fake_logits], 1)
  chex.assert_equal_shape([real_logits, fake_logits])
  chex.assert_type([real_logits, fake_logits], float)
  return GANLoss(
      discriminator=-jnp.mean(jax.nn.log_sigmoid(real_logits - fake_logits)),
      generator=-jnp.mean(jax.nn.log_sigmoid(fake_logits - real_logits)))


def wasserstein_gan_loss(real_logits: Array, fake_logits: Array) -> GANLoss:
  """WGAN (Arjovsky et al. 2017), both sides MINIMISED.

  D: mean f(x̃) − mean f(x).  G: −mean f(x̃). For the re-weighted critic
  see `wasserstein_critic_loss`.

  Args:
    real_logits: critic outputs on the real batch, shape [B].
    fake_logits: critic outputs on the fake batch, shape [B'].
  """
  chex.assert_rank([real_logits, fake_logits], 1)
  chex.assert_type([real_logits, fake_logits], float)
  return GANLoss(
      discriminator=jnp.mean(fake_logits) - jnp.mean(real_logits),
      generator=-jnp.mean(fake_logits))


def clip_weights(params: chex.ArrayTree, clip_value: Numeric) -> chex.ArrayTree:
  """WGAN weight clipping, θ ← clip(θ, −c, c) on every leaf
  (Arjovsky et al. 2017, Algorithm 1).

  A projection of the critic's parameters, applied after each critic update (it
  acts on parameters, not on updates, so it is not an optax transformation).

  Args:
    params: the critic's parameter pytree.
    clip_value: c > 0.

  Returns:
    The clipped pytree, same structure and dtypes.
  """
  return jax.tree.map(lambda param: jnp.clip(param, -clip_value, clip_value),
                      params)


def approximate_kl(ratio: Array) -> Array:
  """k3 estimator of KL(p_old ‖ p_new), mean((r − 1) − log r),
  r = p_new(x)/p_old(x), x ~ p_old.

  Schulman (2020), "Approximating KL divergence". Since E_old[r] = 1 and
  E_old[−log r] = KL(p_old ‖ p_new), the estimate is unbiased for samples
  from p_old, and each term is ≥ 0 (log r ≤ r − 1). For logging PPO
  diagnostics; infinite at r = 0.

  Args:
    ratio: r, any shape.

  Returns:
    Scalar estimate.
  """
  chex.assert_type(ratio, float)
  return jnp.mean((ratio - 1) - jnp.log(ratio))


def clip_fraction(ratio: Array, *, epsilon: Numeric) -> Array:
  """Fraction of ratios outside the clip interval, mean(|r − 1| > ε).
  For logging PPO diagnostics.

  Args:
    ratio: r, any shape.
    epsilon: ε, the clip range.

  Returns:
    Scalar in [0, 1], in the dtype of `ratio`.
  """
  chex.assert_type(ratio, float)
  return jnp.mean((jnp.abs(ratio - 1) > epsilon).astype(ratio.dtype))


def clip_binding_fraction(ratio: Array, advantage: Array, *,
                          epsilon: Numeric) -> Array:
  """Fraction of samples where Eq. 5's clip binds,
  mean((A > 0 ∧ r > 1 + ε) ∨ (A < 0 ∧ r < 1 − ε)).

  Where it binds, the surrogate's gradient w.r.t. r is 0 (`clipped_surrogate`).
  Unlike `clip_fraction`, this depends on the sign of A: with A < 0 for every
  sample, ratios above 1 + ε are never capped. For logging.

  Args:
    ratio: r, any shape.
    advantage: A, same shape.
    epsilon: ε, the clip range.

  Returns:
    Scalar in [0, 1], in the dtype of `ratio`.
  """
  chex.assert_equal_shape([ratio, advantage])
  chex.assert_type([ratio, advantage], float)
  binds = (((advantage > 0) & (ratio > 1 + epsilon))
           | ((advantage < 0) & (ratio < 1 - epsilon)))
  return jnp.mean(binds.astype(ratio.dtype))
