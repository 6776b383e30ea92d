"""Test material shared by several test files: a small RSS feed with one measure and one non-measure, and a raw
socket server for faults an HTTP library will not produce (drips, stalls, resets, truncated bodies)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Customs notices</title><link>http://127.0.0.1/</link><language>en</language>
{items}
</channel></rss>
"""
ITEM = """<item><title>{title}</title><link>http://127.0.0.1/notices/{guid}</link>
<guid isPermaLink="false">{guid}</guid><pubDate>Mon, 03 Mar 2025 10:00:00 GMT</pubDate>
<description>{body}</description></item>"""
TARIFF = ITEM.format(
    guid="n-1",
    title="Additional duty of 25% on steel products of Canadian origin",
    body="From April 1, 2025, steel products originating in Canada will be subject to an additional "
    "ad valorem duty of 25 percent.",
)
OUTAGE = ITEM.format(
    guid="n-2",
    title="Planned outage of the declaration system on Saturday",
    body="The declaration system will not be available from 18:00 to 22:00 for scheduled maintenance.",
)

#: script(conn, index, stop): answers the index-th connection (from 0); the request was already read.
Script = Callable[[socket.socket, int, threading.Event], None]


class RawServer:
    """A socket server on 127.0.0.1 that runs script(conn, index, stop) for each connection, each in its own
    thread (a stalled first attempt must not hold back the retry)."""

    def __init__(self, script: Script, path: str = "/feed.xml") -> None:
        self.stop = threading.Event()
        self.connections = 0
        self._script = script
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}{path}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                continue
            index = self.connections
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn, index), daemon=True).start()

    def _handle(self, conn: socket.socket, index: int) -> None:
        with conn:
            conn.settimeout(5)
            try:
                conn.recv(65536)  # the request; its content does not matter here
                self._script(conn, index, self.stop)
            except OSError:
                pass

    def close(self) -> None:
        self.stop.set()
        self._thread.join(timeout=5)
        self._listener.close()
