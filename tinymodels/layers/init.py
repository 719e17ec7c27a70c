"""参数初始化：用 NumPy 生成初值，再包装成 tinygrad 张量。

为什么不用 ``Tensor.uniform``：在 CPU 上 tinygrad 的随机数要为每种形状编译
一个内核，LeNet 光初始化就要 2~3 秒；NumPy 生成的是现成数据，不用编译。

随机流由 ``tinymodels.set_seed`` 重置，所以同一个种子得到逐位相同的初值::

    set_seed(0); a = MLP([4, 8, 2])
    set_seed(0); b = MLP([4, 8, 2])   # a 与 b 的参数逐位相同
"""

from __future__ import annotations

import numpy as np
from tinygrad import Tensor

__all__ = ["seed", "rng", "uniform", "normal", "zeros", "ones"]

_rng = np.random.default_rng(0)


def seed(s: int) -> None:
    """用种子 ``s`` 重新开始初始化用的随机流（``set_seed`` 会调用它）。"""
    global _rng
    _rng = np.random.default_rng(s)


def rng() -> np.random.Generator:
    """初始化与采样共用的 NumPy 随机数生成器。"""
    return _rng


def _tensor(a: np.ndarray) -> Tensor:
    return Tensor(np.ascontiguousarray(a, dtype=np.float32))


def uniform(shape: tuple[int, ...], bound: float) -> Tensor:
    """``U(-bound, bound)``；PyTorch 的 Linear 用 ``1/sqrt(fan_in)``。"""
    return _tensor(_rng.uniform(-bound, bound, size=tuple(shape)))


def normal(shape: tuple[int, ...], std: float) -> Tensor:
    """``N(0, std^2)``。"""
    return _tensor(_rng.normal(0.0, std, size=tuple(shape)))


def zeros(shape: tuple[int, ...]) -> Tensor:
    """全零（不消耗随机流）。"""
    return _tensor(np.zeros(tuple(shape)))


def ones(shape: tuple[int, ...]) -> Tensor:
    """全一（不消耗随机流）。"""
    return _tensor(np.ones(tuple(shape)))
