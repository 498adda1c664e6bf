"""The ``kubegen`` command line (typer). Only this package imports typer."""
