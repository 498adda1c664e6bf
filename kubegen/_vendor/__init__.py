"""Third-party software in a stack: vendored YAML, Helm output, typed CRDs, imports.

Nothing here is imported by ``import kubegen`` or by a stack that does not use it: the public
names (``Vendored``, ``register_crd``) load their module on first use.
"""
