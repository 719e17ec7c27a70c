"""构建后的站点：严格模式构建、零外部资源、自托管 KaTeX，以及真实 Chromium 中
的浏览器测试。

整个模块放在同一个 xdist worker 上（--dist loadfile），构建与
tests/site/test_built_reader.py（逐页的读者测试，在另一个 worker 上）共用一次
（见 tests/site/_browser.py）。
"""

from __future__ import annotations

import json
import os
import re
from html.parser import HTMLParser
from urllib.parse import urlparse

# 构建、服务器与浏览器（与 test_built_reader.py 共用一次构建）
from _browser import *  # noqa: E402, F403

from devtools.paths import ROOT

ARTIFACTS = ROOT / "artifacts"
CHROMIUM = os.environ.get("KB_CHROMIUM", "/usr/bin/chromium")


def test_build_contains_pages_and_self_hosted_katex(site_dir):
    assert (site_dir / "index.html").is_file()
    assert (
        site_dir / "basics" / "gradient-descent-notebook" / "index.html"
    ).is_file()
    # 公式在构建时渲染（tests/site/_built_math.py）：站点只带 KaTeX 的 CSS 与
    # woff2 字体，没有它的 JavaScript
    lock = json.loads((ROOT / "package-lock.json").read_text())
    version = lock["packages"]["node_modules/katex"]["version"]
    css = (site_dir / "assets" / "katex" / "katex.min.css").read_text(
        encoding="utf-8"
    )
    assert f'"{version}"' in css, f"站点里的 KaTeX 不是锁定的 {version}"
    assert any((site_dir / "assets" / "katex" / "fonts").glob("*.woff2"))
    assert not list((site_dir / "assets" / "katex").rglob("*.js"))


#: 构建出的页面里不该出现的东西：运行时警告、回溯、构建机器上的路径
_LEAKS = re.compile(
    r"Traceback \(most recent call last\)|\w+Warning:|TqdmWarning"
    r"|/site-packages/|\.venv/|/work/|/root/|/home/\w+/|/tmp/\w"
)


def test_no_warnings_tracebacks_or_local_paths_in_built_pages(site_dir):
    found = []
    for page in sorted(site_dir.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        for m in _LEAKS.finditer(text):
            snippet = text[max(0, m.start() - 40) : m.end() + 40]
            found.append(f"{page.relative_to(site_dir)}: {snippet!r}")
    assert not found, "页面里有警告、回溯或本机路径：\n" + "\n".join(
        found[:20]
    )


# ----------------------------------------------------- 零外部资源（静态检查）

_RESOURCE_ATTRS = {
    "script": ["src"],
    "img": ["src", "srcset"],
    "iframe": ["src"],
    "source": ["src", "srcset"],
    "audio": ["src"],
    "video": ["src", "poster"],
    "embed": ["src"],
    "object": ["data"],
    "track": ["src"],
    "input": ["src"],
}
# <link> 中会被浏览器加载的 rel 类型（canonical、alternate 等只是元数据链接）
_LINK_LOADS = {
    "stylesheet",
    "icon",
    "shortcut",
    "preload",
    "prefetch",
    "modulepreload",
    "manifest",
    "apple-touch-icon",
    "preconnect",
    "dns-prefetch",
}


class _ResourceCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in _RESOURCE_ATTRS.get(tag, []):
            if attrs.get(name):
                for part in attrs[name].split(","):
                    self.urls.append(
                        (f"<{tag} {name}>", part.strip().split(" ")[0])
                    )
        if tag == "link" and attrs.get("href"):
            rels = set((attrs.get("rel") or "").lower().split())
            if rels & _LINK_LOADS:
                self.urls.append(
                    (f"<link rel={attrs.get('rel')}>", attrs["href"])
                )
        if attrs.get("style"):
            self.urls += [
                ("style=", u)
                for u in re.findall(
                    r"url\(\s*['\"]?([^'\")]+)", attrs["style"]
                )
            ]


def _is_external(url: str) -> bool:
    url = url.strip()
    if url.startswith(("data:", "blob:", "#", "about:")):
        return False
    parsed = urlparse(url)
    return bool(parsed.scheme in ("http", "https") or url.startswith("//"))


def test_no_external_resources_in_html_and_css(site_dir):
    bad = []
    for html in site_dir.rglob("*.html"):
        text = html.read_text(encoding="utf-8")
        collector = _ResourceCollector()
        collector.feed(text)
        for style in re.findall(r"<style[^>]*>(.*?)</style>", text, re.S):
            collector.urls += [
                ("<style>", u)
                for u in re.findall(r"url\(\s*['\"]?([^'\")]+)", style)
            ]
            collector.urls += [
                ("<style> @import", u)
                for u in re.findall(r"@import\s+['\"]([^'\"]+)", style)
            ]
        bad += [
            f"{html.relative_to(site_dir)}: {where} {url}"
            for where, url in collector.urls
            if _is_external(url)
        ]
    for css in site_dir.rglob("*.css"):
        text = css.read_text(encoding="utf-8", errors="replace")
        urls = re.findall(r"url\(\s*['\"]?([^'\")]+)", text) + re.findall(
            r"@import\s+['\"]([^'\"]+)", text
        )
        bad += [
            f"{css.relative_to(site_dir)}: url() {u}"
            for u in urls
            if _is_external(u)
        ]
    assert not bad, "站点引用了外部资源：\n" + "\n".join(
        sorted(set(bad))[:50]
    )


def test_external_resource_check_catches_a_cdn():
    """自检：静态检查确实能发现 CDN 与 Google Fonts。"""
    c = _ResourceCollector()
    c.feed(
        '<script src="https://cdn.example.com/x.js"></script>'
        '<link rel="stylesheet" href="//fonts.googleapis.com/css">'
        '<link rel="canonical" href="https://example.com/">'
    )
    assert [u for _, u in c.urls if _is_external(u)] == [
        "https://cdn.example.com/x.js",
        "//fonts.googleapis.com/css",
    ]


def test_api_reference_covers_every_public_name(site_dir):
    """API 参考页为 tinymodels.__all__ 中的每个名字生成了条目，且每个名字都有
    文档字符串。"""
    import tinymodels

    page = (site_dir / "reference" / "api" / "index.html").read_text(
        encoding="utf-8"
    )
    ids = set(re.findall(r'id="(tinymodels\.[^"]+)"', page))
    missing, undocumented = [], []
    for name in tinymodels.__all__:
        if name.startswith("__"):
            continue
        if not any(i.rsplit(".", 1)[-1] == name for i in ids):
            missing.append(name)
        obj = getattr(tinymodels, name)
        if not (getattr(obj, "__doc__", None) or "").strip():
            undocumented.append(name)
    assert not missing, f"API 参考页缺少：{missing}"
    assert not undocumented, f"没有文档字符串：{undocumented}"


# 各主题的建站后测试写在 tests/site/_built_*.py 里，导入到这里才能共用上面的
# 一次构建（模块级 fixture）并落在同一个 xdist worker 上。
from _built_math import *  # noqa: E402, F403
from _built_notebooks import *  # noqa: E402, F403
from _built_search import *  # noqa: E402, F403
from _built_shell import *  # noqa: E402, F403
