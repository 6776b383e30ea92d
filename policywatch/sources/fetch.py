"""Fetching a source over HTTP(S) or from a file, within hard limits, with failures returned as data.

One Fetcher (one httpx.Client, so connections are pooled and kept alive) serves a whole scan. Every
fault a government site can produce (timeouts, resets, error pages, redirect loops, endless or
compressed-bomb bodies) ends as FetchResult(status="failed", error=<one line a user understands>).
"""

from __future__ import annotations

import email.utils
import http
import importlib.metadata
import mimetypes
import os
import stat
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urljoin, urlsplit
from urllib.request import url2pathname

import httpx

__all__ = ["FetchLimits", "FetchResult", "Fetcher", "Validators", "default_user_agent"]

# Feeds first, then anything XML or JSON, then HTML (a feed URL that now serves a page is still
# worth fetching so the parser can say so).
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, text/html;q=0.5, */*;q=0.1"
)
# Only encodings decoded here, with the size cap applied to the inflated bytes.
ACCEPT_ENCODING = "gzip, deflate"
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_WEB_SCHEMES = frozenset({"http", "https"})
_FILE_TYPES = {
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".xml": "application/xml",
    ".json": "application/json",
    ".html": "text/html",
    ".htm": "text/html",
}


@dataclass(frozen=True)
class FetchLimits:
    """Hard limits for fetching one source."""

    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    total_timeout: float = 120.0
    """Wall clock per source, retries and waits included."""
    max_bytes: int = 20_000_000
    """Cap on the decoded body (so also on what a gzip bomb inflates to)."""
    max_redirects: int = 5
    retries: int = 2
    """Extra attempts after connect errors, timeouts, resets and HTTP 429/500/502/503/504."""
    backoff: float = 1.0
    """Seconds before the first retry, doubled for each further one (a Retry-After header overrides it)."""
    max_retry_after: float = 30.0
    """A server asking for a longer Retry-After than this is not waited for: the fetch fails at once."""


@dataclass(frozen=True)
class Validators:
    """HTTP cache validators from the previous fetch, for a conditional GET."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class FetchResult:
    """The outcome of fetching one source; a failure is data, never an exception."""

    status: Literal["ok", "not_modified", "failed"]
    url: str
    """The URL asked for (for a file, its resolved path as a file:// URL)."""
    final_url: str
    """The URL after redirects."""
    http_status: int | None
    """The last HTTP status; None for files and when no response arrived."""
    body: bytes | None
    """The decoded body when status is "ok", else None."""
    content_type: str | None
    etag: str | None
    """Validators to store for the next fetch (on "failed", the ones passed in, so storing them loses none)."""
    last_modified: str | None
    error: str | None
    """One line a user understands when status is "failed"."""
    attempts: int
    elapsed: float
    """Seconds from the call to the result."""


def default_user_agent() -> str:
    """The User-Agent policywatch identifies itself with, so site operators can tell who is calling."""
    try:
        version = importlib.metadata.version("policywatch")
    except importlib.metadata.PackageNotFoundError:
        version = "dev"
    return f"policywatch/{version} (+https://github.com/policywatch/policywatch)"


class _Failure(Exception):
    """One attempt failed; retry says whether trying again could help."""

    def __init__(
        self,
        error: str,
        *,
        retry: bool = False,
        http_status: int | None = None,
        retry_after: float | None = None,
        final_url: str | None = None,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.retry = retry
        self.http_status = http_status
        self.retry_after = retry_after
        self.final_url = final_url


class Fetcher:
    """One httpx.Client (connection pooling, HTTP keep-alive) for a whole scan; a context manager."""

    def __init__(
        self,
        limits: FetchLimits = FetchLimits(),
        *,
        user_agent: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Create the client; sleep is called for retry waits (tests pass a recorder)."""
        self.limits = limits
        self._sleep = sleep
        self._client = httpx.Client(
            follow_redirects=False,  # followed by hand: each hop counts against the limits and is checked
            timeout=_timeout(limits, limits.total_timeout),
            headers={
                "User-Agent": user_agent or default_user_agent(),
                "Accept": ACCEPT,
                "Accept-Encoding": ACCEPT_ENCODING,
            },
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the pooled connections."""
        self._client.close()

    def fetch(self, url: str, validators: Validators | None = None) -> FetchResult:
        """Fetch an http(s):// or file:// URL within the limits; any failure comes back as status "failed"."""
        start = time.monotonic()
        validators = validators or Validators()
        try:
            scheme = urlsplit(url).scheme.lower()
        except ValueError as exc:
            return _failed(url, url, f"invalid URL {url[:200]!r}: {exc}", validators, start, attempts=0)
        if scheme == "file":
            return _fetch_file(url, self.limits, start)
        if scheme in _WEB_SCHEMES:
            return self._fetch_http(url, validators, start)
        if not scheme:
            error = f"not an absolute URL: {url[:200]!r} (use http://, https:// or file://)"
        else:
            error = f"unsupported URL scheme '{scheme}:' (use http://, https:// or file://)"
        return _failed(url, url, error, validators, start, attempts=0)

    # --- HTTP ---------------------------------------------------------------------------------------

    def _fetch_http(self, url: str, validators: Validators, start: float) -> FetchResult:
        limits = self.limits
        deadline = start + limits.total_timeout
        attempts = 0
        while True:
            attempts += 1
            try:
                return self._attempt(url, validators, start, deadline, attempts)
            except _Failure as failure:
                error = failure.error
                if failure.retry and attempts <= limits.retries:
                    wait = failure.retry_after
                    if wait is not None and wait > limits.max_retry_after:
                        error = (
                            f"{error}; the server asked to retry after {wait:g} s, more than the "
                            f"{limits.max_retry_after:g} s limit"
                        )
                    else:
                        if wait is None:
                            wait = limits.backoff * 2 ** (attempts - 1)
                        if time.monotonic() + wait < deadline:
                            self._sleep(wait)
                            continue
                        error = f"{error}; no time left to retry within {limits.total_timeout:g} s"
                elif attempts > 1:
                    error = f"{error} after {attempts} attempts"
                return _failed(
                    url,
                    failure.final_url or url,
                    error,
                    validators,
                    start,
                    attempts=attempts,
                    http_status=failure.http_status,
                )

    def _attempt(self, url: str, validators: Validators, start: float, deadline: float, attempts: int) -> FetchResult:
        """One GET, following redirects by hand; raises _Failure."""
        limits = self.limits
        headers = {}
        if validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        current = url
        last_code: int | None = None  # kept on failures after the status line (body, timeouts, redirects)
        for _hop in range(limits.max_redirects + 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Failure(f"total time limit of {limits.total_timeout:g} s exceeded", final_url=current)
            try:
                with self._client.stream(
                    "GET", current, headers=headers, timeout=_timeout(limits, remaining)
                ) as response:
                    code = last_code = response.status_code
                    location = response.headers.get("location")
                    if code in _REDIRECT_STATUSES and location:
                        current = _redirect_target(str(response.url), location, code)
                        continue
                    if code == 304:
                        return FetchResult(
                            status="not_modified",
                            url=url,
                            final_url=str(response.url),
                            http_status=code,
                            body=None,
                            content_type=response.headers.get("content-type"),
                            etag=response.headers.get("etag") or validators.etag,
                            last_modified=response.headers.get("last-modified") or validators.last_modified,
                            error=None,
                            attempts=attempts,
                            elapsed=time.monotonic() - start,
                        )
                    if not 200 <= code < 300:
                        raise _Failure(
                            _status_line(code),
                            retry=code in _RETRY_STATUSES,
                            http_status=code,
                            retry_after=_retry_after(response.headers.get("retry-after")),
                            final_url=str(response.url),
                        )
                    body = _read_body(response, limits, deadline)
                    return FetchResult(
                        status="ok",
                        url=url,
                        final_url=str(response.url),
                        http_status=code,
                        body=body,
                        content_type=response.headers.get("content-type"),
                        etag=response.headers.get("etag"),
                        last_modified=response.headers.get("last-modified"),
                        error=None,
                        attempts=attempts,
                        elapsed=time.monotonic() - start,
                    )
            except _Failure as failure:
                failure.final_url = failure.final_url or current
                failure.http_status = failure.http_status or last_code
                raise
            except httpx.TimeoutException as exc:
                failure = _timeout_failure(exc, limits, deadline, current)
                failure.http_status = last_code
                raise failure from None
            except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, OSError, ValueError) as exc:
                failure = _transport_failure(exc, current)
                failure.http_status = last_code
                raise failure from None
        raise _Failure(f"too many redirects ({limits.max_redirects})", final_url=current, http_status=last_code)


def _timeout(limits: FetchLimits, remaining: float) -> httpx.Timeout:
    """Per-request timeouts, none longer than what is left of the total budget."""
    return httpx.Timeout(
        connect=min(limits.connect_timeout, remaining),
        read=min(limits.read_timeout, remaining),
        write=min(limits.read_timeout, remaining),
        pool=min(limits.connect_timeout, remaining),
    )


def _redirect_target(base: str, location: str, code: int) -> str:
    target = urljoin(base, location.strip())
    try:
        scheme = urlsplit(target).scheme.lower()
    except ValueError:
        scheme = ""
    if scheme not in _WEB_SCHEMES:
        raise _Failure(f"HTTP {code} redirect to an unsupported URL: {target[:200]}", http_status=code)
    return target


def _status_line(code: int) -> str:
    try:
        phrase = http.HTTPStatus(code).phrase
    except ValueError:
        phrase = ""
    return f"HTTP {code} {phrase}".rstrip()


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _timeout_failure(exc: httpx.TimeoutException, limits: FetchLimits, deadline: float, url: str) -> _Failure:
    # A timeout shortened to fit the total budget is the budget running out, and retrying cannot help.
    if time.monotonic() >= deadline - 0.01:
        return _Failure(f"total time limit of {limits.total_timeout:g} s exceeded", final_url=url)
    if isinstance(exc, httpx.ConnectTimeout):
        return _Failure(f"connect timed out after {limits.connect_timeout:g} s", retry=True, final_url=url)
    if isinstance(exc, httpx.ReadTimeout):
        return _Failure(f"read timed out after {limits.read_timeout:g} s", retry=True, final_url=url)
    return _Failure(f"timed out ({type(exc).__name__})", retry=True, final_url=url)


def _transport_failure(exc: Exception, url: str) -> _Failure:
    message = " ".join(str(exc).split())[:200] or type(exc).__name__
    lowered = message.lower()
    if isinstance(exc, (httpx.InvalidURL, httpx.UnsupportedProtocol, httpx.LocalProtocolError, ValueError)):
        return _Failure(f"invalid URL: {message}", final_url=url)
    if isinstance(exc, httpx.ConnectError):
        if "refused" in lowered:
            return _Failure("connection refused", retry=True, final_url=url)
        if "certificate" in lowered or "ssl" in lowered or "tls" in lowered:
            # A certificate problem does not fix itself between attempts.
            return _Failure(f"TLS error: {message}", final_url=url)
        if any(hint in lowered for hint in ("name or service", "nodename", "getaddrinfo", "no address")):
            host = urlsplit(url).hostname or url
            return _Failure(f"could not resolve host {host}", retry=True, final_url=url)
        return _Failure(f"could not connect: {message}", retry=True, final_url=url)
    if isinstance(exc, httpx.RemoteProtocolError):
        return _Failure(
            f"connection closed by the server before the response was complete ({message})", retry=True, final_url=url
        )
    if isinstance(exc, httpx.ReadError) or "reset" in lowered:
        return _Failure(f"connection reset while reading ({message})", retry=True, final_url=url)
    return _Failure(f"network error: {message}", retry=isinstance(exc, (httpx.TransportError, OSError)), final_url=url)


# --- body ---------------------------------------------------------------------------------------------


def _size(n: int) -> str:
    """A byte count for an error message: "20 MB", "64 kB", "500 bytes"."""
    if n >= 1_000_000:
        return f"{n / 1_000_000:.3g} MB"
    if n >= 1_000:
        return f"{n / 1_000:.3g} kB"
    return f"{n} bytes"


def _too_large(limits: FetchLimits) -> _Failure:
    return _Failure(f"body exceeds {_size(limits.max_bytes)} limit")


class _Inflater:
    """Incremental gzip/deflate decoding that never produces more than it is allowed to.

    zlib's max_length bounds each call, so a bomb that inflates 1000:1 costs at most the cap in memory.
    """

    def __init__(self, encoding: str) -> None:
        self._encoding = encoding
        self._zlib: zlib._Decompress | None = None
        self._started = False
        self._done = False
        self._pending = b""

    def _new(self, first: bytes) -> zlib._Decompress:
        if self._encoding == "deflate" and not _is_zlib_header(first):
            return zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate, as some servers send it
        return zlib.decompressobj(zlib.MAX_WBITS | 16 if self._encoding == "gzip" else zlib.MAX_WBITS)

    @property
    def complete(self) -> bool:
        """True when every compressed stream begun has ended (a body cut short leaves one open)."""
        return self._zlib is None and not self._pending

    def feed(self, data: bytes, room: int) -> bytes:
        """Inflate data, returning at most room bytes (the caller passes its cap plus one to detect overflow)."""
        data, self._pending = self._pending + data, b""
        out = bytearray()
        while data and not self._done and len(out) < room:
            if self._zlib is None:
                if self._started and not (self._encoding == "gzip" and data[:2] == b"\x1f\x8b"[: len(data)]):
                    # After the end of the stream only another gzip member means anything; the rest is padding.
                    self._done = True
                    break
                if len(data) < 2:
                    self._pending = data  # two bytes tell zlib from raw deflate, and a gzip member from padding
                    break
                self._zlib = self._new(data)
                self._started = True
            out += self._zlib.decompress(data, room - len(out))
            if self._zlib.eof:
                data = self._zlib.unused_data
                self._zlib = None
            else:
                data = self._zlib.unconsumed_tail
        return bytes(out)


def _is_zlib_header(data: bytes) -> bool:
    return len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0


def _read_body(response: httpx.Response, limits: FetchLimits, deadline: float) -> bytes:
    """The body, decoded, counting bytes against max_bytes and the clock against the total budget."""
    encoding = response.headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):
        inflater = None
        declared = response.headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > limits.max_bytes:
            raise _too_large(limits)
    elif encoding in ("gzip", "x-gzip", "deflate"):
        inflater = _Inflater("deflate" if encoding == "deflate" else "gzip")
    else:
        raise _Failure(f"unsupported content encoding {encoding!r}")
    body = bytearray()
    try:
        for chunk in response.iter_raw():
            if inflater is None:
                body += chunk
            else:
                body += inflater.feed(chunk, limits.max_bytes - len(body) + 1)
            if len(body) > limits.max_bytes:
                raise _too_large(limits)
            # A server dripping a byte at a time never trips the read timeout; the clock stops it.
            if time.monotonic() > deadline:
                raise _Failure(f"total time limit of {limits.total_timeout:g} s exceeded while reading the body")
    except zlib.error as exc:
        raise _Failure(f"could not decompress the {encoding} body ({exc})") from None
    if inflater is not None and not inflater.complete:
        # Without a Content-Length nothing else shows a cut: the parser would read half a feed as all of it.
        raise _Failure(f"the {encoding} body ends before its compressed stream does (cut short)", retry=True)
    return bytes(body)


# --- files --------------------------------------------------------------------------------------------


def _fetch_file(url: str, limits: FetchLimits, start: float) -> FetchResult:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        return _failed(url, url, f"file URL with a host is not supported: {url[:200]}", Validators(), start)
    path = Path(url2pathname(unquote(parts.path)))
    try:
        path = path.resolve()
        resolved = path.as_uri()
    except (OSError, ValueError, RuntimeError):
        resolved = url
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            # A directory, FIFO or device: opening a FIFO would block the scan forever.
            return _failed(resolved, resolved, f"not a regular file: {path}", Validators(), start)
        if info.st_size > limits.max_bytes:
            return _failed(resolved, resolved, f"body exceeds {_size(limits.max_bytes)} limit", Validators(), start)
        with open(path, "rb") as handle:
            data = handle.read(limits.max_bytes + 1)
    except FileNotFoundError:
        return _failed(resolved, resolved, f"file not found: {path}", Validators(), start)
    except PermissionError:
        return _failed(resolved, resolved, f"permission denied: {path}", Validators(), start)
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        return _failed(resolved, resolved, f"could not read {path}: {reason}", Validators(), start)
    if len(data) > limits.max_bytes:
        return _failed(resolved, resolved, f"body exceeds {_size(limits.max_bytes)} limit", Validators(), start)
    content_type = _FILE_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
    return FetchResult(
        status="ok",
        url=resolved,
        final_url=resolved,
        http_status=None,
        body=data,
        content_type=content_type,
        etag=None,
        last_modified=email.utils.formatdate(info.st_mtime, usegmt=True),
        error=None,
        attempts=1,
        elapsed=time.monotonic() - start,
    )


def _failed(
    url: str,
    final_url: str,
    error: str,
    validators: Validators,
    start: float,
    *,
    attempts: int = 1,
    http_status: int | None = None,
) -> FetchResult:
    return FetchResult(
        status="failed",
        url=url,
        final_url=final_url,
        http_status=http_status,
        body=None,
        content_type=None,
        etag=validators.etag,
        last_modified=validators.last_modified,
        error=error,
        attempts=attempts,
        elapsed=time.monotonic() - start,
    )
