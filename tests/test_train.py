"""The training program: resume, preemption, damaged checkpoints, bad input,
non-finite losses and what a run leaves in its workdir."""
import glob
import json
import os
import struct
import subprocess
import sys

import numpy as np
import pytest
from tensorboardX.proto import event_pb2

from ppogan_jax import checkpoint
from ppogan_jax import config_check
from ppogan_jax import errors
from ppogan_jax import train
from ppogan_jax.tasks import toy as toy_task
from tests import engine_utils

MAIN = [sys.executable, "-m", "ppogan_jax.main",
        f"--config={engine_utils.REPO}/configs/toy_8gaussians.py"]
TINY_FLAGS = ["--config.model.hidden=32", "--config.model.depth=2",
              "--config.batch_size=16", "--config.n_critic=3",
              "--config.n_gen=2", "--config.eval.num_samples=64"]


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
  """An uninterrupted 6-step run (checkpoints at 3 and 6)."""
  workdir = str(tmp_path_factory.mktemp("full"))
  state = train.train_and_evaluate(engine_utils.tiny_toy_config(), workdir)
  return workdir, state


def _read_events(workdir):
  """(tag, step, value) of every scalar in the run's TensorBoard files."""
  out = []
  for path in glob.glob(os.path.join(workdir, "tensorboard", "events.*")):
    with open(path, "rb") as f:
      data = f.read()
    pos = 0
    while pos < len(data):
      (length,) = struct.unpack("<Q", data[pos:pos + 8])
      event = event_pb2.Event.FromString(data[pos + 12:pos + 12 + length])
      pos += 12 + length + 4
      for v in event.summary.value:
        out.append((v.tag, event.step, v.simple_value))
  return out


def test_run_writes_metrics_samples_and_checkpoints(full_run):
  workdir, state = full_run
  assert int(state.step) == 6
  events = _read_events(workdir)
  losses = [(s, v) for tag, s, v in events if tag == "critic/loss"]
  assert [s for s, _ in losses] == [1, 2, 3, 4, 5, 6]
  assert all(np.isfinite(v) for _, v in losses)
  assert {"ppo/ratio_mean", "ppo/approx_kl", "critic/importance_ess",
          "classifier/real_accuracy", "generator/grad_norm",
          "eval/modes_covered"} <= {tag for tag, _, _ in events}
  lines = [json.loads(l) for l in open(os.path.join(workdir, "metrics.jsonl"))]
  assert lines[0]["step"] == 1 and "critic/gradient_penalty" in lines[0]
  elapsed = [line["elapsed_s"] for line in lines]
  assert elapsed == sorted(elapsed) and elapsed[-1] > 0
  assert sorted(os.listdir(os.path.join(workdir, "samples"))) == [
      "critic_step_0000003.png", "critic_step_0000006.png",
      "step_0000003.png", "step_0000006.png"]
  assert checkpoint.Checkpointer(
      os.path.join(workdir, "checkpoints"), keep=3).steps() == [3, 6]


def test_interrupted_and_resumed_run_is_bit_identical(full_run, tmp_path):
  _, uninterrupted = full_run
  workdir = str(tmp_path)
  paused = train.train_and_evaluate(engine_utils.tiny_toy_config(), workdir,
                                    until_step=4)
  assert int(paused.step) == 4
  assert checkpoint.Checkpointer(
      os.path.join(workdir, "checkpoints"), keep=3).steps() == [3, 4]
  resumed = train.train_and_evaluate(engine_utils.tiny_toy_config(), workdir)
  assert int(resumed.step) == 6
  assert engine_utils.trees_equal(resumed, uninterrupted)


def test_corrupt_latest_checkpoint_falls_back_to_the_previous(
    full_run, tmp_path, caplog):
  workdir = str(tmp_path / "run")
  os.system(f"cp -r {full_run[0]} {workdir}")
  for path in glob.glob(f"{workdir}/checkpoints/6/state/**/*", recursive=True):
    if os.path.isfile(path):
      with open(path, "wb") as f:
        f.write(b"garbage")
  exp = train.setup(engine_utils.tiny_toy_config(), workdir)
  exp.checkpointer.close()
  assert int(exp.state.step) == 3


def test_checkpoint_from_another_config_is_refused(full_run):
  config = engine_utils.tiny_toy_config("wgan_gp")
  config.gp_weight = 1.0
  with pytest.raises(checkpoint.ConfigMismatchError,
                     match=r"gp_weight.*objective|objective.*gp_weight"):
    train.setup(config, full_run[0])


def test_an_option_newer_than_the_checkpoint_is_no_difference_at_default():
  config = engine_utils.tiny_toy_config()
  saved = json.loads(config.to_json())
  del saved["surrogate"]["dual_clip"]
  assert checkpoint.config_differences(saved, config) == []
  config.surrogate.dual_clip = 3.0
  assert checkpoint.config_differences(saved, config) == [
      "surrogate.dual_clip: checkpoint=None config=3.0"]


def test_changing_only_run_control_fields_resumes(full_run):
  config = engine_utils.tiny_toy_config(num_steps=8, log_every=2)
  exp = train.setup(config, full_run[0])
  exp.checkpointer.close()
  assert int(exp.state.step) == 6


def test_wgan_gp_with_generator_ema_trains_through_the_loop(tmp_path):
  config = engine_utils.tiny_toy_config(
      "wgan_gp", num_steps=2, generator_ema_decay=0.5)
  state = train.train_and_evaluate(config, str(tmp_path))
  ema, params = state.generator_ema_params, state.generator.params
  assert int(state.step) == 2
  assert 0 < engine_utils.max_abs_difference(ema, params) < 1e-3


def test_sample_mode_writes_samples_of_the_latest_checkpoint(full_run):
  path = train.write_samples(engine_utils.tiny_toy_config(), full_run[0], 50)
  samples = np.load(path + ".npy")
  assert samples.shape == (50, 2) and np.isfinite(samples).all()
  assert path.endswith("sampled_step_0000006")
  assert os.path.exists(path + ".png")


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(
    tmp_path, monkeypatch):
  clean = toy_task.real_batches

  def poisoned(step, *args, **kwargs):
    batches = clean(step, *args, **kwargs)
    return batches * np.nan if step >= 4 else batches

  monkeypatch.setattr(toy_task, "real_batches", poisoned)
  workdir = str(tmp_path)
  with pytest.raises(train.NonFiniteLossError, match="step 5: .*critic/loss"):
    train.train_and_evaluate(engine_utils.tiny_toy_config(), workdir)
  assert checkpoint.Checkpointer(
      os.path.join(workdir, "checkpoints"), keep=3).steps() == [3]


@pytest.mark.parametrize("field,value,message", [
    ("objective", "ppo", "unknown objective 'ppo'"),
    ("batch_size", 12, "not divisible by the 8 devices"),
    ("n_critic", 0, "n_critic=0: expected a positive integer"),
    ("epsilon", 1.5, "clip range must lie in"),
])
def test_bad_config_is_reported_before_compiling(tmp_path, field, value,
                                                 message):
  config = engine_utils.tiny_toy_config(**{field: value})
  with pytest.raises(errors.ConfigError, match=message):
    train.setup(config, str(tmp_path))


@pytest.mark.parametrize("option,value,message", [
    ("ratio_gradient", "old", "surrogate.ratio_gradient='old': choose one of"),
    ("advantage_baseline", "mean", "choose one of .'none', 'fake_mean'"),
    ("old_classifier", "never", "old_classifier='never'"),
    ("classifier_steps", 0, "classifier_steps=0: expected a positive"),
    ("dual_clip", 0.5, "dual_clip=0.5: expected 0 .off. or a bound c > 1"),
])
def test_bad_surrogate_option_is_reported(tmp_path, option, value, message):
  config = engine_utils.tiny_toy_config()
  config.surrogate[option] = value
  with pytest.raises(errors.ConfigError, match=message):
    train.setup(config, str(tmp_path))


def test_ct_gan_without_consistency_weight_is_refused(tmp_path):
  config = engine_utils.tiny_toy_config("ct_gan", consistency_weight=0.0)
  with pytest.raises(errors.ConfigError, match="consistency_weight > 0"):
    config_check.check_config(config)


def test_unwritable_workdir_is_reported(tmp_path):
  blocker = tmp_path / "file"
  blocker.write_text("")
  with pytest.raises(errors.ConfigError, match="is not writable"):
    config_check.check_workdir(str(blocker / "run"))


def test_unknown_dataset_is_reported(tmp_path):
  config = engine_utils.tiny_toy_config()
  config.data.name = "9gaussians"
  with pytest.raises(errors.ConfigError, match="unknown toy dataset"):
    train.setup(config, str(tmp_path))


@pytest.mark.parametrize("flag,message", [
    ("--config.no_such_field=1", "no_such_field"),
    ("--config.batch_size=abc", "batch_size"),
    ("--config.objective=nope", "unknown objective 'nope'"),
])
def test_command_line_errors_are_one_line(tmp_path, flag, message):
  result = subprocess.run(
      MAIN + [f"--workdir={tmp_path}", flag], capture_output=True, text=True,
      timeout=120)
  assert result.returncode != 0
  error_lines = [l for l in result.stderr.splitlines() if message in l]
  assert error_lines, result.stderr
  assert "Traceback" not in result.stderr


def test_sigterm_saves_a_checkpoint_and_the_same_command_resumes(tmp_path):
  cache = tmp_path / "xla_cache"
  command = MAIN + [f"--workdir={tmp_path}", "--config.num_steps=100000",
                    "--config.checkpoint_every=100000",
                    "--config.eval_every=100000", "--config.log_every=1",
                    f"--compilation_cache={cache}"]
  command += TINY_FLAGS
  proc = engine_utils.run_until_sigterm(
      command, str(tmp_path / "metrics.jsonl"), timeout=120)
  stderr = proc.stderr
  assert proc.returncode == 0, stderr
  assert "saved the checkpoint at step" in stderr
  assert any(cache.iterdir()), "the compiled step was not cached"
  steps = checkpoint.Checkpointer(str(tmp_path / "checkpoints"), keep=3).steps()
  assert len(steps) == 1 and steps[0] >= 3
  resumed = subprocess.run(
      command + [f"--config.num_steps={steps[0] + 2}"],
      capture_output=True, text=True, timeout=120)
  assert resumed.returncode == 0, resumed.stderr
  assert f"resuming at step {steps[0]}" in resumed.stderr
  assert f"step {steps[0] + 2}/{steps[0] + 2}" in resumed.stderr
