"""代码风格检查：``ruff format --check`` 与 ``ruff check``，也查文章里的代码
块。

    python -m devtools.lint            # 全部：文件与文章里的代码块
    python -m devtools.lint --no-docs  # 不查文章里的代码块

配置在 pyproject.toml 的 ``[tool.ruff]``。检查的范围：

- 文件：``tinymodels/ snippets/ devtools/ tests/ benchmarks/ scripts/*.py``，
  以及 docs/ 下的笔记本页面（jupytext 的 .py）；
- docs/ 的 Markdown 里每个会执行的 Python 代码块（解析规则同测试，见
  devtools/codeblocks.py），各写成临时文件一起交给 ruff，行号换算回
  ``页面.md:行号``。
  嵌入片段的代码块（``--8<--``）不单独查：snippets/ 已经查过了。

每个问题一行：``文件:行号: ruff: 说明``；格式问题每处改动一行，说明里写着从这
一行起要改几行。修复：``ruff format`` 与 ``ruff check --fix``。退出码：0 没有
问题；1 发现问题；2 没有安装 ruff（``pip install -e .[docs]``）。
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from devtools.codeblocks import iter_code_blocks
from devtools.paths import DOCS, ROOT, rel
from devtools.problems import Problem

#: 整体交给 ruff 的目录与文件（相对仓库根目录）
TARGETS = ("tinymodels", "snippets", "devtools", "tests", "benchmarks")
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


class RuffMissing(RuntimeError):
    pass


@dataclass(frozen=True)
class Source:
    """交给 ruff 的一段代码：文章里的一个代码块。"""

    page: str  # 页面（相对仓库根目录）
    offset: int  # ruff 的第 n 行是页面的第 offset + n 行
    code: str  # 代码块自己的代码（格式检查用）
    context: str = (
        ""  # 续写块的前文（规则检查时放在代码前面，不报告它的问题）
    )


def ruff(*args: str) -> subprocess.CompletedProcess:
    """在仓库根目录运行 ruff（用当前解释器里安装的那个）。"""
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )
    if proc.returncode != 0 and "No module named ruff" in proc.stderr:
        raise RuffMissing("没有安装 ruff：pip install -e .[docs]")
    return proc


def format_hunks(diff: str) -> list[tuple[str, int, int]]:
    """``ruff format --diff`` 的输出 → [(文件, 首个改动行, 原有行数)]。"""
    out: list[tuple[str, int, int, bool]] = []
    path, old_left, new_left = "", 0, 0
    for text in diff.splitlines():
        if old_left or new_left:  # 在一段改动（hunk）里
            tag = text[:1]
            old_left -= tag in (" ", "-", "")
            new_left -= tag in (" ", "+", "")
            file, line, count, started = out[-1]
            if tag in (" ", "") and not started:
                out[-1] = (file, line + 1, 0, False)  # 还在开头的上下文里
            elif tag in ("-", "+"):
                out[-1] = (file, line, count + (tag == "-"), True)
        elif text.startswith("--- "):
            path = text[4:].strip()
        elif m := _HUNK.match(text):
            old_left = int(m.group(2) or 1)
            new_left = int(m.group(4) or 1)
            out.append((path, max(int(m.group(1)), 1), 0, False))
    return [(file, line, max(count, 1)) for file, line, count, _ in out]


def _format_problem(path: str, line: int, count: int) -> Problem:
    message = f"格式不符合 ruff format（从这一行起 {count} 行要重新排版）"
    return Problem(path, line, "ruff", message)


def _check_problems(output: str) -> list[tuple[str, int, str]]:
    """``ruff check --output-format json`` → [(文件, 行, 说明)]。"""
    found = []
    for item in json.loads(output or "[]"):
        code = item.get("code") or "error"
        message = f"{code} {item['message']}"
        found.append((item["filename"], item["location"]["row"], message))
    return found


def lint_files(targets: list[str]) -> list[Problem]:
    """ruff 检查这些文件与目录（相对仓库根目录）。"""
    problems = []
    fmt = ruff("format", "--diff", *targets)
    for path, line, count in format_hunks(fmt.stdout):
        problems.append(_format_problem(rel(ROOT / path), line, count))
    checked = ruff("check", "--output-format", "json", *targets)
    for path, line, message in _check_problems(checked.stdout):
        problems.append(Problem(rel(path), line, "ruff", message))
    return problems


def block_sources(pages: list[Path]) -> list[Source]:
    """页面里会执行、且不是嵌入片段的 Python 代码块。"""
    sources = []
    for page in pages:
        previous = ""
        text = page.read_text(encoding="utf-8")
        for block in iter_code_blocks(text, page):
            if not block.is_python or block.skip_reason is not None:
                continue
            if block.includes or not block.code.strip():
                previous = ""
                continue
            context = previous if block.continues_previous else ""
            sources.append(Source(rel(page), block.line, block.code, context))
            previous = context + block.code
    return sources


def lint_source(src: Source) -> list[Problem]:
    """一个代码块：格式按代码块本身，规则检查带上续写块的前文。"""
    return lint_sources([src])


def lint_sources(sources: list[Source]) -> list[Problem]:
    """代码块的风格问题；所有代码块只调用两次 ruff（一次格式、一次规则）。

    每个代码块写成临时目录里的一个文件，用仓库的 pyproject.toml 作配置；
    几百个代码块逐个启动 ruff 要十几秒，这样不到一秒。
    """
    if not sources:
        return []
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        fmt_dir, chk_dir = Path(tmp, "format"), Path(tmp, "check")
        fmt_dir.mkdir()
        chk_dir.mkdir()
        for i, src in enumerate(sources):
            (fmt_dir / f"{i}.py").write_text(src.code, encoding="utf-8")
            (chk_dir / f"{i}.py").write_text(
                src.context + src.code, encoding="utf-8"
            )
        config = ("--config", str(ROOT / "pyproject.toml"))
        fmt = ruff("format", *config, "--diff", str(fmt_dir))
        for path, line, count in format_hunks(fmt.stdout):
            src = sources[int(Path(path).stem)]
            where = src.offset + line
            problems.append(_format_problem(src.page, where, count))
        checked = ruff(
            "check", *config, "--output-format", "json", str(chk_dir)
        )
        for path, line, message in _check_problems(checked.stdout):
            src = sources[int(Path(path).stem)]
            skip = src.context.count("\n")
            if line > skip:
                where = src.offset + line - skip
                problems.append(Problem(src.page, where, "ruff", message))
    return problems


def default_targets() -> list[str]:
    scripts = sorted(rel(p) for p in (ROOT / "scripts").glob("*.py"))
    notebooks = sorted(rel(p) for p in DOCS.rglob("*.py"))
    return [*TARGETS, *scripts, *notebooks]


def run(docs: bool = True) -> list[Problem]:
    """全部风格问题，按文件、行号排序。"""
    problems = lint_files(default_targets())
    if docs:
        problems += lint_sources(block_sources(sorted(DOCS.rglob("*.md"))))
    return sorted(set(problems))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.lint", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--no-docs", action="store_true", help="不检查文章里的代码块"
    )
    args = parser.parse_args(argv)
    try:
        problems = run(docs=not args.no_docs)
    except RuffMissing as err:
        print(err, file=sys.stderr)
        return 2
    for p in problems:
        print(p)
    summary = f"{len(problems)} 个风格问题" if problems else "没有风格问题"
    print(summary, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
