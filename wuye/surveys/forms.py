"""Forms of surveys and votes: the survey itself (community → audience → buildings,
units or houses), SERVQUAL and vote variants, a question, the list's filters, the
phone-entry form (house picker + every question) and the resident's answer form.

Pickers stay bounded: buildings and units are those of the chosen community (the form
re-renders through HTMX when the community or audience changes); houses are typed as
numbers, as ``building/number`` or within a chosen building. The rules themselves are
checked by ``wuye.surveys.services``; its ValidationErrors land back on these forms."""

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from wuye.estates.audience_forms import AudienceForm, actor_communities
from wuye.estates.models import Community
from wuye.people.forms import HousePickerMixin
from wuye.surveys.models import (
    Channel,
    Dimension,
    Kind,
    QuestionKind,
    RespondentUnit,
    Servqual,
    Status,
)
from wuye.surveys.services import CHOICE_KINDS, SCALE_KINDS

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]


def option_lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class SurveyForm(AudienceForm):
    """A survey (``variant`` "survey"), a SERVQUAL survey ("servqual") or a vote ("vote")."""

    house_numbers_help = _(
        "Separated by spaces, commas or new lines; without a building chosen above, "
        "type building/number."
    )
    house_numbers_placeholder = "0101 0102 1栋/0203"
    missing_message = _("No single house matches (type building/number): %(numbers)s")
    field_order = ["title"]

    title = forms.CharField(label=capfirst(_("title")), max_length=120)
    intro = forms.CharField(
        label=capfirst(_("introduction")),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    question = forms.CharField(
        label=capfirst(_("question put to the vote")),
        max_length=300,
        required=False,
        help_text=_("Leave empty to use the title."),
    )
    options = forms.CharField(
        label=capfirst(_("options")),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line."),
    )
    mode = forms.ChoiceField(
        label=capfirst(_("how items are asked")),
        choices=[c for c in Servqual.choices if c[0]],
        initial=Servqual.PERFORMANCE,
    )
    scale = forms.TypedChoiceField(
        label=capfirst(_("scale")),
        choices=[(7, _("1–7 (as in SERVQUAL)")), (5, _("1–5"))],
        coerce=int,
        initial=7,
    )
    respondent = forms.ChoiceField(label=capfirst(_("who answers")), choices=RespondentUnit.choices)
    anonymous = forms.BooleanField(
        label=_("Anonymous: results never show who answered what"), required=False
    )
    closes_at = forms.DateTimeField(
        label=capfirst(_("closes at")), input_formats=DATETIME_FORMATS, widget=DATETIME
    )

    def __init__(self, *args, actor, variant: str = "survey", **kwargs):
        super().__init__(*args, actor=actor, **kwargs)
        self.variant = variant
        if variant == "vote":
            for name in ("respondent", "anonymous", "mode", "scale"):
                del self.fields[name]
            self.fields["options"].initial = "\n".join(_default_vote_options())
        else:
            del self.fields["question"]
            del self.fields["options"]
            if variant != "servqual":
                del self.fields["mode"]
                del self.fields["scale"]
            else:
                self.fields["title"].required = False
                self.fields["title"].help_text = _("Leave empty for the standard title.")

    def service_args(self) -> dict:
        data = self.cleaned_data
        args = {
            "title": data.get("title") or "",
            "intro": data.get("intro") or "",
            "community": data.get("community"),
            "audience": data["audience"],
            "buildings": list(data.get("buildings") or ()),
            "units": list(data.get("units") or ()),
            "houses": data.get("houses") or [],
            "closes_at": data["closes_at"],
        }
        if self.variant == "vote":
            args["question"] = data.get("question") or ""
            args["options"] = option_lines(data.get("options"))
        else:
            args["respondent"] = data["respondent"]
            args["anonymous"] = data["anonymous"]
        if self.variant == "servqual":
            args["mode"] = data["mode"]
            args["scale"] = data["scale"]
        return args


def _default_vote_options():
    from wuye.surveys.services import default_vote_options

    return default_vote_options()


class DetailsForm(forms.Form):
    """A draft's title, introduction and closing time (and who answers, for surveys)."""

    title = forms.CharField(label=capfirst(_("title")), max_length=120)
    intro = forms.CharField(
        label=capfirst(_("introduction")),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    respondent = forms.ChoiceField(label=capfirst(_("who answers")), choices=RespondentUnit.choices)
    anonymous = forms.BooleanField(
        label=_("Anonymous: results never show who answered what"), required=False
    )
    closes_at = forms.DateTimeField(
        label=capfirst(_("closes at")), input_formats=DATETIME_FORMATS, widget=DATETIME
    )

    def __init__(self, *args, survey, **kwargs):
        kwargs.setdefault("prefix", "details")
        super().__init__(*args, **kwargs)
        if survey.is_vote:
            del self.fields["respondent"]
            del self.fields["anonymous"]


class QuestionForm(forms.Form):
    kind = forms.ChoiceField(label=capfirst(_("question type")), choices=QuestionKind.choices)
    text = forms.CharField(label=capfirst(_("question")), max_length=300)
    options = forms.CharField(
        label=capfirst(_("options")),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Choice questions: one option per line."),
    )
    dimension = forms.ChoiceField(
        label=capfirst(_("quality dimension")),
        required=False,
        choices=[("", _("None")), *Dimension.choices],
        help_text=_("Scale questions only: counted in the SERVQUAL results."),
    )
    required = forms.BooleanField(label=_("An answer is required"), required=False, initial=True)

    def __init__(self, *args, survey, **kwargs):
        super().__init__(*args, **kwargs)
        if survey.is_vote:
            self.fields["kind"].choices = [
                c for c in QuestionKind.choices if c[0] == QuestionKind.SINGLE
            ]
            del self.fields["dimension"]
            del self.fields["required"]

    def service_args(self) -> dict:
        data = self.cleaned_data
        args = {
            "kind": data["kind"],
            "text": data["text"],
            "options": option_lines(data.get("options")) if data["kind"] in CHOICE_KINDS else [],
        }
        if "dimension" in self.fields:
            args["dimension"] = data.get("dimension") or ""
            args["required"] = data.get("required", False)
        return args


class SurveyFilterForm(forms.Form):
    community = forms.ModelChoiceField(
        queryset=Community.objects.none(),
        required=False,
        label=capfirst(_("community")),
        empty_label=_("All communities"),
    )
    kind = forms.ChoiceField(
        label=capfirst(_("kind")),
        required=False,
        choices=[("", _("Surveys and votes")), *Kind.choices],
    )
    status = forms.ChoiceField(
        label=capfirst(_("status")),
        required=False,
        choices=[("", _("Any status")), *Status.choices],
    )
    q = forms.CharField(label=capfirst(_("search")), required=False, max_length=60)

    def __init__(self, data, *, actor, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["community"].queryset = actor_communities(actor)

    def filter(self, surveys):
        data = self.cleaned_data
        if data.get("community") is not None:
            surveys = surveys.filter(community=data["community"])
        if data.get("kind"):
            surveys = surveys.filter(kind=data["kind"])
        if data.get("status"):
            surveys = surveys.filter(status=data["status"])
        if data.get("q"):
            surveys = surveys.filter(title__icontains=data["q"].strip())
        return surveys


# --- answering ----------------------------------------------------------------------------
class ScaleWidget(forms.RadioSelect):
    """Scores as a row of big buttons (styled by ``.scale`` in surveys.css)."""


class AnswerFieldsMixin:
    """One field per question: ``q<id>`` (and ``e<id>``, the expectation of a SERVQUAL
    gap item); ``answers()`` gives the service's {question id: answer} dict."""

    def add_question_fields(self, survey, questions):
        self.survey, self.questions = survey, list(questions)
        gap = survey.servqual == Servqual.GAP
        for question in self.questions:
            name = f"q{question.pk}"
            required = False  # the service says which are missing, all at once
            if question.kind == QuestionKind.SINGLE:
                field = forms.ChoiceField(
                    choices=[(o, o) for o in question.options],
                    widget=forms.RadioSelect,
                    required=required,
                )
            elif question.kind == QuestionKind.MULTIPLE:
                field = forms.MultipleChoiceField(
                    choices=[(o, o) for o in question.options],
                    widget=forms.CheckboxSelectMultiple,
                    required=required,
                )
            elif question.kind in SCALE_KINDS:
                scores = [(str(n), str(n)) for n in range(1, question.scale_max + 1)]
                if gap and question.dimension:
                    self.fields[f"e{question.pk}"] = forms.ChoiceField(
                        choices=scores,
                        widget=ScaleWidget,
                        required=required,
                        label=_("What you expect of excellent property service"),
                    )
                    self.fields[f"e{question.pk}"].question = question
                    self.fields[f"e{question.pk}"].expectation = True
                field = forms.ChoiceField(choices=scores, widget=ScaleWidget, required=required)
            else:
                field = forms.CharField(
                    widget=forms.Textarea(attrs={"rows": 3}), required=required, max_length=2000
                )
            field.label = question.text
            if gap and question.dimension:
                field.label = _("How our service is")
            field.question = question
            self.fields[name] = field

    def question_rows(self):
        """(question, [bound fields]) in order, for the templates."""
        rows = []
        for question in self.questions:
            names = [f"e{question.pk}", f"q{question.pk}"]
            rows.append((question, [self[name] for name in names if name in self.fields]))
        return rows

    def answers(self) -> dict:
        data = self.cleaned_data
        found = {}
        for question in self.questions:
            value = data.get(f"q{question.pk}")
            if question.kind in CHOICE_KINDS:
                choices = value if isinstance(value, list) else ([value] if value else [])
                found[question.pk] = {"choices": choices}
            elif question.kind in SCALE_KINDS:
                found[question.pk] = {
                    "score": value or None,
                    "expected": data.get(f"e{question.pk}") or None,
                }
            else:
                found[question.pk] = {"text": value or ""}
        return found

    def add_answer_errors(self, exc):
        """The service's errors: ``q<id>`` on the question, the rest on the form."""
        for field, messages in exc.message_dict.items():
            target = field if field in self.fields else None
            if field == "house" and "house" not in self.fields and "number" in self.fields:
                target = "number"
            for message in messages:
                self.add_error(target, message)


class PhoneEntryForm(AnswerFieldsMixin, HousePickerMixin, forms.Form):
    """An answer taken by phone or on paper: the house, who answered, every question."""

    channel = forms.ChoiceField(
        label=capfirst(_("channel")),
        choices=[(Channel.PHONE, Channel.PHONE.label), (Channel.PAPER, Channel.PAPER.label)],
    )
    resident_mobile = forms.CharField(
        label=capfirst(_("mobile of the resident who answered")),
        max_length=20,
        required=False,
    )

    def __init__(self, *args, actor, survey, questions, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_picker_fields(actor, required=True)
        self.fields["community"].queryset = self.fields["community"].queryset.filter(
            company_id=survey.company_id
        )
        if survey.community_id:
            self.fields["community"].queryset = self.fields["community"].queryset.filter(
                pk=survey.community_id
            )
        self.order_fields(["community", "building", "unit", "number", "channel"])
        if survey.respondent != RespondentUnit.PERSON:
            self.fields["resident_mobile"].help_text = _(
                "Optional. One answer per household: any resident may answer for it."
            )
        else:
            self.fields["resident_mobile"].required = True
        self.add_question_fields(survey, questions)

    def clean(self):
        data = super().clean()
        data["house"] = self.resolve_house(data)
        data["resident_user"] = None
        mobile = (data.get("resident_mobile") or "").strip()
        if mobile and data["house"] is not None:
            from wuye.people.models import Residency

            tie = (
                Residency.objects.active()
                .filter(house=data["house"], resident__mobile=mobile, resident__user__isnull=False)
                .select_related("resident")
                .first()
            )
            if tie is None:
                self.add_error("resident_mobile", _("No resident of this house has this mobile."))
            else:
                data["resident_user"] = tie.resident.user
        return data


class AnswerForm(AnswerFieldsMixin, forms.Form):
    """A resident's answers; with several houses the survey reaches, which one."""

    house = forms.TypedChoiceField(label=capfirst(_("house")), coerce=int, required=False)

    def __init__(self, *args, survey, questions, houses, **kwargs):
        super().__init__(*args, **kwargs)
        self.houses = {house.pk: house for house in houses}
        if len(self.houses) > 1:
            self.fields["house"].choices = [(h.pk, h.address) for h in houses]
            self.fields["house"].required = True
        else:
            del self.fields["house"]
        self.add_question_fields(survey, questions)

    def chosen_house(self):
        if "house" in self.fields:
            return self.houses.get(self.cleaned_data.get("house"))
        return next(iter(self.houses.values()), None)
