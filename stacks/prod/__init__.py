"""Production: replicated, quiet logs."""

from shop import Env, build_shop

from kubegen import Stack


def build() -> Stack:
    return build_shop(Env(name="prod", log_level="info", replicas=3))
