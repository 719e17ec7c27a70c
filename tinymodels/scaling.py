"""规模定律的拟合：``L(N) = E + A / N^alpha``，只用 NumPy。

    L(N) = E + A N^(-alpha)
    固定 E 时两边减 E 再取对数，就是一条直线：
        log(L - E) = log A - alpha log N
    所以在 E 的网格上逐个做线性回归，取原始尺度上平方误差最小的那个 E。

符号：N 参数量（或数据量、算力，凡是按幂律起作用的量），L 损失，
E 不可约损失（N 趋于无穷时的极限），A 系数，alpha 指数。

为什么不用通用的非线性最小二乘：三个参数里只有 E 是“真正非线性”的；
E 固定后 A、alpha 有闭式解，一维网格又不会陷进局部极小，也不依赖 SciPy。
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from tinymodels._contract import is_int, require

__all__ = ["PowerLawFit", "fit_power_law"]


class PowerLawFit(NamedTuple):
    """``fit_power_law`` 的结果；``predict(N)`` 给出拟合曲线上的值。"""

    E: float
    A: float
    alpha: float
    sse: float  # 原始尺度上的残差平方和 Σ (L_i - L̂_i)^2

    def predict(self, N) -> np.ndarray:
        """``E + A / N^alpha``。"""
        return self.E + self.A * np.asarray(N, float) ** -self.alpha


def _line_fits(logN: np.ndarray, L: np.ndarray, E: np.ndarray):
    """每个 E 上 log(L - E) 对 log N 的最小二乘直线：返回 A、alpha、sse。

    ``E`` 形状 ``(G,)``，结果都是 ``(G,)``；直线的斜率与截距用闭式解
    ``slope = Σ(x - x̄)(y - ȳ) / Σ(x - x̄)^2``，一次算完整个网格。
    """
    x = logN - logN.mean()  # (n,)
    y = np.log(L[None, :] - E[:, None])  # (G, n)
    slope = (y * x).sum(1) / (x**2).sum()  # (G,)
    log_A = y.mean(1) - slope * logN.mean()
    A, alpha = np.exp(log_A), -slope
    pred = E[:, None] + A[:, None] * np.exp(-alpha[:, None] * logN)
    return A, alpha, ((pred - L) ** 2).sum(1)


def fit_power_law(N, L, num_E: int = 400) -> PowerLawFit:
    """拟合 ``L(N) = E + A / N^alpha``：E 取网格、A 与 alpha 用对数线性回归。

    先在 ``[0, min(L))`` 上取 ``num_E`` 个 E，再在最好的那一格附近细分一次，
    选原始尺度上残差平方和最小的。E 落在 0 上说明数据更像纯幂律
    ``L = A N^(-alpha)``（Kaplan 等 2020 的写法）。

    Args:
        N: 至少 3 个互不相同的正数（参数量等），形状 ``(n,)``。
        L: 同样长度的正损失值。
        num_E: 每一轮 E 网格的点数。

    Returns:
        PowerLawFit: ``(E, A, alpha, sse)``。
    """
    N, L = np.asarray(N, float), np.asarray(L, float)
    require(
        N.ndim == 1 and N.shape == L.shape and len(N) >= 3,
        f"fit_power_law: N 与 L 应为同样长度（至少 3 个）的一维数组，"
        f"实际形状为 {N.shape} 与 {L.shape}",
    )
    require(
        bool(np.all(N > 0) and np.all(L > 0)) and len(set(N)) >= 3,
        "fit_power_law: N 应为至少 3 个互不相同的正数，L 应为正数",
    )
    require(
        is_int(num_E, 10), f"fit_power_law: num_E={num_E} 应为 >= 10 的整数"
    )
    logN, top = np.log(N), L.min() * (1 - 1e-9)  # E 必须严格小于每个 L
    lo, hi = 0.0, top
    for _ in range(2):  # 粗网格，再在最好的一格两侧细分
        E = np.linspace(lo, hi, num_E)
        A, alpha, sse = _line_fits(logN, L, E)
        i = int(np.argmin(sse))
        step = E[1] - E[0]
        lo, hi = max(0.0, E[i] - step), min(top, E[i] + step)
    return PowerLawFit(
        float(E[i]), float(A[i]), float(alpha[i]), float(sse[i])
    )
