"""Secrets (KG801–KG804): never plaintext in git, preferably files rather than env vars.

Rendered manifests are committed, so a ``Secret`` with ``data`` or ``stringData`` is a password
in the repository (base64 is an encoding, not encryption). The design's answer is to reference
External Secrets or Sealed Secrets objects and mount secrets as files: environment variables leak
into crash dumps, ``/proc/<pid>/environ``, child processes and logs of misbehaving libraries.
"""

from __future__ import annotations

from collections.abc import Iterator

from kubegen._manifests import ManifestObject
from kubegen._policy.context import POD_KINDS, LintContext, as_dict, as_list
from kubegen._policy.model import Hit, Levels
from kubegen._policy.registry import E, W, rule
from kubegen._policy.rules import show
from kubegen._values.credentials import literal_secret, url_credentials

NSA_SECRETS = "NSA/CISA Kubernetes Hardening Guidance v1.2, 'Secrets'"
KIA_SECRETS = "Kubernetes in Action (2nd ed.), 'Secrets'"
TAGS = ("security", "secrets")


@rule(
    "KG801",
    per_object=True,
    name="plaintext-secret",
    title="No Secret carries its values in the manifest",
    levels=Levels(baseline=W, restricted=E, prod=E),
    reason="Rendered YAML is committed to git; a Secret's data/stringData is readable by "
    "everyone with the repository, forever (base64 is not encryption).",
    sources=(NSA_SECRETS, KIA_SECRETS, "kubegen design §3: secrets never plaintext in git"),
    fix="Reference the value from a secret store (ExternalSecret, SealedSecret) and let the "
    "controller create the Secret in the cluster; remove data/stringData from the manifest.",
    scanners=("kubescape C-0012",),
    tags=TAGS,
    kinds=("Secret",),
)
def plaintext_secret(ctx: LintContext) -> Iterator[Hit]:
    for secret in ctx.of_kind("Secret"):
        for key in ("data", "stringData"):
            values = as_dict(secret.body.get(key))
            if values:
                names = show(sorted(values))
                yield Hit(secret, key, f"holds values for keys {names} in plaintext")


@rule(
    "KG802",
    per_object=True,
    name="secret-env-ref",
    title="Secrets are mounted as files, not injected as environment variables",
    levels=Levels(baseline=W, restricted=W, prod=W),
    reason="Environment variables are copied to child processes, shown by debug endpoints and "
    "crash reporters, and cannot be rotated without a restart; mounted files can.",
    sources=(NSA_SECRETS, KIA_SECRETS),
    fix="Mount the Secret as a volume and point the app at the file (e.g. DB_PASSWORD_FILE).",
    scanners=("kube-linter read-secret-from-env-var", "kubescape C-0207", "Checkov CKV_K8S_35"),
    tags=TAGS,
    kinds=POD_KINDS,
)
def secret_env_ref(ctx: LintContext) -> Iterator[Hit]:
    for pod in ctx.pods:
        for c in pod.containers(("initContainers", "containers")):
            for index, var in enumerate(as_list(c.body.get("env"))):
                ref = as_dict(as_dict(as_dict(var).get("valueFrom")).get("secretKeyRef"))
                if ref:
                    path = f"{c.path}.env[{index}].valueFrom.secretKeyRef"
                    name = show(as_dict(var).get("name"))
                    message = f"{c.label} reads Secret {show(ref.get('name'))} into env {name}"
                    yield Hit(pod.obj, path, message)
            for index, source in enumerate(as_list(c.body.get("envFrom"))):
                ref = as_dict(as_dict(source).get("secretRef"))
                if ref:
                    path = f"{c.path}.envFrom[{index}].secretRef"
                    message = f"{c.label} loads all of Secret {show(ref.get('name'))} into env"
                    yield Hit(pod.obj, path, message)


@rule(
    "KG803",
    per_object=True,
    name="secret-env-literal",
    title="No credential is written literally into an environment variable",
    levels=Levels(baseline=W, restricted=E, prod=E),
    reason="A literal value for PASSWORD, TOKEN, SECRET or API_KEY (or a URL with a password, "
    "such as postgres://app:pw@db) is a credential committed with the manifest and visible to "
    "anyone who can read the pod spec.",
    sources=(NSA_SECRETS, KIA_SECRETS),
    fix="Move the value to a secret store and mount it as a file (see KG801, KG802).",
    scanners=(
        "Polaris sensitiveContainerEnvVar",
        "kube-linter env-var-secret",
        "kubescape C-0012",
        "Checkov CKV_K8S_35",
    ),
    tags=TAGS,
    kinds=POD_KINDS,
)
def secret_env_literal(ctx: LintContext) -> Iterator[Hit]:
    for pod in ctx.pods:
        for c in pod.containers(("initContainers", "containers")):
            for index, var in enumerate(as_list(c.body.get("env"))):
                var = as_dict(var)
                name, value = str(var.get("name", "")), var.get("value")
                if not isinstance(value, str) or not value:
                    continue
                path = f"{c.path}.env[{index}].value"
                url = url_credentials(value)
                if url is not None:
                    message = f"{c.label} sets {name} to a URL with a password ({url}…)"
                    yield Hit(pod.obj, path, message)
                elif literal_secret(name, value):
                    yield Hit(pod.obj, path, f"{c.label} sets {name} to a literal value")


@rule(
    "KG804",
    per_object=True,
    name="credentials-outside-env",
    title="No credential is written into commands, ConfigMaps or annotations",
    levels=Levels(baseline=W, restricted=E, prod=E),
    reason="A URL's userinfo (postgres://app:hunter2@db) is a password in clear text wherever it "
    "is written: a container's command or args (also shown by ps and /proc/<pid>/cmdline), a "
    "ConfigMap, which anyone allowed to read configuration can read, or an annotation, copied "
    "into every tool that lists the object; so is a ConfigMap key named like a credential "
    "(DB_PASSWORD, api-token) with a literal value. Rendered YAML is committed to git.",
    sources=(NSA_SECRETS, KIA_SECRETS, "detect-secrets BasicAuthDetector and KeywordDetector"),
    fix="Keep the password out of the URL: read it from a mounted Secret file, or build the URL "
    "from $(VAR) references to a secretKeyRef variable (postgres://app:$(DB_PASSWORD)@db); "
    "move a credential from a ConfigMap to a secret store and mount it as a file.",
    tags=TAGS,
)
def url_credentials_anywhere(ctx: LintContext) -> Iterator[Hit]:
    for obj in ctx.objects:
        metadata = as_dict(obj.body.get("metadata"))
        yield from _credentials(obj, "metadata.annotations", as_dict(metadata.get("annotations")))
        if obj.kind == "ConfigMap":
            yield from _credentials(obj, "data", as_dict(obj.body.get("data")), names=True)
    for pod in ctx.pods:
        if pod.path.endswith(".spec"):  # a template's annotations (a Pod's were read above)
            where = pod.path[: -len("spec")] + "metadata.annotations"
            yield from _credentials(pod.obj, where, as_dict(pod.metadata.get("annotations")))
        for c in pod.containers(("initContainers", "containers")):
            for field in ("command", "args"):
                for index, value in enumerate(as_list(c.body.get(field))):
                    url = url_credentials(value) if isinstance(value, str) else None
                    if url is not None:
                        message = f"{c.label} has a URL with a password in its {field} ({url}…)"
                        yield Hit(pod.obj, f"{c.path}.{field}[{index}]", message)


def _credentials(
    obj: ManifestObject, field: str, values: dict[str, object], *, names: bool = False
) -> Iterator[Hit]:
    """Values holding a URL with a password; with ``names``, also one-line literal values of
    keys named like a credential (a ConfigMap's ``DB_PASSWORD``; a mounted file's content, on
    several lines, is configuration)."""
    for key, value in values.items():
        if not isinstance(value, str):
            continue
        url = url_credentials(value)
        if url is not None:
            yield Hit(obj, f"{field}[{key}]", f"{field} {show(key)} holds a URL with a password "
                      f"({url}…)")
        elif names and "\n" not in value.strip() and literal_secret(str(key), value):
            yield Hit(obj, f"{field}[{key}]", f"{field} {show(key)} holds a literal credential")
