"""DCGAN on scikit-learn's 8×8 digits: the small analogue of PPO-GAN's
Figure 3 / Table 5 study (DCGAN with and without sample re-weighting).

The paper trains DCGAN on CIFAR-10 over 200 random configurations (lr, batch
size, ReLU/LeakyReLU, base filters 32/64); this config is one such run on the
1,797 bundled digits (no download), upsampled to 16×16 by pixel repetition so
that G and D have two resolution stages. The objective is the argument:
`non_saturating` (plain DCGAN), `reweight_only` (WGAN-GP critic with the
Eq. 8 re-weighting), `ppogan`, `ppogan_reference`, `clip_only`, `wgan_gp`,
`ct_gan` (turns on critic dropout and the consistency term). Adam(1e-4,
β=(0.5, 0.9)), λ_GP = 10 (0 for the non-Wasserstein losses), 5 critic steps
per generator step, as WGAN-GP's gan_mnist.py (the clipped-surrogate variants:
5 generator steps per critic phase, the paper's n_g = 5). Evaluation: IS/FID of
a small CNN trained on the digits' labels (cached in config.data.cache_dir),
not Inception scores. The convolutions are computed as matrix products
(model.conv_impl='matmul', 5× faster on XLA:CPU; 'xla' on accelerators).

  python -m ppogan_jax.main --config=configs/digits_dcgan.py \
      --workdir=/tmp/digits_ppogan
  python -m ppogan_jax.main --config=configs/digits_dcgan.py:reweight_only \
      --workdir=/tmp/digits_rw
  python -m ppogan_jax.main --config=configs/digits_dcgan.py:non_saturating \
      --workdir=/tmp/digits_dcgan
"""
import ml_collections

from ppogan_jax import config_defaults
from ppogan_jax import variants


def get_config(objective: str = "ppogan"):
  c = config_defaults.base_config()
  c.task = "images"
  c.objective = objective
  c.data = dict(name="digits", image_size=16, data_dir="", cache_dir="")
  c.model = dict(
      architecture="dcgan", latent_dim=64, generator_filters=64,
      critic_filters=64, generator_activation="relu",
      critic_activation="leaky_relu", generator_batch_norm=True,
      critic_norm="none", critic_dropout=0.0, classifier_norm="none",
      conv_impl="matmul")
  c.num_steps = 5000
  c.n_gen = config_defaults.generator_steps(objective)
  if variants.VARIANTS.get(objective, variants.VARIANTS["wgan_gp"]
                           ).adversarial_loss != "wasserstein":
    c.gp_weight = 0.0  # Plain DCGAN losses: no gradient penalty.
  if objective == "ct_gan":
    c.consistency_weight = 2.0
    c.model.critic_dropout = 0.5
  c.optimizer = config_defaults.same_optimizer(1e-4, b1=0.5, b2=0.9)
  c.eval.num_samples = 2000
  c.eval.is_splits = 10
  c.eval.num_real = 1797
  c.eval.inception_weights = ""  # pytorch-fid's .pth/.npz for Inception IS/FID.
  c.eval.classifier = ml_collections.ConfigDict(dict(
      width=32, feature_dim=128, steps=1500, batch_size=64,
      learning_rate=1e-3))
  return c
