"""Load django-helpdesk's database for the peer benchmark; run with the helpdesk venv:

    PYTHONPATH=bench HELPDESK_DATABASE_URL=postgres://postgres@127.0.0.1:5432/wuye_bench_helpdesk \\
        bench/out/helpdesk-venv/bin/python -m helpdesk_site.load --tickets 100000 --out FILE

(``bench/helpdesk_compare.py`` does this.) Migrates, then creates ``--queues`` queues (one
per Wuye community), a desk user per queue and ``--technicians`` technicians (staff
users, no password: the benchmark's sessions are created here, as Wuye's API tokens
are by its generator), and ``--tickets`` tickets with COPY in Wuye's status mix of
``bench/gen_workorders.py``: 6.5 % open over the last week (0.55 % of them assigned),
5.5 % resolved, the rest closed over the past year, each assigned to a technician. Each
ticket gets the follow-ups django-helpdesk writes ("Ticket Opened", and "Resolved" /
"Closed" with the new status). Last, for every desk user it loads the staff ticket list
page filtered to its queue and open statuses through Django's test client and keeps the
DataTables AJAX address the page would call, and writes sessions, ids and versions to
``--out`` as JSON.
"""

import argparse
import datetime
import json
import os
import random
import re
import sys
import time
import uuid

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk_site.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.contrib.sites.models import Site  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from helpdesk.models import Queue  # noqa: E402

OPEN, RESOLVED, CLOSED = 1, 3, 4
DESCRIPTIONS = (
    "Kitchen pipe leaking, water through the ceiling below",
    "Toilet blocked, does not flush",
    "Living room light dead, switch does nothing",
    "Front door lock broken",
    "Corridor light out",
    "Renovation noise upstairs",
    "Balcony drain blocked, standing water",
)
# Wuye's STATUS_MIX (bench/gen_workorders.py) folded onto helpdesk statuses:
# (share, status, assigned, recent)
MIX = (
    (0.06, OPEN, False, True),  # submitted, accepted: waiting for dispatch
    (0.0055, OPEN, True, True),  # dispatched, taken, in progress, paused
    (0.055, RESOLVED, True, False),  # completed, rated
    (0.8795, CLOSED, True, False),  # closed, cancelled, rejected
)


def log(started: float, message: str) -> None:
    print(f"[{time.monotonic() - started:6.1f}s] {message}", flush=True)


def copy(table: str, columns: list[str], rows) -> int:
    count = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor
        with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
            for row in rows:
                cp.write_row(row)
                count += 1
    return count


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--queues", type=int, default=20)
    parser.add_argument("--technicians", type=int, default=100)
    parser.add_argument("--sessions-per-desk", type=int, default=8)
    parser.add_argument("--page-length", type=int, default=50)
    parser.add_argument("--host", default="127.0.0.1:8151")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    started = time.monotonic()
    rng = random.Random(args.seed)

    call_command("migrate", interactive=False, verbosity=0)
    log(started, "migrated")
    Site.objects.update_or_create(
        pk=settings.SITE_ID, defaults={"domain": args.host, "name": "bench"}
    )
    with transaction.atomic():
        queues = [
            Queue.objects.create(
                title=f"Community {i + 1:02d}",
                slug=f"community-{i + 1:02d}",
                allow_public_submission=True,
            )
            for i in range(args.queues)
        ]
        desks, techs = [], []
        for i in range(args.queues):
            user = User(
                username=f"desk{i + 1:02d}", email=f"desk{i + 1:02d}@example.com", is_staff=True
            )
            user.set_unusable_password()
            user.save()  # django-helpdesk's post_save signal creates its UserSettings
            desks.append(user)
        for i in range(args.technicians):
            user = User(
                username=f"tech{i + 1:03d}", email=f"tech{i + 1:03d}@example.com", is_staff=True
            )
            user.set_unusable_password()
            user.save()
            techs.append(user)
    log(started, f"{len(queues)} queues, {len(desks)} desk users, {len(techs)} technicians")

    now = timezone.now()
    plan = []  # (status, assigned, created)
    for share, status, assigned, recent in MIX:
        n = round(share * args.tickets)
        for _ in range(n):
            span = 7 * 86400 if recent else 365 * 86400
            plan.append((status, assigned, now - datetime.timedelta(seconds=rng.randrange(span))))
    plan = plan[: args.tickets]
    while len(plan) < args.tickets:
        plan.append((CLOSED, True, now - datetime.timedelta(seconds=rng.randrange(365 * 86400))))
    plan.sort(key=lambda p: p[2])  # ids in creation order, as in real life

    def ticket_rows():
        for status, assigned, created in plan:
            q = rng.randrange(len(queues))
            text = rng.choice(DESCRIPTIONS)
            done = status != OPEN
            modified = created + datetime.timedelta(hours=rng.randint(1, 72)) if done else created
            yield (
                text[:60],
                created,
                modified,
                f"resident{rng.randrange(2000):04d}@example.com",
                status,
                False,
                text,
                "Fixed on site" if done else None,
                3,
                techs[rng.randrange(len(techs))].pk if assigned else None,
                queues[q].pk,
                str(uuid.uuid4()),
            )

    with transaction.atomic():
        n = copy(
            "helpdesk_ticket",
            [
                "title",
                "created",
                "modified",
                "submitter_email",
                "status",
                "on_hold",
                "description",
                "resolution",
                "priority",
                "assigned_to_id",
                "queue_id",
                "secret_key",
            ],
            ticket_rows(),
        )
    log(started, f"copied {n:,} tickets")

    with connection.cursor() as cursor:  # read before the COPY takes the connection
        cursor.execute("SELECT id, created, modified, status, assigned_to_id FROM helpdesk_ticket")
        tickets = cursor.fetchall()

    def followup_rows():
        for pk, created, modified, status, assignee in tickets:
            yield (pk, created, "Ticket Opened", "", True, None, None)
            if status == RESOLVED:
                yield (pk, modified, "Resolved", "Fixed on site", True, RESOLVED, assignee)
            elif status == CLOSED:
                yield (pk, modified, "Closed", "Fixed on site", True, CLOSED, assignee)

    with transaction.atomic():
        n = copy(
            "helpdesk_followup",
            ["ticket_id", "date", "title", "comment", "public", "new_status", "user_id"],
            followup_rows(),
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    log(started, f"copied {n:,} follow-ups; analyzed")

    # Sessions, as a login would leave them (no password hashing on the benchmark's clock).
    out_queues = []
    client = Client(SERVER_NAME="127.0.0.1")
    for queue, desk in zip(queues, desks, strict=True):
        keys = []
        for _ in range(args.sessions_per_desk):
            session = SessionStore()
            session[SESSION_KEY] = str(desk.pk)
            session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            session[HASH_SESSION_KEY] = desk.get_session_auth_hash()
            session.set_expiry(14 * 86400)
            session.create()
            keys.append(session.session_key)
        client.force_login(desk)
        page = client.get(f"/tickets/?queue={queue.pk}&status={OPEN}&status=2")
        if page.status_code != 200:
            sys.exit(f"ticket list page answered {page.status_code}")
        found = re.search(r'"url": "(/datatables_ticket_list/[^"]+)"', page.content.decode())
        if not found:
            sys.exit("no DataTables address on the ticket list page")
        out_queues.append(
            {
                "id": queue.pk,
                "desk_user_id": desk.pk,
                "sessions": keys,
                "datatables_path": found.group(1),
            }
        )
    log(
        started,
        f"{sum(len(q['sessions']) for q in out_queues)} sessions; DataTables addresses read",
    )

    from importlib.metadata import version

    import helpdesk

    info = {
        "database_url": os.environ.get("HELPDESK_DATABASE_URL", ""),
        "tickets": args.tickets,
        "queues": out_queues,
        "technician_ids": [t.pk for t in techs],
        "page_length": args.page_length,
        "versions": {
            "django-helpdesk": version("django-helpdesk"),
            "django": django.get_version(),
            "python": sys.version.split()[0],
            "helpdesk_module": getattr(helpdesk, "__file__", ""),
        },
    }
    with open(args.out, "w") as f:
        f.write(json.dumps(info, indent=1) + "\n")
    log(started, f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
