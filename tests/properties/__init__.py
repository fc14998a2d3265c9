"""Property-based suites that hold for any way of reaching the API.

`suites.ApiProperties` holds the tests; a test module subclasses it and provides a `target`
fixture (`target.Target`): straight at each service (tests/services/test_properties.py), or
through a gateway with one base URL. `strategies` builds the hostile input.
"""

from __future__ import annotations

import sys
from pathlib import Path

# The cursor strategies build cursors with the services' own encoder, imported as the services'
# containers import it: from app/.
APP = Path(__file__).resolve().parents[2] / "app"
if str(APP) not in sys.path:
    sys.path.insert(0, str(APP))
