"""小工具：参数计数与编译加速上下文。"""
from __future__ import annotations

import contextlib
import math
from typing import Any, Iterator

import numpy as np
from tinygrad import Context, Tensor, dtypes
from tinygrad.nn.state import get_parameters

from tinymodels import _checks as C

__all__ = ["count_parameters", "fast_compile", "BatchBuffer", "read_scalar"]


def count_parameters(model: Any) -> int:
  """统计模型中可训练参数的元素总数。

  通过 ``tinygrad.nn.state.get_parameters`` 找到所有张量；同一个张量只计一次（权重共享时），
  标记为非参数的缓冲区（``is_param=False``，例如固定的位置编码表）不计入。

  Args:
    model: 任意模型对象（属性中保存张量的普通 Python 对象）。

  Returns:
    int: 参数个数，例如 ``MLP([64, 32, 10])`` 为 ``64*32+32 + 32*10+10 = 2410``。
  """
  seen: set[int] = set()
  total = 0
  for t in get_parameters(model):
    if id(t) in seen or not getattr(t, "is_param", True): continue
    seen.add(id(t))
    total += math.prod(t.shape)
  return int(total)


@contextlib.contextmanager
def fast_compile(enabled: bool = True) -> Iterator[None]:
  """在这个上下文里编译的内核跳过 tinygrad 的内核优化（``NOOPT=1``），编译快得多。

  在 CPU 上，本库的小模型第一次训练步的时间几乎全是 tinygrad 生成与编译内核的时间；
  关掉循环展开/向量化等优化后，LSTM 的第一步从约 24 秒降到约 6 秒，而小尺寸下每步的运行时间几乎不变。
  只影响在上下文内 **实际编译** 的内核（也就是第一次 ``realize``/JIT 捕获发生在上下文内的那些），不修改任何环境变量。

  Args:
    enabled: 为 ``False`` 时什么也不做（便于用参数开关）。

  Returns:
    上下文管理器。
  """
  if not enabled:
    yield
    return
  with Context(NOOPT=1):
    yield


class BatchBuffer:
  """固定形状的输入缓冲区：把每一批 NumPy 数据直接写进同一块已分配的设备内存。

  ``Tensor(numpy_array)`` 每次都要走一遍 tinygrad 的调度流程，在 CPU 上约 9 毫秒；小模型一个 JIT 训练步
  只要几毫秒，这部分开销反而成了大头。``BatchBuffer`` 只分配一次，之后 ``write`` 直接拷贝内存（微秒级），
  返回的始终是 **同一个** 张量对象，正好作为 ``TinyJit`` 函数的输入。设备不支持零拷贝访问时
  （例如某些 GPU 后端），自动退回 ``Tensor(array)``。

  注意：下一次 ``write`` 会覆盖上一批的内容；需要保留时请先 ``.numpy()`` 或 ``.clone()``。

  Args:
    shape: 每批数据的形状，例如 ``(64, 1, 8, 8)``。
    dtype: ``"float32"`` 或 ``"int32"``。

  Example:
    >>> buf = BatchBuffer((2, 3))                                   # doctest: +SKIP
    >>> x = buf.write(np.ones((2, 3), np.float32))                  # doctest: +SKIP
  """

  def __init__(self, shape: tuple[int, ...], dtype: str = "float32"):
    self.shape = C.check_int_sequence(shape, "shape", "BatchBuffer", min_len=1)
    C.check_choice(dtype, ("float32", "int32"), "dtype", "BatchBuffer")
    self.np_dtype = np.dtype(dtype)
    self.tensor = Tensor.zeros(*self.shape, dtype=dtypes.float32 if dtype == "float32" else dtypes.int32).contiguous().realize()
    buf = self.tensor.uop.base.buffer
    self._zero_copy = hasattr(getattr(buf, "allocator", None), "_as_buffer")

  def write(self, array: np.ndarray) -> Tensor:
    """把一批数据写入缓冲区。

    Args:
      array: 形状等于 ``shape`` 的数组（会按需转换 dtype）。

    Returns:
      Tensor: 写好数据的张量（零拷贝可用时每次都是同一个对象）。
    """
    arr = np.asarray(array)
    if tuple(arr.shape) != self.shape:
      raise ValueError(f"BatchBuffer.write: 输入 array 的形状应为 {C.format_shape(self.shape)}，实际为 {C.format_shape(arr.shape)}")
    if not self._zero_copy: return Tensor(np.ascontiguousarray(arr, dtype=self.np_dtype))
    mv = self.tensor.uop.base.buffer.as_memoryview(force_zero_copy=True)  # 会先同步设备，保证上一步已经读完
    np.frombuffer(mv, dtype=self.np_dtype)[:] = arr.reshape(-1)
    return self.tensor


def read_scalar(t: Tensor) -> float:
  """读出一个已计算完成的标量张量的值（等价于 ``t.item()``，但在 CPU 上直接读内存，快约 100 倍）。

  ``Tensor.item()`` 每次都要走一遍拷贝流程（CPU 上约 1.4 毫秒），在每步都记录损失的小模型训练循环里很显眼。

  Args:
    t: 只有一个元素的张量（例如 JIT 训练步返回的损失）。

  Returns:
    float: 张量的值。
  """
  C.check_tensor(t, "t", "read_scalar")
  if math.prod(t.shape) != 1: raise ValueError(f"read_scalar: 输入 t 应只有一个元素，实际形状为 {C.format_shape(t.shape)}")
  base = t.uop.base
  buf = getattr(base, "buffer", None) if base.is_realized else None
  if buf is None or not hasattr(getattr(buf, "allocator", None), "_as_buffer") or t.dtype != dtypes.float32 or buf.size != 1:
    return float(t.item())
  return float(np.frombuffer(buf.as_memoryview(force_zero_copy=True), dtype=np.float32)[0])
