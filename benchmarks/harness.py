"""Timing harness shared by the benchmark scripts.

Separates compilation from execution, reports the median/min/max of timed
repeats after a warm-up, FLOPs from XLA's cost analysis, and peak memory.
"""
import argparse
import ast
import json
import os
import platform
import resource
import statistics
import time
from typing import Any, Callable

import jax

from ppogan_jax import config_defaults, parallel, step as step_lib, tasks
from ppogan_jax import malloc_tuning, train

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_config(name: str, arg: str):
  """get_config(arg) of configs/<name>.py."""
  return config_defaults.load_config(
      os.path.join(REPO, "configs", name + ".py"), arg)


def set_field(config, dotted: str, value) -> None:
  """config.a.b = value for dotted = 'a.b'."""
  *parents, name = dotted.split(".")
  for parent in parents:
    config = config[parent]
  config[name] = value


def apply_overrides(config, overrides) -> None:
  """Applies each 'FIELD=VALUE' of `overrides` (VALUE a Python literal;
  quote strings: model.rule="'name'")."""
  for override in overrides:
    field, value = override.split("=", 1)
    set_field(config, field, ast.literal_eval(value))


def add_set_argument(p: argparse.ArgumentParser) -> None:
  """--set FIELD=VALUE, repeatable: `apply_overrides` of the benchmarked
  config."""
  p.add_argument("--set", action="append", default=[],
                 help="config override FIELD=VALUE (Python literal; quote "
                 "strings), repeatable, e.g. model.dis_embed_dim=8")


def train_step_benchmark(config, name: str, repeats: int) -> dict[str, Any]:
  """Times one outer iteration of `config` (the fused, donated train step)."""
  task = tasks.build_task(config)
  mesh = parallel.make_mesh()
  state = parallel.replicate(train.create_state(config, task), mesh)
  step_fn = parallel.compile_train_step(
      step_lib.make_train_step(
          config, task, constrain_batch=parallel.batch_constraint(mesh)),
      mesh, state)
  real = parallel.global_real_batch(task.real_batches(
      0, num_batches=config.n_critic + config.n_gen,
      batch_size=config.batch_size), mesh)
  result = benchmark(
      name, step_fn, (state, real), repeats=repeats,
      items_per_call=config.batch_size * (config.n_critic + config.n_gen),
      donate_result_into=lambda args, out: (out[0], args[1]))
  shard = real.sharding.shard_shape(real.shape)
  return {**result, "devices": mesh.size, "global_batch": config.batch_size,
          "per_device_batch": shard[1]}


def hardware() -> dict[str, Any]:
  """What the numbers were measured on."""
  device = jax.devices()[0]
  cpu = platform.processor() or platform.machine()
  try:
    with open("/proc/cpuinfo") as f:
      cpu = next(l.split(":", 1)[1].strip() for l in f if "model name" in l)
  except (OSError, StopIteration):
    pass
  return {"jax": jax.__version__, "backend": jax.default_backend(),
          "device": device.device_kind, "num_devices": jax.device_count(),
          "cpu": cpu, "cpu_count": os.cpu_count(),
          "glibc_tunables": os.environ.get("GLIBC_TUNABLES", "")}


def peak_rss_gib() -> float:
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def benchmark(name: str, fn: Callable, args: tuple, *, repeats: int,
              warmup: int = 1, items_per_call: int = 1,
              donate_result_into: Callable | None = None) -> dict[str, Any]:
  """Compiles `fn` (a jitted function) on `args`, then times `repeats` calls.

  Reports tracing and lowering (`lower_s`) apart from XLA's compilation
  (`compile_s`). With JAX's persistent compilation cache on (`parse`'s
  `--compilation_cache`), JAX's in-memory caches are cleared and `fn` is
  lowered and compiled a second time, which loads the executable the first
  compilation stored: `compile_cached_s`. Run with an empty cache directory,
  `compile_s` is then the cold compilation.

  Args:
    name: the workload's name in the report.
    fn: a `jax.jit`-wrapped function.
    args: its arguments.
    repeats: timed calls (after `warmup` untimed ones).
    items_per_call: samples processed per call (for samples/s).
    donate_result_into: maps (args, result) to the next call's args, for
      functions that donate their input state.
  """
  start = time.perf_counter()
  lowered = fn.lower(*args)
  lower_s = time.perf_counter() - start
  compiled = lowered.compile()
  compile_s = time.perf_counter() - start - lower_s
  cache = {}
  if jax.config.jax_compilation_cache_dir:
    jax.clear_caches()
    relowered = fn.lower(*args)
    start = time.perf_counter()
    compiled = relowered.compile()
    cache = {"compile_cached_s": round(time.perf_counter() - start, 2)}
  cost = compiled.cost_analysis()
  cost = cost[0] if isinstance(cost, list) else cost
  flops = float(cost.get("flops", float("nan"))) if cost else float("nan")
  memory = compiled.memory_analysis()
  temp_gib = (memory.temp_size_in_bytes / 2**30) if memory else float("nan")

  times = []
  for i in range(warmup + repeats):
    t = time.perf_counter()
    result = compiled(*args)
    jax.block_until_ready(result)
    if i >= warmup:
      times.append(time.perf_counter() - t)
    if donate_result_into is not None:
      args = donate_result_into(args, result)
  median = statistics.median(times)
  return {
      "workload": name, "lower_s": round(lower_s, 2),
      "compile_s": round(compile_s, 2), **cache,
      "median_ms": round(1e3 * median, 1), "min_ms": round(1e3 * min(times), 1),
      "max_ms": round(1e3 * max(times), 1), "repeats": repeats,
      "samples_per_s": round(items_per_call / median, 1),
      "gflop_per_call": round(flops / 1e9, 2),
      "achieved_gflop_per_s": round(flops / 1e9 / median, 1),
      "xla_temp_memory_gib": round(temp_gib, 3),
      "peak_rss_gib": round(peak_rss_gib(), 2),
  }


def parser(description: str) -> argparse.ArgumentParser:
  p = argparse.ArgumentParser(description=description)
  p.add_argument("--repeats", type=int, default=10)
  p.add_argument("--json", type=str, default="",
                 help="also write the results to this JSON file")
  p.add_argument("--compilation_cache", type=str, default="",
                 help="JAX's persistent compilation cache directory (as in "
                 "`python -m ppogan_jax.main`); also times a compilation "
                 "that loads from it (compile_cached_s). Give an empty "
                 "directory for the cold time.")
  return p


def run(main: Callable[[], None]) -> None:
  """A benchmark script's entry point: runs `main` in a process with glibc's
  malloc tuned as `python -m ppogan_jax.main` runs it
  (ppogan_jax/malloc_tuning.py), so the script times what training runs."""
  malloc_tuning.reexec_with_tuned_malloc()
  main()


def parse(p: argparse.ArgumentParser) -> argparse.Namespace:
  """p.parse_args(), with the compilation cache turned on if asked."""
  args = p.parse_args()
  if args.compilation_cache:
    jax.config.update("jax_compilation_cache_dir", args.compilation_cache)
  return args


def report(results: list[dict[str, Any]], json_path: str) -> None:
  """Prints the hardware and a markdown table of the results (the README's
  benchmark table); optionally writes JSON."""
  hw = hardware()
  print(" ".join(f"{k}={v}" for k, v in hw.items()))
  keys = list(results[0])
  print("| " + " | ".join(keys) + " |")
  print("|---" * len(keys) + "|")
  for r in results:
    print("| " + " | ".join(str(r[k]) for k in keys) + " |")
  if json_path:
    with open(json_path, "w") as f:
      json.dump({"hardware": hw, "results": results}, f, indent=2)
