"""``python -m tinymodels`` 的入口，实现见 ``tinymodels.cli``。"""
import sys

from .cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
