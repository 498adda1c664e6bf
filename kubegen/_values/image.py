"""Container image references: ``[registry/]repository[:tag][@sha256:<64 hex>]``.

Grammar from distribution/reference. kubegen requires a tag or a digest, refuses the ``latest``
tag (it moves, so two renders could run different code), and supports digest pinning: an image
with ``@sha256:…`` runs exactly the bytes that were reviewed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator

from kubegen._values.invalid import InvalidValue

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN_PART = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)"
_DOMAIN = rf"(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_REPO_RE = re.compile(rf"(?:(?P<domain>{_DOMAIN})/)?(?P<path>{_COMPONENT}(?:/{_COMPONENT})*)\Z")
_TAG_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\Z")  # ASCII, as in distribution
_DIGEST_RE = re.compile(r"sha256:[a-f0-9]{64}\Z")
_VALID_FORM = (
    "'registry/repository:tag', optionally pinned as 'registry/repository:tag@sha256:<64 hex>'"
)


@dataclass(frozen=True, slots=True)
class ImageRef:
    """A parsed image reference. ``str(ref)`` gives the canonical text back.

    Attributes:
        repository: ``registry/path`` as written (``ghcr.io/acme/api``, ``postgres``).
        tag: the tag, or None when only a digest is given.
        digest: ``sha256:<64 hex>`` or None.
    """

    repository: str
    tag: str | None
    digest: str | None

    @classmethod
    def parse(cls, text: str) -> ImageRef:
        """Parse and check ``text``; raises :class:`InvalidValue` naming the valid form.

        Valid references are remembered (see :data:`_PARSED`): rendering asks for a
        container's parsed image several times, and stacks reuse a few images many times.
        """
        found = _PARSED.get(text) if type(text) is str else None
        if found is not None and cls is ImageRef:
            return found
        ref = cls._parse(text)
        if type(text) is str and cls is ImageRef:
            if len(_PARSED) >= _PARSED_MAX:
                _PARSED.clear()
            _PARSED[text] = ref
        return ref

    @classmethod
    def _parse(cls, text: str) -> ImageRef:
        name, at, digest = text.partition("@")
        if at and not _DIGEST_RE.match(digest):
            raise InvalidValue(
                f"image {text!r} has an invalid digest {digest!r}: expected 'sha256:' and 64 "
                "lowercase hex digits",
                fix="copy the digest from `docker buildx imagetools inspect <image>`",
            )
        repo, tag = name, None
        slash, colon = name.rfind("/"), name.rfind(":")
        if colon > slash:
            repo, tag = name[:colon], name[colon + 1 :]
        if not _REPO_RE.match(repo) or (tag is not None and not _TAG_RE.match(tag)):
            raise InvalidValue(
                f"image {text!r} is not a valid reference: expected {_VALID_FORM} "
                "(lowercase repository path)",
                fix="write e.g. image='ghcr.io/acme/api:1.2.3'",
            )
        ref = cls(repo, tag, digest or None)
        ref._check_pinned_version(text)
        return ref

    def _check_pinned_version(self, text: str) -> None:
        if self.tag is None and self.digest is None:
            raise InvalidValue(
                f"image {text!r} has no tag: it would run whatever 'latest' points to; "
                f"expected {_VALID_FORM}",
                fix=f"name a version, e.g. '{self.repository}:1.2.3' (or pin '@sha256:…')",
            )
        if self.tag == "latest":
            raise InvalidValue(
                f"image {text!r} uses the 'latest' tag, which moves between renders; "
                f"expected {_VALID_FORM}",
                fix=f"name a version, e.g. '{self.repository}:1.2.3' (or pin '@sha256:…')",
            )

    @property
    def pinned(self) -> bool:
        """True when a digest fixes the exact image bytes."""
        return self.digest is not None

    def with_digest(self, digest: str) -> ImageRef:
        """The same image pinned to ``digest`` (``sha256:<64 hex>``), keeping the tag."""
        text = f"{self.repository}{':' + self.tag if self.tag else ''}@{digest}"
        return ImageRef.parse(text)

    def __str__(self) -> str:
        tag = f":{self.tag}" if self.tag else ""
        digest = f"@{self.digest}" if self.digest else ""
        return f"{self.repository}{tag}{digest}"


#: text -> ImageRef of every valid reference parsed (immutable, so shared); cleared when full.
_PARSED: dict[str, ImageRef] = {}
_PARSED_MAX = 4096


def check_image(text: str) -> str:
    """Validate an image reference and return it unchanged."""
    return str(ImageRef.parse(text))


Image = Annotated[str, AfterValidator(check_image)]
"""An image reference with a tag (not ``latest``) and/or a ``sha256`` digest."""
