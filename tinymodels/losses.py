"""损失函数与准确率。

入口处检查形状：形状不对时广播不会报错，只会悄悄算出错误的损失。
"""

from __future__ import annotations

import numpy as np
from tinygrad import Tensor, dtypes

from tinymodels._contract import expect, fmt, require

__all__ = ["accuracy", "bce_with_logits", "cross_entropy", "mse_loss"]


def cross_entropy(
    logits: Tensor, targets: Tensor, ignore_index: int | None = None
) -> Tensor:
    """交叉熵 ``-mean(log_softmax(logits)[targets])``。

    与 ``torch.nn.functional.cross_entropy`` 的区别只在类别维放在最后：
    序列模型的 ``(B, T, C)`` 输出可以直接传入，不必转置。

    Args:
        logits: 浮点张量 ``(B, C)`` 或 ``(B, T, C)``，未归一化的分数。
        targets: 整数张量 ``(B,)`` 或 ``(B, T)``，取值 ``0..C-1``。
        ignore_index: 等于它的目标不计入损失，也不计入分母。

    Returns:
        Tensor: 标量损失。
    """
    where = "cross_entropy"
    lead = "B T" if getattr(logits, "ndim", 0) == 3 else "B"
    *sizes, C = expect(logits, f"{lead} C", "logits", where)
    sizes = dict(zip(lead.split(), sizes))
    expect(targets, lead, "targets", where, dtype="int", **sizes)
    require(
        ignore_index is None or isinstance(ignore_index, int),
        f"{where}: ignore_index 应为整数或 None，实际为 {ignore_index!r}",
    )
    logp = logits.log_softmax(-1)  # (..., C)
    picked = (logp * targets.one_hot(C)).sum(-1)  # (...)：目标类的 log p
    if ignore_index is None:
        return -picked.mean()
    valid = targets != ignore_index
    n_valid = valid.cast(dtypes.float32).sum()
    return -valid.where(picked, 0.0).sum() / n_valid


def _same_shape(a, b, name_a: str, name_b: str, where: str) -> None:
    """``a``、``b`` 是同形状的浮点张量：逐元素损失的入口检查。"""
    # (B, 1) 与 (B,) 会广播成 (B, B)：损失照算，只是错了
    dims = [f"d{i}" for i in range(len(getattr(a, "shape", ())))]
    expect(a, " ".join(dims), name_a, where)
    expect(b, " ".join(dims), name_b, where, **dict(zip(dims, a.shape)))


def mse_loss(pred: Tensor, target: Tensor) -> Tensor:
    """均方误差 ``mean((pred - target)^2)``。

    Args:
        pred: 任意形状的浮点张量。
        target: 与 ``pred`` 同形状的浮点张量。

    Returns:
        Tensor: 标量损失。
    """
    _same_shape(pred, target, "pred", "target", "mse_loss")
    return (pred - target).square().mean()


def bce_with_logits(logits: Tensor, targets: Tensor) -> Tensor:
    """带 logits 的二元交叉熵 ``max(x, 0) - x*y + log(1 + exp(-|x|))``。

    这样写对很大的 ``|x|`` 也不会溢出。

    Args:
        logits: 任意形状的浮点张量。
        targets: 与 ``logits`` 同形状、取值在 ``[0, 1]`` 的浮点张量。

    Returns:
        Tensor: 标量损失（平均值）。
    """
    _same_shape(logits, targets, "logits", "targets", "bce_with_logits")
    x, y = logits, targets
    # max(x, 0) 与 |x| 用同一个条件 x >= 0：x == 0 处梯度恰为 0.5 - y
    pos = x >= 0
    relu_x, abs_x = pos.where(x, 0.0), pos.where(x, -x)
    return (relu_x - x * y + (1 + (-abs_x).exp()).log()).mean()


def accuracy(
    logits: Tensor | np.ndarray, targets: Tensor | np.ndarray
) -> float:
    """分类准确率：``argmax(logits, -1) == targets`` 的比例。

    在 NumPy 里算，不编译内核。类别维只有 1 时视为二分类，以 0 为阈值。

    Args:
        logits: ``(B, C)`` 或 ``(B, T, C)``。
        targets: 整数标签 ``(B,)`` 或 ``(B, T)``。

    Returns:
        float: 0 到 1 之间的准确率。
    """
    pair = (logits, targets)
    require(
        all(isinstance(a, (Tensor, np.ndarray)) for a in pair),
        "accuracy: logits、targets 应为 tinygrad Tensor 或 NumPy 数组，"
        f"实际为 {type(logits).__name__}、{type(targets).__name__}",
    )
    lg, tg = [a.numpy() if isinstance(a, Tensor) else a for a in pair]
    require(
        lg.ndim in (2, 3),
        "accuracy: logits 的形状应为 (B, C) 或 (B, T, C)，"
        f"实际为 {fmt(lg.shape)}",
    )
    require(
        tg.shape == lg.shape[:-1],
        f"accuracy: targets 的形状应为 {fmt(lg.shape[:-1])}，"
        f"实际为 {fmt(tg.shape)}",
    )
    binary = lg.shape[-1] == 1
    pred = (lg[..., 0] > 0).astype(np.int64) if binary else lg.argmax(-1)
    return float((pred == tg).mean())
