"""The report the many-workers and several-hosts tests publish through a served worker."""

BODY = "The lead anyone may read.\n\n<!-- paywall -->\n\nThe analysis after the cut."


def subscribers_report(slug: str, collection: str) -> dict[str, str]:
    """The admin API's body for a published subscribers report in `collection`."""
    return {
        "slug": slug,
        "title": "Sahel drones",
        "summary": "Summary.",
        "body": BODY,
        "collection": collection,
        "access_level": "subscribers",
        "status": "published",
    }
