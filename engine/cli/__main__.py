"""`python -m engine.cli …`: the same as `bunko …` without the desktop app."""

import sys

from . import main

sys.exit(main())
