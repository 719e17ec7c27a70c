# 在 8x8 手写数字上训练一个自编码器：64 维像素 -> 8 维瓶颈 -> 64 维重建。
# 断言：测试集重建误差低于 0.025，远低于“总是输出平均图像”的基线，
# 也低于同样 8 维的 PCA。
import numpy as np
from tinygrad.nn.optim import Adam
from tinygrad.nn.state import get_parameters

from tinymodels import (
    Autoencoder,
    evaluate,
    fit,
    load_digits,
    mse_loss,
    set_seed,
)

# 像素已缩放到 [0, 1]，与解码器最后的 sigmoid 相配；flatten=True 得到 (N, 64)
X_train, _ = load_digits("train", flatten=True)  # (1442, 64)，标签用不到
X_test, _ = load_digits("test", flatten=True)  # (355, 64)

set_seed(0)  # 在创建模型之前设种子，权重初始化才可复现
ae = Autoencoder(
    input_dim=64, hidden_dims=(32,), latent_dim=8
)  # 编码器 64->32->8，解码器 8->32->64

# 自编码器的“标签”就是输入本身：fit 的目标传 X_train，损失用均方误差
history = fit(
    ae,
    (X_train, X_train),
    loss_fn=mse_loss,
    epochs=20,
    batch_size=128,
    optimizer=Adam(get_parameters(ae), lr=1e-2),
)
test_mse = evaluate(ae, (X_test, X_test), loss_fn=mse_loss)["loss"]

# 基线 1：不看输入，总是输出训练集的平均图像
mean_image = X_train.mean(axis=0)
baseline_mse = float(((X_test - mean_image) ** 2).mean())
# 基线 2：8 维 PCA（最优的线性编码器/解码器），
# 用训练集的前 8 个主成分重建测试集
_, _, vt = np.linalg.svd(X_train - mean_image, full_matrices=False)
P = vt[:8]  # (8, 64)，行是主成分方向
pca_mse = float(
    (((X_test - mean_image) @ P.T @ P + mean_image - X_test) ** 2).mean()
)

print(
    f"训练损失：第 1 轮 {history['loss'][0]:.4f} -> 第 {len(history)} 轮 "
    f"{history['loss'][-1]:.4f}"
)
print(
    f"测试集 MSE：自编码器 {test_mse:.4f}，8 维 PCA {pca_mse:.4f}，"
    f"平均图像基线 {baseline_mse:.4f}"
)
assert test_mse < 0.025
assert test_mse < baseline_mse / 2
assert test_mse < pca_mse
