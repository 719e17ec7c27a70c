"""scripts/bootstrap.sh 可以重复执行：第二次什么都不装，也不调用 sudo、apt、
pip、npm。

测试命令（scripts/test.sh）在 pytest 之前已经运行过 bootstrap，所以这里的第一
次运行通常只需一两秒；在全新的克隆里它会真正安装 docs 环境。
"""

from __future__ import annotations

import os
import subprocess

from devtools.paths import ROOT

_TOOLS = ("sudo", "apt-get", "apt", "npm", "pip", "pip3")


def _bootstrap(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "scripts/bootstrap.sh", "docs"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=800,
        env=env,
    )


def test_bootstrap_twice_installs_nothing_the_second_time(tmp_path):
    first = _bootstrap(dict(os.environ))
    assert first.returncode == 0, first.stderr
    # 第二次：sudo、apt、npm、pip 换成只记录调用的假程序
    fake, log = tmp_path / "bin", tmp_path / "calls.log"
    fake.mkdir()
    for name in _TOOLS:
        tool = fake / name
        tool.write_text(f'#!/bin/sh\necho "{name} $*" >> "{log}"\nexit 1\n')
        tool.chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}{os.pathsep}{os.environ['PATH']}"}
    second = _bootstrap(env)
    assert second.returncode == 0, second.stderr
    assert (second.stdout, second.stderr) == ("", ""), second.stderr
    assert not log.exists(), log.read_text()
