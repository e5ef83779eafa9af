"""Loaded into a test worker with `--include`: every new pool process takes SLOW_START_S
(6 s) to start, as one loading a model on a busy machine does, before it can say it is up."""

from __future__ import annotations

import os
import time

from celery.signals import worker_process_init


@worker_process_init.connect
def start_slowly(**_kwargs) -> None:
    time.sleep(float(os.environ.get("SLOW_START_S", "6")))
