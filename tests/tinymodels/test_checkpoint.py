"""检查点的测试：往返一致、原子写入、结构不符与损坏文件的报错。"""

import json
import os

import numpy as np
import pytest
from tinygrad.nn.state import get_state_dict

import tinymodels
from tinymodels import checkpoint as ckpt
from tinymodels.checkpoint import (
    CheckpointError,
    load_checkpoint,
    read_checkpoint_metadata,
    save_checkpoint,
)
from tinymodels.layers import (
    Linear,  # 用 NumPy 初始化，不需要编译随机数内核，测试更快
)
from tinymodels.train import set_seed


class Net:
    def __init__(self, hidden=8, extra=False):
        self.config = {"hidden": hidden, "extra": extra}
        self.l1 = Linear(4, hidden)
        self.l2 = Linear(hidden, 3)
        if extra:
            self.l3 = Linear(3, 3)

    def __call__(self, x):
        return self.l2(self.l1(x).relu())


class OtherNet(Net):
    pass


def _weights(model):
    return {k: v.numpy() for k, v in get_state_dict(model).items()}


def test_round_trip_restores_every_tensor(tmp_path):
    set_seed(1)
    src = Net()
    path = save_checkpoint(
        src,
        tmp_path / "sub" / "net.safetensors",
        metadata={"epochs": 3, "说明": "测试"},
    )
    assert path.is_file()
    set_seed(2)
    dst = Net()
    assert not np.array_equal(
        _weights(src)["l1.weight"], _weights(dst)["l1.weight"]
    )
    meta = load_checkpoint(dst, path)
    a, b = _weights(src), _weights(dst)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    assert meta["model_class"] == "Net" and meta["config"] == {
        "hidden": 8,
        "extra": False,
    }
    assert (
        meta["tinymodels_version"] == tinymodels.__version__
        and meta["tinygrad_version"]
    )
    assert meta["epochs"] == 3 and meta["说明"] == "测试"
    assert read_checkpoint_metadata(path) == meta
    assert os.listdir(path.parent) == ["net.safetensors"]


def test_failed_write_keeps_old_file_and_leaves_no_temp(
    tmp_path, monkeypatch
):
    path = tmp_path / "net.safetensors"
    set_seed(1)
    old = Net()
    save_checkpoint(old, path)
    old_bytes = path.read_bytes()

    def half_then_crash(f, data):
        f.write(data[: len(data) // 2])
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(ckpt, "_write_bytes", half_then_crash)
    set_seed(2)
    with pytest.raises(OSError, match="simulated"):
        save_checkpoint(Net(), path)
    assert path.read_bytes() == old_bytes
    assert os.listdir(tmp_path) == ["net.safetensors"]  # 没有残留的临时文件
    restored = Net()
    load_checkpoint(restored, path)
    assert np.array_equal(
        _weights(restored)["l1.weight"], _weights(old)["l1.weight"]
    )

    # 被中断（KeyboardInterrupt）时同样清理
    def interrupted(f, data):
        raise KeyboardInterrupt

    monkeypatch.setattr(ckpt, "_write_bytes", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(Net(), path)
    assert (
        os.listdir(tmp_path) == ["net.safetensors"]
        and path.read_bytes() == old_bytes
    )


def test_architecture_mismatch_lists_keys_and_classes(tmp_path):
    path = save_checkpoint(Net(hidden=8), tmp_path / "net.safetensors")
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(OtherNet(hidden=16, extra=True), path)
    msg = str(info.value)
    assert "Net" in msg and "OtherNet" in msg
    assert "l3.weight" in msg and "l3.bias" in msg  # 缺少的键
    assert (
        "l1.weight" in msg and "(8, 4)" in msg and "(16, 4)" in msg
    )  # 形状不符
    assert "hidden" in msg  # 配置不同

    path2 = save_checkpoint(Net(extra=True), tmp_path / "extra.safetensors")
    with pytest.raises(
        CheckpointError, match=r"l3\.weight[\s\S]*strict=False"
    ):
        load_checkpoint(Net(), path2)  # 文件里多出的键
    with pytest.raises(CheckpointError, match="OtherNet"):
        load_checkpoint(
            OtherNet(), path
        )  # 结构相同但类不同，strict 模式也报错


def test_non_strict_loads_the_common_keys(tmp_path):
    set_seed(3)
    src = Net(extra=True)
    path = save_checkpoint(src, tmp_path / "net.safetensors")
    dst = OtherNet()
    load_checkpoint(dst, path, strict=False)
    assert np.array_equal(
        _weights(dst)["l2.weight"], _weights(src)["l2.weight"]
    )
    with pytest.raises(CheckpointError, match="形状不符"):
        load_checkpoint(
            Net(hidden=5), path, strict=False
        )  # 形状不符无论如何都不能加载


def test_corrupted_truncated_and_missing_files(tmp_path):
    path = save_checkpoint(Net(), tmp_path / "net.safetensors")
    data = path.read_bytes()
    for n in (len(data) - 7, len(data) // 2, 100, 5, 0):
        bad = tmp_path / f"cut{n}.safetensors"
        bad.write_bytes(data[:n])
        with pytest.raises(CheckpointError, match="截断"):
            load_checkpoint(Net(), bad)
    text = tmp_path / "notes.safetensors"
    text.write_text("这不是检查点" * 50, encoding="utf-8")
    with pytest.raises(CheckpointError):
        load_checkpoint(Net(), text)
    with pytest.raises(CheckpointError, match="不存在"):
        load_checkpoint(Net(), tmp_path / "missing.safetensors")
    with pytest.raises(CheckpointError, match="不存在"):
        read_checkpoint_metadata(tmp_path / "missing.safetensors")
    with pytest.raises(CheckpointError):
        load_checkpoint(Net(), tmp_path)  # 目录


def test_plain_safetensors_file_without_tinymodels_metadata(tmp_path):
    from safetensors.numpy import save_file

    src = Net()
    save_file(_weights(src), str(tmp_path / "plain.safetensors"))
    dst = Net()
    meta = load_checkpoint(dst, tmp_path / "plain.safetensors")
    assert "model_class" not in meta
    assert np.array_equal(_weights(dst)["l1.bias"], _weights(src)["l1.bias"])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"path": None},
        {"path": ""},
        {"path": 5},
        {"metadata": [1, 2]},
        {"metadata": {"model_class": "x"}},
        {"metadata": {"a": object()}},
        {"metadata": {1: 2}},
    ],
)
def test_save_checkpoint_bad_input(tmp_path, kwargs):
    args = {"path": tmp_path / "x.safetensors", **kwargs}
    with pytest.raises(ValueError):
        save_checkpoint(Net(), args.pop("path"), **args)
    assert not (tmp_path / "x.safetensors").exists()


def test_save_and_load_bad_input(tmp_path):
    with pytest.raises(ValueError, match="目录"):
        save_checkpoint(Net(), tmp_path)
    with pytest.raises(ValueError, match="张量"):
        save_checkpoint(object(), tmp_path / "x.safetensors")
    path = save_checkpoint(Net(), tmp_path / "x.safetensors")
    with pytest.raises(ValueError):
        load_checkpoint(Net(), path, strict="yes")
    with pytest.raises(ValueError):
        load_checkpoint(Net(), None)
    with pytest.raises(ValueError):
        read_checkpoint_metadata(None)


def test_metadata_is_json_in_safetensors_header(tmp_path):
    from safetensors import safe_open

    path = save_checkpoint(
        Net(), tmp_path / "x.safetensors", metadata={"lr": 0.001}
    )
    with safe_open(str(path), framework="numpy") as f:
        header = f.metadata()
    assert header["format"] == ckpt.FORMAT and header["model_class"] == "Net"
    assert json.loads(header["user"]) == {"lr": 0.001}


def test_config_is_inferred_from_constructor_arguments(tmp_path):
    from tinymodels.models import MLP

    path = save_checkpoint(MLP([4, 6, 3]), tmp_path / "mlp.safetensors")
    assert read_checkpoint_metadata(path)["config"] == {
        "sizes": [4, 6, 3],
        "activation": "relu",
    }
    with pytest.raises(
        CheckpointError, match=r"sizes.*\[4, 6, 3\].*\[4, 5, 3\]"
    ):
        load_checkpoint(MLP([4, 5, 3]), path)
