#!/usr/bin/env python3
"""从本站的中文文章生成字符级语料 tinymodels/data/corpus_zh.txt。

用法（在仓库根目录）::

    # 读 docs/**/*.md，写 tinymodels/data/corpus_zh.txt
    python scripts/build_corpus.py
    # 只检查现有语料是否与重新生成的结果一致
    python scripts/build_corpus.py --check
    python scripts/build_corpus.py --docstrings never

处理规则：去掉 YAML 头、代码块（``` 与 ~~~）、行内代码、数学公式（$$…$$、$…$、
\\[…\\]、\\(…\\)）、HTML 标签与注释、图片、链接地址（保留链接文字）、脚注与引
用式链接定义、MkDocs 片段与属性列表，去掉标题井号、列表符号、强调符号，最后只
保留含汉字的段落。输出按文件路径排序，结果确定。

文章太少（正文少于 ``--min-chars`` 个字符）时，``--docstrings auto``（默认）会
补上 tinymodels 源码中的中文文档字符串——它们本来就是本站 API 参考页的正文。只
用标准库，不导入 tinymodels。
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from devtools.paths import DOCS, ROOT, write_atomic  # noqa: E402 - 只用标准库

DEFAULT_OUT = ROOT / "tinymodels" / "data" / "corpus_zh.txt"

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

_FRONT_MATTER = re.compile(r"\A---\s*\n.*?\n(---|\.\.\.)\s*\n", re.S)
_FENCE = re.compile(r"^[ \t>]*(`{3,}|~{3,})")
_MATH_BLOCK = re.compile(
    r"\$\$.*?\$\$|\\\[.*?\\\]|\\begin\{(\w+\*?)\}.*?\\end\{\1\}", re.S
)
_HTML_BLOCKS = re.compile(
    r"<!--.*?-->|<(script|style)\b.*?</\1\s*>", re.S | re.I
)
_INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
_INLINE_MATH = re.compile(
    r"(?<![\\$])\$(?!\s)[^$\n]+?(?<!\s)\$(?!\d)|\\\(.+?\\\)"
)
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)|!\[[^\]]*\]\[[^\]]*\]")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\[[^\]]*\]")
_AUTOLINK = re.compile(r"<(?:https?|mailto|ftp):[^>]*>|https?://\S+")
_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_ATTR_LIST = re.compile(r"\{\s*[:#.][^}]*\}")
_FOOTNOTE_REF = re.compile(r"\[\^[^\]]+\]")
_LINK_DEF = re.compile(r"^\s*\[[^\]]+\]:\s*\S+.*$")
_SNIPPET = re.compile(r"^\s*-{2}8<-{2}")
_ADMONITION = re.compile(
    r'^\s*(?:!!!|\?\?\?\+?|===)\s*[\w-]*\s*(?:"([^"]*)")?\s*$'
)
_HEADING = re.compile(r"^\s*#{1,6}\s+")
_LIST_MARK = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_EMPHASIS = re.compile(r"(\*{1,3}|_{2,3}|~~|==)(?=\S)(.+?)(?<=\S)\1")
_RST_ROLE = re.compile(r":\w+:`~?([^`]*)`")


def _drop_fences(text: str) -> str:
    """删除围栏代码块（包括缩进在提示框、内容标签页里的）。"""
    out, fence = [], None
    for line in text.splitlines():
        m = _FENCE.match(line)
        if fence is None:
            if m:
                fence = m.group(1)
                continue
            out.append(line)
        elif (
            m
            and m.group(1)[0] == fence[0]
            and len(m.group(1)) >= len(fence)
            and line.strip().strip(">").strip() == m.group(1)
        ):
            fence = None
    return "\n".join(out)


def clean_markdown(text: str) -> str:
    """把一篇 Markdown 文章清洗成只含中文正文的段落，段落之间以换行分隔。"""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _FRONT_MATTER.sub("", text)
    text = _drop_fences(text)
    text = _HTML_BLOCKS.sub("", text)
    text = _MATH_BLOCK.sub("", text)
    paragraphs: list[str] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            paragraphs.append("".join(current))
            current.clear()

    for line in text.split("\n"):
        if (
            _SNIPPET.match(line)
            or _LINK_DEF.match(line)
            or _TABLE_RULE.match(line)
        ):
            continue
        m = _ADMONITION.match(line)
        if m:
            line = m.group(1) or ""
        if not line.strip():
            flush()
            continue
        is_heading = m is not None or bool(_HEADING.match(line))
        is_table = line.strip().startswith("|")
        if is_heading or is_table or _LIST_MARK.match(line):
            flush()  # 标题、表格行、列表项各自另起一段
        line = _HEADING.sub("", line)
        line = re.sub(r"^\s*(?:>\s*)+", "", line)
        line = _LIST_MARK.sub("", line)
        line = clean_inline(line)
        if is_table:
            line = " ".join(
                cell.strip() for cell in line.strip().strip("|").split("|")
            )
        line = line.strip()
        if line:
            # 中文段落在 Markdown 里折行时不加空格直接拼接；西文才需要空格
            if current and not (
                CJK.search(current[-1][-1:]) or CJK.search(line[:1])
            ):
                current.append(" ")
            current.append(line)
        if is_heading or is_table:
            flush()
    flush()
    return "\n".join(
        p
        for p in (re.sub(r"[ \t]+", " ", p).strip() for p in paragraphs)
        if CJK.search(p)
    )


def clean_inline(line: str) -> str:
    """清洗一行内的标记：代码、公式、图片、链接、HTML 标签、强调符号等。"""
    line = _INLINE_CODE.sub("", line)
    line = _INLINE_MATH.sub("", line)
    line = _IMAGE.sub("", line)
    line = _LINK.sub(
        lambda m: m.group(1) if m.group(1) is not None else m.group(2), line
    )
    line = _AUTOLINK.sub("", line)
    line = _TAG.sub("", line)
    line = _ATTR_LIST.sub("", line)
    line = _FOOTNOTE_REF.sub("", line)
    line = _RST_ROLE.sub(r"\1", line)
    for _ in range(2):  # 嵌套强调（***粗斜体***）要剥两层
        line = _EMPHASIS.sub(r"\2", line)
    return line


def docstring_paragraphs(package_dir: Path) -> list[str]:
    """提取包内所有模块、类、函数文档字符串中含汉字的行（不导入代码，只解析语法树）。"""
    out: list[str] = []
    for path in sorted(package_dir.rglob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        for node in ast.walk(tree):
            if not isinstance(
                node,
                (
                    ast.Module,
                    ast.ClassDef,
                    ast.FunctionDef,
                    ast.AsyncFunctionDef,
                ),
            ):
                continue
            doc = ast.get_docstring(node)
            if not doc:
                continue
            in_example = False
            for line in doc.splitlines():
                s = line.strip()
                if s.endswith("::") or s.startswith(
                    ("Example", ">>>", "...")
                ):
                    in_example = s.startswith(
                        ("Example", ">>>", "...")
                    ) or s.endswith("::")
                    continue
                if in_example and (not s or line.startswith("    ")):
                    continue
                in_example = False
                s = _LIST_MARK.sub("", clean_inline(s)).strip()
                s = (
                    re.sub(r"^\w+(?:\s*\([^)]*\))?:\s*", "", s)
                    if re.match(r"^\w+(\s*\([^)]*\))?:\s", s)
                    else s
                )
                if s and CJK.search(s):
                    out.append(s)
    return out


def build(
    docs_dir: Path, package_dir: Path, docstrings: str, min_chars: int
) -> tuple[str, dict]:
    """生成语料文本，并返回来源统计。"""
    parts: list[str] = []
    n_files = 0
    for path in sorted(docs_dir.rglob("*.md")) if docs_dir.is_dir() else []:
        cleaned = clean_markdown(path.read_text(encoding="utf-8"))
        if cleaned:
            parts.append(cleaned)
            n_files += 1
    docs_text = "\n".join(parts)
    stats = {
        "articles": n_files,
        "article_chars": len(docs_text),
        "docstring_lines": 0,
    }
    if docstrings == "always" or (
        docstrings == "auto" and len(docs_text) < min_chars
    ):
        lines = docstring_paragraphs(package_dir)
        stats["docstring_lines"] = len(lines)
        docs_text = "\n".join(x for x in (docs_text, "\n".join(lines)) if x)
    return (docs_text + "\n") if docs_text else "", stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="从 docs/**/*.md 生成中文字符语料 corpus_zh.txt"
    )
    parser.add_argument(
        "--docs", type=Path, default=DOCS, help="文章目录（默认 docs/）"
    )
    parser.add_argument(
        "--package",
        type=Path,
        default=ROOT / "tinymodels",
        help="提取文档字符串的包目录",
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="输出文件"
    )
    parser.add_argument(
        "--docstrings",
        choices=("auto", "always", "never"),
        default="auto",
        help="是否补充中文文档字符串；auto：文章正文少于 --min-chars 时补充",
    )
    parser.add_argument(
        "--min-chars",
        type=int,
        default=20000,
        help="auto 模式下的文章字数门槛",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="只检查输出文件是否最新，不写文件（过期时退出码 1）",
    )
    args = parser.parse_args(argv)

    text, stats = build(
        args.docs, args.package, args.docstrings, args.min_chars
    )
    summary = (
        f"文章 {stats['articles']} 篇，正文 {stats['article_chars']} 字符；"
        f"补充文档字符串 {stats['docstring_lines']} 行；"
        f"语料共 {len(text)} 字符，"
        f"不同字符 {len(set(text))} 个"
    )
    if not text:
        print("没有提取到任何中文正文：请检查 --docs 目录", file=sys.stderr)
        return 1
    if args.check:
        current = (
            args.out.read_text(encoding="utf-8")
            if args.out.is_file()
            else None
        )
        if current != text:
            print(
                f"{args.out} 已过期，请运行 "
                f"python scripts/build_corpus.py（{summary}）",
                file=sys.stderr,
            )
            return 1
        print(f"{args.out} 是最新的（{summary}）")
        return 0
    write_atomic(args.out, text)
    print(f"已写入 {args.out}：{summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
