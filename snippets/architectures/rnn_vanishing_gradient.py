# 随时间反向传播（BPTT）：手写的雅可比连乘与 tinygrad 的自动求导一致，
# 而且梯度随着“往回传的步数”几乎按几何级数变小——这就是梯度消失。
import numpy as np
from tinygrad import Tensor

from tinymodels import RNN, set_seed

set_seed(0)
rng = np.random.default_rng(0)
B, T, I, H = 4, 16, 2, 16  # 与本页其他例子相同的形状，编译过的内核可以复用
rnn = RNN(I, H)  # 权重按 PyTorch 的默认方式初始化：U(-1/√H, 1/√H)
x_np = rng.standard_normal((B, T, I)).astype(np.float32)
v_np = rng.standard_normal(H).astype(np.float32)

# 损失只看最后一步：L = Σ_批 v·h_T。x 是普通浮点张量，tinygrad 会为它求梯度。
x = Tensor(x_np)
outputs, h_T = rnn(x)
loss = (h_T * Tensor(v_np)).sum()
loss.backward()
grad_auto = x.grad.numpy()  # (B, T, I)：损失对每一步输入的梯度
hs = outputs.numpy()  # (B, T, H)：每一步的隐状态，手算反向传播要用

# 手写 BPTT：从 δ_T = ∂L/∂h_T = v 出发逐步往回乘雅可比矩阵。
# 批量写法里每一行是一个样本的行向量，所以“左乘 W^T”写成“右乘 W”。
W_xh, W_hh = rnn.weight_ih.numpy(), rnn.weight_hh.numpy()  # (H, I)、(H, H)
delta = np.tile(v_np, (B, 1))  # ∂L/∂h_T，(B, H)
grad_hand = np.zeros_like(x_np)
for t in reversed(range(T)):
    a = delta * (
        1.0 - hs[:, t] ** 2
    )  # 穿过 tanh：乘 tanh'(z_t) = 1 − h_t²（逐元素）
    grad_hand[:, t] = a @ W_xh  # ∂L/∂x_t = W_xh^T a_t
    delta = a @ W_hh  # ∂L/∂h_{t-1} = W_hh^T a_t
assert np.allclose(grad_hand, grad_auto, rtol=1e-4, atol=1e-6), (
    "手写 BPTT 与自动求导不一致"
)

# 第 t 步的输入要经过 k = T − t 次状态转移才影响到 h_T（这里 t 从 1 数起）。
norms = np.linalg.norm(grad_auto.transpose(1, 0, 2).reshape(T, -1), axis=1)[
    ::-1
]  # norms[k]
for k in (0, 1, 3, 7, 15):
    print(f"往回 {k:2d} 步：‖∂L/∂x‖ = {norms[k]:.2e}")
rho = np.max(np.abs(np.linalg.eigvals(W_hh)))
print(f"W_hh 的谱半径 {rho:.2f}，最大奇异值 {np.linalg.norm(W_hh, 2):.2f}")

# 断言：每 4 步取一次平均，梯度范数单调下降；往回 15 步比往回 1 步小两个数量级
# 以上。
means = norms.reshape(4, 4).mean(axis=1)
assert np.all(np.diff(means) < 0), means
assert norms[1] / norms[15] > 100, norms
