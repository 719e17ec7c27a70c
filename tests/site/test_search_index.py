"""搜索索引的过滤与改写（devtools/search_hooks.py）：不用构建，几秒钟。

构建后的索引与真实浏览器里的搜索见 tests/site/_built_search.py。
"""

from __future__ import annotations

import json
import re

import pytest

from devtools import search_hooks as sh
from devtools.paths import DOCS

ZW = "\u200b"
SEPARATOR = re.compile(r"[\s\u200b\u3000\-、。，．？！；：（）“”,;:!?()]+")

ARTICLE = """
<h1 id="梯度下降">梯度下降<a class="headerlink"
 href="#梯度下降">&para;</a></h1>
<p class="kb-summary">本页 3 段代码，已验证：CPU</p>
<p>设有 <span class="arithmatex">\\(N\\)</span> 个样本，
用 <code>Tensor</code> 表示。</p>
<div class="arithmatex">
\\[ \\left\\lVert \\frac{a}{b} \\right\\rVert \\]</div>
<span class="katex"><span class="katex-mathml"><math><mi>x</mi></math></span>
<span class="katex-html"><span class="mord">x</span></span></span>
<details class="kb-badge kb-badge--ok" id="b1"><summary>已验证</summary>
<div class="kb-badge__info"><p>已验证 · CPU · 2026-12-03</p>
<div>嵌套</div><p>徽章的其余部分</p></div></details>
<div class="language-python highlight">
<span class="filename">snippets/x.py</span>
<pre><span></span><code>import numpy as np  # 代码里的注释
</code></pre></div>
<div class="language-output highlight"><pre><code>初始损失 1.6758
</code></pre></div>
<p>损失 &lt; 0.05 时停止&#65281;</p>
<img alt="图" src="a.png"><br/>
"""

NOTEBOOK = """
<script>var x = "<div>";</script>
<div class="jp-Cell jp-MarkdownCell"><div class="jp-InputArea">
<div class="jp-InputPrompt jp-InputArea-prompt">In [1]:</div>
<div class="jp-RenderedMarkdown">
<h1 id="笔记本">笔记本：热力图<a class="anchor-link" href="#笔记本">¶</a></h1>
<p>注意力权重 $\\alpha_{ij}$ 画成热力图，价格从 $5 涨到 $10。</p>
</div></div></div>
<div class="jp-Cell jp-CodeCell"><div class="jp-InputArea">
<div class="jp-InputPrompt">In [2]:</div>
<div class="jp-CodeMirrorEditor jp-Editor"><pre>plt.imshow(w)</pre></div>
</div>
<div class="jp-OutputArea"><div class="jp-OutputArea-child">
<pre>测试集准确率</pre>
</div></div></div>
<div class="jp-Cell jp-MarkdownCell"><div class="jp-RenderedMarkdown">
<h2 id="小结">小结</h2><p>亮带沿着反对角线。</p></div></div>
"""


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]*>", " ", html).split())


def test_clean_html_keeps_prose_and_drops_code_math_badges():
    out = sh.clean_html(ARTICLE)
    text = _text(out)
    for kept in ("梯度下降", "个样本", "Tensor", "&lt; 0.05", "&#65281;"):
        assert kept in out, kept
    for gone in (
        "¶",
        "&para;",
        "本页 3 段代码",
        "\\(",
        "lVert",
        "mord",
        "已验证",
        "嵌套",
        "徽章的其余部分",
        "snippets/x.py",
        "import",
        "代码里的注释",
        "初始损失",
    ):
        assert gone not in out, gone
    # 被丢掉的元素之后的内容仍在
    assert "时停止" in text
    # 标题、段落结构保留给 Material 的解析器
    assert '<h1 id="梯度下降">梯度下降</h1>' in out


def test_clean_html_notebook_unwraps_cells_and_drops_code_and_tex():
    out = sh.clean_html(NOTEBOOK, notebook=True)
    assert "<div" not in out and "</div>" not in out
    for gone in ("In [", "plt.imshow", "测试集准确率", "alpha", "¶"):
        assert gone not in out, gone
    assert "注意力权重" in out and "画成热力图" in out
    assert "价格从 $5 涨到 $10" in out  # 不是公式
    assert re.search(r"<h2 id=\"小结\">小结</h2>\s*<p>亮带", out)


def test_glossary_words_come_from_the_term_tables():
    text = """
| 中文术语 | 英文 | 一句话定义 | 详见 |
| --- | --- | --- | --- |
| 过拟合 | overfitting | 定义 | 链接 |
| 查询、键、值 | query, key, value | 定义 | 链接 |
| Pre-LN 与 Post-LN | | 定义 | 链接 |
| 缩放系数与零点 | | 定义 | 链接 |
| 轮 | epoch | 定义 | 链接 |

| 本站写法 | 不用的写法 | 说明 |
| --- | --- | --- |
| 隐状态 | 隐藏状态 | 不是术语表格 |
"""
    assert sh.glossary_words(text) == ["过拟合", "查询", "缩放系数", "零点"]


def test_real_glossary_provides_the_key_terms():
    words = sh.glossary_words((DOCS / "glossary.md").read_text("utf-8"))
    for term in ("过拟合", "交叉熵", "位置编码", "生成对抗网络", "梯度下降"):
        assert term in words, term
    # EXTRA_WORDS 只放术语表里没有的词
    assert not set(sh.EXTRA_WORDS) & set(words)


def test_jieba_keeps_glossary_terms_whole_in_sentences():
    import jieba

    sh.load_words()
    cases = {
        "把注意力权重画成热力图。": "热力图",
        "训练损失下降而验证损失上升，说明过拟合了": "过拟合",
        "分类问题常用交叉熵损失": "交叉熵",
        "Transformer 需要位置编码来区分顺序": "位置编码",
        "生成对抗网络由生成器和判别器组成": "生成对抗网络",
        "先用梯度下降训练": "梯度下降",
        "每步只送入一个新词元": "词元",  # 默认词频下是“新词 / 元”
        "模型损失随参数量增大而下降": "参数",  # 默认词频下是“随参 / 数量”
    }
    for sentence, word in cases.items():
        assert word in jieba.lcut(sentence), (sentence, jieba.lcut(sentence))


def test_squeeze_zwsp_keeps_only_separating_ones():
    text = f"{ZW}梯度{ZW}下降{ZW}（gradient descent）{ZW}用{ZW}tinygrad{ZW}"
    out = sh.squeeze_zwsp(text + f"<p>{ZW}是{ZW}{ZW}的{ZW}</p>", SEPARATOR)
    assert out == (
        f"梯度{ZW}下降（gradient descent）用{ZW}tinygrad<p>是{ZW}的</p>"
    )


def test_rewrite_index_titles_merge_boost_and_compact_utf8():
    data = {
        "config": {"separator": SEPARATOR.pattern, "lang": ["zh"]},
        "docs": [
            {"location": "nb/", "title": f"笔记本{ZW}：热力图", "text": ""},
            {
                "location": "nb/#笔记本",
                "title": f"笔记本{ZW}：<mark>热力图</mark>{ZW}¶",
                "text": f"<p>{ZW}注意力{ZW}权重{ZW}</p> <p> </p>",
            },
            {"location": "nb/#小结", "title": "小结 ¶", "text": "<p>a</p>"},
            {"location": "a/", "title": "A &amp; B", "text": "<p>x   y</p>"},
        ],
    }
    out = sh.rewrite_index(data, {"nb/": 0.3})
    docs = {d["location"]: d for d in out["docs"]}
    assert list(docs) == ["nb/", "nb/#小结", "a/"]
    assert docs["nb/"]["title"] == "笔记本：热力图"
    assert docs["nb/"]["text"] == f"<p>注意力{ZW}权重</p>"
    assert docs["nb/#小结"]["title"] == "小结"
    assert docs["nb/"]["boost"] == docs["nb/#小结"]["boost"] == 0.3
    assert "boost" not in docs["a/"]
    assert docs["a/"]["title"] == "A &amp; B"
    assert docs["a/"]["text"] == "<p>x y</p>"
    raw = sh.dumps(out)
    assert json.loads(raw) == out
    # 汉字与零宽空格原样写出，不是 \uXXXX（分隔符的正则里的 \u200b 除外）
    docs_raw = sh.dumps({"docs": out["docs"]})
    assert b"\\u" not in docs_raw and "热力图".encode() in docs_raw


@pytest.mark.parametrize("title", ["<code>x</code> ¶", "x\u200b", " x "])
def test_clean_title_is_plain_text(title):
    assert sh.clean_title(title, SEPARATOR) == "x"
