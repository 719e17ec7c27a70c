# 在一维上数值验证最优判别器 D*(x) = p_data(x) / (p_data(x) + p_g(x))。
# 做法：生成器固定不动（p_g 是一个已知的高斯分布），只训练判别器区分两组样本，
# 再把学到的 D(x) 与公式逐点比较；最后核对 V(G, D*) = −log 4 + 2·JSD(p_data ‖
# p_g)。
import numpy as np
from tinygrad import Tensor
from tinygrad.nn.optim import Adam
from tinygrad.nn.state import get_parameters

from tinymodels import Discriminator, bce_with_logits, fit, set_seed

MU_DATA, SD_DATA = 0.0, 1.0  # p_data = N(0, 1)
MU_G, SD_G = (
    1.5,
    0.6,
)  # p_g = N(1.5, 0.6²)：方差不同，D* 不是简单的 logistic 曲线


def normal_pdf(x, mu, sd):
    return np.exp(-0.5 * ((x - mu) / sd) ** 2) / (sd * np.sqrt(2 * np.pi))


rng = np.random.default_rng(0)
n = 4096
x_real = rng.normal(MU_DATA, SD_DATA, n)  # 真实样本，标签 1
x_fake = rng.normal(MU_G, SD_G, n)  # 生成样本，标签 0
X = np.concatenate([x_real, x_fake]).astype(np.float32)[:, None]  # (8192, 1)
Y = np.concatenate([np.ones(n), np.zeros(n)]).astype(np.float32)[
    :, None
]  # (8192, 1)

# 判别器输出 logit s，D(x) = sigmoid(s)。最小化二元交叉熵 = −½
# (E_data[log D] + E_g[log(1 − D)]) = −V(D, G)/2，也就是最大化 V。
set_seed(0)
D = Discriminator(data_dim=1, hidden=(32, 32))
history = fit(
    D,
    (X, Y),
    loss_fn=bce_with_logits,
    epochs=10,
    batch_size=512,
    optimizer=Adam(get_parameters(D), lr=1e-2),
)

# 在两种密度都不太小的区间上比较：区间外几乎没有样本，判别器学不到什么
grid = np.linspace(-1.5, 2.5, 81, dtype=np.float32)
p_data, p_g = normal_pdf(grid, MU_DATA, SD_DATA), normal_pdf(grid, MU_G, SD_G)
d_star = p_data / (p_data + p_g)
d_learned = D(Tensor(grid[:, None])).sigmoid().numpy()[:, 0]
max_err = float(np.abs(d_learned - d_star).max())
print(f"学到的 D 与 D* 的最大偏差：{max_err:.3f}")
assert max_err < 0.05

# V(G, D*) = −log 4 + 2·JSD：用数值积分算出 JSD，与公式和训练损失对照
x = np.linspace(-10, 10, 200001)
dx = x[1] - x[0]
p, q = normal_pdf(x, MU_DATA, SD_DATA), normal_pdf(x, MU_G, SD_G)
m = (p + q) / 2
jsd = (
    0.5 * np.sum(p * np.log(p / m)) * dx
    + 0.5 * np.sum(q * np.log(q / m)) * dx
)
v_star = (
    np.sum(p * np.log(p / (p + q)) + q * np.log(q / (p + q))) * dx
)  # 把 D* 代入 V
assert abs(v_star - (-np.log(4) + 2 * jsd)) < 1e-6
# 判别器的最小交叉熵 = −V(G, D*)/2 = log 2 − JSD；训练到最后的损失应当接近它
print(
    f"最后一轮训练损失 {history['loss'][-1]:.4f}，理论最小值 log 2 − JSD = "
    f"{np.log(2) - jsd:.4f}"
)
assert abs(history["loss"][-1] - (np.log(2) - jsd)) < 0.01
