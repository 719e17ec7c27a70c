"""逐个在全新进程里运行页面的代码块，打印冷启动耗时——就像读者把代码复制出去单独运行。

    python -m devtools.blocktime docs/architectures/cnn.md [更多页面 ...]
    python -m devtools.blocktime --warm-cache docs/llm/tiny-gpt.md

每个 Python 代码块（嵌入块运行被嵌入的文件；续写块连同前文一起运行）写进临时文件，用
``python 文件`` 运行并计时；笔记本页面（.py）整个运行。默认每个代码块用一个**空的** tinygrad
内核缓存（``CACHEDB`` 指向临时文件），也就是读者第一次运行时的情形；``--warm-cache`` 改用平时的缓存。
输出一张表：页面:行号、秒数、结果。退出码：全部成功为 0，否则为 1。
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from devtools.codeblocks import iter_code_blocks
from devtools.doccheck import ROOT, rel


@dataclass
class TimedBlock:
    where: str  # 页面:行号（笔记本为文件路径）
    block_id: str | None  # 验证记录里的 id（笔记本没有）
    seconds: float
    ok: bool
    last_error: str


def block_sources(page: Path) -> list[tuple[int, str, str]]:
    """页面中每个会执行的代码块：(行号, 代码块自己的源码, 单独运行所需的完整源码——续写块包含前文)。"""
    out: list[tuple[int, str, str]] = []
    previous = ""
    for block in iter_code_blocks(page.read_text(encoding="utf-8"), page):
        if not block.is_python or block.skip_reason is not None:
            continue
        code = block.executed_source(ROOT)
        source = (previous + "\n" + code) if block.continues_previous else code
        out.append((block.line, code, source))
        previous = source
    return out


def time_source(source: str, cold_cache: bool = True) -> tuple[float, bool, str]:
    """在全新的 Python 进程里运行 ``source``，返回 (秒数, 是否成功, 最后一行错误)。"""
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "block.py"
        f.write_text(source, encoding="utf-8")
        env = {"DEV": "CPU", **os.environ, "MPLBACKEND": "Agg"}  # 装了 PoCL 时不设 DEV 会默认用 OpenCL
        if cold_cache:
            env["CACHEDB"] = str(Path(tmp) / "tinygrad-cache.db")
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, str(f)], cwd=tmp, capture_output=True, text=True, env=env)
        elapsed = time.perf_counter() - start
    last = proc.stderr.strip().splitlines()[-1] if proc.returncode and proc.stderr.strip() else ""
    return elapsed, proc.returncode == 0, last


def measure(pages: list[Path], cold_cache: bool = True, progress=None) -> list[TimedBlock]:
    from devtools.records import block_id

    rows: list[TimedBlock] = []
    for page in pages:
        if page.suffix == ".py":
            rows.append(TimedBlock(rel(page), None, *time_source(page.read_text(encoding="utf-8"), cold_cache)))
        else:
            for line, code, source in block_sources(page):
                rows.append(TimedBlock(f"{rel(page)}:{line}", block_id(rel(page), code),
                                       *time_source(source, cold_cache)))
        if progress:
            progress(rows)
    return rows


def summary(seconds: list[float]) -> str:
    s = sorted(seconds)
    return f"共 {len(s)} 个，最慢 {s[-1]:.1f} 秒，中位数 {s[len(s) // 2]:.1f} 秒" if s else "没有代码块"


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    cold = "--warm-cache" not in args
    pages = [a for a in args if not a.startswith("--")]
    if not pages:
        print(__doc__, file=sys.stderr)
        return 2
    rows = measure([Path(a).resolve() for a in pages], cold_cache=cold)
    width = max((len(r.where) for r in rows), default=10)
    print(f"{'代码块':<{width}}  冷启动秒数  结果")
    for r in rows:
        print(f"{r.where:<{width}}  {r.seconds:10.1f}  {'通过' if r.ok else '失败：' + r.last_error}")
    print(summary([r.seconds for r in rows]))
    return 0 if all(r.ok for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
