"""`make diff`: a resource-level, security-aware diff of the generated templates, offline.

sources (BASE's committed templates and config, the working tree's generator) -> prepare (SAM
expanded, Conditions applied per environment, parameter values in place) -> engine (AWS CDK's
differ under Node.js) -> analysis (replacement from the provider schemas, security, data,
parameters) -> render (rich tables or Markdown). docs/diff.md explains what each section means.
"""
