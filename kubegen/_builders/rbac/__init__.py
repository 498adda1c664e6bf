"""RBAC builders: ServiceAccount, Role/ClusterRole, bindings, Rule, and grants to workloads."""
