"""Bring the search index up to date through the workers, switch models without downtime,
roll back, and prune. Every form waits with a progress bar unless told not to."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from search.indexing import embedding, indexes, lexical
from search.indexing.queue import enqueue_embedding
from search.models import SearchIndex
from search.tasks import prepare_index


class Command(BaseCommand):
    help = (
        "Embed every product whose vector is missing or stale and wait until each one is "
        "embedded or flagged. --embedder ID builds a NEW index with another model while the "
        "active one keeps serving, then activates it in one atomic flip; --activate ID rolls "
        "back to a previous index. Needs a running worker on the 'embed' queue."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--embedder", help="build (and activate) an index for this model")
        parser.add_argument("--revision", help="hub revision of --embedder", default=None)
        parser.add_argument(
            "--no-activate", action="store_true", help="with --embedder: build, do not switch"
        )
        parser.add_argument("--activate", type=int, metavar="INDEX_ID", help="switch to it")
        parser.add_argument("--list", action="store_true", help="list the search indexes")
        parser.add_argument("--prune", type=int, metavar="INDEX_ID", help="delete a retired one")
        parser.add_argument("--no-wait", action="store_true", help="enqueue and return at once")
        parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait")

    def handle(self, *args, **opts) -> None:
        self.timeout = opts["timeout"]
        if opts["list"]:
            return self._list()
        if opts["prune"]:
            index = self._index(opts["prune"])
            try:
                indexes.prune_index(index)
            except ValueError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(self.style.SUCCESS(f"Pruned {index}."))
            return
        lexical.refresh_all_lexical()  # cheap SQL, no model: done here, not by the workers
        if opts["activate"]:
            return self._switch(self._index(opts["activate"]), activate=True)
        if opts["embedder"]:
            return self._build(opts["embedder"], opts["revision"], activate=not opts["no_activate"])
        self._update_active(no_wait=opts["no_wait"])

    # --- the three flows ---------------------------------------------------------------------

    def _update_active(self, *, no_wait: bool) -> None:
        index = indexes.active_index()
        expected = embedding.expected_hashes()
        stale = embedding.stale_products(index, expected)
        model = index.embedder if index else settings.VITRINE_EMBEDDER
        self.stdout.write(f"{len(expected)} active products; {len(stale)} to embed with {model}")
        if not stale:
            return
        enqueue_embedding(stale)  # to every maintained index (the first one is created)
        if no_wait:
            self.stdout.write("Enqueued; not waiting (--no-wait).")
            return
        self._wait(lambda: indexes.active_index(), {pid: expected[pid] for pid in stale})
        self._report(indexes.active_index())

    def _build(self, model_id: str, revision: str | None, *, activate: bool) -> None:
        self.stdout.write(f"Preparing an index for {model_id} on a worker (it loads the model)…")
        prepare_index.delay(model_id, revision)
        index = self._poll(lambda: indexes.index_for_model(model_id, revision), "the new index")
        if index.active:
            self.stdout.write(f"{index} is already the active index; bringing it up to date.")
            return self._update_active(no_wait=False)
        self._switch(index, activate=activate)

    def _switch(self, index: SearchIndex, *, activate: bool) -> None:
        """Catch `index` up with the catalog while the active one serves, then flip."""
        if not index.active and index.state == SearchIndex.State.RETIRED:
            index.state = SearchIndex.State.BUILDING  # product edits reach it from now on
            index.save(update_fields=["state"])
        expected = embedding.expected_hashes()
        stale = embedding.stale_products(index, expected)
        self.stdout.write(f"{index}: {len(stale)} of {len(expected)} products to embed")
        if stale:
            enqueue_embedding(stale, index_id=index.pk)
            self._wait(
                lambda: SearchIndex.objects.get(pk=index.pk), {p: expected[p] for p in stale}
            )
        if not activate:
            self.stdout.write(self.style.SUCCESS(f"Built {index}; not activated (--no-activate)."))
            return
        previous = indexes.activate_index(index)
        self._report(index)
        if previous:
            rollback = f"reindex --activate {previous.pk}"
            self.stdout.write(f"Search now uses {index.embedder}. Roll back with: {rollback}")

    # --- helpers -----------------------------------------------------------------------------

    def _index(self, pk: int) -> SearchIndex:
        try:
            return SearchIndex.objects.get(pk=pk)
        except SearchIndex.DoesNotExist:
            raise CommandError(f"no search index {pk}; see reindex --list") from None

    def _poll(self, get, what: str):
        deadline = time.monotonic() + min(self.timeout, 900)
        while (found := get()) is None:
            if time.monotonic() > deadline:
                raise CommandError(f"timed out waiting for {what}; is an 'embed' worker running?")
            time.sleep(0.5)
        return found

    def _wait(self, get_index, remaining: dict[int, str]) -> None:
        """Until every product in `remaining` has a vector (or a flag) made from the document
        it has now, in the index `get_index()` returns."""
        deadline = time.monotonic() + self.timeout
        with tqdm(total=len(remaining), unit="product", desc="embedding", disable=None) as bar:
            while remaining:
                if time.monotonic() > deadline:
                    raise CommandError(
                        f"{len(remaining)} products still not embedded after {self.timeout:.0f} s;"
                        " is a worker running on the 'embed' queue? (see /healthz)"
                    )
                time.sleep(0.5)
                stored = embedding.stored_hashes(get_index(), remaining.keys())
                done = [pid for pid, h in remaining.items() if stored.get(pid) == h]
                for pid in done:
                    del remaining[pid]
                bar.update(len(done))

    def _report(self, index: SearchIndex | None) -> None:
        status = indexes.index_status(index)
        self.stdout.write(
            self.style.SUCCESS(
                f"Index up to date: {status['indexed']} embedded, {status['failed']} flagged."
            )
        )

    def _list(self) -> None:
        for index in SearchIndex.objects.order_by("pk"):
            status = indexes.index_status(index)
            flag = "*" if index.active else " "
            self.stdout.write(
                f"{flag} {index.pk:>4}  {index.state:<9} {index.embedder}@{index.revision or '-'}"
                f"  {index.dims}d  {'+'.join(index.modalities)}  {status['indexed']} vectors"
            )
