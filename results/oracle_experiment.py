"""Table 2 (synthetic oracle) under the CPU protocol, every row and seed.

  nohup python results/oracle_experiment.py ROOT [--seeds=3] [--first_seed=0]
      [--lengths=20,40] [--cores=0,1] > ROOT/driver.log 2>&1 &
  python results/summarise_oracle.py ROOT

Jobs, in this order of priority, for each length in turn: the MLE
pre-training of each seed (`--mode=pretrain`; it is also the MLE row), then
the adversarial rows of configs/text_relgan.py:OBJECTIVE,LENGTH,cpu for
seed first_seed, ..., seeds - 1 (`--first_seed` adds seeds to an experiment
whose earlier seeds ran elsewhere). One job runs per entry of `--cores`
(under the cpu protocol on one XLA:CPU thread, pinned to that core); an
adversarial job starts once its MLE generator is cached.
Runs live in ROOT/L<length>/<objective>_seed<k> (log beside them, .failed
with the exit code when one fails) and share ROOT/cache. A finished run is
skipped and an interrupted one resumes, so rerunning the command continues
the experiment. `--protocol=paper` runs the paper's budget instead (for an
accelerator: benchmarks/accelerator.sh).
"""
import argparse
import dataclasses
import os
import subprocess
import sys
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OBJECTIVES = ("ppogan", "wgan_gp", "rsgan")
ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


@dataclasses.dataclass
class Job:
  name: str
  command: list[str]
  after: str = ""  # the name of the job this one waits for
  state: str = "waiting"  # waiting, running, done, failed


def jobs_of(root: str, *, seeds: range, lengths: list[int], protocol: str,
            objectives: tuple[str, ...]) -> list[Job]:
  """Per length, its pre-training jobs then its adversarial ones: the jobs
  in priority order."""
  cache = os.path.join(root, "cache")
  jobs = []
  for length in lengths:
    pretrain, adversarial = [], []
    for seed in seeds:
      def command(objective: str, *flags: str) -> list[str]:
        return [sys.executable, "-m", "ppogan_jax.main",
                f"--config=configs/text_relgan.py:{objective},{length},"
                f"{protocol}", f"--config.seed={seed}",
                f"--config.data.cache_dir={cache}", *flags]

      mle = f"L{length}/mle_seed{seed}"
      pretrain.append(Job(mle, command("ppogan", "--mode=pretrain",
                                       f"--workdir={cache}")))
      for objective in objectives:
        name = f"L{length}/{objective}_seed{seed}"
        adversarial.append(Job(name, command(
            objective, f"--workdir={os.path.join(root, name)}"), after=mle))
    jobs += pretrain + adversarial
  return jobs


def finished(root: str, job: Job) -> bool:
  """Whether a previous invocation completed `job` (its log says so)."""
  log = os.path.join(root, job.name + ".log")
  if not os.path.exists(log):
    return False
  with open(log) as f:
    text = f.read()
  return "exit 0\n" in text


def run(root: str, job: Job, core: int | None) -> None:
  """Runs `job`; with a `core`, on one XLA:CPU thread pinned to it (XLA:CPU
  keeps helper threads busy even with one compute thread; pinning keeps two
  jobs off each other)."""
  path = os.path.join(root, job.name)
  os.makedirs(os.path.dirname(path), exist_ok=True)
  env, pin = dict(os.environ), None
  if core is not None:
    env["XLA_FLAGS"] = ONE_THREAD
    pin = lambda: os.sched_setaffinity(0, {core})  # noqa: E731
  print(time.strftime("%H:%M:%S"), "start", job.name, flush=True)
  with open(path + ".log", "a") as log:
    log.write(" ".join(job.command[1:]) + "\n")
    log.flush()
    code = subprocess.run(
        job.command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
        preexec_fn=pin).returncode
    log.write(f"exit {code}\n")
  if code > 0:
    with open(path + ".failed", "w") as f:
      f.write(f"{code}\n")
  job.state = "done" if code == 0 else "failed"
  print(time.strftime("%H:%M:%S"), job.state, job.name, flush=True)


def schedule(root: str, jobs: list[Job], cores: list[int | None]) -> None:
  """Runs `jobs` on one thread per entry of `cores`, each taking the first
  job that can start (its `after` job done); a job after a failed one is
  skipped. Worker i's jobs run on CPU core cores[i] (None: unpinned; see
  `run`)."""
  by_name = {job.name: job for job in jobs}
  for job in jobs:
    if finished(root, job):
      job.state = "done"
  lock = threading.Lock()

  def next_job() -> Job | None:
    with lock:
      for job in jobs:
        before = by_name.get(job.after)
        if job.state == "waiting" and before is not None and (
            before.state == "failed"):
          job.state = "failed"
        if job.state == "waiting" and (before is None
                                       or before.state == "done"):
          job.state = "running"
          return job
      return None

  def worker(core: int) -> None:
    while True:
      job = next_job()
      if job is not None:
        run(root, job, core)
      elif all(j.state in ("done", "failed") for j in jobs):
        return
      else:
        time.sleep(5)

  threads = [threading.Thread(target=worker, args=(core,)) for core in cores]
  for t in threads:
    t.start()
    time.sleep(1)  # worker i takes the i-th job
  for t in threads:
    t.join()


def main() -> None:
  p = argparse.ArgumentParser(description=__doc__,
                              formatter_class=argparse.RawTextHelpFormatter)
  p.add_argument("root")
  p.add_argument("--seeds", type=int, default=3)
  p.add_argument("--first_seed", type=int, default=0)
  p.add_argument("--lengths", default="20,40")
  p.add_argument("--cores", default="0,1",
                 help="one worker per entry, pinned to that CPU core (cpu "
                 "protocol); e.g. 0,1,1 runs the first job alone on core 0 "
                 "and the next two sharing core 1")
  p.add_argument("--protocol", default="cpu", choices=("cpu", "paper"))
  p.add_argument("--objectives", default=",".join(OBJECTIVES))
  args = p.parse_args()
  jobs = jobs_of(args.root, seeds=range(args.first_seed, args.seeds),
                 lengths=[int(n) for n in args.lengths.split(",")],
                 protocol=args.protocol,
                 objectives=tuple(args.objectives.split(",")))
  cores = [int(c) for c in args.cores.split(",")]
  schedule(args.root, jobs,
           cores if args.protocol == "cpu" else [None] * len(cores))


if __name__ == "__main__":
  main()
