"""A local image host for tests of URL fetching (imports, `image_url` searches)."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler


class ImageHostHandler(BaseHTTPRequestHandler):
    """Answers each path from `routes` (status, headers, body); remembers what was asked."""

    routes: dict[str, tuple[int, dict, bytes]] = {}
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.hits.append(self.path)
        status, headers, body = self.routes.get(self.path, (404, {}, b""))
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass
