"""The services run with their container's command."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.local.processes import StartupError
from scripts.local.services import dockerfile_cmd, gunicorn_settings, local_command
from tests.local.conftest import ROOT


@pytest.mark.parametrize("service", ["main", "files"])
def test_the_app_services_run_their_dockerfile_cmd_unchanged(service: str) -> None:
    cmd = dockerfile_cmd(ROOT / "app" / f"{service}_service" / "Dockerfile")
    assert cmd[0] == "gunicorn"
    argv = local_command(cmd)
    assert Path(argv[0]).name == "gunicorn"
    assert Path(argv[0]).is_file()
    assert argv[1:] == cmd[1:]


def test_continuations_and_the_last_cmd_count(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "FROM python\n"
        'CMD ["first"]\n'
        "HEALTHCHECK --interval=10s \\\n"
        '  CMD ["python", "-c", "print()"]\n'
        'CMD ["gunicorn", "--workers", "2", \\\n'
        '     "-b", "0.0.0.0:8080", "--bind=0.0.0.0:1", "-b0.0.0.0:2", "app:app"]\n'
    )
    cmd = dockerfile_cmd(dockerfile)
    assert cmd == [
        "gunicorn",
        "--workers",
        "2",
        "-b",
        "0.0.0.0:8080",
        "--bind=0.0.0.0:1",
        "-b0.0.0.0:2",
        "app:app",
    ]
    # every written address goes: the local one comes through GUNICORN_CMD_ARGS
    assert local_command(cmd)[1:] == ["--workers", "2", "app:app"]
    assert gunicorn_settings("127.0.0.1", 9) == "--bind 127.0.0.1:9"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("FROM python\n", "has no CMD"),
        ("CMD gunicorn app:app\n", "CMD must be a JSON array"),
        ('CMD ["gunicorn", 1]\n', "non-empty JSON array of strings"),
    ],
)
def test_commands_the_local_stack_cannot_run_are_refused(
    tmp_path: Path, text: str, message: str
) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(text)
    with pytest.raises(StartupError, match=message):
        dockerfile_cmd(dockerfile)
    with pytest.raises(StartupError, match="does not exist"):
        dockerfile_cmd(tmp_path / "missing")
