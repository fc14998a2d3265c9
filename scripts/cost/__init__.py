"""`make cost ENV=…`: a monthly estimate of an environment's core stack, per resource."""
