"""代码块的输出：页面上写出代码块打印了什么，测试每次运行都核对它。

    python -m devtools.outputs PAGE...            # 核对：报告不符与缺失
    python -m devtools.outputs --update PAGE...   # 运行并写入或刷新输出块

输出写在代码块（或 ``--8<--`` 嵌入块）紧后面的 ```` ```output ```` 代码块
里，中间只能有空行，缩进与代码块相同。测试（devtools/sybil_blocks.py）和检
查命令（devtools/check.py）运行代码块后用 :func:`problem_for` 核对标准输出：

- 一条容差规则：两边的每个数都按相对误差 1e-3 比较
  （``|a - b| <= 1e-3 * max(|a|, |b|)``），其余文字去掉行尾空白后必须完全
  相同，末尾的空行不计；
- 期望输出里以 ``# 会变`` 结尾的行（例如计时）不比较，但行数仍要一致；
- 不符报告 ``page.md:行号: output-changed: …``（行号是输出块的开头围栏），
  后面跟 unified diff；代码块打印了东西却没有输出块，报告
  ``page.md:行号: output-missing: …``（行号是代码块的开头围栏）。
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from pathlib import Path

from devtools.codeblocks import OUTPUT_LANG, CodeBlock, iter_code_blocks
from devtools.paths import rel, write_atomic
from devtools.problems import Problem

#: 代码块运行通过、打印的内容却与页面上的输出块不同时的规则名（验证记录与
#: 徽章也用它说明失败原因）
OUTPUT_CHANGED = "output-changed"

#: 期望输出里以它结尾的行不比较
VARY_MARKER = "# 会变"
#: 数的相对容差
REL_TOL = 1e-3

_NUMBER = re.compile(r"([-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?)")


def _lines(text: str) -> list[str]:
    lines = [ln.rstrip() for ln in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _close(a: str, b: str) -> bool:
    x, y = float(a), float(b)
    return x == y or abs(x - y) <= REL_TOL * max(abs(x), abs(y))


def line_matches(expected: str, actual: str) -> bool:
    """一行是否相符：数按相对容差比较，其余文字必须相同。"""
    expected, actual = expected.rstrip(), actual.rstrip()
    if expected.endswith(VARY_MARKER):
        return True
    e, a = _NUMBER.split(expected), _NUMBER.split(actual)
    if len(e) != len(a):
        return False
    # split 带捕获组：偶数位是文字，奇数位是数
    return all(
        (x == y) if i % 2 == 0 else _close(x, y)
        for i, (x, y) in enumerate(zip(e, a, strict=True))
    )


def outputs_match(expected: str, actual: str) -> bool:
    """整段输出是否相符（行数相同、逐行相符）。"""
    e, a = _lines(expected), _lines(actual)
    return len(e) == len(a) and all(
        line_matches(x, y) for x, y in zip(e, a, strict=True)
    )


def diff(expected: str, actual: str, where: str) -> str:
    return "\n".join(
        difflib.unified_diff(
            _lines(expected),
            _lines(actual),
            f"{where}（页面上的输出）",
            "实际输出",
            lineterm="",
        )
    )


def output_blocks(
    text: str, blocks: list[CodeBlock] | None = None
) -> dict[int, CodeBlock]:
    """Python 代码块的序号（在 iter_code_blocks 里）→ 紧跟在它后面的输出
    块。"""
    if blocks is None:
        blocks = iter_code_blocks(text)
    lines = text.splitlines()
    found = {}
    for i, (block, nxt) in enumerate(zip(blocks, blocks[1:])):
        between = lines[block.end_line : nxt.line - 1]
        if (
            nxt.lang == OUTPUT_LANG
            and block.is_python
            and not any(ln.strip() for ln in between)
        ):
            found[i] = nxt
    return found


def own_stdout(stdout: str, previous_stdout: str | None) -> str:
    """续写块的程序连同前文一起运行：去掉前文打印的部分。"""
    if previous_stdout and stdout.startswith(previous_stdout):
        return stdout[len(previous_stdout) :]
    return stdout


def problem_for(
    block: CodeBlock, stdout: str, expected: CodeBlock | None
) -> tuple[Problem, str] | None:
    """通过的代码块的输出是否与页面相符；不符时返回 (问题, diff)。"""
    page = rel(block.path)
    if expected is None:
        if not stdout.strip():
            return None
        return (
            Problem(
                page,
                block.line,
                "output-missing",
                "代码块打印了输出，但后面没有 ```output 块；运行 "
                f"python -m devtools.outputs --update {page}",
            ),
            "",
        )
    if outputs_match(expected.code, stdout):
        return None
    where = f"{page}:{expected.line}"
    return (
        Problem(
            page,
            expected.line,
            OUTPUT_CHANGED,
            "代码块的输出与页面上写的不同；确认后运行 "
            f"python -m devtools.outputs --update {page}",
        ),
        diff(expected.code, stdout, where),
    )


# ---------------------------------------------------------------- 刷新


def _fence(body: list[str]) -> str:
    longest = max(
        (len(m) for ln in body for m in re.findall(r"`+", ln)), default=0
    )
    return "`" * max(3, longest + 1)


def _keep_markers(old: str, new: str) -> list[str]:
    """新输出逐行写出；旧输出里标了会变的行，新的同一行也标上。"""
    old_lines, new_lines = _lines(old), _lines(new)
    out = []
    for i, ln in enumerate(new_lines):
        if (
            i < len(old_lines)
            and old_lines[i].endswith(VARY_MARKER)
            and not ln.endswith(VARY_MARKER)
        ):
            ln = f"{ln}  {VARY_MARKER}"
        out.append(ln)
    return out


def _indent_of(lines: list[str], block: CodeBlock) -> str:
    first = lines[block.line - 1]
    return first[: len(first) - len(first.lstrip(" \t"))]


def updated_text(text: str, stdouts: dict[int, str]) -> str:
    """把每个代码块（序号 → 它自己的标准输出）的输出写进页面：没有输出块就
    在代码块后面插入，不符就替换，没有输出了就删掉；相符的保持原样。"""
    lines = text.splitlines()
    blocks = iter_code_blocks(text)
    outputs = output_blocks(text, blocks)
    # 从后往前改：前面的行号不变
    for index in sorted(stdouts, reverse=True):
        block, stdout = blocks[index], stdouts[index]
        old = outputs.get(index)
        if old is not None and outputs_match(old.code, stdout):
            continue
        indent = _indent_of(lines, block)
        if old is not None:
            start, end = block.end_line, old.end_line  # 连同空行一起换掉
            body = _keep_markers(old.code, stdout)
        else:
            start = end = block.end_line
            body = _lines(stdout)
        new = []
        if body:
            fence = _fence(body)
            new = [
                "",
                f"{indent}{fence}{OUTPUT_LANG}",
                *[f"{indent}{ln}" if ln else "" for ln in body],
                f"{indent}{fence}",
            ]
            if end < len(lines) and lines[end].strip():
                new.append("")  # 输出块后面紧跟正文时空一行
        lines[start:end] = new
    return "\n".join(lines) + ("\n" if text.endswith("\n") else "")


def run_page_outputs(page: Path):
    """运行页面的代码块：(页面, 代码块, 序号 → 自己的标准输出, 失败)。"""
    from devtools import runner

    text = page.read_text(encoding="utf-8")
    blocks = iter_code_blocks(text, page)
    index_of = {b.start: i for i, b in enumerate(blocks)}
    stdouts, failed, previous = {}, [], None
    for block, result in runner.run_page(page):
        if result.ok:
            stdouts[index_of[block.start]] = own_stdout(
                result.stdout,
                previous if block.continues_previous else None,
            )
            previous = result.stdout
        else:
            previous = None
            if result.outcome != "skipped":
                failed.append(result)
    return text, blocks, stdouts, failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.outputs",
        description="核对或刷新页面上代码块的输出（```output 块）",
    )
    parser.add_argument("pages", nargs="+", type=Path)
    parser.add_argument(
        "--update", action="store_true", help="把实际输出写进页面"
    )
    args = parser.parse_args(argv)
    status = 0
    for page in args.pages:
        text, blocks, stdouts, failed = run_page_outputs(page)
        for result in failed:
            print(result.failure_line())
            status = 1
        if args.update:
            new = updated_text(text, stdouts)
            if new != text:
                write_atomic(page, new)
                print(f"已更新 {rel(page)}", file=sys.stderr)
            continue
        outputs = output_blocks(text, blocks)
        for index, stdout in stdouts.items():
            found = problem_for(blocks[index], stdout, outputs.get(index))
            if found:
                print(found[0])
                if found[1]:
                    print(found[1])
                status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
