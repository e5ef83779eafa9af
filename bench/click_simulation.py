#!/usr/bin/env python3
"""Does the shop learn from clicks? Simulated shoppers search a running shop through its API,
click by how relevant each result really is (the judgments), and the ranking is measured
before and after the shop has learned from those clicks.

    .venv/bin/python bench/click_simulation.py --queries Q.tsv --qrels QRELS.tsv \\
        [--sessions 200] [--base-url http://127.0.0.1:8000] [--settle 150]

Against a shop that holds the judged products (the ESCI dev set: bench/eval_esci.py builds
one in /tmp/vt-esci), served with its worker and beat, and with the anonymous throttle lifted
for the run through its documented setting (this traffic is anonymous, storefront-like, and
recorded like any other):

    VITRINE_VAR_DIR=/tmp/vt-esci VITRINE_DEMO=0 VITRINE_ANON_THROTTLE=100000/min \\
        VITRINE_DB_CONN_MAX_AGE=0 VITRINE_PORT=8077 .venv/bin/python -m config.stack run

(VITRINE_DB_CONN_MAX_AGE=0: runserver starts a thread per request, and the persistent
connections of finished threads would run the embedded PostgreSQL out of connections.)
Start it with empty insights tables: clicks from an earlier run are learnt already, and
"before" would not be before learning.

1. A fixed random part of the queries (--holdout, seeded) gets no sessions: the "unclicked"
   queries, on which learning must not make the ranking worse.
2. Before: NDCG@10 of every query's first page (GET /api/v1/search, the judgments' grades as
   gains, search.evaluation, as `evaluate_search` measures it).
3. Sessions: each other query is searched --sessions times, in random order, each time by
   a new shopper (own User-Agent), who reads the first page (the
   storefront's 20 results) as the click model below says and reports each click with
   POST /api/v1/events {search_id, sku, type: "click", position}.
4. Settle: the shop writes the events in batches (beat, every few seconds) and turns clicks
   into its click signal every VITRINE_CLICK_SIGNAL_INTERVAL_S (60 s by default); --settle
   (150 s: two refreshes and the drains before them) is waited out before measuring again.
5. After: the same measurement. The last line printed is JSON: {"before": {"ndcg@10": ..},
   "after": {"ndcg@10": ..}, "unclicked": {"before": .., "after": ..}, ...}; "before" and
   "after" are over the queries that got sessions; how many queries got better or worse
   follows.

--sessions (200) is how much traffic each query gets, a head query's few days: the shop
needs VITRINE_CLICK_MIN_VISITORS shoppers to have read as far as a product before clicks
move it, and a shopper reads past a satisfying first result rarely, so the more sessions,
the deeper learning reaches (docs/BENCHMARKS.md has the curve: 50, 100, 200).

The shopper's click model: a dynamic Bayesian network shopper (Chapelle & Zhang 2009), with
click and satisfaction probabilities per grade after the "navigational" user of Hofmann et
al. 2013 ("Fidelity, soundness, and efficiency of interleaved comparison methods"), laid
over ESCI's four grades. The shopper reads the page top-down; at each result, clicks with
CLICK[grade]; after a click is satisfied (stops) with STOP[grade]; otherwise goes on to the
next result with PATIENCE (0.9, DBN's gamma), or leaves. So a result is examined less the
lower it is (position bias: 0.9^(k-1) before any click), and what a satisfied shopper never
reached is never clicked. Unjudged products count as irrelevant (the catalog is the judged
pool: a product unjudged for this query was judged for another one).
These are fixed from the literature, not fitted to any query set: the same simulation is
meant to be replayed on queries nobody tuned the shop on.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from search.evaluation import per_query_scores, read_qrels, read_queries  # noqa: E402

# ESCI grades: 0 irrelevant, 1 complement, 2 substitute, 3 exact.
CLICK = {0: 0.05, 1: 0.3, 2: 0.6, 3: 0.95}
STOP = {0: 0.2, 1: 0.3, 2: 0.6, 3: 0.9}
PATIENCE = 0.9
SHOPPER_PAGE = 20  # what a shopper reads: the storefront's page (VITRINE_PAGE_SIZE)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Shop:
    """The shop's JSON API, as an anonymous storefront client."""

    def __init__(self, base_url: str, timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _call(self, request: urllib.request.Request) -> dict:
        for attempt in range(5):
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return json.loads(response.read() or b"{}")
            except urllib.error.HTTPError as exc:
                if exc.code in (429, 503) and attempt < 4:  # throttled or warming up
                    time.sleep(1 + attempt)
                    continue
                body = exc.read()[:300].decode(errors="replace")
                raise RuntimeError(f"{request.full_url}: {exc.code} {body}") from None
        raise RuntimeError(f"{request.full_url}: gave up")

    def search(self, query: str, *, page_size: int, shopper: int | None = None) -> dict:
        params = urllib.parse.urlencode({"q": query, "page_size": page_size})
        request = urllib.request.Request(
            f"{self.base_url}/api/v1/search?{params}", headers=_identity(shopper)
        )
        return self._call(request)

    def click(self, *, search_id: str, sku: str, position: int, shopper: int) -> None:
        body = {"search_id": search_id, "sku": sku, "type": "click", "position": position}
        request = urllib.request.Request(
            f"{self.base_url}/api/v1/events",
            data=json.dumps(body).encode(),
            headers={**_identity(shopper), "Content-Type": "application/json"},
            method="POST",
        )
        self._call(request)


def _identity(shopper: int | None) -> dict[str, str]:
    """Each simulated shopper is another browser: the shop's visitor key hashes the client's
    address and user agent, so one address with many user agents is many visitors. The
    measuring client is one more."""
    if shopper is None:
        return {"User-Agent": "vitrine-click-simulation/measure"}
    return {"User-Agent": f"vitrine-click-simulation/shopper-{shopper}"}


def shopper_clicks(
    skus: list[str], grades: dict[str, int], rng: random.Random
) -> list[tuple[int, str]]:
    """(position, sku) of each click one simulated shopper makes on this page."""
    clicks = []
    for position, sku in enumerate(skus, start=1):
        grade = grades.get(sku, 0)
        if rng.random() < CLICK[grade]:
            clicks.append((position, sku))
            if rng.random() < STOP[grade]:
                break
        if rng.random() >= PATIENCE:
            break
    return clicks


def measure(shop: Shop, queries: dict[str, str], qrels: dict, workers: int) -> dict[str, float]:
    """NDCG@10 of the first page of each query."""

    def first_page(qid: str) -> tuple[str, list[str]]:
        found = shop.search(queries[qid], page_size=10)
        return qid, [hit["sku"] for hit in found["results"]]

    with ThreadPoolExecutor(workers) as pool:
        rankings = dict(pool.map(first_page, sorted(queries)))
    judged = {qid: qrels[qid] for qid in queries if qid in qrels}
    scores = per_query_scores(qrels=judged, rankings=rankings)
    return {qid: values["ndcg@10"] for qid, values in scores.items()}


def mean(ndcg: dict[str, float]) -> float:
    """The macro average (every query weighs the same, as evaluate_search averages)."""
    return round(sum(ndcg.values()) / len(ndcg), 4) if ndcg else float("nan")


def moved(before: dict[str, float], after: dict[str, float]) -> dict[str, int]:
    """How many queries' NDCG@10 went up, down (by more than rounding) or stayed."""
    up = sum(after[q] > before[q] + 1e-9 for q in before)
    down = sum(after[q] < before[q] - 1e-9 for q in before)
    return {"better": up, "worse": down, "same": len(before) - up - down}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=Path, required=True)
    parser.add_argument("--qrels", type=Path, required=True)
    parser.add_argument("--sessions", type=int, default=200, help="per query with sessions")
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--holdout", type=float, default=0.25, help="share left unclicked")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--settle", type=float, default=150.0, help="seconds to let it learn")
    parser.add_argument("--workers", type=int, default=4, help="concurrent shoppers")
    args = parser.parse_args(argv)

    queries = {q.qid: q.text for q in read_queries(args.queries)}
    qrels = read_qrels(args.qrels)
    queries = {qid: text for qid, text in queries.items() if qrels.get(qid)}
    rng = random.Random(args.seed)
    order = sorted(queries)
    rng.shuffle(order)
    held = round(len(order) * args.holdout)
    unclicked = {qid: queries[qid] for qid in order[:held]}
    clicked = {qid: queries[qid] for qid in order[held:]}
    shop = Shop(args.base_url)
    log(f"{len(clicked)} queries get {args.sessions} sessions each; {len(unclicked)} get none")

    before = measure(shop, clicked, qrels, args.workers)
    before_unclicked = measure(shop, unclicked, qrels, args.workers)
    log(f"before: NDCG@10 {mean(before)} (with sessions), {mean(before_unclicked)} (without)")

    sessions = [qid for qid in clicked for _ in range(args.sessions)]
    rng.shuffle(sessions)
    seeds = [rng.randrange(2**32) for _ in sessions]
    counts = {"searches": 0, "clicks": 0, "unrecorded": 0}
    counting = threading.Lock()

    def session(n: int) -> None:
        qid = sessions[n]
        found = shop.search(clicked[qid], page_size=SHOPPER_PAGE, shopper=n)
        skus = [hit["sku"] for hit in found["results"]]
        clicks = shopper_clicks(skus, qrels[qid], random.Random(seeds[n]))
        search_id = found.get("search_id")
        if search_id is None:  # not recorded (the shop says so: its Redis was down)
            with counting:
                counts["unrecorded"] += 1
            return
        for position, sku in clicks:
            shop.click(search_id=search_id, sku=sku, position=position, shopper=n)
        with counting:
            counts["searches"] += 1
            counts["clicks"] += len(clicks)

    started = time.monotonic()
    with ThreadPoolExecutor(args.workers) as pool:
        for done, _ in enumerate(pool.map(session, range(len(sessions))), start=1):
            if done % 500 == 0:
                log(f"  {done}/{len(sessions)} sessions")
    took = time.monotonic() - started
    log(f"{counts['searches']} searches, {counts['clicks']} clicks in {took:.0f} s")
    if counts["unrecorded"]:
        log(f"WARNING: {counts['unrecorded']} searches came back without a search_id")
    log(f"settling {args.settle:.0f} s (event drains, click signal refresh)")
    time.sleep(args.settle)

    after = measure(shop, clicked, qrels, args.workers)
    after_unclicked = measure(shop, unclicked, qrels, args.workers)
    log(f"after: NDCG@10 {mean(after)} (with sessions), {mean(after_unclicked)} (without)")
    print(
        json.dumps(
            {
                "before": {"ndcg@10": mean(before)},
                "after": {"ndcg@10": mean(after)},
                "unclicked": {"before": mean(before_unclicked), "after": mean(after_unclicked)},
                "queries": {"with_sessions": len(clicked), "unclicked": len(unclicked)},
                "with_sessions": moved(before, after),
                "without_sessions": moved(before_unclicked, after_unclicked),
                "sessions": len(sessions),
                "clicks": counts["clicks"],
                "unrecorded_searches": counts["unrecorded"],
                "sessions_s": round(took, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
