"""What the soak proves at the end about traffic and resources, as plain functions over what it
recorded: requests against the fault windows, latency per traffic kind, resource series
against the flatness rule. What it proves about the data and the processes left is in
soak.outcome."""

from __future__ import annotations

import statistics
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from suite.common import percentile

from soak.probes import client_connections, fd_kinds, key_families

SAMPLE_EVERY_S = 10.0
KEY_SCAN_EVERY = 3  # Redis's keys are counted by family every third tick (30 s)
WARM_S = 60.0  # a process restarted by a fault is judged from this long after its birth
MIN_JUDGED_S = 180.0  # ...when that leaves at least this much of its life to judge
GENERATION_RULE_S = 1500.0  # a last generation this old is judged as the run is (5-15 vs last 10)
FLAT_RATIO = 1.10  # the late median may be at most 10% above the early one
FLAT_SLACK = 1  # ...or one more (a connection, a file descriptor) for small counts


# --- requests and fault windows ------------------------------------------------------------


def in_window(start: float, end: float, windows: list[tuple[float, float]]) -> bool:
    """A request overlaps a fault window (it started before the window's end and ended after
    its start)."""
    return any(start <= w_end and end >= w_start for w_start, w_end in windows)


def request_verdict(samples: list, windows: list[tuple[float, float]]) -> dict:
    """5xx and unanswered requests inside and outside the fault windows, and latency (ms)
    per traffic kind over the requests outside them."""
    counts = defaultdict(int)
    latency: dict[str, list[float]] = defaultdict(list)
    statuses: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    outside_5xx_examples = []
    for s in samples:
        inside = in_window(s.start, s.end, windows)
        where = "inside" if inside else "outside"
        statuses[s.kind][str(s.status)] += 1
        if s.status >= 500:
            counts[f"5xx_{where}"] += 1
            if not inside and len(outside_5xx_examples) < 10:
                outside_5xx_examples.append(
                    {"kind": s.kind, "status": s.status, "at": round(s.start, 1)}
                )
        elif s.status == 0:
            counts[f"unanswered_{where}"] += 1
            if not inside and len(outside_5xx_examples) < 10:
                outside_5xx_examples.append(
                    {"kind": s.kind, "error": s.error, "at": round(s.start, 1)}
                )
        elif s.status == 429:
            counts["429"] += 1
        if not inside and s.status:
            latency[s.kind].append((s.end - s.start) * 1000)
    phases = {
        kind: {
            "n": len(values),
            "p50_ms": round(percentile(values, 50), 1),
            "p95_ms": round(percentile(values, 95), 1),
            "p99_ms": round(percentile(values, 99), 1),
        }
        for kind, values in sorted(latency.items())
    }
    return {
        "requests": len(samples),
        "5xx_outside_windows": counts["5xx_outside"],
        "5xx_inside_windows": counts["5xx_inside"],
        "unanswered_outside_windows": counts["unanswered_outside"],
        "unanswered_inside_windows": counts["unanswered_inside"],
        "throttled_429": counts["429"],
        "outside_examples": outside_5xx_examples,
        "latency_by_kind": phases,
        "statuses_by_kind": {k: dict(v) for k, v in sorted(statuses.items())},
    }


# --- resources -----------------------------------------------------------------------------


@dataclass
class Series:
    """Samples of one process: (time since the traffic started, RSS MiB, open fds)."""

    kind: str
    pid: int
    born: float  # seconds since the traffic started (negative: before)
    points: list[tuple[float, float, int]] = field(default_factory=list)


class Sampler(threading.Thread):
    """RSS and open file descriptors of every process of the stack (PostgreSQL's: RSS less
    its shared pages), and the database's client connections, every SAMPLE_EVERY_S."""

    def __init__(self, stack, t0: float, stop: threading.Event) -> None:
        super().__init__(daemon=True, name="sampler")
        self.stack = stack
        self.t0 = t0  # time.time() when the traffic started
        self.stop = stop
        self.series: dict[tuple[int, float], Series] = {}
        self.db_connections: list[tuple[float, int]] = []
        self.redis: list[dict] = []  # Redis's own figures (INFO), see sample_redis
        self.redis_fd_kinds: list[tuple[float, dict]] = []
        self.ticks = 0

    def run(self) -> None:
        while not self.stop.wait(SAMPLE_EVERY_S):
            self.sample()

    def sample(self) -> None:
        now = time.time() - self.t0
        try:
            found = self.stack.processes()
        except Exception:
            return
        for kind, procs in found.items():
            for p in procs:
                try:
                    with p.oneshot():
                        key = (p.pid, p.create_time())
                        memory, fds = p.memory_info(), p.num_fds()
                        rss = memory.rss
                        if kind.startswith("postgres"):
                            # A backend's RSS counts every page of shared_buffers it has
                            # read (its RSS climbs towards shared_buffers with no leak):
                            # its own memory is what is not shared.
                            rss -= memory.shared
                        rss /= 2**20
                    if kind == "redis":
                        self.redis_fd_kinds.append((now, fd_kinds(p.pid)))
                except psutil.Error:
                    continue
                series = self.series.setdefault(key, Series(kind, p.pid, key[1] - self.t0))
                series.points.append((now, rss, fds))
        connections = client_connections(self.stack.env.get("DATABASE_URL", ""))
        if connections is not None:
            self.db_connections.append((now, connections))
        self.sample_redis(now)

    def sample_redis(self, now: float) -> None:
        """Redis's memory and clients every tick; its keys by family (ids and hashes folded
        to `*`) with how many carry no TTL, every KEY_SCAN_EVERY ticks."""
        import redis

        try:
            client = redis.Redis.from_url(self.stack.env["REDIS_URL"], socket_timeout=2)
            with client:
                info = client.info()
                point = {
                    "t": now,
                    "pid": info["process_id"],
                    "rss_mb": info["used_memory_rss"] / 2**20,
                    "used_mb": info["used_memory"] / 2**20,
                    "dataset_mb": info["used_memory_dataset"] / 2**20,
                    "clients": info["connected_clients"],
                    "client_buffers_mb": info.get("mem_clients_normal", 0) / 2**20,
                    "keys": sum(v.get("keys", 0) for k, v in info.items() if k.startswith("db")),
                }
                self.ticks += 1
                if self.ticks % KEY_SCAN_EVERY == 1:
                    point["families"] = key_families(client)
                    point["client_cmds"] = dict(
                        Counter(c.get("cmd", "?") for c in client.client_list())
                    )
        except Exception:
            return
        self.redis.append(point)


def windows_for(run_s: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """The early and late windows whose medians are compared: minutes 5-15 and the last ten
    for runs of 30 minutes or more, else the second and the last third."""
    if run_s >= 1800:
        return (300.0, 900.0), (run_s - 600.0, run_s)
    return (run_s / 3, 2 * run_s / 3), (2 * run_s / 3, run_s)


def flat(early: list[float], late: list[float]) -> dict:
    """The late median against the early one: flat when it is at most 10% (or one unit) above.
    Growth is what a leak looks like; a drop is reported, not failed."""
    if not early or not late:
        return {"judged": False, "why": "no samples in a window"}
    e, lt = statistics.median(early), statistics.median(late)
    ok = lt <= max(e * FLAT_RATIO, e + FLAT_SLACK)
    return {
        "judged": True,
        "early": round(e, 1),
        "late": round(lt, 1),
        "ratio": round(lt / e, 3) if e else None,
        "ok": ok,
    }


def resource_verdict(sampler: Sampler, run_s: float) -> dict:
    """Per kind of process: the summed RSS and fds of the processes that lived through both
    windows, early against late. Processes born after the early window began (restarted by a
    fault, or replacing one that was) are counted and shown apart, not judged with them. A
    kind with no such survivor (the pool after a worker kill, postgres after a restart) is
    judged on its last generation over that generation's own life: the processes born since
    the oldest one alive at the end, by the run's rule (minutes 5-15 of that life against its
    last ten) when it lived GENERATION_RULE_S, else from WARM_S after that birth to the end,
    first third against last third (when at least MIN_JUDGED_S of it is left; else it is
    reported as too young to judge). Comparing one generation's early life with another's late
    life would judge two different processes doing different work, not a leak.

    PostgreSQL's checkpointer is shown apart, not judged: it opens the relation files a
    checkpoint writes and closes them when the checkpoint ends (every checkpoint_timeout), and
    its RSS is the shared buffers it has touched, so both follow the checkpoint cycle (the
    60-minute run of 2026-12-06 saw its fds go 6 -> 252 -> 7 in one process), bounded by the
    catalog's files and shared_buffers. What a leak of ours would grow - connections and their
    backends - is judged in postgres and db_connections."""
    (e0, e1), (l0, l1) = windows_for(run_s)
    by_kind: dict[str, list[Series]] = defaultdict(list)
    for series in sampler.series.values():
        by_kind[series.kind].append(series)
    end = max((s.points[-1][0] for s in sampler.series.values() if s.points), default=run_s)
    out = {}
    for kind, all_series in sorted(by_kind.items()):
        survivors = [s for s in all_series if s.born <= e0 and s.points and s.points[-1][0] >= l0]
        windows = ((e0, e1), (l0, l1))
        if survivors:
            basis, judged = "survivors", survivors
        else:
            at_end = [
                s for s in all_series if s.points and s.points[-1][0] >= end - 2 * SAMPLE_EVERY_S
            ]
            birth = min((s.born for s in at_end), default=end)
            judged = [s for s in all_series if s.born >= birth - 1]
            span = end - (birth + WARM_S)
            basis = f"last generation (born at {birth:.0f} s)"
            windows = ((birth + WARM_S, birth + WARM_S + span / 3), (end - span / 3, end + 1))
            if end - birth >= GENERATION_RULE_S:  # old enough for the run's own rule
                windows = ((birth + 300.0, birth + 900.0), (end - 600.0, end + 1))
            if span < MIN_JUDGED_S:
                judged = []
        (a0, a1), (b0, b1) = windows
        rss_early, rss_late, fd_early, fd_late = (
            _sums(judged, a0, a1),
            _sums(judged, b0, b1),
            _sums(judged, a0, a1, 2),
            _sums(judged, b0, b1, 2),
        )
        restarted = [s for s in all_series if s.born > e0]
        too_young = {"judged": False, "why": "its last generation is too young to judge"}
        out[kind] = {
            "basis": basis,
            "windows_s": [[round(a0), round(a1)], [round(b0), round(b1)]],
            "processes_judged": len(judged),
            "rss_mb": flat(rss_early, rss_late) if judged else too_young,
            "open_fds": flat(fd_early, fd_late) if judged else too_young,
            "restarted_processes": len(restarted),
            "restarted_last_rss_mb": [round(s.points[-1][1], 1) for s in restarted if s.points][
                :20
            ],
        }
    if "postgres_checkpointer" in out:
        for figure in ("rss_mb", "open_fds"):
            out["postgres_checkpointer"][figure] = {
                "judged": False,
                "why": "follows the checkpoint cycle (see resource_verdict)",
                **{
                    k: v
                    for k, v in out["postgres_checkpointer"][figure].items()
                    if k in ("early", "late")
                },
            }
    out["redis_fds_by_kind"] = {
        "early": _median_kinds([k for t, k in sampler.redis_fd_kinds if e0 <= t < e1]),
        "late": _median_kinds([k for t, k in sampler.redis_fd_kinds if l0 <= t <= l1]),
    }
    if "redis" in out:
        out["redis"]["rss_mb"] = {
            "judged": False,
            "why": "judged in redis_memory, each Redis process over its own life: its clients "
            "and their buffers, its key families and TTLs, its RSS once its dataset is flat",
            **{k: v for k, v in out["redis"]["rss_mb"].items() if k in ("early", "late")},
        }
    out["redis_memory"] = redis_verdict(sampler.redis)
    connections_early = [c for t, c in sampler.db_connections if e0 <= t < e1]
    connections_late = [c for t, c in sampler.db_connections if l0 <= t <= l1]
    out["db_connections"] = flat(connections_early, connections_late)
    return out


def redis_verdict(points: list[dict]) -> dict:
    """Redis holds caches (entries with a TTL), the broker's queues and a few lasting keys, so
    its memory follows its working set, which a soak's distinct queries keep filling for as
    long as the longest TTL (a query's vector: a day), well past an hour's run; and every
    Redis kill starts an empty one. So each Redis process is judged over its own life (from
    WARM_S after its start, first third against last third; not judged when under
    MIN_JUDGED_S is left), by the flatness rule, on what a leak of ours would look like:
    - its client connections, and the memory of their buffers (connections piling up, or a
      client that stops reading), flat (a restarted Redis's clients may climb back to what
      the one before it had: processes reconnect when they next need it);
    - every key family that grows carries a TTL on every key (then its rate and TTL bound it:
      `projected_mb` is its size once as many expire as arrive); a family that grows with keys
      that never expire fails (nothing would ever bound it);
    - its RSS, by the same rule, once its working set has filled (its dataset flat over the
      same windows); while the dataset still grows, RSS is reported, not judged."""
    generations: list[list[dict]] = []
    for point in points:
        if not generations or generations[-1][-1]["pid"] != point["pid"]:
            generations.append([])
        generations[-1].append(point)
    judged, failures = [], []
    before = None  # the most clients an earlier Redis had at its end (one killed a minute
    # after its start had not got them all back yet)
    for life in generations:
        verdict = _redis_life(life, before)
        ended_with = life[-1].get("clients")
        if ended_with is not None:
            before = ended_with if before is None else max(before, ended_with)
        judged.append(verdict)
        failures += [f"redis (pid {verdict['pid']}): {f}" for f in verdict.pop("failures", [])]
    last_scan = next((p for p in reversed(points) if "families" in p), {})
    return {
        "processes": judged,
        "failures": failures,
        "client_commands_last": last_scan.get("client_cmds", {}),
    }


def _redis_life(life: list[dict], clients_before: float | None = None) -> dict:
    born, last = life[0]["t"], life[-1]["t"]
    out: dict = {"pid": life[0]["pid"], "from_s": round(born), "to_s": round(last)}
    span = last - (born + WARM_S)
    if span < MIN_JUDGED_S:
        return {**out, "judged": False, "why": "lived too short to judge"}
    (a0, a1), (b0, b1) = (born + WARM_S, born + WARM_S + span / 3), (last - span / 3, last + 1)
    early = [p for p in life if a0 <= p["t"] < a1]
    late = [p for p in life if b0 <= p["t"] < b1]

    def rule(name: str) -> dict:
        return flat([p[name] for p in early], [p[name] for p in late])

    dataset, rss = rule("dataset_mb"), rule("rss_mb")
    if not (dataset.get("judged") and dataset["ok"]) and rss.get("judged"):
        rss = {**rss, "judged": False, "why": "working set still filling (dataset growing)"}
    families, failures = {}, []
    scans_early = [p["families"] for p in early if "families" in p]
    scans_late = [p["families"] for p in late if "families" in p]
    elapsed = max(1.0, (b0 + b1 - a0 - a1) / 2)  # between the windows' middles, seconds
    for name in sorted({f for scan in scans_early + scans_late for f in scan}):
        e = [scan.get(name, {}).get("keys", 0) for scan in scans_early]
        lt = [scan.get(name, {}).get("keys", 0) for scan in scans_late]
        verdict = flat(e, lt)
        grows = bool(verdict.get("judged") and not verdict["ok"])
        last_scan = scans_late[-1].get(name, {}) if scans_late else {}
        family = {
            "early": verdict.get("early"),
            "late": verdict.get("late"),
            "grows": grows,
            "late_without_ttl": max(
                (s.get(name, {}).get("without_ttl", 0) for s in scans_late), default=0
            ),
            "max_ttl_s": max((s.get(name, {}).get("max_ttl_s", 0) for s in scans_late), default=0),
            "late_mb": last_scan.get("mb", 0),
        }
        if grows and last_scan.get("keys"):
            per_key = last_scan.get("mb", 0) / last_scan["keys"]
            rate = (verdict["late"] - verdict["early"]) / elapsed  # keys a second, net
            family["projected_mb"] = round(rate * family["max_ttl_s"] * per_key, 1)
        families[name] = family
        if grows and family["late_without_ttl"]:
            failures.append(
                f"keys that never expire grow: {name} {verdict['early']} -> {verdict['late']}"
            )
    clients = rule("clients")
    if clients.get("judged") and not clients["ok"] and clients_before is not None:
        # After a restart each process reconnects when it next needs Redis, so a young Redis
        # gains clients for a while: that is a leak only past what the one before it had.
        clients = {**clients, "before_restart": clients_before}
        clients["ok"] = clients["late"] <= clients_before + FLAT_SLACK
    for name, check in (
        ("clients", clients),
        ("client_buffers_mb", rule("client_buffers_mb")),
        ("rss_mb", rss),
    ):
        if check.get("judged") and not check["ok"]:
            failures.append(f"{name} grew: {check['early']} -> {check['late']}")
    return {
        **out,
        "judged": True,
        "windows_s": [[round(a0), round(a1)], [round(b0), round(b1)]],
        "clients": clients,
        "client_buffers_mb": rule("client_buffers_mb"),
        "rss_mb": rss,
        "dataset_mb": dataset,
        "keys": rule("keys"),
        "families": families,
        "failures": failures,
    }


def save_samples(sampler: Sampler, path: Path) -> None:
    """Every sample of the run, for a look afterwards (the var dir is kept until the next)."""
    import json

    data = {
        "series": [
            {"kind": s.kind, "pid": s.pid, "born": s.born, "points": s.points}
            for s in sampler.series.values()
        ],
        "db_connections": sampler.db_connections,
        "redis": sampler.redis,
        "redis_fd_kinds": sampler.redis_fd_kinds,
    }
    path.write_text(json.dumps(data, default=str))


def load_samples(path: Path) -> Sampler:
    """A finished run's samples (save_samples), to judge again."""
    import json

    data = json.loads(path.read_text())
    sampler = Sampler.__new__(Sampler)
    sampler.series = {
        (s["pid"], s["born"]): Series(
            s["kind"], s["pid"], s["born"], [tuple(p) for p in s["points"]]
        )
        for s in data["series"]
    }
    sampler.db_connections = [tuple(c) for c in data["db_connections"]]
    sampler.redis = data["redis"]
    sampler.redis_fd_kinds = [tuple(k) for k in data["redis_fd_kinds"]]
    return sampler


def resource_failures(resources: dict) -> list[str]:
    """The resource checks that failed, in words."""
    failures = list(resources.get("redis_memory", {}).get("failures", []))
    for kind, figures in resources.items():
        if kind in ("redis_memory", "redis_fds_by_kind"):
            continue
        for what in ("rss_mb", "open_fds") if kind != "db_connections" else ("",):
            check = figures[what] if what else figures
            if check.get("judged") and not check["ok"]:
                failures.append(
                    f"{kind} {what or 'count'} grew: {check['early']} -> {check['late']}"
                )
    return failures


def _median_kinds(samples: list[dict]) -> dict:
    names = {name for sample in samples for name in sample}
    return {n: statistics.median(sample.get(n, 0) for sample in samples) for n in sorted(names)}


def _sums(series: list[Series], t0: float, t1: float, column: int = 1) -> list[float]:
    """One value per sampling tick in [t0, t1): the sum over the processes sampled then."""
    ticks: dict[float, float] = defaultdict(float)
    for s in series:
        for point in s.points:
            if t0 <= point[0] < t1:
                ticks[round(point[0] / SAMPLE_EVERY_S)] += point[column]
    return list(ticks.values())
