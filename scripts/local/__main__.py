"""`python -m scripts.local`: run the whole app locally until Ctrl-C."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from scripts.local.processes import Interrupted, Log, StartupError
from scripts.local.stack import ROOT, LocalStack, Ports

EXIT_OK, EXIT_STARTUP, EXIT_USAGE = 0, 1, 2


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not between 0 and 65535")
    return port


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    env = os.environ
    parser = argparse.ArgumentParser(
        prog="python -m scripts.local",
        description="Run the whole app on this machine: AWS emulator, resources from "
        "templates/core.yaml, both services, and a gateway. Prints the site URL; Ctrl-C stops it.",
    )
    parser.add_argument(
        "--host",
        default=env.get("TODO_HOST", "127.0.0.1"),
        help="address to listen on (env TODO_HOST; default 127.0.0.1)",
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=env.get("TODO_PORT", "8000"),
        help="website port (env TODO_PORT; default 8000; 0 = any free port)",
    )
    parser.add_argument(
        "--api-port",
        type=_port,
        default=env.get("TODO_API_PORT"),
        help="API port (env TODO_API_PORT; default: website port + 1)",
    )
    parser.add_argument(
        "--emulator-port",
        type=_port,
        default=env.get("TODO_EMULATOR_PORT", "4566"),
        help="AWS emulator port (env TODO_EMULATOR_PORT; default 4566)",
    )
    parser.add_argument(
        "--drop-cors-on-401",
        action="store_true",
        default=env.get("TODO_DROP_CORS_ON_401") == "1",
        help="the API's JWT authorizer answers 401 without CORS headers, as API Gateway may "
        "(env TODO_DROP_CORS_ON_401=1; default off; see docs/website.md)",
    )
    parser.add_argument("--quiet", action="store_true", help="print only the URL and errors")
    parser.add_argument(
        "--verbose",
        action="store_true",
        default=env.get("TODO_VERBOSE") == "1",
        help="also print the emulator's line per AWS call (env TODO_VERBOSE=1)",
    )
    # Another repository layout (templates/, app/, website/); the tests run a small fixture one.
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)  # argparse exits with 2 on a usage error, env values included
    log = Log(quiet=args.quiet, verbose=args.verbose)
    ports = Ports(args.host, args.port, args.api_port, args.emulator_port)
    stack = LocalStack(ports, root=args.root, log=log, drop_cors_on_401=args.drop_cors_on_401)
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()
        stack.cancel_start()

    # SIGINT and SIGTERM as events, not KeyboardInterrupt at a random line: a start-up in progress
    # gives up at its next wait, and everything started is stopped in order.
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        stack.start()
    except Interrupted:
        return EXIT_OK  # stopped on request; start() already stopped what it had started
    except StartupError as err:
        print(f"make up: {err}", file=sys.stderr)
        return EXIT_STARTUP
    try:
        if not stopping.is_set():
            log.line("local", f"API {stack.api_url}, emulator {stack.emulator_url}")
            print(
                f"\n  The to-do app is running at {stack.site_url}   (Ctrl-C stops it)\n",
                flush=True,
            )
        while not stopping.wait(0.5):
            dead = [c for c in stack.children if not c.running()]
            if dead:
                print(f"make up: {dead[0].failure()}", file=sys.stderr)
                return EXIT_STARTUP
    finally:
        log.line("local", "stopping")
        stack.stop()
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
