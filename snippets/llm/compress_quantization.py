# int8 量化：把训练好的 MLP 的权重存成 8 位整数。
# 断言：逐元素的还原误差不超过 scale/2；整数矩阵乘法与浮点计算一致；
# 量化后测试准确率几乎不变。
import numpy as np
from tinygrad import Tensor
from tinygrad.nn.optim import Adam
from tinygrad.nn.state import get_parameters

from tinymodels import MLP, evaluate, fit, load_digits, set_seed

X_train, y_train = load_digits("train", flatten=True)
X_test, y_test = load_digits("test", flatten=True)
set_seed(0)
model = MLP([64, 128, 10])
fit(
    model,
    (X_train, y_train),
    epochs=15,
    batch_size=128,
    optimizer=Adam(get_parameters(model), lr=5e-3),
)
acc_float = evaluate(model, (X_test, y_test))["accuracy"]


def quantize(
    r: np.ndarray, scale: float, zero_point: int, qmin: int, qmax: int
) -> np.ndarray:
    """仿射量化 q = clip(round(r / s) + z, qmin, qmax)。"""
    return np.clip(np.round(r / scale) + zero_point, qmin, qmax).astype(
        np.int32
    )


def dequantize(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """反量化 r̂ = s · (q − z)。"""
    return (scale * (q - zero_point)).astype(np.float32)


W1 = model.layers[0].weight.numpy()  # (128, 64)
# 对称量化（z = 0，整数取 −127..127）：s = max|W| / 127，
# 最大的权重正好映射到 ±127
s_sym = float(np.abs(W1).max()) / 127
q_sym = quantize(W1, s_sym, 0, -127, 127)
err_sym = np.abs(W1 - dequantize(q_sym, s_sym, 0))
# 非对称（仿射）量化（uint8，0..255）：[min, max] 线性映射到 [0, 255]，
# 零点 z 取整数，实数 0 能被精确表示
lo, hi = min(float(W1.min()), 0.0), max(float(W1.max()), 0.0)
s_aff = (hi - lo) / 255
z_aff = int(round(-lo / s_aff))
q_aff = quantize(W1, s_aff, z_aff, 0, 255)
err_aff = np.abs(W1 - dequantize(q_aff, s_aff, z_aff))
print(
    f"对称：s = {s_sym:.5f}，最大误差 {err_sym.max():.5f}；仿射：s = "
    f"{s_aff:.5f}，最大误差 {err_aff.max():.5f}"
)
assert err_sym.max() <= s_sym / 2 * (
    1 + 1e-5
)  # 四舍五入的误差至多半个量化步长
assert err_aff.max() <= s_aff / 2 * (1 + 1e-5)
assert (
    dequantize(np.array([z_aff]), s_aff, z_aff)[0] == 0.0
)  # 实数 0 精确对应整数 z

# 整数推理：输入像素也量化成 uint8（s_x = 1/255，z_x = 0），
# 乘加在 int32 中完成，最后乘一次 s_x · s_w
s_x = 1 / 255
q_x = quantize(X_test, s_x, 0, 0, 255)  # (355, 64)
acc_int32 = q_x @ q_sym.T  # 整数矩阵乘法 (355, 128)
h_int = s_x * s_sym * acc_int32 + model.layers[0].bias.numpy()
h_float = (
    dequantize(q_x, s_x, 0) @ dequantize(q_sym, s_sym, 0).T
    + model.layers[0].bias.numpy()
)
assert np.allclose(h_int, h_float, atol=1e-4)

# 把两层权重都换成对称 int8 反量化后的值，测试准确率应与浮点模型几乎相同
for layer in model.layers:
    w = layer.weight.numpy()
    s = float(np.abs(w).max()) / 127
    layer.weight.assign(
        Tensor(dequantize(quantize(w, s, 0, -127, 127), s, 0))
    ).realize()
acc_int8 = evaluate(model, (X_test, y_test))["accuracy"]
print(
    f"测试准确率：float32 {acc_float:.3f}，int8 权重 {acc_int8:.3f}；"
    "权重存储缩小到 1/4"
)
assert abs(acc_int8 - acc_float) <= 0.01
