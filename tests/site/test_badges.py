"""验证徽章只反映真实记录：通过的后端才算“已验证”，失败或从未运行的代码块不显示“已验证”。"""

from __future__ import annotations

import json
import re
import time

import yaml

from devtools import badges, records
from devtools.paths import ROOT

PAGE = "docs/x/demo.md"
MD = """# 演示

```python
assert 1 + 1 == 2
```

```python
assert 2 + 2 == 4
```

=== "标签"

    ```py
    assert 3 + 3 == 6
    ```
"""
CODES = ["assert 1 + 1 == 2\n", "assert 2 + 2 == 4\n", "assert 3 + 3 == 6\n"]


def _write(tmp_path, entries):
    with open(tmp_path / "blocks-test.jsonl", "w", encoding="utf-8") as f:
        for n, e in enumerate(entries):
            f.write(
                json.dumps(
                    {
                        "date": "2026-11-23",
                        "time": time.time() + n,
                        "page": PAGE,
                        "line": 1,
                        "reason": "",
                        "duration": 0.1,
                        "tinygrad": "0.14.0",
                        "tinymodels": "0.1.0",
                        **e,
                    }
                )
                + "\n"
            )


def _badges(out: str) -> list[str]:
    return [line.strip() for line in out.splitlines() if "kb-badge" in line]


def test_badges_follow_the_records(tmp_path):
    a, b, c = (records.block_id(PAGE, code) for code in CODES)
    _write(
        tmp_path,
        [
            {"id": a, "backend": "CPU", "result": "passed"},
            {"id": a, "backend": "OpenCL", "result": "passed"},
            {"id": b, "backend": "CPU", "result": "failed"},
            # c 从未运行
        ],
    )
    badges.reload([tmp_path])
    out = badges.transform(MD, PAGE, "x/demo/")
    got = _badges(out)
    assert len(got) == 2
    # 一个小标记，字只有“已验证”；详情（后端的白话名、日期、版本、含义）在
    # 点开后的说明和悬停提示里
    assert f'<details class="kb-badge kb-badge--ok" id="{a}">' in got[0]
    assert ">已验证</summary>" in got[0]
    assert "CPU（电脑的处理器）：通过 · 2026-11-23" in got[0]
    assert "OpenCL（一种 GPU 编程接口，由 CPU 模拟）：通过" in got[0]
    assert "tinygrad 0.14.0" in got[0] and badges.MEANING in got[0]
    assert 'title="已验证：在 CPU（电脑的处理器）、OpenCL' in got[0]
    assert f'href="../../verification/#{a}"' in got[0]
    assert (
        ">验证未通过</summary>" in got[1]
        and "CPU（电脑的处理器）：未通过" in got[1]
    )
    assert "已验证<" not in got[1]
    # 第三个代码块（标签页里，缩进 4 格）没有记录：没有徽章，只有一个缩进相
    # 同、看不见的锚点，验证状态页的那一行链接到它
    assert out.count('<details class="kb-badge ') == 2
    assert f'    <div class="kb-anchor" id="{c}"></div>' in out
    # 没有 emoji（没有 emoji 字体时显示成方块）：对勾和叉号由 CSS 画
    assert not [
        ch
        for ch in out
        if 0x2600 <= ord(ch) <= 0x27BF or 0x1F300 <= ord(ch) <= 0x1FAFF
    ]


def test_page_summary_once_under_the_h1(tmp_path):
    a, b, _ = (records.block_id(PAGE, code) for code in CODES)
    _write(
        tmp_path,
        [
            {"id": a, "backend": "CPU", "result": "passed"},
            {"id": a, "backend": "OpenCL", "result": "passed"},
            {"id": b, "backend": "CPU", "result": "passed"},
        ],
    )
    badges.reload([tmp_path])
    out = badges.transform(MD, PAGE, "x/demo/")
    assert out.count("{: .kb-summary }") == 1
    lines = out.splitlines()
    at = next(n for n, line in enumerate(lines) if line.startswith("本页"))
    assert lines[0] == "# 演示" and at < next(
        n for n, line in enumerate(lines) if "kb-badge" in line
    )
    summary = lines[at]
    assert summary.startswith("本页 3 段代码中 2 段已验证")
    # CPU 两段都过（不写段数），OpenCL 只过了一段；第三段没有记录
    assert "运行环境：CPU（电脑的处理器）、OpenCL（" in summary
    assert "）1 段" in summary and "1 段还没有验证记录" in summary
    assert "[“已验证”是什么意思？](../verification.md)" in summary


def test_no_records_no_badge(tmp_path):
    badges.reload([tmp_path])  # 空目录
    out = badges.transform(MD, PAGE, "x/demo/")
    assert "kb-badge" not in out and "kb-summary" not in out
    assert "已验证" not in out
    # 只多了看不见的锚点（验证状态页要链接到每个代码块）
    anchors = [line for line in out.splitlines() if "kb-anchor" in line]
    assert len(anchors) == 3
    stripped = "".join(
        line
        for line in out.splitlines(keepends=True)
        if "kb-anchor" not in line
    )
    assert stripped.replace("\n\n\n", "\n\n") == MD.replace("\n\n\n", "\n\n")


def test_changed_code_loses_its_badge(tmp_path):
    a = records.block_id(PAGE, CODES[0])
    _write(tmp_path, [{"id": a, "backend": "CPU", "result": "passed"}])
    badges.reload([tmp_path])
    changed = MD.replace("assert 1 + 1 == 2", "assert 1 + 1 == 2  # 改过")
    assert "kb-badge" not in badges.transform(changed, PAGE, "x/demo/")


def test_skipped_only_is_not_verified(tmp_path):
    a = records.block_id(PAGE, CODES[0])
    _write(tmp_path, [{"id": a, "backend": "CPU", "result": "skipped"}])
    badges.reload([tmp_path])
    assert "kb-badge" not in badges.transform(MD, PAGE, "x/demo/")


def test_status_rows_link_to_the_block_anchors_on_real_pages():
    """验证状态页的每一行链接到文章里那个代码块的锚点，而那个锚点确实由
    transform 插进了页面（不论有没有记录）。"""
    badges.reload()
    table = badges.status_table("verification/")
    if "没有找到验证记录" in table:
        return  # 全新克隆、从未运行测试：表格为空，下面没有可查的
    links = re.findall(r"\]\(([^)#]+)#([^)]+)\)", table)
    assert len(links) == len(records.all_blocks())
    pages: dict[str, str] = {}
    for target, anchor in links:
        src = f"docs/{target}"
        if src not in pages:
            text = (ROOT / src).read_text(encoding="utf-8")
            url = target.removesuffix(".md") + "/"
            pages[src] = badges.transform(text, src, url)
        assert f'id="{anchor}"' in pages[src], (target, anchor)
    assert "✅" not in table and "❌" not in table


def test_status_table_lists_every_block_and_says_never_run(tmp_path):
    badges.reload([tmp_path])
    assert "没有找到验证记录" in badges.status_table("verification/")


def _dead_pid() -> int:
    import os

    pid = 999_999
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid -= 1


def test_compact_merges_finished_runs_and_keeps_the_latest(tmp_path):
    import os

    def rec(bid, result, t):
        return (
            json.dumps(
                {
                    "id": bid,
                    "backend": "CPU",
                    "result": result,
                    "time": t,
                    "date": "2026-11-23",
                }
            )
            + "\n"
        )

    dead = _dead_pid()
    (tmp_path / f"blocks-cpu-{dead}.jsonl").write_text(
        rec("a-1", "failed", 1) + rec("b-2", "passed", 1)
    )
    (tmp_path / f"blocks-cpu-{dead - 1}.jsonl").write_text(
        rec("a-1", "passed", 2)
    )
    live = (
        tmp_path / f"blocks-cpu-{os.getpid()}.jsonl"
    )  # 仍在运行的进程：它的文件不能动
    live.write_text(rec("c-3", "passed", 3))
    before = records.load([tmp_path])
    assert records.compact(tmp_path) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["blocks-cpu-merged.jsonl", live.name]
    )
    assert (
        records.load([tmp_path]) == before
    )  # 合并前后读到的最新记录完全一样
    assert records.load([tmp_path])[("a-1", "CPU")]["result"] == "passed"
    assert records.compact(tmp_path) == 0  # 没有可合并的文件时什么也不做


def test_deploy_builds_with_the_records_of_the_same_verify_run():
    """发布工作流不自己重跑测试，而是用“验证”工作流同一次运行（同一个提交）
    上传的记录构建：CPU 全部测试的记录必须在里面。"""
    flows = ROOT / ".github" / "workflows"
    verify = yaml.safe_load(
        (flows / "verify.yml").read_text(encoding="utf-8")
    )
    deploy = yaml.safe_load(
        (flows / "deploy.yml").read_text(encoding="utf-8")
    )

    def uploads(job):
        return {
            s["with"]["name"]: s["with"]["path"]
            for s in verify["jobs"][job]["steps"]
            if "upload-artifact" in s.get("uses", "")
        }

    assert uploads("test")["verification-cpu"].startswith(
        ".cache/verification"
    )
    assert "verification-opencl" in uploads("opencl")
    trigger = deploy[True]["workflow_run"]  # YAML 把键 on 读成 True
    assert trigger["workflows"] == [verify["name"]]
    assert trigger["branches"] == ["main"]
    build = deploy["jobs"]["build"]
    assert "conclusion == 'success'" in build["if"]
    steps = build["steps"]
    checkout = next(s for s in steps if "checkout" in s.get("uses", ""))
    assert (
        checkout["with"]["ref"] == "${{ github.event.workflow_run.head_sha }}"
    )
    download = next(
        s for s in steps if "download-artifact" in s.get("uses", "")
    )
    assert download["with"]["run-id"] == "${{ github.event.workflow_run.id }}"
    assert download["with"]["path"].startswith(".cache/verification")
    assert build["permissions"]["actions"] == "read"
    runs = [s.get("run", "") for s in steps]
    at_build = next(n for n, r in enumerate(runs) if "scripts/build.sh" in r)
    assert steps.index(download) < at_build
    assert not any("scripts/test.sh" in r for r in runs)


def test_output_mismatch_is_recorded_as_a_failure(tmp_path, monkeypatch):
    """运行通过但打印的内容与页面不符（例如别的后端上末位不同）：记为失败，
    理由是 output-changed；该后端不出现在“已验证”的后端里。"""
    from devtools.codeblocks import iter_code_blocks
    from devtools.paths import DOCS
    from devtools.problems import Problem
    from devtools.runner import BlockResult

    page = DOCS / "basics" / "gradient-descent.md"
    text = page.read_text(encoding="utf-8")
    block = next(b for b in iter_code_blocks(text, page) if b.is_python)
    monkeypatch.setenv("KB_RECORDS_DIR", str(tmp_path))
    changed = Problem("p.md", 1, "output-changed", "输出不同")
    for device, problem in (("CPU", None), ("CL", changed)):
        result = BlockResult(str(page), block.line, "passed", device=device)
        records.record_block(block, result, problem)
    rows = [
        json.loads(line)
        for f in sorted(tmp_path.glob("*.jsonl"))
        for line in f.read_text(encoding="utf-8").splitlines()
    ]
    got = {r["backend"]: (r["result"], r["reason"]) for r in rows}
    assert got == {
        "CPU": ("passed", ""),
        "OpenCL": ("failed", "output-changed"),
    }
    table = {(r["id"], r["backend"]): r for r in rows}
    badge = records.badge_for(rows[0]["id"], table)
    assert badge.verified == ["CPU"] and badge.failed == ["OpenCL"]
    # 读者在详情里看到的是原因，而不是一个光秃秃的“未通过”
    badges.reload([tmp_path])
    html = badges.badge_html(rows[0]["id"], "basics/gradient-descent/")
    assert ">已验证</summary>" in html
    assert (
        "OpenCL（一种 GPU 编程接口，由 CPU 模拟）：未通过（输出不同）" in html
    )
