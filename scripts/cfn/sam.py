"""The SAM transform, applied offline: AWS::Serverless::* resources as the resources they become.

aws-sam-translator is the library CloudFormation's `AWS::Serverless-2016-10-31` transform is
built from. The checks that reason about resource types (handler permissions, lifecycle, the
template diff, cfn-lint of the expanded template) read the expanded template; cfn-lint 1.58 no
longer expands SAM by itself.

A function's `CodeUri` is a local directory until `make deploy` packages it
(scripts/deploy/package.py); for an offline expansion it is replaced by a placeholder S3
location, as packaging would replace it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from scripts.cfn.schemas import REFERENCE_REGION
from scripts.cfn.template import UnsupportedTemplate

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
FUNCTION = "AWS::Serverless::Function"
PLACEHOLDER_CODE = {"Bucket": "packaged-code-bucket", "Key": "hooks/0000.zip"}


def local_code(resource: Mapping[str, Any]) -> str | None:
    """The local directory a SAM function's CodeUri names, or None when it is packaged."""
    uri = (resource.get("Properties") or {}).get("CodeUri")
    if isinstance(uri, str) and not uri.startswith("s3://"):
        return uri
    return None


def with_code(template: Mapping[str, Any], code: Mapping[str, str]) -> dict[str, Any]:
    """The template with every local CodeUri replaced by `code` ({Bucket, Key})."""
    result = copy.deepcopy(dict(template))
    for resource in (result.get("Resources") or {}).values():
        if resource.get("Type") == FUNCTION and local_code(resource) is not None:
            resource["Properties"]["CodeUri"] = dict(code)
    return result


def expand(
    template: Mapping[str, Any],
    parameters: Mapping[str, str],
    *,
    code: Mapping[str, str] = PLACEHOLDER_CODE,
) -> dict[str, Any]:
    """The template with the SAM transform applied (a copy, unchanged without the transform);
    local code directories become `code` ({Bucket, Key}), as packaging would make them."""
    transform = template.get("Transform")
    if transform is None:
        return copy.deepcopy(dict(template))
    transforms = transform if isinstance(transform, list) else [transform]
    if transforms != [SAM_TRANSFORM]:
        raise UnsupportedTemplate(
            f"cannot expand the transform {transform!r} offline (only {SAM_TRANSFORM} can be)"
        )
    import boto3
    from samtranslator.metrics.metrics import DummyMetricsPublisher, Metrics
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    metrics = Metrics("todo", DummyMetricsPublisher())
    translator = Translator(
        managed_policy_map={},
        sam_parser=Parser(),
        # The translator reads its region from a session; no credentials are needed or used.
        boto_session=boto3.session.Session(region_name=REFERENCE_REGION),
        metrics=metrics,
    )
    try:
        expanded: dict[str, Any] = translator.translate(
            sam_template=with_code(template, code), parameter_values=dict(parameters)
        )
    except InvalidDocumentException as err:
        causes = "; ".join(str(cause) for cause in err.causes)
        raise UnsupportedTemplate(f"the SAM transform rejects the template: {causes}") from err
    finally:
        metrics.publish()
    return expanded
