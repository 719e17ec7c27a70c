"""构建时渲染公式：页面里的 LaTeX 在构建时由 KaTeX（node）变成 HTML + MathML。

读者的浏览器不下载、不执行任何 KaTeX 的 JavaScript：禁用 JavaScript 时公式照
样显示，也没有“先闪一下 TeX 原文”。有公式的页面只多加载 KaTeX 的 CSS、用到的
字体和 ``assets/stylesheets/math.css``（见 devtools/mkdocs_hooks.py）。

- Markdown 页面：pymdownx.arithmatex（generic 模式）输出
  ``<span class="arithmatex">\\(...\\)</span>`` 与
  ``<div class="arithmatex">\\[...\\]</div>``；把里面的 TeX 换成 KaTeX 的渲
  染结果，外层元素保留（主题的 ``div.arithmatex`` 样式照旧适用）。
- 笔记本页面：nbconvert 把 Markdown 单元格里的公式原样（HTML 转义后）留成
  ``$...$``、``$$...$$`` 与 ``\\begin{..}...\\end{..}``；在
  ``.jp-RenderedMarkdown`` 里、代码之外找出它们，规则与 arithmatex 的
  smart_dollar 相同（devtools/doccheck.py 检查源文件时也用这套规则），所以
  “价格从 $5 涨到 $10”不会变成公式。渲染结果同样包在 ``.arithmatex`` 里。

整个构建只启动一个 node 进程（devtools/katex_render.mjs），每个页面的公式一
次发过去；同一个公式只渲染一次（serve 重建时也是）。
"""

from __future__ import annotations

import atexit
import base64
import html
import json
import re
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from devtools.paths import ROOT

SCRIPT = ROOT / "devtools" / "katex_render.mjs"

_ARITHMATEX = re.compile(
    r'<(?P<tag>span|div) class="arithmatex">(?P<tex>.*?)</(?P=tag)>', re.S
)
_NOTEBOOK_MARKDOWN = re.compile(
    r'(<div class="[^"]*\bjp-RenderedMarkdown\b[^"]*"[^>]*>)(.*?)(?=</div>)',
    re.S,
)
_TAG = re.compile(r"(<[^>]*>)")
# 与 pymdownx.arithmatex（smart_dollar）和 doccheck.extract_math 相同的定界
# 规则；作用在 nbconvert 输出的（转义过的）文字上。
_NOTEBOOK_MATH = re.compile(
    r"(?<!\\)\$\$(?P<block>(?:\\.|[^\\])+?)\$\$"
    r"|(?P<env>\\begin\{(?P<name>[a-z]+\*?)\}(?:\\.|[^\\])+?\\end\{(?P=name)\})"
    r"|(?<!\\)(?<!\$)\$(?!\s)(?!\$)(?P<inline>(?:\\.|[^\\$\n])+?)(?<!\s)\$(?!\$)",
    re.S,
)
_PLACEHOLDER = re.compile(r"\x00(\d+)\x00")
_LONE_DISPLAY = re.compile(r"<p>\s*(\x00\d+\x00)\s*</p>")


@dataclass(frozen=True)
class Failure:
    """一个 KaTeX 无法渲染的公式。"""

    tex: str
    display: bool
    error: str


class KatexRenderer:
    """常驻的 node + KaTeX 进程；结果按 (TeX, 是否独立公式) 缓存。"""

    def __init__(self) -> None:
        self._proc: subprocess.Popen | None = None
        self._cache: dict[tuple[str, bool], dict] = {}
        self._lock = threading.Lock()
        self.version: str | None = None
        self.seconds = 0.0  # 等 node 渲染花掉的时间（构建报告用）

    def _start(self) -> subprocess.Popen:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        if not (ROOT / "node_modules" / "katex").is_dir():
            raise RuntimeError(
                "找不到 node_modules/katex：请先运行 scripts/serve.sh 或 "
                "scripts/test.sh（它们会执行 npm ci 安装锁定版本的 KaTeX）"
            )
        self._proc = subprocess.Popen(
            ["node", str(SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=ROOT,
            text=True,
            encoding="utf-8",
        )
        self.version = json.loads(self._read())["katex"]
        return self._proc

    def _read(self) -> str:
        line = self._proc.stdout.readline()
        if not line:
            code = self._proc.wait()
            self._proc = None
            raise RuntimeError(f"KaTeX 渲染进程意外退出（退出码 {code}）")
        return line

    def render(self, formulas: list[tuple[str, bool]]) -> list[dict]:
        """渲染一批公式；每项为 {"html": ...} 或 {"error": ...}。"""
        with self._lock:
            todo = list(
                dict.fromkeys(f for f in formulas if f not in self._cache)
            )
            if todo:
                start = time.perf_counter()
                proc = self._start()
                batch = [{"tex": t, "display": d} for t, d in todo]
                proc.stdin.write(json.dumps(batch) + "\n")
                proc.stdin.flush()
                results = json.loads(self._read())
                self._cache.update(zip(todo, results))
                self.seconds += time.perf_counter() - start
            return [self._cache[f] for f in formulas]

    def close(self) -> None:
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.stdin.close()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


_RENDERER: KatexRenderer | None = None


def renderer() -> KatexRenderer:
    global _RENDERER
    if _RENDERER is None:
        _RENDERER = KatexRenderer()
        atexit.register(_RENDERER.close)
    return _RENDERER


def _unwrap(tex: str) -> str:
    tex = tex.strip()
    if tex[:2] in ("\\(", "\\[") and tex[-2:] in ("\\)", "\\]"):
        tex = tex[2:-2]
    return tex.strip()


def _notebook_text(text: str, take) -> str:
    """笔记本 Markdown 单元格里一段文字（不含标签）中的公式换成占位符。"""

    def one(m: re.Match) -> str:
        if m.group("block") is not None:
            return take(m.group("block"), True)
        if m.group("env") is not None:
            return take(m.group("env"), True)
        return take(m.group("inline"), False)

    return _NOTEBOOK_MATH.sub(one, text)


def _notebook_cell(cell: str, take) -> str:
    """只处理代码（<code>、<pre>）以外的文字。"""
    parts = _TAG.split(cell)
    depth = 0
    for i, part in enumerate(parts):
        if i % 2:  # 标签
            name = re.match(r"</?\s*([a-zA-Z]+)", part)
            if name and name.group(1).lower() in ("code", "pre"):
                depth += -1 if part.startswith("</") else 1
        elif depth <= 0 and ("$" in part or "\\begin{" in part):
            parts[i] = _notebook_text(part, take)
    return "".join(parts)


def render_page(
    page_html: str, notebook: bool, render=None
) -> tuple[str, int, list[Failure]]:
    """渲染一个页面里的全部公式。

    返回（新的 HTML、公式个数、无法渲染的公式）。无法渲染的公式在页面上显示为
    标红的 TeX 原文（``.katex-error``），由调用者报告。``render`` 默认用常驻的
    node 进程。
    """
    found: list[tuple[str, bool, str]] = []  # (TeX, 独立公式, 外层标签)

    def take(escaped_tex: str, display: bool, tag: str = "span") -> str:
        found.append((_unwrap(html.unescape(escaped_tex)), display, tag))
        return f"\x00{len(found) - 1}\x00"

    def arithmatex(m: re.Match) -> str:
        tag = m.group("tag")
        return take(m.group("tex"), tag == "div", tag)

    page_html = _ARITHMATEX.sub(arithmatex, page_html)
    if notebook:

        def cell(m: re.Match) -> str:
            body = _notebook_cell(m.group(2), take)

            def lone(p: re.Match) -> str:
                i = int(p.group(1)[1:-1])
                tex, display, _ = found[i]
                if not display:
                    return p.group(0)
                found[i] = (tex, display, "div")  # 独占一段的独立公式
                return p.group(1)

            return m.group(1) + _LONE_DISPLAY.sub(lone, body)

        page_html = _NOTEBOOK_MARKDOWN.sub(cell, page_html)
    if not found:
        return page_html, 0, []
    results = (render or renderer().render)([(t, d) for t, d, _ in found])
    failures: list[Failure] = []
    pieces = []
    for (tex, display, tag), result in zip(found, results):
        if "html" in result:
            inner = result["html"]
        else:
            failures.append(Failure(tex, display, result["error"]))
            inner = (
                f'<span class="katex-error" '
                f'title="{html.escape(result["error"])}">'
                f"{html.escape(tex, quote=False)}</span>"
            )
        # 独立公式在手机上可能要横向滚动：tabindex 让键盘也能滚动它
        focus = ' tabindex="0"' if tag == "div" else ""
        pieces.append(f'<{tag} class="arithmatex"{focus}>{inner}</{tag}>')
    page_html = _PLACEHOLDER.sub(lambda m: pieces[int(m.group(1))], page_html)
    return page_html, len(found), failures


def source_line(text: str, notebook: bool, tex: str) -> int | None:
    """公式在源文件里的行号（报告 ``文件:行号`` 用）；找不到时为 None。"""
    from devtools import doccheck

    found = (
        doccheck.extract_notebook_math(text)
        if notebook
        else doccheck.extract_math(text)
    )
    want = " ".join(tex.split())
    for line, src, _ in found:
        if " ".join(_unwrap(src).split()) == want:
            return line
    return None


#: 每个有公式的页面都要用到的两种字体（正文与斜体变量）：以 data URI 内联
#: 进 CSS，每页少两个请求；其余字体按需下载（全部内联会让 CSS 重出 40 KB）
INLINE_FONTS = ("KaTeX_Main-Regular", "KaTeX_Math-Italic")


def trimmed_css(css: str, fonts_dir: Path | None = None) -> str:
    """KaTeX 的 CSS 只留 woff2 字体：@font-face 里去掉 woff 与 ttf。

    本站面向的浏览器都支持 woff2，站点里也就只复制 woff2 文件。给出
    ``fonts_dir`` 时，``INLINE_FONTS`` 改为内联的 data URI。
    """
    css = re.sub(
        r',url\(fonts/[^)]+\.(?:woff|ttf)\) format\("(?:woff|truetype)"\)',
        "",
        css,
    )
    for name in INLINE_FONTS if fonts_dir else ():
        data = base64.b64encode((fonts_dir / f"{name}.woff2").read_bytes())
        uri = "data:font/woff2;base64," + data.decode("ascii")
        css = css.replace(f"url(fonts/{name}.woff2)", f"url({uri})")
    return css
