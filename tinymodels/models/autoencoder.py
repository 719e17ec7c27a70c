"""全连接自编码器。"""
from __future__ import annotations

from tinygrad import Tensor

from tinymodels import _checks as C
from tinymodels.layers.basic import Linear

__all__ = ["Autoencoder"]


class Autoencoder:
  """全连接自编码器：编码器把输入压缩成低维潜变量，解码器再还原；输出经过 sigmoid，适合 ``[0, 1]`` 范围的数据。

  编码器：``input_dim -> hidden_dims[0] -> ... -> latent_dim``（隐藏层用 ReLU，潜变量层不加激活）；
  解码器与之对称：``latent_dim -> ... -> hidden_dims[0] -> input_dim``，最后接 sigmoid。

  Args:
    input_dim: 输入维度（8x8 数字展平后为 64）。
    hidden_dims: 编码器隐藏层宽度（解码器倒序使用），可以为空元组。
    latent_dim: 潜变量维度。

  Shapes:
    ``encode``：``(B, input_dim) -> (B, latent_dim)``；``decode``：``(B, latent_dim) -> (B, input_dim)``；
    ``__call__``：``(B, input_dim) -> (B, input_dim)``。
  """

  def __init__(self, input_dim: int = 64, hidden_dims: tuple[int, ...] = (32,), latent_dim: int = 8):
    w = "Autoencoder"
    self.input_dim = C.check_positive_int(input_dim, "input_dim", w)
    self.hidden_dims = C.check_int_sequence(hidden_dims, "hidden_dims", w, min_len=0)
    self.latent_dim = C.check_positive_int(latent_dim, "latent_dim", w)
    enc = [input_dim, *self.hidden_dims, latent_dim]
    dec = enc[::-1]
    self.encoder = [Linear(a, b) for a, b in zip(enc[:-1], enc[1:])]
    self.decoder = [Linear(a, b) for a, b in zip(dec[:-1], dec[1:])]

  def encode(self, x: Tensor) -> Tensor:
    """编码。

    Args:
      x: 形状 ``(B, input_dim)`` 的浮点张量。

    Returns:
      Tensor: 潜变量 ``(B, latent_dim)``。
    """
    C.check_dtype_float(x, "x", "Autoencoder.encode")
    C.check_shape(x, ("batch", self.input_dim), "x", "Autoencoder.encode")
    for i, layer in enumerate(self.encoder):
      x = layer(x)
      if i < len(self.encoder) - 1: x = x.relu()
    return x

  def decode(self, z: Tensor) -> Tensor:
    """解码。

    Args:
      z: 形状 ``(B, latent_dim)`` 的浮点张量。

    Returns:
      Tensor: 重建结果 ``(B, input_dim)``，取值在 ``(0, 1)``。
    """
    C.check_dtype_float(z, "z", "Autoencoder.decode")
    C.check_shape(z, ("batch", self.latent_dim), "z", "Autoencoder.decode")
    for i, layer in enumerate(self.decoder):
      z = layer(z)
      z = z.relu() if i < len(self.decoder) - 1 else z.sigmoid()
    return z

  def __call__(self, x: Tensor) -> Tensor:
    """编码再解码。

    Args:
      x: 形状 ``(B, input_dim)`` 的浮点张量（建议先缩放到 ``[0, 1]``）。

    Returns:
      Tensor: 重建结果 ``(B, input_dim)``。
    """
    C.check_dtype_float(x, "x", "Autoencoder")
    C.check_shape(x, ("batch", self.input_dim), "x", "Autoencoder")
    return self.decode(self.encode(x))
