"""What a credential looks like in text: sealed ciphertext, a password in a URL, a literal
value for a secret-sounding name.

Used where a value lands in git: the ``SealedSecret`` builder and the render check of raw
``SealedSecret`` objects (kubeseal's structure, not only a length), and lint rule KG803
(environment variables). The name keywords and the URL rule follow the secret scanners users
already run on their repositories: detect-secrets' ``KeywordDetector`` denylist and
``BasicAuthDetector`` (https://github.com/Yelp/detect-secrets, ``detect_secrets/plugins/``),
read and rewritten for environment-variable names and Kubernetes' ``$(VAR)`` references.
"""

from __future__ import annotations

import re

from kubegen._values.encoding import decode_base64

# kubeseal's output (sealed-secrets docs/developer/crypto.md, pkg/crypto/crypto.go): the length of
# the RSA-OAEP-encrypted session key in two big-endian bytes, that key (as long as the RSA modulus:
# 256 bytes for 2048 bits, 512 for the controller's default 4096), then the AES-256-GCM
# ciphertext of the value, which ends with its 16-byte tag.
_RSA_BYTES = (128, 2048)  # 1024- to 16384-bit keys
_GCM_TAG = 16


def sealed_problem(value: str) -> str | None:
    """Why ``value`` is not kubeseal output (``kubeseal --raw``, base64), or ``None``.

    Plaintext, a base64-encoded password or PEM key, or a truncated paste fails the structure:
    their first two bytes are text, not the length of an RSA block they are long enough to hold.
    """
    raw = decode_base64(value)
    if raw is None:
        return "it is not standard, padded base64"
    if len(raw) < 2:
        return "it is too short to be ciphertext"
    size = int.from_bytes(raw[:2], "big")
    if not (_RSA_BYTES[0] <= size <= _RSA_BYTES[1]) or size % 64:
        return "it does not start with the length of an RSA-encrypted session key"
    if len(raw) < 2 + size + _GCM_TAG:
        return f"it is {len(raw)} bytes, shorter than its {size}-byte session key and GCM tag"
    return None


# Credential words in a variable name (upper-cased): detect-secrets' keyword denylist, found
# anywhere in the name as it does; the short, ambiguous ones only as a whole part between "_".
_WORDS = re.compile(
    r"PASSW(?:OR)?D|PASSPHRASE|SECRET|TOKEN|CREDENTIAL|KEYPASS|CONTRASE(?:N|Ñ)A"
    r"|(?:API|APP|AUTH|SERVICE|APPLICATION|ACCOUNT|DB|DATABASE|CLIENT|PRIV|PRIVATE|SIGNING"
    r"|ENCRYPTION|MASTER)_?KEY"
)
_PARTS = frozenset({"PASS", "PWD", "PW", "CREDS"})
_NOT_A_NAME = frozenset({"PWD", "OLDPWD"})  # the shell's working directory
# A name ending in one of these holds where the secret is, if its value looks like that.
_PATH_SUFFIX = ("FILE", "PATH", "DIR", "FILENAME", "LOCATION", "MOUNT")
_OBJECT_SUFFIX = ("NAME", "REF")
# Names that configure how a credential is handled, not the credential (TOKEN_TTL=3600s).
_SETTING_SUFFIX = frozenset(
    {"TTL", "TIMEOUT", "EXPIRY", "EXPIRATION", "LIFETIME", "LENGTH", "SIZE", "COUNT", "ENABLED",
     "AUDIENCE", "ISSUER", "HEADER", "TYPE", "ALGORITHM", "POLICY", "MODE"}
)  # fmt: skip
# A duration (30s, 1.5h) is a setting, never a credential; a bare number may be a PIN.
_DURATION = re.compile(r"\d+(\.\d+)?(ms|s|m|h|d)")
_OBJECT_WORDS = frozenset({"SECRET", "CREDENTIAL", "CREDS"})
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_REFERENCE = re.compile(r"\$\(([-._a-zA-Z][-._a-zA-Z0-9]*)\)")
# Values that say "no secret here" (detect-secrets' false positives, the ones that are values).
_PLACEHOLDERS = frozenset(
    {"true", "false", "yes", "no", "none", "null", "nil", "disabled", "enabled", "redacted",
     "changeme", "dummy", "example", "placeholder", "-", "*"}
)  # fmt: skip
# scheme://user:password@ (RFC 3986 userinfo), as detect-secrets' BasicAuthDetector.
_URL_CREDENTIALS = re.compile(
    r"[a-zA-Z][a-zA-Z0-9+.-]*://(?P<user>[^\s/?#@:\[\]]*):(?P<password>[^\s/?#@\[\]]+)@"
)


def only_references(value: str) -> bool:
    """Whether ``value`` is nothing but ``$(VAR)`` references (and punctuation between them):
    Kubernetes expands them from other variables, so no literal is in the manifest.
    ``$(PREFIX)hunter2`` is not: ``hunter2`` is a literal. ``$$(X)`` is the literal ``$(X)``."""
    text = value.replace("$$", "\0")
    if _REFERENCE.search(text) is None:
        return False
    rest = _REFERENCE.sub("", text)
    return "$(" not in rest and not any(char.isalnum() or char == "\0" for char in rest)


def secret_name_words(name: str) -> list[str]:
    """The credential words in an environment variable's name (``ADMIN_PASSWORD_NAME`` →
    ``['PASSWORD']``); empty for a name that does not sound secret."""
    upper = name.upper()
    if upper in _NOT_A_NAME:
        return []
    words = [match.group() for match in _WORDS.finditer(upper)]
    return words + [part for part in re.split(r"[-_.]", upper) if part in _PARTS]


def literal_secret(name: str, value: object) -> bool:
    """Whether ``name=value`` puts a credential in the manifest: a secret-sounding name with a
    literal value that is not a reference (``$(VAR)``), a placeholder, a duration, a URL
    without a password, a setting of the credential (``TOKEN_TTL``), or, for names that say
    where the secret is (``..._FILE``, ``..._SECRET_NAME``), a path or an object name."""
    words = secret_name_words(name)
    if not words or not isinstance(value, str) or not value.strip():
        return False
    text = value.strip()
    if only_references(text) or text.lower() in _PLACEHOLDERS:
        return False
    if re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*://", text):
        return url_credentials(text) is not None  # a URL is a secret only with its password
    last = re.split(r"[-_.]", name.upper())[-1]
    if last in _SETTING_SUFFIX or _DURATION.fullmatch(text):
        return False
    if last in _PATH_SUFFIX and ("/" in text or text.startswith("~")):
        return False
    names_an_object = last in _OBJECT_SUFFIX and bool(_OBJECT_WORDS & set(words))
    return not (names_an_object and _DNS_SUBDOMAIN.fullmatch(text))


def url_credentials(text: str) -> str | None:
    """The first URL in ``text`` that carries a password (``postgres://app:hunter2@db``),
    with the password masked, or ``None``. A password that is only ``$(VAR)`` references or a
    template (``${PASS}``, ``{{ .pass }}``, ``<password>``) is not one."""
    for match in _URL_CREDENTIALS.finditer(text):
        password = match.group("password")
        if only_references(password) or re.search(r"[{}<>]", password):
            continue
        if set(password) <= {"*", "x", "X"}:
            continue
        start, end = match.span("password")
        return f"{text[match.start() : start]}***{text[end : match.end()]}"
    return None
