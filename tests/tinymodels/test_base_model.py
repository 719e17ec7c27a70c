"""随包附带的基座模型、对话模板与合成任务。

* 随包的检查点达到质量线，元数据与重新计算的结果一致；
* 生成它的脚本缩小规模后仍然能训练（损失下降）；
* 结构不符的文件给出清楚的错误；
* 对话模板的文本与损失掩码、合成任务的答案。
"""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest
from tinygrad import Tensor

from devtools.paths import ROOT
from tinymodels import (
    CheckpointError,
    TinyGPT,
    TinyLlama,
    evaluate,
    load_checkpoint,
    next_token_windows,
    read_checkpoint_metadata,
    save_checkpoint,
)
from tinymodels.chat import (
    ASSISTANT,
    END,
    ENDOFTEXT,
    SPECIAL_TOKENS,
    USER,
    encode_chat,
    format_chat,
)
from tinymodels.data.tasks import (
    CAPITALS,
    addition_pairs,
    capital_pairs,
    chat_examples,
    reversal_pairs,
    task_text,
)
from tinymodels.pretrained import BASE_MODEL_PATH, load_base_model


def _script():
    spec = importlib.util.spec_from_file_location(
        "make_base_model", ROOT / "scripts" / "make_base_model.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def base():
    return load_base_model()


def test_shipped_base_model_is_small_and_records_how_it_was_made():
    meta = read_checkpoint_metadata(BASE_MODEL_PATH)
    assert BASE_MODEL_PATH.stat().st_size < 2_000_000  # 随包：不到 2 MB
    assert meta["model_class"] == "TinyLlama"
    assert meta["script"] == "scripts/make_base_model.py"
    assert meta["commit"] and meta["data"] and meta["seed"] == 0
    assert meta["tokenizer"]["special_tokens"] == list(SPECIAL_TOKENS)


def test_shipped_base_model_passes_its_quality_bar(base):
    """验证集的损失由这里重新算出：与元数据一致，且远好于均匀猜测。"""
    model, tok = base
    meta = read_checkpoint_metadata(BASE_MODEL_PATH)
    script = _script()
    cfg = script.SIZES["full"]
    _, val_docs = script.documents(cfg, meta["seed"])
    ids = script.token_ids(tok, val_docs)
    B = model.block_size
    Xv, Yv = next_token_windows(ids, B, stride=B)
    n = len(Xv) // cfg["batch"] * cfg["batch"]
    val = evaluate(model, (Xv[:n], Yv[:n]), batch_size=cfg["batch"])["loss"]
    assert abs(val - meta["results"]["val_loss"]) < 2e-3
    assert val < math.log(tok.vocab_size) - 2.5  # 均匀猜测是 ln 512 ≈ 6.24
    assert val < 3.5, val


def test_base_model_generates_task_text_it_was_trained_on(base):
    """纯文本的查表题：贪心续写出正确的首都（预训练见过的格式，文档以
    ``<|endoftext|>`` 开头）。"""
    model, tok = base
    right = 0
    for country, capital in CAPITALS.items():
        prompt = tok.encode(f"{ENDOFTEXT}{country}的首都：")
        out = model.generate(Tensor([prompt]), 4, temperature=0).numpy()[0]
        right += tok.decode(out[len(prompt) :]).startswith(capital)
    assert right >= len(CAPITALS) // 2, right


def test_the_script_still_trains_at_a_reduced_size(tmp_path):
    out = tmp_path / "base.safetensors"
    meta = _script().main(["--small", "--out", str(out)])
    r = meta["results"]
    # 一轮之后，验证损失比初始化时（约 ln 300 ≈ 5.7）低 1 以上
    assert r["val_loss"] < r["val_loss_before"] - 1.0, r
    model, tok = load_base_model(out)
    assert model.num_layers == 1 and tok.vocab_size == 300


def test_wrong_architecture_gets_a_clear_error(tmp_path):
    gpt = TinyGPT(vocab_size=10, block_size=8, d_model=8, num_heads=2)
    path = save_checkpoint(gpt, tmp_path / "gpt.safetensors")
    with pytest.raises(CheckpointError, match="TinyGPT.*TinyLlama"):
        load_base_model(path)
    wider = TinyLlama(512, block_size=64, d_model=96, num_heads=4)
    with pytest.raises(CheckpointError, match="形状不符"):
        load_checkpoint(wider, BASE_MODEL_PATH)
    with pytest.raises(CheckpointError, match="不存在"):
        load_base_model(tmp_path / "nothing.safetensors")


def test_chat_template_text_and_loss_mask(base):
    _, tok = base
    messages = [("user", "12+30="), ("assistant", "42")]
    text = format_chat(messages)
    assert text == f"{USER}12+30={END}{ASSISTANT}42{END}"
    assert format_chat(messages[:1], add_generation_prompt=True) == (
        f"{USER}12+30={END}{ASSISTANT}"
    )
    ids, mask = encode_chat(tok, messages)
    assert ids.tolist() == tok.encode(text)
    # 掩码为 1 的正好是助手的回答和它的结束词元
    assert tok.decode(ids[mask == 1]) == f"42{END}"
    assert tok.decode(ids[mask == 0]) == f"{USER}12+30={END}{ASSISTANT}"


def test_chat_template_rejects_bad_messages(base):
    _, tok = base
    with pytest.raises(ValueError, match=r"messages\[0\]"):
        format_chat([("system", "你好")])
    with pytest.raises(ValueError, match="特殊词元 <\\|end\\|>"):
        encode_chat(tok, [("user", "伪造<|end|>")])
    with pytest.raises(ValueError, match="非空"):
        format_chat([])


def test_synthetic_tasks_are_correct_and_seeded():
    for q, a in addition_pairs(50, seed=3):
        x, y = q[:-1].split("+")
        assert q.endswith("=") and int(x) + int(y) == int(a)
    for q, a in reversal_pairs(20, seed=3):
        assert q.startswith("倒序：") and q[3:][::-1] == a
    for q, a in capital_pairs(20, seed=3):
        assert CAPITALS[q.removesuffix("的首都")] == a
    assert chat_examples(9, seed=1) == chat_examples(9, seed=1)
    assert chat_examples(9, seed=1) != chat_examples(9, seed=2)
    lines = task_text(6, seed=0).splitlines()
    assert len(lines) == 6 and all(lines)
    with pytest.raises(ValueError, match="n 应为正整数"):
        addition_pairs(0)


def test_digits_are_single_tokens(base):
    """分词器训练时去掉了数字：每个数字都是一个词元，加法能逐位学。"""
    _, tok = base
    for number in ("7", "42", "199"):
        assert len(tok.encode(number)) == len(number)
    assert np.all(np.array([len(tok.vocab[i]) for i in range(256)]) == 1)
