"""Two processes on loopback train exactly what one process trains."""
import os
import socket
import subprocess
import sys

import jax
import numpy as np

from ppogan_jax import train
from tests import engine_utils

WORKER = """
import sys
import jax
import numpy as np
from ppogan_jax import parallel, train
from tests import engine_utils

process_id, port, workdir, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
config = engine_utils.tiny_toy_config(num_steps=2, eval_every=100, checkpoint_every=100)
config.distributed.enabled = True
config.distributed.coordinator_address = f"127.0.0.1:{port}"
config.distributed.num_processes = 2
config.distributed.process_id = process_id
parallel.initialize_distributed(config)
state = train.train_and_evaluate(config, workdir)
params = jax.tree.map(lambda x: np.asarray(x.addressable_data(0)), state.generator.params)
np.savez(out, *jax.tree.leaves(params))
"""


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def test_two_processes_match_one(tmp_path):
  env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4",
             PYTHONPATH=engine_utils.REPO)
  port = str(_free_port())
  workdir = str(tmp_path / "multi")
  procs = [subprocess.Popen(
      [sys.executable, "-c", WORKER, str(i), port, workdir,
       str(tmp_path / f"params_{i}.npz")], env=env,
      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
      for i in range(2)]
  outputs = [p.communicate(timeout=300) for p in procs]
  for p, (_, err) in zip(procs, outputs):
    assert p.returncode == 0, err[-3000:]
  assert "process 0 of 2" in outputs[0][1]
  with open(os.path.join(workdir, "metrics.jsonl")) as f:
    train_records = [l for l in f if '"critic/loss"' in l]
  assert len(train_records) == 2  # Only process 0 writes: 4 if both did.

  single = train.train_and_evaluate(
      engine_utils.tiny_toy_config(num_steps=2, eval_every=100,
                                   checkpoint_every=100),
      str(tmp_path / "single"))
  expected = [np.asarray(x) for x in jax.tree.leaves(
      jax.device_get(single.generator.params))]
  for i in range(2):
    got = np.load(tmp_path / f"params_{i}.npz")
    got = [got[f"arr_{k}"] for k in range(len(got.files))]
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
      np.testing.assert_allclose(g, e, atol=2e-5)
