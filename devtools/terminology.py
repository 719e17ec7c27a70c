"""术语检查：一个概念只用一种写法，术语表是唯一的依据。

术语表 ``docs/glossary.md`` 的“统一写法”一节有一张表，表头是
``| 本站写法 | 不用的写法 | 说明 |``。每行左边是本站采用的写法（必须是
术语表里的一个术语），中间是同一概念的其他写法，用顿号“、”分隔，例如：

    | 隐状态 | 隐藏状态 | RNN 每个时间步维护的向量 |

检查命令在每个页面（文章，以及笔记本的 Markdown 单元格）里找这些“不用的
写法”，每处报告一行：

    docs/index.md:26: terminology: 用「隐状态」而不是「隐藏状态」

不检查代码块、行内代码、HTML 注释和链接地址，也不检查术语表自己的
“统一写法”表。此外还检查术语表本身：同一个术语不能在术语表里出现两次；
“本站写法”必须是术语表里的术语。

    python -m devtools.terminology            # 检查整个 docs/
    python -m devtools.terminology docs/x.md  # 只检查指定页面
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from devtools.codeblocks import iter_code_blocks
from devtools.paths import DOCS, doc_pages, rel
from devtools.problems import Problem, pages_from_args, report

GLOSSARY = DOCS / "glossary.md"
RULE = "terminology"

#: “统一写法”表的表头。
_TABLE_HEADER = re.compile(r"^\|\s*本站写法\s*\|\s*不用的写法\s*\|")
#: 术语表里普通术语表格的表头：第一列是中文术语。
_TERM_HEADER = re.compile(r"^\|\s*中文术语\s*\|")
_SEPARATOR = re.compile(r"^\|(\s*:?-+:?\s*\|)+\s*$")


@dataclass(frozen=True)
class Variant:
    """一条写法规则：``variant`` 应写作 ``preferred``。"""

    preferred: str
    variant: str
    line: int  # 在术语表中的行号


def _problem(path: str, line: int, message: str) -> Problem:
    return Problem(path, line, RULE, message)


def _cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split("|")]


def _tables(text: str, header: re.Pattern) -> list[tuple[int, list[str]]]:
    """找出表头匹配 header 的表格。

    返回 [(行号, 单元格列表)]，不含表头和分隔行。
    """
    rows: list[tuple[int, list[str]]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if (
            header.match(lines[i])
            and i + 1 < len(lines)
            and _SEPARATOR.match(lines[i + 1])
        ):
            j = i + 2
            while j < len(lines) and lines[j].lstrip().startswith("|"):
                rows.append((j + 1, _cells(lines[j])))
                j += 1
            i = j
        else:
            i += 1
    return rows


def variant_rows(text: str) -> list[tuple[int, list[str]]]:
    """术语表中“统一写法”表的行。"""
    return _tables(text, _TABLE_HEADER)


def parse_variants(text: str) -> list[Variant]:
    out = []
    for line, cells in variant_rows(text):
        if len(cells) < 2 or not cells[0]:
            continue
        for v in re.split(r"[、，,]", cells[1]):
            v = v.strip()
            if v:
                out.append(Variant(cells[0], v, line))
    return out


def glossary_terms(text: str) -> list[tuple[int, str]]:
    """术语表各个表格第一列的中文术语：[(行号, 术语)]。"""
    return [
        (line, cells[0])
        for line, cells in _tables(text, _TERM_HEADER)
        if cells and cells[0]
    ]


@lru_cache(maxsize=4)
def _load(glossary: Path, mtime: float) -> tuple[Variant, ...]:
    return tuple(parse_variants(glossary.read_text(encoding="utf-8")))


def load_variants(glossary: Path = GLOSSARY) -> tuple[Variant, ...]:
    """读取术语表里的写法规则（按文件修改时间缓存）。"""
    if not glossary.is_file():
        return ()
    return _load(glossary, glossary.stat().st_mtime)


# ---------------------------------------------------------------- 只看正文


def _blank(m: re.Match) -> str:
    return re.sub(r"[^\n]", " ", m.group(0))


def prose_only(text: str, notebook: bool = False) -> str:
    """把不属于正文的部分换成空格（保留换行，行号不变）。"""
    if notebook:
        return _notebook_markdown(text)
    chars = list(text)
    for block in iter_code_blocks(text):
        for k in range(block.start, min(block.end, len(chars))):
            if chars[k] != "\n":
                chars[k] = " "
    masked = "".join(chars)
    masked = re.sub(
        r"<!--.*?-->", _blank, masked, flags=re.DOTALL
    )  # HTML 注释（如 skip 理由）
    masked = re.sub(
        r"(?<!`)(`+)(?!`).+?(?<!`)\1(?!`)", _blank, masked, flags=re.DOTALL
    )  # 行内代码
    masked = re.sub(
        r"\]\([^)\n]*\)", lambda m: "]" + _blank(m)[1:], masked
    )  # 链接地址（含锚点）
    masked = re.sub(r"<[^>\n]+>", _blank, masked)  # HTML 标签及其属性
    return masked


def _notebook_markdown(text: str) -> str:
    """jupytext percent 笔记本：只留 Markdown 单元格（去掉行首的 "# "）。

    其余行换成空行，行号不变。
    """
    out = []
    in_md = False
    for ln in text.splitlines():
        if ln.startswith("# %%"):
            in_md = "[markdown]" in ln
            out.append("")
        elif in_md:
            out.append(ln[2:] if ln.startswith("# ") else ln.lstrip("#"))
        else:
            out.append("")
    body = "\n".join(out)
    return re.sub(r"(?<!`)(`+)(?!`).+?(?<!`)\1(?!`)", _blank, body)


def _pattern(word: str) -> re.Pattern:
    """中文与拉丁字母、数字之间的空格可有可无。

    “前5错误率”与“前 5 错误率”算同一种写法。
    """
    parts = [re.escape(p) for p in word.split()]
    return re.compile(r"\s*".join(parts), re.IGNORECASE)


# ---------------------------------------------------------------- 检查


def check_text(
    path: str,
    prose: str,
    variants: tuple[Variant, ...] | list[Variant],
    skip_lines: set[int] = frozenset(),
) -> list:
    problems = []
    protected = sorted({v.preferred for v in variants}, key=len, reverse=True)
    for n, line in enumerate(prose.splitlines(), start=1):
        if n in skip_lines:
            continue
        # 本站写法本身出现的位置不算（以防“不用的写法”恰好是它的一部分）
        shielded = [
            (m.start(), m.end())
            for p in protected
            for m in _pattern(p).finditer(line)
        ]
        for v in variants:
            for m in _pattern(v.variant).finditer(line):
                if any(a <= m.start() and m.end() <= b for a, b in shielded):
                    continue
                problems.append(
                    _problem(
                        path, n, f"用「{v.preferred}」而不是「{v.variant}」"
                    )
                )
    return problems


def check_glossary(glossary: Path, text: str) -> list:
    """术语表自身：术语不重复；每条写法规则的“本站写法”都是术语表里的术语。"""
    problems = []
    loc = rel(glossary)
    seen: dict[str, int] = {}
    for line, term in glossary_terms(text):
        if term in seen:
            problems.append(
                _problem(
                    loc,
                    line,
                    f"术语「{term}」在术语表里出现了两次"
                    f"（另见第 {seen[term]} 行）",
                )
            )
        else:
            seen[term] = line
    for v in parse_variants(text):
        if v.preferred not in seen:
            problems.append(
                _problem(
                    loc,
                    v.line,
                    f"本站写法「{v.preferred}」不是术语表里的术语，请先把它加进术语表",
                )
            )
        if v.variant in seen:
            problems.append(
                _problem(
                    loc,
                    v.line,
                    f"「{v.variant}」既是术语表里的术语，又被列为不用的写法",
                )
            )
    return problems


def check_terminology(
    page: Path, text: str, glossary: Path = GLOSSARY
) -> list:
    """检查一个页面（.md 文章或 .py 笔记本）。

    术语表页面还要检查术语表本身。
    """
    page = Path(page)
    if page.suffix not in (".md", ".py"):
        return []
    variants = load_variants(glossary)
    prose = prose_only(text, notebook=page.suffix == ".py")
    skip: set[int] = set()
    problems = []
    is_glossary = page.resolve() == Path(glossary).resolve()
    if is_glossary:
        skip = {line for line, _ in variant_rows(text)}
        problems += check_glossary(page, text)
    problems += check_text(rel(page), prose, variants, skip)
    return problems


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    pages = pages_from_args(argv, doc_pages)
    if pages is None:
        return 2
    return report(
        p
        for page in pages
        for p in check_terminology(page, page.read_text(encoding="utf-8"))
    )


if __name__ == "__main__":
    sys.exit(main())
