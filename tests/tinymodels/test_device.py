"""tinymodels.device 的测试：后端探测、设备名解析、默认设备与上下文切换。"""
import sys

import pytest
from tinygrad import Device, Tensor

from tinymodels import device as dev
from tinymodels.device import (KNOWN_BACKENDS, DeviceUnavailableError, backend_status, default_device,
                               resolve_device, use_device)


def test_backend_status_lists_common_backends_with_reasons():
    status = backend_status()
    names = [s.name for s in status]
    for required in ("CPU", "CL", "CUDA", "METAL"):
        assert required in names
    assert names == list(KNOWN_BACKENDS)
    for name, usable, reason in status:
        assert isinstance(usable, bool) and isinstance(reason, str) and reason
    by_name = {s.name: s for s in status}
    assert by_name["CPU"].usable  # 跑得了这些测试，说明 CPU 后端可用
    assert by_name["PYTHON"].usable
    if sys.platform != "darwin":
        assert not by_name["METAL"].usable and "macOS" in by_name["METAL"].reason


def test_backend_status_reasons_when_missing(monkeypatch):
    monkeypatch.setattr(dev.shutil, "which", lambda name: None)
    monkeypatch.setattr(dev, "_find_lib", lambda key, names: None)
    status = {s.name: s for s in backend_status(["cpu", "cl", "CUDA"])}
    assert status["CPU"] == ("CPU", False, status["CPU"].reason) and "clang not found" in status["CPU"].reason
    assert not status["CL"].usable and "OpenCL" in status["CL"].reason
    assert not status["CUDA"].usable and "no CUDA driver" in status["CUDA"].reason


def test_probe_never_crashes(monkeypatch):
    def boom():
        raise OSError("simulated driver crash")
    monkeypatch.setitem(dev._PROBES, "CL", boom)
    (status,) = backend_status(["CL"])
    assert not status.usable and "simulated driver crash" in status.reason


def test_backend_status_bad_input():
    with pytest.raises(ValueError, match="CPU"):
        backend_status(["TPU"])
    with pytest.raises(ValueError):
        backend_status("CPU")


def test_resolve_device_normalizes_names():
    assert resolve_device("cpu") == "CPU"
    assert resolve_device("  Cpu ") == "CPU"
    assert resolve_device("cpu:llvm", check=False) == "CPU:LLVM"
    assert resolve_device("python") == "PYTHON"


@pytest.mark.parametrize("name", ["tpu", "", "   ", None, 3, "cuda:1", "cpu::x", "gpu"])
def test_resolve_device_rejects_unknown(name):
    with pytest.raises(ValueError) as info:
        resolve_device(name)
    if name in ("tpu", "gpu", None, 3):
        for valid in ("CPU", "CL", "CUDA", "METAL"):
            assert valid in str(info.value)


def test_resolve_device_known_but_unusable(monkeypatch):
    monkeypatch.setitem(dev._PROBES, "CUDA", lambda: (False, "no CUDA driver (test)"))
    with pytest.raises(DeviceUnavailableError, match=r"no CUDA driver \(test\).*CPU"):
        resolve_device("cuda")
    assert resolve_device("cuda", check=False) == "CUDA"


def test_default_device():
    name = default_device()
    assert name.split(":")[0] in KNOWN_BACKENDS
    assert name == Device.DEFAULT


def test_use_device_switches_and_restores():
    before = Device.DEFAULT
    with use_device("python") as name:
        assert name == "PYTHON"
        assert Device.DEFAULT == "PYTHON"
        t = Tensor([1.0, 2.0]) * 3
        assert t.device == "PYTHON" and t.tolist() == [3.0, 6.0]
    assert Device.DEFAULT == before
    with pytest.raises(ValueError):
        with use_device("tpu"):
            pass
    assert Device.DEFAULT == before
