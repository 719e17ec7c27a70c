"""模型检查点：safetensors 格式，原子写入，加载时逐项核对结构。

文件里存模型的全部张量（``get_state_dict(model)``）和元数据：模型类名与
模块、配置（``model.config``，或与构造参数同名的属性）、tinymodels 与
tinygrad 的版本，以及调用者的 ``metadata``。

写入是原子的：先写同目录的临时文件并 ``fsync``，再 ``os.replace`` 一步换上。
写到一半出错时原文件完好，也不留半截文件。
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import tempfile
from pathlib import Path

import numpy as np
from tinygrad import Tensor
from tinygrad.nn.state import get_state_dict

from tinymodels._contract import require

__all__ = [
    "FORMAT",
    "CheckpointError",
    "load_checkpoint",
    "read_checkpoint_metadata",
    "save_checkpoint",
]  # fmt: skip

#: 写在元数据 ``format`` 键里的格式标识。
FORMAT = "tinymodels-checkpoint-v1"
_RESERVED = (
    "format", "model_class", "model_module", "config", "tinymodels_version",
    "tinygrad_version",
)  # fmt: skip


class CheckpointError(RuntimeError):
    """检查点读不了（不存在、损坏、截断）或与模型结构不符。"""


def _versions() -> tuple[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    from tinymodels import __version__

    try:
        return __version__, version("tinygrad")
    except PackageNotFoundError:  # 例如直接从源码目录使用 tinygrad
        return __version__, "unknown"


def _json(value):
    """能 JSON 序列化的值（元组变列表）；不能时返回 ``None``。"""
    value = list(value) if isinstance(value, tuple) else value
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return None
    return value


def _config(model) -> dict | None:
    """模型配置：``model.config``，否则取与构造参数同名的属性。

    加载失败时用它说明两边哪里不一样。
    """
    cfg = getattr(model, "config", None)
    if dataclasses.is_dataclass(cfg) and not isinstance(cfg, type):
        cfg = dataclasses.asdict(cfg)
    if isinstance(cfg, dict):
        return _json(cfg)
    params = inspect.signature(type(model).__init__).parameters
    values = {
        n: _json(getattr(model, n, None)) for n in params if n != "self"
    }
    return {n: v for n, v in values.items() if v is not None} or None


def _write_bytes(f, data: bytes) -> None:
    """写数据（单独成函数：测试里替换它来模拟写到一半失败）。"""
    f.write(data)


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            _write_bytes(f, data)
            f.flush()
            os.fsync(f.fileno())  # 内容先落盘，再换上
        # 同一文件系统内的 rename 是原子的：读者只会看到旧文件或完整的新文件
        os.replace(tmp, path)
    except BaseException:  # 包括 KeyboardInterrupt：不留临时文件
        Path(tmp).unlink(missing_ok=True)
        raise


def _path(path, where: str) -> Path:
    require(
        isinstance(path, (str, os.PathLike)) and str(path) != "",
        f"{where}: path 应为非空的文件路径（str 或 Path），实际为 {path!r}",
    )
    return Path(path)


def _state(model, where: str) -> dict[str, Tensor]:
    state = get_state_dict(model)
    require(
        len(state) > 0,
        f"{where}: model（{type(model).__name__}）里找不到任何张量",
    )
    return state


def save_checkpoint(model, path, metadata: dict | None = None) -> Path:
    """把模型参数与元数据原子地保存为 safetensors 文件。

    Args:
        model: 把张量存为属性的模型对象。
        path: 目标文件（建议以 ``.safetensors`` 结尾）；目录不存在时自动创建。
        metadata: 额外元数据 ``{str: 可 JSON 序列化的值}``，不能用保留键。

    Returns:
        Path: 写入的文件路径。
    """
    where = "save_checkpoint"
    path = _path(path, where)
    require(
        not path.is_dir(),
        f"{where}: path 是一个目录 {path}；请给出文件名，"
        f"如 {path / 'model.safetensors'}",
    )
    state = _state(model, where)
    metadata = {} if metadata is None else metadata
    require(
        isinstance(metadata, dict)
        and all(isinstance(k, str) and k not in _RESERVED for k in metadata),
        f"{where}: metadata 应为字典，键是字符串且不是保留键 {_RESERVED}，"
        f"实际为 {metadata!r:.80}",
    )
    try:
        user = json.dumps(metadata, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError) as e:
        raise ValueError(
            f"{where}: metadata 的值应能 JSON 序列化：{e}"
        ) from None

    tm_version, tg_version = _versions()
    header = {
        "format": FORMAT,
        "model_class": type(model).__name__,
        "model_module": type(model).__module__,
        "config": json.dumps(
            _config(model), ensure_ascii=False, sort_keys=True
        ),
        "tinymodels_version": tm_version,
        "tinygrad_version": tg_version,
        "user": user,
    }
    from safetensors.numpy import save

    arrays = {k: np.ascontiguousarray(t.numpy()) for k, t in state.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(path, save(arrays, metadata=header))
    return path


def _read(path: Path, where: str) -> tuple[dict, dict[str, np.ndarray]]:
    """读出（元数据, {键: 数组}）；读不了就抛 ``CheckpointError``。"""
    if not path.is_file():
        what = "不是普通文件" if path.exists() else "不存在"
        raise CheckpointError(f"{where}: 检查点文件{what}：{path}")
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="numpy") as f:
            header = f.metadata() or {}
            arrays = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
        user = json.loads(header.get("user", "{}"))
        config = json.loads(header["config"]) if "config" in header else None
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise CheckpointError(
            f"{where}: {path} 不是有效的检查点（{path.stat().st_size} 字节，"
            f"可能已损坏或被截断）：{e}"
        ) from None
    meta = {k: header[k] for k in _RESERVED if k in header}
    meta["config"] = config
    meta.update(user if isinstance(user, dict) else {})
    return meta, arrays


def read_checkpoint_metadata(path) -> dict:
    """只读元数据，不需要模型（比如先看看是哪个模型、训练了几轮）。

    Args:
        path: 检查点文件路径。

    Returns:
        dict: ``model_class``、``config``、版本号，与保存时的 ``metadata``。
    """
    where = "read_checkpoint_metadata"
    return _read(_path(path, where), where)[0]


def _listing(title: str, items: list[str], shown: int = 10) -> str:
    more = f" …（共 {len(items)} 项）" if len(items) > shown else ""
    return f"\n  {title}（{len(items)}）：" + ", ".join(items[:shown]) + more


def load_checkpoint(model, path, strict: bool = True) -> dict:
    """从检查点恢复模型参数（原地修改 ``model``），返回保存时的元数据。

    ``strict=True`` 要求类名相同、键一一对应、形状相同，否则抛出
    ``CheckpointError`` 并列出差异；``strict=False`` 只加载两边都有的键，
    但形状不符仍然报错。类型不同时（如存 float16、读 float32）自动转换。

    Args:
        model: 与保存时结构相同的模型（通常用同样的参数新建一个）。
        path: 检查点文件路径。
        strict: 是否严格核对结构。

    Returns:
        dict: 元数据（同 ``read_checkpoint_metadata``）。
    """
    where = "load_checkpoint"
    path = _path(path, where)
    require(
        isinstance(strict, bool),
        f"{where}: strict 应为 True 或 False，实际为 {strict!r}",
    )
    state = _state(model, where)
    meta, arrays = _read(path, where)

    stored, given = meta.get("model_class"), type(model).__name__
    missing = sorted(k for k in state if k not in arrays)
    unexpected = sorted(k for k in arrays if k not in state)
    mismatched = sorted(
        f"{k}: 文件 {arrays[k].shape} vs 模型 {state[k].shape}"
        for k in state
        if k in arrays and arrays[k].shape != state[k].shape
    )
    other_class = stored is not None and stored != given
    if mismatched or (strict and (missing or unexpected or other_class)):
        msg = (
            f"{where}: 检查点 {path} 与模型结构不符\n"
            f"  模型类：文件中为 {stored or '未记录'}，传入的是 {given}"
        )
        saved, cfg = meta["config"], _config(model)
        if saved is not None and cfg is not None and saved != cfg:
            msg += f"\n  模型配置：文件中为 {saved}，传入的是 {cfg}"
        if missing:
            msg += _listing("模型有而文件缺少的键", missing)
        if unexpected:
            msg += _listing("文件有而模型没有的键", unexpected)
        if mismatched:
            msg += _listing("形状不符的键", mismatched)
        else:
            msg += "\n  确需部分加载时可传 strict=False（只加载两边都有的键）"
        raise CheckpointError(msg)

    assigned, seen = [], set()
    for k, t in state.items():
        if k not in arrays or id(t) in seen:  # 共享的张量（权重绑定）只赋一次
            continue
        seen.add(id(t))
        value = Tensor(arrays[k], device=t.device)
        assigned.append(t.assign(value.cast(t.dtype)))
    if assigned:  # strict=False 时可能一个键都不共有
        Tensor.realize(*assigned)
    return meta
