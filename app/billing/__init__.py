"""Billing: tiers and prices, comps, Stripe checkout, webhooks and reconciliation."""
