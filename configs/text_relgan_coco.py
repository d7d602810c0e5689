"""Real text: RelGAN generator + PPO-GAN on COCO captions (BLEU, NLL_gen).

RelGAN (Nie et al., 2019) reports COCO; PPO-GAN's Table 3 is EMNLP2017 News
(`configs/text_relgan_emnlp.py`). The argument is the objective: `rsgan`
(RelGAN's own loss, no gradient penalty), `wgan_gp`, `ppogan`,
`ppogan_reference`:

  python -m ppogan_jax.main --config=configs/text_relgan_coco.py \
      --workdir=/tmp/coco_ppogan
  python -m ppogan_jax.main --config=configs/text_relgan_coco.py:rsgan \
      --workdir=/tmp/coco_relgan
  python -m ppogan_jax.main --config=configs/text_relgan_coco.py:wgan_gp \
      --workdir=/tmp/coco_wgan
  ... --config.data.train_path=/path/train.txt \
      --config.data.test_path=/path/test.txt

The data default to the project's shared copy (`../shared/data/coco/`
beside the repository, 10,000 train and 10,000 test captions). Training
settings are the oracle experiment's (configs/text_relgan.py: 5 D + 5 (C+G)
steps, paper appendix learning rates, 150 MLE epochs, 3000 adversarial
iterations). Gumbel-softmax inverse temperature: β_max = 100 with the 'exp'
schedule (TextGAN's run_relgan.py for COCO/EMNLP; RelGAN-TF's scripts use 100
or 1000 over 2000 iterations: --config.temperature.maximum=1000). The public
PPO-GAN text config instead multiplies its β by temp_scale 0.2 with
β_max = 5 (docs/reference_code.md §4.2): --config.temperature.maximum=5
reproduces its schedule up to that constant factor. Vocabulary and maximum
length come from train + test, as in the reference; BLEU-2..5 use N = 200
hypotheses against the whole test set (nltk sentence_bleu, smoothing
method 1).
"""
import os

import ml_collections

from ppogan_jax import config_defaults

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_DATA = os.path.join(os.path.dirname(REPO), "shared", "data")


def real_text_config(objective: str, *, train_path: str, test_path: str,
                     temperature: float) -> ml_collections.ConfigDict:
  """The oracle experiment's settings on a real-text dataset."""
  c = config_defaults.sibling_config(__file__, "text_relgan").get_config(
      objective)
  c.task = "real_text"
  c.data = ml_collections.ConfigDict(dict(
      train_path=train_path, test_path=test_path, max_line_chars=2000,
      cache_dir="~/.cache/ppogan_jax"))
  c.temperature.maximum = temperature
  c.eval = ml_collections.ConfigDict(dict(
      num_samples=1000, bleu_hypotheses=200, bleu_orders=(2, 3, 4, 5)))
  return c


def get_config(objective: str = "ppogan"):
  return real_text_config(
      objective, train_path=os.path.join(SHARED_DATA, "coco", "train.txt"),
      test_path=os.path.join(SHARED_DATA, "coco", "test.txt"),
      temperature=100.0)
