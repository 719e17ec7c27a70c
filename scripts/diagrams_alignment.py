"""偏好对齐（docs/llm/alignment/）的图：由 scripts/diagrams.py 汇总生成。

* ``rlhf-vs-dpo``：RLHF 的三个阶段与 DPO 的两个阶段，训练时各要几个模型、
  各多少参数（按随包基座模型的配置实例化，只数参数，不计算）；
* ``dpo-graph``：DPO 一步的计算图，形状取自 dpo.md 训练用的设置。
"""

from __future__ import annotations

from diagrams import WIDTH, Drawing, shape_str

#: dpo.md 训练用的设置：每批 B 对偏好数据，序列补齐到 T 个词元
DPO_B, DPO_T = 16, 20


def _base_config() -> dict:
    from tinymodels.checkpoint import read_checkpoint_metadata
    from tinymodels.pretrained import BASE_MODEL_PATH

    return read_checkpoint_metadata(BASE_MODEL_PATH)["config"]


def rlhf_vs_dpo() -> Drawing:
    """RLHF：SFT → 奖励模型 → PPO（四个模型）；DPO：SFT → DPO（两个模型）。"""
    from tinymodels import TinyLlama, count_parameters
    from tinymodels.preference import RewardModel

    cfg = _base_config()
    policy = TinyLlama(**cfg)
    rm = RewardModel(TinyLlama(**cfg))
    n_pi, n_rm = count_parameters(policy), count_parameters(rm)
    n_head = count_parameters(rm.score)
    assert n_rm == n_pi + n_head == n_pi + cfg["d_model"] + 1
    ppo = 2 * n_pi + 2 * n_rm  # 策略、参考、奖励模型、价值模型
    dpo = 2 * n_pi  # 策略、参考

    d = Drawing(
        "rlhf-vs-dpo",
        370,
        f"RLHF 在 PPO 阶段要同时放下策略、参考、奖励、价值四个模型"
        f"（按本站基座模型的大小共 {ppo:,} 个参数），DPO 只要策略与参考"
        f"两个（{dpo:,} 个），也不用单独训练奖励模型",
    )
    d.text(
        WIDTH / 2,
        22,
        f"按基座模型的配置数参数：TinyLlama {n_pi:,} 个，"
        f"奖励模型 = 主干 + 标量头（{n_head} 个）",
        bold=True,
        size=13,
    )
    sft = ["① 指令微调", "示范 (x, y)", "交叉熵"]
    # 上：RLHF
    y1 = 95
    d.text(14, 58, "RLHF", anchor="start", bold=True)
    d.box(80, y1, 130, 62, sft, "gray", 13)
    d.line([(145, y1), (172, y1)])
    d.box(
        250, y1, 150, 62,
        ["② 奖励模型 r_{φ}", "比较 (x, y_{w}, y_{l})",
         "−log σ(r_{w} − r_{l})"],
        "orange", 13,
    )  # fmt: skip
    d.line([(325, y1), (352, y1)])
    d.box(
        510, y1, 300, 62,
        ["③ PPO：只有提示 x，现场采样回答 y",
         "最大化 r_{φ}(x, y) − β KL(π_{θ} ‖ π_{ref})",
         "比值裁剪，价值模型估计优势"],
        "blue", 13,
    )  # fmt: skip
    models = [
        ("策略 π_{θ}", "训练", "blue"),
        ("参考 π_{ref}", "冻结", "gray"),
        ("奖励 r_{φ}", "冻结", "orange"),
        ("价值 V_{ψ}", "训练", "blue"),
    ]
    for k, (name, role, tint) in enumerate(models):
        cx = 398 + k * 75
        d.box(cx, y1 + 76, 71, 42, [name, role], tint, 12)
    d.line([(510, y1 + 31), (510, y1 + 53)])
    d.text(
        510,
        y1 + 118,
        f"PPO 时同时放下 4 个模型：{ppo:,} 个参数",
        size=12,
        muted=True,
    )
    # 下：DPO
    y2 = 290
    d.text(14, 253, "DPO", anchor="start", bold=True)
    d.box(80, y2, 130, 62, sft, "gray", 13)
    d.line([(145, y2), (352, y2)])
    d.text(250, y2 - 10, "同样的比较数据", size=12, muted=True)
    d.text(250, y2 + 20, "不训练奖励模型", size=12, muted=True)
    d.box(
        510, y2, 300, 62,
        ["② DPO：离线的比较 (x, y_{w}, y_{l})",
         "隐式奖励 r = β log(π_{θ} / π_{ref})",
         "损失 −log σ(r_{w} − r_{l})，不采样"],
        "green", 13,
    )  # fmt: skip
    d.text(
        510,
        y2 + 52,
        f"策略（训练）+ 参考（冻结）：{dpo:,} 个参数",
        size=12,
        muted=True,
    )
    return d


def dpo_graph() -> Drawing:
    """DPO 一步的计算图：一批 2B 条序列过策略与参考，得到两组隐式奖励。"""
    from tinygrad import Tensor, dtypes

    from tinymodels import TinyLlama

    cfg = _base_config()
    model = TinyLlama(**cfg)
    B, T = DPO_B, DPO_T
    ids = Tensor.zeros(2 * B, T, dtype=dtypes.int32)
    logits = model(ids[:, :-1])  # 惰性：只读形状
    V = model.vocab_size
    assert tuple(logits.shape) == (2 * B, T - 1, V)

    d = Drawing(
        "dpo-graph",
        260,
        f"DPO 的一步：{B} 对偏好数据排成 {2 * B} 条序列，策略与参考各算一遍"
        "回答的对数概率，差值乘 β 是隐式奖励，代进 Bradley–Terry 损失；"
        "梯度只回到策略",
    )
    d.text(
        WIDTH / 2,
        22,
        f"DPO 的一步（B = {B} 对，T = {T}，V = {V}）",
        bold=True,
        size=13,
    )
    y1, y2 = 100, 190  # 策略一行、参考一行
    d.box(
        60, 145, 100, 56, ["ids、mask", shape_str((2 * B, T))], "gray", 13,
    )  # fmt: skip
    d.text(60, 190, f"前 {B} 行 y_{{w}}", size=12, muted=True)
    d.text(60, 208, f"后 {B} 行 y_{{l}}", size=12, muted=True)
    d.line([(110, 132), (130, y1)])
    d.line([(110, 158), (130, y2)])
    d.box(
        205, y1, 150, 44,
        ["策略 π_{θ}（训练）", f"logits {shape_str(logits.shape)}"],
        "blue", 12,
    )  # fmt: skip
    d.box(
        205, y2, 150, 44,
        ["参考 π_{ref}（冻结）", "训练前算一次"], "gray", 12,
    )  # fmt: skip
    d.line([(280, y1), (305, y1)])
    d.line([(280, y2), (305, y2)])
    d.box(
        370, y1, 130, 44,
        ["log π_{θ}(y | x)", f"({2 * B},)：回答求和"],
        "blue", 12,
    )  # fmt: skip
    d.box(
        370, y2, 130, 44,
        ["log π_{ref}(y | x)", f"({2 * B},)：常数"], "gray", 12,
    )  # fmt: skip
    d.line([(435, y1), (450, y1 + 20)])
    d.line([(435, y2), (450, y2 - 20)])
    d.box(
        560, 145, 220, 100,
        ["隐式奖励", "r = β (log π_{θ} − log π_{ref})",
         f"r_{{w}}、r_{{l}} 各 ({B},)",
         "损失 −log σ(r_{w} − r_{l}) 取平均"],
        "green", 12,
    )  # fmt: skip
    # 反向：损失的梯度只流回策略
    d.line([(560, 95), (560, 62), (205, 62), (205, y1 - 22)], dash=True)
    d.text(382, 56, "反向传播：只到策略", size=12, muted=True)
    d.text(
        WIDTH / 2,
        248,
        "参考模型的对数概率在训练前算好，是常数；"
        "π_{θ} = π_{ref} 时损失为 log 2",
        size=12,
        muted=True,
    )
    return d


DIAGRAMS = {"rlhf-vs-dpo": rlhf_vs_dpo, "dpo-graph": dpo_graph}
