"""RBAC builders: ServiceAccount, Role/ClusterRole, bindings, Rule, and grants to workloads.

``rules`` (Rule) · ``refs`` (RoleRef, ServiceAccountRef, User, Group) · ``accounts``
(ServiceAccount) · ``roles`` (Role, ClusterRole) · ``bindings`` (RoleBinding,
ClusterRoleBinding) · ``guards`` (least-privilege guards and opt-outs) · ``intents``
(``Workload.grant``) · ``derive`` (objects from grants) · ``validate`` (whole-stack checks) ·
``resolve`` (who may do what, from rendered manifests; ``kubegen access``) · ``catalog``
(verbs, built-in resources and their scope).
"""
