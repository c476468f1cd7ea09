"""The packaged program's entry point: the same `bunko` as the pip-installed command."""

import sys

from desktop.launcher import main

if __name__ == "__main__":
    sys.exit(main())
