# 在本站自己的中文文章上从零训练一个字符级小 GPT：
# 断言它比“只看字频”的模型预测得更准，再用它采样。
import math

import numpy as np
from tinygrad import Tensor
from tinygrad.nn.optim import Adam
from tinygrad.nn.state import get_parameters

from tinymodels import (
    CharTokenizer,
    TinyGPT,
    count_parameters,
    evaluate,
    fit,
    load_corpus,
    next_token_windows,
    set_seed,
)

# 上下文长度 T 与批大小：保持很小，CPU 上才能几秒钟训练完
BLOCK, BATCH = 16, 16
# 只取前 15000 个字符：语料会随网站长大，固定长度让时间和词表都稳定
text = load_corpus()[:15000]
tok = CharTokenizer(text)
V = tok.vocab_size
ids = np.array(tok.encode(text))
# 前 90% 训练，后 10% 验证（验证文本模型从没见过）
split = int(len(ids) * 0.9)
X_train, Y_train = next_token_windows(ids[:split], BLOCK, stride=8)
X_val, Y_val = next_token_windows(ids[split:], BLOCK)
# 验证集凑成整批：每批形状相同，评估只编译一次
n_val = len(X_val) // BATCH * BATCH
X_val, Y_val = X_val[:n_val], Y_val[:n_val]

# 两个基线：均匀猜测的损失是 ln V；只看字频（一元模型，加一平滑）
# 的损失是训练集字频的交叉熵。
counts = np.bincount(ids[:split], minlength=V) + 1.0
unigram = float(-np.log(counts / counts.sum())[Y_val].mean())
print(
    f"词表 V = {V}，均匀基线 ln V = {math.log(V):.3f}，一元模型基线 = "
    f"{unigram:.3f}"
)

set_seed(0)
model = TinyGPT(V, block_size=BLOCK, d_model=32, num_heads=4, num_layers=1)
print(f"参数量：{count_parameters(model):,}")
history = fit(
    model,
    (X_train, Y_train),
    optimizer=Adam(get_parameters(model), lr=1e-2),
    epochs=1,
    batch_size=BATCH,
    metrics=(),
)
val = evaluate(model, (X_val, Y_val), batch_size=BATCH, metrics=())
val_loss = val["loss"]
print(
    f"训练 {len(history.step_losses)} 步：验证损失 {val_loss:.3f}，困惑度 "
    f"{math.exp(val_loss):.1f}"
)

# 采样：一次生成 BATCH 条（形状与训练时相同，复用已编译的内核），
# 开头都是“模型”两个字。
prompt = Tensor(np.array([tok.encode("模型")] * BATCH, dtype=np.int32))
sample = model.generate(
    prompt, max_new_tokens=24, temperature=0.8, top_k=10, seed=0
).numpy()
# 只留概率最大的字
greedy = model.generate(prompt, max_new_tokens=24, top_k=1).numpy()
cold_a = model.generate(
    prompt, max_new_tokens=8, temperature=1e-6, seed=1
).numpy()  # 温度几乎为 0
cold_b = model.generate(
    prompt, max_new_tokens=8, temperature=1e-6, seed=2
).numpy()
print("温度 0.8、top-k 10：", tok.decode(sample[0]))
print("贪心（top-k 1）：   ", tok.decode(greedy[0]))

# 断言：验证损失远低于均匀基线，也低于只看字频的一元模型——模型确实用上了前文。
assert val_loss < math.log(V) - 1.5, (val_loss, math.log(V))
assert val_loss < unigram - 0.4, (val_loss, unigram)
# 采样结果：长度 = 提示 + 新生成的字数，编号都在词表内；温度趋于 0 时，
# 不同随机种子都得到贪心解码的结果。
assert (
    sample.shape == (BATCH, 2 + 24) and 0 <= sample.min() and sample.max() < V
)
assert (cold_a == greedy[:, : 2 + 8]).all() and (
    cold_b == greedy[:, : 2 + 8]
).all()
assert (sample[:, :2] == prompt.numpy()).all()
