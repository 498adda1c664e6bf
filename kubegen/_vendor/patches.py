"""Patches on plain object bodies: strategic merge (the common list keys) and JSON patch.

Strategic merge follows ``kubectl patch --type strategic`` for the fields upstream manifests
are patched on: lists of named things merge by their key (containers and env by ``name``,
ports by ``containerPort``, volume mounts by ``mountPath``…), other lists are replaced, ``null``
deletes a key, and ``$patch: delete`` in a list item removes the matching item. JSON patch is
RFC 6902 (``add``, ``remove``, ``replace``, ``move``, ``copy``, ``test``). Every failure is an
:class:`InvalidValue` naming the path, so the stack line that asked for the patch is reported.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from kubegen._values import InvalidValue

# Field name -> merge key, from the Kubernetes API's x-kubernetes-patch-merge-key markers.
MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "ports": "containerPort",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "tolerations": "key",
    "topologySpreadConstraints": "topologyKey",
    "conditions": "type",
    "resourceClaims": "name",
}
# Lists of plain values merged as sets (x-kubernetes-patch-strategy: merge on primitives).
MERGED_SETS = frozenset({"finalizers"})


def strategic_merge(target: dict[str, Any], patch: Mapping[str, Any], path: str = "") -> None:
    """Merge ``patch`` into ``target`` in place, the way ``kubectl patch --type strategic`` does."""
    for key, value in patch.items():
        where = f"{path}.{key}" if path else key
        if value is None:
            target.pop(key, None)
        elif isinstance(value, Mapping):
            current = target.get(key)
            if not isinstance(current, dict):
                current = target[key] = {}
            strategic_merge(current, value, where)
        elif isinstance(value, list) and key in MERGE_KEYS and isinstance(target.get(key), list):
            _merge_list(target[key], value, MERGE_KEYS[key], where)
        elif isinstance(value, list) and key in MERGED_SETS and isinstance(target.get(key), list):
            target[key] = target[key] + [v for v in value if v not in target[key]]
        else:
            target[key] = copy.deepcopy(value)


def _merge_list(items: list[Any], patch: list[Any], key: str, path: str) -> None:
    for entry in patch:
        if not isinstance(entry, Mapping) or key not in entry:
            raise InvalidValue(
                f"{path}: a patch item {entry!r:.80} has no merge key {key!r}",
                fix=f"give each item of {path} its {key!r}",
            )
        index = next(
            (
                i
                for i, item in enumerate(items)
                if isinstance(item, dict) and item.get(key) == entry[key]
            ),
            None,
        )
        if entry.get("$patch") == "delete":
            if index is None:
                raise InvalidValue(
                    f"{path}: no item with {key}={entry[key]!r} to delete",
                    fix=f"use one of: {', '.join(_keys(items, key))}",
                )
            del items[index]
        elif index is None:
            items.append(copy.deepcopy(dict(entry)))
        else:
            strategic_merge(items[index], entry, f"{path}[{key}={entry[key]}]")


def _keys(items: list[Any], key: str) -> list[str]:
    return [repr(item.get(key)) for item in items if isinstance(item, dict)]


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise InvalidValue(
            f"JSON pointer {path!r} must start with '/'", fix="e.g. '/spec/replicas'"
        )
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc: Any, parts: list[str], path: str) -> tuple[Any, str]:
    node = doc
    for part in parts[:-1]:
        node = _child(node, part, path)
    return node, parts[-1]


def _child(node: Any, part: str, path: str) -> Any:
    if isinstance(node, dict) and part in node:
        return node[part]
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return node[int(part)]
    raise InvalidValue(f"JSON patch path {path!r} does not exist", fix="check the path")


def _get(doc: Any, path: str) -> Any:
    node = doc
    for part in _pointer(path):
        node = _child(node, part, path)
    return node


def _add(doc: Any, path: str, value: Any) -> None:
    parent, last = _parent(doc, _pointer(path), path)
    if isinstance(parent, dict):
        parent[last] = copy.deepcopy(value)
    elif isinstance(parent, list) and (
        last == "-" or (last.isdigit() and int(last) <= len(parent))
    ):
        parent.insert(len(parent) if last == "-" else int(last), copy.deepcopy(value))
    else:
        raise InvalidValue(f"JSON patch cannot add at {path!r}", fix="check the path")


def _remove(doc: Any, path: str) -> Any:
    parent, last = _parent(doc, _pointer(path), path)
    value = _child(parent, last, path)
    if isinstance(parent, dict):
        del parent[last]
    else:
        del parent[int(last)]
    return value


def json_patch(doc: dict[str, Any], operations: Sequence[Mapping[str, Any]]) -> None:
    """Apply RFC 6902 ``operations`` to ``doc`` in place (all or nothing is the caller's copy)."""
    for number, op in enumerate(operations):
        name, path = op.get("op"), op.get("path")
        if not isinstance(path, str):
            raise InvalidValue(f"operation {number} has no 'path'", fix="add 'path': '/spec/…'")
        if name in ("add", "replace", "test") and "value" not in op:
            raise InvalidValue(f"operation {number} ({name}) has no 'value'", fix="add 'value'")
        if name == "add":
            _add(doc, path, op["value"])
        elif name == "remove":
            _remove(doc, path)
        elif name == "replace":
            _get(doc, path)
            _remove(doc, path)
            _add(doc, path, op["value"])
        elif name in ("move", "copy"):
            source = op.get("from")
            if not isinstance(source, str):
                raise InvalidValue(f"operation {number} ({name}) has no 'from'", fix="add 'from'")
            value = _remove(doc, source) if name == "move" else copy.deepcopy(_get(doc, source))
            _add(doc, path, value)
        elif name == "test":
            if _get(doc, path) != op["value"]:
                raise InvalidValue(
                    f"JSON patch test failed: {path} is {_get(doc, path)!r:.80}, not "
                    f"{op['value']!r:.80}",
                    fix="the upstream object changed: review the patch",
                )
        else:
            raise InvalidValue(
                f"operation {number} has unknown op {name!r}",
                fix="use add, remove, replace, move, copy or test",
            )
