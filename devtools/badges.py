"""验证徽章、页面顶部的验证汇总与“验证状态”页面的内容（由
devtools/mkdocs_hooks.py 在构建时调用）。

- 每个会执行的 Python 代码块前有一个锚点（id 就是代码块的记录 id：页面名 +
  代码内容的哈希），验证状态页的每一行链接到它。
- 有记录的代码块，锚点是一个小小的「已验证」标记（``<details>``）：鼠标悬停
  显示一句话的详情，点按或用键盘打开，列出每个后端的结果、日期和版本，并说明
  “已验证”是什么意思。不用任何脚本。
- 页面的一级标题下面有一句汇总：本页几段代码、在哪些后端上通过。
- 只有记录里最新一次运行通过的后端才算“已验证”；没有记录就没有徽章（也没有
  汇总），绝不显示假的徽章。
- docs/verification.md 中的 ``<!-- kb:verification-table -->`` 被替换成全站代
  码块的状态表。
"""

from __future__ import annotations

import html
import posixpath
import re
from functools import lru_cache

from devtools import records
from devtools.codeblocks import iter_code_blocks
from devtools.outputs import OUTPUT_CHANGED
from devtools.paths import ROOT

STATUS_PAGE_URL = "verification/"
STATUS_PAGE_SRC = "docs/verification.md"
TABLE_MARKER = "<!-- kb:verification-table -->"
PARITY_MARKER = "<!-- kb:parity-table -->"
#: “已验证”的含义，一句话（徽章详情与页面汇总共用）
MEANING = (
    "“已验证”指这段代码在测试里真正运行过：结尾的断言成立，打印的内容与页面上"
    "的输出一致。代码一改，标记就消失，直到重新通过测试。"
)

_records: dict | None = None


def reload(directories=None) -> None:
    global _records
    _records = records.load(directories)


def _loaded() -> dict:
    if _records is None:
        reload()
    return _records


def _relative(target: str, page_url: str) -> str:
    base = (
        page_url
        if page_url.endswith("/") or not page_url
        else posixpath.dirname(page_url) + "/"
    )
    rel_url = posixpath.relpath(target or ".", base or ".")
    return rel_url + (
        "/" if target.endswith("/") and not rel_url.endswith("/") else ""
    )


def anchor_html(bid: str) -> str:
    """没有记录的代码块：只有一个看不见的锚点，让验证状态页能链接过来。"""
    return f'<div class="kb-anchor" id="{html.escape(bid)}"></div>'


def _verdict(r: dict) -> str:
    # 运行通过、断言成立，只是打印的数字与页面上的（CPU 上得到的）不同：多半
    # 是别的后端上浮点运算的顺序不同，读者要知道的是这个，而不只是“未通过”
    if r["result"] == "passed":
        return "通过"
    if r.get("reason") == OUTPUT_CHANGED:
        return "未通过（输出不同）"
    return "未通过"


def _backend_item(backend: str, r: dict) -> str:
    ok = r["result"] == "passed"
    verdict = _verdict(r)
    state = "ok" if ok else "fail"
    return (
        f'<li><span class="kb-mark kb-mark--{state}" aria-hidden="true">'
        f"</span>{html.escape(records.plain_name(backend))}：{verdict}"
        f" · {html.escape(str(r.get('date', '?')))}</li>"
    )


def badge_html(bid: str, page_url: str) -> str | None:
    """代码块上方的小标记（一行 HTML）；没有记录时返回 None。"""
    badge = records.badge_for(bid, _loaded())
    if badge is None:
        return None
    href = f"{_relative(STATUS_PAGE_URL, page_url)}#{bid}"
    items = "".join(_backend_item(b, r) for b, r in badge.latest.items())
    newest = max(badge.latest.values(), key=lambda r: r.get("time", 0))
    versions = f"tinygrad {badge.tinygrad}"
    if newest.get("tinymodels"):
        versions += f" · tinymodels {newest['tinymodels']}"
    return (
        f'<details class="kb-badge {badge.css}" id="{html.escape(bid)}">'
        f'<summary title="{html.escape(badge.text)}（点按查看详情）">'
        f"{badge.label}</summary>"
        f'<div class="kb-badge__info"><p>{MEANING}</p>'
        f'<ul class="kb-badge__backends">{items}</ul>'
        f"<p>{html.escape(versions)} · "
        f'<a href="{html.escape(href)}">全站的验证状态</a></p></div>'
        "</details>"
    )


_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_H1 = re.compile(r"^#\s+\S")


def _h1_line(lines: list[str]) -> int | None:
    """一级标题所在的行（从 0 开始），跳过代码块里的 ``#`` 注释。"""
    fence = None
    start = 0
    if lines and lines[0].strip() == "---":  # 跳过 front matter
        start = next(
            (
                n + 1
                for n in range(1, len(lines))
                if lines[n].strip() == "---"
            ),
            0,
        )
    for n, line in enumerate(lines[start:], start):
        m = _FENCE.match(line)
        if m:
            if fence is None:
                fence = m.group(1)[0]
            elif m.group(1)[0] == fence:
                fence = None
            continue
        if fence is None and _H1.match(line):
            return n
    return None


def page_summary(page_path: str, found: list) -> str | None:
    """一级标题下的一句汇总；本页没有任何记录时返回 None。

    ``found`` 是本页每个会执行的代码块的徽章（没有记录的为 None）。
    """
    badges_ = [b for b in found if b is not None]
    if not badges_:
        return None
    total = len(found)
    ok = [b for b in badges_ if b.ok]
    failed = [b for b in badges_ if not b.ok]
    missing = total - len(badges_)
    head = (
        f"本页 {total} 段代码全部已验证"
        if len(ok) == total
        else f"本页 {total} 段代码中 {len(ok)} 段已验证"
    )
    counts: dict[str, int] = {}
    for b in ok:
        for backend in b.verified:
            counts[backend] = counts.get(backend, 0) + 1
    order = {b: n for n, b in enumerate(records.BACKEND_ORDER)}
    where = [
        records.plain_name(backend)
        if counts[backend] == len(ok)
        else records.spaced(
            records.plain_name(backend), f"{counts[backend]} 段"
        )
        for backend in sorted(counts, key=lambda b: order.get(b, 99))
    ]
    text = head
    if where:
        text = records.spaced(text, "，运行环境：", "、".join(where))
    if ok:
        tiny = "、".join(sorted({b.tinygrad for b in ok}))
        newest = max(b.date for b in ok)
        text += f"；tinygrad {tiny}，最近一次 {newest}"
    if failed:
        text += f"；{len(failed)} 段最近一次运行未通过"
    if missing:
        text += f"；{missing} 段还没有验证记录"
    link = posixpath.relpath(STATUS_PAGE_SRC, posixpath.dirname(page_path))
    return f"{text}。[“已验证”是什么意思？]({link})\n{{: .kb-summary }}"


def transform(markdown: str, page_path: str, page_url: str) -> str:
    """给页面里每个 Python 代码块加锚点与徽章、标题下加汇总；验证状态页还要
    插入汇总表。"""
    if TABLE_MARKER in markdown:
        markdown = markdown.replace(TABLE_MARKER, status_table(page_url))
    if PARITY_MARKER in markdown:
        markdown = markdown.replace(PARITY_MARKER, parity_table())
    if not page_path.endswith(".md"):
        return markdown  # 笔记本页面的代码单元格不是文章代码块
    blocks = [
        b
        for b in iter_code_blocks(markdown)
        if b.is_python and not b.skip_reason
    ]
    if not blocks:
        return markdown
    lines = markdown.splitlines(keepends=True)
    found = []
    inserts = []
    for block in blocks:
        bid = records.block_id(page_path, block.executed_source(ROOT))
        found.append(records.badge_for(bid, _loaded()))
        snippet = badge_html(bid, page_url) or anchor_html(bid)
        opening = lines[block.line - 1]
        indent = opening[: len(opening) - len(opening.lstrip())]
        inserts.append((block.line - 1, f"{indent}{snippet}\n\n"))
    summary = page_summary(page_path, found)
    h1 = _h1_line(lines) if summary else None
    if h1 is not None:
        inserts.append((h1 + 1, f"\n{summary}\n\n"))
    # 从后往前插入，前面的行号不受影响
    for at, text in sorted(inserts, key=lambda x: x[0], reverse=True):
        lines.insert(at, text)
    return "".join(lines)


@lru_cache(maxsize=None)
def _title(page_rel: str) -> str:
    """页面 front matter 里的 title；没有时用文件名。"""
    try:
        text = (ROOT / page_rel).read_text(encoding="utf-8")
    except OSError:
        return page_rel
    m = re.search(r"^title:\s*(.+?)\s*$", text[:2000], re.M)
    return m.group(1).strip("\"'") if m else posixpath.basename(page_rel)


def _cell(r: dict | None) -> str:
    if r is None:
        return '<span class="kb-cell kb-cell--none">未运行</span>'
    if r["result"] == "skipped":
        return '<span class="kb-cell kb-cell--none">跳过</span>'
    state = "ok" if r["result"] == "passed" else "fail"
    word = _verdict(r)
    return (
        f'<span class="kb-cell kb-cell--{state}">'
        f'<span class="kb-mark kb-mark--{state}" aria-hidden="true"></span>'
        f'{word}</span><span class="kb-dur">'
        f" {r.get('duration', 0):.1f} 秒</span>"
    )


def status_table(page_url: str) -> str:
    """全站代码块的状态表（链接相对于 docs/verification.md）。

    每行链接到代码块在文章里的锚点；手机上只显示代码块和各后端两类列（CSS 隐
    藏用时和版本列）。
    """
    recs = _loaded()
    if not recs:
        return (
            "本次构建没有找到验证记录（`.cache/verification/` 与"
            " `verification/` 都为空），因此页面上不显示徽章。\n"
        )
    backends = [
        b for b in records.BACKEND_ORDER if any(k[1] == b for k in recs)
    ] or ["CPU"]
    head = "| 代码块 | " + " | ".join(backends) + " | 版本与日期 |\n"
    head += "| --- |" + " --- |" * (len(backends) + 1) + "\n"
    rows = []
    seen: dict[str, int] = {}
    base = posixpath.dirname(STATUS_PAGE_SRC)
    for page_rel, line, bid in records.all_blocks():
        seen[page_rel] = seen.get(page_rel, 0) + 1
        cells = []
        newest = None
        for b in backends:
            r = recs.get((bid, b))
            cells.append(_cell(r))
            if r is not None and (
                newest is None or r.get("time", 0) > newest.get("time", 0)
            ):
                newest = r
        target = posixpath.relpath(page_rel, base)
        title = _title(page_rel).replace("|", "\\|")
        name = (
            f'<span id="{bid}"></span>'
            f'[{title} · <span class="kb-nth">第 {seen[page_rel]} 段</span>]'
            f"({target}#{bid})"
            f'<span class="kb-where">{target}:{line}</span>'
        )
        newest = newest or {}
        tail = " · ".join(
            x
            for x in (
                f"tinygrad {newest['tinygrad']}"
                if newest.get("tinygrad")
                else "",
                newest.get("date", ""),
            )
            if x
        )
        rows.append(f"| {name} | " + " | ".join([*cells, tail]) + " |")
    return (
        '<div class="kb-status" markdown>\n\n'
        + head
        + "\n".join(rows)
        + "\n\n</div>\n"
    )


def parity_table() -> str:
    import json

    found = []
    for d in (records.LOCAL_DIR, records.COMMITTED_DIR):
        if d.is_dir():
            found += sorted(d.glob("parity-*.json"))
    latest: dict[str, dict] = {}
    for f in found:
        try:
            data = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        key = data.get("backend", f.stem)
        if key not in latest or data.get("time", 0) > latest[key].get(
            "time", 0
        ):
            latest[key] = data
    if not latest:
        return "还没有后端一致性测试的记录。\n"
    out = []
    for backend, data in sorted(latest.items()):
        out.append(f"### {records.backend_name(backend)}\n")
        tolerance, date = data.get("tolerance", "?"), data.get("date", "?")
        out.append(
            f"与 CPU 比较，容差 {tolerance}；"
            f"tinygrad {data.get('tinygrad', '?')}，{date}。\n"
        )
        out.append("| 模型 | 前向最大相对误差 | 梯度最大相对误差 | 结果 |")
        out.append("| --- | --- | --- | --- |")
        for r in data.get("results", []):
            verdict = "通过" if r["passed"] else "未通过"
            out.append(
                f"| {r['model']} | {r['forward_error']:.2e} "
                f"| {r['grad_error']:.2e} | {verdict} |"
            )
        out.append("")
    return "\n".join(out) + "\n"
