"""Synthetic-oracle text GAN: RelGAN generator + PPO-GAN (the paper's Table 2).

Table 2 cells (NLL_oracle, L=20 / L=40): MLE 9.038 / 10.411, RelGAN 6.680 /
6.765, WGAN-GP 6.89 / 6.78, PPO-GAN 5.67 / 6.14, real data 5.750 / 4.071.
The argument is "objective[,length]":

  python -m ppogan_jax.main --config=configs/text_relgan.py --workdir=/tmp/oracle_ppogan           # PPO-GAN, L=20
  python -m ppogan_jax.main --config=configs/text_relgan.py:ppogan,40 --workdir=/tmp/oracle_ppogan40
  python -m ppogan_jax.main --config=configs/text_relgan.py:rsgan --workdir=/tmp/oracle_relgan     # RelGAN row
  python -m ppogan_jax.main --config=configs/text_relgan.py:wgan_gp --workdir=/tmp/oracle_wgan     # WGAN-GP row
  python -m ppogan_jax.main --config=configs/text_relgan.py:ppogan_reference --workdir=/tmp/oracle_ref

The PPO-GAN rows (clip_only, ppogan, ppogan_reference) follow the paper's
appendix 6.3.3: RelGAN architecture, 5 G and 5 D steps per iteration, Adam G
lr 1e-4 and D lr 3e-4, ε = 0.2, gradient penalty as in WGAN-GP (λ = 10),
linear lr annealing. The baseline rows run RelGAN's own schedule (the
paper presents n_g = 5 as what the surrogate makes possible): 1 G step per
5 D steps, Adam 1e-4 for both with no decay, clip 5; `rsgan` without and
`wgan_gp` with the gradient penalty (λ = 10). Every row: the same
architecture, 150 MLE epochs (Adam 1e-2, clip 5) and 3000 adversarial
iterations as in RelGAN. Where the public code
differs (docs/reference_code.md §3.3, §10): it takes 1 G step per 5 D steps,
lr 1e-4 for both, ε = 0.4, λ = 5, no annealing, Adam β = (0.9, 0.999) with
clip 5, no re-weighting by default ('WGAN' loss), and inverse temperature
0.2·5^(i/5000). RelGAN's own loss (`rsgan`) uses no gradient penalty. The
Gumbel-softmax inverse temperature follows RelGAN: β = 100^(i/5000) ('exp',
N = 5000 as the reference hard-codes). All adversarial variants with the
same data/model/pretrain/seed fields share one cached MLE generator (in
data.cache_dir).
"""
import ml_collections

from ppogan_jax import config_defaults


def get_config(arg: str = "ppogan"):
  objective, _, length = arg.partition(",")
  c = config_defaults.base_config()
  c.task = "oracle_text"
  c.objective = objective
  c.data = ml_collections.ConfigDict(dict(
      vocab_size=5000, length=int(length or 20), num_samples=10_000,
      oracle_seed=0, cache_dir="~/.cache/ppogan_jax"))
  c.model = ml_collections.ConfigDict(dict(
      embed_dim=32, mem_slots=1, num_heads=2, head_size=256,
      dis_embed_dim=64, num_representations=64, filter_sizes=(2, 3, 4, 5),
      num_filters=300, dis_dropout=0.25))
  c.temperature = ml_collections.ConfigDict(dict(
      maximum=100.0, schedule="exp", horizon=5000))
  c.pretrain = ml_collections.ConfigDict(dict(
      epochs=150, batch_size=64, learning_rate=1e-2, grad_clip_norm=5.0,
      eval_every_epochs=10))
  c.batch_size = 64
  c.num_steps = 3000
  c.n_critic = 5
  c.n_gen = config_defaults.generator_steps(objective)
  c.gp_weight = 0.0 if objective == "rsgan" else 10.0
  c.epsilon = 0.2
  ppo = config_defaults.uses_surrogate(objective)
  schedule = "linear" if ppo else "constant"
  c.optimizer.generator = config_defaults.optimizer(
      1e-4, b1=0.9, b2=0.999, grad_clip_norm=5.0, lr_schedule=schedule)
  c.optimizer.critic = config_defaults.optimizer(
      3e-4 if ppo else 1e-4, b1=0.9, b2=0.999, grad_clip_norm=5.0,
      lr_schedule=schedule)
  c.optimizer.classifier = config_defaults.optimizer(
      3e-4, b1=0.9, b2=0.999, grad_clip_norm=5.0, lr_schedule="linear")
  c.log_every = 10
  c.eval_every = 100
  c.checkpoint_every = 100
  c.eval.num_samples = 10_000
  return c
