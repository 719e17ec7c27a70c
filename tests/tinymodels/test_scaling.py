"""tinymodels.scaling.fit_power_law 对照照公式写的 NumPy。

* 没有噪声时恢复出已知的 E、A、alpha（Chinchilla 式与 Kaplan 式两组）；
* 有噪声时与暴力搜索的最小二乘参考解一致：参考解在 (E, alpha) 的细网格
  上搜索，A 用原始尺度的线性最小二乘闭式解；
* 纯幂律（E = 0）落在网格的边界上也能找到；
* 参数错误的消息写出参数名。
"""

import numpy as np
import pytest

from tinymodels.scaling import fit_power_law


def law(N, E, A, alpha):
    return E + A * np.asarray(N, float) ** -alpha


@pytest.mark.parametrize(
    "E, A, alpha, lo, hi",
    [
        (1.69, 406.4, 0.34, 7, 10),  # Chinchilla 的 N 项，N 从 1e7 到 1e10
        (3.0, 5.0, 0.2, 2.9, 4.1),  # 本站实验的量级：N 约 1e3 到 1e4
        (0.5, 2.0, 0.076, 3, 9),  # Kaplan 的小指数，跨 6 个数量级
    ],
)
def test_recovers_noise_free_parameters(E, A, alpha, lo, hi):
    N = np.logspace(lo, hi, 7)
    fit = fit_power_law(N, law(N, E, A, alpha))
    assert fit.E == pytest.approx(E, rel=2e-3)
    assert fit.alpha == pytest.approx(alpha, rel=2e-2)
    assert fit.A == pytest.approx(A, rel=5e-2)
    np.testing.assert_allclose(fit.predict(N), law(N, E, A, alpha), rtol=1e-4)


def test_pure_power_law_has_E_zero():
    N = np.logspace(3, 6, 6)
    fit = fit_power_law(N, 8.0 * N**-0.1)
    assert fit.E == pytest.approx(0.0, abs=1e-3)
    assert fit.alpha == pytest.approx(0.1, rel=1e-3)


def reference_fit(N, L):
    """暴力搜索 Σ (L - E - A N^-alpha)^2 的最小值；A 有闭式解。"""
    best = (np.inf, None)
    for E in np.linspace(0, L.min() - 1e-6, 600):
        alphas = np.linspace(0.01, 1.0, 600)
        X = N[None, :] ** -alphas[:, None]  # (600, n)
        A = (X * (L - E)).sum(1) / (X**2).sum(1)  # 每个 alpha 的最优 A
        sse = ((L - E - A[:, None] * X) ** 2).sum(1)
        i = int(sse.argmin())
        if sse[i] < best[0]:
            best = (sse[i], (E, A[i], alphas[i]))
    return best


def test_matches_brute_force_least_squares_with_noise():
    rng = np.random.default_rng(0)
    N = np.array([856, 1764, 3376, 6984, 12640], float)
    L = law(N, 3.4, 4.0, 0.2) + rng.normal(0, 0.004, N.size)
    fit = fit_power_law(N, L)
    ref_sse, (E, A, alpha) = reference_fit(N, L)
    # 本函数在对数尺度上解 A、alpha，所以与原始尺度的最优解只差一点点
    assert fit.sse <= 1.5 * ref_sse + 1e-9
    assert fit.E == pytest.approx(E, abs=0.05)
    assert fit.alpha == pytest.approx(alpha, abs=0.03)


def test_errors_name_the_arguments():
    with pytest.raises(ValueError, match="N 与 L"):
        fit_power_law([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="N 应为"):
        fit_power_law([1, 1, 2], [3, 2, 1])
    with pytest.raises(ValueError, match="num_E"):
        fit_power_law([1, 2, 3], [3, 2, 1], num_E=2)
