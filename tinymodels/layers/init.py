"""参数初始化：用 NumPy 生成初值，再包装成 tinygrad 张量。

为什么不用 ``Tensor.uniform``？在 CPU 上 tinygrad 的随机数要为每个不同大小的参数单独编译一个内核，
一个 LeNet 光初始化就要 2~3 秒，而且未实现（lazy）的随机初值会被融合进第一次前向/反向的内核里，
让编译更慢。NumPy 生成的初值是已经存在的数据，不需要任何编译。

随机流与 ``Tensor.manual_seed`` 同步：调用 ``Tensor.manual_seed(s)`` 之后，下一次创建参数时
本模块会用种子 ``s`` 重新开始一条 NumPy 随机流，所以::

    Tensor.manual_seed(0); a = MLP([4, 8, 2])
    Tensor.manual_seed(0); b = MLP([4, 8, 2])   # a 与 b 的参数逐位相同
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from tinygrad import Tensor

__all__ = ["rng", "uniform", "normal", "zeros", "ones", "from_numpy", "fan_in_bound"]

_state: dict = {"seed": None, "marker": None, "rng": None}


def rng() -> np.random.Generator:
  """返回与 ``Tensor.manual_seed`` 同步的 NumPy 随机数生成器。

  Returns:
    numpy.random.Generator: 若自上次调用以来执行过 ``Tensor.manual_seed(s)``，则返回以 ``s`` 新建的生成器。
  """
  seed = getattr(Tensor, "_seed", 0)
  marker = getattr(Tensor, "_device_seeds", None)  # manual_seed 每次都会换成一个新的 dict 对象
  if _state["rng"] is None or _state["seed"] != seed or _state["marker"] is not marker:
    _state.update(seed=seed, marker=marker, rng=np.random.default_rng(int(seed) & 0xFFFFFFFFFFFFFFFF))
  return _state["rng"]


def from_numpy(a: np.ndarray) -> Tensor:
  """把 NumPy 数组转成 float32 的 tinygrad 张量（可训练参数）。

  Args:
    a: 任意形状的数组。

  Returns:
    Tensor: 形状相同、dtype 为 float32 的张量。
  """
  return Tensor(np.ascontiguousarray(a, dtype=np.float32))


def uniform(shape: Sequence[int], bound: float) -> Tensor:
  """均匀分布 ``U(-bound, bound)`` 初始化。

  Args:
    shape: 参数形状。
    bound: 上界（正数）。

  Returns:
    Tensor: 形状为 ``shape`` 的 float32 张量。
  """
  return from_numpy(rng().uniform(-bound, bound, size=tuple(shape)))


def normal(shape: Sequence[int], std: float) -> Tensor:
  """正态分布 ``N(0, std^2)`` 初始化。

  Args:
    shape: 参数形状。
    std: 标准差。

  Returns:
    Tensor: 形状为 ``shape`` 的 float32 张量。
  """
  return from_numpy(rng().normal(0.0, std, size=tuple(shape)))


def zeros(shape: Sequence[int]) -> Tensor:
  """全零初始化（不消耗随机流）。

  Args:
    shape: 参数形状。

  Returns:
    Tensor: 全零 float32 张量。
  """
  return from_numpy(np.zeros(tuple(shape), dtype=np.float32))


def ones(shape: Sequence[int]) -> Tensor:
  """全一初始化（不消耗随机流）。

  Args:
    shape: 参数形状。

  Returns:
    Tensor: 全一 float32 张量。
  """
  return from_numpy(np.ones(tuple(shape), dtype=np.float32))


def fan_in_bound(fan_in: int) -> float:
  """PyTorch 默认的均匀初始化上界 ``1/sqrt(fan_in)``（``nn.Linear``/``nn.Conv2d`` 的权重与偏置都用它）。

  Args:
    fan_in: 每个输出单元的输入个数（全连接为 in_features，卷积为 in_channels*k*k）。

  Returns:
    float: 上界。
  """
  return 1.0 / math.sqrt(fan_in)
