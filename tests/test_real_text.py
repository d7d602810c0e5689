"""The real-text task end to end on a tiny corpus written here: MLE, then
PPO-GAN, BLEU/self-BLEU/NLL_gen, decoded sample dumps, vocabulary checks."""
import json
import os

import numpy as np
import pytest

from ppogan_jax import config_check
from ppogan_jax import train
from ppogan_jax.data import text as text_data
from ppogan_jax.errors import ConfigError
from tests import engine_utils

TRAIN = ["the cat sat on the mat .", "a dog ran in the park .",
         "the dog sat on a mat .", "a cat ran to the park .",
         "the bird sat in the tree .", "a bird flew to the tree ."] * 6
TEST = ["the cat ran in the park .", "a dog sat on the mat ."]


def _write(path, lines):
  path.write_text("\n".join(lines) + "\n", encoding="utf-8")
  return str(path)


def _tiny_config(tmp_path, objective="ppogan"):
  config = engine_utils.load_config("text_relgan_coco", objective)
  config.data.train_path = _write(tmp_path / "train.txt", TRAIN)
  config.data.test_path = _write(tmp_path / "test.txt", TEST)
  config.data.cache_dir = str(tmp_path / "cache")
  config.model.update(dict(embed_dim=8, head_size=8, dis_embed_dim=8,
                           num_representations=4, num_filters=8,
                           filter_sizes=(2, 3)))
  config.pretrain.update(epochs=20, batch_size=8, eval_every_epochs=20)
  config.update(dict(batch_size=8, num_steps=2, n_critic=2, n_gen=2,
                     log_every=1, eval_every=2, checkpoint_every=2))
  config.eval.update(dict(num_samples=16, bleu_hypotheses=16))
  return config


@pytest.fixture(scope="module")
def run(tmp_path_factory):
  tmp = tmp_path_factory.mktemp("real_text")
  config = _tiny_config(tmp)
  workdir = str(tmp / "run")
  train.train_and_evaluate(config, workdir)
  return tmp, config, workdir


def test_configs_name_the_shared_data_and_validate():
  coco = engine_utils.load_config("text_relgan_coco")
  config_check.check_config(coco)
  assert coco.data.train_path.endswith(os.path.join("coco", "train.txt"))
  emnlp = engine_utils.load_config("text_relgan_emnlp", "rsgan")
  assert emnlp.data.train_path == "" and emnlp.gp_weight == 0.0
  assert emnlp.data.test_path.endswith(os.path.join("emnlp_news", "test.txt"))
  assert (coco.temperature.maximum, emnlp.temperature.maximum) == (100, 1000)


def test_mle_then_ppogan_logs_text_metrics_and_decoded_samples(run):
  tmp, config, workdir = run
  records = [json.loads(l) for l in open(os.path.join(workdir,
                                                      "metrics.jsonl"))]
  final = [r for r in records if "eval/bleu2" in r][-1]
  for name in ("bleu2", "bleu5", "self_bleu2", "self_bleu5"):
    assert 0.0 <= final[f"eval/{name}"] <= 1.0
  vocab = text_data.Vocabulary.load(workdir)
  assert len(vocab) == 17  # 15 words, EOS/padding and BOS.
  # The untrained generator scores BLEU-2 0.17 and NLL_gen ≈ log 17 = 2.83;
  # after MLE its samples share most bigrams with the test captions.
  assert final["eval/bleu2"] > 0.3
  assert 0.0 < final["eval/nll_gen"] < 0.8 * np.log(len(vocab))
  assert 0.0 < final["eval/nll_gen_train"] < 0.8 * np.log(len(vocab))
  dump = open(os.path.join(workdir, "samples", "step_0000002.txt")).read()
  lines = dump.splitlines()
  assert len(lines) == 16
  assert all(w in vocab for line in lines for w in line.split())


def test_resume_with_a_different_vocabulary_is_refused(run):
  tmp, config, workdir = run
  changed = config.copy_and_resolve_references()
  changed.data.train_path = _write(tmp / "other.txt", TRAIN + ["an owl ."])
  with pytest.raises(ConfigError, match="vocabulary"):
    train.train_and_evaluate(changed, workdir)


def test_missing_paths_are_a_config_error(tmp_path):
  config = _tiny_config(tmp_path)
  config.data.train_path = ""
  with pytest.raises(ConfigError, match="train_path"):
    train.train_and_evaluate(config, str(tmp_path / "run"))
