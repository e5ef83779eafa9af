"""The soak's judgements (bench/soak/checks.py, faults.py) on cases worked out by hand: which
requests fall in a fault window, what counts as flat, which windows are compared, and that
every fault is scheduled inside the run. The soak itself runs only with -m soak."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def soak():
    sys.path.insert(0, str(BENCH))
    try:
        from soak import checks, faults

        yield checks, faults
    finally:
        sys.path.remove(str(BENCH))


class Req:
    def __init__(self, kind, start, end, status, error=""):
        self.kind, self.start, self.end, self.status, self.error = kind, start, end, status, error


def test_a_5xx_overlapping_a_fault_window_counts_inside_and_one_after_it_outside(soak):
    checks, _ = soak
    windows = [(100.0, 130.0)]
    samples = [
        Req("api", 95.0, 101.0, 503),  # began before the fault, answered during it
        Req("api", 129.0, 131.0, 500),
        Req("api", 131.0, 131.2, 502),  # after the window: the shop should be whole again
        Req("api", 140.0, 140.1, 0, "ConnectionError"),
        Req("api", 10.0, 10.1, 200),
        Req("page", 11.0, 11.3, 200),
    ]
    verdict = checks.request_verdict(samples, windows)
    assert verdict["5xx_inside_windows"] == 2
    assert verdict["5xx_outside_windows"] == 1
    assert verdict["unanswered_outside_windows"] == 1
    # Latency only from answered requests outside the windows: 100 ms for api (one 502 and
    # one 200 answered outside), 300 ms for the page.
    assert verdict["latency_by_kind"]["page"]["p50_ms"] == pytest.approx(300, abs=1)
    assert verdict["latency_by_kind"]["api"]["n"] == 2


def test_growth_beyond_ten_percent_is_not_flat_a_drop_is(soak):
    checks, _ = soak
    assert checks.flat([100, 100, 101], [109, 110, 110])["ok"]
    assert not checks.flat([100, 100, 101], [112, 113, 112])["ok"]
    assert checks.flat([100, 100], [60, 61])["ok"]  # a restart's fresh process is smaller
    assert checks.flat([5, 5], [6, 6])["ok"]  # one more connection of five is noise
    assert not checks.flat([5, 5], [7, 7])["ok"]
    assert not checks.flat([], [1])["judged"]


def test_the_compared_windows_are_minutes_5_15_and_the_last_ten_or_thirds(soak):
    checks, _ = soak
    assert checks.windows_for(3600) == ((300, 900), (3000, 3600))
    assert checks.windows_for(600) == ((200, 400), (400, 600))


def test_every_fault_is_scheduled_in_order_inside_the_run_and_more_often_in_longer_runs(soak):
    _, faults = soak
    short, hour = faults.schedule(600), faults.schedule(3600)
    assert sorted(kind for _, kind in short) == sorted(faults.KINDS)
    assert len(hour) == 3 * len(faults.KINDS)
    for plan, run_s in ((short, 600), (hour, 3600)):
        times = [at for at, _ in plan]
        assert times == sorted(times) and 0.1 * run_s <= times[0] and times[-1] <= 0.85 * run_s
    # an hour's faults leave its second half quiet, for a last generation old enough to judge
    assert max(at for at, _ in hour) <= 1800


def test_a_last_generation_that_lived_long_is_judged_on_its_minutes_5_to_15_against_its_last_10(
    soak,
):
    checks, _ = soak
    sampler = checks.Sampler.__new__(checks.Sampler)
    sampler.db_connections, sampler.redis, sampler.redis_fd_kinds = [], [], []
    old = checks.Series("worker_pool", 1, -60.0, [(t, 500.0, 10) for t in range(0, 1200, 10)])
    # the pool a fault restarted at 1200 s: warms up, then holds 700 MiB for half an hour
    young = checks.Series(
        "worker_pool",
        2,
        1200.0,
        [(t, 400.0 if t < 1260 else 700.0, 10) for t in range(1200, 3600, 10)],
    )
    sampler.series = {(1, 0.0): old, (2, 1.0): young}
    verdict = checks.resource_verdict(sampler, 3600)["worker_pool"]
    assert verdict["windows_s"] == [[1500, 2100], [2990, 3591]]
    assert verdict["rss_mb"]["ok"]
    young.points[-40:] = [(t, 800.0, 10) for t, _, _ in young.points[-40:]]
    assert not checks.resource_verdict(sampler, 3600)["worker_pool"]["rss_mb"]["ok"]


def test_a_restarted_redis_may_regain_the_clients_the_one_before_it_had_but_no_more(soak):
    checks, _ = soak

    def life(pid, t0, clients):
        return [
            {
                "pid": pid,
                "t": t0 + i * 10.0,
                "clients": c,
                "client_buffers_mb": 0.1,
                "rss_mb": 10.0,
                "dataset_mb": 5.0,
                "keys": 100,
            }
            for i, c in enumerate(clients)
        ]

    first = life(1, 0.0, [28] * 60)
    reconnecting = life(2, 600.0, [20] * 30 + [28] * 30)
    assert not checks.redis_verdict(first + reconnecting)["failures"]
    piling_up = life(2, 600.0, [20] * 30 + [35] * 30)
    assert checks.redis_verdict(first + piling_up)["failures"]
    # killed again a minute after its start: the next one may regain what the first had
    brief = life(2, 600.0, [20] * 6)
    assert not checks.redis_verdict(first + brief + life(3, 700.0, [20] * 30 + [28] * 30))[
        "failures"
    ]


def test_redis_keys_are_grouped_in_families_with_their_ids_and_hashes_folded(soak):
    from soak.probes import key_family as family  # (the fixture puts bench/ on the path)

    assert family("vitrine:1:task-deliveries:0b6c1f52-7a0e-4f4e-9d0e-2f5f3c1d9a77:0:first") == (
        "vitrine:1:task-deliveries:*:0"
    )
    assert family("vitrine:1:search:qvec:1:5f2a9c0d") == "vitrine:1:search:qvec:1"
    assert family("_kombu.binding.embed") == "_kombu.binding.embed"


def _redis_life(pid, start, end, *, dataset, rss, clients=20, family=None, no_ttl=0):
    """Samples of one Redis process every 10 s; dataset, rss and the family's key count as
    functions of the process's age."""
    points = []
    for t in range(start, end, 10):
        age = t - start
        point = {
            "t": float(t), "pid": pid, "rss_mb": rss(age), "dataset_mb": dataset(age),
            "clients": clients, "client_buffers_mb": 0.4, "keys": 100,
        }  # fmt: skip
        if t % 30 == 0 and family:
            keys = family(age)
            point["families"] = {
                "vitrine:1:search:qvec:1": {"keys": keys, "without_ttl": no_ttl * keys,
                                            "max_ttl_s": 86400, "mb": keys / 500},
            }  # fmt: skip
        points.append(point)
    return points


def test_a_redis_filling_caches_with_ttls_passes_and_its_rss_is_reported_not_judged(soak):
    checks, _ = soak
    life = _redis_life(
        1, 0, 1800, dataset=lambda a: 1 + a / 100, rss=lambda a: 5 + a / 100, family=lambda a: a
    )
    verdict = checks.redis_verdict(life)
    assert verdict["failures"] == []
    (judged,) = verdict["processes"]
    assert judged["families"]["vitrine:1:search:qvec:1"]["grows"]
    assert not judged["rss_mb"]["judged"] and "filling" in judged["rss_mb"]["why"]


def test_redis_keys_that_never_expire_growing_fail_and_so_does_rss_once_the_dataset_is_flat(soak):
    checks, _ = soak
    never_expire = _redis_life(
        1, 0, 1800, dataset=lambda a: 5, rss=lambda a: 10, family=lambda a: a, no_ttl=1
    )
    assert any("never expire" in f for f in checks.redis_verdict(never_expire)["failures"])
    swelling = _redis_life(1, 0, 1800, dataset=lambda a: 5, rss=lambda a: 10 + a / 60)
    assert any("rss_mb grew" in f for f in checks.redis_verdict(swelling)["failures"])
    piling_up = _redis_life(1, 0, 1800, dataset=lambda a: 5, rss=lambda a: 10, clients=20)
    for point in piling_up:
        point["clients"] = 20 + int(point["t"] / 100)
    assert any("clients grew" in f for f in checks.redis_verdict(piling_up)["failures"])


def test_a_restarted_redis_is_judged_over_its_own_life_not_against_the_one_before(soak):
    checks, _ = soak
    # Redis killed at 20 minutes; the empty one started after it fills quickly and settles
    # higher than the first had (other queries), but neither grows within its own life once
    # warm: nothing fails, though the late minutes are above the early ones.
    first = _redis_life(1, 0, 1200, dataset=lambda a: 9, rss=lambda a: 12)
    second = _redis_life(
        2, 1200, 3600, dataset=lambda a: min(9, a / 5), rss=lambda a: min(20, 4 + a / 3)
    )
    short = _redis_life(3, 3600, 3700, dataset=lambda a: 1, rss=lambda a: 4)
    verdict = checks.redis_verdict(first + second + short)
    assert verdict["failures"] == []
    assert [p["judged"] for p in verdict["processes"]] == [True, True, False]


def test_a_kind_whose_processes_were_all_replaced_is_judged_on_its_last_generation(soak):
    checks, _ = soak

    class Samples:
        redis, redis_fd_kinds, db_connections = [], [], []

    def pool(pid, born, end, rss):
        points = [(t, rss(t - born), 20) for t in range(born, end, 10)]
        return checks.Series("worker_pool", pid, born, points)

    samples = Samples()
    # The first pool process died at 20 minutes; its successor, bigger (another batch
    # size) but flat over its own life, is not a leak.
    samples.series = {1: pool(1, 0, 1200, lambda a: 430), 2: pool(2, 1200, 3600, lambda a: 600)}
    verdict = checks.resource_verdict(samples, 3600)["worker_pool"]
    assert verdict["basis"].startswith("last generation") and verdict["rss_mb"]["ok"]
    # The same successor growing over its own life is one.
    samples.series[2] = pool(2, 1200, 3600, lambda a: 600 + a / 10)
    assert not checks.resource_verdict(samples, 3600)["worker_pool"]["rss_mb"]["ok"]
    # One born 2 minutes before the end is too young to say.
    samples.series[2] = pool(2, 3480, 3600, lambda a: 600)
    assert not checks.resource_verdict(samples, 3600)["worker_pool"]["rss_mb"]["judged"]
