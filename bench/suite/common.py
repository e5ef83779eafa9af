"""What every phase of the bench shares: paths, figures, the log line and distinct queries."""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
BENCH = ROOT / "bench"
DATA = Path(os.environ.get("VITRINE_FASHION_DIR", ROOT.parent / "shared" / "data" / "fashion"))
RESULTS = BENCH / "results"
PY = sys.executable
SYNTH_PREFIX = "SYN-"
FASH_PREFIX = "FASH-"
N_BRANDS = 100  # synthetic brands, uniform: one brand = a 1%-selective filter

# Words for distinct shopper queries ("navy blue linen shirts for men, casual"): 72,000
# combinations, dealt out without repeats across the phases of a run.
COLOURS = (
    "black white navy blue red green grey brown beige pink purple yellow orange maroon olive "
    "teal cream silver gold khaki charcoal mustard turquoise lavender"
).split()
ARTICLES = [
    "shirts", "t-shirts", "jeans", "trousers", "shorts", "dresses", "skirts", "tops",
    "kurtas", "sarees", "jackets", "sweaters", "sweatshirts", "track pants", "leggings",
    "casual shoes", "sports shoes", "formal shoes", "heels", "flats", "sandals", "flip flops",
    "socks", "belts", "wallets", "handbags", "backpacks", "watches", "sunglasses", "caps",
    "scarves", "ties", "earrings", "necklaces", "bracelets", "rings", "perfume", "lipstick",
    "nail polish", "deodorant", "briefs", "bras", "night suits", "innerwear vests", "jumpsuit",
    "blazers", "waistcoats", "capris", "stoles", "clutches",
]  # fmt: skip
AUDIENCES = ["for men", "for women", "for boys", "for girls", "unisex", "for kids"]
QUALIFIERS = [
    "casual", "formal", "sports", "party wear", "ethnic", "summer", "winter", "cotton",
    "slim fit", "everyday",
]  # fmt: skip


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def p50(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def rnd(value: float, digits: int = 2) -> float:
    return round(float(value), digits)


class QueryTexts:
    """Distinct query strings, dealt out in order (shuffled once, seeded)."""

    def __init__(self, seed: int = 6) -> None:
        combos = [
            f"{c} {a} {u} {q}"
            for c in COLOURS
            for a in ARTICLES
            for u in AUDIENCES
            for q in QUALIFIERS
        ]
        random.Random(seed).shuffle(combos)
        self.combos = combos
        self.next = 0

    def take(self, n: int) -> list[str]:
        if self.next + n > len(self.combos):
            raise RuntimeError("out of distinct queries; lower the request counts")
        out = self.combos[self.next : self.next + n]
        self.next += n
        return out
