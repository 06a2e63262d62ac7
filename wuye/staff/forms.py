"""Console forms for staff, roles, shifts and the roster."""

import datetime

from django import forms
from django.contrib.auth import password_validation
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from wuye.accounts.models import User
from wuye.core.console import ConsoleModelForm
from wuye.estates.models import Community
from wuye.people.models import mobile_validator
from wuye.staff.models import Role, Shift, StaffMember, Trade
from wuye.staff.policy import PERMISSIONS


def _label(model, field: str):
    return capfirst(model._meta.get_field(field).verbose_name)


def week_start(day: datetime.date) -> datetime.date:
    """The Monday of ``day``'s week."""
    return day - datetime.timedelta(days=day.weekday())


class MemberFilterForm(forms.Form):
    community = forms.ModelChoiceField(
        queryset=Community.objects.none(),
        required=False,
        label=capfirst(_("community")),
        empty_label=_("All communities"),
    )
    role = forms.ModelChoiceField(
        queryset=Role.objects.none(),
        required=False,
        label=capfirst(_("role")),
        empty_label=_("All roles"),
    )
    trade = forms.ModelChoiceField(
        queryset=Trade.objects.none(),
        required=False,
        label=capfirst(_("trade")),
        empty_label=_("All trades"),
    )
    status = forms.ChoiceField(
        choices=[("", _("Any status")), *StaffMember.Status.choices],
        required=False,
        label=capfirst(_("status")),
    )
    after = forms.IntegerField(min_value=0, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = Community.objects.visible_to(actor)
        self.fields["role"].queryset = Role.objects.visible_to(actor)
        self.fields["trade"].queryset = Trade.objects.visible_to(actor)

    def filter(self, queryset):
        data = self.cleaned_data
        if data.get("community"):
            queryset = queryset.filter(communities=data["community"])
        if data.get("role"):
            queryset = queryset.filter(roles=data["role"])
        if data.get("trade"):
            queryset = queryset.filter(trades=data["trade"])
        if data.get("status"):
            queryset = queryset.filter(status=data["status"])
        return queryset


class MemberCreateForm(forms.Form):
    name = forms.CharField(label=_label(StaffMember, "name"), max_length=50)
    employee_no = forms.CharField(label=_label(StaffMember, "employee_no"), max_length=32)
    mobile = forms.CharField(
        label=_label(StaffMember, "mobile"),
        max_length=11,
        required=False,
        validators=[mobile_validator],
    )
    username = forms.RegexField(
        label=capfirst(_("login name")),
        max_length=150,
        regex=r"^[\w.@+-]+$",
        error_messages={"invalid": _("Use letters, digits and @ . + - _ only.")},
    )
    password = forms.CharField(
        label=capfirst(_("initial password")),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty: the member signs in with an SMS code and sets one."),
    )
    roles = forms.ModelMultipleChoiceField(
        queryset=Role.objects.none(),
        label=_label(StaffMember, "roles"),
        widget=forms.CheckboxSelectMultiple,
    )
    communities = forms.ModelMultipleChoiceField(
        queryset=Community.objects.none(),
        label=_label(StaffMember, "communities"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    trades = forms.ModelMultipleChoiceField(
        queryset=Trade.objects.none(),
        label=_label(StaffMember, "trades"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.fields["roles"].queryset = Role.objects.visible_to(actor)
        self.fields["communities"].queryset = Community.objects.visible_to(actor).filter(
            id__in=sorted(actor.community_ids)
        )
        self.fields["trades"].queryset = Trade.objects.visible_to(actor)

    def clean_employee_no(self):
        value = self.cleaned_data["employee_no"].strip()
        taken = StaffMember.objects.filter(
            company_id=self.actor.staff.company_id, employee_no=value
        ).exists()
        if taken:
            raise forms.ValidationError(_("Another staff member has this employee number."))
        return value

    def clean_username(self):
        value = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=value).exists():
            raise forms.ValidationError(_("This login name is taken."))
        return value

    def clean_password(self):
        password = self.cleaned_data["password"]
        if password:
            password_validation.validate_password(password)
        return password

    def clean(self):
        cleaned = super().clean()
        roles = cleaned.get("roles") or []
        if roles and not any(r.company_wide for r in roles) and not cleaned.get("communities"):
            self.add_error("communities", _("Choose the communities this member works in."))
        return cleaned


class RoleForm(ConsoleModelForm):
    permissions = forms.MultipleChoiceField(
        label=_label(Role, "permissions"),
        choices=list(PERMISSIONS.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = Role
        fields = ["name", "company_wide", "permissions"]


class ShiftForm(ConsoleModelForm):
    class Meta:
        model = Shift
        fields = ["name", "start_time", "end_time", "color"]
        widgets = {
            "start_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "end_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "color": forms.TextInput(attrs={"type": "color"}),
        }
        help_texts = {"end_time": _("An end at or before the start means the shift ends next day.")}

    def clean_color(self):
        color = self.cleaned_data["color"]
        if not (len(color) == 7 and color.startswith("#") and _is_hex(color[1:])):
            raise forms.ValidationError(_("Enter a colour such as #2563eb."))
        return color


def _is_hex(text: str) -> bool:
    try:
        int(text, 16)
    except ValueError:
        return False
    return True


class RosterWeekForm(forms.Form):
    community = forms.ModelChoiceField(
        queryset=Community.objects.none(), label=capfirst(_("community"))
    )
    week = forms.DateField(
        label=_("Week of"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = Community.objects.visible_to(actor)

    def clean_week(self):
        return week_start(self.cleaned_data.get("week") or timezone.localdate())


class RosterAssignForm(forms.Form):
    staff = forms.ModelChoiceField(
        queryset=StaffMember.objects.none(), label=capfirst(_("staff member"))
    )
    community = forms.ModelChoiceField(
        queryset=Community.objects.none(), label=capfirst(_("community"))
    )
    date = forms.DateField(label=capfirst(_("date")))
    shift = forms.ModelChoiceField(queryset=Shift.objects.none(), label=capfirst(_("shift")))

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = StaffMember.objects.visible_to(actor)
        self.fields["community"].queryset = Community.objects.visible_to(actor)
        self.fields["shift"].queryset = Shift.objects.visible_to(actor)
