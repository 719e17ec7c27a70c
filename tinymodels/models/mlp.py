"""多层感知机（MLP）。"""
from __future__ import annotations

from tinygrad import Tensor

from tinymodels import _checks as C
from tinymodels.layers.basic import Dropout, Linear, get_activation

__all__ = ["MLP"]


class MLP:
  """多层感知机：若干个全连接层，层与层之间接激活函数（最后一层之后不接），可选 dropout。

  Args:
    sizes: 各层宽度，例如 ``[64, 32, 10]`` 表示 64 维输入、一个 32 维隐藏层、10 维输出；至少两个元素。
    activation: 隐藏层激活函数名（``"relu"``、``"tanh"``、``"sigmoid"``、``"gelu"``、``"leaky_relu"``、``"silu"``）。
    dropout: 每个隐藏层激活之后的 dropout 概率（仅在 ``Context(TRAINING=1)`` 内生效）。

  Shapes:
    输入 ``(B, sizes[0])`` -> 输出 ``(B, sizes[-1])``（未经 softmax 的 logits 或回归值）。
  """

  def __init__(self, sizes: list[int], activation: str = "relu", dropout: float = 0.0):
    self.sizes = C.check_int_sequence(sizes, "sizes", "MLP", min_len=2)
    self.activation = activation
    self.act = get_activation(activation, "MLP")
    self.drop = Dropout(C.check_probability(dropout, "dropout", "MLP"))
    self.layers = [Linear(a, b) for a, b in zip(self.sizes[:-1], self.sizes[1:])]

  def __call__(self, x: Tensor) -> Tensor:
    """前向计算。

    Args:
      x: 形状 ``(B, sizes[0])`` 的浮点张量。

    Returns:
      Tensor: 形状 ``(B, sizes[-1])``。
    """
    C.check_dtype_float(x, "x", "MLP")
    C.check_shape(x, ("batch", self.sizes[0]), "x", "MLP")
    for i, layer in enumerate(self.layers):
      x = layer(x)
      if i < len(self.layers) - 1: x = self.drop(self.act(x))
    return x
