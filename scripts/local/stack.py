"""`LocalStack`: start and stop what the description says: emulator, resources, services, gateway.

What runs is decided by `describe()` (scripts/local/description.py), a pure reading of the
templates; this module only starts it, in order, and stops it again.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import Any

from scripts.cfn.template import Physical, UnsupportedTemplate, bind, load_template
from scripts.local.authorizer import JwtVerifier
from scripts.local.description import LocalDescription, describe
from scripts.local.emulator import Emulator, clean_environment
from scripts.local.gateway import ApiGateway, Server, Upstream, Website
from scripts.local.processes import (
    Child,
    Log,
    StartupError,
    ensure_port_free,
    free_port,
    stop_all,
    wait_until_ok,
)
from scripts.local.resources import (
    FAKE_CREDENTIALS,
    REGION,
    Created,
    EmulatorClients,
    create_resources,
    emulator_client,
    emulator_jwks_url,
)
from scripts.local.secrets import create_secrets, injected
from scripts.local.services import LocalService, gunicorn_settings, local_command, start_service
from scripts.smoke.user import ensure_smoke_user, secret_name

ROOT = Path(__file__).resolve().parents[2]
_ISSUER = re.compile(
    r"https://cognito-idp\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/(?P<pool>[\w-]+)\Z"
)


@dataclass(frozen=True)
class Ports:
    """Where the stack listens; 0 picks a free port (handy in tests)."""

    host: str = "127.0.0.1"
    site: int = 8000
    api: int | None = None  # default: site + 1
    emulator: int = 4566


@dataclass(frozen=True)
class RunningService:
    """An app service the stack started: its process, address and environment."""

    name: str
    port: int
    child: Child
    environment: Mapping[str, str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _ports(ports: Ports) -> tuple[int, int, int]:
    """Site, API and emulator ports, with a free port for each 0."""
    host = ports.host
    site = ports.site or free_port(host)
    if ports.api is not None:
        api = ports.api or free_port(host)
    elif ports.site:
        api = site + 1
    else:  # a free site port's neighbour may be taken: pick a free one as well
        api = free_port(host)
    return site, api, ports.emulator or free_port(host)


class LocalStack:
    """The whole app on this machine. See the package docstring for the API."""

    def __init__(
        self,
        ports: Ports | None = None,
        *,
        root: Path = ROOT,
        template: Path | None = None,
        website_template: Path | None = None,
        website_dir: Path | None = None,
        log: Log | None = None,
        startup_timeout: float = 60.0,
        service_env: Mapping[str, str] | None = None,
        drop_cors_on_401: bool = False,
    ) -> None:
        self.ports = ports or Ports()
        self.root = root
        self.template_path = template or root / "templates" / "core.yaml"
        self.website_template_path = website_template or root / "templates" / "website.yaml"
        self.website_dir = website_dir or root / "website"
        self.log = log or Log()
        self.startup_timeout = startup_timeout
        self.service_env = dict(service_env or {})  # added to (and overriding) each service's
        # The gateway's authorizer answers 401 without CORS headers (docs/website.md).
        self.drop_cors_on_401 = drop_cors_on_401
        self.host = self.ports.host
        self.site_port, self.api_port, self.emulator_port = _ports(self.ports)
        self._cancel = threading.Event()
        self.emulator = Emulator(
            self.host, self.emulator_port, self.log, startup_timeout, self._cancel
        )
        self.created: list[Created] = []
        self.services: dict[str, RunningService] = {}
        self.servers: list[Server] = []
        self.started_pids: list[int] = []  # every child ever started, for diagnostics and tests

    # --- what the templates say -----------------------------------------------------------------

    @cached_property
    def description(self) -> LocalDescription:
        """The templates read once (raises UnsupportedTemplate or StartupError)."""
        website = (
            load_template(self.website_template_path)
            if self.website_template_path.is_file()
            else None
        )
        return describe(
            load_template(self.template_path),
            app_dir=self.root / "app",
            website_origin=self.site_url,
            website_template=website,
            template_dir=self.template_path.parent,
        )

    # --- public surface ------------------------------------------------------------------------

    @property
    def _url_host(self) -> str:
        return "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host  # noqa: S104

    @property
    def site_url(self) -> str:
        return f"http://{self._url_host}:{self.site_port}"

    @property
    def api_url(self) -> str:
        return f"http://{self._url_host}:{self.api_port}"

    @property
    def emulator_url(self) -> str:
        return self.emulator.url

    @property
    def region(self) -> str:
        return REGION

    @property
    def physical(self) -> dict[str, Physical]:
        """What every created resource answers to Ref and GetAtt, by logical ID."""
        return {c.logical_id: c.physical for c in self.created}

    @property
    def resources(self) -> dict[str, str]:
        """Local physical name or ID of every created resource, by logical ID."""
        return {c.logical_id: c.name for c in self.created}

    def _created(self, logical_id: str) -> str:
        if logical_id not in self.resources:
            raise StartupError(f"{logical_id} is not created yet: start the local stack first")
        return self.resources[logical_id]

    @property
    def user_pool_id(self) -> str:
        return self._created(self.description.user_pool)

    @property
    def user_pool_client_id(self) -> str:
        return self._created(self.description.user_pool_client)

    @property
    def config(self) -> dict[str, Any]:
        """What config.js assigns to window.TODO_CONFIG."""
        return {
            "apiUrl": self.api_url,
            "region": REGION,
            "userPoolId": self.user_pool_id,
            "userPoolClientId": self.user_pool_client_id,
            "cognitoEndpoint": self.emulator_url + "/",
            "local": True,
            "passwordPolicy": self.description.password_rules.as_config(),
        }

    @property
    def children(self) -> list[Child]:
        """The running child processes: the emulator, then the services."""
        emulator = [self.emulator.child] if self.emulator.running else []
        return emulator + [s.child for s in self.services.values()]

    @property
    def pids(self) -> list[int]:
        """Process IDs (and process group IDs) of the running children."""
        return [c.pid for c in self.children]

    def service_url(self, name: str) -> str:
        return self.services[name].url

    def client(self, service: str) -> Any:
        """A boto3 client bound to the emulator (fake credentials, the stack's region)."""
        return emulator_client(self.emulator_url, service)

    def cancel_start(self) -> None:
        """Make a `start()` running in another thread (or a signal handler) give up soon."""
        self._cancel.set()

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- start and stop ------------------------------------------------------------------------

    def _check_ports(self) -> None:
        chosen = [
            (self.emulator_port, "the AWS emulator", "--emulator-port", "TODO_EMULATOR_PORT"),
            (self.site_port, "the website", "--port", "TODO_PORT"),
            (self.api_port, "the API", "--api-port", "TODO_API_PORT"),
        ]
        if len({port for port, *_ in chosen}) != len(chosen):
            raise StartupError(
                f"the site, API and emulator need three different ports, got "
                f"{self.site_port}, {self.api_port} and {self.emulator_port}"
            )
        for port, what, option, env in chosen:
            ensure_port_free(self.host, port, what, option, env)

    def start(self) -> None:
        """Start everything; on failure stop what already started and raise StartupError."""
        started = time.monotonic()
        try:
            self._check_ports()
            description = self.description
            self.started_pids.append(self.emulator.start().pid)
            self.create_resources()
            self._start_services(description)
            self._start_gateway(description)
        except UnsupportedTemplate as err:
            self.stop()
            raise StartupError(f"{self.template_path}: {err}") from err
        except BaseException:
            self.stop()
            raise
        self.log.line("local", f"ready in {time.monotonic() - started:.1f} s")

    def stop(self) -> None:
        """Stop the gateway, then every child process group, newest first. Safe to call twice."""
        while self.servers:
            self.servers.pop().stop()
        services, self.services = self.services, {}
        stop_all([s.child for s in services.values()][::-1])
        self.emulator.stop()

    def create_resources(self) -> None:
        """Create the description's resources in the emulator (again, after a restart of it)."""
        clients = EmulatorClients(
            self.client("dynamodb"), self.client("s3"), self.client("cognito-idp")
        )
        self.created = create_resources(self.description.resources, clients, REGION)
        for created in self.created:
            self.log.line("local", f"created {created.type} {created.logical_id}: {created.name}")
        secrets = [s for service in self.description.services for s in service.secrets]
        for name in create_secrets(secrets, self.client("secretsmanager"), self.client("ssm")):
            self.log.line("local", f"created secret {name} with a local development value")
        # The smoke user, as `make smoke-user` makes it in AWS: `make smoke URL=<site>` signs in
        # with the password it keeps in the emulator's Secrets Manager.
        user, _ = ensure_smoke_user(
            self.client("cognito-idp"), self.client("secretsmanager"), self.user_pool_id, "local"
        )
        self.log.line("local", f"created smoke user {user.username} ({secret_name('local')})")

    def service_environment(self, service: LocalService, port: int) -> dict[str, str]:
        """The task definition's environment bound to the local resources, plus local settings."""
        for name, why in service.unset.items():
            self.log.line("local", f"{service.name}: {name} left unset ({why})")
        values = {name: bind(value, self.physical) for name, value in service.environment.items()}
        values.update(
            {
                "AWS_REGION": REGION,
                "AWS_DEFAULT_REGION": REGION,
                "COGNITO_USER_POOL_ID": self.user_pool_id,
                "COGNITO_APP_CLIENT_ID": self.user_pool_client_id,
                "COGNITO_ISSUER": f"https://cognito-idp.{REGION}.amazonaws.com/{self.user_pool_id}",
                "COGNITO_JWKS_URL": emulator_jwks_url(self.emulator_url, self.user_pool_id),
                "AWS_ENDPOINT_URL": self.emulator_url,
                **FAKE_CREDENTIALS,
            }
        )
        # As ECS does when a task starts: the task definition's secrets, read from the emulator.
        values.update(injected(service.secrets, self.client("secretsmanager"), self.client("ssm")))
        values.setdefault("LOG_LEVEL", "INFO")
        values.update(self.service_env)
        values["PORT"] = str(port)
        values["GUNICORN_CMD_ARGS"] = gunicorn_settings("127.0.0.1", port)
        values["BIND_HOST"] = "127.0.0.1"
        return {**clean_environment(), **values}

    def _start_services(self, description: LocalDescription) -> None:
        app_dir = self.root / "app"
        for service in description.services:  # all start in parallel; wait for each in turn
            port = free_port("127.0.0.1")
            env = self.service_environment(service, port)
            argv = local_command(list(service.command))
            self.log.line(
                "local",
                f"{service.name}: {' '.join(argv)} (cwd app/, "
                f"GUNICORN_CMD_ARGS={env['GUNICORN_CMD_ARGS']})",
            )
            child = start_service(service, app_dir, env, self.log)
            self.started_pids.append(child.pid)
            self.services[service.name] = RunningService(service.name, port, child, env)
        for running in self.services.values():
            wait_until_ok(
                f"{running.url}/health", running.child, self.startup_timeout, cancel=self._cancel
            )

    def _start_gateway(self, description: LocalDescription) -> None:
        verifiers = {}
        for name, authorizer in description.api.authorizers.items():
            issuer = bind(authorizer.issuer, self.physical)
            pool = _ISSUER.match(issuer)
            if pool is None:
                raise StartupError(f"the API authorizer {name} trusts {issuer}, not a user pool")
            audience = tuple(bind(a, self.physical) for a in authorizer.audience)
            jwks = emulator_jwks_url(self.emulator_url, pool["pool"])
            verifiers[name] = JwtVerifier(issuer, audience, jwks)
        upstreams = {
            name: Upstream("127.0.0.1", running.port) for name, running in self.services.items()
        }
        api_app = ApiGateway(
            description.api,
            description.routing,
            upstreams,
            verifiers,
            self.log,
            drop_cors_on_401=self.drop_cors_on_401,
        )
        headers = description.site_headers.for_site([self.api_url, self.emulator_url])
        site_app = Website(self.website_dir, self.config, headers)
        for port, app in ((self.api_port, api_app), (self.site_port, site_app)):
            server = Server(self.host, port, app)
            server.start()
            self.servers.append(server)
