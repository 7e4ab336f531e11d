"""Guards in front of the playground: a local server that other web sites cannot use.

A page of any site the browser visits can send requests to 127.0.0.1. Two attacks
follow, and one guard each:

- **DNS rebinding**: a site re-points its own name at 127.0.0.1 and reads the answers
  as same-origin. Its requests carry its own name in ``Host``, so every request whose
  ``Host`` is not the bound address, ``localhost`` or ``[::1]`` with the port is refused.
- **Cross-site requests**: a form or ``fetch`` from another site can start trainings
  without reading the answer. Browsers send ``Origin`` with such requests, so a
  state-changing request (not GET/HEAD/OPTIONS) or a WebSocket upgrade whose
  ``Origin`` is not the playground's own is refused.

Bodies are bounded too: one over ``max_body`` bytes is answered 413 before the app
reads it (the body is buffered here, at most ``max_body`` bytes, then replayed).
"""

from __future__ import annotations

import json

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def allowed_hosts(host: str, port: int) -> set[str]:
    """``Host`` values accepted for a server bound to ``host``:``port``."""
    names = {"127.0.0.1", "localhost", "[::1]"}
    names.add(f"[{host}]" if ":" in host and not host.startswith("[") else host)
    return {f"{n}:{port}" for n in names}


class Guard:
    """ASGI middleware: Host check, Origin check, body size limit."""

    def __init__(self, app, *, host: str, port: int, max_body: int):
        self.app = app
        self.hosts = allowed_hosts(host, port)
        self.origins = {f"http://{h}" for h in self.hosts}
        self.max_body = max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if headers.get("host", "").lower() not in self.hosts:
            return await _refuse(scope, send, 403, "this server answers only to its local address")
        changes = scope["type"] == "websocket" or scope["method"] not in SAFE_METHODS
        origin = headers.get("origin")
        if changes and origin is not None and origin.lower() not in self.origins:
            return await _refuse(scope, send, 403, f"requests from {origin} are not allowed")
        if scope["type"] == "websocket" or scope["method"] in SAFE_METHODS:
            return await self.app(scope, receive, send)
        too_big = f"request bodies are limited to {self.max_body} bytes"
        length = headers.get("content-length")
        digits = length is not None and length.isascii() and length.isdigit()
        if length is not None and (not digits or len(length) > 12 or int(length) > self.max_body):
            return await _refuse(scope, send, 413, too_big)
        body, more, size = [], True, 0
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return await _refuse(scope, send, 413, too_big)
            body.append(chunk)
            more = message.get("more_body", False)
        replay = [{"type": "http.request", "body": b"".join(body), "more_body": False}]

        async def replayed():
            return replay.pop() if replay else await receive()

        return await self.app(scope, replayed, send)


async def _refuse(scope, send, status: int, message: str) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    body = json.dumps({"error": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
