"""``python -m kernelflow``."""

import sys

from .cli import main

sys.exit(main())
