"""hypothesis profiles: `ci` (the default) for `make test`, `deep` for `make fuzz`."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

# too_slow: each example is HTTP round trips to a local stack. differing_executors: the same
# suites (tests/properties/suites.py) run on purpose against two targets, straight at the
# services and through the local gateway, each a subclass of ApiProperties; an example that
# failed on one is worth replaying on the other.
SUPPRESSED = [HealthCheck.too_slow, HealthCheck.differing_executors]

# Derandomized: every run tries the same examples, so `make test` is repeatable and its time
# is known. The examples hypothesis picks still cover each strategy's branches.
settings.register_profile(
    "ci",
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=SUPPRESSED,
)
# Random and many more: new examples on every run; failures are kept in artifacts/ and tried
# first next time.
settings.register_profile(
    "deep",
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "500")),
    derandomize=False,
    database=DirectoryBasedExampleDatabase("artifacts/hypothesis"),
    deadline=None,
    print_blob=True,
    suppress_health_check=SUPPRESSED,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
