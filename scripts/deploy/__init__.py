"""Deploy tooling: change sets with a data-loss guard, service rollouts, website publishing.

Run as `python -m scripts.deploy <verb> ...` (the Makefile's changeset/deploy/deploy-service/
publish-website/status/logs targets). Every function takes its AWS clients as arguments, so
botocore's Stubber (or a moto server through AWS_ENDPOINT_URL) can stand in for AWS.
"""
