"""合成数据集：由随机数种子完全决定，用于演示序列模型与生成模型。

所有函数都用 ``numpy.random.default_rng(seed)`` 生成数据，不改动全局随机状态；
同一个 ``seed`` 在同一 NumPy 版本下总是得到同样的数据。
"""
from __future__ import annotations

import numpy as np

from .._checks import check_int_range, check_nonnegative_int, check_positive_float, check_positive_int

__all__ = ["adding_problem", "reversal_task", "sorting_task", "gaussian_mixture", "mixture_centers"]


def adding_problem(n: int, seq_len: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """加法问题（Hochreiter & Schmidhuber, 1997）：检验循环网络的长程记忆。

    每条序列有 ``seq_len`` 个时间步，每步两个特征：第 0 维是 [0, 1) 上均匀分布的数值，
    第 1 维是标记（0 或 1）。恰有两个位置被标记：一个在前半段、一个在后半段。
    目标是这两个被标记数值之和（范围 [0, 2)）。总是预测 1.0 的基线，均方误差约为 0.167。

    Args:
        n: 样本数，正整数。
        seq_len: 序列长度，至少为 2。
        seed: 随机数种子（非负整数）。

    Returns:
        ``(X, y)``：``X`` 形状 (n, seq_len, 2)，float32；``y`` 形状 (n, 1)，float32。

    Raises:
        ValueError: 任一参数不是合法整数或超出范围。
    """
    check_positive_int(n, "n", "adding_problem")
    check_int_range(seq_len, 2, 2**31 - 1, "seq_len", "adding_problem")
    check_nonnegative_int(seed, "seed", "adding_problem")
    rng = np.random.default_rng(seed)
    values = rng.random((n, seq_len), dtype=np.float32)
    half = seq_len // 2
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, seq_len, size=n)
    markers = np.zeros((n, seq_len), dtype=np.float32)
    rows = np.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    X = np.stack([values, markers], axis=-1)
    y = (values[rows, first] + values[rows, second]).reshape(n, 1).astype(np.float32)
    return X, y


def _random_tokens(n: int, seq_len: int, vocab: int, seed: int, where: str) -> np.ndarray:
    check_positive_int(n, "n", where)
    check_positive_int(seq_len, "seq_len", where)
    check_int_range(vocab, 2, 2**31 - 1, "vocab", where)
    check_nonnegative_int(seed, "seed", where)
    return np.random.default_rng(seed).integers(0, vocab, size=(n, seq_len)).astype(np.int64)


def reversal_task(n: int, seq_len: int = 8, vocab: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """序列反转任务：输入一串随机记号，目标是把它倒过来。

    这是逐位置分类问题：位置 t 的目标是输入位置 ``seq_len-1-t`` 的记号，
    模型必须依靠位置信息"看到"别的位置，适合演示注意力与位置编码。

    Args:
        n: 样本数，正整数。
        seq_len: 序列长度，正整数。
        vocab: 词表大小（记号取值 0..vocab-1），至少为 2。
        seed: 随机数种子（非负整数）。

    Returns:
        ``(tokens, targets)``：两者形状都是 (n, seq_len)，int64。

    Raises:
        ValueError: 参数不合法。
    """
    tokens = _random_tokens(n, seq_len, vocab, seed, "reversal_task")
    return tokens, tokens[:, ::-1].copy()


def sorting_task(n: int, seq_len: int = 8, vocab: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """排序任务：输入一串随机记号，目标是升序排列后的序列。

    Args:
        n: 样本数，正整数。
        seq_len: 序列长度，正整数。
        vocab: 词表大小（记号取值 0..vocab-1），至少为 2。
        seed: 随机数种子（非负整数）。

    Returns:
        ``(tokens, targets)``：两者形状都是 (n, seq_len)，int64。

    Raises:
        ValueError: 参数不合法。
    """
    tokens = _random_tokens(n, seq_len, vocab, seed, "sorting_task")
    return tokens, np.sort(tokens, axis=1)


def mixture_centers(modes: int = 8, radius: float = 2.0) -> np.ndarray:
    """二维高斯混合各分量的中心：均匀分布在半径为 ``radius`` 的圆上。

    Args:
        modes: 分量个数，正整数。
        radius: 圆的半径，正数。

    Returns:
        形状 (modes, 2) 的 float32 数组，第 k 个中心的角度为 ``2πk/modes``。

    Raises:
        ValueError: 参数不合法。
    """
    check_positive_int(modes, "modes", "mixture_centers")
    check_positive_float(radius, "radius", "mixture_centers")
    angles = 2.0 * np.pi * np.arange(modes) / modes
    centers = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    centers[np.abs(centers) < 1e-9] = 0.0  # 把 cos(π/2) 这类 1e-16 级的舍入误差变成干净的 0
    return centers.astype(np.float32)


def gaussian_mixture(n: int, modes: int = 8, radius: float = 2.0, std: float = 0.05, seed: int = 0) -> np.ndarray:
    """从"圆环上的高斯混合"中采样二维点，GAN 演示模式坍塌（mode collapse）的经典数据。

    先等概率选一个分量，再在其中心（见 ``mixture_centers``）加上标准差为 ``std`` 的高斯噪声。

    Args:
        n: 样本数，正整数。
        modes: 分量个数，正整数。
        radius: 中心所在圆的半径，正数。
        std: 每个分量的标准差，正数。
        seed: 随机数种子（非负整数）。

    Returns:
        形状 (n, 2) 的 float32 数组。

    Raises:
        ValueError: 参数不合法。
    """
    check_positive_int(n, "n", "gaussian_mixture")
    check_positive_float(std, "std", "gaussian_mixture")
    check_nonnegative_int(seed, "seed", "gaussian_mixture")
    centers = mixture_centers(modes, radius)
    rng = np.random.default_rng(seed)
    which = rng.integers(0, modes, size=n)
    noise = rng.normal(0.0, std, size=(n, 2))
    return (centers[which] + noise).astype(np.float32)
