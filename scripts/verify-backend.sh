#!/usr/bin/env bash
# 在另一个后端上验证：一致性测试（每个模型的前向与梯度对比 CPU）+ 全站代码块，
# 然后把记录导出到 verification/，提交后网站徽章就会显示这个后端。
#   bash scripts/verify-backend.sh CUDA      # NVIDIA 机器
#   bash scripts/verify-backend.sh CL        # OpenCL（例如 PoCL）
#   bash scripts/verify-backend.sh METAL     # Apple 芯片
# 只做一致性测试：KB_PARITY_ONLY=1 bash scripts/verify-backend.sh CUDA
set -euo pipefail
BACKEND="${1:?用法：$0 CUDA|CL|METAL}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [ ! -x .venv/bin/python ]; then "${PYTHON:-python3}" -m venv .venv; fi
.venv/bin/python -m pip install -q -e ".[test]"
# 代码块用只装了 tinymodels 的 .venv-blocks，在 bubblewrap 沙箱里运行（devtools/sandbox.py；GPU 的设备文件会带进沙箱）。
# 没有 bubblewrap 的机器（macOS）上验证自己的代码：KB_SANDBOX=off bash scripts/verify-backend.sh METAL
if [ ! -x .venv-blocks/bin/python ]; then "${PYTHON:-python3}" -m venv .venv-blocks; fi
.venv-blocks/bin/python -m pip install -q -e .
export MPLBACKEND=Agg NO_MKDOCS_2_WARNING=1
.venv/bin/python -m tinymodels parity --device "$BACKEND" --record verification/
if [ "${KB_PARITY_ONLY:-0}" != 1 ]; then
  # 全站代码块在该后端上运行；结果记录在 .cache/verification/，再导出到 verification/
  DEV="$BACKEND" .venv/bin/python -m pytest docs -q -p no:cacheprovider -n "${KB_WORKERS:-2}" --dist loadfile || status=$?
  name=$(.venv/bin/python -c "from devtools.records import backend_name; print(backend_name('$BACKEND'))")
  .venv/bin/python -m devtools.records export --backend "$name"
  exit "${status:-0}"
fi
