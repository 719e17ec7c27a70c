"""逐个在全新进程里运行页面的代码块，打印冷启动耗时——就像读者把代码复制出去单独运行。

    python -m devtools.blocktime docs/architectures/cnn.md [更多页面 ...]

每个 Python 代码块（嵌入块运行被嵌入的文件；续写块连同前文一起运行）写进临时文件，用
``python 文件`` 运行并计时；笔记本页面（.py）整个运行。输出一张表：页面:行号、秒数、结果。
退出码：全部成功为 0，否则为 1。
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from devtools.codeblocks import iter_code_blocks
from devtools.doccheck import ROOT, rel


def block_sources(page: Path) -> list[tuple[int, str]]:
    """页面中每个会执行的代码块的完整源码（续写块包含前文）。"""
    out: list[tuple[int, str]] = []
    previous = ""
    for block in iter_code_blocks(page.read_text(encoding="utf-8"), page):
        if not block.is_python or block.skip_reason is not None:
            continue
        code = block.executed_source(ROOT)
        source = (previous + "\n" + code) if block.continues_previous else code
        out.append((block.line, source))
        previous = source
    return out


def time_source(source: str) -> tuple[float, bool, str]:
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "block.py"
        f.write_text(source, encoding="utf-8")
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, str(f)], cwd=tmp, capture_output=True, text=True,
                              env={**os.environ, "MPLBACKEND": "Agg"})
        elapsed = time.perf_counter() - start
    last = proc.stderr.strip().splitlines()[-1] if proc.returncode and proc.stderr.strip() else ""
    return elapsed, proc.returncode == 0, last


def measure(pages: list[Path]) -> list[tuple[str, float, bool, str]]:
    rows = []
    for page in pages:
        if page.suffix == ".py":
            rows.append((rel(page), *time_source(page.read_text(encoding="utf-8"))))
            continue
        for line, source in block_sources(page):
            rows.append((f"{rel(page)}:{line}", *time_source(source)))
    return rows


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    rows = measure([Path(a).resolve() for a in args])
    width = max((len(r[0]) for r in rows), default=10)
    print(f"{'代码块':<{width}}  冷启动秒数  结果")
    for where, secs, ok, last in rows:
        print(f"{where:<{width}}  {secs:10.1f}  {'通过' if ok else '失败：' + last}")
    if rows:
        secs = sorted(r[1] for r in rows)
        print(f"共 {len(rows)} 个，最慢 {secs[-1]:.1f} 秒，中位数 {secs[len(secs) // 2]:.1f} 秒")
    return 0 if all(r[2] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
