"""`LocalStack`: emulator, resources from the template, both services, the gateway; stop it all."""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from scripts.cfn.template import Resolver, UnsupportedTemplate, load_template
from scripts.local.authorizer import JwtVerifier
from scripts.local.gateway import ApiGateway, Server, Upstream, Website
from scripts.local.processes import (
    Child,
    Log,
    StartupError,
    emulator_line_worth_showing,
    ensure_port_free,
    free_port,
    stop_all,
    wait_until_ok,
)
from scripts.local.resources import (
    FAKE_CREDENTIALS,
    REGION,
    USER_POOL,
    USER_POOL_CLIENT,
    Clients,
    Created,
    create_all,
    emulator_client,
    emulator_jwks_url,
)
from scripts.local.services import dockerfile_cmd, gunicorn_settings, local_command
from scripts.local.topology import (
    Api,
    Routing,
    ServiceSpec,
    find_services,
    read_api,
    read_routing,
    read_security_headers,
)

ROOT = Path(__file__).resolve().parents[2]
STACK_NAME = "todo-local-core"
ACCOUNT_ID = "123456789012"  # the emulator's default account

# Environment variable -> logical ID (the services' configuration, docs/services.md); used only
# when a task definition does not set the variable itself (task definitions normally do, with a
# Ref that resolves locally).
CONTRACT_ENV = {
    "TODOS_TABLE": "TodosTable",
    "FILES_TABLE": "FilesTable",
    "FILES_BUCKET": "FilesBucket",
    "COGNITO_USER_POOL_ID": "UserPool",
    "COGNITO_APP_CLIENT_ID": "UserPoolClient",
}
_ISSUER = re.compile(
    r"https://cognito-idp\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/(?P<pool>[\w-]+)\Z"
)

DEFAULT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
    "object-src 'none'"
)


@dataclass(frozen=True)
class Ports:
    """Where the stack listens; 0 picks a free port (handy in tests)."""

    host: str = "127.0.0.1"
    site: int = 8000
    api: int | None = None  # default: site + 1
    emulator: int = 4566


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
    ) -> None:
        self.ports = ports or Ports()
        self.root = root
        self.template_path = template or root / "templates" / "core.yaml"
        self.website_template_path = website_template or root / "templates" / "website.yaml"
        self.website_dir = website_dir or root / "website"
        self.log = log or Log()
        self.startup_timeout = startup_timeout
        self.children: list[Child] = []
        self.started_pids: list[int] = []  # every child ever started, for diagnostics and tests
        self.servers: list[Server] = []
        self.created: list[Created] = []
        self.service_urls: dict[str, str] = {}
        self.environment: dict[str, dict[str, str]] = {}
        self.resolver: Resolver | None = None
        self.api: Api | None = None
        self.routing: Routing | None = None
        self.config: dict[str, Any] = {}
        self._host = self.ports.host
        self._site_port = 0
        self._api_port = 0
        self._emulator_port = 0
        self._cancel = threading.Event()

    # --- public surface ------------------------------------------------------------------------

    @property
    def site_url(self) -> str:
        return f"http://{self._url_host}:{self._site_port}"

    @property
    def api_url(self) -> str:
        return f"http://{self._url_host}:{self._api_port}"

    @property
    def emulator_url(self) -> str:
        return f"http://{self._url_host}:{self._emulator_port}"

    @property
    def region(self) -> str:
        return REGION

    @property
    def resources(self) -> dict[str, str]:
        """Local physical name or ID of every created resource, by logical ID."""
        return {c.logical_id: c.name for c in self.created}

    @property
    def user_pool_id(self) -> str:
        return str(self.config["userPoolId"])

    @property
    def user_pool_client_id(self) -> str:
        return str(self.config["userPoolClientId"])

    @property
    def pids(self) -> list[int]:
        """Process IDs (and process group IDs) of the running children."""
        return [c.pid for c in self.children]

    def _spawn(self, child: Child) -> Child:
        self.children.append(child)
        self.started_pids.append(child.pid)
        return child

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

    @property
    def _url_host(self) -> str:
        return "127.0.0.1" if self._host in ("0.0.0.0", "") else self._host  # noqa: S104

    def _choose_ports(self) -> None:
        host = self._host
        self._site_port = self.ports.site or free_port(host)
        if self.ports.api is not None:
            self._api_port = self.ports.api or free_port(host)
        elif self.ports.site:
            self._api_port = self._site_port + 1
        else:  # a free site port's neighbour may be taken: pick a free one as well
            self._api_port = free_port(host)
        self._emulator_port = self.ports.emulator or free_port(host)
        chosen = [
            (self._emulator_port, "the AWS emulator", "--emulator-port", "TODO_EMULATOR_PORT"),
            (self._site_port, "the website", "--port", "TODO_PORT"),
            (self._api_port, "the API", "--api-port", "TODO_API_PORT"),
        ]
        if len({port for port, *_ in chosen}) != len(chosen):
            raise StartupError(
                f"the site, API and emulator need three different ports, got "
                f"{self._site_port}, {self._api_port} and {self._emulator_port}"
            )
        for port, what, option, env in chosen:
            ensure_port_free(host, port, what, option, env)

    def start(self) -> None:
        """Start everything; on failure stop what already started and raise StartupError."""
        started = time.monotonic()
        try:
            self._choose_ports()
            self._start_emulator()
            self._create_resources()
            self._start_services()
            self._start_gateway()
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
        children, self.children = self.children, []
        stop_all(children[::-1])

    def _start_emulator(self) -> None:
        env = _clean_environment()
        env.update(FAKE_CREDENTIALS)
        child = self._spawn(
            Child(
                "emulator",
                [
                    sys.executable,
                    "-m",
                    "moto.server",
                    "-H",
                    self._host,
                    "-p",
                    str(self._emulator_port),
                ],
                self.log,
                env=env,
                show=emulator_line_worth_showing,
            )
        )
        wait_until_ok(
            f"{self.emulator_url}/moto-api/", child, self.startup_timeout, cancel=self._cancel
        )

    def _create_resources(self) -> None:
        template = load_template(self.template_path)
        self.resolver = resolver = Resolver(
            template,
            parameters={"WebsiteOrigin": self.site_url},
            pseudo={
                "AWS::StackName": STACK_NAME,
                "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{STACK_NAME}",
                "AWS::Region": REGION,
                "AWS::AccountId": ACCOUNT_ID,
                "AWS::Partition": "aws",
                "AWS::URLSuffix": "amazonaws.com",
            },
        )
        clients = Clients(self.client("dynamodb"), self.client("s3"), self.client("cognito-idp"))
        self.created = create_all(resolver, clients)
        for created in self.created:
            self.log.line("local", f"created {created.type} {created.logical_id}: {created.name}")

    def _pool_and_client(self) -> tuple[str, str]:
        assert self.api is not None
        pools = [c.name for c in self.created if c.type == USER_POOL]
        clients = [c.name for c in self.created if c.type == USER_POOL_CLIENT]
        for route in self.api.routes:
            if route.authorizer is None:
                continue
            issuer = _ISSUER.match(route.authorizer.issuer)
            if issuer is None or issuer["pool"] not in pools:
                raise StartupError(
                    f"the API authorizer {route.authorizer.name} trusts {route.authorizer.issuer}, "
                    "which is not a user pool of this template"
                )
            audience = [a for a in route.authorizer.audience if a in clients]
            if audience:
                return issuer["pool"], audience[0]
        if len(pools) == 1 and len(clients) == 1:
            return pools[0], clients[0]
        raise StartupError("cannot tell which user pool and app client the app uses")

    def _start_services(self) -> None:
        resolver = self.resolver
        assert resolver is not None
        self.api = read_api(resolver)
        services = find_services(resolver)
        self.routing = read_routing(resolver, self.api.listener, services)
        pool_id, client_id = self._pool_and_client()
        self.config = {
            "apiUrl": self.api_url,
            "region": REGION,
            "userPoolId": pool_id,
            "userPoolClientId": client_id,
            "cognitoEndpoint": self.emulator_url + "/",
            "local": True,
        }
        started: list[tuple[Child, str]] = []
        for spec in services.values():
            port = free_port("127.0.0.1")
            directory = self.root / "app" / f"{spec.container}_service"
            argv = local_command(dockerfile_cmd(directory / "Dockerfile"))
            env = self._service_environment(spec, port, pool_id, client_id)
            self.environment[spec.container] = env
            self.log.line(
                "local",
                f"{spec.container}: {' '.join(argv)} (cwd app/, "
                f"GUNICORN_CMD_ARGS={env['GUNICORN_CMD_ARGS']})",
            )
            child = self._spawn(
                Child(spec.container, argv, self.log, env=env, cwd=self.root / "app")
            )
            self.service_urls[spec.container] = f"http://127.0.0.1:{port}"
            started.append((child, f"http://127.0.0.1:{port}/health"))
        for child, health in started:  # both start in parallel; wait for each in turn
            wait_until_ok(health, child, self.startup_timeout, cancel=self._cancel)

    def _service_environment(
        self, spec: ServiceSpec, port: int, pool_id: str, client_id: str
    ) -> dict[str, str]:
        resolver = self.resolver
        assert resolver is not None
        values: dict[str, str] = {}
        for name, raw in spec.environment.items():
            try:
                values[name] = resolver.text(raw, f"Resources.{spec.logical_id} environment {name}")
            except UnsupportedTemplate as err:
                self.log.line("local", f"{spec.container}: {name} left unset ({err})")
        for name, logical_id in CONTRACT_ENV.items():
            if name not in values and logical_id in resolver.physical:
                values[name] = resolver.physical[logical_id].ref
        issuer = f"https://cognito-idp.{REGION}.amazonaws.com/{pool_id}"
        values.update(
            {
                "AWS_REGION": REGION,
                "AWS_DEFAULT_REGION": REGION,
                "COGNITO_USER_POOL_ID": pool_id,
                "COGNITO_APP_CLIENT_ID": client_id,
                "COGNITO_ISSUER": issuer,
                "COGNITO_JWKS_URL": emulator_jwks_url(self.emulator_url, pool_id),
                "AWS_ENDPOINT_URL": self.emulator_url,
                "PORT": str(port),
                **FAKE_CREDENTIALS,
            }
        )
        values.setdefault("LOG_LEVEL", "INFO")
        values["GUNICORN_CMD_ARGS"] = gunicorn_settings("127.0.0.1", port)
        values["BIND_HOST"] = "127.0.0.1"
        env = _clean_environment()
        env.update(values)
        return env

    def _start_gateway(self) -> None:
        assert self.api is not None
        assert self.routing is not None
        verifiers = {}
        for route in self.api.routes:
            if route.authorizer is not None:
                pool = _ISSUER.match(route.authorizer.issuer)
                assert pool is not None
                jwks = emulator_jwks_url(self.emulator_url, pool["pool"])
                verifiers[route.authorizer.name] = JwtVerifier(route.authorizer, jwks)
        upstreams = {
            name: Upstream("127.0.0.1", int(url.rsplit(":", 1)[1]))
            for name, url in self.service_urls.items()
        }
        api_app = ApiGateway(self.api, self.routing, upstreams, verifiers, self.log)
        site_app = Website(self.website_dir, self.config, self._site_headers())
        for port, app in ((self._api_port, api_app), (self._site_port, site_app)):
            server = Server(self._host, port, app)
            server.start()
            self.servers.append(server)

    def _site_headers(self) -> dict[str, str]:
        headers = {
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "strict-origin-when-cross-origin",
        }
        csp: str | None = None
        if self.website_template_path.is_file():
            try:
                website = Resolver(load_template(self.website_template_path), {}, {})
                policy = read_security_headers(website)
            except UnsupportedTemplate as err:
                raise StartupError(f"{self.website_template_path}: {err}") from err
            headers.update(policy.headers)
            csp = policy.content_security_policy
        headers["Content-Security-Policy"] = local_csp(csp, [self.api_url, self.emulator_url])
        return headers


def _clean_environment() -> dict[str, str]:
    """This process's environment without any AWS settings, so no child can reach AWS."""
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
