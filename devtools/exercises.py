"""练习检查：每道练习都要有默认折叠的参考答案。

页面的练习写在标题为“练习”的一节（``## 练习``）里，每道题是一个编号
列表项。参考答案紧跟在题目下面，缩进 4 个空格，放进 pymdownx.details 的
折叠块（``???`` 默认折叠；``???+`` 默认展开，不允许）：

    1. 题目……

        ??? note "参考答案"

            推理过程……

            ```python
            # 算了什么，就用代码算一遍，并以断言结尾
            ```

    2. 下一题……

答案里的代码块和正文里的一样会被测试执行。问题报告为
``文件:行号: exercises: 说明``。

    python -m devtools.exercises            # 整个 docs/，并统计答案
    python -m devtools.exercises docs/x.md  # 只检查指定页面
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from devtools.codeblocks import iter_code_blocks
from devtools.paths import doc_pages, rel
from devtools.problems import Problem, pages_from_args, report

RULE = "exercises"
ANSWER_TITLE = "参考答案"

_SECTION = re.compile(r"^(?P<level>#{2,3})[ \t]+(练习|习题)[ \t]*#*[ \t]*$")
_HEADING = re.compile(r"^(?P<level>#{1,6})[ \t]+\S")
_ITEM = re.compile(r"^(?P<num>\d+)[.)][ \t]+\S")
#: 折叠块或提示框的第一行：!!! / ??? / ???+，类型，可选的标题
_ADMONITION = re.compile(
    r"^(?P<indent>[ \t]*)(?P<kind>!!!|\?\?\?\+?)[ \t]+[\w-]+"
    r'(?:[ \t]+"(?P<title>[^"]*)")?'
)


@dataclass
class Exercise:
    number: int
    line: int  # 题目所在行（从 1 开始）
    answer_line: int | None = None  # 参考答案折叠块所在行
    answer_has_code: bool = False
    problem: str | None = None  # 不符合要求时的说明


def _problem(path: str, line: int, message: str) -> Problem:
    return Problem(path, line, RULE, message)


def _code_lines(text: str) -> set[int]:
    """代码块占据的行号（从 1 开始），这些行里的 # 不是标题。"""
    lines: set[int] = set()
    for block in iter_code_blocks(text):
        lines.update(range(block.line, block.end_line + 1))
    return lines


def find_exercises(text: str) -> tuple[list[Exercise], list[tuple[int, str]]]:
    """找出页面里的练习与它们的参考答案。

    返回 (练习列表, [(行号, 整节的问题)])。
    """
    lines = text.splitlines()
    in_code = _code_lines(text)
    exercises: list[Exercise] = []
    section_problems: list[tuple[int, str]] = []
    i = 0
    while i < len(lines):
        m = _SECTION.match(lines[i])
        if not m or (i + 1) in in_code:
            i += 1
            continue
        level = len(m.group("level"))
        start = i
        end = i + 1
        while end < len(lines):
            h = _HEADING.match(lines[end])
            if (
                h
                and (end + 1) not in in_code
                and len(h.group("level")) <= level
            ):
                break
            end += 1
        items = [
            k
            for k in range(start + 1, end)
            if _ITEM.match(lines[k]) and (k + 1) not in in_code
        ]
        if not items:
            section_problems.append(
                (start + 1, "“练习”一节里没有编号的题目（1. 2. 3. ……）")
            )
        for n, k in enumerate(items):
            stop = items[n + 1] if n + 1 < len(items) else end
            ex = Exercise(int(_ITEM.match(lines[k]).group("num")), k + 1)
            _find_answer(ex, lines, k + 1, stop, in_code)
            exercises.append(ex)
        i = end
    return exercises, section_problems


def _find_answer(
    ex: Exercise, lines: list[str], first: int, stop: int, in_code: set[int]
) -> None:
    for k in range(first, stop):
        if (k + 1) in in_code:
            continue
        m = _ADMONITION.match(lines[k])
        if not m or m.group("title") != ANSWER_TITLE:
            continue
        ex.answer_line = k + 1
        indent = len(m.group("indent").expandtabs(4))
        if m.group("kind") != "???":
            ex.problem = (
                f"第 {ex.number} 题的参考答案要默认折叠："
                f"用 ??? 而不是 {m.group('kind')}"
            )
        elif indent < 4:
            ex.problem = (
                f"第 {ex.number} 题的参考答案要缩进 4 个空格，"
                "放在题目的列表项里"
            )
        else:
            body = [ln for ln in lines[k + 1 : stop] if ln.strip()]
            if not body or len(body[0]) - len(body[0].lstrip()) <= indent:
                ex.problem = (
                    f"第 {ex.number} 题的参考答案是空的："
                    "答案正文要比 ??? 多缩进 4 个空格"
                )
            ex.answer_has_code = any(k + 1 < ln <= stop for ln in in_code)
        return
    ex.problem = (
        f"第 {ex.number} 题没有参考答案：在题目下面加一个缩进 4 个空格的 "
        f'??? note "{ANSWER_TITLE}" 折叠块'
    )


def check_exercises(page: Path, text: str) -> list:
    """检查一个页面；只有 Markdown 文章才有练习。"""
    page = Path(page)
    if page.suffix != ".md":
        return []
    loc = rel(page)
    exercises, section_problems = find_exercises(text)
    problems = [_problem(loc, line, msg) for line, msg in section_problems]
    problems += [
        _problem(loc, ex.answer_line or ex.line, ex.problem)
        for ex in exercises
        if ex.problem
    ]
    return problems


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    pages = pages_from_args(argv, doc_pages)
    if pages is None:
        return 2
    problems, total, answered, with_code = [], 0, 0, 0
    for page in pages:
        text = page.read_text(encoding="utf-8")
        problems += check_exercises(page, text)
        if page.suffix == ".md":
            exercises, _ = find_exercises(text)
            total += len(exercises)
            answered += sum(
                ex.answer_line is not None and not ex.problem
                for ex in exercises
            )
            with_code += sum(ex.answer_has_code for ex in exercises)
    summary = (
        f"{total} 道练习，{answered} 道有参考答案，"
        f"其中 {with_code} 道的答案带代码"
    )
    return report(problems, summary)


if __name__ == "__main__":
    sys.exit(main())
