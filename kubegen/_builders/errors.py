"""pydantic's validation errors, told the kubegen way: one located problem per field.

pydantic reports what its validators saw (``Input should be a valid list``, one error per union
member, ``… and 4 more errors``). A user needs, per argument they got wrong: where (the stack
file and the line of that keyword), which object and field, the value, what the field expects
and an example to copy. :func:`problems` walks each error's location through the builder's
annotations to find the field the user wrote, groups pydantic's per-union-member errors into
one, and words the expected type from the annotation (``a list of Port``, ``one of
'RollingUpdate', 'Recreate'``). A misspelled keyword gets the closest field name.

Everything here runs only when validation failed, so it may take its time (it reads the user's
source file to point at the keyword's own line).
"""

from __future__ import annotations

import ast
import difflib
import functools
import os
import re
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from kubegen._errors import KubegenError, ValidationError
from kubegen._origin import Origin, base_dir
from kubegen._values import InvalidValue

Loc = tuple[int | str, ...]

# Kubernetes' own spelling of a field → kubegen's keyword, for users who write the YAML name.
KUBERNETES_NAMES = {
    "serviceAccountName": "service_account",
    "serviceAccount": "service_account",
    "terminationGracePeriodSeconds": "termination_grace",
    "priorityClassName": "priority_class",
    "imagePullPolicy": "pull_policy",
    "imagePullSecrets": "image_pull_secrets",
    "readinessProbe": "readiness",
    "livenessProbe": "liveness",
    "startupProbe": "startup",
    "volumeMounts": "mounts",
    "minReadySeconds": "min_ready",
    "revisionHistoryLimit": "revision_history",
    "progressDeadlineSeconds": "progress_deadline",
    "topologySpreadConstraints": "topology_spread",
    "podManagementPolicy": "pod_management",
    "updateStrategy": "strategy",
    "securityContext": "run_as_user",
    "hostNetwork": "allow_host_network",
    "hostPID": "allow_host_pid",
    "hostIPC": "allow_host_ipc",
    "workingDir": "working_dir",
    "initContainers": "init_containers",
    "enableServiceLinks": "service_links",
    "dnsPolicy": "dns_policy",
    "dnsConfig": "dns_config",
    "fsGroupChangePolicy": "fs_group_change_policy",
    "supplementalGroups": "supplemental_groups",
    "backoffLimit": "backoff_limit",
    "activeDeadlineSeconds": "active_deadline",
    "ttlSecondsAfterFinished": "ttl_after_finished",
    "concurrencyPolicy": "concurrency",
    "startingDeadlineSeconds": "starting_deadline",
    "timeZone": "time_zone",
    "minReplicas": "min",
    "maxReplicas": "max",
    "ingressClassName": "ingress_class",
    "storageClassName": "storage_class",
}

# Examples of nested builders, shown in a fix (``write e.g. readiness=HttpProbe('/ready')``).
CLASS_EXAMPLES = {
    "Container": "Container(image='ghcr.io/acme/app:1.2.3')",
    "Port": "Port(8080, name='http')",
    "Resources": "Resources(cpu='100m', memory='128Mi')",
    "HttpProbe": "HttpProbe('/ready')",
    "TcpProbe": "TcpProbe()",
    "ExecProbe": "ExecProbe(['/bin/check'])",
    "GrpcProbe": "GrpcProbe()",
    "Workload": "api (a Deployment, StatefulSet, DaemonSet, Job or CronJob of the stack)",
    "Rule": "Rule.read('configmaps')",
    "VolumeClaim": "VolumeClaim('data', size='10Gi')",
    "ServicePort": "ServicePort('http', port=80)",
    "StackDefaults": "StackDefaults(replicas=2)",
    "ConfigMap": "ConfigMap('settings', data={'LOG_LEVEL': 'info'})",
    "LabelSelector": "LabelSelector(match_labels={'app.kubernetes.io/name': 'api'})",
}

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


@dataclass(frozen=True)
class _Kind:
    """What a validated alias expects, in words, with an example value."""

    words: str
    example: str


@functools.cache
def _alias_kinds() -> dict[Any, _Kind]:
    """Validator function → what its ``Annotated`` alias expects (see kubegen._values)."""
    from kubegen._values import duration, image, names, ports, quantity, reason

    return {
        names.check_dns_label: _Kind("a DNS-1123 label (lower case, digits, '-')", "'api'"),
        names.check_dns_subdomain: _Kind("a DNS-1123 name (lower case, digits, '-', '.')",
                                         "'api'"),
        names.check_dns1035_label: _Kind("a DNS-1035 label (starts with a letter)", "'api'"),
        names.check_env_name: _Kind("an environment variable name", "'LOG_LEVEL'"),
        names.check_labels: _Kind("a mapping of label keys to values",
                                  "{'app.kubernetes.io/part-of': 'shop'}"),
        names.check_annotations: _Kind("a mapping of annotation keys to values",
                                       "{'acme.dev/owner': 'team-a'}"),
        ports.check_port_number: _Kind("a port number (1-65535)", "8080"),
        ports.check_port_name: _Kind("a port name (IANA service name)", "'http'"),
        image.check_image: _Kind("an image reference with a tag or digest",
                                 "'ghcr.io/acme/app:1.2.3'"),
        duration.parse_duration: _Kind("a duration (timedelta, seconds, or text like '30s')",
                                       "'30s'"),
        quantity._validate: _Kind("a quantity (a number with an optional unit)", "'256Mi'"),
        reason.check_reason: _Kind("a reason (a sentence saying why)", "'why it is needed'"),
    }


def _alias(metadata: Sequence[Any]) -> _Kind | None:
    kinds = _alias_kinds()
    for item in metadata:
        found = kinds.get(getattr(item, "func", None))
        if found is not None:
            return found
    return None


def _unwrap(tp: Any, metadata: Sequence[Any] = ()) -> tuple[Any, tuple[Any, ...]]:
    """``Annotated[T, m…]`` → (T, metadata); anything else unchanged."""
    meta = tuple(metadata)
    while get_origin(tp) is Annotated:
        args = get_args(tp)
        tp, meta = args[0], (*meta, *args[1:])
    return tp, meta


def _members(tp: Any) -> list[Any]:
    """The members of a union (None left out), or ``[tp]``."""
    if get_origin(tp) in (Union, types.UnionType):
        return [arg for arg in get_args(tp) if arg is not type(None)]
    return [tp]


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _article(words: str) -> str:
    return f"an {words}" if words[:1].lower() in "aeio" else f"a {words}"


def describe(tp: Any, metadata: Sequence[Any] = ()) -> str:
    """What a field of annotation ``tp`` expects, for people: ``a list of Port``."""
    tp, meta = _unwrap(tp, metadata)
    alias = _alias(meta)
    if alias is not None:
        return alias.words
    members = _members(tp)
    if len(members) > 1:
        names = [describe(m) for m in members]
        text = ", ".join(names[:-1]) + f" or {names[-1]}"
        return text + (" (or None)" if len(members) < len(get_args(tp)) else "")
    if members[0] is not tp:
        return describe(members[0])
    origin = get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    if origin in (list, tuple, set, frozenset, Sequence) or tp in (list, tuple):
        args = [a for a in get_args(tp) if a is not Ellipsis]
        return "a list of " + (_plain(describe(args[0])) if args else "values")
    if origin in (dict, Mapping) or tp is dict:
        pair = get_args(tp)
        if len(pair) == 2:
            return f"a mapping of {_plain(describe(pair[0]))} to {_plain(describe(pair[1]))}"
        return "a mapping"
    return _SIMPLE_WORDS.get(tp, tp.__name__ if isinstance(tp, type) else str(tp))


_SIMPLE_WORDS: dict[Any, str] = {
    str: "a string", int: "an integer", float: "a number", bool: "True or False",
    type(None): "None", Any: "any value",
}


def _plain(words: str) -> str:
    """``a string`` → ``string``, for inside ``a list of …``."""
    for article in ("a ", "an "):
        if words.startswith(article):
            return words[len(article):]
    return words


def example(tp: Any, metadata: Sequence[Any] = ()) -> str:
    """A value of annotation ``tp``, as Python source to copy: ``[Port(8080, name='http')]``."""
    tp, meta = _unwrap(tp, metadata)
    alias = _alias(meta)
    if alias is not None:
        return alias.example
    first = _members(tp)[0]
    if first is not tp:
        return example(first)
    origin = get_origin(tp)
    if origin is Literal:
        return repr(get_args(tp)[0])
    if origin in (list, tuple, set, frozenset, Sequence) or tp in (list, tuple):
        args = [a for a in get_args(tp) if a is not Ellipsis]
        return f"[{example(args[0])}]" if args else "[]"
    if origin in (dict, Mapping) or tp is dict:
        pair = get_args(tp)
        return f"{{{example(pair[0])}: {example(pair[1])}}}" if len(pair) == 2 else "{}"
    if _is_model(tp):
        return CLASS_EXAMPLES.get(tp.__name__, f"{tp.__name__}(...)")
    simple = {str: "'text'", int: "1", float: "0.5", bool: "True", timedelta: "'30s'"}
    return simple.get(tp, "...")


# -- where in the builder an error is ----------------------------------------------------


@dataclass(frozen=True)
class _Place:
    """The part of a pydantic location the user wrote, and the annotation found there."""

    loc: Loc
    annotation: Any
    metadata: tuple[Any, ...]
    info: FieldInfo | None
    unknown: bool  # the last part is no field of the model it was given to
    owner: type[BaseModel] | None  # the model whose field (or unknown keyword) it is
    role: Literal["field", "item", "value", "key"] = "field"  # what the last part names

    @property
    def keyword(self) -> str:
        """The field (keyword) the location ends in or below."""
        if self.info is not None and self.owner is not None:
            for name, info in self.owner.model_fields.items():
                if info is self.info:
                    return name
        return next((str(p) for p in reversed(self.loc) if isinstance(p, str)), "value")


def place_of(model: type[BaseModel], loc: Loc) -> _Place:
    """Walk ``loc`` through ``model``'s annotations, stopping at a union member's tag."""
    tp: Any = model
    meta: tuple[Any, ...] = ()
    info: FieldInfo | None = None
    owner: type[BaseModel] | None = None
    out: list[int | str] = []
    role: Literal["field", "item", "value", "key"] = "field"
    parts = list(loc)
    while parts:
        part = parts[0]
        base, meta = _unwrap(tp, meta)
        members = _members(base)
        if len(members) == 1 and members[0] is not base:
            tp = members[0]
            continue
        if _is_model(base):
            fields = base.model_fields
            if isinstance(part, str) and part in fields:
                owner, info, role = base, fields[part], "field"
                tp, meta = info.annotation, tuple(info.metadata)
                out.append(parts.pop(0))
                continue
            if isinstance(part, str) and (not out or _names_a_keyword(part, parts)):
                out.append(part)
                return _Place(tuple(out), None, (), None, True, base)
            break
        origin = get_origin(base)
        if isinstance(part, int) and origin in (list, tuple, set, frozenset, Sequence):
            args = [a for a in get_args(base) if a is not Ellipsis]
            tp, meta, role = (args[0] if args else Any), (), "item"
            out.append(parts.pop(0))
            continue
        if origin in (dict, Mapping):
            key_type, value_type = get_args(base) or (Any, Any)
            out.append(parts.pop(0))
            if parts and parts[0] == "[key]":
                out.append(parts.pop(0))
                tp, meta, role = key_type, (), "key"
                break
            tp, meta, role = value_type, (), "value"
            continue
        break
    return _Place(tuple(out), tp, meta, info, False, owner, role)


def _names_a_keyword(part: str, rest: list[int | str]) -> bool:
    """An extra keyword deeper down (``tolerations[0].opertor``): the last part, a name."""
    return len(rest) == 1 and part.isidentifier()


def field_path(loc: Loc) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


# -- the words of one problem ------------------------------------------------------------


def keyword_names(model: type[BaseModel]) -> list[str]:
    """The keywords a builder takes: its fields (and what ``_extra_keywords`` adds)."""
    names = list(model.model_fields)
    extra = getattr(model, "_extra_keywords", None)
    if callable(extra):
        names.extend(extra())
    return names


def closest(name: str, candidates: Sequence[str]) -> str | None:
    """The candidate ``name`` was most likely meant to be (typo, camelCase, Kubernetes name)."""
    if name in KUBERNETES_NAMES and KUBERNETES_NAMES[name] in candidates:
        return KUBERNETES_NAMES[name]
    snake = _CAMEL.sub("_", name).lower()
    for wanted in (name, snake):
        found = difflib.get_close_matches(wanted, candidates, n=1, cutoff=0.6)
        if found:
            return found[0]
    prefixed = [c for c in candidates if snake.startswith(c) or c.startswith(snake)]
    return prefixed[0] if len(prefixed) == 1 and len(snake) >= 3 else None


def _similar(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()


def _elsewhere(name: str, model: type[BaseModel]) -> list[str]:
    """Public builders that do have a field ``name`` (``storage`` → StatefulSet)."""
    import kubegen

    found = []
    for public in kubegen.__all__:
        obj = getattr(kubegen, public, None)
        if isinstance(obj, type) and issubclass(obj, BaseModel) and obj is not model and (
                name in obj.model_fields):
            found.append(public)
    return found


def unknown_keyword(name: str, model: type[BaseModel]) -> tuple[str, str]:
    """(message, fix) for a keyword ``model`` does not take."""
    message = f"is not a field of {model.__name__}"
    others = _elsewhere(name, model)
    if others:
        message += f" ({name} is a field of {', '.join(others[:4])})"
    guess = closest(name, keyword_names(model))
    if guess is not None and (not others or _similar(name, guess) >= 0.75):
        return message, f"did you mean {guess}=? (help({model.__name__}) lists every field)"
    if others:
        return message, f"drop {name}=, or use a builder that has it"
    return message, f"check the spelling; help({model.__name__}) lists every field"


_BOUNDS = {
    "greater_than": ("more than", "gt"),
    "greater_than_equal": ("at least", "ge"),
    "less_than": ("less than", "lt"),
    "less_than_equal": ("at most", "le"),
}


def words_for(error: Mapping[str, Any], place: _Place) -> tuple[str, str | None]:
    """(message, fix) for one pydantic error at ``place``."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    cause = ctx.get("error")
    if isinstance(cause, (InvalidValue, KubegenError)):
        return cause.message, cause.fix
    keyword = place.keyword
    if kind == "extra_forbidden" or place.unknown:
        owner = place.owner
        if owner is None:
            return "is not a field of this builder", "check the spelling"
        return unknown_keyword(str(place.loc[-1]), owner)
    expected = describe(place.annotation, place.metadata)
    sample = example(place.annotation, place.metadata)
    write = _write(place, expected, sample)
    if kind == "missing":
        return f"is required ({expected})", f"pass {keyword}={sample}"
    if kind in _BOUNDS:
        words, key = _BOUNDS[kind]
        bound = ctx.get(key)
        return f"must be {words} {bound}", f"use a value {words} {bound}"
    if kind in ("too_short", "too_long"):
        size = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        words = "at least" if kind == "too_short" else "at most"
        return f"needs {words} {size} item(s)", write
    if kind == "literal_error":
        guess = _closest_literal(error.get("input"), place.annotation)
        return f"expected {expected}", write if guess is None else _write(
            place, expected, repr(guess))
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, "), write
    return f"expected {expected}", write


def _write(place: _Place, expected: str, sample: str) -> str:
    """``write e.g. replicas=1``, or how one item / key / value of a collection looks."""
    keyword = place.keyword
    if place.role == "item":
        return f"each item of {keyword} is {expected}, e.g. {keyword}=[{sample}]"
    if place.role == "value":
        return f"each value of {keyword} is {expected}, e.g. {keyword}={{'key': {sample}}}"
    if place.role == "key":
        return f"each key of {keyword} is {expected}, e.g. {keyword}={{{sample}: ...}}"
    return f"write e.g. {keyword}={sample}"


def _closest_literal(value: Any, tp: Any) -> Any:
    options = [a for m in _members(_unwrap(tp)[0]) if get_origin(m) is Literal
               for a in get_args(m)]
    if not isinstance(value, str):
        return None
    by_lower = {str(o).lower(): o for o in options}
    if value.lower() in by_lower:
        return by_lower[value.lower()]
    found = difflib.get_close_matches(value.lower(), list(by_lower), n=1, cutoff=0.5)
    return by_lower[found[0]] if found else None


def union_words(place: _Place) -> tuple[str, str]:
    """(message, fix) when no member of a union took the value."""
    expected = describe(place.annotation, place.metadata)
    return f"expected {expected}", _write(place, expected, example(place.annotation))


# -- verbs a builder lacks ----------------------------------------------------------------


class MissingAttributeError(ValidationError, AttributeError):
    """A builder has no such method or attribute; says which builders have it, or the fix.

    An :class:`AttributeError` too, so ``hasattr``/``getattr(obj, name, default)`` behave as
    for any object.
    """


# What to do instead of calling a verb on a builder that lacks it: {verb: {class: fix}}, with
# "*" for any class. ``{name}`` is the object's name.
ALTERNATIVES: dict[str, dict[str, str]] = {
    "expose": {
        "StatefulSet": "its headless Service (named like it) is rendered already; for a "
        "load-balanced one add stack.add(Service('{name}-rw', target=<the StatefulSet>))",
        "*": "add the Service yourself: stack.add(Service('{name}', target=<this workload>))",
    },
    "autoscale": {
        "DaemonSet": "a DaemonSet runs one pod per node and cannot be scaled; a Deployment "
        "can be autoscaled",
        "Job": "run pods in parallel with parallelism= and completions=",
        "CronJob": "run pods in parallel with parallelism= and completions=",
        "*": "autoscale the workload behind it: <workload>.autoscale(min=2, max=10, cpu=70)",
    },
    "pod_dns_name": {
        "*": "only StatefulSet pods have stable DNS names; use the Service's name "
        "('<service>.<namespace>.svc') for other workloads",
    },
    "connect_to": {
        "Service": "connect the workload behind it: <client>.connect_to(<target workload>)",
        "*": "connect the workloads themselves: <client>.connect_to(<workload>)",
    },
    "grant": {"*": "grant the workload that runs the pods: <workload>.grant(Rule.read(...))"},
}

_BASE_NAMES = frozenset(dir(BaseModel))
_MISSING: dict[tuple[type, str], tuple[str, str] | None] = {}


@functools.cache
def _verbs() -> dict[str, tuple[str, ...]]:
    """Public method name → the public builders that have it."""
    import kubegen

    found: dict[str, list[str]] = {}
    for public in kubegen.__all__:
        cls = getattr(kubegen, public, None)
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
            continue
        for name in dir(cls):
            if name.startswith("_") or name in _BASE_NAMES or name in cls.model_fields:
                continue
            if callable(getattr(cls, name, None)):
                found.setdefault(name, []).append(public)
    return {name: tuple(classes) for name, classes in found.items()}


def missing_attribute(obj: BaseModel, item: str) -> MissingAttributeError | None:
    """The error for ``obj.<item>`` when ``item`` is a verb of other builders or a typo.

    None for anything else (the caller raises a plain AttributeError); the answer is kept per
    class and name, so code probing with ``getattr(obj, name, None)`` stays fast.
    """
    cls = type(obj)
    key = (cls, item)
    if key not in _MISSING:
        _MISSING[key] = None if item.startswith("_") else _missing_words(cls, item)
    words = _MISSING[key]
    if words is None:
        return None
    name = getattr(obj, "name", None)
    fix = words[1].replace("{name}", name if isinstance(name, str) else cls.__name__.lower())
    display = getattr(obj, "display", None)
    return MissingAttributeError(
        words[0], fix=fix, origin=_caller(), resource=display if isinstance(display, str)
        else cls.__name__,
    )


def _caller() -> Origin | None:
    from kubegen._origin import capture

    return capture()


# Verbs worth naming their owners for; other names are only checked for typos against the
# object's own attributes (a scan of every public builder loads all of kubegen's modules).
KNOWN_VERBS = frozenset({
    *ALTERNATIVES, "pod_dns_names", "headless_service", "allow_from", "allow_to",
    "allow_to_internet", "claim_templates", "service_ports", "waive",
})


def _missing_words(cls: type, item: str) -> tuple[str, str] | None:
    owners = [c for c in _verbs().get(item, ()) if c != cls.__name__] if (
        item in KNOWN_VERBS) else []
    if owners:
        shown = ", ".join(owners[:-1]) + (" and " if len(owners) > 1 else "") + owners[-1]
        have = "has" if len(owners) == 1 else "have"
        ways = ALTERNATIVES.get(item, {})
        fix = ways.get(cls.__name__) or ways.get("*") or f"use one of {shown}"
        return f"{cls.__name__} has no {item}(): only {shown} {have} it", fix
    names = [n for n in dir(cls) if not n.startswith("_") and n not in _BASE_NAMES]
    guess = difflib.get_close_matches(item, names, n=1, cutoff=0.75)
    if guess:
        return f"{cls.__name__} has no attribute {item!r}", f"did you mean {guess[0]}?"
    return None


# -- keywords of verbs and plain classes ------------------------------------------------------

_UNEXPECTED = re.compile(r"^([\w.]+)\(\) got an unexpected keyword argument '(\w+)'$")


def unexpected_keyword_fix(exc: BaseException) -> str | None:
    """A fix for ``TypeError: Stack.__init__() got an unexpected keyword argument 'namspace'``:
    the closest keyword of that kubegen function (verbs such as ``connect_to``, ``Stack``)."""
    match = _UNEXPECTED.match(str(exc)) if isinstance(exc, TypeError) else None
    if match is None:
        return None
    qualname, wrong = match.groups()
    function = _public_function(qualname)
    if function is None:
        return None
    import inspect

    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return None
    names = [n for n, p in parameters.items()
             if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and n != "self"]
    guess = closest(wrong, names)
    owner, _, attribute = qualname.rpartition(".")
    shown = owner if attribute == "__init__" else attribute
    if guess is not None:
        return f"did you mean {guess}=? ({shown}() takes {', '.join(names)})"
    return f"{shown}() takes {', '.join(names) or 'no keywords'}"


def _public_function(qualname: str) -> Any:
    """The function of kubegen's public API with this ``__qualname__``, if any."""
    import kubegen

    owner, _, attribute = qualname.rpartition(".")
    for public in kubegen.__all__:
        obj = getattr(kubegen, public, None)
        if not isinstance(obj, type):
            continue
        for klass in obj.__mro__:
            if klass.__qualname__ == owner and attribute in vars(klass):
                return vars(klass)[attribute]
    return None


# -- pointing at the keyword's own line ---------------------------------------------------


def keyword_origin(origin: Origin | None, keyword: object) -> Origin | None:
    """The line of ``keyword=`` inside the call that starts at ``origin`` (else ``origin``)."""
    if origin is None or not isinstance(keyword, str):
        return origin
    path = origin.file if os.path.isabs(origin.file) else os.path.join(base_dir(), origin.file)
    try:
        stat = os.stat(path)
    except OSError:
        return origin
    lines = _keyword_lines(path, stat.st_mtime_ns, stat.st_size).get((origin.line, keyword))
    return Origin(origin.file, lines) if lines is not None else origin


@functools.lru_cache(maxsize=16)
def _keyword_lines(path: str, mtime: int, size: int) -> dict[tuple[int, str], int]:
    """(line a call starts on, keyword) → the keyword's line, for every call in the file."""
    try:
        with open(path, encoding="utf-8") as handle:
            tree = ast.parse(handle.read(), filename=path)
    except (OSError, SyntaxError, ValueError, UnicodeDecodeError):
        return {}
    found: dict[tuple[int, str], int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg is not None:
                    found.setdefault((node.lineno, kw.arg), kw.value.lineno)
    return found


__all__ = [
    "MissingAttributeError",
    "closest",
    "describe",
    "example",
    "field_path",
    "keyword_names",
    "keyword_origin",
    "missing_attribute",
    "place_of",
    "unexpected_keyword_fix",
    "union_words",
    "unknown_keyword",
    "words_for",
]
