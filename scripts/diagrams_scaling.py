"""规模定律（docs/llm/scaling-laws/）的图：由 scripts/diagrams.py 汇总生成。

* ``scaling-allocation``：左边是算力每增加 10 倍时，Kaplan 等（2020）与
  Hoffmann 等（2022）的指数各让参数量 N、词元数 D 增加几倍；右边是几个
  真实模型的“每个参数训练了多少个词元” D/N（对数刻度），其中本站基座
  模型的 N 与 D 从随包检查点的元数据读出，不是手写的。
"""

from __future__ import annotations

import math

from diagrams import WIDTH, Drawing

#: 算力最优分配的指数：N_opt ∝ C^a，D_opt ∝ C^b
EXPONENTS = {
    "Kaplan 等 2020": (0.73, 0.27),
    "Chinchilla 2022": (0.50, 0.50),
}

#: (名字, 参数量 N, 训练词元数 D)：GPT-3 与 Chinchilla 见 Hoffmann 等
#: （2022）表 1，Llama 3 8B/70B 见 Meta（2024，“超过 15T”取 15T），
#: 405B 见 Grattafiori 等（2024）
MODELS = [
    ("GPT-3 175B", 175e9, 300e9),
    ("Chinchilla 70B", 70e9, 1.4e12),
    ("Llama 3 405B", 405e9, 15.6e12),
    ("Llama 3 70B", 70e9, 15e12),
    ("Llama 3 8B", 8e9, 15e12),
]


def base_model_tokens() -> tuple[int, int]:
    """本站基座模型的参数量与训练时处理的词元数（步数 × 批大小 × 窗口）。"""
    from tinymodels import read_checkpoint_metadata
    from tinymodels.pretrained import BASE_MODEL_PATH

    meta = read_checkpoint_metadata(BASE_MODEL_PATH)
    t = meta["training"]
    return meta["parameters"], t["steps"] * t["batch"] * t["block"]


def scaling_allocation() -> Drawing:
    """左：算力 ×10 时 N、D 的倍数；右：真实模型的 D/N。"""
    N0, D0 = base_model_tokens()
    models = [*MODELS, ("本站基座模型", N0, D0)]
    d = Drawing(
        "scaling-allocation",
        330,
        "算力增加 10 倍时：Kaplan 的指数让参数量乘 "
        f"{10**0.73:.1f}、词元数乘 {10**0.27:.1f}，Chinchilla 的指数让两者"
        f"都乘 {10**0.5:.2f}。真实模型每个参数训练的词元数："
        + "、".join(f"{n} {D / N:.3g}" for n, N, D in models),
    )
    # ---------------- 左：柱状图，纵轴是倍数（线性刻度）
    x0, y0, h = 60, 262, 200  # 左下角与高度
    top = 6.0

    def py(v: float) -> float:
        return y0 - h * v / top

    for v in range(0, 7):
        d.line([(x0, py(v)), (x0 + 250, py(v))], arrow=False, width=0.5)
        d.text(x0 - 8, py(v) + 4, f"×{v}", size=12, anchor="end")
    d.text(
        x0 - 40, 22, "算力 ×10 时，N 与 D 各乘几倍", size=12, anchor="start"
    )
    for k, (name, (a, b)) in enumerate(EXPONENTS.items()):
        cx = x0 + 70 + 120 * k
        for off, exp, tint, lab in (
            (-22, a, "blue", "N"),
            (22, b, "orange", "D"),
        ):
            v = 10**exp
            d.rect(cx + off - 18, py(v), 36, y0 - py(v), tint, rx=0)
            d.text(cx + off, py(v) - 6, f"{v:.2g}", size=12, bold=True)
            d.text(cx + off, y0 + 16, lab, size=12)
        d.text(cx, y0 + 36, name, size=12)
    # ---------------- 右：D/N，对数刻度
    X0, X1 = 470, 650  # 横轴：log10(D/N) 从 0 到 4

    def px(r: float) -> float:
        return X0 + (X1 - X0) * math.log10(r) / 4

    for e in range(0, 5):
        x = px(10**e)
        d.line([(x, 50), (x, y0)], arrow=False, width=0.5)
        d.text(x, y0 + 16, f"{10**e:g}", size=12)
    d.line([(px(20), 50), (px(20), y0)], arrow=False, dash=True)
    d.text(px(20), 44, "20", size=12, bold=True)
    d.text(X0 - 150, 22, "每个参数训练了多少个词元", size=12, anchor="start")
    d.text((X0 + X1) / 2, y0 + 36, "词元数 / 参数量（对数刻度）", size=12)
    for k, (name, N, D) in enumerate(models):
        y = 70 + 31 * k
        d.text(X0 - 8, y + 4, name, size=12, anchor="end")
        cx = px(D / N)
        d.parts.append(f'<circle cx="{cx:.1f}" cy="{y}" r="5"/>')
    assert X1 < WIDTH
    return d


DIAGRAMS = {"scaling-allocation": scaling_allocation}
