"""The side-by-side speed comparison (benchmarks/compare_reference.py), with
our workloads stubbed: what it skips, and the ratios it reports."""
import argparse
import json
import sys

from tests import engine_utils


def _script():
  return engine_utils.load_script("benchmarks", "compare_reference.py")


def _ours(name, median_ms):
  return {"workload": name, "median_ms": median_ms, "compile_s": 1.5}


def test_missing_reference_names_the_flag(tmp_path):
  script = _script()
  present = tmp_path / "driver.py"
  present.write_text("")
  args = argparse.Namespace(ref_driver="", ref_python=str(present),
                            ref_src=str(tmp_path))
  assert script.missing_reference(args) == "--ref_driver is not set"
  args.ref_driver = str(tmp_path / "absent.py")
  assert script.missing_reference(args) == (
      f"--ref_driver={tmp_path / 'absent.py'} does not exist")
  args.ref_driver = str(present)
  assert script.missing_reference(args) == ""


def test_ratio_is_reference_over_ours_and_empty_without_a_counterpart():
  script = _script()
  rows = script.comparison_table(
      [_ours("mle_step", 250.0), _ours("adversarial_paper_5d5g_L20", 9e3)],
      {"default": {"mle_step": {"median_ms": 500.0}},
       "tuned": {"mle_step": {"median_ms": 400.0}}})
  assert rows[0] == {
      "workload": "mle_step", "ours_median_ms": 250.0, "ours_compile_s": 1.5,
      "reference_default_median_ms": 500.0, "ratio_default": 2.0,
      "reference_tuned_median_ms": 400.0, "ratio_tuned": 1.6}
  assert rows[1]["ratio_default"] is None
  assert rows[1]["reference_tuned_median_ms"] is None


def test_without_a_reference_it_says_so_and_times_ours(
    tmp_path, monkeypatch, capsys):
  script = _script()
  timed = []

  def run_workload(workload, *, length, overrides, repeats):
    timed.append((workload, length, tuple(overrides), repeats))
    return _ours(f"{workload}_L{length}", 10.0)

  monkeypatch.setattr(script.text_step, "run_workload", run_workload)
  out = tmp_path / "cmp.json"
  monkeypatch.setattr(sys, "argv", [
      "compare_reference.py", "--workloads=mle,public", "--repeats=2",
      "--set=model.num_filters=8", f"--json={out}",
      f"--ref_python={tmp_path / 'no_venv'}"])
  script.main()
  assert "reference side skipped: --ref_driver is not set" in (
      capsys.readouterr().out)
  overrides = ("model.num_filters=8",)
  assert timed == [("mle", 20, overrides, 2), ("public", 20, overrides, 2)]
  report = json.loads(out.read_text())
  assert report["reference"] == {}
  assert [r["workload"] for r in report["comparison"]] == [
      "mle_L20", "public_L20"]


def test_cifar_pairs_every_conv_impl_with_the_reference_iteration(
    tmp_path, monkeypatch):
  """--task=cifar: the driver gets --batch_size (not --length), and each of
  our conv_impl rows is divided into the reference's cifar_iteration_B<B>."""
  script = _script()
  driver = tmp_path / "driver.py"
  driver.write_text(
      "import json, sys\n"
      "args = dict(a[2:].split('=', 1) for a in sys.argv[1:])\n"
      "assert 'length' not in args, args\n"
      "print(json.dumps({'workload': 'cifar_iteration_B' + args['batch_size'],"
      " 'median_ms': 3000.0, 'workloads': args['workloads']}))\n")
  timed = []

  def run_workload(config_name, objective, batch_size, conv_impl, repeats,
                   overrides):
    timed.append((config_name, objective, batch_size, conv_impl, repeats,
                  tuple(overrides)))
    return _ours(f"cifar_{conv_impl}", {"xla": 2000.0, "gemm": 1000.0}[
        conv_impl])

  monkeypatch.setattr(script.image_step, "run_workload", run_workload)
  out = tmp_path / "cmp.json"
  monkeypatch.setattr(sys, "argv", [
      "compare_reference.py", "--task=cifar", "--batch_size=4",
      "--conv_impls=xla,gemm", "--repeats=1", "--set=unroll_inner_loops=False",
      f"--json={out}",
      f"--ref_driver={driver}", f"--ref_python={sys.executable}",
      f"--ref_src={tmp_path}"])
  script.main()
  rolled = ("unroll_inner_loops=False",)
  assert timed == [("cifar10_resnet_ppogan", "ppogan", 4, "xla", 1, rolled),
                   ("cifar10_resnet_ppogan", "ppogan", 4, "gemm", 1, rolled)]
  report = json.loads(out.read_text())
  assert report["reference"]["default"]["cifar_iteration_B4"][
      "workloads"] == "iteration"
  assert [(r["workload"], r["ratio_default"])
          for r in report["comparison"]] == [("cifar_xla", 1.5),
                                             ("cifar_gemm", 3.0)]
