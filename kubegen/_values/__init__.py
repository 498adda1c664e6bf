"""Validated value types: the vocabulary every builder speaks (names, labels, …).

Each type is a pydantic ``Annotated`` alias whose validator raises :class:`InvalidValue`, a
``ValueError`` that carries the fix, so builders report field, value, valid form and remedy.
"""

from kubegen._values.invalid import InvalidValue
from kubegen._values.names import (
    AnnotationMap,
    DNSLabel,
    DNSSubdomain,
    LabelMap,
    check_annotations,
    check_dns_label,
    check_dns_subdomain,
    check_label_key,
    check_label_value,
    check_labels,
)

__all__ = [
    "AnnotationMap",
    "DNSLabel",
    "DNSSubdomain",
    "InvalidValue",
    "LabelMap",
    "check_annotations",
    "check_dns_label",
    "check_dns_subdomain",
    "check_label_key",
    "check_label_value",
    "check_labels",
]
