"""HostPath volumes of a pod: one reason per node path, a second one to write to it.

Each :class:`~kubegen.HostPath` carries its own ``reason`` (and ``allow_write`` when a container
may write to it), rendered per volume as ``kubegen.dev/opt-out-host-path.<volume>`` and
``kubegen.dev/opt-out-host-path-write.<volume>``: a reviewer sees why each node path is in the
pod, and a mount added later needs a reason of its own instead of hiding behind an older one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from kubegen._builders.workloads.container import Container, PlannedMount
from kubegen._builders.workloads.volumes import HostPath, Mount
from kubegen._values import InvalidValue

__all__ = ["HostPathVolume", "check_host_paths", "host_path_opt_outs", "host_path_volumes"]

_ANNOTATION_PREFIX = "kubegen.dev/"
_LONGEST = "opt-out-host-path-write."  # the longer of the two opt-out names


@dataclass(slots=True)
class HostPathVolume:
    """One hostPath volume of a pod and the mounts of it."""

    source: HostPath
    mounts: list[tuple[str, PlannedMount]] = field(default_factory=list)  # (container, mount)

    @property
    def written(self) -> bool:
        return any(not mount.read_only for _, mount in self.mounts)


def host_path_volumes(containers: Iterable[tuple[str, Container]]) -> dict[str, HostPathVolume]:
    """Volume name → the HostPath and its mounts, over (container name, container) pairs.

    Only ``mounts`` can hold a HostPath (``writable`` paths are emptyDirs), so the mounts of
    a container are planned only when one of them is a HostPath (or when a subclass plans
    them its own way): this runs whenever a workload is validated or rendered, and most pods
    have none.
    """
    found: dict[str, HostPathVolume] = {}
    for name, container in containers:
        if type(container).planned_mounts is Container.planned_mounts and not any(
            isinstance(target.source if isinstance(target, Mount) else target, HostPath)
            for target in container.mounts.values()
        ):
            continue
        for mount in container.planned_mounts(name):
            if isinstance(mount.source, HostPath):
                volume = found.setdefault(mount.source.volume_name(), HostPathVolume(mount.source))
                volume.mounts.append((name, mount))
    return found


def check_host_paths(volumes: dict[str, HostPathVolume]) -> None:
    """Refuse an ``allow_write`` no mount uses, and volume names too long for the annotation."""
    for name, volume in volumes.items():
        if len(_LONGEST) + len(name) > 63:
            raise InvalidValue(
                f"the hostPath volume name {name!r} is too long for its opt-out annotation "
                f"({_ANNOTATION_PREFIX}{_LONGEST}{name} would exceed 63 characters after the "
                "prefix)",
                fix=f"give it a shorter name: HostPath({volume.source.path!r}, name='host-…', "
                "reason=…)",
            )
        if volume.source.allow_write is not None and not volume.written:
            raise InvalidValue(
                f"HostPath({volume.source.path!r}) has allow_write but every mount of it is "
                "read-only",
                fix="drop allow_write, or mount it writable (Mount(..., read_only=False))",
            )


def host_path_opt_outs(volumes: dict[str, HostPathVolume]) -> list[tuple[str, str]]:
    """(opt-out, reason) per volume: ``host-path.<volume>``, ``host-path-write.<volume>``."""
    found: list[tuple[str, str]] = []
    for name, volume in volumes.items():
        source = volume.source
        found.append((f"host-path.{name}", source.reason))
        if volume.written and source.allow_write is not None:
            found.append((f"host-path-write.{name}", source.allow_write))
    return found
