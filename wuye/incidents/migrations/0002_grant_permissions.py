"""Existing companies: the emergency permissions on their default roles (new companies
get them from ``wuye.staff.policy.DEFAULT_ROLES``)."""

from django.db import migrations

GRANTS = {
    "company_admin": ["incidents.report", "incidents.manage"],
    "project_manager": ["incidents.report", "incidents.manage"],
    "dispatcher": ["incidents.report", "incidents.manage"],
    "service_supervisor": ["incidents.report"],
    "technician": ["incidents.report"],
    "guard": ["incidents.report"],
    "cleaner": ["incidents.report"],
    "gardener": ["incidents.report"],
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
        ("incidents", "0001_initial"),
        ("staff", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
