# 训练一个 Transformer 编码器把序列倒过来：输入 8 个 0~9 的随机数，
# 位置 t 要输出输入位置 7−t 的数。
# 这个任务只靠“看别的位置”才能完成，正好检验注意力和位置编码；
# 断言在新序列上逐位准确率 ≥ 95%。
from tinygrad.nn.optim import Adam
from tinygrad.nn.state import get_parameters

from tinymodels import (
    TransformerEncoder,
    count_parameters,
    evaluate,
    fit,
    reversal_task,
    set_seed,
)

T, VOCAB = 8, 10
X_train, Y_train = reversal_task(2048, seq_len=T, vocab=VOCAB, seed=0)
X_test, Y_test = reversal_task(
    512, seq_len=T, vocab=VOCAB, seed=1
)  # 另一个种子：训练时没见过的序列
print("输入", X_test[0], "→ 目标", Y_test[0])

set_seed(0)
# 1 层、4 个头、d_model = 32：在 CPU 上几秒钟就能训练完，
# 而且足够学会这个任务。
model = TransformerEncoder(
    VOCAB, VOCAB, d_model=32, num_heads=4, num_layers=1, d_ff=64, max_len=T
)
print(f"参数量：{count_parameters(model):,}")
history = fit(
    model,
    (X_train, Y_train),
    optimizer=Adam(get_parameters(model), lr=1e-2),
    epochs=3,
    batch_size=64,
)
# 评估用与训练相同的批大小，能复用一部分已编译的内核
acc = evaluate(model, (X_test, Y_test), batch_size=64)["accuracy"]
print("每轮训练损失：", [round(l, 3) for l in history["loss"]])
print(f"测试集逐位准确率：{acc:.1%}（随机猜是 {1 / VOCAB:.0%}）")

assert history["loss"][-1] < history["loss"][0] / 10
assert acc >= 0.95
