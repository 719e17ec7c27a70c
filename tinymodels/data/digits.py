"""8x8 手写数字数据集（UCI optdigits，1797 张），随包附带，离线可用。

数据来源：UCI 机器学习库 "Optical Recognition of Handwritten Digits"
（E. Alpaydin, C. Kaynak, 1998，CC BY 4.0）的测试集部分；文件
``digits.csv.gz`` 原样取自 scikit-learn 1.9.1 发行包中的
``sklearn/datasets/data/digits.csv.gz``（scikit-learn 以 BSD-3 许可分发）。
每行 65 个整数：64 个像素（0..16，按行展开的 8x8 图像）加 1 个类别标签（0..9）。
详见同目录的 README.md。
"""
from __future__ import annotations

import functools
import gzip
from pathlib import Path

import numpy as np

from .._checks import check_bool, check_choice

__all__ = ["load_digits", "DIGITS_PATH", "NUM_CLASSES"]

#: 随包附带的数据文件路径。
DIGITS_PATH = Path(__file__).with_name("digits.csv.gz")
#: 类别数（数字 0..9）。
NUM_CLASSES = 10

_SPLITS = ("train", "test", "all")


@functools.lru_cache(maxsize=1)
def _raw() -> tuple[np.ndarray, np.ndarray]:
    """读取并缓存原始数据：像素 (1797, 64) uint8 与标签 (1797,) int64。"""
    with gzip.open(DIGITS_PATH, "rt", encoding="ascii") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    if table.shape != (1797, 65):  # 文件被改动时尽早报错，而不是训练出奇怪的结果
        raise RuntimeError(f"digits.csv.gz 内容异常：期望形状 (1797, 65)，实际 {table.shape}")
    return table[:, :64].astype(np.uint8), table[:, 64].copy()


@functools.lru_cache(maxsize=1)
def _split_indices() -> tuple[np.ndarray, np.ndarray]:
    """固定的分层划分：每个类别内按原始顺序编号，编号 %5 == 4 的样本进测试集。

    不依赖随机数发生器，因此与 NumPy 版本无关、永远可复现；
    每类约 20% 进测试集（共 355 张），其余 1442 张为训练集。
    """
    _, y = _raw()
    rank = np.zeros(len(y), dtype=np.int64)
    for c in range(NUM_CLASSES):
        idx = np.flatnonzero(y == c)
        rank[idx] = np.arange(len(idx))
    is_test = rank % 5 == 4
    return np.flatnonzero(~is_test), np.flatnonzero(is_test)


def load_digits(split: str = "train", flatten: bool = False, normalize: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """加载随包附带的 8x8 手写数字数据集（不联网）。

    划分是固定且分层的：每个类别内按文件中的原始顺序编号，编号除以 5 余 4 的样本
    归入测试集（约 20%）。训练集 1442 张，测试集 355 张，``"all"`` 为全部 1797 张
    （按文件原顺序）。

    Args:
        split: ``"train"``、``"test"`` 或 ``"all"``。
        flatten: 为 ``True`` 时返回形状 (N, 64)，否则返回 (N, 1, 8, 8)（通道在前，适合卷积网络）。
        normalize: 为 ``True`` 时像素除以 16 缩放到 [0, 1]；否则保留原始整数值 0..16（仍为 float32）。

    Returns:
        ``(X, y)``：``X`` 为 float32 数组，形状 (N, 1, 8, 8) 或 (N, 64)；
        ``y`` 为 int64 数组，形状 (N,)，取值 0..9。每次调用都返回新的副本，可随意修改。

    Raises:
        ValueError: ``split`` 不是上述三者之一，或 ``flatten``/``normalize`` 不是布尔值。

    Examples:
        >>> X, y = load_digits("train")
        >>> X.shape, y.shape
        ((1442, 1, 8, 8), (1442,))
    """
    check_choice(split, _SPLITS, "split", "load_digits")
    check_bool(flatten, "flatten", "load_digits")
    check_bool(normalize, "normalize", "load_digits")
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
