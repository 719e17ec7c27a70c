"""拆成文件夹的长章节（devtools/chapter_hooks.py）：旧网址不变，旧锚点跳到新页。

一章拆开后，``章/index.md`` 的网址就是原来 ``章.md`` 的网址；原来页面里的小
节搬到了同一文件夹的其他页面，章节首页的小脚本把旧锚点转到那里。
"""

from __future__ import annotations

from pathlib import Path

import pytest

from devtools.chapter_hooks import heading_anchors, moved_anchors
from devtools.paths import DOCS

CHAPTERS = sorted(
    p for p in DOCS.rglob("index.md") if len(list(p.parent.glob("*.md"))) > 1
)


def test_long_chapters_are_folders():
    names = {str(p.parent.relative_to(DOCS)) for p in CHAPTERS}
    assert {
        "architectures/cnn",
        "architectures/rnn-lstm",
        "architectures/attention-transformer",
        "architectures/autoencoder-gan",
        "basics/training",
        "llm/pretraining-compression",
        "basics/what-are-large-models",
        "basics/history",
        "resources/applications",
    } <= names


@pytest.mark.parametrize(
    "index", CHAPTERS, ids=lambda p: str(p.parent.relative_to(DOCS))
)
def test_every_moved_anchor_lands_on_a_page_that_has_it(index: Path):
    table = moved_anchors(index)
    assert table, f"{index} 的同章页面没有标题"
    own = set(heading_anchors(index.read_text(encoding="utf-8")))
    for anchor, url in table.items():
        assert anchor not in own
        page = index.parent / (url.rstrip("/") + ".md")
        assert anchor in heading_anchors(page.read_text(encoding="utf-8"))


def test_old_anchor_of_the_attention_chapter_is_redirected():
    index = DOCS / "architectures" / "attention-transformer" / "index.md"
    table = moved_anchors(index)
    assert table["多头注意力"] == "multi-head/"
    assert table["训练一个编码器把序列倒过来"] == "encoder-decoder/"
    assert table["练习"] == "review/"
    assert "缩放点积注意力" not in table  # 还在首页，不跳
    offline = moved_anchors(index, directory_urls=False)
    assert offline["多头注意力"] == "multi-head.html"
