"""WGAN-GP's character-level language model (Gulrajani et al. 2017, §5.5).

The settings of `gan_language.py` (docs/reference_code.md §9.1): lines of 32
characters padded with "`", a vocabulary of the 2048 most common
characters ('unk' = 0); G: z ∈ R^128 → Linear → 5 residual 1-D conv blocks
(512 channels, kernel 5) → 1×1 conv → softmax; D: 1×1 conv → 5 blocks
→ Linear; WGAN loss + gradient penalty λ = 10 on one-hot/softmax
interpolations; 10 critic steps per generator step; Adam(1e-4,
β = (0.5, 0.9)) for every network; batch 64; 200,000 iterations; every 100
iterations the JS divergences js1..js4 of the character 1- to 4-gram
distributions of 640 argmax samples vs the training data. The argument is
the objective; the PPO-GAN ones keep this model and these settings, with
5 generator steps per critic phase (the paper's n_g = 5; one classifier
step before each, ε = 0.2) and the classifier C fine-tuned at 2e-5, 5× below
the critic (the ratio of the paper's CIFAR code; at 1e-4 C separates real
from fake so fast that the Eq. 6 ratio explodes, results/real_text.md):

  python -m ppogan_jax.main --config=configs/char_lm.py:wgan_gp \
      --workdir=/tmp/char_wgan
  python -m ppogan_jax.main --config=configs/char_lm.py:ppogan \
      --workdir=/tmp/char_ppogan
  python -m ppogan_jax.main --config=configs/char_lm.py:reweight_only \
      --workdir=/tmp/char_reweight
  python -m ppogan_jax.main --config=configs/char_lm.py:clip_only \
      --workdir=/tmp/char_clip
  ... --config.data.train_path=/path/lines.txt

The reference trains on the first 10M lines of Billion Word; the data
default to the project's shared COCO captions (`../shared/data/coco/
train.txt` beside the repository, 10,000 lines).
"""
import os

import ml_collections

from ppogan_jax import config_defaults

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_DATA = os.path.join(os.path.dirname(REPO), "shared", "data")
CLASSIFIER_LEARNING_RATE = 2e-5


def get_config(objective: str = "wgan_gp"):
  c = config_defaults.base_config()
  c.task = "char_lm"
  c.objective = objective
  c.data = ml_collections.ConfigDict(dict(
      train_path=os.path.join(SHARED_DATA, "coco", "train.txt"), seq_len=32,
      max_vocab_size=2048, max_line_chars=2000))
  c.model = ml_collections.ConfigDict(dict(dim=512, num_blocks=5,
                                           latent_dim=128))
  c.num_steps = 200_000
  c.n_critic = 10
  c.n_gen = config_defaults.generator_steps(objective)
  c.optimizer = config_defaults.same_optimizer(1e-4, b1=0.5, b2=0.9)
  c.optimizer.classifier.learning_rate = CLASSIFIER_LEARNING_RATE
  c.eval_every = 100
  c.eval.num_samples = 640
  return c
