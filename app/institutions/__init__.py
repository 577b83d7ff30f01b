"""Institutional licences (organizations) and the subscription requests that lead to them."""
