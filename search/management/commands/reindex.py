"""Bring the configured model's index up to date through the workers, and wait for it."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from search import indexing
from search.receivers import enqueue_embedding


class Command(BaseCommand):
    help = (
        "Enqueue every product whose stored embedding is missing or stale, then wait (with a "
        "progress bar) until each one is embedded or flagged. Needs a running worker."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--no-wait", action="store_true", help="enqueue and return at once")
        parser.add_argument(
            "--timeout", type=float, default=1800, help="seconds to wait before giving up"
        )

    def handle(self, *args, no_wait: bool, timeout: float, **options) -> None:
        indexing.refresh_all_lexical()  # cheap SQL, no model: done here, not by the workers
        expected = indexing.expected_hashes()
        stale = indexing.stale_products(indexing.configured_index(), expected)
        model = settings.VITRINE_EMBEDDER
        self.stdout.write(f"{len(expected)} active products; {len(stale)} to embed with {model}")
        if not stale:
            return
        enqueue_embedding(stale)
        if no_wait:
            self.stdout.write("Enqueued; not waiting (--no-wait).")
            return

        deadline = time.monotonic() + timeout
        remaining = {pid: expected[pid] for pid in stale}
        with tqdm(total=len(stale), unit="product", desc="embedding", disable=None) as bar:
            while remaining:
                if time.monotonic() > deadline:
                    raise CommandError(
                        f"{len(remaining)} products still not embedded after {timeout:.0f} s; "
                        "is a worker running on the 'embed' queue? (see /healthz)"
                    )
                time.sleep(0.5)
                stored = indexing.stored_hashes(indexing.configured_index(), remaining.keys())
                done = [pid for pid, h in remaining.items() if stored.get(pid) == h]
                for pid in done:
                    del remaining[pid]
                bar.update(len(done))
        status = indexing.index_status(indexing.configured_index())
        self.stdout.write(
            self.style.SUCCESS(
                f"Index up to date: {status['indexed']} embedded, {status['failed']} flagged."
            )
        )
