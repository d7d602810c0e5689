"""Training of the Yelp style-transfer model (docs/reference_code.md §8,
§1.3).

One outer step, fused into one jitted function:

  1. `diter` critic steps, each on a new real batch: the critic (WGAN term +
     ACGAN style head + gradient penalty, `losses.critic_loss`) against
     Gumbel-softmax transfers of that batch, and one step of the in-loop
     evaluation classifier on the same real sentences (train_op_c);
  2. one generator step (autoencoder + shifted-AE cosine terms + adversarial
     terms − λ_z·z-classifier loss, `losses.generator_loss`), with PPO-GAN's
     sample re-weighting when config.objective == 'reweight_only';
  3. one z-classifier step.

Schedule (§8.4): `pretrain_epochs` epochs of pure autoencoding
(γ = 1, λ_g = λ_z = 0, diter = 1; critic, classifiers and cosine terms still
train), then γ ← max(γ_min, 0.5·γ) every epoch, λ_g = 0.0005, λ_z = 0.5,
diter = 5. γ, λ_g, λ_z are traced arguments (no recompilation between
epochs); the two values of diter are two compiled variants. An epoch is one
pass of the critic's stream over the training set (so 1/diter of a pass of
the generator's), unless config.schedule.steps_per_epoch sets it.

Optimisers: generator Adam(5e-4) after per-tensor clip_by_norm(5) (TF's
clip_by_norm, the paper's appendix; there is no probability-ratio clipping
in this task); critic Adam(5e-4, 0.5, 0.9); classifiers Adam(5e-4). The
reference's AE-only generator op is not used: during pre-training λ_g = 0,
so the generator step minimises the autoencoder and cosine terms.

Data are read by a stateless sampler (three streams, as the reference's three
iterators) whose position is a function of the step, so a resumed run reads
the same batches. The shared loop (`train.run_loop`, with SIGTERM save,
progress and metric files) runs the steps; each epoch end evaluates the
greedy transfers of the evaluation (manual) and held-out sets, writes them
to workdir/samples/, logs the metrics and saves an Orbax checkpoint.
`write_samples` (--mode=sample) writes those transfers for the latest
checkpoint.
"""
import dataclasses
import functools
import json
import os
from typing import Callable, NamedTuple

import flax
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from ppogan_jax import checkpoint
from ppogan_jax import config_check
from ppogan_jax import logs
from ppogan_jax import objectives
from ppogan_jax import program as program_lib
from ppogan_jax import train as engine
from ppogan_jax.errors import ConfigError
from ppogan_jax.state import ModelState
from ppogan_jax.style import data as data_lib
from ppogan_jax.style import evaluate as evaluate_lib
from ppogan_jax.style import losses
from ppogan_jax.style import model as model_lib

log = logs.get_logger()
Array = jax.Array
CRITIC_STREAM, GENERATOR_STREAM, Z_STREAM = 0, 1, 2
PROGRESS_LABELS = {"g_ae": "generator/ae", "d_w": "critic/wasserstein_estimate",
                   "acc_g": "classifier/accuracy_transfer",
                   "gamma": "schedule/gamma"}


@flax.struct.dataclass
class StyleState:
  """Everything one outer step reads and writes.

  Attributes:
    step: completed outer steps.
    rng: root key; step t uses fold_in(rng, t).
    generator: encoder + connectors + decoder.
    critic: WGAN critic with the ACGAN style head.
    classifier: in-loop evaluation classifier (train_op_c), for logging.
    z_classifier: latent-code style classifier.
  """
  step: Array
  rng: Array
  generator: ModelState
  critic: ModelState
  classifier: ModelState
  z_classifier: ModelState


class Models(NamedTuple):
  generator: model_lib.StyleTransferGenerator
  critic: model_lib.ConvClassifier
  classifier: model_lib.ConvClassifier
  z_classifier: model_lib.LatentClassifier


class Batch(NamedTuple):
  ids: Array  # int [..., B, W], [BOS, words, EOS, PAD ..].
  lengths: Array  # int [..., B].
  labels: Array  # int [..., B].


class StepBatches(NamedTuple):
  critic: Batch  # leading axis diter.
  generator: Batch
  z: Batch


class Schedule(NamedTuple):
  gamma: Array  # Gumbel-softmax temperature γ.
  lambda_g: Array
  lambda_z: Array


@dataclasses.dataclass(frozen=True)
class Plan:
  """Epochs and schedule as functions of the outer step."""
  pretrain_epochs: int
  num_epochs: int
  pretrain_epoch_steps: int
  adversarial_epoch_steps: int
  pretrain_diter: int
  diter: int
  gamma_decay: float
  gamma_min: float
  lambda_g: float
  lambda_z: float

  @property
  def pretrain_steps(self) -> int:
    return self.pretrain_epochs * self.pretrain_epoch_steps

  @property
  def num_steps(self) -> int:
    return self.pretrain_steps + (
        (self.num_epochs - self.pretrain_epochs) * self.adversarial_epoch_steps)

  def epoch(self, step: int) -> int:
    """1-based epoch of the outer step `step` (0-based)."""
    if step < self.pretrain_steps:
      return step // self.pretrain_epoch_steps + 1
    return (self.pretrain_epochs + 1
            + (step - self.pretrain_steps) // self.adversarial_epoch_steps)

  def is_epoch_end(self, completed: int) -> bool:
    """Whether `completed` steps end an epoch."""
    return completed == self.num_steps or (
        completed > 0 and self.epoch(completed) != self.epoch(completed - 1))

  def diter_at(self, step: int) -> int:
    return self.pretrain_diter if step < self.pretrain_steps else self.diter

  def critic_draws_before(self, step: int) -> int:
    """Critic batches read before outer step `step`."""
    pre = min(step, self.pretrain_steps)
    return pre * self.pretrain_diter + (step - pre) * self.diter

  def schedule_at(self, step: int) -> Schedule:
    """γ, λ_g, λ_z of the step's epoch (float32 scalars)."""
    adversarial_epoch = self.epoch(step) - self.pretrain_epochs
    values = (1.0, 0.0, 0.0)
    if adversarial_epoch > 0:
      gamma = max(self.gamma_min, self.gamma_decay ** adversarial_epoch)
      values = (gamma, self.lambda_g, self.lambda_z)
    return Schedule(*(jnp.float32(v) for v in values))


def make_plan(config: ml_collections.ConfigDict, num_train: int) -> Plan:
  """The epoch plan: an epoch ends when the critic stream has read
  `num_train` sentences, or after schedule.steps_per_epoch steps
  (schedule.adversarial_steps_per_epoch after pre-training, if set)."""
  s = config.schedule
  per_step = lambda diter: s.steps_per_epoch or max(
      1, num_train // (config.batch_size * diter))
  return Plan(s.pretrain_epochs, s.num_epochs, per_step(s.pretrain_diter),
              s.adversarial_steps_per_epoch or per_step(s.diter),
              s.pretrain_diter, s.diter, s.gamma_decay, s.gamma_min,
              s.lambda_g, s.lambda_z)


def build_models(config: ml_collections.ConfigDict, vocab_size: int) -> Models:
  m, d, c = config.model, config.critic, config.classifier
  return Models(
      generator=model_lib.StyleTransferGenerator(vocab_size, **m.to_dict()),
      critic=model_lib.ConvClassifier(vocab_size, d.embed_dim, d.num_filters,
                                      2),
      classifier=model_lib.ConvClassifier(
          vocab_size, c.embed_dim, c.num_filters, 1, num_dense=c.num_dense,
          dense_size=c.dense_size),
      z_classifier=model_lib.LatentClassifier())


def clip_each_by_norm(max_norm: float) -> optax.GradientTransformation:
  """TF clip_by_norm on every tensor:
  g ← g·max_norm / max(‖g‖₂, max_norm)."""
  def clip(g):
    return g * (max_norm / jnp.maximum(jnp.sqrt(jnp.sum(jnp.square(g))),
                                       max_norm))
  return optax.stateless(lambda updates, params: jax.tree.map(clip, updates))


def make_optimizers(config: ml_collections.ConfigDict
                    ) -> dict[str, optax.GradientTransformation]:
  o = config.optimizer
  return {
      "generator": optax.chain(clip_each_by_norm(o.generator_clip_norm),
                               optax.adam(o.learning_rate)),
      "critic": optax.adam(o.learning_rate, b1=o.critic_b1, b2=o.critic_b2),
      "classifier": optax.adam(o.learning_rate),
      "z_classifier": optax.adam(o.learning_rate),
  }


@functools.partial(jax.jit, static_argnums=(0, 1), static_argnames=("train",))
def _init_params(module, method: str | None, key: Array, *args, **kwargs):
  """`module.init(...)["params"]` (jitted; `method` names the method run)."""
  rngs = dict(zip(("params", "dropout", "gumbel"), jax.random.split(key, 3)))
  return module.init(rngs, *args, method=method and getattr(module, method),
                     **kwargs)["params"]


def create_state(config: ml_collections.ConfigDict, models: Models,
                 optimizers: dict[str, optax.GradientTransformation],
                 example: Batch, key: Array) -> StyleState:
  """Initial StyleState from an example batch (ids [B, W])."""
  root, g_key, d_key, c_key, z_key = jax.random.split(key, 5)
  ids, lengths, labels = example
  words, word_lengths = ids[:, 1:], lengths - 1
  content = jnp.zeros((ids.shape[0],
                       config.model.hidden_size - config.model.style_dim))
  params = {
      "generator": _init_params(models.generator, "autoencode", g_key, ids,
                                lengths, labels, train=False),
      "critic": _init_params(models.critic, None, d_key, words,
                             lengths=word_lengths, train=False),
      "classifier": _init_params(models.classifier, None, c_key, words,
                                 lengths=word_lengths, train=False),
      "z_classifier": _init_params(models.z_classifier, None, z_key, content,
                                   train=False),
  }
  return StyleState(
      step=jnp.zeros((), jnp.int32), rng=root,
      **{name: ModelState.create(apply_fn=getattr(models, name).apply,
                                 params=p, tx=optimizers[name])
         for name, p in params.items()})


@functools.lru_cache(maxsize=4)
def _runtime(config_json: str, vocab_size: int):
  """(models, optimizers, jitted train step) of a config, built once per
  process so that repeated runs (a resume, tests) reuse the compiled step:
  the step's cache is keyed on the state's static fields (apply_fn, tx)."""
  config = ml_collections.ConfigDict(json.loads(config_json))
  return (build_models(config, vocab_size), make_optimizers(config),
          jax.jit(make_train_step(config), donate_argnums=0))


def _apply_gradients(state: ModelState, loss_fn, *args):
  """One optimiser step on `loss_fn(params, *args) -> (loss, aux)`."""
  (_, aux), grads = jax.value_and_grad(loss_fn, has_aux=True)(
      state.params, *args)
  return state.apply_gradients(grads=grads), aux


def _critic_embedding(critic: ModelState, params, real_words: Array,
                      fake: Array) -> tuple[Array, Array]:
  """Critic embeddings of real ids [B, S] and soft fakes [B, T, V], zero-
  padded to a common length (§1.3)."""
  real = critic.apply_fn({"params": params}, real_words,
                         method=model_lib.ConvClassifier.embed)
  fake = critic.apply_fn({"params": params}, fake,
                         method=model_lib.ConvClassifier.embed)
  width = max(real.shape[1], fake.shape[1])
  return losses.pad_time(real, width), losses.pad_time(fake, width)


def _critic_scores(critic: ModelState, params, embedded: Array,
                   lengths: Array, key: Array) -> Array:
  """[B, 2]: style logit (0) and critic logit (1), dropout on."""
  return critic.apply_fn({"params": params}, embedded, lengths, train=True,
                         rngs={"dropout": key},
                         method=model_lib.ConvClassifier.score)


def make_train_step(config: ml_collections.ConfigDict):
  """The fused outer step `(state, StepBatches, Schedule) -> (state, metrics)`
  (module doc); diter is the critic batches' leading axis."""
  reweight = config.objective == "reweight_only"
  lc = config.loss

  def critic_update(state: StyleState, batch: Batch, schedule: Schedule,
                    key: Array):
    gen_key, gumbel_key, real_key, fake_key, gp_key, gp_drop, c_key = (
        jax.random.split(key, 7))
    fake, fake_lengths = state.generator.apply_fn(
        {"params": state.generator.params}, batch.ids, batch.lengths,
        batch.labels, schedule.gamma, train=True,
        rngs={"dropout": gen_key, "gumbel": gumbel_key},
        method=model_lib.StyleTransferGenerator.transfer_sample)
    fake = jax.lax.stop_gradient(fake)
    words, word_lengths = batch.ids[:, 1:], batch.lengths - 1

    def critic_loss(params):
      real_emb, fake_emb = _critic_embedding(state.critic, params, words, fake)
      real = _critic_scores(state.critic, params, real_emb, word_lengths,
                            real_key)
      fakes = _critic_scores(state.critic, params, fake_emb, fake_lengths,
                             fake_key)
      gp_lengths = jnp.maximum(word_lengths, fake_lengths)
      gp = objectives.gradient_penalty(
          lambda x: _critic_scores(state.critic, params, x, gp_lengths,
                                   gp_drop)[:, 1],
          real_emb, fake_emb, gp_key)
      terms = losses.critic_loss(
          clas_real=real[:, 0], clas_fake=fakes[:, 0], d_real=real[:, 1],
          d_fake=fakes[:, 1], labels=batch.labels,
          gradient_penalty=gp.penalty, lambda_g=schedule.lambda_g,
          acgan_scale=lc.acgan_scale_d, gp_weight=lc.gp_weight)
      return terms.loss, terms

    def classifier_loss(params):
      logits = state.classifier.apply_fn(
          {"params": params}, words, lengths=word_lengths, train=True,
          rngs={"dropout": c_key})[:, 0]
      loss = jnp.mean(losses.sigmoid_bce(batch.labels, logits))
      return loss, loss

    critic, terms = _apply_gradients(state.critic, critic_loss)
    classifier, c_loss = _apply_gradients(state.classifier, classifier_loss)
    metrics = {"critic/loss": terms.loss, "critic/clas": terms.clas,
               "critic/dis": terms.dis,
               "critic/gradient_penalty": terms.gradient_penalty,
               "critic/wasserstein_estimate": terms.wasserstein_estimate,
               "classifier/loss": c_loss}
    return state.replace(critic=critic, classifier=classifier), metrics

  def generator_update(state: StyleState, batch: Batch, schedule: Schedule,
                       key: Array):
    drop_key, gumbel_key, d_key, c_key = jax.random.split(key, 4)

    def generator_loss(params):
      out = state.generator.apply_fn(
          {"params": params}, batch.ids, lengths=batch.lengths,
          labels=batch.labels, gamma=schedule.gamma, train=True,
          rngs={"dropout": drop_key, "gumbel": gumbel_key})
      ae = losses.sequence_cross_entropy(out.ae_logits, batch.ids[:, 1:],
                                         batch.lengths - 1)
      fake_emb = state.critic.apply_fn(
          {"params": state.critic.params}, out.transferred,
          method=model_lib.ConvClassifier.embed)
      scores = _critic_scores(state.critic, state.critic.params, fake_emb,
                              out.transferred_lengths, d_key)
      adversarial = losses.generator_adversarial_terms(
          clas_fake=scores[:, 0], d_fake=scores[:, 1], labels=batch.labels,
          reweight=reweight)
      cosine = losses.abs_cosine_distance(out.content,
                                          out.reconstructed_content)
      cosine_ = losses.abs_cosine_distance(out.content,
                                           out.transferred_content)
      z_clas = jnp.mean(losses.sigmoid_bce(
          batch.labels, state.z_classifier.apply_fn(
              {"params": state.z_classifier.params}, out.content)))
      loss = losses.generator_loss(
          ae=ae, adversarial=adversarial, cosine=cosine, cosine_=cosine_,
          z_clas=z_clas, lambda_ae=lc.lambda_ae, lambda_g=schedule.lambda_g,
          lambda_z=schedule.lambda_z, lambda_z1=lc.lambda_z1,
          lambda_z2=lc.lambda_z2, acgan_scale=lc.acgan_scale_g)
      transfer_logits = state.classifier.apply_fn(
          {"params": state.classifier.params}, out.transferred,
          lengths=out.transferred_lengths, train=False)[:, 0]
      accuracy = jnp.mean((transfer_logits > 0) == (batch.labels == 0))
      return loss, {"generator/loss": loss, "generator/ae": ae,
                    "generator/clas": adversarial.clas,
                    "generator/dis": adversarial.dis,
                    "generator/importance_ess":
                        adversarial.effective_sample_size,
                    "generator/cosine": cosine, "generator/cosine_": cosine_,
                    "generator/z_clas": z_clas,
                    "classifier/accuracy_transfer": accuracy}

    generator, metrics = _apply_gradients(state.generator, generator_loss)
    return state.replace(generator=generator), metrics

  def z_update(state: StyleState, batch: Batch, key: Array):
    content = jax.lax.stop_gradient(state.generator.apply_fn(
        {"params": state.generator.params}, batch.ids, batch.lengths,
        train=True, rngs={"dropout": key},
        method=model_lib.StyleTransferGenerator.content_code))

    def z_loss(params):
      logits = state.z_classifier.apply_fn({"params": params}, content)
      loss = jnp.mean(losses.sigmoid_bce(batch.labels, logits))
      return loss, {"z_classifier/loss": loss,
                    "z_classifier/accuracy": jnp.mean(
                        (logits > 0) == (batch.labels == 1))}

    z_classifier, metrics = _apply_gradients(state.z_classifier, z_loss)
    return state.replace(z_classifier=z_classifier), metrics

  def train_step(state: StyleState, batches: StepBatches,
                 schedule: Schedule):
    key = jax.random.fold_in(state.rng, state.step)
    critic_key, g_key, z_key = jax.random.split(key, 3)
    diter = batches.critic.ids.shape[0]

    def critic_body(s, xs):
      batch, k = xs
      return critic_update(s, batch, schedule, k)

    state, critic_metrics = jax.lax.scan(
        critic_body, state,
        (batches.critic, jax.random.split(critic_key, diter)))
    state, g_metrics = generator_update(state, batches.generator, schedule,
                                        g_key)
    state, z_metrics = z_update(state, batches.z, z_key)
    metrics = {**jax.tree.map(jnp.mean, critic_metrics), **g_metrics,
               **z_metrics, "schedule/gamma": schedule.gamma,
               "schedule/lambda_g": schedule.lambda_g}
    return state.replace(step=state.step + 1), metrics

  return train_step


def _batch(corpus: data_lib.Corpus, indices: np.ndarray) -> Batch:
  return Batch(corpus.ids[indices], corpus.lengths[indices],
               corpus.labels[indices])


def step_batches(corpus: data_lib.Corpus, plan: Plan, step: int, *,
                 batch_size: int, seed: int) -> StepBatches:
  """The batches of outer step `step` (stateless; module doc)."""
  draw = lambda stream, k: data_lib.batch_indices(
      len(corpus), batch_size, seed=seed, stream=stream, draw=k)
  first = plan.critic_draws_before(step)
  critic = [draw(CRITIC_STREAM, first + j) for j in range(plan.diter_at(step))]
  return StepBatches(
      critic=_batch(corpus, np.stack(critic)),
      generator=_batch(corpus, draw(GENERATOR_STREAM, step)),
      z=_batch(corpus, draw(Z_STREAM, step)))


class Data(NamedTuple):
  """The corpora of a run.

  Attributes:
    vocab: the generator's vocabulary (data.max_vocab_size words).
    train: the generator's training sentences (data.num_train of the
      training split, all if 0).
    holdout: the held-out sentences (data.num_holdout).
    evaluation: the evaluation (manual) sentences.
    references: their human-written transfers.
    scorer_vocab: the style classifier's vocabulary (every word).
    scorer_train, scorer_holdout: the whole training split and the held-out
      sentences in `scorer_vocab`, for the separately trained classifier.
  """
  vocab: data_lib.Vocab
  train: data_lib.Corpus
  holdout: data_lib.Corpus
  evaluation: data_lib.Corpus
  references: list[list[str]]
  scorer_vocab: data_lib.Vocab
  scorer_train: data_lib.Corpus
  scorer_holdout: data_lib.Corpus


def load_data(config: ml_collections.ConfigDict) -> Data:
  """Vocabularies, training/held-out split and the evaluation set."""
  d = config.data
  sentences = data_lib.read_sentences(d.train_text)
  labels = data_lib.read_labels(d.train_labels, len(sentences))
  load_vocab = lambda size: (data_lib.load_vocab(d.vocab, size) if d.vocab
                             else data_lib.build_vocab(sentences, size))
  split = lambda vocab: data_lib.split_holdout(
      data_lib.encode_corpus(sentences, labels, vocab, d.max_length),
      d.num_holdout, config.seed)
  vocab, scorer_vocab = load_vocab(d.max_vocab_size), load_vocab(0)
  train, holdout = split(vocab)
  scorer_train, scorer_holdout = split(scorer_vocab)
  evaluation = data_lib.load_corpus(d.eval_text, d.eval_labels, vocab,
                                    d.max_length)
  references = data_lib.read_sentences(d.eval_reference)
  if len(references) != len(evaluation):
    raise data_lib.TextDataError(
        f"{d.eval_reference}: {len(references)} references for "
        f"{len(evaluation)} sentences of {d.eval_text}")
  return Data(vocab, data_lib.random_subset(train, d.num_train, config.seed),
              holdout, evaluation, references, scorer_vocab, scorer_train,
              scorer_holdout)


@functools.partial(jax.jit, static_argnums=0)
def _greedy(generator: model_lib.StyleTransferGenerator, params, ids, lengths,
            labels):
  return generator.apply(
      {"params": params}, ids, lengths, labels,
      method=model_lib.StyleTransferGenerator.transfer_greedy)


def evaluate_split(name: str, models: Models, state: StyleState,
                   corpus: data_lib.Corpus, references, data: Data,
                   scorer: evaluate_lib.StyleClassifier, *, batch_size: int,
                   path: str) -> dict[str, float]:
  """Greedy transfers of `corpus` to the flipped style: metrics
  (`evaluate_lib.transfer_metrics`, prefixed `name/`) and a text dump at
  `path` (label, source, transfer[, reference] per line, tab-separated)."""
  ids, lengths = evaluate_lib.batched_apply(
      functools.partial(_greedy, models.generator, state.generator.params),
      corpus.ids, corpus.lengths, corpus.labels, batch_size=batch_size)
  transfers = [data.vocab.decode(row) for row in ids]
  predicted = scorer.predict_sentences(transfers, batch_size=batch_size)
  metrics = evaluate_lib.transfer_metrics(
      transfers, corpus.sentences, references, predicted, 1 - corpus.labels)
  with open(path, "w", encoding="utf-8") as f:
    for i, transfer in enumerate(transfers):
      fields = [str(corpus.labels[i]), " ".join(corpus.sentences[i]),
                " ".join(transfer)]
      if references is not None:
        fields.append(" ".join(references[i]))
      f.write("\t".join(fields) + "\n")
  return {f"{name}/{k}": v for k, v in metrics.items()}


def _random_slice(size: int, count: int, seed: int) -> np.ndarray:
  """`count` sorted indices of range(size) drawn without replacement (all if
  count is 0): both styles, as the files list one style, then the other."""
  order = np.random.default_rng(seed).permutation(size)
  return np.sort(order[:count] if count else order)


def evaluate_state(config: ml_collections.ConfigDict, models: Models,
                   state: StyleState, data: Data,
                   scorer: evaluate_lib.StyleClassifier, workdir: str,
                   step: int) -> dict[str, float]:
  """Metrics of the evaluation set and a held-out slice at `step`."""
  samples = os.path.join(workdir, "samples")
  os.makedirs(samples, exist_ok=True)
  picks = _random_slice(len(data.evaluation), config.eval.num_eval,
                        config.seed)
  held = _random_slice(len(data.holdout), config.eval.num_val, config.seed)
  return {
      **evaluate_split(
          "eval", models, state, data.evaluation.subset(picks),
          [data.references[i] for i in picks], data, scorer,
          batch_size=config.eval.batch_size,
          path=os.path.join(samples, f"eval_step{step:07d}.tsv")),
      **evaluate_split(
          "val", models, state, data.holdout.subset(held), None, data, scorer,
          batch_size=config.eval.batch_size,
          path=os.path.join(samples, f"val_step{step:07d}.tsv"))}


def _latest_state(directory: str, abstract: StyleState) -> StyleState:
  """The newest state saved by a `checkpoint.Checkpointer` in `directory`,
  without the config check (for config.init_from)."""
  if not os.path.isdir(directory):
    raise ConfigError(f"init_from: no checkpoint in {directory}")
  manager = checkpoint.Checkpointer(directory, keep=1)
  try:
    state = manager.restore_latest(abstract, None)
  finally:
    manager.close()
  if state is None:
    raise ConfigError(f"init_from: no checkpoint in {directory}")
  log.info("initialised from %s at step %d", directory, int(state.step))
  return state


def _restore(config: ml_collections.ConfigDict,
             manager: checkpoint.Checkpointer,
             template: StyleState) -> StyleState:
  """The workdir's latest state, else config.init_from's latest state (its
  step kept: the run continues from there under this config, e.g. the λ_g
  sweep from one shared pre-training), else `template`."""
  abstract = checkpoint.abstract(template)
  restored = manager.restore_latest(abstract, config)
  if restored is not None:
    return restored
  if config.init_from:
    return _latest_state(os.path.join(config.init_from, "checkpoints"),
                         abstract)
  return template


@dataclasses.dataclass(frozen=True)
class StyleRun:
  """What training and sampling a config need, built once.

  Attributes:
    config: the run's config.
    data: its corpora.
    scorer: the separately trained style classifier of the evaluations.
    models: the modules.
    train_step: the jitted outer step (`make_train_step`).
    plan: epochs and schedule.
    template: the initial state (config.seed).
    checkpointer: the workdir's checkpoints.
  """
  config: ml_collections.ConfigDict
  data: Data
  scorer: evaluate_lib.StyleClassifier
  models: Models
  train_step: Callable
  plan: Plan
  template: StyleState
  checkpointer: checkpoint.Checkpointer


def setup(config: ml_collections.ConfigDict, workdir: str) -> StyleRun:
  """Checks the config, loads the data and the scorer (trained if not
  cached), builds the models and the initial state."""
  config_check.check_workdir(workdir)
  config_check.check_config(config)
  data = load_data(config)
  log.info("vocabulary %d; train %d, held out %d, evaluation %d sentences",
           len(data.vocab), len(data.train), len(data.holdout),
           len(data.evaluation))
  scorer = evaluate_lib.load_or_train_style_classifier(
      config.style_classifier, data.scorer_vocab, data.scorer_train,
      data.scorer_holdout, seed=config.seed)
  models, optimizers, train_step = _runtime(config.to_json(),
                                           len(data.vocab))
  example = _batch(data.train, np.arange(2))
  template = create_state(config, models, optimizers, example,
                          jax.random.PRNGKey(config.seed))
  return StyleRun(
      config, data, scorer, models, train_step,
      make_plan(config, len(data.train)), template,
      checkpoint.Checkpointer(os.path.join(workdir, "checkpoints"),
                              keep=config.keep_checkpoints))


def evaluate(run: StyleRun, state: StyleState, workdir: str,
             step: int) -> dict[str, float]:
  """`evaluate_state` (writing its transfer dumps) and the scorer's
  held-out accuracy."""
  metrics = evaluate_state(run.config, run.models, state, run.data,
                           run.scorer, workdir, step)
  metrics["style_classifier/holdout_accuracy"] = run.scorer.holdout_accuracy
  return metrics


def style_program(run: StyleRun, state: StyleState,
                  workdir: str) -> program_lib.TrainProgram:
  """The run as `train.run_loop` drives it: evaluation at epoch ends,
  checkpoints at epoch ends and every config.checkpoint_every steps."""
  config, plan = run.config, run.plan

  def step(state: StyleState, s: int) -> tuple[StyleState, dict[str, Array]]:
    batches = step_batches(run.data.train, plan, s,
                           batch_size=config.batch_size, seed=config.seed)
    return run.train_step(state, batches, plan.schedule_at(s))

  return program_lib.TrainProgram(
      state=state, num_steps=plan.num_steps, checkpointer=run.checkpointer,
      step=step, should_evaluate=plan.is_epoch_end,
      evaluate=lambda state, completed: evaluate(run, state, workdir,
                                                 completed),
      should_checkpoint=lambda completed: (
          plan.is_epoch_end(completed)
          or completed % config.checkpoint_every == 0),
      progress_labels=PROGRESS_LABELS,
      describe=lambda completed: (
          f"step {completed} (epoch {plan.epoch(completed - 1)})"),
      step_scalars=lambda completed: {"epoch": plan.epoch(completed - 1)})


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str, *,
                       until_step: int = 0) -> tuple[StyleState, dict]:
  """Trains and evaluates `config` in `workdir`, resuming if possible (or
  starting from config.init_from), through `train.run_loop`.

  Returns:
    The final state and the last evaluation's metrics.
  """
  run = setup(config, workdir)
  # Committed to one device like the step's outputs: one compiled step.
  state = jax.device_put(_restore(config, run.checkpointer, run.template),
                         jax.local_devices()[0])
  log.info("steps %d (pre-training %d); starting at %d", run.plan.num_steps,
           run.plan.pretrain_steps, int(state.step))
  return engine.run_loop(style_program(run, state, workdir), config, workdir,
                         until_step=until_step)


def write_samples(config: ml_collections.ConfigDict, workdir: str,
                  num_samples: int) -> str:
  """Writes the evaluation's transfer dumps (`evaluate_state`) of the
  workdir's latest checkpoint to workdir/samples.

  Returns:
    The dumps' path pattern without the extension (eval_ and val_ files).
  """
  del num_samples  # The evaluation and held-out slices fix the transfers.
  run = setup(config, workdir)
  try:
    state = run.checkpointer.restore_latest(
        checkpoint.abstract(run.template), config)
  finally:
    run.checkpointer.close()
  if state is None:
    raise ConfigError(f"no checkpoint in {workdir!r}: train first "
                      "(--mode=train)")
  step = int(state.step)
  metrics = evaluate(run, state, workdir, step)
  log.info("eval at step %d: %s", step, json.dumps(metrics))
  return os.path.join(workdir, "samples", f"*_step{step:07d}")
