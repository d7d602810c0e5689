"""The Table 2 driver's job list and scheduler (results/oracle_experiment.py)."""
import sys

from tests import engine_utils


def _driver():
  return engine_utils.load_script("results", "oracle_experiment.py")


def test_jobs_pretrain_each_seed_before_its_rows(tmp_path):
  driver = _driver()
  jobs = driver.jobs_of(str(tmp_path), seeds=2, lengths=[20, 40],
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
