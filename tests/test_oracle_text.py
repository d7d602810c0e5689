"""The oracle-text experiment end to end at tiny sizes: MLE, then PPO-GAN."""
import functools
import os
import re

import jax
import numpy as np
import pytest

from ppogan_jax import config_check
from ppogan_jax import logs
from ppogan_jax import tasks
from ppogan_jax.data import text as text_data
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


def test_pretrain_cache_key_ignores_the_critics_max_pool_rule(tmp_path):
  config = engine_utils.tiny_text_config(str(tmp_path / "cache"))
  config.model.max_pool_second_order = "autodiff"
  key = relgan_text.pretrain_directory(config)
  config.model.max_pool_second_order = "winning_window"
  assert relgan_text.pretrain_directory(config) == key
  config.model.head_size += 1
  assert relgan_text.pretrain_directory(config) != key


def test_mle_then_ppogan_beats_the_untrained_generator(tmp_path):
  config = engine_utils.tiny_text_config(str(tmp_path / "cache"))
  workdir = str(tmp_path / "run")
  pretrain_dir = relgan_text.pretrain_directory(config)
  train.pretrain_generator(config)  # --mode=pretrain
  assert os.path.isdir(os.path.join(pretrain_dir, "30"))
  train.train_and_evaluate(config, workdir)
  records = logs.read_metrics(workdir)
  evals = [r for r in records if "eval/nll_oracle" in r]
  assert [r["step"] for r in evals] == [0, 20]  # config.eval_at_start
  untrained = _untrained_nll_oracle(config)
  assert evals[-1]["eval/nll_oracle"] < untrained["nll_oracle"] - 0.1
  assert evals[-1]["eval/nll_gen"] < untrained["nll_gen"] - 0.1
  assert {"ppo/ratio_mean", "critic/importance_ess"} <= set(records[1])
  dump = np.loadtxt(os.path.join(workdir, "samples", "step_0000020.txt"),
                    dtype=np.int64)
  assert dump.shape == (512, 8) and dump.min() >= 0 and dump.max() < 40

  # The MLE generator is cached: a second variant starts from the same one,
  # and the evaluation at step 0 is the MLE generator's.
  mle = logs.read_metrics(pretrain_dir)
  assert [m["epoch"] for m in mle] == list(range(
      config.pretrain.eval_every_epochs, 31, config.pretrain.eval_every_epochs))
  assert mle[-1]["mle/nll_oracle"] < untrained["nll_oracle"]
  np.testing.assert_allclose(evals[0]["eval/nll_gen"], mle[-1]["mle/nll_gen"],
                             rtol=1e-5)
  other = engine_utils.tiny_text_config(str(tmp_path / "cache"), "wgan_gp")
  first = train.create_state(config, tasks.build_task(config))
  second = train.create_state(other, tasks.build_task(other))
  assert engine_utils.trees_equal(first.generator.params,
                                  second.generator.params)


def test_real_batches_are_seeded_by_step_and_split_across_processes():
  data = np.arange(100 * 3).reshape(100, 3)
  batches = functools.partial(text_data.sentence_batches, num_batches=2,
                              batch_size=8, data=data, seed=1)
  a = batches(7)
  b = batches(7)
  c = batches(8)
  halves = [batches(7, process_index=p, process_count=2) for p in range(2)]
  assert a.shape == (2, 8, 3)
  np.testing.assert_array_equal(a, b)
  assert not np.array_equal(a, c)
  np.testing.assert_array_equal(np.concatenate(halves, axis=1), a)


def test_readme_main_job_is_one_row_of_the_cpu_protocol():
  with open(os.path.join(engine_utils.REPO, "README.md")) as f:
    main_job = f.read().split("```bash\n", 1)[1].splitlines()[0]
  config_arg = re.search(r"--config=configs/(\w+)\.py(?::(\S+))?", main_job)
  assert config_arg and config_arg.group(1) == "text_relgan"
  config = engine_utils.load_config(
      "text_relgan", *filter(None, [config_arg.group(2)]))
  config_check.check_config(config)
  assert (config.task, config.objective, config.data.length) == (
      "oracle_text", "ppogan", 20)
  assert (config.data.vocab_size, config.data.num_samples,
          config.batch_size, config.eval.num_samples) == (
              5000, 10_000, 64, 10_000)
  assert (config.pretrain.epochs, config.num_steps) == (40, 1000)
  assert config.model.num_representations < 64
  assert config.eval_at_start


def test_paper_protocol_is_the_default_and_a_bad_protocol_is_refused():
  paper = engine_utils.load_config("text_relgan", "wgan_gp,40")
  assert (paper.pretrain.epochs, paper.num_steps, paper.data.length) == (
      150, 3000, 40)
  assert (paper.model.num_representations, paper.model.num_filters,
          paper.model.head_size, paper.temperature.horizon) == (
              64, 300, 256, 5000)
  assert (paper.n_gen, paper.optimizer.critic.learning_rate) == (1, 1e-4)
  cpu = engine_utils.load_config("text_relgan", "wgan_gp,40,cpu")
  # The paper protocol's faster arithmetic; the cpu protocol's is that of
  # results/oracle.md's finished rows.
  assert (paper.model.max_pool_second_order, paper.unroll_inner_loops) == (
      "winning_window", False)
  assert (cpu.model.max_pool_second_order, cpu.unroll_inner_loops) == (
      "autodiff", True)
  # The Gumbel temperature passes through the paper run's values in 1/3 of
  # the iterations.
  assert cpu.temperature.horizon / cpu.num_steps == pytest.approx(
      paper.temperature.horizon / paper.num_steps, rel=1e-3)
  with pytest.raises(ValueError, match="protocol"):
    engine_utils.load_config("text_relgan", "ppogan,20,gpu")
