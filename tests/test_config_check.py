"""The config-argument syntax and the one config check of every task."""
import pytest

from ppogan_jax import config_check
from ppogan_jax import config_defaults
from ppogan_jax.errors import ConfigError
from tests import engine_utils


def test_config_arguments_fill_missing_and_empty_fields():
  defaults = ("ppogan", "20", "paper")
  parse = lambda arg: config_defaults.config_arguments(arg, defaults,
                                                       usage="FILE:A[,B[,C]]")
  assert parse("") == ["ppogan", "20", "paper"]
  assert parse("wgan_gp") == ["wgan_gp", "20", "paper"]
  assert parse("rsgan,,cpu") == ["rsgan", "20", "cpu"]
  assert parse("rsgan,40,cpu") == ["rsgan", "40", "cpu"]
  with pytest.raises(ValueError, match="at most 3 .*FILE:A"):
    parse("rsgan,40,cpu,extra")


@pytest.mark.parametrize("arg, objective, size, hidden", [
    ("", "reweight_only", "full", 700),
    ("wgan_gp", "wgan_gp", "full", 700),
    ("reweight_only,small", "reweight_only", "small", 128),
])
def test_style_config_takes_the_comma_syntax(arg, objective, size, hidden):
  c = engine_utils.load_config("style_transfer_yelp", *([arg] if arg else []))
  assert (c.objective, c.size, c.model.hidden_size) == (objective, size,
                                                        hidden)
  config_check.check_config(c)


def test_style_config_rejects_an_unknown_size():
  with pytest.raises(ValueError, match="the size, one of .*'tiny'"):
    engine_utils.load_config("style_transfer_yelp", "wgan_gp,tiny")


@pytest.mark.parametrize("field, value, message", [
    ("task", "music", "config.task='music': choose one of .*style_transfer"),
    ("objective", "reweight", "unknown objective 'reweight'"),
])
def test_engine_fields(field, value, message):
  config = engine_utils.tiny_toy_config()
  config[field] = value
  with pytest.raises(ConfigError, match=message):
    config_check.check_config(config)


@pytest.mark.parametrize("section, field, value", [
    ("temperature", "schedule", "cosine"),
    ("model", "max_pool_second_order", "finite_differences"),
])
def test_text_fields_are_checked_before_building(section, field, value):
  config = engine_utils.load_config("text_relgan", "ppogan,20,cpu")
  config[section][field] = value
  with pytest.raises(ConfigError,
                     match=f"{section}.{field}='{value}': choose one of"):
    config_check.check_config(config)


def test_every_shipped_config_passes(tmp_path):
  for name, arg in [("toy_8gaussians", "ppogan"), ("digits_dcgan", "ppogan"),
                    ("char_lm", "ppogan"), ("text_relgan", "ppogan,20,cpu"),
                    ("text_relgan_coco", "rsgan"),
                    ("cifar10_resnet_ppogan", "ppogan")]:
    config = engine_utils.load_config(name, arg)
    if "cache_dir" in config.data:
      config.data.cache_dir = str(tmp_path / "cache")
    config_check.check_config(config)


@pytest.mark.parametrize("name, value, message", [
    ("cifar10_resnet_ppogan", "matmul_fast",
     "conv_impl='matmul_fast': choose 'auto' or one of .*gemm_weight_grad"),
    ("digits_dcgan", "gemm_weight_grad",
     r"conv_impl='gemm_weight_grad': choose one of \('xla', 'matmul'\)"),
])
def test_convolution_implementation_is_checked_per_architecture(
    name, value, message):
  config = engine_utils.load_config(name, "ppogan")
  config.model.conv_impl = value
  with pytest.raises(ConfigError, match=message):
    config_check.check_config(config)
