"""MkDocs 钩子：构建时渲染公式、清理笔记本页面里指向 CDN 的 MathJax、给代码块
加验证徽章。

- 公式在构建时由 KaTeX（npm 安装，package.json 锁定版本；整个构建一个 node
  进程）渲染成 HTML + MathML（devtools/katex_render.py），页面上没有任何 KaTeX
  的 JavaScript。KaTeX 无法渲染的公式记一条 ``文件:行号: math:`` 警告，严格模
  式下构建失败。
- 只有含公式的页面才链接 KaTeX 的 CSS（末尾接上
  assets/stylesheets/math.css）；构建结束时把只留 woff2 字体的 KaTeX CSS 和
  woff2 字体从 node_modules 复制到站点的 assets/katex/ 下，站点不依赖任何
  CDN，也不把第三方文件提交进仓库。
- mkdocs-jupyter 的模板总会插入一个 MathJax <script>（默认指向公共 CDN）；这里
  把它删掉，笔记本 Markdown 单元格里的公式同样在构建时渲染。
- 缓存里缺的笔记本在构建开始时于后台并行执行（每个 CPU 核一个进程，
  devtools/notebook_exec.py），同时先渲染其余页面。
- mkdocs-jupyter 缓存执行过的笔记本，但缓存键只看笔记本内容：tinymodels 改了，
  旧输出照样被用。这里把缓存目录换成 ``.cache/mkdocs-jupyter/<指纹>/``，指纹取
  自 tinymodels 的全部文件、pyproject.toml、tinygrad/numpy/matplotlib 的版本和
  后端（DEV）：任何一项变化，笔记本都会重新执行。
"""

from __future__ import annotations

import hashlib
import html
import os
import re
import shutil
import sys
import threading
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

_REPO = str(Path(__file__).resolve().parent.parent)
if (
    _REPO not in sys.path
):  # 钩子按文件路径加载，devtools 包需要仓库根目录在 sys.path 上
    sys.path.insert(0, _REPO)

from mkdocs.plugins import event_priority  # noqa: E402

from devtools import badges, katex_render  # noqa: E402
from devtools.paths import ROOT, rel  # noqa: E402

KATEX_DIST = ROOT / "node_modules" / "katex" / "dist"
#: 有公式的页面才加载的样式表（站内路径）：KaTeX 的 CSS（构建时从
#: node_modules 生成，只引用 woff2 字体）后面接上本站的公式样式
#: docs/assets/stylesheets/math.css，合成一个文件，少一个请求
MATH_CSS = ["assets/katex/katex.min.css"]
SITE_MATH_CSS = ROOT / "docs" / "assets" / "stylesheets" / "math.css"
_MATH_STATS = {"pages": 0, "formulas": 0}

_MATHJAX_BLOCK = re.compile(
    r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->",
    re.DOTALL,
)


_FILES = None
_HREF_MD = re.compile(r'href="(?!https?:|mailto:|#|/)([^"#]+\.md)(#[^"]*)?"')


_NOTEBOOKS = None  # 正在后台执行的笔记本（devtools.notebook_exec.Background）


def _wait_for_notebooks() -> None:
    """等后台的笔记本全部执行完；有失败的就让构建失败，信息里写明是哪一本、哪个单元格。"""
    global _NOTEBOOKS
    run, _NOTEBOOKS = _NOTEBOOKS, None
    if run is not None and (error := run.wait()):
        from mkdocs.exceptions import PluginError

        raise PluginError(error)


def on_files(files, config):
    """记下文件列表（改写笔记本链接要用）；在后台并行执行缓存里还没有的笔记本
    （见 devtools/notebook_exec.py）。

    笔记本页面被排到最后：它们执行的同时，MkDocs 先读取、渲染其余页面，到第一
    个笔记本页面时才等（``on_pre_page``）。页面顺序只影响处理的先后，导航仍按
    mkdocs.yml。
    """
    global _FILES, _NOTEBOOKS
    if (
        _NOTEBOOKS is not None
    ):  # 上一次（serve 的）构建中途失败、没等到的后台执行
        try:
            _wait_for_notebooks()
        except Exception:  # noqa: BLE001 —— 那次构建已经报过错
            pass
    plugin = config.plugins.get("mkdocs-jupyter")
    if plugin is not None:
        from mkdocs.structure.files import Files

        from devtools import notebook_exec

        todo = notebook_exec.missing(files, plugin)
        if (
            len(todo) > 1
        ):  # 只缺一本时让 mkdocs-jupyter 自己执行，省一次进程启动
            import logging

            log = logging.getLogger("mkdocs.plugins.kb")
            log.info("并行执行 %d 个笔记本", len(todo))
            _NOTEBOOKS = notebook_exec.Background(
                todo, plugin, ROOT, log.info
            )
            files = Files(
                sorted(
                    files, key=lambda f: f.abs_src_path in _NOTEBOOKS.sources
                )
            )  # 稳定排序
    _FILES = files
    return files


@event_priority(
    100
)  # 先于 mkdocs-jupyter 的 on_pre_page：它渲染时从缓存里读执行结果
def on_pre_page(page, config, files):
    if (
        _NOTEBOOKS is not None
        and page.file.abs_src_path in _NOTEBOOKS.sources
    ):
        _wait_for_notebooks()
    return page


def _rewrite_notebook_links(output: str, page) -> str:
    """mkdocs-jupyter 既不检查也不改写笔记本里的 Markdown 链接：把指向 .md 的
    相对链接改成页面地址，找不到目标时记一条警告（严格模式下构建失败）。"""
    import logging
    import posixpath

    from mkdocs.utils import get_relative_url

    log = logging.getLogger("mkdocs.plugins.kb")
    src_dir = posixpath.dirname(page.file.src_uri)

    def fix(m: re.Match) -> str:
        target = posixpath.normpath(
            posixpath.join(src_dir, html.unescape(m.group(1)))
        )
        f = _FILES.get_file_from_path(target) if _FILES is not None else None
        if f is None:
            log.warning(
                "笔记本 %s 里的链接指向不存在的页面：%s",
                page.file.src_uri,
                m.group(1),
            )
            return m.group(0)
        return f'href="{get_relative_url(f.url, page.url)}{m.group(2) or ""}"'

    return _HREF_MD.sub(fix, output)


NOTEBOOK_CACHE = Path(
    os.environ.get("KB_NOTEBOOK_CACHE", ROOT / ".cache" / "mkdocs-jupyter")
)


def library_fingerprint() -> str:
    """笔记本输出所依赖的一切的指纹。

    包括 tinymodels 的全部文件（含数据）、依赖版本与后端。
    """
    h = hashlib.sha256()
    for path in sorted((ROOT / "tinymodels").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            h.update(
                path.relative_to(ROOT).as_posix().encode()
                + b"\0"
                + path.read_bytes()
            )
    h.update((ROOT / "pyproject.toml").read_bytes())
    for package in ("tinygrad", "numpy", "matplotlib"):
        try:
            h.update(f"{package}={version(package)}".encode())
        except PackageNotFoundError:
            h.update(f"{package}=none".encode())
    h.update(f"DEV={os.environ.get('DEV', '')}".encode())
    return h.hexdigest()[:16]


_NOTEBOOK_CACHE_DIR: Path | None = None


_SERVING = False  # mkdocs serve：每次重建后在终端报告改动页面的问题
_DIRTY = False  # serve --dirty：只重建改过的页面
_CHECKED_AT = 0.0  # 上次报告时的时间：只检查之后改过的页面


def on_startup(command: str, dirty: bool) -> None:
    global _SERVING, _DIRTY
    _SERVING, _DIRTY = command == "serve", dirty


def _keep_notebook_cache(config) -> None:
    """--dirty 的重建不转换没改过的笔记本，mkdocs-jupyter 会把它们的缓存当成
    过期删掉（下一次构建就要重新执行全部笔记本）：把现有的缓存都算作用过。"""
    plugin = config.plugins.get("mkdocs-jupyter")
    used = getattr(plugin, "_used_cache_paths", None)
    if used is not None and plugin.config.get("cache_dir"):
        used.update(Path(plugin.config["cache_dir"]).glob("*.json"))


def _report_problems(docs_dir: Path, since: float) -> None:
    """在终端里报告改动过的页面的问题（与 scripts/check.sh --no-run 相同的
    规则与格式 ``文件:行号: 规则: 说明``）：坏链接、坏锚点、无法渲染的公式等。
    只报告，不让预览失败（严格模式下构建失败时，页面请求会一直等下去）。"""
    from devtools import doccheck

    pages = [
        p for p in doccheck.doc_pages(docs_dir) if p.stat().st_mtime > since
    ]
    if not pages:
        return
    try:
        problems = doccheck.check(pages, docs_dir)
    except Exception as err:  # noqa: BLE001 - 检查出错不能打断预览
        print(f"[检查] 无法检查：{err}", file=sys.stderr, flush=True)
        return
    for problem in problems:
        print(problem, file=sys.stderr, flush=True)
    print(
        f"[检查] {len(pages)} 个页面：{len(problems)} 个问题"
        if problems
        else f"[检查] {len(pages)} 个页面：没有发现问题",
        file=sys.stderr,
        flush=True,
    )


def on_config(config):
    """每次构建（包括 serve 的每次重建）都重新读取验证记录，并把笔记本缓存指向
    当前指纹的目录。"""
    global _NOTEBOOK_CACHE_DIR
    badges.reload()
    # 离线包（use_directory_urls: false）里验证状态页是 verification.html
    badges.STATUS_PAGE_URL = (
        "verification/"
        if config["use_directory_urls"]
        else "verification.html"
    )
    _HOISTED_CSS.clear()
    _MATH_STATS.update(pages=0, formulas=0)
    katex_render.renderer().seconds = 0.0
    # 笔记本的内核从本进程继承环境变量：MPLBACKEND=Agg 会让 plt.show() 什么也
    # 不输出，页面上就没有图。去掉它，ipykernel 才会用 inline 后端把图嵌进页面
    # （构建进程自己不画图）。
    if os.environ.get("MPLBACKEND", "").lower() == "agg":
        del os.environ["MPLBACKEND"]
    plugin = config.plugins.get("mkdocs-jupyter")
    if plugin is not None and plugin.config.get("cache"):
        _NOTEBOOK_CACHE_DIR = NOTEBOOK_CACHE / library_fingerprint()
        plugin.config["cache_dir"] = str(_NOTEBOOK_CACHE_DIR)
    return config


_STYLE_BLOCK = re.compile(r'<style type="text/css">(.*?)</style>', re.DOTALL)
#: 本次构建要写出的共享样式表：站内路径 → CSS
_HOISTED_CSS: dict[str, str] = {}


def on_page_content(html_text: str, page, config, files) -> str:
    """笔记本页面：把 nbconvert 内联的大段样式（每页约 590 KB，8 个页面完全相
    同）换成指向共享 CSS 文件的链接。

    浏览器只下载一次、之后走缓存，每个笔记本页面从约 660 KB 降到几十 KB；搜索
    插件也不必再解析这些样式。
    """
    if not page.file.src_uri.endswith(".py"):
        return html_text
    from mkdocs.utils import get_relative_url

    def hoist(m: re.Match) -> str:
        css = m.group(1)
        if len(css) < 2000:  # 小段样式留在原地
            return m.group(0)
        digest = hashlib.sha1(css.encode()).hexdigest()[:10]
        name = f"assets/stylesheets/jupyter-{digest}.css"
        _HOISTED_CSS[name] = css
        href = get_relative_url(name, page.url)
        return f'<link rel="stylesheet" href="{href}">'

    return _STYLE_BLOCK.sub(hoist, html_text)


def on_page_markdown(markdown: str, page, config, files) -> str:
    """在每个 Python 代码块前插入验证徽章；在验证状态页插入汇总表。"""
    return badges.transform(markdown, "docs/" + page.file.src_uri, page.url)


def _render_math(output: str, page) -> str:
    """在构建时渲染页面里的公式；有公式时在 <head> 里链接公式用的样式表。

    在 on_post_page 里做：搜索插件在这之前（on_page_context）已经取走了页面
    内容，搜索索引里仍是公式的 TeX 原文，而不是 KaTeX 的 HTML。
    """
    import logging

    from mkdocs.utils import get_relative_url

    notebook = page.file.src_uri.endswith(".py")
    output, count, failures = katex_render.render_page(output, notebook)
    if failures:
        log = logging.getLogger("mkdocs.plugins.kb")
        src = Path(page.file.abs_src_path)
        text = src.read_text(encoding="utf-8")
        for f in failures:
            line = katex_render.source_line(text, notebook, f.tex)
            shown = " ".join(f.tex.split())
            shown = shown if len(shown) <= 60 else shown[:60] + "…"
            log.warning(
                "%s:%s: math: KaTeX 无法渲染公式 “%s”：%s",
                rel(src),
                line or 1,
                shown,
                f.error,
            )
    if count:
        _MATH_STATS["pages"] += 1
        _MATH_STATS["formulas"] += count
        links = "".join(
            f'<link rel="stylesheet" href="{get_relative_url(c, page.url)}">'
            for c in MATH_CSS
        )
        output = output.replace("</head>", links + "\n</head>", 1)
    return output


_MKDOCSTRINGS_CSS = re.compile(
    r'<link rel="stylesheet" href="[^"]*assets/_mkdocstrings\.css">\s*'
)


def on_post_page(output: str, page, config) -> str:
    """删除 nbconvert 模板插入的 MathJax 脚本（它会请求外部 CDN）；在构建时渲
    染公式。mkdocstrings 给每一页都加了它的样式表，只有 API 参考页用得到：
    其余页面去掉，少一个请求。"""
    if "<!-- Load mathjax -->" in output:
        output = _MATHJAX_BLOCK.sub("", output)
    if 'class="doc doc-' not in output:
        output = _MKDOCSTRINGS_CSS.sub("", output)
    if page.file.src_uri.endswith(".py"):
        output = _rewrite_notebook_links(output, page)
    return _render_math(output, page)


def on_shutdown() -> None:
    katex_render.renderer().close()


@event_priority(50)  # 在 mkdocs-jupyter 清理缓存之前
def on_post_build(config) -> None:
    """把锁定版本的 KaTeX CSS 与 woff2 字体复制进构建目录；serve 时在后台
    报告改动页面的问题。"""
    global _CHECKED_AT
    _wait_for_notebooks()  # 通常早在第一个笔记本页面就等过了
    if _DIRTY:
        _keep_notebook_cache(config)
    if _SERVING:
        since, _CHECKED_AT = _CHECKED_AT, time.time()
        threading.Thread(
            target=_report_problems,
            args=(Path(config["docs_dir"]), since),
            daemon=True,
        ).start()
    if not (KATEX_DIST / "katex.min.css").is_file():
        raise SystemExit(
            f"找不到 KaTeX：{KATEX_DIST}。"
            "请先运行 scripts/serve.sh 或 scripts/test.sh"
            "（它们会执行 npm ci 安装 package.json 里锁定的 KaTeX）。"
        )
    for (
        name,
        css,
    ) in _HOISTED_CSS.items():  # 笔记本页面共用的样式表（见 on_page_content）
        target = Path(config["site_dir"]) / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(css, encoding="utf-8")
    # 公式已在构建时渲染：只需要 KaTeX 的 CSS 和字体，不要它的 JavaScript。
    # 本站面向的浏览器都支持 woff2，CSS 里也只留 woff2
    # （katex_render.trimmed_css）。
    dest = Path(config["site_dir"]) / "assets" / "katex"
    (dest / "fonts").mkdir(parents=True, exist_ok=True)
    css = (KATEX_DIST / "katex.min.css").read_text(encoding="utf-8")
    site_css = SITE_MATH_CSS.read_text(encoding="utf-8")
    (dest / "katex.min.css").write_text(
        katex_render.trimmed_css(css, KATEX_DIST / "fonts") + "\n" + site_css,
        encoding="utf-8",
    )
    for font in (KATEX_DIST / "fonts").glob("*.woff2"):
        if font.stem not in katex_render.INLINE_FONTS:  # 已内联进 CSS
            shutil.copy2(font, dest / "fonts" / font.name)
    if _MATH_STATS["formulas"]:
        import logging

        logging.getLogger("mkdocs.plugins.kb").info(
            "KaTeX %s：构建时渲染了 %d 个页面的 %d 个公式，node 用时 %.2f 秒",
            katex_render.renderer().version,
            _MATH_STATS["pages"],
            _MATH_STATS["formulas"],
            katex_render.renderer().seconds,
        )
    # 旧指纹下的笔记本输出不会再命中：一小时没动过的就删掉（别的构建可能正在用
    # 另一个指纹，例如 DEV=CL）
    if _NOTEBOOK_CACHE_DIR is not None and _NOTEBOOK_CACHE_DIR.is_dir():
        for old in NOTEBOOK_CACHE.iterdir():
            if (
                old.is_dir()
                and old != _NOTEBOOK_CACHE_DIR
                and len(old.name) == 16
                and old.stat().st_mtime < time.time() - 3600
            ):
                shutil.rmtree(old, ignore_errors=True)
