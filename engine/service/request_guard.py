"""The service's front door, as plain ASGI: the bearer token, and a body cap that stops reading.

A Content-Length over the cap is refused before reading; a chunked body is read only until it
passes the cap, then refused (413) and the connection closed, so a client streaming 300 MB
costs the engine at most the cap in memory. Validation errors become one line naming the field
and the limit, never an echo of the input (which may hold NaN and break JSON, or be megabytes).
"""

from __future__ import annotations

import hmac
import math

from starlette.responses import JSONResponse

MAX_DETAIL_CHARS = 300


class RequestGuard:
    """ASGI middleware: 401 without the token, 413 past `max_body` bytes (streamed or declared)."""

    def __init__(self, app, *, token: str, max_body: int):
        self.app = app
        self.expected = f"Bearer {token}".encode()
        self.max_body = max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        if not hmac.compare_digest(headers.get(b"authorization", b""), self.expected):
            return await _refuse(401, "missing or wrong bearer token", scope, receive, send)
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            return await _refuse(413, f"request body larger than {self.max_body} bytes", scope, receive, send)
        parts: list[bytes] = []  # kept as received: no growing buffer reallocated (and doubled)
        size = 0
        more = scope["method"] not in ("GET", "HEAD")
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            parts.append(message.get("body", b""))
            size += len(parts[-1])
            more = message.get("more_body", False)
            if size > self.max_body:
                parts.clear()
                return await _refuse(
                    413, f"request body larger than {self.max_body} bytes", scope, receive, send
                )
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(parts), "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)


async def _refuse(status: int, detail: str, scope, receive, send) -> None:
    headers = {"connection": "close"} if status == 413 else None
    await JSONResponse({"detail": detail}, status_code=status, headers=headers)(scope, receive, send)


def one_line_validation_error(errors: list[dict]) -> str:
    """`scenes.3.duration_s: Input should be less than or equal to 3600 (got 4000)`, and a count."""
    if not errors:
        return "the request does not match the schema"
    first = errors[0]
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
    text = f"{where}: {first.get('msg', 'invalid')}"
    value = first.get("input")
    if isinstance(value, bool) or value is None:
        pass
    elif isinstance(value, int | float) and not isinstance(value, bool):
        text += f" (got {value!r})" if math.isfinite(value) else f" (got {value})"
    elif isinstance(value, str) and len(value) <= 40:
        text += f" (got {value.encode('utf-8', 'backslashreplace').decode()!r})"
    if len(errors) > 1:
        text += f"; and {len(errors) - 1} more problem(s)"
    return " ".join(text.split())[:MAX_DETAIL_CHARS]
