"""benchmarks/harness.py: compilation timed apart from execution, and the
persistent-compilation-cache timing (a second compilation that loads what
the first one stored)."""
import json
import os
import subprocess
import sys

from tests import engine_utils

# A fresh process, so that the cache directory is JAX's from the start.
PROGRAM = """
import json, sys
import jax, jax.numpy as jnp
sys.path.insert(0, {repo!r})
from benchmarks import harness
hits = []
jax.monitoring.register_event_listener(
    lambda event, **kwargs: hits.append(event)
    if event == "/jax/compilation_cache/cache_hits" else None)
p = harness.parser("test")
args = harness.parse(p)
f = jax.jit(lambda x: jnp.tanh(x @ x.T).sum())
result = harness.benchmark("tanh", f, (jnp.ones((64, 64)),), repeats=2)
print(json.dumps(dict(result, cache_hits=len(hits))))
"""


def _benchmark(*flags, env=None):
  out = subprocess.run(
      [sys.executable, "-c", PROGRAM.format(repo=engine_utils.REPO), *flags],
      check=True, capture_output=True, text=True, env=env)
  return json.loads(out.stdout.strip().splitlines()[-1])


def test_without_a_cache_there_is_no_cached_compile():
  result = _benchmark()
  assert "compile_cached_s" not in result and result["cache_hits"] == 0
  assert result["lower_s"] >= 0 and result["compile_s"] > 0
  assert result["repeats"] == 2
  assert result["min_ms"] <= result["median_ms"] <= result["max_ms"]


def test_compilation_cache_is_written_then_loaded(tmp_path):
  cache = tmp_path / "xla"
  env = {**os.environ, "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
         "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0"}
  result = _benchmark(f"--compilation_cache={cache}", env=env)
  entries = [p.name for p in cache.iterdir()]
  assert [e for e in entries if e.startswith("jit__lambda-")], entries
  assert result["compile_cached_s"] >= 0
  assert result["cache_hits"] == 1
