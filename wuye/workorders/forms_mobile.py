"""Forms of the resident H5 and field-staff mobile pages. They only shape and check
input; the services decide and write."""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from wuye.core.images import clean_image
from wuye.estates.models import CommonArea
from wuye.people.models import mobile_validator
from wuye.workorders.models import Category, ComplaintParty, Feedback, RequestType
from wuye.workorders.services import MAX_PHOTOS

# Quick choices for the preferred visit time; free text is accepted too.
VISIT_TIME_SUGGESTIONS = (
    _("As soon as possible"),
    _("Today afternoon"),
    _("Tomorrow morning"),
    _("Tomorrow afternoon"),
    _("Weekend"),
    _("Weekday evening"),
)

# Reason chips of the rating form, stored by code in Feedback.reasons.
REASON_CHIPS = (
    ("on_time", _("Came on time")),
    ("fixed_well", _("Fixed it well")),
    ("friendly", _("Friendly")),
    ("clean", _("Left it clean")),
    ("slow", _("Slow to come")),
    ("not_fixed", _("Not fixed")),
    ("unfriendly", _("Unfriendly")),
    ("unclear_charges", _("Unclear charges")),
)

DIMENSION_LABELS = {
    "professionalism": _("Professionalism (专业性)"),
    "responsibility": _("Responsibility (责任心)"),
    "appearance": _("Appearance (仪表)"),
    "empathy": _("Empathy (人情味)"),
    "tangibles": _("Facilities (软硬件)"),
}

STARS = [(n, str(n)) for n in range(1, 6)]


class PhotosInput(forms.FileInput):
    """``<input type=file multiple accept="image/*">``. No ``capture``: with it, phones
    open the camera only and the photo library cannot be chosen."""

    allow_multiple_selected = True

    def __init__(self, attrs=None):
        super().__init__({"accept": "image/*", **(attrs or {})})


def _photos_help() -> str:
    return gettext("Up to %(n)d photos (JPEG, PNG or WebP).") % {"n": MAX_PHOTOS}


class PhotosField(forms.Field):
    """Up to nine photos. Each file is checked and re-encoded by
    ``wuye.core.images.clean_image`` here, so a bad file is a form error and nothing is
    stored; ``cleaned_data`` holds the ``CleanImage`` results, which the view stores
    with ``store_photo`` together with what they belong to."""

    widget = PhotosInput
    max_photos = MAX_PHOTOS

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("Photos"))
        kwargs.setdefault("help_text", lazy(_photos_help, str)())
        super().__init__(**kwargs)

    def to_python(self, data):
        if not data:
            return []
        files = data if isinstance(data, list | tuple) else [data]
        return [upload for upload in files if upload]

    @property
    def too_many_message(self) -> str:
        return gettext("Choose at most %(n)d photos.") % {"n": self.max_photos}

    def validate(self, value):
        super().validate(value)
        if len(value) > self.max_photos:
            raise ValidationError(self.too_many_message, code="too_many_photos")

    def clean(self, data, initial=None):
        uploads = super().clean(data)
        cleaned, errors = [], []
        for upload in uploads:
            try:
                cleaned.append(clean_image(upload, field="photos"))
            except ValidationError as exc:
                for message in exc.message_dict["photos"]:
                    errors.append(
                        gettext("%(name)s: %(error)s") % {"name": upload.name, "error": message}
                    )
        if errors:
            raise ValidationError(errors)
        return cleaned

    def bound_data(self, data, initial):
        return None  # a browser cannot be given files back


def resident_categories(actor, request_type):
    """Active categories of the resident's companies for one request type."""
    company_ids = actor.resident_houses().values("company_id")
    return Category.objects.filter(
        company_id__in=company_ids, request_type=request_type, is_active=True
    ).filter(Q(parent__isnull=True) | Q(parent__is_active=True))


def leaf_categories(actor, request_type):
    return resident_categories(actor, request_type).filter(children__isnull=True)


class ReportForm(forms.Form):
    """Step 3 of the report: where, what, when, who to call."""

    category = forms.ModelChoiceField(
        queryset=Category.objects.none(),
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("Choose one of the categories offered.")},
    )
    place = forms.ChoiceField(label=_("Where"))
    description = forms.CharField(
        label=_("What is the problem?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    preferred_time = forms.CharField(
        label=_("Preferred visit time"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"list": "visit-times"}),
    )
    may_enter = forms.BooleanField(label=_("Staff may enter when nobody is home"), required=False)
    contact_name = forms.CharField(label=_("Contact name"), max_length=50)
    contact_mobile = forms.CharField(
        label=_("Contact mobile"),
        max_length=11,
        validators=[mobile_validator],
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    photos = PhotosField()
    # Complaints only. Residents have no staff directory: a staff member is named in
    # words under "a department" and 客服主管 links the person.
    party_kind = forms.ChoiceField(
        label=_("Who is the complaint about?"),
        choices=[
            (kind.value, kind.label) for kind in ComplaintParty if kind != ComplaintParty.STAFF
        ],
        initial=ComplaintParty.OTHER,
        required=False,
    )
    party_name = forms.CharField(
        label=_("Name or house number (optional)"), max_length=100, required=False
    )
    demand = forms.CharField(
        label=_("What would you like us to do?"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, actor, request_type, **kwargs):
        super().__init__(*args, **kwargs)
        self.is_complaint = request_type == RequestType.COMPLAINT
        if not self.is_complaint:
            for name in ("party_kind", "party_name", "demand"):
                del self.fields[name]
        self.fields["category"].queryset = leaf_categories(actor, request_type)
        houses = list(
            actor.resident_houses().select_related("community", "building", "unit").order_by("id")
        )
        areas = list(
            CommonArea.objects.visible_to(actor)
            .filter(community_id__in=actor.resident_community_ids())
            .select_related("community")
            .order_by("community_id", "name", "id")
        )
        self._places = {f"h{h.id}": ("house", h) for h in houses}
        self._places.update({f"a{a.id}": ("common_area", a) for a in areas})
        choices = []
        if houses:
            choices.append((_("My home"), [(f"h{h.id}", h.address) for h in houses]))
        if areas:
            choices.append(
                (_("Common area"), [(f"a{a.id}", f"{a.community.name} {a.name}") for a in areas])
            )
        self.fields["place"].choices = choices
        if len(houses) == 1 and not self.is_bound:
            self.initial.setdefault("place", f"h{houses[0].id}")
        self.fields["place"].error_messages["invalid_choice"] = _(
            "Choose one of your houses or a common area of your community."
        )

    def clean(self):
        cleaned = super().clean()
        key, category = cleaned.get("place"), cleaned.get("category")
        if key and category:
            kind, place = self._places[key]
            community = place.community
            if community.company_id != category.company_id:
                self.add_error("place", _("This category is not offered at that place."))
            else:
                cleaned["house"] = place if kind == "house" else None
                cleaned["common_area"] = place if kind == "common_area" else None
        return cleaned

    def complaint(self) -> dict | None:
        if not self.is_complaint:
            return None
        data = self.cleaned_data
        return {
            "party_kind": data["party_kind"] or ComplaintParty.OTHER,
            "party_name": data["party_name"],
            "demand": data["demand"],
        }


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=200, widget=forms.Textarea(attrs={"rows": 2})
    )


class UrgeForm(forms.Form):
    note = forms.CharField(label=_("Message (optional)"), max_length=200, required=False)


class RateForm(forms.Form):
    overall = forms.TypedChoiceField(
        label=_("Overall"), choices=STARS, coerce=int, widget=forms.RadioSelect
    )
    reasons = forms.MultipleChoiceField(
        label=_("What stood out?"),
        choices=REASON_CHIPS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    comment = forms.CharField(
        label=_("Comment"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    photos = PhotosField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in Feedback.DIMENSIONS:
            self.fields[name] = forms.TypedChoiceField(
                label=DIMENSION_LABELS[name],
                choices=STARS,
                coerce=int,
                empty_value=None,
                required=False,
                widget=forms.RadioSelect,
            )

    def dimension_fields(self):
        return [self[name] for name in Feedback.DIMENSIONS]


class TransferForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("Hand over to"),
        queryset=None,
        error_messages={"invalid_choice": _("Choose a colleague of this community.")},
    )
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def __init__(self, *args, colleagues, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = colleagues


class CompleteForm(forms.Form):
    resolution = forms.CharField(
        label=_("What was done"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )
    labour_amount = forms.DecimalField(
        label=_("Labour (¥)"),
        min_value=Decimal("0"),
        max_value=Decimal("1000000"),
        max_digits=10,
        decimal_places=2,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
    )
    photos = PhotosField(label=_("Photos of the finished work"))

    def __init__(self, *args, paid, **kwargs):
        super().__init__(*args, **kwargs)
        if not paid:
            del self.fields["labour_amount"]


class MaterialForm(forms.Form):
    """One material row; a row left blank is skipped, a started row must be complete."""

    name = forms.CharField(label=_("Item"), max_length=100)
    quantity = forms.DecimalField(
        label=_("Quantity"),
        min_value=Decimal("0.01"),
        max_value=Decimal("100000"),
        max_digits=10,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
    )
    unit_price = forms.DecimalField(
        label=_("Unit price (¥)"),
        min_value=Decimal("0"),
        max_value=Decimal("1000000"),
        max_digits=10,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
    )


MaterialFormSet = forms.formset_factory(MaterialForm, extra=1, max_num=20, validate_max=True)
