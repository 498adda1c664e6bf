"""Validated value types: the vocabulary every builder speaks (names, labels, ports, …).

Each type is a pydantic ``Annotated`` alias whose validator raises :class:`InvalidValue`, a
``ValueError`` that carries the fix, so builders report field, value, valid form and remedy.
"""

from kubegen._values.duration import Duration, DurationLike, parse_duration, seconds
from kubegen._values.image import Image, ImageRef, check_image
from kubegen._values.invalid import InvalidValue
from kubegen._values.names import (
    AnnotationMap,
    DNS1035Label,
    DNSLabel,
    DNSSubdomain,
    EnvName,
    LabelMap,
    check_annotations,
    check_data_key,
    check_dns1035_label,
    check_dns_label,
    check_dns_subdomain,
    check_env_name,
    check_label_key,
    check_label_value,
    check_labels,
    check_path_segment_name,
)
from kubegen._values.ports import PortName, PortNumber, Protocol, check_port_name, check_port_number
from kubegen._values.quantity import Quantity, QuantityLike, normalize_quantity, parse_quantity
from kubegen._values.reason import Reason, check_reason

__all__ = [
    "AnnotationMap",
    "DNS1035Label",
    "DNSLabel",
    "DNSSubdomain",
    "Duration",
    "DurationLike",
    "EnvName",
    "Image",
    "ImageRef",
    "InvalidValue",
    "LabelMap",
    "PortName",
    "PortNumber",
    "Protocol",
    "Quantity",
    "QuantityLike",
    "Reason",
    "check_annotations",
    "check_data_key",
    "check_dns1035_label",
    "check_dns_label",
    "check_dns_subdomain",
    "check_env_name",
    "check_image",
    "check_label_key",
    "check_label_value",
    "check_labels",
    "check_path_segment_name",
    "check_port_name",
    "check_port_number",
    "check_reason",
    "normalize_quantity",
    "parse_duration",
    "parse_quantity",
    "seconds",
]
