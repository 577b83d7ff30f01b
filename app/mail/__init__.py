"""Email: templates rendered into the outbox table in the request's transaction, sent later."""
