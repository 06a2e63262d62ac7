"""Existing companies: the quality permissions on their default roles (new companies get
them from ``wuye.staff.policy.DEFAULT_ROLES``), and the conduct checklist and first
course new companies are seeded with (``wuye.quality.defaults``)."""

from django.db import migrations

from wuye.quality.defaults import seed

ALL = ["quality.view", "quality.inspect", "quality.manage"]
GRANTS = {
    "company_admin": ALL,
    "project_manager": ALL,
    "quality": ALL,
    "service_supervisor": ["quality.view", "quality.inspect"],
}


def forwards(apps, schema_editor):
    Role = apps.get_model("staff", "Role")
    Company = apps.get_model("estates", "Company")
    for role in Role.objects.filter(code__in=GRANTS):
        missing = [p for p in GRANTS[role.code] if p not in role.permissions]
        if missing:
            role.permissions = [*role.permissions, *missing]
            role.save(update_fields=["permissions"])
    for company in Company.objects.all():
        seed(
            company=company,
            conduct_item_model=apps.get_model("quality", "ConductItem"),
            course_model=apps.get_model("quality", "Course"),
            question_model=apps.get_model("quality", "QuizQuestion"),
        )

class Migration(migrations.Migration):
    dependencies = [
        ("quality", "0001_initial"),
        ("staff", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
