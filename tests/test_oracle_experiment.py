"""The Table 2 driver's job list and scheduler (results/oracle_experiment.py)."""
import sys

from tests import engine_utils


def _driver():
  return engine_utils.load_script("results", "oracle_experiment.py")


def test_jobs_pretrain_each_seed_before_its_rows(tmp_path):
  driver = _driver()
  jobs = driver.jobs_of(str(tmp_path), seeds=range(2), lengths=[20, 40],
                        protocol="cpu", objectives=("ppogan", "rsgan"))
  assert [j.name for j in jobs] == [
      "L20/mle_seed0", "L20/mle_seed1", "L20/ppogan_seed0", "L20/rsgan_seed0",
      "L20/ppogan_seed1", "L20/rsgan_seed1",
      "L40/mle_seed0", "L40/mle_seed1", "L40/ppogan_seed0", "L40/rsgan_seed0",
      "L40/ppogan_seed1", "L40/rsgan_seed1"]
  assert jobs[4].after == "L20/mle_seed1"
  assert "--mode=pretrain" in jobs[0].command
  assert ("--config=configs/text_relgan.py:rsgan,40,cpu" in jobs[-1].command
          and "--config.seed=1" in jobs[-1].command)


def test_jobs_of_later_seeds_only(tmp_path):
  jobs = _driver().jobs_of(str(tmp_path), seeds=range(2, 3), lengths=[20],
                           protocol="cpu", objectives=("ppogan",))
  assert [j.name for j in jobs] == ["L20/mle_seed2", "L20/ppogan_seed2"]
  assert "--config.seed=2" in jobs[1].command


def test_scheduler_waits_for_dependencies_and_skips_after_a_failure(tmp_path):
  driver = _driver()
  order = tmp_path / "order.txt"

  def job(name, after="", code=0):
    script = (f"import time; time.sleep(0.2); "
              f"open({str(order)!r}, 'a').write({name!r} + '\\n'); "
              f"raise SystemExit({code})")
    return driver.Job(name, [sys.executable, "-c", script], after=after)

  jobs = [job("a"), job("b", code=3), job("a_child", after="a"),
          job("b_child", after="b"), job("c")]
  driver.schedule(str(tmp_path), jobs, [None, None])
  ran = order.read_text().split()
  assert sorted(ran) == ["a", "a_child", "b", "c"]
  assert ran.index("a_child") > ran.index("a")
  assert [j.state for j in jobs] == ["done", "failed", "done", "failed",
                                     "done"]
  assert (tmp_path / "b.failed").read_text() == "3\n"
  # A rerun skips what finished and retries nothing that did.
  order.unlink()
  rerun = [job("a"), job("a_child", after="a")]
  driver.schedule(str(tmp_path), rerun, [None])
  assert not order.exists()


def test_summary_pairs_ppogan_with_each_baseline_by_seed():
  summary = engine_utils.load_script("results", "summarise_oracle.py")

  def record(model, seed, nll_oracle, steps=1000):
    return {"model": model, "length": 20, "seed": seed, "steps": steps,
            "num_steps": 1000, "nll_oracle": nll_oracle, "nll_gen": 6.0}

  records = [record("ppogan", 0, 8.0), record("ppogan", 1, 8.5),
             record("rsgan", 0, 9.0), record("rsgan", 1, 9.0),
             record("rsgan", 2, 7.0), record("wgan_gp", 0, 9.0, steps=600)]
  lines = summary.paired_differences(records, 20).splitlines()
  # Seed 2 has no PPO-GAN run and WGAN-GP's seed 0 is unfinished.
  assert lines == ["- PPO-GAN − RelGAN (`rsgan`), paired by seed (0, 1): "
                   "nll_oracle -0.750 ± 0.354; nll_gen 0.000 ± 0.000"]
