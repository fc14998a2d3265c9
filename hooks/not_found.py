"""The ALB listeners' default target: a JSON 404 for paths that no service rule matches.

ECS blue/green, linear and canary deployments fail when a listener's rules mix forward and
non-forward actions ("Application Load Balancer resources for blue/green, linear, and canary
deployments", Amazon ECS Developer Guide, Limitations). A fixed-response default action is such
a non-forward action, so the listeners forward unmatched paths to this function instead
("Lambda functions as targets", Elastic Load Balancing User Guide), which answers exactly what
the fixed response answered before.
"""

from __future__ import annotations

import json
from typing import Any

BODY = json.dumps(
    {"error": {"code": "not_found", "message": "No route matches this path."}}, sort_keys=True
)


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """The ALB's Lambda target response: status, headers and a body that is not base64."""
    return {
        "statusCode": 404,
        "statusDescription": "404 Not Found",
        "isBase64Encoded": False,
        "headers": {"Content-Type": "application/json"},
        "body": BODY,
    }
