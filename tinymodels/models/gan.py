"""生成对抗网络（GAN）：全连接生成器与判别器，以及训练函数 ``train_gan``。"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from tinygrad import Context, Tensor, TinyJit, dtypes
from tinygrad.nn.optim import Adam
from tinygrad.nn.state import get_parameters

from tinymodels import _checks as C
from tinymodels.layers import init
from tinymodels.layers.basic import Linear
from tinymodels.losses import bce_with_logits

__all__ = ["Generator", "Discriminator", "GAN", "train_gan"]


def _hidden(hidden: int | Sequence[int], where: str) -> tuple[int, ...]:
  if isinstance(hidden, int) and not isinstance(hidden, bool):
    return (C.check_positive_int(hidden, "hidden", where),)
  return C.check_int_sequence(hidden, "hidden", where, min_len=1)


class Generator:
  """生成器：把潜变量 ``z`` 经过全连接网络（隐藏层 LeakyReLU(0.2)）映射成数据样本。

  Args:
    latent_dim: 潜变量维度。
    data_dim: 数据维度（二维混合高斯为 2，8x8 数字为 64）。
    hidden: 隐藏层宽度（整数或整数序列）。
    output_activation: 输出激活：``"identity"``（默认，适合无界数据）、``"sigmoid"``（``[0, 1]`` 数据）或 ``"tanh"``。

  Shapes:
    输入 ``z`` ``(B, latent_dim)`` -> 输出 ``(B, data_dim)``。
  """

  def __init__(self, latent_dim: int, data_dim: int, hidden: int | Sequence[int] = (64, 64),
               output_activation: str = "identity"):
    w = "Generator"
    self.latent_dim = C.check_positive_int(latent_dim, "latent_dim", w)
    self.data_dim = C.check_positive_int(data_dim, "data_dim", w)
    self.hidden = _hidden(hidden, w)
    self.output_activation = C.check_choice(output_activation, ("identity", "sigmoid", "tanh"), "output_activation", w)
    sizes = [latent_dim, *self.hidden, data_dim]
    self.layers = [Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])]

  def __call__(self, z: Tensor) -> Tensor:
    """生成样本。

    Args:
      z: 形状 ``(B, latent_dim)`` 的浮点张量（通常取标准正态分布）。

    Returns:
      Tensor: 形状 ``(B, data_dim)`` 的样本。
    """
    C.check_dtype_float(z, "z", "Generator")
    C.check_shape(z, ("batch", self.latent_dim), "z", "Generator")
    for i, layer in enumerate(self.layers):
      z = layer(z)
      if i < len(self.layers) - 1: z = z.leaky_relu(0.2)
    if self.output_activation == "sigmoid": z = z.sigmoid()
    elif self.output_activation == "tanh": z = z.tanh()
    return z


class Discriminator:
  """判别器：全连接网络（隐藏层 LeakyReLU(0.2)），输出「样本为真」的 logit（未经 sigmoid）。

  Args:
    data_dim: 数据维度。
    hidden: 隐藏层宽度（整数或整数序列）。

  Shapes:
    输入 ``x`` ``(B, data_dim)`` -> 输出 ``(B, 1)`` 的 logits。
  """

  def __init__(self, data_dim: int, hidden: int | Sequence[int] = (64, 64)):
    w = "Discriminator"
    self.data_dim = C.check_positive_int(data_dim, "data_dim", w)
    self.hidden = _hidden(hidden, w)
    sizes = [data_dim, *self.hidden, 1]
    self.layers = [Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])]

  def __call__(self, x: Tensor) -> Tensor:
    """判别。

    Args:
      x: 形状 ``(B, data_dim)`` 的浮点张量。

    Returns:
      Tensor: 形状 ``(B, 1)`` 的 logits；越大表示越像真实数据。
    """
    C.check_dtype_float(x, "x", "Discriminator")
    C.check_shape(x, ("batch", self.data_dim), "x", "Discriminator")
    for i, layer in enumerate(self.layers):
      x = layer(x)
      if i < len(self.layers) - 1: x = x.leaky_relu(0.2)
    return x


class GAN:
  """把生成器和判别器放在一起，便于保存、采样与训练（见 ``train_gan``）。

  Args:
    latent_dim: 潜变量维度。
    data_dim: 数据维度。
    hidden: 生成器与判别器的隐藏层宽度（整数或整数序列）。
    output_activation: 生成器的输出激活（见 ``Generator``）。

  Attributes:
    generator: ``Generator`` 实例。
    discriminator: ``Discriminator`` 实例。
  """

  def __init__(self, latent_dim: int = 2, data_dim: int = 2, hidden: int | Sequence[int] = (64, 64),
               output_activation: str = "identity"):
    self.latent_dim = C.check_positive_int(latent_dim, "latent_dim", "GAN")
    self.data_dim = C.check_positive_int(data_dim, "data_dim", "GAN")
    self.generator = Generator(latent_dim, data_dim, hidden, output_activation)
    self.discriminator = Discriminator(data_dim, hidden)

  def sample_latent(self, n: int, seed: int | None = None) -> Tensor:
    """采样标准正态潜变量（在 NumPy 中生成）。

    Args:
      n: 样本数。
      seed: 随机种子；为 ``None`` 时使用与 ``Tensor.manual_seed`` 同步的随机流。

    Returns:
      Tensor: 形状 ``(n, latent_dim)`` 的 float32 张量。
    """
    n = C.check_positive_int(n, "n", "GAN.sample_latent")
    r = np.random.default_rng(C.check_nonnegative_int(seed, "seed", "GAN.sample_latent")) if seed is not None else init.rng()
    return Tensor(r.standard_normal((n, self.latent_dim)).astype(np.float32))

  def sample(self, n: int, seed: int | None = None) -> Tensor:
    """用生成器生成 ``n`` 个样本（评估模式）。

    Args:
      n: 样本数（正整数）。
      seed: 随机种子；给出时结果可复现。

    Returns:
      Tensor: 形状 ``(n, data_dim)`` 的样本（已计算完成）。
    """
    C.check_positive_int(n, "n", "GAN.sample")
    z = self.sample_latent(n, seed)
    with Context(TRAINING=0):
      return self.generator(z).realize()

  def __call__(self, z: Tensor) -> Tensor:
    """等同于 ``self.generator(z)``。

    Args:
      z: 形状 ``(B, latent_dim)``。

    Returns:
      Tensor: 形状 ``(B, data_dim)``。
    """
    return self.generator(z)


def _write_scalar(t: Tensor, value: float) -> None:
  """原地改写形状 (1,) 的张量（如优化器的学习率），JIT 捕获的是同一块缓冲区，所以下一步立即生效。"""
  base = t.uop.base
  buf = getattr(base, "buffer", None) if base.is_realized else None
  if buf is not None and hasattr(getattr(buf, "allocator", None), "_as_buffer") and t.dtype == dtypes.float32:
    np.frombuffer(buf.as_memoryview(force_zero_copy=True), dtype=np.float32)[:] = value
  else:
    t.assign(Tensor([value], dtype=t.dtype, device=t.device)).realize()


def train_gan(gan: GAN, data: np.ndarray | Tensor, steps: int, batch_size: int = 64, lr: float = 1e-3, seed: int = 0,
              progress: bool = False, d_steps: int = 1, lr_schedule: str = "cosine",
              fast: bool = True) -> dict[str, list[float]]:
  """交替训练判别器与生成器（非饱和生成器损失），返回每一步的损失。

  每一步：

  1. 判别器：最小化 ``BCE(D(x_real), 1) + BCE(D(G(z)), 0)``（对生成样本不回传到生成器）；
  2. 生成器：最小化 ``BCE(D(G(z)), 1)``，即最大化 ``log D(G(z))``（非饱和损失，训练初期梯度不会消失）。

  两个优化器都是 Adam（``betas=(0.5, 0.999)``）；默认学习率按余弦曲线从 ``lr`` 逐步降到 0——GAN 的两个网络
  一直在互相追赶，学习率不降时生成分布会在各个模式之间来回摆动，降下来之后样本更集中、各模式更均衡。
  两个训练步各用一个 ``TinyJit`` 编译，批数据与潜变量在 NumPy 中按 ``seed`` 生成后写入固定的输入缓冲区
  （见 ``tinymodels.utils.BatchBuffer``），所以同一台机器上结果可复现。

  Args:
    gan: 要训练的 ``GAN``。
    data: 形状 ``(N, data_dim)`` 的训练数据（NumPy 数组或张量），``N >= batch_size``。
    steps: 训练步数（每步更新判别器 ``d_steps`` 次、生成器 1 次）。
    batch_size: 批大小。
    lr: 两个优化器的学习率。
    seed: 抽批与潜变量的随机种子。
    progress: 是否显示 tqdm 进度条。
    d_steps: 每步判别器更新的次数。
    lr_schedule: ``"cosine"``（默认，余弦退火到 0）或 ``"constant"``。
    fast: 为 ``True`` 时在 ``tinymodels.utils.fast_compile()`` 中编译（跳过内核优化，首步快得多）。

  Returns:
    dict[str, list[float]]: ``{"d_loss": [...], "g_loss": [...]}``，长度都等于 ``steps``。
  """
  w = "train_gan"
  if not isinstance(gan, GAN): raise ValueError(f"{w}: 参数 gan 应为 GAN 实例，实际为 {type(gan).__name__}")
  arr = data.numpy() if isinstance(data, Tensor) else np.asarray(data)
  if arr.ndim != 2 or arr.shape[1] != gan.data_dim:
    raise ValueError(f"{w}: 输入 data 的形状应为 (N, {gan.data_dim})，实际为 {C.format_shape(arr.shape)}")
  if not np.issubdtype(arr.dtype, np.number): raise ValueError(f"{w}: 输入 data 应为数值数组，实际 dtype 为 {arr.dtype}")
  steps = C.check_positive_int(steps, "steps", w)
  batch_size = C.check_positive_int(batch_size, "batch_size", w)
  if arr.shape[0] < batch_size:
    raise ValueError(f"{w}: 数据量 N={arr.shape[0]} 应不少于 batch_size={batch_size}，data 形状为 {C.format_shape(arr.shape)}")
  lr = C.check_positive_float(lr, "lr", w)
  seed = C.check_nonnegative_int(seed, "seed", w)
  C.check_bool(progress, "progress", w)
  d_steps = C.check_positive_int(d_steps, "d_steps", w)
  C.check_choice(lr_schedule, ("cosine", "constant"), "lr_schedule", w)
  C.check_bool(fast, "fast", w)
  arr = arr.astype(np.float32)
  G, D = gan.generator, gan.discriminator
  d_opt = Adam(get_parameters(D), lr=lr, b1=0.5, b2=0.999)
  g_opt = Adam(get_parameters(G), lr=lr, b1=0.5, b2=0.999)
  ones, zeros = Tensor.ones(batch_size, 1).contiguous().realize(), Tensor.zeros(batch_size, 1).contiguous().realize()

  @TinyJit
  def d_step(real: Tensor, z: Tensor) -> Tensor:
    d_opt.zero_grad()
    fake = G(z).detach()
    loss = bce_with_logits(D(real), ones) + bce_with_logits(D(fake), zeros)
    loss.backward()
    return loss.realize(*d_opt.schedule_step())

  @TinyJit
  def g_step(z: Tensor) -> Tensor:
    g_opt.zero_grad()
    loss = bce_with_logits(D(G(z)), ones)
    loss.backward()
    out = loss.realize(*g_opt.schedule_step())
    d_opt.zero_grad()  # backward 也给判别器参数算了（未实现的）梯度；这里只更新生成器，把它们丢掉
    return out

  rng = np.random.default_rng(seed)
  history: dict[str, list[float]] = {"d_loss": [], "g_loss": []}
  from tqdm.auto import tqdm
  from tinymodels.utils import BatchBuffer, fast_compile, read_scalar
  real_buf = BatchBuffer((batch_size, gan.data_dim))
  zd_buf, zg_buf = BatchBuffer((batch_size, gan.latent_dim)), BatchBuffer((batch_size, gan.latent_dim))
  with Context(TRAINING=1), fast_compile(fast):
    for it in tqdm(range(steps), desc="train_gan", disable=not progress):
      if lr_schedule == "cosine" and it > 0:
        cur = lr * 0.5 * (1.0 + math.cos(math.pi * it / steps))
        _write_scalar(d_opt.lr, cur)
        _write_scalar(g_opt.lr, cur)
      for _ in range(d_steps):
        real = real_buf.write(arr[rng.integers(0, arr.shape[0], size=batch_size)])
        z = zd_buf.write(rng.standard_normal((batch_size, gan.latent_dim)))
        d_loss = d_step(real, z)
      g_loss = g_step(zg_buf.write(rng.standard_normal((batch_size, gan.latent_dim))))
      dl, gl = read_scalar(d_loss), read_scalar(g_loss)
      if not (math.isfinite(dl) and math.isfinite(gl)):
        raise FloatingPointError(f"{w}: 训练发散，第 {len(history['d_loss']) + 1} 步损失为 d_loss={dl}、g_loss={gl}；可尝试减小 lr")
      history["d_loss"].append(dl)
      history["g_loss"].append(gl)
  return history
