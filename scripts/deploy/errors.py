"""Named failures, each with the exit code `main()` returns for it."""

from __future__ import annotations


class DeployError(Exception):
    """Base class: a failure the operator can act on; the message says what to do."""

    exit_code = 1


class NoChanges(DeployError):
    """The change set is empty: nothing to deploy (a clean exit)."""

    exit_code = 0


class DeployFailed(DeployError):
    """CloudFormation (or a change set) failed; the message carries the first failure's reason."""

    exit_code = 1


class RolloutFailed(DeployFailed):
    """ECS did not bring the new tasks into service (circuit breaker, failed tasks, timeout)."""


class StackBlocked(DeployFailed):
    """The stack cannot be updated now (ROLLBACK_COMPLETE, another operation in progress)."""


class ConfigError(DeployError):
    """Bad or missing input: config file, parameter, missing output, missing artifact bucket."""

    exit_code = 2


class LaunchTypeSwitchRefused(ConfigError):
    """A live core stack would switch LaunchType while its ECS services exist: CloudFormation
    cannot carry that out in one update; the message gives the three-step procedure."""


class MissingOutput(ConfigError):
    """A `${core.Key}` reference names an output the core stack does not have."""


class ArtifactBucketRequired(ConfigError):
    """The template is too large for TemplateBody and no artifact bucket was given."""


class DataLossRefused(DeployError):
    """A change set replaces or removes a stateful resource, without --allow-data-loss."""

    exit_code = 3


class DeletionProtected(DeployError):
    """`destroy` of a stack whose load balancer has deletion protection, without
    --disable-deletion-protection."""

    exit_code = 3


class ApprovalRequired(DeployError):
    """Not on a terminal and no --auto-approve (--yes for destroy): nobody can confirm."""

    exit_code = 4


class ApprovalDeclined(DeployError):
    """The operator answered no."""

    exit_code = 4


class DirtyTree(DeployError):
    """Uncommitted changes: an image tagged with the commit would not match the commit."""

    exit_code = 5


class InvalidImageTag(DeployError):
    """A mutable or malformed image tag (`latest`)."""

    exit_code = 5


class DockerMissing(DeployError):
    """No `docker` executable, or its daemon is unreachable."""

    exit_code = 6


class Interrupted(DeployError):
    """Ctrl-C while watching: AWS carries on with what was started; the message says what."""

    exit_code = 130
