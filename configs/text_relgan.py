"""Synthetic-oracle text GAN: RelGAN generator + PPO-GAN (the paper's Table 2).

Table 2 cells (NLL_oracle, L=20 / L=40): MLE 9.038 / 10.411, RelGAN 6.680 /
6.765, WGAN-GP 6.89 / 6.78, PPO-GAN 5.67 / 6.14, real data 5.750 / 4.071.
The argument is "objective[,length[,protocol]]":

  python -m ppogan_jax.main --config=configs/text_relgan.py \
      --workdir=/tmp/oracle_ppogan                  # PPO-GAN, L=20
  python -m ppogan_jax.main --config=configs/text_relgan.py:ppogan,40 \
      --workdir=/tmp/oracle_ppogan40                # PPO-GAN, L=40
  python -m ppogan_jax.main --config=configs/text_relgan.py:rsgan \
      --workdir=/tmp/oracle_relgan                  # RelGAN row
  python -m ppogan_jax.main --config=configs/text_relgan.py:wgan_gp \
      --workdir=/tmp/oracle_wgan                    # WGAN-GP row
  python -m ppogan_jax.main --config=configs/text_relgan.py:ppogan,20,cpu \
      --workdir=/tmp/oracle_cpu                     # CPU protocol

Protocol 'paper' (the default) is the paper's budget; 'cpu' runs the same
schedule in minutes per row on a 2-core CPU (below).

Every row: RelGAN's architecture, 150 MLE epochs (Adam 1e-2, clip 5, batch
64), then 3000 adversarial iterations with batch 64, critic steps before
the generator steps (Algorithm 1; the public text code runs the generator
step first, which differs only at the first and last iteration), an
evaluation before adversarial training and every 100 iterations (10,000
samples).

The PPO-GAN rows (clip_only, ppogan, ppogan_reference) follow the paper's
appendix 6.3.3: 5 G and 5 D steps per iteration, Adam G lr 1e-4 and D lr
3e-4, ε = 0.2, gradient penalty as in WGAN-GP (λ = 10), linear lr annealing.
The n_g = 5 generator steps of an iteration share one Gumbel noise batch
(PPO's epochs over one batch of samples; the public code takes one G step).
The appendix does not give the classifier's learning rate: C uses the public
code's Adam 1e-4 with clip 5, annealed like the others. The baseline rows
run RelGAN's own schedule (the paper presents n_g = 5 as what the surrogate
makes possible): 1 G step per 5 D steps, Adam 1e-4 for both with no decay,
clip 5; `rsgan` without and `wgan_gp` with the gradient penalty (λ = 10).
The Gumbel-softmax inverse temperature follows RelGAN: β = 100^(i/5000)
('exp', N = 5000 as the reference hard-codes; the paper's β_max = 1000 is
for EMNLP News, configs/text_relgan_emnlp.py). Where the public code
differs (docs/reference_code.md §3.3, §10): 1 G step per 5 D steps, lr 1e-4
for all, ε = 0.4, λ = 5, no annealing, no re-weighting by default ('WGAN'
loss), and inverse temperature 0.2·5^(i/5000).

The 'cpu' protocol keeps the oracle, the data (10,000 sentences, V = 5000),
the batch, every row's schedule and the evaluation, and narrows the networks
where this CPU spends its time (measured with benchmarks/text_step.py
--protocol=cpu; benchmarks/NOTES.md): the generator's relational memory has
2 heads of 32 (memory 64, against 2 × 256 = 512; the oracle LSTM has 32
units), the critic and classifier 8 representations of 1 embedding unit
with 64 filters per height (against 64 representations and 300 filters).
MLE pre-training runs 40 epochs (its NLL_gen has levelled off by then), the
adversarial phase 1000 iterations with the learning-rate decay over 1000
and the Gumbel horizon scaled by 1000/3000, so that β passes through the
same values as over the paper's 3000 iterations; evaluation every 200.

Two settings change the arithmetic's order, not its result, and make the
paper protocol faster on CPU (benchmarks/NOTES.md, 2026-12-07, session 14):
`model.max_pool_second_order='winning_window'` computes the gradient
penalty's second derivative of the critic's max-over-time with the winning
windows' custom gradient instead of autodiff's (the same values and first
derivatives, the second derivative equal to rounding), and
`unroll_inner_loops=False` rolls the iteration's critic, classifier and
generator steps into loops whose bodies compile once (a third of the compile
time). The 'cpu' protocol keeps 'autodiff' and unrolled loops, the
arithmetic results/oracle.md's rows were trained with (its narrowed critic
gains nothing from the max-pool rule).

All adversarial variants with the same data/model/pretrain/seed fields
share one cached MLE generator (in data.cache_dir; `--mode=pretrain` makes
it alone).
"""
import ml_collections

from ppogan_jax import config_defaults


PROTOCOLS = ("paper", "cpu")
CPU_MODEL = dict(head_size=32, dis_embed_dim=8, num_representations=8,
                 num_filters=64, max_pool_second_order="autodiff")
CPU_PRETRAIN = dict(epochs=40, eval_every_epochs=5)
CPU_STEPS = 1000
CPU_TEMPERATURE_HORIZON = 5000 * CPU_STEPS // 3000


def get_config(arg: str = "ppogan"):
  objective, length, protocol = config_defaults.config_arguments(
      arg, ("ppogan", "20", "paper"),
      usage="configs/text_relgan.py:OBJECTIVE[,LENGTH[,PROTOCOL]]")
  if protocol not in PROTOCOLS:
    raise ValueError(f"configs/text_relgan.py:{arg}: the third field is the "
                     f"protocol, one of {PROTOCOLS}, not {protocol!r}")
  c = config_defaults.base_config()
  c.task = "oracle_text"
  c.objective = objective
  c.data = ml_collections.ConfigDict(dict(
      vocab_size=5000, length=int(length), num_samples=10_000,
      oracle_seed=0, cache_dir="~/.cache/ppogan_jax"))
  c.model = ml_collections.ConfigDict(dict(
      embed_dim=32, mem_slots=1, num_heads=2, head_size=256,
      dis_embed_dim=64, num_representations=64, filter_sizes=(2, 3, 4, 5),
      num_filters=300, dis_dropout=0.25,
      max_pool_second_order="winning_window"))
  c.temperature = ml_collections.ConfigDict(dict(
      maximum=100.0, schedule="exp", horizon=5000))
  c.pretrain = ml_collections.ConfigDict(dict(
      epochs=150, batch_size=64, learning_rate=1e-2, grad_clip_norm=5.0,
      eval_every_epochs=10))
  c.num_steps = 3000
  c.n_gen = config_defaults.generator_steps(objective)
  c.gp_weight = 0.0 if objective == "rsgan" else 10.0
  ppo = config_defaults.uses_surrogate(objective)
  schedule = "linear" if ppo else "constant"
  c.optimizer.generator = config_defaults.optimizer(
      1e-4, b1=0.9, b2=0.999, grad_clip_norm=5.0, lr_schedule=schedule)
  c.optimizer.critic = config_defaults.optimizer(
      3e-4 if ppo else 1e-4, b1=0.9, b2=0.999, grad_clip_norm=5.0,
      lr_schedule=schedule)
  c.optimizer.classifier = config_defaults.optimizer(
      1e-4, b1=0.9, b2=0.999, grad_clip_norm=5.0, lr_schedule="linear")
  c.log_every = 10
  c.eval_every = 100
  c.unroll_inner_loops = False
  c.eval_at_start = True
  c.checkpoint_every = 100
  c.eval.num_samples = 10_000
  if protocol == "cpu":
    narrow_for_cpu(c)
  return c


def narrow_for_cpu(c: ml_collections.ConfigDict) -> None:
  """The CPU protocol: the paper's oracle, data, batch and evaluation with
  narrower networks and a 1000-iteration schedule, in the arithmetic of the
  finished rows (see the docstring)."""
  c.model.update(CPU_MODEL)
  c.unroll_inner_loops = True
  c.pretrain.update(CPU_PRETRAIN)
  c.num_steps = CPU_STEPS
  c.temperature.horizon = CPU_TEMPERATURE_HORIZON
  c.eval_every = 200

