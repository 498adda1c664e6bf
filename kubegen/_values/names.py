"""Object names, label keys/values and annotation keys, as the Kubernetes API validates them.

Rules from k8s.io/apimachinery/pkg/util/validation: DNS-1123 labels (≤ 63), subdomains (≤ 253),
qualified names for label and annotation keys, label values (≤ 63), annotations (≤ 256 KiB total).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated

from pydantic import AfterValidator

from kubegen._values.invalid import InvalidValue

_LABEL_RE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
_SUBDOMAIN_RE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
_QUALIFIED_NAME_RE = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]\Z")
_DNS1035_RE = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?\Z")
_ENV_NAME_RE = re.compile(r"[-._a-zA-Z][-._a-zA-Z0-9]*\Z")
_DATA_KEY_RE = re.compile(r"[-._a-zA-Z0-9]+\Z")
_LABEL_VALUE_RE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?\Z")
_ANNOTATIONS_MAX_BYTES = 256 * 1024


def _suggest(value: str, limit: int) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")[:limit].strip("-")
    return slug or "app"


def check_dns_label(value: str) -> str:
    """A DNS-1123 label: namespaces, Services, container and port names."""
    if type(value) is str and value in _GOOD_DNS_LABELS:  # a namespace, checked per object
        return value
    if len(value) > 63 or not _LABEL_RE.match(value):
        raise InvalidValue(
            "must be a DNS-1123 label: at most 63 lowercase letters, digits and '-', "
            "starting and ending with a letter or digit",
            fix=f"use a name such as '{_suggest(value, 63)}'",
        )
    if type(value) is str:
        _passed(_GOOD_DNS_LABELS, value)
    return value


def check_dns_subdomain(value: str) -> str:
    """A DNS-1123 subdomain: most object names (ConfigMaps, Deployments, Roles…)."""
    if len(value) > 253 or not _SUBDOMAIN_RE.match(value):
        raise InvalidValue(
            "must be a DNS-1123 subdomain: at most 253 lowercase letters, digits, '-' and '.', "
            "starting and ending with a letter or digit",
            fix=f"use a name such as '{_suggest(value, 253)}'",
        )
    return value


def check_path_segment_name(value: str) -> str:
    """A path segment name: RBAC object names (``system:controller:foo``,
    ``cert-manager-controller-approve:cert-manager-io``). The API server validates Roles,
    ClusterRoles and their bindings with ``path.IsValidPathSegmentName`` (k8s.io/apimachinery
    pkg/api/validation/path), not as DNS names: anything but ``.``, ``..``, ``/`` and ``%``."""
    if not value or value in (".", "..") or "/" in value or "%" in value:
        raise InvalidValue(
            "must be a path segment name: not empty, '.' or '..', without '/' or '%'",
            fix=f"use a name such as '{_suggest(value, 253)}'",
        )
    return value


def check_dns1035_label(value: str) -> str:
    """A DNS-1035 label: Service names (they become DNS names, so they start with a letter)."""
    if len(value) > 63 or not _DNS1035_RE.match(value):
        suggestion = _suggest(value, 62)
        if not suggestion[0].isalpha():
            suggestion = f"s-{suggestion}"[:63].strip("-")
        raise InvalidValue(
            "must be a DNS-1035 label: at most 63 lowercase letters, digits and '-', "
            "starting with a letter and ending with a letter or digit",
            fix=f"use a name such as '{suggestion}'",
        )
    return value


def check_env_name(value: str) -> str:
    """An environment variable name: letters, digits, '_', '-', '.'; not starting with a digit."""
    if not _ENV_NAME_RE.match(value):
        slug = re.sub(r"[^A-Za-z0-9_]+", "_", value).strip("_").upper() or "NAME"
        raise InvalidValue(
            f"environment variable name {value!r} is invalid: use letters, digits, '_', '-' "
            "and '.', not starting with a digit",
            fix=f"use a name such as '{'_' + slug if slug[0].isdigit() else slug}'",
        )
    return value


def check_data_key(key: str, kind: str = "ConfigMap") -> str:
    """A key of a ConfigMap's or a Secret's data (the API server's ``IsConfigMapKey``).

    Letters, digits, ``-``, ``_`` and ``.``; at most 253 characters; not ``.`` or ``..``. Keys
    become file names when the object is mounted, hence the rule. ``kind`` names the object in
    the message (defaults to ``ConfigMap``).
    """
    if not _DATA_KEY_RE.match(key) or key in (".", "..") or len(key) > 253:
        raise InvalidValue(
            f"key {key!r} is not a valid {kind} key: use letters, digits, '-', '_' "
            "and '.' (at most 253 characters; not '.' or '..')",
            fix=f"rename the key, e.g. {_data_key_like(key)!r}",
        )
    return key


def _data_key_like(key: str) -> str:
    slug = re.sub(r"[^-._a-zA-Z0-9]", "-", key)[:253]
    return slug if slug.strip(".") else "config"


def _check_qualified_key(key: str, what: str) -> None:
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not _SUBDOMAIN_RE.match(prefix)):
        raise InvalidValue(
            f"{what} key {key!r} has an invalid prefix {prefix!r}: the prefix must be a DNS "
            "subdomain of at most 253 characters",
            fix="use a prefix such as 'example.com/'",
        )
    if not name or len(name) > 63 or not _QUALIFIED_NAME_RE.match(name):
        raise InvalidValue(
            f"{what} key {key!r} is invalid: the name part must be 1-63 characters of letters, "
            "digits, '-', '_' and '.', starting and ending with a letter or digit",
            fix=f"use a key such as '{_suggest(name, 63)}'",
        )


# Label keys and values that passed: stacks repeat a handful of them thousands of times
# (selector labels, per-workload names). Only exact ``str`` objects are remembered; cleared
# when full.
_GOOD_LABEL_KEYS: set[str] = set()
_GOOD_LABEL_VALUES: set[str] = set()
_GOOD_DNS_LABELS: set[str] = set()  # likewise for DNS-1123 labels
_GOOD_MAX = 8192


def _passed(seen: set[str], value: str) -> None:
    if len(seen) >= _GOOD_MAX:
        seen.clear()
    seen.add(value)


def check_label_key(key: str) -> str:
    if type(key) is str and key in _GOOD_LABEL_KEYS:
        return key
    _check_qualified_key(key, "label")
    if type(key) is str:
        _passed(_GOOD_LABEL_KEYS, key)
    return key


def check_label_value(value: str) -> str:
    if type(value) is str and value in _GOOD_LABEL_VALUES:
        return value
    _check_label_value(value)
    if type(value) is str:
        _passed(_GOOD_LABEL_VALUES, value)
    return value


def _check_label_value(value: str) -> None:
    if len(value) > 63 or not _LABEL_VALUE_RE.match(value):
        raise InvalidValue(
            f"label value {value!r} is invalid: at most 63 letters, digits, '-', '_' and '.', "
            "starting and ending with a letter or digit (or empty)",
            fix=f"use a value such as '{_suggest(value, 63)}'",
        )


def check_labels(labels: Mapping[str, str]) -> dict[str, str]:
    for key, value in labels.items():
        check_label_key(key)
        check_label_value(value)
    return dict(labels)


def check_annotations(annotations: Mapping[str, str]) -> dict[str, str]:
    total = 0
    for key, value in annotations.items():
        _check_qualified_key(key, "annotation")
        total += len(key.encode()) + len(value.encode())
    if total > _ANNOTATIONS_MAX_BYTES:
        raise InvalidValue(
            f"annotations total {total} bytes; the API server accepts at most 256 KiB",
            fix="move large data into a ConfigMap",
        )
    return dict(annotations)


DNSLabel = Annotated[str, AfterValidator(check_dns_label)]
DNSSubdomain = Annotated[str, AfterValidator(check_dns_subdomain)]
DNS1035Label = Annotated[str, AfterValidator(check_dns1035_label)]
EnvName = Annotated[str, AfterValidator(check_env_name)]
LabelMap = Annotated[dict[str, str], AfterValidator(check_labels)]
AnnotationMap = Annotated[dict[str, str], AfterValidator(check_annotations)]
