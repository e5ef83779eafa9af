"""Loopback clients: shoppers (storefront pages, API searches in every mode, photo searches,
clicks on what the searches returned, suggest when it exists) and one admin (imports of CSV +
photos zip, edits, deletes, the model switch). Every request is recorded with its start, end,
kind and status, so the checks can tell a 5xx inside a fault window from one outside."""

from __future__ import annotations

import io
import random
import threading
import time
from dataclasses import dataclass, field

import requests
from PIL import Image

TIMEOUT_S = 60
WORDS = (
    "shirt dress jacket shoes bag watch lamp mug chair towel scarf jeans sweater boots hat "
    "red blue black white green cotton leather wool linen summer winter classic soft"
).split()


@dataclass
class Sample:
    kind: str
    start: float
    end: float
    status: int  # 0: no answer (connection refused or reset, timeout)
    error: str = ""


class Recorder:
    """Every request of the run (a few per second: memory stays small for an hour)."""

    def __init__(self) -> None:
        self.samples: list[Sample] = []
        self._lock = threading.Lock()

    def call(self, session: requests.Session, kind: str, method: str, url: str, **kwargs):
        start = time.time()
        try:
            response = session.request(method, url, timeout=TIMEOUT_S, **kwargs)
        except requests.RequestException as exc:
            self.add(Sample(kind, start, time.time(), 0, exc.__class__.__name__))
            return None
        self.add(Sample(kind, start, time.time(), response.status_code))
        return response

    def add(self, sample: Sample) -> None:
        with self._lock:
            self.samples.append(sample)


def png(seed: int) -> bytes:
    rng = random.Random(seed)
    image = Image.new("RGB", (96, 72), tuple(rng.randrange(256) for _ in range(3)))
    for _ in range(6):  # a few blocks, so photos differ
        x, y = rng.randrange(80), rng.randrange(56)
        colour = tuple(rng.randrange(256) for _ in range(3))
        image.paste(colour, (x, y, x + 16, y + 16))
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


class Shopper(threading.Thread):
    """One visitor at a time, round after round, with a short pause between requests."""

    def __init__(
        self,
        n: int,
        base: str,
        recorder: Recorder,
        catalog: Catalog,
        stop: threading.Event,
        *,
        suggest: bool,
    ) -> None:
        super().__init__(daemon=True, name=f"shopper-{n}")
        self.rng = random.Random(n)
        self.base = base
        self.recorder = recorder
        self.catalog = catalog
        self.stop = stop
        self.suggest = suggest

    def run(self) -> None:
        session = requests.Session()
        actions = [
            (self.home, 1), (self.search_page, 3), (self.product_page, 2),
            (self.api_search, 6), (self.photo_search, 2), (self.suggest_query, 1),
        ]  # fmt: skip
        weighted = [a for a, weight in actions for _ in range(weight)]
        while not self.stop.is_set():
            self.rng.choice(weighted)(session)
            self.stop.wait(self.rng.uniform(0.05, 0.3))

    def query(self) -> str:
        return " ".join(self.rng.sample(WORDS, self.rng.randint(1, 3)))

    def home(self, s: requests.Session) -> None:
        self.recorder.call(s, "page_home", "GET", f"{self.base}/")

    def search_page(self, s: requests.Session) -> None:
        self.recorder.call(
            s, "page_search", "GET", f"{self.base}/search", params={"q": self.query()}
        )

    def product_page(self, s: requests.Session) -> None:
        sku = self.catalog.any_sku(self.rng)
        if sku:
            self.recorder.call(s, "page_product", "GET", f"{self.base}/products/{sku}/")

    def api_search(self, s: requests.Session) -> None:
        mode = self.rng.choice(["hybrid", "vector", "lexical"])
        params = {"q": self.query(), "mode": mode}
        response = self.recorder.call(
            s, f"api_search_{mode}", "GET", f"{self.base}/api/v1/search", params=params
        )
        self.click(s, response)

    def photo_search(self, s: requests.Session) -> None:
        files = {"image": ("photo.png", png(self.rng.randrange(10**6)), "image/png")}
        data = {"q": self.query()} if self.rng.random() < 0.3 else {}
        response = self.recorder.call(
            s, "api_search_photo", "POST", f"{self.base}/api/v1/search", files=files, data=data
        )
        self.click(s, response)

    def click(self, s: requests.Session, response) -> None:
        """Click one of the results the search returned, by its search_id."""
        if response is None or response.status_code != 200:
            return
        try:
            body = response.json()
        except ValueError:
            return
        results = body.get("results") or []
        if not results or not body.get("search_id"):
            return
        position = self.rng.randrange(len(results))
        event = {
            "search_id": body["search_id"],
            "sku": results[position]["sku"],
            "type": "click",
            "position": position + 1,
        }
        self.recorder.call(s, "api_click", "POST", f"{self.base}/api/v1/events", json=event)

    def suggest_query(self, s: requests.Session) -> None:
        if self.suggest:
            q = self.rng.choice(WORDS)[: self.rng.randint(2, 4)]
            self.recorder.call(
                s, "api_suggest", "GET", f"{self.base}/api/v1/suggest", params={"q": q}
            )


def suggest_exists(base: str) -> bool:
    try:
        return (
            requests.get(f"{base}/api/v1/suggest", params={"q": "sh"}, timeout=30).status_code
            != 404
        )
    except requests.RequestException:
        return False


@dataclass
class Catalog:
    """What the admin wrote and the shop must show at the end (the ledger): per SKU the name
    and price last written and confirmed, or None once deleted. `uncertain`: writes whose
    outcome the admin could not learn (never retried to success)."""

    written: dict[str, dict | None] = field(default_factory=dict)
    pending: set[str] = field(default_factory=set)  # in an import not finished yet
    uncertain: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def any_sku(self, rng: random.Random) -> str | None:
        with self.lock:
            live = [s for s, v in self.written.items() if v is not None]
        return rng.choice(live) if live else None

    def settled(self, rng: random.Random) -> str | None:
        """A SKU the admin may edit or delete: written, not deleted, in no unfinished import."""
        with self.lock:
            live = [s for s, v in self.written.items() if v is not None and s not in self.pending]
        return rng.choice(live) if live else None

    def record(self, sku: str, state: dict | None) -> None:
        with self.lock:
            self.written[sku] = state
            self.pending.discard(sku)
            self.uncertain.discard(sku)


def demo_ledger(products: list[tuple[str, str, str]]) -> Catalog:
    catalog = Catalog()
    for sku, name, price in products:
        catalog.written[sku] = {"name": name, "price": price}
    return catalog


def as_json(response) -> dict:
    try:
        return response.json()
    except (ValueError, AttributeError):
        return {}
