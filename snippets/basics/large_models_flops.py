# 用 tinygrad 的运算计数器核对“每个样本前向约 2N、前向加反向约 6N 次浮点运
# 算”。
# GlobalCounters.global_ops 累计实际执行的内核做了多少次浮点运算（乘、加各算一
# 次）。
import numpy as np
from tinygrad import GlobalCounters, Tensor
from tinygrad.nn.state import get_parameters

from tinymodels import MLP, count_parameters, kernel_opts, set_seed

set_seed(0)
# 计数器统计的是编译后的内核真正做了的运算。在 OpenCL、CUDA 这类后端上，
# tinygrad 会把太小的维度补齐到线程组的大小，补出来的运算也计入：批大小 16、
# 宽度 32 时实测是理论值的 4 倍（OpenCL）。
# 所以这里的批大小和宽度都取 64 以上，补齐的部分可以忽略，
# CPU 和 OpenCL 上的比值都在 10% 以内。
B = 64  # 批大小：B 个样本，相当于公式里的 D = B 个“token”
sizes = [64, 128, 128, 16]
model = MLP(sizes)
N = count_parameters(model)
x = Tensor(
    np.random.default_rng(0).standard_normal((B, sizes[0])).astype(np.float32)
)

# 计数器数的是编译出的内核实际执行的运算，它随内核怎样切分、融合而变：
# 同一个训练步，不同的内核优化数出的运算数能差一两成。这里用 tinygrad
# 自己默认的内核优化来编译。
with kernel_opts("tinygrad"):
    # 前向：每个权重对每个样本做一次乘法和一次加法，约 2N 次运算/样本
    GlobalCounters.reset()
    model(x).realize()
    forward_ops = GlobalCounters.global_ops

    # 前向 + 反向：反向既要对激活求梯度，也要对权重求梯度，各约 2N，
    # 合计约 6N 次运算/样本
    loss = model(x).sum()
    loss.backward()
    grads = [p.grad for p in get_parameters(model)]
    GlobalCounters.reset()
    Tensor.realize(loss, *grads)  # 一次执行前向与全部参数梯度
    train_ops = GlobalCounters.global_ops

print(f"N = {N:,d}，D = {B}")
print(
    f"前向：实测 {forward_ops:,d}，2ND = {2 * N * B:,d}，比值 "
    f"{forward_ops / (2 * N * B):.3f}"
)
print(
    f"训练：实测 {train_ops:,d}，6ND = {6 * N * B:,d}，比值 "
    f"{train_ops / (6 * N * B):.3f}"
)
# 偏置、ReLU、求和等零碎运算与第一层不需要的输入梯度让比值略偏离 1，
# 但都在 10% 以内
assert abs(forward_ops / (2 * N * B) - 1) < 0.1
assert abs(train_ops / (6 * N * B) - 1) < 0.1
