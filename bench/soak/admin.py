"""The admin client (a staff token): imports CSV + photos zip batches of new products, creates,
edits and deletes products through the API, and switches the embedding model once (blue/green
with `manage.py reindex`) and back. A write counts as written only once the shop confirmed it
(2xx, or the answer a retry gets when the first try went through); a write that fails is
retried, as an admin would, so the ledger says what the catalog must hold at the end."""

from __future__ import annotations

import csv
import io
import random
import subprocess
import threading
import time
import zipfile
from dataclasses import dataclass, field

import requests
from suite.common import PY

from soak.stack import MANAGE, ROOT, say
from soak.traffic import Catalog, Recorder, as_json, png

WRITE_DEADLINE_S = 180  # an admin retrying a failed save for three minutes
IMPORT_DEADLINE_S = 900
IMPORT_ROWS = 12
ARTICLES = ("shirt", "boots", "towel", "watch")


@dataclass
class Import:
    batch: int
    rows: list[dict]
    photos: dict[str, bytes]
    job_id: int | None = None
    posted_at: float = 0.0
    tries: int = 0


@dataclass
class Switch:
    """What the model switch did: when, how long each reindex took, the indexes."""

    steps: list[dict] = field(default_factory=list)
    error: str = ""


class Admin(threading.Thread):
    def __init__(
        self,
        base: str,
        token: str,
        recorder: Recorder,
        catalog: Catalog,
        stop: threading.Event,
        env: dict,
    ) -> None:
        super().__init__(daemon=True, name="admin")
        self.base = base
        self.recorder = recorder
        self.catalog = catalog
        self.stop = stop
        self.env = env
        self.rng = random.Random(7)
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {token}"
        self.imports: list[Import] = []
        self.batches = 0
        self.created = 0
        self.hold_writes = threading.Event()  # edits and deletes wait while a reindex catches up
        self.import_now = threading.Event()  # a fault asks for a batch now...
        self.next_import_rows = IMPORT_ROWS  # ...of this many rows
        self.switch = Switch()
        self.failed_imports: list[str] = []  # accepted, never finished: a failure
        self.refused_uploads: list[dict] = []  # the upload itself refused (reported)
        self.counts = {"imported": 0, "created": 0, "edited": 0, "deleted": 0}

    # --- the loop ------------------------------------------------------------------------

    def run(self) -> None:
        last_import = 0.0
        while not self.stop.is_set():
            if self.import_now.is_set() or time.monotonic() - last_import > 25:
                self.import_now.clear()
                rows, self.next_import_rows = self.next_import_rows, IMPORT_ROWS
                self.start_import(self.new_batch(rows))
                last_import = time.monotonic()
            self.poll_imports()
            if not self.hold_writes.is_set():
                roll = self.rng.random()
                if roll < 0.25:
                    self.create()
                elif roll < 0.75:
                    self.edit()
                else:
                    self.delete()
            self.stop.wait(self.rng.uniform(1.0, 3.0))

    def finish(self, deadline_s: float = IMPORT_DEADLINE_S) -> None:
        """After the traffic: wait for the imports still running."""
        deadline = time.monotonic() + deadline_s
        while self.imports and time.monotonic() < deadline:
            self.poll_imports()
            time.sleep(2)
        for job in self.imports:
            self.failed_imports.append(f"batch {job.batch} (job {job.job_id}) unfinished")
            with self.catalog.lock:
                self.catalog.uncertain.update(row["sku"] for row in job.rows)

    # --- writes --------------------------------------------------------------------------

    def write(
        self, kind: str, method: str, path: str, ok: set[int], **kwargs
    ) -> requests.Response | None:
        """Retry until the shop answers one of `ok` (or the deadline: None)."""
        deadline = time.monotonic() + WRITE_DEADLINE_S
        first = True
        while time.monotonic() < deadline:
            response = self.recorder.call(
                self.session,
                kind if first else f"{kind}_retry",
                method,
                f"{self.base}{path}",
                **kwargs,
            )
            first = False
            if response is not None and response.status_code in ok:
                return response
            if (
                response is not None
                and 400 <= response.status_code < 500
                and response.status_code not in (404, 409, 429)
            ):
                say(
                    f"admin: {method} {path} answered {response.status_code}: {response.text[:200]}"
                )
                return response
            time.sleep(3)
        return None

    def create(self) -> None:
        self.created += 1
        sku = f"SOAK-N{self.created}"
        state = {
            "name": f"Soak created {self.created} {self.rng.choice(['mug', 'lamp', 'scarf'])}",
            "price": f"{self.rng.randint(100, 9999) / 100:.2f}",
        }
        body = {
            "sku": sku,
            **state,
            "brand": "Soak",
            "category": "Soak/Created",
            "description": "made by the soak",
        }
        response = self.write("admin_create", "POST", "/api/v1/products", {201, 409}, json=body)
        if response is not None and response.status_code == 409:  # an earlier try went through
            response = self.write(
                "admin_edit", "PATCH", f"/api/v1/products/{sku}", {200}, json=state
            )
        self.settle(sku, state, response, ok=(201, 200))
        if response is not None and response.status_code in (200, 201):
            self.counts["created"] += 1

    def edit(self) -> None:
        sku = self.catalog.settled(self.rng)
        if not sku:
            return
        state = {
            "name": f"Edited {sku} {self.rng.randint(1, 10**6)}",
            "price": f"{self.rng.randint(100, 9999) / 100:.2f}",
        }
        response = self.write("admin_edit", "PATCH", f"/api/v1/products/{sku}", {200}, json=state)
        self.settle(sku, state, response, ok=(200,))
        if response is not None and response.status_code == 200:
            self.counts["edited"] += 1

    def delete(self) -> None:
        sku = self.catalog.settled(self.rng)
        if not sku:
            return
        response = self.write("admin_delete", "DELETE", f"/api/v1/products/{sku}", {204, 404})
        self.settle(sku, None, response, ok=(204, 404))
        if response is not None and response.status_code == 204:
            self.counts["deleted"] += 1

    def settle(self, sku: str, state: dict | None, response, *, ok: tuple[int, ...]) -> None:
        if response is not None and response.status_code in ok:
            self.catalog.record(sku, state)
        else:
            with self.catalog.lock:
                self.catalog.uncertain.add(sku)

    # --- imports -------------------------------------------------------------------------

    def new_batch(self, size: int = IMPORT_ROWS) -> Import:
        self.batches += 1
        rows, photos = [], {}
        for i in range(size):
            sku = f"SOAK-I{self.batches}-{i}"
            row = {
                "sku": sku,
                "name": f"Soak import {self.batches} {i} {self.rng.choice(ARTICLES)}",
                "description": "imported by the soak",
                "brand": self.rng.choice(["Acme", "Nordic", "Soak"]),
                "category": "Soak/Imported",
                "price": f"{self.rng.randint(100, 9999) / 100:.2f}",
                "images": "",
            }
            if i % 3:  # two rows in three come with a photo
                name = f"{sku}.png"
                photos[name] = png(self.batches * 100 + i)
                row["images"] = name
            rows.append(row)
        return Import(self.batches, rows, photos)

    def start_import(self, job: Import) -> None:
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=list(job.rows[0]))
        writer.writeheader()
        writer.writerows(job.rows)
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as z:
            for name, data in job.photos.items():
                z.writestr(name, data)
        files = {
            "file": (f"soak-{job.batch}.csv", text.getvalue().encode(), "text/csv"),
            "images": (f"soak-{job.batch}.zip", archive.getvalue(), "application/zip"),
        }
        job.tries += 1
        response = self.write("admin_import", "POST", "/api/v1/imports", {202}, files=files)
        if response is None or response.status_code != 202:
            code = getattr(response, "status_code", "no answer")
            self.refused_uploads.append(
                {"batch": job.batch, "status": code, "at": round(time.time(), 1)}
            )
            return
        job.job_id = as_json(response).get("id")
        job.posted_at = time.monotonic()
        with self.catalog.lock:
            self.catalog.pending.update(row["sku"] for row in job.rows)
        self.imports.append(job)

    def poll_imports(self) -> None:
        for job in list(self.imports):
            response = self.recorder.call(
                self.session,
                "admin_import_status",
                "GET",
                f"{self.base}/api/v1/imports/{job.job_id}",
            )
            body = as_json(response) if response is not None and response.status_code == 200 else {}
            status = body.get("status")
            if status == "done":
                self.imports.remove(job)
                refused = {e.get("sku") for e in body.get("errors") or []}
                for row in job.rows:
                    if row["sku"] in refused:
                        with self.catalog.lock:
                            self.catalog.pending.discard(row["sku"])
                    else:
                        self.catalog.record(
                            row["sku"], {"name": row["name"], "price": row["price"]}
                        )
                        self.counts["imported"] += 1
            elif status == "failed" and job.tries < 3:
                self.imports.remove(job)
                say(
                    f"admin: import {job.job_id} failed ({body.get('message')}); uploading it again"
                )
                self.start_import(job)
            elif status == "failed" or time.monotonic() - job.posted_at > IMPORT_DEADLINE_S:
                self.imports.remove(job)
                self.failed_imports.append(
                    f"batch {job.batch} (job {job.job_id}): {status}, {body.get('message')}"
                )
                with self.catalog.lock:
                    self.catalog.uncertain.update(row["sku"] for row in job.rows)

    # --- the model switch ----------------------------------------------------------------

    def reindex(self, *args: str) -> str:
        """`manage.py reindex ARGS`, run again (as an operator would) when a fault cut it."""
        for attempt in range(1, 4):
            t0 = time.monotonic()
            done = subprocess.run(
                [PY, MANAGE, "reindex", *args, "--timeout", "900"],
                cwd=ROOT,
                env=self.env,
                capture_output=True,
                text=True,
            )
            self.switch.steps.append(
                {
                    "args": " ".join(args),
                    "attempt": attempt,
                    "rc": done.returncode,
                    "s": round(time.monotonic() - t0, 1),
                    "at": round(time.time(), 1),
                }
            )
            if done.returncode == 0:
                return done.stdout
            say(f"admin: reindex {' '.join(args)} failed ({done.stderr.strip()[-300:]}); again")
            time.sleep(5)
        raise RuntimeError(f"reindex {' '.join(args)} failed three times")

    def switch_model(self, model: str) -> int:
        """Blue/green to `model`: build beside the active index, then flip. Returns the index
        to switch back to."""
        from search.models import SearchIndex

        previous = SearchIndex.objects.get(active=True).pk
        self.hold_writes.set()
        try:
            self.reindex("--embedder", model, "--no-activate")
            new = SearchIndex.objects.get(embedder=model).pk
            self.reindex("--activate", str(new))
        finally:
            self.hold_writes.clear()
        say(f"admin: search now uses {model} (index {new}); back to index {previous} later")
        return previous

    def switch_back(self, index_id: int) -> None:
        self.hold_writes.set()
        try:
            self.reindex("--activate", str(index_id))
        finally:
            self.hold_writes.clear()
        say(f"admin: search is back on index {index_id}")
