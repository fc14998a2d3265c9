"""The website's config.js: `window.TODO_CONFIG`, written by `make up` and `make publish-website`.

Both write it with `config_script`, and both take the password rules the sign-up page shows
and checks from the user pool's `Policies.PasswordPolicy` in templates/core.yaml
(`read_password_rules`), so the page and the pool cannot disagree.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scripts.cfn.template import Resolver, UnsupportedTemplate

USER_POOL = "AWS::Cognito::UserPool"
_POLICY_KEYS = (
    "MinimumLength",
    "RequireLowercase",
    "RequireUppercase",
    "RequireNumbers",
    "RequireSymbols",
)


@dataclass(frozen=True)
class PasswordRules:
    """What a user pool requires of a password (Cognito's PasswordPolicyType)."""

    minimum_length: int
    require_lowercase: bool
    require_uppercase: bool
    require_numbers: bool
    require_symbols: bool

    @classmethod
    def from_policy(cls, policy: Mapping[str, Any] | None, where: str) -> PasswordRules:
        """The rules a template's PasswordPolicy states.

        Every rule must be stated: Cognito documents no default for a field left out of a
        PasswordPolicy, and a page that guessed one could disagree with the pool.
        """
        missing = [key for key in _POLICY_KEYS if key not in (policy or {})]
        if policy is None or missing:
            raise UnsupportedTemplate(
                f"{where}: state {', '.join(missing)} in the PasswordPolicy, so that the website "
                "can show and check the same rules as the user pool"
            )
        return cls(
            minimum_length=int(policy["MinimumLength"]),
            require_lowercase=_flag(policy["RequireLowercase"]),
            require_uppercase=_flag(policy["RequireUppercase"]),
            require_numbers=_flag(policy["RequireNumbers"]),
            require_symbols=_flag(policy["RequireSymbols"]),
        )

    def as_config(self) -> dict[str, Any]:
        """The rules as config.js spells them (`passwordPolicy`)."""
        return {
            "minimumLength": self.minimum_length,
            "requireLowercase": self.require_lowercase,
            "requireUppercase": self.require_uppercase,
            "requireNumbers": self.require_numbers,
            "requireSymbols": self.require_symbols,
        }


def _flag(value: Any) -> bool:
    """A template boolean: YAML's true, or the string "true" that CloudFormation also takes."""
    return value is True or str(value).lower() == "true"


def read_password_rules(resolver: Resolver, user_pool: str | None = None) -> PasswordRules:
    """The password rules of `user_pool` (a logical ID), or of the template's only user pool."""
    if user_pool is None:
        pools = resolver.of_type(USER_POOL)
        if len(pools) != 1:
            raise UnsupportedTemplate(
                f"cannot tell which user pool the website signs up to: found {pools or 'none'}"
            )
        user_pool = pools[0]
    policies = resolver.prop(user_pool, "Policies") or {}
    where = f"Resources.{user_pool}.Properties.Policies.PasswordPolicy"
    return PasswordRules.from_policy(policies.get("PasswordPolicy"), where)


def config_script(config: Mapping[str, Any]) -> str:
    """The text of config.js: a classic script that the page loads before its modules."""
    return f"window.TODO_CONFIG = {json.dumps(dict(config), sort_keys=True)};\n"
