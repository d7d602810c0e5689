"""The training objectives a config can name, as combinations of parts.

Each variant says how the critic is trained (adversarial loss, re-weighted or
not) and how the generator is trained (the adversarial loss itself, or a
clipped surrogate of Eq. 5 with the ratio of Eq. 6). The train step reads a
`Variant`; it never branches on the variant's name.
"""
import dataclasses
from typing import Callable

from ppogan_jax import objectives


@dataclasses.dataclass(frozen=True)
class Variant:
  """One training objective.

  Attributes:
    adversarial_loss: the (critic, generator) loss pair for (real, fake)
      scores; 'wasserstein' uses Eq. 7 for the critic.
    reweight: weight the critic's fake term by Eq. 8's importance weights.
    surrogate: None (generator minimises the adversarial generator loss),
      'paper' (Eq. 5 with the Eq. 6 ratio at the same sample) or 'reference'
      (the public code's one-sided surrogate and clamped ratio, whose old side
      is a separate sample drawn before the generator phase).
    consistency: requires the CT-GAN consistency term (weight > 0).
  """
  adversarial_loss: str
  reweight: bool = False
  surrogate: str | None = None
  consistency: bool = False

  @property
  def uses_classifier(self) -> bool:
    return self.surrogate is not None


VARIANTS: dict[str, Variant] = {
    "wgan_gp": Variant("wasserstein"),
    "ct_gan": Variant("wasserstein", consistency=True),
    "reweight_only": Variant("wasserstein", reweight=True),
    "clip_only": Variant("wasserstein", surrogate="paper"),
    "ppogan": Variant("wasserstein", reweight=True, surrogate="paper"),
    "ppogan_reference": Variant(
        "wasserstein", reweight=True, surrogate="reference"),
    "minimax": Variant("minimax"),
    "non_saturating": Variant("non_saturating"),
    "rsgan": Variant("relativistic_standard"),
    "hinge": Variant("hinge"),
    "least_squares": Variant("least_squares"),
}

ADVERSARIAL_LOSSES: dict[str, Callable[..., objectives.GANLoss]] = {
    "wasserstein": objectives.wasserstein_gan_loss,
    "minimax": objectives.minimax_gan_loss,
    "non_saturating": objectives.non_saturating_gan_loss,
    "relativistic_standard": objectives.relativistic_standard_gan_loss,
    "hinge": objectives.hinge_gan_loss,
    "least_squares": objectives.least_squares_gan_loss,
}


def get_variant(name: str) -> Variant:
  """The Variant called `name`; ValueError listing the valid names."""
  if name not in VARIANTS:
    raise ValueError(
        f"unknown objective {name!r}; choose one of {sorted(VARIANTS)}")
  return VARIANTS[name]
