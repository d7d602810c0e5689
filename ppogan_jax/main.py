"""Command line:
`python -m ppogan_jax.main --config=configs/X.py --workdir=DIR`.

--mode=train (default) trains or resumes (--until_step=N pauses after step N);
--mode=sample writes --num_samples samples of the latest checkpoint (the
style-transfer task: its evaluation transfers);
--mode=pretrain only pre-trains the generator (cached). Config
fields are overridden with --config.field=value.

The command re-executes itself once with glibc's malloc tuned for XLA:CPU's
large per-call buffers (ppogan_jax/malloc_tuning.py; PPOGAN_JAX_MALLOC=system
turns it off).
"""
import os
import sys
import types

from absl import app
from absl import flags
from absl import logging
import jax
from ml_collections import config_flags

from ppogan_jax import checkpoint
from ppogan_jax import errors
from ppogan_jax import malloc_tuning
from ppogan_jax import parallel
from ppogan_jax import train
from ppogan_jax.style import train as style_train

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file(
    "config", None, "Experiment config file (configs/*.py[:arg]).",
    lock_config=True)
flags.DEFINE_string("workdir", None,
                    "Directory for checkpoints, logs, samples.")
flags.DEFINE_enum(
    "mode", "train", ["train", "sample", "pretrain"], "What to do: train "
    "(or resume), sample the latest checkpoint, or only pretrain (the "
    "text tasks' cached MLE generator, which later runs start from).")
flags.DEFINE_integer("num_samples", 1000, "Samples to write in --mode=sample.")
flags.DEFINE_integer(
    "until_step", 0, "Pause the run after this step (checkpointed); rerun "
    "without it, or with a later step, to continue. 0: train to num_steps.")
flags.DEFINE_string(
    "compilation_cache", os.path.expanduser("~/.cache/ppogan_jax/xla"),
    "Directory of JAX's persistent compilation cache: a resumed run, a rerun "
    "or another seed of the same config loads its compiled train step "
    "instead of compiling it again (same executable, same numbers). Empty: "
    "no cache.")
flags.mark_flags_as_required(["config", "workdir"])


def parse_flags(argv: list[str]) -> list[str]:
  """absl flag parsing with one-line errors for bad --config overrides."""
  try:
    return FLAGS(argv)
  except flags.Error as e:
    message = str(e)
  except (AttributeError, KeyError) as e:
    message = (f"unknown config field {str(e).strip(chr(34))} in a --config.* "
               "override; the config file lists the valid fields")
  print(f"error: {message}", file=sys.stderr)
  sys.exit(2)


def trainer(config) -> types.ModuleType:
  """The module that trains and samples `config`'s task, with
  train_and_evaluate(config, workdir, *, until_step) and
  write_samples(config, workdir, num_samples) -> path: the style-transfer
  task's (single-host) or, after joining the hosts of a multi-host config,
  the GAN tasks'. Both train through `train.run_loop`."""
  if config.get("task") == "style_transfer":
    return style_train
  parallel.initialize_distributed(config)
  return train


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  logging.set_verbosity(logging.WARNING)
  if FLAGS.compilation_cache:
    jax.config.update("jax_compilation_cache_dir", FLAGS.compilation_cache)
  config = FLAGS.config
  try:
    task = trainer(config)
    if FLAGS.mode == "pretrain":
      train.pretrain_generator(config)
    elif FLAGS.mode == "sample":
      path = task.write_samples(config, FLAGS.workdir, FLAGS.num_samples)
      print(f"wrote samples to {path}.*")
    else:
      task.train_and_evaluate(config, FLAGS.workdir,
                              until_step=FLAGS.until_step)
  except (errors.ConfigError, checkpoint.ConfigMismatchError,
          train.NonFiniteLossError) as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(2)


if __name__ == "__main__":
  malloc_tuning.reexec_with_tuned_malloc()
  app.run(main, flags_parser=parse_flags)
