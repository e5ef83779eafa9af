"""What the soak's sampler reads from the shop's processes besides RSS: Redis's keys by
family, a process's file descriptors by kind, the database's client connections."""

from __future__ import annotations

import os
import statistics
from collections import Counter, defaultdict

MEMORY_SAMPLE = 20  # keys per family whose MEMORY USAGE estimates the family's size


def key_families(client) -> dict[str, dict]:
    """{family: {keys, without_ttl, max_ttl_s, mb}} over every key (thousands at most); `mb`
    estimated from MEMORY USAGE of up to MEMORY_SAMPLE keys of the family."""
    families: dict[str, dict] = defaultdict(
        lambda: {"keys": 0, "without_ttl": 0, "max_ttl_s": 0, "sampled": []}
    )
    keys = list(client.scan_iter(count=1000))
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.ttl(key)
    for key, ttl in zip(keys, pipe.execute(), strict=True):
        if ttl == -2:  # gone since the scan (a task's delivery count, forgotten as it ended)
            continue
        family = families[key_family(key.decode(errors="replace"))]
        family["keys"] += 1
        if ttl == -1:
            family["without_ttl"] += 1
        family["max_ttl_s"] = max(family["max_ttl_s"], ttl)
        if len(family["sampled"]) < MEMORY_SAMPLE:
            family["sampled"].append(key)
    for family in families.values():
        sampled = family.pop("sampled")
        sizes = [client.memory_usage(k) or 0 for k in sampled]
        family["mb"] = round(statistics.mean(sizes) * family["keys"] / 2**20, 2) if sizes else 0
    return dict(families)


def key_family(key: str) -> str:
    """A key with its ids, hashes and numbers folded: `vitrine:1:task-deliveries:*:*`."""
    parts = key.split(":")[:5]
    return ":".join(
        "*" if any(ch.isdigit() for ch in part) and len(part) > 1 or len(part) > 24 else part
        for part in parts
    )


def fd_kinds(pid: int) -> dict[str, int]:
    """A process's open file descriptors by what they point at (socket, pipe, anon_inode...)."""
    kinds: Counter = Counter()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            kinds[target.split(":")[0] if ":" in target else "file"] += 1
    except OSError:
        pass
    return dict(kinds)


def client_connections(database_url: str) -> int | None:
    """Client connections to the database, but this one."""
    import psycopg

    try:
        with psycopg.connect(database_url, connect_timeout=3) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
            ).fetchone()
        return int(row[0])
    except Exception:
        return None
