"""/dashboard/activity: what the merchant's customers did in the portal, filtered, summed up
over the last 30 days, and exported as CSV (filtered the same way)."""

from __future__ import annotations

from flask import Response, render_template, request, stream_with_context, url_for
from flask_login import login_required

from app.billing.currencies import major_units
from app.clock import as_utc
from app.merchant.activity_report import (
    EXPORT_LIMIT,
    KIND_LABELS,
    SUMMARY_DAYS,
    activity_page,
    exported_rows,
    last_30_days,
    what_happened,
)
from app.merchant.blueprint import bp, my_tenant
from app.merchant.csv_export import csv_lines
from app.merchant.limits import export_limits
from app.merchant.list_filters import read_filter
from app.portal.formatting import zone_label
from app.portal.models import ActivityKind
from tenants.context import tenant_context
from tenants.timezones import zone_of

CSV_HEADER = [
    "When", "Time zone", "Customer email", "What", "Details", "Amount", "Currency",
    "Link placement", "Cancellation reason", "Customer's words", "Stripe object",
]  # fmt: skip


@bp.get("/activity")
@login_required
def activity():
    tenant = my_tenant()
    zone = zone_of(tenant.timezone)
    filters = read_filter(request.args, kinds=ActivityKind.ALL)
    with tenant_context(tenant.id):  # the merchant's own rows, by both isolation layers
        rows, page = activity_page(filters, zone)
        summary = last_30_days(zone)
    return render_template(
        "merchant/activity.html",
        tenant=None,
        merchant_tenant=tenant,
        filters=filters,
        rows=rows,
        page=page,
        summary=summary,
        summary_days=SUMMARY_DAYS,
        local=lambda moment: as_utc(moment).astimezone(zone),
        zone_name=zone_label(tenant.timezone),
        kind_labels=KIND_LABELS,
        what_happened=what_happened,
        page_url=lambda number: url_for("merchant.activity", **filters.query_args(page=number)),
        export_url=url_for("merchant.activity_csv", **filters.query_args(page=1)),
        export_limit=EXPORT_LIMIT,
    ), 400 if filters.errors else 200


@bp.get("/activity.csv")
@login_required
@export_limits
def activity_csv():
    tenant = my_tenant()
    zone = zone_of(tenant.timezone)
    filters = read_filter(request.args, kinds=ActivityKind.ALL)
    if filters.errors:
        return activity()  # the page, saying what is wrong with the filter
    tenant_id = tenant.id

    def lines():
        # Streamed after the view returns (and the request committed): read in the tenant's
        # context again, in a transaction of its own that only reads.
        with tenant_context(tenant_id):
            yield from csv_lines(
                CSV_HEADER, (_cells(row, zone) for row in exported_rows(filters, zone))
            )

    return Response(
        stream_with_context(lines()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{tenant.subdomain}-activity.csv"'},
    )


def _cells(row, zone) -> list:
    return [
        as_utc(row.occurred_at).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
        zone.key,
        row.email,
        KIND_LABELS.get(row.kind, row.kind),
        what_happened(row),
        major_units(row.amount, row.currency) if row.amount is not None else "",
        (row.currency or "").upper(),
        row.source,
        row.reason,
        row.comment,
        row.object_id,
    ]
