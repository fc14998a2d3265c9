"""The tables the services are tested against are the tables templates/core.yaml deploys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts.servicerun import FILES_TABLE, ROOT, TODOS_TABLE


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation short-form tags (!Ref, !GetAtt, ...) as plain values."""


def _any_tag(loader: yaml.SafeLoader, _suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)  # type: ignore[arg-type]


_CfnLoader.add_multi_constructor("!", _any_tag)


def _normalised(definition: dict[str, Any]) -> dict[str, Any]:
    return {
        "KeySchema": definition["KeySchema"],
        "AttributeDefinitions": sorted(
            definition["AttributeDefinitions"], key=lambda a: a["AttributeName"]
        ),
        "LocalSecondaryIndexes": definition.get("LocalSecondaryIndexes", []),
        "GlobalSecondaryIndexes": definition.get("GlobalSecondaryIndexes", []),
    }


@pytest.mark.parametrize(
    ("logical_id", "tested"), [("TodosTable", TODOS_TABLE), ("FilesTable", FILES_TABLE)]
)
def test_tested_tables_match_the_template(logical_id: str, tested: dict[str, Any]) -> None:
    template = yaml.load(Path(ROOT, "templates", "core.yaml").read_text(), Loader=_CfnLoader)  # noqa: S506
    deployed = template["Resources"][logical_id]["Properties"]
    assert _normalised(tested) == _normalised(deployed)
