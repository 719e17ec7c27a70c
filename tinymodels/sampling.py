"""采样：把最后一个位置的 logits 变成下一个 token。

    p = softmax(z / tau)                      温度 tau；tau = 0 时取 argmax
    top-k：只留 z_i >= z_(k) 的 token          z_(k) 是第 k 大的 logit
    top-p：按概率从大到小累加，取累积概率首次达到 p 时的最后一个 token 的
           概率 pi*，只留 p_i >= pi* 的 token
    每一步过滤后重新归一化；再用逆累积分布（inverse CDF）抽样。

符号：B 批大小，V 词表大小，z 一行 logits（形状 (V,)）。三种操作按
温度、top-k、top-p 的顺序作用；top-p 作用在 top-k 过滤并重新归一化之后
的分布上。

**边界与并列的约定**（``docs/llm/inference.md`` 的公式与此一致）：

- 温度 0：返回 argmax 处为 1 的 one-hot；几个 logit 并列最大时取下标最小
  的那个（``np.argmax``）。
- top-k：与第 k 大的 logit 相等的 token 全部保留，所以并列时可能多于 k 个；
  logit 互不相同时恰好 k 个。
- top-p：累积概率“达到” p 指 ``>= p``（差在 ``1e-12`` 以内也算，抵消浮点
  舍入）；与临界 token 概率相等的 token 全部保留，结果与 token 的排列顺序
  无关。``top_p=1`` 保留全部概率为正的 token。
"""

from __future__ import annotations

import numpy as np

from tinymodels._contract import is_int, require

__all__ = ["next_token_probs", "sample_next", "check_sampling_args"]

# top-p 比较累积概率时容许的浮点舍入：差在这以内算“达到 p”
_TOP_P_TOL = 1e-12


def check_sampling_args(
    vocab_size: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    where: str = "sample_next",
) -> None:
    """检查采样参数，不合法时抛出写明参数名的 ``ValueError``。

    ``generate`` 在开始生成之前调用它，让错误出现在入口处。

    Args:
        vocab_size: 词表大小 ``V``。
        temperature: 温度，须 ``>= 0``（0 表示贪心）。
        top_k: ``None`` 或 ``1..V`` 之间的整数。
        top_p: ``None`` 或 ``(0, 1]`` 之间的数。
        where: 写进错误消息的调用位置。
    """
    require(
        np.isfinite(temperature) and temperature >= 0,
        f"{where}: temperature={temperature} 应为不小于 0 的有限数"
        "（0 表示贪心解码）",
    )
    require(
        top_k is None or (is_int(top_k, 1) and top_k <= vocab_size),
        f"{where}: top_k={top_k} 应为 1..{vocab_size} 之间的整数或 None",
    )
    require(
        top_p is None or (0 < top_p <= 1),
        f"{where}: top_p={top_p} 应在 (0, 1] 之间或为 None",
    )


def _as_logits(logits, where: str) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64)
    require(
        z.ndim == 2 and z.shape[1] >= 1,
        f"{where}: logits 的形状应为 (B, V)，实际为 {z.shape}",
    )
    require(
        not np.isnan(z).any() and np.isfinite(z.max(-1)).all(),
        f"{where}: logits 含 NaN，或某一行没有有限值",
    )
    return z


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(-1, keepdims=True))  # 减去最大值，防止溢出
    return e / e.sum(-1, keepdims=True)


def next_token_probs(
    logits,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
) -> np.ndarray:
    """按温度、top-k、top-p 把 logits ``(B, V)`` 变成下一个 token 的分布。

    每行的和为 1（float64）。约定见模块说明：温度 0 给出 argmax 的
    one-hot；top-k 保留与第 k 大 logit 并列的全部 token；top-p 保留累积
    概率首次 ``>= top_p`` 时所需的 token，以及与其中最小概率并列的 token。

    Args:
        logits: ``(B, V)`` 的 logits（NumPy 数组或能转成它的东西）。
        temperature: 温度 ``tau >= 0``；越小分布越尖，0 即贪心。
        top_k: 只在 logit 最大的 ``top_k`` 个 token 里抽；``None`` 不截断。
        top_p: 核采样（nucleus sampling）的阈值 ``(0, 1]``；``None`` 不截断。

    Returns:
        np.ndarray: ``(B, V)`` 的概率。
    """
    z = _as_logits(logits, "next_token_probs")
    B, V = z.shape
    check_sampling_args(V, temperature, top_k, top_p, "next_token_probs")
    if temperature == 0:  # 贪心：概率全给 argmax
        probs = np.zeros_like(z)
        probs[np.arange(B), z.argmax(-1)] = 1.0
        return probs
    z = z / temperature  # (B, V)
    if top_k is not None:
        kth = np.sort(z, axis=-1)[:, [-top_k]]  # 第 k 大的 logit，(B, 1)
        z = np.where(z >= kth, z, -np.inf)
    probs = _softmax(z)  # (B, V)
    if top_p is not None:
        desc = -np.sort(-probs, axis=-1)  # 从大到小，(B, V)
        cum = desc.cumsum(-1)
        # r* 是累积概率首次达到 top_p 的位置（从 0 数）
        r = np.minimum((cum < top_p - _TOP_P_TOL).sum(-1), V - 1)
        pi = desc[np.arange(B), r][:, None]  # 临界概率 pi*，(B, 1)
        probs = np.where(probs >= pi, probs, 0.0)
        probs = probs / probs.sum(-1, keepdims=True)
    return probs


def sample_next(
    logits,
    rng: np.random.Generator,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
) -> np.ndarray:
    """从 ``next_token_probs`` 的分布里每行抽一个 token，返回 ``(B,)``。

    逆累积分布抽样：每行取一个 ``u ~ U[0, 1)``，返回满足
    ``F_{i-1} <= u * F_V < F_i`` 的下标 ``i``（``F`` 是累积概率，
    ``F_{-1} = 0``）。概率为 0 的 token 永远不会被抽到；每一步恰好消耗
    ``B`` 个随机数（贪心时也一样），所以同一个种子的结果可复现。

    Args:
        logits: ``(B, V)`` 的 logits。
        rng: NumPy 的 ``Generator``（如 ``np.random.default_rng(0)``）。
        temperature: 温度，见 ``next_token_probs``。
        top_k: 见 ``next_token_probs``。
        top_p: 见 ``next_token_probs``。

    Returns:
        np.ndarray: ``(B,)`` 的 token 下标（int64）。
    """
    require(
        isinstance(rng, np.random.Generator),
        f"sample_next: rng 应为 numpy.random.Generator，"
        f"实际为 {type(rng).__name__}",
    )
    probs = next_token_probs(logits, temperature, top_k, top_p)  # (B, V)
    B, V = probs.shape
    cdf = probs.cumsum(-1)  # (B, V)
    u = rng.random((B, 1)) * cdf[:, -1:]  # 乘总和：抵消累加的舍入
    return np.minimum((cdf <= u).sum(-1), V - 1).astype(np.int64)
