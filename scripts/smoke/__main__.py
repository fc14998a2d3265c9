"""`python -m scripts.smoke`: see scripts/smoke/cli.py."""

import sys

from scripts.smoke.cli import main

sys.exit(main())
