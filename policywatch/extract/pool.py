"""Extraction on the second core: a long-lived pool of forked workers that share the compiled engine.

A blank spaCy pipeline gains nothing from `nlp.pipe(n_process=...)` (each call pays process start-up and
pickling), but a scan's extraction is CPU-bound and embarrassingly parallel across bulletins. Forking once,
after the engine is compiled, gives every worker the matchers for free (copy-on-write); then only documents
and change records cross the process boundary. Small batches stay in-process, where a pool would not pay.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import sys
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from policywatch.extract.engine import Engine
from policywatch.models import Change, Document
from policywatch.pipeline import Done

#: Batches smaller than this are extracted in-process.
MIN_BATCH = 256
#: Documents per task sent to a worker.
CHUNK = 64

_ENGINE: Engine | None = None  # the engine a forked worker inherits
_log = logging.getLogger("policywatch")


def workers_available() -> int:
    """Extraction worker processes to use: POLICYWATCH_WORKERS (0 = extract in-process), else two on a
    machine with two cores or more; none on one core or where fork is unavailable."""
    if sys.platform != "linux" or "fork" not in multiprocessing.get_all_start_methods():
        return 0
    configured = os.environ.get("POLICYWATCH_WORKERS", "").strip()
    if configured.isdigit():
        return int(configured)
    cores = os.cpu_count() or 1
    # Two workers on two cores measured faster than one (the parent mostly waits for them); one core: none.
    return min(2, cores) if cores > 1 else 0


def _worker_start() -> None:
    # A worker dies with the scan that forked it (SIGKILL included), so none can outlive it holding the
    # scan lock's file descriptor; Ctrl-C is the parent's to handle.
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _extract_chunk(documents: list[Document]) -> list[list[Change]]:
    assert _ENGINE is not None, "the worker was not forked from a process holding an engine"
    return list(_ENGINE.extract(documents))


class _Running:
    """Chunks of a batch being extracted on the workers."""

    def __init__(self, owner: PooledExtractor, documents: list[Document], parts: list[Future[list[list[Change]]]]):
        self.owner = owner
        self.documents = documents
        self.parts = parts

    def ready(self) -> bool:
        """True when every chunk is done (or the pool broke, which `get` then handles)."""
        return all(part.done() for part in self.parts)

    def get(self) -> list[list[Change]]:
        """The changes per document, in order; extracted here instead if a worker died."""
        try:
            return [found for part in self.parts for found in part.result()]
        except BrokenProcessPool:
            self.owner.broken()
            return list(self.owner.engine.extract(self.documents))


class PooledExtractor:
    """An Extractor that sends large batches to forked workers and keeps small ones in-process.

    A worker that dies (the kernel's out-of-memory killer, a stray kill) does not hang the scan: the pool is
    given up, the batches it held are extracted in-process, and the scan goes on there, with a warning."""

    def __init__(self, engine: Engine, workers: int, *, min_batch: int | None = None, chunk: int = CHUNK):
        self.engine = engine
        self.workers = workers
        self.min_batch = MIN_BATCH if min_batch is None else min_batch
        self.chunk = chunk
        self._pool: ProcessPoolExecutor | None = None
        self._seen = 0  # documents submitted so far: small scans never start the workers

    def _get_pool(self) -> ProcessPoolExecutor:
        global _ENGINE
        if self._pool is None:
            # The languages seen so far are compiled before the fork, so the workers share them; a language
            # first met later is compiled by each worker that meets it. With fork, every worker starts at the
            # first submit, from this (the main) thread.
            _ENGINE = self.engine
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("fork"), initializer=_worker_start
            )
        return self._pool

    def _chunks(self, documents: list[Document]) -> list[list[Document]]:
        return [documents[i : i + self.chunk] for i in range(0, len(documents), self.chunk)]

    def submit(self, documents: list[Document]) -> Done | _Running:
        """Start extracting a batch: on the workers once the scan has seen MIN_BATCH documents, else here."""
        self._seen += len(documents)
        if self.workers < 1 or self._seen < self.min_batch:
            return Done(list(self.engine.extract(documents)))
        try:
            pool = self._get_pool()
            return _Running(self, documents, [pool.submit(_extract_chunk, part) for part in self._chunks(documents)])
        except BrokenProcessPool:
            self.broken()
            return Done(list(self.engine.extract(documents)))

    def extract(self, documents: Iterable[Document]) -> Iterator[list[Change]]:
        """The changes in each document, in input order (DESIGN's extract contract, whatever runs it)."""
        batch = list(documents)
        if self.workers < 1 or len(batch) < self.min_batch:
            yield from self.engine.extract(batch)
            return
        yield from self.submit(batch).get()

    def broken(self) -> None:
        """A worker died: stop using the pool and extract in-process from now on."""
        if self.workers > 0:
            _log.warning("an extraction worker died (out of memory?); extracting in this process from now on")
        self.workers = 0
        self.close()

    def close(self) -> None:
        """Stop the workers (idempotent)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
