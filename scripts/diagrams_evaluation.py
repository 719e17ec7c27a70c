"""评估大模型（docs/llm/evaluation/）的图：由 scripts/diagrams.py 汇总生成。

* ``pass-at-k``：n = 200 个样本里有 c 个正确时，pass@k 随 k 的变化
  （tinymodels.evaluation.pass_at_k），并与朴素估计 1 - (1 - c/n)^k 对照；
* ``mc-scoring``：随包的基座模型给一道选择题的四个选项逐词元打分
  （tinymodels.evaluation.option_logprobs），与 index.md 的例题相同。
"""

from __future__ import annotations

import math

from diagrams import WIDTH, Drawing


def pass_at_k_curves() -> Drawing:
    """pass@k 随 k（对数刻度）的曲线：n = 200，c = 1、5、20、50。"""
    from tinymodels.evaluation import pass_at_k

    n, cs = 200, (1, 5, 20, 50)
    ks = sorted({round(10 ** (e / 20)) for e in range(0, 41)})  # 1..100
    d = Drawing(
        "pass-at-k",
        330,
        "n = 200 个样本里有 c 个正确时 pass@k 随 k 增大的曲线：c = "
        + "、".join(
            f"{c} 时 pass@1 = {pass_at_k(n, c, 1):.3f}、pass@100 = "
            f"{pass_at_k(n, c, 100):.3f}"
            for c in cs
        ),
    )
    x0, x1, y0, y1 = 70, 520, 268, 40  # 绘图区：左右、下上

    def px(k: float) -> float:
        return x0 + math.log10(k) / 2 * (x1 - x0)

    def py(v: float) -> float:
        return y0 - v * (y0 - y1)

    for v in (0, 0.25, 0.5, 0.75, 1.0):
        d.line([(x0, py(v)), (x1, py(v))], arrow=False, width=0.5)
        d.text(x0 - 8, py(v) + 5, f"{v:g}", size=12, anchor="end")
    for k in (1, 10, 100):
        d.text(px(k), y0 + 20, str(k), size=12)
    d.text((x0 + x1) / 2, y0 + 46, "k（允许尝试的次数，对数刻度）", size=13)
    d.text(x0 - 52, 24, "pass@k", size=13, anchor="start")
    for c in cs:
        exact = [(px(k), py(pass_at_k(n, c, k))) for k in ks]
        naive = [(px(k), py(1 - (1 - c / n) ** k)) for k in ks]
        d.line(exact, arrow=False, width=2)
        d.line(naive, arrow=False, width=1.2, dash=True)
        # 标签放在曲线穿过 0.5 处的右边（曲线在那里之后才升高，不挡字）
        half = min(k for k in range(1, 101) if pass_at_k(n, c, k) >= 0.5)
        d.text(
            px(half) + 6, py(0.5) + 16, f"c = {c}", size=12, anchor="start"
        )
    # 图例
    lx, ly = 560, 60
    d.line([(lx, ly), (lx + 30, ly)], arrow=False, width=2)
    d.text(lx + 36, ly + 5, "无偏", size=12, anchor="start")
    d.line([(lx, ly + 24), (lx + 30, ly + 24)], dash=True, arrow=False)
    d.text(lx + 36, ly + 29, "朴素", size=12, anchor="start")
    d.text(lx - 6, ly + 58, "n = 200", size=12, anchor="start", muted=True)
    assert lx + 36 + 2 * 12 < WIDTH
    return d


#: index.md 里逐词元打分的那道题（与页面的代码块相同）
MC_PROMPT = "“模型”倒过来是“"
MC_OPTIONS = ["型模”。", "模型”。", "积卷”。", "向量”。"]


def mc_scoring() -> Drawing:
    """基座模型给一道倒序题的四个选项逐词元打分（option_logprobs）。"""
    import numpy as np

    from tinymodels.chat import ENDOFTEXT
    from tinymodels.evaluation import option_logprobs
    from tinymodels.pretrained import load_base_model

    model, tok = load_base_model()
    lps = option_logprobs(model, tok, ENDOFTEXT + MC_PROMPT, MC_OPTIONS)
    sums = [float(lp.sum()) for lp in lps]
    means = [float(lp.mean()) for lp in lps]
    best = int(np.argmax(sums))
    rows = []  # 每个选项：[(文字, log p, 几个词元), ...]
    for o, lp in zip(MC_OPTIONS, lps):
        ids = tok.encode(ENDOFTEXT + MC_PROMPT + o)[-len(lp) :]
        cells, raw, acc, n = [], b"", 0.0, 0
        for i, v in zip(ids, lp.tolist()):
            # 字节级词元可能只是半个汉字：攒到能解码成完整的字再画一格
            raw, acc, n = raw + tok.vocab[i], acc + v, n + 1
            try:
                cells.append((raw.decode("utf-8"), acc, n))
                raw, acc, n = b"", 0.0, 0
            except UnicodeDecodeError:
                continue
        assert not raw and "".join(c[0] for c in cells) == o, o
        rows.append(cells)

    grouped = any(n > 1 for cells in rows for _, _, n in cells)
    row_h, top = 58, 78
    d = Drawing(
        "mc-scoring",
        top + row_h * len(rows) + 34,
        f"基座模型给倒序题“{MC_PROMPT}”的四个选项逐词元打分："
        + "；".join(
            f"{o} 的对数似然之和 {s:.2f}、平均 {m:.2f}"
            for o, s, m in zip(MC_OPTIONS, sums, means)
        )
        + f"；选中 {MC_OPTIONS[best]}",
    )
    d.text(20, 26, f"提示：<|endoftext|>{MC_PROMPT}", size=14, anchor="start")
    cell, x_tok, x_sum, x_mean = 74, 130, 520, 610
    d.text(x_tok, 58, "选项的每个词元：文字与 log p（色越深，p 越大）",
           size=12, anchor="start", muted=True)  # fmt: skip
    d.text(x_sum, 58, "求和", size=12, muted=True)
    d.text(x_mean, 58, "平均", size=12, muted=True)
    for r, (o, cells) in enumerate(zip(MC_OPTIONS, rows)):
        y = top + r * row_h
        d.text(20, y + 27, o, size=14, anchor="start", bold=r == best)
        for j, (piece, lp, n) in enumerate(cells):
            x = x_tok + j * (cell + 6)
            p = math.exp(lp)
            d.rect(x, y, cell, 42, "blue", opacity=0.08 + 0.6 * p, dash=n > 1)
            d.text(x + cell / 2, y + 18, piece, size=14)
            d.text(x + cell / 2, y + 35, f"{lp:.2f}", size=12)
        d.text(x_sum, y + 27, f"{sums[r]:.2f}", size=14, bold=r == best)
        d.text(x_mean, y + 27, f"{means[r]:.2f}", size=14, bold=r == best)
        assert x_tok + len(cells) * (cell + 6) < x_sum - 30, o
    d.text(
        WIDTH / 2,
        top + row_h * len(rows) + 18,
        "加粗：对数似然之和最大的选项"
        + ("；虚线框：几个字节级词元合成的一个字" if grouped else ""),
        size=12,
        muted=True,
    )
    return d


#: 文件名（不含 .svg）→ 生成函数
DIAGRAMS = {
    "pass-at-k": pass_at_k_curves,
    "mc-scoring": mc_scoring,
}
