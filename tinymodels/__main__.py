"""``python -m tinymodels`` 的入口，实现见 ``tinymodels.tools.cli``。"""

import sys

from tinymodels.tools.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
