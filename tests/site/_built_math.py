"""构建后的站点测试：公式在构建时渲染。

这个模块不单独收集：
tests/site/test_built_site.py 用 `from _built_math import *`
把这里的测试导入进去，与那里的其他测试共用一次构建和 fixture（site_dir、
server、browser）。

公式由 devtools/katex_render.py 在构建时用 KaTeX 渲染成 HTML + MathML：页面
上没有 KaTeX 的 JavaScript，禁用 JavaScript 时公式照样显示；KaTeX 的 CSS、字
体与 math.css 只在有公式的页面加载。
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from devtools import doccheck, katex_render
from devtools.paths import DOCS, ROOT

__all__ = [
    "test_every_formula_is_rendered_at_build_time",
    "test_katex_css_only_on_math_pages_and_no_katex_js",
    "test_katex_css_uses_only_shipped_woff2_fonts",
    "test_dollar_amounts_in_prose_stay_text",
    "test_notebook_math_is_rendered_but_not_dollars_or_code",
    "test_invalid_latex_fails_the_build_with_file_and_line",
    "test_math_without_javascript_on_a_phone",
]

ARTIFACTS = ROOT / "artifacts"
_KATEX = '<span class="katex">'
_MATH_CSS = re.compile(
    r'<link rel="stylesheet" href="[^"]*assets/'
    r'(katex/katex\.min\.css|stylesheets/math\.css)">'
)


def _built_page(site_dir: Path, source: Path) -> Path:
    """docs/ 下的页面在站点里的位置（目录式网址）。"""
    rel = source.relative_to(DOCS).with_suffix("")
    if rel.name == "index":
        return site_dir / rel.parent / "index.html"
    return site_dir / rel / "index.html"


def _math_pages(site_dir: Path) -> list[Path]:
    return [
        p
        for p in sorted(site_dir.rglob("index.html"))
        if _KATEX in p.read_text(encoding="utf-8")
    ]


def test_every_formula_is_rendered_at_build_time(site_dir):
    """源文件里的每个公式（doccheck 的定界规则）在构建出的 HTML 里都是一个
    KaTeX 公式，带 MathML（屏幕阅读器读它）；不留 TeX 原文，没有渲染错误。"""
    problems, total = [], 0
    for source in doccheck.doc_pages(DOCS):
        text = source.read_text(encoding="utf-8")
        notebook = source.suffix == ".py"
        found = (
            doccheck.extract_notebook_math(text)
            if notebook
            else doccheck.extract_math(text)
        )
        built = _built_page(site_dir, source)
        if not built.is_file():
            problems.append(f"{source.relative_to(ROOT)}：没有构建出 {built}")
            continue
        page = built.read_text(encoding="utf-8")
        where = source.relative_to(ROOT)
        total += len(found)
        counts = {
            "KaTeX 公式": page.count(_KATEX),
            "MathML": len(
                re.findall(
                    r'<span class="katex-mathml"><math [^>]*>.*?'
                    r'<annotation encoding="application/x-tex">',
                    page,
                    re.S,
                )
            ),
            "可见的 HTML": page.count('<span class="katex-html"'),
        }
        for what, n in counts.items():
            if n != len(found):
                problems.append(
                    f"{where}：源文件有 {len(found)} 个公式，页面里 {n} 个"
                    f"{what}"
                )
        if re.search(r'class="arithmatex">\s*\\[(\[]', page):
            problems.append(f"{where}：有没渲染的 \\( 或 \\[")
        if "katex-error" in page:
            problems.append(f"{where}：有 KaTeX 渲染错误")
        if notebook:
            for cell in re.findall(
                r'class="[^"]*jp-RenderedMarkdown[^"]*"[^>]*>(.*?)</div>',
                page,
                re.S,
            ):
                prose = re.sub(
                    r"<code>.*?</code>|<[^>]+>", "", cell, flags=re.S
                )
                if re.search(r"\$[^\s$][^$]*\$", prose):
                    problems.append(f"{where}：笔记本单元格里留着 $...$")
    assert total > 500, f"全站只找到 {total} 个公式，检查的规则可能坏了"
    assert not problems, "\n".join(problems)


def test_katex_css_only_on_math_pages_and_no_katex_js(site_dir):
    """有公式的页面链接一次 KaTeX 的 CSS（末尾接着本站的 math.css），没有公
    式的页面不链接；没有任何页面加载 KaTeX 的 JavaScript，站点里也没有它。"""
    problems, with_math, without = [], 0, 0
    for html in sorted(site_dir.rglob("*.html")):
        text = html.read_text(encoding="utf-8")
        where = html.relative_to(site_dir)
        links = sorted(_MATH_CSS.findall(text))
        if _KATEX in text:
            with_math += 1
            if links != ["katex/katex.min.css"]:
                problems.append(f"{where}：有公式，但链接的是 {links}")
        else:
            without += 1
            if links:
                problems.append(f"{where}：没有公式，却链接了 {links}")
        for src in re.findall(r'<script[^>]*\ssrc="([^"]*)"', text):
            if re.search(r"katex|auto-render", src, re.I):
                problems.append(f"{where}：加载了 {src}")
        if re.search(r"renderMathInElement|katex\.render", text):
            problems.append(f"{where}：页面里有渲染公式的脚本")
    leftovers = [
        p.relative_to(site_dir).as_posix()
        for p in site_dir.rglob("*.js")
        if re.search(r"katex|auto-render", p.name, re.I)
    ]
    assert not leftovers, f"站点里还有 KaTeX 的 JavaScript：{leftovers}"
    assert with_math >= 10 and without >= 3, (with_math, without)
    assert not problems, "\n".join(problems)


def test_katex_css_uses_only_shipped_woff2_fonts(site_dir):
    """KaTeX 的 CSS 是锁定版本的，@font-face 只引用 woff2，引用的字体文件都
    在站点里，站点里也只有这些字体。"""
    import json

    lock = json.loads((ROOT / "package-lock.json").read_text())
    version = lock["packages"]["node_modules/katex"]["version"]
    css = (site_dir / "assets" / "katex" / "katex.min.css").read_text(
        encoding="utf-8"
    )
    assert f'katex-version:after{{content:"{version}"}}' in css
    found = set(re.findall(r"url\(([^)]+)\)", css))
    # 最常用的几种字体以 data URI 内联（katex_render.INLINE_FONTS）
    inline = {u for u in found if u.startswith("data:font/woff2;base64,")}
    urls = found - inline
    assert len(inline) == len(katex_render.INLINE_FONTS), len(inline)
    assert urls and all(u.endswith(".woff2") for u in urls), sorted(urls)
    fonts = site_dir / "assets" / "katex" / "fonts"
    shipped = {f"fonts/{p.name}" for p in fonts.iterdir()}
    assert shipped == urls, (
        f"缺：{sorted(urls - shipped)}；多余：{sorted(shipped - urls)}"
    )


def test_dollar_amounts_in_prose_stay_text(site_dir):
    """正文里的美元金额不是公式（使用指南里有这样一句）。"""
    page = (site_dir / "guide" / "index.html").read_text(encoding="utf-8")
    assert "价格从 $5 涨到 $10" in page


def test_notebook_math_is_rendered_but_not_dollars_or_code():
    """笔记本 Markdown 单元格：$...$、$$...$$ 渲染；美元金额、代码里的 $、
    单元格以外的 $ 原样保留。用真实的 node + KaTeX。"""
    cell = (
        '<div class="jp-RenderedHTMLCommon jp-RenderedMarkdown" '
        'data-mime-type="text/markdown">\n'
        "<p>价格从 $5 涨到 $10；损失 $a &lt; b$，"
        "代码 <code>x = $y$</code>。</p>\n"
        "<p>$$\\frac{1}{N}$$</p>\n</div>"
        '<div class="jp-OutputArea-output"><pre>$z$</pre></div>'
    )
    out, count, failures = katex_render.render_page(cell, notebook=True)
    assert (count, failures) == (2, [])
    assert "价格从 $5 涨到 $10" in out
    assert "<code>x = $y$</code>" in out and "<pre>$z$</pre>" in out
    assert (
        '<annotation encoding="application/x-tex">a &lt; b</annotation>'
        in (out)
    )
    # 独占一段的独立公式换掉了 <p>，成为与 Markdown 页面相同的 div.arithmatex
    display = (
        '<div class="arithmatex" tabindex="0"><span class="katex-display">'
    )
    assert display in out
    assert "<p>$$" not in out
    # 同样的输入不在笔记本里：不动
    assert katex_render.render_page(cell, notebook=False)[:2] == (cell, 0)


def test_invalid_latex_fails_the_build_with_file_and_line(tmp_path):
    """无效的 LaTeX（Markdown 页面与笔记本的 Markdown 单元格）让严格模式的构建
    失败，并报告 文件:行号。"""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# 首页\n\n好的公式 $x^2$。\n")
    shutil.copy(
        ROOT / "tests" / "fixtures" / "bad_pages" / "bad_formula.md", docs
    )
    (docs / "bad-notebook.py").write_text(
        "# %% [markdown]\n# # 坏笔记本\n#\n# 好的 $y$，坏的 $\\sqrt{2$。\n"
    )
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: 坏公式\n"
        "strict: true\n"
        "theme:\n  name: material\n  font: false\n"
        "plugins:\n"
        "  - mkdocs-jupyter:\n"
        '      include: ["*.py"]\n'
        "      execute: false\n"
        f"hooks:\n  - {ROOT / 'devtools' / 'mkdocs_hooks.py'}\n"
        "markdown_extensions:\n"
        "  - pymdownx.arithmatex:\n"
        "      generic: true\n"
    )
    env = {
        **os.environ,
        "NO_MKDOCS_2_WARNING": "1",
        "KB_NOTEBOOK_CACHE": str(tmp_path / "cache"),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode != 0, log
    assert re.search(r"bad_formula\.md:8: math: KaTeX 无法渲染公式", log), log
    assert re.search(r"bad-notebook\.py:4: math: KaTeX 无法渲染公式", log), (
        log
    )
    assert "index.md" not in "".join(
        ln for ln in log.splitlines() if ": math:" in ln
    )


# 禁用 JavaScript、390 px 宽的手机视口：公式照样渲染、显示；宽的独立公式在自
# 己的框里滚动并有阴影提示，页面本身不左右滚动；字体都加载成功。
_PHONE_JS = """() => {
  const vw = document.documentElement.clientWidth;
  const shown = (el) => el.checkVisibility();
  const out = {vw, empty: 0, errors: 0, outside: [], noCue: [], offCentre: [],
               scrolling: 0, formulas: 0};
  for (const el of document.querySelectorAll('.arithmatex')) {
    if (!shown(el)) continue;
    out.formulas += 1;
    const html = el.querySelector('.katex-html');
    const r = html ? html.getBoundingClientRect() : {width: 0, height: 0};
    if (!r.width || !r.height) out.empty += 1;
    if (el.querySelector('.katex-error')) out.errors += 1;
    // 公式在视口之内，或者在一个横向滚动、本身在视口之内的框里
    let box = el;
    while (box && box !== document.body) {
      const s = getComputedStyle(box);
      const scrolls = box.scrollWidth > box.clientWidth;
      if (/auto|scroll/.test(s.overflowX) && scrolls) break;
      box = box.parentElement;
    }
    if (!box || box === document.body) box = el;
    const b = box.getBoundingClientRect();
    if (b.left < -1 || b.right > vw + 1)
      out.outside.push(el.textContent.slice(0, 40));
    if (el.tagName !== 'DIV') continue;
    if (el.scrollWidth > el.clientWidth + 1) {
      out.scrolling += 1;
      const bg = getComputedStyle(el).backgroundImage;
      if ((bg.match(/gradient/g) || []).length < 4)
        out.noCue.push(el.textContent.slice(0, 40));
    } else if (!el.querySelector('.tag, .katex-tag')) {
      const bases = el.querySelectorAll(
        '.katex-html > .katex-base, .katex-html > .base');
      const a = bases[0].getBoundingClientRect();
      const z = bases[bases.length - 1].getBoundingClientRect();
      const c = el.getBoundingClientRect();
      if (Math.abs((a.left - c.left) - (c.right - z.right)) > 3)
        out.offCentre.push(el.textContent.slice(0, 40));
    }
  }
  return out;
}"""


@pytest.mark.browser
def test_math_without_javascript_on_a_phone(site_dir, server, browser):
    context = browser.new_context(
        java_script_enabled=False,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
    )
    problems: list[str] = []
    scrolling = 0
    pages = _math_pages(site_dir)
    assert pages
    # 公式最多的 10 页（HTML 最大）：宽公式、滚动提示、字体请求都在这里；
    # 逐页全看要一分钟，渲染本身已由上面的静态检查覆盖每一页
    pages = sorted(pages, key=lambda p: -p.stat().st_size)[:10]
    for built in pages:
        rel = built.parent.relative_to(site_dir).as_posix()
        rel = "" if rel == "." else rel + "/"
        page = context.new_page()
        failed: list[str] = []
        page.on(
            "response",
            lambda r, failed=failed: r.status >= 400 and failed.append(r.url),
        )
        page.on(
            "requestfailed", lambda r, failed=failed: failed.append(r.url)
        )
        page.goto(server + rel, wait_until="load")
        stats = page.evaluate(_PHONE_JS)
        where = rel or "index"
        if not stats["formulas"]:
            problems.append(f"{where}：没有看得见的公式")
        for key, what in [
            ("empty", "个公式显示为空"),
            ("errors", "个公式渲染出错"),
        ]:
            if stats[key]:
                problems.append(f"{where}：{stats[key]} {what}")
        for key, what in [
            ("outside", "伸出视口"),
            ("noCue", "能滚动却没有阴影提示"),
            ("offCentre", "没有居中"),
        ]:
            if stats[key]:
                problems.append(f"{where}：公式{what}：{stats[key][:3]}")
        problems += [f"{where}：请求失败 {u}" for u in failed]
        scrolling += stats["scrolling"]
        if rel == "architectures/attention-transformer/":
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(
                path=str(ARTIFACTS / "screenshot-math-phone-nojs.png")
            )
        page.close()
    context.close()
    # 有宽公式时才真正检查了滚动与提示
    assert scrolling, "手机上没有一个独立公式需要横向滚动"
    assert not problems, "\n".join(problems)
