"""Strided and transposed 2-D convolutions written as matrix products.

XLA:CPU runs a convolution's weight gradient, and the input-dilated
convolutions that the gradient of a strided convolution (and the forward pass
of a transposed one) needs, on a slow path: on the 2-core development CPU the
critic's gradient-penalty gradient of a 4×4 stride-2 convolution (64 → 128
channels, 16×16, batch 64) takes 400 ms through `lax.conv_general_dilated`
and 87 ms as the products below. Here

  conv2d:            patches [B, H', W', kh·kw·Ci] (kh·kw strided slices of
                     the padded input) @ kernel [kh·kw·Ci, Co];
  conv2d_transpose:  x [B, h, w, Ci] @ kernel [Ci, kh·kw·Co], each of the
                     kh·kw products then placed on the output grid with
                     `lax.pad` (interior padding s − 1 spreads it with stride
                     s; negative edge padding crops) and summed.

Both are sums of slices, pads and GEMMs, so their gradients of every order
are too. They compute exactly what `nn.Conv` / `nn.ConvTranspose` compute with
padding 'SAME' (up to float summation order) and hold the same parameters
('kernel' [kh, kw, Ci, Co], 'bias' [Co]), so a checkpoint does not depend on
which implementation trained it. On accelerators the library convolutions
are the better choice; `ConvImpl` picks.
"""
from typing import Callable

import chex
import flax.linen as nn
import jax.numpy as jnp
from jax import lax

IMPLEMENTATIONS = ("xla", "matmul")


def _same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
  """(before, after) padding of a 'SAME' convolution along one axis."""
  out = -(-size // stride)
  total = max((out - 1) * stride + kernel - size, 0)
  return total // 2, total - total // 2


def conv2d(x: chex.Array, kernel: chex.Array, stride: int) -> chex.Array:
  """'SAME' cross-correlation, as `lax.conv_general_dilated` in NHWC/HWIO.

  Args:
    x: [B, H, W, Ci].
    kernel: [kh, kw, Ci, Co].
    stride: the same stride along both spatial axes.

  Returns:
    [B, ceil(H / stride), ceil(W / stride), Co].
  """
  chex.assert_rank([x, kernel], 4)
  kh, kw, ci, co = kernel.shape
  b, h, w, _ = x.shape
  pad_h, pad_w = _same_padding(h, kh, stride), _same_padding(w, kw, stride)
  padded = jnp.pad(x, ((0, 0), pad_h, pad_w, (0, 0)))
  out_h, out_w = -(-h // stride), -(-w // stride)
  patches = jnp.stack(
      [padded[:, i:i + stride * (out_h - 1) + 1:stride,
              j:j + stride * (out_w - 1) + 1:stride]
       for i in range(kh) for j in range(kw)], axis=3)
  return patches.reshape(b, out_h, out_w, kh * kw * ci) @ kernel.reshape(
      kh * kw * ci, co)


def _transpose_placement(kernel: int, stride: int,
                         tap: int) -> tuple[int, int, int]:
  """`lax.pad` config (low, high, interior) that puts the products of kernel
  tap `tap` on a 'SAME' transposed convolution's output axis of stride·size.

  `lax.conv_transpose` pads the stride-dilated input by p = ceil((kernel +
  stride − 2) / 2) before (kernel − 1 when stride > kernel − 1) and
  correlates, so input position i meets tap t at output stride·i + p − t.
  """
  before = kernel - 1 if stride > kernel - 1 else -(-(kernel + stride - 2) // 2)
  low = before - tap
  return low, stride - 1 - low, stride - 1


def conv2d_transpose(x: chex.Array, kernel: chex.Array,
                     stride: int) -> chex.Array:
  """'SAME' transposed convolution, as `lax.conv_transpose` (kernel not
  flipped, `transpose_kernel=False`, Flax's `nn.ConvTranspose`).

  Args:
    x: [B, h, w, Ci].
    kernel: [kh, kw, Ci, Co].
    stride: the same stride along both spatial axes.

  Returns:
    [B, stride·h, stride·w, Co].
  """
  chex.assert_rank([x, kernel], 4)
  kh, kw, ci, co = kernel.shape
  b, h, w, _ = x.shape
  products = (x.reshape(b * h * w, ci)
              @ kernel.transpose(2, 0, 1, 3).reshape(ci, kh * kw * co))
  products = products.reshape(b, h, w, kh, kw, co)
  out = jnp.zeros((b, stride * h, stride * w, co), products.dtype)
  zero = jnp.zeros((), products.dtype)
  for i in range(kh):
    for j in range(kw):
      out = out + lax.pad(products[:, :, :, i, j], zero, (
          (0, 0, 0), _transpose_placement(kh, stride, i),
          _transpose_placement(kw, stride, j), (0, 0, 0)))
  return out


class _MatmulConvBase(nn.Module):
  features: int
  kernel_size: tuple[int, int]
  strides: tuple[int, int] = (1, 1)
  kernel_init: Callable = nn.initializers.lecun_normal()
  bias_init: Callable = nn.initializers.zeros

  def _params(self, in_features: int):
    if self.strides[0] != self.strides[1]:
      raise ValueError(f"unequal strides {self.strides} are not supported")
    kernel = self.param("kernel", self.kernel_init,
                        (*self.kernel_size, in_features, self.features))
    bias = self.param("bias", self.bias_init, (self.features,))
    return kernel, bias


class MatmulConv(_MatmulConvBase):
  """`nn.Conv(features, kernel_size, strides, padding='SAME')` as `conv2d`."""

  @nn.compact
  def __call__(self, x: chex.Array) -> chex.Array:
    kernel, bias = self._params(x.shape[-1])
    return conv2d(x, kernel, self.strides[0]) + bias.reshape(1, 1, 1, -1)


class MatmulConvTranspose(_MatmulConvBase):
  """`nn.ConvTranspose(features, kernel_size, strides, padding='SAME')` as
  `conv2d_transpose`."""

  @nn.compact
  def __call__(self, x: chex.Array) -> chex.Array:
    kernel, bias = self._params(x.shape[-1])
    return conv2d_transpose(x, kernel, self.strides[0]) + bias.reshape(
        1, 1, 1, -1)


def conv_layers(implementation: str) -> tuple[type, type]:
  """(Conv, ConvTranspose) module classes of `implementation` ('xla': Flax's
  library convolutions; 'matmul': the products above), both used as
  `cls(features, kernel_size, strides=..., padding='SAME', ...)`."""
  if implementation == "xla":
    return nn.Conv, nn.ConvTranspose
  if implementation == "matmul":
    return _same_only(MatmulConv), _same_only(MatmulConvTranspose)
  raise ValueError(f"unknown convolution implementation {implementation!r}; "
                   f"choose one of {IMPLEMENTATIONS}")


def _same_only(cls: type) -> Callable[..., nn.Module]:
  """`cls` with the library modules' `padding` argument ('SAME' only)."""
  def make(*args, padding: str = "SAME", **kwargs) -> nn.Module:
    if padding != "SAME":
      raise ValueError(f"matmul convolutions support padding='SAME' only, "
                       f"not {padding!r}")
    return cls(*args, **kwargs)
  return make
