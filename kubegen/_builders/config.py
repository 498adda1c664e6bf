"""ConfigMaps: configuration data from literals, files and Jinja2 templates.

Jinja2 renders *file contents* (an nginx.conf, an app config), never manifest structure. Templates
use ``StrictUndefined``: a variable the template uses but was not given is an error naming the
template file, line and variable, not an empty string in production. Block tags own their
line (``trim_blocks``/``lstrip_blocks``), so ``{% for %}`` leaves no blank lines. Relative
paths are resolved against the folder of the stack file that builds the ConfigMap (or the
Template), so a stack renders the same from any working directory. Everything is read and
rendered when the builder is created, so errors point at that line.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, TypedDict, Unpack

from pydantic import Field, field_validator, model_validator

from kubegen._builders.base import Builder, Resource, ResourceArgs, empty_list, error_from
from kubegen._errors import ValidationError
from kubegen._manifests import ManifestObject
from kubegen._origin import _prefixes
from kubegen._values import InvalidValue, check_data_key

_UNDEFINED_RE = re.compile(r"'([^']+)' is undefined|has no attribute '([^']+)'")
CONFIGMAP_MAX_BYTES = 1024 * 1024  # the API server's limit on a ConfigMap's data


def _caller_dir() -> Path:
    """The folder of the innermost calling file outside kubegen and pydantic."""
    prefixes = _prefixes()
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(prefixes) and not filename.startswith("<"):
            return Path(filename).resolve().parent
        frame = frame.f_back  # type: ignore[assignment]
    return Path.cwd()  # pragma: no cover - always called from user code


def _resolve(path: Path | str) -> Path:
    path = Path(path)
    return path if path.is_absolute() else _caller_dir() / path


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidValue(
            f"{what} {str(path)!r} does not exist",
            fix="check the path; relative paths start at the stack file's folder",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidValue(
            f"{what} {str(path)!r} cannot be read as UTF-8 text: {exc}",
            fix="ConfigMap data is text; ship binary files in the image",
        ) from None


class TemplateArgs(TypedDict, total=False):
    values: Mapping[str, Any]
    key: str | None


class Template(Builder):
    """A Jinja2 template rendered into one ConfigMap key.

    Args:
        path: the template file; relative to the folder of the stack file that builds it.
        values: variables the template may use; any other variable it uses is an error.
        key: the ConfigMap key; defaults to the file name without a ``.j2`` suffix.
    """

    path: Path
    values: dict[str, Any] = Field(default_factory=dict)
    key: str | None = None

    def __init__(self, path: Path | str, /, **data: Unpack[TemplateArgs]) -> None:
        Builder.__init__(self, path=path, **data)

    @field_validator("path", mode="before")
    @classmethod
    def _resolve_path(cls, path: Any) -> Any:
        return _resolve(path) if isinstance(path, (str, Path)) else path

    @property
    def data_key(self) -> str:
        """The key the rendered text is stored under."""
        return self.key or self.path.name.removesuffix(".j2")

    def render(self) -> str:
        """The rendered text.

        Raises:
            ValidationError: located at the stack line that built this Template, naming the
                template file and line and, for an undefined variable, its name (field
                ``values``); a missing or unreadable file or bad syntax is field ``path``.
        """
        import jinja2  # here, not at the top: it costs ~50 ms and most stacks never use it

        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(self.path.parent)),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            autoescape=False,
        )
        try:
            source = _read(self.path, "template")
            return env.from_string(source).render(self.values)
        except jinja2.UndefinedError as exc:
            match = _UNDEFINED_RE.search(str(exc))
            name = next((g for g in match.groups() if g), "?") if match else "?"
            line = _template_line(exc.__traceback__)
            raise self._error(InvalidValue(
                f"template {str(self.path)!r}{f' line {line}' if line else ''} uses the "
                f"undefined variable {name!r} ({exc})",
                fix=f"pass it: Template(..., values={{{name!r}: ...}})",
                field="values",
                value=sorted(self.values),
            )) from None
        except jinja2.TemplateSyntaxError as exc:
            raise self._error(InvalidValue(
                f"template {str(self.path)!r} line {exc.lineno}: {exc.message}",
                fix="fix the template syntax",
                field="path",
            )) from None
        except jinja2.TemplateNotFound as exc:
            raise self._error(InvalidValue(
                f"template {str(self.path)!r} includes {exc.name!r}, which does not exist "
                "next to it",
                fix="put included templates in the same folder",
                field="path",
            )) from None
        except InvalidValue as exc:
            raise self._error(exc.within("path")) from None

    def _error(self, exc: InvalidValue) -> ValidationError:
        """``exc`` located at the stack line that built this Template."""
        error = error_from(exc)
        error.origin = self.origin
        error.resource = f"Template {self.path.name}"
        return error


def _template_line(tb: TracebackType | None) -> int | None:
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


class ConfigMapArgs(ResourceArgs, total=False):
    data: Mapping[str, str]
    files: Sequence[Path | str]
    templates: Sequence[Template]
    immutable: bool


class ConfigMap(Resource):
    """Non-secret configuration, as ``key: text`` pairs; keys render sorted.

    ``ConfigMap("nginx", files=["nginx.conf"], templates=[Template("app.yaml.j2",
    values={"port": 8080})], data={"LOG_LEVEL": "info"})``. Mount it as files with
    :class:`~kubegen.ConfigFiles` or read keys with :class:`~kubegen.ConfigMapKey`; pods that
    use a ConfigMap of the stack carry its sha256 and roll when it changes.

    Args:
        name: DNS-1123 subdomain.
        data: key → content. Keys are ``[-._a-zA-Z0-9]+`` (they become file names when
            mounted); the total must stay under 1 MiB, the API server's limit. After creation
            it holds every key, including those from ``files`` and ``templates``.
        files: text files whose names become keys; relative to the stack file's folder.
        templates: :class:`Template` objects rendered into keys.
        immutable: mark the ConfigMap immutable (defaults to False).
    """

    api_version: ClassVar[str] = "v1"
    kind: ClassVar[str] = "ConfigMap"

    data: dict[str, str] = Field(default_factory=dict)
    files: list[Path] = Field(default_factory=empty_list)
    templates: list[Template] = Field(default_factory=empty_list)
    immutable: bool = False

    def __init__(self, name: str, /, **data: Unpack[ConfigMapArgs]) -> None:
        super().__init__(name, **data)

    @field_validator("files", mode="before")
    @classmethod
    def _resolve_files(cls, files: Any) -> Any:
        if isinstance(files, (list, tuple)):
            return [_resolve(f) if isinstance(f, (str, Path)) else f for f in files]
        return files

    @field_validator("data")
    @classmethod
    def _check_data(cls, data: dict[str, str]) -> dict[str, str]:
        return check_config_data(data)

    @model_validator(mode="after")
    def _merge_sources(self) -> ConfigMap:
        if not self.files and not self.templates:
            return self
        merged = dict(self.data)
        sources: list[tuple[str, str, Path | Template]] = [
            (f"files[{i}]", p.name, p) for i, p in enumerate(self.files)
        ]
        sources += [(f"templates[{i}]", t.data_key, t) for i, t in enumerate(self.templates)]
        for field, key, source in sources:
            if key in merged:
                raise InvalidValue(
                    f"key {key!r} comes from two sources (data, files or templates)",
                    fix="rename one: Template(..., key='other-name') or another file name",
                    field=field,
                    value=key,
                )
            merged[key] = self._content(field, source)
        # Bypass validate_assignment: the merged data is validated right here, once.
        self.__dict__["data"] = check_config_data(merged)
        self.__dict__["files"], self.__dict__["templates"] = [], []
        return self

    def _content(self, field: str, source: Path | Template) -> str:
        """A file's text or a rendered template; errors name the ConfigMap and the field."""
        if isinstance(source, Path):
            try:
                return _read(source, "file")
            except InvalidValue as exc:
                raise exc.within(field) from None
        try:
            return source.render()
        except ValidationError as exc:
            # Keep the Template's stack line (where its values are), name the ConfigMap.
            exc.resource = f"ConfigMap {self.name}"
            exc.field = f"{field}.{exc.field}" if exc.field else field
            raise

    def sha256(self) -> str:
        """Digest of the data, for the pod-template annotation that rolls pods on change."""
        digest = hashlib.sha256()
        for key in sorted(self.data):
            digest.update(key.encode() + b"\0" + self.data[key].encode() + b"\0")
        return digest.hexdigest()

    def manifests(self) -> list[ManifestObject]:
        body: dict[str, object] = {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "metadata": self.metadata(),
        }
        if self.immutable:
            body["immutable"] = True
        body["data"] = dict(sorted(self.data.items()))
        return [self.manifest(body)]


def check_config_data(data: dict[str, str]) -> dict[str, str]:
    """Keys are valid file names; the total fits the API server's 1 MiB."""
    total = 0
    for key, value in data.items():
        check_data_key(key, "ConfigMap")
        total += len(key.encode()) + len(value.encode())
    if total > CONFIGMAP_MAX_BYTES:
        raise InvalidValue(
            f"data totals {total} bytes; a ConfigMap holds at most 1 MiB",
            fix="split the data over several ConfigMaps or ship it in the image",
        )
    return data
