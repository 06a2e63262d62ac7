"""PRC public holidays and 调休 make-up working days, as data.

Source: 国务院办公厅关于2026年部分节假日安排的通知 (国办发明电〔2025〕7号, 2025-11-04).
Each year lists whole days off (``HOLIDAY``) and the weekend days that are worked instead
(``WORKDAY``, 调休上班). A make-up day works the hours of an ordinary Monday by default.

2027 is deliberately absent: its notice was not available when this module was written
and the 调休 days cannot be derived from the statutory holidays alone. When the State
Council publishes it (usually in November of the year before), add a ``2027`` entry here
and run ``seed_company_calendars`` again (it only adds missing days), or enter the days
in the admin — calendar days are ordinary editable rows.
"""

import datetime

HOLIDAY = "holiday"
WORKDAY = "workday"


def _days(name: str, first: datetime.date, last: datetime.date):
    day = first
    while day <= last:
        yield day, HOLIDAY, name
        day += datetime.timedelta(days=1)


def _d(year: int, month: int, day: int) -> datetime.date:
    return datetime.date(year, month, day)


# year -> ((date, kind, name), ...) in date order within each festival
PRC_CALENDAR: dict[int, tuple[tuple[datetime.date, str, str], ...]] = {
    2026: (
        *_days("元旦", _d(2026, 1, 1), _d(2026, 1, 3)),
        (_d(2026, 1, 4), WORKDAY, "元旦调休"),
        (_d(2026, 2, 14), WORKDAY, "春节调休"),
        *_days("春节", _d(2026, 2, 15), _d(2026, 2, 23)),
        (_d(2026, 2, 28), WORKDAY, "春节调休"),
        *_days("清明节", _d(2026, 4, 4), _d(2026, 4, 6)),
        *_days("劳动节", _d(2026, 5, 1), _d(2026, 5, 5)),
        (_d(2026, 5, 9), WORKDAY, "劳动节调休"),
        *_days("端午节", _d(2026, 6, 19), _d(2026, 6, 21)),
        *_days("中秋节", _d(2026, 9, 25), _d(2026, 9, 27)),
        (_d(2026, 9, 20), WORKDAY, "国庆节调休"),
        *_days("国庆节", _d(2026, 10, 1), _d(2026, 10, 7)),
        (_d(2026, 10, 10), WORKDAY, "国庆节调休"),
    ),
}
