"""参数与输入校验工具：所有公开入口在进入 tinygrad 计算之前先做检查。

每个检查失败时都抛出 ``ValueError``，消息统一为中文，并写明出错的位置（类名或函数名）、
参数名、期望值与实际值，例如::

    LeNet: 输入 x 的形状应为 (batch, 1, 8, 8)，实际为 (32, 64)

这样错误的形状或类型不会一路传到 tinygrad 深处，变成难以阅读的回溯信息。
形状里的 ``None`` 或字符串（如 ``"batch"``）表示该维可以是任意正整数；字符串只用于在消息里显示维度的含义。
"""
from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any, Iterable, Sequence

from tinygrad import Tensor, dtypes

__all__ = [
  "format_shape", "check_tensor", "check_shape", "check_ndim", "check_dtype_int", "check_dtype_float",
  "check_same_shape", "check_dim", "check_positive_int", "check_nonnegative_int", "check_int_range",
  "check_positive_float", "check_probability", "check_choice", "check_int_sequence", "check_bool", "check_divisible",
]


def _prefix(where: str | None) -> str:
  return f"{where}: " if where else ""


def format_shape(shape: Iterable[Any]) -> str:
  """把形状格式化成 ``(a, b, c)`` 形式的字符串。

  Args:
    shape: 由整数、``None``（显示为 ``*``）或字符串（维度名，如 ``"batch"``）组成的序列。

  Returns:
    str: 例如 ``"(batch, 1, 8, 8)"``；一维时为 ``"(5,)"``。
  """
  parts = ["*" if s is None else str(s) for s in shape]
  return "(" + parts[0] + ",)" if len(parts) == 1 else "(" + ", ".join(parts) + ")"


def _is_int(value: Any) -> bool:
  return isinstance(value, Integral) and not isinstance(value, bool)


def check_tensor(x: Any, name: str, where: str | None = None) -> Tensor:
  """检查 ``x`` 是否为 tinygrad ``Tensor``。

  Args:
    x: 待检查的对象。
    name: 参数名，用于错误消息。
    where: 调用位置（类名或函数名），用于错误消息前缀。

  Returns:
    Tensor: 原样返回 ``x``。
  """
  if not isinstance(x, Tensor):
    raise ValueError(f"{_prefix(where)}输入 {name} 应为 tinygrad Tensor，实际为 {type(x).__module__}.{type(x).__qualname__}")
  return x


def check_ndim(x: Any, ndim: int | Sequence[int], name: str, where: str | None = None) -> Tensor:
  """检查张量的维数。

  Args:
    x: tinygrad 张量。
    ndim: 允许的维数（整数或整数序列）。
    name: 参数名。
    where: 调用位置。

  Returns:
    Tensor: 原样返回 ``x``。
  """
  check_tensor(x, name, where)
  allowed = (ndim,) if _is_int(ndim) else tuple(ndim)
  if x.ndim not in allowed:
    want = " 或 ".join(str(d) for d in allowed)
    raise ValueError(f"{_prefix(where)}输入 {name} 应为 {want} 维张量，实际为 {x.ndim} 维，形状 {format_shape(x.shape)}")
  return x


def check_shape(x: Any, expected: Sequence[int | str | None], name: str, where: str | None = None) -> Tensor:
  """检查张量形状；``expected`` 中的 ``None`` 或字符串表示该维任意。

  Args:
    x: tinygrad 张量。
    expected: 期望形状，例如 ``("batch", 1, 8, 8)`` 或 ``(None, 64)``。
    name: 参数名。
    where: 调用位置。

  Returns:
    Tensor: 原样返回 ``x``。

  Raises:
    ValueError: 维数不同或某个固定维度不相等时，消息写明期望形状与实际形状。
  """
  check_tensor(x, name, where)
  shape = tuple(x.shape)
  ok = len(shape) == len(expected) and all(e is None or isinstance(e, str) or s == e for s, e in zip(shape, expected))
  if not ok:
    raise ValueError(f"{_prefix(where)}输入 {name} 的形状应为 {format_shape(expected)}，实际为 {format_shape(shape)}")
  return x


def check_same_shape(a: Any, b: Any, name_a: str, name_b: str, where: str | None = None) -> None:
  """检查两个张量形状完全相同。

  Args:
    a: 第一个张量。
    b: 第二个张量。
    name_a: 第一个参数名。
    name_b: 第二个参数名。
    where: 调用位置。
  """
  check_tensor(a, name_a, where)
  check_tensor(b, name_b, where)
  if tuple(a.shape) != tuple(b.shape):
    raise ValueError(f"{_prefix(where)}输入 {name_b} 的形状应与 {name_a} 相同，即 {format_shape(a.shape)}，"
                     f"实际为 {format_shape(b.shape)}")


def check_dim(x: Any, axis: int, size: int, name: str, where: str | None = None, label: str | None = None) -> Tensor:
  """检查张量某一维的大小。

  Args:
    x: tinygrad 张量。
    axis: 维度下标（可为负数）。
    size: 期望大小。
    name: 参数名。
    where: 调用位置。
    label: 维度含义（如 ``"特征维"``），用于错误消息。

  Returns:
    Tensor: 原样返回 ``x``。
  """
  check_tensor(x, name, where)
  if not -x.ndim <= axis < x.ndim or x.shape[axis] != size:
    exp = ["*"] * x.ndim
    if -x.ndim <= axis < x.ndim: exp[axis] = str(size)
    what = f"{label}" if label else f"第 {axis} 维"
    raise ValueError(f"{_prefix(where)}输入 {name} 的{what}应为 {size}，即形状 {format_shape(exp)}，实际形状为 {format_shape(x.shape)}")
  return x


def check_dtype_int(x: Any, name: str, where: str | None = None) -> Tensor:
  """检查张量为整数类型（例如 token 编号、类别标签）。

  Args:
    x: tinygrad 张量。
    name: 参数名。
    where: 调用位置。

  Returns:
    Tensor: 原样返回 ``x``。
  """
  check_tensor(x, name, where)
  if not dtypes.is_int(x.dtype):
    raise ValueError(f"{_prefix(where)}输入 {name} 的数据类型应为整数（如 dtypes.int32），实际为 {x.dtype}，形状 {format_shape(x.shape)}")
  return x


def check_dtype_float(x: Any, name: str, where: str | None = None) -> Tensor:
  """检查张量为浮点类型。

  Args:
    x: tinygrad 张量。
    name: 参数名。
    where: 调用位置。

  Returns:
    Tensor: 原样返回 ``x``。
  """
  check_tensor(x, name, where)
  if not dtypes.is_float(x.dtype):
    raise ValueError(f"{_prefix(where)}输入 {name} 的数据类型应为浮点（如 dtypes.float32），实际为 {x.dtype}，形状 {format_shape(x.shape)}")
  return x


def check_positive_int(value: Any, name: str, where: str | None = None) -> int:
  """检查参数为正整数（不接受 ``bool``）。

  Args:
    value: 待检查的值。
    name: 参数名。
    where: 调用位置。

  Returns:
    int: 转换为 Python ``int`` 的值。
  """
  if not _is_int(value) or value <= 0:
    raise ValueError(f"{_prefix(where)}参数 {name} 应为正整数，实际为 {value!r}")
  return int(value)


def check_nonnegative_int(value: Any, name: str, where: str | None = None) -> int:
  """检查参数为非负整数。

  Args:
    value: 待检查的值。
    name: 参数名。
    where: 调用位置。

  Returns:
    int: 转换为 Python ``int`` 的值。
  """
  if not _is_int(value) or value < 0:
    raise ValueError(f"{_prefix(where)}参数 {name} 应为非负整数，实际为 {value!r}")
  return int(value)


def check_int_range(value: Any, low: int, high: int, name: str, where: str | None = None) -> int:
  """检查参数为闭区间 ``[low, high]`` 内的整数。

  Args:
    value: 待检查的值。
    low: 下界（含）。
    high: 上界（含）。
    name: 参数名。
    where: 调用位置。

  Returns:
    int: 转换为 Python ``int`` 的值。
  """
  if not _is_int(value) or not low <= value <= high:
    raise ValueError(f"{_prefix(where)}参数 {name} 应为 [{low}, {high}] 内的整数，实际为 {value!r}")
  return int(value)


def check_positive_float(value: Any, name: str, where: str | None = None) -> float:
  """检查参数为有限正实数。

  Args:
    value: 待检查的值。
    name: 参数名。
    where: 调用位置。

  Returns:
    float: 转换为 Python ``float`` 的值。
  """
  if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)) or value <= 0:
    raise ValueError(f"{_prefix(where)}参数 {name} 应为有限正数，实际为 {value!r}")
  return float(value)


def check_probability(p: Any, name: str, where: str | None = None, allow_one: bool = False) -> float:
  """检查参数为概率：``0 <= p < 1``（``allow_one=True`` 时允许 ``p == 1``）。

  Args:
    p: 待检查的值。
    name: 参数名。
    where: 调用位置。
    allow_one: 是否允许等于 1。

  Returns:
    float: 转换为 Python ``float`` 的值。
  """
  hi = "1]" if allow_one else "1)"
  if isinstance(p, bool) or not isinstance(p, Real) or not math.isfinite(float(p)) or p < 0 or (p > 1 if allow_one else p >= 1):
    raise ValueError(f"{_prefix(where)}参数 {name} 应在区间 [0, {hi} 内，实际为 {p!r}")
  return float(p)


def check_choice(value: Any, choices: Sequence[Any], name: str, where: str | None = None) -> Any:
  """检查参数取值属于给定集合。

  Args:
    value: 待检查的值。
    choices: 允许的取值。
    name: 参数名。
    where: 调用位置。

  Returns:
    原样返回 ``value``。
  """
  if value not in tuple(choices):
    raise ValueError(f"{_prefix(where)}参数 {name} 应为 {', '.join(repr(c) for c in choices)} 之一，实际为 {value!r}")
  return value


def check_bool(value: Any, name: str, where: str | None = None) -> bool:
  """检查参数为 ``bool``。

  Args:
    value: 待检查的值。
    name: 参数名。
    where: 调用位置。

  Returns:
    bool: 原样返回。
  """
  if not isinstance(value, bool):
    raise ValueError(f"{_prefix(where)}参数 {name} 应为 True 或 False，实际为 {value!r}")
  return value


def check_int_sequence(value: Any, name: str, where: str | None = None, min_len: int = 1,
                       length: int | None = None) -> tuple[int, ...]:
  """检查参数为正整数序列（列表或元组）。

  Args:
    value: 待检查的值。
    name: 参数名。
    where: 调用位置。
    min_len: 最少元素个数。
    length: 若给出，元素个数必须恰好等于它。

  Returns:
    tuple[int, ...]: 转换后的整数元组。
  """
  ok = isinstance(value, (list, tuple)) and all(_is_int(v) and v > 0 for v in value)
  if ok and length is not None: ok = len(value) == length
  if ok and length is None: ok = len(value) >= min_len
  if not ok:
    need = f"恰好 {length} 个" if length is not None else f"至少 {min_len} 个"
    raise ValueError(f"{_prefix(where)}参数 {name} 应为含{need}正整数的列表或元组，实际为 {value!r}")
  return tuple(int(v) for v in value)


def check_divisible(value: int, divisor: int, name: str, divisor_name: str, where: str | None = None) -> None:
  """检查 ``value`` 能被 ``divisor`` 整除（例如 d_model 必须能被 num_heads 整除）。

  Args:
    value: 被除数。
    divisor: 除数。
    name: 被除数的参数名。
    divisor_name: 除数的参数名。
    where: 调用位置。
  """
  if value % divisor != 0:
    raise ValueError(f"{_prefix(where)}参数 {name}={value} 应能被 {divisor_name}={divisor} 整除，实际余 {value % divisor}")
