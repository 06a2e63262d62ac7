"""Forms of the training pages: they check input and resolve ids to rows the actor may
use; the rules live in ``wuye.quality.training`` whose ValidationErrors land back here."""

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from wuye.activities.forms import DATETIME, DATETIME_FORMATS
from wuye.core.console import ConsoleModelForm
from wuye.estates.audience_forms import actor_communities
from wuye.estates.models import Community
from wuye.quality.models import Course


class CourseForm(ConsoleModelForm):
    class Meta:
        model = Course
        fields = ["code", "title", "summary", "content", "pass_mark", "is_active"]
        widgets = {"content": forms.Textarea(attrs={"rows": 18})}
        help_texts = {
            "code": _("Letters, digits and hyphens; unique in the company."),
            "content": _("The material staff read before the quiz; line breaks are kept."),
        }


class QuestionForm(forms.Form):
    """A question with its choices one per line; the right one by its number (from 1)."""

    text = forms.CharField(label=capfirst(_("question")), max_length=300)
    choices = forms.CharField(
        label=capfirst(_("choices")),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("One choice per line, at least two."),
    )
    answer = forms.IntegerField(
        label=_("Right choice"),
        min_value=1,
        help_text=_("Its line number: 1 for the first choice."),
    )

    @classmethod
    def for_question(cls, question, data=None):
        initial = {
            "text": question.text,
            "choices": "\n".join(question.choices),
            "answer": question.answer + 1,
        }
        return cls(data, initial=initial)

    def clean_choices(self):
        return self.cleaned_data["choices"].strip().splitlines()

    def values(self) -> dict:
        """What the service takes: the choices as a list, the answer as an index."""
        data = self.cleaned_data
        return {"text": data["text"], "choices": data["choices"], "answer": data["answer"] - 1}


class SessionForm(forms.Form):
    course = forms.ModelChoiceField(queryset=Course.objects.none(), label=capfirst(_("course")))
    community = forms.ModelChoiceField(
        queryset=Community.objects.none(),
        label=capfirst(_("community")),
        required=False,
        empty_label=_("The whole company"),
    )
    starts_at = forms.DateTimeField(
        label=capfirst(_("starts at")), widget=DATETIME, input_formats=DATETIME_FORMATS
    )
    place = forms.CharField(label=capfirst(_("place")), max_length=100, required=False)
    trainer = forms.CharField(label=capfirst(_("trainer")), max_length=50, required=False)
    note = forms.CharField(
        label=capfirst(_("notes")),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, actor, courses, session=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["course"].queryset = courses.filter(is_active=True).order_by("id")
        communities = actor_communities(actor)
        self.fields["community"].queryset = communities
        if not actor.company_wide:
            self.fields["community"].required = True
            self.fields["community"].empty_label = None
        if session is not None:
            self.fields["course"].disabled = True
            self.fields["community"].disabled = True

    def changes(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k not in ("course", "community")}


class SessionFilterForm(forms.Form):
    course = forms.ModelChoiceField(
        queryset=Course.objects.none(),
        required=False,
        label=capfirst(_("course")),
        empty_label=_("All courses"),
    )
    community = forms.ModelChoiceField(
        queryset=Community.objects.none(),
        required=False,
        label=capfirst(_("community")),
        empty_label=_("All communities"),
    )
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, data, *, actor, courses, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["course"].queryset = courses.order_by("id")
        self.fields["community"].queryset = actor_communities(actor)

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end is before the start."))
        return data

    def filter(self, queryset):
        data = self.cleaned_data
        if data.get("course") is not None:
            queryset = queryset.filter(course=data["course"])
        if data.get("community") is not None:
            queryset = queryset.filter(community=data["community"])
        if data.get("date_from"):
            queryset = queryset.filter(starts_at__date__gte=data["date_from"])
        if data.get("date_to"):
            queryset = queryset.filter(starts_at__date__lte=data["date_to"])
        return queryset


class StaffSearchForm(forms.Form):
    q = forms.CharField(label=_("Find staff"), max_length=30, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = _("Name or employee number")


class QuizForm(forms.Form):
    """One radio group per question, every one required (the error names the question)."""

    def __init__(self, *args, questions, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = list(questions)
        for number, question in enumerate(self.questions, start=1):
            self.fields[f"q{question.pk}"] = forms.TypedChoiceField(
                label=f"{number}. {question.text}",
                choices=list(enumerate(question.choices)),
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={
                    "required": _("Answer question %(n)d.") % {"n": number},
                },
            )

    @property
    def unanswered(self) -> str:
        """One line naming every question left unanswered (each also shows in red)."""
        numbers = [
            str(n) for n, q in enumerate(self.questions, start=1) if f"q{q.pk}" in self.errors
        ]
        if not numbers:
            return ""
        return _("Answer question %(numbers)s.") % {"numbers": ", ".join(numbers)}

    def answers(self) -> dict[int, int]:
        return {q.pk: self.cleaned_data[f"q{q.pk}"] for q in self.questions}
