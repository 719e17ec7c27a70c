"""入口处的输入检查：一行写完一个形状约定。

只在用户直接调用的地方用（模型的 ``__call__``、``fit``、数据、检查点）；
内部的层相信调用者，让数学成为函数的主体。

    B, T = expect(idx, "B T", "idx", "TinyGPT", dtype="int")
    B, T, _ = expect(x, "B T C", "x", "Block", C=self.d_model)

出错时抛出 ``ValueError``，消息写明位置、参数名、期望形状与实际形状::

    TinyGPT: idx 的形状应为 (B, T)，实际为 (2, 3, 4)
"""

from __future__ import annotations

import numpy as np
from tinygrad import Tensor, dtypes

__all__ = ["expect", "require", "fmt", "is_int"]


def fmt(shape) -> str:
    """把形状写成 ``(a, b)``；一维写成 ``(a,)``。"""
    parts = [str(s) for s in shape]
    return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"


def is_int(v, low: int = 0) -> bool:
    """``v`` 是不小于 ``low`` 的整数（``True``/``False`` 不算）。"""
    ok = isinstance(v, (int, np.integer)) and not isinstance(v, bool)
    return ok and v >= low


def require(ok: bool, message: str) -> None:
    """``ok`` 为假时抛出 ``ValueError(message)``：构造参数的一行检查。"""
    if not ok:
        raise ValueError(message)


def expect(
    x, dims: str, name: str, where: str, dtype: str = "float", **sizes: int
) -> tuple[int, ...]:
    """检查张量 ``x`` 的类型、维数与固定维度，返回它的形状。

    Args:
        x: 待检查的输入。
        dims: 维度名，空格分隔，如 ``"B T C"``；``sizes`` 里给了数值的维度
            必须相等。
        name: 参数名（写进错误消息）。
        where: 调用位置，如 ``"TinyGPT"``。
        dtype: ``"float"``、``"int"`` 或 ``"bool"``。
        **sizes: 固定维度，如 ``C=64``。

    Returns:
        tuple[int, ...]: ``x.shape``。
    """
    if not isinstance(x, Tensor):
        raise ValueError(
            f"{where}: {name} 应为 tinygrad Tensor，实际为 {type(x).__name__}"
        )
    names = dims.split()
    want = [f"{d}={sizes[d]}" if d in sizes else d for d in names]
    if len(x.shape) != len(names) or any(
        d in sizes and s != sizes[d] for d, s in zip(names, x.shape)
    ):
        raise ValueError(
            f"{where}: {name} 的形状应为 {fmt(want)}，实际为 {fmt(x.shape)}"
        )
    ok = {
        "float": dtypes.is_float,
        "int": dtypes.is_int,
        "bool": lambda d: d == dtypes.bool,
    }[dtype]
    if not ok(x.dtype):
        raise ValueError(
            f"{where}: {name} 的数据类型应为 {dtype}，"
            f"实际为 {x.dtype}（形状 {fmt(x.shape)}）"
        )
    return tuple(x.shape)
