"""LoRA（docs/llm/lora/）的图：由 scripts/diagrams.py 汇总生成。

* ``lora-adapter``：随包基座模型第 0 层的 ``W_q`` 加上秩 r 的适配器之后，
  冻结的 ``W`` 与旁路 ``A``、``B`` 的形状和参数量；全模型的可训练参数
  来自 ``apply_lora`` 与 ``count_parameters``。
"""

from __future__ import annotations

from diagrams import WIDTH, Drawing, shape_str

#: 与 docs/llm/lora/index.md 相同的设置
R, ALPHA, TARGETS = 4, 8.0, ("wq", "wv")


def lora_adapter() -> Drawing:
    """冻结的 W 旁边并联 A、B：h = W x + (α/r) B (A x)。"""
    from tinygrad import Tensor, dtypes

    from tinymodels import count_parameters
    from tinymodels.lora import apply_lora, lora_layers, lora_parameter_count
    from tinymodels.pretrained import load_base_model

    model, _ = load_base_model()
    total = count_parameters(model)
    apply_lora(model, r=R, alpha=ALPHA, targets=TARGETS)
    trainable = count_parameters(model)
    layers = lora_layers(model)
    q, v = layers["blocks.0.attn.wq"], layers["blocks.0.attn.wv"]
    x = model.tok_emb[Tensor.zeros(1, 8, dtype=dtypes.int32)]  # (1, 8, C)
    h = q(x)  # 惰性：只读形状
    ax = x @ q.A.T
    d_in, d_out, r = q.d_in, q.d_out, q.r
    assert tuple(q.base.weight.shape) == (d_out, d_in)
    assert trainable == sum(
        lora_parameter_count(m.d_in, m.d_out, m.r) for m in layers.values()
    )

    d = Drawing(
        "lora-adapter",
        300,
        f"冻结的 W（{d_out}×{d_in}）旁边并联 A（{r}×{d_in}）与 B"
        f"（{d_out}×{r}），输出相加；全模型可训练参数 {trainable:,} 个，"
        f"占 {total:,} 的 {trainable / total:.1%}",
    )
    d.text(
        WIDTH / 2,
        22,
        f"基座 TinyLlama 第 0 层的 W_{{q}} 加上 LoRA"
        f"（r = {r}，α = {ALPHA:g}）",
        bold=True,
    )
    y_up, y_lo, cy = 88, 200, 144
    # 输入 x，分成两路
    d.text(22, cy + 5, "x", size=15, italic=True)
    d.text(40, cy + 26, shape_str(x.shape), size=12, muted=True)
    d.line([(32, cy), (70, cy)], arrow=False)
    d.line([(70, cy), (70, y_up), (205, y_up)])
    d.line([(70, cy), (70, y_lo), (105, y_lo)])
    # 上路：冻结的 W
    d.box(
        300, y_up, 190, 62,
        ["W（冻结，不训练）", f"{d_out}×{d_in} = {d_in * d_out:,} 个参数"],
        "gray", size=13, dash=True,
    )  # fmt: skip
    d.line([(395, y_up), (570, y_up), (570, cy - 11)])
    # 下路：A、中间的 r 维、B、缩放
    d.box(
        160, y_lo, 110, 56,
        [f"A：{r}×{d_in}", f"{r * d_in} 个，随机"], "blue", size=13,
    )  # fmt: skip
    d.line([(215, y_lo), (245, y_lo)])
    d.box(
        270, y_lo, 46, 30, [f"{r} 维"], "blue", size=12
    )  # 瓶颈：A x 只有 r 个数
    d.line([(293, y_lo), (323, y_lo)])
    d.box(
        378, y_lo, 110, 56,
        [f"B：{d_out}×{r}", f"{d_out * r} 个，初值 0"], "orange", size=13,
    )  # fmt: skip
    d.line([(433, y_lo), (470, y_lo)])
    d.op(490, y_lo, "×")
    d.text(490, y_lo + 34, f"α/r = {q.scale:g}", size=12)
    d.line([(501, y_lo), (570, y_lo), (570, cy + 11)])
    d.text(270, y_lo + 46, f"A x：{shape_str(ax.shape)}", size=12, muted=True)
    # 相加，输出 h
    d.op(570, cy, "+")
    d.line([(581, cy), (628, cy)])
    d.text(645, cy + 5, "h", size=15, italic=True)
    d.text(640, cy + 26, shape_str(h.shape), size=12, muted=True)
    d.text(
        WIDTH / 2,
        268,
        f"这个适配器 r(d_{{in}} + d_{{out}}) = {r}×({d_in}+{d_out}) = "
        f"{lora_parameter_count(d_in, d_out, r)} 个参数；"
        f"W_{{v}} 是 {v.d_out}×{v.d_in}，"
        f"适配器 {lora_parameter_count(v.d_in, v.d_out, r)} 个",
        size=12,
        muted=True,
    )
    d.text(
        WIDTH / 2,
        288,
        f"{model.num_layers} 层的 W_{{q}}、W_{{v}} 共 {len(layers)} 个"
        "适配器："
        f"可训练 {trainable:,} 个，占全模型 {total:,} 个的 "
        f"{trainable / total:.1%}",
        size=12,
        muted=True,
    )
    return d


#: 文件名（不含 .svg）→ 生成函数。
DIAGRAMS = {"lora-adapter": lora_adapter}
