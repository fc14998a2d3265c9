"""The website's response headers as CloudFront sends them, from the website stack's policy.

The local site keeps the policy's security headers and its CSP, with connect-src naming the
local API and emulator instead of the AWS endpoints. HSTS is left out: it means nothing over
local http and would pin the host name to https.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from scripts.cfn.template import Resolver

RESPONSE_HEADERS_POLICY = "AWS::CloudFront::ResponseHeadersPolicy"

# Used when there is no website template: the same directives the website stack sets.
DEFAULT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
    "object-src 'none'"
)
BASELINE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


@dataclass(frozen=True)
class SecurityHeaders:
    content_security_policy: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def for_site(self, connect: list[str]) -> dict[str, str]:
        """Every header the local site sends, its CSP allowing connections to `connect`."""
        return {
            **BASELINE_HEADERS,
            **self.headers,
            "Content-Security-Policy": local_csp(self.content_security_policy, connect),
        }


def local_csp(template_csp: str | None, connect: list[str]) -> str:
    """The website stack's CSP with connect-src naming the local API and emulator origins."""
    directives = [d.strip() for d in (template_csp or DEFAULT_CSP).split(";") if d.strip()]
    rewritten: list[str] = []
    for directive in directives:
        name, _, sources = directive.partition(" ")
        if name == "connect-src":
            keep = [s for s in sources.split() if s.startswith("'")]
            directive = " ".join([name, *keep, *connect])
        rewritten.append(directive)
    if not any(d.startswith("connect-src") for d in rewritten):
        rewritten.append(" ".join(["connect-src", "'self'", *connect]))
    return "; ".join(rewritten)


def read_security_headers(resolver: Resolver) -> SecurityHeaders:
    """The website stack's CloudFront response-headers policy, as plain header values."""
    policies = resolver.of_type(RESPONSE_HEADERS_POLICY)
    if not policies:
        return SecurityHeaders()
    raw = resolver.properties(policies[0]).get("ResponseHeadersPolicyConfig", {})
    security = raw.get("SecurityHeadersConfig", {})
    where = f"Resources.{policies[0]}.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig"
    headers: dict[str, str] = {}
    if "ContentTypeOptions" in security:
        headers["X-Content-Type-Options"] = "nosniff"
    frame = security.get("FrameOptions", {}).get("FrameOption")
    if frame:
        headers["X-Frame-Options"] = str(resolver.resolve(frame, where))
    referrer = security.get("ReferrerPolicy", {}).get("ReferrerPolicy")
    if referrer:
        headers["Referrer-Policy"] = str(resolver.resolve(referrer, where))
    xss = security.get("XSSProtection")
    if xss:
        headers["X-XSS-Protection"] = (
            "1; mode=block" if xss.get("ModeBlock") else ("1" if xss.get("Protection") else "0")
        )
    # The CSP's sources name AWS hosts; only its shape is kept (connect-src is rewritten locally),
    # so its Sub variables are replaced by placeholders instead of being resolved.
    csp = security.get("ContentSecurityPolicy", {}).get("ContentSecurityPolicy")
    csp_text = None
    if csp is not None:
        csp_text = _placeholder_text(csp)
    return SecurityHeaders(csp_text, headers)


def _placeholder_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Fn::Sub":
            source = arg[0] if isinstance(arg, list) else arg
            return re.sub(r"\$\{[^}]+\}", "aws.invalid", str(source))
        if key == "Fn::Join":
            return str(arg[0]).join(_placeholder_text(v) for v in arg[1])
    return "aws.invalid"
