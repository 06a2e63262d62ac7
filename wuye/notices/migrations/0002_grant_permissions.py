"""Existing companies: the engagement permissions on their default roles (new companies
get them from ``wuye.staff.policy.DEFAULT_ROLES``)."""

from django.db import migrations

ALL = ["engagement.view", "engagement.manage", "engagement.assist"]
GRANTS = {
    "company_admin": ALL,
    "project_manager": ALL,
    "service_supervisor": ALL,
    "dispatcher": ["engagement.view", "engagement.assist"],
    "quality": ["engagement.view"],
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
        ("notices", "0001_initial"),
        ("staff", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
