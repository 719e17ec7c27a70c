"""命令行：``python -m tinymodels info | train MODEL | parity --device D``。

退出码：0 成功；1 运行中出错（训练发散、读写检查点失败、一致性不通过）；
2 参数错误（未知模型、未知或不可用的设备……）。参数在这里检查，错误消息
说明哪个参数、为什么。
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import sys
import time
from importlib.metadata import version
from pathlib import Path

from tinygrad import Context, Device

from tinymodels import (
    CheckpointError,
    TrainingDivergedError,
    __version__,
    count_parameters,
    load_checkpoint,
    save_checkpoint,
    set_seed,
)
from tinymodels.tools import parity, recipes
from tinymodels.tools.backends import (
    DeviceUnavailableError,
    backend_status,
    default_device,
    resolve_device,
)

__all__ = ["main", "build_parser"]


def _checked(fn, *errors):
    """把 ``fn`` 变成 argparse 的 ``type``：``errors`` 变成参数错误。"""

    def convert(value: str):
        try:
            return fn(value)
        except errors as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


def _int_at_least(low: int):
    def convert(value: str) -> int:
        try:
            n = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"应为整数，实际为 {value!r}")
        if n < low:
            raise argparse.ArgumentTypeError(
                f"应为 >= {low} 的整数，实际为 {n}"
            )
        return n

    return convert


def build_parser() -> argparse.ArgumentParser:
    """命令行解析器；``--help`` 列出全部内置模型。"""
    models = "\n".join(
        f"  {r.name:<12} {r.summary}（默认 {r.epochs} 轮，指标 {r.metric}）"
        for r in recipes.RECIPES.values()
    )
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="tinymodels",
        formatter_class=raw,
        description="tinymodels：基于 tinygrad 的小型模型库。",
        epilog=f"内置模型（train 命令可用）：\n{models}\n\n示例：\n"
        "  python -m tinymodels info\n"
        "  python -m tinymodels train cnn --epochs 1\n"
        "  python -m tinymodels parity --device cl",
    )
    sub = parser.add_subparsers(dest="command", metavar="{info,train,parity}")
    sub.add_parser("info", help="打印版本、默认设备与各后端能否使用")
    device = _checked(resolve_device, ValueError, DeviceUnavailableError)
    model = _checked(lambda v: recipes.get_recipe(v).name, ValueError)

    t = sub.add_parser(
        "train", help="训练内置模型，保存检查点，重新加载后评估",
        formatter_class=raw, epilog=f"内置模型：\n{models}",
    )  # fmt: skip
    t.add_argument("model", type=model, metavar="MODEL", help="模型名")
    t.add_argument("--device", type=device, help="设备，如 cpu、cl、cuda")
    t.add_argument(
        "--epochs", type=_int_at_least(1), help="轮数（默认按配方）"
    )
    t.add_argument("--seed", type=_int_at_least(0), default=0, help="种子")
    t.add_argument("--out", type=Path, help="检查点路径（默认 artifacts/）")
    t.add_argument("--no-progress", action="store_true", help="不显示进度条")

    par = sub.add_parser(
        "parity", help="各模型的前向与梯度在该设备上与 CPU 比较"
    )
    par.add_argument(
        "--device", type=device, required=True, help="如 cl、cuda"
    )
    par.add_argument("--models", help="逗号分隔的模型名（默认全部）")
    par.add_argument(
        "--tolerance", type=float, help="相对误差容差（默认 1e-4）"
    )
    par.add_argument(
        "--record", type=Path, metavar="DIR", help="结果写到 DIR/"
    )
    return parser


def _cmd_info() -> int:
    py = platform.python_version()
    print(f"tinymodels  {__version__}")
    print(f"tinygrad    {version('tinygrad')}")
    print(f"Python      {py} ({sys.platform}, {platform.machine()})")
    if os.environ.get("DEV"):
        print(f"DEV         {os.environ['DEV']}（环境变量）")
    try:
        print(f"默认设备    {default_device()}")
    except DeviceUnavailableError as exc:  # 仍把后端列表打印出来
        print(f"默认设备    无（{exc}）")
    print("后端：")
    for name, usable, reason in backend_status():
        print(f"  {name:<7} {'可用  ' if usable else '不可用'}  {reason}")
    return 0


def _fmt(metrics: dict) -> str:
    return "  ".join(
        f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}"
        for k, v in metrics.items()
        if k not in ("epoch", "seconds")
    )


def _train(recipe: recipes.Recipe, args) -> dict:
    """训练、保存检查点、用新模型加载后评估；返回测试集上的指标。"""
    epochs = args.epochs or recipe.epochs
    out = args.out or Path("artifacts") / f"{recipe.name}.safetensors"
    set_seed(args.seed)
    model = recipe.build()
    size = f"{type(model).__name__}，{count_parameters(model):,} 个参数"
    print(f"模型 {recipe.name}（{size}）：{recipe.summary}")
    print(
        f"设备 {Device.DEFAULT}，训练 {epochs} 轮，"
        f"批大小 {recipe.batch_size}，种子 {args.seed}"
    )
    progress = False if args.no_progress else None  # None：终端里才显示
    start = time.perf_counter()
    last = recipes.train_recipe(
        recipe, model, epochs=epochs, seed=args.seed, progress=progress
    )
    print(
        f"训练完成，用时 {time.perf_counter() - start:.1f} 秒：{_fmt(last)}"
    )
    meta = dict(recipe=recipe.name, epochs=epochs, seed=args.seed)
    save_checkpoint(model, out, {**meta, **recipe.metadata()})
    print(f"检查点已保存到 {out}")
    fresh = recipe.build()  # "保存—加载"这条路要真的走得通
    load_checkpoint(fresh, out)
    return recipes.evaluate_recipe(recipe, fresh, seed=args.seed)


def _cmd_train(args) -> int:
    recipe = recipes.get_recipe(args.model)
    try:
        with Context(**({"DEV": args.device} if args.device else {})):
            result = _train(recipe, args)
    except TrainingDivergedError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    except (CheckpointError, OSError) as exc:
        print(f"错误：检查点读写失败：{exc}", file=sys.stderr)
        return 1
    print(f"重新加载后在测试集上：{_fmt(result)}")
    arrow = "越大越好" if recipe.higher_is_better else "越小越好"
    print(f"{recipe.metric} = {result[recipe.metric]:.4f}（{arrow}）")
    return 0


def _cmd_parity(args, parser: argparse.ArgumentParser) -> int:
    names = [m.strip() for m in (args.models or "").split(",") if m.strip()]
    unknown = [m for m in names if m not in parity.PARITY_MODELS]
    if unknown:  # parser.error 以退出码 2 结束
        valid = ", ".join(parity.PARITY_MODELS)
        parser.error(f"未知模型 {unknown}；可选：{valid}")
    tol = args.tolerance
    if tol is None:
        tol = parity.DEFAULT_TOLERANCE
    elif not tol > 0:
        parser.error(f"--tolerance 应为正数，实际为 {tol}")
    results = parity.run_parity(args.device, names or None, tol)
    print(parity.format_table(args.device, results))
    if args.record is not None:
        path = parity.save_parity_record(args.device, results, args.record)
        print(f"记录已写入 {path}")
    failed = [r.model for r in results if not r.passed]
    if failed:
        print(f"不一致：{', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    """命令行入口；``argv`` 不含程序名，默认 ``sys.argv[1:]``。返回退出码。"""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command == "info":
            return _cmd_info()
        if args.command == "train":
            return _cmd_train(args)
        if args.command == "parity":
            return _cmd_parity(args, parser)
    except SystemExit as exc:  # argparse：出错 2、--help 0；返回便于测试
        return exc.code if isinstance(exc.code, int) else 2
    except BrokenPipeError:  # 如 `tinymodels info | head`：不打印回溯
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    parser.print_help()
    return 2
