"""序列分类 / 回归模型：循环网络读完整条序列，用最后一个隐状态做预测。"""
from __future__ import annotations

from tinygrad import Tensor

from tinymodels import _checks as C
from tinymodels.layers.basic import Linear
from tinymodels.layers.recurrent import GRU, LSTM, RNN

__all__ = ["SequenceClassifier", "RNNClassifier", "LSTMClassifier", "GRUClassifier"]

_CELLS = {"rnn": RNN, "lstm": LSTM, "gru": GRU}


class SequenceClassifier:
  """循环网络 + 线性输出头：``Linear(h_T)``，``h_T`` 是最后一个时间步的隐状态。

  ``num_outputs=1`` 时可用于回归（例如「加法问题」），配合 ``mse_loss``；否则输出分类 logits，配合 ``cross_entropy``。

  Args:
    input_size: 每个时间步的特征数 ``I``。
    hidden_size: 隐状态维度 ``H``。
    num_outputs: 输出维度（类别数，回归时为 1）。
    cell: 循环单元类型：``"rnn"``、``"lstm"``（默认）或 ``"gru"``。

  Shapes:
    输入 ``(B, T, I)`` -> 输出 ``(B, num_outputs)``。
  """

  def __init__(self, input_size: int, hidden_size: int, num_outputs: int, cell: str = "lstm"):
    w = type(self).__name__
    C.check_positive_int(input_size, "input_size", w)
    C.check_positive_int(hidden_size, "hidden_size", w)
    self.num_outputs = C.check_positive_int(num_outputs, "num_outputs", w)
    self.cell = C.check_choice(cell, tuple(_CELLS), "cell", w)
    self.input_size, self.hidden_size = input_size, hidden_size
    self.rnn = _CELLS[cell](input_size, hidden_size)
    self.head = Linear(hidden_size, num_outputs)

  def __call__(self, x: Tensor) -> Tensor:
    """前向计算。

    Args:
      x: 形状 ``(B, T, I)`` 的浮点张量。

    Returns:
      Tensor: 形状 ``(B, num_outputs)``。
    """
    w = type(self).__name__
    C.check_dtype_float(x, "x", w)
    C.check_shape(x, ("batch", "T", self.input_size), "x", w)
    _, state = self.rnn(x)
    h = state[0] if self.cell == "lstm" else state
    return self.head(h)


class RNNClassifier(SequenceClassifier):
  """``SequenceClassifier(..., cell="rnn")`` 的别名。

  Args:
    input_size: 每个时间步的特征数。
    hidden_size: 隐状态维度。
    num_outputs: 输出维度。

  Shapes:
    输入 ``(B, T, I)`` -> 输出 ``(B, num_outputs)``。
  """

  def __init__(self, input_size: int, hidden_size: int, num_outputs: int):
    super().__init__(input_size, hidden_size, num_outputs, cell="rnn")


class LSTMClassifier(SequenceClassifier):
  """``SequenceClassifier(..., cell="lstm")`` 的别名。

  Args:
    input_size: 每个时间步的特征数。
    hidden_size: 隐状态维度。
    num_outputs: 输出维度。

  Shapes:
    输入 ``(B, T, I)`` -> 输出 ``(B, num_outputs)``。
  """

  def __init__(self, input_size: int, hidden_size: int, num_outputs: int):
    super().__init__(input_size, hidden_size, num_outputs, cell="lstm")


class GRUClassifier(SequenceClassifier):
  """``SequenceClassifier(..., cell="gru")`` 的别名。

  Args:
    input_size: 每个时间步的特征数。
    hidden_size: 隐状态维度。
    num_outputs: 输出维度。

  Shapes:
    输入 ``(B, T, I)`` -> 输出 ``(B, num_outputs)``。
  """

  def __init__(self, input_size: int, hidden_size: int, num_outputs: int):
    super().__init__(input_size, hidden_size, num_outputs, cell="gru")
