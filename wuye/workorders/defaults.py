"""Default request categories for a new company (editable afterwards).

(code, name, request type, dispatch mode, trade code, default urgency, paid, return visit,
 children as (code, name, urgency or None, paid or None))
"""

from wuye.core.seeding import create_missing

DEFAULT_CATEGORIES = [
    ("water_electric", "水电", "repair", "auto", "plumbing_electric", "normal", False,
     "unless_rated_well", [
         ("water_leak", "水管漏水", "urgent", None),
         ("power_cut", "停电/跳闸", "urgent", None),
         ("lights_sockets", "灯具开关插座", None, True),
         ("taps_toilets", "水龙头/马桶", None, True),
     ]),
    ("pipes", "管道疏通", "repair", "grab", "pipes", "normal", False, "unless_rated_well", [
        ("drain_blocked", "下水道堵塞", "urgent", None),
        ("sewage", "化粪池/排污", None, None),
    ]),
    ("elevator", "电梯", "repair", "auto", "elevator", "urgent", False, "always", [
        ("elevator_trapped", "电梯困人", "emergency", None),
        ("elevator_fault", "电梯故障", None, None),
    ]),
    ("doors_windows", "门窗", "repair", "grab", "doors_windows", "normal", False,
     "unless_rated_well", [
         ("locks_access", "门锁/门禁", None, None),
         ("windows_glass", "窗户/玻璃", None, True),
     ]),
    ("public_facilities", "公共设施", "repair", "assign", "civil", "normal", False,
     "unless_rated_well", [
         ("lighting", "路灯/照明", None, None),
         ("facility_damage", "公共设施损坏", None, None),
     ]),
    ("environment", "环境卫生", "complaint", "assign", None, "normal", False, "always", [
        ("garbage", "垃圾清运", None, None),
        ("corridor_cleaning", "楼道卫生", None, None),
    ]),
    ("greening", "绿化", "complaint", "assign", None, "normal", False, "always", [
        ("greening_care", "绿化养护", None, None),
    ]),
    ("security_order", "安全秩序", "complaint", "assign", None, "urgent", False, "always", [
        ("security", "治安/门岗", None, None),
    ]),
    ("noise", "噪音扰民", "complaint", "assign", None, "normal", False, "always", [
        ("noise_neighbour", "邻里噪音", None, None),
        ("noise_renovation", "装修噪音", None, None),
    ]),
    ("parking", "停车", "complaint", "assign", None, "normal", False, "always", [
        ("parking_order", "乱停车/占用车位", None, None),
    ]),
    ("fees", "费用", "inquiry", "assign", None, "normal", False, "never", [
        ("fee_question", "费用咨询", None, None),
    ]),
    ("service", "服务", "complaint", "assign", None, "normal", False, "always", [
        ("service_attitude", "服务态度", None, None),
    ]),
    ("inquiry", "咨询", "inquiry", "assign", None, "normal", False, "never", [
        ("general_inquiry", "办事咨询", None, None),
    ]),
    ("suggestion", "建议", "suggestion", "assign", None, "normal", False, "never", [
        ("general_suggestion", "意见建议", None, None),
    ]),
    ("praise", "表扬", "praise", "assign", None, "normal", False, "never", [
        ("general_praise", "表扬", None, None),
    ]),
    # Proactive visits the office sends from the household care score (wuye.quality.care).
    ("care", "业主关怀", "inquiry", "assign", None, "normal", False, "never", [
        ("proactive_visit", "上门回访", None, None),
    ]),
]  # fmt: skip


def seed(*, company, category_model, trade_model) -> None:
    """Create the default categories missing for ``company`` (idempotent). Takes the
    model classes so the data migration can pass its historical models."""
    trades = {t.code: t for t in trade_model.objects.filter(company=company)}
    parents, children = {}, {}
    for position, row in enumerate(DEFAULT_CATEGORIES):
        code, name, kind, mode, trade, urgency, paid, visit, subcategories = row
        common = {
            "request_type": kind,
            "dispatch_mode": mode,
            "trade": trades.get(trade),
            "return_visit": visit,
        }
        parents[code] = {
            "name": name,
            "default_urgency": urgency,
            "is_paid": paid,
            "sort_order": position * 10,
            **common,
        }
        for offset, (child_code, child_name, child_urgency, child_paid) in enumerate(subcategories):
            children[child_code] = {
                "parent_code": code,
                "name": child_name,
                "default_urgency": child_urgency or urgency,
                "is_paid": paid if child_paid is None else child_paid,
                "sort_order": position * 10 + offset + 1,
                **common,
            }
    parents = create_missing(category_model, company=company, key="code", rows=parents)
    for fields in children.values():
        fields["parent"] = parents[fields.pop("parent_code")]
    create_missing(category_model, company=company, key="code", rows=children)
