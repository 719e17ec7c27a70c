"""全连接自编码器。"""

from __future__ import annotations

from itertools import pairwise

from tinygrad import Tensor

from tinymodels._contract import expect, require
from tinymodels.layers.basic import Linear

__all__ = ["Autoencoder"]


class Autoencoder:
    """全连接自编码器：把输入压成低维潜变量 ``z``，再还原；输出过 sigmoid。

    编码器 ``input_dim -> *hidden_dims -> latent_dim``（隐藏层 ReLU，``z``
    不加激活），解码器与之对称，最后接 sigmoid，适合 ``[0, 1]`` 的数据。

    Args:
        input_dim: 输入维度（8x8 数字展平后为 64）。
        hidden_dims: 编码器隐藏层宽度（解码器倒序使用），可以为空。
        latent_dim: 潜变量维度。
    """

    def __init__(
        self,
        input_dim: int = 64,
        hidden_dims: tuple[int, ...] = (32,),
        latent_dim: int = 8,
    ):
        self.input_dim, self.latent_dim = input_dim, latent_dim
        self.hidden_dims = tuple(hidden_dims)
        enc = [input_dim, *self.hidden_dims, latent_dim]
        # 宽度为 0 时要到初始化的 1/sqrt(0) 才报错，消息也不说是哪个参数
        require(
            min(enc) > 0,
            "Autoencoder: input_dim、hidden_dims、latent_dim 应为正整数，"
            f"实际为 {input_dim}、{hidden_dims}、{latent_dim}",
        )
        dec = enc[::-1]
        self.encoder = [Linear(a, b) for a, b in pairwise(enc)]
        self.decoder = [Linear(a, b) for a, b in pairwise(dec)]

    def encode(self, x: Tensor) -> Tensor:
        """编码。

        Args:
            x: 浮点张量 ``(B, input_dim)``。

        Returns:
            Tensor: 潜变量 ``z`` ``(B, latent_dim)``。
        """
        expect(x, "B D", "x", "Autoencoder.encode", D=self.input_dim)
        *hidden, last = self.encoder
        for layer in hidden:
            x = layer(x).relu()
        return last(x)  # 潜变量不加激活

    def decode(self, z: Tensor) -> Tensor:
        """解码。

        Args:
            z: 浮点张量 ``(B, latent_dim)``。

        Returns:
            Tensor: 重建 ``(B, input_dim)``，取值在 ``(0, 1)``。
        """
        expect(z, "B Z", "z", "Autoencoder.decode", Z=self.latent_dim)
        *hidden, last = self.decoder
        for layer in hidden:
            z = layer(z).relu()
        return last(z).sigmoid()

    def __call__(self, x: Tensor) -> Tensor:
        """编码再解码。

        Args:
            x: 浮点张量 ``(B, input_dim)``，建议先缩放到 ``[0, 1]``。

        Returns:
            Tensor: 重建 ``(B, input_dim)``。
        """
        return self.decode(self.encode(x))
