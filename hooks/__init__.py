"""Lambda handlers of the core stack, packaged by the deploy tooling (scripts/deploy/package.py).

Each module is one function's handler and uses the standard library only, so the package is the
code itself: no build step, no layer.

- `gate`: the release gate, an ECS deployment lifecycle hook that checks a new service revision
  through the ALB's test listener before any user traffic reaches it.
- `not_found`: the JSON 404 behind both ALB listeners, for paths no service rule matches.
"""
