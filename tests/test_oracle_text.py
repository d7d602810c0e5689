"""The oracle-text experiment end to end at tiny sizes: MLE, then PPO-GAN."""
import json
import os
import re

import jax
import numpy as np

from ppogan_jax import config_check
from ppogan_jax import tasks
from ppogan_jax import train
from ppogan_jax.tasks import relgan_text
from tests import engine_utils


def _untrained_nll_oracle(config):
  untrained = config.copy_and_resolve_references()
  untrained.pretrain.epochs = 0
  task = tasks.build_task(untrained)
  state = train.create_state(untrained, task)
  samples = train.make_sampler(untrained, task)(
      state, jax.random.PRNGKey(0), untrained.eval.num_samples)
  return task.evaluate(samples, None, state.generator.variables())


def test_mle_then_ppogan_beats_the_untrained_generator(tmp_path):
  config = engine_utils.tiny_text_config(str(tmp_path / "cache"))
  workdir = str(tmp_path / "run")
  train.train_and_evaluate(config, workdir)
  final = [json.loads(l) for l in open(os.path.join(workdir, "metrics.jsonl"))
           if "eval/nll_oracle" in l][-1]
  untrained = _untrained_nll_oracle(config)
  assert final["eval/nll_oracle"] < untrained["nll_oracle"] - 0.1
  assert final["eval/nll_gen"] < untrained["nll_gen"] - 0.1
  assert {"ppo/ratio_mean", "critic/importance_ess"} <= set(
      json.loads(open(os.path.join(workdir, "metrics.jsonl")).readline()))
  dump = np.loadtxt(os.path.join(workdir, "samples", "step_0000020.txt"),
                    dtype=np.int64)
  assert dump.shape == (512, 8) and dump.min() >= 0 and dump.max() < 40

  # The MLE generator is cached: a second variant starts from the same one.
  pretrain_dir = relgan_text.pretrain_directory(config)
  assert os.path.isdir(os.path.join(pretrain_dir, "30"))
  mle = [json.loads(l) for l in open(os.path.join(pretrain_dir,
                                                  "metrics.jsonl"))]
  assert [m["epoch"] for m in mle] == list(range(
      config.pretrain.eval_every_epochs, 31, config.pretrain.eval_every_epochs))
  assert mle[-1]["mle/nll_oracle"] < untrained["nll_oracle"]
  other = engine_utils.tiny_text_config(str(tmp_path / "cache"), "wgan_gp")
  first = train.create_state(config, tasks.build_task(config))
  second = train.create_state(other, tasks.build_task(other))
  assert engine_utils.trees_equal(first.generator.params,
                                  second.generator.params)


def test_real_batches_are_seeded_by_step_and_split_across_processes():
  data = np.arange(100 * 3).reshape(100, 3)
  a = relgan_text.sentence_batches(7, 2, 8, 0, 1, data=data, seed=1)
  b = relgan_text.sentence_batches(7, 2, 8, 0, 1, data=data, seed=1)
  c = relgan_text.sentence_batches(8, 2, 8, 0, 1, data=data, seed=1)
  halves = [relgan_text.sentence_batches(7, 2, 8, p, 2, data=data, seed=1)
            for p in range(2)]
  assert a.shape == (2, 8, 3)
  np.testing.assert_array_equal(a, b)
  assert not np.array_equal(a, c)
  np.testing.assert_array_equal(np.concatenate(halves, axis=1), a)


def test_readme_main_job_is_the_oracle_experiment_at_the_paper_budget():
  with open(os.path.join(engine_utils.REPO, "README.md")) as f:
    main_job = f.read().split("```bash\n", 1)[1].splitlines()[0]
  config_arg = re.search(r"--config=configs/(\w+)\.py(?::(\S+))?", main_job)
  assert config_arg and config_arg.group(1) == "text_relgan"
  config = engine_utils.load_config(
      "text_relgan", *filter(None, [config_arg.group(2)]))
  config_check.check_config(config)
  assert (config.task, config.objective, config.data.length) == (
      "oracle_text", "ppogan", 20)
  assert (config.pretrain.epochs, config.num_steps) == (150, 3000)
