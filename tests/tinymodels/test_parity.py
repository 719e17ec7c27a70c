"""一致性测试本身：故意扰动的计算必须判失败；有 OpenCL（PoCL）时，
每类运算的代表模型在 CL 上与 CPU 一致。"""

from __future__ import annotations

import json

import pytest

from tinymodels.tools.backends import backend_status
from tinymodels.tools.parity import (
    DEFAULT_TOLERANCE,
    PARITY_MODELS,
    format_table,
    run_parity,
    save_parity_record,
)


def test_parity_fails_on_a_deliberately_perturbed_computation():
    # 目标后端上把输出乘以 1.001：相对误差 1e-3 超过 1e-4 的容差，必须判失败
    (bad,) = run_parity(
        "CPU", models=["MLP"], perturb=lambda out: out * 1.001
    )
    assert not bad.passed
    assert bad.forward_error == pytest.approx(1e-3, rel=1e-2)
    (good,) = run_parity("CPU", models=["MLP"])
    assert good.passed and good.forward_error == 0.0
    assert "失败" in format_table("CPU", [bad]) and "通过" in format_table(
        "CPU", [good]
    )


def test_parity_rejects_unknown_model_and_device():
    with pytest.raises(ValueError, match="未知的模型"):
        run_parity("CPU", models=["NoSuchModel"])
    with pytest.raises(ValueError):
        run_parity("NOSUCHDEVICE")


def test_parity_record_is_written_atomically(tmp_path):
    (r,) = run_parity("CPU", models=["MLP"])
    path = save_parity_record("CPU", [r], tmp_path)
    data = json.loads(path.read_text())
    assert data["backend"] == "CPU" and data["results"][0]["passed"] is True
    assert data["tolerance"] == DEFAULT_TOLERANCE
    assert not list(tmp_path.glob("*.tmp"))


#: 测试命令里在 OpenCL 上比的模型：每类运算一个（全连接、卷积与池化、循环、
#: 嵌入 + 因果注意力 + LayerNorm）。PoCL 冷编译一个内核要零点几秒，全部 11 个
#: 模型冷编译要几分钟。RNN、编码器、自编码器、GAN 的两半用的运算这 4 个都有；
#: TinyLlama 与 MoE 版（RMSNorm、RoPE、路由 top-k）只在比全部模型时比：
#: python -m tinymodels parity --device CL（持续集成的 DEV=CL 任务也跑它）。
SUITE_MODELS = ["MLP", "LeNet", "LSTMClassifier", "TinyGPT"]


def test_suite_models_are_known_parity_models():
    assert set(SUITE_MODELS) < set(PARITY_MODELS)


@pytest.mark.slow
def test_one_model_per_op_family_matches_cpu_on_opencl(tmp_path):
    ((_, ok, reason),) = backend_status(["CL"])
    if not ok:
        pytest.skip(f"OpenCL 不可用：{reason}")
    results = run_parity("CL", models=SUITE_MODELS)
    print(format_table("CL", results))
    save_parity_record("CL", results, tmp_path)
    assert all(r.passed for r in results), format_table("CL", results)
