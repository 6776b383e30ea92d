"""Extraction on the second core: a long-lived pool of forked workers that share the compiled engine.

A blank spaCy pipeline gains nothing from `nlp.pipe(n_process=...)` (each call pays process start-up and
pickling), but a scan's extraction is CPU-bound and embarrassingly parallel across bulletins. Forking once,
after the engine is compiled, gives every worker the matchers for free (copy-on-write); then only documents
and change records cross the process boundary. Small batches stay in-process, where a pool would not pay.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from policywatch.extract.engine import Engine
from policywatch.models import Change, Document
from policywatch.pipeline import Done

if TYPE_CHECKING:
    import multiprocessing.pool

#: Batches smaller than this are extracted in-process.
MIN_BATCH = 256
#: Documents per task sent to a worker.
CHUNK = 64

_ENGINE: Engine | None = None  # the engine a forked worker inherits


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

    def __init__(self, parts: list[multiprocessing.pool.AsyncResult[list[list[Change]]]]):
        self.parts = parts

    def ready(self) -> bool:
        """True when every chunk is done."""
        return all(part.ready() for part in self.parts)

    def get(self) -> list[list[Change]]:
        """The changes per document, in order."""
        return [found for part in self.parts for found in part.get()]


class PooledExtractor:
    """An Extractor that sends large batches to forked workers and keeps small ones in-process."""

    def __init__(self, engine: Engine, workers: int, *, min_batch: int | None = None, chunk: int = CHUNK):
        self.engine = engine
        self.workers = workers
        self.min_batch = MIN_BATCH if min_batch is None else min_batch
        self.chunk = chunk
        self._pool: multiprocessing.pool.Pool | None = None
        self._seen = 0  # documents submitted so far: small scans never start the workers

    def _get_pool(self) -> multiprocessing.pool.Pool:
        global _ENGINE
        if self._pool is None:
            # The languages seen so far are compiled before the fork, so the workers share them; a language
            # first met later is compiled by each worker that meets it.
            _ENGINE = self.engine
            self._pool = multiprocessing.get_context("fork").Pool(self.workers, initializer=_worker_start)
        return self._pool

    def submit(self, documents: list[Document]) -> Done | _Running:
        """Start extracting a batch: on the workers once the scan has seen MIN_BATCH documents, else here."""
        self._seen += len(documents)
        if self.workers < 1 or self._seen < self.min_batch:
            return Done(list(self.engine.extract(documents)))
        pool = self._get_pool()
        return _Running([pool.apply_async(_extract_chunk, (documents[i : i + self.chunk],))
                         for i in range(0, len(documents), self.chunk)])

    def extract(self, documents: Iterable[Document]) -> Iterator[list[Change]]:
        """The changes in each document, in input order (DESIGN's extract contract, whatever runs it)."""
        batch = list(documents)
        if self.workers < 1 or len(batch) < self.min_batch:
            yield from self.engine.extract(batch)
            return
        chunks = [batch[i : i + self.chunk] for i in range(0, len(batch), self.chunk)]
        for result in self._get_pool().imap(_extract_chunk, chunks):
            yield from result

    def close(self) -> None:
        """Stop the workers (idempotent)."""
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None
