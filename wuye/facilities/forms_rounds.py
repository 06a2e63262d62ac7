"""Console forms of routine rounds: checklists and their items, checkpoints, plans with
their stops, and the task board's filters.

Choices are limited to what the actor may use (communities they manage, the company's
checklists, categories and trades, the staff and places of the plan's community); the
services check the same again and their ValidationErrors land on these forms.
"""

import datetime

from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from wuye.core.console import ConsoleModelForm
from wuye.estates.forms import raw_id
from wuye.estates.models import CommonArea, Community
from wuye.facilities.models import (
    Asset,
    AssetCategory,
    ChecklistItem,
    ChecklistTemplate,
    Checkpoint,
    ItemType,
    Plan,
    RoundKind,
    Task,
    Visit,
)
from wuye.staff.models import StaffMember, Trade
from wuye.workorders.models import Category

CASCADE_CLASS = "cascade"
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
MAX_BOARD_DAYS = 31


def _label(model, field: str) -> str:
    return capfirst(model._meta.get_field(field).verbose_name)


def _managed_communities(actor):
    return Community.objects.visible_to(actor).filter(id__in=sorted(actor.community_ids))


def _cascade(field) -> None:
    field.widget.attrs["class"] = CASCADE_CLASS


class AfterField(forms.IntegerField):
    """The keyset cursor of list pages."""

    def __init__(self):
        super().__init__(min_value=0, required=False, widget=forms.HiddenInput)


# --- checklists ------------------------------------------------------------------
class TemplateFilterForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[("", _("All kinds")), *RoundKind.choices],
        required=False,
        label=capfirst(_("round kind")),
    )
    after = AfterField()

    def filter(self, queryset):
        kind = self.cleaned_data.get("kind")
        return queryset.filter(kind=kind) if kind else queryset


class TemplateForm(ConsoleModelForm):
    class Meta:
        model = ChecklistTemplate
        fields = ["name", "kind", "asset_category", "is_active"]

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["asset_category"].queryset = AssetCategory.objects.filter(
            company_id=actor.staff.company_id
        )


class LinesField(forms.CharField):
    """A list of short texts, one per line (choices of a choice item)."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        return [line.strip() for line in (value or "").splitlines() if line.strip()]


class ItemForm(ConsoleModelForm):
    """One checklist item; ``ChecklistItem.clean`` names wrong combinations (a range on
    a text item, one choice only, abnormal answers that are not choices)."""

    NUMBER_FIELDS = ("unit", "min_value", "max_value")
    CHOICE_FIELDS = ("choices", "abnormal_choices")

    choices = LinesField(
        label=_label(ChecklistItem, "choices"),
        required=False,
        help_text=_("Choice items: one answer per line."),
    )
    abnormal_choices = LinesField(
        label=_label(ChecklistItem, "abnormal_choices"),
        required=False,
        help_text=_("The answers above that count as abnormal, one per line."),
    )

    class Meta:
        model = ChecklistItem
        fields = [
            "label",
            "type",
            "unit",
            "min_value",
            "max_value",
            "choices",
            "abnormal_choices",
            "required",
            "photo_required",
            "creates_order",
            "order_category",
        ]
        help_texts = {
            "min_value": _("Number and meter items: readings below are abnormal."),
            "max_value": _("Readings above are abnormal."),
        }

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        category = self.fields["order_category"]
        category.queryset = (
            Category.objects.filter(
                company_id=actor.staff.company_id, is_active=True, children__isnull=True
            )
            .select_related("parent")
            .order_by("parent__sort_order", "sort_order", "id")
        )
        category.help_text = _("Needed when an abnormal answer opens a work order.")
        _cascade(self.fields["type"])
        chosen = self.data.get(self.add_prefix("type")) if self.is_bound else None
        self.type = chosen or self.initial.get("type") or self.instance.type or ItemType.OK_ABNORMAL

    @property
    def concealed(self) -> set[str]:
        """Fields the chosen type does not use: hidden, and emptied when saved."""
        hidden = set()
        if self.type not in (ItemType.NUMBER, ItemType.METER):
            hidden.update(self.NUMBER_FIELDS)
        if self.type not in (ItemType.SINGLE, ItemType.MULTIPLE):
            hidden.update(self.CHOICE_FIELDS)
        return hidden

    def clean(self):
        cleaned = super().clean()
        for name in self.concealed:
            cleaned[name] = self.fields[name].to_python("")
        low, high = cleaned.get("min_value"), cleaned.get("max_value")
        if low is not None and high is not None and high < low:  # named next to the field
            self.add_error("max_value", _("The highest value cannot be below the lowest."))
        return cleaned


# --- checkpoints ------------------------------------------------------------------
class CheckpointFilterForm(forms.Form):
    q = forms.CharField(max_length=50, required=False, label=_("Search"))
    community = forms.ModelChoiceField(
        queryset=Community.objects.none(),
        required=False,
        label=capfirst(_("community")),
        empty_label=_("All communities"),
    )
    after = AfterField()

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = Community.objects.visible_to(actor)

    def filter(self, queryset):
        data = self.cleaned_data
        if data.get("community"):
            queryset = queryset.filter(community=data["community"])
        if data.get("q", "").strip():
            queryset = queryset.filter(name__contains=data["q"].strip())
        return queryset


class CheckpointForm(ConsoleModelForm):
    """A new checkpoint picks its community; an existing one stays where it is (plans
    and check-ins point at it)."""

    class Meta:
        model = Checkpoint
        fields = ["community", "name", "common_area", "is_active"]

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["community"]
            community_id = self.instance.community_id
        else:
            self.fields["community"].queryset = _managed_communities(actor)
            _cascade(self.fields["community"])
            community_id = raw_id(self, "community")
        areas = self.fields["common_area"]
        areas.queryset = CommonArea.objects.filter(community_id=community_id)
        if not community_id:
            areas.empty_label = _("Choose a community first")


# --- plans ------------------------------------------------------------------
class PlanFilterForm(forms.Form):
    q = forms.CharField(max_length=50, required=False, label=_("Search"))
    community = forms.ModelChoiceField(
        queryset=Community.objects.none(),
        required=False,
        label=capfirst(_("community")),
        empty_label=_("All communities"),
    )
    kind = forms.ChoiceField(
        choices=[("", _("All kinds")), *RoundKind.choices],
        required=False,
        label=capfirst(_("round kind")),
    )
    active = forms.ChoiceField(
        choices=[("", _("Active and inactive")), ("1", _("Active")), ("0", _("Inactive"))],
        required=False,
        label=capfirst(_("active")),
    )
    after = AfterField()

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = Community.objects.visible_to(actor)

    def filter(self, queryset):
        data = self.cleaned_data
        if data.get("community"):
            queryset = queryset.filter(community=data["community"])
        if data.get("kind"):
            queryset = queryset.filter(kind=data["kind"])
        if data.get("active"):
            queryset = queryset.filter(is_active=data["active"] == "1")
        if data.get("q", "").strip():
            queryset = queryset.filter(name__contains=data["q"].strip())
        return queryset


class PlanForm(ConsoleModelForm):
    """Recurrence fields show what the chosen recurrence needs (the form re-renders when
    it changes): days for weekly and monthly plans, N and what it counts from for
    every-N-days plans. The staff choices are those of the plan's community."""

    DAY_FIELDS = {Plan.Recurrence.WEEKLY, Plan.Recurrence.MONTHLY}

    days = forms.TypedMultipleChoiceField(
        coerce=int,
        required=False,
        label=_label(Plan, "days"),
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Plan
        fields = [
            "community",
            "name",
            "template",
            "recurrence",
            "days",
            "interval_days",
            "anchor",
            "window_start",
            "window_end",
            "assignee",
            "trade",
            "requires_acceptance",
            "starts_on",
            "ends_on",
        ]
        widgets = {
            "window_start": TIME,
            "window_end": TIME,
            "starts_on": DATE,
            "ends_on": DATE,
        }
        help_texts = {
            "assignee": _("Gets the tasks when rostered at the window's opening."),
            "anchor": _(
                "From the last completion: the next task comes N days after the last one done."
            ),
        }

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["community"]
            community_id = self.instance.community_id
        else:
            self.fields["community"].queryset = _managed_communities(actor)
            _cascade(self.fields["community"])
            community_id = raw_id(self, "community")
        company_id = actor.staff.company_id
        self.fields["template"].queryset = ChecklistTemplate.objects.filter(
            Q(is_active=True) | Q(pk=self.instance.template_id or 0), company_id=company_id
        )
        self.fields["trade"].queryset = Trade.objects.filter(company_id=company_id)
        assignee = self.fields["assignee"]
        assignee.queryset = StaffMember.objects.filter(
            company_id=company_id, communities=community_id, is_active=True
        ).order_by("name", "id")
        if not community_id:
            assignee.empty_label = _("Choose a community first")
        self.recurrence = self._chosen("recurrence") or Plan.Recurrence.DAILY
        self.fields["anchor"].required = False  # hidden unless every N days
        _cascade(self.fields["recurrence"])
        self.fields["days"].choices = (
            [(number, name) for number, name in ((i + 1, WEEKDAYS[i]) for i in range(7))]
            if self.recurrence == Plan.Recurrence.WEEKLY
            else [(day, str(day)) for day in range(1, 32)]
        )
        if self.recurrence == Plan.Recurrence.MONTHLY:
            self.fields["days"].help_text = _("31 means the month's last day.")

    def _chosen(self, name):
        value = self.data.get(self.add_prefix(name)) if self.is_bound else self.initial.get(name)
        if value is None and not self.is_bound:
            value = getattr(self.instance, name, None)
        return value

    @property
    def concealed(self) -> set[str]:
        """Fields the chosen recurrence does not use: hidden, and reset when saved."""
        hidden = set()
        if self.recurrence not in self.DAY_FIELDS:
            hidden.add("days")
        if self.recurrence != Plan.Recurrence.EVERY_N_DAYS:
            hidden.update(("interval_days", "anchor"))
        return hidden

    def clean(self):
        cleaned = super().clean()
        unused = {"days": [], "interval_days": None, "anchor": Plan.Anchor.SCHEDULE}
        for name in self.concealed:
            cleaned[name] = unused[name]
        cleaned["anchor"] = cleaned.get("anchor") or Plan.Anchor.SCHEDULE
        opens, closes = cleaned.get("window_start"), cleaned.get("window_end")
        if opens and closes and closes <= opens:  # named next to the field
            self.add_error("window_end", _("The window must close after it opens."))
        return cleaned


def plan_form_initial(query) -> dict:
    """An HTMX re-render's GET parameters as initial values (days has several)."""
    initial = query.dict()
    initial["days"] = query.getlist("days")
    return initial


class StopsForm(forms.Form):
    """The plan's stops in order: renumber to reorder, tick to remove, and add one of
    the community's assets or checkpoints at the end."""

    add = forms.ChoiceField(required=False, label=_("Add a stop"))

    def __init__(self, *args, plan, stops, **kwargs):
        super().__init__(*args, **kwargs)
        self.stops = stops
        for index, stop in enumerate(stops):
            self.fields[f"position_{stop.pk}"] = forms.IntegerField(
                min_value=1,
                max_value=999,
                initial=index + 1,
                required=False,  # empty: keeps its place
                label=str(stop.target),
            )
            self.fields[f"remove_{stop.pk}"] = forms.BooleanField(required=False)
        assets = Asset.objects.filter(community_id=plan.community_id).exclude(
            status=Asset.Status.SCRAPPED
        )
        checkpoints = Checkpoint.objects.filter(community_id=plan.community_id, is_active=True)
        self.targets = {f"a{a.pk}": a for a in assets.exclude(pk__in=[s.asset_id for s in stops])}
        self.targets.update(
            {f"c{c.pk}": c for c in checkpoints.exclude(pk__in=[s.checkpoint_id for s in stops])}
        )
        self.fields["add"].choices = [
            ("", "---------"),
            (_("Assets"), [(key, str(t)) for key, t in self.targets.items() if key[0] == "a"]),
            (_("Checkpoints"), [(key, str(t)) for key, t in self.targets.items() if key[0] == "c"]),
        ]

    def rows(self):
        return [
            (stop, self[f"position_{stop.pk}"], self[f"remove_{stop.pk}"]) for stop in self.stops
        ]

    def ordered_targets(self) -> list:
        """The kept stops by their new numbers (ties keep the old order), then the added."""
        data = self.cleaned_data
        kept = [
            (data[f"position_{stop.pk}"] or index + 1, index, stop.target)
            for index, stop in enumerate(self.stops)
            if not data[f"remove_{stop.pk}"]
        ]
        targets = [target for _position, _index, target in sorted(kept, key=lambda r: r[:2])]
        if data.get("add"):
            targets.append(self.targets[data["add"]])
        return targets


# --- the task board ------------------------------------------------------------------
class TaskFilterForm(forms.Form):
    """Tasks of a date range (today by default, at most a month), by community, kind
    and status; plan and person come from links on the board (no long dropdowns)."""

    date_from = forms.DateField(required=False, label=_("From"), widget=DATE)
    date_to = forms.DateField(required=False, label=_("To"), widget=DATE)
    community = forms.ModelChoiceField(
        queryset=Community.objects.none(),
        required=False,
        label=capfirst(_("community")),
        empty_label=_("All communities"),
    )
    kind = forms.ChoiceField(
        choices=[("", _("All kinds")), *RoundKind.choices],
        required=False,
        label=capfirst(_("round kind")),
    )
    status = forms.ChoiceField(
        choices=[("", _("Any status")), *Task.Status.choices],
        required=False,
        label=capfirst(_("status")),
    )
    late = forms.BooleanField(required=False, label=_("With late check-ins"))
    abnormal = forms.BooleanField(required=False, label=_("With abnormal answers"))
    unassigned = forms.BooleanField(required=False, label=_("Unassigned"))
    plan = forms.IntegerField(required=False, widget=forms.HiddenInput)
    assignee = forms.IntegerField(required=False, widget=forms.HiddenInput)
    after = forms.RegexField(regex=r"^\d+-\d+$", required=False, widget=forms.HiddenInput)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.fields["community"].queryset = Community.objects.visible_to(actor)

    def clean(self):
        cleaned = super().clean()
        today = timezone.localdate()
        start = cleaned.get("date_from") or cleaned.get("date_to") or today
        end = cleaned.get("date_to") or start
        if end < start:
            self.add_error("date_to", _("The end date cannot be before the start date."))
        elif (end - start).days >= MAX_BOARD_DAYS:
            self.add_error(
                "date_to", _("Show at most %(days)d days at once.") % {"days": MAX_BOARD_DAYS}
            )
        cleaned["date_from"], cleaned["date_to"] = start, end
        return cleaned

    @property
    def span(self) -> tuple[datetime.date, datetime.date]:
        return self.cleaned_data["date_from"], self.cleaned_data["date_to"]

    def filter(self, queryset, *, with_status=True):
        """The tasks the filters select (``with_status=False``: of every status, for
        the counts by status)."""
        data = self.cleaned_data
        queryset = queryset.filter(date__range=self.span)
        for name in ("community", "kind", "status", "plan", "assignee"):
            if data.get(name) and (with_status or name != "status"):
                queryset = queryset.filter(**{name: data[name]})
        if data.get("unassigned"):
            queryset = queryset.filter(assignee__isnull=True)
        if data.get("abnormal"):
            queryset = queryset.filter(abnormal_count__gt=0)
        if data.get("late"):
            late = Visit.objects.filter(task=OuterRef("pk"), timing=Visit.Timing.LATE)
            queryset = queryset.filter(Exists(late))
        return queryset
