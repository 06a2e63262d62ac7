"""Existing companies: the billing permissions on their default roles (new companies
get them from ``wuye.staff.policy.DEFAULT_ROLES``)."""

from django.db import migrations

GRANTS = {
    "company_admin": ["billing.view", "billing.manage", "billing.collect"],
    "finance": ["billing.view", "billing.manage", "billing.collect"],
    "project_manager": ["billing.view"],
}


def forwards(apps, schema_editor):
    Role = apps.get_model("staff", "Role")
    for role in Role.objects.filter(code__in=GRANTS):
        missing = [p for p in GRANTS[role.code] if p not in role.permissions]
        if missing:
            role.permissions = [*role.permissions, *missing]
            role.save(update_fields=["permissions"])


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0001_initial"),
        ("staff", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
