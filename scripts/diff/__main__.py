import sys

from scripts.diff.cli import main

sys.exit(main())
