"""Shopper-like pseudo-queries made from each product's own fields, with hard negatives: the
training data of the catalog adaptation (search.adaptation.services), no judged query needed.

Shoppers name what they need, with an attribute or a use, in a few words ("black earbud
headphones", "sony headphones", "mattress for back pain", "waterproof kindle"); they seldom
type the start of a product's title. The first attempt (docs/BENCHMARKS.md, "Adapting the
models to the catalog") trained on title prefixes and made the model worse: it learnt to
copy titles. So a pseudo-query here is never a prefix of its product's title, and is one of:

- `attribute`: an attribute value + the category's leaf ("black earbud headphones");
- `brand`: the brand + the leaf, sometimes with an attribute ("sony black headphones");
- `use`: the leaf + a use named in the title or description ("mattress for back pain");
- `keywords`: the title's two to four rarest words, in title order, not from its start;
- `description`: the gist of a description line, shortened (a bullet's heading, or its
  first content words: "memory foam mattress pressure relief").

A hard negative is a product of the same category that the pseudo-query does not describe
(its text lacks one of the query's words), the one sharing most words with it: what a
retriever confuses, and what a shopper would not want. A slice of the catalog (products
chosen by a hash of their SKU, so the same on every run) is held aside: its pseudo-queries
never train, and measure the model during training (search.adaptation.training).
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
STOP_WORDS = frozenset(
    "a an and are as at be by for from has have in is it its of on or that the this to was "
    "with your you our we will can all any new set pack pcs piece pieces size inch x more "
    "most use used using easy yourself everyone everything long".split()
)
MIN_DF = 3  # a word in fewer products is a model code or a typo: shoppers seldom type those
USE = re.compile(
    r"\bfor (?:the |a |an |your |all |any )?([a-z][a-z-]+(?: [a-z][a-z-]+)?)", re.IGNORECASE
)
HEADING = re.compile(r"^\s*([A-Z0-9][A-Z0-9 &/'-]{3,60}):")  # "MEMORY FOAM MATTRESS: ..."
MAX_ATTRIBUTE_WORDS = 3
MAX_QUERY_WORDS = 8


@dataclass(frozen=True)
class CatalogItem:
    """What the pseudo-queries are made from: a product's own fields, and the document the
    embedder reads (search.documents.document_text)."""

    product_id: int
    sku: str
    name: str
    brand: str
    category: tuple[str, ...]  # the path, root first
    attributes: dict
    description: str
    document: str


@dataclass(frozen=True)
class TrainingPair:
    """A query the product answers, the products it must outrank (hard negatives), how
    much the pair counts (1 for a pseudo-query; a click's de-biased weight) and its kind."""

    query: str
    product_id: int
    negatives: tuple[int, ...] = ()
    weight: float = 1.0
    kind: str = "pseudo"


@dataclass
class TrainingData:
    train: list[TrainingPair] = field(default_factory=list)
    held_aside: list[TrainingPair] = field(default_factory=list)
    kinds: Counter = field(default_factory=Counter)


def words(text: str) -> list[str]:
    return WORD.findall(text.lower())


def is_title_prefix(query: str, title: str) -> bool:
    """Whether the query is the title's first words (what the failed attempt trained on)."""
    q, t = words(query), words(title)
    return bool(q) and t[: len(q)] == q


def held_aside(sku: str, *, fraction: float) -> bool:
    """Stable across runs: the same products are held aside whatever else changes."""
    digest = hashlib.sha256(sku.encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < fraction


def leaf_name(category: Sequence[str]) -> str:
    """The category's leaf as a shopper says it: "Headphones, Earbuds & Accessories" ->
    "headphones" (the first of a list of kinds)."""
    if not category:
        return ""
    leaf = re.split(r",|&| and ", category[-1].lower())[0]
    return " ".join(words(leaf))


def _attribute_values(attributes: dict) -> list[str]:
    values = []
    for value in attributes.values():
        for one in value if isinstance(value, list) else [value]:
            text = " ".join(words(str(one)))
            if text and len(text.split()) <= MAX_ATTRIBUTE_WORDS and not text.isdigit():
                values.append(text)
    return values


def _content_words(text: str) -> list[str]:
    return [w for w in words(text) if w not in STOP_WORDS and not w.isdigit() and len(w) > 1]


def _uses(item: CatalogItem) -> list[str]:
    found = []
    for text in (item.name, item.description[:600]):
        for match in USE.finditer(text):
            use = " ".join(w for w in words(match.group(1)))
            if use and not set(use.split()) & STOP_WORDS:
                found.append(use)
    return found


def _telling_words(text: str, idf: dict[str, float], *, exclude: set[str]) -> list[str]:
    """The text's words a shopper might type (no codes, no stop words), first seen first."""
    return [
        w
        for w in dict.fromkeys(_content_words(text))
        if w in idf and w.isalpha() and w not in exclude
    ]


def _rarest(found: list[str], idf: dict[str, float], count: int) -> str:
    chosen = set(sorted(found, key=lambda w: -idf[w])[:count])
    return " ".join(w for w in found if w in chosen)


def _keywords(item: CatalogItem, idf: dict[str, float], rng: random.Random) -> str:
    """Two to four of the title's rarest telling words (never its brand), in title order."""
    title = _telling_words(item.name, idf, exclude=set(words(item.brand)))
    if len(title) < 3:
        return ""
    return _rarest(title, idf, rng.randint(2, 4))


def _description_gist(
    item: CatalogItem, idf: dict[str, float], rng: random.Random, *, leaf: str
) -> str:
    """A description line shortened the way a shopper would put its need: a bullet's
    heading as it is, else its two or three most telling words and the leaf."""
    lines = [line for line in item.description.splitlines() if line.strip()]
    if not lines:
        return ""
    line = rng.choice(lines[:5])
    heading = HEADING.match(line)
    if heading:
        return " ".join(words(heading.group(1)))
    found = _telling_words(line, idf, exclude=set(words(item.brand)) | set(leaf.split()))
    if len(found) < 2:
        return ""
    return f"{_rarest(found, idf, rng.randint(2, 3))} {leaf}".strip()


def candidate_queries(
    item: CatalogItem, *, idf: dict[str, float], rng: random.Random
) -> list[tuple[str, str]]:
    """(kind, query) pseudo-queries of one product, deduplicated, none a title prefix."""
    leaf = leaf_name(item.category)
    brand = " ".join(words(item.brand))
    attributes = _attribute_values(item.attributes)
    made: list[tuple[str, str]] = []
    if leaf:
        made += [("attribute", f"{value} {leaf}") for value in attributes[:2]]
        if brand:
            made.append(("brand", f"{brand} {leaf}"))
            if attributes:
                made.append(("brand", f"{brand} {rng.choice(attributes)} {leaf}"))
        made += [("use", f"{leaf} for {use}") for use in _uses(item)[:2]]
    made.append(("keywords", _keywords(item, idf, rng)))
    made.append(("description", _description_gist(item, idf, rng, leaf=leaf)))
    seen: set[str] = set()
    out = []
    for kind, query in made:
        query = " ".join(dict.fromkeys(words(query)[:MAX_QUERY_WORDS]))
        if len(query.split()) < 2 or query in seen or is_title_prefix(query, item.name):
            continue
        seen.add(query)
        out.append((kind, query))
    return out


def describes(query_words: set[str], item_words: set[str]) -> bool:
    """A product whose text holds every content word of the query answers it: it must not
    be a negative (a false negative would teach the model to push a good answer away)."""
    return query_words <= item_words


def hard_negatives(
    query: str,
    item: CatalogItem,
    *,
    neighbours: Sequence[CatalogItem],
    item_words: dict[int, set[str]],
    count: int,
) -> tuple[int, ...]:
    """Same-category products the query does not describe, most words shared first."""
    wanted = set(_content_words(query))
    scored = []
    for other in neighbours:
        if other.product_id == item.product_id:
            continue
        have = item_words[other.product_id]
        if describes(wanted, have):
            continue
        scored.append((len(wanted & have), other.product_id))
    scored.sort(key=lambda s: (-s[0], s[1]))
    return tuple(pid for _, pid in scored[:count])


def build_training_data(
    items: Sequence[CatalogItem],
    *,
    per_product: int = 3,
    negatives: int = 1,
    held_aside_fraction: float = 0.05,
    seed: int = 0,
) -> TrainingData:
    """Pseudo-queries for every product (at most `per_product` each, of different kinds
    first), with hard negatives; the held-aside slice apart."""
    rng = random.Random(seed)
    item_words = {i.product_id: set(_content_words(i.document)) for i in items}
    df = Counter(w for ws in item_words.values() for w in ws)
    idf = {w: math.log(len(items) / n) for w, n in df.items() if n >= MIN_DF}
    by_category: dict[tuple[str, ...], list[CatalogItem]] = defaultdict(list)
    for item in items:
        by_category[item.category].append(item)
        if len(item.category) > 1:  # a lone leaf's products borrow their parent's
            by_category[("parent", *item.category[:-1])].append(item)
    data = TrainingData()
    for item in items:
        neighbours = _neighbours(item, by_category)
        made = candidate_queries(item, idf=idf, rng=rng)
        rng.shuffle(made)
        made = _one_of_each_kind_first(made)
        for kind, query in made[:per_product]:
            pair = TrainingPair(
                query=query,
                product_id=item.product_id,
                negatives=hard_negatives(
                    query, item, neighbours=neighbours, item_words=item_words, count=negatives
                ),
                kind=kind,
            )
            aside = held_aside(item.sku, fraction=held_aside_fraction)
            (data.held_aside if aside else data.train).append(pair)
            data.kinds[kind] += 1
    return data


def _one_of_each_kind_first(made: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: Counter = Counter()
    ranked = []
    for kind, query in made:
        ranked.append((seen[kind], kind, query))
        seen[kind] += 1
    return [(kind, query) for _, kind, query in sorted(ranked, key=lambda r: r[0])]


def _neighbours(item: CatalogItem, by_category: dict) -> list[CatalogItem]:
    """The product's category, or its parent's products when the leaf is alone."""
    same = by_category.get(item.category, [])
    if len(same) > 1 or len(item.category) < 2:
        return same
    return by_category.get(("parent", *item.category[:-1]), same)


def catalog_items(products: Iterable) -> list[CatalogItem]:
    """CatalogItems from products loaded by catalog.selectors.products_for_documents."""
    from search.documents import document_text

    items = []
    for product in products:
        path: list[str] = []
        node = product.category if product.category_id else None
        while node is not None:
            path.append(node.name)
            node = node.parent
        items.append(
            CatalogItem(
                product_id=product.id,
                sku=product.sku,
                name=product.name,
                brand=product.brand or "",
                category=tuple(reversed(path)),
                attributes=product.attributes or {},
                description=product.description or "",
                document=document_text(product),
            )
        )
    return items


def data_hash(pairs: Iterable[TrainingPair], documents: dict[int, str]) -> str:
    """What the training read, hashed: the pairs and the documents they point at."""
    digest = hashlib.sha256()
    for pair in pairs:
        digest.update(
            f"{pair.query}\t{pair.product_id}\t{pair.negatives}\t{pair.weight}\n".encode()
        )
    for pid in sorted(documents):
        digest.update(f"{pid}\t{documents[pid]}\n".encode())
    return digest.hexdigest()
