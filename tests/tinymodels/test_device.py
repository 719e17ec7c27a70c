"""tinymodels.tools.backends：后端探测、设备名解析、默认设备与切换。"""

import sys
import time

import pytest
from tinygrad import Device, Tensor

from tinymodels.tools import backends
from tinymodels.tools.backends import (
    KNOWN_BACKENDS,
    BackendStatus,
    DeviceUnavailableError,
    backend_status,
    default_device,
    resolve_device,
    use_device,
)


def test_backend_status_opens_each_backend():
    by_name = {s.name: s for s in backend_status()}
    assert list(by_name) == list(KNOWN_BACKENDS)
    # 能跑这些测试，CPU 就能打开；PYTHON 是纯 Python 的模拟器，总能打开
    assert by_name["CPU"].usable and "CPU" in by_name["CPU"].reason
    assert by_name["PYTHON"].usable
    if sys.platform != "darwin":
        metal = by_name["METAL"]
        assert not metal.usable and "macOS" in metal.reason
    for name, usable, reason in by_name.values():
        assert reason.strip(), name


def test_unusable_renderer_reports_tinygrad_error():
    status = backends._probe("CPU:NOSUCH")  # 原因来自 tinygrad 的异常
    assert status.name == "CPU" and not status.usable
    assert "NOSUCH" in status.reason and "clang" not in status.reason


def test_probe_survives_hang_and_crash(monkeypatch):
    monkeypatch.setattr(backends, "TIMEOUT_S", 2.0)
    monkeypatch.setattr(backends, "_PROBE", "import time; time.sleep(60)")
    start = time.perf_counter()
    (hung,) = backend_status(["cl"])
    assert time.perf_counter() - start < 20
    assert not hung.usable and "超过 2 秒" in hung.reason
    monkeypatch.setattr(backends, "_PROBE", "import os; os.abort()")
    (crashed,) = backend_status(["cl"])
    assert not crashed.usable and "异常退出" in crashed.reason


def test_backend_status_bad_input():
    with pytest.raises(ValueError, match="CPU, CL, CUDA, METAL"):
        backend_status(["TPU"])
    with pytest.raises(ValueError, match="列表"):
        backend_status("CPU")


def test_resolve_device_normalizes_names():
    assert resolve_device("  Cpu ") == "CPU"
    assert resolve_device("cpu:llvm", check=False) == "CPU:LLVM"
    assert resolve_device("python") == "PYTHON"


@pytest.mark.parametrize(
    "name", ["tpu", "", "   ", None, 3, "cuda:1", "cpu::x", "gpu"]
)
def test_resolve_device_rejects_bad_names(name):
    with pytest.raises(ValueError) as info:
        resolve_device(name)
    if name in ("tpu", "gpu", None, 3):
        assert "CPU, CL, CUDA, METAL" in str(info.value)


def test_resolve_device_known_but_unusable(monkeypatch):
    def fake(dev):
        return BackendStatus(dev, dev == "CPU", "no CUDA driver (test)")

    monkeypatch.setattr(backends, "_probe", fake)
    with pytest.raises(DeviceUnavailableError, match=r"\(test\).*：CPU$"):
        resolve_device("cuda")
    assert resolve_device("cuda", check=False) == "CUDA"


def test_default_device():
    assert default_device() == Device.DEFAULT


def test_use_device_switches_and_restores():
    before = Device.DEFAULT
    with use_device("python") as name:
        assert name == "PYTHON" == Device.DEFAULT
        t = Tensor([1.0, 2.0]) * 3
        assert t.device == "PYTHON" and t.tolist() == [3.0, 6.0]
    assert Device.DEFAULT == before
    with pytest.raises(ValueError):
        with use_device("tpu"):
            pass
    assert Device.DEFAULT == before
