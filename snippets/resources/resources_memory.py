# 训练一个 N 参数模型时，参数、梯度与 Adam 状态要占多少内存？
# 先在一个真实的 tinymodels 模型上数出每一项的字节数，
# 确认“fp32 + Adam = 每参数 16 字节”，再把同一个公式用到 GPT-3 的 1750 亿参数
# 上。激活值（随批大小和序列长度变化）
# 不在这个估算里。
from tinygrad import Tensor, dtypes
from tinygrad.nn.optim import Adam
from tinygrad.nn.state import get_parameters

from tinymodels import TinyGPT, count_parameters, cross_entropy, set_seed

set_seed(0)
model = TinyGPT(
    vocab_size=64, block_size=16, d_model=32, num_heads=4, num_layers=2
)
params = [p for p in get_parameters(model) if p.is_param]
N = count_parameters(model)
assert sum(p.numel() for p in params) == N


def nbytes(tensors: list[Tensor]) -> int:
    """一组张量占用的字节数：元素个数 × 每个元素的字节数（fp32 为 4）。"""
    return sum(t.numel() * t.dtype.itemsize for t in tensors)


# 1) 梯度：做一次前向和反向。tinygrad 是惰性的，这里不必真正计算，.grad
# 的形状和类型已经确定。
idx = Tensor.randint(2, 16, high=64)
cross_entropy(model(idx[:, :-1]), idx[:, 1:]).backward()
grads = [p.grad for p in params]
assert all(
    g is not None and g.shape == p.shape for g, p in zip(grads, params)
)

# 2) Adam 的状态：一阶矩 m 与二阶矩 v，各与参数一样大（tinygrad 把它们放在
# opt.m、opt.v 里）。
# 另有两个标量 b1_t、b2_t（β1^t、β2^t，用于偏差修正），只占 8 字节，可以忽略。
opt = Adam(params, lr=1e-3)
measured = {
    "weights": nbytes(params),
    "grads": nbytes(grads),
    "adam_m": nbytes(opt.m),
    "adam_v": nbytes(opt.v),
}
print(f"TinyGPT 参数 N = {N:,}")
for name, b in measured.items():
    print(f"  {name:8s} {b:>10,} 字节 = {b / N:.0f} 字节/参数")
assert all(t.dtype == dtypes.float32 for t in params + grads + opt.m + opt.v)
assert sum(measured.values()) == 16 * N  # 4 + 4 + 4 + 4


# 3) 估算公式：每个参数的字节数乘以 N。
# 几种常见配置（都不含激活值和临时缓冲区）：
BYTES_PER_PARAM = {
    "fp32 权重 + fp32 梯度 + Adam(fp32 m, v)": 4 + 4 + 4 + 4,
    "混合精度：bf16 权重/梯度 + fp32 主权重与 m, v": 2 + 2 + 4 + 4 + 4,
    "全 bf16：权重、梯度、m、v 都用 bf16": 2 + 2 + 2 + 2,
    "fp32 + 无动量 SGD": 4 + 4,
    "只做推理：bf16 权重": 2,
}


def training_state_bytes(n_params: int, bytes_per_param: int) -> int:
    return n_params * bytes_per_param


assert training_state_bytes(
    N, BYTES_PER_PARAM["fp32 权重 + fp32 梯度 + Adam(fp32 m, v)"]
) == sum(measured.values())

# 4) 用到 GPT-3（Brown 等，2020）：N = 1750 亿。
N_GPT3 = 175 * 10**9
print(f"GPT-3，N = {N_GPT3:.3g}：")
for name, bpp in BYTES_PER_PARAM.items():
    print(f"  {name:40s} {training_state_bytes(N_GPT3, bpp) / 1e12:6.2f} TB")
fp32_adam = training_state_bytes(N_GPT3, 16)
assert fp32_adam == 2_800 * 10**9  # 2.8 TB（按 1 TB = 10^12 字节）
# 一块 80 GB 显存的加速卡装不下：仅训练状态就至少要 35 块卡的显存，
# 这还没算激活值。
assert -(-fp32_adam // (80 * 10**9)) == 35
# 只推理时，bf16 权重也要 350 GB，仍需多卡或量化。
assert training_state_bytes(N_GPT3, 2) == 350 * 10**9
