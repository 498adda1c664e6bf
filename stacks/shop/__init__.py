"""The shop platform, shared by every environment: environments differ only in arguments."""

from __future__ import annotations

from dataclasses import dataclass

from kubegen import ConfigMap, Manifest, Stack


@dataclass(frozen=True)
class Env:
    """What differs between environments."""

    name: str
    log_level: str
    replicas: int


def build_shop(env: Env) -> Stack:
    stack = Stack("shop", namespace="shop", labels={"app.kubernetes.io/part-of": "shop"})
    stack.add(
        ConfigMap(
            "shop-settings",
            data={
                "ENVIRONMENT": env.name,
                "LOG_LEVEL": env.log_level,
                "FEATURE_CHECKOUT_V2": "on" if env.name == "dev" else "off",
            },
        )
    )
    stack.add(
        Manifest(
            {
                "apiVersion": "v1",
                "kind": "LimitRange",
                "metadata": {"name": "defaults"},
                "spec": {
                    "limits": [
                        {
                            "type": "Container",
                            "default": {"cpu": "500m", "memory": "256Mi"},
                            "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
                        }
                    ]
                },
            }
        )
    )
    return stack
