"""小工具：参数计数与编译加速上下文。"""

from __future__ import annotations

import contextlib
import math
from typing import Iterator

from tinygrad import Context
from tinygrad.nn.state import get_parameters

from tinymodels._tinygrad import KERNEL_OPTS

__all__ = ["count_parameters", "fast_compile", "kernel_opts"]


def count_parameters(model) -> int:
    """可训练参数的元素总数；共享的张量只计一次，缓冲区（``is_param=False``）不计。

    例如 ``MLP([64, 32, 10])`` 有 ``64*32+32 + 32*10+10 = 2410`` 个。
    """
    params = {id(t): t for t in get_parameters(model) if t.is_param}
    return sum(math.prod(t.shape) for t in params.values())


def fast_compile(enabled: bool = True):
    """这里面编译的内核跳过 tinygrad 的内核优化，即 ``kernel_opts("none")``。

    编译快约 3 倍，但内核慢：只适合只跑几步的计算。训练用默认设置即可。
    """
    return kernel_opts("none") if enabled else contextlib.nullcontext()


@contextlib.contextmanager
def kernel_opts(kind: str) -> Iterator[None]:
    """在这里面编译的 CPU 内核用哪套优化：light、tinygrad 或 none。

    ``import tinymodels`` 之后默认是 ``"light"``：编译快，运行稍慢。
    ``"tinygrad"`` 是 tinygrad 自己的默认启发式；``"none"`` 同
    ``fast_compile()``。
    """
    if kind not in ("light", "tinygrad", "none"):
        raise ValueError(
            f"kernel_opts: kind={kind!r} 应为 light、tinygrad 或 none"
        )
    opts = KERNEL_OPTS.value if kind == "none" else kind
    with Context(NOOPT=int(kind == "none"), **{KERNEL_OPTS.key: opts}):
        yield
