"""pytest 插件：把每个文档代码块的结果写成 JSON（供 devtools/check.py 转成 文件:行号 报告）。

用法：KB_REPORT=out.json pytest -p devtools.pytest_report docs/x.md
"""

from __future__ import annotations

import json
import os
import re

_results: list[dict] = []


def _frames(report) -> list[tuple[str, int]]:
    longrepr = report.longrepr
    frames: list[tuple[str, int]] = []
    chain = getattr(longrepr, "chain", None) or []
    for tb, _, _ in chain:
        for entry in getattr(tb, "reprentries", []):
            loc = getattr(entry, "reprfileloc", None)
            if loc is not None:
                frames.append((loc.path, loc.lineno))
    return frames


def _message(report) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return crash.message.strip().splitlines()[0] if crash.message.strip() else "失败"
    return str(report.longrepr).strip().splitlines()[-1]


def pytest_runtest_logreport(report):
    m = re.match(r"(?P<path>.+?)::line:(?P<line>\d+)", report.nodeid)
    if not m:
        return
    if report.when == "call" or report.outcome != "passed":
        entry = {
            "path": m.group("path"),
            "line": int(m.group("line")),
            "outcome": report.outcome,
            "duration": report.duration,
            "when": report.when,
        }
        if report.outcome == "failed":
            entry["message"] = _message(report)
            entry["frames"] = _frames(report)
        _results.append(entry)


import pytest  # noqa: E402


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session):
    config = session.config
    if hasattr(config, "workerinput"):  # xdist worker：结果随 workeroutput 交给主进程
        config.workeroutput["kb_results"] = _results
        return
    path = os.environ.get("KB_REPORT")
    if path:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(_results, f, ensure_ascii=False)


def pytest_testnodedown(node, error):
    """xdist 主进程：汇总各 worker 的结果。"""
    _results.extend(getattr(node, "workeroutput", {}).get("kb_results", []))
