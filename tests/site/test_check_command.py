"""贡献者检查命令（scripts/check.sh → python -m devtools.check）：报告格式、退出码、改动检测。"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BAD = ROOT / "tests" / "fixtures" / "bad_pages"


def _check(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "devtools.check", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})},
    )


def test_every_bad_fixture_reports_exactly_the_expected_file_line_rule():
    """每个坏页面夹具只违反一条规则；一次运行报告全部问题，且与 expected.txt 完全一致。"""
    pages = sorted(str(p.relative_to(ROOT)) for p in BAD.glob("*.md"))
    proc = _check("--docs-dir", str(BAD), "--config", str(BAD / "mkdocs.yml"), "--slow", "1", *pages,
                  env={"KB_BLOCK_TIMEOUT": "2"})
    assert proc.returncode == 1, proc.stderr
    got = [re.sub(r"^([^:]+:\d+: [a-z0-9-]+):.*$", r"\1", ln) for ln in proc.stdout.splitlines()]
    expected = [ln for ln in (BAD / "expected.txt").read_text(encoding="utf-8").splitlines()
                if ln and not ln.startswith("#")]
    assert got == expected, "\n".join(proc.stdout.splitlines())
    # 每个规则至少有一个夹具
    rules = {ln.rsplit(": ", 1)[1] for ln in expected}
    assert rules >= {"math", "code-failed", "code-slow", "code-untested", "link", "anchor", "snippet-missing",
                     "nav", "front-matter", "h1", "fence-lang", "typography", "forbidden", "network"}
    # 每一行都是 文件:行号: 规则: 说明
    assert all(re.match(r"^[^:]+:\d+: [a-z0-9-]+: \S", ln) for ln in proc.stdout.splitlines())


def test_clean_page_passes_with_exit_code_0():
    proc = _check("docs/basics/gradient-descent.md")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == ""


def test_usage_errors_exit_2():
    assert _check("docs/no-such-page.md").returncode == 2
    assert _check("README.md").returncode == 2  # 不是 docs/ 下的页面


def test_changed_pages_follow_snippets(tmp_path):
    """改动一个片段文件，会检查嵌入它的页面。"""
    from devtools import check

    snippet = ROOT / "snippets" / "basics" / "gradient_descent.py"
    original = snippet.read_text(encoding="utf-8")
    try:
        snippet.write_text(original + "\n", encoding="utf-8")
        pages = check.changed_pages("HEAD")
    finally:
        snippet.write_text(original, encoding="utf-8")
    assert ROOT / "docs" / "basics" / "gradient-descent.md" in pages
