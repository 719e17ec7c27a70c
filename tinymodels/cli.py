"""命令行：``python -m tinymodels info``、``train MODEL`` 与 ``parity --device D``。

也可以通过安装后的命令 ``tinymodels`` 调用。退出码：0 成功；1 运行中出错（训练发散、写文件失败等）；
2 命令行参数错误（未知模型、未知或不可用的设备……）。
"""
from __future__ import annotations

import argparse
import contextlib
import os
import platform
import sys
import time
from pathlib import Path

__all__ = ["main", "build_parser"]


def _model_name(value: str) -> str:
    from .zoo import get_recipe

    try:
        return get_recipe(value).name
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _device_name(value: str) -> str:
    from .device import DeviceUnavailableError, resolve_device

    try:
        return resolve_device(value)
    except (ValueError, DeviceUnavailableError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _nonneg_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"应为整数，实际为 {value!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"应为非负整数，实际为 {n}")
    return n


def _pos_int(value: str) -> int:
    n = _nonneg_int(value)
    if n == 0:
        raise argparse.ArgumentTypeError("应为正整数，实际为 0")
    return n


def build_parser() -> argparse.ArgumentParser:
    """构造命令行解析器（``--help`` 会列出全部内置模型）。"""
    from .zoo import RECIPES

    models = "\n".join(f"  {r.name:<12} {r.summary}（默认 {r.epochs} 轮，指标 {r.metric}）" for r in RECIPES.values())
    parser = argparse.ArgumentParser(
        prog="tinymodels", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="tinymodels：基于 tinygrad 的小型模型库。",
        epilog=f"内置模型（train 命令可用）：\n{models}\n\n示例：\n  python -m tinymodels info\n"
               "  python -m tinymodels train cnn --epochs 1\n  python -m tinymodels parity --device cl")
    sub = parser.add_subparsers(dest="command", metavar="{info,train,parity}")
    sub.add_parser("info", help="打印版本、默认设备与各后端是否可用")
    train = sub.add_parser("train", help="在随包数据上训练一个内置模型，保存检查点并重新加载评估",
                           formatter_class=argparse.RawDescriptionHelpFormatter,
                           epilog=f"内置模型：\n{models}")
    train.add_argument("model", type=_model_name, metavar="MODEL", help=f"模型名：{', '.join(RECIPES)}")
    train.add_argument("--device", type=_device_name, default=None,
                       help="计算设备，如 cpu、cl、cuda（默认：tinygrad 的默认设备）")
    train.add_argument("--epochs", type=_pos_int, default=None, help="训练轮数（默认：模型配方的轮数）")
    train.add_argument("--seed", type=_nonneg_int, default=0, help="随机种子（默认 0）")
    train.add_argument("--out", type=Path, default=None,
                       help="检查点路径（默认 artifacts/<MODEL>.safetensors）")
    train.add_argument("--no-progress", action="store_true", help="不显示进度条")

    parity = sub.add_parser("parity", help="后端一致性测试：各模型的前向与梯度在该设备上与 CPU 比较")
    parity.add_argument("--device", type=_device_name, required=True, help="要验证的设备，如 cl、cuda、metal")
    parity.add_argument("--models", default=None,
                        help="逗号分隔的模型名（默认全部，见 tinymodels.parity.PARITY_MODELS）")
    parity.add_argument("--tolerance", type=float, default=None, help="相对误差容差（默认 1e-4）")
    parity.add_argument("--record", type=Path, default=None, metavar="DIR",
                        help="把结果写成 DIR/parity-<后端>.json（网站的验证状态页读取它）")
    return parser


def _cmd_info() -> int:
    from importlib.metadata import PackageNotFoundError, version

    from . import __version__
    from .device import backend_status, default_device

    try:
        tg = version("tinygrad")
    except PackageNotFoundError:
        tg = "unknown"
    print(f"tinymodels  {__version__}")
    print(f"tinygrad    {tg}")
    print(f"Python      {platform.python_version()} ({sys.platform}, {platform.machine()})")
    if os.environ.get("DEV"):
        print(f"DEV         {os.environ['DEV']}（环境变量）")
    try:
        print(f"默认设备    {default_device()}")
    except Exception as exc:  # 没有任何可用设备时也要把后端列表打印出来
        print(f"默认设备    无（{exc}）")
    print("后端：")
    for name, usable, reason in backend_status():
        print(f"  {name:<7} {'可用  ' if usable else '不可用'}  {reason}")
    return 0


def _fmt(metrics: dict) -> str:
    return "  ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in metrics.items())


def _cmd_train(args) -> int:
    from tinygrad import Device

    from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
    from .device import use_device
    from .train import TrainingDivergedError, set_seed
    from .utils import count_parameters
    from .zoo import evaluate_recipe, get_recipe, train_recipe

    recipe = get_recipe(args.model)
    epochs = args.epochs or recipe.epochs
    out = args.out or Path("artifacts") / f"{recipe.name}.safetensors"
    progress = False if args.no_progress else None
    device_ctx = use_device(args.device) if args.device else contextlib.nullcontext()
    try:
        with device_ctx:
            set_seed(args.seed)
            model = recipe.build()
            print(f"模型 {recipe.name}（{type(model).__name__}，{count_parameters(model):,} 个参数）：{recipe.summary}")
            print(f"设备 {Device.DEFAULT}，训练 {epochs} 轮，批大小 {recipe.batch_size}，种子 {args.seed}")
            start = time.perf_counter()
            last = train_recipe(recipe, model, epochs=epochs, seed=args.seed, progress=progress)
            shown = {k: v for k, v in last.items() if k not in ("epoch", "seconds")}
            print(f"训练完成，用时 {time.perf_counter() - start:.1f} 秒：{_fmt(shown)}")
            meta = {"recipe": recipe.name, "epochs": epochs, "seed": args.seed, **recipe.metadata()}
            save_checkpoint(model, out, metadata=meta)
            print(f"检查点已保存到 {out}")
            # 用全新的模型加载检查点再评估：验证"保存—加载"这条路真的走得通
            fresh = recipe.build()
            load_checkpoint(fresh, out)
            result = evaluate_recipe(recipe, fresh, seed=args.seed)
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
    from .parity import DEFAULT_TOLERANCE, PARITY_MODELS, format_table, run_parity, save_parity_record

    models = [m.strip() for m in args.models.split(",") if m.strip()] if args.models else None
    unknown = [m for m in models or [] if m not in PARITY_MODELS]
    if unknown:
        parser.error(f"未知模型 {unknown}；可选：{', '.join(PARITY_MODELS)}")  # 退出码 2
    tolerance = DEFAULT_TOLERANCE if args.tolerance is None else args.tolerance
    if not tolerance > 0:
        parser.error(f"--tolerance 应为正数，实际为 {tolerance}")
    results = run_parity(args.device, models=models, tolerance=tolerance)
    print(format_table(args.device, results))
    if args.record is not None:
        print(f"记录已写入 {save_parity_record(args.device, results, args.record)}")
    failed = [r.model for r in results if not r.passed]
    if failed:
        print(f"不一致：{', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """命令行入口。

    Args:
        argv: 参数列表（不含程序名）；None 时取 ``sys.argv[1:]``。

    Returns:
        退出码：0 成功，1 运行出错（含一致性测试不通过），2 参数错误。
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command == "info":
            return _cmd_info()
        if args.command == "train":
            return _cmd_train(args)
        if args.command == "parity":
            return _cmd_parity(args, parser)
    except SystemExit as exc:  # argparse 出错时退出码为 2，--help 为 0；返回而不是直接退出，便于测试
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    except BrokenPipeError:  # 例如 `tinymodels info | head`：读的一方提前关闭，不打印回溯
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    parser.print_help()
    return 2
