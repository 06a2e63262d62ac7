"""What a new company starts with: the seed's conduct code as checklist items, and the
seed's 物业服务意识 as the first training course with its quiz. Both are data the company
edits afterwards; the data migration seeds existing companies from the same lists."""

# (aspect, rule set, item) — the four points of service awareness (服务意识的四个要点)
# and the code's short lists: 六不, 五要, 四勤, 三个注意, 两个尊重.
CONDUCT_ITEMS: tuple[tuple[str, str, str], ...] = (
    ("appearance", "", "工作服整洁规范,佩戴工作证"),
    ("appearance", "", "仪容干净、得体、大方"),
    ("appearance", "六不", "不衣冠不整"),
    ("speech", "", "用语规范、礼貌、清晰、简洁,语气音量适中"),
    ("speech", "六不", "不说拒绝语"),
    ("speech", "六不", "不与客争执"),
    ("speech", "五要", "要谦虚:做对了是职责、做好了是责任"),
    ("speech", "五要", "要真诚:不急不躁、诚心诚意,善于倾听"),
    ("speech", "三个注意", "说话轻"),
    ("behaviour", "", "文明、热情、主动、敬业,无粗鲁冷漠表现"),
    ("behaviour", "六不", "不推脱问题"),
    ("behaviour", "六不", "不厚此薄彼"),
    ("behaviour", "六不", "不损公肥私"),
    ("behaviour", "五要", "要认真:有求必应、有问必答"),
    ("behaviour", "四勤", "眼勤、嘴勤、手勤、腿勤"),
    ("behaviour", "三个注意", "走路轻"),
    ("behaviour", "三个注意", "操作轻"),
    ("etiquette", "", "主动问候、致谢、道歉,使用敬语"),
    ("etiquette", "五要", "要礼貌:先开口、后闭口,不离敬语"),
    ("etiquette", "五要", "要主动:问候在先、行动在先"),
    ("etiquette", "两个尊重", "尊重外部客户——业主"),
    ("etiquette", "两个尊重", "尊重内部客户——同事"),
)

FIRST_COURSE = {
    "code": "service-awareness",
    "title": "物业服务意识",
    "summary": "服务意识的四个要点与员工行为规范(六不、五要、四勤、三个注意、两个尊重)",
    "pass_mark": 80,
    "content": """\
一、服务意识的四个要点
1. 服务仪表:保持整洁、干净、得体、大方的外表形象,穿着规范的工作服装,佩戴工作证件。
2. 服务言谈:使用规范、礼貌、友好、清晰、简洁的语言,注意语气和音量,避免粗俗、冒犯、模糊、冗长的话语。
3. 服务举止:遵守职业道德和行为规范,文明、礼貌、热情、主动、敬业,避免粗鲁、冷漠、被动、消极。
4. 服务礼仪:掌握问候、致谢、道歉、握手、敬礼等礼仪,体现尊重和礼让。

二、员工行为规范
六不:不说拒绝语;不推脱问题;不与客争执;不厚此薄彼;不衣冠不整;不损公肥私。
五要:要礼貌(先开口、后闭口,不离敬语);要主动(问候在先、行动在先);要认真(有求必应、有问必答);要谦虚(做对了是职责、做好了是责任);要真诚(不急不躁、诚心诚意,善于倾听)。
四勤:眼勤、嘴勤、手勤、腿勤。
三个注意:走路轻、说话轻、操作轻。
两个尊重:外部客户——业主;内部客户——同事。

三、决定服务质量的五个要素
专业性 32%:执行已承诺服务的可信赖性和精确性的能力。
责任心 22%:帮助客户和提供快速服务的心甘情愿度。
仪表 19%:员工的知识和礼貌,以及他们传播信任和信心的能力。
人情味 16%:对客户体贴照顾、个性化的关心。
软、硬件 11%:实体工具、设备、材料、服务等外在体现。

四、一个不满的客户
一个投诉的客户背后约有 25 个不满的客户,其中 24 人不满却不投诉;
投诉得到解决,多数客户愿意继续与公司保持关系,迅速解决则更多。
超越客户期望的三个要素:关怀、道歉、改进。
""",
    # (question, choices, index of the right choice)
    "questions": (
        (
            "物业服务意识的四个要点不包括哪一项?",
            ["服务仪表", "服务言谈", "服务价格", "服务礼仪"],
            2,
        ),
        ("“六不”中,以下哪一项属于其中?", ["不说拒绝语", "不加班", "不休假", "不接电话"], 0),
        (
            "“五要”中的“要礼貌”是指:",
            ["先开口、后闭口,不离敬语", "问候在先、行动在先", "有求必应、有问必答", "不急不躁"],
            0,
        ),
        (
            "“四勤”是指:",
            [
                "眼勤、嘴勤、手勤、腿勤",
                "早勤、晚勤、日勤、夜勤",
                "勤学、勤问、勤思、勤练",
                "以上都不是",
            ],
            0,
        ),
        (
            "“三个注意”是:",
            ["走路轻、说话轻、操作轻", "早到、晚走、不请假", "看、听、问", "整洁、安静、有序"],
            0,
        ),
        ("“两个尊重”中的内部客户是:", ["业主", "同事", "供应商", "访客"], 1),
        ("决定服务质量的五个要素中,权重最高的是:", ["仪表", "人情味", "专业性", "软、硬件"], 2),
        (
            "按“投诉冰山”,一个投诉的客户背后大约有多少个不满的客户?",
            ["1 个", "5 个", "25 个", "100 个"],
            2,
        ),
        (
            "超越客户期望的三个要素是:",
            ["关怀、道歉、改进", "价格、速度、质量", "微笑、鞠躬、握手", "以上都不是"],
            0,
        ),
        (
            "遇到业主提出暂时无法满足的要求,正确的做法是:",
            ["直接拒绝", "推给其他部门", "耐心解释并及时上报跟进", "不予理会"],
            2,
        ),
    ),
}


def seed(*, company, conduct_item_model, course_model, question_model) -> None:
    """Give ``company`` the default checklist and first course unless it has them;
    takes the models so the data migration can pass its historical ones."""
    if not conduct_item_model.objects.filter(company=company).exists():
        conduct_item_model.objects.bulk_create(
            conduct_item_model(
                company=company, aspect=aspect, rule_set=rule_set, text=text, sort_order=i
            )
            for i, (aspect, rule_set, text) in enumerate(CONDUCT_ITEMS)
        )
    if course_model.objects.filter(company=company, code=FIRST_COURSE["code"]).exists():
        return
    fields = {key: value for key, value in FIRST_COURSE.items() if key != "questions"}
    course = course_model.objects.create(company=company, **fields)
    question_model.objects.bulk_create(
        question_model(course=course, text=text, choices=choices, answer=answer, sort_order=i)
        for i, (text, choices, answer) in enumerate(FIRST_COURSE["questions"])
    )
