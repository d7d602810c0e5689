"""glibc's malloc tuned for XLA:CPU (ppogan_jax/malloc_tuning.py): when the
settings are applied, that the re-executed process keeps freed memory mapped
(no page faults on reuse), and that XLA computes the same bits under them."""
import os
import platform
import subprocess
import sys

import pytest

from ppogan_jax import malloc_tuning

GLIBC = platform.libc_ver()[0] == "glibc"
needs_glibc = pytest.mark.skipif(not GLIBC, reason="glibc only")

_REEXEC = ("from ppogan_jax import malloc_tuning\n"
           "malloc_tuning.reexec_with_tuned_malloc()\n")
# Page faults of four 128 MiB buffers filled after a first one, in a thread
# (as XLA:CPU allocates): 32,768 each when glibc unmaps the buffer on free.
_REALLOCATION_FAULTS = _REEXEC + (
    "import resource, threading\n"
    "def fill():\n"
    "  len(b'x' * 2**27)\n"
    "  before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
    "  for _ in range(4):\n"
    "    len(b'x' * 2**27)\n"
    "  print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)\n"
    "thread = threading.Thread(target=fill)\n"
    "thread.start()\n"
    "thread.join()\n")
# A jitted gradient whose parameter and gradient buffers (64 MiB each) are
# above glibc's mmap threshold; prints a digest of its bits.
_XLA_DIGEST = _REEXEC + (
    "import hashlib, jax, jax.numpy as jnp, numpy as np\n"
    "kx, kw = jax.random.split(jax.random.key(0))\n"
    "x = jax.random.normal(kx, (256, 8192))\n"
    "w = jax.random.normal(kw, (8192, 2048)) / 64.0\n"
    "f = jax.jit(jax.grad(lambda w: jnp.sum(jnp.tanh(x @ w) @ w.T)))\n"
    "g = f(w)\n"
    "g = f(g / jnp.max(jnp.abs(g)))\n"
    "print(hashlib.sha256(np.asarray(g).tobytes()).hexdigest())\n")


def _run(code, **env):
  environ = {k: v for k, v in os.environ.items()
             if k not in ("GLIBC_TUNABLES", malloc_tuning.OPT_OUT)}
  return subprocess.run([sys.executable, "-c", code], check=True, text=True,
                        stdout=subprocess.PIPE, env={**environ, **env}
                        ).stdout.strip()


def test_settings_are_added_only_on_glibc_and_only_when_unset():
  env = {"HOME": "/h"}
  assert malloc_tuning.tuned_environment(env, libc="glibc") == {
      "HOME": "/h", "GLIBC_TUNABLES": malloc_tuning.TUNABLES}
  assert malloc_tuning.tuned_environment(env, libc="") is None
  assert malloc_tuning.tuned_environment(
      {"GLIBC_TUNABLES": "glibc.malloc.tcache_count=0"}, libc="glibc") is None
  assert malloc_tuning.tuned_environment(
      {malloc_tuning.OPT_OUT: "system"}, libc="glibc") is None


def test_system_environment_removes_only_our_settings():
  ours = {"HOME": "/h", "GLIBC_TUNABLES": malloc_tuning.TUNABLES}
  assert malloc_tuning.system_environment(ours) == {"HOME": "/h"}
  users = {"GLIBC_TUNABLES": "glibc.malloc.tcache_count=0"}
  assert malloc_tuning.system_environment(users) == users


@needs_glibc
def test_the_process_reexecutes_itself_once_with_the_settings():
  code = _REEXEC + "import os\nprint(os.environ.get('GLIBC_TUNABLES'))\n"
  assert _run(code) == malloc_tuning.TUNABLES
  assert _run(code, PPOGAN_JAX_MALLOC="system") == "None"


@needs_glibc
def test_tuned_process_reuses_freed_memory_without_page_faults():
  assert int(_run(_REALLOCATION_FAULTS, PPOGAN_JAX_MALLOC="system")) > 50_000
  assert int(_run(_REALLOCATION_FAULTS)) < 1_000


@needs_glibc
def test_xla_computes_the_same_bits_under_the_settings():
  assert _run(_XLA_DIGEST) == _run(_XLA_DIGEST, PPOGAN_JAX_MALLOC="system")
