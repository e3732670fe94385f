"""What `coopwatch dashboard` serves: the Streamlit app (app.py) with CoopWatch's cookie policy.

Streamlit marks its cookies Secure only when it terminates TLS itself (server.sslCertFile),
which its documentation discourages in production. Behind an HTTPS reverse proxy it does not
know the browser uses HTTPS, so when COOPWATCH_PUBLIC_URL starts with https:// this ASGI
middleware adds Secure to every cookie the app sets. `streamlit run` finds `app` below.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Awaitable, Callable

import streamlit as st
from starlette.middleware import Middleware

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.core.config import get_settings  # noqa: E402

APP_SCRIPT = Path(__file__).resolve().parent / "app.py"

Scope = dict[str, Any]
Message = dict[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
                   Awaitable[None]]


class SecureCookies:
    """Adds the Secure attribute to every Set-Cookie header of HTTP responses."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Message]],
                       send: Callable[[Message], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_secure(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [
                    (name, secure_cookie(value) if name.lower() == b"set-cookie" else value)
                    for name, value in message.get("headers", [])
                ]}
            await send(message)

        await self.app(scope, receive, send_secure)


def secure_cookie(header: bytes) -> bytes:
    """A Set-Cookie value with the Secure attribute (unchanged when it has one)."""
    attributes = [part.strip().lower() for part in header.split(b";")[1:]]
    return header if b"secure" in attributes else header + b"; Secure"


middleware = [Middleware(SecureCookies)] if get_settings().served_over_https else []
app = st.App(str(APP_SCRIPT), middleware=middleware)
