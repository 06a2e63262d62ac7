"""What generated requests are about: the share of each default leaf category within its
request type, what residents write and what the staff note when done, and when
requests come in (hour of day, weekday, season)."""

import math

# Request type mix (the quality benchmark's): 70 % repair, 12 % inquiry, 6 % complaint,
# 7 % suggestion, 5 % praise.
REQUEST_TYPES = (
    ("repair", 70),
    ("inquiry", 12),
    ("complaint", 6),
    ("suggestion", 7),
    ("praise", 5),
)
# 40 % resident app, 35 % phone, 10 % front desk, 10 % API / mini-program, 5 % staff.
CHANNELS = (("resident_h5", 40), ("phone", 35), ("walk_in", 10), ("api", 10), ("staff", 5))

# leaf code: (weight within its type, what residents write, what the staff note)
CATEGORIES = {
    "water_leak": (
        14,
        ("厨房水管漏水，楼下天花板渗水", "卫生间墙角渗水", "阳台水管爆裂"),
        "更换破损水管接头，试压无渗漏",
    ),
    "power_cut": (
        6,
        ("家里突然停电，空开跳闸合不上", "一半插座没电"),
        "排查线路短路点，更换漏电开关",
    ),
    "lights_sockets": (
        10,
        ("客厅灯不亮，开关没反应", "插座冒火花，跳闸", "卧室灯一直闪"),
        "更换开关面板和灯具",
    ),
    "taps_toilets": (
        10,
        ("卫生间马桶堵塞", "水龙头关不紧一直滴水", "马桶水箱不停进水"),
        "更换阀芯和进水阀",
    ),
    "drain_blocked": (
        8,
        ("下水道堵塞，厨房水池下不去水", "阳台地漏堵塞，积水"),
        "疏通下水管道，清理杂物",
    ),
    "sewage": (2, ("楼下化粪池冒水，气味很大",), "联系清运单位抽排化粪池"),
    "elevator_trapped": (1, ("电梯困人！3号楼电梯停在两层之间",), "维保单位到场放人，检修门锁回路"),
    "elevator_fault": (
        4,
        ("电梯按钮失灵", "电梯运行时异响", "电梯门关不上"),
        "维保单位检修，更换按钮板",
    ),
    "locks_access": (
        6,
        ("入户门锁坏了，钥匙打不开", "单元门禁刷卡没反应"),
        "更换锁芯，调整门禁读卡器",
    ),
    "windows_glass": (3, ("窗户玻璃裂了，需要更换", "推拉窗滑轮坏了"), "更换玻璃和滑轮"),
    "lighting": (5, ("楼道灯不亮，晚上很黑", "小区路灯坏了好几盏"), "更换灯管和感应开关"),
    "facility_damage": (5, ("儿童游乐设施螺丝松动", "小区健身器材损坏"), "紧固并更换损坏部件"),
    "garbage": (4, ("垃圾桶满了没人清运", "垃圾站气味很大"), "增加清运频次，清洗垃圾桶"),
    "corridor_cleaning": (4, ("楼道有垃圾没人清理", "电梯厅地面很脏"), "安排保洁清扫并加强巡查"),
    "greening_care": (2, ("绿化带杂草很多", "树枝挡住了窗户"), "修剪树枝，清除杂草"),
    "security": (2, ("门岗不登记外来人员", "夜里有陌生人在楼道徘徊"), "约谈门岗，加强夜间巡逻"),
    "noise_neighbour": (4, ("楼上深夜噪音太大", "邻居家狗一直叫"), "上门沟通，双方达成谅解"),
    "noise_renovation": (3, ("楼上装修噪音太大，中午也在施工",), "约谈装修方，按规定时段施工"),
    "parking_order": (3, ("小区门口有车乱停", "我的车位被别人占用"), "张贴告知单，联系车主挪车"),
    "service_attitude": (2, ("客服电话态度很差", "维修师傅不守约"), "约谈当事员工，向业主致歉"),
    "fee_question": (
        3,
        ("物业费怎么缴纳？", "这个月账单金额怎么算的？"),
        "电话解释收费标准和缴费方式",
    ),
    "general_inquiry": (2, ("快递可以放在门岗吗？", "装修需要办理什么手续？"), "已电话答复"),
    "general_suggestion": (
        1,
        ("建议增加电动车充电桩", "希望小区多装几个监控"),
        "已转项目部研究，回复业主",
    ),
    "general_praise": (
        1,
        ("表扬维修师傅，服务很周到", "保安很负责，帮忙搬东西"),
        "已转达表扬并在例会通报",
    ),
}

# Root causes of complaints (the complaint analysis' breakdown).
ROOT_CAUSES = (
    ("attitude", 12),
    ("quality", 15),
    ("delay", 18),
    ("facilities", 12),
    ("fees", 6),
    ("environment", 14),
    ("security", 8),
    ("neighbour", 8),
    ("management", 4),
    ("unfounded", 2),
    ("other", 1),
)
PARTIES = (("department", 40), ("neighbour", 25), ("vendor", 10), ("other", 25))
RATINGS = (("5", 55), ("4", 25), ("3", 10), ("2", 6), ("1", 4))

# Requests per local hour of day (relative): quiet nights, peaks mid-morning and evening.
HOURLY = (
    0.15, 0.10, 0.08, 0.08, 0.10, 0.20, 0.50, 1.00, 1.60, 2.00, 2.00, 1.70,
    1.20, 1.30, 1.60, 1.60, 1.50, 1.50, 1.60, 1.90, 1.80, 1.30, 0.80, 0.40,
)  # fmt: skip
WEEKEND = 1.15  # residents are at home and notice more


def day_weight(day, noise: float) -> float:
    """Busier in summer (rain, leaks, air conditioners), at weekends, and some days
    simply busier (``noise`` in [0, 1))."""
    season = 1 + 0.2 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 200) / 365)
    weekend = WEEKEND if day.weekday() >= 5 else 1.0
    return season * weekend * (0.85 + 0.3 * noise)
