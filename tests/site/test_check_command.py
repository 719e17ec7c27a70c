"""贡献者检查命令（scripts/check.sh → python -m devtools.check）：报告格式、退
出码、改动检测。"""

from __future__ import annotations

import os
import re
import subprocess
import sys

from devtools.paths import ROOT

BAD = ROOT / "tests" / "fixtures" / "bad_pages"
_B = "tests/fixtures/bad_pages"
_WRITE = "代码块只能写当前目录和 /tmp"
_NET = "本站代码不能联网，数据请随包附带或由代码生成"
#: 越出沙箱的夹具：完整的一行
SANDBOX_LINES = [
    f"{_B}/foreign_import.md:9: foreign-import: 会执行的代码导入了 torch："
    "读者只装了 tinymodels（tinygrad、NumPy），请用 tinymodels 或 NumPy 改写",
    f"{_B}/hanging_block.md:9: sandbox: "
    "代码块运行超过 6 秒的上限（KB_BLOCK_TIMEOUT）",
    f"{_B}/sandbox_big_file.md:11: sandbox: "
    "代码块写入的数据超过了 256 MiB 的磁盘上限（KB_BLOCK_DISK_MB）",
    f"{_B}/sandbox_child_network.md:13: sandbox: "
    f"代码块（或它启动的进程）试图访问网络；{_NET}",
    f"{_B}/sandbox_delete.md:14: sandbox: 代码块试图写入或删除自己临时目录"
    f"以外的文件（{_B}/delete_me.txt）；{_WRITE}",
    f"{_B}/sandbox_memory.md:9: sandbox: "
    "代码块超过了 4096 MiB 的内存上限（KB_BLOCK_MEMORY_MB）",
    f"{_B}/sandbox_write.md:13: sandbox: 代码块试图写入或删除自己临时目录"
    f"以外的文件（tinymodels/kb-sandbox-test.txt）；{_WRITE}",
]


def _check(
    *args: str, env: dict | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "devtools.check", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def test_every_bad_fixture_reports_exactly_the_expected_file_line_rule():
    """每个坏页面夹具只违反一条规则；一次运行报告全部问题，且与 expected.txt
    完全一致。"""
    pages = sorted(str(p.relative_to(ROOT)) for p in BAD.glob("*.md"))
    proc = _check(
        "--docs-dir",
        str(BAD),
        "--config",
        str(BAD / "mkdocs.yml"),
        "--slow",
        "3",
        *pages,
        env={"KB_BLOCK_TIMEOUT": "6"},  # 大于过慢夹具的 4 秒
    )
    assert proc.returncode == 1, proc.stderr
    # 沙箱挡住了写和删：仓库没有变
    assert (BAD / "delete_me.txt").is_file()
    assert not (ROOT / "tinymodels" / "kb-sandbox-test.txt").exists()
    got = [
        re.sub(r"^([^:]+:\d+: [a-z0-9-]+):.*$", r"\1", ln)
        for ln in proc.stdout.splitlines()
    ]
    expected = [
        ln
        for ln in (BAD / "expected.txt")
        .read_text(encoding="utf-8")
        .splitlines()
        if ln and not ln.startswith("#")
    ]
    assert got == expected, "\n".join(proc.stdout.splitlines())
    # 每个规则至少有一个夹具
    rules = {ln.rsplit(": ", 1)[1] for ln in expected}
    assert rules >= {
        "math",
        "code-failed",
        "code-slow",
        "code-untested",
        "link",
        "anchor",
        "snippet-missing",
        "nav",
        "front-matter",
        "h1",
        "fence-lang",
        "typography",
        "forbidden",
        "network",
        "terminology",
        "exercises",
        "sandbox",
        "foreign-import",
        "placeholder",
        "output-changed",
        "output-missing",
    }
    # 沙箱与 foreign-import：一行、位置只写一次、没有内部类名，说明逐字固定
    lines = set(proc.stdout.splitlines())
    for line in SANDBOX_LINES:
        assert line in lines, "\n".join(proc.stdout.splitlines())
    assert "Error" not in "".join(ln for ln in lines if ": sandbox: " in ln)
    # 每一行都是 文件:行号: 规则: 说明
    assert all(
        re.match(r"^[^:]+:\d+: [a-z0-9-]+: \S", ln)
        for ln in proc.stdout.splitlines()
    )


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


def test_no_sandbox_means_one_line_and_nothing_runs():
    """bwrap 不能启动时：一行说明（带安装方法），退出码 2，不退回到不加沙箱
    运行。"""
    proc = _check(
        "docs/basics/gradient-descent.md", env={"KB_BWRAP": "/no/bwrap"}
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == ""
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("找不到 bwrap（bubblewrap）"), proc.stderr
    assert "bootstrap.sh" in last and "apt-get install bubblewrap" in last


def test_unused_snippet_is_reported_by_a_single_page_check(
    tmp_path, monkeypatch
):
    """单页检查也报告没有被嵌入的片段（CI 会报告它）。"""
    from devtools import doccheck

    (tmp_path / "unused.py").write_text("")  # 片段目录里只有一个没用的
    monkeypatch.setattr(doccheck, "SNIPPETS", tmp_path)
    monkeypatch.setattr(
        doccheck, "check_math", lambda pages: []
    )  # 与本测试无关，省掉 node
    page = ROOT / "docs" / "basics" / "gradient-descent.md"
    found = [p for p in doccheck.check([page]) if p.rule == "snippet-unused"]
    assert [p.message for p in found] == [
        "这个片段没有被任何页面嵌入（--8<--）"
    ], found
    assert found[0].path.endswith("unused.py")


def test_single_page_check_reports_ruff_problems_like_ci(tmp_path):
    """检查命令也报告代码块的代码风格（CI 的 devtools.lint 报告的那些）。"""
    from devtools import check

    page = tmp_path / "page.md"
    page.write_text(
        "# 页面\n\n```python\nimport os\nx=1\n```\n", encoding="utf-8"
    )
    found = check.style_problems([page])
    assert {(p.line, p.rule) for p in found} >= {(4, "ruff"), (5, "ruff")}
    assert any("F401" in p.message for p in found), found


def test_inlined_svg_diagrams_are_not_linted_as_python():
    """页面用 --8<-- 内联的 SVG 图不是代码：检查命令只对 .py 片段跑 ruff。"""
    from devtools.check import style_problems

    page = next(
        p
        for p in sorted((ROOT / "docs").rglob("*.md"))
        if '--8<-- "docs/assets/diagrams/' in p.read_text(encoding="utf-8")
    )
    assert style_problems([page]) == []
