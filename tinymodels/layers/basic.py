"""基础层：尽量直接用 ``tinygrad.nn``，只在有理由时自己写。

``Linear``、``Conv2d`` 是 tinygrad 同名层的子类，前向计算照用，只把初值换成
NumPy 生成的（见 ``tinymodels.layers.init``）；参数名与形状和 PyTorch 相同，
测试时可以直接拷贝 PyTorch 的权重。
"""

from __future__ import annotations

import math
from typing import Callable

from tinygrad import Tensor, nn

from tinymodels.layers import init

__all__ = [
    "Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "LayerNorm", "Embedding",
    "Dropout", "Sequential", "get_activation", "ACTIVATIONS",
]  # fmt: skip


ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "relu": Tensor.relu,
    "tanh": Tensor.tanh,
    "sigmoid": Tensor.sigmoid,
    "gelu": Tensor.gelu,
    "leaky_relu": lambda x: x.leaky_relu(0.2),
    "silu": Tensor.silu,
    "identity": lambda x: x,
}


def get_activation(name: str) -> Callable[[Tensor], Tensor]:
    """按名字取激活函数，名字见 ``ACTIVATIONS``。"""
    if name not in ACTIVATIONS:
        raise ValueError(
            f"未知激活函数 activation={name!r}，可选：{list(ACTIVATIONS)}"
        )
    return ACTIVATIONS[name]


class LayerNorm(nn.LayerNorm):
    """层归一化：``(x - mean) / sqrt(var + eps) * weight + bias``。

    就是 ``tinygrad.nn.LayerNorm``（子类只为在 API 页上有说明），同
    ``torch.nn.LayerNorm(d)``。
    """


class Linear(nn.Linear):
    """全连接 ``y = x W^T + b``，``W`` 形状 ``(out, in)``。

    即 ``tinygrad.nn.Linear``，只是初值用 NumPy 生成：
    ``U(-1/sqrt(in), 1/sqrt(in))``，与 PyTorch 的默认分布相同。
    """

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True
    ):
        self.in_features, self.out_features = in_features, out_features
        bound = 1 / math.sqrt(in_features)
        self.weight = init.uniform((out_features, in_features), bound)
        self.bias = init.uniform((out_features,), bound) if bias else None


class Conv2d(nn.Conv2d):
    """二维卷积，权重 ``(C_out, C_in, K, K)``。

    即 ``tinygrad.nn.Conv2d``，只是初值用 NumPy 生成。

    输出边长 ``(H + 2P - K) // S + 1``，见 ``output_size``。
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        bias: bool = True,
    ):
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = (kernel_size, kernel_size)
        self.stride, self.padding, self.dilation, self.groups = (
            stride,
            padding,
            1,
            1,
        )
        bound = 1 / math.sqrt(in_channels * kernel_size * kernel_size)
        shape = (out_channels, in_channels, kernel_size, kernel_size)
        self.weight = init.uniform(shape, bound)
        self.bias = init.uniform((out_channels,), bound) if bias else None

    def output_size(self, h: int, w: int) -> tuple[int, int]:
        """输入高宽 ``(h, w)`` 对应的输出高宽。"""
        k, s, p = self.kernel_size[0], self.stride, self.padding
        return (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1


class MaxPool2d:
    """二维最大池化：窗口 ``k``，步幅默认等于 ``k``，不补零（同 PyTorch）。"""

    def __init__(self, kernel_size: int = 2, stride: int | None = None):
        self.kernel_size, self.stride = kernel_size, stride or kernel_size

    def __call__(self, x: Tensor) -> Tensor:
        return x.max_pool2d(self.kernel_size, self.stride)


class AvgPool2d(MaxPool2d):
    """二维平均池化，参数同 ``MaxPool2d``。"""

    def __call__(self, x: Tensor) -> Tensor:
        return x.avg_pool2d(self.kernel_size, self.stride)


class Embedding:
    """查表 ``weight[idx]``，``weight`` 形状 ``(V, d)``，初值 ``N(0, 1)``。

    自己写而不用 ``tinygrad.nn.Embedding``：在 CPU 上直接索引比后者的
    ``arange == idx`` 比较快 1.5~2.5 倍。编号越界不报错
    （检查要把数据读回来）。
    """

    def __init__(self, num_embeddings: int, embedding_dim: int):
        self.num_embeddings, self.embedding_dim = (
            num_embeddings,
            embedding_dim,
        )
        self.weight = init.normal((num_embeddings, embedding_dim), 1.0)

    def __call__(self, idx: Tensor) -> Tensor:
        return self.weight[idx]


class Dropout:
    """训练时以概率 ``p`` 置零、其余放大 ``1/(1-p)``；评估时原样返回。

    只在 ``with Context(TRAINING=1):`` 里生效（``fit`` 会自动打开）。
    """

    def __init__(self, p: float = 0.5):
        self.p = p

    def __call__(self, x: Tensor) -> Tensor:
        return x.dropout(self.p) if self.p > 0 else x


class Sequential:
    """依次调用若干层（或任意函数）。"""

    def __init__(self, *layers: Callable):
        self.layers = list(layers)

    def __call__(self, x: Tensor) -> Tensor:
        return x.sequential(self.layers)
