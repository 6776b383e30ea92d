"""Fetcher against real servers on 127.0.0.1: pytest-httpserver, plus raw sockets for drips and resets."""

from __future__ import annotations

import email.utils
import gzip
import socket
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator

import pytest
from support import RawServer, Script
from werkzeug import Request, Response

from policywatch.sources import Fetcher, FetchLimits, Validators
from policywatch.sources.fetch import _Inflater, default_user_agent

FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title></channel></rss>'
ETAG = '"v1-abc"'
LAST_MODIFIED = "Tue, 05 Mar 2024 10:00:00 GMT"


@pytest.fixture
def waits() -> list[float]:
    """The waits a Fetcher asked for, instead of sleeping them."""
    return []


@pytest.fixture
def fetcher_for(waits) -> Iterator[Callable[..., Fetcher]]:
    made: list[Fetcher] = []

    def make(**limits: float) -> Fetcher:
        fetcher = Fetcher(FetchLimits(**limits), sleep=waits.append)
        made.append(fetcher)
        return fetcher

    yield make
    for fetcher in made:
        fetcher.close()


@pytest.fixture
def raw_server() -> Iterator[Callable[..., RawServer]]:
    servers: list[RawServer] = []

    def start(script: Script) -> RawServer:
        server = RawServer(script, path="/feed")
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def headers_for(length: int) -> bytes:
    return (
        f"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
    ).encode()


# --- success and conditional GET --------------------------------------------------------------------------


def test_ok_with_validators(httpserver, fetcher_for):
    httpserver.expect_request("/feed").respond_with_data(
        FEED, content_type="application/rss+xml; charset=utf-8", headers={"ETag": ETAG, "Last-Modified": LAST_MODIFIED}
    )
    result = fetcher_for().fetch(httpserver.url_for("/feed"))
    assert result.status == "ok"
    assert result.body == FEED
    assert result.http_status == 200
    assert result.content_type == "application/rss+xml; charset=utf-8"
    assert (result.etag, result.last_modified) == (ETAG, LAST_MODIFIED)
    assert result.error is None
    assert result.attempts == 1
    assert result.url == result.final_url == httpserver.url_for("/feed")


def test_conditional_get_answered_304(httpserver, fetcher_for):
    httpserver.expect_request(
        "/feed", headers={"If-None-Match": ETAG, "If-Modified-Since": LAST_MODIFIED}
    ).respond_with_data(b"", status=304)
    httpserver.expect_request("/feed").respond_with_data(FEED)  # reached only without the validators
    result = fetcher_for().fetch(httpserver.url_for("/feed"), Validators(etag=ETAG, last_modified=LAST_MODIFIED))
    assert result.status == "not_modified"
    assert result.http_status == 304
    assert result.body is None
    assert (result.etag, result.last_modified) == (ETAG, LAST_MODIFIED)  # kept


def test_304_with_new_validators_returns_them(httpserver, fetcher_for):
    httpserver.expect_request("/feed", headers={"If-None-Match": ETAG}).respond_with_data(
        b"", status=304, headers={"ETag": '"v2"'}
    )
    result = fetcher_for().fetch(httpserver.url_for("/feed"), Validators(etag=ETAG, last_modified=LAST_MODIFIED))
    assert result.status == "not_modified"
    assert (result.etag, result.last_modified) == ('"v2"', LAST_MODIFIED)


def test_user_agent_and_accept_headers(httpserver, waits):
    seen: dict[str, str] = {}

    def record(request: Request) -> Response:
        seen.update(request.headers)
        return Response(FEED)

    httpserver.expect_request("/feed").respond_with_handler(record)
    with Fetcher(sleep=waits.append) as fetcher:
        assert fetcher.fetch(httpserver.url_for("/feed")).status == "ok"
    assert seen["User-Agent"] == default_user_agent()
    assert seen["User-Agent"].startswith("policywatch/")
    assert seen["User-Agent"].endswith(" (+https://github.com/policywatch/policywatch)")
    assert seen["Accept"].startswith("application/rss+xml")
    assert "If-None-Match" not in seen

    with Fetcher(user_agent="agency-bot/2", sleep=waits.append) as fetcher:
        fetcher.fetch(httpserver.url_for("/feed"))
    assert seen["User-Agent"] == "agency-bot/2"


def test_gzip_and_deflate_bodies_are_decoded(httpserver, fetcher_for):
    httpserver.expect_request("/gz").respond_with_data(gzip.compress(FEED), headers={"Content-Encoding": "gzip"})
    httpserver.expect_request("/zlib").respond_with_data(zlib.compress(FEED), headers={"Content-Encoding": "deflate"})
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    httpserver.expect_request("/raw").respond_with_data(
        raw.compress(FEED) + raw.flush(), headers={"Content-Encoding": "deflate"}
    )
    fetcher = fetcher_for()
    for path in ("/gz", "/zlib", "/raw"):
        result = fetcher.fetch(httpserver.url_for(path))
        assert (result.status, result.body) == ("ok", FEED), path


def test_multi_member_gzip_is_decoded_whole(httpserver, fetcher_for):
    body = gzip.compress(FEED[:30]) + gzip.compress(FEED[30:])
    httpserver.expect_request("/feed").respond_with_data(body, headers={"Content-Encoding": "gzip"})
    result = fetcher_for().fetch(httpserver.url_for("/feed"))
    assert (result.status, result.body) == ("ok", FEED)


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_inflater_survives_any_chunk_boundary(encoding):
    # The network decides where chunks end; feed the decoder one byte at a time to hit every boundary.
    if encoding == "gzip":
        stream = gzip.compress(FEED[:30]) + gzip.compress(FEED[30:]) + b"\0\0"  # two members and padding
    else:
        stream = zlib.compress(FEED)
    inflater = _Inflater(encoding)
    out = b"".join(inflater.feed(stream[i : i + 1], 10_000) for i in range(len(stream)))
    assert out == FEED


# --- errors that are not retried ----------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "phrase"), [(404, "Not Found"), (410, "Gone"), (403, "Forbidden")])
def test_client_errors_are_not_retried(httpserver, fetcher_for, waits, code, phrase):
    httpserver.expect_request("/feed").respond_with_data(b"nope", status=code)
    result = fetcher_for().fetch(httpserver.url_for("/feed"), Validators(etag=ETAG))
    assert result.status == "failed"
    assert result.error == f"HTTP {code} {phrase}"
    assert result.http_status == code
    assert result.attempts == 1
    assert result.body is None
    assert result.etag == ETAG  # a failure keeps the stored validators
    assert waits == []
    assert len(httpserver.log) == 1


# --- retries --------------------------------------------------------------------------------------------------


def test_500_is_retried_with_doubling_backoff(httpserver, fetcher_for, waits):
    httpserver.expect_request("/feed").respond_with_data(b"oops", status=500)
    result = fetcher_for(retries=3, backoff=0.5).fetch(httpserver.url_for("/feed"))
    assert result.status == "failed"
    assert result.attempts == 4
    assert waits == [0.5, 1.0, 2.0]
    assert result.error == "HTTP 500 Internal Server Error after 4 attempts"
    assert len(httpserver.log) == 4


def test_503_honours_retry_after_seconds(httpserver, fetcher_for, waits):
    httpserver.expect_request("/feed").respond_with_data(b"busy", status=503, headers={"Retry-After": "7"})
    result = fetcher_for(retries=2).fetch(httpserver.url_for("/feed"))
    assert result.attempts == 3
    assert waits == [7.0, 7.0]
    assert result.error == "HTTP 503 Service Unavailable after 3 attempts"
    assert result.http_status == 503


def test_429_honours_retry_after_http_date(httpserver, fetcher_for, waits):
    when = email.utils.formatdate(time.time() + 10, usegmt=True)
    httpserver.expect_request("/feed").respond_with_data(b"slow down", status=429, headers={"Retry-After": when})
    result = fetcher_for(retries=1).fetch(httpserver.url_for("/feed"))
    assert result.attempts == 2
    assert len(waits) == 1
    assert 5 < waits[0] <= 10
    assert result.error == "HTTP 429 Too Many Requests after 2 attempts"


def test_retry_after_beyond_the_limit_fails_without_waiting(httpserver, fetcher_for, waits):
    httpserver.expect_request("/feed").respond_with_data(b"later", status=503, headers={"Retry-After": "3600"})
    result = fetcher_for(max_retry_after=30).fetch(httpserver.url_for("/feed"))
    assert result.status == "failed"
    assert result.attempts == 1
    assert waits == []
    assert "3600 s" in result.error and "30 s limit" in result.error
    assert result.error.startswith("HTTP 503 Service Unavailable")


def test_a_retry_that_succeeds(httpserver, fetcher_for, waits):
    replies = iter([Response("busy", status=502), Response(FEED, status=200)])
    httpserver.expect_request("/feed").respond_with_handler(lambda request: next(replies))
    result = fetcher_for().fetch(httpserver.url_for("/feed"))
    assert (result.status, result.attempts, result.body) == ("ok", 2, FEED)
    assert waits == [1.0]


def test_wait_longer_than_the_total_budget_is_not_taken(httpserver, fetcher_for, waits):
    httpserver.expect_request("/feed").respond_with_data(b"busy", status=503, headers={"Retry-After": "20"})
    result = fetcher_for(total_timeout=10, max_retry_after=30).fetch(httpserver.url_for("/feed"))
    assert result.status == "failed"
    assert waits == []
    assert "no time left to retry within 10 s" in result.error


def test_connection_refused(fetcher_for, waits):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # The socket is closed: nothing listens on the port.
    result = fetcher_for(retries=2).fetch(f"http://127.0.0.1:{port}/feed")
    assert result.status == "failed"
    assert result.http_status is None
    assert result.attempts == 3
    assert waits == [1.0, 2.0]
    assert result.error == "connection refused after 3 attempts"


# --- hostile servers ------------------------------------------------------------------------------------------


def test_slow_drip_is_stopped_by_the_total_timeout(raw_server, fetcher_for):
    def drip(conn: socket.socket, index: int, stop: threading.Event) -> None:
        conn.sendall(headers_for(1_000_000))
        give_up = time.monotonic() + 8  # so a fetcher that ignores its budget fails the test instead of hanging it
        while not stop.is_set() and time.monotonic() < give_up:
            conn.sendall(b"<")  # each byte arrives well inside the read timeout
            time.sleep(0.05)

    server = raw_server(drip)
    result = fetcher_for(read_timeout=0.5, total_timeout=2).fetch(server.url)
    assert result.status == "failed"
    assert result.error == "total time limit of 2 s exceeded while reading the body"
    assert result.attempts == 1
    assert result.elapsed < 5


def test_stalled_body_hits_the_read_timeout(raw_server, fetcher_for, waits):
    def stall(conn: socket.socket, index: int, stop: threading.Event) -> None:
        conn.sendall(headers_for(1000) + b"<rss>")
        stop.wait(3)

    server = raw_server(stall)
    result = fetcher_for(read_timeout=0.3, total_timeout=5, retries=1).fetch(server.url)
    assert result.status == "failed"
    assert result.error == "read timed out after 0.3 s after 2 attempts"
    assert result.attempts == 2
    assert waits == [1.0]
    assert result.elapsed < 4


def test_reset_mid_body_is_retried(raw_server, fetcher_for, waits):
    def reset_first(conn: socket.socket, index: int, stop: threading.Event) -> None:
        if index == 0:
            conn.sendall(headers_for(len(FEED)) + FEED[:20])
            # SO_LINGER 0 makes close() send a TCP reset instead of a clean shutdown.
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        else:
            conn.sendall(headers_for(len(FEED)) + FEED)

    server = raw_server(reset_first)
    result = fetcher_for().fetch(server.url)
    assert (result.status, result.attempts, result.body) == ("ok", 2, FEED)
    assert waits == [1.0]


def test_truncated_body_fails_after_retries(raw_server, fetcher_for):
    def truncate(conn: socket.socket, index: int, stop: threading.Event) -> None:
        conn.sendall(headers_for(len(FEED)) + FEED[:20])

    server = raw_server(truncate)
    result = fetcher_for(retries=1).fetch(server.url)
    assert result.status == "failed"
    assert result.attempts == 2
    assert result.error.startswith("connection closed by the server before the response was complete")


def test_body_over_max_bytes_with_content_length(httpserver, fetcher_for, waits):
    httpserver.expect_request("/feed").respond_with_data(b"x" * 5000)
    result = fetcher_for(max_bytes=1000).fetch(httpserver.url_for("/feed"))
    assert (result.status, result.error, result.body) == ("failed", "body exceeds 1 kB limit", None)
    assert result.attempts == 1
    assert waits == []


def test_body_over_max_bytes_without_content_length(httpserver, fetcher_for):
    def endless(request: Request) -> Response:
        return Response((b"x" * 1000 for _ in range(100)), content_type="application/rss+xml")

    httpserver.expect_request("/feed").respond_with_handler(endless)
    result = fetcher_for(max_bytes=20_000).fetch(httpserver.url_for("/feed"))
    assert (result.status, result.error) == ("failed", "body exceeds 20 kB limit")


def test_gzip_bomb_is_cut_off_without_inflating_it(httpserver, fetcher_for):
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = b"\0" * 1_000_000
    bomb = b"".join(packer.compress(block) for _ in range(200)) + packer.flush()  # 200 MB inflated
    assert len(bomb) < 300_000
    httpserver.expect_request("/feed").respond_with_data(
        bomb, headers={"Content-Encoding": "gzip"}, content_type="application/rss+xml"
    )
    fetcher = fetcher_for(max_bytes=1_000_000)
    tracemalloc.start()
    try:
        result = fetcher.fetch(httpserver.url_for("/feed"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (result.status, result.error) == ("failed", "body exceeds 1 MB limit")
    assert peak < 20_000_000  # the whole 200 MB never existed


def test_redirect_loop(httpserver, fetcher_for):
    httpserver.expect_request("/a").respond_with_data(b"", status=302, headers={"Location": "/b"})
    httpserver.expect_request("/b").respond_with_data(b"", status=301, headers={"Location": httpserver.url_for("/a")})
    result = fetcher_for(max_redirects=5).fetch(httpserver.url_for("/a"))
    assert result.status == "failed"
    assert result.error == "too many redirects (5)"
    assert result.attempts == 1
    assert len(httpserver.log) == 6  # the first request and five redirects followed


def test_redirect_chain_within_the_limit(httpserver, fetcher_for):
    httpserver.expect_request("/old").respond_with_data(b"", status=301, headers={"Location": "/older"})
    httpserver.expect_request("/older").respond_with_data(b"", status=308, headers={"Location": "new/feed.xml"})
    httpserver.expect_request("/new/feed.xml").respond_with_data(FEED, headers={"ETag": ETAG})
    result = fetcher_for(max_redirects=2).fetch(httpserver.url_for("/old"))
    assert result.status == "ok"
    assert result.url == httpserver.url_for("/old")
    assert result.final_url == httpserver.url_for("/new/feed.xml")
    assert (result.body, result.etag) == (FEED, ETAG)


def test_redirect_to_another_scheme_fails(httpserver, fetcher_for):
    httpserver.expect_request("/feed").respond_with_data(b"", status=302, headers={"Location": "file:///etc/passwd"})
    result = fetcher_for().fetch(httpserver.url_for("/feed"))
    assert result.status == "failed"
    assert result.error.startswith("HTTP 302 redirect to an unsupported URL")


# --- files and schemes ----------------------------------------------------------------------------------------


def test_file_url(tmp_path, fetcher_for):
    path = tmp_path / "feed.xml"
    path.write_bytes(FEED)
    result = fetcher_for().fetch(path.as_uri())
    assert result.status == "ok"
    assert result.body == FEED
    assert result.http_status is None
    assert result.url == result.final_url == path.resolve().as_uri()
    assert result.last_modified == email.utils.formatdate(path.stat().st_mtime, usegmt=True)
    assert result.content_type == "application/xml"


def test_missing_file(tmp_path, fetcher_for):
    path = tmp_path / "absent.xml"
    result = fetcher_for().fetch(path.as_uri())
    assert result.status == "failed"
    assert result.error == f"file not found: {path}"


def test_directory_is_not_a_file(tmp_path, fetcher_for):
    result = fetcher_for().fetch(tmp_path.as_uri())
    assert result.status == "failed"
    assert result.error.startswith("not a regular file")


def test_file_over_max_bytes(tmp_path, fetcher_for):
    path = tmp_path / "big.xml"
    path.write_bytes(b"x" * 3000)
    result = fetcher_for(max_bytes=1000).fetch(path.as_uri())
    assert (result.status, result.error) == ("failed", "body exceeds 1 kB limit")


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("ftp://ftp.example.gov/feed.xml", "unsupported URL scheme 'ftp:'"),
        ("javascript:alert(1)", "unsupported URL scheme 'javascript:'"),
        ("feeds/customs.xml", "not an absolute URL: 'feeds/customs.xml'"),
        ("http://[::1", "invalid URL 'http://[::1'"),
    ],
)
def test_unsupported_or_invalid_url(fetcher_for, url, error):
    result = fetcher_for().fetch(url)
    assert result.status == "failed"
    assert result.error.startswith(error)
    assert result.attempts == 0
