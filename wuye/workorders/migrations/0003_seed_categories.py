"""Default request categories for companies that existed before work orders."""

from django.db import migrations


def seed(apps, schema_editor):
    from wuye.workorders.defaults import seed as seed_defaults

    Company = apps.get_model("estates", "Company")
    for company in Company.objects.all():
        seed_defaults(
            company=company,
            category_model=apps.get_model("workorders", "Category"),
            trade_model=apps.get_model("staff", "Trade"),
        )


class Migration(migrations.Migration):
    dependencies = [("workorders", "0002_grant_workorder_permissions")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
