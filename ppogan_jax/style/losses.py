"""Losses of the style-transfer model (docs/reference_code.md §8 and §1.3).

Pure functions over arrays. Every `loss` is MINIMISED. The critic's GAN
term is the plain WGAN one in both objectives; PPO-GAN's re-weighting
(W = B·softmax(d_fake), a constant) enters only the generator's term, as in
the reference style_transfer code (§8.3). There is no probability-ratio
clipping anywhere in this task; the generator's gradients are clipped
per tensor by norm instead (the optimiser's job, see `train.py`).
"""
from typing import NamedTuple

import chex
import jax
import jax.numpy as jnp

from ppogan_jax import objectives

Array = chex.Array


def sigmoid_bce(labels: Array, logits: Array) -> Array:
  """Per-example −[y·log σ(ℓ) + (1 − y)·log(1 − σ(ℓ))],
  stable form.

  log σ(ℓ) = log_sigmoid(ℓ) and log(1 − σ(ℓ)) = log_sigmoid(−ℓ).

  Args:
    labels: y ∈ [0, 1], [B].
    logits: ℓ, [B].

  Returns:
    [B].
  """
  chex.assert_equal_shape([labels, logits])
  labels = labels.astype(logits.dtype)
  return -(labels * jax.nn.log_sigmoid(logits)
           + (1 - labels) * jax.nn.log_sigmoid(-logits))


def sequence_cross_entropy(logits: Array, targets: Array,
                           lengths: Array) -> Array:
  """Teacher-forced reconstruction loss loss_g_ae (§8.1).

  texar sequence_sparse_softmax_cross_entropy with average_across_timesteps:
  mean_b (1/L_b) Σ_{t<L_b} −log softmax(ℓ_bt)[y_bt].

  Args:
    logits: [B, T, V].
    targets: ids [B, T].
    lengths: valid steps L_b [B].

  Returns:
    Scalar.
  """
  chex.assert_rank([logits, targets, lengths], [3, 2, 1])
  chex.assert_equal_shape_prefix([logits, targets], 2)
  log_probs = jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1)
  nll = -jnp.take_along_axis(log_probs, targets[..., None], axis=-1)[..., 0]
  mask = jnp.arange(targets.shape[1])[None, :] < lengths[:, None]
  per_sequence = jnp.sum(jnp.where(mask, nll, 0.0), axis=1)
  return jnp.mean(per_sequence / jnp.maximum(lengths, 1))


def abs_cosine_distance(z: Array, z_new: Array) -> Array:
  """Shifted-AE term mean_b |1 − cos(z_b, z'_b)| (§8.1, shifted AE).

  Args:
    z, z_new: content codes [B, D].

  Returns:
    Scalar.
  """
  chex.assert_rank([z, z_new], 2)
  chex.assert_equal_shape([z, z_new])
  unit = lambda x: x / jnp.sqrt(
      jnp.sum(jnp.square(x), -1, keepdims=True) + 1e-12)
  return jnp.mean(jnp.abs(1.0 - jnp.sum(unit(z) * unit(z_new), axis=-1)))


def pad_time(x: Array, length: int) -> Array:
  """Zero-pads axis 1 of [B, T, ...] to `length` ≥ T (§1.3)."""
  return jnp.pad(x, [(0, 0), (0, length - x.shape[1])]
                 + [(0, 0)] * (x.ndim - 2))


class CriticTerms(NamedTuple):
  loss: Array  # ACGAN_SCALE_D·clas + dis + λ_GP·GP, minimised.
  clas: Array  # style BCE on real + λ_g·(flipped-style BCE on fake).
  dis: Array  # −mean d_real + mean d_fake.
  gradient_penalty: Array
  wasserstein_estimate: Array  # mean d_real − mean d_fake.


def critic_loss(*, clas_real: Array, clas_fake: Array, d_real: Array,
                d_fake: Array, labels: Array, gradient_penalty: Array,
                lambda_g: Array, acgan_scale: float,
                gp_weight: float) -> CriticTerms:
  """loss_d = ACGAN_SCALE_D·loss_d_clas + loss_d_dis + λ·GP (§1.3).

  loss_d_clas = mean_b[BCE(y_b, s_real,b) + λ_g·BCE(1 − y_b, s_fake,b)];
  loss_d_dis = −mean d_real + mean d_fake (unweighted: the re-weighting is
  a generator-side term here, §8.3).

  Args:
    clas_real, clas_fake: style logits of real and transferred sentences [B].
    d_real, d_fake: critic logits [B].
    labels: source styles y [B] (the fakes' target style is 1 − y).
    gradient_penalty: `objectives.gradient_penalty(...).penalty`, scalar.
    lambda_g: the generator's adversarial weight, also on the fake style
      term (may be traced; 0 during AE pre-training).
    acgan_scale: ACGAN_SCALE_D (10).
    gp_weight: λ (10).
  """
  chex.assert_rank([clas_real, clas_fake, d_real, d_fake, labels], 1)
  clas = jnp.mean(sigmoid_bce(labels, clas_real)
                  + lambda_g * sigmoid_bce(1 - labels, clas_fake))
  dis = objectives.wasserstein_critic_loss(d_real, d_fake)
  return CriticTerms(
      loss=acgan_scale * clas + dis.loss + gp_weight * gradient_penalty,
      clas=clas, dis=dis.loss, gradient_penalty=gradient_penalty,
      wasserstein_estimate=dis.wasserstein_estimate)


class GeneratorAdversarialTerms(NamedTuple):
  clas: Array  # BCE of the critic's style logit vs the target style 1 − y.
  dis: Array  # −mean(W ⊙ d_fake), W ≡ 1 without re-weighting.
  effective_sample_size: Array  # ESS of W, B without re-weighting.


def generator_adversarial_terms(*, clas_fake: Array, d_fake: Array,
                                labels: Array,
                                reweight: bool) -> GeneratorAdversarialTerms:
  """loss_g_clas and loss_g_dis of §8.3.

  loss_g_dis = −mean_b W_b·d_fake,b with W = B·softmax(d_fake) held
  constant (`objectives.importance_weights`, Eq. 8 of Wu et al. 2020) when
  `reweight`, else W ≡ 1 (WGAN-GP's generator loss).

  Args:
    clas_fake: the critic's style logits of the transferred samples [B].
    d_fake: critic logits of the transferred samples [B].
    labels: source styles y [B]; the target style is 1 − y.
    reweight: PPO-GAN's sample re-weighting on/off.
  """
  chex.assert_rank([clas_fake, d_fake, labels], 1)
  if reweight:
    weights = objectives.importance_weights(d_fake)
    dis = -jnp.mean(jax.lax.stop_gradient(weights.weights) * d_fake)
    ess = weights.effective_sample_size
  else:
    dis = -jnp.mean(d_fake)
    ess = jnp.asarray(d_fake.shape[0], d_fake.dtype)
  return GeneratorAdversarialTerms(
      clas=jnp.mean(sigmoid_bce(1 - labels, clas_fake)), dis=dis,
      effective_sample_size=ess)


def generator_loss(*, ae: Array, adversarial: GeneratorAdversarialTerms,
                   cosine: Array, cosine_: Array, z_clas: Array,
                   lambda_ae: float, lambda_g: Array, lambda_z: Array,
                   lambda_z1: float, lambda_z2: float,
                   acgan_scale: float) -> Array:
  """loss_g = λ_ae·ae + λ_g·(ACGAN_SCALE_G·clas + dis) + λ_z1·cos
  + λ_z2·cos_ − λ_z·loss_z_clas (§8.3); scalar, minimised.

  `cosine` is the reconstruction's shifted-AE term and `cosine_` the
  transferred sample's; `z_clas` the z-classifier's BCE on the content code
  (the generator maximises it).
  """
  return (lambda_ae * ae
          + lambda_g * (acgan_scale * adversarial.clas + adversarial.dis)
          + lambda_z1 * cosine + lambda_z2 * cosine_ - lambda_z * z_clas)
