"""基础层：全连接、卷积、池化、层归一化、词嵌入、Dropout 与激活函数。

这些层与 ``tinygrad.nn`` 中的同名层计算相同，区别在于：

* 构造参数和输入形状都会先做检查，出错时给出中文说明（见 ``tinymodels._checks``）；
* 参数用 NumPy 初始化（见 ``tinymodels.layers.init``），不需要编译随机数内核；
* 参数名与形状和 PyTorch 一致（``weight``、``bias``），便于测试时直接拷贝 PyTorch 的权重。
"""
from __future__ import annotations

from typing import Callable

from tinygrad import Tensor, dtypes

from tinymodels import _checks as C
from tinymodels.layers import init

__all__ = ["Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "LayerNorm", "Embedding", "Dropout", "Sequential",
           "get_activation", "ACTIVATIONS"]

ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
  "relu": Tensor.relu,
  "tanh": Tensor.tanh,
  "sigmoid": Tensor.sigmoid,
  "gelu": Tensor.gelu,
  "leaky_relu": lambda x: x.leaky_relu(0.2),
  "silu": Tensor.silu,
  "identity": lambda x: x,
}


def get_activation(name: str, where: str | None = None) -> Callable[[Tensor], Tensor]:
  """按名字取激活函数。

  Args:
    name: ``"relu"``、``"tanh"``、``"sigmoid"``、``"gelu"``、``"leaky_relu"``（斜率 0.2）、``"silu"`` 或 ``"identity"``。
    where: 调用位置，用于错误消息。

  Returns:
    Callable[[Tensor], Tensor]: 逐元素函数。
  """
  C.check_choice(name, tuple(ACTIVATIONS), "activation", where)
  return ACTIVATIONS[name]


class Linear:
  """全连接层 ``y = x W^T + b``，参数布局与 ``torch.nn.Linear`` 相同。

  Args:
    in_features: 输入特征数。
    out_features: 输出特征数。
    bias: 是否带偏置。

  Shapes:
    输入 ``(..., in_features)`` -> 输出 ``(..., out_features)``；``weight`` 为 ``(out_features, in_features)``。
  """

  def __init__(self, in_features: int, out_features: int, bias: bool = True):
    self.in_features = C.check_positive_int(in_features, "in_features", "Linear")
    self.out_features = C.check_positive_int(out_features, "out_features", "Linear")
    C.check_bool(bias, "bias", "Linear")
    bound = init.fan_in_bound(in_features)
    self.weight = init.uniform((out_features, in_features), bound)
    self.bias = init.uniform((out_features,), bound) if bias else None

  def __call__(self, x: Tensor) -> Tensor:
    """前向计算。

    Args:
      x: 形状 ``(..., in_features)`` 的浮点张量。

    Returns:
      Tensor: 形状 ``(..., out_features)``。
    """
    C.check_dtype_float(x, "x", "Linear")
    if x.ndim < 1 or x.shape[-1] != self.in_features:
      raise ValueError(f"Linear: 输入 x 的形状应为 (..., {self.in_features})，实际为 {C.format_shape(x.shape)}")
    return x.linear(self.weight.T, self.bias)


class Conv2d:
  """二维卷积层，参数布局与 ``torch.nn.Conv2d`` 相同（只支持正方形卷积核与 groups=1）。

  Args:
    in_channels: 输入通道数。
    out_channels: 输出通道数（卷积核个数）。
    kernel_size: 卷积核边长。
    stride: 步幅。
    padding: 四周补零的宽度。
    bias: 是否带偏置。

  Shapes:
    输入 ``(B, in_channels, H, W)`` -> 输出 ``(B, out_channels, H', W')``，其中
    ``H' = (H + 2*padding - kernel_size) // stride + 1``。
  """

  def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, padding: int = 0,
               bias: bool = True):
    w = "Conv2d"
    self.in_channels = C.check_positive_int(in_channels, "in_channels", w)
    self.out_channels = C.check_positive_int(out_channels, "out_channels", w)
    self.kernel_size = C.check_positive_int(kernel_size, "kernel_size", w)
    self.stride = C.check_positive_int(stride, "stride", w)
    self.padding = C.check_nonnegative_int(padding, "padding", w)
    C.check_bool(bias, "bias", w)
    bound = init.fan_in_bound(in_channels * kernel_size * kernel_size)
    self.weight = init.uniform((out_channels, in_channels, kernel_size, kernel_size), bound)
    self.bias = init.uniform((out_channels,), bound) if bias else None

  def output_size(self, h: int, w: int) -> tuple[int, int]:
    """给定输入高宽，返回输出高宽。

    Args:
      h: 输入高。
      w: 输入宽。

    Returns:
      tuple[int, int]: 输出 ``(H', W')``。
    """
    k, s, p = self.kernel_size, self.stride, self.padding
    return (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1

  def __call__(self, x: Tensor) -> Tensor:
    """前向计算。

    Args:
      x: 形状 ``(B, in_channels, H, W)`` 的浮点张量。

    Returns:
      Tensor: 形状 ``(B, out_channels, H', W')``。
    """
    C.check_dtype_float(x, "x", "Conv2d")
    C.check_shape(x, ("batch", self.in_channels, "H", "W"), "x", "Conv2d")
    oh, ow = self.output_size(x.shape[2], x.shape[3])
    if oh < 1 or ow < 1:
      raise ValueError(f"Conv2d: 输入 x 的空间尺寸 {x.shape[2]}x{x.shape[3]} 太小，卷积核 {self.kernel_size}、"
                       f"padding {self.padding} 之后没有输出，形状为 {C.format_shape(x.shape)}")
    return x.conv2d(self.weight, self.bias, stride=self.stride, padding=self.padding)


class _Pool2d:
  _name = "Pool2d"

  def __init__(self, kernel_size: int = 2, stride: int | None = None):
    self.kernel_size = C.check_positive_int(kernel_size, "kernel_size", self._name)
    self.stride = self.kernel_size if stride is None else C.check_positive_int(stride, "stride", self._name)

  def _check(self, x: Tensor) -> None:
    C.check_dtype_float(x, "x", self._name)
    C.check_ndim(x, 4, "x", self._name)
    if x.shape[2] < self.kernel_size or x.shape[3] < self.kernel_size:
      raise ValueError(f"{self._name}: 输入 x 的空间尺寸应不小于池化窗口 {self.kernel_size}，实际形状为 {C.format_shape(x.shape)}")


class MaxPool2d(_Pool2d):
  """二维最大池化（无补零，不足一个窗口的边缘被丢弃，与 PyTorch 默认行为相同）。

  Args:
    kernel_size: 池化窗口边长。
    stride: 步幅，默认等于 ``kernel_size``。

  Shapes:
    输入 ``(B, C, H, W)`` -> 输出 ``(B, C, (H-k)//s+1, (W-k)//s+1)``。
  """
  _name = "MaxPool2d"

  def __call__(self, x: Tensor) -> Tensor:
    """前向计算。

    Args:
      x: 形状 ``(B, C, H, W)`` 的浮点张量。

    Returns:
      Tensor: 池化后的张量。
    """
    self._check(x)
    return x.max_pool2d(kernel_size=self.kernel_size, stride=self.stride)


class AvgPool2d(_Pool2d):
  """二维平均池化（无补零）。

  Args:
    kernel_size: 池化窗口边长。
    stride: 步幅，默认等于 ``kernel_size``。

  Shapes:
    输入 ``(B, C, H, W)`` -> 输出 ``(B, C, (H-k)//s+1, (W-k)//s+1)``。
  """
  _name = "AvgPool2d"

  def __call__(self, x: Tensor) -> Tensor:
    """前向计算。

    Args:
      x: 形状 ``(B, C, H, W)`` 的浮点张量。

    Returns:
      Tensor: 池化后的张量。
    """
    self._check(x)
    return x.avg_pool2d(kernel_size=self.kernel_size, stride=self.stride)


class LayerNorm:
  """层归一化：对最后一维做标准化，再乘 ``weight`` 加 ``bias``（与 ``torch.nn.LayerNorm(d)`` 相同）。

  Args:
    normalized_shape: 最后一维的大小 ``d``。
    eps: 加在方差上的小常数。

  Shapes:
    输入 ``(..., d)`` -> 输出 ``(..., d)``。
  """

  def __init__(self, normalized_shape: int, eps: float = 1e-5):
    self.normalized_shape = C.check_positive_int(normalized_shape, "normalized_shape", "LayerNorm")
    self.eps = C.check_positive_float(eps, "eps", "LayerNorm")
    self.weight = init.ones((normalized_shape,))
    self.bias = init.zeros((normalized_shape,))

  def __call__(self, x: Tensor) -> Tensor:
    """前向计算。

    Args:
      x: 形状 ``(..., d)`` 的浮点张量。

    Returns:
      Tensor: 形状不变。
    """
    C.check_dtype_float(x, "x", "LayerNorm")
    if x.ndim < 1 or x.shape[-1] != self.normalized_shape:
      raise ValueError(f"LayerNorm: 输入 x 的形状应为 (..., {self.normalized_shape})，实际为 {C.format_shape(x.shape)}")
    return x.layernorm(eps=self.eps) * self.weight + self.bias


class Embedding:
  """词嵌入：把整数编号查表成向量，``weight`` 形状 ``(num_embeddings, embedding_dim)``。

  实现为张量索引 ``weight[idx]``（在 tinygrad 的 CPU 后端上比 ``one_hot(idx) @ weight`` 快 1.5~2.5 倍）。
  编号必须在 ``[0, num_embeddings)`` 内；检查范围需要把数据读回 CPU，这里不做，越界时结果没有意义。

  Args:
    num_embeddings: 词表大小。
    embedding_dim: 向量维度。

  Shapes:
    输入 ``(...)`` 的整数张量 -> 输出 ``(..., embedding_dim)``。
  """

  def __init__(self, num_embeddings: int, embedding_dim: int):
    self.num_embeddings = C.check_positive_int(num_embeddings, "num_embeddings", "Embedding")
    self.embedding_dim = C.check_positive_int(embedding_dim, "embedding_dim", "Embedding")
    self.weight = init.normal((num_embeddings, embedding_dim), 1.0)

  def __call__(self, idx: Tensor) -> Tensor:
    """查表。

    Args:
      idx: 任意形状的整数张量（通常为 int32）。

    Returns:
      Tensor: 形状 ``idx.shape + (embedding_dim,)``。
    """
    C.check_dtype_int(idx, "idx", "Embedding")
    return self.weight[idx]


class Dropout:
  """Dropout：训练时以概率 ``p`` 把元素置零并把其余元素放大 ``1/(1-p)``；评估时原样返回。

  只有在 ``with Context(TRAINING=1):`` 之内才生效（tinygrad 0.14 没有 ``Tensor.train()``）。

  Args:
    p: 置零概率，``0 <= p < 1``。

  Shapes:
    输入与输出形状相同。
  """

  def __init__(self, p: float = 0.5):
    self.p = C.check_probability(p, "p", "Dropout")

  def __call__(self, x: Tensor) -> Tensor:
    """前向计算。

    Args:
      x: 任意形状的浮点张量。

    Returns:
      Tensor: 训练模式下随机置零后的张量；评估模式下就是 ``x``。
    """
    C.check_dtype_float(x, "x", "Dropout")
    return x.dropout(self.p) if self.p > 0 else x


class Sequential:
  """按顺序依次调用若干层（或任意可调用对象）。

  Args:
    *layers: 层或函数，前一个的输出作为后一个的输入。

  Shapes:
    由各层决定。
  """

  def __init__(self, *layers: Callable):
    for i, layer in enumerate(layers):
      if not callable(layer): raise ValueError(f"Sequential: 参数 layers[{i}] 应为可调用对象，实际为 {type(layer).__name__}")
    self.layers = list(layers)

  def __call__(self, x: Tensor) -> Tensor:
    """依次调用每一层。

    Args:
      x: 第一层的输入。

    Returns:
      Tensor: 最后一层的输出。
    """
    for layer in self.layers: x = layer(x)
    return x
