"""Ten minutes of `make soak`: the whole stack under mixed traffic with every fault injected
once, then its verdict. Run it with `pytest -m soak tests/soak` (never in CI: see conftest)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.soak, pytest.mark.timeout(45 * 60)]

ROOT = Path(__file__).resolve().parents[2]


def test_ten_minutes_of_traffic_and_faults_lose_nothing_and_leave_nothing(tmp_path):
    verdict_file = tmp_path / "verdict.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run_soak.py"), "--minutes", "10",
         "--var-dir", "/tmp/vt-soak-test", "--port", "8197", "--json-out", str(verdict_file)],
        cwd=ROOT, env={**os.environ, "HF_HUB_OFFLINE": "1"}, capture_output=True, text=True,
        timeout=40 * 60,
    )  # fmt: skip
    assert verdict_file.exists(), done.stdout[-5000:] + done.stderr[-5000:]
    verdict = json.loads(verdict_file.read_text())

    assert verdict["soak"] == "pass", verdict.get("failures") or verdict.get("error")
    assert done.returncode == 0
    assert verdict["lost_writes"] == 0 and verdict["unindexed"] == 0
    assert verdict["5xx_outside_windows"] == 0
    assert verdict["processes_left_behind"] == [] and verdict["media_unmounted"]
    # Every kind of fault happened (the disk-full one only where a tmpfs could be mounted).
    expected = {"worker_kill", "redis_kill", "postgres_restart_fast", "postgres_restart_immediate",
                "web_worker_kill", "poison_task", "media_disk_full"}  # fmt: skip
    assert set(verdict["faults"]) == expected
    assert verdict["poison"]["parked"] == verdict["poison"]["sent"] >= 1
    # The worker kill caught an embedding batch running, and none of its products was lost.
    assert verdict["killed_batches"]["batches"] >= 1
    assert verdict["killed_batches"]["unindexed"] == 0
    assert verdict["admin"]["imported"] > 0 and verdict["admin"]["edited"] > 0
    assert verdict["model_switch"].get("back_s") and not verdict["model_switch"].get("error")
