"""Transformer 的组件：正弦位置编码、前馈网络、编码器块与解码器块。

块都用 **Pre-LN**（先归一化再进子层，残差直接相加）::

    x = x + Dropout(Attention(LN_1(x)))
    x = x + Dropout(FFN(LN_2(x)))

原论文是 Post-LN（``x = LN(x + Sublayer(x))``）。Pre-LN 不用学习率预热
也训得稳，GPT-2 之后的模型大多如此。最后一层的输出没有归一化，所以模型
在输出头之前还要再加一个 LayerNorm。
"""

from __future__ import annotations

import numpy as np
from tinygrad import Tensor

from tinymodels.layers.attention import MultiHeadAttention
from tinymodels.layers.basic import Dropout, LayerNorm, Linear, get_activation

__all__ = [
    "sinusoidal_positional_encoding",
    "PositionalEncoding",
    "FeedForward",
    "EncoderBlock",
    "DecoderBlock",
]


def sinusoidal_positional_encoding(seq_len: int, d_model: int) -> Tensor:
    """正弦位置编码表 ``(T, d)``（Vaswani et al., 2017）。

    ``PE[pos, 2i] = sin(pos / 10000^(2i/d))``，
    ``PE[pos, 2i+1] = cos(pos / 10000^(2i/d))``；用 NumPy 的 float64 算，
    不编译内核。
    """
    pos = np.arange(seq_len)[:, None]  # (T, 1)
    two_i = np.arange(0, d_model, 2)[None, :]  # (1, ceil(d/2))
    angle = pos / 10000.0 ** (two_i / d_model)  # (T, ceil(d/2))
    pe = np.zeros((seq_len, d_model))
    pe[:, 0::2] = np.sin(angle)
    pe[:, 1::2] = np.cos(
        angle[:, : d_model // 2]
    )  # d 为奇数时最后一列只有 sin
    return Tensor(pe.astype(np.float32))


class PositionalEncoding:
    """``x + PE[:T]``，再 dropout；编码表是固定缓冲区，不参与训练。"""

    def __init__(
        self, d_model: int, max_len: int = 512, dropout: float = 0.0
    ):
        self.d_model, self.max_len = d_model, max_len
        # is_param=False：缓冲区，优化器不更新它，count_parameters 也不计
        self.pe = sinusoidal_positional_encoding(max_len, d_model).is_param_(
            False
        )
        self.dropout = Dropout(dropout)

    def __call__(self, x: Tensor) -> Tensor:
        return self.dropout(x + self.pe[: x.shape[1]])  # (B, T, d)


class FeedForward:
    """逐位置前馈网络 ``W_2 act(W_1 x + b_1) + b_2``，隐藏层宽 ``d_ff``。

    默认激活 ReLU，与原论文相同；在 tinygrad 的 CPU 后端上它编译、运行都比
    GELU（tanh 近似）快得多。
    """

    def __init__(
        self,
        d_model: int,
        d_ff: int,
        dropout: float = 0.0,
        activation: str = "relu",
    ):
        self.act, self.activation = get_activation(activation), activation
        self.fc1 = Linear(d_model, d_ff)
        self.fc2 = Linear(d_ff, d_model)
        self.drop = Dropout(dropout)

    def __call__(self, x: Tensor) -> Tensor:
        return self.fc2(self.drop(self.act(self.fc1(x))))


class EncoderBlock:
    """编码器块（Pre-LN）：双向自注意力 + 前馈网络，各带残差。

    输入输出 ``(B, T, d)``；``need_weights=True`` 时另返回 ``(B, h, T, T)``。
    """

    def __init__(
        self, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.0
    ):
        self.d_model = d_model
        self.ln1 = LayerNorm(d_model)
        self.attn = MultiHeadAttention(d_model, num_heads, dropout=dropout)
        self.ln2 = LayerNorm(d_model)
        self.ff = FeedForward(d_model, d_ff, dropout=dropout)
        self.drop = Dropout(dropout)

    def __call__(
        self,
        x: Tensor,
        key_padding_mask: Tensor | None = None,
        causal: bool = False,
        need_weights: bool = False,
    ) -> Tensor | tuple[Tensor, Tensor]:
        a, weights = self.attn(
            self.ln1(x),
            key_padding_mask=key_padding_mask,
            causal=causal,
            need_weights=True,
        )
        x = x + self.drop(a)
        x = x + self.drop(self.ff(self.ln2(x)))
        return (x, weights) if need_weights else x


class DecoderBlock:
    """解码器块（Pre-LN）：因果自注意力、可选的交叉注意力、前馈网络。

    交叉注意力的键和值来自编码器输出 ``memory``。
    不带交叉注意力时就是 GPT 的块。

    ``x`` ``(B, T, d)``、``memory`` ``(B, S, d)`` -> ``(B, T, d)``；
    ``need_weights=True`` 时另返回 ``(自注意力权重, 交叉注意力权重或 None)``。
    """

    def __init__(
        self,
        d_model: int,
        num_heads: int,
        d_ff: int,
        dropout: float = 0.0,
        cross_attention: bool = False,
    ):
        self.d_model, self.cross_attention = d_model, cross_attention
        self.ln1 = LayerNorm(d_model)
        self.self_attn = MultiHeadAttention(
            d_model, num_heads, dropout=dropout
        )
        if cross_attention:
            self.ln_cross = LayerNorm(d_model)
            self.cross_attn = MultiHeadAttention(
                d_model, num_heads, dropout=dropout
            )
        self.ln2 = LayerNorm(d_model)
        self.ff = FeedForward(d_model, d_ff, dropout=dropout)
        self.drop = Dropout(dropout)

    def __call__(
        self,
        x: Tensor,
        memory: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        key_padding_mask: Tensor | None = None,
        need_weights: bool = False,
    ):
        if self.cross_attention != (memory is not None):
            raise ValueError(
                f"DecoderBlock: cross_attention={self.cross_attention}，"
                f"memory {'不应' if memory is not None else '必须'}给出"
            )
        h = self.ln1(x)
        a, self_w = self.self_attn(
            h,
            key_padding_mask=key_padding_mask,
            causal=True,
            need_weights=True,
        )
        x = x + self.drop(a)
        cross_w = None
        if memory is not None:
            h = self.ln_cross(x)
            a, cross_w = self.cross_attn(
                h,
                memory,
                memory,
                key_padding_mask=memory_key_padding_mask,
                need_weights=True,
            )
            x = x + self.drop(a)
        x = x + self.drop(self.ff(self.ln2(x)))
        return (x, (self_w, cross_w)) if need_weights else x
