"""Default calendars, holidays and SLA policies for companies created before this app."""

from django.db import migrations


def seed(apps, schema_editor):
    from wuye.sla.services import seed_company_calendars

    for company in apps.get_model("estates", "Company").objects.all():
        seed_company_calendars(company=company, apps=apps)


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
