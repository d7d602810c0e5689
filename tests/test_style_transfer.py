"""Tests of the Yelp style-transfer task on a tiny in-repo corpus."""
import json
import math
import os
import shutil
import subprocess
import sys

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ppogan_jax import checkpoint
from ppogan_jax import config_check
from ppogan_jax import logs
from ppogan_jax import objectives
from ppogan_jax.data.text import TextDataError
from ppogan_jax.errors import ConfigError
from ppogan_jax.style import data as data_lib
from ppogan_jax.style import evaluate as evaluate_lib
from ppogan_jax.style import losses
from ppogan_jax.style import train as train_lib
from tests import engine_utils

SUBJECTS = ["the food", "the service", "our waiter", "the pizza", "this place"]
POSITIVE = ["was great", "is good", "was very friendly", "is amazing"]
NEGATIVE = ["was bad", "is terrible", "was very rude", "is awful"]


def _write(path, lines):
  with open(path, "w") as f:
    f.write("\n".join(lines) + "\n")
  return str(path)


@pytest.fixture(scope="module")
def corpus_files(tmp_path_factory):
  """40 labelled sentences, 4 manual sentences with references, no vocab file
  (built from the text)."""
  root = tmp_path_factory.mktemp("yelp")
  text, labels = [], []
  for s in SUBJECTS:
    for p, n in zip(POSITIVE, NEGATIVE):
      text += [f"{s} {p} .", f"{s} {n} ."]
      labels += ["1", "0"]
  manual = ["the food was bad .", "our waiter is good .",
            "the pizza is terrible .", "this place was great ."]
  refs = ["the food was great .", "our waiter is terrible .",
          "the pizza is amazing .", "this place was bad ."]
  return dict(
      train_text=_write(root / "train.text", text),
      train_labels=_write(root / "train.labels", labels),
      eval_text=_write(root / "manual.text", manual),
      eval_labels=_write(root / "manual.labels", ["0", "1", "0", "1"]),
      eval_reference=_write(root / "manual.reference", refs),
      root=str(root))


def _config(files, objective="reweight_only"):
  c = engine_utils.load_config("style_transfer_yelp", objective)
  for k in ("train_text", "train_labels", "eval_text", "eval_labels",
            "eval_reference"):
    c.data[k] = files[k]
  c.data.update(dict(vocab="", max_length=6, num_holdout=8))
  c.model.update(dict(embed_dim=8, hidden_size=16, style_dim=4,
                      attention_size=8, train_length=7, infer_length=7))
  c.critic.update(dict(embed_dim=8, num_filters=4))
  c.classifier.update(dict(embed_dim=8, num_filters=4, dense_size=8))
  c.style_classifier.update(dict(
      embed_dim=8, num_filters=4, dense_size=8, num_steps=30, batch_size=8,
      cache_dir=os.path.join(files["root"], "cache")))
  c.batch_size = 4
  # One diter in both phases: one compiled step (compiling is most of the
  # time here); `test_plan_schedule` covers the switch.
  c.schedule.update(dict(num_epochs=2, pretrain_epochs=1, steps_per_epoch=2,
                         pretrain_diter=2, diter=2))
  c.eval.update(dict(num_val=4, batch_size=4))
  return c


@pytest.fixture(scope="module")
def config(corpus_files):
  return _config(corpus_files)


@pytest.fixture(scope="module")
def data(config):
  return train_lib.load_data(config)


@pytest.fixture(scope="module")
def generator(config, data):
  """The tiny generator and its parameters."""
  module = train_lib.build_models(config, len(data.vocab)).generator
  batch = data.train.subset(np.arange(4))
  params = module.init(
      {"params": jax.random.PRNGKey(0)}, batch.ids, lengths=batch.lengths,
      labels=batch.labels, gamma=jnp.float32(1), train=False)["params"]
  return module, params, batch


# Data.


def test_corpus_encoding_and_split(data):
  vocab = data.vocab
  assert vocab.words[:4] == data_lib.SPECIAL_TOKENS
  assert len(data.train) == 32 and len(data.holdout) == 8
  ids, length = data.evaluation.ids[0], data.evaluation.lengths[0]
  assert ids.shape == (8,) and length == 7
  assert ids[0] == data_lib.BOS and ids[6] == data_lib.EOS and ids[7] == 0
  assert vocab.decode(ids) == "the food was bad .".split()
  assert vocab.encode(["unseen"]) == [data_lib.UNK]


def test_vocab_file_and_label_errors(tmp_path):
  vocab = data_lib.load_vocab(_write(tmp_path / "v", ["a", "b", "c"]), 2)
  assert vocab.words[4:] == ("a", "b")
  with pytest.raises(TextDataError, match=r"v2:2"):
    data_lib.load_vocab(_write(tmp_path / "v2", ["a", "a"]))
  with pytest.raises(TextDataError, match=r"labels:2: label '2'"):
    data_lib.read_labels(_write(tmp_path / "labels", ["0", "2"]), 2)
  with pytest.raises(TextDataError, match="1 labels for 2 sentences"):
    data_lib.read_labels(_write(tmp_path / "l1", ["0"]), 2)


def test_sampler_is_stateless_and_covers_each_epoch():
  draws = [data_lib.batch_indices(10, 3, seed=1, stream=0, draw=k)
           for k in range(6)]
  assert len(set(np.concatenate(draws[:3]))) == 9
  np.testing.assert_array_equal(
      draws[4], data_lib.batch_indices(10, 3, seed=1, stream=0, draw=4))
  assert not np.array_equal(
      draws[0], data_lib.batch_indices(10, 3, seed=1, stream=1, draw=0))


# Model.


@pytest.fixture(scope="module")
def outputs(generator):
  """Training-mode outputs for the source labels and the flipped labels
  (same dropout and Gumbel keys)."""
  module, params, batch = generator
  run = jax.jit(lambda labels: module.apply(
      {"params": params}, batch.ids, lengths=batch.lengths, labels=labels,
      gamma=jnp.float32(0.5), train=True,
      rngs={"dropout": jax.random.PRNGKey(1),
            "gumbel": jax.random.PRNGKey(2)}))
  return run(batch.labels), run(1 - batch.labels)


def test_generator_output_shapes(generator, outputs, data):
  module, params, batch = generator
  out, _ = outputs
  v = len(data.vocab)
  chex.assert_shape(out.content, (4, 12))
  chex.assert_shape(out.ae_logits, (4, 7, v))
  chex.assert_shape([out.transferred, out.reconstructed], (4, 7, v))
  chex.assert_shape([out.transferred_content, out.reconstructed_content],
                    (4, 12))
  np.testing.assert_allclose(jnp.sum(out.transferred, -1), 1.0, rtol=1e-5)
  assert jnp.all((out.transferred_lengths >= 1)
                 & (out.transferred_lengths <= 7))
  ids, lengths = module.apply({"params": params}, batch.ids, batch.lengths,
                              batch.labels, method=module.transfer_greedy)
  chex.assert_shape(ids, (4, 7))
  chex.assert_shape(lengths, (4,))


def test_critic_outputs_and_padding_mask(config, data):
  critic = train_lib.build_models(config, len(data.vocab)).critic
  ids = data.train.ids[:4, 1:]
  lengths = data.train.lengths[:4] - 1
  params = critic.init(jax.random.PRNGKey(0), ids, lengths=lengths,
                       train=False)
  scores = critic.apply(params, ids, lengths=lengths, train=False)
  chex.assert_shape(scores, (4, 2))
  noisy = np.where(np.arange(ids.shape[1]) >= lengths[:, None], 7, ids)
  np.testing.assert_allclose(
      critic.apply(params, noisy, lengths=lengths, train=False), scores)


def test_content_code_is_independent_of_the_label(generator, outputs):
  module, params, batch = generator
  source, flipped = outputs
  np.testing.assert_array_equal(source.content, flipped.content)
  assert not np.allclose(source.transferred, flipped.transferred)
  state = lambda labels: module.apply(
      {"params": params}, source.content, labels,
      method=module.initial_state)
  assert not np.allclose(state(batch.labels), state(1 - batch.labels))


def test_content_code_ignores_padding(generator):
  module, params, batch = generator
  padded = np.array(batch.ids)
  padded[padded == 0] = 5
  code = jax.jit(lambda ids: module.apply(
      {"params": params}, ids, batch.lengths, train=False,
      method=module.content_code))
  np.testing.assert_allclose(code(padded), code(batch.ids), rtol=1e-6)


# Losses.


def test_sequence_cross_entropy_hand_computed():
  logits = jnp.log(jnp.array([[[0.5, 0.5], [0.25, 0.75], [0.9, 0.1]]]))
  targets = jnp.array([[0, 1, 1]])
  loss = losses.sequence_cross_entropy(logits, targets, jnp.array([2]))
  assert loss == pytest.approx((math.log(2) + math.log(4 / 3)) / 2, rel=1e-6)


def test_abs_cosine_distance_hand_computed():
  z = jnp.array([[1.0, 0.0], [1.0, 1.0]])
  z_new = jnp.array([[0.0, 2.0], [-1.0, -1.0]])
  assert losses.abs_cosine_distance(z, z_new) == pytest.approx(1.5, rel=1e-6)


def test_bce_matches_the_formula():
  labels, logits = jnp.array([1, 0]), jnp.array([0.3, -2.0])
  expected = [-math.log(1 / (1 + math.exp(-0.3))),
              -math.log(1 - 1 / (1 + math.exp(2.0)))]
  np.testing.assert_allclose(losses.sigmoid_bce(labels, logits), expected,
                             rtol=1e-6)


@pytest.mark.parametrize("use_jit", [False, True])
def test_reweighted_generator_term(use_jit):
  d_fake = jnp.array([0.5, -1.0, 2.0, 0.0])
  labels = jnp.array([1, 0, 1, 0])
  fn = lambda d, reweight: losses.generator_adversarial_terms(
      clas_fake=jnp.zeros(4), d_fake=d, labels=labels, reweight=reweight)
  if use_jit:
    fn = jax.jit(fn, static_argnums=1)
  weights = objectives.importance_weights(d_fake).weights
  assert float(jnp.sum(weights)) == pytest.approx(4.0, rel=1e-6)
  terms = fn(d_fake, True)
  assert float(terms.dis) == pytest.approx(
      -float(jnp.sum(jax.nn.softmax(d_fake) * d_fake)), rel=1e-6)
  assert float(terms.clas) == pytest.approx(math.log(2), rel=1e-6)
  grad = jax.grad(lambda d: fn(d, True).dis)(d_fake)
  np.testing.assert_allclose(grad, -weights / 4, rtol=1e-6)
  assert float(fn(d_fake, False).dis) == pytest.approx(-0.375)
  assert float(fn(d_fake, False).effective_sample_size) == 4


def test_critic_loss_hand_computed():
  terms = losses.critic_loss(
      clas_real=jnp.zeros(2), clas_fake=jnp.zeros(2),
      d_real=jnp.array([1.0, 3.0]), d_fake=jnp.array([0.0, 1.0]),
      labels=jnp.array([0, 1]), gradient_penalty=jnp.float32(0.2),
      lambda_g=jnp.float32(0.5), acgan_scale=10.0, gp_weight=10.0)
  assert float(terms.clas) == pytest.approx(1.5 * math.log(2), rel=1e-6)
  assert float(terms.dis) == pytest.approx(-1.5)
  assert float(terms.wasserstein_estimate) == pytest.approx(1.5)
  assert float(terms.loss) == pytest.approx(15 * math.log(2) - 1.5 + 2.0,
                                            rel=1e-6)


def test_gradient_penalty_on_padded_embedded_sequences():
  w = jax.random.normal(jax.random.PRNGKey(0), (5, 3))
  critic = lambda x: jnp.einsum("bte,te->b", x, w)
  real = jnp.ones((2, 4, 3))
  fake = losses.pad_time(jnp.zeros((2, 2, 3)), 4)
  chex.assert_shape(fake, (2, 4, 3))
  pad = lambda x: losses.pad_time(x, 5)
  gp = objectives.gradient_penalty(critic, pad(real), pad(fake),
                                   jax.random.PRNGKey(1))
  norm = float(jnp.sqrt(jnp.sum(w ** 2)))
  assert float(gp.penalty) == pytest.approx((norm - 1) ** 2, rel=1e-5)


def test_per_tensor_clipping():
  clip = train_lib.clip_each_by_norm(5.0)
  grads = {"a": jnp.array([6.0, 8.0]), "b": jnp.array([3.0, 0.0])}
  clipped, _ = clip.update(grads, clip.init(grads))
  np.testing.assert_allclose(clipped["a"], [3.0, 4.0], rtol=1e-6)
  np.testing.assert_allclose(clipped["b"], [3.0, 0.0])


# Schedule and metrics.


def test_plan_schedule():
  plan = train_lib.Plan(pretrain_epochs=2, num_epochs=5,
                        pretrain_epoch_steps=10, adversarial_epoch_steps=2,
                        pretrain_diter=1, diter=5, gamma_decay=0.5,
                        gamma_min=0.2, lambda_g=5e-4, lambda_z=0.5)
  assert plan.num_steps == 26
  assert [plan.epoch(s) for s in (0, 19, 20, 22, 25)] == [1, 2, 3, 4, 5]
  assert plan.is_epoch_end(10) and plan.is_epoch_end(22)
  assert not plan.is_epoch_end(21)
  assert plan.diter_at(19) == 1 and plan.diter_at(20) == 5
  assert plan.critic_draws_before(22) == 20 + 10
  gammas = [float(plan.schedule_at(s).gamma) for s in (0, 20, 22, 24)]
  np.testing.assert_allclose(gammas, [1.0, 0.5, 0.25, 0.2])
  assert float(plan.schedule_at(19).lambda_g) == 0.0
  assert float(plan.schedule_at(20).lambda_z) == 0.5


def test_make_plan_epoch_lengths(corpus_files):
  config = _config(corpus_files)
  config.schedule.update(dict(steps_per_epoch=0, diter=5, pretrain_diter=1))
  plan = train_lib.make_plan(config, 1000)
  assert (plan.pretrain_epoch_steps, plan.adversarial_epoch_steps) == (250, 50)
  config.schedule.update(dict(steps_per_epoch=7,
                              adversarial_steps_per_epoch=3))
  plan = train_lib.make_plan(config, 1000)
  assert (plan.pretrain_epoch_steps, plan.adversarial_epoch_steps) == (7, 3)


def test_transfer_metrics_hand_computed():
  transfers = [["the", "food", "was", "great"], ["a", "b"]]
  sources = [["the", "food", "was", "great"], ["c", "d"]]
  references = [["the", "food", "was", "bad"], ["a", "b"]]
  metrics = evaluate_lib.transfer_metrics(
      transfers, sources, references, np.array([1, 0]), np.array([1, 1]))
  # bleu_src: (1 + 0) / 2. bleu_ref: sentence 1 has p1 = 3/4, p2 = 2/3,
  # p3 = 1/2 and no 4-gram match (method4: 1/(2·5/ln 4)); sentence 2 is
  # identical to its reference but has no 3- or 4-gram (method4 smoothed
  # 1/(2·5/ln 2) and 1/(4·5/ln 2), each over max(1, 0) n-grams).
  first = (3 / 4 * 2 / 3 * 1 / 2 * math.log(4) / 10) ** 0.25
  second = (math.log(2) / 10 * math.log(2) / 20) ** 0.25
  assert metrics["bleu_src"] == pytest.approx(50.0)
  assert metrics["bleu_ref"] == pytest.approx(100 * (first + second) / 2)
  assert metrics["accuracy"] == 50.0


def test_config_errors(corpus_files):
  bad = _config(corpus_files, objective="ppogan")
  with pytest.raises(ConfigError, match="objective='ppogan': style transfer"):
    config_check.check_config(bad)


# End to end.


@pytest.fixture(scope="module")
def full_run(config, tmp_path_factory):
  """An uninterrupted run of `config` (2 epochs of 2 steps): its workdir,
  final state and last evaluation's metrics."""
  workdir = str(tmp_path_factory.mktemp("full"))
  state, metrics = train_lib.train_and_evaluate(config, workdir)
  return workdir, state, metrics


def test_transfer_round_trip_and_exact_resume(config, full_run, tmp_path):
  """Trains 2 epochs (2 AE steps, then 2 adversarial steps),
  decodes, evaluates, and resumes from a mid-run checkpoint exactly."""
  workdir, full, metrics = full_run
  assert int(full.step) == 4
  assert {"eval/bleu_ref", "eval/bleu_src", "eval/accuracy", "val/accuracy",
          "style_classifier/holdout_accuracy"} <= set(metrics)
  assert all(math.isfinite(v) for v in metrics.values())
  samples = os.listdir(os.path.join(workdir, "samples"))
  assert {"eval_step0000002.tsv", "eval_step0000004.tsv"} <= set(samples)
  with open(os.path.join(workdir, "samples", "eval_step0000004.tsv")) as f:
    first = f.readline().rstrip("\n").split("\t")
  assert first[0] == "0" and first[1] == "the food was bad ."
  with open(os.path.join(workdir, "metrics.jsonl")) as f:
    records = [json.loads(line) for line in f]
  assert records[-1]["step"] == 4
  assert any("generator/importance_ess" in r for r in records)

  train_lib.train_and_evaluate(config, str(tmp_path / "b"), until_step=2)
  resumed, _ = train_lib.train_and_evaluate(config, str(tmp_path / "b"))
  chex.assert_trees_all_close(resumed.generator.params, full.generator.params,
                              rtol=1e-5, atol=1e-6)
  chex.assert_trees_all_close(resumed.critic.params, full.critic.params,
                              rtol=1e-5, atol=1e-6)


def _main_command(config, directory, workdir):
  """The command line that runs `config` (written to `directory` as a
  config file) in `workdir`."""
  path = os.path.join(directory, "tiny_style.py")
  with open(path, "w") as f:
    f.write("import json\n\nimport ml_collections\n\n\ndef get_config():\n"
            "  return ml_collections.ConfigDict(json.loads("
            f"{config.to_json()!r}))\n")
  return [sys.executable, "-m", "ppogan_jax.main", f"--config={path}",
          f"--workdir={workdir}"]


def _step_records(workdir):
  """The per-step records of metrics.jsonl, without the wall-clock field."""
  return [{k: v for k, v in r.items() if k != "elapsed_s"}
          for r in logs.read_metrics(workdir)]


def test_sigterm_saves_a_checkpoint_and_the_same_command_resumes(
    corpus_files, tmp_path):
  config = _config(corpus_files)
  config.schedule.steps_per_epoch = 1000
  config.log_every = 1
  workdir = tmp_path / "run"
  command = _main_command(config, tmp_path, workdir)
  proc = engine_utils.run_until_sigterm(
      command, str(workdir / "metrics.jsonl"), timeout=300,
      cwd=engine_utils.REPO)
  stderr = proc.stderr
  assert proc.returncode == 0, stderr
  assert "saved the checkpoint at step" in stderr
  steps = checkpoint.Checkpointer(str(workdir / "checkpoints"),
                                  keep=2).steps()
  assert len(steps) == 1 and 3 <= steps[0] < 1000
  end = steps[0] + 2
  resumed = subprocess.run(command + [f"--until_step={end}"],
                           capture_output=True, text=True, timeout=300,
                           cwd=engine_utils.REPO)
  assert resumed.returncode == 0, resumed.stderr
  assert f"resuming at step {steps[0]}" in resumed.stderr

  reference = str(tmp_path / "uninterrupted")
  state, _ = train_lib.train_and_evaluate(config, reference, until_step=end)
  manager = checkpoint.Checkpointer(str(workdir / "checkpoints"), keep=2)
  try:
    restored = manager.restore_latest(checkpoint.abstract(state), config)
  finally:
    manager.close()
  assert int(restored.step) == int(state.step) == end
  chex.assert_trees_all_close(restored, state, rtol=1e-5, atol=1e-6)
  records, expected = _step_records(str(workdir)), _step_records(reference)
  assert [r["step"] for r in records] == list(range(1, end + 1))
  assert [sorted(r) for r in records] == [sorted(r) for r in expected]
  np.testing.assert_allclose([[r[k] for k in sorted(r)] for r in records],
                             [[r[k] for k in sorted(r)] for r in expected],
                             rtol=1e-5, atol=1e-6)


def test_sample_mode_writes_the_transfers_of_the_latest_checkpoint(
    config, full_run, tmp_path):
  workdir = tmp_path / "run"
  shutil.copytree(full_run[0], workdir)
  samples = workdir / "samples"
  names = ("eval_step0000004.tsv", "val_step0000004.tsv")
  trained = {name: (samples / name).read_text() for name in names}
  for name in names:
    (samples / name).unlink()
  result = subprocess.run(
      _main_command(config, tmp_path, workdir) + ["--mode=sample"],
      capture_output=True, text=True, timeout=300, cwd=engine_utils.REPO)
  assert result.returncode == 0, result.stderr
  assert f"wrote samples to {samples}/*_step0000004.*" in result.stdout
  assert "restored checkpoint at step 4" in result.stderr
  assert {name: (samples / name).read_text() for name in names} == trained
  assert len(trained["eval_step0000004.tsv"].splitlines()) == 4
  with pytest.raises(ConfigError, match="no checkpoint in"):
    train_lib.write_samples(config, str(tmp_path / "empty"), 0)
