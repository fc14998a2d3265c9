"""The release pipeline, from the repository's own files.

- `environments`: an environment exists because config/<env>.json does; config/promotion.json
  declares the order a release moves through them (dev, then prod; add staging between).
- `changes`: which components a range of commits changes (their paths, in one place).
- `workflow`: .github/workflows/release.yml, rendered from the order (`make workflows`; a test
  fails when the committed file differs).

Only the standard library is imported here, so the workflow's `changes` job runs it with the
runner's own Python.
"""
