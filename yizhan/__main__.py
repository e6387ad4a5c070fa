"""`python -m yizhan` is the `yizhan` command (the tests and the demo start children this way)."""

import sys

from yizhan.cli import main

sys.exit(main())
