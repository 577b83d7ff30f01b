"""HEAD on every GET route: the GET's status and headers, without its body.

FastAPI routes answer only the methods they declare, so HEAD was a 405 on every GET route.
A HEAD request runs as the GET (GET routes are safe by contract), and the body is dropped
here, whatever server serves the app; Content-Length stays the GET's, as HTTP allows.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app(dict(scope, method="GET"), receive, send_without_body)
