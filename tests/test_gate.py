"""The CI gate end to end: --fail-on, reviewed changes, expiry, merchant scope, windows and job summaries."""

from __future__ import annotations

import json

from conftest import EXAMPLES

from policywatch.suppressions import load_suppressions


def scan(run, tmp_path, *args, env=None):
    return run("scan", "--feeds", EXAMPLES / "feeds.yaml", "--db", tmp_path / "pw.db",
               "--ignore-file", tmp_path / "ignore.yaml", *args, env=env)


def failing_ids(result) -> list[str]:
    return json.loads(result.stdout)["gate"]["failing"]


def test_fail_on_then_review_every_change_then_pass(run, tmp_path):
    first = scan(run, tmp_path, "--fail-on", "critical", "--format", "json")
    assert first.exit_code == 1
    ids = failing_ids(first)
    assert ids and "gate:" in first.stderr and "not reviewed" in first.stderr
    for change_id in ids:
        acked = run("ack", change_id, "--reason", "Reviewed in the test", "--by", "ci",
                    "--ignore-file", tmp_path / "ignore.yaml", "--db", tmp_path / "pw.db")
        assert acked.exit_code == 0, acked.stderr
    assert len(load_suppressions(tmp_path / "ignore.yaml")) == len(ids)
    # Nothing new on a second scan: the default window (new in this run) is empty.
    assert scan(run, tmp_path, "--fail-on", "critical").exit_code == 0
    # Over a window, the reviewed changes are suppressed and the gate passes; --show-suppressed lists them.
    windowed = scan(run, tmp_path, "--fail-on", "critical", "--since", "7d", "--show-suppressed")
    assert windowed.exit_code == 0, windowed.stderr
    assert windowed.stderr.count("suppressed ") >= len(ids)
    # High is a lower bar: more changes reach it, and they are not reviewed.
    assert scan(run, tmp_path, "--fail-on", "high", "--since", "7d").exit_code == 1


def test_an_expired_review_stops_suppressing_and_says_so(run, tmp_path):
    first = scan(run, tmp_path, "--fail-on", "critical", "--format", "json")
    (tmp_path / "ignore.yaml").write_text(
        "suppressions:\n" + "".join(
            f"  - {{id: {i}, reason: old review, reviewed_by: ana, expires: 2020-01-01}}\n" for i in failing_ids(first)
        )
    )
    ignore = tmp_path / "ignore.yaml"
    again = run("changes", "--db", tmp_path / "pw.db", "--fail-on", "critical", "--ignore-file", ignore,
                "--format", "json")
    assert again.exit_code == 1
    assert "expired on 2020-01-01" in again.stderr
    assert json.loads(again.stdout)  # the listing itself is still JSON alone on stdout


def test_the_merchant_scope_ignores_changes_that_touch_none_of_their_sales(run, tmp_path):
    assert scan(run, tmp_path).exit_code == 0
    sales = tmp_path / "sales.csv"
    # A domestic seller: Japanese goods sold in Japan are touched by no import measure.
    sales.write_text("merchant_id,merchant_name,period,market,hs_code,origin,revenue\n"
                     "jp-local,JP Local,2026-11,JP,6912,JP,1000\n")
    scoped = run("changes", "--db", tmp_path / "pw.db", "--fail-on", "low", "--merchants", sales,
                 "--ignore-file", tmp_path / "ignore.yaml", "--format", "json")
    assert scoped.exit_code == 0, scoped.stderr
    unscoped = run("changes", "--db", tmp_path / "pw.db", "--fail-on", "low", "--ignore-file", tmp_path / "ignore.yaml",
                   "--format", "json")
    assert unscoped.exit_code == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("merchant_id,merchant_name,period,market,hs_code,origin,revenue\nx,X,2026-13,ZZ,1,JP,-1\n")
    broken = run("changes", "--db", tmp_path / "pw.db", "--fail-on", "low", "--merchants", bad)
    assert broken.exit_code == 2 and f"{bad}:2:" in broken.stderr


def test_a_github_step_summary_is_written(run, tmp_path):
    summary = tmp_path / "summary.md"
    result = scan(run, tmp_path, "--fail-on", "critical", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.exit_code == 1
    text = summary.read_text()
    assert text.startswith("## policywatch scan") and "### New changes" in text and "FAILED" in text
    assert "| Market |" in text


def test_markdown_and_output_file(run, tmp_path):
    out = tmp_path / "scan.md"
    result = scan(run, tmp_path, "--format", "markdown", "--output", out)
    assert result.exit_code == 0 and result.stdout == ""
    assert out.read_text().startswith("## policywatch scan")


def test_a_broken_ignore_file_is_a_configuration_error(run, tmp_path):
    (tmp_path / "ignore.yaml").write_text("suppressions:\n  - id: nope\n")
    result = scan(run, tmp_path, "--fail-on", "high")
    assert result.exit_code == 2 and "ignore.yaml:2: id 'nope' is not a change id" in result.stderr
    assert not (tmp_path / "pw.db").exists()


def test_the_ci_examples_run_a_daily_scan_that_fails_on_high():
    import yaml

    github = yaml.safe_load((EXAMPLES / "ci" / "github-actions.yml").read_text())
    steps = " ".join(str(step.get("run", "")) for step in github["jobs"]["scan"]["steps"])
    assert github[True]["schedule"][0]["cron"]  # YAML reads the key "on" as True
    assert "policywatch scan" in steps and "--fail-on high" in steps
    gitlab = yaml.safe_load((EXAMPLES / "ci" / "gitlab-ci.yml").read_text())
    script = " ".join(gitlab["policywatch"]["script"])
    assert "--fail-on high" in script
    assert any("schedule" in str(rule) for rule in gitlab["policywatch"]["rules"])
