"""Coherence: what the cluster will enforce on rendered objects, checked before they are written.

Hardening rules (:mod:`kubegen._policy`) say what kubegen recommends; coherence says what a real
cluster will do with the objects: Pod Security Admission of the namespace each pod lands in
(:mod:`.pod_security`, :mod:`.admission`), rollouts that can finish (:mod:`.rollouts`). Both read
the stack's rendered manifests plus its facts (its Namespace objects, ``Stack.cluster``).
An opt-out waives a kubegen rule; it never waives what the cluster enforces.

This package imports nothing on its own: import the module you need.
"""
