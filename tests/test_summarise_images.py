"""results/summarise_images.py's machine-readable records."""
import json
import sys

from tests import engine_utils


def _run(root, part, name, seed, evals, elapsed):
  workdir = root / part / f"{name}_seed{seed}"
  workdir.mkdir(parents=True)
  (workdir / "config.json").write_text(json.dumps({"seed": seed,
                                                   "n_gen": 5}))
  lines = [{"step": 10, "elapsed_s": elapsed, "critic/loss": 1.0}]
  lines += [{"step": step, "eval/classifier_is": value,
             "eval/classifier_fid": 100.0 / value}
            for step, value in evals]
  (workdir / "metrics.jsonl").write_text(
      "".join(json.dumps(line) + "\n" for line in lines))


def test_json_has_one_record_per_finished_run(tmp_path, monkeypatch):
  script = engine_utils.load_script("results", "summarise_images.py")
  _run(tmp_path, "figure3", "ppogan", 0, [(50, 2.0), (100, 4.5)], 30.0)
  _run(tmp_path, "figure3", "ppogan", 1, [(50, 1.5), (100, 3.5)], 40.0)
  _run(tmp_path, "figure3", "wgan_gp", 0, [], 12.0)  # no evaluation yet
  out = tmp_path / "images.json"
  monkeypatch.setattr(sys, "argv", ["summarise_images.py", str(tmp_path),
                                    f"--json={out}"])
  script.main()
  records = json.loads(out.read_text())
  assert [(r["objective"], r["seed"], r["step"], r["metrics"],
           r["wall_s"]) for r in records] == [
      ("ppogan", 0, 100, {"classifier_is": 4.5, "classifier_fid": 100 / 4.5},
       30.0),
      ("ppogan", 1, 100, {"classifier_is": 3.5, "classifier_fid": 100 / 3.5},
       40.0)]
  assert [(r["step"], r["classifier_is"]) for r in records[1]["curve"]] == [
      (50, 1.5), (100, 3.5)]
  assert {r["part"] for r in records} == {"figure3"}
