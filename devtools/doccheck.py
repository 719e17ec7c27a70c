"""文档检查：把每个问题报告成 ``文件:行号: 规则: 说明``。

测试（tests/site/test_docs.py）和命令行共用这些检查：

    python -m devtools.doccheck            # 检查整个 docs/
    python -m devtools.doccheck docs/x.md  # 只检查指定页面
                                           # （站点级规则仍按全站计算）

退出码：0 没有问题；1 发现问题；2 用法错误（例如路径不存在）。

规则：
- ``math``：KaTeX 无法渲染的公式（用 node 调用锁定版本的 KaTeX）；
- ``code-untested``：看起来是 Python 却不会执行的代码块、没写理由的 skip、
  无法单独运行的部分嵌入、嵌入与代码混写、没有前文的续写标记；
- ``snippet-missing``：``--8<--`` 嵌入的文件不存在；
- ``snippet-unused``：snippets/ 里没有被任何页面嵌入的文件；
- ``link`` / ``anchor``：指向不存在的页面或不存在的标题锚点；
- ``nav``：页面不在 mkdocs.yml 的导航里；
- ``front-matter`` / ``h1``：缺少 title/description，或一级标题不是恰好一个；
- ``fence-lang``：代码块没标语言、语言名不存在，或内容与所标语言明显不符；
- ``typography``：中文与英文字母/数字之间缺空格、中文句子里用了半角标点、形近
  字符；
- ``forbidden``：原始 <script>、<iframe>、内联事件处理器、站外图片/资源、会从
  CDN 加载的 mermaid；
- ``network``：会执行的代码（代码块、嵌入的片段、笔记本）访问网络；
- ``foreign-import``：会执行的代码导入了别的框架（torch、tensorflow、jax、
  transformers 等）：读者只装了 tinymodels；
- ``terminology``：用了术语表里列为“不用”的写法（devtools/terminology.py）；
- ``exercises``：练习没有折叠的参考答案（devtools/exercises.py）；
- ``placeholder``：脚手架留下的占位文字（如“（一句话定义。）”）还在页面、
  术语表或嵌入的片段里。

执行代码块（失败、超时、过慢）由 devtools/check.py 负责，它复用这里的全部规
则。
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from functools import lru_cache
from itertools import groupby
from pathlib import Path

from devtools.codeblocks import (
    OUTPUT_LANG,
    PYTHONISH_LANGS,
    iter_code_blocks,
    iter_includes,
)
from devtools.paths import DOCS, ROOT, SNIPPETS, doc_pages, rel  # noqa: F401 - 规则模块与旧代码从这里取
from devtools.problems import Problem

# ---------------------------------------------------------------- 文本预处理


def mask_code(text: str) -> str:
    """把围栏代码块和行内代码替换成空格（保留换行），这样公式、链接检查不会误伤代码。"""
    chars = list(text)
    for block in iter_code_blocks(text):
        for k in range(block.start, min(block.end, len(chars))):
            if chars[k] != "\n":
                chars[k] = " "
    masked = "".join(chars)

    def blank(m: re.Match) -> str:
        return re.sub(r"[^\n]", " ", m.group(0))

    # 行内代码：一串反引号开头，同样长度的一串反引号结尾
    masked = re.sub(
        r"(?<!`)(`+)(?!`).+?(?<!`)\1(?!`)", blank, masked, flags=re.DOTALL
    )
    # HTML 注释
    masked = re.sub(r"<!--.*?-->", blank, masked, flags=re.DOTALL)
    return masked


def split_front_matter(text: str) -> tuple[dict | None, int]:
    """返回 (front matter 字典或 None, 正文开始的行号)。"""
    if not text.startswith("---\n"):
        return None, 1
    end = text.find("\n---\n", 4)
    if end < 0:
        return None, 1
    import yaml

    try:
        data = yaml.safe_load(text[4:end]) or {}
    except yaml.YAMLError:
        data = {}
    return (data if isinstance(data, dict) else {}), text.count(
        "\n", 0, end + 5
    ) + 1


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


# ---------------------------------------------------------------- 公式


# 与 pymdownx.arithmatex（generic 模式，smart_dollar 开启）一致的定界规则。
_RE_DOLLAR_BLOCK = re.compile(
    r"(?<!\\)\$\$(?P<tex>(?:\\.|[^\\])+?)\$\$", re.DOTALL
)
_RE_BRACKET_BLOCK = re.compile(
    r"\\\[(?P<tex>(?:\\[^\]]|[^\\])+?)\\\]", re.DOTALL
)
_RE_ENV_BLOCK = re.compile(
    r"^[ \t]*(?P<tex>\\begin\{(?P<env>[a-z]+\*?)\}"
    r"(?:\\.|[^\\])+?\\end\{(?P=env)\})",
    re.M | re.DOTALL,
)
_RE_SMART_DOLLAR_INLINE = re.compile(
    r"(?<!\\)(?<!\$)\$(?!\s)(?!\$)(?P<tex>(?:\\.|[^\\$\n])+?)(?<!\s)\$(?!\$)"
)
_RE_BRACKET_INLINE = re.compile(r"\\\((?P<tex>(?:\\[^)]|[^\\])+?)\\\)")


def extract_math(text: str) -> list[tuple[int, str, bool]]:
    """找出 Markdown 中的公式：[(行号, LaTeX, 是否独立公式)]。"""
    masked = mask_code(text)
    found: list[tuple[int, str, bool]] = []

    def take(regex: re.Pattern, display: bool) -> None:
        nonlocal masked
        for m in regex.finditer(masked):
            found.append(
                (line_of(masked, m.start()), m.group("tex").strip(), display)
            )
        masked = regex.sub(
            lambda m: re.sub(r"[^\n]", " ", m.group(0)), masked
        )

    take(_RE_DOLLAR_BLOCK, True)
    take(_RE_BRACKET_BLOCK, True)
    take(_RE_ENV_BLOCK, True)
    take(_RE_SMART_DOLLAR_INLINE, False)
    take(_RE_BRACKET_INLINE, False)
    return sorted(found)


def extract_notebook_math(text: str) -> list[tuple[int, str, bool]]:
    """jupytext percent 笔记本：只看 Markdown 单元格（"# " 开头的注释行）。"""
    out: list[tuple[int, str, bool]] = []
    lines = text.splitlines()
    in_md = False
    buf: list[tuple[int, str]] = []

    def flush() -> None:
        if not buf:
            return
        md = "\n".join(t for _, t in buf)
        first = buf[0][0]
        for ln, tex, disp in extract_math(md):
            out.append((first + ln - 1, tex, disp))
        buf.clear()

    for n, ln in enumerate(lines, start=1):
        if ln.startswith("# %%"):
            flush()
            in_md = "[markdown]" in ln
            continue
        if in_md:
            buf.append((n, ln[2:] if ln.startswith("# ") else ln.lstrip("#")))
    flush()
    return out


def render_with_katex(formulas: list[tuple[str, bool]]) -> list[str | None]:
    """用 node + KaTeX 渲染，返回每个公式的错误信息（None 表示没问题）。"""
    if not formulas:
        return []
    script = ROOT / "devtools" / "katex_check.mjs"
    if not (ROOT / "node_modules" / "katex").is_dir():
        raise RuntimeError(
            "找不到 node_modules/katex："
            "请先运行 scripts/test.sh（它会执行 npm ci）"
        )
    payload = json.dumps([{"tex": t, "display": d} for t, d in formulas])
    proc = subprocess.run(
        ["node", str(script)],
        input=payload,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"KaTeX 检查脚本失败：{proc.stderr.strip()}")
    return json.loads(proc.stdout)["results"]


def _shown_tex(tex: str, width: int = 60) -> str:
    """报告里的公式：照原样（不转义反斜杠），太长的截断。"""
    tex = " ".join(tex.split())
    return f"“{tex[:width]}…”" if len(tex) > width else f"“{tex}”"


def check_math(pages: list[Path]) -> list[Problem]:
    items: list[tuple[Path, int, str, bool]] = []
    for page in pages:
        text = page.read_text(encoding="utf-8")
        found = (
            extract_notebook_math(text)
            if page.suffix == ".py"
            else extract_math(text)
        )
        items += [(page, ln, tex, disp) for ln, tex, disp in found]
    errors = render_with_katex([(tex, disp) for _, _, tex, disp in items])
    problems = [
        Problem(
            rel(page),
            ln,
            "math",
            f"KaTeX 无法渲染公式 {_shown_tex(tex)}：{err}",
        )
        for (page, ln, tex, _), err in zip(items, errors)
        if err
    ]
    problems += [
        Problem(
            rel(page),
            ln,
            "math",
            "公式里的 \\_ 会显示成字面下划线；下标请直接写 _："
            + _shown_tex(tex),
        )
        for page, ln, tex, _ in items
        if "\\_" in tex
    ]
    return problems


# --------------------------------------------------------------- 代码块与嵌入


def check_code_blocks(page: Path, text: str) -> list[Problem]:
    found: list[tuple[int, str]] = []  # (行号, 说明)
    seen_python = False
    for block in iter_code_blocks(text, page):
        if block.lang in PYTHONISH_LANGS:
            found.append(
                (
                    block.line,
                    f"```{block.lang} 代码块不会被执行；"
                    "请改成 ```python 并以断言结尾",
                )
            )
        if not block.is_python:
            continue
        if block.skip_reason == "":
            found.append(
                (
                    block.skip_line or block.line,
                    'skip 注释必须写明理由：<!-- skip: next "理由" -->',
                )
            )
        if block.skip_reason:
            seen_python = True
            continue
        if block.includes and block.has_code_besides_includes:
            found.append(
                (
                    block.line,
                    "代码块里混用了 --8<-- 嵌入和普通代码，"
                    "无法按片段的真实路径运行",
                )
            )
        for inc in block.includes:
            if not inc.whole_file:
                found.append(
                    (
                        inc.line,
                        f"嵌入 {inc.spec!r} 只取了文件的一部分，"
                        "无法单独运行；嵌入整个文件或写明 skip 理由",
                    )
                )
        if block.continues_previous and not seen_python:
            found.append(
                (
                    block.line,
                    "代码块以“# 接上一段代码”开头，但前面没有 Python 代码块",
                )
            )
        seen_python = True
    return [Problem(rel(page), n, "code-untested", msg) for n, msg in found]


def check_includes(page: Path, text: str) -> list[Problem]:
    problems = []
    for inc in iter_includes(text):
        if not (ROOT / inc.path).is_file():
            problems.append(
                Problem(
                    rel(page),
                    inc.line,
                    "snippet-missing",
                    f"嵌入的文件不存在：{inc.path}",
                )
            )
    return problems


def check_unused_snippets(pages: list[Path]) -> list[Problem]:
    used = set()
    for page in pages:
        for inc in iter_includes(page.read_text(encoding="utf-8")):
            used.add((ROOT / inc.path).resolve())
    problems = []
    for f in sorted(SNIPPETS.rglob("*")):
        if (
            f.is_file()
            and "__pycache__" not in f.parts
            and f.resolve() not in used
        ):
            problems.append(
                Problem(
                    rel(f),
                    1,
                    "snippet-unused",
                    "这个片段没有被任何页面嵌入（--8<--）",
                )
            )
    return problems


# ---------------------------------------------------------------- 链接与锚点


@lru_cache(maxsize=None)
def _slugify():
    from pymdownx.slugs import slugify

    return slugify(case="lower")


def _heading_text(raw: str) -> str:
    raw = re.sub(r"\s*\{[^}]*\}\s*$", "", raw)  # attr_list
    raw = re.sub(r"`([^`]*)`", r"\1", raw)
    raw = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", raw)
    raw = re.sub(r"<[^>]+>", "", raw)
    raw = re.sub(r"(\*\*|__|\*|_|~~)(.+?)\1", r"\2", raw)
    return raw.strip().rstrip("#").strip()


def anchors_of(text: str) -> set[str]:
    """页面中所有可作为链接目标的锚点：标题（与 toc 的 slugify 一致）、
    {#id}、HTML id。"""
    masked = mask_code(text)
    anchors: set[str] = set()
    counts: dict[str, int] = {}
    for m in re.finditer(
        r"^[ ]{0,3}(#{1,6})[ \t]+(.+?)[ \t]*$", masked, re.M
    ):
        raw = m.group(2)
        explicit = re.search(r"\{[^}]*#([\w-]+)[^}]*\}\s*$", raw)
        if explicit:
            anchors.add(explicit.group(1))
            continue
        slug = _slugify()(_heading_text(raw), "-")
        if slug in counts:
            counts[slug] += 1
            slug = f"{slug}_{counts[slug]}"
        else:
            counts[slug] = 0
        anchors.add(slug)
    anchors.update(re.findall(r"\bid=[\"']([^\"']+)[\"']", masked))
    anchors.update(re.findall(r"\{:?\s*#([\w-]+)", masked))
    anchors.update(re.findall(r"^\[\^([^\]]+)\]:", masked, re.M))  # 脚注
    return anchors


_LINK = re.compile(
    r"(?<!\!)\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?(?P<target>[^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)"
)
_IMG = re.compile(
    r"!\[[^\]]*\]\(\s*<?(?P<target>[^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)"
)
_REF_DEF = re.compile(
    r"^[ ]{0,3}\[[^\]]+\]:\s*<?(?P<target>\S+?)>?(?:\s+.*)?$", re.M
)


def check_links(page: Path, text: str, docs_dir: Path) -> list[Problem]:
    masked = mask_code(text)
    problems = []
    for regex in (_LINK, _IMG, _REF_DEF):
        for m in regex.finditer(masked):
            target = m.group("target")
            line = line_of(masked, m.start())
            if re.match(
                r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target
            ) or target.startswith("//"):
                continue  # 外部链接（https:、mailto: 等）不在这里检查
            path_part, _, frag = target.partition("#")
            if path_part.startswith("/"):
                problems.append(
                    Problem(
                        rel(page),
                        line,
                        "link",
                        f"请使用相对链接，而不是绝对路径：{target}",
                    )
                )
                continue
            if path_part:
                dest = (page.parent / path_part).resolve()
                if dest.is_dir():
                    dest = dest / "index.md"
                if not dest.exists():
                    problems.append(
                        Problem(
                            rel(page),
                            line,
                            "link",
                            f"链接的目标不存在：{target}",
                        )
                    )
                    continue
            else:
                dest = page
            if frag and dest.suffix == ".md":
                if frag not in anchors_of(dest.read_text(encoding="utf-8")):
                    problems.append(
                        Problem(
                            rel(page),
                            line,
                            "anchor",
                            f"{rel(dest)} 中没有锚点 #{frag}",
                        )
                    )
    return problems


# ------------------------------------------------------------- 页面结构与导航


def check_structure(page: Path, text: str) -> list[Problem]:
    problems = []
    meta, body_line = split_front_matter(text)
    if meta is None:
        problems.append(
            Problem(
                rel(page),
                1,
                "front-matter",
                "缺少 front matter（--- 包围的 title 与 description）",
            )
        )
    else:
        for key in ("title", "description"):
            if not str(meta.get(key) or "").strip():
                problems.append(
                    Problem(
                        rel(page),
                        1,
                        "front-matter",
                        f"front matter 缺少 {key}",
                    )
                )
    h1 = [
        line_of(text, m.start())
        for m in re.finditer(r"^#[ \t]+\S", mask_code(text), re.M)
    ]
    if len(h1) != 1:
        where = h1[1] if len(h1) > 1 else body_line
        problems.append(
            Problem(
                rel(page),
                where,
                "h1",
                f"每页恰好一个一级标题（# 标题），这里有 {len(h1)} 个",
            )
        )
    return problems


def nav_pages(config_path: Path) -> set[str]:
    import yaml

    class _Loader(yaml.SafeLoader):
        pass

    # mkdocs.yml 里有 !!python/object/apply 等标签：
    # 这里只关心 nav，统统当作普通值。
    _Loader.add_multi_constructor("", lambda loader, suffix, node: None)
    _Loader.add_multi_constructor(
        "tag:yaml.org,2002:python/", lambda loader, suffix, node: None
    )
    config = yaml.load(
        config_path.read_text(encoding="utf-8"), Loader=_Loader
    )
    found: set[str] = set()

    def walk(node) -> None:
        if isinstance(node, str):
            if not re.match(r"^[a-z]+://", node):
                found.add(node)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)

    walk(config.get("nav", []))
    return found


def check_nav(page: Path, docs_dir: Path, nav: set[str]) -> list[Problem]:
    try:
        key = page.resolve().relative_to(docs_dir.resolve()).as_posix()
    except ValueError:
        return []
    if key not in nav:
        return [
            Problem(
                rel(page), 1, "nav", f"页面不在 mkdocs.yml 的 nav 中：{key}"
            )
        ]
    return []


# ----------------------------------------------------------- 代码块的语言标注


def _known_language(lang: str) -> bool:
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        get_lexer_by_name(lang)
        return True
    except ClassNotFound:
        return lang in {"text", "plain", "plaintext", "txt", "console"}


_PY_STATEMENT = re.compile(
    r"^\s*(import \w|from [\w.]+ import |def \w+\(|class \w+[(:]"
    r"|assert |print\()",
    re.M,
)
_SHELL_START = re.compile(
    r"^\s*(\$ |pip3? install|python3? -m |apt(-get)? "
    r"|npm |bash |git |cd |export )"
)


def _parses_as_python(code: str) -> bool:
    import ast

    try:
        ast.parse(code)
        return True
    except SyntaxError:
        return False


def check_fence_languages(page: Path, text: str) -> list[Problem]:
    from devtools.outputs import output_blocks

    found: list[tuple[int, str]] = []  # (行号, 说明)
    blocks = iter_code_blocks(text, page)
    attached = {o.line for o in output_blocks(text, blocks).values()}
    for block in blocks:
        if block.lang == OUTPUT_LANG:  # 代码块的输出：不执行，测试核对
            if block.line not in attached:
                found.append(
                    (
                        block.line,
                        "```output 块必须紧跟在它所属的 Python 代码块"
                        "后面（中间只能有空行）",
                    )
                )
            continue
        if not block.lang:
            found.append(
                (block.line, "代码块没有标注语言（不是代码请写 ```text）")
            )
            continue
        if block.lang == "mermaid":
            continue  # 由 forbidden 规则报告
        if not _known_language(block.lang):
            found.append((block.line, f"未知的代码块语言：{block.lang}"))
            continue
        if block.includes:
            continue
        code = block.code
        looks_python = bool(_PY_STATEMENT.search(code)) and _parses_as_python(
            code
        )
        not_python = PYTHONISH_LANGS | {"markdown", "md"}
        if (
            looks_python
            and not block.is_python
            and block.lang not in not_python
        ):
            found.append(
                (
                    block.line,
                    f"这段代码是 Python，却标成了 {block.lang}；"
                    "请标成 python（并以断言结尾）",
                )
            )
        elif (
            block.is_python
            and _SHELL_START.match(code)
            and not _parses_as_python(code)
        ):
            found.append(
                (
                    block.line,
                    "这段代码是 shell 命令，却标成了 python；请标成 bash",
                )
            )
    return [Problem(rel(page), n, "fence-lang", msg) for n, msg in found]


# ---------------------------------------------------------------- 中文排版

_HAN = r"\u4e00-\u9fff\u3400-\u4dbf"
_RE_NO_SPACE = re.compile(rf"[{_HAN}][A-Za-z0-9]|[A-Za-z0-9][{_HAN}]")
_RE_HALF_PUNCT = re.compile(
    rf"[{_HAN}][,;:?!]|[{_HAN}]\((?=[^)]*[{_HAN}])|[{_HAN}]\.(?=\s|$)|[,;:?!][{_HAN}]"
)
_LOOKALIKES = {
    **{
        chr(c): "全角字母或数字"
        for c in list(range(0xFF10, 0xFF1A))
        + list(range(0xFF21, 0xFF3B))
        + list(range(0xFF41, 0xFF5B))
    },
    "\u200b": "零宽空格",
    "\u200c": "零宽非连接符",
    "\u200d": "零宽连接符",
    "\ufeff": "字节顺序标记（BOM）",
    "\u00a0": "不换行空格",
}
_RE_CYRILLIC_IN_LATIN = re.compile(
    r"[A-Za-z][\u0400-\u04ff]|[\u0400-\u04ff][A-Za-z]"
)


def prose_mask(text: str) -> str:
    """只留下正文：去掉 front matter、代码、公式、HTML 标签、链接地址与嵌入
    行（保留换行与偏移）。"""
    masked = mask_code(text)

    def blank(m: re.Match) -> str:
        return re.sub(r"[^\n]", " ", m.group(0))

    meta, body_line = split_front_matter(text)
    if meta is not None:
        cut = 0
        for _ in range(body_line - 1):
            cut = masked.index("\n", cut) + 1
        masked = re.sub(r"[^\n]", " ", masked[:cut]) + masked[cut:]
    for regex in (
        _RE_DOLLAR_BLOCK,
        _RE_BRACKET_BLOCK,
        _RE_ENV_BLOCK,
        _RE_SMART_DOLLAR_INLINE,
        _RE_BRACKET_INLINE,
    ):
        masked = regex.sub(blank, masked)
    masked = re.sub(
        r"\]\([^)]*\)",
        lambda m: "]" + re.sub(r"[^\n]", " ", m.group(0)[1:]),
        masked,
    )
    masked = re.sub(r"<[^>\n]+>", blank, masked)
    masked = re.sub(
        r"^[ \t]*(\[[^\]]+\]:.*|-{1,}8<-{1,}.*)$", blank, masked, flags=re.M
    )
    return masked


def check_typography(page: Path, text: str) -> list[Problem]:
    """每一处问题都报告（同一行有几处就报告几处），一次运行改完。"""
    found: list[tuple[int, str]] = []  # (行号, 说明)
    prose = prose_mask(text)
    for n, line in enumerate(prose.splitlines(), start=1):
        found += [
            (n, f"中文与英文字母或数字之间要加空格：“{m.group(0)}”")
            for m in _overlapping(_RE_NO_SPACE, line)
        ]
        seen: set[int] = set()  # 同一个标点（“点,不”）只报告一次
        for m in _overlapping(_RE_HALF_PUNCT, line):
            punct = m.start() + (0 if line[m.start()] in ",;:?!" else 1)
            if punct not in seen:
                seen.add(punct)
                found.append((n, f"中文句子里请用全角标点：“{m.group(0)}”"))
        # 连在一起的同类字符（如“ＧＰＴ”）算一处
        for name, run in groupby(
            enumerate(line, start=1), key=lambda c: _LOOKALIKES.get(c[1])
        ):
            if name is None:
                continue
            run = list(run)
            codes = " ".join(f"U+{ord(ch):04X}" for _, ch in run)
            found.append(
                (n, f"形近或不可见字符 {codes}（{name}），第 {run[0][0]} 列")
            )
        found += [
            (
                n,
                f"拉丁字母中混入了西里尔字母（形近字符）：“{m.group(0)}”",
            )
            for m in _overlapping(_RE_CYRILLIC_IN_LATIN, line)
        ]
    return [Problem(rel(page), n, "typography", msg) for n, msg in found]


def _overlapping(regex: re.Pattern, line: str) -> list[re.Match]:
    """全部匹配，允许相邻的匹配共用一个字符（“中a中”里两处都要报告）。"""
    found, pos = [], 0
    while m := regex.search(line, pos):
        found.append(m)
        pos = m.start() + 1
    return found


# ------------------------------------------------------- 禁止的内容与网络访问

_FORBIDDEN = [
    (re.compile(r"<script\b", re.I), "页面里不允许原始 <script>"),
    (re.compile(r"<iframe\b", re.I), "页面里不允许 <iframe>"),
    (re.compile(r"<(object|embed)\b", re.I), "页面里不允许 <object>/<embed>"),
    (
        re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I),
        "页面里不允许内联事件处理器（onclick= 等）",
    ),
    (
        re.compile(
            r"<(img|source|video|audio|link)\b[^>]*\b(src|href|srcset|poster)\s*=\s*[\"']?(https?:)?//",
            re.I,
        ),
        "不允许加载站外资源（图片、样式等必须由本站提供）",
    ),
    (
        re.compile(r"!\[[^\]]*\]\(\s*<?(https?:)?//", re.I),
        "不允许引用站外图片（请由代码生成或放进仓库）",
    ),
    (
        re.compile(r"url\(\s*['\"]?(https?:)?//", re.I),
        "不允许在样式里引用站外资源",
    ),
]

#: 会执行的代码里出现这些写法，就意味着它要联网（或从网上下载数据）。
_NETWORK = re.compile(
    r"^\s*(import|from)\s+(requests|httpx|aiohttp|urllib3|socket|http\.client|ftplib|smtplib)\b"
    r"|^\s*(import|from)\s+urllib(\.request)?\b"
    r"|\burlopen\s*\(|\burlretrieve\s*\("
    r"|\btinygrad\.nn\.datasets\b|from\s+tinygrad\.nn\.datasets\s+import|\bfetch\s*\(\s*[\"']https?:"
    r"|\bfrom_pretrained\s*\(|\bhf_hub_download\s*\(|\bload_dataset\s*\(",
    re.M,
)


def check_forbidden(page: Path, text: str) -> list[Problem]:
    masked = mask_code(text)
    found = [
        (line_of(masked, m.start()), message)
        for regex, message in _FORBIDDEN
        for m in regex.finditer(masked)
    ]
    mermaid = "mermaid 图会让 Material 从 CDN 加载脚本；请用代码生成图片"
    found += [
        (block.line, mermaid)
        for block in iter_code_blocks(text, page)
        if block.lang == "mermaid"
    ]
    return [Problem(rel(page), n, "forbidden", msg) for n, msg in found]


#: 读者只装了 tinymodels（tinygrad、NumPy）：会执行的代码不能用别的框架。
FOREIGN_FRAMEWORKS = (
    "torch",
    "torchvision",
    "torchaudio",
    "tensorflow",
    "keras",
    "jax",
    "jaxlib",
    "flax",
    "optax",
    "transformers",
    "pytorch_lightning",
    "lightning",
    "paddle",
    "mxnet",
    "onnxruntime",
    "sklearn",
    "scipy",
)
_FOREIGN = re.compile(
    r"^[ \t]*(?:import|from)[ \t]+(" + "|".join(FOREIGN_FRAMEWORKS) + r")\b",
    re.M,
)


def network_problems(
    code: str, path: str, first_line: int = 1
) -> list[Problem]:
    """会执行的一段代码访问网络：只报告第一处（一个问题一行）。"""
    m = _NETWORK.search(code)
    if m is None:
        return []
    return [
        Problem(
            path,
            first_line + code.count("\n", 0, m.start()),
            "network",
            f"会执行的代码不能访问网络：“{m.group(0).strip()}”"
            "（数据请随包附带或由代码生成）",
        )
    ]


def foreign_import_problems(
    code: str, path: str, first_line: int = 1
) -> list[Problem]:
    """会执行的代码导入了 tinymodels 依赖以外的框架（每个 import 一行）。"""
    return [
        Problem(
            path,
            first_line + code.count("\n", 0, m.start()),
            "foreign-import",
            f"会执行的代码导入了 {m.group(1)}：读者只装了 tinymodels"
            "（tinygrad、NumPy），请用 tinymodels 或 NumPy 改写",
        )
        for m in _FOREIGN.finditer(code)
    ]


def block_code(block) -> list[tuple[str, str, int]]:
    """一个代码块执行的源码：[(源码, 文件, 第一行的行号)]；嵌入块是被嵌入的
    文件。"""
    if not block.is_include_block:
        return [(block.code, rel(block.path), block.line + 1)]
    return [
        (f.read_text(encoding="utf-8"), rel(f), 1)
        for f in (ROOT / inc.path for inc in block.includes)
        if f.is_file()
    ]


def executed_code(page: Path, text: str) -> list[tuple[str, str, int]]:
    """页面里会执行的源码（代码块、嵌入的片段；笔记本是整个文件）。"""
    if page.suffix == ".py":
        return [(text, rel(page), 1)]
    return [
        unit
        for block in iter_code_blocks(text, page)
        if block.is_python and not block.skip_reason
        for unit in block_code(block)
    ]


def executed_code_problems(
    code: str, path: str, first_line: int = 1
) -> list[Problem]:
    """一段会执行的代码的静态规则：network 与 foreign-import。"""
    return network_problems(code, path, first_line) + foreign_import_problems(
        code, path, first_line
    )


def check_network(page: Path, text: str) -> list[Problem]:
    """network 与 foreign-import：会执行的代码（代码块、嵌入的片段、
    笔记本）。"""
    problems = []
    for code, path, first in executed_code(page, text):
        problems += executed_code_problems(code, path, first)
    return problems


def check_placeholders(page: Path, text: str) -> list[Problem]:
    """脚手架（devtools/new_article.py）留下、还没替换的占位文字：页面（含术
    语表）和它嵌入的片段里的每一处（页面里的代码不算）。"""
    from devtools.new_article import PLACEHOLDERS

    # 页面里写在行内代码或代码块里的占位文字是在“谈论”它，不算
    sources = [(rel(page), mask_code(text) if page.suffix == ".md" else text)]
    if page.suffix == ".md":
        sources += [
            (rel(ROOT / inc.path), (ROOT / inc.path).read_text("utf-8"))
            for inc in iter_includes(text)
            if (ROOT / inc.path).is_file()
        ]
    problems = []
    for path, source in sources:
        for n, line in enumerate(source.splitlines(), start=1):
            problems += [
                Problem(
                    path,
                    n,
                    "placeholder",
                    f"脚手架的占位文字还没有替换：{ph}",
                )
                for ph in PLACEHOLDERS
                if ph in line
            ]
    return problems


# ---------------------------------------------------------------- 汇总


def _registered_rules(page: Path, text: str) -> list[Problem]:
    """独立模块里的规则：terminology（devtools/terminology.py）、exercises（devtools/exercises.py）。"""
    from devtools import (  # 延迟导入：它们反过来要用本模块
        exercises,
        terminology,
    )

    found = terminology.check_terminology(page, text)
    found += exercises.check_exercises(page, text)
    # 以 python -m devtools.doccheck 运行时本模块是 __main__：统一换成本模块的
    # Problem
    return [Problem(p.path, p.line, p.rule, p.message) for p in found]


def check_page(
    page: Path, docs_dir: Path = DOCS, nav: set[str] | None = None
) -> list[Problem]:
    """单页规则（不含公式：公式批量交给 node 渲染，见 check_math）。"""
    text = page.read_text(encoding="utf-8")
    problems: list[Problem] = []
    if page.suffix == ".md":
        problems += check_structure(page, text)
        problems += check_code_blocks(page, text)
        problems += check_includes(page, text)
        problems += check_links(page, text, docs_dir)
        problems += check_fence_languages(page, text)
        problems += check_typography(page, text)
        problems += check_forbidden(page, text)
    problems += _registered_rules(page, text)
    problems += check_network(page, text)
    problems += check_placeholders(page, text)
    if nav is not None:
        problems += check_nav(page, docs_dir, nav)
    return problems


def check(
    pages: list[Path] | None = None,
    docs_dir: Path = DOCS,
    site_wide: bool = True,
    config: Path | None = None,
) -> list[Problem]:
    """检查给定页面（默认全站），另外总是检查未被引用的片段（与 CI 一致；
    site_wide 只为兼容旧的调用而保留）。

    config 是读取 nav 的 mkdocs.yml；默认只在检查真正的 docs/ 时读取仓库根目录
    的 mkdocs.yml。
    """
    all_pages = doc_pages(docs_dir)
    pages = all_pages if pages is None else pages
    if config is None and docs_dir.resolve() == DOCS.resolve():
        config = ROOT / "mkdocs.yml"
    nav = nav_pages(config) if config is not None else None
    problems: list[Problem] = []
    for page in pages:
        problems += check_page(page, docs_dir, nav)
    problems += check_math(pages)
    if docs_dir.resolve() == DOCS.resolve():
        # 不论检查几个页面都算（CI 报告它，单页检查也要报告它）
        problems += check_unused_snippets(all_pages)
    return sorted(set(problems))


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m devtools.doccheck",
        description="检查文档页面，输出 文件:行号: 规则: 说明",
    )
    parser.add_argument(
        "paths", nargs="*", help="要检查的页面；不给则检查整个 docs/"
    )
    parser.add_argument(
        "--docs-dir", default=str(DOCS), help="文档根目录（默认 docs/）"
    )
    parser.add_argument(
        "--config", help="读取 nav 的 mkdocs.yml（默认仓库根目录的）"
    )
    args = parser.parse_args(argv)
    docs_dir = Path(args.docs_dir).resolve()
    pages = None
    if args.paths:
        pages = [Path(p).resolve() for p in args.paths]
        missing = [p for p in pages if not p.is_file()]
        if missing:
            print(
                f"路径不存在：{', '.join(map(str, missing))}", file=sys.stderr
            )
            return 2
    problems = check(
        pages,
        docs_dir,
        site_wide=pages is None,
        config=Path(args.config) if args.config else None,
    )
    for p in problems:
        print(p)
    print(
        f"{len(problems)} 个问题" if problems else "没有发现问题",
        file=sys.stderr,
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
