"""模型检查点：safetensors 格式，原子写入，加载时逐项核对结构。

保存的内容：

* 模型的全部张量（``tinygrad.nn.state.get_state_dict(model)`` 的键与值）；
* 元数据（safetensors 头部的字符串字典）：模型类名与模块、模型配置（``model.config``，
  或按构造函数参数名找到的同名属性）、
  tinymodels 与 tinygrad 的版本，以及调用者自己的 ``metadata``。

写入是原子的：先写同目录下的临时文件、``fsync`` 落盘，再用 ``os.replace`` 一步替换目标文件。
写到一半断电或出错，原来的检查点完好无损，也不会留下半截文件。
"""
from __future__ import annotations

import inspect
import json
import os
import tempfile
from pathlib import Path

import numpy as np
from tinygrad import Tensor
from tinygrad.nn.state import get_state_dict

__all__ = ["CheckpointError", "save_checkpoint", "load_checkpoint", "read_checkpoint_metadata", "FORMAT"]

#: 写在元数据 ``format`` 键里的格式标识。
FORMAT = "tinymodels-checkpoint-v1"
_RESERVED = ("format", "model_class", "model_module", "config", "tinymodels_version", "tinygrad_version")
_MAX_LISTED = 10


class CheckpointError(RuntimeError):
    """检查点无法读取（文件不存在、损坏、截断、不是 safetensors）或与模型结构不符。"""


def _versions() -> tuple[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    from . import __version__

    try:
        tg = version("tinygrad")
    except PackageNotFoundError:  # 例如从源码目录直接使用 tinygrad
        tg = "unknown"
    return __version__, tg


def _json_value(value):
    """把元组转成列表后检查能否 JSON 序列化；不能时返回 None。"""
    if isinstance(value, tuple):
        value = list(value)
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return None
    return value


def _model_config(model):
    """取模型配置，写进元数据，加载时用来说明"哪里不一样"。

    优先用 ``model.config``（字典）或 ``model.get_config()``；都没有时，按构造函数的参数名
    去模型上找同名属性（tinymodels 的模型都把构造参数存成同名属性），只收能 JSON 序列化的值。
    """
    cfg = model.get_config() if callable(getattr(model, "get_config", None)) else getattr(model, "config", None)
    if isinstance(cfg, dict):
        return _json_value(cfg)
    try:
        params = inspect.signature(type(model).__init__).parameters
    except (TypeError, ValueError):
        return None
    inferred = {}
    for name in params:
        if name == "self" or not hasattr(model, name):
            continue
        value = _json_value(getattr(model, name))
        if value is not None:
            inferred[name] = value
    return inferred or None


def _write_bytes(f, data: bytes) -> None:
    """把数据写进已打开的文件（单独成函数，测试里可以替换它来模拟写到一半失败）。"""
    f.write(data)


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            _write_bytes(f, data)
            f.flush()
            os.fsync(f.fileno())  # 先确保临时文件的内容真正落盘，再做替换
        os.replace(tmp, path)  # 同一文件系统内的 rename 是原子的：读者要么看到旧文件，要么看到完整的新文件
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:  # 让"目录里换了文件"这件事本身也落盘（Windows 不支持打开目录，忽略）
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def _check_path(path, where: str) -> Path:
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise ValueError(f"{where}: path 必须是非空的文件路径（str 或 Path），实际为 {path!r}")
    return Path(path)


def _state(model, where: str) -> dict[str, Tensor]:
    state = get_state_dict(model)
    if not state:
        raise ValueError(f"{where}: 在 model（{type(model).__name__}）里找不到任何张量，无从保存或加载")
    return state


def save_checkpoint(model, path, metadata: dict | None = None) -> Path:
    """把模型参数与元数据原子地保存为 safetensors 文件。

    Args:
        model: 任意把张量存为属性的模型对象。
        path: 目标文件路径（建议以 ``.safetensors`` 结尾）；所在目录不存在时自动创建。
        metadata: 额外元数据，``{字符串: 可 JSON 序列化的值}``，加载时原样返回，
            如 ``{"epochs": 3, "val_accuracy": 0.95}``。不能使用保留键 ``format``、``model_class``、
            ``model_module``、``config``、``tinymodels_version``、``tinygrad_version``。

    Returns:
        写入的文件路径（``Path``）。

    Raises:
        ValueError: 参数不合法（路径、元数据的键或值）。
        OSError: 磁盘写入失败；此时原有文件保持不变，临时文件已清理。
    """
    where = "save_checkpoint"
    path = _check_path(path, where)
    if path.is_dir():
        raise ValueError(f"{where}: path 指向一个目录 {path}，请给出文件名，例如 {path / 'model.safetensors'}")
    state = _state(model, where)
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise ValueError(f"{where}: metadata 必须是字典或 None，实际为 {type(metadata).__name__}")
    bad_keys = [k for k in metadata if not isinstance(k, str) or k in _RESERVED]
    if bad_keys:
        raise ValueError(f"{where}: metadata 的键必须是字符串且不能是保留键 {_RESERVED}，发现 {bad_keys}")
    try:
        user_json = json.dumps(metadata, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: metadata 的值必须能 JSON 序列化：{exc}") from None

    tm_version, tg_version = _versions()
    header = {
        "format": FORMAT,
        "model_class": type(model).__name__,
        "model_module": type(model).__module__,
        "config": json.dumps(_model_config(model), ensure_ascii=False, sort_keys=True),
        "tinymodels_version": tm_version,
        "tinygrad_version": tg_version,
        "user": user_json,
    }
    arrays = {name: np.ascontiguousarray(t.numpy()) for name, t in state.items()}
    from safetensors.numpy import save

    data = save(arrays, metadata=header)
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(path, data)
    return path


def _open(path: Path, where: str):
    """读出 (元数据字典, {键: numpy 数组})，任何读取问题都转成 CheckpointError。"""
    if not path.exists():
        raise CheckpointError(f"{where}: 检查点文件不存在：{path}")
    if not path.is_file():
        raise CheckpointError(f"{where}: 检查点路径不是普通文件：{path}")
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="numpy") as f:
            header = f.metadata() or {}
            arrays = {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        size = path.stat().st_size
        raise CheckpointError(f"{where}: {path} 不是有效的 safetensors 检查点（文件大小 {size} 字节，"
                              f"可能已损坏或被截断）：{exc}") from None
    return header, arrays


def _decode_header(header: dict, path: Path, where: str) -> dict:
    meta: dict = {}
    try:
        user = json.loads(header.get("user", "{}"))
        config = json.loads(header["config"]) if "config" in header else None
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{where}: {path} 的元数据损坏：{exc}") from None
    for key in ("format", "model_class", "model_module", "tinymodels_version", "tinygrad_version"):
        if key in header:
            meta[key] = header[key]
    meta["config"] = config
    if isinstance(user, dict):
        meta.update(user)
    return meta


def read_checkpoint_metadata(path) -> dict:
    """只读取检查点的元数据，不需要模型（例如先看看它是哪个模型、训练了几轮）。

    Args:
        path: 检查点文件路径。

    Returns:
        元数据字典，含 ``model_class``、``model_module``、``config``、``tinymodels_version``、
        ``tinygrad_version``、``format``，以及保存时传入的 ``metadata`` 各项。

    Raises:
        ValueError: ``path`` 不是路径。
        CheckpointError: 文件不存在、损坏或不是 safetensors 格式。
    """
    where = "read_checkpoint_metadata"
    path = _check_path(path, where)
    header, _ = _open(path, where)
    return _decode_header(header, path, where)


def _listing(title: str, items: list[str]) -> str:
    shown = items[:_MAX_LISTED]
    more = f" …（共 {len(items)} 项）" if len(items) > _MAX_LISTED else ""
    return f"\n  {title}（{len(items)}）：" + ", ".join(shown) + more


def load_checkpoint(model, path, strict: bool = True) -> dict:
    """从检查点恢复模型参数（原地修改 ``model``），返回保存时的元数据。

    ``strict=True`` 时要求结构完全一致：模型类名相同，张量的键一一对应且形状相同；
    否则抛出 ``CheckpointError``，列出缺少的键、多余的键、形状不符的键，以及
    文件里记录的模型类与传入模型的类。``strict=False`` 时只加载两边都有的键，
    忽略类名与多余/缺少的键，但形状不符仍然报错（无法加载）。
    数据类型不同时（如 float16 存、float32 读）自动转换为模型参数的类型。

    Args:
        model: 结构与保存时相同的模型对象（通常用同样的参数新建一个）。
        path: 检查点文件路径。
        strict: 是否严格核对结构。

    Returns:
        元数据字典（同 ``read_checkpoint_metadata``）。

    Raises:
        ValueError: 参数不合法。
        CheckpointError: 文件不存在、损坏、截断、不是 safetensors，或结构不符。
    """
    where = "load_checkpoint"
    path = _check_path(path, where)
    if not isinstance(strict, bool):
        raise ValueError(f"{where}: strict 应为 True 或 False，实际为 {strict!r}")
    state = _state(model, where)
    header, arrays = _open(path, where)
    meta = _decode_header(header, path, where)

    stored_class, given_class = meta.get("model_class"), type(model).__name__
    missing = sorted(k for k in state if k not in arrays)
    unexpected = sorted(k for k in arrays if k not in state)
    mismatched = sorted(f"{k}: 文件 {tuple(arrays[k].shape)} vs 模型 {tuple(state[k].shape)}"
                        for k in state if k in arrays and tuple(arrays[k].shape) != tuple(state[k].shape))
    class_differs = stored_class is not None and stored_class != given_class
    if mismatched or (strict and (missing or unexpected or class_differs)):
        msg = (f"{where}: 检查点 {path} 与模型结构不符"
               f"\n  模型类：文件中为 {stored_class or '未记录'}，传入的是 {given_class}")
        given_config = _model_config(model)
        if meta.get("config") is not None and given_config is not None and meta["config"] != given_config:
            msg += f"\n  模型配置：文件中为 {meta['config']}，传入的是 {given_config}"
        if missing:
            msg += _listing("模型有而文件缺少的键", missing)
        if unexpected:
            msg += _listing("文件有而模型没有的键", unexpected)
        if mismatched:
            msg += _listing("形状不符的键", mismatched)
        if not mismatched:
            msg += "\n  如确需部分加载，可传 strict=False（只加载两边都有且形状相同的键）"
        raise CheckpointError(msg)

    targets, seen = [], set()
    for key, t in state.items():
        if key not in arrays or id(t) in seen:  # 共享的张量（如权重绑定）只赋值一次
            continue
        seen.add(id(t))
        value = Tensor(arrays[key], device=t.device)
        if value.dtype != t.dtype:
            value = value.cast(t.dtype)
        targets.append(t.assign(value))
    Tensor.realize(*targets)
    return meta
