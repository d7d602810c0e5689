"""The matrix-product convolutions equal Flax's, in value and gradients."""
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ppogan_jax.models import dcgan
from ppogan_jax.models import matmul_conv
from ppogan_jax.models import resnet


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


@pytest.mark.parametrize("kernel,size", [(3, 6), (3, 5), (1, 4), (5, 7)])
def test_gemm_weight_grad_matches_library_in_value_and_gradients(kernel,
                                                                  size):
  """Value, the input and weight gradients, and the penalty's gradient wrt
  both the parameters and the input (second order through the custom VJP)."""
  x = jax.random.normal(jax.random.PRNGKey(1), (2, size, size, 3))
  library = nn.Conv(4, (kernel, kernel), padding="SAME")
  gemm = matmul_conv.stride_one_conv_layer("gemm_weight_grad")(
      4, (kernel, kernel), padding="SAME")
  params = jax.tree.map(lambda p: p + 0.1, library.init(jax.random.PRNGKey(0),
                                                        x))
  v = jax.random.normal(jax.random.PRNGKey(2), (2, size, size, 4))

  def first_and_second_order(module):
    def score(p, x):
      return jnp.sum(jnp.tanh(module.apply(p, x)) * v)

    def penalty(p, x):
      return jnp.sum(jax.grad(score, argnums=1)(p, x) ** 2)
    return (module.apply(params, x),
            jax.grad(score, argnums=(0, 1))(params, x),
            jax.grad(penalty, argnums=(0, 1))(params, x))

  got, expected = first_and_second_order(gemm), first_and_second_order(library)
  assert np.abs(np.asarray(expected[2][0]["params"]["kernel"])).max() > 0.1
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, atol=2e-4,
                                                       rtol=1e-4),
               got, expected)


def test_resnet_critic_and_generator_do_not_depend_on_the_implementation():
  """Same parameters, same scores and penalty gradients for every stride-1
  implementation (the CIFAR config's `model.conv_impl`)."""
  z = jax.random.normal(jax.random.PRNGKey(0), (2, 8))
  generators = [resnet.ResNetGenerator(image_size=8, width=4, conv_impl=impl)
                for impl in matmul_conv.STRIDE_ONE_IMPLEMENTATIONS]
  g_vars = generators[0].init(jax.random.PRNGKey(1), z, train=False)
  images = [g.apply(g_vars, z, train=False) for g in generators]
  critics = [resnet.ResNetCritic(width=4, conv_impl=impl)
             for impl in matmul_conv.STRIDE_ONE_IMPLEMENTATIONS]
  c_vars = critics[0].init(jax.random.PRNGKey(2), images[0], train=False)

  def penalty_grad(critic):
    def penalty(p):
      gx = jax.grad(lambda x: jnp.sum(critic.apply(p, x, train=False)))(
          images[0])
      return jnp.sum(gx ** 2)
    return jax.jit(jax.grad(penalty))(c_vars)

  for generator, image, critic in zip(generators, images, critics):
    assert jax.tree.structure(generator.init(jax.random.PRNGKey(1), z,
                                             train=False)) == (
        jax.tree.structure(g_vars))
    np.testing.assert_allclose(image, images[0], atol=1e-5)
    np.testing.assert_allclose(critic.apply(c_vars, images[0], train=False),
                               critics[0].apply(c_vars, images[0],
                                                train=False), atol=1e-5)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, atol=1e-4,
                                                         rtol=1e-4),
                 penalty_grad(critic), penalty_grad(critics[0]))


def test_gemm_weight_grad_refuses_strides_and_even_kernels():
  conv = matmul_conv.stride_one_conv_layer("gemm_weight_grad")
  x = jnp.ones((1, 4, 4, 2))
  with pytest.raises(ValueError, match="stride 1 and odd kernels"):
    conv(3, (3, 3), strides=(2, 2)).init(jax.random.PRNGKey(0), x)
  with pytest.raises(ValueError, match="stride 1 and odd kernels"):
    conv(3, (4, 4)).init(jax.random.PRNGKey(0), x)
  with pytest.raises(ValueError, match="unknown convolution implementation"):
    matmul_conv.stride_one_conv_layer("cudnn")
  assert matmul_conv.resolve_stride_one("auto") == "gemm_weight_grad"
  assert matmul_conv.resolve_stride_one("xla") == "xla"
