"""TinyGPT：字符级（或任意小词表）的自回归语言模型。"""
from __future__ import annotations

import weakref

import numpy as np
from tinygrad import Context, Tensor, TinyJit
from tinygrad.nn.state import get_parameters

from tinymodels import _checks as C
from tinymodels.layers import init
from tinymodels.layers.basic import Dropout, LayerNorm, Linear
from tinymodels.layers.transformer import DecoderBlock
from tinymodels.utils import BatchBuffer

__all__ = ["TinyGPT"]

# generate() 用的 TinyJit 缓存：{模型: {批大小: (参数 UOp 元组, jit)}}。参数张量被整体替换
# （例如 load_state_dict 用 replace 换了缓冲区）时 UOp 会变，缓存随之失效；原地 assign 更新不影响。
_GEN_JITS: "weakref.WeakKeyDictionary[TinyGPT, dict]" = weakref.WeakKeyDictionary()


class TinyGPT:
  """GPT 结构的小语言模型：词嵌入 + 可学习位置嵌入 + 若干 Pre-LN 因果解码器块 + LayerNorm + 线性输出头。

  位置 ``t`` 的输出只依赖位置 ``0..t`` 的输入（因果掩码），训练目标是预测下一个 token。
  词嵌入与位置嵌入按 GPT-2 的做法用 ``N(0, 0.02^2)`` 初始化。

  Args:
    vocab_size: 词表大小 ``V``。
    block_size: 最大上下文长度。
    d_model: 模型维度。
    num_heads: 注意力头数（须整除 ``d_model``）。
    num_layers: 解码器块个数。
    d_ff: 前馈网络隐藏维度，默认 ``4 * d_model``。
    dropout: dropout 概率。

  Shapes:
    输入 ``idx`` ``(B, T)`` 的整数张量（``T <= block_size``）-> 输出 ``(B, T, V)`` 的 logits。
  """

  def __init__(self, vocab_size: int, block_size: int = 32, d_model: int = 64, num_heads: int = 4, num_layers: int = 2,
               d_ff: int | None = None, dropout: float = 0.0):
    w = "TinyGPT"
    self.vocab_size = C.check_positive_int(vocab_size, "vocab_size", w)
    self.block_size = C.check_positive_int(block_size, "block_size", w)
    self.d_model = C.check_positive_int(d_model, "d_model", w)
    self.num_heads = C.check_positive_int(num_heads, "num_heads", w)
    C.check_divisible(d_model, num_heads, "d_model", "num_heads", w)
    self.num_layers = C.check_positive_int(num_layers, "num_layers", w)
    self.d_ff = 4 * d_model if d_ff is None else C.check_positive_int(d_ff, "d_ff", w)
    p = C.check_probability(dropout, "dropout", w)
    self.tok_emb = init.normal((vocab_size, d_model), 0.02)
    self.pos_emb = init.normal((block_size, d_model), 0.02)
    self.drop = Dropout(p)
    self.blocks = [DecoderBlock(d_model, num_heads, self.d_ff, dropout=p) for _ in range(num_layers)]
    self.ln_f = LayerNorm(d_model)
    self.head = Linear(d_model, vocab_size, bias=False)

  def __call__(self, idx: Tensor) -> Tensor:
    """前向计算。

    Args:
      idx: 形状 ``(B, T)`` 的整数张量，``T <= block_size``。

    Returns:
      Tensor: 形状 ``(B, T, vocab_size)`` 的 logits；位置 ``t`` 的 logits 用来预测第 ``t+1`` 个 token。
    """
    w = "TinyGPT"
    C.check_dtype_int(idx, "idx", w)
    C.check_shape(idx, ("batch", "T"), "idx", w)
    T = idx.shape[1]
    if not 1 <= T <= self.block_size:
      raise ValueError(f"{w}: 输入 idx 的形状应为 (batch, T)，其中 1 <= T <= block_size={self.block_size}，"
                       f"实际为 {C.format_shape(idx.shape)}")
    x = self.tok_emb[idx] + self.pos_emb[:T]
    x = self.drop(x)
    for block in self.blocks: x = block(x)
    return self.head(self.ln_f(x))

  def generate(self, idx: Tensor, max_new_tokens: int, temperature: float = 1.0, top_k: int | None = None,
               seed: int | None = None) -> Tensor:
    """自回归采样：每次取最后一个位置的分布采样一个 token，接到序列末尾。

    为了只编译一次，模型总是在固定形状 ``(B, block_size)`` 的窗口上运行：上下文（超过 ``block_size``
    时只保留最后 ``block_size`` 个 token）放在窗口开头，后面补 0；因为是因果注意力，补的 0 不影响
    上下文最后一个位置的输出。采样本身在 NumPy 中完成。采样时总是处于评估模式（dropout 关闭）。

    Args:
      idx: 形状 ``(B, T)`` 的整数张量，作为开头的上下文（``T >= 1``，可以超过 ``block_size``）。
      max_new_tokens: 要生成的 token 个数（非负整数）。
      temperature: 温度，必须大于 0；越小越保守。
      top_k: 若给出，只在概率最高的 ``top_k`` 个 token 中采样（``1 <= top_k <= vocab_size``）。
      seed: 随机种子；给出时结果可复现，否则使用与 ``Tensor.manual_seed`` 同步的随机流。

    Returns:
      Tensor: 形状 ``(B, T + max_new_tokens)`` 的 int32 张量（前 ``T`` 列就是输入）。
    """
    w = "TinyGPT.generate"
    C.check_dtype_int(idx, "idx", w)
    C.check_shape(idx, ("batch", "T"), "idx", w)
    if idx.shape[1] < 1: raise ValueError(f"{w}: 输入 idx 至少要有 1 个 token，实际形状为 {C.format_shape(idx.shape)}")
    max_new_tokens = C.check_nonnegative_int(max_new_tokens, "max_new_tokens", w)
    temperature = C.check_positive_float(temperature, "temperature", w)
    if top_k is not None: top_k = C.check_int_range(top_k, 1, self.vocab_size, "top_k", w)
    if seed is not None: C.check_nonnegative_int(seed, "seed", w)
    rng = np.random.default_rng(seed) if seed is not None else init.rng()
    tokens = idx.numpy().astype(np.int32)
    B, S = tokens.shape[0], self.block_size
    with Context(TRAINING=0):
      for _ in range(max_new_tokens):
        ctx = tokens[:, -S:]
        L = ctx.shape[1]
        window = np.zeros((B, S), dtype=np.int32)
        window[:, :L] = ctx
        logits = self._window_logits(window)[:, L - 1, :].astype(np.float64) / temperature
        if top_k is not None and top_k < self.vocab_size:
          kth = np.sort(logits, axis=-1)[:, -top_k][:, None]
          logits = np.where(logits < kth, -np.inf, logits)
        probs = np.exp(logits - logits.max(-1, keepdims=True))
        probs /= probs.sum(-1, keepdims=True)
        cdf = probs.cumsum(-1)
        u = rng.random((B, 1)) * cdf[:, -1:]
        nxt = np.minimum((cdf <= u).sum(-1), self.vocab_size - 1).astype(np.int32)
        tokens = np.concatenate([tokens, nxt[:, None]], axis=1)
    return Tensor(tokens)

  def _window_logits(self, window: np.ndarray) -> np.ndarray:
    """在固定形状 (B, block_size) 的窗口上前向计算，用 TinyJit 重放，避免每个 token 都重新构图和调度。"""
    params = tuple(t.uop for t in get_parameters(self))
    cache = _GEN_JITS.setdefault(self, {})
    entry = cache.get(window.shape[0])
    if entry is None or len(entry[0]) != len(params) or any(a is not b for a, b in zip(entry[0], params)):
      ref = weakref.ref(self)  # 缓存里不能强引用模型本身，否则模型永远不会被回收
      entry = cache[window.shape[0]] = (params, TinyJit(lambda x: ref()(x).realize()), BatchBuffer(window.shape, "int32"))
    return entry[1](entry[2].write(window)).numpy()
