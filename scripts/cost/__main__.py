"""`python -m scripts.cost --env dev`: see scripts/cost/cli.py."""

import sys

from scripts.cost.cli import main

sys.exit(main())
