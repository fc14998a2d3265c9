"""The core stack (templates/core.yaml): one module per layer, composed in `build`."""

from __future__ import annotations

from troposphere import Template

from generator.config import Settings


def build(settings: Settings) -> Template:
    t = Template(Description=f"{settings.project}: core stack (network, compute, services, API)")
    t.set_version("2010-09-09")
    t.set_transform("AWS::Serverless-2016-10-31")
    return t
