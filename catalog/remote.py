"""Fetching a photo from a URL someone else gave us (an import row, a shopper's `image_url`)
without becoming a proxy into our own network.

- http(s) only; the host is resolved once and EVERY address must be public (no private,
  loopback, link-local, multicast or reserved ranges) unless an operator allow-lists a
  network (`VITRINE_FETCH_ALLOWED_NETWORKS`, e.g. an internal CDN);
- the connection goes to the address we checked (no DNS rebinding between check and use),
  with the real host name for TLS and the Host header;
- redirects are followed by hand, each target checked again, at most a few;
- a total deadline, a byte cap while streaming, and an image Content-Type are required.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from urllib.parse import urljoin, urlsplit

import urllib3
from django.conf import settings

MAX_REDIRECTS = 3


class FetchRejected(ValueError):
    """The URL was refused or the download failed; `reason` is safe to show."""

    def __init__(self, reason: str, *, too_large: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.too_large = too_large


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(n, strict=False) for n in settings.VITRINE_FETCH_ALLOWED_NETWORKS]


def check_address(ip: str) -> None:
    address = ipaddress.ip_address(ip)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if any(address in net for net in _allowed_networks()):
        return
    if not address.is_global or address.is_multicast:
        raise FetchRejected(f"{ip} is not a public address")


def resolve_public(host: str, port: int) -> str:
    """One address of `host`, after checking that all of its addresses are public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise FetchRejected(f"cannot resolve host {host!r}") from None
    addresses = sorted({info[4][0] for info in infos})
    if not addresses:
        raise FetchRejected(f"cannot resolve host {host!r}")
    for ip in addresses:
        check_address(ip)
    return addresses[0]


def _parse(url: str) -> tuple[str, str, int, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchRejected("only http(s) URLs with a host are accepted")
    if parts.username or parts.password:
        raise FetchRejected("URLs with credentials are not accepted")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, parts.hostname, port, path


def fetch_image_bytes(
    url: str, *, max_bytes: int | None = None, timeout: float | None = None
) -> bytes:
    """The body of an image URL, or FetchRejected. Does not decode it (see catalog.images)."""
    max_bytes = max_bytes or settings.VITRINE_MAX_PHOTO_BYTES
    timeout = timeout or settings.VITRINE_FETCH_TIMEOUT_S
    deadline = time.monotonic() + timeout
    for _ in range(MAX_REDIRECTS + 1):
        scheme, host, port, path = _parse(url)
        ip = resolve_public(host, port)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchRejected("the image server is too slow")
        pool_kwargs = {"timeout": urllib3.Timeout(total=remaining), "retries": False, "maxsize": 1}
        if scheme == "https":
            pool = urllib3.HTTPSConnectionPool(
                ip, port, server_hostname=host, assert_hostname=host, **pool_kwargs
            )
        else:
            pool = urllib3.HTTPConnectionPool(ip, port, **pool_kwargs)
        host_header = host if port in (80, 443) else f"{host}:{port}"
        try:
            response = pool.urlopen(
                "GET",
                path,
                headers={"Host": host_header, "Accept": "image/*", "User-Agent": "Vitrine/1"},
                redirect=False,
                preload_content=False,
            )
        except urllib3.exceptions.HTTPError as exc:
            raise FetchRejected(
                f"could not download the image ({exc.__class__.__name__})"
            ) from None
        try:
            if response.status in (301, 302, 303, 307, 308):
                location = response.headers.get("Location")
                if not location:
                    raise FetchRejected("redirect without a Location")
                url = urljoin(url, location)
                continue
            if response.status != 200:
                raise FetchRejected(f"the image server answered {response.status}")
            content_type = (
                (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            )
            if not content_type.startswith("image/"):
                raise FetchRejected(f"not an image (Content-Type {content_type or 'missing'})")
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise FetchRejected("the image is larger than the limit", too_large=True)
            body = bytearray()
            try:
                for chunk in response.stream(64 * 1024):
                    body.extend(chunk)
                    if len(body) > max_bytes:
                        raise FetchRejected("the image is larger than the limit", too_large=True)
                    if time.monotonic() > deadline:
                        raise FetchRejected("the image server is too slow")
            except urllib3.exceptions.HTTPError as exc:
                raise FetchRejected(f"download failed ({exc.__class__.__name__})") from None
            return bytes(body)
        finally:
            response.release_conn()
            pool.close()
    raise FetchRejected(f"more than {MAX_REDIRECTS} redirects")
