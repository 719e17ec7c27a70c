"""术语检查（devtools/terminology.py）与练习检查（devtools/exercises.py）。"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from devtools import doccheck, exercises, terminology
from devtools.codeblocks import iter_code_blocks

ROOT = Path(__file__).resolve().parents[2]
BAD = ROOT / "tests" / "fixtures" / "bad_pages"
GOOD = ROOT / "tests" / "fixtures" / "good_pages"


def _run(page: Path, capsys) -> tuple[int, list[str]]:
    code = doccheck.main(["--docs-dir", str(page.parent), str(page)])
    return code, capsys.readouterr().out.strip().splitlines()


# ---------------------------------------------------------------- 术语


def test_terminology_fixture_reports_exactly_one_line(capsys):
    """正文里的“隐藏状态”被报告；行内代码、代码块、HTML 注释里的不报告。"""
    code, out = _run(BAD / "terminology.md", capsys)
    assert code == 1
    assert out == [
        "tests/fixtures/bad_pages/terminology.md:8: terminology: "
        "用「隐状态」而不是「隐藏状态」"
    ]


def test_glossary_is_the_single_source_of_truth():
    text = terminology.GLOSSARY.read_text(encoding="utf-8")
    variants = terminology.parse_variants(text)
    assert len(variants) >= 20
    pairs = {(v.preferred, v.variant) for v in variants}
    # 审阅中发现的几组两种写法，都已有约定
    assert {
        ("基于人类反馈的强化学习", "人类反馈强化学习"),
        ("隐状态", "隐藏状态"),
        ("top-5 错误率", "前 5 错误率"),
    } <= pairs
    # 术语表自身：术语不重复，“本站写法”都是术语
    assert terminology.check_glossary(terminology.GLOSSARY, text) == []


def test_glossary_duplicates_and_unknown_preferred_terms_are_reported(
    tmp_path,
):
    glossary = tmp_path / "glossary.md"
    glossary.write_text(
        "# 术语表\n\n"
        "| 中文术语 | 英文 | 一句话定义 | 详见 |\n| --- | --- | --- | --- |\n"
        "| 幻觉 | hallucination | 一 | x |\n"
        "| 幻觉 | hallucination | 二 | x |\n\n"
        "## 统一写法\n\n"
        "| 本站写法 | 不用的写法 | 说明 |\n| --- | --- | --- |\n"
        "| 隐状态 | 隐藏状态 | 不在上面的表里 |\n",
        encoding="utf-8",
    )
    messages = [
        p.message
        for p in terminology.check_glossary(
            glossary, glossary.read_text(encoding="utf-8")
        )
    ]
    assert messages == [
        "术语「幻觉」在术语表里出现了两次（另见第 5 行）",
        "本站写法「隐状态」不是术语表里的术语，请先把它加进术语表",
    ]


def test_variant_inside_the_preferred_term_is_not_reported():
    variants = [terminology.Variant("批归一化层", "归一化", 1)]
    prose = "批归一化层很常见。\n这里只写了归一化。\n"
    assert [
        p.line for p in terminology.check_text("x.md", prose, variants)
    ] == [2]


def test_spaces_between_chinese_and_latin_do_not_hide_a_variant():
    variants = [terminology.Variant("top-5 错误率", "前 5 错误率", 1)]
    problems = terminology.check_text(
        "x.md", "前5错误率为 15.3%。\n", variants
    )
    assert [p.message for p in problems] == [
        "用「top-5 错误率」而不是「前 5 错误率」"
    ]


def test_notebooks_are_checked_in_markdown_cells_only():
    text = (
        "# %% [markdown]\n# 它的隐藏状态\n\n"
        "# %%\n# 代码注释里的隐藏状态不算\nx = 1\n"
    )
    problems = terminology.check_terminology(Path("docs/x-notebook.py"), text)
    assert [p.line for p in problems] == [2]


# ---------------------------------------------------------------- 练习


def test_exercise_fixture_reports_missing_and_open_answers(capsys):
    code, out = _run(BAD / "exercise_without_answer.md", capsys)
    assert code == 1
    assert out == [
        "tests/fixtures/bad_pages/exercise_without_answer.md:16: exercises: "
        "第 2 题没有参考答案：在题目下面加一个缩进 4 个空格的 "
        '??? note "参考答案" 折叠块',
        "tests/fixtures/bad_pages/exercise_without_answer.md:19: exercises: "
        "第 3 题的参考答案要默认折叠：用 ??? 而不是 ???+",
    ]


def test_empty_or_unindented_answers_are_reported():
    text = (
        '# 标题\n\n## 练习\n\n1. 题目一\n\n    ??? note "参考答案"\n\n'
        '2. 题目二\n\n??? note "参考答案"\n\n    不在列表项里\n'
    )
    found, _ = exercises.find_exercises(text)
    assert [ex.problem for ex in found] == [
        "第 1 题的参考答案是空的：答案正文要比 ??? 多缩进 4 个空格",
        "第 2 题的参考答案要缩进 4 个空格，放在题目的列表项里",
    ]


def test_every_exercise_on_the_site_has_an_answer():
    total = with_code = 0
    for page in doccheck.doc_pages():
        if page.suffix != ".md":
            continue
        text = page.read_text(encoding="utf-8")
        found, section_problems = exercises.find_exercises(text)
        assert not section_problems, page
        for ex in found:
            assert ex.answer_line and not ex.problem, (
                f"{page}:{ex.line}: {ex.problem}"
            )
        total += len(found)
        with_code += sum(ex.answer_has_code for ex in found)
    assert total >= 40 and with_code >= 10
    print(f"{total} 道练习都有参考答案，其中 {with_code} 道的答案带代码")


def test_answer_code_blocks_are_collected_and_run():
    """答案里的代码块（在列表项内的 ??? 折叠块里）同样被 Sybil 收集、执行。"""
    page = GOOD / "exercise_answers.md"
    blocks = [
        b
        for b in iter_code_blocks(page.read_text(encoding="utf-8"), page)
        if b.is_python
    ]
    assert [b.line for b in blocks] == [16, 26]
    found, _ = exercises.find_exercises(page.read_text(encoding="utf-8"))
    assert [ex.answer_has_code for ex in found] == [True, True]
    env = {**os.environ, "KB_DOCS": str(GOOD)}
    env.pop("PYTEST_XDIST_WORKER", None)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(page),
            "-q",
            "-p",
            "no:xdist",
            "-p",
            "no:cacheprovider",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 passed" in proc.stdout, proc.stdout
