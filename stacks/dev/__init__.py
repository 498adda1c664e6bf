"""Development: one replica of everything, verbose logs."""

from shop import Env, build_shop

from kubegen import Stack


def build() -> Stack:
    return build_shop(Env(name="dev", log_level="debug", replicas=1))
