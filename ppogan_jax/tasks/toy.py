"""The WGAN-GP toy task: 2-D mixtures and the swiss roll with MLP G and f."""
import functools
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from ppogan_jax.data import toy as toy_data
from ppogan_jax.metrics import toy as toy_metrics
from ppogan_jax.models import latent
from ppogan_jax.models import toy as toy_models
from ppogan_jax.tasks import Task


def real_batches(step: int, *, num_batches: int, batch_size: int,
                 process_index: int = 0, process_count: int = 1, dataset: str,
                 seed: int) -> np.ndarray:
  """This process's rows of outer step `step`'s fresh global batches.

  The global batches are a function of (seed, step) only, so any number of
  processes together read exactly what one process reads.
  """
  rng = np.random.default_rng([seed, step])
  samples = toy_data.TOY_DATASETS[dataset](rng, num_batches * batch_size)
  local = batch_size // process_count
  rows = slice(process_index * local, (process_index + 1) * local)
  return samples.reshape(num_batches, batch_size, 2)[:, rows]


def evaluate(samples: np.ndarray, key: jax.Array, generator_variables: Any,
             *, dataset: str, seed: int) -> dict[str, float]:
  """Sliced Wasserstein distance to fresh data; mode statistics for mixtures.

  `generator_variables` is unused: every toy metric is a function of samples.
  """
  real = toy_data.TOY_DATASETS[dataset](
      np.random.default_rng([seed, 2**31 - 1]), len(samples))
  metrics = {"sliced_wasserstein": float(toy_metrics.sliced_wasserstein(
      jnp.asarray(samples), jnp.asarray(real), key))}
  if dataset != "swissroll":
    stats = toy_metrics.mode_statistics(
        jnp.asarray(samples), jnp.asarray(toy_data.mixture_centres(dataset)),
        toy_data.mixture_std(dataset))
    metrics["modes_covered"] = float(stats.modes_covered)
    metrics["high_quality_fraction"] = float(stats.high_quality_fraction)
  return metrics


def _plot_points(samples: np.ndarray, path: str, *, dataset: str, seed: int,
                 title: str, draw_background=None) -> None:
  """Real (orange) and generated (blue) points as `path`.png, over what
  `draw_background(fig, ax, real)` draws first (if given)."""
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  real = toy_data.TOY_DATASETS[dataset](
      np.random.default_rng([seed, 2**31 - 2]), len(samples))
  fig, ax = plt.subplots(figsize=(4, 4), dpi=100)
  if draw_background is not None:
    draw_background(fig, ax, real)
  ax.scatter(real[:, 0], real[:, 1], s=2, c="tab:orange", label="real")
  ax.scatter(samples[:, 0], samples[:, 1], s=2, c="tab:blue",
             label="generated")
  ax.set_aspect("equal")
  ax.legend(loc="upper right", fontsize=7)
  ax.set_title(f"{dataset}: {title}", fontsize=8)
  fig.savefig(path + ".png", bbox_inches="tight")
  plt.close(fig)


def write_samples(samples: np.ndarray, path: str, *, dataset: str,
                  seed: int) -> None:
  """Scatter plot of generated vs real points, as `path`.png."""
  _plot_points(samples, path, dataset=dataset, seed=seed,
               title=f"{len(samples)} samples")


def write_critic(scores, samples: np.ndarray, path: str, *, dataset: str,
                 seed: int, grid_points: int = 128) -> None:
  """Contours of the critic f over the plane, with real (orange) and
  generated (blue) points, as `path`.png (gan_toy.py's generate_image).

  Args:
    scores: points [N, 2] -> f [N].
    samples: generated points [M, 2]; the grid spans them and the data.
  """
  def contours(fig, ax, real):
    points = np.concatenate([real, samples])
    low, high = np.percentile(points, [0.5, 99.5], axis=0)
    margin = 0.1 * (high - low) + 1e-3
    xs, ys = (np.linspace(low[i] - margin[i], high[i] + margin[i],
                          grid_points) for i in range(2))
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    values = scores(grid.astype(np.float32)).reshape(grid_points, grid_points)
    filled = ax.contourf(xs, ys, values, levels=20, cmap="viridis")
    fig.colorbar(filled, ax=ax, fraction=0.046, pad=0.04)

  _plot_points(samples, path, dataset=dataset, seed=seed, title="critic f",
               draw_background=contours)


def build(config: ml_collections.ConfigDict) -> Task:
  """Toy task from config.data.name and config.model.{hidden, depth,
  latent_dim, critic_dropout}."""
  dataset = config.data.name
  m = config.model
  data_args = dict(dataset=dataset, seed=config.seed)
  return Task(
      generator=toy_models.MLPGenerator(hidden=m.hidden, depth=m.depth),
      critic=toy_models.MLPCritic(hidden=m.hidden, depth=m.depth,
                                  dropout_rate=m.critic_dropout),
      classifier=toy_models.MLPCritic(hidden=m.hidden, depth=m.depth),
      sample_latent=functools.partial(latent.gaussian_latent,
                                      dim=m.latent_dim),
      generator_kwargs=lambda step: {},
      real_batches=functools.partial(real_batches, **data_args),
      evaluate=functools.partial(evaluate, **data_args),
      write_samples=functools.partial(write_samples, **data_args),
      write_critic=functools.partial(write_critic, **data_args),
  )
