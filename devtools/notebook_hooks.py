"""MkDocs 钩子：笔记本页面（docs/ 下 jupytext 格式的 .py，由
mkdocs-jupyter 执行并渲染）的瘦身、随主题变色的图、下载链接。

mkdocs-jupyter 给每个笔记本页面内联约 600 KB 的 JupyterLab 样式、一段复制
按钮的脚本、MathJax 与 mermaid 的加载代码，代码还各存两份（第二份给它自己的
复制按钮）。这里在页面内容渲染之后（``on_page_content``，先于
devtools/mkdocs_hooks.py 的同名钩子）把它们全部去掉，改成站点自己的写法：

- 代码单元格改成 Material 的代码块（``div.highlight > pre > code``）：与其他
  页面一样的配色、字体和复制按钮；文本输出改成其他页面的 ``output`` 块的样
  子（标着「输出」），标准错误另加 ``kb-nb-stderr``；去掉 In/Out 提示符。
- 图：笔记本用 ``%config InlineBackend.figure_formats = ["svg"]`` 输出 SVG
  （文字已转成路径，不依赖读者的字体）。这里把 nbconvert 的
  ``<img src="data:…">`` 解开、内联进页面，并把黑色（#000000）换成
  ``currentColor``、白色（#ffffff）换成页面底色：文字、坐标轴和背景随浅色与
  深色主题变化，热力图等位图部分不变。
- 标题的 id：mkdocs-jupyter 给中文标题的 id 是空的，目录链接全部失效；这里
  按站点的 slugify（pymdownx，小写）重新生成，并据此重建页面目录。
- 一级标题下插入下载链接：构建时写进站点的 ``<名字>.ipynb``（jupytext 从源
  文件生成，不含输出）和 ``<名字>.py``（源文件）；两者里指向站内 .md 的相对
  链接改成站点上的绝对地址，下载后仍然能点。
- 页面只多链接一个小样式表 ``assets/stylesheets/notebook.css``。

执行笔记本之前（缓存未命中时）确认构建机器上有中文字体（文泉驿微米黑，
scripts/bootstrap.sh 安装）：没有就让构建失败，而不是生成满是方框的图。页面
里出现 matplotlib 的缺字警告，同样让（严格模式的）构建失败。
"""

from __future__ import annotations

import base64
import html
import logging
import re
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority

log = logging.getLogger("mkdocs.plugins.kb.notebooks")

#: 笔记本页面链接的样式表（docs/ 下，MkDocs 照常复制进站点）
NOTEBOOK_CSS = "assets/stylesheets/notebook.css"
#: 构建机器上必须有的中文字体（Debian 软件包 fonts-wqy-microhei）
CJK_FONT = "WenQuanYi Micro Hei"
#: SVG 里的颜色 → 页面上的颜色：黑色随主题的文字色，白色随主题的底色
SVG_COLORS = {
    "#000000": "currentColor",
    "#ffffff": "var(--md-default-bg-color)",
}


def is_notebook(page) -> bool:
    """docs/ 下的 .py 都是笔记本（mkdocs.yml 里 mkdocs-jupyter 的
    include）。"""
    return page.file.src_uri.endswith(".py")


# ------------------------------------------------------------------ 中文字体


def _font_found(font_manager) -> bool:
    try:
        font_manager.findfont(
            font_manager.FontProperties(family=CJK_FONT),
            fallback_to_default=False,
        )
    except ValueError:
        return False
    return True


def check_cjk_font() -> None:
    """构建机器上没有中文字体时让构建失败（图里的中文会变成方框）。"""
    from matplotlib import font_manager

    if _font_found(font_manager):
        return
    # 字体可能是在 matplotlib 建立字体缓存之后才装的：重建一次缓存（也写回磁
    # 盘，执行笔记本的内核读的是同一份缓存）
    load = getattr(font_manager, "_load_fontmanager", None)
    if load is not None:
        font_manager.fontManager = load(try_read_cache=False)
        if _font_found(font_manager):
            return
    raise PluginError(
        f"找不到中文字体 {CJK_FONT}：笔记本图里的中文会显示成方框。"
        "请安装 Debian 软件包 fonts-wqy-microhei"
        "（bash scripts/bootstrap.sh docs 会安装它）。"
    )


# 先于 devtools/mkdocs_hooks.py：它在 on_files 里开始执行笔记本
@event_priority(10)
def on_files(files, config):
    plugin = config.plugins.get("mkdocs-jupyter")
    if plugin is not None:
        from devtools import notebook_exec

        if notebook_exec.missing(files, plugin):
            check_cjk_font()
    return files


# ---------------------------------------------------------------- 页面内容

_WRAPPER_START = '<div class="jupyter-wrapper">'
_WRAPPER_END = "<!-- jupyter-wrapper -->"
_COPY_WIDGET = re.compile(
    r'<div class="zeroclipboard-container">.*?</clipboard-copy>\s*</div>\s*',
    re.S,
)
_COPY_TEXT = re.compile(
    r'\s*<div class="clipboard-copy-txt" id="cell-\d+">[^<]*</div>'
)
_CODE = re.compile(
    r'<div class="highlight-ipynb hl-(\w+)"><pre><span></span>'
    r"(.*?)</pre></div>",
    re.S,
)
_PROMPT = re.compile(
    r'<div class="jp-(?:In|Out)putPrompt jp-(?:InputArea|OutputArea)-prompt">'
    r"[^<]*</div>"
)
_COLLAPSER = re.compile(r'<div class="jp-Collapser [^"]*">\s*</div>\s*')
_TEXT_OUTPUT = re.compile(
    r'<div class="jp-RenderedText jp-OutputArea-output[^"]*" '
    r'data-mime-type="([^"]+)"[^>]*>\s*<pre>(.*?)</pre>\s*</div>',
    re.S,
)
_SVG_OUTPUT = re.compile(
    r'(<div class="jp-RenderedSVG [^"]*"[^>]*>)\s*'
    r'<img [^>]*?src="data:image/svg\+xml;base64,([A-Za-z0-9+/=\s]+)"[^>]*>',
)
_PNG_ALT = re.compile(
    r'alt="No description has been provided for this image"'
)
_HEADING = re.compile(
    r'<h([1-6]) id="[^"]*">(.*?)<a class="anchor-link" href="#[^"]*">¶</a>'
    r"</h\1>",
    re.S,
)
_TAG = re.compile(r"<[^>]+>")


def _svg_inline(data: str) -> str:
    """nbconvert 的 base64 SVG → 可以内联进页面的 <svg>，颜色随主题。"""
    svg = base64.b64decode(data).decode("utf-8")
    svg = svg[svg.index("<svg") :]  # 去掉 <?xml ...?> 与 DOCTYPE
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, flags=re.S)
    # matplotlib 的 <style> 是全局的（*{…}），会作用于整个页面：规则改写在
    # notebook.css 里，只管图
    svg = re.sub(
        r'\s*<style type="text/css">.*?</style>', "", svg, flags=re.S
    )
    svg = re.sub(r"\s*<defs>\s*</defs>", "", svg)
    for color, css in SVG_COLORS.items():
        svg = re.sub(re.escape(color) + r"\b", css, svg, flags=re.I)
    # 给读屏软件：图里的文字（matplotlib 把每段文字写成注释，数字刻度除外）
    words = []
    for text in re.findall(r"<!-- (.*?) -->", svg):
        text = html.unescape(text).strip()
        if re.search(r"[^\W\d_]", text) and "$" not in text:
            if text not in words:
                words.append(text)
    label = "图：" + "；".join(words[:8]) if words else "代码运行生成的图"
    return svg.replace(
        "<svg ",
        f'<svg role="img" aria-label="{html.escape(label)}" ',
        1,
    )


def _code_block(m: re.Match) -> str:
    lang, code = m.group(1), m.group(2)
    return (
        f'<div class="language-{lang} highlight"><pre><span></span>'
        f"<code>{code}</code></pre></div>"
    )


def _text_output(m: re.Match) -> str:
    extra = " kb-nb-stderr" if "stderr" in m.group(1) else ""
    text = m.group(2).rstrip("\n")
    return (
        f'<div class="language-output highlight{extra}"><pre><span></span>'
        f"<code>{text}</code></pre></div>"
    )


_VERBATIM = re.compile(r"(<pre\b.*?</pre>|<svg\b.*?</svg>)", re.S)
_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
_CJK_BREAK = re.compile(f"([{_CJK}])\n([{_CJK}])")


def _join_cjk_lines(content: str) -> str:
    """笔记本的 Markdown 单元格按行折断，浏览器把汉字之间的换行显示成空格：
    两个汉字（或全角标点）之间的换行直接去掉。代码、输出和图不动。"""
    parts = _VERBATIM.split(content)
    for i in range(0, len(parts), 2):  # 偶数下标是 <pre>/<svg> 之外的部分
        parts[i] = _CJK_BREAK.sub(r"\1\2", parts[i])
    return "".join(parts)


def _fix_headings(content: str, page) -> str:
    """mkdocs-jupyter 给中文标题的 id 是空的：按站点的 slugify 重新生成（与
    mkdocs.yml 的 toc 设置相同），并据此重建页面目录。"""
    from mkdocs.structure.toc import get_toc
    from pymdownx.slugs import slugify

    slug = slugify(case="lower")
    seen: dict[str, int] = {}
    tokens: list[dict] = []
    stack: list[dict] = []

    def fix(m: re.Match) -> str:
        level, inner = int(m.group(1)), m.group(2)
        name = html.unescape(_TAG.sub("", inner)).strip()
        base = slug(name, "-") or "section"
        n = seen.get(base, 0)
        seen[base] = n + 1
        ident = base if n == 0 else f"{base}_{n}"
        token = {"level": level, "id": ident, "name": name, "children": []}
        while stack and stack[-1]["level"] >= level:
            stack.pop()
        (stack[-1]["children"] if stack else tokens).append(token)
        stack.append(token)
        return (
            f'<h{level} id="{ident}">{inner}<a class="headerlink" '
            f'href="#{ident}" title="本节链接">¶</a></h{level}>'
        )

    content = _HEADING.sub(fix, content)
    if tokens:
        page.toc = get_toc(tokens)
    return content


def download_names(page) -> tuple[str, str]:
    """下载文件名（与页面放在同一目录）：(<名字>.ipynb, <名字>.py)。"""
    stem = Path(page.file.src_uri).stem
    return f"{stem}.ipynb", f"{stem}.py"


def _download_links(page) -> str:
    ipynb, py = download_names(page)
    return (
        '<p class="kb-nb-download">下载这个笔记本：'
        f'<a href="{ipynb}" download>Jupyter 笔记本（.ipynb）</a>'
        f'<a href="{py}" download>Python 源文件（.py，jupytext 格式）</a>'
        "<span>不含运行结果；需要 tinymodels 和 matplotlib</span></p>"
    )


def slim(content: str, page) -> str:
    """把 mkdocs-jupyter 渲染的笔记本页面内容改写成站点自己的写法（见模块
    说明）。"""
    start = content.find(_WRAPPER_START)
    end = content.rfind(_WRAPPER_END)
    if start < 0 or end < 0:
        raise PluginError(
            f"{page.file.src_uri}：mkdocs-jupyter 的输出不是预期的格式"
            "（找不到 jupyter-wrapper），devtools/notebook_hooks.py 需要更新"
        )
    # 之前是样式、脚本、MathJax 与 mermaid 的配置；之后只有 widget 的状态
    content = content[start : end + len(_WRAPPER_END)]
    content = _COPY_WIDGET.sub("", content)
    content = _COPY_TEXT.sub("", content)
    content = _CODE.sub(_code_block, content)
    content = _PROMPT.sub("", content)
    content = _COLLAPSER.sub("", content)
    content = content.replace(
        ' tabindex="0"', ""
    )  # 每个单元格都是一个 Tab 停靠点
    content = _TEXT_OUTPUT.sub(_text_output, content)
    content = _SVG_OUTPUT.sub(
        lambda m: m.group(1) + _svg_inline(m.group(2)), content
    )
    content = _PNG_ALT.sub('alt="代码运行生成的图"', content)
    content = _join_cjk_lines(content)
    content = _fix_headings(content, page)
    content = content.replace("</h1>", "</h1>" + _download_links(page), 1)
    if "missing from font" in content:
        # matplotlib 的缺字警告：图里有方框。严格模式下这条警告让构建失败。
        log.warning(
            "笔记本 %s 的图里有缺字（方框）：请检查中文字体设置",
            page.file.src_uri,
        )
    return content


@event_priority(50)  # 先于 devtools/mkdocs_hooks.py 的 on_page_content
def on_page_content(html_text: str, page, config, files) -> str:
    if not is_notebook(page):
        return html_text
    return slim(html_text, page)


# ------------------------------------------------------- 样式表与下载文件

_MD_LINK = re.compile(
    r"\]\((?!https?:|mailto:|#|/)([^)\s#]+)\.md(#[^)\s]*)?\)"
)


def absolute_links(text: str, page, config) -> str:
    """把指向站内 .md 的相对链接改成站点上的绝对地址（下载的文件离开了
    站点）。"""
    import posixpath

    site_url = config.get("site_url")
    if not site_url:
        return text
    src_dir = posixpath.dirname(page.file.src_uri)
    use_dirs = config.get("use_directory_urls", True)

    def fix(m: re.Match) -> str:
        target = posixpath.normpath(posixpath.join(src_dir, m.group(1)))
        if not use_dirs:
            url = target + ".html"
        elif target == "index" or target.endswith("/index"):
            url = target.removesuffix("index")
        else:
            url = target + "/"
        return f"]({site_url.rstrip('/')}/{url}{m.group(2) or ''})"

    return _MD_LINK.sub(fix, text)


def write_downloads(page, config) -> None:
    """把 <名字>.ipynb（不含输出）和 <名字>.py 写到页面所在的目录。"""
    import jupytext

    src = Path(page.file.abs_src_path)
    dest = Path(page.file.abs_dest_path).parent
    dest.mkdir(parents=True, exist_ok=True)
    ipynb, py = download_names(page)
    source = absolute_links(src.read_text(encoding="utf-8"), page, config)
    (dest / py).write_text(source, encoding="utf-8")
    nb = jupytext.reads(source, fmt="py:percent")
    nb.metadata.pop("jupytext", None)  # 下载的是独立的 .ipynb，不与 .py 配对
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"  # 固定的 id：每次构建出同样的文件
    (dest / ipynb).write_text(
        jupytext.writes(nb, fmt="ipynb"), encoding="utf-8"
    )


def on_post_page(output: str, page, config) -> str:
    if not is_notebook(page):
        return output
    from mkdocs.utils import get_relative_url

    href = get_relative_url(NOTEBOOK_CSS, page.url)
    output = output.replace(
        "</head>", f'<link rel="stylesheet" href="{href}">\n</head>', 1
    )
    write_downloads(page, config)
    return output
