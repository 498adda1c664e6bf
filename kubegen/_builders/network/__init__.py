"""Network builders: NetworkPolicy, default-deny per namespace, policies from connections."""
