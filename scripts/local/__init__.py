"""The whole app on one machine: `make up` (`python -m scripts.local`).

`describe()` (description.py) reads the templates into a frozen `LocalDescription`, without
starting anything; `LocalStack` starts what it says, in order:

1. an AWS emulator (moto's server) as a child process;
2. the DynamoDB tables, S3 buckets (with their CORS), Cognito user pool and app client that
   templates/core.yaml defines, created in the emulator from the template's own properties;
3. each ECS service of the template with its container's command (the Dockerfile CMD), in app/,
   with the task definition's environment resolved to the local names;
4. a gateway that plays API Gateway + ALB on the API port (CORS, JWT authorizer, header mapping,
   listener rules) and CloudFront + S3 on the site port (website/ plus a generated config.js).

Python API (used by the end-to-end and service tests and the benchmark)::

    from scripts.local import LocalStack, Ports

    with LocalStack(Ports(site=0, api=0, emulator=0)) as stack:   # 0 = any free port
        stack.site_url         # http://127.0.0.1:<site>: the website, config.js included
        stack.api_url          # http://127.0.0.1:<api>: the HTTP API (what config.js calls apiUrl)
        stack.emulator_url     # http://127.0.0.1:<emulator>: Cognito and S3 for the browser
        stack.region           # us-east-1
        stack.user_pool_id, stack.user_pool_client_id
        stack.resources        # {"TodosTable": "todo-local-core-TodosTable", ...}
        stack.config           # the dict that config.js assigns to window.TODO_CONFIG
        stack.client("cognito-idp")   # a boto3 client bound to the emulator
        stack.description      # the LocalDescription it runs
        stack.service_url("main")     # a service itself, behind no gateway
        stack.services["main"].child.process   # its raw process handle (subprocess.Popen)
        stack.emulator.stop(); stack.emulator.start(); stack.create_resources()  # an outage
        stack.pids             # running children's process (and process group) IDs
        stack.started_pids     # every child ever started, also after stop()

    sign_up(stack)             # scripts.local.users: a confirmed user and its tokens

`LocalStack(...)` takes `Ports(host, site, api, emulator)` (defaults 127.0.0.1, 8000, site + 1,
4566), and optionally `root`, `template`, `website_template`, `website_dir`, `log` (a `Log`;
`Log(quiet=True)` silences the children), `startup_timeout` (seconds, default 60) and
`service_env` (variables added to each service's environment, overriding the template's) and
`drop_cors_on_401` (the authorizer's 401 answers carry no CORS headers; off by default).
`start()` raises `StartupError` (or its subclass `PortInUse`) with a message that says what to
change, after stopping whatever it had started; `cancel_start()` (from another thread or a signal
handler) makes a running `start()` give up at its next wait with `Interrupted`. `stop()` (also on
leaving the `with` block) stops the gateway and every child process group, and may be called more
than once.
"""

from scripts.local.description import LocalDescription, describe
from scripts.local.processes import Interrupted, Log, PortInUse, StartupError
from scripts.local.stack import LocalStack, Ports
from scripts.local.users import User, sign_up

__all__ = [
    "Interrupted",
    "LocalDescription",
    "LocalStack",
    "Log",
    "PortInUse",
    "Ports",
    "StartupError",
    "User",
    "describe",
    "sign_up",
]
