"""Typed builders: validated pydantic models that know how to become manifests."""
