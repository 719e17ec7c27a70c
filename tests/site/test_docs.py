"""文档检查：全站无问题；每个坏页面夹具都报出准确的 文件:行号: 规则。"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from devtools import doccheck
from devtools.codeblocks import iter_code_blocks
from devtools.paths import ROOT

BAD = ROOT / "tests" / "fixtures" / "bad_pages"


def test_docs_have_no_problems():
    """全站检查：公式、未测试的代码块、嵌入、链接、锚点、导航、front matter、
    一级标题。"""
    problems = doccheck.check()
    assert not problems, "文档检查发现问题：\n" + "\n".join(
        map(str, problems)
    )


def test_every_python_block_is_executed_or_skipped_with_reason():
    """覆盖率闸门：docs/ 中每个 Python 代码块要么执行，要么带理由跳过。"""
    executed = skipped = 0
    for page in doccheck.doc_pages():
        if page.suffix != ".md":
            continue
        for block in iter_code_blocks(page.read_text(encoding="utf-8"), page):
            if block.is_python:
                assert block.skip_reason != "", (
                    f"{block.location}: skip 没写理由"
                )
                if block.skip_reason:
                    skipped += 1
                else:
                    executed += 1
    assert executed > 0
    print(f"执行 {executed} 个代码块，带理由跳过 {skipped} 个")


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        (
            "bad_formula.md",
            "tests/fixtures/bad_pages/bad_formula.md:8: math: ",
        ),
        (
            "missing_snippet.md",
            "tests/fixtures/bad_pages/missing_snippet.md:9: "
            "snippet-missing: ",
        ),
        (
            "broken_link.md",
            "tests/fixtures/bad_pages/broken_link.md:8: link: ",
        ),
        (
            "broken_anchor.md",
            "tests/fixtures/bad_pages/broken_anchor.md:10: anchor: ",
        ),
        (
            "skip_without_reason.md",
            "tests/fixtures/bad_pages/skip_without_reason.md:8: "
            "code-untested: ",
        ),
        (
            "untested_block.md",
            "tests/fixtures/bad_pages/untested_block.md:8: code-untested: ",
        ),
    ],
)
def test_bad_page_reports_file_line_rule(page, expected, capsys):
    code = doccheck.main(["--docs-dir", str(BAD), str(BAD / page)])
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 1
    assert len(out) == 1, out  # 恰好一个问题，一行说明
    assert out[0].startswith(expected), out[0]


def test_bad_formula_message_comes_from_katex(capsys):
    doccheck.main(["--docs-dir", str(BAD), str(BAD / "bad_formula.md")])
    assert "KaTeX parse error" in capsys.readouterr().out


def test_doccheck_exit_codes(capsys):
    assert doccheck.main([str(ROOT / "docs" / "index.md")]) == 0
    assert (
        doccheck.main([str(BAD / "broken_link.md"), "--docs-dir", str(BAD)])
        == 1
    )
    assert doccheck.main([str(ROOT / "docs" / "no-such-page.md")]) == 2


def _run_fixture_blocks(
    page: str, timeout: str = "120"
) -> subprocess.CompletedProcess:
    """在子进程里用本仓库的 Sybil 配置运行一个夹具页面的代码块。"""
    env = {**os.environ, "KB_DOCS": str(BAD), "KB_BLOCK_TIMEOUT": timeout}
    env.pop("PYTEST_XDIST_WORKER", None)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(BAD / page),
            "-q",
            "-p",
            "no:xdist",
            "-rs",
            "--durations=0",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_failing_block_reports_page_and_line():
    proc = _run_fixture_blocks("failing_block.md")
    assert proc.returncode == 1, proc.stdout
    # traceback 指向 Markdown 里真实的行，摘要里给出一行原因
    assert (
        "tests/fixtures/bad_pages/failing_block.md:10: in <module>"
        in proc.stdout
    ), proc.stdout
    assert "AssertionError: 和应为 7，实际为 6" in proc.stdout


def test_hanging_block_is_stopped_with_its_location():
    proc = _run_fixture_blocks("hanging_block.md", timeout="2")
    assert proc.returncode == 1, proc.stdout
    assert (
        "tests/fixtures/bad_pages/hanging_block.md:9: sandbox: "
        "代码块运行超过 2 秒的上限" in proc.stdout
    ), proc.stdout


def test_sandbox_failure_is_one_line_in_pytest_too():
    """测试命令与检查命令给出同一行：文件:行号: 规则: 说明。"""
    proc = _run_fixture_blocks("sandbox_write.md")
    assert proc.returncode == 1, proc.stdout
    assert (
        "tests/fixtures/bad_pages/sandbox_write.md:13: sandbox: "
        "代码块试图写入或删除自己临时目录以外的文件"
        "（tinymodels/kb-sandbox-test.txt）" in proc.stdout
    ), proc.stdout
    assert not (ROOT / "tinymodels" / "kb-sandbox-test.txt").exists()


def test_missing_snippet_fails_the_block_too():
    proc = _run_fixture_blocks("missing_snippet.md")
    assert proc.returncode == 1
    assert (
        "missing_snippet.md:9: 嵌入的文件不存在：snippets/no/such_file.py"
        in proc.stdout
    ), proc.stdout


def test_skip_without_reason_fails_and_skip_with_reason_is_skipped():
    proc = _run_fixture_blocks("skip_without_reason.md")
    assert proc.returncode == 1
    assert "skip 注释必须写明理由" in proc.stdout


GOOD = ROOT / "tests" / "fixtures" / "good_pages"


def test_all_fence_forms_are_collected_and_run():
    """```python、```py、带标题/属性的代码块、标签页与提示框里的代码块都被执
    行；跳过显示为 SKIPPED。"""
    env = {**os.environ, "KB_DOCS": str(GOOD)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(GOOD / "forms.md"),
            "-q",
            "-p",
            "no:xdist",
            "-rs",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout
    assert "9 passed, 1 skipped" in proc.stdout, proc.stdout
    assert "forms.md:56: 演示：带理由的跳过" in proc.stdout, proc.stdout


def test_preview_reports_problems_in_the_terminal(capsys):
    """scripts/serve.sh：每次重建后，钩子把改过的页面的问题按
    文件:行号: 规则: 说明 打印到终端（不让预览失败）。"""
    from devtools import mkdocs_hooks

    mkdocs_hooks._report_problems(BAD, 0.0)
    err = capsys.readouterr().err.splitlines()
    assert (
        "tests/fixtures/bad_pages/broken_link.md:8: link: "
        "链接的目标不存在：no-such-page.md" in err
    )
    assert any(
        ln.startswith("tests/fixtures/bad_pages/bad_formula.md:8: math: ")
        and "“\\frac{1}{N \\sum_i x_i”" in ln
        for ln in err
    ), err
