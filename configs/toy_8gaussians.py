"""WGAN-GP's toy 8-Gaussians task (Gulrajani et al. 2017, Fig. 2; gan_toy.py).

MLP G and critic (3 × 512 ReLU), batch 256, Adam(1e-4, β=(0.5, 0.9)), GP
λ=0.1, 5 critic steps per generator step, as gan_toy.py; the clipped-surrogate
variants (clip_only, ppogan, ppogan_reference) take the paper's 5 generator
steps per critic phase instead (results/surrogate_study.md). The objective is a
config choice: wgan_gp, reweight_only, clip_only, ppogan, ppogan_reference, or a
baseline (minimax, non_saturating, rsgan, hinge, least_squares).

  python -m ppogan_jax.main --config=configs/toy_8gaussians.py \
      --workdir=/tmp/toy
  python -m ppogan_jax.main --config=configs/toy_8gaussians.py:wgan_gp \
      --workdir=/tmp/toy_wgan
"""
from ppogan_jax import config_defaults


def get_config(objective: str = "ppogan"):
  c = config_defaults.base_config()
  c.task = "toy"
  c.objective = objective
  c.data = dict(name="8gaussians")
  c.model = dict(hidden=512, depth=3, latent_dim=2, critic_dropout=0.0)
  c.batch_size = 256
  c.num_steps = 2000
  c.n_gen = config_defaults.generator_steps(objective)
  c.gp_weight = 0.1
  c.optimizer = config_defaults.same_optimizer(1e-4, b1=0.5, b2=0.9)
  c.log_every = 50
  c.eval_every = 500
  c.checkpoint_every = 500
  c.eval.num_samples = 2048
  return c
