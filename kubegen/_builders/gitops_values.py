"""Values of GitOps objects: git URLs, refs, repository paths and Go durations.

Each check returns the (normalised) value or raises :class:`InvalidValue` with a fix, so the
builders in :mod:`kubegen._builders.gitops` report field, value and remedy like every builder.
"""

from __future__ import annotations

import re

from kubegen._values import InvalidValue

_DURATION_RE = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h))+\Z")
_DURATION_PART_RE = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_SCP_URL_RE = re.compile(r"[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^/\s][^\s]*\Z")
SCHEME_URL_RE = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<host>[^/\s?#]+)(?P<rest>[^\s]*)\Z")
SHA_RE = re.compile(r"(?:[0-9a-f]{40}|[0-9a-f]{64})\Z")
_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\{}]")

#: Argo CD's address of the cluster it runs in (its ``in-cluster`` destination).
IN_CLUSTER = "https://kubernetes.default.svc"


def check_duration(value: str) -> str:
    """A Go duration as Flux's CRDs accept it: ``30s``, ``1m``, ``10m0s``, ``1h30m``; above 0."""
    if not _DURATION_RE.match(value):
        raise InvalidValue(
            f"{value!r} is not a duration: use digits followed by h, m, s or ms, e.g. '1m' or "
            "'10m0s' (Go duration format, no spaces)",
            fix="write e.g. '1m', '5m' or '10m0s'",
        )
    if duration_seconds(value) <= 0:
        raise InvalidValue("a duration of zero would reconcile in a busy loop", fix="use e.g. '1m'")
    return value


def duration_seconds(value: str) -> float:
    """Seconds in a duration accepted by :func:`check_duration`."""
    return sum(float(n) * _UNIT_SECONDS[unit] for n, unit in _DURATION_PART_RE.findall(value))


def check_git_url(value: str, *, scp_like: bool) -> str:
    """An https, http or ssh git URL; ``git@host:org/repo.git`` too where ``scp_like`` allows."""
    if scp_like and _SCP_URL_RE.match(value):
        return value
    match = SCHEME_URL_RE.match(value)
    scheme = match.group("scheme") if match else None
    if scheme not in ("https", "http", "ssh") or match is None or "{" in value or "}" in value:
        if _SCP_URL_RE.match(value):  # Flux: git@host:org/repo → ssh://git@host/org/repo
            user_host, _, path = value.partition(":")
            hint = f"write it as {f'ssh://{user_host}/{path}'!r}"
        else:
            hint = "use e.g. 'https://github.com/acme/platform.git' or 'ssh://git@github.com/…'"
        accepted = "https://, http:// or ssh://" + (" or git@host:path" if scp_like else "")
        raise InvalidValue(f"{value!r} is not a git repository URL ({accepted})", fix=hint)
    return value


def check_git_ref(value: str) -> str:
    """A branch or tag name as ``git check-ref-format`` allows it (``main``, ``release/1.2``)."""
    bad = (
        not value
        or _REF_FORBIDDEN.search(value) is not None
        or ".." in value
        or "@{" in value
        or value == "@"
        or value.startswith(("/", "-"))
        or value.endswith(("/", ".", ".lock"))
        or "//" in value
        or any(part.startswith(".") or part.endswith(".lock") for part in value.split("/"))
    )
    if bad:
        raise InvalidValue(
            f"{value!r} is not a valid git branch or tag name: no spaces, '..', '~^:?*[\\', "
            "leading '-', '.' or '/', or trailing '/', '.' or '.lock'",
            fix="use the name as `git branch --list` or `git tag --list` shows it, e.g. 'main'",
        )
    return value


def check_repo_path(value: str) -> str:
    """A folder inside the repository, relative to its root: ``output/dev``; normalised."""
    parts = [p for p in value.strip().split("/") if p not in ("", ".")]
    if value.strip().startswith("/") or ".." in parts or "\\" in value or "{" in value:
        raise InvalidValue(
            f"{value!r} is not a folder inside the repository: paths are relative to the "
            "repository root and stay inside it",
            fix="write it relative to the repository root, e.g. 'output/prod'",
        )
    return "/".join(parts)


def check_api_server_url(value: str) -> str:
    """The ``https://`` address of a Kubernetes API server, as Argo CD destinations name it."""
    match = SCHEME_URL_RE.match(value)
    if match is None or match.group("scheme") != "https" or "{" in value or "}" in value:
        raise InvalidValue(
            f"{value!r} is not the https:// address of a Kubernetes API server",
            fix=f"use {IN_CLUSTER!r} for the cluster Argo CD runs in, or the server URL "
            "`argocd cluster list` shows",
        )
    return value


def need_reason(weakened: list[str], reason: str | None) -> None:
    """Refuse weakened GitOps defaults (``prune=False``…) unless a reason is given."""
    if weakened and not (reason and reason.strip()):
        raise InvalidValue(
            f"{' and '.join(weakened)} weakens kubegen's GitOps defaults",
            fix="pass reason='why this object needs it', or keep the default",
        )
