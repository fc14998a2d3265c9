"""`make smoke ENV=…|URL=…`: a check of a deployed (or local) stack through its public front door.

`checks.py` holds the checks, each a small function over an HTTP client; `user.py` creates and
rotates the smoke user whose password lives in Secrets Manager; `cli.py` parses arguments,
finds the endpoints (from the stacks' outputs, or from a site URL and its config.js), runs the
checks and prints a table.
"""
