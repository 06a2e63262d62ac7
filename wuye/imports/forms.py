from django import forms
from django.utils.translation import gettext_lazy as _

from wuye.estates.models import Community


def manageable_communities(actor):
    """Communities of the actor's own company that they work in (a handful)."""
    if actor.staff is None:
        return Community.objects.none()
    return Community.objects.filter(
        company_id=actor.staff.company_id, id__in=sorted(actor.community_ids)
    ).order_by("name", "id")


class UploadForm(forms.Form):
    community = forms.ModelChoiceField(
        label=_("Community"), queryset=Community.objects.none(), empty_label=None
    )
    file = forms.FileField(
        label=_("Excel file (.xlsx)"),
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        ),
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = manageable_communities(actor)


class ExportForm(forms.Form):
    community = forms.ModelChoiceField(
        label=_("Community"), queryset=Community.objects.none(), empty_label=None
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = manageable_communities(actor)
