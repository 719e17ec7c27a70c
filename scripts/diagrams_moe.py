"""混合专家一章的图（docs/llm/moe/）：由 scripts/diagrams.py 自动收集。

* ``moe-layer``：MoE 层的结构，尺寸与参数量取自训练页的配置；示例词元的
  路由用真实的初值、按公式用 NumPy 算（与 index.md 第一个代码块同一个
  种子、同一个输入），不编译内核。
* ``moe-utilisation``：专家利用率。数字从 training.md 与 aux-loss.md
  两个训练代码块的输出块里读：输出块每次测试都与真实运行核对，图也就跟着它们走。
"""

from __future__ import annotations

import re

from diagrams import DOCS, MATH, WIDTH, Drawing, shape_str

#: 与 docs/llm/moe/training.md 的 MoE 配置相同
C, E, K, D_FF, B, T = 32, 4, 2, 44, 16, 16


def moe_layer() -> Drawing:
    """路由器 → top-k → 专家 → 加权求和，标出真实的形状与参数量。"""
    import numpy as np
    from tinygrad import Tensor

    from tinymodels import count_parameters, set_seed
    from tinymodels.layers.moe import MoE

    set_seed(0)  # 与 index.md 第一个代码块相同
    moe = MoE(C, D_FF, num_experts=E, top_k=K)
    x = np.random.default_rng(0).normal(size=(1, 8, C)).astype(np.float32)
    z = x[0, 0] @ moe.router.weight.numpy().T  # 词元 0 的打分 (E,)
    p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    top = [int(i) for i in np.argsort(-p, kind="stable")[:K]]
    g = p[top] / p[top].sum()
    y = moe(Tensor.zeros(B, T, C))  # 惰性：只读形状
    assert tuple(y.shape) == (B, T, C)
    n_router = count_parameters(moe.router)
    n_expert = count_parameters(moe.expert(0))
    total = count_parameters(moe)
    active = n_router + K * n_expert
    N = B * T

    d = Drawing(
        "moe-layer",
        370,
        f"MoE 层：路由器给每个词元算 {E} 个概率，取最大的 {K} 个专家，输出"
        f"按门控加权求和；共 {total} 个参数，每个词元激活 {active} 个",
    )
    d.text(
        WIDTH / 2,
        22,
        f"MoE 层：C = {C}，E = {E} 个 SwiGLU 专家，k = {K}，"
        f"专家 d_ff = {D_FF}",
        bold=True,
    )
    d.text(
        WIDTH / 2,
        42,
        f"共 {total:,} 个参数，每个词元激活 {active:,} 个"
        f"（路由器 + {K} 个专家）",
        size=12,
        muted=True,
    )
    cy = 190
    d.text(22, cy + 5, "x", size=MATH, italic=True)
    d.text(30, cy + 28, shape_str((N, C)), size=12)
    d.line([(34, cy), (62, cy)])
    d.box(
        115, cy, 110, 62, ["路由器 W_r", f"{C} → {E}", "softmax"], "blue", 12
    )
    d.text(115, cy + 48, f"{n_router} 参数", size=12, muted=True)
    d.line([(170, cy), (190, cy)])
    # 词元 0 的路由概率：条形，选中的着色
    bx, base, hmax = 196, cy + 36, 80
    d.text(bx + 44, cy - 58, "词元 0 的 p", size=12, muted=True)
    for i in range(E):
        h = hmax * float(p[i]) / 0.5
        tint = "orange" if i in top else "gray"
        d.rect(bx + i * 22, base - h, 16, h, tint, rx=0, stroke_width=0.8)
        d.text(bx + i * 22 + 8, base + 16, str(i), size=12, muted=True)
    d.text(bx + 44, base + 34, f"选最大的 {K} 个", size=12, muted=True)
    # 专家一列
    ex, ew, eh = 430, 150, 46
    ys = [cy - 108 + i * 72 for i in range(E)]
    for i, ey in enumerate(ys):
        chosen = i in top
        d.box(
            ex, ey, ew, eh,
            [f"专家 {i}：SwiGLU", f"{C} → 2×{D_FF} → {C}"],
            "orange" if chosen else "gray", 12, dash=not chosen,
        )  # fmt: skip
        if chosen:
            gi = float(g[top.index(i)])
            d.line([(bx + 92, cy), (ex - ew / 2, ey)])
            d.line([(ex + ew / 2, ey), (586, cy - 8)])
            gy = ey - 8 if ey < cy else ey + 20  # 写在线的外侧
            d.text(ex + ew / 2 + 6, gy, f"g = {gi:.3f}", 12, "start")
    d.text(ex, ys[-1] + 38, f"每个 {n_expert:,} 参数", size=12, muted=True)
    d.op(598, cy, "+")
    d.text(598, cy - 20, "加权和", size=12, muted=True)
    d.line([(609, cy), (640, cy)])
    d.text(652, cy + 5, "y", size=MATH, italic=True)
    d.text(640, cy + 28, shape_str(y.shape), size=12)
    d.text(
        WIDTH / 2,
        358,
        f"本站实现：{E} 个专家都算全部 {N} 个词元再按掩码取，计算量是"
        f"稀疏实现的 E/k = {E // K} 倍",
        size=12,
        muted=True,
    )
    return d


def _utilisation() -> list[tuple[str, list[float]]]:
    """从 training.md（有辅助损失）与 aux-loss.md（无辅助损失）的输出块里
    读两次训练的 f。"""
    folder = DOCS / "llm" / "moe"
    page = "".join(
        (folder / name).read_text("utf-8")
        for name in ("training.md", "aux-loss.md")
    )
    rows = re.findall(r"各专家分到的比例 f： \[([^\]]*)\]", page)
    assert len(rows) == 2, rows
    vals = [[float(v) for v in r.split()] for r in rows]
    assert all(len(v) == E for v in vals), vals
    return [("有辅助损失（α = 0.01）", vals[0]), ("无辅助损失", vals[1])]


def moe_utilisation() -> Drawing:
    """两次训练后验证集上各专家的名额占比 f，虚线是 1/E。"""
    series = _utilisation()
    d = Drawing(
        "moe-utilisation",
        256,
        "各专家分到的名额占比：有辅助损失 "
        + "、".join(f"{v:.3f}" for v in series[0][1])
        + "；无辅助损失 "
        + "、".join(f"{v:.3f}" for v in series[1][1]),
    )
    x0, y0, w, h, top = 90, 30, 540, 170, 0.4
    tints = ["blue", "red"]

    def ypos(v: float) -> float:
        return y0 + h - h * v / top

    for tick in (0.0, 0.1, 0.2, 0.3, 0.4):
        yy = ypos(tick)
        d.line([(x0, yy), (x0 + w, yy)], arrow=False, width=0.5)
        d.text(x0 - 8, yy + 4, f"{tick:.1f}", size=12, anchor="end")
    d.text(20, y0 - 10, "名额占比 f", size=12, anchor="start")
    slot = w / E
    for i in range(E):
        cx = x0 + (i + 0.5) * slot
        for s, (_, vals) in enumerate(series):
            bx = cx - 40 + s * 44
            top_y = ypos(vals[i])
            d.rect(bx, top_y, 36, y0 + h - top_y, tints[s], rx=0)
            d.text(bx + 18, y0 + h - 8, f"{vals[i]:.2f}", size=12)  # 柱底
        d.text(cx, y0 + h + 18, f"专家 {i}", size=12)
    even = ypos(1 / E)
    d.line([(x0, even), (x0 + w, even)], arrow=False, dash=True, width=1.5)
    d.text(x0 + w + 4, even + 4, "1/E", size=12, anchor="start")
    for s, (name, _) in enumerate(series):
        lx = x0 + 60 + s * 230
        d.rect(lx, y0 + h + 34, 14, 14, tints[s], rx=0)
        d.text(lx + 20, y0 + h + 46, name, size=12, anchor="start")
    return d


DIAGRAMS = {"moe-layer": moe_layer, "moe-utilisation": moe_utilisation}
