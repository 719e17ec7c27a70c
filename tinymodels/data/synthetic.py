"""合成数据集：完全由种子决定，用于演示序列模型与生成模型。

都用 ``numpy.random.default_rng(seed)`` 生成，不动全局随机状态；同一个
``seed`` 在同一 NumPy 版本下总是得到同样的数据。
"""

from __future__ import annotations

import numpy as np

from tinymodels._contract import is_int, require

__all__ = [
    "adding_problem",
    "gaussian_mixture",
    "mixture_centers",
    "reversal_task",
    "sorting_task",
]  # fmt: skip


def adding_problem(
    n: int, seq_len: int = 20, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """加法问题（Hochreiter & Schmidhuber, 1997）：检验循环网络的长程记忆。

    每步两个特征：``[0, 1)`` 上均匀分布的数值，和一个 0/1 标记。恰有两个
    位置被标记，前后半段各一个；目标是这两个数之和。总是预测 1.0 的基线
    均方误差约为 0.167。

    Args:
        n: 样本数。
        seq_len: 序列长度，至少为 2。
        seed: 随机数种子（非负整数）。

    Returns:
        ``(X, y)``：``X`` (n, seq_len, 2)，``y`` (n, 1)，都是 float32。
    """
    require(
        is_int(n, 1) and is_int(seq_len, 2) and is_int(seed),
        "adding_problem: 需要整数 n >= 1、seq_len >= 2、seed >= 0，"
        f"实际为 n={n!r}、seq_len={seq_len!r}、seed={seed!r}",
    )
    rng = np.random.default_rng(seed)
    values = rng.random((n, seq_len), dtype=np.float32)
    half = seq_len // 2
    first = rng.integers(0, half, size=n)  # 前半段的标记位置
    second = rng.integers(half, seq_len, size=n)  # 后半段的标记位置
    rows = np.arange(n)
    markers = np.zeros((n, seq_len), dtype=np.float32)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    X = np.stack([values, markers], axis=-1)  # (n, seq_len, 2)
    y = values[rows, first] + values[rows, second]
    return X, y.reshape(n, 1).astype(np.float32)


def _random_tokens(where, n, seq_len, vocab, seed) -> np.ndarray:
    require(
        is_int(n, 1)
        and is_int(seq_len, 1)
        and is_int(vocab, 2)
        and is_int(seed),
        f"{where}: 需要整数 n >= 1、seq_len >= 1、vocab >= 2、seed >= 0，"
        f"实际为 n={n!r}、seq_len={seq_len!r}、vocab={vocab!r}、"
        f"seed={seed!r}",
    )
    rng = np.random.default_rng(seed)
    return rng.integers(0, vocab, size=(n, seq_len)).astype(np.int64)


def reversal_task(
    n: int, seq_len: int = 8, vocab: int = 10, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """序列反转：位置 t 的目标是输入位置 ``seq_len-1-t`` 的记号。

    模型必须靠位置信息「看到」别的位置，适合演示注意力与位置编码。

    Args:
        n: 样本数。
        seq_len: 序列长度。
        vocab: 词表大小（记号取 ``0..vocab-1``），至少为 2。
        seed: 随机数种子（非负整数）。

    Returns:
        ``(tokens, targets)``：都是 (n, seq_len) 的 int64。
    """
    tokens = _random_tokens("reversal_task", n, seq_len, vocab, seed)
    return tokens, tokens[:, ::-1].copy()


def sorting_task(
    n: int, seq_len: int = 8, vocab: int = 10, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """排序：目标是输入记号升序排列后的序列。

    Args:
        n: 样本数。
        seq_len: 序列长度。
        vocab: 词表大小（记号取 ``0..vocab-1``），至少为 2。
        seed: 随机数种子（非负整数）。

    Returns:
        ``(tokens, targets)``：都是 (n, seq_len) 的 int64。
    """
    tokens = _random_tokens("sorting_task", n, seq_len, vocab, seed)
    return tokens, np.sort(tokens, axis=1)


def mixture_centers(modes: int = 8, radius: float = 2.0) -> np.ndarray:
    """二维高斯混合的中心：均匀分布在半径为 ``radius`` 的圆上。

    Args:
        modes: 分量个数。
        radius: 圆的半径，正数。

    Returns:
        np.ndarray: (modes, 2) 的 float32，第 k 个的角度为 ``2πk/modes``。
    """
    require(
        is_int(modes, 1) and radius > 0,  # radius 为 nan 时也是 False
        f"mixture_centers: 需要整数 modes >= 1、radius > 0，"
        f"实际为 modes={modes!r}、radius={radius!r}",
    )
    angles = 2.0 * np.pi * np.arange(modes) / modes
    centers = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    # cos(π/2) 这类 1e-16 级的舍入误差变成干净的 0
    centers[np.abs(centers) < 1e-9] = 0.0
    return centers.astype(np.float32)


def gaussian_mixture(
    n: int,
    modes: int = 8,
    radius: float = 2.0,
    std: float = 0.05,
    seed: int = 0,
) -> np.ndarray:
    """从「圆环上的高斯混合」采样二维点：GAN 演示模式坍塌的经典数据。

    先等概率选一个分量，再在它的中心（见 ``mixture_centers``）加标准差为
    ``std`` 的高斯噪声。

    Args:
        n: 样本数。
        modes: 分量个数。
        radius: 中心所在圆的半径，正数。
        std: 每个分量的标准差，正数。
        seed: 随机数种子（非负整数）。

    Returns:
        np.ndarray: (n, 2) 的 float32 数组。
    """
    require(
        is_int(n, 1) and std > 0 and is_int(seed),
        f"gaussian_mixture: 需要整数 n >= 1、std > 0、整数 seed >= 0，"
        f"实际为 n={n!r}、std={std!r}、seed={seed!r}",
    )
    centers = mixture_centers(modes, radius)  # (modes, 2)
    rng = np.random.default_rng(seed)
    which = rng.integers(0, modes, size=n)
    noise = rng.normal(0.0, std, size=(n, 2))
    return (centers[which] + noise).astype(np.float32)
