"""MkDocs 钩子：自托管 KaTeX、清理笔记本页面里指向 CDN 的 MathJax、给代码块加验证徽章。

- KaTeX 由 npm 安装（package.json 锁定版本），构建结束时从 node_modules 复制到
  站点的 assets/katex/ 下，因此站点不依赖任何 CDN，也不把压缩后的第三方文件提交进仓库。
- mkdocs-jupyter 的模板总会插入一个 MathJax <script>（默认指向公共 CDN）；
  这里把它删掉，笔记本里的公式改由 assets/javascripts/katex-init.js 用 KaTeX 渲染。
"""

from __future__ import annotations

import html
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # 钩子按文件路径加载，devtools 包需要仓库根目录在 sys.path 上
    sys.path.insert(0, str(ROOT))

from devtools import badges  # noqa: E402
KATEX_DIST = ROOT / "node_modules" / "katex" / "dist"
# 站点只需要这些文件；字体目录整个复制，因为 CSS 的 @font-face 同时引用 woff2/woff/ttf。
KATEX_FILES = ["katex.min.js", "katex.min.css", "contrib/auto-render.min.js"]

_MATHJAX_BLOCK = re.compile(
    r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.DOTALL
)


_FILES = None
_HREF_MD = re.compile(r'href="(?!https?:|mailto:|#|/)([^"#]+\.md)(#[^"]*)?"')


def on_files(files, config):
    global _FILES
    _FILES = files
    return files


def _rewrite_notebook_links(output: str, page) -> str:
    """mkdocs-jupyter 既不检查也不改写笔记本里的 Markdown 链接：把指向 .md 的相对链接改成页面地址，
    找不到目标时记一条警告（严格模式下构建失败）。"""
    import logging
    import posixpath

    from mkdocs.utils import get_relative_url

    log = logging.getLogger("mkdocs.plugins.kb")
    src_dir = posixpath.dirname(page.file.src_uri)

    def fix(m: re.Match) -> str:
        target = posixpath.normpath(posixpath.join(src_dir, html.unescape(m.group(1))))
        f = _FILES.get_file_from_path(target) if _FILES is not None else None
        if f is None:
            log.warning("笔记本 %s 里的链接指向不存在的页面：%s", page.file.src_uri, m.group(1))
            return m.group(0)
        return f'href="{get_relative_url(f.url, page.url)}{m.group(2) or ""}"'

    return _HREF_MD.sub(fix, output)


def on_config(config):
    """每次构建（包括 serve 的每次重建）都重新读取验证记录。"""
    badges.reload()
    return config


def on_page_markdown(markdown: str, page, config, files) -> str:
    """在每个 Python 代码块前插入验证徽章；在验证状态页插入汇总表。"""
    return badges.transform(markdown, "docs/" + page.file.src_uri, page.url)


def on_post_page(output: str, page, config) -> str:
    """删除 nbconvert 模板插入的 MathJax 脚本（它会请求外部 CDN）。"""
    if "<!-- Load mathjax -->" in output:
        output = _MATHJAX_BLOCK.sub("", output)
    if page.file.src_uri.endswith(".py"):
        output = _rewrite_notebook_links(output, page)
    return output


def on_post_build(config) -> None:
    """把锁定版本的 KaTeX 复制进构建目录。"""
    if not (KATEX_DIST / "katex.min.js").is_file():
        raise SystemExit(
            f"找不到 KaTeX：{KATEX_DIST}。请先运行 scripts/serve.sh 或 scripts/test.sh"
            "（它们会执行 npm ci 安装 package.json 里锁定的 KaTeX）。"
        )
    dest = Path(config["site_dir"]) / "assets" / "katex"
    for name in KATEX_FILES:
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(KATEX_DIST / name, target)
    shutil.copytree(KATEX_DIST / "fonts", dest / "fonts", dirs_exist_ok=True)
