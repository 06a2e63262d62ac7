"""Excel workbook of a survey's results: a summary sheet (response rate, each question's
distribution, SERVQUAL dimensions or the vote count) and a responses sheet (one row per
response, one column per question; anonymous surveys name no house). Responses come
from the database in chunks, so memory stays flat."""

from django.utils.translation import gettext as _
from openpyxl import Workbook

from wuye.core.services import require
from wuye.core.xlsx import MONEY_FORMAT, ONE_DECIMAL, bold_row, text_cell, time_cell, typed_cell
from wuye.estates.models import Building
from wuye.surveys import selectors
from wuye.surveys.models import Answer, QuestionKind, Response, Servqual

CHUNK = 1000


def export_results(*, actor, survey, out) -> None:
    require(actor, "engagement.view")
    book = Workbook(write_only=True)
    _summary(book.create_sheet(_("Summary")), survey)
    _responses(book.create_sheet(_("Responses")), survey)
    book.save(out)


def _percent(sheet, value):
    return typed_cell(sheet, float(value) if value is not None else None, ONE_DECIMAL)


def _summary(sheet, survey) -> None:
    rates = selectors.response_rates(survey)
    sheet.append(bold_row(sheet, [survey.title]))
    sheet.append([_("Kind"), str(survey.get_kind_display())])
    sheet.append([_("Status"), str(survey.get_status_display())])
    sheet.append([_("Reached"), rates["eligible"]])
    sheet.append([_("Answered"), rates["answered"]])
    sheet.append([_("Response rate (%)"), _percent(sheet, rates["rate"])])
    sheet.append([])
    if survey.is_vote:
        result = selectors.vote_results(survey)
        sheet.append(
            bold_row(
                sheet,
                [
                    _("Option"),
                    _("Houses"),
                    _("Area (m²)"),
                    _("Share of votes by houses (%)"),
                    _("Share of votes by area (%)"),
                    _("Share of all houses (%)"),
                    _("Share of all area (%)"),
                ],
            )
        )
        for row in result["rows"]:
            sheet.append(
                [
                    row.option,
                    row.houses,
                    typed_cell(sheet, row.area, MONEY_FORMAT),
                    _percent(sheet, row.houses_of_votes),
                    _percent(sheet, row.area_of_votes),
                    _percent(sheet, row.houses_of_all),
                    _percent(sheet, row.area_of_all),
                ]
            )
        sheet.append(
            [
                _("Voted"),
                result["voted"],
                typed_cell(sheet, result["voted_area"], MONEY_FORMAT),
                None,
                None,
                _percent(sheet, result["participation"]),
                _percent(sheet, result["participation_area"]),
            ]
        )
        sheet.append(
            [
                _("Reached"),
                result["eligible"],
                typed_cell(sheet, result["eligible_area"], MONEY_FORMAT),
            ]
        )
        if survey.result_digest:
            sheet.append([_("Result fingerprint (SHA-256)"), survey.result_digest])
        return
    scores = selectors.servqual_scores(survey)
    if scores is not None:
        sheet.append(
            bold_row(
                sheet,
                [_("Dimension"), _("Weight (%)"), _("Perception"), _("Expectation"), _("Gap")],
            )
        )
        for row in scores.dimensions:
            sheet.append(
                [
                    str(row.label),
                    float(row.weight_percent),
                    _num(sheet, row.perception),
                    _num(sheet, row.expectation),
                    _num(sheet, row.gap),
                ]
            )
        sheet.append(
            [
                _("Weighted index"),
                None,
                _num(sheet, scores.index),
                None,
                _num(sheet, scores.gap_index),
            ]
        )
        sheet.append([])
    sheet.append(
        bold_row(sheet, [_("Question"), _("Answer"), _("Count"), _("Share (%)"), _("Mean")])
    )
    for result in selectors.question_results(survey, text_limit=0):
        question = result.question
        label = f"{question.position}. {question.text}"
        if question.kind == QuestionKind.TEXT:
            sheet.append([label, _("(text answers: see Responses)"), result.answered])
            continue
        for index, bar in enumerate(result.bars):
            mean = _num(sheet, result.mean) if index == 0 else None
            sheet.append(
                [
                    label if index == 0 else None,
                    bar.label,
                    bar.count,
                    _percent(sheet, bar.percent),
                    mean,
                ]
            )


def _num(sheet, value):
    return typed_cell(sheet, float(value) if value is not None else None, "0.00")


def _responses(sheet, survey) -> None:
    questions = list(survey.questions.order_by("position", "id"))
    gap = survey.servqual == Servqual.GAP
    headers = [_("No."), _("Submitted at"), _("Channel"), _("Building")]
    if not survey.anonymous:
        headers += [_("House"), _("Area (m²)")]
    columns = []
    for question in questions:
        if gap and question.dimension:
            headers.append(f"{question.position}. {question.text} — {_('expected')}")
            columns.append((question, "expected"))
        headers.append(f"{question.position}. {question.text}")
        columns.append((question, "answer"))
    if survey.is_vote:
        headers.append(_("Ballot hash"))
    sheet.append(bold_row(sheet, headers))
    buildings = (
        dict(
            Building.objects.filter(community__company_id=survey.company_id).values_list(
                "id", "name"
            )
        )
        if survey.community_id is None
        else dict(
            Building.objects.filter(community_id=survey.community_id).values_list("id", "name")
        )
    )
    responses = Response.objects.filter(survey=survey).order_by("id")
    if not survey.anonymous:
        responses = responses.select_related("house__unit")
    last = 0
    while True:
        chunk = list(responses.filter(id__gt=last)[:CHUNK])
        if not chunk:
            break
        last = chunk[-1].pk
        answers = {}
        for answer in Answer.objects.filter(response_id__in=[r.pk for r in chunk]):
            answers[(answer.response_id, answer.question_id)] = answer
        for response in chunk:
            row = [
                response.pk,
                time_cell(sheet, response.submitted_at),
                str(response.get_channel_display()),
                buildings.get(response.building_id, ""),
            ]
            if not survey.anonymous:
                house = response.house
                number = ""
                if house is not None:
                    number = f"{house.unit.name} {house.number}" if house.unit_id else house.number
                row += [text_cell(sheet, number), typed_cell(sheet, response.area, MONEY_FORMAT)]
            for question, part in columns:
                answer = answers.get((response.pk, question.pk))
                row.append(_value(answer, question, part))
            if survey.is_vote:
                row.append(response.ballot_hash)
            sheet.append(row)


def _value(answer, question, part):
    if answer is None:
        return None
    if part == "expected":
        return answer.expected
    if question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        return "、".join(answer.choices or [])
    if question.kind == QuestionKind.TEXT:
        return answer.text
    return answer.score
