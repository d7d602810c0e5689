"""Yelp sentiment style transfer (PPO-GAN paper Table 4 and Figure 4).

The model of Tikhonov et al. (2019) as the PPO-GAN style_transfer code uses
it (docs/reference_code.md §8, §1.3): embedding 100, GRU(700) encoder with a
200-d style part and a 500-d content code, attention GRU decoder,
Gumbel-softmax transfers, z-classifier, shifted-AE cosine terms, and a WGAN
critic with an ACGAN style head and gradient penalty. The argument is
"objective[,size]"; the objective is one of

  reweight_only: PPO-GAN's row: the generator's critic term is
      −mean(W ⊙ d_fake) with W = B·softmax(d_fake), stop-gradient.
  wgan_gp: the baseline: the same model with the plain WGAN-GP terms.

(the objective names of `ppogan_jax/variants.py`). No probability-ratio
clipping is used in this task; the generator's gradients are clipped per
tensor by norm 5 (the paper's appendix). The size `small` (e.g.
`reweight_only,small`) selects the reduced CPU sizes; the default is `full`.

  python -m ppogan_jax.main \
      --config=configs/style_transfer_yelp.py:reweight_only \
      --workdir=/work/runs/style/ours
  python -m ppogan_jax.main --config=configs/style_transfer_yelp.py:wgan_gp \
      --workdir=/work/runs/style/wgan_gp

Data default to the shared Yelp files (../shared/data/yelp beside the
repository): sentiment.dev is the training set (minus a held-out slice), the
999 sentiment.manual sentences with human references the evaluation set.
"""
import os

import ml_collections

from ppogan_jax import config_defaults

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
YELP = os.path.join(os.path.dirname(REPO), "shared", "data", "yelp")
SIZES = ("full", "small")


def _data() -> ml_collections.ConfigDict:
  path = lambda name: os.path.join(YELP, name)
  return ml_collections.ConfigDict(dict(
      train_text=path("sentiment.dev.text"),
      train_labels=path("sentiment.dev.labels"),
      vocab=path("vocab"),  # "" builds the vocabulary from train_text.
      max_vocab_size=0,  # keep the most frequent words only (0: all).
      eval_text=path("sentiment.manual.text"),
      eval_labels=path("sentiment.manual.labels"),
      eval_reference=path("sentiment.manual.reference"),
      max_length=20,  # words; texar max_seq_length.
      num_holdout=2000,  # validation sentences held out of train_text.
      num_train=0,  # training sentences kept (0: all the rest).
  ))


def _sizes(small: bool) -> dict:
  if small:
    return dict(
        # The output projection (attention_size × vocabulary) dominates the
        # step's cost: 2,000 words cover 94% of the training tokens.
        data=dict(max_vocab_size=2000, max_length=17),
        model=dict(embed_dim=64, hidden_size=128, style_dim=32,
                   attention_size=64, dropout_rate=0.5, train_length=18,
                   infer_length=18),
        critic=dict(embed_dim=64, num_filters=64),
        classifier=dict(embed_dim=64, num_filters=64, num_dense=1,
                        dense_size=64))
  return dict(
      data=dict(),
      model=dict(embed_dim=100, hidden_size=700, style_dim=200,
                 attention_size=700, dropout_rate=0.5, train_length=21,
                 infer_length=20),
      critic=dict(embed_dim=100, num_filters=128),
      classifier=dict(embed_dim=100, num_filters=256, num_dense=1,
                      dense_size=128))


def get_config(arg: str = "reweight_only"):
  objective, size = config_defaults.config_arguments(
      arg, ("reweight_only", "full"),
      usage="configs/style_transfer_yelp.py:OBJECTIVE[,SIZE]")
  if size not in SIZES:
    raise ValueError(f"configs/style_transfer_yelp.py:{arg}: the second field "
                     f"is the size, one of {SIZES}, not {size!r}")
  c = ml_collections.ConfigDict()
  c.task = "style_transfer"
  c.objective = objective  # checked by config_check.check_config.
  c.size = size
  c.seed = 0
  sizes = _sizes(size == "small")
  c.data = _data()
  c.data.update(sizes["data"])
  c.model = ml_collections.ConfigDict(sizes["model"])
  c.critic = ml_collections.ConfigDict(sizes["critic"])  # 2 outputs, §8.2 (a).
  c.classifier = ml_collections.ConfigDict(sizes["classifier"])  # §8.2 (b).
  c.batch_size = 64
  c.schedule = ml_collections.ConfigDict(dict(
      num_epochs=30, pretrain_epochs=7,
      steps_per_epoch=0,  # 0: one pass of the training set (§8.4).
      adversarial_steps_per_epoch=0,  # 0: as steps_per_epoch.
      gamma_decay=0.5, gamma_min=0.001,
      lambda_g=0.0005, lambda_z=0.5,
      pretrain_diter=1, diter=5))
  c.loss = ml_collections.ConfigDict(dict(
      lambda_ae=1.0, lambda_z1=3000.0, lambda_z2=3000.0,
      acgan_scale_d=10.0, acgan_scale_g=500.0, gp_weight=10.0))
  c.optimizer = ml_collections.ConfigDict(dict(
      learning_rate=5e-4,
      generator_clip_norm=5.0,  # per tensor (TF clip_by_norm), opt_g.
      critic_b1=0.5, critic_b2=0.9))
  c.style_classifier = ml_collections.ConfigDict(dict(
      # The separately trained scorer of style accuracy (not the in-loop
      # classifier): trained once per training set, cached, reused.
      cache_dir=os.path.join(os.path.dirname(REPO), "runs", "style",
                             "classifier_cache"),
      embed_dim=100, num_filters=256, num_dense=1, dense_size=128,
      num_steps=2000, batch_size=64, learning_rate=5e-4))
  c.init_from = ""  # A workdir whose latest checkpoint starts an empty run.
  c.log_every = 50
  c.checkpoint_every = 500
  c.keep_checkpoints = 2
  c.eval = ml_collections.ConfigDict(dict(
      num_eval=0,  # manual sentences evaluated (0: all).
      num_val=500,  # held-out sentences transferred at each evaluation.
      batch_size=256))
  return c
