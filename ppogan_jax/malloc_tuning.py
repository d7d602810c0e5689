"""glibc malloc settings that keep XLA:CPU's per-call buffers mapped.

An XLA:CPU executable allocates its temporaries with malloc on every call:
gigabytes at the oracle task's sizes. glibc hands allocations above its mmap
threshold (at most 32 MiB), and those of a thread's arena above 64 MiB, to a
fresh mmap and unmaps them on free, so each call faults its temporaries in
page by page and gives them back afterwards. On one CPU-protocol oracle
iteration (L = 40, paper schedule, one thread) that was 655,000 page faults
and 1.9 s of system time against 5.6 s of user time. With one arena, no
mmaps and no trimming, the heap keeps the memory between calls: no page
faults, no system time, the same numbers bit for bit (benchmarks/NOTES.md).

`python -m ppogan_jax.main` and the benchmarks re-execute themselves once
under these settings (`GLIBC_TUNABLES`). A `GLIBC_TUNABLES` already in the
environment is left as it is; `PPOGAN_JAX_MALLOC=system` keeps glibc's
defaults. The settings never return freed memory to the system, so the
process holds its peak heap until it exits.
"""
import os
import platform
import sys
from typing import Mapping, Optional

TUNABLES = ("glibc.malloc.arena_max=1:glibc.malloc.mmap_max=0:"
            "glibc.malloc.trim_threshold=100000000000")
OPT_OUT = "PPOGAN_JAX_MALLOC"


def tuned_environment(environ: Mapping[str, str],
                      libc: Optional[str] = None) -> Optional[dict[str, str]]:
  """`environ` with GLIBC_TUNABLES=TUNABLES added, or None when it should be
  left alone: `libc` (default: this interpreter's) is not glibc,
  GLIBC_TUNABLES is already set, or PPOGAN_JAX_MALLOC=system."""
  libc = platform.libc_ver()[0] if libc is None else libc
  if (libc != "glibc" or "GLIBC_TUNABLES" in environ
      or environ.get(OPT_OUT) == "system"):
    return None
  return {**environ, "GLIBC_TUNABLES": TUNABLES}


def system_environment(environ: Mapping[str, str]) -> dict[str, str]:
  """`environ` without the settings this module adds: for a child process
  that should run under glibc's defaults (the reference side of
  benchmarks/compare_reference.py)."""
  env = dict(environ)
  if env.get("GLIBC_TUNABLES") == TUNABLES:
    del env["GLIBC_TUNABLES"]
  return env


def reexec_with_tuned_malloc() -> None:
  """Replaces this process with itself (same interpreter, same command line)
  under tuned_environment; returns at once when there is nothing to change.
  glibc reads its tunables only at start-up, hence the re-execution."""
  env = tuned_environment(os.environ)
  if env is not None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], env)
