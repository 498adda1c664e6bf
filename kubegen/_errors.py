"""The one exception tree of kubegen.

Every mistake a user can make surfaces as a subclass of :class:`KubegenError`, whose message names
where it happened (stack file and line), what (the resource and field), the bad value, and the fix::

    KubegenError
    ├── StackLoadError      a stack path is missing, does not import, raises, or returns no Stack
    ├── ValidationError     a builder got a value Kubernetes would refuse (name, port, quantity…)
    ├── ConflictError       two objects share an identity, or a reference points at nothing
    ├── PolicyError         error-level hardening findings block a render
    ├── CoherenceError      the cluster would refuse an object (Pod Security Admission of its
    │                       namespace) or accept it and never run it (a rollout that cannot finish)
    └── OutputError         a write would leave output/<env>, touch a file kubegen does not own,
                            or failed on disk; output/ is left as it was

The CLI prints ``str(error)`` without a traceback and exits with code 2.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kubegen._origin import Origin

__all__ = [
    "CoherenceError",
    "ConflictError",
    "DriftError",
    "Interrupted",
    "KubegenError",
    "OutputError",
    "PolicyError",
    "StackLoadError",
    "ValidationError",
]

_UNSET: Any = object()


class KubegenError(Exception):
    """Base of every error kubegen raises on purpose.

    Args:
        message: what went wrong, as "Unable to X: why" or a plain sentence.
        fix: what the user should do instead.
        origin: the stack file and line that built the object.
        resource: the object, as ``Kind namespace/name``.
        field: the field path inside the object (``spec.replicas``, ``container.image``).
        value: the rejected value.

    ``problems`` lists every error found at once (several fields of one call can be wrong):
    each is a located error of its own, the first is also this one's ``field``/``value``/
    ``fix``; ``str()`` shows them all.
    """

    def __init__(
        self,
        message: str,
        *,
        fix: str | None = None,
        origin: Origin | None = None,
        resource: str | None = None,
        field: str | None = None,
        value: Any = _UNSET,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.origin = origin
        self.resource = resource
        self.field = field
        self.value = value
        self.problems: list[KubegenError] = []

    @property
    def has_value(self) -> bool:
        """Whether the error names a rejected value (``value`` was given)."""
        return self.value is not _UNSET

    def located(self, *, origin: Origin | None = None, resource: str | None = None) -> KubegenError:
        """Fill in where the error happened, keeping what is already known."""
        if self.origin is None and origin is not None:
            self.origin = origin
        if self.resource is None and resource is not None:
            self.resource = resource
        for problem in self.problems:
            if problem is not self:
                problem.located(origin=origin, resource=resource)
        return self

    def __str__(self) -> str:
        if len(self.problems) > 1:
            where = ": ".join(str(p) for p in (self.origin, self.resource) if p)
            head = f"{len(self.problems)} problems, each below"
            text = f"{where}: {head}" if where else head
            for problem in self.problems:
                text += "\n  " + problem.describe().replace("\n", "\n  ")
            return text
        return self.describe()

    def describe(self) -> str:
        """This error alone (without the ``problems`` it may list)."""
        head = []
        if self.origin is not None:
            head.append(str(self.origin))
        if self.resource:
            head.append(self.resource)
        where = ": ".join(head)
        what = self.message
        if self.field is not None:
            shown = "" if self.value is _UNSET else f" = {_show(self.value)}"
            what = f"field '{self.field}'{shown}: {self.message}"
        text = f"{where}: {what}" if where else what
        if self.fix:
            text += f"\n  Fix: {self.fix}"
        return _LONG_WORD.sub(_shorten, text) if len(text) > _LONG else text


# A word (no space) this long is a value, not prose: a 100,000-character name shown whole in
# the object, the reason and the fix would bury the message. A path (with '/') may be longer.
_LONG = 300
_PATH_MAX = 4096
_LONG_WORD = re.compile(r"\S{" + str(_LONG + 1) + ",}")


def _shorten(match: re.Match[str]) -> str:
    word = match.group()
    if "/" in word and len(word) <= _PATH_MAX:
        return word
    keep = _LONG // 2
    return f"{word[:keep]}…({len(word) - 2 * keep:,} more characters)…{word[-keep:]}"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


class StackLoadError(KubegenError):
    """A stack could not be loaded or built: missing path, syntax error, exception, wrong type."""


class ValidationError(KubegenError):
    """A value given to a builder is one Kubernetes (or kubegen's hardening) would refuse."""


class DriftError(ValidationError):
    """A committed input kubegen generated (a vendored folder) was changed by hand.

    ``kubegen check`` reports it as drift (exit 1, like stale output), every other command as
    an error: nothing can render from an input whose provenance no longer holds.
    """


class ConflictError(KubegenError):
    """Two objects claim the same identity, or a reference resolves to nothing."""


class PolicyError(KubegenError):
    """Error-level policy findings remain; the render was refused and output/ left untouched."""


class CoherenceError(KubegenError):
    """What renders would be refused by the cluster, or accepted and never run.

    Opt-outs and waivers do not apply: they waive kubegen's rules, not the cluster's. Carries one
    located error per problem (``problems``); its text lists them all.
    """

    def __init__(self, problems: list[KubegenError]) -> None:
        first = problems[0]
        super().__init__(
            first.message,
            fix=first.fix,
            origin=first.origin,
            resource=first.resource,
            field=first.field,
            value=first.value,
        )
        self.problems = list(problems)

    def __str__(self) -> str:
        if len(self.problems) == 1:
            return KubegenError.__str__(self.problems[0])
        listed = "\n".join(KubegenError.__str__(p) for p in self.problems)
        return f"{len(self.problems)} objects the cluster would refuse or never run:\n{listed}"


class OutputError(KubegenError):
    """Writing output/ is unsafe or failed; nothing was changed."""


class Interrupted(KeyboardInterrupt):
    """The process received SIGINT or SIGTERM: raised by the CLI's signal handler (see
    :func:`kubegen._cli.commands.main`), so a write in progress rolls back as for Ctrl-C.

    Stack code never turns it into an error of its own, while a ``KeyboardInterrupt`` that a
    stack raises itself is reported like any other exception of the stack.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
