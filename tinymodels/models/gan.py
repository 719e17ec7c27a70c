"""生成对抗网络：全连接的生成器 G 与判别器 D，以及训练函数 ``train_gan``。

D 最小化  BCE(D(x), 1) + BCE(D(G(z)), 0)
G 最小化  BCE(D(G(z)), 1)        非饱和损失：训练初期梯度不会消失
"""

from __future__ import annotations

import math

import numpy as np
from tinygrad import Context, Tensor
from tinygrad.nn.optim import Adam
from tinygrad.nn.state import get_parameters

from tinymodels._contract import expect, require
from tinymodels._tinygrad import read_scalar, to_device, write_scalar
from tinymodels.layers import init
from tinymodels.layers.basic import Linear
from tinymodels.losses import bce_with_logits
from tinymodels.train import train_step
from tinymodels.utils import fast_compile

__all__ = ["Generator", "Discriminator", "GAN", "train_gan"]

_OUTPUT = {
    "identity": lambda x: x,
    "sigmoid": Tensor.sigmoid,
    "tanh": Tensor.tanh,
}


def _sizes(hidden, where: str) -> tuple[int, ...]:
    hidden = (hidden,) if isinstance(hidden, int) else tuple(hidden)
    require(
        len(hidden) > 0 and min(hidden) >= 1,
        f"{where}: hidden={hidden} 应为正整数或正整数序列",
    )
    return hidden


def _mlp(sizes: list[int]) -> list[Linear]:
    return [Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])]


def _leaky_mlp(layers: list[Linear], x: Tensor) -> Tensor:
    """隐藏层之间接 LeakyReLU(0.2)，最后一层不接。"""
    for layer in layers[:-1]:
        x = layer(x).leaky_relu(0.2)
    return layers[-1](x)


class Generator:
    """``z (B, latent_dim) -> x (B, data_dim)``。

    Args:
        latent_dim: 潜变量维度。
        data_dim: 数据维度（二维混合高斯为 2，8x8 数字为 64）。
        hidden: 隐藏层宽度（整数或序列）。
        output_activation: ``"identity"``（无界数据）、``"sigmoid"``（[0, 1]）
            或 ``"tanh"``。
    """

    def __init__(
        self,
        latent_dim: int,
        data_dim: int,
        hidden: int | tuple[int, ...] = (64, 64),
        output_activation: str = "identity",
    ):
        require(
            output_activation in _OUTPUT,
            f"Generator: output_activation={output_activation!r} "
            f"应为 {list(_OUTPUT)} 之一",
        )
        self.latent_dim, self.data_dim = latent_dim, data_dim
        self.hidden = hidden = _sizes(hidden, "Generator")
        self.output_activation = output_activation
        self.layers = _mlp([latent_dim, *hidden, data_dim])

    def __call__(self, z: Tensor) -> Tensor:
        expect(z, "B L", "z", "Generator", L=self.latent_dim)
        return _OUTPUT[self.output_activation](_leaky_mlp(self.layers, z))


class Discriminator:
    """``x (B, data_dim) -> (B, 1)`` 的 logit：越大越像真数据。"""

    def __init__(
        self, data_dim: int, hidden: int | tuple[int, ...] = (64, 64)
    ):
        self.data_dim = data_dim
        self.hidden = hidden = _sizes(hidden, "Discriminator")
        self.layers = _mlp([data_dim, *hidden, 1])

    def __call__(self, x: Tensor) -> Tensor:
        expect(x, "B D", "x", "Discriminator", D=self.data_dim)
        return _leaky_mlp(self.layers, x)


class GAN:
    """生成器 ``generator`` 加判别器 ``discriminator``，便于保存、采样。"""

    def __init__(
        self,
        latent_dim: int = 2,
        data_dim: int = 2,
        hidden: int | tuple[int, ...] = (64, 64),
        output_activation: str = "identity",
    ):
        require(
            latent_dim >= 1 and data_dim >= 1,
            f"GAN: latent_dim={latent_dim}、data_dim={data_dim} 应为正整数",
        )
        self.latent_dim, self.data_dim = latent_dim, data_dim
        self.generator = Generator(
            latent_dim, data_dim, hidden, output_activation
        )
        self.discriminator = Discriminator(data_dim, hidden)

    def sample_latent(self, n: int, seed: int | None = None) -> Tensor:
        """``(n, latent_dim)`` 的标准正态潜变量（NumPy 生成）。"""
        rng = init.rng() if seed is None else np.random.default_rng(seed)
        return Tensor(
            rng.standard_normal((n, self.latent_dim)).astype(np.float32)
        )

    def sample(self, n: int, seed: int | None = None) -> Tensor:
        """用生成器生成 ``n`` 个样本 ``(n, data_dim)``（评估模式）。"""
        require(n >= 1, f"GAN.sample: n={n} 应为正整数")
        with Context(TRAINING=0):
            return self.generator(self.sample_latent(n, seed)).realize()

    def __call__(self, z: Tensor) -> Tensor:
        return self.generator(z)


def train_gan(
    gan: GAN,
    data,
    steps: int,
    batch_size: int = 64,
    lr: float = 1e-3,
    seed: int = 0,
    progress: bool = False,
    d_steps: int = 1,
    lr_schedule: str = "cosine",
    fast: bool = True,
) -> dict[str, list[float]]:
    """交替训练判别器（``d_steps`` 次）与生成器（1 次），返回每一步的损失。

    两个优化器都是 Adam（``betas=(0.5, 0.999)``），两个训练步都由
    ``tinymodels.train.train_step`` 编译。默认学习率按余弦从 ``lr`` 降到 0：
    两个网络一直在互相追赶，学习率不降时生成分布会在各模式之间来回摆动。

    Args:
        gan: 要训练的 ``GAN``。
        data: ``(N, data_dim)`` 的训练数据，``N >= batch_size``。
        steps: 训练步数。
        batch_size: 批大小。
        lr: 两个优化器的学习率。
        seed: 抽批与潜变量的随机种子（同一台机器上结果可复现）。
        progress: 是否显示进度条。
        d_steps: 每步判别器更新几次。
        lr_schedule: ``"cosine"`` 或 ``"constant"``。
        fast: 用 ``fast_compile()`` 编译：这两个小网络的编译比运行贵得多。

    Returns:
        ``{"d_loss": [...], "g_loss": [...]}``，长度都是 ``steps``。
    """
    where = "train_gan"
    require(
        isinstance(gan, GAN), f"{where}: gan 应为 GAN，实际为 {type(gan)}"
    )
    require(steps >= 1, f"{where}: steps={steps} 应为正整数")
    require(lr > 0, f"{where}: lr={lr} 应大于 0")
    arr = np.asarray(data.numpy() if isinstance(data, Tensor) else data)
    require(
        arr.ndim == 2 and arr.shape[1] == gan.data_dim,
        f"{where}: data 的形状应为 (N, {gan.data_dim})，实际为 {arr.shape}",
    )
    require(
        len(arr) >= batch_size,
        f"{where}: data 只有 {len(arr)} 个样本，少于 batch_size={batch_size}",
    )
    arr = arr.astype(np.float32)
    require(
        lr_schedule in ("cosine", "constant"),
        f"train_gan: 未知 lr_schedule={lr_schedule!r}",
    )
    G, D = gan.generator, gan.discriminator
    d_opt = Adam(get_parameters(D), lr=lr, b1=0.5, b2=0.999)
    g_opt = Adam(get_parameters(G), lr=lr, b1=0.5, b2=0.999)
    ones = Tensor.ones(batch_size, 1).contiguous().realize()
    zeros = Tensor.zeros(batch_size, 1).contiguous().realize()

    def d_loss_fn(real: Tensor, z: Tensor) -> Tensor:
        fake = G(z).detach()  # 这一步只更新 D：不回传到 G
        return bce_with_logits(D(real), ones) + bce_with_logits(
            D(fake), zeros
        )

    def g_loss_fn(z: Tensor) -> Tensor:
        # backward 也会给 D 的参数算出（不实现的）梯度；
        # d_step 开头的 zero_grad 丢掉它们
        return bce_with_logits(D(G(z)), ones)

    d_step, g_step = (
        train_step(d_loss_fn, d_opt),
        train_step(g_loss_fn, g_opt),
    )
    rng = np.random.default_rng(seed)
    history: dict[str, list[float]] = {"d_loss": [], "g_loss": []}

    def latent() -> Tensor:
        z = rng.standard_normal((batch_size, gan.latent_dim))
        return to_device(z.astype(np.float32))

    from tqdm import tqdm

    with Context(TRAINING=1), fast_compile(fast):
        for it in tqdm(range(steps), desc="train_gan", disable=not progress):
            if lr_schedule == "cosine" and it > 0:
                for opt in (d_opt, g_opt):
                    write_scalar(
                        opt.lr,
                        lr * 0.5 * (1 + math.cos(math.pi * it / steps)),
                    )
            for _ in range(d_steps):
                real = to_device(
                    arr[rng.integers(0, len(arr), size=batch_size)]
                )
                d_loss = d_step(real, latent())
            g_loss = g_step(latent())
            dl, gl = read_scalar(d_loss), read_scalar(g_loss)
            if not (math.isfinite(dl) and math.isfinite(gl)):
                raise FloatingPointError(
                    f"train_gan: 第 {it + 1} 步发散：d_loss={dl}、"
                    f"g_loss={gl}；试试减小 lr"
                )
            history["d_loss"].append(dl)
            history["g_loss"].append(gl)
    return history
