"""内核优化的开关在 tinygrad 的编译进程里也生效。

tinygrad 编译多个内核时，默认把代码生成分给 spawn 出来的进程（PARALLEL）。
这些进程不会自动执行 ``import tinymodels``：以前轻量优化只在本进程里生效，
读者在全新的 Python 里跑示例时实际用的是 tinygrad 的默认优化，首个训练步
慢一倍。这里在子进程里（全新的 tinygrad 状态、一个真正的编译进程池）比较
同一段计算在进程池里和在本进程里编译出的内核用了哪些优化。
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from devtools.paths import ROOT

SCRIPT = r"""
import json
import numpy as np
from tinygrad import Context, Tensor, TinyJit
from tinygrad.codegen import to_program_cache
import tinymodels

def applied(kind, parallel):
    to_program_cache.clear()

    @TinyJit  # JIT 录制时一次编译所有内核：多于一个就交给编译进程池
    def f(x, w):
        return (x @ w).relu(), x.exp().sum(0), w.max(1)

    with Context(PARALLEL=parallel), tinymodels.kernel_opts(kind):
        for i in range(3):
            x = Tensor(np.full((256, 512), 1.0 / (i + 1), np.float32))
            w = Tensor(np.full((512, 256), 1e-3, np.float32))
            [t.numpy() for t in f(x.clone(), w.clone())]
    infos = [p.src[0].arg for p in to_program_cache.values()]
    return sorted(
        (i.function_name, [str(o) for o in i.applied_opts]) for i in infos
    )

print(json.dumps({
    f"{kind}-{parallel}": applied(kind, parallel)
    for kind in ("light", "tinygrad") for parallel in (0, 2)
}))
"""


def test_pool_and_in_process_compile_apply_the_same_opts():
    env = {**os.environ, "DEV": "CPU", "PYTHONPATH": str(ROOT)}
    env.pop("TINYMODELS_KERNEL_OPTS", None)
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout.splitlines()[-1])
    # 进程池（PARALLEL=2）与本进程（PARALLEL=0）编出同样的内核
    assert got["light-2"] == got["light-0"]
    assert got["tinygrad-2"] == got["tinygrad-0"]
    # 开关确实起作用：两套优化在大矩阵乘上不同
    assert got["light-0"] != got["tinygrad-0"]
    # 轻量优化最多展开两处（一个输出轴、一个归约轴）
    assert max(len(opts) for _, opts in got["light-0"]) <= 2
