"""The website and the admin console: server-rendered pages, the cookie session, CSRF."""
