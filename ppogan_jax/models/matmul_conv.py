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
are the better choice; `conv_layers` picks.

For stride-1 convolutions (the CIFAR ResNet's) a third implementation keeps
the library forward, where XLA:CPU is fast, and replaces only the slow part:

  conv2d_gemm_weight_grad: forward `lax.conv_general_dilated`; input gradient
                     the same function of the cotangent with the spatially
                     flipped, in/out-swapped kernel (a stride-1 forward
                     convolution again); weight gradient patches(x)ᵀ @ g.

Its `jax.custom_vjp` backward is built from these same pieces, so the
penalty's second-order terms take the fast paths too. `benchmarks/
conv_layer.py` (2-core AMD EPYC, one thread, batch 32, 3×3 C → C): at 32×32,
C = 256, the layer's gradient takes 7082 ms (library), 2409 (`conv2d`) and
2353 (this), the penalty's gradient 12305, 4045 and 3810, the forward 583,
895 and 615; at 16×16 and 8×8 (C = 332) the three are within 10% of each
other.
"""
from typing import Callable

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

IMPLEMENTATIONS = ("xla", "matmul")
STRIDE_ONE_IMPLEMENTATIONS = IMPLEMENTATIONS + ("gemm_weight_grad",)


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
  return _patches(x, kh, kw, stride) @ kernel.reshape(kh * kw * ci, co)


def _patches(x: chex.Array, kh: int, kw: int, stride: int) -> chex.Array:
  """[B, H', W', kh·kw·Ci]: the 'SAME' convolution's input patches, taps
  ordered as the kernel's (kh, kw, Ci) axes."""
  b, h, w, ci = x.shape
  pad_h, pad_w = _same_padding(h, kh, stride), _same_padding(w, kw, stride)
  padded = jnp.pad(x, ((0, 0), pad_h, pad_w, (0, 0)))
  out_h, out_w = -(-h // stride), -(-w // stride)
  patches = jnp.stack(
      [padded[:, i:i + stride * (out_h - 1) + 1:stride,
              j:j + stride * (out_w - 1) + 1:stride]
       for i in range(kh) for j in range(kw)], axis=3)
  return patches.reshape(b, out_h, out_w, kh * kw * ci)


@jax.custom_vjp
def conv2d_gemm_weight_grad(x: chex.Array, kernel: chex.Array) -> chex.Array:
  """Stride-1 'SAME' cross-correlation: the library forward, a GEMM weight
  gradient (module docstring).

  Args:
    x: [B, H, W, Ci].
    kernel: [kh, kw, Ci, Co], kh and kw odd (so that 'SAME' pads both sides
      equally and the input gradient is again a 'SAME' convolution).

  Returns:
    [B, H, W, Co].
  """
  return library_conv2d(x, kernel)


def library_conv2d(x: chex.Array, kernel: chex.Array) -> chex.Array:
  """Stride-1 'SAME' `lax.conv_general_dilated` in NHWC/HWIO ([B, H, W, Ci],
  [kh, kw, Ci, Co] → [B, H, W, Co]): what `nn.Conv` computes."""
  return lax.conv_general_dilated(x, kernel, (1, 1), "SAME",
                                  dimension_numbers=("NHWC", "HWIO", "NHWC"))


def _gemm_weight_grad_forward(x, kernel):
  return conv2d_gemm_weight_grad(x, kernel), (x, kernel)


def _gemm_weight_grad_backward(residuals, g):
  x, kernel = residuals
  kh, kw, ci, co = kernel.shape
  dx = conv2d_gemm_weight_grad(g, jnp.flip(kernel, (0, 1)).swapaxes(2, 3))
  dkernel = jnp.einsum("bhwk,bhwo->ko", _patches(x, kh, kw, 1), g)
  return dx, dkernel.reshape(kh, kw, ci, co)


conv2d_gemm_weight_grad.defvjp(_gemm_weight_grad_forward,
                               _gemm_weight_grad_backward)


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


class GemmWeightGradConv(_MatmulConvBase):
  """`nn.Conv(features, kernel_size, padding='SAME')`, stride 1 and odd
  kernel sizes only, as `conv2d_gemm_weight_grad`."""

  @nn.compact
  def __call__(self, x: chex.Array) -> chex.Array:
    kernel, bias = self._params(x.shape[-1])
    if tuple(self.strides) != (1, 1) or not all(k % 2 for k in self.kernel_size):
      raise ValueError(f"gemm_weight_grad convolutions take stride 1 and odd "
                       f"kernels, not strides={self.strides}, "
                       f"kernel_size={self.kernel_size}")
    return conv2d_gemm_weight_grad(x, kernel) + bias.reshape(1, 1, 1, -1)


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


def stride_one_conv_layer(implementation: str) -> type:
  """The Conv module class of `implementation` for stride-1 'SAME' layers:
  one of `conv_layers`' or 'gemm_weight_grad' (`GemmWeightGradConv`)."""
  if implementation == "gemm_weight_grad":
    return _same_only(GemmWeightGradConv)
  if implementation not in IMPLEMENTATIONS:
    raise ValueError(f"unknown convolution implementation {implementation!r};"
                     f" choose one of {STRIDE_ONE_IMPLEMENTATIONS}")
  return conv_layers(implementation)[0]


def resolve_stride_one(implementation: str) -> str:
  """`implementation`, with 'auto' replaced by the fastest for the default
  backend: 'gemm_weight_grad' on CPU, 'xla' on accelerators."""
  if implementation != "auto":
    return implementation
  return "gemm_weight_grad" if jax.default_backend() == "cpu" else "xla"


def _same_only(cls: type) -> Callable[..., nn.Module]:
  """`cls` with the library modules' `padding` argument ('SAME' only)."""
  def make(*args, padding: str = "SAME", **kwargs) -> nn.Module:
    if padding != "SAME":
      raise ValueError(f"matmul convolutions support padding='SAME' only, "
                       f"not {padding!r}")
    return cls(*args, **kwargs)
  return make
