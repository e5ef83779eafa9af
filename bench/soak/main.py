"""The soak's run: start the shop, let shoppers and the admin loose with faults on a schedule
for the configured time, let the shop catch up, check, stop everything, print the verdict as
one JSON line. Exit 0 when every check passes, 1 when one fails, 2 on an error before the
checks could run."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from suite.servers import machine_description

from soak import checks, outcome
from soak.admin import Admin
from soak.faults import Faults, schedule
from soak.stack import Stack, say
from soak.traffic import Recorder, Shopper, demo_ledger, suggest_exists

SWITCH_AFTER_S = 30.0  # the model switch starts after the first half minute of traffic...
SWITCH_STAY_S = 60.0  # ...and search stays on the second model this long before going back


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--minutes", type=float, default=60.0, help="traffic time (default 60)")
    p.add_argument("--var-dir", default="/tmp/vt-soak", help="wiped first (default /tmp/vt-soak)")
    p.add_argument("--port", type=int, default=8097, help="runserver; gunicorn on port + 1")
    p.add_argument("--web-workers", type=int, default=2, help="gunicorn workers (2+)")
    p.add_argument("--shoppers", type=int, default=4, help="shopper threads")
    p.add_argument("--demo-limit", type=int, default=150, help="demo products to start with")
    p.add_argument("--json-out", help="also write the verdict to this file")
    p.add_argument(
        "--judge-samples",
        metavar="SAMPLES_JSON",
        help="judge a finished run's resources again from its log/samples.json (with --minutes)",
    )
    return p.parse_args(argv)


def run(argv: list[str] | None = None) -> int:
    args = parse(argv)
    run_s = args.minutes * 60
    if args.judge_samples:
        resources = checks.resource_verdict(checks.load_samples(Path(args.judge_samples)), run_s)
        failures = checks.resource_failures(resources)
        print(json.dumps({"failures": failures, "resources": resources}, default=str))
        return 1 if failures else 0
    root = Path(args.var_dir).resolve()
    stack = Stack(root, port=args.port, gunicorn_workers=max(2, args.web_workers), run_s=run_s)
    verdict: dict = {
        "soak": "error",
        "command": "make soak SOAK_MINUTES=" + f"{args.minutes:g}",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine_description(),
        "minutes": args.minutes,
    }
    stop = threading.Event()
    signal.signal(signal.SIGTERM, _interrupt)  # a killed soak still unmounts and stops all
    try:
        stack.start(demo_limit=args.demo_limit)
        verdict.update(soak(stack, args, run_s, stop))
    except BaseException as exc:  # Ctrl-C included: stop everything, say what happened
        stop.set()
        verdict["error"] = f"{exc.__class__.__name__}: {exc}"
        say(f"ERROR: {verdict['error']}")
    finally:
        stop.set()
        say("stopping everything the soak started")
        stack.stop()
        left = outcome.leftovers(root)
        verdict["processes_left_behind"] = left
        verdict["media_unmounted"] = not stack.media_mounted
        if left:
            verdict.setdefault("failures", []).append(f"{len(left)} process(es) left behind")
    failures = verdict.get("failures", [])
    if verdict["soak"] != "error":
        verdict["soak"] = "fail" if failures else "pass"
    line = json.dumps(verdict, sort_keys=False, default=str)
    if args.json_out:
        Path(args.json_out).write_text(line + "\n")
    print(line, flush=True)
    return {"pass": 0, "fail": 1}.get(verdict["soak"], 2)


def soak(stack: Stack, args: argparse.Namespace, run_s: float, stop: threading.Event) -> dict:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from catalog.models import Product
    from search.indexing.sweeper import sweep_stale_products
    from search.parking.models import ParkedTask
    from tests.support.tiny_models import build_tiny_clip

    token = staff_token()
    second_model = str(build_tiny_clip(stack.root / "models" / "tiny-clip"))
    ledger = demo_ledger(
        [
            (s, n, f"{p:.2f}" if p is not None else None)
            for s, n, p in Product.objects.values_list("sku", "name", "price")
        ]
    )
    connection.close()
    wait_for(stack.url)
    suggest = suggest_exists(stack.url)
    shown = "on" if suggest else "absent (404): skipped"
    say(f"traffic for {args.minutes:g} min on {stack.url}; suggest {shown}")

    recorder = Recorder()
    t0_wall, t0 = time.time(), time.monotonic()
    sampler = checks.Sampler(stack, t0_wall, stop)
    admin = Admin(stack.url, token, recorder, ledger, stop, stack.env)
    faults = Faults(stack, admin, t0, schedule(run_s), stop)
    shoppers = [
        Shopper(n, stack.url, recorder, ledger, stop, suggest=suggest) for n in range(args.shoppers)
    ]
    for thread in [sampler, admin, faults, *shoppers]:
        thread.start()

    switch = model_switch(admin, second_model, t0, run_s, stop)
    while time.monotonic() - t0 < run_s:
        time.sleep(1)
    stop.set()
    say("traffic over; waiting for the clients, the imports and the sweeper")
    for thread in [*shoppers, admin, faults, sampler, switch.pop("_thread")]:
        thread.join(900)
    admin.finish()

    # Catch-up: beat's sweeper runs every VITRINE_SWEEP_INTERVAL_S; a sweep is triggered here
    # too, so the wait is bounded by the cooldown, not by chance.
    catch_up_s = settings.VITRINE_SWEEP_COOLDOWN_S + 180
    deadline = time.monotonic() + catch_up_s
    index = outcome.index_verdict()
    before = index["unindexed"]
    while index["unindexed"] and time.monotonic() < deadline:
        sweep_stale_products(batch_size=settings.VITRINE_SWEEP_BATCH_SIZE)
        time.sleep(20)
        index = outcome.index_verdict()
    index["unindexed_before_catch_up"] = before
    index["catch_up_s"] = round(catch_up_s - max(0.0, deadline - time.monotonic()), 1)

    catalog = outcome.catalog_verdict(ledger)
    windows = [(w.start, w.end) for w in faults.windows]
    traffic = checks.request_verdict(recorder.samples, windows)
    resources = checks.resource_verdict(sampler, run_s)
    checks.save_samples(sampler, stack.root / "log" / "samples.json")
    parked = list(ParkedTask.objects.values_list("task_id", "task_name"))
    connection.close()
    poison = {
        "sent": len(faults.poison_ids),
        "parked": sum(1 for task_id, _ in parked if task_id in faults.poison_ids),
        "other_tasks_parked": [
            name for task_id, name in parked if task_id not in faults.poison_ids
        ],
    }

    failures = []
    if catalog["lost_writes"] or catalog["duplicate_skus"]:
        lost, twice = catalog["lost_writes"], catalog["duplicate_skus"]
        failures.append(f"catalog: {lost} lost writes, {twice} duplicate SKUs")
    if index["unindexed"] or index["duplicate_vectors"]:
        failures.append(
            f"index: {index['unindexed']} unindexed, {index['duplicate_vectors']} duplicate vectors"
        )
    if traffic["5xx_outside_windows"] or traffic["unanswered_outside_windows"]:
        n5, n0 = traffic["5xx_outside_windows"], traffic["unanswered_outside_windows"]
        failures.append(f"{n5} 5xx and {n0} unanswered requests outside the fault windows")
    failures += checks.resource_failures(resources)
    killed = outcome.killed_batches_verdict(faults.killed_batches)
    if killed["unindexed"]:
        failures.append(f"killed batches: {killed['unindexed']} products not indexed")
    if faults.counts.get("worker_kill") and not killed["batches"]:
        failures.append("no worker kill caught an embedding batch running")
    if poison["parked"] != poison["sent"] or poison["other_tasks_parked"]:
        failures.append(f"parked tasks: {poison}")
    failures += [
        f"fault {w.kind} at {w.start:.0f}: {w.detail.get('error')}"
        for w in faults.windows
        if not w.ok
    ]
    failures += [f"import {f}" for f in admin.failed_imports]
    failures += [f"unexpected exit: {e}" for e in stack.unexpected_exits]
    if switch.get("error"):
        failures.append(f"model switch: {switch['error']}")
    if index["active_model"] != settings.VITRINE_EMBEDDER:
        failures.append(
            f"search did not end on {settings.VITRINE_EMBEDDER} but on {index['active_model']}"
        )

    return {
        "soak": "checked",
        "failures": failures,
        "lost_writes": catalog["lost_writes"],
        "unindexed": index["unindexed"],
        "5xx_outside_windows": traffic["5xx_outside_windows"],
        "5xx_inside_windows": traffic["5xx_inside_windows"],
        "requests": traffic["requests"],
        "faults": faults.counts,
        "faults_skipped": faults.skipped,
        "fault_windows": faults.report(),
        "catalog": catalog,
        "index": index,
        "admin": {
            **admin.counts,
            "import_batches": admin.batches,
            "refused_uploads": admin.refused_uploads,
        },
        "model_switch": switch,
        "poison": poison,
        "killed_batches": killed,
        "traffic": traffic,
        "resources": resources,
        "media": stack.media_note,
        "settings": {
            k: v
            for k, v in stack.env.items()
            if k.startswith("VITRINE_") and k not in ("VITRINE_VAR_DIR", "VITRINE_MEDIA_ROOT")
        },
        "suggest": "exercised" if suggest else "absent (404): skipped",
        "unexpected_exits": stack.unexpected_exits,
        "restarts": stack.restarts,
    }


def model_switch(admin: Admin, model: str, t0: float, run_s: float, stop: threading.Event) -> dict:
    """In its own thread: to the second model after SWITCH_AFTER_S, back after SWITCH_STAY_S
    more (both early, so the memory windows see both models loaded)."""
    result: dict = {"to": model}

    def go() -> None:
        try:
            stop.wait(min(SWITCH_AFTER_S, run_s / 10))
            if stop.is_set():
                result["error"] = "the run ended before the switch"
                return
            result["started_s"] = round(time.monotonic() - t0, 1)
            previous = admin.switch_model(model)
            result["on_second_model_s"] = round(time.monotonic() - t0, 1)
            stop.wait(min(SWITCH_STAY_S, run_s / 10))
            admin.switch_back(previous)
            result["back_s"] = round(time.monotonic() - t0, 1)
        except Exception as exc:
            result["error"] = f"{exc.__class__.__name__}: {exc}"
        finally:
            from django.db import connection

            connection.close()
            result["steps"] = admin.switch.steps

    thread = threading.Thread(target=go, daemon=True, name="model-switch")
    thread.start()
    result["_thread"] = thread
    return result


def _interrupt(signum, _frame) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def staff_token() -> str:
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    user, _ = get_user_model().objects.get_or_create(
        username="soak-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    return Token.objects.get_or_create(user=user)[0].key


def wait_for(base: str, timeout: float = 180) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/api/v1/search", params={"q": "shirt"}, timeout=30).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    raise RuntimeError(f"{base} did not answer a search within {timeout:.0f} s")


if __name__ == "__main__":
    sys.exit(run())
