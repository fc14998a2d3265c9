"""generator.emit writes exactly what troposphere's to_yaml (through cfn_flip) writes.

The golden test compares the rendered stacks with templates/; this one compares the two
renderers, on every stack and on a template made of the cases cfn_flip treats specially.
"""

from __future__ import annotations

import pytest
from troposphere import (
    Equals,
    GetAtt,
    If,
    Join,
    Output,
    Parameter,
    Ref,
    Select,
    Split,
    Sub,
    Tags,
    Template,
)
from troposphere.iam import Role
from troposphere.s3 import Bucket
from troposphere.sns import Topic

from generator import STACKS
from generator.config import Settings
from generator.emit import to_yaml


def cfn_flip(template: Template) -> str:
    text: str = template.to_yaml(clean_up=True, long_form=False)
    return text


@pytest.mark.parametrize("name", sorted(STACKS))
def test_every_stack_renders_as_cfn_flip_renders_it(name: str) -> None:
    template = STACKS[name](Settings())
    assert to_yaml(template) == cfn_flip(template)


def special_cases() -> Template:
    t = Template(Description="Every form cfn_flip writes in its own way")
    env = t.add_parameter(Parameter("Env", Type="String", AllowedValues=["dev", "prod"]))
    t.add_condition("IsProd", Equals(Ref(env), "prod"))
    bucket = t.add_resource(
        Bucket(
            "Data",
            BucketName=Join("-", ["data", Ref("AWS::AccountId"), Ref(env)]),
            Tags=Tags(
                Account="012345678901",  # a leading zero: quoted
                Long="x" * 200,  # past the column width: folded
                Lines="one\ntwo\nthree",  # a newline: double-quoted
                Many="\n".join(str(n) for n in range(12)),  # ten lines or more: a literal block
                Dollar="${not a reference}",
                Unicode="caf\u00e9 \u2013 \u2713",
            ),
        )
    )
    topic = t.add_resource(Topic("Alarms", Condition="IsProd"))
    t.add_resource(
        Role(
            "Worker",
            AssumeRolePolicyDocument={
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            },
            Path=Join("", ["/", Select(0, Split("-", GetAtt(bucket, "Arn"))), "/"]),
            Description=If("IsProd", Sub("prod ${AWS::Region}"), Ref("AWS::NoValue")),
        )
    )
    t.add_output(Output("BucketArn", Value=GetAtt(bucket, "Arn")))
    t.add_output(Output("Topic", Value=Ref(topic), Condition="IsProd"))
    t.add_output(Output("Joined", Value=Join(",", [Ref(env), GetAtt(bucket, "Arn"), "x"])))
    return t


def test_special_cases_render_as_cfn_flip_renders_them() -> None:
    template = special_cases()
    text = to_yaml(template)
    assert text == cfn_flip(template)
    # The cases are there: short-form functions, Join turned into Sub, quoting, blocks.
    for expected in ("!Sub", "!GetAtt", "!If", "!Split", "'012345678901'", "Value: |-"):
        assert expected in text
