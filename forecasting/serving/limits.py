"""The request body cap: an ASGI middleware that answers 413 before the app reads a body
larger than the cap, whether it declares its size (Content-Length) or streams it (chunked).
"""

from __future__ import annotations

import json

DEFAULT_MAX_BODY_BYTES = 1_000_000


class BodyLimit:
    """Refuse request bodies over `max_bytes` with 413 and a JSON message.

    The declared Content-Length is checked first; the body is then read in full (at most
    `max_bytes` of it) and handed to the app, so a client that streams more than it declared,
    or declares nothing, is cut off at the cap too.
    """

    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                await self._refuse(send, 400, "Content-Length is not a number.")
                return
            if size > self.max_bytes:
                await self._too_large(send)
                return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                await self._too_large(send)
                return
            if not message.get("more_body", False):
                break
        body, sent = b"".join(chunks), False

        async def replay():
            nonlocal sent
            if sent:
                return await receive()  # a disconnect, when it comes
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _too_large(self, send) -> None:
        await self._refuse(
            send,
            413,
            f"The request body is larger than the server's cap of {self.max_bytes:,} bytes. "
            "Send a shorter history, or start the server with a larger --max-body-mb.",
        )

    @staticmethod
    async def _refuse(send, status: int, message: str) -> None:
        body = json.dumps({"detail": message, "field": "body"}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
