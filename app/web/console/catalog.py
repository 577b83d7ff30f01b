"""Console pages for what is sold: tiers with their prices and collections, and collections."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request, Response

from app.billing import catalog
from app.billing.schemas import TierIn, TierOut, TierUpdate
from app.deps import SessionDep
from app.models import Collection
from app.reports import editing
from app.reports.admin_schemas import CollectionIn, CollectionUpdate
from app.reports.service import all_collections, collection_by_slug
from app.web.console.guard import AdminPage, ConsoleRoute, require_admin_page
from app.web.console.pages import FORM_ERRORS, Failure, back_to, console_page, failed, optional

router = APIRouter(dependencies=[Depends(require_admin_page)], route_class=ConsoleRoute)
Ref = Annotated[str, Path(min_length=1, max_length=120)]
Short = Annotated[str, Form(max_length=200)]
Description = Annotated[str, Form(max_length=5000)]
Column = Annotated[list[str], Form(max_length=10)]
# Rows shown for prices: a tier's own, and at least this many (an empty row is no price).
PRICE_ROWS = 2


@router.get("/catalog")
def catalog_page(request: Request, session: SessionDep, admin: AdminPage) -> Response:
    return console_page(
        request,
        "admin/catalog.html",
        admin,
        section="catalog",
        tiers=catalog.list_tiers(session),
        collections=all_collections(session),
    )


# Collections: POST /api/v1/admin/collections and PATCH /api/v1/admin/collections/{slug}.


def _collection_page(
    request: Request,
    session: SessionDep,
    admin: AdminPage,
    form: dict[str, str],
    collection: Collection | None = None,
    failure: Failure | None = None,
) -> Response:
    return console_page(
        request,
        "admin/collection_form.html",
        admin,
        failure=failure,
        section="catalog",
        form=form,
        collection=collection,
    )


@router.get("/catalog/collections/new")
def new_collection(request: Request, session: SessionDep, admin: AdminPage) -> Response:
    form = {"slug": "", "name": "", "description": ""}
    return _collection_page(request, session, admin, form)


@router.post("/catalog/collections/new")
def create_collection(
    request: Request,
    session: SessionDep,
    admin: AdminPage,
    slug: Short = "",
    name: Short = "",
    description: Description = "",
) -> Response:
    form = {"slug": slug, "name": name, "description": description}
    try:
        editing.create_collection(session, CollectionIn.model_validate(form), admin)
    except FORM_ERRORS as exc:
        return _collection_page(request, session, admin, form, failure=failed(session, exc))
    return back_to("/admin/catalog", "collection-saved")


@router.get("/catalog/collections/{slug}")
def edit_collection(request: Request, slug: Ref, session: SessionDep, admin: AdminPage) -> Response:
    found = collection_by_slug(session, slug)
    form = {"slug": found.slug, "name": found.name, "description": found.description}
    return _collection_page(request, session, admin, form, found)


@router.post("/catalog/collections/{slug}")
def update_collection(
    request: Request,
    slug: Ref,
    session: SessionDep,
    admin: AdminPage,
    new_slug: Annotated[str, Form(alias="slug", max_length=200)] = "",
    name: Short = "",
    description: Description = "",
) -> Response:
    form = {"slug": new_slug, "name": name, "description": description}
    try:
        data = CollectionUpdate.model_validate(form)
        editing.update_collection(session, slug, data, admin)
    except FORM_ERRORS as exc:
        failure = failed(session, exc)
        return _collection_page(
            request, session, admin, form, collection_by_slug(session, slug), failure
        )
    return back_to("/admin/catalog", "collection-saved")


# Tiers: POST /api/v1/admin/tiers and PATCH /api/v1/admin/tiers/{ref}.


class TierForm:
    """The tier form's fields, as sent; price rows are parallel columns, one row each."""

    def __init__(
        self,
        slug: Short = "",
        name: Short = "",
        description: Description = "",
        collections: Annotated[list[str], Form(max_length=500)] = [],  # noqa: B006
        all_collections: Annotated[str, Form(max_length=10)] = "",
        active: Annotated[str, Form(max_length=10)] = "",
        price_interval: Column = [],  # noqa: B006
        price_amount: Column = [],  # noqa: B006
        price_currency: Column = [],  # noqa: B006
        price_stripe_id: Column = [],  # noqa: B006
    ) -> None:
        self.slug = slug
        self.name = name
        self.description = description
        self.collections = collections
        self.all_collections = all_collections == "on"
        self.active = active == "on"
        rows = zip(price_interval, price_amount, price_currency, price_stripe_id, strict=False)
        self.prices = [
            {"interval": i, "amount": a, "currency": c, "stripe_price_id": s} for i, a, c, s in rows
        ]

    def fields(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "name": self.name,
            "description": self.description,
            "collections": self.collections,
            "all_collections": self.all_collections,
            "active": self.active,
            # A row without an amount is an empty row, not a price of nothing.
            "prices": [
                {**row, "stripe_price_id": optional(row["stripe_price_id"])}
                for row in self.prices
                if optional(row["amount"])
            ],
        }

    def price_rows(self) -> list[dict[str, Any]]:
        blank = {"interval": "month", "amount": "", "currency": "usd", "stripe_price_id": ""}
        shown = [row for row in self.prices if optional(row["amount"])]
        return shown + [blank] * max(1, PRICE_ROWS - len(shown))

    @classmethod
    def of(cls, tier: TierOut) -> TierForm:
        return cls(
            slug=tier.slug,
            name=tier.name,
            description=tier.description,
            collections=tier.collections,
            all_collections="on" if tier.all_collections else "",
            active="on" if tier.active else "",
            price_interval=[p.interval for p in tier.prices],
            price_amount=[str(p.amount) for p in tier.prices],
            price_currency=[p.currency for p in tier.prices],
            price_stripe_id=[p.stripe_price_id or "" for p in tier.prices],
        )


TierFormDep = Annotated[TierForm, Depends()]


def _tier_page(
    request: Request,
    session: SessionDep,
    admin: AdminPage,
    form: TierForm,
    tier: TierOut | None = None,
    failure: Failure | None = None,
) -> Response:
    return console_page(
        request,
        "admin/tier_form.html",
        admin,
        failure=failure,
        section="catalog",
        form=form,
        tier=tier,
        collections=all_collections(session),
    )


@router.get("/catalog/tiers/new")
def new_tier(request: Request, session: SessionDep, admin: AdminPage) -> Response:
    return _tier_page(request, session, admin, TierForm(active="on"))


@router.post("/catalog/tiers/new")
def create_tier(
    request: Request, session: SessionDep, admin: AdminPage, form: TierFormDep
) -> Response:
    try:
        catalog.create_tier(session, TierIn.model_validate(form.fields()), admin)
    except FORM_ERRORS as exc:
        return _tier_page(request, session, admin, form, failure=failed(session, exc))
    return back_to("/admin/catalog", "tier-saved")


@router.get("/catalog/tiers/{ref}")
def edit_tier(request: Request, ref: Ref, session: SessionDep, admin: AdminPage) -> Response:
    tier = catalog.tier_out(session, catalog.tier_by_ref(session, ref))
    return _tier_page(request, session, admin, TierForm.of(tier), tier)


@router.post("/catalog/tiers/{ref}")
def update_tier(
    request: Request, ref: Ref, session: SessionDep, admin: AdminPage, form: TierFormDep
) -> Response:
    """Every field of the form replaces the tier's (its prices and collections included)."""
    try:
        catalog.update_tier(session, ref, TierUpdate.model_validate(form.fields()), admin)
    except FORM_ERRORS as exc:
        failure = failed(session, exc)
        tier = catalog.tier_out(session, catalog.tier_by_ref(session, ref))
        return _tier_page(request, session, admin, form, tier, failure)
    return back_to("/admin/catalog", "tier-saved")
