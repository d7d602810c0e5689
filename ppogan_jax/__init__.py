"""ppogan_jax: PPO-GAN (Wu et al., NeurIPS 2020) and its baselines in
JAX/Flax."""
from ppogan_jax.objectives import approximate_kl
from ppogan_jax.objectives import centred_advantage
from ppogan_jax.objectives import classifier_loss
from ppogan_jax.objectives import ClassifierLoss
from ppogan_jax.objectives import clip_binding_fraction
from ppogan_jax.objectives import clip_fraction
from ppogan_jax.objectives import clip_weights
from ppogan_jax.objectives import clipped_surrogate
from ppogan_jax.objectives import dual_clipped_surrogate
from ppogan_jax.objectives import consistency_term
from ppogan_jax.objectives import CriticLoss
from ppogan_jax.objectives import density_ratio
from ppogan_jax.objectives import density_ratio_constant_old
from ppogan_jax.objectives import GANLoss
from ppogan_jax.objectives import gradient_penalty
from ppogan_jax.objectives import GradientPenalty
from ppogan_jax.objectives import hinge_gan_loss
from ppogan_jax.objectives import importance_weights
from ppogan_jax.objectives import ImportanceWeights
from ppogan_jax.objectives import least_squares_gan_loss
from ppogan_jax.objectives import minimax_gan_loss
from ppogan_jax.objectives import non_saturating_gan_loss
from ppogan_jax.objectives import reference_clipped_surrogate
from ppogan_jax.objectives import reference_density_ratio
from ppogan_jax.objectives import relativistic_standard_gan_loss
from ppogan_jax.objectives import wasserstein_critic_loss
from ppogan_jax.objectives import wasserstein_gan_loss

__version__ = "0.1.0"

__all__ = (
    "ClassifierLoss",
    "CriticLoss",
    "GANLoss",
    "GradientPenalty",
    "ImportanceWeights",
    "approximate_kl",
    "centred_advantage",
    "classifier_loss",
    "clip_binding_fraction",
    "clip_fraction",
    "clip_weights",
    "clipped_surrogate",
    "dual_clipped_surrogate",
    "consistency_term",
    "density_ratio",
    "density_ratio_constant_old",
    "gradient_penalty",
    "hinge_gan_loss",
    "importance_weights",
    "least_squares_gan_loss",
    "minimax_gan_loss",
    "non_saturating_gan_loss",
    "reference_clipped_surrogate",
    "reference_density_ratio",
    "relativistic_standard_gan_loss",
    "wasserstein_critic_loss",
    "wasserstein_gan_loss",
)
