"""Transformer 组件：正弦位置编码、前馈网络、编码器块与解码器块。

本库的块统一采用 **Pre-LN**（先归一化再进子层，残差直接相加）::

    x = x + Dropout(SelfAttention(LayerNorm(x)))
    x = x + Dropout(FeedForward(LayerNorm(x)))

原始论文是 Post-LN（``x = LayerNorm(x + Sublayer(x))``）。Pre-LN 不需要学习率预热也能稳定训练，
小模型、少步数时更省心（GPT-2 之后的模型大多如此）。因为最后一层的输出没有经过归一化，
用这些块搭模型时要在输出头之前再加一个 ``LayerNorm``（``TransformerEncoder`` 与 ``TinyGPT`` 都这样做）。
"""
from __future__ import annotations

import numpy as np
from tinygrad import Tensor

from tinymodels import _checks as C
from tinymodels.layers.attention import MultiHeadAttention
from tinymodels.layers.basic import Dropout, LayerNorm, Linear, get_activation

__all__ = ["sinusoidal_positional_encoding", "PositionalEncoding", "FeedForward", "EncoderBlock", "DecoderBlock"]


def _pe_numpy(seq_len: int, d_model: int) -> np.ndarray:
  pos = np.arange(seq_len, dtype=np.float64)[:, None]
  two_i = np.arange(0, d_model, 2, dtype=np.float64)[None, :]
  angle = pos / np.power(10000.0, two_i / d_model)
  pe = np.zeros((seq_len, d_model), dtype=np.float64)
  pe[:, 0::2] = np.sin(angle)
  pe[:, 1::2] = np.cos(angle[:, : d_model // 2])
  return pe.astype(np.float32)


def sinusoidal_positional_encoding(seq_len: int, d_model: int) -> Tensor:
  """正弦位置编码表（Vaswani et al., 2017）。

  ``PE[pos, 2i] = sin(pos / 10000^(2i/d))``，``PE[pos, 2i+1] = cos(pos / 10000^(2i/d))``。
  用 NumPy 以 float64 计算后转成 float32，不需要编译任何内核。

  Args:
    seq_len: 序列长度 ``T``。
    d_model: 模型维度 ``d``（奇数时最后一列只有 sin）。

  Returns:
    Tensor: 形状 ``(T, d)`` 的 float32 张量。
  """
  seq_len = C.check_positive_int(seq_len, "seq_len", "sinusoidal_positional_encoding")
  d_model = C.check_positive_int(d_model, "d_model", "sinusoidal_positional_encoding")
  return Tensor(_pe_numpy(seq_len, d_model))


class PositionalEncoding:
  """把正弦位置编码加到输入上（编码表是固定的缓冲区，不参与训练）。

  Args:
    d_model: 模型维度 ``d``。
    max_len: 支持的最大序列长度。
    dropout: 相加之后的 dropout 概率。

  Shapes:
    输入 ``(B, T, d)``（``T <= max_len``）-> 输出 ``(B, T, d)``。
  """

  def __init__(self, d_model: int, max_len: int = 512, dropout: float = 0.0):
    self.d_model = C.check_positive_int(d_model, "d_model", "PositionalEncoding")
    self.max_len = C.check_positive_int(max_len, "max_len", "PositionalEncoding")
    self.dropout = Dropout(C.check_probability(dropout, "dropout", "PositionalEncoding"))
    self.pe = Tensor(_pe_numpy(max_len, d_model)).is_param_(False)  # 缓冲区：优化器不会更新它

  def __call__(self, x: Tensor) -> Tensor:
    """加上位置编码。

    Args:
      x: 形状 ``(B, T, d)`` 的浮点张量。

    Returns:
      Tensor: ``x + PE[:T]``，形状 ``(B, T, d)``。
    """
    C.check_dtype_float(x, "x", "PositionalEncoding")
    C.check_shape(x, ("batch", "T", self.d_model), "x", "PositionalEncoding")
    if x.shape[1] > self.max_len:
      raise ValueError(f"PositionalEncoding: 输入 x 的长度应不超过 max_len={self.max_len}，实际形状为 {C.format_shape(x.shape)}")
    return self.dropout(x + self.pe[: x.shape[1]])


class FeedForward:
  """逐位置前馈网络 ``Linear(d, d_ff) -> 激活 -> Dropout -> Linear(d_ff, d)``。

  Args:
    d_model: 输入输出维度 ``d``。
    d_ff: 隐藏层维度。
    dropout: 隐藏层之后的 dropout 概率。
    activation: 激活函数名，默认 ``"relu"``（与原论文相同；在 tinygrad 的 CPU 后端上也比 GELU 编译、运行都快）。

  Shapes:
    输入 ``(..., d)`` -> 输出 ``(..., d)``。
  """

  def __init__(self, d_model: int, d_ff: int, dropout: float = 0.0, activation: str = "relu"):
    self.d_model = C.check_positive_int(d_model, "d_model", "FeedForward")
    self.d_ff = C.check_positive_int(d_ff, "d_ff", "FeedForward")
    self.act = get_activation(activation, "FeedForward")
    self.activation = activation
    self.fc1 = Linear(d_model, d_ff)
    self.fc2 = Linear(d_ff, d_model)
    self.drop = Dropout(C.check_probability(dropout, "dropout", "FeedForward"))

  def __call__(self, x: Tensor) -> Tensor:
    """前向计算。

    Args:
      x: 形状 ``(..., d)``。

    Returns:
      Tensor: 形状 ``(..., d)``。
    """
    C.check_dtype_float(x, "x", "FeedForward")
    if x.ndim < 1 or x.shape[-1] != self.d_model:
      raise ValueError(f"FeedForward: 输入 x 的形状应为 (..., {self.d_model})，实际为 {C.format_shape(x.shape)}")
    return self.fc2(self.drop(self.act(self.fc1(x))))


class EncoderBlock:
  """Transformer 编码器块（Pre-LN）：双向自注意力 + 前馈网络，各带残差连接。

  Args:
    d_model: 模型维度 ``d``。
    num_heads: 注意力头数（须整除 ``d``）。
    d_ff: 前馈网络隐藏维度。
    dropout: 注意力权重与残差分支上的 dropout 概率。

  Shapes:
    输入 ``(B, T, d)`` -> 输出 ``(B, T, d)``；``need_weights=True`` 时另返回 ``(B, h, T, T)`` 的注意力权重。
  """

  def __init__(self, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.0):
    w = "EncoderBlock"
    self.d_model = C.check_positive_int(d_model, "d_model", w)
    C.check_positive_int(num_heads, "num_heads", w)
    C.check_positive_int(d_ff, "d_ff", w)
    C.check_divisible(d_model, num_heads, "d_model", "num_heads", w)
    p = C.check_probability(dropout, "dropout", w)
    self.ln1 = LayerNorm(d_model)
    self.attn = MultiHeadAttention(d_model, num_heads, dropout=p)
    self.ln2 = LayerNorm(d_model)
    self.ff = FeedForward(d_model, d_ff, dropout=p)
    self.drop = Dropout(p)

  def __call__(self, x: Tensor, key_padding_mask: Tensor | None = None, causal: bool = False,
               need_weights: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """前向计算。

    Args:
      x: 形状 ``(B, T, d)``。
      key_padding_mask: 可选布尔张量 ``(B, T)``，``True`` 表示填充。
      causal: 是否只允许关注左侧（编码器通常为 ``False``）。
      need_weights: 为 ``True`` 时同时返回注意力权重。

    Returns:
      Tensor | tuple[Tensor, Tensor]: 输出 ``(B, T, d)``；或 ``(输出, 权重 (B, h, T, T))``。
    """
    C.check_dtype_float(x, "x", "EncoderBlock")
    C.check_shape(x, ("batch", "T", self.d_model), "x", "EncoderBlock")
    a, weights = self.attn(self.ln1(x), key_padding_mask=key_padding_mask, causal=causal, need_weights=True)
    x = x + self.drop(a)
    x = x + self.drop(self.ff(self.ln2(x)))
    return (x, weights) if need_weights else x


class DecoderBlock:
  """Transformer 解码器块（Pre-LN）：因果自注意力，可选对编码器输出 ``memory`` 的交叉注意力，再接前馈网络。

  不带交叉注意力时就是 GPT 使用的块。

  Args:
    d_model: 模型维度 ``d``。
    num_heads: 注意力头数（须整除 ``d``）。
    d_ff: 前馈网络隐藏维度。
    dropout: dropout 概率。
    cross_attention: 是否包含交叉注意力子层。

  Shapes:
    输入 ``x`` ``(B, T, d)``，``memory`` ``(B, S, d)`` -> 输出 ``(B, T, d)``。
  """

  def __init__(self, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.0, cross_attention: bool = False):
    w = "DecoderBlock"
    self.d_model = C.check_positive_int(d_model, "d_model", w)
    C.check_positive_int(num_heads, "num_heads", w)
    C.check_positive_int(d_ff, "d_ff", w)
    C.check_divisible(d_model, num_heads, "d_model", "num_heads", w)
    p = C.check_probability(dropout, "dropout", w)
    self.cross_attention = C.check_bool(cross_attention, "cross_attention", w)
    self.ln1 = LayerNorm(d_model)
    self.self_attn = MultiHeadAttention(d_model, num_heads, dropout=p)
    if cross_attention:
      self.ln_cross = LayerNorm(d_model)
      self.cross_attn = MultiHeadAttention(d_model, num_heads, dropout=p)
    self.ln2 = LayerNorm(d_model)
    self.ff = FeedForward(d_model, d_ff, dropout=p)
    self.drop = Dropout(p)

  def __call__(self, x: Tensor, memory: Tensor | None = None, memory_key_padding_mask: Tensor | None = None,
               key_padding_mask: Tensor | None = None,
               need_weights: bool = False) -> Tensor | tuple[Tensor, tuple[Tensor, Tensor | None]]:
    """前向计算。

    Args:
      x: 形状 ``(B, T, d)`` 的目标序列表示。
      memory: 形状 ``(B, S, d)`` 的编码器输出；``cross_attention=True`` 时必须给出，否则必须为 ``None``。
      memory_key_padding_mask: 可选布尔张量 ``(B, S)``，``True`` 表示 memory 中的填充位置。
      key_padding_mask: 可选布尔张量 ``(B, T)``，``True`` 表示 x 中的填充位置。
      need_weights: 为 ``True`` 时同时返回注意力权重。

    Returns:
      Tensor | tuple: 输出 ``(B, T, d)``；``need_weights=True`` 时为
      ``(输出, (自注意力权重 (B, h, T, T), 交叉注意力权重 (B, h, T, S) 或 None))``。
    """
    w = "DecoderBlock"
    C.check_dtype_float(x, "x", w)
    C.check_shape(x, ("batch", "T", self.d_model), "x", w)
    if self.cross_attention and memory is None:
      raise ValueError(f"{w}: cross_attention=True 时必须给出 memory（形状 (batch, S, {self.d_model})），实际为 None")
    if not self.cross_attention and memory is not None:
      raise ValueError(f"{w}: 本块没有交叉注意力（cross_attention=False），不应传入 memory，实际形状为 "
                       f"{C.format_shape(memory.shape) if isinstance(memory, Tensor) else type(memory).__name__}")
    a, self_w = self.self_attn(self.ln1(x), key_padding_mask=key_padding_mask, causal=True, need_weights=True)
    x = x + self.drop(a)
    cross_w = None
    if self.cross_attention:
      C.check_dtype_float(memory, "memory", w)
      C.check_shape(memory, (x.shape[0], "S", self.d_model), "memory", w)
      a, cross_w = self.cross_attn(self.ln_cross(x), memory, memory, key_padding_mask=memory_key_padding_mask, need_weights=True)
      x = x + self.drop(a)
    x = x + self.drop(self.ff(self.ln2(x)))
    return (x, (self_w, cross_w)) if need_weights else x
