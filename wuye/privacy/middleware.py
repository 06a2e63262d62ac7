"""The one hook that puts every Excel and PDF export into the audit log.

Console pages and API endpoints hand out workbooks and PDFs as responses of those
content types; this middleware records each successful one (who, when, which export
with its filters, the row count when the view set ``response.wuye_row_count``, IP).
A view that logs for itself (the resident's data copy) sets ``response.wuye_logged``."""

from urllib.parse import unquote

from wuye.core.xlsx import XLSX_TYPE

EXPORT_TYPES = (XLSX_TYPE, "application/pdf")
# Photos and ledger attachments are files being looked at, not exports of records.
NOT_EXPORTS = ("/photos/",)


def _summary(request) -> str:
    query = unquote(request.META.get("QUERY_STRING", ""))
    parts = [part for part in query.split("&") if part and not part.startswith("export=")]
    return request.path + (f" ?{'&'.join(parts)}" if parts else "")


class ExportAuditMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        content_type = response.get("Content-Type", "").split(";")[0].strip()
        if (
            response.status_code == 200
            and content_type in EXPORT_TYPES
            and not getattr(response, "wuye_logged", False)
            and not request.path.startswith(NOT_EXPORTS)
        ):
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                from wuye.accounts.actor import request_actor
                from wuye.privacy.models import Action
                from wuye.privacy.services import log_access

                name = response.get("Content-Disposition", "")
                name = name.split("filename=", 1)[-1].strip('"') if "filename=" in name else ""
                what = f"{name} {_summary(request)}".strip() if name else _summary(request)
                log_access(
                    actor=request_actor(request),
                    action=Action.EXPORT,
                    what=what,
                    row_count=getattr(response, "wuye_row_count", None),
                    request=request,
                )
        return response
