"""How long the conversions of a request waited and took, in its ``Server-Timing`` response header.

The converter pool (``pipeline.drafting.convert.ConverterPool``) queues a conversion when every LibreOffice is
busy; how long it waited is what tells a user (and whoever watches the server) that the pool is too
small or a document too slow.  Browsers show the header in their developer tools; it reads, e.g.::

    Server-Timing: konversi-antre;dur=1520.4;desc="menunggu konverter", konversi;dur=612.0;desc="DOCX ke PDF/A"

Pure ASGI (the timings are collected through a context variable that Starlette copies into the
thread of a sync endpoint); a request that converted nothing gets no header.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipeline.drafting.convert import ConversionTiming, collect_timings

__all__ = ["ConversionTimingHeader", "server_timing"]


def server_timing(timings: list[ConversionTiming]) -> str:
    """The header's value for the request's conversions (summed when there were several)."""
    waited = sum(t.waited_ms for t in timings)
    took = sum(t.converted_ms for t in timings)
    return (
        f'konversi-antre;dur={waited:.1f};desc="menunggu konverter", '
        f'konversi;dur={took:.1f};desc="DOCX ke PDF/A ({len(timings)}x)"'
    )


class ConversionTimingHeader:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with collect_timings() as timings:

            async def send_with_timing(message: Message) -> None:
                if message["type"] == "http.response.start" and timings:
                    headers = list(message.get("headers", []))
                    headers.append((b"server-timing", server_timing(timings).encode()))
                    message = {**message, "headers": headers}
                await send(message)

            await self.app(scope, receive, send_with_timing)
