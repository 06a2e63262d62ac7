"""Existing companies: ``billing.meters`` (record meter readings) on their default roles
(new companies get it from ``wuye.staff.policy.DEFAULT_ROLES``)."""

from django.db import migrations

GRANTS = ("company_admin", "finance", "project_manager", "technician")


def forwards(apps, schema_editor):
    Role = apps.get_model("staff", "Role")
    for role in Role.objects.filter(code__in=GRANTS):
        if "billing.meters" not in role.permissions:
            role.permissions = [*role.permissions, "billing.meters"]
            role.save(update_fields=["permissions"])


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0003_meter_review"),
        ("staff", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
