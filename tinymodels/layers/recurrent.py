"""循环层：RNNCell、RNN、LSTM、GRU（单层、单向、batch_first）。

参数名与形状和 PyTorch 的 ``torch.nn.RNN`` / ``torch.nn.LSTM`` / ``torch.nn.GRU`` 第 0 层一致
（PyTorch 里叫 ``weight_ih_l0``，这里叫 ``weight_ih``），门的排列顺序也相同：

* RNN：``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)``
* LSTM：门按 ``i, f, g, o`` 排列，``c' = f*c + i*g``，``h' = o*tanh(c')``
* GRU：门按 ``r, z, n`` 排列，``n = tanh(x W_in^T + b_in + r*(h W_hn^T + b_hn))``，``h' = (1-z)*n + z*h``

实现要点（tinygrad 在 CPU 上编译很慢）：

1. 所有时间步的输入投影 ``x W_ih^T`` 先用一次矩阵乘法算好，循环里只剩 ``h W_hh^T``；
2. 每一步都把状态 ``.contiguous()`` 物化，否则展开后的计算图会重复计算前面所有时间步，
   编译和运行都会慢几倍。
"""
from __future__ import annotations

import math

from tinygrad import Tensor

from tinymodels import _checks as C
from tinymodels.layers import init

__all__ = ["RNNCell", "RNN", "LSTM", "GRU"]


def _init_weights(obj, input_size: int, hidden_size: int, gates: int) -> None:
  # PyTorch 的默认初始化：所有参数 ~ U(-1/sqrt(H), 1/sqrt(H))
  k = 1.0 / math.sqrt(hidden_size)
  obj.weight_ih = init.uniform((gates * hidden_size, input_size), k)
  obj.weight_hh = init.uniform((gates * hidden_size, hidden_size), k)
  obj.bias_ih = init.uniform((gates * hidden_size,), k)
  obj.bias_hh = init.uniform((gates * hidden_size,), k)


class _Recurrent:
  _name = "RNN"
  _gates = 1

  def __init__(self, input_size: int, hidden_size: int):
    self.input_size = C.check_positive_int(input_size, "input_size", self._name)
    self.hidden_size = C.check_positive_int(hidden_size, "hidden_size", self._name)
    _init_weights(self, input_size, hidden_size, self._gates)

  def _check_seq(self, x: Tensor) -> None:
    C.check_dtype_float(x, "x", self._name)
    C.check_shape(x, ("batch", "T", self.input_size), "x", self._name)
    if x.shape[1] < 1: raise ValueError(f"{self._name}: 输入 x 的序列长度应至少为 1，实际形状为 {C.format_shape(x.shape)}")

  def _check_state(self, h: Tensor, batch: int, name: str) -> None:
    C.check_dtype_float(h, name, self._name)
    C.check_shape(h, (batch, self.hidden_size), name, self._name)

  def _input_projection(self, x: Tensor) -> list[Tensor]:
    """一次性算出所有时间步的 ``x_t W_ih^T + b``，按时间切成列表（每个形状 (B, gates*H)）。"""
    B, T, _ = x.shape
    bias = self.bias_ih + self.bias_hh if self._gates != 3 else self.bias_ih
    xw = (x.reshape(B * T, self.input_size) @ self.weight_ih.T + bias).reshape(B, T, -1)
    xw = xw.permute(1, 0, 2).contiguous()  # (T, B, G*H)：每个时间步在内存中是连续的一块
    return [xw[t] for t in range(T)]


class RNNCell:
  """单步的 Elman RNN 单元：``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)``。

  Args:
    input_size: 输入特征数 ``I``。
    hidden_size: 隐状态维度 ``H``。
    nonlinearity: ``"tanh"``（默认）或 ``"relu"``。

  Shapes:
    ``x_t`` ``(B, I)``，``h`` ``(B, H)`` -> ``h'`` ``(B, H)``。
  """

  def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh"):
    self.input_size = C.check_positive_int(input_size, "input_size", "RNNCell")
    self.hidden_size = C.check_positive_int(hidden_size, "hidden_size", "RNNCell")
    self.nonlinearity = C.check_choice(nonlinearity, ("tanh", "relu"), "nonlinearity", "RNNCell")
    _init_weights(self, input_size, hidden_size, 1)

  def __call__(self, x_t: Tensor, h: Tensor | None = None) -> Tensor:
    """计算一步。

    Args:
      x_t: 形状 ``(B, I)`` 的当前输入。
      h: 形状 ``(B, H)`` 的上一步隐状态；为 ``None`` 时用全零。

    Returns:
      Tensor: 新隐状态，形状 ``(B, H)``。
    """
    C.check_dtype_float(x_t, "x_t", "RNNCell")
    C.check_shape(x_t, ("batch", self.input_size), "x_t", "RNNCell")
    pre = x_t.linear(self.weight_ih.T, self.bias_ih) + self.bias_hh
    if h is not None:
      C.check_dtype_float(h, "h", "RNNCell")
      C.check_shape(h, (x_t.shape[0], self.hidden_size), "h", "RNNCell")
      pre = pre + h @ self.weight_hh.T
    return pre.tanh() if self.nonlinearity == "tanh" else pre.relu()


class RNN(_Recurrent):
  """单层 Elman RNN，对整条序列循环（batch_first，与 ``torch.nn.RNN(I, H, batch_first=True)`` 等价）。

  Args:
    input_size: 输入特征数 ``I``。
    hidden_size: 隐状态维度 ``H``。

  Shapes:
    输入 ``x`` ``(B, T, I)``，可选 ``h0`` ``(B, H)`` ->
    ``(outputs (B, T, H), h_T (B, H))``。
  """
  _name = "RNN"
  _gates = 1

  def step(self, x_t: Tensor, h: Tensor) -> Tensor:
    """单步更新（便于在文章里手算一步）。

    Args:
      x_t: 形状 ``(B, I)`` 的当前输入。
      h: 形状 ``(B, H)`` 的上一步隐状态。

    Returns:
      Tensor: 新隐状态 ``(B, H)``。
    """
    C.check_dtype_float(x_t, "x_t", "RNN.step")
    C.check_shape(x_t, ("batch", self.input_size), "x_t", "RNN.step")
    self._check_state(h, x_t.shape[0], "h")
    return (x_t @ self.weight_ih.T + self.bias_ih + h @ self.weight_hh.T + self.bias_hh).tanh()

  def __call__(self, x: Tensor, h0: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """对整条序列运行 RNN。

    Args:
      x: 形状 ``(B, T, I)`` 的输入序列。
      h0: 形状 ``(B, H)`` 的初始隐状态；为 ``None`` 时用全零。

    Returns:
      tuple[Tensor, Tensor]: ``outputs`` ``(B, T, H)``（每个时间步的隐状态）与最后的 ``h_T`` ``(B, H)``。
    """
    self._check_seq(x)
    B = x.shape[0]
    if h0 is not None: self._check_state(h0, B, "h0")
    outs: list[Tensor] = []
    h = h0
    for xw_t in self._input_projection(x):
      pre = xw_t if h is None else xw_t + h @ self.weight_hh.T
      h = pre.tanh().contiguous()
      outs.append(h)
    return Tensor.stack(*outs, dim=1), h


class LSTM(_Recurrent):
  """单层 LSTM，对整条序列循环（batch_first，与 ``torch.nn.LSTM(I, H, batch_first=True)`` 等价）。

  参数 ``weight_ih`` ``(4H, I)``、``weight_hh`` ``(4H, H)``、``bias_ih`` ``(4H,)``、``bias_hh`` ``(4H,)``，
  门的顺序为 ``i, f, g, o``，与 PyTorch 相同，可以直接拷贝 ``torch.nn.LSTM`` 的 ``*_l0`` 参数。

  Args:
    input_size: 输入特征数 ``I``。
    hidden_size: 隐状态维度 ``H``。

  Shapes:
    输入 ``x`` ``(B, T, I)``，可选 ``state=(h0, c0)``（各 ``(B, H)``）->
    ``(outputs (B, T, H), (h_T, c_T))``。
  """
  _name = "LSTM"
  _gates = 4

  def _cell(self, gates: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
    H = self.hidden_size
    i, f, g, o = gates[:, :H].sigmoid(), gates[:, H:2 * H].sigmoid(), gates[:, 2 * H:3 * H].tanh(), gates[:, 3 * H:].sigmoid()
    c_new = i * g if c is None else f * c + i * g
    c_new = c_new.contiguous()
    return (o * c_new.tanh()).contiguous(), c_new

  def step(self, x_t: Tensor, h: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
    """单步 LSTM 更新（便于在文章里逐门手算验证）。

    Args:
      x_t: 形状 ``(B, I)`` 的当前输入。
      h: 形状 ``(B, H)`` 的上一步隐状态。
      c: 形状 ``(B, H)`` 的上一步细胞状态。

    Returns:
      tuple[Tensor, Tensor]: 新的 ``(h, c)``，各 ``(B, H)``。
    """
    C.check_dtype_float(x_t, "x_t", "LSTM.step")
    C.check_shape(x_t, ("batch", self.input_size), "x_t", "LSTM.step")
    self._check_state(h, x_t.shape[0], "h")
    self._check_state(c, x_t.shape[0], "c")
    gates = x_t @ self.weight_ih.T + self.bias_ih + h @ self.weight_hh.T + self.bias_hh
    return self._cell(gates, c)

  def __call__(self, x: Tensor, state: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """对整条序列运行 LSTM。

    Args:
      x: 形状 ``(B, T, I)`` 的输入序列。
      state: 初始 ``(h0, c0)``，各 ``(B, H)``；为 ``None`` 时用全零。

    Returns:
      tuple: ``outputs`` ``(B, T, H)`` 与最后状态 ``(h_T, c_T)``（各 ``(B, H)``）。
    """
    self._check_seq(x)
    B = x.shape[0]
    h: Tensor | None = None
    c: Tensor | None = None
    if state is not None:
      if not isinstance(state, (tuple, list)) or len(state) != 2:
        raise ValueError(f"LSTM: 参数 state 应为 (h0, c0) 二元组，实际为 {type(state).__name__}")
      h, c = state
      self._check_state(h, B, "h0")
      self._check_state(c, B, "c0")
    outs: list[Tensor] = []
    for xw_t in self._input_projection(x):
      gates = xw_t if h is None else xw_t + h @ self.weight_hh.T
      h, c = self._cell(gates, c)
      outs.append(h)
    assert h is not None and c is not None
    return Tensor.stack(*outs, dim=1), (h, c)


class GRU(_Recurrent):
  """单层 GRU，对整条序列循环（batch_first，与 ``torch.nn.GRU(I, H, batch_first=True)`` 等价，门顺序 ``r, z, n``）。

  Args:
    input_size: 输入特征数 ``I``。
    hidden_size: 隐状态维度 ``H``。

  Shapes:
    输入 ``x`` ``(B, T, I)``，可选 ``h0`` ``(B, H)`` -> ``(outputs (B, T, H), h_T (B, H))``。
  """
  _name = "GRU"
  _gates = 3

  def __call__(self, x: Tensor, h0: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """对整条序列运行 GRU。

    Args:
      x: 形状 ``(B, T, I)`` 的输入序列。
      h0: 形状 ``(B, H)`` 的初始隐状态；为 ``None`` 时用全零。

    Returns:
      tuple[Tensor, Tensor]: ``outputs`` ``(B, T, H)`` 与 ``h_T`` ``(B, H)``。
    """
    self._check_seq(x)
    B, H = x.shape[0], self.hidden_size
    if h0 is not None: self._check_state(h0, B, "h0")
    h: Tensor | None = h0
    outs: list[Tensor] = []
    for xw_t in self._input_projection(x):
      hw = self.bias_hh if h is None else h @ self.weight_hh.T + self.bias_hh  # h 为全零时省掉一次矩阵乘法
      r = (xw_t[:, :H] + hw[..., :H]).sigmoid()
      z = (xw_t[:, H:2 * H] + hw[..., H:2 * H]).sigmoid()
      n = (xw_t[:, 2 * H:] + r * hw[..., 2 * H:]).tanh()
      h = ((1 - z) * n if h is None else (1 - z) * n + z * h).contiguous()
      outs.append(h)
    assert h is not None
    return Tensor.stack(*outs, dim=1), h
