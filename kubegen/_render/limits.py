"""Limits checked on every rendered object, whatever builder made it.

Builders validate their own fields (names ≤ 63/253, label values ≤ 63, ConfigMap data ≤ 1 MiB,
annotations ≤ 256 KiB); what only shows once an object is rendered is checked here, at render
time, before anything is written:

- the object's size: etcd refuses a request over 1.5 MiB (``--max-request-bytes`` default), so
  the API server would reject it at apply time;
- a ConfigMap's or Secret's data: at most 1 MiB (keys and decoded values), whatever builder
  made it (the ``Manifest`` escape hatch included);
- its file name: ``<kind>-<name>.yaml`` must fit the 255-byte limit of common filesystems;
- text kustomize cannot carry: DEL, the C1 controls (U+0080-U+009F, NEL included) and the
  non-characters U+FFFE/U+FFFF. The emitter escapes them correctly, but ``kustomize build``
  (what Argo CD and Flux run on ``output/<env>``) rejects them ("control characters are not
  allowed") or turns NEL into a space. Found cheaply: the emitter writes each as an escape, so
  only a document holding such an escape is searched, and the error names the field;
- what ``kustomize build`` (Argo CD, Flux) cannot read back, found by running it (see
  tests/test_reliability_kustomize.py): a map key ``<<`` (a YAML merge key: silently dropped), a
  map key longer than 1024 characters once JSON-escaped (its YAML round trip fails), and in
  ``metadata.annotations`` (which kustomize re-writes) a key a YAML 1.1 parser reads as a
  bool, null, number or date (``true``, ``null``, ``0755``, ``1e3``, ``.inf``, ``2001-12-14``),
  an empty key (kustomize crashes) and a value that starts with a tab and holds a line break;
- plaintext secrets: a ``Secret`` (also inside a ``List``; any API group, to be safe) with
  ``data`` or ``stringData`` would put secret values in git. It is refused unless it carries
  an explicit allow with a reason: :data:`ALLOW_PLAINTEXT_SECRET` (what
  ``Secret(..., allow_plaintext="why")`` renders) or a waiver of policy rule KG801
  (``kubegen.dev/waive-kg801``), whatever builder made it and whatever the policy profile
  (``baseline`` only warns about KG801; this guard does not depend on the profile).
"""

from __future__ import annotations

import re
from typing import Any

from kubegen._builders.base import OPT_OUT_PREFIX
from kubegen._errors import PolicyError, ValidationError
from kubegen._manifests import ManifestObject
from kubegen._policy.waivers import annotation_key
from kubegen._values.credentials import sealed_problem, url_credentials

MAX_OBJECT_BYTES = 1536 * 1024  # etcd's default request limit: 1.5 MiB
MAX_DATA_BYTES = 1024 * 1024  # ConfigMap/Secret data, as the API server validates it
MAX_FILE_NAME_BYTES = 255  # NAME_MAX of ext4, xfs, btrfs, APFS, NTFS
ALLOW_PLAINTEXT_SECRET = OPT_OUT_PREFIX + "plaintext-secret"  # annotation: the reason it may
_ALLOWS = (ALLOW_PLAINTEXT_SECRET, annotation_key("KG801"))  # KG801: policy's plaintext-secret


def check_object_size(obj: ManifestObject, document: bytes) -> None:
    """Refuse an object whose rendered YAML exceeds what the API server stores."""
    if len(document) > MAX_OBJECT_BYTES:
        raise ValidationError(
            f"renders to {len(document)} bytes; the API server refuses objects over "
            f"{MAX_OBJECT_BYTES} bytes (1.5 MiB)",
            origin=obj.origin,
            resource=obj.display,
            fix="split the data over several objects, or ship large files in the image",
        )


# Escapes of the characters above, as a YAML emitter may write them (any case, any form).
_UNPORTABLE_ESCAPE = re.compile(
    rb"\\(?:x(?:7f|[89][0-9a-f])|u(?:00(?:7f|[89][0-9a-f])|fff[ef])|U0000(?:007f|00[89][0-9a-f]"
    rb"|fff[ef])|(?-i:N))",
    re.IGNORECASE,
)
_UNPORTABLE = re.compile("[\x7f-\x9f\ufffe\uffff]")


def check_portable_text(obj: ManifestObject, document: bytes) -> None:
    """Refuse strings kustomize cannot read back; search only documents that may hold one."""
    if _UNPORTABLE_ESCAPE.search(document) is None:
        return
    found = _find_unportable(obj.body, "")
    if found is not None:
        where, text = found
        char = _UNPORTABLE.search(text)
        assert char is not None
        raise ValidationError(
            f"holds U+{ord(char.group()):04X} (DEL, a C1 control or a non-character), which "
            "kustomize, as run by Argo CD and Flux, rejects or turns into a space",
            origin=obj.origin,
            resource=obj.display,
            field=where,
            value=text,
            fix="remove the character, or put binary content base64-encoded in binaryData",
        )


def _find_unportable(value: Any, where: str) -> tuple[str, str] | None:
    if isinstance(value, str):
        return (where, value) if _UNPORTABLE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            if isinstance(key, str) and _UNPORTABLE.search(key):
                return path, key
            found = _find_unportable(item, path)
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _find_unportable(item, f"{where}[{index}]")
            if found is not None:
                return found
    return None


# kustomize re-writes metadata.annotations and reads them back as YAML 1.1 (go-yaml v2): keys
# that resolve to anything but a string there break the whole build ("json: unsupported type").
# The exact set was measured with kubectl kustomize 5.5 (tests/test_reliability_kustomize.py).
_TYPED_KEY = re.compile(
    r"""(?:true|True|TRUE|false|False|FALSE|null|Null|NULL|~)
      |[-+]?[0-9][0-9_]*
      |0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+
      |[-+]?(?:[0-9][0-9_]*)?\.[0-9_]*(?:[eE][-+]?[0-9]+)?
      |[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+
      |[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)
      |[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}""",
    re.VERBOSE,
)
_TYPED_START = frozenset("0123456789+-.~tTfFnN")
MAX_KEY_JSON = 1024  # go-yaml's limit on a simple key, met by kustomize's JSON round trip
# What Go's encoding/json writes as a six-character escape (it writes \", \\, \n, \r, \t
# as two); everything else, non-ASCII included, is one character.
_JSON_SHORT = frozenset('"\\\n\r\t')


def check_annotations_for_kustomize(obj: ManifestObject) -> None:
    """Refuse annotation keys and values kustomize cannot write back (top level and the items
    of a List, which kustomize splits into objects)."""
    meta = obj.body.get("metadata")
    notes = meta.get("annotations") if meta.__class__ is dict else None
    if notes:
        _check_notes(obj, notes, "metadata.annotations")
    if obj.kind.endswith("List") and isinstance(obj.body.get("items"), list):
        for index, item in enumerate(obj.body["items"]):
            item_meta = item.get("metadata") if isinstance(item, dict) else None
            item_notes = item_meta.get("annotations") if isinstance(item_meta, dict) else None
            if isinstance(item_notes, dict) and item_notes:
                _check_notes(obj, item_notes, f"items[{index}].metadata.annotations")


def _check_notes(obj: ManifestObject, notes: Any, where: str) -> None:
    if not isinstance(notes, dict):
        return
    for key, value in notes.items():
        if key == "":
            raise ValidationError(
                "an empty annotation key makes kustomize (as run by Argo CD and Flux) crash on "
                "the whole folder",
                origin=obj.origin,
                resource=obj.display,
                field=where,
                value=key,
                fix="give the annotation a key, e.g. 'example.com/note'",
            )
        if key.__class__ is str and key[0] in _TYPED_START and _TYPED_KEY.fullmatch(key):
            raise ValidationError(
                f"annotation key {key!r} reads as {_yaml_type(key)} in YAML 1.1; kustomize "
                "(as run by Argo CD and Flux) writes annotation keys back unquoted and then "
                "fails on the whole folder",
                origin=obj.origin,
                resource=obj.display,
                field=f"{where}.{key}",
                value=key,
                fix=f"give the key a prefix, e.g. 'example.com/{key}'",
            )
        if value.__class__ is str and value[:1] == "\t" and "\n" in value:
            raise ValidationError(
                "an annotation value that starts with a tab and has several lines is written "
                "back by kustomize as a block that its own YAML reader rejects",
                origin=obj.origin,
                resource=obj.display,
                field=f"{where}.{key}",
                value=value,
                fix="start the value with another character (or remove the tab)",
            )


def _yaml_type(key: str) -> str:
    lowered = key.lower()
    if lowered in ("true", "false"):
        return "a boolean"
    if lowered in ("null", "~"):
        return "null"
    return "a date" if re.fullmatch(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}", key) else "a number"


def json_length(text: str) -> int:
    """Characters in Go's ``encoding/json`` form of ``text``, quotes included."""
    size = 2
    for char in text:
        if char in _JSON_SHORT:
            size += 2
        elif char < " " or char in "<>&\u2028\u2029":
            size += 6
        else:
            size += 1
    return size


def check_kustomize_keys(obj: ManifestObject, keys: list[str]) -> None:
    """Refuse the map keys kustomize cannot read back, among ``keys`` (the long and ``<<`` keys
    the emitter noted while writing this object)."""
    for key in keys:
        if key == "<<":
            why = "is a YAML merge key to kustomize, which drops it (and its value) silently"
            fix = "rename the key"
        elif json_length(key) > MAX_KEY_JSON:
            why = (
                f"is {json_length(key)} characters as a JSON string; kustomize passes objects "
                f"through JSON and YAML, whose keys may not exceed {MAX_KEY_JSON}"
            )
            fix = "use a shorter key (put long text in a value)"
        else:
            continue
        raise ValidationError(
            f"the map key {key[:40]!r}{'…' if len(key) > 40 else ''} {why}",
            origin=obj.origin,
            resource=obj.display,
            field=_key_path(obj.body, key, "") or None,
            fix=fix,
        )


def _key_path(value: Any, key: str, where: str) -> str:
    """Where ``key`` is in ``value`` (the first place), or ""."""
    if isinstance(value, dict):
        for name, item in value.items():
            path = f"{where}.{name}" if where else str(name)
            if name == key:
                return path if len(key) <= 40 else f"{where}.{key[:40]}…".lstrip(".")
            found = _key_path(item, key, path)
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _key_path(item, key, f"{where}[{index}]")
            if found:
                return found
    return ""


def check_data_size(obj: ManifestObject) -> None:
    """Refuse a ConfigMap or Secret whose data the API server would call too long (1 MiB)."""
    if obj.kind not in ("ConfigMap", "Secret") or obj.group:
        return
    total = 0
    for field in ("data", "binaryData", "stringData"):
        values = obj.body.get(field)
        base64 = field == "binaryData" or (field == "data" and obj.kind == "Secret")
        for key, value in values.items() if isinstance(values, dict) else ():
            if isinstance(key, str) and isinstance(value, str):
                size = len(value) * 3 // 4 if base64 else len(value.encode())
                total += len(key.encode()) + size
    if total > MAX_DATA_BYTES:
        raise ValidationError(
            f"holds {total} bytes of data; the API server accepts at most {MAX_DATA_BYTES} "
            "(1 MiB) in a ConfigMap or Secret",
            origin=obj.origin,
            resource=obj.display,
            fix="split the data over several objects, or ship large files in the image",
        )


def check_file_name(obj: ManifestObject, path: str) -> None:
    """Refuse a path whose file name the filesystem could not create."""
    name = path.rpartition("/")[2]
    size = len(name.encode())
    if size > MAX_FILE_NAME_BYTES:
        room = len(obj.name) - (size - MAX_FILE_NAME_BYTES)
        raise ValidationError(
            f"its file name {name[:40]}… is {size} bytes; filesystems allow {MAX_FILE_NAME_BYTES}",
            origin=obj.origin,
            resource=obj.display,
            field="metadata.name",
            fix=f"use a name of at most {max(room, 1)} characters",
        )


def check_no_plaintext_secret(obj: ManifestObject) -> None:
    """Refuse secret values in the output: they would be committed to git in plaintext."""
    if obj.kind == "SealedSecret" and obj.group == "bitnami.com":
        _check_sealed(obj)
    for item, where in _secrets(obj.body, ""):
        if (item.get("data") or item.get("stringData")) and not _allowed(item):
            raise PolicyError(
                f"a Secret{where} with data or stringData would commit secret values to git "
                f"in plaintext (no {' or '.join(_ALLOWS)} annotation with a reason)",
                origin=obj.origin,
                resource=obj.display,
                fix="reference the secret instead (ExternalSecret, SealedSecret, SecretRef), or "
                "use Secret(..., allow_plaintext='why this is not sensitive') or waive KG801",
            )


def _check_sealed(obj: ManifestObject) -> None:
    """A ``SealedSecret`` (also one written as a raw ``Manifest``) holds ciphertext only: every
    ``encryptedData`` value is kubeseal output by its structure, and ``template.data`` (copied
    into the Secret as it is) holds templates of the sealed values, not plaintext."""
    spec = obj.body.get("spec")
    spec = spec if isinstance(spec, dict) else {}
    sealed = spec.get("encryptedData")
    for key, value in (sealed.items() if isinstance(sealed, dict) else ()):
        problem = sealed_problem(value) if isinstance(value, str) else "it is not a string"
        if problem is not None:
            raise PolicyError(
                f"spec.encryptedData[{key!r}] does not look like kubeseal output ({problem}); "
                "plaintext here would be committed to git",
                origin=obj.origin,
                resource=obj.display,
                field=f"spec.encryptedData.{key}",
                fix="seal the value: `kubeseal --raw --name <name> --namespace <ns> "
                "--from-file=/dev/stdin`",
            )
    template = spec.get("template")
    data = template.get("data") if isinstance(template, dict) else None
    for key, value in (data.items() if isinstance(data, dict) else ()):
        if not isinstance(value, str):
            continue
        url = url_credentials(value)
        if ("{{" in value and url is None) or _allowed(obj.body):
            continue
        why = f"holds a URL with a password ({url}…)" if url else "is not a template"
        raise PolicyError(
            f"spec.template.data[{key!r}] {why}: the sealed-secrets controller copies it into "
            "the Secret as it is, so it is plaintext in git",
            origin=obj.origin,
            resource=obj.display,
            field=f"spec.template.data.{key}",
            fix="seal the value into spec.encryptedData and refer to it from the template "
            f"({{{{ index . \"{key}\" }}}}), or annotate {ALLOW_PLAINTEXT_SECRET} with why it "
            "is not sensitive",
        )


def _allowed(secret: dict[str, Any]) -> bool:
    meta = secret.get("metadata")
    notes = meta.get("annotations") if isinstance(meta, dict) else None
    if not isinstance(notes, dict):
        return False
    reasons = [notes.get(key) for key in _ALLOWS]
    return any(isinstance(reason, str) and reason.strip() for reason in reasons)


def _secrets(body: Any, where: str) -> list[tuple[dict[str, Any], str]]:
    """Every ``kind: Secret`` in ``body``: any API group (conservative), and inside a List."""
    if not isinstance(body, dict):
        return []
    if body.get("kind") == "Secret":
        return [(body, where)]
    if body.get("kind") == "List" and isinstance(body.get("items"), list):
        found: list[tuple[dict[str, Any], str]] = []
        for index, item in enumerate(body["items"]):
            found.extend(_secrets(item, f" (items[{index}])"))
        return found
    return []
