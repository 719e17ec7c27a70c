# 在“圆环上的 8 个高斯”上训练 GAN，并检查它覆盖了每一个模式（没有发生模式坍
# 塌）。
import numpy as np
from tinygrad import Context, Tensor, TinyJit
from tinygrad.nn.optim import Adam
from tinygrad.nn.state import get_parameters

from tinymodels import (
    GAN,
    bce_with_logits,
    gaussian_mixture,
    mixture_centers,
    set_seed,
)

MODES, N, B = 8, 512, 128  # 模式数、训练样本数、批大小
# 8 个中心均匀分布在半径为 2 的圆上，每个分量的标准差 0.05；
# 整个数据集一次性放到设备上
data = Tensor(
    gaussian_mixture(N, modes=MODES, std=0.05, seed=0)
).realize()  # (512, 2)

set_seed(0)
gan = GAN(
    latent_dim=2, data_dim=2, hidden=(128,)
)  # 生成器 2->128->2，判别器 2->128->1
G, D = gan.generator, gan.discriminator
# 两个网络各有一个优化器；β1 = 0.5 是 GAN 训练里常用的设置（Radford 等，2016）
d_opt = Adam(get_parameters(D), lr=2e-3, b1=0.5)
g_opt = Adam(get_parameters(G), lr=2e-3, b1=0.5)
ones, zeros = (
    Tensor.ones(B, 1).contiguous().realize(),
    Tensor.zeros(B, 1).contiguous().realize(),
)


# 整个交替训练步编译一次；随机批和潜变量都在设备上生成，不必每步从 NumPy 拷贝
@TinyJit
def train_step() -> tuple[Tensor, Tensor]:
    real = data[Tensor.randint(B, high=N)]  # 有放回地抽一批真实样本
    fake = G(Tensor.randn(B, 2))  # z ~ N(0, I)
    # 第 1 步：更新判别器，最小化 BCE(D(x), 1) + BCE(D(G(z)), 0)，
    # 即最大化 V(D, G)；
    # detach() 让这一步的梯度不流进生成器
    d_opt.zero_grad()
    d_loss = bce_with_logits(D(real), ones) + bce_with_logits(
        D(fake.detach()), zeros
    )
    d_loss.backward()
    Tensor.realize(d_loss, *d_opt.schedule_step())
    # 第 2 步：更新生成器，用非饱和损失 −log D(G(z)) = BCE(D(G(z)), 1)。
    # 这次反向传播也会给判别器参数算出梯度，但只有 g_opt 更新参数，
    # 下一步开头 d_opt.zero_grad() 会清掉它们
    g_opt.zero_grad()
    g_loss = bce_with_logits(D(G(Tensor.randn(B, 2))), ones)
    g_loss.backward()
    Tensor.realize(g_loss, *g_opt.schedule_step())
    return d_loss, g_loss


with Context(TRAINING=1):
    for _ in range(1500):
        d_loss, g_loss = train_step()
print(
    f"最后一步：判别器损失 {d_loss.item():.3f}，生成器损失 "
    f"{g_loss.item():.3f}"
)

# 评估：生成 2000 个样本，按最近的中心分到 8 个模式
samples = gan.sample(2000, seed=1).numpy()  # (2000, 2)
centers = mixture_centers(MODES)  # (8, 2)
dist = np.linalg.norm(
    samples[:, None, :] - centers[None], axis=-1
)  # (2000, 8)
near = (
    dist.min(axis=1) < 0.25
)  # 离某个中心不到 5 个标准差，算作“像真实数据”的样本
counts = np.bincount(dist.argmin(axis=1)[near], minlength=MODES)
print(
    f"落在某个模式附近的样本占 {near.mean():.0%}；各模式分到的样本数："
    f"{counts.tolist()}"
)
assert near.mean() > 0.5
# 每个模式都至少分到公平份额（附近样本数 / 8）的一半：8 个模式一个不少
assert counts.min() >= 0.5 * counts.sum() / MODES
