"""注意力：缩放点积注意力、掩码工具与多头注意力。

掩码约定（与 PyTorch 相同，注意两者相反）：

* ``attn_mask``（布尔）：``True`` 表示 **可以** 关注（``torch.nn.functional.scaled_dot_product_attention`` 的约定），
  ``causal_mask(T)`` 返回的就是这种掩码；浮点 ``attn_mask`` 直接加到注意力分数上。
* ``key_padding_mask``（布尔，形状 ``(B, Tk)``）：``True`` 表示该位置是 **填充**，要被忽略
  （``torch.nn.MultiheadAttention`` 的约定），``padding_mask(lengths)`` 返回的就是这种掩码。

被屏蔽的位置在 softmax 前填 ``-inf``；如果某一行所有键都被屏蔽，结果是 NaN（与 PyTorch 一致）。
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from tinygrad import Tensor, dtypes

from tinymodels import _checks as C
from tinymodels.layers.basic import Linear

__all__ = ["scaled_dot_product_attention", "causal_mask", "padding_mask", "MultiHeadAttention"]


def causal_mask(T: int) -> Tensor:
  """因果掩码：位置 ``i`` 只能关注 ``j <= i``。

  Args:
    T: 序列长度。

  Returns:
    Tensor: 形状 ``(T, T)`` 的布尔张量，下三角（含对角线）为 ``True``（可以关注）。
  """
  T = C.check_positive_int(T, "T", "causal_mask")
  return Tensor.arange(T).reshape(T, 1) >= Tensor.arange(T).reshape(1, T)


def padding_mask(lengths: Sequence[int] | np.ndarray | Tensor, max_len: int | None = None) -> Tensor:
  """由每条序列的有效长度构造填充掩码（``True`` = 填充，应被忽略）。

  Args:
    lengths: 长度为 ``B`` 的整数序列（列表、NumPy 数组或整数张量），第 ``b`` 条序列的前 ``lengths[b]`` 个位置有效。
      也可以直接传入形状 ``(B, T)`` 的布尔张量，此时原样返回。
    max_len: 序列总长 ``T``；默认取 ``max(lengths)``（传入张量时必须给出）。

  Returns:
    Tensor: 形状 ``(B, T)`` 的布尔张量，位置 ``t >= lengths[b]`` 为 ``True``。
  """
  if isinstance(lengths, Tensor):
    if lengths.dtype == dtypes.bool:
      C.check_ndim(lengths, 2, "lengths", "padding_mask")
      return lengths
    C.check_dtype_int(lengths, "lengths", "padding_mask")
    C.check_ndim(lengths, 1, "lengths", "padding_mask")
    if max_len is None: raise ValueError("padding_mask: lengths 为张量时必须给出参数 max_len，实际为 None")
    T = C.check_positive_int(max_len, "max_len", "padding_mask")
    return Tensor.arange(T).reshape(1, T) >= lengths.reshape(-1, 1)
  arr = np.asarray(lengths)
  if arr.ndim != 1 or arr.size == 0 or not np.issubdtype(arr.dtype, np.integer) or (arr < 0).any():
    raise ValueError(f"padding_mask: 参数 lengths 应为非空的一维非负整数序列，实际为 {lengths!r}")
  T = int(arr.max()) if max_len is None else C.check_positive_int(max_len, "max_len", "padding_mask")
  if arr.max() > T: raise ValueError(f"padding_mask: lengths 的最大值 {int(arr.max())} 超过了 max_len={T}")
  return Tensor(np.arange(T)[None, :] >= arr[:, None])


def _check_qkv(q: Tensor, k: Tensor, v: Tensor, where: str) -> None:
  for name, t in (("query", q), ("key", k), ("value", v)):
    C.check_dtype_float(t, name, where)
    if t.ndim < 2: raise ValueError(f"{where}: 输入 {name} 的形状应为 (..., T, d)，实际为 {C.format_shape(t.shape)}")
  if q.ndim != k.ndim or k.ndim != v.ndim or q.shape[:-2] != k.shape[:-2] or k.shape[:-2] != v.shape[:-2]:
    raise ValueError(f"{where}: query/key/value 的批维度应相同，实际形状为 query {C.format_shape(q.shape)}、"
                     f"key {C.format_shape(k.shape)}、value {C.format_shape(v.shape)}")
  if q.shape[-1] != k.shape[-1]:
    raise ValueError(f"{where}: 输入 key 的形状应为 {C.format_shape((*k.shape[:-1], q.shape[-1]))}（最后一维与 query 相同），"
                     f"实际为 {C.format_shape(k.shape)}")
  if k.shape[-2] != v.shape[-2]:
    raise ValueError(f"{where}: 输入 value 的形状应为 {C.format_shape((*v.shape[:-2], k.shape[-2], v.shape[-1]))}"
                     f"（长度与 key 相同），实际为 {C.format_shape(v.shape)}")


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
                                 is_causal: bool = False, dropout_p: float = 0.0,
                                 return_weights: bool = False) -> Tensor | tuple[Tensor, Tensor]:
  """缩放点积注意力 ``softmax(Q K^T / sqrt(d) + mask) V``，语义与 PyTorch 的同名函数一致。

  Args:
    query: 形状 ``(..., Tq, d)``。
    key: 形状 ``(..., Tk, d)``。
    value: 形状 ``(..., Tk, dv)``。
    attn_mask: 可选，能广播到 ``(..., Tq, Tk)``；布尔时 ``True`` 表示可以关注，浮点时直接加到分数上。
    is_causal: 是否使用因果掩码（要求 ``Tq == Tk``，不能与 ``attn_mask`` 同时给出）。
    dropout_p: 训练模式下对注意力权重做 dropout 的概率。
    return_weights: 为 ``True`` 时同时返回注意力权重。

  Returns:
    Tensor | tuple[Tensor, Tensor]: 输出 ``(..., Tq, dv)``；``return_weights=True`` 时返回 ``(输出, 权重 (..., Tq, Tk))``。
  """
  where = "scaled_dot_product_attention"
  _check_qkv(query, key, value, where)
  C.check_bool(is_causal, "is_causal", where)
  dropout_p = C.check_probability(dropout_p, "dropout_p", where)
  Tq, Tk = query.shape[-2], key.shape[-2]
  if is_causal:
    if attn_mask is not None: raise ValueError(f"{where}: is_causal=True 时不能再给出 attn_mask")
    if Tq != Tk: raise ValueError(f"{where}: is_causal=True 要求 query 与 key 长度相同，实际 Tq={Tq}、Tk={Tk}")
    attn_mask = causal_mask(Tq)
  if attn_mask is not None:
    C.check_tensor(attn_mask, "attn_mask", where)
    try:
      np.broadcast_shapes(tuple(attn_mask.shape), (*query.shape[:-1], Tk))
    except ValueError:
      raise ValueError(f"{where}: 输入 attn_mask 的形状应能广播到 {C.format_shape((*query.shape[:-1], Tk))}，"
                       f"实际为 {C.format_shape(attn_mask.shape)}") from None
  return _attention(query, key, value, attn_mask, dropout_p, return_weights)


def _attention(q: Tensor, k: Tensor, v: Tensor, attn_mask: Tensor | None, dropout_p: float,
               return_weights: bool) -> Tensor | tuple[Tensor, Tensor]:
  scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.shape[-1]))
  if attn_mask is not None:
    scores = attn_mask.where(scores, -math.inf) if attn_mask.dtype == dtypes.bool else scores + attn_mask
  weights = scores.softmax(-1)
  out = (weights.dropout(dropout_p) if dropout_p > 0 else weights) @ v
  return (out, weights) if return_weights else out


class MultiHeadAttention:
  """多头注意力，参数布局可以直接从 ``torch.nn.MultiheadAttention(d, h, batch_first=True)`` 拷贝。

  PyTorch 的 ``in_proj_weight`` ``(3d, d)`` 按行切成三份分别对应 ``q_proj.weight``、``k_proj.weight``、
  ``v_proj.weight``（``in_proj_bias`` 同理），``out_proj`` 直接对应。

  Args:
    d_model: 模型维度 ``d``，必须能被 ``num_heads`` 整除。
    num_heads: 头数 ``h``。
    dropout: 训练时对注意力权重做 dropout 的概率。
    bias: 投影层是否带偏置。

  Shapes:
    ``query`` ``(B, Tq, d)``，``key``/``value`` ``(B, Tk, d)`` -> 输出 ``(B, Tq, d)``，
    权重 ``(B, h, Tq, Tk)``（每个头单独给出，不做平均）。
  """

  def __init__(self, d_model: int, num_heads: int, dropout: float = 0.0, bias: bool = True):
    w = "MultiHeadAttention"
    self.d_model = C.check_positive_int(d_model, "d_model", w)
    self.num_heads = C.check_positive_int(num_heads, "num_heads", w)
    C.check_divisible(d_model, num_heads, "d_model", "num_heads", w)
    self.dropout = C.check_probability(dropout, "dropout", w)
    C.check_bool(bias, "bias", w)
    self.head_dim = d_model // num_heads
    self.q_proj = Linear(d_model, d_model, bias=bias)
    self.k_proj = Linear(d_model, d_model, bias=bias)
    self.v_proj = Linear(d_model, d_model, bias=bias)
    self.out_proj = Linear(d_model, d_model, bias=bias)

  def _split(self, x: Tensor) -> Tensor:
    B, T, _ = x.shape
    return x.reshape(B, T, self.num_heads, self.head_dim).transpose(1, 2)

  def __call__(self, query: Tensor, key: Tensor | None = None, value: Tensor | None = None,
               key_padding_mask: Tensor | None = None, causal: bool = False,
               need_weights: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """计算多头注意力。

    Args:
      query: 形状 ``(B, Tq, d)``。
      key: 形状 ``(B, Tk, d)``；为 ``None`` 时等于 ``query``（自注意力）。
      value: 形状 ``(B, Tk, d)``；为 ``None`` 时等于 ``key``。
      key_padding_mask: 可选布尔张量 ``(B, Tk)``，``True`` 表示该键是填充、不参与注意力。
      causal: 是否使用因果掩码（要求 ``Tq == Tk``）。
      need_weights: 为 ``True`` 时同时返回每个头的注意力权重。

    Returns:
      Tensor | tuple[Tensor, Tensor]: 输出 ``(B, Tq, d)``；``need_weights=True`` 时为 ``(输出, 权重 (B, h, Tq, Tk))``。
    """
    w = "MultiHeadAttention"
    key = query if key is None else key
    value = key if value is None else value
    d = self.d_model
    for name, t in (("query", query), ("key", key), ("value", value)):
      C.check_dtype_float(t, name, w)
    C.check_shape(query, ("batch", "Tq", d), "query", w)
    B, Tq, _ = query.shape
    C.check_shape(key, (B, "Tk", d), "key", w)
    Tk = key.shape[1]
    C.check_shape(value, (B, Tk, d), "value", w)
    C.check_bool(causal, "causal", w)
    C.check_bool(need_weights, "need_weights", w)
    mask: Tensor | None = None
    if key_padding_mask is not None:
      C.check_tensor(key_padding_mask, "key_padding_mask", w)
      if key_padding_mask.dtype != dtypes.bool:
        raise ValueError(f"{w}: 输入 key_padding_mask 的数据类型应为 bool（True 表示填充），实际为 {key_padding_mask.dtype}")
      C.check_shape(key_padding_mask, (B, Tk), "key_padding_mask", w)
      mask = key_padding_mask.logical_not().reshape(B, 1, 1, Tk)
    if causal:
      if Tq != Tk: raise ValueError(f"{w}: causal=True 要求 query 与 key 长度相同，实际 Tq={Tq}、Tk={Tk}")
      cm = causal_mask(Tq).reshape(1, 1, Tq, Tk)
      mask = cm if mask is None else mask & cm
    q, k, v = self._split(self.q_proj(query)), self._split(self.k_proj(key)), self._split(self.v_proj(value))
    out, weights = _attention(q, k, v, mask, self.dropout, True)
    out = self.out_proj(out.transpose(1, 2).reshape(B, Tq, d))
    return (out, weights) if need_weights else out
