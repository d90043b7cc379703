"""Coordinator commands; every route here is registered with ``coordinator=True``."""
