"""随包附带的预训练基座模型。

``load_base_model()`` 返回一个已经在本站语料和合成任务上预训练过的
``TinyLlama`` 和它的 ``BPETokenizer``（带对话模板的特殊词元，见
``tinymodels/chat.py``）。文件 ``data/base-model.safetensors`` 由
``scripts/make_base_model.py`` 生成，元数据里有脚本、提交、数据、训练设置
和验证结果（``read_checkpoint_metadata(BASE_MODEL_PATH)``）。
"""

from __future__ import annotations

from pathlib import Path

from tinymodels.checkpoint import (
    CheckpointError,
    load_checkpoint,
    read_checkpoint_metadata,
)
from tinymodels.data.bpe import BPETokenizer
from tinymodels.models.llama import TinyLlama

__all__ = ["BASE_MODEL_PATH", "load_base_model"]

#: 随包附带的基座模型文件。
BASE_MODEL_PATH = Path(__file__).parent / "data" / "base-model.safetensors"


def load_base_model(path=None) -> tuple[TinyLlama, BPETokenizer]:
    """读回基座模型与分词器：``model, tok = load_base_model()``。

    Args:
        path: 检查点文件；``None`` 表示随包附带的 ``BASE_MODEL_PATH``。
            也可以是 ``make_base_model.py --out`` 写出的文件。

    Returns:
        tuple: ``(TinyLlama, BPETokenizer)``，模型的配置取自文件的元数据。

    Raises:
        CheckpointError: 文件不存在、损坏，或不是 TinyLlama 的检查点。
    """
    path = BASE_MODEL_PATH if path is None else Path(path)
    meta = read_checkpoint_metadata(path)
    if meta.get("model_class") != "TinyLlama" or "tokenizer" not in meta:
        raise CheckpointError(
            f"load_base_model: {path} 不是基座模型的检查点：模型类为 "
            f"{meta.get('model_class') or '未记录'}（应为 TinyLlama），"
            f"{'有' if 'tokenizer' in meta else '没有'}分词器元数据；"
            "用 scripts/make_base_model.py 生成"
        )
    spec = meta["tokenizer"]
    tok = BPETokenizer(spec["merges"], spec["special_tokens"])
    model = TinyLlama(**meta["config"])
    load_checkpoint(model, path)
    return model, tok
