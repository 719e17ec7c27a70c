"""构建后的站点测试：笔记本页面。

这个模块不单独收集：
tests/site/test_built_site.py 用 `from _built_notebooks import *`
把这里的测试导入进去，与那里的其他测试共用一次构建和 fixture（site_dir、
server、browser）。

笔记本页面由 mkdocs-jupyter 渲染、devtools/notebook_hooks.py 改写：没有它内联
的样式和脚本，图是随主题变色的内联 SVG，一级标题下有下载链接。这里检查构建出
的页面确实如此。浏览器里的实际重量、横向溢出与配色对比度由 _built_reader.py 对
全站统一检查。
"""

from __future__ import annotations

import gzip
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from devtools.paths import ROOT

NOTEBOOKS = sorted((ROOT / "docs").rglob("*.py"))

#: 1280 px 宽的窗口里内容栏的宽度（Material 的默认版式，两侧有导航与目录）
COLUMN_PX = 688
#: 图里最小的字在 1280 px 宽的屏幕上至少这么高（px）
MIN_FONT_PX = 12
#: 与 _built_reader.py 相同的预算（issue #14）：gzip 后的字节数与请求数
MAX_PAGE_GZIP_BYTES = 200_000
MAX_PAGE_REQUESTS = 12


def _page(site_dir: Path, nb: Path) -> tuple[Path, str]:
    rel = nb.relative_to(ROOT / "docs").with_suffix("")
    path = site_dir / rel / "index.html"
    return path, path.read_text(encoding="utf-8")


def _svgs(page: str) -> list[str]:
    return re.findall(
        r'<div class="jp-RenderedSVG [^"]*"[^>]*>\s*(<svg\b.*?</svg>)',
        page,
        re.S,
    )


class _Refs(HTMLParser):
    """页面加载时浏览器一定会请求的本地资源：样式表、脚本、图片、图标。"""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.links: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "link" and a.get("href"):
            rel = set((a.get("rel") or "").split())
            if rel & {"stylesheet", "icon", "preload", "modulepreload"}:
                self.urls.append(a["href"])
        elif tag == "script" and a.get("src"):
            self.urls.append(a["src"])
        elif tag == "img" and a.get("src"):
            self.urls.append(a["src"])
        elif tag == "a" and a.get("href"):
            self.links.append((a["href"], a))


def _local(page_path: Path, site_dir: Path, url: str) -> Path | None:
    if url.startswith(("data:", "#")) or urlparse(url).scheme:
        return None
    path = (page_path.parent / unquote(urlparse(url).path)).resolve()
    if path.is_dir():
        path = path / "index.html"
    assert path.is_relative_to(site_dir.resolve()), url
    return path


def test_every_notebook_page_was_executed_and_shows_its_own_figure(site_dir):
    """构建时执行了每个笔记本：页面里有代码输出的图（内联 SVG），且没有
    traceback。"""
    for nb in NOTEBOOKS:
        _, page = _page(site_dir, nb)
        assert _svgs(page), f"{nb.relative_to(ROOT)} 的页面里没有运行生成的图"
        assert "Traceback (most recent call last)" not in page, (
            f"{nb.relative_to(ROOT)} 的页面里有报错"
        )


def test_notebook_pages_carry_no_jupyter_css_or_scripts(site_dir):
    """mkdocs-jupyter 内联的约 600 KB 样式、复制按钮脚本、MathJax、mermaid 都
    不在页面里；换成了一个小样式表 notebook.css。"""
    css = site_dir / "assets" / "stylesheets" / "notebook.css"
    assert css.is_file() and css.stat().st_size < 8000
    for nb in NOTEBOOKS:
        path, page = _page(site_dir, nb)
        name = nb.relative_to(ROOT)
        styles = re.findall(r"<style\b[^>]*>(.*?)</style>", page, re.S)
        assert sum(map(len, styles)) < 2000, f"{name}：页面里内联了样式"
        for marker in (
            "jp-RenderedHTMLCommon{",
            "clipboard-copy",
            "MathJax",
            "mathjax",
            "mermaid",
            "require.js",
            "highlight-ipynb",
        ):
            assert marker not in page, f"{name}：页面里还有 {marker}"
        refs = _Refs()
        refs.feed(page)
        assert any(
            u.endswith("assets/stylesheets/notebook.css") for u in refs.urls
        ), f"{name}：没有链接 notebook.css"


def test_notebook_pages_fit_the_weight_budget(site_dir):
    """每个笔记本页面：HTML 加上它直接引用的样式表、脚本、图片、图标，gzip 后
    ≤ 200 KB、≤ 12 个请求。

    这是静态的下限；浏览器里首次打开的实际情况（含 CSS 引用的字体、搜索）由
    _built_reader.py 统计。"""
    rows, problems = [], []
    for nb in NOTEBOOKS:
        path, page = _page(site_dir, nb)
        refs = _Refs()
        refs.feed(page)
        files = [path] + [
            p
            for u in dict.fromkeys(refs.urls)
            if (p := _local(path, site_dir, u)) is not None
        ]
        missing = [str(p) for p in files if not p.is_file()]
        assert not missing, (
            f"{nb.relative_to(ROOT)} 引用的文件不存在：{missing}"
        )
        sizes = {p: len(gzip.compress(p.read_bytes(), 9)) for p in files}
        total = sum(sizes.values())
        rows.append(
            f"{nb.relative_to(ROOT)}: {total / 1000:.1f} KB，"
            f"{len(files)} 个请求（页面本身 {sizes[path] / 1000:.1f} KB）"
        )
        if total > MAX_PAGE_GZIP_BYTES or len(files) > MAX_PAGE_REQUESTS:
            problems.append(rows[-1])
    print("\n".join(rows))
    assert not problems, "超出预算：\n" + "\n".join(problems)


def test_notebook_pages_link_their_ipynb_and_py(site_dir):
    """一级标题下有两个下载链接（中文链接文字），指向构建时写进站点的 .ipynb
    与 .py：.ipynb 不含输出，单元格与源文件一致；两者里没有失效的相对链接。"""
    import jupytext

    for nb in NOTEBOOKS:
        path, page = _page(site_dir, nb)
        name = nb.relative_to(ROOT)
        refs = _Refs()
        refs.feed(page)
        downloads = {
            Path(href).suffix: (href, attrs)
            for href, attrs in refs.links
            if "download" in attrs and href.endswith((".ipynb", ".py"))
        }
        assert set(downloads) == {".ipynb", ".py"}, f"{name}：缺下载链接"
        block = re.search(r'<p class="kb-nb-download">(.*?)</p>', page, re.S)
        assert block and re.search(r"[\u4e00-\u9fff]", block.group(1)), (
            f"{name}：下载链接没有中文说明"
        )
        assert page.index("kb-nb-download") > page.index("</h1>")
        ipynb = _local(path, site_dir, downloads[".ipynb"][0])
        py = _local(path, site_dir, downloads[".py"][0])
        assert ipynb.is_file() and py.is_file(), f"{name}：下载文件不存在"
        data = json.loads(ipynb.read_text(encoding="utf-8"))
        assert data["nbformat"] == 4
        assert data["metadata"]["kernelspec"]["name"] == "python3"
        code = [c for c in data["cells"] if c["cell_type"] == "code"]
        assert code and not any(c["outputs"] for c in code), (
            f"{name}：.ipynb 应当不含输出"
        )
        source = jupytext.read(nb)
        assert ["".join(c["source"]) for c in code] == [
            c.source for c in source.cells if c.cell_type == "code"
        ]
        for text in (
            ipynb.read_text(encoding="utf-8"),
            py.read_text(encoding="utf-8"),
        ):
            assert not re.search(r"\]\((?!https?:)[^)]*\.md\b", text), (
                f"{name}：下载的文件里有指向站内 .md 的相对链接"
            )


def test_notebook_figures_fit_the_column_and_are_legible(site_dir):
    """图是内联 SVG：自身宽度不超过显示宽度的 2 倍；在 1280 px 的屏幕上最小的
    字（刻度、标题、图例；公式的上下标除外）至少 12 px；写明的黑白两色已换成
    随主题的颜色（没写颜色的文字由 notebook.css 的 fill: currentColor
    管）。"""
    problems = []
    for nb in NOTEBOOKS:
        _, page = _page(site_dir, nb)
        name = nb.relative_to(ROOT)
        assert not re.search(r'<img[^>]+src="data:image/png', page), (
            f"{name}：图是 PNG（笔记本应当用 SVG 输出）"
        )
        for i, svg in enumerate(_svgs(page)):
            width_pt = float(re.search(r'width="([\d.]+)pt"', svg).group(1))
            natural = width_pt * 4 / 3  # CSS：1pt = 4/3 px
            shown = min(natural, COLUMN_PX)
            if natural > 2 * shown:
                problems.append(
                    f"{name} 图 {i}：宽 {natural:.0f} px，显示 {shown:.0f} px"
                )
            # 文字是路径：每段文字是一组 <use>，外层 scale(s -s) 里的 s×100
            # 就是字号（pt）
            sizes = [
                float(s) * 100
                for s in re.findall(r"scale\(([\d.]+) -\1\)", svg)
            ]
            assert sizes, f"{name} 图 {i}：找不到文字"
            px = min(sizes) * shown / width_pt
            if px < MIN_FONT_PX - 0.05:
                problems.append(
                    f"{name} 图 {i}：最小的字 {min(sizes):.1f} pt，"
                    f"屏幕上 {px:.1f} px"
                )
            leftover = re.findall(r"#(?:000000|ffffff)\b", svg, re.I)
            assert not leftover, f"{name} 图 {i}：还有写死的黑白颜色"
            label = re.search(r'aria-label="([^"]+)"', svg)
            assert label and re.search(r"[\u4e00-\u9fff]", label.group(1))
    assert not problems, "\n".join(problems)


def test_notebook_headings_have_working_anchors(site_dir):
    """mkdocs-jupyter 给中文标题的 id 是空的：钩子按站点的 slugify 重新生成，
    目录里的链接都指向页面上存在的 id。"""
    for nb in NOTEBOOKS:
        _, page = _page(site_dir, nb)
        ids = set(re.findall(r'<h[1-6] id="([^"]+)"', page))
        assert '<h1 id="">' not in page and '<h2 id="">' not in page
        toc = re.search(
            r'<nav class="md-nav md-nav--secondary".*?</nav>', page, re.S
        )
        anchors = re.findall(r'href="#([^"]+)"', toc.group(0)) if toc else []
        missing = [a for a in anchors if unquote(a) not in ids]
        assert not missing, (
            f"{nb.relative_to(ROOT)}：目录链接没有对应的标题：{missing}"
        )


@pytest.mark.browser
def test_notebook_figures_follow_the_color_scheme(server, browser):
    """浅色与深色主题下，图里文字的颜色（SVG 的 fill，没写颜色的文字继承
    它）跟着主题变；图在 1280 px 宽时不超出内容栏。"""
    pages = [
        nb.relative_to(ROOT / "docs").with_suffix("").as_posix() + "/"
        for nb in NOTEBOOKS
    ]
    colors: dict[str, dict[str, str]] = {}
    problems = []
    for scheme in ("light", "dark"):
        context = browser.new_context(
            viewport={"width": 1280, "height": 900},
            color_scheme=scheme,
            locale="zh-CN",
        )
        page = context.new_page()  # 一个标签页逐页导航：省下每页开新页
        page.route(
            "**/*",
            lambda route, request: (
                route.continue_()
                if request.url.startswith(server)
                else route.abort()
            ),
        )
        for rel in pages:
            page.goto(server + rel, wait_until="load")
            figs = page.evaluate(
                """() => [...document.querySelectorAll('.jp-RenderedSVG svg')]
                  .map((svg) => ({
                    color: getComputedStyle(svg).fill,
                    shown: svg.getBoundingClientRect().width,
                    pt: svg.width.baseVal.valueInSpecifiedUnits,
                    column: svg.closest('.md-content__inner').clientWidth,
                  }))"""
            )
            colors.setdefault(rel, {})[scheme] = (
                figs[0]["color"] if figs else ""
            )
            for i, f in enumerate(figs):
                if f["shown"] > f["column"] + 0.5:
                    problems.append(
                        f"{rel} 图 {i}：{f['shown']} px 宽于内容栏"
                    )
        context.close()
    for rel, c in colors.items():
        if not c.get("light") or c.get("light") == c.get("dark"):
            problems.append(f"{rel}：图的文字颜色不随主题变化（{c}）")
    assert not problems, "\n".join(problems)
