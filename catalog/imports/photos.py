"""Photos of an import: where a row's image entries are read from (the uploaded zip, a local
folder, or http(s) URLs through the guarded fetcher in `catalog.remote`), and the thread
pool that fetches and checks them while the batch is prepared.

A photo that cannot be used is a `PhotoUnavailable` with its reason: the runner turns it
into a warning and the product lands without it. A broken photo never stops a batch.
Checking and describing the bytes (checksum, size, type) is `catalog.services.read_photo`,
the same for every photo the shop stores.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path, PurePosixPath
from typing import IO
from urllib.parse import urlsplit

from django.conf import settings

from catalog import services
from catalog.images import PhotoRejected
from catalog.imports.formats import ImportFileRejected
from catalog.imports.rows import is_url
from catalog.models import ImportJob, Product
from catalog.remote import FetchRejected, fetch_image_bytes

logger = logging.getLogger(__name__)


class PhotoUnavailable(Exception):
    """This photo of a row cannot be used; `reason` reads after "photo 'x.jpg'"."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _unsafe_member(name: str) -> bool:
    path = PurePosixPath(name.replace("\\", "/"))
    drive = re.match(r"[A-Za-z]:", name) is not None  # C:\\... written on Windows
    return path.is_absolute() or ".." in path.parts or drive


def open_photo_zip(fileobj: IO[bytes]) -> zipfile.ZipFile:
    """The photos zip, checked as a whole: a real zip, no unsafe paths (zip slip), not too
    many entries, not more uncompressed bytes than allowed (zip bomb)."""
    try:
        archive = zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ImportFileRejected("The photos file is not a zip archive.") from None
    infos = archive.infolist()
    if len(infos) > settings.VITRINE_IMPORT_MAX_ZIP_ENTRIES:
        raise ImportFileRejected(
            f"The photos zip has {len(infos)} entries; the limit is "
            f"{settings.VITRINE_IMPORT_MAX_ZIP_ENTRIES}."
        )
    for info in infos:
        if _unsafe_member(info.filename):
            raise ImportFileRejected(
                f"The photos zip contains an unsafe path {info.filename!r} (absolute or with "
                "'..'); it was refused as a whole."
            )
    unpacked = sum(info.file_size for info in infos)
    limit = settings.VITRINE_IMPORT_MAX_UNZIPPED_BYTES
    if unpacked > limit:
        raise ImportFileRejected(
            f"The photos zip would unpack to {unpacked / 2**30:.1f} GiB; the limit is "
            f"{limit / 2**30:.1f} GiB (a zip bomb?)."
        )
    return archive


class PhotoSource:
    """Where non-URL image entries are read from: the uploaded zip and/or a local folder."""

    def __init__(self, *, archive: zipfile.ZipFile | None = None, folder: Path | None = None):
        self.archive = archive
        self.folder = folder.resolve() if folder else None
        self.members: dict[str, zipfile.ZipInfo] = {}
        self.by_basename: dict[str, list[zipfile.ZipInfo]] = {}
        if archive is not None:
            for info in archive.infolist():
                name = info.filename.replace("\\", "/")
                if info.is_dir() or name.startswith("__MACOSX/"):
                    continue
                self.members[name.removeprefix("./")] = info
                self.by_basename.setdefault(name.rsplit("/", 1)[-1], []).append(info)

    def read(self, entry: str) -> bytes:
        limit = settings.VITRINE_MAX_PHOTO_BYTES
        if self.archive is not None:
            key = entry.replace("\\", "/").removeprefix("./")
            info = self.members.get(key)
            if info is None and len(self.by_basename.get(key, [])) == 1:
                info = self.by_basename[key][0]
            if info is not None:
                if info.file_size > limit:
                    raise PhotoUnavailable(
                        f"is {info.file_size // 1024} KiB; the limit is {limit // 1024} KiB"
                    )
                try:
                    return self.archive.read(info)
                except (zipfile.BadZipFile, zlib.error, RuntimeError, OSError, EOFError) as exc:
                    raise PhotoUnavailable(f"cannot be read from the zip ({exc})") from None
                except NotImplementedError:
                    raise PhotoUnavailable("uses a compression method we cannot read") from None
        if self.folder is not None:
            if _unsafe_member(entry):  # lexical: resolving each path costs a stat per part
                raise PhotoUnavailable("is outside the images folder")
            path = self.folder / entry
            if not path.is_file():
                raise PhotoUnavailable(f"is not in the images folder {self.folder}")
            if path.stat().st_size > limit:
                raise PhotoUnavailable(
                    f"is {path.stat().st_size // 1024} KiB; the limit is {limit // 1024} KiB"
                )
            return path.read_bytes()
        if self.archive is not None:
            raise PhotoUnavailable("is not in the uploaded zip")
        raise PhotoUnavailable("is not a URL, and no zip of photos was uploaded")


def check_photo(content: bytes, *, source_url: str = "") -> services.PhotoInput:
    """The bytes as a photo to store (`services.read_photo`), or PhotoUnavailable."""
    try:
        return services.read_photo(content, source_url=source_url)
    except PhotoRejected as exc:
        raise PhotoUnavailable(exc.reason) from None


def fetch_photo(url: str) -> services.PhotoInput:
    """Download (SSRF-guarded, size- and time-capped) and check one photo."""
    try:
        content = fetch_image_bytes(url)
    except FetchRejected as exc:
        raise PhotoUnavailable(exc.reason) from None
    return check_photo(content, source_url=url)


class _UnreachableHosts:
    """Image hosts that could not be resolved or connected to several times in a row during
    this run: the rest of their URLs are skipped with the same reason instead of each waiting
    for DNS or a connect timeout (thousands of rows on one CDN, or no network at all)."""

    LIMIT = 5
    SIGNS = ("cannot resolve host", "could not download the image")

    def __init__(self):
        self.failures: dict[str, int] = {}
        self.reasons: dict[str, str] = {}
        self.lock = threading.Lock()

    def fetch(self, url: str) -> services.PhotoInput:
        host = (urlsplit(url).hostname or "").lower()
        with self.lock:
            if self.failures.get(host, 0) >= self.LIMIT:
                raise PhotoUnavailable(f"{self.reasons[host]} (host unreachable; not retried)")
        try:
            photo = fetch_photo(url)
        except PhotoUnavailable as exc:
            if exc.reason.startswith(self.SIGNS):
                with self.lock:
                    self.failures[host] = self.failures.get(host, 0) + 1
                    self.reasons[host] = exc.reason
            raise
        with self.lock:
            self.failures.pop(host, None)
        return photo


def describe(reason: str) -> str:
    """Photo reasons read as a predicate after "photo 'x.jpg'"."""
    first = reason.split(" ", 1)[0]
    if first in {"is", "cannot", "uses"}:
        return reason
    return f"was rejected: {reason}"


@contextmanager
def open_photo_source(job: ImportJob, stack: ExitStack) -> Iterator[PhotoSource]:
    """The job's photos zip (uploaded, or a local zip) or folder, checked as a whole."""
    archive = None
    folder = None
    if job.images:
        size = job.images.size
        if size > settings.VITRINE_IMPORT_MAX_ZIP_BYTES:
            raise ImportFileRejected(
                f"The photos zip is {size / 2**20:.0f} MiB; the limit is "
                f"{settings.VITRINE_IMPORT_MAX_ZIP_BYTES / 2**20:.0f} MiB."
            )
        archive = stack.enter_context(open_photo_zip(stack.enter_context(job.images.open("rb"))))
    elif job.images_path:
        path = Path(job.images_path)
        if path.is_dir():
            folder = path
        elif path.is_file():
            archive = stack.enter_context(open_photo_zip(stack.enter_context(open(path, "rb"))))
        else:
            raise ImportFileRejected(f"The images folder {job.images_path} does not exist.")
    yield PhotoSource(archive=archive, folder=folder)


# A photo being loaded: done already (known, or refused at once) or in the pool.
LoadingPhoto = Future | services.PhotoInput | PhotoUnavailable


class PhotoLoader:
    """Loads the photos of a batch's rows: a file is read here, then checked in the pool; a
    URL is fetched and checked in the pool; a photo the product has already (same URL, or
    same bytes) is neither downloaded nor decoded again. `load` returns at once; `result`
    waits for one photo."""

    def __init__(self, source: PhotoSource, pool: ThreadPoolExecutor):
        self.source = source
        self.pool = pool
        self.hosts = _UnreachableHosts()

    def load(self, entry: str, *, known: Mapping[str, str]) -> LoadingPhoto:
        """Start loading one image entry; `known` maps the product's photos' source URLs and
        checksums to their checksums."""
        if is_url(entry):
            if entry in known:
                return services.PhotoInput(checksum=known[entry])
            return self.pool.submit(self.hosts.fetch, entry)
        if "://" in entry or entry.lower().startswith("data:"):
            return PhotoUnavailable("only http(s) URLs can be fetched")
        try:
            content = self.source.read(entry)
        except PhotoUnavailable as exc:
            return exc
        checksum = hashlib.sha256(content).hexdigest()
        if checksum in known:
            return services.PhotoInput(checksum=checksum)
        return self.pool.submit(check_photo, content)

    @staticmethod
    def result(pending: LoadingPhoto) -> services.PhotoInput:
        """The loaded photo, or PhotoUnavailable."""
        if isinstance(pending, Future):
            pending = pending.result()
        if isinstance(pending, Exception):
            raise pending
        return pending


@contextmanager
def photo_loader(job: ImportJob) -> Iterator[PhotoLoader]:
    """The job's photo source, and a pool of VITRINE_IMPORT_FETCH_CONCURRENCY threads (how
    many photos are downloaded and checked at once), for the length of a run."""
    with ExitStack() as stack:
        source = stack.enter_context(open_photo_source(job, stack))
        threads = max(1, settings.VITRINE_IMPORT_FETCH_CONCURRENCY)
        pool = stack.enter_context(ThreadPoolExecutor(threads))
        yield PhotoLoader(source, pool)


# --- Photos for one product (API) ----------------------------------------------------------


def fetch_photos_for_product(*, product_id: int, urls: list[str]) -> list[str]:
    """Download the photos of a product given by URL (API writes) and make them its photos.
    Returns the reasons of the photos that could not be used (they are logged, too)."""
    product = Product.objects.filter(pk=product_id).first()
    if product is None:
        return []
    have: dict[str, str] = {}  # a URL the product's photo came from, or is served at
    for image in product.images.all():
        have[image.file.url] = image.checksum
        if image.source_url:
            have[image.source_url] = image.checksum
    photos: list[services.PhotoInput] = []
    problems: list[str] = []
    limit = settings.VITRINE_IMPORT_MAX_PHOTOS_PER_PRODUCT
    for url in urls[:limit]:
        known = have.get(url) or have.get(urlsplit(url).path)
        try:
            photos.append(services.PhotoInput(checksum=known) if known else fetch_photo(url))
        except PhotoUnavailable as exc:
            problems.append(f"photo {url!r} {describe(exc.reason)}")
    item = services.ProductInput(
        sku=product.sku,
        name=product.name,
        description=product.description,
        brand=product.brand,
        price=product.price,
        currency=product.currency,
        attributes=product.attributes,
        category=_category_names(product),
        active=product.active,
        photos=photos,
        replace_photos=not problems and len(urls) <= limit,
    )
    services.save_products(items=[item])
    for problem in problems:
        logger.warning("product %s: %s", product.sku, problem)
    return problems


def _category_names(product: Product) -> list[str] | None:
    if product.category_id is None:
        return None
    return product.category.full_name.split(" / ")
