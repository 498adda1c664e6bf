"""Where pods may run: tolerations, node affinity, pod affinity and anti-affinity.

Validated as the API server validates them (``pkg/apis/core/validation``): a toleration's
operator, value, effect and ``tolerationSeconds`` must fit together; a node selector
requirement's values must fit its operator (``Gt``/``Lt`` take one integer); a pod affinity
term needs a topology key. Nothing here weakens isolation, so nothing needs a reason.

* :class:`Toleration` — ``Toleration("dedicated", value="batch", effect="NoSchedule")``;
  ``Toleration()`` tolerates every taint (what node agents do).
* :class:`NodeAffinity` of :class:`NodeTerm` s — ``NodeAffinity(require=[NodeTerm(labels=
  {"kubernetes.io/arch": ["amd64", "arm64"]})])``.
* :class:`PodAffinity` — a workload's ``near=[redis]`` (pod affinity) and ``avoid=["self"]``
  (anti-affinity: spread its own replicas over nodes), or ``PodAffinity(batch, required=True,
  topology="zones")`` for a hard rule.

See https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/ and
https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/; *Kubernetes in
Action* (2nd ed.), "Scheduling pods" (taints, tolerations, affinity).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypedDict, Unpack

from pydantic import Field, InstanceOf, field_validator, model_validator

from kubegen._builders.base import Builder
from kubegen._builders.workloads.base import Workload
from kubegen._values import (
    Duration,
    DurationLike,
    InvalidValue,
    LabelMap,
    check_dns_label,
    check_label_key,
    check_label_value,
    seconds,
)

Effect = Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]
NodeOperator = Literal["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]
TOPOLOGY_KEYS = {"nodes": "kubernetes.io/hostname", "zones": "topology.kubernetes.io/zone"}
_TOLERATION_KEYS = {"tolerationSeconds": "seconds"}


class TolerationArgs(TypedDict, total=False):
    value: str | None
    operator: Literal["Equal", "Exists"] | None
    effect: Effect | None
    seconds: DurationLike | None


class Toleration(Builder):
    """Lets pods be scheduled onto (and stay on) nodes with a matching taint.

    Args:
        key: the taint key; None (the default) with no value matches every taint.
        value: the taint value to match (operator ``Equal``); unset matches any value
            (operator ``Exists``).
        operator: ``Equal`` or ``Exists``; defaults to ``Equal`` when a value is given, else
            ``Exists``.
        effect: ``NoSchedule``, ``PreferNoSchedule`` or ``NoExecute``; None matches all effects.
        seconds: with ``NoExecute``, how long the pod stays after the taint appears
            (``tolerationSeconds``); unset: forever.

    See https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/.
    """

    key: str | None = None
    value: str | None = None
    operator: Literal["Equal", "Exists"] | None = None
    effect: Effect | None = None
    seconds: Duration | None = None

    def __init__(self, key: str | None = None, /, **data: Unpack[TolerationArgs]) -> None:
        super().__init__(key=key, **data)

    @classmethod
    def _validated(cls, fields: dict[str, Any]) -> Toleration:
        rest = dict(fields)
        return cls(rest.pop("key", None), **rest)

    @field_validator("key")
    @classmethod
    def _key(cls, key: str | None) -> str | None:
        return None if key is None else check_label_key(key)

    @field_validator("value")
    @classmethod
    def _value(cls, value: str | None) -> str | None:
        return None if value is None else check_label_value(value)

    @model_validator(mode="after")
    def _combination(self) -> Toleration:
        operator = self.resolved_operator
        if self.key is None and operator != "Exists":
            raise InvalidValue(
                "a toleration without a key matches every taint, so its operator must be "
                "Exists (and it takes no value)",
                fix="pass the taint's key, e.g. Toleration('dedicated', value='batch'), or drop "
                "value= to tolerate everything",
                field="operator", value=operator,
            )
        if operator == "Exists" and self.value is not None:
            raise InvalidValue(
                f"operator Exists matches any value, so value={self.value!r} contradicts it",
                fix="drop value= (any value), or drop operator= (Equal to that value)",
                field="value", value=self.value,
            )
        if self.seconds is not None and self.effect != "NoExecute":
            raise InvalidValue(
                "seconds (tolerationSeconds) applies only to the NoExecute effect",
                fix="pass effect='NoExecute', or drop seconds=",
                field="seconds", value=self.seconds,
            )
        return self

    @property
    def resolved_operator(self) -> Literal["Equal", "Exists"]:
        """The operator given, else ``Equal`` with a value and ``Exists`` without."""
        if self.operator is not None:
            return self.operator
        return "Equal" if self.value is not None else "Exists"

    @classmethod
    def of(cls, value: Toleration | Mapping[str, Any]) -> Toleration:
        """A Toleration, or one built from a toleration as Kubernetes writes it (a mapping)."""
        if isinstance(value, Toleration):
            return value
        fields = {_TOLERATION_KEYS.get(k, k): v for k, v in value.items()}
        key = fields.pop("key", None) or None  # "" (all keys) is kubegen's None
        if fields.get("operator") == "Equal" and "value" not in fields:
            fields["value"] = ""
        return cls(key, **fields)

    def render(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.key is not None:
            out["key"] = self.key
        out["operator"] = self.resolved_operator
        if self.value is not None:
            out["value"] = self.value
        if self.effect is not None:
            out["effect"] = self.effect
        if self.seconds is not None:
            out["tolerationSeconds"] = seconds(self.seconds)
        return out


class NodeRequirementArgs(TypedDict, total=False):
    values: Sequence[str | int]


class NodeRequirement(Builder):
    """One node label condition (a ``nodeSelectorRequirement``).

    Args:
        key: a node label key (``kubernetes.io/arch``).
        operator: ``In``, ``NotIn`` (values: at least one), ``Exists``, ``DoesNotExist`` (no
            values), ``Gt``, ``Lt`` (exactly one integer: the label's value is compared as a
            number).
        values: the values, rendered in the order given.
    """

    key: str
    operator: NodeOperator
    values: tuple[str, ...] = ()

    def __init__(self, key: str, operator: NodeOperator, /,
                 **data: Unpack[NodeRequirementArgs]) -> None:
        super().__init__(key=key, operator=operator, **data)

    @classmethod
    def _validated(cls, fields: dict[str, Any]) -> NodeRequirement:
        rest = dict(fields)
        return cls(rest.pop("key"), rest.pop("operator"), **rest)

    @field_validator("key")
    @classmethod
    def _key(cls, key: str) -> str:
        return check_label_key(key)

    @field_validator("values", mode="before")
    @classmethod
    def _numbers_as_text(cls, values: Any) -> Any:
        if isinstance(values, (list, tuple)):
            return tuple(str(v) if isinstance(v, int) and not isinstance(v, bool) else v
                         for v in values)
        return values

    @model_validator(mode="after")
    def _values_fit(self) -> NodeRequirement:
        op, values = self.operator, self.values
        if op in ("In", "NotIn") and not values:
            raise InvalidValue(f"operator {op} on {self.key!r} needs at least one value",
                               fix="pass values=[...], or use 'Exists'", field="values",
                               value=values)
        if op in ("Exists", "DoesNotExist") and values:
            raise InvalidValue(f"operator {op} on {self.key!r} takes no values",
                               fix="drop values=, or use 'In'", field="values", value=values)
        if op in ("Gt", "Lt") and (len(values) != 1 or not _is_integer(values[0])):
            raise InvalidValue(f"operator {op} on {self.key!r} takes exactly one integer value",
                               fix=f"e.g. NodeRequirement({self.key!r}, {op!r}, values=[4])",
                               field="values", value=values)
        if op in ("In", "NotIn"):
            for value in values:
                check_label_value(value)
        return self

    def render(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "operator": self.operator}
        if self.values:
            out["values"] = list(self.values)
        return out


def _is_integer(text: str) -> bool:
    try:
        int(text, 10)
    except ValueError:
        return False
    return -(2**63) <= int(text) < 2**63


class NodeTermArgs(TypedDict, total=False):
    labels: Mapping[str, list[str] | tuple[str, ...]]
    expressions: Sequence[NodeRequirement]
    nodes: list[str] | tuple[str, ...]
    weight: int | None


class NodeTerm(Builder):
    """Conditions a node must all meet (a ``nodeSelectorTerm``); terms of a list are ORed.

    Args:
        labels: shorthand: label key → allowed values (``In``), e.g.
            ``{"kubernetes.io/arch": ["amd64", "arm64"]}``.
        expressions: further :class:`NodeRequirement` s (``NotIn``, ``Exists``, ``Gt``…).
        nodes: node names (``matchFields`` on ``metadata.name``); rarely what you want.
        weight: for a preferred term, 1-100 (defaults to 100); required terms take none.
    """

    labels: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    expressions: tuple[NodeRequirement, ...] = ()
    nodes: tuple[str, ...] = ()
    weight: int | None = Field(default=None, ge=1, le=100)

    def __init__(self, /, **data: Unpack[NodeTermArgs]) -> None:
        super().__init__(**data)

    @model_validator(mode="after")
    def _something(self) -> NodeTerm:
        if not (self.labels or self.expressions or self.nodes):
            raise InvalidValue(
                "an empty node selector term matches no node",
                fix="pass labels={'kubernetes.io/arch': ['amd64']} or expressions=[...]",
            )
        for key, values in self.labels.items():
            NodeRequirement(key, "In", values=values)
        return self

    def render(self) -> dict[str, Any]:
        expressions = [{"key": k, "operator": "In", "values": list(v)}
                       for k, v in self.labels.items()]
        expressions += [e.render() for e in self.expressions]
        out: dict[str, Any] = {}
        if expressions:
            out["matchExpressions"] = expressions
        if self.nodes:
            out["matchFields"] = [{"key": "metadata.name", "operator": "In",
                                   "values": list(self.nodes)}]
        return out


class NodeAffinityArgs(TypedDict, total=False):
    require: Sequence[NodeTerm]
    prefer: Sequence[NodeTerm]


class NodeAffinity(Builder):
    """Which nodes the pods may (``require``) or would rather (``prefer``) run on.

    Args:
        require: the pod is only scheduled onto a node meeting one of these terms
            (``requiredDuringSchedulingIgnoredDuringExecution``).
        prefer: the scheduler favours nodes meeting these terms, by their ``weight``
            (``preferredDuringSchedulingIgnoredDuringExecution``).

    See https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#node-affinity.
    """

    require: tuple[NodeTerm, ...] = ()
    prefer: tuple[NodeTerm, ...] = ()

    def __init__(self, /, **data: Unpack[NodeAffinityArgs]) -> None:
        super().__init__(**data)

    @model_validator(mode="after")
    def _check(self) -> NodeAffinity:
        if not self.require and not self.prefer:
            raise InvalidValue("a NodeAffinity needs require= or prefer= terms",
                               fix="e.g. require=[NodeTerm(labels={'kubernetes.io/os': "
                               "['linux']})]")
        for index, term in enumerate(self.require):
            if term.weight is not None:
                raise InvalidValue("a required term has no weight", fix="drop weight=",
                                   field=f"require.{index}.weight", value=term.weight)
        return self

    def render(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.require:
            out["requiredDuringSchedulingIgnoredDuringExecution"] = {
                "nodeSelectorTerms": [t.render() for t in self.require]}
        if self.prefer:
            out["preferredDuringSchedulingIgnoredDuringExecution"] = [
                {"weight": t.weight or 100, "preference": t.render()} for t in self.prefer]
        return out


class PodAffinityArgs(TypedDict, total=False):
    topology: str
    required: bool
    weight: int | None
    namespaces: list[str] | tuple[str, ...]


class PodAffinity(Builder):
    """Pods to run near (``near=``) or away from (``avoid=``), per node or zone.

    Args:
        pods: whose pods: a workload of the stack, ``"self"`` (this workload's own pods:
            ``avoid=["self"]`` spreads the replicas), or pod labels.
        topology: ``nodes`` (default: the same node), ``zones``, or any node label key.
        required: a hard rule (``requiredDuringScheduling…``): pods stay Pending rather than
            break it. Defaults to False: a preference the scheduler weighs.
        weight: of a preference, 1-100 (defaults to 100).
        namespaces: with pod labels, the namespaces of those pods (defaults to the pod's own).

    See https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#inter-pod-affinity-and-anti-affinity.
    """

    pods: InstanceOf[Workload] | LabelMap | Literal["self"]
    topology: str = "nodes"
    required: bool = False
    weight: int | None = Field(default=None, ge=1, le=100)
    namespaces: tuple[str, ...] = ()

    def __init__(
        self, pods: Workload | Mapping[str, str] | Literal["self"], /,
        **data: Unpack[PodAffinityArgs],
    ) -> None:
        super().__init__(pods=pods, **data)

    @classmethod
    def _validated(cls, fields: dict[str, Any]) -> PodAffinity:
        rest = dict(fields)
        return cls(rest.pop("pods"), **rest)

    @field_validator("topology")
    @classmethod
    def _topology(cls, topology: str) -> str:
        return topology if topology in TOPOLOGY_KEYS else check_label_key(topology)

    @field_validator("namespaces")
    @classmethod
    def _namespaces(cls, namespaces: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(check_dns_label(n) for n in namespaces)

    @model_validator(mode="after")
    def _check(self) -> PodAffinity:
        if self.required and self.weight is not None:
            raise InvalidValue("a required rule has no weight", fix="drop weight= (or required=)",
                               field="weight", value=self.weight)
        if isinstance(self.pods, dict) and not self.pods:
            raise InvalidValue("empty pod labels would select every pod",
                               fix="name the pods' labels, or pass a workload",
                               field="pods", value=self.pods)
        if not isinstance(self.pods, dict) and self.namespaces:
            raise InvalidValue("namespaces= goes with pod labels; a workload knows its own",
                               fix="drop namespaces=", field="namespaces",
                               value=self.namespaces)
        return self

    @classmethod
    def of(cls, value: Any) -> Any:
        """A PodAffinity from the shorthand: a workload, ``"self"`` or pod labels."""
        if isinstance(value, Workload | Mapping) or value == "self":
            return cls(value)
        if isinstance(value, str):
            raise InvalidValue(
                f"{value!r} names no pods: an item is a workload, 'self', pod labels or a "
                "PodAffinity",
                fix="pass the workload itself (redis = stack.add(StatefulSet('redis', ...)); "
                "near=[redis]) or its pods' labels: [{'app.kubernetes.io/name': "
                f"{value!r}}}]",
                value=value,
            )
        return value

    def term(self, owner: Workload) -> dict[str, Any]:
        """The ``podAffinityTerm`` seen from ``owner``'s pods."""
        pods = self.pods
        namespaces = list(self.namespaces)
        if pods == "self":
            labels = owner.selector_labels()
        elif isinstance(pods, dict):
            labels = dict(pods)
        else:
            labels = pods.selector_labels()
            if pods.namespace is not None and pods.namespace != owner.namespace:
                namespaces = [pods.namespace]
        out: dict[str, Any] = {"labelSelector": {"matchLabels": dict(sorted(labels.items()))}}
        if namespaces:
            out["namespaces"] = namespaces
        out["topologyKey"] = TOPOLOGY_KEYS.get(self.topology, self.topology)
        return out


def pod_affinity(owner: Workload, rules: Sequence[PodAffinity]) -> dict[str, Any]:
    """``podAffinity``/``podAntiAffinity`` body for ``rules``."""
    out: dict[str, Any] = {}
    required = [r.term(owner) for r in rules if r.required]
    preferred = [{"weight": r.weight or 100, "podAffinityTerm": r.term(owner)}
                 for r in rules if not r.required]
    if required:
        out["requiredDuringSchedulingIgnoredDuringExecution"] = required
    if preferred:
        out["preferredDuringSchedulingIgnoredDuringExecution"] = preferred
    return out


def affinity(
    owner: Workload, node: NodeAffinity | None, near: Sequence[PodAffinity],
    avoid: Sequence[PodAffinity],
) -> dict[str, Any] | None:
    """The pod's ``affinity`` block, or None when nothing is asked for."""
    out: dict[str, Any] = {}
    if node is not None:
        out["nodeAffinity"] = node.render()
    if near:
        out["podAffinity"] = pod_affinity(owner, near)
    if avoid:
        out["podAntiAffinity"] = pod_affinity(owner, avoid)
    return out or None


__all__ = [
    "NodeAffinity",
    "NodeRequirement",
    "NodeTerm",
    "PodAffinity",
    "Toleration",
    "affinity",
]
