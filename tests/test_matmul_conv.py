"""The matrix-product convolutions equal Flax's, in value and gradients."""
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ppogan_jax.models import dcgan
from ppogan_jax.models import matmul_conv


def _pair(library_cls, kernel, stride, shape):
  x = jax.random.normal(jax.random.PRNGKey(1), shape)
  library = library_cls(5, (kernel, kernel), strides=(stride, stride),
                        padding="SAME")
  library_matmul = matmul_conv.conv_layers("matmul")[
      library_cls is nn.ConvTranspose](5, (kernel, kernel),
                                       strides=(stride, stride))
  params = library.init(jax.random.PRNGKey(0), x)
  params = jax.tree.map(lambda p: p + 0.1, params)  # a non-zero bias too
  return x, params, library, library_matmul


@pytest.mark.parametrize("library_cls", [nn.Conv, nn.ConvTranspose])
@pytest.mark.parametrize("kernel,stride,size", [
    (4, 2, 8), (4, 2, 7), (3, 1, 6), (3, 2, 5), (5, 2, 6), (1, 1, 4)])
def test_matches_library_convolution(library_cls, kernel, stride, size):
  x, params, library, matmul = _pair(library_cls, kernel, stride,
                                     (2, size, size, 3))
  expected = library.apply(params, x)
  np.testing.assert_allclose(matmul.apply(params, x), expected, atol=1e-5)


@pytest.mark.parametrize("library_cls", [nn.Conv, nn.ConvTranspose])
def test_first_and_second_order_gradients_match(library_cls):
  """The gradient-penalty pattern: grad wrt params of ‖∇_x f‖²."""
  x, params, library, matmul = _pair(library_cls, 4, 2, (2, 8, 8, 3))

  def penalty_grad(module):
    def penalty(p):
      gx = jax.grad(lambda x: jnp.sum(jnp.tanh(module.apply(p, x))))(x)
      return jnp.sum(gx ** 2)
    return jax.grad(penalty)(params)

  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, atol=1e-4,
                                                       rtol=1e-4),
               penalty_grad(matmul), penalty_grad(library))


def test_dcgan_outputs_do_not_depend_on_the_implementation():
  z = jax.random.normal(jax.random.PRNGKey(0), (3, 8))
  xla_g, matmul_g = (dcgan.DCGANGenerator(image_size=16, channels=1,
                                          base_filters=8, conv_impl=impl)
                     for impl in matmul_conv.IMPLEMENTATIONS)
  variables = xla_g.init(jax.random.PRNGKey(1), z)
  assert jax.tree.structure(variables) == jax.tree.structure(
      matmul_g.init(jax.random.PRNGKey(1), z))
  images = xla_g.apply(variables, z, train=False)
  np.testing.assert_allclose(matmul_g.apply(variables, z, train=False),
                             images, atol=1e-5)
  xla_d, matmul_d = (dcgan.DCGANDiscriminator(image_size=16, base_filters=8,
                                              conv_impl=impl)
                     for impl in matmul_conv.IMPLEMENTATIONS)
  d_vars = xla_d.init(jax.random.PRNGKey(2), images)
  np.testing.assert_allclose(matmul_d.apply(d_vars, images),
                             xla_d.apply(d_vars, images), atol=1e-5)


def test_unknown_implementation_and_padding_are_refused():
  with pytest.raises(ValueError, match="unknown convolution implementation"):
    matmul_conv.conv_layers("cudnn")
  conv, _ = matmul_conv.conv_layers("matmul")
  with pytest.raises(ValueError, match="padding='SAME' only"):
    conv(4, (3, 3), padding="VALID")
