"""The Stripe fixtures the billing fault tests share (tests/support/billing_faults.py):
made available here so no test module imports a fixture under its own name."""

from tests.support.billing_faults import (  # noqa: F401  (fixtures)
    billing_server,
    edge,
    emulator,
    module_edge,
    sold_tier,
)
from tests.support.stripe_fixtures import stripe_emulator  # noqa: F401  (fixture)
