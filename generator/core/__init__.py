"""The core stack (templates/core.yaml): one module per layer, composed in `build`.

Request path: browser -> HTTP API (Cognito JWT authorizer) -> VPC link -> internal ALB in the
private subnets -> listener rule -> target group -> ECS service -> DynamoDB / S3 through gateway
endpoints. A release reaches the same target groups through the ALB's test listener first, from
the release gate only (functions, release).
"""

from __future__ import annotations

from troposphere import Template

from generator.config import Settings
from generator.core.api import add_api
from generator.core.auth import add_auth
from generator.core.compute import add_compute
from generator.core.data import add_data
from generator.core.encryption import add_encryption
from generator.core.endpoints import add_endpoints
from generator.core.environment import add_environment
from generator.core.functions import add_functions
from generator.core.iam import add_iam
from generator.core.loadbalancer import add_loadbalancer
from generator.core.logs import add_logs
from generator.core.network import add_network
from generator.core.notifications import add_notifications
from generator.core.observability import add_observability
from generator.core.registry import add_registry
from generator.core.release import add_release
from generator.core.scaling import add_scaling
from generator.core.secrets import add_secrets
from generator.core.security import add_security
from generator.core.services import add_services


def build(settings: Settings) -> Template:
    t = Template(Description=f"{settings.project}: core stack (network, compute, services, API)")
    t.set_version("2010-09-09")
    t.set_transform("AWS::Serverless-2016-10-31")

    environment = add_environment(t, settings)
    encryption = add_encryption(t, settings)
    network = add_network(t, settings, environment, encryption)
    security = add_security(t, settings, network)
    data = add_data(t, settings, encryption)
    auth = add_auth(t, settings, network)
    registry = add_registry(t, settings, encryption)
    logs = add_logs(t, settings, encryption)
    secrets = add_secrets(t, settings, encryption)
    iam = add_iam(t, settings, environment, encryption, data, registry, logs, secrets)
    compute = add_compute(t, settings, environment, network, security, iam, logs)
    add_endpoints(t, settings, network, security, data, registry, logs, iam, compute, secrets)
    functions = add_functions(t, settings, environment, encryption, network, security)
    lb = add_loadbalancer(t, settings, network, security, data, compute, functions)
    release = add_release(t, settings, environment, compute, lb, functions)
    services = add_services(
        t,
        settings,
        network,
        security,
        data,
        auth,
        registry,
        logs,
        iam,
        compute,
        lb,
        release,
        secrets,
    )
    add_scaling(t, settings, compute, lb, services)
    api = add_api(t, settings, network, security, data, auth, lb, logs)
    topic = add_observability(t, settings, encryption, data, lb, services, api, compute)
    add_notifications(t, settings, environment, compute, topic)
    return t
