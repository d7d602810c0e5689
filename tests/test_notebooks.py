"""The research notebooks run top to bottom, write their figures, and are committed without outputs.

Each notebook in notebooks/ is executed with nbclient in a fresh `python3` kernel (ipykernel; jupyter_client runs
it with this interpreter). Any cell error fails the test. The kernel gets its own environment:

  * PPOGAN_NOTEBOOK_OUT points at the test's tmp dir, where the notebook must write the PNGs listed below;
  * XLA_FLAGS is dropped: conftest.py's 8 simulated CPU devices are for the engine tests, and the notebooks'
    trainer runs would otherwise shard over them;
  * JAX_COMPILATION_CACHE_DIR is shared by the notebooks of one pytest worker, so programs that several
    notebooks compile (the models' `init`, identical train steps) are compiled once.
"""
import os
import pathlib

import nbclient
import nbformat
import pytest

NOTEBOOK_DIR = pathlib.Path(__file__).resolve().parents[1] / "notebooks"
EXPECTED_FIGURES = {
    "objectives": ("surrogate_vs_ratio.png", "figure1_left.png"),
    "reweighting": ("reweighting_loss_variance.png", "reweighting_sample_weights.png"),
    "why_wasserstein": ("generator_gradient_vs_discriminator_steps.png", "critic_value_surfaces.png",
                        "gradient_norm_by_layer.png"),
    "toy_2d": ("toy_2d_sample_evolution.png", "toy_2d_metrics.png"),
}
CELL_TIMEOUT_S = 300
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _read(name: str):
  return nbformat.read(NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)


@pytest.fixture(scope="session")
def compilation_cache(tmp_path_factory) -> str:
  return str(tmp_path_factory.mktemp("jax_compilation_cache"))


def _kernel_env(out_dir: pathlib.Path, cache_dir: str) -> dict[str, str]:
  env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
  env.update(PPOGAN_NOTEBOOK_OUT=str(out_dir), JAX_PLATFORMS="cpu",
             JAX_COMPILATION_CACHE_DIR=cache_dir, JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0.5")
  return env


def test_every_notebook_is_tested():
  assert {p.stem for p in NOTEBOOK_DIR.glob("*.ipynb")} == set(EXPECTED_FIGURES)


@pytest.mark.parametrize("name", sorted(EXPECTED_FIGURES))
def test_committed_notebook_has_no_outputs(name):
  notebook = _read(name)
  nbformat.validate(notebook)
  assert notebook.metadata.kernelspec.name == "python3"
  for index, cell in enumerate(notebook.cells):
    if cell.cell_type == "code":
      assert cell.outputs == [], f"{name}.ipynb cell {index} has outputs; strip them before committing"
      assert cell.execution_count is None, f"{name}.ipynb cell {index} has an execution count"


@pytest.mark.parametrize("name", sorted(EXPECTED_FIGURES))
def test_notebook_imports_the_library(name):
  sources = "\n".join(cell.source for cell in _read(name).cells if cell.cell_type == "code")
  assert "import ppogan_jax" in sources or "from ppogan_jax" in sources


@pytest.mark.parametrize("name", sorted(EXPECTED_FIGURES))
def test_notebook_runs_and_writes_its_figures(name, tmp_path, compilation_cache):
  notebook = _read(name)
  client = nbclient.NotebookClient(
      notebook, timeout=CELL_TIMEOUT_S, kernel_name="python3",
      resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
  client.execute(env=_kernel_env(tmp_path, compilation_cache))  # CellExecutionError on any failing cell
  for figure in EXPECTED_FIGURES[name]:
    path = tmp_path / figure
    assert path.is_file(), f"{name}.ipynb did not write {figure}"
    assert path.read_bytes()[:8] == PNG_SIGNATURE and path.stat().st_size > 10_000, f"{figure} is not a real PNG"
