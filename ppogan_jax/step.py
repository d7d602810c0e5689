"""Algorithm 1 of PPO-GAN as one pure function `(GANState, real) -> GANState`.

One outer iteration:
  1. n_critic critic updates: adversarial critic loss (Eq. 7, with the Eq. 8
     importance weights when the variant re-weights) + λ_GP·gradient penalty
     (+ λ_CT·consistency term), each on a fresh real batch and fresh fakes;
  2. n_gen generator updates. For the PPO variants each is preceded by one
     classifier fine-tune step, and the generator maximises the clipped
     surrogate (Eq. 5) whose ratio (Eq. 6) compares the fine-tuned classifier
     C with the copy C^(t) frozen at the start of the phase. All n_gen steps
     of a phase use one latent batch, as PPO takes several epochs over one
     batch of samples (and as the public CIFAR code does).

The inner loops are `lax.scan`s, unrolled (they have at most a handful of
iterations): XLA:CPU runs convolution weight-gradients inside a while loop
many times slower (the text iteration: 58.8 s rolled vs 36.2 s unrolled, same
machine load), and an unrolled scan lets XLA's cost analysis count every
iteration's FLOPs. The step's randomness is `fold_in(state.rng, state.step)`;
every schedule is a function of the traced step, so the function compiles
once.
"""
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


def make_train_step(
    config: ml_collections.ConfigDict,
    task: tasks_lib.Task,
    *,
    constrain_batch: Callable[[Array], Array] = lambda x: x,
) -> Callable[[GANState, Array], tuple[GANState, Metrics]]:
  """Builds Algorithm 1's iteration for `config.objective`.

  Args:
    config: the experiment config (objective, n_critic, n_gen, weights, ε).
    task: models' latent sampler, generator kwargs and critic view.
    constrain_batch: applied to every generated batch (a sharding constraint
      over the data axis when run on a mesh).

  Returns:
    train_step(state, real) with real of shape [n_critic + n_gen, B, ...]:
    the critic's batches first, then the generator phase's. Returns the new
    state and a dict of scalar metrics.
  """
  variant = variants.get_variant(config.objective)
  adversarial = variants.ADVERSARIAL_LOSSES[variant.adversarial_loss]
  n_critic, n_gen = config.n_critic, config.n_gen
  use_ct = config.consistency_weight > 0

  def generate(state: GANState, params: Any, z: Array, step: Array,
               rng: Array) -> tuple[Array, Mapping[str, Any]]:
    out, collections = apply_model(
        state.generator, params, z, rng=rng, train=True,
        **task.generator_kwargs(step))
    return constrain_batch(task.critic_view(out)), collections

  def fresh_fakes(state: GANState, batch_size: int, key: Array) -> Array:
    """A new generated batch, as constants (only the critic/C learn from it)."""
    z_key, g_key = jax.random.split(key)
    z = constrain_batch(task.sample_latent(z_key, batch_size))
    fake, _ = generate(state, state.generator.params, z, state.step, g_key)
    return jax.lax.stop_gradient(fake)

  def critic_update(state: GANState, real: Array, key: Array
                    ) -> tuple[GANState, Metrics]:
    fake_gen_key, real_key, fake_key, gp_key, ct_key = jax.random.split(key, 5)
    fake = fresh_fakes(state, real.shape[0], fake_gen_key)
    real = task.to_critic_input(real)
    critic = state.critic

    def loss_fn(params):
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
        wl = objectives.wasserstein_critic_loss(real_scores, fake_scores,
                                                weights)
        adv_loss = wl.loss
        metrics["critic/wasserstein_estimate"] = wl.wasserstein_estimate
      else:
        adv_loss = adversarial(real_scores, fake_scores).discriminator
      metrics["critic/adversarial_loss"] = adv_loss
      loss = adv_loss
      if config.gp_weight > 0:
        gp_drop, gp_alpha = jax.random.split(gp_key)
        gp = objectives.gradient_penalty(
            lambda x: scores(x, gp_drop), real, fake, gp_alpha)
        loss = loss + config.gp_weight * gp.penalty
        metrics["critic/gradient_penalty"] = gp.penalty
        metrics["critic/interpolate_grad_norm"] = gp.grad_norm
      if use_ct:
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

    grads, metrics = jax.grad(loss_fn, has_aux=True)(critic.params)
    metrics["critic/grad_norm"] = optax.tree.norm(grads)
    new_critic = _apply_gradients(critic, grads, critic.collections)
    return state.replace(critic=new_critic), metrics

  def classifier_update(state: GANState, real: Array, key: Array
                        ) -> tuple[GANState, Metrics]:
    fake_gen_key, real_key, fake_key = jax.random.split(key, 3)
    fake = fresh_fakes(state, real.shape[0], fake_gen_key)
    real = task.to_critic_input(real)
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
    return _flat(apply_model(state.classifier, params, x, rng=None,
                             train=False)[0])

  def generator_update(state: GANState, real: Array, z: Array,
                       reference_old_logits: Array | None, key: Array
                       ) -> tuple[GANState, Metrics]:
    g_key, critic_key, real_key = jax.random.split(key, 3)
    gen = state.generator
    epsilon = optim.clip_epsilon(
        state.step, epsilon=config.epsilon, schedule=config.epsilon_schedule,
        total_steps=config.num_steps)

    def loss_fn(params):
      fake, cols = generate(state, params, z, state.step, g_key)
      fake_scores = _flat(apply_model(state.critic, state.critic.params, fake,
                                      rng=critic_key, train=True)[0])
      metrics = {"generator/fake_score": fake_scores.mean()}
      if variant.surrogate is None:
        real_scores = jax.lax.stop_gradient(_flat(apply_model(
            state.critic, state.critic.params, task.to_critic_input(real),
            rng=real_key, train=True)[0]))
        loss = adversarial(real_scores, fake_scores).generator
      else:
        logits = classifier_logits(state, state.classifier.params, fake)
        if variant.surrogate == "paper":
          old_logits = classifier_logits(
              state, state.old_classifier_params, fake)
          ratio = objectives.density_ratio(logits, old_logits)
          surrogate = objectives.clipped_surrogate(
              ratio, fake_scores, epsilon=epsilon)
        else:
          ratio = objectives.reference_density_ratio(
              logits, reference_old_logits)
          surrogate = objectives.reference_clipped_surrogate(
              ratio, fake_scores, epsilon=epsilon)
        loss = -surrogate.mean()
        ratio = jax.lax.stop_gradient(ratio)
        metrics.update({
            "ppo/ratio_mean": ratio.mean(),
            "ppo/ratio_min": ratio.min(),
            "ppo/ratio_max": ratio.max(),
            "ppo/clip_fraction": objectives.clip_fraction(
                ratio, epsilon=epsilon),
            "ppo/approx_kl": objectives.approximate_kl(ratio),
            "ppo/epsilon": epsilon,
        })
      metrics["generator/loss"] = loss
      return loss, (cols, metrics)

    grads, (cols, metrics) = jax.grad(loss_fn, has_aux=True)(gen.params)
    metrics["generator/grad_norm"] = optax.tree.norm(grads)
    new_gen = _apply_gradients(gen, grads, cols)
    ema = state.generator_ema_params
    if ema is not None:
      decay = config.generator_ema_decay
      ema = jax.tree.map(lambda e, p: decay * e + (1.0 - decay) * p,
                         ema, new_gen.params)
    return state.replace(generator=new_gen, generator_ema_params=ema), metrics

  def generator_phase(state: GANState, real: Array, key: Array
                      ) -> tuple[GANState, Metrics]:
    batch = real.shape[1]
    z_key, ref_key, ref_g_key, steps_key = jax.random.split(key, 4)
    if variant.uses_classifier:
      state = state.replace(old_classifier_params=state.classifier.params)
      phase_z = constrain_batch(task.sample_latent(z_key, batch))
    reference_old_logits = None
    if variant.surrogate == "reference":
      ref_z = constrain_batch(task.sample_latent(ref_key, batch))
      ref_fake, _ = generate(state, state.generator.params, ref_z,
                             state.step, ref_g_key)
      reference_old_logits = jax.lax.stop_gradient(classifier_logits(
          state, state.classifier.params, ref_fake))

    def body(state, inputs):
      real_batch, sub_key = inputs
      clf_key, gen_key, z_key = jax.random.split(sub_key, 3)
      metrics = {}
      if variant.uses_classifier:
        state, metrics = classifier_update(state, real_batch, clf_key)
        z = phase_z
      else:
        z = constrain_batch(task.sample_latent(z_key, batch))
      state, gen_metrics = generator_update(
          state, real_batch, z, reference_old_logits, gen_key)
      return state, {**metrics, **gen_metrics}

    return jax.lax.scan(body, state,
                        (real, jax.random.split(steps_key, n_gen)),
                        unroll=True)

  def train_step(state: GANState, real: Array) -> tuple[GANState, Metrics]:
    key = jax.random.fold_in(state.rng, state.step)
    critic_key, gen_key = jax.random.split(key)
    state, critic_metrics = jax.lax.scan(
        lambda s, xs: critic_update(s, *xs), state,
        (real[:n_critic], jax.random.split(critic_key, n_critic)),
        unroll=True)
    state, gen_metrics = generator_phase(state, real[n_critic:], gen_key)
    metrics = summarise({**critic_metrics, **gen_metrics})
    return state.replace(step=state.step + 1), metrics

  return train_step
