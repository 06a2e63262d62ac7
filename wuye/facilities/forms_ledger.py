"""Console forms of the equipment ledger: filters, assets, status changes, certificates,
documents kept with an asset, and vendors.

Choices are limited to what the actor may use (communities they manage; buildings and
common areas of the chosen community; categories and vendors of their company); the
service checks the same again, and its ValidationErrors land on these forms.
"""

import datetime

from django import forms
from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from wuye.core.console import ConsoleModelForm
from wuye.core.labels import LAYOUTS
from wuye.estates.forms import raw_id
from wuye.estates.models import Building, CommonArea, Community
from wuye.facilities.models import Asset, AssetCategory, Certificate, Vendor
from wuye.facilities.selectors_ledger import due_certificates
from wuye.facilities.services import ASSET_EDITABLE, ATTACHMENT_TYPES, VENDOR_EDITABLE

CASCADE_CLASS = "cascade"
EXPIRING_DAYS = 30
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _label(model, field: str) -> str:
    return capfirst(model._meta.get_field(field).verbose_name)


def layout_choices():
    return [(name, f"{name} ({layout.per_page}/A4)") for name, layout in LAYOUTS.items()]


# --- the asset list ----------------------------------------------------------------------
class AssetFilterForm(forms.Form):
    q = forms.CharField(
        max_length=50,
        required=False,
        label=_("Search"),
        widget=forms.TextInput(attrs={"placeholder": _("code, name, brand, serial no.")}),
    )
    community = forms.ModelChoiceField(
        queryset=Community.objects.none(),
        required=False,
        label=capfirst(_("community")),
        empty_label=_("All communities"),
    )
    category = forms.ModelChoiceField(
        queryset=AssetCategory.objects.none(),
        required=False,
        label=capfirst(_("category")),
        empty_label=_("All categories"),
    )
    status = forms.ChoiceField(
        choices=[("", _("Any status")), *Asset.Status.choices],
        required=False,
        label=capfirst(_("status")),
    )
    importance = forms.ChoiceField(
        choices=[("", _("Any importance")), *Asset.Importance.choices],
        required=False,
        label=capfirst(_("importance")),
    )
    vendor = forms.ModelChoiceField(
        queryset=Vendor.objects.none(),
        required=False,
        label=capfirst(_("vendor")),
        empty_label=_("All vendors"),
    )
    certificate_due = forms.BooleanField(
        required=False, label=_("Certificate expired or expiring within 30 days")
    )
    after = forms.IntegerField(min_value=0, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = Community.objects.filter(
            id__in=sorted(actor.community_ids)
        ).order_by("name", "id")
        company_id = actor.staff.company_id if actor.staff else None
        self.fields["category"].queryset = AssetCategory.objects.filter(company_id=company_id)
        self.fields["vendor"].queryset = Vendor.objects.filter(company_id=company_id)

    def filter(self, assets):
        data = self.cleaned_data
        for field in ("community", "category", "vendor", "status", "importance"):
            if data.get(field):
                assets = assets.filter(**{field: data[field]})
        text = (data.get("q") or "").strip()
        if text:
            assets = assets.filter(
                Q(code__icontains=text)
                | Q(name__icontains=text)
                | Q(brand__icontains=text)
                | Q(serial_no__icontains=text)
            )
        if data.get("certificate_due"):
            due = due_certificates(today=timezone.localdate(), days=EXPIRING_DAYS)
            assets = assets.filter(Exists(due.filter(asset_id=OuterRef("pk"))))
        return assets


class IdsField(forms.Field):
    """Ticked row ids (``?ids=3&ids=7``); the view keeps those the actor may see."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        values = value or []
        if not all(str(v).isdigit() for v in values):
            raise forms.ValidationError(_("Tick assets from the list."))
        return sorted({int(v) for v in values})


class LabelsForm(forms.Form):
    """Which assets to print: the ticked ones, or every asset the filters match."""

    layout = forms.ChoiceField(choices=layout_choices, label=_("Label sheet"))
    ids = IdsField(required=False)
    all = forms.BooleanField(required=False)


# --- assets ---------------------------------------------------------------------------------
class AssetFieldsMixin:
    """Building and common-area options of one community; categories and vendors of
    its company."""

    def limit_choices(self, community_id: int | None, company_id: int) -> None:
        self.fields["category"].queryset = AssetCategory.objects.filter(company_id=company_id)
        self.fields["vendor"].queryset = Vendor.objects.filter(company_id=company_id).filter(
            Q(is_active=True) | Q(pk=self.instance.vendor_id or 0)
        )
        self.fields["building"].queryset = Building.objects.filter(community_id=community_id)
        self.fields["common_area"].queryset = CommonArea.objects.filter(community_id=community_id)
        if community_id is None:
            for field in ("building", "common_area"):
                self.fields[field].widget.choices = [("", _("Choose a community first"))]
        for field in ("installed_on", "warranty_until"):
            self.fields[field].widget = DATE
        self.fields["notes"].widget.attrs["rows"] = 3


class AssetCreateForm(AssetFieldsMixin, ConsoleModelForm):
    community = forms.ModelChoiceField(
        queryset=Community.objects.none(), label=capfirst(_("community"))
    )

    class Meta:
        model = Asset
        fields = ["community", *ASSET_EDITABLE]
        help_texts = {"code": _("Leave empty for the next code of the category, e.g. DT-0007.")}

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        communities = Community.objects.filter(id__in=sorted(actor.community_ids))
        self.fields["community"].queryset = communities.order_by("name", "id")
        self.fields["community"].widget.attrs["class"] = CASCADE_CLASS
        self.fields["code"].required = False
        community_id = raw_id(self, "community")
        if community_id not in actor.community_ids:
            community_id = None
        self.limit_choices(community_id, actor.staff.company_id if actor.staff else None)

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)


class AssetEditForm(AssetFieldsMixin, ConsoleModelForm):
    class Meta:
        model = Asset
        fields = list(ASSET_EDITABLE)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit_choices(self.instance.community_id, self.instance.company_id)


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=(), label=_("New status"))
    reason = forms.CharField(
        max_length=200,
        required=False,
        label=_("Reason"),
        help_text=_("Required unless the asset runs again."),
    )

    def __init__(self, *args, asset, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [
            (value, label) for value, label in Asset.Status.choices if value != asset.status
        ]


class CertificateForm(ConsoleModelForm):
    class Meta:
        model = Certificate
        fields = ["kind", "number", "issuer", "issued_on", "expires_on", "remind_days"]
        widgets = {"issued_on": DATE, "expires_on": DATE}


def _attachment_help() -> str:
    return _("PDF, JPEG, PNG, Word, Excel, DWG or text; at most %(limit)s MB.") % {
        "limit": settings.FACILITY_ATTACHMENT_MAX_MB
    }


class AttachmentForm(forms.Form):
    """A document for the asset; its type and size are checked by the service."""

    file = forms.FileField(
        label=_("File"),
        help_text=lazy(_attachment_help, str)(),
        widget=forms.FileInput(
            attrs={"accept": ",".join(f".{extension}" for extension in ATTACHMENT_TYPES)}
        ),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. maintenance contract 2026")}),
    )


# --- vendors --------------------------------------------------------------------------------
class VendorForm(ConsoleModelForm):
    class Meta:
        model = Vendor
        fields = list(VENDOR_EDITABLE)
        widgets = {"contract_start": DATE, "contract_end": DATE}


class VendorFilterForm(forms.Form):
    q = forms.CharField(
        max_length=50,
        required=False,
        label=_("Search"),
        widget=forms.TextInput(attrs={"placeholder": _("name, contact, contract no.")}),
    )
    after = forms.IntegerField(min_value=0, required=False, widget=forms.HiddenInput)

    def filter(self, vendors):
        text = (self.cleaned_data.get("q") or "").strip()
        if text:
            vendors = vendors.filter(
                Q(name__icontains=text)
                | Q(contact_name__icontains=text)
                | Q(contract_no__icontains=text)
            )
        return vendors


# --- certificates ---------------------------------------------------------------------------
class CertificateFilterForm(forms.Form):
    DUE_ALL, DUE_EXPIRING, DUE_EXPIRED = "", "expiring", "expired"

    kind = forms.ChoiceField(
        choices=[("", _("All kinds")), *Certificate.Kind.choices],
        required=False,
        label=_label(Certificate, "kind"),
    )
    community = forms.ModelChoiceField(
        queryset=Community.objects.none(),
        required=False,
        label=capfirst(_("community")),
        empty_label=_("All communities"),
    )
    due = forms.ChoiceField(
        choices=[
            (DUE_ALL, _("Current certificates")),
            (DUE_EXPIRING, _("Expired or expiring within N days")),
            (DUE_EXPIRED, _("Expired")),
        ],
        required=False,
        label=_("Show"),
    )
    days = forms.IntegerField(
        min_value=1,
        max_value=365,
        required=False,
        label=_("N days"),
        widget=forms.NumberInput(attrs={"placeholder": EXPIRING_DAYS}),
    )
    after = forms.RegexField(regex=r"^\d{4}-\d{2}-\d{2}_\d+$", required=False)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["after"].widget = forms.HiddenInput()
        self.fields["community"].queryset = Community.objects.filter(
            id__in=sorted(actor.community_ids)
        ).order_by("name", "id")

    def filter(self, certificates, *, today: datetime.date):
        data = self.cleaned_data
        if data.get("kind"):
            certificates = certificates.filter(kind=data["kind"])
        if data.get("community"):
            certificates = certificates.filter(asset__community=data["community"])
        if data.get("due") == self.DUE_EXPIRED:
            certificates = certificates.filter(expires_on__lt=today)
        elif data.get("due") == self.DUE_EXPIRING:
            days = data.get("days") or EXPIRING_DAYS
            certificates = certificates.filter(expires_on__lte=today + datetime.timedelta(days))
        return certificates
