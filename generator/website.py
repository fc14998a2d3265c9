"""The website stack (templates/website.yaml): private S3 bucket behind CloudFront."""

from __future__ import annotations

from troposphere import Template

from generator.config import Settings


def build(settings: Settings) -> Template:
    t = Template(Description=f"{settings.project}: website (S3 + CloudFront)")
    t.set_version("2010-09-09")
    return t
