"""验证记录：测试运行时记下每个代码块在哪个后端、哪天、用哪个版本通过（或失败），构建网站时据此显示徽章。

记录是 JSON Lines，每行一条：

    {"id": "gradient-descent-3f2a9c1e",
     "page": "docs/basics/gradient-descent.md", "line": 40,
     "result": "passed", "reason": "", "duration": 1.7, "backend": "CPU",
     "tinygrad": "0.14.0", "tinymodels": "0.1.0", "date": "2026-11-23",
     "time": 1795000000.0}

- 本地/CI 的测试运行写到 ``.cache/verification/``（不提交）；
- 在别的机器上跑过的后端（CUDA、Metal 等），用
  ``python -m devtools.records export`` 导出到 ``verification/``（提交进仓
  库）。
- 构建网站时两处都读；同一代码块、同一后端以最新的一条为准。

代码块的 id 由页面路径和代码内容算出：代码一改，旧记录就不再对应它——改过的代码
没有验证过，不显示徽章。
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from datetime import date
from importlib.metadata import version
from pathlib import Path

from devtools.codeblocks import iter_code_blocks
from devtools.paths import DOCS, ROOT, doc_pages, rel, write_atomic

LOCAL_DIR = ROOT / ".cache" / "verification"
COMMITTED_DIR = ROOT / "verification"
#: 后端的显示名称（tinygrad 的设备名 → 页面上的名字）
BACKEND_NAMES = {
    "CPU": "CPU",
    "CL": "OpenCL",
    "CUDA": "CUDA",
    "NV": "CUDA",
    "METAL": "Metal",
    "AMD": "AMD",
    "PYTHON": "Python",
}
BACKEND_ORDER = ["CPU", "OpenCL", "CUDA", "Metal", "AMD", "Python"]
#: 给读者看的白话说明：徽章的详情、页面顶部的汇总和验证状态页都用它，
#: 读者不必知道 OpenCL 是什么也能看懂。
BACKEND_PLAIN = {
    "CPU": "CPU（电脑的处理器）",
    "OpenCL": "OpenCL（一种 GPU 编程接口，由 CPU 模拟）",
    "CUDA": "CUDA（NVIDIA 显卡）",
    "Metal": "Metal（苹果电脑的 GPU）",
    "AMD": "AMD 显卡",
    "Python": "Python（tinygrad 的纯 Python 参考实现）",
}


def _cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def spaced(*parts: str) -> str:
    """把几段文字接起来，汉字与英文字母、数字相接处加一个空格（本站的排版约
    定），其余地方原样相接。"""
    out = ""
    for part in parts:
        if out and part:
            a, b = out[-1], part[0]
            if (a.isascii() and a.isalnum() and _cjk(b)) or (
                _cjk(a) and b.isascii() and b.isalnum()
            ):
                out += " "
        out += part
    return out


def plain_name(backend: str) -> str:
    """后端的白话名称，例如 ``OpenCL（一种 GPU 编程接口，由 CPU 模拟）``。"""
    return BACKEND_PLAIN.get(backend, backend)


def block_id(page_rel: str, code: str) -> str:
    """稳定的代码块 id：页面文件名 + 代码内容的哈希（忽略行尾空白）。"""
    normalized = "\n".join(
        line.rstrip() for line in code.strip().splitlines()
    )
    digest = hashlib.sha1(f"{page_rel}\n{normalized}".encode()).hexdigest()[
        :8
    ]
    return f"{Path(page_rel).stem}-{digest}"


def backend_name(device: str) -> str:
    return BACKEND_NAMES.get(device.split(":")[0].upper(), device)


def versions() -> dict:
    out = {"tinygrad": version("tinygrad")}
    try:
        import tinymodels

        out["tinymodels"] = tinymodels.__version__
    except Exception:  # noqa: BLE001 - 记录版本失败不应影响测试
        out["tinymodels"] = "?"
    return out


def write(entry: dict, directory: Path | None = None) -> None:
    """追加一条记录（每个进程一个文件，xdist 的多个 worker 互不干扰）。"""
    directory = Path(os.environ.get("KB_RECORDS_DIR", directory or LOCAL_DIR))
    directory.mkdir(parents=True, exist_ok=True)
    entry = {"date": date.today().isoformat(), "time": time.time(), **entry}
    path = (
        directory / f"blocks-{entry['backend'].lower()}-{os.getpid()}.jsonl"
    )
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(entry, ensure_ascii=False) + "\n")


def record_block(block, result, output_problem=None) -> None:
    """把代码块的运行结果（devtools.runner.BlockResult）写进验证记录。

    ``output_problem``：打印的内容与页面上的输出块不符时的
    ``devtools.problems.Problem``。徽章说“打印的内容也与页面上写的输出一致”，
    所以运行通过、输出不符也记为失败（别的后端上浮点误差让末位不同时也是）。
    只记录真正的 docs/ 页面；KB_RECORD=0 时、没写理由的跳过都不记录。
    """
    if os.environ.get("KB_RECORD", "1") == "0" or block.skip_reason == "":
        return
    path = Path(block.path).resolve()
    if not path.is_relative_to(DOCS):
        return
    page = rel(path)
    outcome = (
        result.outcome
        if result.outcome in ("passed", "skipped")
        else "failed"
    )
    reason = result.summary
    if outcome == "passed" and output_problem is not None:
        outcome, reason = "failed", output_problem.rule
    write(
        {
            "id": block_id(page, block.executed_source(ROOT)),
            "page": page,
            "line": block.line,
            "result": outcome,
            "reason": reason[:300],
            "duration": round(result.seconds, 3),
            "backend": backend_name(result.device),
            **versions(),
        }
    )


def all_blocks() -> list[tuple[str, int, str]]:
    """全站会执行的代码块：[(页面, 行号, id)]。"""
    out = []
    for page in doc_pages():
        if page.suffix != ".md":
            continue
        page_rel = rel(page)
        for block in iter_code_blocks(page.read_text(encoding="utf-8"), page):
            if block.is_python and not block.skip_reason:
                code = block.executed_source(ROOT)
                out.append((page_rel, block.line, block_id(page_rel, code)))
    return out


def _jsonl(rows: list[dict]) -> str:
    rows = sorted(rows, key=lambda r: r["id"])
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def load(
    directories: list[Path] | None = None,
) -> dict[tuple[str, str], dict]:
    """读取全部记录：{(代码块 id, 后端): 最新的一条}。"""
    if directories is None:
        env = os.environ.get("KB_RECORDS_DIR")
        directories = [Path(env)] if env else [LOCAL_DIR, COMMITTED_DIR]
    files = [
        f
        for d in directories
        if Path(d).is_dir()
        for f in sorted(Path(d).glob("blocks-*.jsonl"))
    ]
    return _latest(files)


def _latest(files: list[Path]) -> dict[tuple[str, str], dict]:
    """这些文件里的记录：{(代码块 id, 后端): 最新的一条}；坏行跳过。"""
    latest: dict[tuple[str, str], dict] = {}
    for f in files:
        for line in f.read_text(encoding="utf-8").splitlines():
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue
            key = (r["id"], r["backend"])
            if key not in latest or r.get("time", 0) >= latest[key].get(
                "time", 0
            ):
                latest[key] = r
    return latest


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def compact(directory: Path | None = None) -> int:
    """把本地记录合并成每个后端一个文件（每个代码块只留最新一条），返回合并掉的文件数。

    每个测试进程写自己的 ``blocks-<后端>-<pid>.jsonl``，不合并的话文件越积越
    多，构建读记录也越来越慢。仍在运行的进程的文件不动（它可能还在追加）。合并
    文件先写临时文件再原子替换，中途失败不丢记录。
    """
    directory = Path(directory or LOCAL_DIR)
    if not directory.is_dir():
        return 0
    done: list[Path] = []
    for f in sorted(directory.glob("blocks-*-*.jsonl")):
        tail = f.stem.rsplit("-", 1)[-1]
        if tail.isdigit() and not _pid_alive(int(tail)):
            done.append(f)
    if not done:
        return 0
    latest = _latest(
        [*sorted(directory.glob("blocks-*-merged.jsonl")), *done]
    )
    by_backend: dict[str, list[dict]] = {}
    for r in latest.values():
        by_backend.setdefault(r["backend"], []).append(r)
    for backend, rows in by_backend.items():
        write_atomic(
            directory / f"blocks-{backend.lower()}-merged.jsonl", _jsonl(rows)
        )
    for f in done:
        f.unlink(missing_ok=True)
    return len(done)


@dataclass
class Badge:
    verified: list[str]  # 最新一次记录为通过的后端
    failed: list[str]  # 最新一次记录为失败的后端
    tinygrad: str
    date: str
    #: 每个后端最新的一条记录（通过或失败），按 BACKEND_ORDER 排列
    latest: dict[str, dict] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.verified)

    @property
    def label(self) -> str:
        """代码块上方小标记里的字：只有两种，不放后端和版本。"""
        return "已验证" if self.verified else "验证未通过"

    @property
    def text(self) -> str:
        """一句话的详情（鼠标悬停时的提示，也用于 ``records show``）。"""
        if self.verified:
            where = "、".join(plain_name(b) for b in self.verified)
            return spaced(
                "已验证：在",
                where,
                "上运行并通过检查",
                f" · tinygrad {self.tinygrad} · {self.date}",
            )
        where = "、".join(plain_name(b) for b in self.failed)
        return spaced("验证未通过：在", where, f"上运行失败 · {self.date}")

    @property
    def css(self) -> str:
        return "kb-badge--ok" if self.verified else "kb-badge--fail"


def badge_for(bid: str, records: dict[tuple[str, str], dict]) -> Badge | None:
    """代码块的徽章。

    没有任何记录（或只有跳过的记录）时返回 None：绝不显示假的徽章。
    """
    mine = {
        backend: r
        for (i, backend), r in records.items()
        if i == bid and r["result"] in ("passed", "failed")
    }
    if not mine:
        return None
    order = {b: n for n, b in enumerate(BACKEND_ORDER)}
    ranked = sorted(mine, key=lambda b: order.get(b, 99))
    ok = [b for b in ranked if mine[b]["result"] == "passed"]
    bad = [b for b in ranked if mine[b]["result"] == "failed"]
    pool = [mine[b] for b in ok] or [mine[b] for b in bad]
    newest = max(pool, key=lambda r: r.get("time", 0))
    return Badge(
        ok,
        bad,
        newest.get("tinygrad", "?"),
        newest.get("date", "?"),
        {b: mine[b] for b in ranked},
    )


def export(backend: str, dest: Path = COMMITTED_DIR) -> Path:
    """把本地某个后端的最新记录导出到 verification/，以便提交（例如在 NVIDIA
    机器上跑完 CUDA 之后）。"""
    # 只导出与现在的代码对应的记录（改过的代码的旧记录没有用）
    current = {bid for _, _, bid in all_blocks()}
    local = load([LOCAL_DIR]).items()
    records = [r for (bid, b), r in local if b == backend and bid in current]
    if not records:
        raise SystemExit(f"本地没有 {backend} 的记录：先用 DEV=... 运行测试")
    return write_atomic(
        dest / f"blocks-{backend.lower()}.jsonl", _jsonl(records)
    )


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m devtools.records", description="验证记录"
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    ex = sub.add_parser(
        "export", help="把本地某后端的记录导出到 verification/ 以便提交"
    )
    ex.add_argument(
        "--backend", required=True, help="CPU、OpenCL、CUDA、Metal 等"
    )
    sub.add_parser("show", help="打印每个代码块的徽章")
    args = parser.parse_args(argv)
    if args.cmd == "export":
        print(export(args.backend))
    else:
        records = load()
        for bid in sorted({i for i, _ in records}):
            b = badge_for(bid, records)
            print(f"{bid}: {b.text if b else '（无记录）'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
