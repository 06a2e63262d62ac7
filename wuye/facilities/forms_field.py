"""Forms of the field staff's round pages and of the QR landing page. They shape what a
phone sends; reading answers (units, ranges, required items and photos) is the
services' job (``wuye.facilities.services.parse_answer``, ``rounds.record_answers``),
so a rule lives in one place and the page shows the service's words."""

from decimal import Decimal

from django import forms
from django.db.models import Q
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from wuye.facilities.models import ItemType
from wuye.workorders.forms_mobile import PhotosField, PhotosInput, ReportForm
from wuye.workorders.models import Category, RequestType

COORDINATE = Decimal("0.000001")  # Visit.latitude / longitude keep six decimals


class ScanForm(forms.Form):
    """A check-in: the label's token (from the QR landing page) or, when the label is
    damaged, the token or the asset code typed in; the phone's position if allowed."""

    code = forms.CharField(
        label=_("Code on the label"),
        max_length=64,
        help_text=_("The asset code (e.g. SB-0001) or the code under the QR image."),
        widget=forms.TextInput(
            attrs={"autocapitalize": "characters", "autocomplete": "off", "spellcheck": "false"}
        ),
    )
    latitude = forms.CharField(required=False, widget=forms.HiddenInput)
    longitude = forms.CharField(required=False, widget=forms.HiddenInput)

    def _coordinate(self, name: str, limit: int) -> Decimal | None:
        """A position the browser could not give well is left out, not an error the
        worker could do nothing about."""
        try:
            value = Decimal(self.cleaned_data.get(name) or "x")
        except ArithmeticError:
            return None
        if not value.is_finite() or abs(value) > limit:
            return None
        return value.quantize(COORDINATE)

    def clean_latitude(self):
        return self._coordinate("latitude", 90)

    def clean_longitude(self):
        return self._coordinate("longitude", 180)


class CameraPhotosInput(PhotosInput):
    """Checklist photos are evidence from the spot: ``capture`` opens the camera."""

    def __init__(self, attrs=None):
        super().__init__({"capture": "environment", **(attrs or {})})


def _range_hint(item) -> str:
    """ "In MPa. Normal 0.3–0.6": the unit to type and what counts as normal."""
    low, high = item.min_value, item.max_value
    if low is not None and high is not None:
        normal = gettext("Normal %(low)s–%(high)s") % {"low": _plain(low), "high": _plain(high)}
    elif low is not None:
        normal = gettext("Normal at least %(low)s") % {"low": _plain(low)}
    elif high is not None:
        normal = gettext("Normal at most %(high)s") % {"high": _plain(high)}
    else:
        normal = ""
    unit = gettext("In %(unit)s.") % {"unit": item.unit} if item.unit else ""
    return " ".join(part for part in (unit, normal) if part)


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def answer_field(item) -> forms.Field | None:
    """The input for one checklist item; photo items have only the photo input."""
    if item.type == ItemType.OK_ABNORMAL:
        return forms.ChoiceField(
            choices=[
                ("normal", pgettext_lazy("checklist answer", "Normal")),
                ("abnormal", pgettext_lazy("checklist answer", "Abnormal")),
            ],
            widget=forms.RadioSelect(attrs={"class": "ok-abnormal"}),
        )
    if item.type in (ItemType.NUMBER, ItemType.METER):
        return forms.CharField(
            help_text=_range_hint(item),
            widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        )
    if item.type == ItemType.SINGLE:
        return forms.ChoiceField(choices=[(c, c) for c in item.choices], widget=forms.RadioSelect)
    if item.type == ItemType.MULTIPLE:
        return forms.MultipleChoiceField(
            choices=[(c, c) for c in item.choices], widget=forms.CheckboxSelectMultiple
        )
    if item.type == ItemType.TEXT:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), strip=True)
    return None


class ChecklistForm(forms.Form):
    """One field ``items[<id>]`` per item (named like the service's errors) and a
    camera input ``photos[<id>]``. Nothing is required here: the service says which
    answers and photos are missing, all at once."""

    def __init__(self, *args, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = list(items)
        for item in self.items:
            field = answer_field(item)
            if field is not None:
                field.required = False
                field.label = item.label
                self.fields[self.answer_name(item)] = field
            self.fields[self.photo_name(item)] = PhotosField(
                label=_("Photo"),
                widget=CameraPhotosInput({"data-previews": f"previews-{item.pk}"}),
                help_text="",
            )

    @staticmethod
    def answer_name(item) -> str:
        return f"items[{item.pk}]"

    @staticmethod
    def photo_name(item) -> str:
        return f"photos[{item.pk}]"

    def rows(self):
        """(item, answer field or None, photo field, photo needed?) in checklist order."""
        for item in self.items:
            name = self.answer_name(item)
            yield (
                item,
                self[name] if name in self.fields else None,
                self[self.photo_name(item)],
                item.photo_required or (item.type == ItemType.PHOTO and item.required),
            )

    def answers(self) -> dict:
        return {
            item.pk: self.cleaned_data.get(self.answer_name(item))
            for item in self.items
            if self.answer_name(item) in self.fields
        }

    def images(self) -> list:
        """Every cleaned image with its item: [(item id, CleanImage), …]."""
        return [
            (item.pk, image)
            for item in self.items
            for image in self.cleaned_data.get(self.photo_name(item)) or ()
        ]

    def add_service_errors(self, exc) -> None:
        """``items[<id>]`` errors land on the item's answer, or on its photo input when
        the item is a photo; anything else at the top of the form."""
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc.messages)
            return
        for key, errors in exc.message_dict.items():
            name = key if key in self.fields else key.replace("items[", "photos[", 1)
            self.add_error(name if name in self.fields else None, errors)


class RepairForm(forms.Form):
    """The one-tap 报修 of an abnormal answer that opens no order by rule."""

    category = forms.ModelChoiceField(
        label=_("Repair category"),
        queryset=Category.objects.none(),
        empty_label=_("Choose a category…"),
        error_messages={
            "required": _("Choose a repair category."),
            "invalid_choice": _("Choose one of the categories offered."),
        },
    )

    def __init__(self, *args, company_id, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = repair_categories(company_id)


def repair_categories(company_id):
    """Active repair categories of a company that can be filed (leaves)."""
    return (
        Category.objects.filter(
            company_id=company_id,
            request_type=RequestType.REPAIR,
            is_active=True,
            children__isnull=True,
        )
        .filter(Q(parent__isnull=True) | Q(parent__is_active=True))
        .select_related("parent")
        .order_by("sort_order", "id")
    )


class LabelReportForm(ReportForm):
    """A resident's fault report from a QR label: the resident's report form (the same
    checks and photos) with the place fixed to the labelled asset, so the resident
    only says what is wrong."""

    LEFT_OUT = ("place", "preferred_time", "may_enter")

    def __init__(self, *args, actor, company_id, **kwargs):
        super().__init__(*args, actor=actor, request_type=RequestType.REPAIR, **kwargs)
        for name in self.LEFT_OUT:
            del self.fields[name]
        field = self.fields["category"]
        field.queryset = field.queryset.filter(company_id=company_id).select_related("parent")
        field.label = _("What kind of fault?")
        field.empty_label = gettext("Choose…")
        field.widget = forms.Select()
        field.widget.choices = field.choices
