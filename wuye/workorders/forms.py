"""Console forms for work orders: board filters, phone/front-desk intake, order actions.

Forms validate input and resolve ids to rows the actor may use; every write goes
through ``wuye.workorders.services`` and its ValidationErrors land back on the form
(``wuye.core.console.add_service_errors``). Selects never list a whole company: the
house is found by community → building → unit → number or by the caller's mobile,
sub-categories and common areas follow the chosen parent, and assignees are the
field staff of the order's community.
"""

import re

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from wuye.estates.forms import CASCADE_CLASS, raw_id
from wuye.estates.models import CommonArea, Community
from wuye.people.forms import HousePickerMixin
from wuye.people.models import mobile_validator
from wuye.staff.models import StaffMember
from wuye.workorders.forms_mobile import PhotosField
from wuye.workorders.models import (
    OPEN_STATUSES,
    Category,
    Channel,
    ComplaintParty,
    RequestType,
    RootCause,
    SlaState,
    Status,
    Urgency,
    WorkOrder,
)
from wuye.workorders.selectors import submitted_between

CURSOR = re.compile(r"^\d{1,9}-\d{1,18}$")
# Statuses an order leaves the board in (the service record keeps them).
DONE_STATUSES = [s for s in Status if s not in OPEN_STATUSES]
ALL_STATUSES = "all"


def _company_id(actor) -> int | None:
    return actor.staff.company_id if actor.staff else None


def _scope_staff(actor):
    """Staff of the actor's company working in one of the actor's communities."""
    links = StaffMember.communities.through.objects.filter(
        community_id__in=sorted(actor.community_ids)
    )
    return StaffMember.objects.filter(
        company_id=_company_id(actor), id__in=links.values("staffmember_id")
    )


class OrderFilterForm(forms.Form):
    """Filters of the dispatch board and of the service-record export.

    On the board an empty status means the open orders; in the export (``record``)
    it means every status.
    """

    q = forms.CharField(
        label=capfirst(_("keyword")),
        max_length=50,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Order number or description")}),
    )
    community = forms.ModelChoiceField(
        queryset=Community.objects.none(),
        required=False,
        label=capfirst(_("community")),
        empty_label=_("All communities"),
    )
    request_type = forms.ChoiceField(
        choices=[("", _("All types")), *RequestType.choices],
        required=False,
        label=capfirst(_("request type")),
    )
    category = forms.ModelChoiceField(
        queryset=Category.objects.none(),
        required=False,
        label=capfirst(_("category")),
        empty_label=_("All categories"),
    )
    status = forms.ChoiceField(required=False, label=capfirst(_("status")))
    urgency = forms.ChoiceField(
        choices=[("", _("Any urgency")), *Urgency.choices],
        required=False,
        label=capfirst(_("urgency")),
    )
    assignee = forms.ModelChoiceField(
        queryset=StaffMember.objects.none(), required=False, label=capfirst(_("assignee"))
    )
    sla_state = forms.ChoiceField(
        choices=[("", _("Any SLA state")), *SlaState.choices],
        required=False,
        label=capfirst(_("SLA state")),
    )
    date_from = forms.DateField(
        required=False,
        label=capfirst(_("submitted from")),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = forms.DateField(
        required=False,
        label=capfirst(_("submitted until")),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    after = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, actor, record: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.record = record
        self.fields["community"].queryset = Community.objects.filter(
            id__in=sorted(actor.community_ids)
        ).order_by("name", "id")
        self.fields["category"].queryset = Category.objects.filter(
            company_id=_company_id(actor)
        ).select_related("parent")
        choices = (
            [("", _("All statuses"))]
            if record
            else [
                ("", _("Open orders")),
                (ALL_STATUSES, _("All statuses")),
            ]
        )
        self.fields["status"].choices = [
            *choices,
            (_("Open"), [(s.value, s.label) for s in Status if s in OPEN_STATUSES]),
            (_("Finished"), [(s.value, s.label) for s in DONE_STATUSES]),
        ]
        staff = _scope_staff(actor)
        field = self.fields["assignee"]
        field.queryset = staff
        community_id = raw_id(self, "community")
        if community_id:
            options = staff.filter(communities__id=community_id).order_by("name", "id")
            field.widget.choices = [("", _("Anyone")), *options.values_list("id", "name")]
        else:
            field.widget.choices = [("", _("Choose a community first"))]

    def clean_after(self):
        after = self.cleaned_data["after"].strip()
        if after and not CURSOR.match(after):
            raise forms.ValidationError(_("This page link is not valid."))
        return after

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date cannot be before the start date."))
        return cleaned

    def filter(self, queryset):
        data = self.cleaned_data
        status = data.get("status")
        if status == ALL_STATUSES or (not status and self.record):
            pass
        elif status:
            queryset = queryset.filter(status=status)
        else:
            queryset = queryset.filter(status__in=OPEN_STATUSES)
        if data.get("community"):
            queryset = queryset.filter(community=data["community"])
        if data.get("request_type"):
            queryset = queryset.filter(request_type=data["request_type"])
        if data.get("category"):
            category = data["category"]
            queryset = queryset.filter(
                category_id__in=[category.id, *category.children.values_list("id", flat=True)]
            )
        if data.get("urgency"):
            queryset = queryset.filter(urgency=data["urgency"])
        if data.get("assignee"):
            queryset = queryset.filter(assignee=data["assignee"])
        if data.get("sla_state"):
            queryset = queryset.filter(sla_state=data["sla_state"])
        queryset = submitted_between(queryset, data.get("date_from"), data.get("date_to"))
        keyword = (data.get("q") or "").strip()
        if keyword.isdigit():
            queryset = queryset.filter(number__startswith=keyword)
        elif keyword:
            queryset = queryset.filter(description__contains=keyword)
        return queryset


# --- intake -------------------------------------------------------------------------
class IntakeForm(HousePickerMixin, forms.Form):
    """客服 records a phone or front-desk request for a house or a common area."""

    PLACE_HOUSE, PLACE_AREA = "house", "common_area"

    channel = forms.ChoiceField(
        label=capfirst(_("channel")),
        choices=[(Channel.PHONE, Channel.PHONE.label), (Channel.WALK_IN, Channel.WALK_IN.label)],
        initial=Channel.PHONE,
        widget=forms.RadioSelect,
    )
    place = forms.ChoiceField(
        label=capfirst(_("place")),
        choices=[(PLACE_HOUSE, _("A house")), (PLACE_AREA, _("A common area"))],
        initial=PLACE_HOUSE,
        widget=forms.RadioSelect(attrs={"class": CASCADE_CLASS}),
    )
    common_area = forms.ModelChoiceField(
        queryset=CommonArea.objects.none(), required=False, label=capfirst(_("common area"))
    )
    category_group = forms.ModelChoiceField(
        queryset=Category.objects.none(), label=capfirst(_("category"))
    )
    category = forms.ModelChoiceField(
        queryset=Category.objects.none(), label=capfirst(_("sub-category"))
    )
    urgency = forms.ChoiceField(
        label=capfirst(_("urgency")),
        choices=[("", _("The category's default")), *Urgency.choices],
        required=False,
    )
    description = forms.CharField(
        label=capfirst(_("description")),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    preferred_time = forms.CharField(
        label=capfirst(_("preferred visit time")),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. weekdays after 18:00")}),
    )
    may_enter = forms.BooleanField(
        label=capfirst(_("may enter when nobody is home")), required=False
    )
    contact_name = forms.CharField(label=capfirst(_("contact name")), max_length=50)
    contact_mobile = forms.CharField(
        label=capfirst(_("contact mobile")), max_length=11, validators=[mobile_validator]
    )
    # Complaints only (shown once a complaint category is chosen).
    party_kind = forms.ChoiceField(
        label=capfirst(_("complained about")),
        choices=ComplaintParty.choices,
        initial=ComplaintParty.OTHER,
        required=False,
    )
    party_staff = forms.ModelChoiceField(
        queryset=StaffMember.objects.none(),
        required=False,
        label=capfirst(_("staff member complained about")),
    )
    party_name = forms.CharField(
        label=capfirst(_("party")),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Department, neighbour's house or vendor")}),
    )
    demand = forms.CharField(
        label=capfirst(_("demand (诉求)")),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    is_dispute = forms.BooleanField(label=capfirst(_("dispute (纠纷)")), required=False)
    photos = PhotosField()

    COMPLAINT_FIELDS = ("party_kind", "party_staff", "party_name", "demand", "is_dispute")

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_picker_fields(actor, required=False)
        company_id = _company_id(actor)
        categories = Category.objects.filter(company_id=company_id, is_active=True)
        groups = self.fields["category_group"]
        groups.queryset = categories.filter(parent__isnull=True)
        groups.widget.attrs["class"] = CASCADE_CLASS
        leaves = self.fields["category"]
        leaves.queryset = categories.filter(parent__isnull=False)
        group_id = raw_id(self, "category_group")
        if group_id:
            options = leaves.queryset.filter(parent_id=group_id).values_list("id", "name")
            leaves.widget.choices = [("", "---------"), *options]
        else:
            leaves.widget.choices = [("", _("Choose a category first"))]
        areas = self.fields["common_area"]
        areas.queryset = CommonArea.objects.visible_to(actor).filter(
            community_id__in=sorted(actor.community_ids)
        )
        community_id = raw_id(self, "community")
        if community_id:
            options = areas.queryset.filter(community_id=community_id).select_related("building")
            areas.widget.choices = [("", "---------"), *((a.id, str(a)) for a in options)]
        else:
            areas.widget.choices = [("", _("Choose a community first"))]
        self.is_complaint = bool(
            group_id
            and groups.queryset.filter(pk=group_id, request_type=RequestType.COMPLAINT).exists()
        )
        party_staff = self.fields["party_staff"]
        party_staff.queryset = _scope_staff(actor)
        if community_id:
            options = party_staff.queryset.filter(communities__id=community_id).order_by("name")
            party_staff.widget.choices = [("", "---------"), *options.values_list("id", "name")]
        else:
            party_staff.widget.choices = [("", _("Choose a community first"))]
        self.order_fields(
            [
                "channel",
                "place",
                "community",
                "building",
                "unit",
                "number",
                "common_area",
                "category_group",
                "category",
                "urgency",
                "description",
                "photos",
                "preferred_time",
                "may_enter",
                "contact_name",
                "contact_mobile",
            ]
        )

    @property
    def wants_house(self) -> bool:
        value = self["place"].value()
        return value != self.PLACE_AREA

    def clean(self):
        cleaned = super().clean()
        group, category = cleaned.get("category_group"), cleaned.get("category")
        if group and category and category.parent_id != group.id:
            self.add_error("category", _("Choose a sub-category of the chosen category."))
        cleaned["house"] = cleaned["area"] = None
        if not cleaned.get("community") and not self.has_error("community"):
            self.add_error("community", forms.Field.default_error_messages["required"])
        if cleaned.get("place") == self.PLACE_AREA:
            area, community = cleaned.get("common_area"), cleaned.get("community")
            if area is None:
                if not self.has_error("common_area"):
                    self.add_error("common_area", _("Choose the common area."))
            elif community and area.community_id != community.id:
                self.add_error("common_area", _("The common area is not in this community."))
            else:
                cleaned["area"] = area
        else:
            for field in ("building", "number"):
                if not cleaned.get(field) and not self.has_error(field):
                    self.add_error(field, forms.Field.default_error_messages["required"])
            cleaned["house"] = self.resolve_house(cleaned)
        return cleaned

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        complaint = None
        if data["category"].request_type == RequestType.COMPLAINT:
            complaint = {field: data[field] for field in self.COMPLAINT_FIELDS}
        return {
            "complaint": complaint,
            "category": data["category"],
            "description": data["description"],
            "house": data["house"],
            "common_area": data["area"],
            "channel": data["channel"],
            "urgency": data["urgency"] or None,
            "contact_name": data["contact_name"],
            "contact_mobile": data["contact_mobile"],
            "preferred_time": data["preferred_time"],
            "may_enter": data["may_enter"],
        }


class MobileLookupForm(forms.Form):
    mobile = forms.CharField(max_length=11, validators=[mobile_validator])


# --- actions on one order -----------------------------------------------------------
def _reason_field(label=None):
    return forms.CharField(
        label=label or capfirst(_("reason")),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class EmptyForm(forms.Form):
    pass


class AssigneeField(forms.TypedChoiceField):
    """A choice among the order's candidates, shown with their open load."""

    def __init__(self, **kwargs):
        super().__init__(coerce=int, label=capfirst(_("assignee")), **kwargs)


def assignee_label(member) -> str:
    parts = [member.name, _("%(n)d open") % {"n": member.load}]
    if getattr(member, "has_trade", False):
        parts.append(_("trade ✓"))
    if member.status != StaffMember.Status.ON_DUTY:
        parts.append(str(member.get_status_display()))
    return " · ".join(str(part) for part in parts)


class _AssignForm(forms.Form):
    def __init__(self, *args, members=(), exclude_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.members = {m.id: m for m in members if m.id != exclude_id}
        self.fields["assignee"].choices = [
            ("", "---------"),
            *((m.id, assignee_label(m)) for m in self.members.values()),
        ]

    def clean_assignee(self):
        return self.members[self.cleaned_data["assignee"]]


class DispatchForm(_AssignForm):
    assignee = AssigneeField()
    note = forms.CharField(label=capfirst(_("note")), max_length=200, required=False)


class TransferForm(_AssignForm):
    assignee = AssigneeField()
    reason = _reason_field()


class ReasonForm(forms.Form):
    reason = _reason_field()


class OptionalReasonForm(forms.Form):
    reason = forms.CharField(label=capfirst(_("reason")), max_length=200, required=False)


class RejectForm(forms.Form):
    reason = _reason_field()
    duplicate_of = forms.CharField(
        label=capfirst(_("duplicate of order")),
        max_length=24,
        required=False,
        help_text=_("Leave empty to reject; give an order number to mark it as a duplicate."),
    )

    def __init__(self, *args, actor, order, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor, self.order = actor, order

    def clean_duplicate_of(self):
        number = self.cleaned_data["duplicate_of"].strip()
        if not number:
            return None
        original = (
            WorkOrder.objects.visible_to(self.actor)
            .filter(number=number, company_id=self.order.company_id)
            .exclude(pk=self.order.pk)
            .first()
        )
        if original is None:
            raise forms.ValidationError(_("There is no other order with this number."))
        return original


def _root_cause_field(*, required: bool = True) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=capfirst(_("root cause")),
        choices=[("", _("Choose the root cause")), *RootCause.choices],
        required=required,
    )


def _root_cause_note_field() -> forms.CharField:
    return forms.CharField(label=capfirst(_("root-cause notes")), max_length=500, required=False)


def _complaints_only(form, order) -> None:
    """Root-cause fields belong to complaints; other orders' forms drop them."""
    if order is None or order.request_type != RequestType.COMPLAINT:
        del form.fields["root_cause"], form.fields["root_cause_note"]


class ReturnVisitForm(forms.Form):
    satisfied = forms.TypedChoiceField(
        label=capfirst(_("result")),
        choices=[("yes", _("Satisfied")), ("no", _("Unsatisfied"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=capfirst(_("note")),
        max_length=200,
        required=False,
        help_text=_("Unsatisfied reopens the order with raised priority."),
    )
    root_cause = _root_cause_field(required=False)
    root_cause_note = _root_cause_note_field()

    def __init__(self, *args, order=None, **kwargs):
        super().__init__(*args, **kwargs)
        _complaints_only(self, order)


class RootCauseForm(forms.Form):
    root_cause = _root_cause_field()
    root_cause_note = _root_cause_note_field()


class ResolveForm(forms.Form):
    """办结 at the desk; complaints also give their root cause."""

    resolution = forms.CharField(
        label=capfirst(_("how it was resolved")),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    root_cause = _root_cause_field()
    root_cause_note = _root_cause_note_field()

    def __init__(self, *args, order=None, **kwargs):
        super().__init__(*args, **kwargs)
        _complaints_only(self, order)


class ReplyForm(forms.Form):
    reply = forms.CharField(
        label=capfirst(_("reply to the resident")),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
