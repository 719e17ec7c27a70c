"""损失函数与准确率。所有函数先检查形状与数据类型，再交给 tinygrad 计算。"""
from __future__ import annotations

import numpy as np
from tinygrad import Tensor, dtypes

from tinymodels import _checks as C

__all__ = ["cross_entropy", "mse_loss", "bce_with_logits", "accuracy"]


def cross_entropy(logits: Tensor, targets: Tensor, ignore_index: int | None = None) -> Tensor:
  """交叉熵损失（对 logits 做 log-softmax 后取目标类的负对数概率，再取平均）。

  与 ``torch.nn.functional.cross_entropy`` 的区别只在于类别维放在 **最后**：
  序列模型的 ``(B, T, C)`` 输出可以直接传入，不需要转置。

  Args:
    logits: 形状 ``(B, C)`` 或 ``(B, T, C)`` 的浮点张量（未归一化的分数）。
    targets: 形状 ``(B,)`` 或 ``(B, T)`` 的整数张量，取值 ``0..C-1``。
    ignore_index: 若给出，等于它的目标不计入损失，平均时也不计入分母。

  Returns:
    Tensor: 标量损失。
  """
  w = "cross_entropy"
  C.check_dtype_float(logits, "logits", w)
  C.check_ndim(logits, (2, 3), "logits", w)
  C.check_dtype_int(targets, "targets", w)
  C.check_shape(targets, logits.shape[:-1], "targets", w)
  if ignore_index is not None and (isinstance(ignore_index, bool) or not isinstance(ignore_index, int)):
    raise ValueError(f"{w}: 参数 ignore_index 应为整数或 None，实际为 {ignore_index!r}")
  num_classes = logits.shape[-1]
  logp = logits.log_softmax(-1)
  picked = (logp * targets.one_hot(num_classes)).sum(-1)
  if ignore_index is None: return -picked.mean()
  valid = (targets != ignore_index)
  return -(valid.where(picked, 0.0)).sum() / valid.cast(dtypes.float32).sum()


def mse_loss(pred: Tensor, target: Tensor) -> Tensor:
  """均方误差 ``mean((pred - target)^2)``。

  Args:
    pred: 任意形状的浮点张量。
    target: 与 ``pred`` 形状相同的浮点张量。

  Returns:
    Tensor: 标量损失。
  """
  C.check_dtype_float(pred, "pred", "mse_loss")
  C.check_dtype_float(target, "target", "mse_loss")
  C.check_same_shape(pred, target, "pred", "target", "mse_loss")
  return (pred - target).square().mean()


def bce_with_logits(logits: Tensor, targets: Tensor) -> Tensor:
  """带 logits 的二元交叉熵（数值稳定版）。

  逐元素计算 ``max(x, 0) - x*y + log(1 + exp(-|x|))``，对很大的 ``|x|`` 也不会溢出。

  Args:
    logits: 任意形状的浮点张量。
    targets: 与 ``logits`` 形状相同、取值在 ``[0, 1]`` 的浮点张量。

  Returns:
    Tensor: 标量损失（平均值）。
  """
  C.check_dtype_float(logits, "logits", "bce_with_logits")
  C.check_dtype_float(targets, "targets", "bce_with_logits")
  C.check_same_shape(logits, targets, "logits", "targets", "bce_with_logits")
  # 用同一个条件 x >= 0 写出 max(x, 0) 与 |x|，这样在 x == 0 处梯度也正好是 sigmoid(0) - y = 0.5 - y
  pos = logits >= 0
  relu_x, abs_x = pos.where(logits, 0.0), pos.where(logits, -logits)
  return (relu_x - logits * targets + (1 + (-abs_x).exp()).log()).mean()


def _to_numpy(x, name: str) -> np.ndarray:
  if isinstance(x, Tensor): return x.numpy()
  if isinstance(x, np.ndarray): return x
  raise ValueError(f"accuracy: 输入 {name} 应为 tinygrad Tensor 或 NumPy 数组，实际为 {type(x).__name__}")


def accuracy(logits: Tensor | np.ndarray, targets: Tensor | np.ndarray) -> float:
  """分类准确率：``argmax(logits, -1) == targets`` 的比例（在 NumPy 中计算，不编译内核）。

  类别维只有 1 时视为二分类 logits，以 0 为阈值。

  Args:
    logits: 形状 ``(B, C)`` 或 ``(B, T, C)``。
    targets: 形状 ``(B,)`` 或 ``(B, T)`` 的整数标签。

  Returns:
    float: 0 到 1 之间的准确率。
  """
  lg, tg = _to_numpy(logits, "logits"), _to_numpy(targets, "targets")
  if lg.ndim not in (2, 3):
    raise ValueError(f"accuracy: 输入 logits 应为 2 或 3 维，形状 (batch, C) 或 (batch, T, C)，实际形状为 {C.format_shape(lg.shape)}")
  if tuple(tg.shape) != tuple(lg.shape[:-1]):
    raise ValueError(f"accuracy: 输入 targets 的形状应为 {C.format_shape(lg.shape[:-1])}，实际为 {C.format_shape(tg.shape)}")
  if not np.issubdtype(tg.dtype, np.integer):
    raise ValueError(f"accuracy: 输入 targets 的数据类型应为整数，实际为 {tg.dtype}")
  pred = (lg[..., 0] > 0).astype(np.int64) if lg.shape[-1] == 1 else lg.argmax(-1)
  return float((pred == tg).mean())
