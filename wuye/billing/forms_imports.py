"""Upload forms of the fees console's workbook imports (opening balances, meter
readings). The form checks what a file must be before anyone opens it (an .xlsx file,
not too large); its rows are checked by ``wuye.billing.imports`` and
``reading_imports``, whose errors the page lists."""

import os

from django import forms
from django.conf import settings
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from wuye.estates.models import Community

XLSX_ACCEPT = ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def your_communities(actor):
    """The communities the actor works in (company-wide roles: all of the company's)."""
    return Community.objects.filter(id__in=sorted(actor.community_ids)).order_by("name", "id")


class ImportForm(forms.Form):
    community = forms.ModelChoiceField(
        queryset=Community.objects.none(), label=capfirst(_("community")), empty_label=None
    )
    file = forms.FileField(
        label=_("Excel file (.xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": XLSX_ACCEPT}),
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = your_communities(actor)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if os.path.splitext(upload.name or "")[1].lower() != ".xlsx":
            raise forms.ValidationError(_("Upload an Excel .xlsx file."))
        limit = settings.IMPORT_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is larger than %(limit)s MB.") % {"limit": f"{limit / (1024 * 1024):g}"}
            )
        return upload


class TemplateForm(forms.Form):
    """Which community's metered houses the reading template lists (GET)."""

    community = forms.ModelChoiceField(
        queryset=Community.objects.none(),
        label=capfirst(_("community")),
        required=False,
        empty_label=_("No houses (headers only)"),
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = your_communities(actor)
