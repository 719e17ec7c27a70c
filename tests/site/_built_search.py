"""构建后的站点测试：搜索。

这个模块不单独收集：
tests/site/test_built_site.py 用 `from _built_search import *`
把这里的测试导入进去，与那里的其他测试共用一次构建和 fixture（site_dir、
server、browser）。

- 索引精简：没有代码、输出、公式、徽章；标题是纯文字；汉字按 UTF-8 原样写
  出；术语表里的词在索引里是完整的词。
- 索引按需下载：打开页面不请求 search_index.json，打开搜索才请求。
- 排名：真实 Chromium 里，每个查询的第一个结果是学生要找的那一页。
"""

from __future__ import annotations

import gzip
import json
import re
from urllib.parse import urlparse

import pytest

#: 查询 → 第一个结果应当所在的页面（学生要找的页面）
SEARCH_CASES = [
    ("注意力", "architectures/attention-transformer/"),
    ("梯度", "basics/gradient-descent/"),
    ("过拟合", "basics/training/overfitting/"),
    # 只有笔记本画了热力图
    ("热力图", "architectures/attention-transformer-notebook/"),
    ("交叉熵", "basics/training/"),
    ("位置编码", "architectures/attention-transformer/multi-head/"),
    # 词的开头：索引里是“生成对抗网络”
    ("生成对抗", "architectures/autoencoder-gan/"),
    ("卷积", "architectures/cnn/"),
    ("批归一化", "basics/normalization/"),
    ("困惑度", "llm/tiny-gpt/"),
    ("后端", "guide/run-code/"),
    # 括号里的英文：（gradient descent）
    ("gradient descent", "basics/gradient-descent/"),
]

#: 索引的大小上限（字节）。精简前约 1.4 MB（gzip 后 267 KB）；大模型 II、
#: III 之后约 830 KB。
MAX_INDEX_BYTES = 900_000
MAX_INDEX_GZIP_BYTES = 260_000  # 约 252 KB（110 页）；只在打开搜索时下载

_INDEX_URL = re.compile(r"/search/search_index\.json(?:[?#]|$)")


def _index(site_dir) -> tuple[bytes, dict]:
    raw = (site_dir / "search" / "search_index.json").read_bytes()
    return raw, json.loads(raw)


def test_search_index_is_small_and_only_prose(site_dir):
    raw, data = _index(site_dir)
    assert len(raw) < MAX_INDEX_BYTES, len(raw)
    assert len(gzip.compress(raw)) < MAX_INDEX_GZIP_BYTES
    docs_raw = json.dumps(data["docs"], ensure_ascii=False)
    assert "\\u200b" not in raw.decode("utf-8").split('"docs"', 1)[1]
    problems = []
    patterns = {
        "代码块": r"<pre|import numpy|def \w+\(",
        "公式": r"\\\(|\\\[|\\frac|\\left|\$\\|katex|<math",
        # 正文里举例的徽章写在「」里（使用指南）
        "验证徽章": r"(?<!「)已\u200b?验证 ·",
        "笔记本提示符": r"In \[\d+\]|Copied!",
        # 代码块标题里的片段文件名；正文的行内代码 <code>snippets/…</code>
        # 不算
        "片段文件名": r"(?<!<code>)snippets/[\w/]+\.py(?!</code>)",
    }
    for doc in data["docs"]:
        for what, pattern in patterns.items():
            m = re.search(pattern, doc["title"] + " " + doc["text"])
            if m:
                problems.append(f"{doc['location']}: {what}：{m.group(0)!r}")
        if re.search(r"<|>|¶|&para;", doc["title"]):
            problems.append(
                f"{doc['location']}: 标题不是纯文字：{doc['title']}"
            )
    assert not problems, "\n".join(problems[:30])
    assert "热力图" in docs_raw


def test_search_index_keeps_terms_whole(site_dir):
    _, data = _index(site_dir)
    separator = re.compile(data["config"]["separator"])
    words = set()
    for doc in data["docs"]:
        text = re.sub(r"<[^>]*>", " ", doc["title"] + " " + doc["text"])
        words.update(w for w in separator.split(text) if w)
    for term in (
        "热力图",
        "过拟合",
        "交叉熵",
        "位置编码",
        "梯度下降",
        "注意力",
    ):
        assert term in words, term
    assert "生成对抗网络" in words
    assert "力图" not in words  # 以前“热力图”被切成“热 / 力图”
    # 括号、引号是分隔符：英文词不带着中文括号
    assert "gradient" in words
    assert not [w for w in words if w.startswith(("（", "“"))]


def _new_page(browser, server):
    page = browser.new_page(locale="zh-CN")
    requests: list[str] = []
    external: list[str] = []
    errors: list[str] = []

    def route(route, request):
        if request.url.startswith(server):
            requests.append(request.url)
            route.continue_()
        else:
            external.append(request.url)
            route.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: msg.type == "error" and errors.append(msg.text),
    )
    return page, requests, external, errors


def _search(page, query: str) -> list[dict]:
    box = page.locator("input.md-search__input")
    box.click()
    if box.input_value():  # 先清空，等上一个查询的结果消失
        box.fill("")
        box.press("End")
        page.wait_for_function(
            "!document.querySelector('.md-search-result__item')"
        )
    box.fill(query)
    box.press("End")  # 触发 Material 的输入事件
    page.wait_for_selector(".md-search-result__item", timeout=15000)
    page.wait_for_timeout(500)  # 搜索框有防抖：等最后一次输入的结果
    return page.eval_on_selector_all(
        ".md-search-result__item > a",
        """els => els.map(a => ({
            href: a.href,
            title: (a.querySelector('h1, h2') || a).innerText,
        }))""",
    )


@pytest.mark.browser
def test_search_index_loads_only_when_search_opens(server, browser):
    page, requests, external, errors = _new_page(browser, server)
    page.goto(server + "basics/gradient-descent/", wait_until="networkidle")
    page.wait_for_timeout(500)
    loaded = [u for u in requests if _INDEX_URL.search(urlparse(u).path)]
    assert not loaded, f"页面加载时就下载了搜索索引：{loaded}"
    assert not [u for u in requests if "/workers/search." in u], (
        "页面加载时就下载了 Material 的搜索 worker"
    )

    with page.expect_request(lambda r: bool(_INDEX_URL.search(r.url))):
        page.locator("input.md-search__input").click()
    hits = _search(page, "注意力")
    assert hits, "打开搜索后没有结果"
    page.close()

    # 键盘快捷键（/）打开搜索，也会下载索引
    page2, requests2, external2, errors2 = _new_page(browser, server)
    page2.goto(server, wait_until="networkidle")
    with page2.expect_request(lambda r: bool(_INDEX_URL.search(r.url))):
        page2.keyboard.press("/")
    page2.close()
    assert not external + external2
    assert not errors + errors2, errors + errors2


@pytest.mark.browser
def test_search_first_hit(server, browser):
    """每个查询的第一个结果在预期的页面上；结果标题里没有字面的 <mark>、¶。"""
    page, _, external, errors = _new_page(browser, server)
    page.goto(server, wait_until="networkidle")
    problems = []
    for query, expected in SEARCH_CASES:
        hits = _search(page, query)
        first = urlparse(hits[0]["href"]).path if hits else None
        if first != urlparse(server).path + expected:
            shown = [urlparse(h["href"]).path for h in hits[:3]]
            problems.append(
                f"“{query}”：第一个结果应在 {expected}，实际 {shown}"
            )
        for hit in hits:
            if re.search(r"<|>|¶", hit["title"]):
                problems.append(f"“{query}”：结果标题 {hit['title']!r}")
    page.close()
    assert not external, external
    assert not errors, errors
    assert not problems, "\n".join(problems)
