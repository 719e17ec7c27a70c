"""GRPO 一章的图（docs/llm/grpo/）：由 scripts/diagrams.py 自动收集。

``grpo-group``：基座模型对一道加法题采样的一组回答、各自的奖励和组内
标准化后的优势。回答是真实采样出来的（固定种子）；grpo/index.md 的代码块
把这组奖励抄成了常数，这里核对两者一致（基座模型一换，图和页面一起
过期）。

``grpo-step``：``train_grpo`` 的一步，形状取自 grpo/training.md 的设置
（只读形状，不计算）。
"""

from __future__ import annotations

import re

from diagrams import WIDTH, Drawing, shape_str

from devtools.paths import DOCS

#: 与 docs/llm/grpo/index.md 相同的题目、组大小与种子
QUESTION, ANSWER, G, SEED = "15+19=", "34", 8, 3


def _group():
    """``(回答文字, 奖励, 优势)``：与页面代码块相同的一次采样。"""
    import numpy as np

    from tinymodels.chat import ENDOFTEXT
    from tinymodels.grpo import (
        addition_reward,
        completion_mask,
        group_advantages,
        sample_group,
    )
    from tinymodels.pretrained import load_base_model

    model, tok = load_base_model()
    prompt = tok.encode(ENDOFTEXT + QUESTION)
    c = sample_group(model, prompt, G, 4, temperature=1.0, seed=SEED)
    keep = completion_mask(c, tok.special_tokens[ENDOFTEXT])
    texts = [tok.decode(row[m > 0]) for row, m in zip(c, keep)]
    r = np.array([addition_reward(t, ANSWER) for t in texts])
    page = (DOCS / "llm" / "grpo" / "index.md").read_text(encoding="utf-8")
    quoted = re.search(r"^r = np\.array\(\[([^\]]*)\]\)", page, re.M)
    assert quoted and [float(v) for v in quoted[1].split(",")] == list(r), (
        f"grpo/index.md 里抄的奖励与基座的真实采样 {r.tolist()} 不一致"
    )
    return texts, r, group_advantages(r, G)


def grpo_group() -> Drawing:
    """一道题 → G 个回答 → 奖励 → 组相对优势。"""
    from tinymodels.chat import ENDOFTEXT

    texts, r, A = _group()
    row_h, top = 30, 62
    height = top + G * row_h + 58
    d = Drawing(
        "grpo-group",
        height,
        f"基座模型对 {QUESTION} 采样 {G} 个回答，奖励 "
        + "、".join(f"{v:g}" for v in r)
        + "，组内标准化后的优势 "
        + "、".join(f"{v:+.2f}" for v in A),
    )
    xs = {"prompt": 70, "text": 250, "r": 395, "axis": 540}
    d.text(xs["text"], 30, "回答 o_{i}（采样，温度 1）", size=13, bold=True)
    d.text(xs["r"], 30, "奖励 r_{i}", size=13, bold=True)
    d.text(xs["axis"], 30, "优势 A_{i}", size=13, bold=True)
    mid = top + G * row_h / 2
    d.box(xs["prompt"], mid - 8, 110, 56, ["提示", QUESTION], "gray", 14)
    scale = 80 / max(1.0, float(abs(A).max()))  # 每单位优势的像素
    for i, (t, ri, ai) in enumerate(zip(texts, r, A)):
        y = top + i * row_h + row_h / 2
        d.line([(xs["prompt"] + 55, mid - 8), (xs["text"] - 82, y)], width=1)
        shown = t.replace(ENDOFTEXT, "■")  # 停止词元画成一个方块
        tint = "green" if ri >= 1 else ("gray" if ri > 0 else "red")
        d.box(xs["text"], y, 160, row_h - 6, [shown], tint, 13)
        d.text(xs["r"], y + 5, f"{ri:g}", size=13)
        w = ai * scale
        x0 = xs["axis"] + min(0.0, w)
        if abs(w) >= 0.5:
            d.rect(x0, y - 8, abs(w), 16, "green" if ai > 0 else "red", rx=0)
        label_x = xs["axis"] + w + (6 if ai >= 0 else -6)
        d.text(
            label_x, y + 5, f"{ai:+.2f}", size=12,
            anchor="start" if ai >= 0 else "end",
        )  # fmt: skip
    y_end = top + G * row_h
    d.line([(xs["axis"], top - 4), (xs["axis"], y_end + 4)], arrow=False)
    d.text(
        WIDTH / 2,
        y_end + 26,
        f"mean(r) = {r.mean():.3f}，std(r) = {r.std():.3f}："
        "高于组均值的回答优势为正，低于的为负，和为 0",
        size=12,
        muted=True,
    )
    d.text(
        WIDTH / 2,
        y_end + 46,
        "■ = <|endoftext|>；绿色：答对（1 + 0.2），灰色：只得格式分 0.2，"
        "红色：0 分",
        size=12,
        muted=True,
    )
    return d


#: 与 docs/llm/grpo-notebook.py 相同的设置：每步 P 道题，每题 G 个回答
STEP_P, STEP_G, STEP_N = 4, 8, 4


def grpo_step() -> Drawing:
    """一步 GRPO：采样、打分、组内标准化、两种 log 概率、损失与更新。"""
    from tinygrad import Tensor, dtypes

    from tinymodels.chat import ENDOFTEXT
    from tinymodels.grpo import token_logprobs
    from tinymodels.pretrained import load_base_model

    model, tok = load_base_model()
    P, G, N = STEP_P, STEP_G, STEP_N
    T = len(tok.encode(ENDOFTEXT + QUESTION))  # 两个两位数：提示等长
    B, W = P * G, T + N
    ids = Tensor.zeros(B, W, dtype=dtypes.int32)
    logp = token_logprobs(model, ids)  # 惰性：只读形状
    d = Drawing(
        "grpo-step",
        300,
        f"GRPO 的一步：{P} 道题各采样 {G} 个回答（B = {B}），程序打分、"
        "组内标准化成优势；再算当前策略、采样时的策略与参考模型的逐词元 "
        f"log 概率 {shape_str(logp.shape)}，得到损失并做一次 AdamW 更新",
    )
    d.text(
        WIDTH / 2, 22,
        f"P = {P} 道题 × G = {G} 个回答 = B = {B}；提示 T = {T} 个词元，"
        f"回答 N = {N} 个",
        bold=True, size=13,
    )  # fmt: skip
    y1 = 75
    d.box(62, y1, 104, 46, ["P 道题", f"{shape_str((P, T))}"], "gray", 13)
    d.line([(114, y1), (138, y1)])
    d.box(206, y1, 132, 46, ["π_{θ} 采样", "generate，温度 1"], "blue", 13)
    d.line([(272, y1), (296, y1)])
    d.box(358, y1, 120, 46, ["回答", shape_str((B, N))], "gray", 13)
    d.line([(418, y1), (442, y1)])
    d.box(498, y1, 108, 46, ["程序打分", f"r {shape_str((B,))}"], "green", 13)
    d.line([(552, y1), (576, y1)])
    d.box(
        620, y1, 84, 46, ["组内标准化", f"A {shape_str((B,))}"], "green", 12
    )
    y2 = 190
    d.line([(358, y1 + 23), (358, y2 - 50), (100, y2 - 50), (100, y2 - 25)])
    d.box(
        100, y2, 164, 50, ["提示 + 回答", f"ids {shape_str(ids.shape)}"],
        "gray", 13,
    )  # fmt: skip
    d.line([(182, y2 - 10), (222, y2 - 28)])
    d.line([(182, y2 + 10), (222, y2 + 28)])
    d.box(
        305, y2 - 30, 160, 40,
        [f"log π_{{θ}} {shape_str(logp.shape)}"], "blue", 13,
    )  # fmt: skip
    d.box(
        305, y2 + 30, 160, 40,
        ["log π_{old}、log π_{ref}"], "gray", 13,
    )  # fmt: skip
    d.line([(385, y2 - 30), (430, y2 - 8)])
    d.line([(385, y2 + 30), (430, y2 + 8)])
    d.line([(620, y1 + 23), (620, y2 - 50), (505, y2 - 50), (505, y2 - 26)])
    d.box(
        505, y2, 150, 50, ["grpo_loss", "裁剪比率 × A − β·k3"], "orange", 13,
    )  # fmt: skip
    d.line([(580, y2), (600, y2)])
    d.box(634, y2, 64, 50, ["AdamW", "一步"], "purple", 13)
    d.line(
        [(634, y2 + 25), (634, 265), (206, 265), (206, y1 + 23)], dash=True
    )
    d.text(
        420, 283,
        "更新后的 π_{θ} 去采下一批；π_{old} 就是更新前的 π_{θ}，π_{ref} 冻结",
        size=12, muted=True,
    )  # fmt: skip
    return d


DIAGRAMS = {"grpo-group": grpo_group, "grpo-step": grpo_step}
