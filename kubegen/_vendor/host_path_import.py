"""hostPath volumes as typed ``HostPath(...)`` sources, for ``kubegen import manifests``.

A :class:`~kubegen.HostPath` carries its own reason, and a second one (``allow_write``) when a
container writes to it. The importer writes both from where the object came from
(``"imported from node-exporter.yaml: upstream mounts /proc"``), so the imported stack renders
one readable reason per node path, each naming the input that asked for it, until the team
replaces it with the real one.

Whether a volume is writable is the pod's: one mount without ``readOnly: true``, in any
container, makes it so; the other mounts then say ``read_only=True``. Every mount of a volume
gets the same source call (one source, one volume). The type is the input's: unset or ``""``
(Kubernetes' default, no check) is ``type=None``. As for every typed call, the importer keeps
it only when its render is the input object.
"""

from __future__ import annotations

from typing import Any, get_args

from kubegen._builders.workloads.volumes import HostPathType, volume_slug
from kubegen._vendor.import_base import Unmapped, call, only, r

__all__ = ["host_path_sources", "source_file"]

_TYPES = set(get_args(HostPathType))


def source_file(origin: str) -> str:
    """The file of an object's ``file:line`` origin (``the input`` when there is none)."""
    file, _, line = origin.rpartition(":")
    return (file if line.isdigit() and file else origin) or "the input"


def host_path_sources(spec: dict[str, Any], origin: str) -> dict[str, tuple[str, bool]]:
    """Volume name → (its ``HostPath(...)`` call, whether its mounts are read-only by
    default), for each hostPath volume of a pod ``spec``; :class:`Unmapped` for one no
    HostPath renders."""
    written = _written(spec)
    found: dict[str, tuple[str, bool]] = {}
    for volume in spec.get("volumes") or []:
        if not isinstance(volume, dict) or "hostPath" not in volume:
            continue
        name = str(volume.get("name"))
        where = f"spec.template.spec.volumes[{name}]"
        only(volume, {"name", "hostPath"}, where)
        body = volume["hostPath"]
        if not isinstance(body, dict):
            raise Unmapped(f"{where}.hostPath (not a mapping)")
        only(body, {"path", "type"}, f"{where}.hostPath")
        path = body.get("path")
        if not isinstance(path, str):
            raise Unmapped(f"{where}.hostPath.path")
        args = [r(path), *_type(body.get("type"), f"{where}.hostPath.type")]
        if name != volume_slug(f"host-{path}"):
            args.append(f"name={r(name)}")
        source = source_file(origin)
        args.append(f"reason={r(f'imported from {source}: upstream mounts {path}')}")
        if name in written:
            args.append(f"allow_write={r(f'imported from {source}: upstream writes to {path}')}")
        found[name] = (call("HostPath", args), name not in written)
    return found


def _type(value: Any, where: str) -> list[str]:
    if value in (None, ""):
        return ["type=None"]  # unset: the API stores "", which checks nothing
    if value not in _TYPES:
        raise Unmapped(where)
    return [] if value == "Directory" else [f"type={r(value)}"]


def _written(spec: dict[str, Any]) -> set[str]:
    """The volumes some container mounts without ``readOnly: true``."""
    out = set()
    for key in ("initContainers", "containers"):
        for container in spec.get(key) or []:
            for mount in (container.get("volumeMounts") or []) if isinstance(
                    container, dict) else []:
                if isinstance(mount, dict) and mount.get("readOnly") is not True:
                    out.add(str(mount.get("name")))
    return out
