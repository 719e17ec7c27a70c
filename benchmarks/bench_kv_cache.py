#!/usr/bin/env python3
"""KV 缓存的速度基准：TinyLlama 每生成一个 token 的耗时，有缓存与没有缓存。

对几个上下文长度 ``T``（模型的 ``block_size``，也是缓存长度），在同一个
进程里测量 ``TinyLlama.generate`` 的**解码阶段**每个 token 的毫秒数：

* 用同一个提示各生成 ``N1`` 个和 ``N2`` 个 token，两次耗时之差除以
  ``N2 - N1``：提示的预填充（prefill）与每次调用的固定开销相减抵消，
  剩下的就是一步解码；
* 先调用一次，让 JIT 编译、录制完成（编译时间不计入）；
* 计的是本进程的 CPU 时间（``time.process_time``），不是墙上时间：
  测量用的 2 核机器由许多进程共用，别的进程占着 CPU 时不计入。tinygrad
  的 CPU 后端在本进程的一个线程里执行内核（``PARALLEL=0`` 时编译也在本
  进程），所以 CPU 时间就是生成用掉的计算；空闲机器上墙上时间与它相近；
* 每次调用重复 ``--repeat`` 次取最小值，再相减。

没有缓存时每步在整个 ``(1, T)`` 窗口上前向；有缓存时每步只算一个位置，
但注意力仍要读长度 ``T`` 的缓存。结果写进 ``benchmarks/kv_cache.json``，
连同机器、负载与日期；``scripts/diagrams.py`` 的 ``kv_speedup`` 用它画出
``docs/llm/inference.md`` 里的图（画图时不再计时，所以图是确定的）。

用法（仓库根目录）::

    DEV=CPU python benchmarks/bench_kv_cache.py            # 约几分钟
    DEV=CPU python benchmarks/bench_kv_cache.py --sizes 32,128 --no-write

这不是测试：不会被 pytest 收集，也不做断言。
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "benchmarks" / "kv_cache.json"
#: 页面 docs/llm/inference.md 用的模型配置（block_size 另定）
CONFIG = dict(
    vocab_size=64, d_model=64, num_heads=4, num_kv_heads=2, num_layers=2
)
N1, N2 = 4, 20


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def measure(block_size: int, repeat: int) -> dict:
    """一个上下文长度：有缓存、没有缓存的每 token 毫秒数。"""
    import numpy as np
    from tinygrad import Tensor

    from tinymodels import set_seed
    from tinymodels.models.llama import TinyLlama

    set_seed(0)
    model = TinyLlama(block_size=block_size, **CONFIG)
    n_prompt = block_size - N2  # 生成 N2 个之后正好不超过 block_size
    prompt = Tensor(
        np.random.default_rng(0)
        .integers(0, CONFIG["vocab_size"], (1, n_prompt))
        .astype(np.int32)
    )
    row = {"T": block_size, "prompt": n_prompt}
    for use_cache in (False, True):
        t0 = time.process_time()
        model.generate(prompt, 3, temperature=0, use_cache=use_cache)
        compile_s = time.process_time() - t0
        best = {}
        for n in (N1, N2):  # 每个 n 各取最小值，再相减
            spent = []
            for _ in range(repeat):
                t0 = time.process_time()
                model.generate(prompt, n, temperature=0, use_cache=use_cache)
                spent.append(time.process_time() - t0)
            best[n] = min(spent)
        best = (best[N2] - best[N1]) / (N2 - N1)
        key = "cache" if use_cache else "no_cache"
        row[f"{key}_ms"] = round(best * 1e3, 3)
        row[f"{key}_first_s"] = round(compile_s, 2)
        print(
            f"T={block_size:4d} {key:8s} {best * 1e3:8.2f} ms/token"
            f"（首次调用 {compile_s:.1f} CPU 秒）",
            flush=True,
        )
    row["speedup"] = round(row["no_cache_ms"] / row["cache_ms"], 2)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="32,64,128,256,512")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("DEV", "CPU")
    os.environ.setdefault("PARALLEL", "0")  # 编译也在本进程，见上文
    from importlib.metadata import version

    load_before = [round(x, 2) for x in os.getloadavg()]
    rows = [measure(int(s), args.repeat) for s in args.sizes.split(",")]
    result = {
        "what": "TinyLlama 解码每个 token 的 CPU 毫秒数（N2 与 N1 个之差）",
        "config": CONFIG,
        "n1_n2": [N1, N2],
        "repeat": args.repeat,
        "device": os.environ["DEV"],
        "cpu": _cpu_name(),
        "cores": os.cpu_count(),
        "tinygrad": version("tinygrad"),
        "date": datetime.date.today().isoformat(),
        "load_before": load_before,
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "rows": rows,
    }
    print(json.dumps(result, ensure_ascii=False, indent=1))
    if not args.no_write:
        OUT.write_text(
            json.dumps(result, ensure_ascii=False, indent=1) + "\n",
            encoding="utf-8",
        )
        print(f"已写入 {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
