"""Transformer 编码器：给每个位置输出一个分类（序列反转、排序等逐位置任务）。

x = E[tokens] + PE[:T]                 词嵌入 + 正弦位置编码
x = EncoderBlock(x)  × num_layers      双向自注意力：每个位置看得到整条序列
logits = LN_f(x) W_head^T + b
"""

from __future__ import annotations

from tinygrad import Tensor

from tinymodels._contract import expect, require
from tinymodels.layers.basic import Dropout, Embedding, LayerNorm, Linear
from tinymodels.layers.transformer import EncoderBlock, PositionalEncoding

__all__ = ["TransformerEncoder"]


class TransformerEncoder:
    """``tokens (B, T)`` -> ``logits (B, T, num_classes)``，Pre-LN 编码器。

    Args:
        vocab_size: 输入词表大小。
        num_classes: 每个位置的类别数。
        d_model: 模型宽度 ``d``。
        num_heads: 注意力头数（须整除 ``d_model``）。
        num_layers: 编码器块数。
        d_ff: 前馈隐藏层宽度。
        max_len: 最长序列。
        dropout: dropout 概率。
    """

    def __init__(
        self,
        vocab_size: int,
        num_classes: int,
        d_model: int = 32,
        num_heads: int = 4,
        num_layers: int = 2,
        d_ff: int = 64,
        max_len: int = 16,
        dropout: float = 0.0,
    ):
        require(
            d_model % num_heads == 0,
            f"TransformerEncoder: d_model={d_model} 应能被 "
            f"num_heads={num_heads} 整除",
        )
        self.vocab_size, self.num_classes = vocab_size, num_classes
        self.d_model, self.num_layers, self.max_len = (
            d_model,
            num_layers,
            max_len,
        )
        self.embed = Embedding(vocab_size, d_model)
        self.pos = PositionalEncoding(d_model, max_len=max_len)
        self.drop = Dropout(dropout)
        self.blocks = [
            EncoderBlock(d_model, num_heads, d_ff, dropout)
            for _ in range(num_layers)
        ]
        self.ln_f = LayerNorm(d_model)
        self.head = Linear(d_model, num_classes)

    def __call__(
        self,
        tokens: Tensor,
        key_padding_mask: Tensor | None = None,
        return_attention: bool = False,
    ) -> Tensor | tuple[Tensor, list[Tensor]]:
        """``key_padding_mask`` ``(B, T)`` 中 ``True`` = 填充。

        ``return_attention=True`` 时另返回每层的注意力权重 ``(B, h, T, T)``。
        """
        B, T = expect(
            tokens, "B T", "tokens", "TransformerEncoder", dtype="int"
        )
        require(
            T <= self.max_len,
            f"TransformerEncoder: tokens 的长度 T 应不超过 "
            f"max_len={self.max_len}，"
            f"实际形状为 ({B}, {T})",
        )
        if key_padding_mask is not None:
            mask, where = key_padding_mask, "TransformerEncoder"
            expect(mask, "B T", "key_padding_mask", where, "bool", B=B, T=T)
        x = self.drop(self.pos(self.embed(tokens)))  # (B, T, d)
        weights = []
        for block in self.blocks:
            x, w = block(
                x, key_padding_mask=key_padding_mask, need_weights=True
            )
            weights.append(w)  # (B, h, T, T)
        logits = self.head(self.ln_f(x))  # (B, T, num_classes)
        return (logits, weights) if return_attention else logits
