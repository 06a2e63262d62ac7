"""Bring the quality dashboard's rollups up to date now (the scheduler does it every 10
minutes); ``--full`` recomputes every day from the orders, e.g. after an import."""

import time

from django.core.management.base import BaseCommand

from wuye.quality.rollups import refresh


class Command(BaseCommand):
    help = "Refresh the quality rollups (--full: rebuild them from every work order)."

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="recompute everything")

    def handle(self, *args, full=False, **options):
        started = time.monotonic()
        result = refresh(full=full)
        what = "rebuilt" if result.full else f"refreshed {result.days} community-days"
        self.stdout.write(
            f"{what}: {result.day_rows} daily and {result.month_rows} monthly rows "
            f"in {time.monotonic() - started:.1f} s"
        )
