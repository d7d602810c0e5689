"""Real text: RelGAN generator + PPO-GAN on EMNLP2017 WMT News (Table 3).

Paper, Table 3 (BLEU-2..5, NLL_gen; 270K training sentences): MLE
0.768/0.473/0.240/0.126, 2.382; RelGAN(100) 0.881/0.705/0.501/0.319, 2.482;
WGAN-GP 0.872/0.636/0.379/0.220, 2.209; PPO-GAN 0.905/0.692/0.470/0.322,
2.265. The 270K-sentence training split is not part of this project's data;
pass it:

  python -m ppogan_jax.main --config=configs/text_relgan_emnlp.py \\
      --config.data.train_path=/path/emnlp_news/train.txt \
      --workdir=/tmp/emnlp_ppogan
  python -m ppogan_jax.main --config=configs/text_relgan_emnlp.py:rsgan \\
      --config.data.train_path=/path/emnlp_news/train.txt \
      --workdir=/tmp/emnlp_relgan

The test set defaults to the shared `emnlp_news/test.txt`. Settings as in
configs/text_relgan_coco.py, with the Gumbel-softmax β_max = 1000: the paper
uses RelGAN(1000)'s setting for PPO-GAN on EMNLP News and compares with
RelGAN at both 100 and 1000 (--config.temperature.maximum=100 gives
RelGAN(100), TextGAN's run_relgan.py value).
"""
import os

from ppogan_jax import config_defaults


def get_config(objective: str = "ppogan"):
  coco = config_defaults.sibling_config(__file__, "text_relgan_coco")
  return coco.real_text_config(
      objective, train_path="",
      test_path=os.path.join(coco.SHARED_DATA, "emnlp_news", "test.txt"),
      temperature=1000.0)
