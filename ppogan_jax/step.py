"""Algorithm 1 of PPO-GAN as one pure function `(GANState, real) -> GANState`.

One outer iteration:
  1. n_critic critic updates (`critic_update`): adversarial critic loss
     (Eq. 7, with the Eq. 8 importance weights when the variant re-weights)
     + λ_GP·gradient penalty (+ λ_CT·consistency term), each on a fresh real
     batch and fresh fakes;
  2. the generator phase (`generator_phase`): n_gen generator updates
     (`generator_update`). For the PPO variants each is preceded by
     `surrogate.classifier_steps` classifier fine-tune steps
     (`classifier_update`), and the generator maximises the clipped surrogate
     (Eq. 5) whose ratio (Eq. 6) compares the fine-tuned classifier C with the
     copy C^(t) frozen once per phase (`surrogate.old_classifier`: after the
     phase's first fine-tune, so that r ≡ 1 at its first generator step, or
     at the start of the phase). All n_gen steps of a phase use one latent
     batch, as PPO takes several epochs over one batch of samples (and as the
     public CIFAR code does).

Each part is a top-level function of a `StepContext` (what the config and
the task fix) and explicit arrays, so it can be called and tested alone;
`make_train_step` composes them into the one function that is jitted.

The inner loops are `lax.scan`s, unrolled by default (they have at most a
handful of iterations): XLA:CPU runs convolution weight-gradients inside a
while loop many times slower, and an unrolled scan lets XLA's cost analysis
count every iteration's FLOPs. `config.unroll_inner_loops=False` rolls them:
each loop body compiles once (the oracle text step at the paper's sizes:
35 s instead of 70 s, at the same speed; configs/text_relgan.py's paper
protocol rolls them), with the same arithmetic fused differently, so the
numbers agree up to rounding, not bit for bit. The
step's randomness is `fold_in(state.rng, state.step)`; every schedule is a
function of the traced step, so the function compiles once.
"""
import dataclasses
import functools
from typing import Any, Callable, Mapping

import jax
import jax.numpy as jnp
import ml_collections
import optax

from ppogan_jax import objectives
from ppogan_jax import optim
from ppogan_jax import tasks as tasks_lib
from ppogan_jax import variants
from ppogan_jax.state import GANState, ModelState, apply_model

Array = jax.Array
Metrics = dict[str, Array]

RATIO_FORMS: dict[str, Callable[[Array, Array], Array]] = {
    "both": objectives.density_ratio,
    "current": objectives.density_ratio_constant_old,
    "none": lambda logits, old_logits: jax.lax.stop_gradient(
        objectives.density_ratio(logits, old_logits)),
}
ADVANTAGE_BASELINES = ("none", "fake_mean", "midpoint")
OLD_CLASSIFIER_SNAPSHOTS = ("after_first_finetune", "phase_start")


@dataclasses.dataclass(frozen=True)
class StepContext:
  """What a config and a task fix about the train step.

  Attributes:
    config: the experiment config (objective, n_critic, n_gen, weights, ε,
      the `surrogate` options).
    task: the models' latent sampler, generator kwargs and critic view.
    variant: `variants.get_variant(config.objective)`.
    constrain_batch: applied to every generated batch (a sharding constraint
      over the data axis when run on a mesh).
  """
  config: ml_collections.ConfigDict
  task: tasks_lib.Task
  variant: variants.Variant
  constrain_batch: Callable[[Array], Array]

  @property
  def adversarial(self) -> Callable[..., objectives.GANLoss]:
    return variants.ADVERSARIAL_LOSSES[self.variant.adversarial_loss]


def _flat(scores: Array) -> Array:
  """[B] or [B, K] critic/classifier outputs as one vector of B·K scores."""
  return scores.reshape(-1)


def _apply_gradients(state: ModelState, grads: Any,
                     collections: Mapping[str, Any]) -> ModelState:
  return state.apply_gradients(grads=grads).replace(collections=collections)


def summarise(stacked: Metrics) -> Metrics:
  """Reduces metrics stacked over sub-steps: `*_min` by min, `*_max` by max,
  everything else by mean."""
  def reduce(name, value):
    if name.endswith("_min"):
      return value.min()
    if name.endswith("_max"):
      return value.max()
    return value.mean()
  return {k: reduce(k, v) for k, v in stacked.items()}


def generate(ctx: StepContext, state: GANState, params: Any, z: Array,
             rng: Array) -> tuple[Array, Mapping[str, Any]]:
  """G_params(z) in train mode, as the critic sees it, and G's collections."""
  out, collections = apply_model(
      state.generator, params, z, rng=rng, train=True,
      **ctx.task.generator_kwargs(state.step))
  return ctx.constrain_batch(ctx.task.critic_view(out)), collections


def fresh_fakes(ctx: StepContext, state: GANState, batch_size: int,
                key: Array) -> Array:
  """A new generated batch, as constants (only the critic/C learn from it)."""
  z_key, g_key = jax.random.split(key)
  z = ctx.constrain_batch(ctx.task.sample_latent(z_key, batch_size))
  fake, _ = generate(ctx, state, state.generator.params, z, g_key)
  return jax.lax.stop_gradient(fake)


def critic_loss(ctx: StepContext, critic: ModelState, params: Any,
                real: Array, fake: Array, key: Array
                ) -> tuple[Array, Metrics]:
  """The critic's minimised loss on (real, fake) critic inputs, and metrics.

  Adversarial loss (Eq. 7 with Eq. 8's weights when the variant re-weights)
  + λ_GP·gradient penalty + λ_CT·consistency term (when enabled).
  """
  config, variant = ctx.config, ctx.variant
  real_key, fake_key, gp_key, ct_key = jax.random.split(key, 4)

  def scores(x, rng):
    return apply_model(critic, params, x, rng=rng, train=True)[0]

  real_scores = _flat(scores(real, real_key))
  fake_scores = _flat(scores(fake, fake_key))
  metrics = {"critic/real_score": real_scores.mean(),
             "critic/fake_score": fake_scores.mean()}
  if variant.adversarial_loss == "wasserstein":
    weights = None
    if variant.reweight:
      iw = objectives.importance_weights(fake_scores)
      weights = iw.weights
      metrics["critic/importance_ess"] = iw.effective_sample_size
      metrics["critic/importance_weight_max"] = iw.weights.max()
    wl = objectives.wasserstein_critic_loss(real_scores, fake_scores, weights)
    adv_loss = wl.loss
    metrics["critic/wasserstein_estimate"] = wl.wasserstein_estimate
  else:
    adv_loss = ctx.adversarial(real_scores, fake_scores).discriminator
  metrics["critic/adversarial_loss"] = adv_loss
  loss = adv_loss
  if config.gp_weight > 0:
    gp_drop, gp_alpha = jax.random.split(gp_key)
    gp = objectives.gradient_penalty(
        lambda x: scores(x, gp_drop), real, fake, gp_alpha)
    loss = loss + config.gp_weight * gp.penalty
    metrics["critic/gradient_penalty"] = gp.penalty
    metrics["critic/interpolate_grad_norm"] = gp.grad_norm
  if config.consistency_weight > 0:
    k1, k2 = jax.random.split(ct_key)
    s1, h1 = apply_model(critic, params, real, rng=k1, train=True,
                         return_features=True)[0]
    s2, h2 = apply_model(critic, params, real, rng=k2, train=True,
                         return_features=True)[0]
    ct = objectives.consistency_term(
        _flat(s1), _flat(s2), h1.reshape(h1.shape[0], -1),
        h2.reshape(h2.shape[0], -1))
    loss = loss + config.consistency_weight * ct
    metrics["critic/consistency_term"] = ct
  metrics["critic/loss"] = loss
  return loss, metrics


def critic_update(ctx: StepContext, state: GANState, real: Array,
                  key: Array) -> tuple[GANState, Metrics]:
  """One critic step on a real data batch and a fresh fake batch."""
  fake_key, loss_key = jax.random.split(key)
  fake = fresh_fakes(ctx, state, real.shape[0], fake_key)
  critic = state.critic
  grads, metrics = jax.grad(critic_loss, argnums=2, has_aux=True)(
      ctx, critic, critic.params, ctx.task.to_critic_input(real), fake,
      loss_key)
  metrics["critic/grad_norm"] = optax.tree.norm(grads)
  new_critic = _apply_gradients(critic, grads, critic.collections)
  return state.replace(critic=new_critic), metrics


def classifier_update(ctx: StepContext, state: GANState, real: Array,
                      key: Array) -> tuple[GANState, Metrics]:
  """One fine-tune step of the ratio classifier C (BCE, real = 1, fake = 0)."""
  fake_gen_key, real_key, fake_key = jax.random.split(key, 3)
  fake = fresh_fakes(ctx, state, real.shape[0], fake_gen_key)
  real = ctx.task.to_critic_input(real)
  clf = state.classifier

  def loss_fn(params):
    real_logits, cols = apply_model(clf, params, real, rng=real_key,
                                    train=True)
    fake_logits, cols = apply_model(clf.replace(collections=cols), params,
                                    fake, rng=fake_key, train=True)
    cl = objectives.classifier_loss(_flat(real_logits), _flat(fake_logits))
    return cl.loss, (cols, {"classifier/loss": cl.loss,
                            "classifier/real_accuracy": cl.real_accuracy,
                            "classifier/fake_accuracy": cl.fake_accuracy})

  grads, (cols, metrics) = jax.grad(loss_fn, has_aux=True)(clf.params)
  metrics["classifier/grad_norm"] = optax.tree.norm(grads)
  return state.replace(classifier=_apply_gradients(clf, grads, cols)), metrics


def classifier_logits(state: GANState, params: Any, x: Array) -> Array:
  """C_params(x) in eval mode, flattened to [B·K]."""
  return _flat(apply_model(state.classifier, params, x, rng=None,
                           train=False)[0])


def surrogate_advantage(ctx: StepContext, fake_scores: Array,
                        real_scores: Callable[[], Array]) -> Array:
  """Eq. 5's advantage A = f(x̃) − b for `surrogate.advantage_baseline`.

  'none': b = 0 (Eq. 5); 'fake_mean': b = mean f(x̃) over the batch;
  'midpoint': b = (mean f(x) + mean f(x̃))/2, halfway between the critic's
  real and fake levels. `real_scores()` computes f on the real batch (only
  'midpoint' calls it).
  """
  baseline = ctx.config.surrogate.advantage_baseline
  if baseline == "none":
    return fake_scores
  if baseline == "fake_mean":
    return objectives.centred_advantage(fake_scores, fake_scores.mean())
  return objectives.centred_advantage(
      fake_scores, 0.5 * (real_scores().mean() + fake_scores.mean()))


def paper_surrogate(ratio: Array, advantage: Array, *, epsilon: Array,
                    dual_clip: float) -> Array:
  """Eq. 5 (`objectives.clipped_surrogate`), or its dual-clipped form when
  `surrogate.dual_clip` = c > 0 (`objectives.dual_clipped_surrogate`)."""
  if dual_clip > 0:
    return objectives.dual_clipped_surrogate(ratio, advantage,
                                             epsilon=epsilon, bound=dual_clip)
  return objectives.clipped_surrogate(ratio, advantage, epsilon=epsilon)


def generator_loss(ctx: StepContext, state: GANState, params: Any,
                   real: Array, z: Array, reference_old_logits: Array | None,
                   key: Array, epsilon: Array
                   ) -> tuple[Array, tuple[Mapping[str, Any], Metrics]]:
  """The generator's minimised loss at G_params(z), G's collections, metrics.

  Variants without a surrogate minimise their adversarial generator loss; the
  'paper' surrogate maximises mean Eq. 5 with the ratio of Eq. 6 in the form
  `surrogate.ratio_gradient` names (RATIO_FORMS) between C and C^(t) at the
  same samples; the 'reference' surrogate is the public code's (its old side
  `reference_old_logits`, from a separate earlier sample).
  """
  variant = ctx.variant
  g_key, critic_key, real_key = jax.random.split(key, 3)
  fake, cols = generate(ctx, state, params, z, g_key)
  fake_scores = _flat(apply_model(state.critic, state.critic.params, fake,
                                  rng=critic_key, train=True)[0])

  def real_scores():
    return jax.lax.stop_gradient(_flat(apply_model(
        state.critic, state.critic.params, ctx.task.to_critic_input(real),
        rng=real_key, train=True)[0]))

  metrics = {"generator/fake_score": fake_scores.mean()}
  if variant.surrogate is None:
    loss = ctx.adversarial(real_scores(), fake_scores).generator
    metrics["generator/loss"] = loss
    return loss, (cols, metrics)
  logits = classifier_logits(state, state.classifier.params, fake)
  if variant.surrogate == "paper":
    old_logits = classifier_logits(state, state.old_classifier_params, fake)
    ratio = RATIO_FORMS[ctx.config.surrogate.ratio_gradient](
        logits, old_logits)
    advantage = surrogate_advantage(ctx, fake_scores, real_scores)
    surrogate = paper_surrogate(ratio, advantage, epsilon=epsilon,
                                dual_clip=ctx.config.surrogate.dual_clip)
  else:
    ratio = objectives.reference_density_ratio(logits, reference_old_logits)
    advantage = fake_scores
    surrogate = objectives.reference_clipped_surrogate(ratio, advantage,
                                                       epsilon=epsilon)
  loss = -surrogate.mean()
  ratio = jax.lax.stop_gradient(ratio)
  advantage = jax.lax.stop_gradient(advantage)
  metrics.update({
      "generator/loss": loss,
      "ppo/ratio_mean": ratio.mean(),
      "ppo/ratio_min": ratio.min(),
      "ppo/ratio_max": ratio.max(),
      "ppo/clip_fraction": objectives.clip_fraction(ratio, epsilon=epsilon),
      "ppo/clip_binding_fraction": objectives.clip_binding_fraction(
          ratio, advantage, epsilon=epsilon),
      "ppo/advantage_mean": advantage.mean(),
      "ppo/advantage_positive_fraction": jnp.mean(
          (advantage > 0).astype(advantage.dtype)),
      "ppo/approx_kl": objectives.approximate_kl(ratio),
      "ppo/epsilon": epsilon,
  })
  return loss, (cols, metrics)


def generator_update(ctx: StepContext, state: GANState, real: Array,
                     z: Array, reference_old_logits: Array | None,
                     key: Array) -> tuple[GANState, Metrics]:
  """One generator step on the latent batch z (and the EMA update)."""
  config = ctx.config
  gen = state.generator
  epsilon = optim.clip_epsilon(
      state.step, epsilon=config.epsilon, schedule=config.epsilon_schedule,
      total_steps=config.num_steps)
  grads, (cols, metrics) = jax.grad(generator_loss, argnums=2, has_aux=True)(
      ctx, state, gen.params, real, z, reference_old_logits, key, epsilon)
  metrics["generator/grad_norm"] = optax.tree.norm(grads)
  new_gen = _apply_gradients(gen, grads, cols)
  ema = state.generator_ema_params
  if ema is not None:
    decay = config.generator_ema_decay
    ema = jax.tree.map(lambda e, p: decay * e + (1.0 - decay) * p,
                       ema, new_gen.params)
  return state.replace(generator=new_gen, generator_ema_params=ema), metrics


def fine_tune_classifier(ctx: StepContext, state: GANState, real: Array,
                         key: Array) -> tuple[GANState, Metrics]:
  """`surrogate.classifier_steps` classifier updates on one real batch, each
  with fresh fakes; metrics averaged over them."""
  steps = ctx.config.surrogate.classifier_steps
  state, metrics = jax.lax.scan(
      lambda s, k: classifier_update(ctx, s, real, k), state,
      jax.random.split(key, steps), unroll=ctx.config.unroll_inner_loops)
  return state, summarise(metrics)


def _snapshot_classifier(state: GANState, take: Array) -> GANState:
  """C^(t) := C where `take` (a traced bool), else unchanged."""
  old = jax.tree.map(lambda new, kept: jnp.where(take, new, kept),
                     state.classifier.params, state.old_classifier_params)
  return state.replace(old_classifier_params=old)


def generator_phase(ctx: StepContext, state: GANState, real: Array,
                    key: Array) -> tuple[GANState, Metrics]:
  """n_gen generator steps (with the classifier's fine-tuning for the PPO
  variants) on real batches `real` [n_gen, B, ...]; metrics stacked [n_gen].
  """
  variant = ctx.variant
  n_gen, batch = real.shape[0], real.shape[1]
  _, ref_key, ref_g_key, steps_key = jax.random.split(key, 4)
  step_keys = jax.random.split(steps_key, n_gen)
  snapshot_after_first = (ctx.config.surrogate.old_classifier
                          == "after_first_finetune")
  if variant.uses_classifier:
    state = state.replace(old_classifier_params=state.classifier.params)
    phase_z = ctx.constrain_batch(ctx.task.sample_latent(
        jax.random.split(step_keys[0], 3)[2], batch))
  reference_old_logits = None
  if variant.surrogate == "reference":
    ref_z = ctx.constrain_batch(ctx.task.sample_latent(ref_key, batch))
    ref_fake, _ = generate(ctx, state, state.generator.params, ref_z,
                           ref_g_key)
    reference_old_logits = jax.lax.stop_gradient(classifier_logits(
        state, state.classifier.params, ref_fake))

  def body(state, inputs):
    index, real_batch, sub_key = inputs
    clf_key, gen_key, z_key = jax.random.split(sub_key, 3)
    metrics = {}
    if variant.uses_classifier:
      state, metrics = fine_tune_classifier(ctx, state, real_batch, clf_key)
      if snapshot_after_first and variant.surrogate == "paper":
        state = _snapshot_classifier(state, index == 0)
      z = phase_z
    else:
      z = ctx.constrain_batch(ctx.task.sample_latent(z_key, batch))
    state, gen_metrics = generator_update(
        ctx, state, real_batch, z, reference_old_logits, gen_key)
    return state, {**metrics, **gen_metrics}

  return jax.lax.scan(body, state, (jnp.arange(n_gen), real, step_keys),
                      unroll=ctx.config.unroll_inner_loops)


def train_step(ctx: StepContext, state: GANState, real: Array
               ) -> tuple[GANState, Metrics]:
  """One outer iteration of Algorithm 1 on real [n_critic + n_gen, B, ...]
  (the critic's batches first, then the generator phase's)."""
  n_critic = ctx.config.n_critic
  key = jax.random.fold_in(state.rng, state.step)
  critic_key, gen_key = jax.random.split(key)
  state, critic_metrics = jax.lax.scan(
      lambda s, xs: critic_update(ctx, s, *xs), state,
      (real[:n_critic], jax.random.split(critic_key, n_critic)),
      unroll=ctx.config.unroll_inner_loops)
  state, gen_metrics = generator_phase(ctx, state, real[n_critic:], gen_key)
  metrics = summarise({**critic_metrics, **gen_metrics})
  if "ppo/ratio_mean" in gen_metrics:
    metrics["ppo/first_step_ratio_mean"] = gen_metrics["ppo/ratio_mean"][0]
  return state.replace(step=state.step + 1), metrics


def make_train_step(
    config: ml_collections.ConfigDict,
    task: tasks_lib.Task,
    *,
    constrain_batch: Callable[[Array], Array] = lambda x: x,
) -> Callable[[GANState, Array], tuple[GANState, Metrics]]:
  """Algorithm 1's iteration for `config.objective`, as
  train_step(state, real) -> (new state, dict of scalar metrics)."""
  ctx = StepContext(config=config, task=task,
                    variant=variants.get_variant(config.objective),
                    constrain_batch=constrain_batch)
  return functools.partial(train_step, ctx)
