"""policywatch's benchmark: every figure as a ratio against a floor measured in the same run.

    python bench/run.py [--items N] [--feeds F] [--memory-items M] [--skip-memory]

The floor for N bulletins is the least work the chosen stack must do: feedparser parsing the same bytes
(sanitising off), beautifulsoup4 stripping the HTML, whitespace collapsed, spacy.blank tokenising the texts
with nlp.pipe, and one sqlite-utils bulk insert of the rows in one transaction. The bulletins are built
from the real texts in ../shared/corpus (sentences recombined and figures varied, so no two are alike) and
served from local RSS files, as a daily scan would read them.

Figures and targets (issue "Performance"):
- full scan of N bulletins, extraction included: at most 1.5 x the floor;
- a second scan of the unchanged feeds: at most 5% of the first;
- `policywatch --help` and `policywatch changes` on an empty database: at most 0.15 s above `python -c pass`;
- peak memory of a 100,000-bulletin scan, extraction workers included: at most 500 MB;
- scoring 10,000 merchants against 50,000 changes: at most 5 s (bench/score.py);
- extraction alone: bulletins per second with the full rule set.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from html import escape
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "bulletins-dev.jsonl"
sys.path.insert(0, str(ROOT))

_NUMBER = re.compile(r"\d+")


def corpus() -> list[dict]:
    """The real bulletins the synthetic ones are built from."""
    if not CORPUS.exists():
        sys.exit(f"bench: {CORPUS} is needed to build realistic bulletins")
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


def make_bulletins(n: int, seed: int = 7) -> list[dict]:
    """N varied bulletins: a real one's paragraphs, some swapped for another's of the same language, figures changed."""
    rng = random.Random(seed)
    rows = corpus()
    by_language: dict[str, list[list[str]]] = {}
    for row in rows:
        by_language.setdefault(row["language"], []).append([p for p in row["text"].split("\n") if p.strip()])
    out = []
    for i in range(n):
        base = rows[i % len(rows)]
        paragraphs = [p for p in base["text"].split("\n") if p.strip()]
        pool = by_language[base["language"]]
        for _ in range(rng.randint(0, 2)):
            donor = rng.choice(pool)
            paragraphs.insert(rng.randint(0, len(paragraphs)), rng.choice(donor))

        def vary(match: re.Match[str]) -> str:
            return str(int(match.group()) + rng.randint(1, 9)) if len(match.group()) < 5 else match.group()

        paragraphs = [_NUMBER.sub(vary, p) for p in paragraphs]
        out.append({
            "guid": f"bench-{i}", "title": f"{base['title']} ({i})", "language": base["language"],
            "link": f"https://example.org/notices/{i}", "paragraphs": paragraphs,
            "published": base["published"] or "2025-06-01",
        })
    return out


def write_feeds(bulletins: list[dict], n_feeds: int, directory: Path) -> Path:
    """RSS files (one language each) and a feeds.yaml pointing at them."""
    groups: dict[tuple[str, int], list[dict]] = {}
    for i, bulletin in enumerate(bulletins):
        groups.setdefault((bulletin["language"], i % n_feeds), []).append(bulletin)
    entries = []
    for (language, shard), items in sorted(groups.items()):
        name = f"bench-{language}-{shard}"
        body = "".join(
            f"<item><title>{escape(b['title'])}</title><link>{b['link']}</link>"
            f"<guid isPermaLink=\"false\">{b['guid']}</guid><pubDate>{b['published']}</pubDate>"
            f"<description>{escape(''.join(f'<p>{escape(p)}</p>' for p in b['paragraphs']))}</description></item>"
            for b in items
        )
        (directory / f"{name}.xml").write_text(
            f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{name}</title>'
            f"<link>https://example.org/</link><language>{language}</language>{body}</channel></rss>",
            encoding="utf-8",
        )
        entries.append(f"  - {{name: {name}, url: {name}.xml, kind: feed, jurisdiction: US, language: {language}}}")
    feeds = directory / "feeds.yaml"
    feeds.write_text("feeds:\n" + "\n".join(entries) + "\n", encoding="utf-8")
    return feeds


def floor(feeds_dir: Path, db_path: Path) -> float:
    """Seconds for the least the stack must do with these feeds: parse, strip HTML, tokenise, insert."""
    import feedparser
    import spacy
    import sqlite_utils
    from bs4 import BeautifulSoup

    start = time.perf_counter()
    nlps: dict[str, object] = {}
    rows = []
    for path in sorted(feeds_dir.glob("*.xml")):
        parsed = feedparser.parse(path.read_bytes(), sanitize_html=False, resolve_relative_uris=False)
        language = parsed.feed.get("language", "en")
        texts = []
        for entry in parsed.entries:
            text = BeautifulSoup(entry.get("summary", ""), "html.parser").get_text(" ")
            texts.append(" ".join(text.split()))
        if language not in nlps:
            nlps[language] = spacy.blank({"ja": "zh", "ko": "xx", "fr": "xx", "id": "xx"}.get(language, language))
        for entry, text, doc in zip(parsed.entries, texts, nlps[language].pipe(texts), strict=True):
            rows.append({"id": entry.get("id"), "title": entry.get("title"), "text": text, "tokens": len(doc)})
    db = sqlite_utils.Database(db_path)
    with db.conn:
        db["bulletins"].insert_all(rows, pk="id")
    return time.perf_counter() - start


def scan_seconds(feeds: Path, db_path: Path) -> tuple[float, dict]:
    """One in-process scan of the feeds into db_path: seconds and the summary counts."""
    from policywatch.config import load_feeds
    from policywatch.extract.engine import Engine
    from policywatch.pipeline import run_scan
    from policywatch.rules import load_rules
    from policywatch.store import Store

    config = load_feeds(feeds)
    start = time.perf_counter()
    store = Store.open(db_path)
    summary = run_scan(config, store, lambda: Engine(load_rules()[0]))
    store.close()
    seconds = time.perf_counter() - start
    return seconds, {"new_bulletins": summary.new_bulletins, "changes": len(summary.changes),
                     "unchanged": summary.feeds_unchanged, "failed": summary.feeds_failed}


def startup(args: list[str], repeat: int = 7) -> float:
    """Median wall time of a command."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(args, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _tree_pss_kb(pid: int) -> int:
    """Proportional set size (KB) of a process and all its descendants: shared pages counted once in all."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            rollup = Path(f"/proc/{current}/smaps_rollup").read_text()
            total += int(next(line.split()[1] for line in rollup.splitlines() if line.startswith("Pss:")))
            for task in Path(f"/proc/{current}/task").iterdir():
                todo.extend(int(child) for child in (task / "children").read_text().split())
        except (OSError, StopIteration, ValueError):
            continue  # the process ended between two reads
    return total


def peak_memory_mb(n: int, directory: Path) -> tuple[float, float]:
    """Peak memory (MB) of a `policywatch scan` subprocess over n bulletins: the scan process's own peak
    resident set, and the peak of the whole scan (the process and its extraction workers, by PSS, sampled
    every 50 ms)."""
    feeds_dir = directory / "memory"
    feeds_dir.mkdir()
    feeds = write_feeds(make_bulletins(n, seed=11), max(1, n // 1000), feeds_dir)
    code = (
        "import sys\n"
        "from policywatch.cli import main\n"
        f"sys.argv = ['policywatch', 'scan', '--feeds', {str(feeds)!r}, '--db', {str(directory / 'mem.db')!r},"
        " '--format', 'json']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        # VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so it would include this benchmark's own peak.
        "peak = next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:'))\n"
        "print('MAXRSS', peak, file=sys.stderr)\n"
    )
    log = directory / "memory.stderr"
    with log.open("w") as errors:  # a file, not a pipe: a chatty scan cannot fill it and stall
        process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=errors)
        tree_peak = 0
        while process.poll() is None:
            tree_peak = max(tree_peak, _tree_pss_kb(process.pid))
            time.sleep(0.05)
    stderr = log.read_text(errors="replace")
    match = re.search(r"MAXRSS (\d+)", stderr)
    if not match:
        raise RuntimeError(f"memory run failed: {stderr[-500:]}")
    return int(match.group(1)) / 1024, tree_peak / 1024


def extraction_rate(n: int) -> float:
    """Bulletins per second through the engine alone (pipeline built first, not timed)."""
    from policywatch.extract.engine import Engine
    from policywatch.models import Document
    from policywatch.rules import load_rules

    docs = [
        Document(id=b["guid"], title=b["title"], text="\n".join(b["paragraphs"]), language=b["language"])
        for b in make_bulletins(n, seed=3)
    ]
    engine = Engine(load_rules()[0])
    engine.compile_all()
    start = time.perf_counter()
    for _ in engine.extract(docs):
        pass
    return n / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=10_000, help="bulletins in the scan benchmark")
    parser.add_argument("--feeds", type=int, default=40, help="feeds they are spread over")
    parser.add_argument("--memory-items", type=int, default=100_000, help="bulletins in the memory benchmark")
    parser.add_argument("--skip-memory", action="store_true", help="skip the (long) memory benchmark")
    parser.add_argument("--skip-score", action="store_true", help="skip the scoring benchmark")
    args = parser.parse_args(argv)
    results: list[tuple[str, str, str, bool | None]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        feeds_dir = work / "feeds"
        feeds_dir.mkdir()
        feeds = write_feeds(make_bulletins(args.items), args.feeds, feeds_dir)
        base = floor(feeds_dir, work / "floor.db")
        first, counts = scan_seconds(feeds, work / "scan.db")
        second, again = scan_seconds(feeds, work / "scan.db")
        ratio = first / base
        results.append((f"full scan of {counts['new_bulletins']:,} bulletins ({counts['changes']:,} changes)",
                        f"{first:.2f} s = {ratio:.2f} x floor ({base:.2f} s)", "<= 1.5 x", ratio <= 1.5))
        share = second / first
        results.append((f"second scan, unchanged feeds ({again['unchanged']} unchanged)",
                        f"{second:.3f} s = {share:.1%} of the first", "<= 5%", share <= 0.05))
        python = startup([sys.executable, "-c", "pass"])
        cli = [sys.executable, "-m", "policywatch"]
        helped = startup([*cli, "--help"])
        listed = startup([*cli, "changes", "--db", str(work / "empty.db"), "--format", "json"])
        for label, seconds in (("policywatch --help", helped), ("policywatch changes (empty database)", listed)):
            extra = seconds - python
            results.append((label, f"{seconds:.3f} s = python -c pass + {extra:.3f} s", "<= +0.150 s", extra <= 0.15))
        rate = extraction_rate(min(args.items, 3000))
        results.append(("extraction alone, full rule set", f"{rate:,.0f} bulletins/s", "reported", None))
        if not args.skip_score:
            score_bench = ROOT / "bench" / "score.py"
            if score_bench.exists():
                sys.path.insert(0, str(score_bench.parent))
                import score  # type: ignore[import-not-found]

                figures = score.run(merchants=10_000, changes=50_000)
                seconds = float(figures["seconds"])
                label = "scoring 10,000 merchants x 50,000 changes"
                results.append((label, f"{seconds:.2f} s", "<= 5 s", seconds <= 5))
        if not args.skip_memory:
            own, whole = peak_memory_mb(args.memory_items, work)
            results.append((f"peak memory, scan of {args.memory_items:,} bulletins",
                            f"{whole:.0f} MB with its workers (PSS); scan process {own:.0f} MB", "<= 500 MB",
                            whole <= 500 and own <= 500))
    width = max(len(r[0]) for r in results)
    for label, figure, target, ok in results:
        verdict = "" if ok is None else ("ok" if ok else "MISSED")
        print(f"{label:<{width}}  {figure:<48} {target:<12} {verdict}")
    return 0 if all(ok is not False for *_, ok in results) else 1


if __name__ == "__main__":
    sys.exit(main())
