"""PPO-GAN on CIFAR-10 with the ResNet of the public code: Table 1 of Wu et
al. (2020), row "Ours" (IS 8.69 ± .13, FID 10.70 ± .10).

Settings of the reference code (docs/reference_code.md §3.1, §2.5): batch 32,
5 critic steps, then 5 × [1 classifier step + 1 generator step] on one latent
batch; λ_GP = 5 and the CT-GAN consistency term (weight 2, critic dropout
0.2/0.5/0.5) in every row; ε = 0.4; Adam β = (0, 0.9); critic lr 1e-4,
generator and classifier lr 2e-5 (1e-4 / 5), classifier gradients clipped to
global norm 0.5; linear lr decay to 0 over the run. G width 256, critic and
C width 332, z ∈ R^128. model.conv_impl='auto' computes the convolutions'
weight gradients as matrix products on CPU (ppogan_jax/models/matmul_conv.py;
same maps and parameters) and uses the library convolutions elsewhere.
unroll_inner_loops=False rolls the 5 critic and 5 classifier + generator
steps into loops whose bodies compile once: a third of the compile time and
half the XLA temporary memory of the unrolled iteration on CPU, the same
steps to rounding (benchmarks/NOTES.md, 2026-12-07, session 15). The
reference decays over ≈459k outer iterations, so its lr stays ≈ constant
over a run of this length.

Other rows, by the argument:
  ppogan            Table 1 "Ours" (the paper's Eq. 5/6 surrogate)
  ppogan_reference  the code's one-sided surrogate and frozen old odds
  reweight_only     Table 1 "re-weighting only" (8.45 ± .14, 13.21 ± .60):
                    the same run without the classifier and clipping
  ct_gan            CT-GAN (8.12): λ_GP 10, CT 2, 1 generator step per 5
                    critic steps, batch 64, Adam 2e-4 for both, widths 128
  wgan_gp           WGAN-GP ResNet (7.86): as ct_gan without the
                    consistency term and without critic dropout

The default IS/FID come from a small CNN trained on CIFAR-10's labels (a
stand-in, not comparable with the paper's numbers); for Inception IS/FID
pass a local copy of pytorch-fid's weights with
--config.eval.inception_weights=/path/pt_inception-2015-12-05-6726825d.pth
(the paper uses 50k samples: --config.eval.num_samples=50000
--config.eval.num_real=50000). The data must be prepared once with
`tfds build cifar10 --file_format=array_record` (or
--config.data.data_dir=DIR pointing at a prepared copy).

  python -m ppogan_jax.main --config=configs/cifar10_resnet_ppogan.py \
      --workdir=/tmp/cifar_ppogan
  python -m ppogan_jax.main \
      --config=configs/cifar10_resnet_ppogan.py:reweight_only \
      --workdir=/tmp/cifar_rw
  python -m ppogan_jax.main --config=configs/cifar10_resnet_ppogan.py:ct_gan \
      --workdir=/tmp/cifar_ctgan
"""
import ml_collections

from ppogan_jax import config_defaults

BASELINES = ("ct_gan", "wgan_gp")


def get_config(objective: str = "ppogan"):
  c = config_defaults.base_config()
  c.task = "images"
  c.objective = objective
  c.data = dict(name="cifar10", image_size=32, data_dir="", cache_dir="")
  c.model = dict(
      architecture="resnet", latent_dim=128, generator_width=256,
      critic_width=332, critic_dropout=(0.2, 0.5, 0.5),
      classifier="resnet_bn", classifier_width=332, conv_impl="auto")
  c.batch_size = 32
  c.unroll_inner_loops = False
  c.num_steps = 100_000
  c.gp_weight = 5.0
  c.consistency_weight = 2.0
  c.epsilon = 0.4
  c.optimizer.critic = config_defaults.optimizer(
      1e-4, b1=0.0, b2=0.9, lr_schedule="linear")
  c.optimizer.generator = config_defaults.optimizer(
      2e-5, b1=0.0, b2=0.9, lr_schedule="linear")
  c.optimizer.classifier = config_defaults.optimizer(
      2e-5, b1=0.0, b2=0.9, grad_clip_norm=0.5, lr_schedule="linear")
  if objective in BASELINES:
    c.batch_size = 64
    c.n_gen = 1
    c.gp_weight = 10.0
    c.model.generator_width = 128
    c.model.critic_width = 128
    for net in ("generator", "critic"):
      c.optimizer[net] = config_defaults.optimizer(
          2e-4, b1=0.0, b2=0.9, lr_schedule="linear")
    if objective == "wgan_gp":
      c.consistency_weight = 0.0
      c.model.critic_dropout = (0.0, 0.0, 0.0)
  c.eval.num_samples = 10_000
  c.eval.is_splits = 10
  c.eval.num_real = 10_000
  c.eval.inception_weights = ""  # pytorch-fid's .pth/.npz for Inception IS/FID.
  c.eval.classifier = ml_collections.ConfigDict(dict(
      width=64, feature_dim=256, steps=5000, batch_size=128,
      learning_rate=1e-3))
  return c
