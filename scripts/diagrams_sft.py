"""指令微调（docs/llm/sft/）的图：由 scripts/diagrams.py 汇总生成。

* ``sft-loss-mask``：一条问答按对话模板编码后的输入、目标与损失掩码，
  词元由随包基座模型的分词器切出（``tinymodels.sft.sft_batch``），
  不是手写的。
"""

from __future__ import annotations

from diagrams import WIDTH, Drawing, text_width

#: 图里的例子，与 docs/llm/sft/index.md 的代码块相同
EXAMPLE = ("13+5=", "18")


def _label(tok, i: int) -> str:
    """词元的文字；半个汉字的字节写成 <e6> 这样的十六进制。"""
    raw = tok.vocab[i]  # 特殊词元也按 UTF-8 存在词表里
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return "".join(f"<{b:02x}>" for b in raw)


def sft_loss_mask() -> Drawing:
    """输入 x_t、目标 y_t = x_{t+1}、掩码 m_t 三行，按角色着色。"""
    from tinymodels.chat import encode_chat
    from tinymodels.pretrained import load_base_model
    from tinymodels.sft import sft_batch

    _, tok = load_base_model()
    q, a = EXAMPLE
    seq, _ = encode_chat(tok, [("user", q), ("assistant", a)])
    n = len(seq) - 1
    ids, targets, mask = (r[0] for r in sft_batch(tok, [EXAMPLE], n))
    specials = set(tok.special_tokens.values())

    def tint(t: int, answer: bool) -> str:
        if t in specials and not answer:
            return "gray"
        return "orange" if answer else "blue"

    size = 12
    cols = [
        max(text_width(_label(tok, int(x)), size), 14) + 12
        for x in list(ids) + [targets[-1]]
    ]
    # 目标行的第 t 格就是输入行的第 t+1 格：列宽取两者中大的
    widths = [max(cols[t], cols[t + 1]) for t in range(n)]
    gap, x0 = 4, 84
    total = sum(widths) + gap * (n - 1)
    assert x0 + total <= WIDTH - 8, (total, widths)
    d = Drawing(
        "sft-loss-mask",
        232,
        f"问答（{q}，{a}）按对话模板编成 {n + 1} 个词元：输入是前 {n} 个，"
        f"目标是后 {n} 个，只有助手回答的 {int(mask.sum())} 个目标"
        "（回答和它的 <|end|>）掩码为 1、计入损失",
    )
    rows = {
        "位置 t": 30,
        "输入 x_{t}": 70,
        "目标 y_{t}": 120,
        "掩码 m_{t}": 168,
    }
    for name, y in rows.items():
        d.text(12, y + 5, name, anchor="start", bold=name != "位置 t")
    x = x0
    for t in range(n):
        w, cx = widths[t], x + widths[t] / 2
        d.text(cx, rows["位置 t"] + 5, str(t), size=12, muted=True)
        for key, tokens, ans in (
            ("输入 x_{t}", ids, t > 0 and mask[t - 1] == 1),
            ("目标 y_{t}", targets, mask[t] == 1),
        ):
            tid = int(tokens[t])
            y = rows[key]
            on = key == "输入 x_{t}" or mask[t] == 1
            d.rect(x, y - 14, w, 28, tint(tid, ans), rx=4, dash=not on)
            d.text(cx, y + 5, _label(tok, tid), size=size, muted=not on)
        y = rows["掩码 m_{t}"]
        if mask[t]:
            d.rect(x, y - 14, w, 28, "green", rx=4)
        d.text(cx, y + 5, str(int(mask[t])), bold=bool(mask[t]))
        x += w + gap
    d.text(
        WIDTH / 2,
        216,
        "蓝：用户的话　橙：助手的回答　灰：角色与结束词元　"
        "虚线：不计损失的目标",
        size=12,
        muted=True,
    )
    return d


DIAGRAMS = {"sft-loss-mask": sft_loss_mask}
