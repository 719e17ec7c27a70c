"""注意力：缩放点积注意力、两种掩码与多头注意力。

掩码约定与 PyTorch 相同，两者正好相反：

* ``attn_mask``（布尔）：``True`` = 可以关注；``causal_mask(T)`` 就是它。
  浮点的 ``attn_mask`` 直接加到分数上。
* ``key_padding_mask``（布尔，``(B, T_k)``）：``True`` = 填充，要忽略；
  ``padding_mask(lengths)`` 返回的就是它。

被屏蔽的位置在 softmax 之前填 ``-inf``；整行都被屏蔽时是 NaN（同 PyTorch）。
"""

from __future__ import annotations

import math

import numpy as np
from tinygrad import Tensor, dtypes

from tinymodels.layers.basic import Linear

__all__ = [
    "scaled_dot_product_attention",
    "causal_mask",
    "padding_mask",
    "MultiHeadAttention",
]


def causal_mask(T: int) -> Tensor:
    """``(T, T)`` 的布尔下三角：位置 ``i`` 只能关注 ``j <= i``。"""
    return Tensor.arange(T).reshape(T, 1) >= Tensor.arange(T).reshape(1, T)


def padding_mask(lengths, max_len: int | None = None) -> Tensor:
    """由有效长度得到 ``(B, T)`` 的填充掩码，``t >= lengths[b]`` 处为真。

    Args:
        lengths: 长度为 ``B`` 的整数序列、NumPy 数组或张量。
        max_len: 序列总长 ``T``，默认 ``max(lengths)``。
    """
    lengths = np.asarray(
        lengths.numpy() if isinstance(lengths, Tensor) else lengths
    )
    T = int(lengths.max()) if max_len is None else max_len
    if lengths.ndim != 1 or lengths.min() < 0 or lengths.max() > T:
        raise ValueError(
            f"padding_mask: lengths 应为一维、取值在 0..{T} 的整数，"
            f"实际为 {lengths.tolist()}"
        )
    return Tensor(np.arange(T)[None, :] >= lengths[:, None])


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    is_causal: bool = False,
    dropout_p: float = 0.0,
    return_weights: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """``softmax(Q K^T / sqrt(d_k) + M) V``，语义同 PyTorch 的同名函数。

    Args:
        query: ``(..., T_q, d_k)``。
        key: ``(..., T_k, d_k)``。
        value: ``(..., T_k, d_v)``。
        attn_mask: 能广播到 ``(..., T_q, T_k)``；布尔时 ``True`` = 可以关注。
        is_causal: 用因果掩码（不能再给 ``attn_mask``）。
        dropout_p: 训练时对注意力权重做 dropout 的概率。
        return_weights: 同时返回权重 ``(..., T_q, T_k)``。
    """
    if is_causal:
        attn_mask = causal_mask(query.shape[-2])
    d_k = query.shape[-1]
    scores = query @ key.transpose(-2, -1) / math.sqrt(d_k)  # (..., T_q, T_k)
    if attn_mask is not None and attn_mask.dtype == dtypes.bool:
        scores = attn_mask.where(scores, -math.inf)
    elif attn_mask is not None:
        scores = scores + attn_mask
    weights = scores.softmax(-1)
    out = weights.dropout(dropout_p) @ value  # (..., T_q, d_v)
    return (out, weights) if return_weights else out


class MultiHeadAttention:
    """多头注意力，参数布局同 PyTorch 的 ``nn.MultiheadAttention``。

    PyTorch 的 ``in_proj_weight`` ``(3d, d)`` 按行三等分就是这里的
    ``q_proj``、``k_proj``、``v_proj``，``out_proj`` 直接对应。

    Args:
        d_model: 模型宽度 ``d``，须能被 ``num_heads`` 整除。
        num_heads: 头数 ``h``，每头宽 ``d_h = d / h``。
        dropout: 训练时对注意力权重做 dropout 的概率。
        bias: 投影层是否带偏置。
    """

    def __init__(
        self,
        d_model: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
    ):
        if d_model % num_heads:
            raise ValueError(
                f"MultiHeadAttention: d_model={d_model} 应能被 "
                f"num_heads={num_heads} 整除"
            )
        self.d_model, self.num_heads = d_model, num_heads
        self.head_dim, self.dropout = d_model // num_heads, dropout
        self.q_proj = Linear(d_model, d_model, bias=bias)
        self.k_proj = Linear(d_model, d_model, bias=bias)
        self.v_proj = Linear(d_model, d_model, bias=bias)
        self.out_proj = Linear(d_model, d_model, bias=bias)

    def _heads(self, x: Tensor) -> Tensor:
        B, T, _ = x.shape
        return x.reshape(B, T, self.num_heads, self.head_dim).transpose(1, 2)

    def __call__(
        self,
        query: Tensor,
        key: Tensor | None = None,
        value: Tensor | None = None,
        key_padding_mask: Tensor | None = None,
        causal: bool = False,
        need_weights: bool = False,
    ) -> Tensor | tuple[Tensor, Tensor]:
        """``query`` ``(B, T_q, d)``，``key``/``value`` ``(B, T_k, d)``。

        ``key``、``value`` 不给时就是自注意力。

        返回 ``(B, T_q, d)``；``need_weights=True`` 时另返回每个头的权重
        ``(B, h, T_q, T_k)``。``key_padding_mask`` ``(B, T_k)`` 中
        ``True`` = 填充。
        """
        key = query if key is None else key
        value = key if value is None else value
        B, T_q, _ = query.shape
        T_k = key.shape[1]
        mask = None  # 布尔 (B, 1, T_q 或 1, T_k)，True = 可以关注
        if key_padding_mask is not None:
            mask = key_padding_mask.logical_not().reshape(B, 1, 1, T_k)
        if causal:
            cm = causal_mask(T_q).reshape(1, 1, T_q, T_k)
            mask = cm if mask is None else mask & cm
        q = self._heads(self.q_proj(query))  # (B, h, T_q, d_h)
        k = self._heads(self.k_proj(key))  # (B, h, T_k, d_h)
        v = self._heads(self.v_proj(value))  # (B, h, T_k, d_h)
        out, weights = scaled_dot_product_attention(
            q, k, v, mask, dropout_p=self.dropout, return_weights=True
        )
        out = self.out_proj(out.transpose(1, 2).reshape(B, T_q, self.d_model))
        return (out, weights) if need_weights else out
