"""Existing companies: the facilities permissions on their default roles and the
default asset categories new companies are seeded with."""

from django.db import migrations

GRANTS = {
    "company_admin": ["facilities.view", "facilities.manage", "facilities.work"],
    "project_manager": ["facilities.view", "facilities.manage"],
    "dispatcher": ["facilities.view"],
    "technician": ["facilities.work"],
    "guard": ["facilities.work"],
    "cleaner": ["facilities.work"],
    "gardener": ["facilities.work"],
    "quality": ["facilities.view"],
}
CATEGORIES = {
    "elevator": ("电梯", "DT"),
    "water_pump": ("供水泵", "SB"),
    "power": ("配电", "PD"),
    "fire": ("消防", "XF"),
    "cctv": ("监控", "JK"),
    "access": ("门禁", "MJ"),
    "lighting": ("照明", "ZM"),
    "hvac": ("中央空调", "KT"),
    "generator": ("发电机", "FD"),
    "other": ("其他", "QT"),
}


def forwards(apps, schema_editor):
    Role = apps.get_model("staff", "Role")
    Company = apps.get_model("estates", "Company")
    AssetCategory = apps.get_model("facilities", "AssetCategory")
    for role in Role.objects.filter(code__in=GRANTS):
        missing = [p for p in GRANTS[role.code] if p not in role.permissions]
        if missing:
            role.permissions = [*role.permissions, *missing]
            role.save(update_fields=["permissions"])
    for company in Company.objects.all():
        for position, (code, (name, prefix)) in enumerate(CATEGORIES.items()):
            AssetCategory.objects.get_or_create(
                company=company,
                code=code,
                defaults={"name": name, "code_prefix": prefix, "sort_order": position},
            )


class Migration(migrations.Migration):
    dependencies = [
        ("facilities", "0001_initial"),
        ("staff", "0001_initial"),
        ("estates", "0002_alter_commonarea_common_area_name_unique_in_building_and_more"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
