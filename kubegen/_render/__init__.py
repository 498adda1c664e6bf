"""Render: manifests → file contents (deterministic YAML, file layout, kustomization.yaml)."""
