"""`python -m gordon` runs the CLI, like the `gordon` console script."""

import sys

from gordon.cli import main

sys.exit(main())
