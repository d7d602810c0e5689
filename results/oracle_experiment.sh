#!/usr/bin/env bash
# Table 2 (synthetic oracle, L=20) in turns: the MLE generator is pre-trained
# once (cached, shared by every row), then the adversarial rows advance
# CHUNK iterations each in turn, so at any moment they have trained for the
# same number of steps. Every schedule follows the full 3000 iterations; stop
# it at any time (checkpoints every 10 steps) and rerun to continue. The MLE
# budget defaults to 10 epochs (the paper's is 150: MLE_EPOCHS=150).
#
#   nohup results/oracle_experiment.sh /path/outside/repo > oracle.log 2>&1 &
#   python results/summarise_oracle.py /path/outside/repo   # table + curves
set -euo pipefail
ROOT=${1:?usage: oracle_experiment.sh WORKDIR_ROOT [UNTIL_STEP] [CHUNK]}
UNTIL=${2:-3000}
CHUNK=${3:-10}
OBJECTIVES=${OBJECTIVES:-"ppogan wgan_gp rsgan"}
COMMON=(--config.seed=0 --config.pretrain.epochs=${MLE_EPOCHS:-10}
        --config.eval_every=10 --config.checkpoint_every=10
        --config.data.cache_dir="$ROOT/cache")
cd "$(dirname "$0")/.."
for ((step = CHUNK; step <= UNTIL; step += CHUNK)); do
  for objective in $OBJECTIVES; do
    python -m ppogan_jax.main --config="configs/text_relgan.py:$objective" \
      --workdir="$ROOT/$objective" "${COMMON[@]}" --until_step="$step"
  done
done
