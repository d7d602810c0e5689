#!/usr/bin/env bash
# The CPU budget of results/real_text.md. COCO captions with a reduced
# RelGAN (head size 64, 100 filters per critic width; the rest as
# configs/text_relgan_coco.py): MLE pre-training for MLE_EPOCHS epochs
# (cached, shared by the rows), then the adversarial rows advance CHUNK
# iterations each in turn. Then the character-level LM (width 64) for
# CHAR_STEPS iterations: PPO-GAN (classifier lr 2e-5, the config's), WGAN-GP
# and PPO-GAN at the earlier classifier lr 1e-4 for each of CHAR_SEEDS
# (default "0 1 2"); re-weighting alone (2 seeds); clipping alone at both
# rates and two ablations (one seed each). Every schedule keeps its
# config's num_steps, so rerunning with a larger UNTIL / CHAR_STEPS
# continues these runs from their checkpoints. The COCO rows keep the
# max-pool rule and unrolled loops they were trained with (the config's
# defaults before 2026-12-07; the newer defaults agree to rounding).
#
#   nohup results/real_text_experiment.sh /path/outside/repo > rt.log 2>&1 &
#   python results/summarise_real_text.py /path/outside/repo
set -euo pipefail
ROOT=${1:?usage: real_text_experiment.sh WORKDIR_ROOT [UNTIL_STEP] [CHUNK]}
UNTIL=${2:-8}
CHUNK=${3:-8}
CHAR_STEPS=${CHAR_STEPS:-100}
CHAR_SEEDS=${CHAR_SEEDS:-0 1 2}
COCO_SMALL=(--config.model.head_size=64 --config.model.num_filters=100
            --config.pretrain.epochs=${MLE_EPOCHS:-2}
            --config.eval_every=$CHUNK --config.checkpoint_every=$CHUNK
            --config.data.cache_dir="$ROOT/cache" --config.seed=0
            --config.model.max_pool_second_order=autodiff
            --config.unroll_inner_loops=True)
cd "$(dirname "$0")/.."
for ((step = CHUNK; step <= UNTIL; step += CHUNK)); do
  for objective in rsgan wgan_gp ppogan; do
    python -m ppogan_jax.main --config="configs/text_relgan_coco.py:$objective" \
      --workdir="$ROOT/coco/$objective" "${COCO_SMALL[@]}" --until_step="$step"
  done
done
char_run() {  # NAME OBJECTIVE SEED [FLAGS...]
  local name=$1 objective=$2 seed=$3
  shift 3
  python -m ppogan_jax.main --config="configs/char_lm.py:$objective" \
    --workdir="$ROOT/char_lm/${name}_seed$seed" --config.model.dim=64 \
    --config.num_steps="$CHAR_STEPS" --config.eval_every=50 \
    --config.checkpoint_every=50 --config.log_every=10 --config.seed="$seed" "$@"
}
# The classifier rate before the char-LM config's 2e-5.
OLD_CLR=--config.optimizer.classifier.learning_rate=1e-4
for seed in $CHAR_SEEDS; do
  char_run ppogan ppogan "$seed"
  char_run wgan_gp wgan_gp "$seed"
  char_run ppogan_clr1e-4 ppogan "$seed" "$OLD_CLR"
done
for seed in 0 1; do
  char_run reweight_only reweight_only "$seed"
done
char_run clip_only clip_only 0
char_run clip_only_clr1e-4 clip_only 0 "$OLD_CLR"
# One-seed ablations of the surrogate (results/real_text.md), at the old rate.
char_run ppogan_dualclip3 ppogan 0 --config.surrogate.dual_clip=3.0 "$OLD_CLR"
char_run ppogan_ngen1 ppogan 0 --config.n_gen=1 "$OLD_CLR"
