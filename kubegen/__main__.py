"""``python -m kubegen``: the same CLI as the ``kubegen`` console script."""

from kubegen._cli.commands import run

run()
