"""Transformer 编码器模型：对每个位置输出一个分类（用于序列反转、排序等逐位置任务）。"""
from __future__ import annotations

from tinygrad import Tensor

from tinymodels import _checks as C
from tinymodels.layers.basic import Dropout, Embedding, LayerNorm, Linear
from tinymodels.layers.transformer import EncoderBlock, PositionalEncoding

__all__ = ["TransformerEncoder"]


class TransformerEncoder:
  """词嵌入 + 正弦位置编码 + 若干 Pre-LN 编码器块 + LayerNorm + 逐位置线性输出头。

  编码器的自注意力是双向的：每个输出位置都能看到整条输入序列，所以能学会「把序列倒过来」这类任务。

  Args:
    vocab_size: 输入 token 的词表大小。
    num_classes: 每个位置的输出类别数。
    d_model: 模型维度。
    num_heads: 注意力头数（须整除 ``d_model``）。
    num_layers: 编码器块个数。
    d_ff: 前馈网络隐藏维度。
    max_len: 支持的最大序列长度。
    dropout: dropout 概率。

  Shapes:
    输入 ``tokens`` ``(B, T)`` 的整数张量（``T <= max_len``）-> 输出 ``(B, T, num_classes)`` 的 logits。
  """

  def __init__(self, vocab_size: int, num_classes: int, d_model: int = 32, num_heads: int = 4, num_layers: int = 2,
               d_ff: int = 64, max_len: int = 16, dropout: float = 0.0):
    w = "TransformerEncoder"
    self.vocab_size = C.check_positive_int(vocab_size, "vocab_size", w)
    self.num_classes = C.check_positive_int(num_classes, "num_classes", w)
    self.d_model = C.check_positive_int(d_model, "d_model", w)
    C.check_positive_int(num_heads, "num_heads", w)
    C.check_divisible(d_model, num_heads, "d_model", "num_heads", w)
    self.num_layers = C.check_positive_int(num_layers, "num_layers", w)
    C.check_positive_int(d_ff, "d_ff", w)
    self.max_len = C.check_positive_int(max_len, "max_len", w)
    p = C.check_probability(dropout, "dropout", w)
    self.embed = Embedding(vocab_size, d_model)
    self.pos = PositionalEncoding(d_model, max_len=max_len)
    self.drop = Dropout(p)
    self.blocks = [EncoderBlock(d_model, num_heads, d_ff, dropout=p) for _ in range(num_layers)]
    self.ln_f = LayerNorm(d_model)
    self.head = Linear(d_model, num_classes)

  def __call__(self, tokens: Tensor, key_padding_mask: Tensor | None = None,
               return_attention: bool = False) -> Tensor | tuple[Tensor, list[Tensor]]:
    """前向计算。

    Args:
      tokens: 形状 ``(B, T)`` 的整数张量（int32）。
      key_padding_mask: 可选布尔张量 ``(B, T)``，``True`` 表示填充位置。
      return_attention: 为 ``True`` 时同时返回每一层的注意力权重（用于画热力图）。

    Returns:
      Tensor | tuple: logits ``(B, T, num_classes)``；``return_attention=True`` 时为
      ``(logits, [每层权重 (B, num_heads, T, T)])``。
    """
    w = "TransformerEncoder"
    C.check_dtype_int(tokens, "tokens", w)
    C.check_shape(tokens, ("batch", "T"), "tokens", w)
    if tokens.shape[1] > self.max_len:
      raise ValueError(f"{w}: 输入 tokens 的形状应为 (batch, T<={self.max_len})，实际为 {C.format_shape(tokens.shape)}")
    C.check_bool(return_attention, "return_attention", w)
    x = self.drop(self.pos(self.embed(tokens)))
    weights = []
    for block in self.blocks:
      x, wts = block(x, key_padding_mask=key_padding_mask, need_weights=True)
      weights.append(wts)
    logits = self.head(self.ln_f(x))
    return (logits, weights) if return_attention else logits
