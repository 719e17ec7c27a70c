"""构建后的站点测试：像读者一样：页面重量、版式、无障碍、截图与离线包。

这个模块不单独收集：tests/site/test_built_reader.py 用
`from _built_reader import *` 把这里的测试导入进去；构建与
tests/site/test_built_site.py 共用一次（tests/site/_browser.py）。

一次遍历（fixture ``reader_pass``）在同一个 Chromium 标签页里逐页打开整个
站点，每页只加载一次，都像第一次来的读者（不用缓存、浅色、记住的配色清掉，
见 ``_Tab``）：

1. 1280 px、浅色：统计首次加载的请求数与 gzip 后的字节数（本地服务器不压缩，
   这里按文件内容自己 gzip -9）；控制台错误、外部请求、公式与复制按钮
   （_browser.py 的 ``_page_problems``）；页面高度。
2. 1280 px 与 390 px（手机宽度）：横向溢出；1280 px 浅色时跑 axe（六类页型
   查整页，其余页面只查正文：外壳全站共用）。样式规则（``AXE_STYLE_RULES``：
   对比度、文字中的链接、点击目标大小，axe 里最贵的三条）只在各页型和正文出
   现新“样式签名”（父元素与元素的标签 + 类名，或内联 style）的页面上跑，这
   些页面还在深色下（与读者点切换按钮一样改 ``data-md-color-scheme``，同时让
   ``prefers-color-scheme`` 为 dark）再查一次颜色。同样的元素放在同样的父元
   素里、配同样的类，在哪一页算出来都一样，所以全站的每种样式组合都在浅色和
   深色下查过，其余页面省下了这三条规则（每页约 1 秒）。

各页型（首页、文章、笔记本、术语表、验证状态、API 参考）在四种组合下截全页图
（最高 ``MAX_SHOT_PX`` 像素），存到 artifacts/screenshots/。数字打印出来
（``pytest -s`` 或 ``-rP`` 看得到），也写进 artifacts/reader-report.txt。

离线包（``bash scripts/build.sh --offline``）另有一个测试：构建、打包、解压，
再从 file:// 打开。
"""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from _browser import _SETTLED_JS, _page_problems, _pages, _router  # noqa: E402

from devtools.paths import ROOT

__all__ = [
    "reader_pass",
    "offline_archive",
    "test_every_page_loads_cleanly_in_chromium",
    "test_page_weight_and_requests",
    "test_no_horizontal_overflow_on_phone_and_desktop",
    "test_no_serious_accessibility_violations",
    "test_page_heights",
    "test_offline_archive_reads_links_and_searches_from_file_urls",
]

ARTIFACTS = ROOT / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
REPORT = ARTIFACTS / "reader-report.txt"
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"

#: 每个页面第一次打开（空缓存）时最多传输的字节数（各响应 gzip -9 后之和）
#: 与请求数（issue #14：任何文章页 ≤ 200 KB、≤ 12 个请求）
MAX_PAGE_GZIP_BYTES = 200_000
MAX_PAGE_REQUESTS = 12
#: 不受上面两个上限约束的页面 → 理由。笔记本页面也是文章页，同样受约束。
WEIGHT_EXEMPT: dict[str, str] = {}

#: 页面高度按 800 px 高的桌面屏幕计
DESKTOP_SCREEN_PX = 800
#: 文章最多几屏（1280 px 宽时）：issue #14 的“约 6 屏”，留 1 屏余量给字体与
#: 换行的差别。更长的文章拆成章节文件夹里的几页（见 CONTRIBUTING.md）。
MAX_PAGE_SCREENS: float | None = 7.2
#: 不是文章、不受页面长度约束的页面（查阅用的参考页）→ 理由
LENGTH_EXEMPT = {
    "reference/api/": "API 参考：每个公开名字一个条目，按需跳转",
    "glossary/": "术语表：一张表，按字母和章节查找",
    "resources/references/": "参考文献：全站的文献列表",
    "verification/": "验证状态：每个代码块一行的状态表",
}

#: 检查版式的宽度：手机与桌面
WIDTHS = (1280, 390)

#: 截图的页型 → 页面
SCREENSHOT_PAGES = {
    "home": "",
    "article": "basics/gradient-descent/",
    "notebook": "basics/gradient-descent-notebook/",
    "glossary": "glossary/",
    "verification": "verification/",
    "api": "reference/api/",
}

#: axe 的影响等级里算失败的
AXE_FAIL_IMPACTS = ("serious", "critical")
#: 随配色变化的 axe 规则：深色下在各页型（SCREENSHOT_PAGES，整页）与正文
#: 有新样式签名的页面（正文）上跑这些；其余规则与配色无关，浅色下跑一次就够
AXE_COLOR_RULES = ["color-contrast", "link-in-text-block"]
#: 结果只取决于样式（颜色、尺寸）的规则，也是 axe 里最贵的三条（一页约 1 秒，
#: 其余一百条加起来约 0.5 秒）。同样的元素配同样的类，在哪一页算出来都一样：
#: 所以它们只在各页型上、以及正文里出现了前面页面没有的“样式签名”（父元素
#: 与元素的标签 + 类名，或任何内联 style）的页面上跑。见
#: ``_STYLE_SIGNATURE_JS``。
AXE_STYLE_RULES = [*AXE_COLOR_RULES, "target-size"]
#: 截图最多截这么高（API 参考页有一百多屏；截图是给人看版式的）
MAX_SHOT_PX = 8000

#: 离线包里要打开的文章与要搜索的词
OFFLINE_ARTICLE = "basics/gradient-descent.html"
OFFLINE_SEARCH = ("梯度", "basics/gradient-descent.html")


# --------------------------------------------------------------- 页面里的 JS

_FRAME_JS = """() => new Promise((r) =>
  requestAnimationFrame(() => requestAnimationFrame(r)))"""

_DARK_JS = """(dark) => {
  // 像读者一样点 Material 的配色切换（它改 body 的属性并记住选择）；
  // dark 为 null 时只读当前配色
  if (dark !== null) {
    const scheme = dark ? 'slate' : 'default';
    const input = document.querySelector(
      `input[name="__palette"][data-md-color-scheme="${scheme}"]`);
    if (input) input.click();
    else document.body.setAttribute('data-md-color-scheme', scheme);
  }
  return document.body.getAttribute('data-md-color-scheme');
}"""

#: 横向溢出：页面本身能否横向滚动；图、SVG、figure 是否宽过容器。自己能横向
#: 滚动的盒子（公式、表格、代码）里的东西不算。
_OVERFLOW_JS = """() => {
  const W = window.innerWidth;
  const scrollWidth = document.documentElement.scrollWidth;
  const say = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    const cls = typeof el.className === 'string' ? el.className : '';
    if (cls.trim()) s += '.' + cls.trim().split(/\\s+/).slice(0, 3).join('.');
    const src = el.getAttribute('src');
    if (src) s += '[src=' + (src.startsWith('data:') ? 'data:…' :
                             src.slice(-40)) + ']';
    const h = el.closest('.md-content') &&
      [...document.querySelectorAll('.md-content h2, .md-content h3')]
        .filter((x) => x.compareDocumentPosition(el) & 4).pop();
    if (h) s += ' (在“' + h.textContent.trim().slice(0, 24) + '”下)';
    return s;
  };
  const inScroller = (el) => {
    for (let a = el.parentElement; a && a !== document.body;
         a = a.parentElement) {
      const o = getComputedStyle(a).overflowX;
      if ((o === 'auto' || o === 'scroll') && a.clientWidth > 0) return true;
    }
    return false;
  };
  const hidden = (el, r) => r.width === 0 || r.height === 0 ||
    el.closest('[hidden], details:not([open]) > :not(summary)');
  const box = (el) => {
    let a = el.parentElement;
    while (a && getComputedStyle(a).display.startsWith('inline'))
      a = a.parentElement;
    return a;
  };
  const wide = [];
  const media = 'img, svg, figure, picture, video, canvas, iframe, object';
  for (const el of document.querySelectorAll('.md-main :is(' + media + ')')) {
    if (el.parentElement.closest('svg')) continue;
    const r = el.getBoundingClientRect();
    if (hidden(el, r) || inScroller(el)) continue;
    const c = box(el);
    if (!c) continue;
    const cr = c.getBoundingClientRect(), cs = getComputedStyle(c);
    const left = cr.left + c.clientLeft + parseFloat(cs.paddingLeft);
    const right = cr.left + c.clientLeft + c.clientWidth -
      parseFloat(cs.paddingRight);
    const over = Math.max(r.right - right, left - r.left);
    if (over > 1) wide.push(say(el) + ' 宽 ' + Math.round(r.width) +
      ' px，超出容器 ' + say(c) + ' ' + Math.round(over) + ' px');
  }
  const sticking = [];
  if (scrollWidth > W) {
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.right <= W + 1 || hidden(el, r) || inScroller(el)) continue;
      const p = el.parentElement.getBoundingClientRect();
      if (p.right > W + 1 && el.parentElement !== document.body) continue;
      sticking.push(say(el) + ' 右边缘在 ' + Math.round(r.right) + ' px');
      if (sticking.length >= 5) break;
    }
  }
  return {W, scrollWidth, wide, sticking};
}"""

#: 正文里每个元素的“样式签名”：父元素与它自己的标签和类名（排序后），例如
#: ``p.admonition-title>code.``；带内联 style 的元素连同 style 的内容一起算。
#: 带上父元素，是因为对比度还取决于背景：同样的 code 放进有底色的提示框标题
#: 里就是新的组合。KaTeX 的可视部分不算（axe 也不查它）。
_STYLE_SIGNATURE_JS = """() => {
  const name = (el) => {
    const cls = typeof el.className === 'string' ? el.className : '';
    return el.tagName.toLowerCase() + '.' +
      cls.trim().split(/\\s+/).filter(Boolean).sort().join('.');
  };
  const out = new Set();
  for (const el of document.querySelectorAll('.md-content *')) {
    if (el.closest('.katex-html')) continue;
    let sig = name(el.parentElement) + '>' + name(el);
    const style = el.getAttribute('style');
    if (style) sig += '[style=' + style + ']';
    out.add(sig);
  }
  return [...out];
}"""

_AXE_JS = """async ([context, options]) => {
  let result;
  try {
    result = await axe.run(context, options);
  } catch (e) {
    // axe 为个别节点生成选择器时会出错（nthChild）：不要选择器再跑一次
    result = await axe.run(context, {...options, selectors: false});
  }
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({
      target: (n.target || []).join(' '),
      html: n.html.slice(0, 160),
      summary: (n.failureSummary || '').split('\\n').slice(1, 2).join(''),
    })),
  }));
}"""


# ---------------------------------------------------------------- 一次遍历


class _Gzip:
    """站点文件 gzip -9 后的大小（同一文件只压缩一次）。"""

    def __init__(self, site_dir: Path):
        self.site_dir, self.sizes = site_dir, {}

    def __call__(self, url: str) -> int:
        path = unquote(urlparse(url).path).lstrip("/")
        file = self.site_dir / path
        if not path or path.endswith("/"):
            file = file / "index.html"
        if file not in self.sizes:
            self.sizes[file] = (
                len(gzip.compress(file.read_bytes(), 9))
                if file.is_file()
                else 0
            )
        return self.sizes[file]


class _Clock:
    """各步骤用了多少秒（累加到 seconds 里）。"""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.last = time.monotonic()

    def __call__(self, step: str) -> None:
        now = time.monotonic()
        self.seconds[step] = self.seconds.get(step, 0) + now - self.last
        self.last = now


def _settle(page, settled_js: str) -> None:
    # Material 的初始化在 load 之后异步进行；机器繁忙时多等（最多 20 秒）
    try:
        page.wait_for_function(settled_js, timeout=20000)
    except Exception:  # noqa: BLE001 - 超时后照常统计，断言会说明缺了什么
        pass
    page.evaluate(_FRAME_JS)


def _axe_for(page, dark: bool, kind: str | None, new_style: bool):
    """浅色：各页型查整页的全部规则；其余页面只查正文（页头、导航、页脚是
    全站共用的外壳，页型上已经查过），样式规则（AXE_STYLE_RULES）只在正文
    有新样式签名时才跑。深色（各页型与有新样式的页面）：随配色变化的规则，
    页型查整页，其余查正文。"""
    if dark:
        return _axe(
            page, "html" if kind else ".md-content", only=AXE_COLOR_RULES
        )
    if kind:
        return _axe(page, "html")
    if new_style:
        return _axe(page, ".md-content")
    return _axe(page, ".md-content", skip=AXE_STYLE_RULES)


def _axe(page, root: str, only=None, skip=()):
    # KaTeX 的可视 HTML 是 aria-hidden 的（读屏读的是旁边的 MathML），每个
    # 公式又有几十个 span：不查它，整页 axe 快一倍以上
    context = {"include": [[root]], "exclude": [[".katex-html"]]}
    options: dict = {"resultTypes": ["violations"]}
    if only:
        options["runOnly"] = {"type": "rule", "values": only}
    if skip:
        options["rules"] = {r: {"enabled": False} for r in skip}
    return page.evaluate(_AXE_JS, [context, options])


def _shot(page, kind: str, width: int, dark: bool, shots: list[str]):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{kind}-{width}-{'dark' if dark else 'light'}.png"
    height = page.evaluate("document.documentElement.scrollHeight")
    clip = {
        "x": 0,
        "y": 0,
        "width": width,
        "height": min(height, MAX_SHOT_PX),
    }
    page.screenshot(path=str(path), full_page=True, clip=clip)
    shots.append(str(path.relative_to(ROOT)))


class _Tab:
    """遍历用的一个标签页，逐页导航过去（每页新开一个上下文和标签页，要多花
    约 0.4 秒启动渲染进程）。每页开始前恢复成第一次来的读者：不用 HTTP 缓存
    （请求数和字节数照样按首次加载算）、浅色、1280 px；每页结束时清掉
    Material 记在 localStorage 里的配色选择。"""

    def __init__(self, browser, server):
        self.context = browser.new_context(
            viewport={"width": WIDTHS[0], "height": DESKTOP_SCREEN_PX},
            locale="zh-CN",
            color_scheme="light",
        )
        self.page = self.context.new_page()
        cdp = self.context.new_cdp_session(self.page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        self.external: list[str] = []
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.route("**/*", _router(server, self.external))
        self.page.on(
            "request",
            lambda r: (
                r.url.startswith("http") and self.requests.append(r.url)
            ),
        )
        self.page.on(
            "console",
            lambda msg: msg.type == "error" and self.errors.append(msg.text),
        )
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def reset(self):
        for seen in (self.external, self.errors, self.requests):
            seen.clear()
        page = self.page
        page.goto("about:blank")  # 先卸掉上一页：改窗口宽度时不必给它重新排版
        if page.viewport_size["width"] != WIDTHS[0]:
            page.set_viewport_size(
                {"width": WIDTHS[0], "height": DESKTOP_SCREEN_PX}
            )
        page.emulate_media(color_scheme="light")
        return page

    def leave(self):
        self.page.evaluate("localStorage.clear(); sessionStorage.clear()")

    def close(self):
        self.context.close()


def _visit(tab: _Tab, server, rel, sizes, shots, styles: set) -> dict:
    """打开一页，按模块说明里的顺序做完所有测量。``styles`` 是前面各页已经
    跑过样式规则的样式签名（这里会加上本页的）。"""
    where = rel or "index"
    kind = next((k for k, v in SCREENSHOT_PAGES.items() if v == rel), None)
    page = tab.reset()
    external, errors, requests = tab.external, tab.errors, tab.requests
    clock = _Clock()
    # 不等 networkidle（它总要多等 500 ms 的网络空闲）：load 之后等 Material
    # 初始化完（公式、复制按钮）和字体加载完，首次加载的请求就都发出了
    page.goto(server + rel, wait_until="load")
    _settle(page, _SETTLED_JS)
    page.evaluate("document.fonts.ready.then(() => true)")
    first_load = list(requests)
    out = {
        "rel": where,
        "problems": [f"{where}: 控制台错误：{e}" for e in errors]
        + _page_problems(page, where),
        "requests": [u.removeprefix(server) for u in first_load],
        "gzip": {u.removeprefix(server): sizes(u) for u in first_load},
        "height": page.evaluate("document.documentElement.scrollHeight"),
        "overflow": {},
        "axe": {},
        "seconds": clock.seconds,
    }
    signature = set(page.evaluate(_STYLE_SIGNATURE_JS))
    out["style_rules"] = bool(kind) or not signature <= styles
    styles |= signature
    clock("打开")
    page.add_script_tag(path=str(AXE_JS))
    # 只改一次窗口宽度（大页面重新排版很贵）。要截图的六类页面：1280 浅、
    # 1280 深、390 深、390 浅；正文有新样式的页面：1280 浅、1280 深、390 深；
    # 其余页面只看浅色的 1280 与 390（版式与配色无关，它们的每种样式都已经
    # 在别的页面上两种配色都查过）。
    if kind:
        steps = [(WIDTHS[0], False), (WIDTHS[0], True)]
        steps += [(WIDTHS[1], True), (WIDTHS[1], False)]
    elif out["style_rules"]:  # 正文有新样式：深色下也查一次颜色
        steps = [(WIDTHS[0], False), (WIDTHS[0], True), (WIDTHS[1], True)]
    else:
        steps = [(WIDTHS[0], False), (WIDTHS[1], False)]
    for width, dark in steps:
        scheme = "dark" if dark else "light"
        if width != page.viewport_size["width"]:
            page.set_viewport_size({"width": width, "height": 844})
        want = "slate" if dark else "default"
        if page.evaluate(_DARK_JS, None) != want:
            page.emulate_media(color_scheme=scheme)
            page.evaluate(_DARK_JS, dark)
            if kind or width == WIDTHS[0]:
                page.wait_for_timeout(300)  # 颜色过渡，之后要截图或跑 axe
            if page.evaluate(_DARK_JS, None) != want:
                out["problems"].append(f"{where}: 切换不到{scheme}配色")
        page.evaluate(_FRAME_JS)
        out["overflow"][(width, scheme)] = page.evaluate(_OVERFLOW_JS)
        clock("版式")
        if width == WIDTHS[0]:
            out["axe"][scheme] = _axe_for(
                page, dark, kind, out["style_rules"]
            )
            clock("axe")
        if kind:
            _shot(page, kind, width, dark, shots)
            clock("截图")
    out["problems"] += [f"{where}: 请求了外部资源：{u}" for u in external]
    tab.leave()
    return out


def _report(lines: list[str]) -> None:
    text = "\n".join(lines)
    print(text)
    ARTIFACTS.mkdir(exist_ok=True)
    with REPORT.open("a", encoding="utf-8") as f:
        f.write(text + "\n\n")


@pytest.fixture(scope="module")
def reader_pass(site_dir, server, browser) -> dict:
    """逐页打开整个站点一次，收集各项测量（见模块说明）。"""
    if not AXE_JS.is_file():
        pytest.fail(f"找不到 {AXE_JS}：运行 bash scripts/bootstrap.sh test")
    ARTIFACTS.mkdir(exist_ok=True)
    REPORT.write_text("", encoding="utf-8")
    sizes, shots, styles = _Gzip(site_dir), [], set()
    start = time.monotonic()
    # 各页型先看：它们跑全部规则，签名先记下
    kinds = set(SCREENSHOT_PAGES.values())
    order = sorted(_pages(site_dir), key=lambda r: r not in kinds)
    tab = _Tab(browser, server)
    pages = [_visit(tab, server, rel, sizes, shots, styles) for rel in order]
    tab.close()
    seconds = time.monotonic() - start
    steps: dict[str, float] = {}
    for p in pages:
        for step, t in p["seconds"].items():
            steps[step] = steps.get(step, 0) + t
    _report(
        [
            f"逐页遍历：{len(pages)} 页，{seconds:.0f} 秒（"
            + "，".join(f"{k} {v:.0f}" for k, v in steps.items())
            + "）；样式规则跑了 "
            + str(sum(p["style_rules"] for p in pages))
            + " 页（各页型与正文有新样式的页面）"
        ]
        + ["截图："]
        + [f"  {s}" for s in shots]
    )
    return {"pages": pages, "seconds": seconds, "shots": shots}


# ------------------------------------------------------------------ 各项断言


@pytest.mark.browser
def test_every_page_loads_cleanly_in_chromium(reader_pass):
    """每个页面：无控制台错误、无 KaTeX 错误、无非本地请求；公式都渲染了；代码
    块都有复制按钮。"""
    problems = [p for page in reader_pass["pages"] for p in page["problems"]]
    assert not problems, "\n".join(problems)


@pytest.mark.browser
def test_page_weight_and_requests(reader_pass):
    """第一次打开（空缓存）每页最多 200 KB（gzip 后）、12 个请求；打开页面不
    下载搜索索引。"""
    pages = sorted(
        reader_pass["pages"], key=lambda p: -sum(p["gzip"].values())
    )
    lines = [
        "页面重量（第一次打开，空缓存；各响应 gzip -9 后之和）：",
        f"{'页面':<44}{'KB':>7}{'请求':>5}  最重的三个",
    ]
    problems = []
    for p in pages:
        total = sum(p["gzip"].values())
        top = sorted(p["gzip"].items(), key=lambda kv: -kv[1])[:3]
        heavy = ", ".join(
            f"{u.rsplit('/', 2)[-1] or u} {b / 1000:.0f}" for u, b in top
        )
        lines.append(
            f"{p['rel']:<44}{total / 1000:>7.1f}{len(p['requests']):>5}"
            f"  {heavy}"
        )
        if p["rel"] in WEIGHT_EXEMPT:
            continue
        if total > MAX_PAGE_GZIP_BYTES:
            problems.append(
                f"{p['rel']}: {total / 1000:.1f} KB > "
                f"{MAX_PAGE_GZIP_BYTES / 1000:.0f} KB（{heavy}）"
            )
        if len(p["requests"]) > MAX_PAGE_REQUESTS:
            problems.append(
                f"{p['rel']}: {len(p['requests'])} 个请求 > "
                f"{MAX_PAGE_REQUESTS}：{' '.join(p['requests'])}"
            )
        index = [u for u in p["requests"] if "search_index" in u]
        if index:
            problems.append(f"{p['rel']}: 打开页面就下载了搜索索引 {index}")
    _report(lines)
    assert not problems, "\n".join(problems)


@pytest.mark.browser
def test_no_horizontal_overflow_on_phone_and_desktop(reader_pass):
    """390 px 与 1280 px（各页型还有深色）：页面不能横向滚动；图、SVG、
    figure 不宽过容器（自己能横向滚动的公式、表格、代码除外）。"""
    problems = []
    for p in reader_pass["pages"]:
        for (width, scheme), o in p["overflow"].items():
            at = f"{p['rel']} @ {width} px {scheme}"
            if o["scrollWidth"] > o["W"]:
                problems.append(
                    f"{at}: 页面宽 {o['scrollWidth']} px > 窗口 {o['W']} px："
                    + "；".join(o["sticking"])
                )
            problems += [f"{at}: {w}" for w in o["wide"]]
    _report(["横向溢出：" + ("无" if not problems else "")] + problems)
    assert not problems, "\n".join(problems)


@pytest.mark.browser
def test_no_serious_accessibility_violations(reader_pass):
    """axe-core（npm 锁定版本）在每页的浅色下、各页型的深色下：0 个 serious
    或 critical 违规。按规则归类打印全部违规（含 moderate、minor）。"""
    by_rule: dict[tuple[str, str], list[tuple[str, str, dict]]] = {}
    helps: dict[str, str] = {}
    for p in reader_pass["pages"]:
        for scheme, violations in p["axe"].items():
            for v in violations:
                helps[v["id"]] = v["help"]
                key = (v["impact"], v["id"])
                for n in v["nodes"]:
                    by_rule.setdefault(key, []).append((p["rel"], scheme, n))
    lines = ["axe-core 违规（按规则；同一说明的归在一起，附一个例子）："]
    failing = []
    order = ["critical", "serious", "moderate", "minor", None]
    for (impact, rule), found in sorted(
        by_rule.items(), key=lambda kv: (order.index(kv[0][0]), kv[0][1])
    ):
        pages = sorted({rel for rel, _, _ in found})
        lines.append(
            f"{impact} {rule}（{helps[rule]}）：{len(found)} 处，"
            f"{len(pages)} 页"
        )
        groups: dict[tuple[str, str], list] = {}
        for rel, scheme, n in found:
            # 对比度的说明里有具体颜色：同样的颜色归成一组
            noise = r"font size: [^,]*, |Minimum contrast is [^,]*, "
            text = re.sub(noise, "", n["summary"])
            groups.setdefault((scheme, text), []).append((rel, n))
        for (scheme, text), items in sorted(
            groups.items(), key=lambda kv: -len(kv[1])
        )[:8]:
            rel, n = items[0]
            n_pages = len({r for r, _ in items})
            lines.append(
                f"    [{scheme}] {len(items)} 处 / {n_pages} 页：{text}"
            )
            lines.append(f"        例：{rel} {n['target'] or n['html']}")
        if len(groups) > 8:
            lines.append(f"    …… 另有 {len(groups) - 8} 组")
        if impact in AXE_FAIL_IMPACTS:
            failing.append(f"{impact} {rule}: {len(found)} 处，页面 {pages}")
    _report(lines)
    assert not failing, "\n".join(failing)


@pytest.mark.browser
def test_page_heights(reader_pass):
    """1280 px 宽时每页的高度（以及几屏 800 px 的桌面屏幕）；文章不超过
    MAX_PAGE_SCREENS 屏（参考页除外，见 LENGTH_EXEMPT）。"""
    pages = sorted(reader_pass["pages"], key=lambda p: -p["height"])
    lines = ["页面高度（1280 px 宽）：", f"{'页面':<44}{'px':>8}{'屏':>6}"]
    too_long = []
    for p in pages:
        screens = p["height"] / DESKTOP_SCREEN_PX
        lines.append(f"{p['rel']:<44}{p['height']:>8}{screens:>6.1f}")
        if p["rel"] in LENGTH_EXEMPT or MAX_PAGE_SCREENS is None:
            continue
        if screens > MAX_PAGE_SCREENS:
            too_long.append(f"{p['rel']}: {screens:.1f} 屏")
    _report(lines)
    assert not too_long, "太长的页面：\n" + "\n".join(too_long)


# ------------------------------------------------------------------- 离线包


@pytest.fixture(scope="module")
def offline_archive(site_dir, tmp_path_factory) -> dict:
    """scripts/build.sh --offline 做的事：KB_OFFLINE=true 严格构建，打成 zip；
    再解压到别处（测试的是读者拿到的那个包）。排在 site_dir 之后：笔记本缓存
    已经是热的，这次构建不再执行笔记本。"""
    from devtools.offline import make_zip

    tmp = tmp_path_factory.mktemp("offline")
    env = {
        **os.environ,
        "KB_OFFLINE": "true",
        "NO_MKDOCS_2_WARNING": "1",
        "MPLBACKEND": "Agg",
    }
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q"]
        + ["--site-dir", str(tmp / "site")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    build_s = time.monotonic() - start
    assert proc.returncode == 0, (
        f"离线构建失败：\n{proc.stdout}\n{proc.stderr[-6000:]}"
    )
    archive = make_zip(tmp / "site", tmp / "tinymodels-kb-offline.zip")
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(tmp / "unzipped")
        files = len(zf.namelist())
    root = tmp / "unzipped" / "tinymodels-kb-offline"
    _report(
        [
            f"离线包：构建 {build_s:.1f} 秒（笔记本缓存是热的），"
            f"zip {archive.stat().st_size / 2**20:.1f} MiB，{files} 个文件"
        ]
    )
    return {"root": root, "build_s": build_s}


def _broken_links(root: Path) -> list[str]:
    """离线包里每个页面的站内链接都指向包里存在的文件（file:// 下指向目录的
    链接打开的是目录列表，不是页面）。"""
    bad = []
    href = re.compile(r'<a [^>]*href="([^"#?]*)[^"]*"')
    for html in sorted(root.rglob("*.html")):
        text = html.read_text(encoding="utf-8")
        for url in set(href.findall(text)):
            if not url or re.match(r"[a-z]+:", url) or url.startswith("//"):
                continue
            target = (html.parent / unquote(url)).resolve()
            if not target.is_file():
                bad.append(f"{html.relative_to(root)} → {url}")
    return bad


@pytest.mark.browser
def test_offline_archive_reads_links_and_searches_from_file_urls(
    offline_archive, browser
):
    """解压后的离线包从 file:// 打开：首页与一篇文章渲染（样式、公式），页面
    之间的链接能点，搜索能找到页面；不请求任何网络地址。"""
    root = offline_archive["root"]
    problems = [f"坏链接：{b}" for b in _broken_links(root)[:20]]
    for html in root.rglob("*.html"):
        if "unpkg.com" in html.read_text(encoding="utf-8"):
            problems.append(f"{html.relative_to(root)} 引用了 unpkg.com")
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    network: list[str] = []
    errors: list[str] = []
    page.route(
        re.compile(r"^(https?|wss?)://"),
        lambda route: (network.append(route.request.url), route.abort()),
    )
    page.on(
        "console",
        lambda msg: msg.type == "error" and errors.append(msg.text),
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    home = root.joinpath("index.html").as_uri()
    page.goto(home, wait_until="load")
    styled = page.evaluate(
        "getComputedStyle(document.querySelector('.md-header')).position"
    )
    if styled != "sticky":
        problems.append(f"首页没有 Material 的样式（页头 position={styled}）")
    # 点首页上指向那篇文章的链接
    link = page.locator(f'a[href$="{OFFLINE_ARTICLE}"]:visible').first
    if link.count():
        link.click()
        page.wait_for_load_state("load")
    else:
        problems.append(f"首页没有指向 {OFFLINE_ARTICLE} 的链接")
        page.goto(root.joinpath(OFFLINE_ARTICLE).as_uri(), wait_until="load")
    if not page.url.endswith(OFFLINE_ARTICLE):
        problems.append(f"点击后到了 {page.url}，不是 {OFFLINE_ARTICLE}")
    stats = page.evaluate(
        """() => ({
          h1: (document.querySelector('.md-content h1') || {}).textContent,
          math: document.querySelectorAll('.arithmatex').length,
          rendered: document.querySelectorAll('.arithmatex .katex').length,
          font: getComputedStyle(
            document.querySelector('.katex') || document.body).fontFamily,
        })"""
    )
    if not stats["h1"]:
        problems.append(f"{OFFLINE_ARTICLE} 没有标题")
    if not stats["math"] or stats["rendered"] != stats["math"]:
        problems.append(f"{OFFLINE_ARTICLE} 的公式没有渲染：{stats}")
    elif "KaTeX" not in stats["font"]:
        problems.append(f"{OFFLINE_ARTICLE} 的 KaTeX 样式没有加载：{stats}")
    # 搜索（file:// 下 Material 用 iframe-worker 的 shim 与内联的索引）
    query, expected = OFFLINE_SEARCH
    box = page.locator("input.md-search__input")
    box.click()
    box.fill(query)
    box.press("End")
    hrefs: list[str] = []
    try:
        page.wait_for_selector(".md-search-result__item", timeout=15000)
        page.wait_for_timeout(500)
        hrefs = page.eval_on_selector_all(
            ".md-search-result__item a", "els => els.map(e => e.href)"
        )
    except Exception as e:  # noqa: BLE001 - 报告成问题
        problems.append(f"离线搜索“{query}”没有结果：{e}".splitlines()[0])
    if hrefs and not any(
        urlparse(h).path.endswith("/" + expected) for h in hrefs
    ):
        problems.append(f"离线搜索“{query}”没有找到 {expected}：{hrefs[:5]}")
    context.close()
    problems += [f"控制台错误：{e}" for e in errors]
    problems += [f"请求了网络地址：{u}" for u in network]
    _report(
        [
            f"离线包（file://）：首页、{OFFLINE_ARTICLE}、搜索“{query}” → "
            + json.dumps([h.rsplit("/", 2)[-1] for h in hrefs[:3]])
        ]
    )
    assert not problems, "\n".join(problems)
