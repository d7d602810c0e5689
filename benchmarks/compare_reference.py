"""The oracle-text or CIFAR workloads, ours and the public PyTorch code's, in
one run.

  python benchmarks/compare_reference.py --ref_driver=PATH/ref_text_bench.py \
      [--ref_python=~/.cache/ppogan-ref/venv/bin/python] \
      [--ref_src=~/.cache/ppogan-ref/src/unsupervised_text_generation] \
      [--workloads=public,mle,paper] [--length=20] [--repeats=3] \
      [--ref_malloc=default,tuned] [--set=FIELD=VALUE ...] [--json=OUT.json]
  python benchmarks/compare_reference.py --task=cifar [--batch_size=32] \
      [--conv_impls=xla,gemm_weight_grad] [--repeats=3] [--set=FIELD=VALUE ...] \
      [--json=OUT.json]

CPU speed differs between machines as much as between implementations, so a
speed claim is a ratio measured side by side. This script times the public
code (Holmeswww/PPOGAN, unsupervised_text_generation/, run in its own CPU
torch environment `--ref_python`) and then ours (benchmarks/text_step.py's
workloads) on the same machine, each with the machine to itself, and prints
both medians and their ratio (reference / ours: > 1 means we are faster).

The reference side is a driver script (`--ref_driver`) that imports the
public code's own modules from `--ref_src` and prints one JSON line per
workload with "workload" and "median_ms", under the workload names of
benchmarks/text_step.py: `mle_step` (one teacher-forced MLE batch) and
`adversarial_public_5d1g_L<L>` (one iteration of the public schedule: 1 × (C
+ G) then 5 critic steps). `paper` (5 D + 5 × (C + G)) has no reference
counterpart. When the driver, the interpreter or the source tree is missing
the reference side is skipped, with a message saying which, and only our side
runs. Our side runs with glibc's malloc tuned, as `python -m ppogan_jax.main`
does (ppogan_jax/malloc_tuning.py; PPOGAN_JAX_MALLOC=system for glibc's
defaults); the reference runs under glibc's defaults (`--ref_malloc=default`),
the same tuning (`tuned`), or both (`default,tuned`).

`--task=cifar` compares one iteration of PPO-GAN's CIFAR-10 schedule (5
critic steps, 5 × (C + G), ResNet G 256 / critic and C 332 wide, batch
`--batch_size`): the reference's cifar10/main.py through
benchmarks/ref_cifar_bench.py (the default driver; `--ref_src` defaults to
~/.cache/ppogan-ref/src/cifar10) against benchmarks/image_step.py's
iteration, once per `--conv_impls` value (the ResNet's model.conv_impl).
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
import image_step  # noqa: E402
import text_step  # noqa: E402
from ppogan_jax import malloc_tuning  # noqa: E402

REFERENCE_WORKLOADS = {"mle": "mle", "public": "public"}
REFERENCE_DEFAULTS = {  # task: (--ref_driver, --ref_src)
    "text": ("", "~/.cache/ppogan-ref/src/unsupervised_text_generation"),
    "cifar": (os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           "ref_cifar_bench.py"),
              "~/.cache/ppogan-ref/src/cifar10"),
}


def missing_reference(args) -> str:
  """Why the reference side cannot run ('' when it can)."""
  for flag, path in (("--ref_driver", args.ref_driver),
                     ("--ref_python", args.ref_python),
                     ("--ref_src", args.ref_src)):
    if not path:
      return f"{flag} is not set"
    if not os.path.exists(os.path.expanduser(path)):
      return f"{flag}={path} does not exist"
  return ""


def time_reference(args, workloads: list[str], malloc: str) -> dict[str, dict]:
  """Runs the reference driver once for `workloads`; {workload name: JSON}."""
  env = malloc_tuning.system_environment(os.environ)
  if malloc == "tuned":
    env["GLIBC_TUNABLES"] = malloc_tuning.TUNABLES
  size = (f"--length={args.length}" if args.task == "text"
          else f"--batch_size={args.batch_size}")
  command = [os.path.expanduser(args.ref_python),
             os.path.expanduser(args.ref_driver),
             f"--ref={os.path.expanduser(args.ref_src)}",
             f"--workloads={','.join(workloads)}",
             size, f"--repeats={args.repeats}",
             f"--threads={len(os.sched_getaffinity(0))}"]
  print("reference:", " ".join(command), f"(malloc {malloc})", flush=True)
  out = subprocess.run(command, env=env, check=True, text=True,
                       stdout=subprocess.PIPE).stdout
  results = [json.loads(line) for line in out.splitlines()
             if line.startswith("{")]
  return {r["workload"]: r for r in results}


def comparison_table(ours: list[dict], reference: dict[str, dict[str, dict]]
                     ) -> list[dict]:
  """One row per (our workload, reference malloc setting) with the ratio.
  Our workload is paired with the reference's of the same name, or of the
  name in its "reference_workload"."""
  rows = []
  for result in ours:
    name = result["workload"]
    row = {"workload": name, "ours_median_ms": result["median_ms"],
           "ours_compile_s": result["compile_s"]}
    for malloc, by_name in reference.items():
      ref = by_name.get(result.get("reference_workload", name))
      row[f"reference_{malloc}_median_ms"] = ref["median_ms"] if ref else None
      row[f"ratio_{malloc}"] = (round(ref["median_ms"] / result["median_ms"],
                                      2) if ref else None)
    rows.append(row)
  return rows


def time_ours(args) -> list[dict]:
  """Our side: text_step's workloads, or the CIFAR iteration per conv_impl
  (paired with the reference's cifar_iteration_B<B>)."""
  ours = []
  if args.task == "text":
    for workload in args.workloads.split(","):
      ours.append(text_step.run_workload(workload, length=args.length,
                                         overrides=args.set,
                                         repeats=args.repeats))
      print(ours[-1], flush=True)
    return ours
  for conv_impl in args.conv_impls.split(","):
    ours.append({**image_step.run_workload(
        "cifar10_resnet_ppogan", "ppogan", args.batch_size, conv_impl,
        args.repeats, args.set), "reference_workload": f"cifar_iteration_B"
                                             f"{args.batch_size}"})
    print(ours[-1], flush=True)
  return ours


def main():
  p = harness.parser(__doc__)
  p.set_defaults(repeats=3)
  p.add_argument("--task", default="text", choices=sorted(REFERENCE_DEFAULTS))
  p.add_argument("--workloads", default="public,mle,paper",
                 help="text only")
  p.add_argument("--length", type=int, default=20, help="text only")
  p.add_argument("--batch_size", type=int, default=32, help="cifar only")
  p.add_argument("--conv_impls", default="xla,gemm_weight_grad",
                 help="cifar only: our ResNet's model.conv_impl values")
  p.add_argument("--ref_driver", default=None,
                 help="default: none for text, ref_cifar_bench.py for cifar")
  p.add_argument("--ref_python",
                 default="~/.cache/ppogan-ref/venv/bin/python")
  p.add_argument("--ref_src", default=None,
                 help="default: the task's folder in ~/.cache/ppogan-ref/src")
  p.add_argument("--ref_malloc", default="default",
                 help="comma list of: default, tuned")
  harness.add_set_argument(p)
  args = harness.parse(p)
  default_driver, default_src = REFERENCE_DEFAULTS[args.task]
  if args.ref_driver is None:
    args.ref_driver = default_driver
  if args.ref_src is None:
    args.ref_src = default_src
  reference = {}
  why_not = missing_reference(args)
  if why_not:
    print(f"reference side skipped: {why_not}", flush=True)
  else:
    shared = (["iteration"] if args.task == "cifar" else
              [REFERENCE_WORKLOADS[w] for w in args.workloads.split(",")
               if w in REFERENCE_WORKLOADS])
    for malloc in args.ref_malloc.split(","):
      reference[malloc] = time_reference(args, shared, malloc)
  ours = time_ours(args)
  rows = comparison_table(ours, reference)
  harness.report(rows, "")
  if args.json:
    with open(args.json, "w") as f:
      json.dump({"hardware": harness.hardware(), "comparison": rows,
                 "ours": ours, "reference": reference}, f, indent=2)


if __name__ == "__main__":
  harness.run(main)
