"""解析 Markdown 中的围栏代码块（fenced code block）。

测试（conftest.py 里的 Sybil 解析器）和文档检查（devtools/doccheck.py）共用这
一份解析，所以“哪些代码块会被执行”只有一个答案。

约定（CONTRIBUTING.md 有完整说明）：

- 语言为 ``python``、``py``、``python3`` 或 ``py3`` 的代码块都会执行，不论后面
  带不带属性或标题，例如 ```` ```python title="x.py" ````、```` ```py
  linenums="1" ````、```` ``` { .python } ````。缩进在内容标签页（tabbed）或提
  示框（admonition）里的代码块同样会被找到。
- 每个代码块在全新的命名空间里运行，复制出去能单独运行。
- 故意接着上一段运行的代码块，第一行写 ``# 接上一段代码``（页面上看得见）。
- 只由 ``--8<-- "snippets/....py"`` 组成的代码块，会以真实路径运行被嵌入的文
  件，报错时给出 ``snippets/x.py:行号``。
- 紧跟在代码块后面的 ```` ```output ```` 块写出它打印了什么，测试核对它
  （devtools/outputs.py）。
- 不执行的代码块必须在它前面写 ``<!-- skip: next "理由" -->``，测试里显示为
  SKIPPED。
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

#: 会被执行的语言名。
PYTHON_LANGS = frozenset({"python", "py", "python3", "py3"})
#: 看起来是 Python、但不会被执行的语言名：文档检查会要求改写成 ```python。
PYTHONISH_LANGS = frozenset(
    {"pycon", "ipython", "ipython3", "python-repl", "pyi", "jupyter"}
)
#: 输出块的语言名：紧跟在代码块后面，写出它打印了什么；不执行，测试核对它
#: （devtools/outputs.py）。
OUTPUT_LANG = "output"
#: 续写标记：代码块第一行（去掉空白后）以它开头时，接着上一个 Python 代码块的
#: 命名空间运行。
CONTINUE_MARKER = "# 接上一段代码"

_FENCE_OPEN = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})"
    r"[ \t]*(?P<info>[^`\n]*?)[ \t]*$"
)
_SKIP = re.compile(
    r"^\s*<!--\s*skip:\s*next(?:\s+(?P<reason>.*?))?\s*-->\s*$"
)
# pymdownx.snippets 的单行写法：--8<-- "path"（也允许单引号）；行首的 ; 表示转
# 义，不算嵌入。
_INCLUDE = re.compile(
    r"^\s*-{1,}8<-{1,}\s+(?P<q>[\"'])(?P<spec>[^\"']+)(?P=q)\s*$"
)


@dataclass
class Include:
    """代码块里的一条 ``--8<--`` 嵌入。"""

    spec: str  # 原样的嵌入说明，可能带 :行号 或 :段名
    line: int  # 在 Markdown 文件中的行号（从 1 开始）

    @property
    def path(self) -> str:
        """去掉 ``:起始:结束`` 行号范围或 ``:段名`` 后的文件路径。"""
        return (
            self.spec.split(":", 1)[0]
            if not re.match(r"^[A-Za-z]:[\\/]", self.spec)
            else self.spec
        )

    @property
    def whole_file(self) -> bool:
        return ":" not in self.spec


@dataclass
class CodeBlock:
    """一个围栏代码块。"""

    path: Path
    line: int  # 开头围栏所在行（从 1 开始）
    end_line: int  # 结尾围栏所在行
    lang: str  # 规范化（小写）的语言名；没有写语言时为 ""
    info: str  # 围栏后面的完整信息串
    code: str  # 去掉缩进后的代码
    start: int  # 开头围栏在文本中的字符偏移
    end: int  # 结尾围栏之后的字符偏移
    skip_reason: str | None = (
        None  # None：不跳过；"" 表示写了 skip 但没给理由
    )
    skip_line: int | None = None
    includes: list[Include] = field(default_factory=list)
    has_code_besides_includes: bool = False

    @property
    def first_code_line(self) -> int:
        return self.line + 1

    @property
    def is_python(self) -> bool:
        return self.lang in PYTHON_LANGS

    @property
    def continues_previous(self) -> bool:
        for text in self.code.splitlines():
            if text.strip():
                return text.strip().startswith(CONTINUE_MARKER)
        return False

    @property
    def is_include_block(self) -> bool:
        return bool(self.includes) and not self.has_code_besides_includes

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"

    def executed_source(self, root: Path) -> str:
        """真正会被执行的代码：嵌入块是被嵌入文件的内容，其余是代码块本身。"""
        if self.is_include_block:
            parts = []
            for inc in self.includes:
                f = Path(root) / inc.path
                parts.append(
                    f.read_text(encoding="utf-8")
                    if f.is_file()
                    else f"<缺失：{inc.path}>"
                )
            return "\n".join(parts)
        return self.code


def fence_language(info: str) -> str:
    """从围栏信息串里取出语言名：``python title="x"`` → ``python``，
    ``{ .py hl_lines="2" }`` → ``py``。"""
    info = info.strip()
    if not info:
        return ""
    if info.startswith("{"):
        m = re.search(r"\.([A-Za-z0-9_+#-]+)", info)
        return m.group(1).lower() if m else ""
    return re.split(r"[\s{]", info, maxsplit=1)[0].lower()


def _dedent(line: str, indent: str) -> str:
    return (
        line[len(indent) :] if line.startswith(indent) else line.lstrip(" \t")
    )


def iter_code_blocks(
    text: str, path: Path | str = "<string>"
) -> list[CodeBlock]:
    """找出文本中的全部围栏代码块（含缩进在标签页、提示框里的）。"""
    path = Path(path)
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for ln in lines:
        offsets.append(offsets[-1] + len(ln))
    blocks: list[CodeBlock] = []
    i = 0
    while i < len(lines):
        m = _FENCE_OPEN.match(lines[i].rstrip("\n"))
        if not m:
            i += 1
            continue
        indent, fence, info = (
            m.group("indent"),
            m.group("fence"),
            m.group("info"),
        )
        close = re.compile(
            r"^[ \t]*"
            + re.escape(fence[0])
            + "{"
            + str(len(fence))
            + r",}[ \t]*$"
        )
        j = i + 1
        while j < len(lines) and not close.match(lines[j].rstrip("\n")):
            j += 1
        body = [_dedent(ln.rstrip("\n"), indent) for ln in lines[i + 1 : j]]
        block = CodeBlock(
            path=path,
            line=i + 1,
            end_line=min(j, len(lines) - 1) + 1,
            lang=fence_language(info),
            info=info,
            code="\n".join(body) + ("\n" if body else ""),
            start=offsets[i],
            end=offsets[min(j + 1, len(lines))],
        )
        # 前一个非空行是否为 skip 注释
        k = i - 1
        while k >= 0 and not lines[k].strip():
            k -= 1
        if k >= 0:
            sm = _SKIP.match(lines[k].rstrip("\n"))
            if sm:
                reason = (
                    (sm.group("reason") or "").strip().strip("\"'“”").strip()
                )
                block.skip_reason = reason
                block.skip_line = k + 1
        for n, text_line in enumerate(body):
            im = _INCLUDE.match(text_line)
            if im:
                block.includes.append(Include(im.group("spec"), i + 2 + n))
            elif text_line.strip():
                block.has_code_besides_includes = True
        blocks.append(block)
        i = j + 1
    return blocks


def iter_includes(text: str) -> list[Include]:
    """页面中所有的 ``--8<--`` 嵌入（不论在不在代码块里），用于检查缺失文件和
    未被引用的片段。"""
    out = []
    for n, ln in enumerate(text.splitlines(), start=1):
        m = _INCLUDE.match(ln)
        if m:
            out.append(Include(m.group("spec"), n))
    return out
