"""验证徽章与“验证状态”页面的内容（由 devtools/mkdocs_hooks.py 在构建时调
用）。

- 每个 Python 代码块前插入一个小徽章，例如「已验证 · CPU · OpenCL · tinygrad
  0.14.0 · 2026-11-23」，链接到验证状态页中这个代码块的那一行。
- 只有记录里最新一次运行通过的后端才算“已验证”；没有记录就没有徽章，绝不显示假
  的徽章。
- docs/verification.md 中的 ``<!-- kb:verification-table -->`` 被替换成全站代
  码块的状态表。
"""

from __future__ import annotations

import html
import posixpath

from devtools import records
from devtools.codeblocks import iter_code_blocks
from devtools.paths import ROOT

STATUS_PAGE_URL = "verification/"
TABLE_MARKER = "<!-- kb:verification-table -->"
PARITY_MARKER = "<!-- kb:parity-table -->"

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


def badge_html(bid: str, page_url: str) -> str | None:
    badge = records.badge_for(bid, _loaded())
    if badge is None:
        return None
    href = f"{_relative(STATUS_PAGE_URL, page_url)}#{bid}"
    title = "点击查看各后端的验证详情"
    return (
        f'<div class="kb-badge {badge.css}"><a href="{html.escape(href)}" '
        f'title="{title}">{html.escape(badge.text)}</a></div>'
    )


def transform(markdown: str, page_path: str, page_url: str) -> str:
    """给页面里每个 Python 代码块加徽章；验证状态页还要插入汇总表。"""
    if TABLE_MARKER in markdown:
        markdown = markdown.replace(TABLE_MARKER, status_table(page_url))
    if PARITY_MARKER in markdown:
        markdown = markdown.replace(PARITY_MARKER, parity_table())
    blocks = [
        b
        for b in iter_code_blocks(markdown)
        if b.is_python and not b.skip_reason
    ]
    if not blocks:
        return markdown
    lines = markdown.splitlines(keepends=True)
    for block in reversed(blocks):  # 从后往前插入，前面的行号不受影响
        bid = records.block_id(page_path, block.executed_source(ROOT))
        snippet = badge_html(bid, page_url)
        if snippet is None:
            continue
        opening = lines[block.line - 1]
        indent = opening[: len(opening) - len(opening.lstrip())]
        lines.insert(block.line - 1, f"{indent}{snippet}\n\n")
    return "".join(lines)


def status_table(page_url: str) -> str:
    """全站代码块的状态表（链接相对于 docs/verification.md）。"""
    recs = _loaded()
    backends = [
        b for b in records.BACKEND_ORDER if any(k[1] == b for k in recs)
    ] or ["CPU"]
    head = "| 代码块 | " + " | ".join(backends) + " | tinygrad | 日期 |\n"
    head += "| --- |" + " --- |" * (len(backends) + 2) + "\n"
    rows = []
    for page_rel, line, bid in records.all_blocks():
        cells = []
        newest = None
        for b in backends:
            r = recs.get((bid, b))
            if r is None:
                cells.append("未运行")
                continue
            mark = {
                "passed": "✅ 通过",
                "failed": "❌ 失败",
                "skipped": "跳过",
            }.get(r["result"], r["result"])
            cells.append(
                f"{mark}（{r.get('duration', 0):.1f} 秒）"
                if r["result"] != "skipped"
                else mark
            )
            if newest is None or r.get("time", 0) > newest.get("time", 0):
                newest = r
        url = page_rel.removeprefix("docs/")
        name = f'<span id="{bid}"></span>[{url}:{line}]({url})'
        newest = newest or {}
        tail = [newest.get("tinygrad", ""), newest.get("date", "")]
        rows.append(f"| {name} | " + " | ".join([*cells, *tail]) + " |")
    if not recs:
        return (
            "本次构建没有找到验证记录（`.cache/verification/` 与"
            " `verification/` 都为空），因此页面上不显示徽章。\n"
        )
    return head + "\n".join(rows) + "\n"


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
            verdict = "✅ 通过" if r["passed"] else "❌ 失败"
            out.append(
                f"| {r['model']} | {r['forward_error']:.2e} "
                f"| {r['grad_error']:.2e} | {verdict} |"
            )
        out.append("")
    return "\n".join(out) + "\n"
