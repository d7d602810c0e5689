"""Progress reporting (the heartbeat of long phases, the progress line) and
the merging of earlier result records."""
import json
import logging
import time

import pytest

from ppogan_jax import logs


class _Records(logging.Handler):
  def __init__(self):
    super().__init__()
    self.messages = []

  def emit(self, record):
    self.messages.append(record.getMessage())


@pytest.fixture
def messages():
  handler = _Records()
  logger = logs.get_logger()
  logger.addHandler(handler)
  yield handler.messages
  logger.removeHandler(handler)


def test_heartbeat_reports_start_progress_and_end(messages):
  with logs.Heartbeat("phase", status=lambda: "3/10", period=0.05):
    time.sleep(0.3)
  assert messages[0] == "phase: started"
  beats = messages[1:-1]
  assert len(beats) >= 2 and all(m == "phase: 0:00 elapsed 3/10"
                                 for m in beats)
  assert messages[-1] == "phase: done in 0:00"
  count = len(messages)
  time.sleep(0.15)
  assert len(messages) == count  # the thread has stopped


def test_heartbeat_does_not_report_a_failed_phase_as_done(messages):
  with pytest.raises(RuntimeError):
    with logs.Heartbeat("phase", period=10.0):
      raise RuntimeError("boom")
  assert messages == ["phase: started"]


def test_progress_line_counts_from_the_first_timed_step():
  progress = logs.Progress(100, unit="epoch")
  assert progress.line(0, {}, {}).startswith("epoch 0/100 (0%) nan it/s ETA ?")
  progress.start(10)
  time.sleep(0.05)
  line = progress.line(20, {"critic/loss": 1.5}, {"d_loss": "critic/loss"})
  assert line.startswith("epoch 20/100 (20%) ")
  assert line.endswith(" d_loss=1.5")
  rate = float(line.split()[3])
  assert 0 < rate < 10 / 0.05


def test_with_previous_records_keeps_only_the_runs_missing_here(tmp_path):
  path = tmp_path / "earlier.json"
  path.write_text(json.dumps([{"row": "a", "seed": 0, "value": 1.0},
                              {"row": "a", "seed": 1, "value": 2.0}]))
  here = [{"row": "a", "seed": 1, "value": 3.0},
          {"row": "b", "seed": 0, "value": 4.0}]
  merged = logs.with_previous_records(here, str(path),
                                      lambda r: (r["row"], r["seed"]))
  assert merged == [{"row": "a", "seed": 0, "value": 1.0}, *here]
