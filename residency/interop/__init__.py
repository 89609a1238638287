"""Interoperability with data-map-as-code formats (Fides manifests; docs/interop.md)."""
