"""`python -m scripts.deploy <verb> ...`: see scripts/deploy/cli.py."""

import sys

from scripts.deploy.cli import main

sys.exit(main())
