"""Shipped themes, icons and sample scenarios (installed as the ``ctxlab_resources`` package)."""
