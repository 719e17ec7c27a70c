"""验证徽章只反映真实记录：通过的后端才算“已验证”，失败或从未运行的代码块不显示“已验证”。"""

from __future__ import annotations

import json
import time

from devtools import badges, records

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
    assert "已验证 · CPU · OpenCL · tinygrad 0.14.0 · 2026-11-23" in got[0]
    assert f'href="../../verification/#{a}"' in got[0]
    assert "已验证" not in got[1] and "验证未通过 · CPU" in got[1]
    # 第三个代码块（标签页里，缩进 4 格）没有记录：前面没有插入徽章
    assert out.count('<div class="kb-badge ') == 2


def test_latest_record_wins_and_failed_backend_is_not_verified(tmp_path):
    a = records.block_id(PAGE, CODES[0])
    _write(
        tmp_path,
        [
            {"id": a, "backend": "CPU", "result": "passed"},
            {"id": a, "backend": "OpenCL", "result": "passed"},
            {
                "id": a,
                "backend": "CPU",
                "result": "failed",
            },  # 更新的记录：CPU 上失败了
        ],
    )
    badges.reload([tmp_path])
    got = _badges(badges.transform(MD, PAGE, "x/demo/"))
    assert "已验证 · OpenCL" in got[0] and "CPU" not in got[0]


def test_no_records_no_badge(tmp_path):
    badges.reload([tmp_path])  # 空目录
    out = badges.transform(MD, PAGE, "x/demo/")
    assert "kb-badge" not in out and out == MD


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
