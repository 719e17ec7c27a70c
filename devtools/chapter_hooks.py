"""MkDocs 钩子：拆成文件夹的长章节，旧链接里的锚点仍然能用。

一章太长时拆成一个文件夹：``docs/栏目/章/index.md`` 是第一节（网址与拆分前
的 ``栏目/章/`` 相同），其余各节是同一文件夹里的其他页面。旧网址本身不变，但
旧网址后面的锚点（例如 ``…/attention-transformer/#多头注意力``）指向的小节已经
搬到了别的页面。这个钩子给每个章节首页加一段很小的内联脚本：打开时如果地址里
的锚点在本页找不到、却是同一章另一页的标题，就跳到那一页的同一个锚点。

锚点表由同一文件夹里各页面的 Markdown 标题算出（与 toc 扩展用同一个
slugify），不需要手工维护。
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from pymdownx.slugs import slugify

_SLUG = slugify(case="lower")
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^[ \t]*(```|~~~)")


def heading_anchors(markdown: str) -> list[str]:
    """Markdown 里各级标题的锚点（跳过代码块）。"""
    anchors, in_code = [], False
    for line in markdown.splitlines():
        if _FENCE.match(line):
            in_code = not in_code
            continue
        m = None if in_code else _HEADING.match(line)
        if m:
            anchors.append(_SLUG(m.group(2), "-"))
    return anchors


def moved_anchors(
    index_md: Path, directory_urls: bool = True
) -> dict[str, str]:
    """``{锚点: 同章页面的相对网址}``：同一文件夹里其他页面的标题锚点，
    不含首页自己也有的锚点。"""
    own = set(heading_anchors(index_md.read_text(encoding="utf-8")))
    table: dict[str, str] = {}
    for page in sorted(index_md.parent.glob("*.md")):
        if page.name == "index.md":
            continue
        for anchor in heading_anchors(page.read_text(encoding="utf-8")):
            if anchor not in own:
                url = (
                    f"{page.stem}/" if directory_urls else f"{page.stem}.html"
                )
                table.setdefault(anchor, url)
    return table


_SCRIPT = (
    "<script>(function(){{var m={table},h=location.hash.slice(1);"
    "if(!h)return;try{{h=decodeURIComponent(h)}}catch(e){{return}}"
    "if(!document.getElementById(h)&&m[h])"
    "location.replace(m[h]+'#'+encodeURIComponent(h))}})()</script>"
)


def on_post_page(output: str, page, config) -> str:
    src = page.file.src_uri
    if not src.endswith("/index.md"):
        return output
    table = moved_anchors(
        Path(page.file.abs_src_path), config["use_directory_urls"]
    )
    if not table:
        return output
    script = _SCRIPT.format(table=json.dumps(table, ensure_ascii=False))
    return output.replace("</body>", script + "</body>", 1)
