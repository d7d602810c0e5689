"""The character-level WGAN-GP language model: models, characters, n-gram
JS divergence, and the task end to end on a tiny corpus written here."""
import json
import math
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ppogan_jax import config_check
from ppogan_jax import train
from ppogan_jax.data import chars
from ppogan_jax.errors import ConfigError
from ppogan_jax.metrics import ngram
from ppogan_jax.models import char_cnn
from tests import engine_utils

LENGTH = 8
CORPUS = ["the cat sat", "a dog ran", "the dog sat on a mat", "a cat",
          "the bird flew", "a bird sat in a tree"] * 8


def _write(path, lines):
  path.write_text("\n".join(lines) + "\n", encoding="utf-8")
  return str(path)


def _tiny_config(tmp_path, objective="wgan_gp", **overrides):
  config = engine_utils.load_config("char_lm", objective)
  config.data.update(dict(train_path=_write(tmp_path / "train.txt", CORPUS),
                          seq_len=LENGTH))
  config.model.update(dict(dim=16, num_blocks=2, latent_dim=8))
  config.update(dict(batch_size=16, num_steps=2, n_critic=2, log_every=1,
                     eval_every=2, checkpoint_every=2))
  config.eval.num_samples = 40
  config.update(overrides)
  return config


def test_generator_outputs_distributions_and_critic_scores():
  generator = char_cnn.CharGenerator(vocab_size=11, length=LENGTH, dim=16,
                                     num_blocks=2)
  z = jax.random.normal(jax.random.PRNGKey(0), (3, 8))
  probs, _ = generator.init_with_output(jax.random.PRNGKey(1), z)
  assert probs.shape == (3, LENGTH, 11)
  assert bool(jnp.all(probs >= 0))
  np.testing.assert_allclose(probs.sum(-1), 1.0, rtol=1e-5)
  critic = char_cnn.CharCritic(dim=16, num_blocks=2)
  scores, variables = critic.init_with_output(jax.random.PRNGKey(2), probs)
  assert scores.shape == (3,)
  kernel = variables["params"]["block_0"]["conv_1"]["kernel"]
  assert kernel.shape == (5, 16, 16)
  # tflib he_init: uniform, std √(4/(fan_in + fan_out)), fan = 16·5.
  half_width = math.sqrt(3 * 4 / (16 * 5 * 2))
  assert float(jnp.abs(kernel).max()) <= half_width


def test_residual_block_is_identity_plus_scaled_branch():
  block = char_cnn.ResBlock()
  x = jax.random.normal(jax.random.PRNGKey(0), (2, LENGTH, 4))
  variables = block.init(jax.random.PRNGKey(1), x)
  zeroed = jax.tree.map(
      lambda p: p.at[...].set(0.0) if p.ndim == 3 else p, variables)
  np.testing.assert_array_equal(block.apply(zeroed, x), x)
  branch = block.apply(variables, x) - x
  assert float(jnp.abs(branch).max()) > 0


def test_vocabulary_encode_decode_with_padding_and_unk(tmp_path):
  lines = ["aab", "abcdefghijk", "b"]
  vocab = chars.build_vocabulary(lines, 4, max_size=4)
  # Padded "aab`", "abcd", "b```": "`" 4 times, "a" and "b" 3 (ties in
  # code-point order), "c" and "d" once: no room for them.
  assert vocab.entries == ("unk", "`", "a", "b")
  ids = chars.encode(lines, vocab, 4)
  np.testing.assert_array_equal(
      ids, [[2, 2, 3, 1], [2, 3, 0, 0], [3, 1, 1, 1]])
  assert chars.decode(ids, vocab) == ["aab`", "ab\ufffd\ufffd", "b```"]
  full = chars.build_vocabulary(lines, 11)
  assert chars.decode(chars.encode(lines, full, 11), full) == [
      chars.pad_line(line, 11) for line in lines]
  vocab.save(str(tmp_path))
  assert chars.CharVocabulary.load(str(tmp_path)) == vocab
  vocab.check_saved(str(tmp_path))
  with pytest.raises(chars.text.TextDataError,
                     match="first at id 3: saved 'b', now 'c'"):
    chars.CharVocabulary(("unk", "`", "a", "c")).check_saved(str(tmp_path))
  with pytest.raises(chars.text.TextDataError, match="one character"):
    chars.CharVocabulary(("unk", "ab"))


def _counts(rows):
  return ngram.ngram_counts(np.asarray(rows), 1, 4)


def test_js_divergence_bounds_symmetry_and_a_hand_computed_value():
  p = _counts([[0, 0, 1, 1]])
  assert ngram.js_divergence(p, _counts([[1, 0, 1, 0]])) == 0.0
  assert ngram.js_divergence(p, _counts([[2, 3, 3, 2]])) == pytest.approx(1.0)
  q = _counts([[0, 0, 0, 2]])
  # p = (1/2, 1/2, 0), q = (3/4, 0, 1/4), m = (5/8, 1/4, 1/8).
  expected = 0.5 * (0.5 * math.log2(0.5 / 0.625) + 0.5 * math.log2(2)
                    + 0.75 * math.log2(0.75 / 0.625) + 0.25 * math.log2(2))
  assert ngram.js_divergence(p, q) == pytest.approx(expected)
  assert ngram.js_divergence(q, p) == pytest.approx(expected)


def test_ngram_counts_keys_are_contiguous_ngrams():
  counts = ngram.ngram_counts(np.array([[1, 2, 1, 2], [2, 1, 2, 0]]), 2, 3)
  # Bigrams (1,2) ×3, (2,1) ×2, (2,0) ×1 as keys 1·3+2, 2·3+1, 2·3+0.
  np.testing.assert_array_equal(counts.keys, [5, 6, 7])
  np.testing.assert_array_equal(counts.counts, [3, 1, 2])
  with pytest.raises(ValueError, match="int64"):
    ngram.ngram_counts(np.zeros((1, 5), int), 5, 2 ** 13)


@pytest.mark.parametrize(
    "objective", ["wgan_gp", "ppogan", "reweight_only", "clip_only"])
def test_configs_validate_and_name_the_shared_data(objective):
  config = engine_utils.load_config("char_lm", objective)
  config_check.check_config(config)
  assert config.data.train_path.endswith(os.path.join("coco", "train.txt"))
  generator_steps = 5 if objective in ("ppogan", "clip_only") else 1
  assert (config.n_critic, config.n_gen, config.gp_weight) == (
      10, generator_steps, 10.0)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
  tmp = tmp_path_factory.mktemp("char_lm")
  config = _tiny_config(tmp, "ppogan", n_gen=2)
  workdir = str(tmp / "run")
  train.train_and_evaluate(config, workdir)
  return tmp, config, workdir


def test_ppogan_logs_js_metrics_and_decoded_samples(run):
  _, config, workdir = run
  records = [json.loads(line)
             for line in open(os.path.join(workdir, "metrics.jsonl"))]
  final = [r for r in records if "eval/js1" in r][-1]
  for n in range(1, 5):
    assert 0.0 <= final[f"eval/js{n}"] <= 1.0
  assert "ppo/ratio_mean" in records[0]
  vocab = chars.CharVocabulary.load(workdir)
  lines = open(os.path.join(workdir, "samples", "step_0000002.txt"),
               encoding="utf-8").read().split("\n")[:-1]
  assert len(lines) == config.eval.num_samples
  assert all(len(line) == LENGTH for line in lines)
  assert set("".join(lines)) <= set(vocab.entries[1:]) | {chars.UNK_DISPLAY}


def test_resume_with_a_different_vocabulary_is_refused(run):
  tmp, config, workdir = run
  changed = config.copy_and_resolve_references()
  changed.data.train_path = _write(tmp / "other.txt", CORPUS + ["xyz"])
  with pytest.raises(ConfigError, match="vocabulary"):
    train.train_and_evaluate(changed, workdir)


def test_missing_path_is_a_config_error(tmp_path):
  config = _tiny_config(tmp_path)
  config.data.train_path = ""
  with pytest.raises(ConfigError, match="train_path"):
    train.train_and_evaluate(config, str(tmp_path / "run"))
