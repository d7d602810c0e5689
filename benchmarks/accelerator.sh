#!/usr/bin/env bash
# Everything that needs an accelerator, in one go: the step benchmarks at the
# paper's sizes (text L=20/40, CIFAR ResNet), then Table 2 at the paper's
# budget (every row, 3 seeds, L=20 and 40; results/oracle_experiment.py
# resumes when rerun). Per-iteration times land in ROOT/*.json, the runs in
# ROOT/oracle; summarise with
#   python results/summarise_oracle.py ROOT/oracle
#
#   benchmarks/accelerator.sh ROOT [SEEDS]
set -euo pipefail
ROOT=${1:?usage: benchmarks/accelerator.sh ROOT [SEEDS]}
SEEDS=${2:-3}
cd "$(dirname "$0")/.."
mkdir -p "$ROOT"
python benchmarks/text_step.py --repeats=20 --json="$ROOT/text_step_L20.json"
python benchmarks/text_step.py --length=40 --repeats=20 \
  --json="$ROOT/text_step_L40.json"
python benchmarks/image_step.py --repeats=10 --json="$ROOT/image_step.json"
python results/oracle_experiment.py "$ROOT/oracle" --protocol=paper \
  --seeds="$SEEDS" --cores=0
