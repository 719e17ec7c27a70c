"""卷积网络：小号 LeNet（默认适配 8x8 手写数字）。"""

from __future__ import annotations

from tinygrad import Tensor

from tinymodels._contract import expect, require
from tinymodels.layers.basic import Conv2d, Linear

__all__ = ["LeNet"]


class LeNet:
    """LeNet 风格：若干段「卷积 -> ReLU -> 2x2 最大池化」，再接两层全连接。

    卷积用 ``padding = kernel_size // 2``（奇数卷积核时尺寸不变），每次池化
    把高宽减半（向下取整）。默认 8x8 输入：8x8 -> 4x4 -> 2x2，展平为
    ``16*2*2 = 64``，共 5750 个参数。

    8x8 数字上用 Adam、批 64、学习率 1e-2 训练约 8 轮再降到 1e-3，测试
    准确率 97%~98%；``channels=(16, 32)`` 更稳，但每步约慢 3 倍。

    Args:
        in_channels: 输入通道数（灰度图为 1）。
        num_classes: 类别数。
        input_size: 输入图像的 ``(H, W)``。
        channels: 各卷积段的输出通道数，默认同 LeNet-5 的 ``(6, 16)``。
        kernel_size: 卷积核边长。
        hidden: 全连接隐藏层宽度。
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        input_size: tuple[int, int] = (8, 8),
        channels: tuple[int, ...] = (6, 16),
        kernel_size: int = 3,
        hidden: int = 64,
    ):
        ok = isinstance(input_size, (tuple, list)) and len(input_size) == 2
        require(
            ok and len(channels) > 0,
            "LeNet: input_size 应为 (H, W)，channels 至少一段，"
            f"实际为 {input_size!r}、{channels!r}",
        )
        self.in_channels, self.num_classes = in_channels, num_classes
        self.input_size, self.channels = tuple(input_size), tuple(channels)
        self.kernel_size, self.hidden = kernel_size, hidden
        self.convs: list[Conv2d] = []
        (H, W), C = self.input_size, in_channels
        for C_out in self.channels:
            conv = Conv2d(C, C_out, kernel_size, padding=kernel_size // 2)
            H, W = conv.output_size(H, W)
            H, W, C = H // 2, W // 2, C_out  # 2x2 池化
            self.convs.append(conv)
        # 尺寸减到 0 时，错误要到第一次前向才在很深处出现，所以在这里拦下
        require(
            H >= 1 and W >= 1,
            f"LeNet: input_size={self.input_size} 太小，"
            f"{len(self.channels)} 段卷积+池化后尺寸为 0",
        )
        self.flat_features = C * H * W
        self.fc1 = Linear(self.flat_features, hidden)
        self.fc2 = Linear(hidden, num_classes)

    def _check(self, x: Tensor) -> None:
        H, W = self.input_size
        expect(x, "B C H W", "x", "LeNet", C=self.in_channels, H=H, W=W)

    def features(self, x: Tensor) -> list[Tensor]:
        """每段卷积 + ReLU 之后、池化之前的特征图，用于可视化。

        Args:
            x: 浮点张量 ``(B, in_channels, H, W)``。

        Returns:
            list[Tensor]: 第 i 段为 ``(B, channels[i], H_i, W_i)``。
        """
        self._check(x)
        maps = []
        for conv in self.convs:
            x = conv(x).relu()  # (B, C_i, H_i, W_i)
            maps.append(x)
            x = x.max_pool2d(kernel_size=2)
        return maps

    def __call__(self, x: Tensor) -> Tensor:
        """前向计算。

        Args:
            x: 浮点张量 ``(B, in_channels, H, W)``。

        Returns:
            Tensor: logits ``(B, num_classes)``。
        """
        self._check(x)
        for conv in self.convs:
            x = conv(x).relu().max_pool2d(kernel_size=2)  # 高宽减半
        x = x.reshape(x.shape[0], -1)  # (B, flat_features)
        return self.fc2(self.fc1(x).relu())  # (B, num_classes)
