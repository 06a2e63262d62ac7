"""API shapes of notifications."""

import datetime

from ninja import Field, Schema


class NotificationOut(Schema):
    id: int
    kind: str = Field(description="Event kind, e.g. workorder.dispatched.")
    title: str
    body: str
    url: str = Field(description="In-app path to open, or empty.")
    object_type: str = Field(description="Model of the object, e.g. workorders.workorder.")
    object_id: int | None
    created_at: datetime.datetime
    read_at: datetime.datetime | None


class ReadAllOut(Schema):
    marked: int = Field(description="How many notifications were marked read.")


class UnreadCountOut(Schema):
    count: int
    display: str = Field(description="What a badge shows: empty for 0, the number, or 99+.")
