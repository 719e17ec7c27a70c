"""命令行与内置模型配方：info、train、parity、--help、错误参数的退出码。"""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinymodels
from tinymodels.__main__ import main
from tinymodels.checkpoint import read_checkpoint_metadata
from tinymodels.tools import backends, recipes

ROOT = Path(__file__).resolve().parents[2]


def test_version_matches_pyproject():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert (
        re.search(r'^version = "([^"]+)"', text, re.M).group(1)
        == tinymodels.__version__
    )


def test_top_level_exports_resolve():
    missing = [n for n in tinymodels.__all__ if not hasattr(tinymodels, n)]
    assert not missing


def test_help_lists_models(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in recipes.list_models():
        assert name in out
    assert main(["train", "--help"]) == 0
    assert "gpt" in capsys.readouterr().out


def test_no_command_prints_help_and_fails(capsys):
    assert main([]) == 2
    assert "info" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv,needle",
    [
        (
            ["train", "resnet"],
            "mlp, cnn, rnn, lstm, transformer, gpt, autoencoder, gan",
        ),
        (["train", "mlp", "--device", "tpu"], "CPU, CL, CUDA, METAL"),
        (["train", "mlp", "--epochs", "0"], "--epochs"),
        (["train", "mlp", "--epochs", "x"], "--epochs"),
        (["train", "mlp", "--seed", "-3"], "--seed"),
        (["train"], "MODEL"),
        (["fly"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_2_with_clear_message(argv, needle, capsys):
    assert main(argv) == 2
    assert needle in capsys.readouterr().err


def test_unusable_device_exits_2(monkeypatch, capsys):
    def probe(dev):
        return backends.BackendStatus(dev, dev == "CPU", "simulated failure")

    monkeypatch.setattr(backends, "_probe", probe)
    assert main(["train", "mlp", "--device", "CUDA"]) == 2
    err = capsys.readouterr().err
    assert "CUDA" in err and "simulated failure" in err and "CPU" in err


def test_info_in_process(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert tinymodels.__version__ in out and "0.14.0" in out
    for name in ("CPU", "CL", "CUDA", "METAL"):
        assert re.search(rf"^\s+{name}\s+(可用|不可用)\s+\S", out, re.M)


def test_info_subprocess():
    proc = subprocess.run(
        [sys.executable, "-m", "tinymodels", "info"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**__import__("os").environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr
    assert "tinygrad" in proc.stdout and "默认设备" in proc.stdout


def test_train_mlp_end_to_end(tmp_path, capsys):
    out = tmp_path / "ckpt" / "mlp.safetensors"
    assert (
        main(
            [
                "train",
                "MLP",
                "--epochs",
                "1",
                "--seed",
                "3",
                "--out",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    m = re.search(r"^accuracy = ([0-9.]+)", text, re.M)
    assert m and float(m.group(1)) > 0.5, text
    meta = read_checkpoint_metadata(out)
    assert (
        meta["recipe"] == "mlp"
        and meta["epochs"] == 1
        and meta["seed"] == 3
        and meta["model_class"] == "MLP"
    )
    assert [p.name for p in out.parent.iterdir()] == ["mlp.safetensors"]


# ---------------------------------------------------------------- 配方


def test_recipes_recipes_are_consistent():
    # 模块文档里的表格列出每个配方
    for name in recipes.list_models():
        assert f"| `{name}` |" in recipes.__doc__
    for name in recipes.list_models():
        r = recipes.get_recipe(name.upper())
        assert (
            r.name == name
            and r.summary
            and r.epochs >= 1
            and r.batch_size >= 1
            and r.lr > 0
        )
        (Xtr, Ytr), (Xte, Yte) = r.load_data()
        assert (
            len(Xtr) == len(Ytr) >= r.batch_size and len(Xte) == len(Yte) > 0
        )
        assert len(Xte) <= 512  # evaluate_recipe 一批算完测试集
        model = r.build()
        assert tinymodels.count_parameters(model) > 0
        assert isinstance(r.metadata(), dict)


def test_recipes_unknown_name():
    with pytest.raises(ValueError, match="mlp, cnn"):
        recipes.get_recipe("resnet")
    with pytest.raises(ValueError):
        recipes.get_recipe(None)


def test_gan_mode_coverage_metric():
    centers = tinymodels.mixture_centers(8, 2.0)
    perfect = tinymodels.gaussian_mixture(800, std=0.05, seed=0)
    assert recipes.gan_mode_coverage(perfect, centers, 0.05) == {
        "modes_covered": 8.0,
        "high_quality": pytest.approx(1.0, abs=0.02),
    }
    collapsed = np.repeat(centers[:1], 800, axis=0)
    assert (
        recipes.gan_mode_coverage(collapsed, centers, 0.05)["modes_covered"]
        == 1.0
    )
    far = np.zeros((100, 2), np.float32)
    assert recipes.gan_mode_coverage(far, centers, 0.05) == {
        "modes_covered": 0.0,
        "high_quality": 0.0,
    }


def test_recipes_entry_points_bad_input():
    with pytest.raises(ValueError, match="未知模型"):
        recipes.train_recipe("resnet", model=None)
    with pytest.raises(ValueError, match="未知模型"):
        recipes.evaluate_recipe("resnet", model=None)
    with pytest.raises(ValueError, match="epochs"):
        recipes.train_recipe(
            "mlp", recipes.get_recipe("mlp").build(), epochs=0
        )
    centers = tinymodels.mixture_centers(8, 2.0)
    for samples, std in (
        (np.zeros((0, 2)), 0.05),
        (np.zeros((5, 3)), 0.05),
        (np.zeros(5), 0.05),
        (np.zeros((5, 2)), 0),
    ):
        with pytest.raises(ValueError):
            recipes.gan_mode_coverage(samples, centers, std)


def test_parity_command(tmp_path, capsys):
    assert (
        main(
            [
                "parity",
                "--device",
                "cpu",
                "--models",
                "MLP",
                "--record",
                str(tmp_path),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "MLP" in out and "通过" in out
    assert (tmp_path / "parity-cpu.json").is_file()


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["parity"], "--device"),
        (["parity", "--device", "tpu"], "CPU, CL, CUDA, METAL"),
        (["parity", "--device", "cpu", "--models", "ResNet"], "MLP"),
        (["parity", "--device", "cpu", "--tolerance", "-1"], "--tolerance"),
    ],
)
def test_parity_bad_arguments(argv, needle, capsys):
    assert main(argv) == 2
    assert needle in capsys.readouterr().err
