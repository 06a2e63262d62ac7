"""Give existing companies' default roles the new work-order permissions."""

from django.db import migrations

GRANTS = {
    "company_admin": ["workorders.view", "workorders.create", "workorders.dispatch",
                      "workorders.work", "workorders.configure"],
    "project_manager": ["workorders.view", "workorders.create", "workorders.dispatch",
                        "workorders.configure"],
    "dispatcher": ["workorders.view", "workorders.create", "workorders.dispatch"],
    "technician": ["workorders.create", "workorders.work"],
    "guard": ["workorders.create", "workorders.work"],
    "cleaner": ["workorders.create", "workorders.work"],
    "gardener": ["workorders.create", "workorders.work"],
    "finance": ["workorders.view"],
    "quality": ["workorders.view"],
}


def grant(apps, schema_editor):
    Role = apps.get_model("staff", "Role")
    for role in Role.objects.filter(code__in=GRANTS):
        missing = [p for p in GRANTS[role.code] if p not in role.permissions]
        if missing:
            role.permissions = [*role.permissions, *missing]
            role.save(update_fields=["permissions"])


class Migration(migrations.Migration):
    dependencies = [
        ("workorders", "0001_initial"),
        ("staff", "0001_initial"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
