"""多层感知机（MLP）。"""

from __future__ import annotations

from itertools import pairwise

from tinygrad import Tensor

from tinymodels._contract import expect, require
from tinymodels.layers.basic import Dropout, Linear, get_activation

__all__ = ["MLP"]


class MLP:
    """多层感知机：全连接层之间接激活函数（最后一层之后不接），可选 dropout。

    Args:
        sizes: 各层宽度，如 ``[64, 32, 10]``：输入 64、隐藏层 32、输出 10。
        activation: 隐藏层激活函数名，见 ``ACTIVATIONS``。
        dropout: 隐藏层激活之后的 dropout 概率（只在训练时生效）。
    """

    def __init__(
        self, sizes: list[int], activation: str = "relu", dropout: float = 0.0
    ):
        require(
            len(sizes) >= 2,
            f"MLP: sizes 应至少有输入、输出两个宽度，实际为 {sizes}",
        )
        # p >= 1 时 dropout 会悄悄输出全零或 nan，所以在这里拦下
        require(
            0 <= dropout < 1, f"MLP: dropout 应在 [0, 1) 内，实际为 {dropout}"
        )
        self.sizes, self.activation = tuple(sizes), activation
        self.act = get_activation(activation)
        self.drop = Dropout(dropout)
        self.layers = [Linear(a, b) for a, b in pairwise(self.sizes)]

    def __call__(self, x: Tensor) -> Tensor:
        """前向计算。

        Args:
            x: 浮点张量 ``(B, sizes[0])``。

        Returns:
            Tensor: ``(B, sizes[-1])``，未经 softmax 的 logits 或回归值。
        """
        expect(x, "B D", "x", "MLP", D=self.sizes[0])
        *hidden, last = self.layers
        for layer in hidden:
            x = self.drop(self.act(layer(x)))  # (B, sizes[i+1])
        return last(x)
