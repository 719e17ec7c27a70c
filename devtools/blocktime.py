"""逐个在全新进程里运行页面的代码块，打印冷启动耗时——就像读者把代码复制出去单独运行。

    python -m devtools.blocktime docs/architectures/cnn/index.md [更多 ...]
    python -m devtools.blocktime --warm-cache docs/llm/tiny-gpt.md

每个 Python 代码块（嵌入块运行被嵌入的文件；续写块连同前文一起运行）由
devtools/runner.py 在沙箱里的全新进程中运行并计时（与测试、检查命令的运行方
式相同）；笔记本页面（.py）整个运行。默认每个代码块用一个**空的** tinygrad 内
核缓存（沙箱里的临时文件），也就是读者第一次运行时的情形；``--warm-cache``
改用代码块平时的缓存（.cache/tinygrad-blocks/）。输出一张表：页面:行号、
秒数、结果。退出码：全部成功为 0，否则为 1。
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from devtools import records, runner
from devtools.paths import ROOT, rel


@dataclass
class TimedBlock:
    label: str  # 页面:行号（笔记本为文件路径）
    block_id: str | None  # 验证记录里的 id（笔记本没有）
    result: runner.BlockResult

    @property
    def ok(self) -> bool:
        return self.result.ok

    @property
    def seconds(self) -> float:
        return self.result.seconds


def measure(
    pages: list[Path], cold_cache: bool = True, progress=None
) -> list[TimedBlock]:
    """逐个运行页面的代码块（笔记本整本运行），每个都在全新进程里。"""
    rows: list[TimedBlock] = []
    for page in pages:
        if page.suffix == ".py":
            rows.append(
                TimedBlock(
                    rel(page),
                    None,
                    runner.run_file(page, cold_cache=cold_cache),
                )
            )
        else:
            for block, result in runner.run_page(page, cold_cache=cold_cache):
                if block.skip_reason is not None:  # 跳过的代码块不计时
                    continue
                bid = records.block_id(rel(page), block.executed_source(ROOT))
                rows.append(TimedBlock(result.where, bid, result))
        if progress:
            progress(rows)
    return rows


def summary(seconds: list[float]) -> str:
    s = sorted(seconds)
    return (
        f"共 {len(s)} 个，最慢 {s[-1]:.1f} 秒，中位数 {s[len(s) // 2]:.1f} 秒"
        if s
        else "没有代码块"
    )


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    cold = "--warm-cache" not in args
    pages = [a for a in args if not a.startswith("--")]
    if not pages:
        print(__doc__, file=sys.stderr)
        return 2
    rows = measure([Path(a).resolve() for a in pages], cold_cache=cold)
    width = max((len(r.label) for r in rows), default=10)
    print(f"{'代码块':<{width}}  冷启动秒数  结果")
    for r in rows:
        outcome = "通过" if r.ok else "失败：" + r.result.summary
        print(f"{r.label:<{width}}  {r.seconds:10.1f}  {outcome}")
    print(summary([r.seconds for r in rows]))
    return 0 if all(r.ok for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
