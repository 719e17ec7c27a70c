"""小批量迭代器：把 NumPy 数组切成 tinygrad 张量批次，顺序由种子决定。"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from tinymodels._contract import fmt, is_int, require
from tinymodels._tinygrad import to_device

__all__ = ["as_numpy", "batches"]


def as_numpy(name: str, array) -> np.ndarray:
    """把 NumPy 数组、列表或 tinygrad Tensor 转成至少一维的数值数组。

    Args:
        name: 参数名，写进错误消息。
        array: 待转换的数据。

    Returns:
        np.ndarray: 转换结果。
    """
    if hasattr(array, "numpy") and not isinstance(array, np.ndarray):
        array = array.numpy()  # tinygrad Tensor
    try:
        arr = np.asarray(array)
    except ValueError as e:  # 例如长度不一的嵌套列表
        raise ValueError(f"{name} 无法转换为数组：{e}") from None
    require(
        arr.ndim >= 1 and arr.dtype != object,
        f"{name} 应为至少一维的数值数组，"
        f"实际形状 {fmt(arr.shape)}、dtype {arr.dtype}",
    )
    return arr


def batches(
    *arrays,
    batch_size: int,
    shuffle: bool = True,
    seed: int = 0,
    drop_last: bool = True,
    as_tensor: bool = True,
) -> Iterator:
    """按第 0 维把若干等长数组切成小批量，顺序可复现。

    ``shuffle=True`` 时用 ``numpy.random.default_rng(seed)`` 生成排列：同一个
    ``seed`` 总是同样的顺序（每个 epoch 想换顺序就传 ``seed + epoch``）。

    Args:
        *arrays: 第 0 维等长的数组（NumPy、列表或 tinygrad Tensor）。
        batch_size: 每批样本数。
        shuffle: 是否打乱顺序。
        seed: 打乱所用的种子（非负整数）。
        drop_last: 丢弃不足一批的尾巴，让形状固定，TinyJit 才能复用编译结果。
        as_tensor: 产出 tinygrad Tensor（float64/int64 转为 float32/int32）；
            为 ``False`` 时产出 NumPy 数组。

    Yields:
        一个数组时产出一个批次；多个时产出元组，如 ``(xb, yb)``。

    Examples:
        >>> X, y = np.zeros((10, 3)), np.arange(10)
        >>> [xb.shape for xb, yb in batches(X, y, batch_size=4)]
        [(4, 3), (4, 3)]
    """
    # 参数在调用时立即检查，而不是等到第一次 next()
    require(len(arrays) > 0, "batches: 至少需要一个数组")
    require(
        is_int(batch_size, 1) and is_int(seed),
        f"batches: batch_size 应为正整数、seed 应为非负整数，"
        f"实际为 {batch_size!r}、{seed!r}",
    )
    flags = {
        "shuffle": shuffle,
        "drop_last": drop_last,
        "as_tensor": as_tensor,
    }
    require(
        all(isinstance(v, bool) for v in flags.values()),
        f"batches: {', '.join(flags)} 应为 True 或 False，实际为 {flags}",
    )
    arrs = [
        as_numpy(f"batches: arrays[{i}]", a) for i, a in enumerate(arrays)
    ]
    n = len(arrs[0])
    lengths = [len(a) for a in arrs]
    require(
        all(m == n for m in lengths),
        f"batches: 各数组第 0 维长度应相同，实际为 {lengths}",
    )
    require(n > 0, "batches: 数组为空（0 个样本）")
    # 否则一批也不产出，训练悄悄变成空操作
    require(
        not drop_last or n >= batch_size,
        f"batches: 样本数 {n} 少于 batch_size={batch_size}，drop_last=True "
        "时一批也产不出；请减小 batch_size 或设 drop_last=False",
    )
    rng = np.random.default_rng(seed)
    order = rng.permutation(n) if shuffle else np.arange(n)
    stop = n - n % batch_size if drop_last else n

    def iterate():
        for start in range(0, stop, batch_size):
            idx = order[start : start + batch_size]
            out = [a[idx] for a in arrs]  # 花式索引：产出的是副本
            if as_tensor:
                out = [to_device(_default_dtype(a)) for a in out]
            yield out[0] if len(out) == 1 else tuple(out)

    return iterate()


def _default_dtype(a: np.ndarray) -> np.ndarray:
    # tinygrad 的默认类型是 float32 / int32：float64、int64 在 CPU 上更慢，
    # 还会与模型参数的类型不一致
    if a.dtype == np.float64:
        return a.astype(np.float32)
    return a.astype(np.int32) if a.dtype == np.int64 else a
