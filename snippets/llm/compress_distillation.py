# 知识蒸馏的损失：L = α·CE(y, softmax(z)) + (1 − α)·T²·KL(p^T ‖ q^T)。
# 用 NumPy 逐项手算，与 tinygrad 的实现对照——这只检查代码有没有抄错公式；
# 有分量的是后面几项：两个有已知答案的极限，以及自动求导的梯度与手推公式、
# 与 T → ∞ 极限的比较。
import numpy as np
from tinygrad import Tensor

from tinymodels import cross_entropy

rng = np.random.default_rng(0)
B, K = 4, 10  # 批大小 B，类别数 K
z_s = rng.normal(0, 2, (B, K)).astype(np.float32)  # 学生的 logits z
z_t = rng.normal(0, 2, (B, K)).astype(np.float32)  # 教师的 logits v
y = rng.integers(0, K, B)  # 真实标签


def distill_loss(
    student: Tensor, teacher: Tensor, labels: Tensor, T: float, alpha: float
) -> Tensor:
    """tinygrad 实现：硬标签交叉熵与软目标 KL 散度的加权和（对批取平均）。"""
    hard = cross_entropy(student, labels)
    log_q = (student / T).log_softmax(-1)  # 学生在温度 T 下的对数概率
    log_p = (
        (teacher / T).log_softmax(-1).detach()
    )  # 教师的软目标，不向教师回传梯度
    kl = (log_p.exp() * (log_p - log_q)).sum(-1).mean()
    return alpha * hard + (1 - alpha) * T**2 * kl


def log_softmax_np(a):
    a = a - a.max(-1, keepdims=True)  # 减去最大值，防止 exp 溢出
    return a - np.log(np.exp(a).sum(-1, keepdims=True))


T, alpha = 4.0, 0.3
# 手算：逐项写出公式
hard_np = -log_softmax_np(z_s)[np.arange(B), y].mean()
p, log_p, log_q = (
    np.exp(log_softmax_np(z_t / T)),
    log_softmax_np(z_t / T),
    log_softmax_np(z_s / T),
)
kl_np = (p * (log_p - log_q)).sum(-1).mean()
by_hand = alpha * hard_np + (1 - alpha) * T**2 * kl_np
# 另一种算法：KL(p‖q) = 交叉熵 H(p, q) − 熵 H(p)，两者只差一个与学生无关的常数
kl_alt = (-(p * log_q).sum(-1) + (p * log_p).sum(-1)).mean()
assert np.isclose(kl_np, kl_alt, rtol=1e-5)

loss = distill_loss(
    Tensor(z_s), Tensor(z_t), Tensor(y.astype(np.int32)), T, alpha
).item()
# 同一个公式的两种写法：一致只说明 tinygrad 代码没有抄错，不能证明公式对
print(f"手算 {by_hand:.6f}，tinygrad {loss:.6f}")
assert np.isclose(loss, by_hand, rtol=1e-5)

# 极限 1：学生与教师的 logits 相同，KL 为 0，只剩硬标签项 α·CE
same = distill_loss(
    Tensor(z_t), Tensor(z_t), Tensor(y.astype(np.int32)), T, alpha
).item()
assert np.isclose(
    same, alpha * -log_softmax_np(z_t)[np.arange(B), y].mean(), rtol=1e-5
)
# 极限 2：α = 1 时就是普通的交叉熵
assert np.isclose(
    distill_loss(
        Tensor(z_s), Tensor(z_t), Tensor(y.astype(np.int32)), T, 1.0
    ).item(),
    hard_np,
    rtol=1e-5,
)


# 极限 3：T 很大时，软目标项对学生 logit 的梯度 T·(q − p)/B 趋于“去均值后的
# logit 之差”/(K·B)，即蒸馏退化为匹配 logits；正因为乘了 T²，
# 这个梯度的大小不随 T 缩小。
def soft_grad(T: float) -> np.ndarray:
    zs = Tensor(z_s)
    distill_loss(
        zs, Tensor(z_t), Tensor(y.astype(np.int32)), T, alpha=0.0
    ).backward()
    return zs.grad.numpy()


def center(a):
    return a - a.mean(-1, keepdims=True)


limit = (center(z_s) - center(z_t)) / (K * B)
grads = {t: soft_grad(t) for t in (1.0, 4.0, 100.0, 1000.0)}
err_100, err_1000 = (
    np.abs(grads[100.0] - limit).max(),
    np.abs(grads[1000.0] - limit).max(),
)
print(f"与极限的最大偏差：T=100 时 {err_100:.1e}，T=1000 时 {err_1000:.1e}")
assert err_1000 < 1e-3 and err_1000 < err_100 / 5  # 偏差按 1/T 的速度缩小
# 梯度公式 ∂(T²·KL)/∂z = T·(q − p)（再除以批大小 B），在 T = 4 时逐元素核对
q4 = np.exp(log_softmax_np(z_s / 4.0))
assert np.allclose(grads[4.0], 4.0 * (q4 - p) / B, atol=1e-5)
norms = {t: round(float(np.abs(g).sum()), 3) for t, g in grads.items()}
print("不同温度下软目标梯度的 L1 范数：", norms)
assert max(norms.values()) < 5 * min(
    norms.values()
)  # 乘了 T² 之后，量级基本不随 T 变化
