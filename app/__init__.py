"""Folio: a subscription publishing backend for research publishers."""
