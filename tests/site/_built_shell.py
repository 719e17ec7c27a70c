"""构建后的站点测试：徽章、首页、导航与手机布局。

这个模块不单独收集：
tests/site/test_built_site.py 用 `from _built_shell import *`
把这里的测试导入进去，与那里的其他测试共用一次构建和 fixture（site_dir、
server、browser）。
"""

from __future__ import annotations

import json
import re
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from devtools import badges, records

#: 顶部标签页的顺序：先学习内容，使用指南放最后
TAB_ORDER = ["首页", "基础", "模型架构", "大模型", "资源", "参考", "使用指南"]
#: 首页学习路线卡片的顺序
STAGES = ["基础", "模型架构", "大模型", "资源"]


def _html(site_dir: Path, rel: str) -> str:
    return (site_dir / rel / "index.html").read_text(encoding="utf-8")


def _text(fragment: str) -> str:
    return re.sub(r"<[^>]+>", "", fragment).strip()


# ------------------------------------------------------------ 静态检查


def test_nav_tabs_in_order_with_the_guide_last(site_dir):
    page = _html(site_dir, "")
    tabs = [
        _text(t)
        for t in re.findall(
            r'<a href="[^"]*" class="md-tabs__link[^"]*">(.*?)</a>',
            page,
            re.S,
        )
    ]
    assert tabs == TAB_ORDER, tabs


def test_home_page_learning_path_cards_in_order(site_dir):
    page = _html(site_dir, "")
    m = re.search(r'<div class="grid cards">(.*?)</div>', page, re.S)
    assert m, "首页没有学习路线卡片（grid cards）"
    cards = re.findall(r"<li>(.*?)</li>", m.group(1), re.S)
    titles = [
        _text(re.search(r"<strong>(.*?)</strong>", c).group(1)) for c in cards
    ]
    assert [t.split("·")[-1].strip() for t in titles] == STAGES, titles
    for title, card in zip(titles, cards):
        text = _text(card)
        assert "先修" in text, f"{title} 没写先修"
        assert re.search(r"约 [\d.]+ 小时", text), f"{title} 没写时间"
        assert re.search(r'<a href="[^"#]+/">', card), f"{title} 没有链接文章"
    # 技术名词不在页面开头：它们在使用指南里
    top = _text(page.split('<div class="grid cards">')[0].split("<h1")[-1])
    for word in ("KaTeX", "OpenCL", "CUDA", "Metal"):
        assert word not in top, f"首页开头出现了 {word}"


def test_home_page_hides_the_one_item_sidebar(site_dir):
    """有顶部标签页时首页自己的侧栏只会有“首页”一项：首页隐藏它，让卡片占满。"""
    page = _html(site_dir, "")
    sidebar = re.search(
        r'<div class="md-sidebar md-sidebar--primary"[^>]*>', page
    )
    assert sidebar and "hidden" in sidebar.group(0)


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids[attrs["id"]] = f"{tag}.{attrs.get('class') or ''}"


def test_every_code_block_has_an_anchor_and_status_rows_link_to_it(site_dir):
    """每个会执行的代码块在页面上都有以记录 id 为名的锚点（有记录时就是它的
    徽章）；验证状态页的每一行都链接到存在的锚点。"""
    cache: dict[str, dict[str, str]] = {}

    def ids(rel: str) -> dict[str, str]:
        if rel not in cache:
            parser = _Ids()
            parser.feed(_html(site_dir, rel))
            cache[rel] = parser.ids
        return cache[rel]

    missing = []
    for page_rel, line, bid in records.all_blocks():
        rel = page_rel.removeprefix("docs/").removesuffix(".md")
        # index.md 的网址是它所在的文件夹（首页、拆成文件夹的章节）
        rel = "" if rel == "index" else rel.removesuffix("/index")
        kind = ids(rel).get(bid, "")
        if not kind.startswith(("details.kb-badge", "div.kb-anchor")):
            missing.append(f"{page_rel}:{line} #{bid}")
    assert not missing, "代码块没有锚点：\n" + "\n".join(missing)
    status = _html(site_dir, "verification")
    table = re.search(r'<div class="kb-status">(.*?)</div>', status, re.S)
    if not table:  # 没有任何记录的构建：状态页只有一句说明
        assert "没有找到验证记录" in status
        return
    links = re.findall(r'<a href="\.\./([^"#]*)/#([^"]+)"', table.group(1))
    assert len(links) == len(records.all_blocks())
    for rel, anchor in links:
        assert anchor in ids(rel), f"{rel}/#{anchor} 不存在"


def test_at_most_one_summary_per_page_right_under_the_h1(site_dir):
    for html in sorted(site_dir.rglob("index.html")):
        page = html.read_text(encoding="utf-8")
        n = page.count('class="kb-summary"')
        where = html.parent.relative_to(site_dir)
        assert n <= 1, f"{where}: {n} 句验证汇总"
        if n:
            assert re.search(r"</h1>\s*<p class=\"kb-summary\">", page), where
        if 'class="kb-badge ' in page:
            assert n == 1, f"{where}: 有徽章却没有汇总"


def test_no_emoji_in_badges_and_status_page(site_dir):
    """没有 emoji 字体时 ✅ 显示成方块：对勾由 CSS 画。"""
    for rel in ("verification", "basics/gradient-descent"):
        page = _html(site_dir, rel)
        assert "✅" not in page and "❌" not in page, rel


# ---------------------------------------------------------- 浏览器检查

#: 元素的文字颜色与它实际所在的背景（逐层向上合成半透明背景）的对比度
_CONTRAST_JS = """(el) => {
  const rgba = (s) => {
    const m = s.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return [0, 0, 0, 0];
    const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, bottom) => {
    const a = top[3] + bottom[3] * (1 - top[3]);
    if (!a) return [0, 0, 0, 0];
    return [0, 1, 2].map((i) =>
      (top[i] * top[3] + bottom[i] * bottom[3] * (1 - top[3])) / a
    ).concat([a]);
  };
  let bg = [0, 0, 0, 0];
  for (let e = el; e; e = e.parentElement) {
    bg = over(bg, rgba(getComputedStyle(e).backgroundColor));
    if (bg[3] >= 0.999) break;
  }
  bg = over(bg, [255, 255, 255, 1]);
  const fg = over(rgba(getComputedStyle(el).color), bg);
  const lum = (c) => {
    const [r, g, b] = c.slice(0, 3).map((v) => {
      v /= 255;
      return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
  return {
    ratio: (hi + 0.05) / (lo + 0.05),
    size: parseFloat(getComputedStyle(el).fontSize),
    text: el.textContent.trim().slice(0, 20),
  };
}"""


def _sample_badges(tmp_path) -> list[str]:
    """用生成器本身做出一个“已验证”和一个“验证未通过”的徽章（与构建时用
    的记录无关），注入页面里测样式。"""
    rows = [
        {"id": "demo-ok", "backend": "CPU", "result": "passed"},
        {"id": "demo-ok", "backend": "OpenCL", "result": "passed"},
        {"id": "demo-fail", "backend": "CPU", "result": "failed"},
    ]
    with open(tmp_path / "blocks-demo.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            r = {"date": "2026-12-01", "time": time.time(), **r}
            f.write(json.dumps({**r, "tinygrad": "0.14.0"}) + "\n")
    badges.reload([tmp_path])
    try:
        return [
            badges.badge_html(bid, "basics/gradient-descent/")
            for bid in ("demo-ok", "demo-fail")
        ]
    finally:
        badges.reload()


@pytest.mark.browser
def test_badge_contrast_keyboard_and_tap(server, browser, tmp_path):
    """徽章与页面汇总的文字在浅色和深色主题下都达到 WCAG AA（4.5:1）；徽章能
    用键盘打开，也能点按打开，打开后说明后端、版本和含义。"""
    ok_html, fail_html = _sample_badges(tmp_path)
    context = browser.new_context(
        viewport={"width": 1280, "height": 900},
        locale="zh-CN",
        has_touch=True,
    )
    page = context.new_page()
    page.goto(server + "basics/gradient-descent/", wait_until="networkidle")
    page.evaluate(
        """([a, b]) => {
          const h1 = document.querySelector('.md-content__inner h1');
          h1.insertAdjacentHTML('afterend', a + b);
        }""",
        [ok_html, fail_html],
    )
    problems = []
    targets = [
        "#demo-ok > summary",
        "#demo-fail > summary",
        ".md-typeset .kb-summary",
    ]
    for scheme in ("default", "slate"):
        page.evaluate(
            "(s) => document.body.setAttribute('data-md-color-scheme', s)",
            scheme,
        )
        for sel in targets:
            if not page.locator(sel).count():
                continue  # 没有记录的构建没有页面汇总
            r = page.locator(sel).first.evaluate(_CONTRAST_JS)
            if r["ratio"] < 4.5:
                problems.append(
                    f"{scheme} {sel}「{r['text']}」{r['ratio']:.2f}:1"
                )
    assert not problems, "对比度不足 4.5:1：\n" + "\n".join(problems)

    ok = page.locator("#demo-ok")
    info = page.locator("#demo-ok .kb-badge__info")
    assert not info.is_visible()
    title = page.locator("#demo-ok > summary").get_attribute("title")
    assert "CPU" in title and "tinygrad 0.14.0" in title  # 悬停提示
    page.locator("#demo-ok > summary").focus()
    page.keyboard.press("Enter")
    assert ok.evaluate("(d) => d.open") and info.is_visible()
    text = info.inner_text()
    assert "CPU" in text and "OpenCL" in text and "2026-12-01" in text
    assert "断言" in text  # 说明“已验证”的含义
    page.locator("#demo-ok > summary").tap()
    assert not ok.evaluate("(d) => d.open")
    # 对勾是 CSS 画的（summary::before 有边框），不是 emoji
    border = page.locator("#demo-ok > summary").evaluate(
        "(s) => getComputedStyle(s, '::before').borderBottomWidth"
    )
    assert float(border.removesuffix("px")) > 0
    context.close()


#: 窄屏上表格的状态：页面是否横向溢出、每个表是否放得下或能在自己的框里滚动
_TABLES_JS = """() => {
  const doc = document.scrollingElement;
  const tables = Array.from(
    document.querySelectorAll('.md-content table:not([class])')
  ).filter((t) => t.offsetParent !== null);
  return {
    pageOverflow: doc.scrollWidth - doc.clientWidth,
    tables: tables.map((t) => {
      const wrap = t.closest('.md-typeset__scrollwrap');
      const st = wrap ? getComputedStyle(wrap) : null;
      return {
        fits: !wrap || wrap.scrollWidth <= wrap.clientWidth + 1,
        scrolls: !!st && ['auto', 'scroll'].includes(st.overflowX),
        cue: !!st && st.backgroundImage.includes('gradient'),
      };
    }),
  };
}"""


@pytest.mark.browser
def test_phone_tables_glossary_and_status_page(server, browser):
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        locale="zh-CN",
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    problems = []
    for rel in ("glossary/", "verification/", "guide/contributing/", ""):
        page.goto(server + rel, wait_until="networkidle")
        state = page.evaluate(_TABLES_JS)
        if state["pageOverflow"] > 1:
            problems.append(
                f"{rel or '首页'}: 页面横向溢出 {state['pageOverflow']} px"
            )
        for n, t in enumerate(state["tables"]):
            if not t["fits"] and not (t["scrolls"] and t["cue"]):
                problems.append(
                    f"{rel}: 第 {n + 1} 个表既放不下也不能带提示地滚动"
                )

    # 术语表：每个术语是一张卡片，定义占满整行，“详见”链接在屏幕里
    page.goto(server + "glossary/", wait_until="networkidle")
    cells = page.evaluate(
        """() => {
          const t = Array.from(document.querySelectorAll('table')).find(
            (t) => t.querySelectorAll('th').length === 4);
          const row = t.querySelector('tbody tr');
          return Array.from(row.children).map((td) => {
            const r = td.getBoundingClientRect();
            return {left: r.left, right: r.right, width: r.width,
                    top: r.top, visible: r.width > 0 && r.height > 0};
          });
        }"""
    )
    term, _, definition, link = cells
    if definition["width"] < 390 * 0.7:
        problems.append(f"术语表：定义栏只有 {definition['width']:.0f} px 宽")
    if not link["visible"] or link["right"] > 390:
        problems.append(f"术语表：“详见”链接不在屏幕里：{link}")
    if not (term["top"] < definition["top"] < link["top"]):
        problems.append("术语表：卡片顺序不是术语、定义、链接")

    # 验证状态页：手机上只留代码块和各后端的列，整张表放得下
    page.goto(server + "verification/", wait_until="networkidle")
    status = page.evaluate(
        """() => {
          const t = document.querySelector('.kb-status table');
          if (!t) return null;
          const wrap =
            t.closest('.md-typeset__scrollwrap') || t.parentElement;
          const shown = Array.from(t.querySelectorAll('thead th')).filter(
            (th) => getComputedStyle(th).display !== 'none').length;
          return {shown, all: t.querySelectorAll('thead th').length,
                  fits: wrap.scrollWidth <= wrap.clientWidth + 1};
        }"""
    )
    if status is not None:
        if status["shown"] != status["all"] - 1:
            problems.append(f"验证状态页：手机上仍显示 {status['shown']} 列")
        if not status["fits"]:
            problems.append("验证状态页：表格在手机上放不下")
    context.close()
    assert not problems, "\n".join(problems)
