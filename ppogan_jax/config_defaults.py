"""The engine's config fields and their defaults; experiment configs extend it.

Every field the train step, loop and checkpointing read is defined here, so
`--config.field=value` overrides are type-checked by ml_collections and an
unknown field is an error.
"""
import importlib.util
import os
import types

import ml_collections

from ppogan_jax import variants


def optimizer(learning_rate: float, *, b1: float = 0.0, b2: float = 0.9,
              eps: float = 1e-8, grad_clip_norm: float = 0.0,
              lr_schedule: str = "constant") -> ml_collections.ConfigDict:
  """Adam settings for one network (grad_clip_norm 0 = no clipping)."""
  return ml_collections.ConfigDict(dict(
      learning_rate=learning_rate, b1=b1, b2=b2, eps=eps,
      grad_clip_norm=grad_clip_norm, lr_schedule=lr_schedule))


def same_optimizer(learning_rate: float,
                   **settings) -> ml_collections.ConfigDict:
  """`config.optimizer` with the same Adam settings for the generator, the
  critic and the classifier (WGAN-GP's scripts: 1e-4, b1=0.5, b2=0.9)."""
  return ml_collections.ConfigDict({
      net: optimizer(learning_rate, **settings)
      for net in ("generator", "critic", "classifier")})


def surrogate_options(**overrides) -> ml_collections.ConfigDict:
  """How the 'paper' surrogate (clip_only, ppogan) is computed.

  The defaults are what results/surrogate_study.md supports.

  ratio_gradient: 'both' (Eq. 6 differentiated through C and C^(t), the
    paper's form), 'current' (C^(t)'s logits a constant) or 'none' (r a
    constant weight).
  advantage_baseline: the constant b in A = f(x̃) − b: 'none' (Eq. 5 as
    written), 'fake_mean' (the fake batch's mean score, which makes the
    surrogate invariant to the critic's arbitrary offset, as the WGAN losses
    are) or 'midpoint' (halfway between the real and fake batches' means).
  old_classifier: when C^(t) is frozen in each generator phase:
    'after_first_finetune' (r ≡ 1 at the phase's first generator step) or
    'phase_start' (before any fine-tune step).
  classifier_steps: fine-tune steps of C before each generator step.
  dual_clip: 0 (Eq. 5) or c > 1: bound the negative-advantage term at c·A
    (`objectives.dual_clipped_surrogate`; not in the paper).
  """
  options = ml_collections.ConfigDict(dict(
      ratio_gradient="both", advantage_baseline="fake_mean",
      old_classifier="after_first_finetune", classifier_steps=1,
      dual_clip=0.0))
  options.update(overrides)
  return options


def base_config() -> ml_collections.ConfigDict:
  """Algorithm 1's defaults from the paper (WGAN-GP λ=10, n_critic=5,
  ε=0.2). An experiment config sets `task`, `data`, `model` and what else
  differs."""
  c = ml_collections.ConfigDict()
  c.task = ""  # tasks.TASKS key: toy, oracle_text, real_text, char_lm, images.
  c.seed = 0  # parameters, data order and noise all derive from it.
  c.objective = "ppogan"  # a variants.VARIANTS name.
  c.batch_size = 64  # global, split over the devices and processes.
  c.num_steps = 1000  # outer steps (one critic phase + one generator phase).
  c.n_critic = 5  # critic steps per outer step, each on a new real batch.
  c.n_gen = 5  # generator steps per outer step (Algorithm 1's n_g).
  c.gp_weight = 10.0  # λ of the gradient penalty (0: none).
  c.consistency_weight = 0.0  # CT-GAN's consistency term weight.
  c.epsilon = 0.2  # ε, the clip range of Eq. 5.
  c.epsilon_schedule = "constant"  # or 'linear' (decays to 0 at num_steps).
  c.surrogate = surrogate_options()  # how Eq. 5-6 are computed (above).
  c.generator_ema_decay = 0.0  # EMA of G's weights for evaluation (0: off).
  c.optimizer = same_optimizer(1e-4)  # per network: generator, critic, C.
  c.unroll_inner_loops = True  # False: rolled scans (step.py), compile once.
  c.compute_dtype = "float32"  # networks' dtype; 'bfloat16' keeps params f32.
  c.log_every = 100  # steps between metric rows (TensorBoard + JSONL).
  c.eval_every = 1000  # steps between evaluations and sample dumps.
  c.eval_at_start = False  # also evaluate the initial generator (step 0).
  c.checkpoint_every = 1000  # steps between Orbax checkpoints.
  c.keep_checkpoints = 3  # checkpoints kept (the latest ones).
  c.eval = ml_collections.ConfigDict(dict(
      num_samples=1024))  # samples generated per evaluation.
  c.distributed = ml_collections.ConfigDict(dict(
      # jax.distributed.initialize arguments (multi-host runs only).
      enabled=False, coordinator_address="", num_processes=0, process_id=-1))
  return c


PPO_GENERATOR_STEPS = 5


def generator_steps(objective: str, *, baseline: int = 1) -> int:
  """n_gen for `objective`: the paper's n_g = 5 generator steps per critic
  phase for the clipped-surrogate variants (its appendix: the surrogate is
  what makes n_g = n_c = 5 safe; with n_gen = 1 and C^(t) frozen after the
  phase's first fine-tune, Eq. 5 has r ≡ 1 and is the WGAN loss), and
  `baseline`, the baseline paper's own schedule, for the others."""
  return PPO_GENERATOR_STEPS if uses_surrogate(objective) else baseline


def uses_surrogate(objective: str) -> bool:
  """Whether `objective` trains its generator on the clipped surrogate (an
  unknown name is False here; the config check reports it)."""
  variant = variants.VARIANTS.get(objective)
  return variant is not None and variant.uses_classifier


def config_module(path: str) -> types.ModuleType:
  """The config file at `path`, loaded as a module (config files are loaded
  by path, as `--config=configs/X.py` does, not imported from a package)."""
  name = os.path.splitext(os.path.basename(path))[0]
  spec = importlib.util.spec_from_file_location(name, path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def config_arguments(arg: str, defaults: tuple[str, ...], *,
                     usage: str) -> list[str]:
  """The comma-separated fields of `--config=FILE:ARG` (e.g. `ppogan,40,cpu`
  or `reweight_only,small`), one per entry of `defaults`; a missing or empty
  field takes its default. ValueError, naming `usage`, for extra fields."""
  fields = arg.split(",") if arg else []
  if len(fields) > len(defaults):
    raise ValueError(f"config argument {arg!r}: expected at most "
                     f"{len(defaults)} comma-separated fields, {usage}")
  fields += [""] * (len(defaults) - len(fields))
  return [field or default for field, default in zip(fields, defaults)]


def load_config(path: str, *args) -> ml_collections.ConfigDict:
  """`get_config(*args)` of the config file at `path`: what
  `--config=path[:arg]` gives the command line."""
  return config_module(path).get_config(*args)


def sibling_config(config_file: str, name: str) -> types.ModuleType:
  """The config module `name`.py in the directory of `config_file`, for
  configs that extend another."""
  return config_module(os.path.join(
      os.path.dirname(os.path.abspath(config_file)), name + ".py"))
