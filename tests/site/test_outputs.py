"""代码块的输出（devtools/outputs.py）：容差规则、会变标记、输出块的位置与
刷新。"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from devtools import outputs
from devtools.codeblocks import iter_code_blocks
from devtools.paths import ROOT

F = "```"


def test_numbers_within_relative_tolerance_match():
    assert outputs.outputs_match("损失 1.0000", "损失 1.0009")
    assert outputs.outputs_match(
        "w = 2.008，b = -0.497", "w = 2.009，b = -0.4971"
    )
    assert outputs.outputs_match("[0.694 2.   ]", "[0.6943 2.   ]")
    assert outputs.outputs_match("1e-05", "1.0004e-05")
    assert outputs.outputs_match("-0.0", "0.0")


def test_numbers_outside_tolerance_do_not_match():
    assert not outputs.outputs_match("损失 1.000", "损失 1.002")
    assert not outputs.outputs_match("形状 (2, 3)", "形状 (2, 4)")
    assert not outputs.outputs_match("0", "1e-9")
    assert not outputs.outputs_match("准确率 0.95", "准确率 0.95 0.1")


def test_text_must_match_except_trailing_whitespace():
    assert outputs.outputs_match("a  \nb\n\n", "a\nb")
    assert not outputs.outputs_match("损失 1.0", "误差 1.0")
    assert not outputs.outputs_match("a\nb", "a\nb\nc")
    assert not outputs.outputs_match(" a", "a")


def test_vary_marker_skips_the_line_but_not_the_line_count():
    expected = "用时 0.53 秒  # 会变\n结果 3"
    assert outputs.outputs_match(expected, "用时 12.9 秒\n结果 3")
    assert not outputs.outputs_match(expected, "用时 12.9 秒\n结果 4")
    assert not outputs.outputs_match(expected, "结果 3")


PAGE = f"""# 页面

{F}python
print(1 + 1)
{F}

{F}output
2
{F}

!!! note "提示"

    {F}python
    print("缩进")
    {F}

    {F}output
    缩进
    {F}

{F}python
x = 1
{F}

正文

{F}output
不紧跟代码块
{F}
"""


def test_output_block_directly_after_code_block_belongs_to_it():
    blocks = iter_code_blocks(PAGE)
    found = outputs.output_blocks(PAGE, blocks)
    pairs = {blocks[i].line: o.code for i, o in found.items()}
    assert pairs == {3: "2\n", 13: "缩进\n"}


def test_problems_report_changed_and_missing_at_page_line():
    path = Path("docs/x.md")
    blocks = iter_code_blocks(PAGE, path)
    found = outputs.output_blocks(PAGE, blocks)
    changed, diff = outputs.problem_for(blocks[0], "3\n", found[0])
    assert str(changed).startswith("docs/x.md:7: output-changed: ")
    assert "-2" in diff and "+3" in diff and "docs/x.md:7" in diff
    assert outputs.problem_for(blocks[0], "2.0001\n", found[0]) is None
    missing, _ = outputs.problem_for(blocks[4], "1\n", None)
    assert str(missing).startswith("docs/x.md:21: output-missing: ")
    assert outputs.problem_for(blocks[4], "", None) is None


def test_update_inserts_replaces_and_keeps_markers():
    text = f"{F}python\nprint(1)\n{F}\n正文\n"
    new = outputs.updated_text(text, {0: "1\n"})
    assert new == f"{F}python\nprint(1)\n{F}\n\n{F}output\n1\n{F}\n\n正文\n"
    # 相符的不改；不符的替换；会变的行保留标记
    assert outputs.updated_text(new, {0: "1.0001\n"}) == new
    marked = new.replace("\n1\n", "\n用时 1 秒  # 会变\n")
    again = outputs.updated_text(marked, {0: "用时 2 秒\n2\n"})
    assert "用时 2 秒  # 会变\n2\n" in again
    # 缩进的代码块：输出块同样缩进；没有输出了就删掉输出块
    indented = PAGE.split("!!! note")[1]
    updated = outputs.updated_text(indented, {0: "新的\n"})
    assert "    ```output\n    新的\n    ```" in updated
    removed = outputs.updated_text(new, {0: ""})
    assert removed == f"{F}python\nprint(1)\n{F}\n\n正文\n"


BAD = ROOT / "tests" / "fixtures" / "bad_pages"


def _run_fixture(page: str) -> subprocess.CompletedProcess:
    """用本仓库的 Sybil 配置运行一个夹具页面的代码块（同 test_docs.py）。"""
    env = {**os.environ, "KB_DOCS": str(BAD)}
    env.pop("PYTEST_XDIST_WORKER", None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", str(BAD / page), "-q"]
        + ["-p", "no:xdist"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_changed_output_fails_the_block_with_a_diff():
    proc = _run_fixture("changed_output.md")
    assert proc.returncode == 1, proc.stdout
    assert (
        "tests/fixtures/bad_pages/changed_output.md:14: output-changed: "
        in proc.stdout
    ), proc.stdout
    assert "-最终损失 0.7" in proc.stdout, proc.stdout
    assert "+最终损失 0.5" in proc.stdout, proc.stdout


def test_missing_output_fails_the_block_with_one_line():
    proc = _run_fixture("missing_output.md")
    assert proc.returncode == 1, proc.stdout
    assert (
        "tests/fixtures/bad_pages/missing_output.md:8: output-missing: "
        in proc.stdout
    ), proc.stdout


def test_doccheck_accepts_output_blocks_only_after_python_blocks():
    from devtools.doccheck import check_fence_languages

    orphan = f"{F}bash\nls\n{F}\n\n{F}output\na.txt\n{F}\n"
    # 紧跟代码块的输出块没有问题，隔着正文的那个有
    page = check_fence_languages(Path("x.md"), PAGE)
    assert [(p.line, p.rule) for p in page] == [(27, "fence-lang")]
    problems = check_fence_languages(Path("x.md"), orphan)
    assert [(p.line, p.rule) for p in problems] == [(5, "fence-lang")]
