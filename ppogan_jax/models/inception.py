"""InceptionV3 as used for FID (pytorch-fid's `fid_inception_v3`), in Flax,
and a loader for its PyTorch weights.

docs/reference_code.md §7: PPO-GAN's FID uses pytorch-fid's InceptionV3 with
the TF-ported weights `pt_inception-2015-12-05-6726825d.pth` (2048-d pool
features; the 1008-way head of the 2015 graph). This package cannot
download them; pass a local copy (.pth, read with torch if installed, or an
.npz of the same state dict, e.g. written with
`np.savez(path, **{k: v.numpy() for k, v in torch.load(pth).items()})`).

Architecture (torchvision `Inception3` with pytorch-fid's FID patches), NHWC:
  BasicConv = Conv (no bias) → BatchNorm (eps 1e-3, running statistics)
              → ReLU
  stem: Conv2d_1a_3x3 (s2), Conv2d_2a_3x3, Conv2d_2b_3x3 (pad 1), maxpool 3/2,
        Conv2d_3b_1x1, Conv2d_4a_3x3, maxpool 3/2
  Mixed_5b/5c/5d: InceptionA (pool features 32/64/64), Mixed_6a: InceptionB,
  Mixed_6b–6e: InceptionC (c7 = 128/160/160/192), Mixed_7a: InceptionD,
  Mixed_7b/7c: InceptionE → global average pool → 2048 features
  fc: 2048 → 1008.
FID patches: the 3×3 average pools inside A, C and E_1 exclude the padding
(count_include_pad=False, as TensorFlow); E_2 (Mixed_7c) max-pools instead.

Input: images in [−1, 1] of any size, resized bilinearly (half-pixel
centres, no antialiasing, = F.interpolate(align_corners=False)) to
`input_size` = 299. pytorch-fid maps [0, 1] inputs to [−1, 1] after
resizing; resizing is linear, so feeding [−1, 1] images is the same.

`logits` are pool_features · fc.kernel without the bias, as the OpenAI
Inception Score code multiplies pool_3 by the 2015 graph's softmax weights.
Feeding these weights from pytorch-fid does not reproduce the TF graph's
own resize, so IS values are close to, not identical with, the OpenAI code's.

Parameter names mirror the PyTorch module names (`Mixed_5b/branch1x1/conv/
kernel`), which makes the state-dict mapping mechanical.
"""
import functools
from typing import Mapping, Sequence

import chex
import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

NUM_CLASSES = 1008
FEATURE_DIM = 2048
Pad = Sequence[tuple[int, int]]


def _pad(h: int, w: int) -> tuple[tuple[int, int], tuple[int, int]]:
  return ((h, h), (w, w))


class BasicConv(nn.Module):
  """Conv (no bias) → BatchNorm(eps 1e-3, running statistics) → ReLU."""

  features: int
  kernel: tuple[int, int]
  strides: tuple[int, int] = (1, 1)
  padding: Pad = ((0, 0), (0, 0))

  @nn.compact
  def __call__(self, x: chex.Array) -> chex.Array:
    x = nn.Conv(self.features, self.kernel, strides=self.strides,
                padding=self.padding, use_bias=False, name="conv")(x)
    x = nn.BatchNorm(use_running_average=True, epsilon=1e-3, name="bn")(x)
    return nn.relu(x)


def _avg_pool_3x3(x: chex.Array) -> chex.Array:
  """TensorFlow's 3×3/1 'SAME' average pool (padding not counted)."""
  return nn.avg_pool(x, (3, 3), strides=(1, 1), padding=_pad(1, 1),
                     count_include_pad=False)


def _max_pool_3x3_stride_2(x: chex.Array) -> chex.Array:
  return nn.max_pool(x, (3, 3), strides=(2, 2), padding="VALID")


class InceptionA(nn.Module):
  pool_features: int

  @nn.compact
  def __call__(self, x):
    b1 = BasicConv(64, (1, 1), name="branch1x1")(x)
    b5 = BasicConv(48, (1, 1), name="branch5x5_1")(x)
    b5 = BasicConv(64, (5, 5), padding=_pad(2, 2), name="branch5x5_2")(b5)
    b3 = BasicConv(64, (1, 1), name="branch3x3dbl_1")(x)
    b3 = BasicConv(96, (3, 3), padding=_pad(1, 1), name="branch3x3dbl_2")(b3)
    b3 = BasicConv(96, (3, 3), padding=_pad(1, 1), name="branch3x3dbl_3")(b3)
    bp = BasicConv(self.pool_features, (1, 1), name="branch_pool")(
        _avg_pool_3x3(x))
    return jnp.concatenate([b1, b5, b3, bp], axis=-1)


class InceptionB(nn.Module):

  @nn.compact
  def __call__(self, x):
    b3 = BasicConv(384, (3, 3), strides=(2, 2), name="branch3x3")(x)
    bd = BasicConv(64, (1, 1), name="branch3x3dbl_1")(x)
    bd = BasicConv(96, (3, 3), padding=_pad(1, 1), name="branch3x3dbl_2")(bd)
    bd = BasicConv(96, (3, 3), strides=(2, 2), name="branch3x3dbl_3")(bd)
    return jnp.concatenate([b3, bd, _max_pool_3x3_stride_2(x)], axis=-1)


class InceptionC(nn.Module):
  channels_7x7: int

  @nn.compact
  def __call__(self, x):
    c7 = self.channels_7x7
    b1 = BasicConv(192, (1, 1), name="branch1x1")(x)
    b7 = BasicConv(c7, (1, 1), name="branch7x7_1")(x)
    b7 = BasicConv(c7, (1, 7), padding=_pad(0, 3), name="branch7x7_2")(b7)
    b7 = BasicConv(192, (7, 1), padding=_pad(3, 0), name="branch7x7_3")(b7)
    bd = BasicConv(c7, (1, 1), name="branch7x7dbl_1")(x)
    bd = BasicConv(c7, (7, 1), padding=_pad(3, 0), name="branch7x7dbl_2")(bd)
    bd = BasicConv(c7, (1, 7), padding=_pad(0, 3), name="branch7x7dbl_3")(bd)
    bd = BasicConv(c7, (7, 1), padding=_pad(3, 0), name="branch7x7dbl_4")(bd)
    bd = BasicConv(192, (1, 7), padding=_pad(0, 3), name="branch7x7dbl_5")(bd)
    bp = BasicConv(192, (1, 1), name="branch_pool")(_avg_pool_3x3(x))
    return jnp.concatenate([b1, b7, bd, bp], axis=-1)


class InceptionD(nn.Module):

  @nn.compact
  def __call__(self, x):
    b3 = BasicConv(192, (1, 1), name="branch3x3_1")(x)
    b3 = BasicConv(320, (3, 3), strides=(2, 2), name="branch3x3_2")(b3)
    b7 = BasicConv(192, (1, 1), name="branch7x7x3_1")(x)
    b7 = BasicConv(192, (1, 7), padding=_pad(0, 3), name="branch7x7x3_2")(b7)
    b7 = BasicConv(192, (7, 1), padding=_pad(3, 0), name="branch7x7x3_3")(b7)
    b7 = BasicConv(192, (3, 3), strides=(2, 2), name="branch7x7x3_4")(b7)
    return jnp.concatenate([b3, b7, _max_pool_3x3_stride_2(x)], axis=-1)


class InceptionE(nn.Module):
  """InceptionE; `max_pool` selects pytorch-fid's Mixed_7c patch."""

  max_pool: bool = False

  @nn.compact
  def __call__(self, x):
    b1 = BasicConv(320, (1, 1), name="branch1x1")(x)
    b3 = BasicConv(384, (1, 1), name="branch3x3_1")(x)
    b3 = jnp.concatenate([
        BasicConv(384, (1, 3), padding=_pad(0, 1), name="branch3x3_2a")(b3),
        BasicConv(384, (3, 1), padding=_pad(1, 0), name="branch3x3_2b")(b3),
    ], axis=-1)
    bd = BasicConv(448, (1, 1), name="branch3x3dbl_1")(x)
    bd = BasicConv(384, (3, 3), padding=_pad(1, 1), name="branch3x3dbl_2")(bd)
    bd = jnp.concatenate([
        BasicConv(384, (1, 3), padding=_pad(0, 1), name="branch3x3dbl_3a")(bd),
        BasicConv(384, (3, 1), padding=_pad(1, 0), name="branch3x3dbl_3b")(bd),
    ], axis=-1)
    if self.max_pool:
      pooled = nn.max_pool(x, (3, 3), strides=(1, 1), padding=_pad(1, 1))
    else:
      pooled = _avg_pool_3x3(x)
    bp = BasicConv(192, (1, 1), name="branch_pool")(pooled)
    return jnp.concatenate([b1, b3, bd, bp], axis=-1)


class InceptionV3FID(nn.Module):
  """x [B, H, W, 3] in [−1, 1] →
  (pool features [B, 2048], logits [B, 1008]).

  Attributes:
    input_size: side the input is resized to (299; None = no resize).
  """

  input_size: int | None = 299

  @nn.compact
  def __call__(self, x: chex.Array, *, train: bool = False):
    del train  # Always inference: BN uses the loaded running statistics.
    chex.assert_rank(x, 4)
    chex.assert_equal(x.shape[-1], 3)
    x = x.astype(jnp.float32)
    if self.input_size is not None:
      x = jax.image.resize(
          x, (x.shape[0], self.input_size, self.input_size, 3),
          method="bilinear", antialias=False)
    x = BasicConv(32, (3, 3), strides=(2, 2), name="Conv2d_1a_3x3")(x)
    x = BasicConv(32, (3, 3), name="Conv2d_2a_3x3")(x)
    x = BasicConv(64, (3, 3), padding=_pad(1, 1), name="Conv2d_2b_3x3")(x)
    x = _max_pool_3x3_stride_2(x)
    x = BasicConv(80, (1, 1), name="Conv2d_3b_1x1")(x)
    x = BasicConv(192, (3, 3), name="Conv2d_4a_3x3")(x)
    x = _max_pool_3x3_stride_2(x)
    x = InceptionA(32, name="Mixed_5b")(x)
    x = InceptionA(64, name="Mixed_5c")(x)
    x = InceptionA(64, name="Mixed_5d")(x)
    x = InceptionB(name="Mixed_6a")(x)
    for name, c7 in (("Mixed_6b", 128), ("Mixed_6c", 160), ("Mixed_6d", 160),
                     ("Mixed_6e", 192)):
      x = InceptionC(c7, name=name)(x)
    x = InceptionD(name="Mixed_7a")(x)
    x = InceptionE(name="Mixed_7b")(x)
    x = InceptionE(max_pool=True, name="Mixed_7c")(x)
    features = jnp.mean(x, axis=(1, 2))
    kernel = self.param("fc_kernel", nn.initializers.lecun_normal(),
                        (FEATURE_DIM, NUM_CLASSES))
    self.param("fc_bias", nn.initializers.zeros, (NUM_CLASSES,))
    return features, features @ kernel


@functools.lru_cache(maxsize=2)
def abstract_variables(input_size: int | None = 299) -> dict:
  """The model's variables as ShapeDtypeStructs (nothing is computed; do
  not modify the cached result)."""
  model = InceptionV3FID(input_size=input_size)
  return jax.eval_shape(model.init, jax.random.key(0),
                        jnp.zeros((1, 75, 75, 3), jnp.float32))


def _torch_name(path: tuple[str, ...]) -> tuple[str, bool]:
  """Flax (collection, *module path, leaf) → (PyTorch key, transpose?)."""
  collection, *modules, leaf = path
  if collection == "params" and leaf in ("fc_kernel", "fc_bias"):
    return ("fc.weight", True) if leaf == "fc_kernel" else ("fc.bias", False)
  torch_leaf = {("params", "kernel"): "weight", ("params", "scale"): "weight",
                ("params", "bias"): "bias",
                ("batch_stats", "mean"): "running_mean",
                ("batch_stats", "var"): "running_var"}[(collection, leaf)]
  return ".".join([*modules, torch_leaf]), leaf in ("kernel",)


def _to_flax(value: np.ndarray, transpose: bool) -> np.ndarray:
  if not transpose:
    return value
  if value.ndim == 4:  # [out, in, kh, kw] → [kh, kw, in, out]
    return value.transpose(2, 3, 1, 0)
  return value.T  # Linear [out, in] → [in, out]


def state_dict_to_variables(state_dict: Mapping[str, np.ndarray]) -> dict:
  """Maps a pytorch-fid FID-Inception state dict onto the Flax variables.

  Raises:
    ValueError: missing or unexpected keys, or a shape mismatch (each
      listed).
  """
  target = flax.traverse_util.flatten_dict(
      flax.core.unfreeze(abstract_variables()))
  given = {k: v for k, v in state_dict.items()
           if not k.endswith("num_batches_tracked")}
  flat, used, problems = {}, set(), []
  for path, spec in target.items():
    key, transpose = _torch_name(path)
    if key not in given:
      problems.append(f"missing {key}")
      continue
    value = _to_flax(np.asarray(given[key], np.float32), transpose)
    if value.shape != spec.shape:
      problems.append(f"{key}: shape {value.shape} (after transposing), "
                      f"expected {spec.shape}")
      continue
    flat[path] = value
    used.add(key)
  problems += [f"unexpected {k}" for k in sorted(set(given) - used)]
  if problems:
    raise ValueError("not a pytorch-fid FID-Inception state dict: "
                     + "; ".join(problems[:8])
                     + (f" (+{len(problems) - 8} more)" if len(problems) > 8
                        else ""))
  return flax.traverse_util.unflatten_dict(flat)


def load_pytorch_fid_weights(path: str) -> dict:
  """Variables from pytorch-fid's .pth (needs torch) or an .npz of the same
  state dict."""
  if path.endswith(".npz"):
    with np.load(path) as data:
      state_dict = {k: data[k] for k in data.files}
  else:
    try:
      import torch
    except ImportError:
      raise ImportError(f"reading {path} needs PyTorch; install torch or "
                        "convert the state dict to .npz") from None
    state_dict = {k: v.detach().cpu().numpy() for k, v in torch.load(
        path, map_location="cpu", weights_only=True).items()}
  return state_dict_to_variables(state_dict)
