"""8x8 手写数字（UCI optdigits，1797 张），随包附带，离线可用。

来源：UCI 机器学习库 "Optical Recognition of Handwritten Digits"（E. Alpaydin,
C. Kaynak, 1998，CC BY 4.0）的测试集部分；``digits.csv.gz`` 原样取自
scikit-learn 1.9.1 的 ``sklearn/datasets/data/digits.csv.gz``（BSD-3）。
每行 65 个整数：64 个像素（0..16，按行展开）加 1 个标签（0..9）。
详见同目录的 README.md。
"""

from __future__ import annotations

import functools
import gzip
from pathlib import Path

import numpy as np

from tinymodels._contract import require

__all__ = ["DIGITS_PATH", "NUM_CLASSES", "load_digits"]

#: 随包附带的数据文件路径。
DIGITS_PATH = Path(__file__).with_name("digits.csv.gz")
#: 类别数（数字 0..9）。
NUM_CLASSES = 10

_SPLITS = ("train", "test", "all")


@functools.lru_cache(maxsize=1)
def _raw() -> tuple[np.ndarray, np.ndarray]:
    """读取并缓存：像素 (1797, 64) uint8 与标签 (1797,) int64。"""
    with gzip.open(DIGITS_PATH, "rt", encoding="ascii") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    # 文件被改动时尽早报错，而不是训练出奇怪的结果
    assert table.shape == (1797, 65), f"digits.csv.gz 内容异常：{table.shape}"
    return table[:, :64].astype(np.uint8), table[:, 64].copy()


@functools.lru_cache(maxsize=1)
def _split_indices() -> tuple[np.ndarray, np.ndarray]:
    """固定的分层划分：每类内按原始顺序编号，编号 % 5 == 4 的进测试集。

    不用随机数，所以与 NumPy 版本无关、永远可复现。
    """
    _, y = _raw()
    rank = np.zeros(len(y), dtype=np.int64)  # 样本在本类内的序号
    for c in range(NUM_CLASSES):
        idx = np.flatnonzero(y == c)
        rank[idx] = np.arange(len(idx))
    is_test = rank % 5 == 4
    return np.flatnonzero(~is_test), np.flatnonzero(is_test)


def load_digits(
    split: str = "train", flatten: bool = False, normalize: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """加载随包附带的 8x8 手写数字（不联网）。

    划分固定且分层：每类内按文件顺序编号，编号除以 5 余 4 的进测试集。
    训练集 1442 张，测试集 355 张，``"all"`` 为全部 1797 张（文件原顺序）。

    Args:
        split: ``"train"``、``"test"`` 或 ``"all"``。
        flatten: ``True`` 时 ``X`` 为 (N, 64)，否则为 (N, 1, 8, 8)。
        normalize: ``True`` 时像素除以 16 缩放到 [0, 1]，否则保留 0..16。

    Returns:
        ``(X, y)``：float32 的 ``X`` 与 int64 的 ``y`` (N,)，每次都是新副本。

    Examples:
        >>> X, y = load_digits("train")
        >>> X.shape, y.shape
        ((1442, 1, 8, 8), (1442,))
    """
    require(
        split in _SPLITS,
        f"load_digits: split 应为 {_SPLITS} 之一，实际为 {split!r}",
    )
    require(
        isinstance(flatten, bool) and isinstance(normalize, bool),
        "load_digits: flatten、normalize 应为 True 或 False，"
        f"实际为 {flatten!r}、{normalize!r}",
    )
    pixels, labels = _raw()
    if split == "all":
        idx = np.arange(len(labels))
    else:
        train_idx, test_idx = _split_indices()
        idx = train_idx if split == "train" else test_idx
    X = pixels[idx].astype(np.float32)
    if normalize:
        X /= 16.0
    if not flatten:
        X = X.reshape(-1, 1, 8, 8)
    return X, labels[idx].copy()
