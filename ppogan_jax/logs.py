"""Run outputs a researcher reads: TensorBoard events, JSONL, progress lines."""
import json
import logging
import os
import sys
import threading
import time
from typing import Callable

from tensorboardX import SummaryWriter


def get_logger() -> logging.Logger:
  """The package's logger: INFO lines to stderr, independent of absl's
  verbosity (which main.py lowers to silence Orbax's per-save chatter)."""
  logger = logging.getLogger("ppogan_jax")
  if not logger.handlers:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(
        "%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
  return logger


class Heartbeat:
  """Says that a phase started, how it goes while it runs, and when it ended.

  A context manager: logs "`what`: started" on entry, then every `period`
  seconds from a background thread "`what`: m:ss elapsed" followed by
  `status()` when given (e.g. a `Progress.line` with the ETA), and
  "`what`: done in m:ss" on exit. For work that runs in one long call
  (compilation, an evaluation) as much as for loops that log rarely.
  """

  def __init__(self, what: str, *, status: Callable[[], str] | None = None,
               period: float = 30.0):
    self._what, self._status, self._period = what, status, period
    self._stopped = threading.Event()
    self._thread = threading.Thread(target=self._beat, daemon=True)
    self._start = 0.0

  def _elapsed(self) -> str:
    return format_duration(time.perf_counter() - self._start)

  def _beat(self) -> None:
    while not self._stopped.wait(self._period):
      status = f" {self._status()}" if self._status else ""
      get_logger().info("%s: %s elapsed%s", self._what, self._elapsed(),
                        status)

  def __enter__(self) -> "Heartbeat":
    self._start = time.perf_counter()
    get_logger().info("%s: started", self._what)
    self._thread.start()
    return self

  def __exit__(self, *exc) -> None:
    self._stopped.set()
    self._thread.join()
    if exc[0] is None:
      get_logger().info("%s: done in %s", self._what, self._elapsed())


class MetricWriter:
  """Writes scalar metrics as TensorBoard events and as `metrics.jsonl`.

  Each JSONL record also holds `elapsed_s`, the seconds since this writer
  was created (a resumed run starts again from 0), from which the compute
  time of a run trained in several invocations adds up. Only process 0
  writes; other processes get a writer that does nothing.
  """

  def __init__(self, workdir: str, *, active: bool):
    self._active = active
    if active:
      self._tb = SummaryWriter(logdir=os.path.join(workdir, "tensorboard"))
      self._jsonl = open(os.path.join(workdir, "metrics.jsonl"), "a")
      self._created = time.perf_counter()

  def write(self, step: int, scalars: dict[str, float]) -> None:
    if not self._active:
      return
    for name, value in scalars.items():
      self._tb.add_scalar(name, value, global_step=step)
    elapsed = round(time.perf_counter() - self._created, 3)
    self._jsonl.write(
        json.dumps({"step": step, **scalars, "elapsed_s": elapsed}) + "\n")
    self._jsonl.flush()

  def flush(self) -> None:
    if self._active:
      self._tb.flush()

  def close(self) -> None:
    if self._active:
      self._tb.close()
      self._jsonl.close()


def read_metrics(workdir: str) -> list[dict]:
  """The records of `workdir`/metrics.jsonl (one dict per written step), in
  the order written; [] when the run has written none."""
  path = os.path.join(workdir, "metrics.jsonl")
  if not os.path.exists(path):
    return []
  with open(path) as f:
    return [json.loads(line) for line in f if line.strip()]


def compute_seconds(records: list[dict]) -> float:
  """The training time of a run from its `metrics.jsonl` records: the sum,
  over the invocations that trained it (each restarts `elapsed_s` at 0), of
  each one's last `elapsed_s`. Records without `elapsed_s` are skipped."""
  total, last = 0.0, 0.0
  for record in records:
    elapsed = record.get("elapsed_s")
    if elapsed is None:
      continue
    if elapsed < last:
      total += last
    last = elapsed
  return total + last


def with_previous_records(records: list[dict], path: str,
                          key: Callable[[dict], tuple]) -> list[dict]:
  """The records of the JSON list at `path` whose `key` no record of
  `records` has, followed by `records`: a summary that keeps the runs of an
  earlier machine while the runs here replace theirs."""
  with open(path) as f:
    previous = json.load(f)
  have = {key(r) for r in records}
  return [r for r in previous if key(r) not in have] + records


def format_duration(seconds: float) -> str:
  seconds = int(seconds)
  h, rem = divmod(seconds, 3600)
  m, s = divmod(rem, 60)
  return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
  """Step rate and ETA over the steps run in this process (not resumed ones)."""

  def __init__(self, total_steps: int, *, unit: str = "step"):
    self._total = total_steps
    self._unit = unit
    self._first = 0
    self._start = None

  def start(self, step: int) -> None:
    """Starts the clock after `step` (so compilation is not counted)."""
    self._first = step
    self._start = time.perf_counter()

  def line(self, step: int, scalars: dict[str, float],
           labels: dict[str, str]) -> str:
    """'<unit> k/N (p%) r it/s ETA h:mm:ss label=value ...' for `labels`
    ({label: metric name}) present in `scalars`."""
    done = step - self._first
    elapsed = time.perf_counter() - self._start if self._start else 0.0
    rate = done / elapsed if elapsed > 0 and done > 0 else float("nan")
    eta = (self._total - step) / rate if rate > 0 else None
    shown = " ".join(f"{label}={scalars[k]:.4g}"
                     for label, k in labels.items() if k in scalars)
    return (f"{self._unit} {step}/{self._total} "
            f"({100 * step / self._total:.0f}%) "
            f"{rate:.2f} it/s ETA "
            f"{'?' if eta is None else format_duration(eta)} {shown}")
