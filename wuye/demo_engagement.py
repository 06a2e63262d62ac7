"""The engagement part of the demo: notices, activities, surveys and owner votes in
翠湖花园, as the project manager, the front desk and the residents would have made them.

- Notices: an urgent 停水 notice to 1栋 and 2栋 for tomorrow morning (published an hour
  ago), a pinned 温馨提示 to the whole estate (published four days ago), one scheduled for
  next week and a draft. The fan-out runs inline (the function the worker's task calls),
  so receipts and notifications exist when the load commits; about 40 % of the reached
  households have opened each published notice (written in bulk, with what ``mark_read``
  writes). The printed resident's household has not opened the urgent one.
- Activities: 中秋游园会 next week (80 places, at most 4 per household), full with a
  waitlist, one cancellation that moved a waiting household up, the printed resident
  confirmed with a ticket; and last month's 社区义诊 with check-ins and a recap.
- Surveys: an open SERVQUAL quarterly survey (performance, 1–7) with about 40 answers
  (most online, some taken by phone at the front desk; 响应性 scores lowest), an open
  owner vote on changing the lift maintenance contractor with about 30 ballots, and last
  month's closed vote with its result digest. The printed resident has answered neither.

Every write goes through the services with ``django.utils.timezone.now`` held at the
moment it happened (as the work-order replay does), always before the real now.
"""

import datetime
import random
from unittest import mock

from django.utils import timezone

from wuye.accounts.actor import Actor
from wuye.accounts.models import User
from wuye.activities import services as activities
from wuye.activities.models import SignupStatus
from wuye.estates.audience import Audience
from wuye.estates.models import Building, House
from wuye.notices import services as notices
from wuye.notices.models import Kind as NoticeKind
from wuye.notices.models import NoticeReceipt
from wuye.notifications.models import Notification
from wuye.notifications.services import delivered_together
from wuye.people.models import Residency
from wuye.surveys import services as surveys
from wuye.surveys.models import Channel, Dimension, QuestionKind

READ_SHARE = 0.4
# SERVQUAL: a respondent's overall mood, and how each dimension sits against it.
MOOD, MOOD_SPREAD, ITEM_SPREAD = 5.2, 0.6, 0.7
DIMENSION_OFFSET = {
    Dimension.TANGIBLES: 0.3,
    Dimension.RELIABILITY: 0.1,
    Dimension.RESPONSIVENESS: -1.0,
    Dimension.ASSURANCE: 0.3,
    Dimension.EMPATHY: -0.2,
}
COMMENTS = (
    "报修后等了两天才有人上门，希望响应再快一些。",
    "保安师傅很负责，夜间巡逻到位，点赞。",
    "地下车库有几盏灯坏了很久，建议尽快修好。",
    "夏天垃圾分类投放点异味较大，希望增加清洗次数。",
    "客服电话晚上经常打不通，希望能有人值班。",
    "绿化修剪及时，小区环境比去年好多了。",
    "电梯经常停运检修，能否提前在群里通知。",
    "快递堆在单元门口，希望物业协调设置快递柜。",
    "维修师傅上门很准时，活也干得细致，谢谢。",
    "楼道里常有小广告，希望保洁及时清理。",
    "车库出入口高峰期排队，建议优化道闸识别。",
    "希望多组织一些适合老人和孩子的社区活动。",
    "物业费收支公示很清楚，值得肯定。",
    "雨天单元门口地面很滑，建议铺防滑垫。",
    "夜间有外卖电动车在小区里骑得太快，请加强管理。",
    "整体满意，继续保持。",
)


class EngagementDemo:
    def __init__(self, rng: random.Random, today: datetime.date, communities, staff):
        self.rng, self.today = rng, today
        self.cuihu = communities["cuihu"]
        self.manager = Actor(self._member(staff, "manager").user)
        self.desk = Actor(self._member(staff, "dispatcher").user)
        self.now = timezone.now().replace(second=0, microsecond=0)
        self.tz = timezone.get_current_timezone()
        self.clock = {"now": self.now}

    @staticmethod
    def _member(staff, username):
        return next(m for m, p in staff if p[0] == username)

    def build(self) -> None:
        from wuye.demo import RESIDENT_MOBILE

        me = (
            Residency.objects.active()
            .filter(resident__mobile=RESIDENT_MOBILE, house__kind=House.Kind.RESIDENCE)
            .select_related("resident__user")
            .get()
        )
        self.me = Actor(me.resident.user)
        self.my_home = House.objects.get(pk=me.house_id)
        self.households = self._households()
        with mock.patch.object(timezone, "now", lambda: self.clock["now"]), delivered_together():
            self.closed_vote()
            self.past_activity()
            self.servqual_survey()
            self.mid_autumn_fair()
            self.lift_vote()
            self.notices()

    # --- time and people ----------------------------------------------------------------
    def at(self, days: int, clock: str) -> datetime.datetime:
        """``days`` from today at ``clock`` (local time)."""
        hours, minutes = map(int, clock.split(":"))
        day = self.today + datetime.timedelta(days=days)
        return datetime.datetime.combine(day, datetime.time(hours, minutes), tzinfo=self.tz)

    def set_clock(self, moment: datetime.datetime) -> datetime.datetime:
        self.clock["now"] = min(moment, self.now - datetime.timedelta(minutes=1))
        return self.clock["now"]

    def spread(self, start, end, n: int) -> list[datetime.datetime]:
        """``n`` sorted moments between ``start`` and ``end`` (never after the real now),
        in daytime hours mostly."""
        end = min(end, self.now - datetime.timedelta(minutes=5))
        span = max(int((end - start).total_seconds()), 60)
        moments = []
        for _ in range(n):
            moment = start + datetime.timedelta(seconds=self.rng.randrange(span))
            hour = timezone.localtime(moment).hour
            if hour < 7 and moment + datetime.timedelta(hours=8) < end:
                moment += datetime.timedelta(hours=8)  # nobody answers at 3 a.m.
            moments.append(moment)
        return sorted(moments)

    def _households(self) -> list[dict]:
        """翠湖花园 homes (not the printed resident's) whose people have lived there for
        two months at least, with a login: the house, a resident and (if any) the owner."""
        settled = self.today - datetime.timedelta(days=60)
        rows = (
            Residency.objects.active()
            .filter(
                house__community=self.cuihu,
                house__kind=House.Kind.RESIDENCE,
                resident__user__isnull=False,
                resident__user__is_active=True,
                move_in__lte=settled,
            )
            .exclude(house_id=self.my_home.pk)
            .order_by("house_id", "id")
            .values_list("house_id", "resident__user_id", "resident__name", "relation")
        )
        homes = {}
        for house_id, user_id, name, relation in rows:
            home = homes.setdefault(house_id, {"house_id": house_id, "user_id": user_id})
            home.setdefault("name", name)
            if relation == Residency.Relation.OWNER and "owner_id" not in home:
                home["owner_id"] = user_id
        houses = House.objects.in_bulk(list(homes))
        users = User.objects.in_bulk(
            {h["user_id"] for h in homes.values()}
            | {h.get("owner_id") for h in homes.values()} - {None}
        )
        actors = {}
        for home in homes.values():
            home["house"] = houses[home["house_id"]]
            home["actor"] = actors.setdefault(home["user_id"], Actor(users[home["user_id"]]))
            if "owner_id" in home:
                owner = home["owner_id"]
                home["owner"] = actors.setdefault(owner, Actor(users[owner]))
        return [homes[pk] for pk in sorted(homes)]

    # --- notices ----------------------------------------------------------------------------
    def notices(self) -> None:
        manager = self.manager
        self.set_clock(self.at(-4, "09:40"))
        tip = notices.create_notice(
            actor=manager,
            community=self.cuihu,
            kind=NoticeKind.TIP,
            title="温馨提示：电动自行车请勿入户、入楼道充电",
            body=(
                "各位业主、住户：\n"
                "近期全国多地发生电动自行车充电引发的火灾事故。为了您和家人的安全，请勿将"
                "电动自行车推入电梯、楼道或家中充电，请使用地下车库B区和北大门旁的集中充电桩"
                "（扫码充电，1元/4小时）。\n"
                "物业将每周开展楼道巡查，发现楼道内停放、充电的车辆将先行劝导并张贴提示。"
                "如需办理充电桩月卡，请到物业服务中心登记。\n"
                "感谢您的理解与配合！"
            ),
            is_pinned=True,
            expires_at=self.at(26, "23:59"),
        )
        self.publish(tip, self.at(-4, "10:00"))
        self.read(tip, self.at(-4, "10:05"), self.now)

        buildings = list(
            Building.objects.filter(community=self.cuihu, name__in=["1栋", "2栋"]).order_by("id")
        )
        posted = self.set_clock(self.now - datetime.timedelta(minutes=55))
        outage = notices.create_notice(
            actor=manager,
            community=self.cuihu,
            audience=Audience.BUILDINGS,
            buildings=buildings,
            kind=NoticeKind.OUTAGE,
            title="停水通知：1栋、2栋明日9:00—12:00暂停供水",
            body=(
                "尊敬的1栋、2栋业主、住户：\n"
                "因生活泵房二次供水设备检修及水箱清洗消毒，定于明日9:00至12:00暂停供水，"
                "届时1栋、2栋全部楼层停水。请提前做好储水准备，停水期间请关闭家中水龙头，"
                "以免来水时跑水。\n"
                "恢复供水初期水质可能略显浑浊，请放水片刻后再使用。如提前完工将即时恢复供水。\n"
                "给您带来不便，敬请谅解。咨询电话：0571-88881001。"
            ),
            is_emergency=True,
            event_starts_at=self.at(1, "09:00"),
            event_ends_at=self.at(1, "12:00"),
            expires_at=self.at(1, "18:00"),
        )
        self.publish(outage, posted + datetime.timedelta(minutes=3))
        self.read(outage, posted + datetime.timedelta(minutes=5), self.now)

        self.set_clock(self.now - datetime.timedelta(minutes=30))
        drill = notices.create_notice(
            actor=manager,
            community=self.cuihu,
            kind=NoticeKind.NOTICE,
            title="关于开展年度消防疏散演练的通知",
            body=(
                "为提高业主的消防安全意识和自救能力，物业服务中心将联合辖区消防救援站开展"
                "年度消防疏散演练。\n"
                "时间：下周六上午9:30（约1小时）\n地点：中心花园及3栋、4栋\n"
                "演练期间3栋、4栋消防警铃将鸣响、电梯暂停使用，请勿惊慌。"
                "欢迎各位业主参加，现场有灭火器实操体验。"
            ),
            publish_at=self.at(7, "08:00"),
        )
        notices.publish_notice(actor=manager, notice=drill)  # scheduled
        notices.create_notice(
            actor=manager,
            community=self.cuihu,
            kind=NoticeKind.NOTICE,
            title="关于调整地下车库临时停车收费标准的征求意见（草稿）",
            body=(
                "根据杭州市机动车停放服务收费管理有关规定，拟调整地下车库临时停车收费标准："
                "首小时内免费，超过1小时每小时3元，24小时最高收费30元。\n"
                "现向全体业主征求意见，意见征询期为15天。"
            ),
        )

    def publish(self, notice, moment) -> None:
        """Publish at ``moment`` and run the fan-out there and then (the worker's task
        would do the same a moment later; running it again changes nothing)."""
        self.set_clock(moment)
        notices.publish_notice(actor=self.manager, notice=notice)
        notices.fan_out(notice.pk)

    def read(self, notice, start, end) -> None:
        """About 40 % of the reached households with a login open the notice between
        ``start`` and ``end``: what ``mark_read`` writes for each, in bulk (one reader per
        household: their receipt and their notification)."""
        residents = {}
        for house_id, user_id in (
            Residency.objects.active()
            .filter(
                house_id__in=NoticeReceipt.objects.filter(notice=notice).values("house_id"),
                resident__user__isnull=False,
            )
            .exclude(house_id=self.my_home.pk)
            .order_by("house_id", "id")
            .values_list("house_id", "resident__user_id")
        ):
            residents.setdefault(house_id, []).append(user_id)
        houses = sorted(residents)
        chosen = self.rng.sample(houses, round(len(houses) * READ_SHARE))
        moments = self.spread(start, end, len(chosen))
        readers = {
            h: (self.rng.choice(residents[h]), at) for h, at in zip(chosen, moments, strict=True)
        }
        receipts = list(NoticeReceipt.objects.filter(notice=notice, house_id__in=chosen))
        for receipt in receipts:
            receipt.read_by_id, receipt.read_at = readers[receipt.house_id]
        NoticeReceipt.objects.bulk_update(receipts, ["read_at", "read_by"], batch_size=500)
        when = {user_id: at for user_id, at in readers.values()}
        rows = list(
            Notification.objects.filter(
                dedupe_key=notices.dedupe_key(notice), recipient_id__in=list(when)
            )
        )
        for row in rows:
            row.read_at = when[row.recipient_id]
        Notification.objects.bulk_update(rows, ["read_at"], batch_size=500)

    # --- activities -------------------------------------------------------------------------
    def mid_autumn_fair(self) -> None:
        """Next week, 80 places, at most 4 per household: full after about 22 households,
        a few more on the waitlist; one confirmed household cancels and the first waiting
        one moves up. The printed resident signed up early (3 people, confirmed)."""
        self.set_clock(self.at(-5, "10:00"))
        fair = activities.create_activity(
            actor=self.manager,
            community=self.cuihu,
            title="中秋游园会",
            place="中心花园",
            description=(
                "月圆人团圆！物业服务中心诚邀各位业主及家人参加中秋游园会：\n"
                "· 猜灯谜、套圈、投壶，赢取小礼品\n"
                "· 亲子DIY冰皮月饼（材料由物业准备）\n"
                "· 民乐表演与赏月茶话会\n"
                "每户最多4人，凭电子票入场。名额已满时可排队候补，有人取消将按顺序递补。"
            ),
            starts_at=self.at(7, "18:30"),
            ends_at=self.at(7, "21:00"),
            capacity=80,
            max_party_size=4,
            signup_deadline=self.at(6, "18:00"),
            cancel_deadline=self.at(7, "12:00"),
        )
        activities.open_activity(actor=self.manager, activity=fair)
        homes = self.rng.sample(self.households, 30)
        moments = self.spread(self.at(-5, "10:10"), self.now - datetime.timedelta(hours=3), 30)
        signups, waiting = [], 0
        for n, (home, moment) in enumerate(zip(homes, moments, strict=True)):
            self.set_clock(moment)
            if n == 2:
                signups.append(
                    activities.sign_up(
                        actor=self.me, activity=fair, house=self.my_home, party_size=3
                    )
                )
            party = self.rng.choice((2, 3, 3, 4, 4, 4))
            if n % 9 == 5:  # an older neighbour phoned the front desk
                signup = activities.staff_sign_up(
                    actor=self.desk,
                    activity=fair,
                    house=home["house"],
                    party_size=party,
                    contact_name=home["name"],
                    note="电话报名",
                )
            else:
                signup = activities.sign_up(
                    actor=home["actor"], activity=fair, house=home["house"], party_size=party
                )
            signups.append(signup)
            waiting += signup.status == SignupStatus.WAITLISTED
            if len(signups) >= 24 and waiting >= 3:
                break
        first_waiting = next(s for s in signups if s.status == SignupStatus.WAITLISTED)
        leaving = next(
            s
            for s in signups
            if s.status == SignupStatus.CONFIRMED
            and s.house_id != self.my_home.pk
            and s.party_size >= first_waiting.party_size
        )
        self.set_clock(self.now - datetime.timedelta(hours=2))
        activities.cancel_signup(
            actor=self._actor_of(leaving.house_id), signup=leaving, reason="临时要出差，去不了了"
        )

    def past_activity(self) -> None:
        """Last month's free health check: signed up over ten days, most households
        checked in at the door, and the manager's recap the day after."""
        self.set_clock(self.at(-40, "10:00"))
        clinic = activities.create_activity(
            actor=self.manager,
            community=self.cuihu,
            title="社区义诊暨健康讲座",
            place="南大门广场",
            description=(
                "物业联合西湖区社区卫生服务中心举办义诊活动：免费测量血压、血糖，"
                "中医把脉问诊，并由全科医生讲解秋冬季心脑血管疾病预防。"
                "每户最多2人，请携带既往病历或体检报告。"
            ),
            starts_at=self.at(-30, "09:00"),
            ends_at=self.at(-30, "11:30"),
            capacity=60,
            max_party_size=2,
            signup_deadline=self.at(-31, "20:00"),
            cancel_deadline=self.at(-31, "20:00"),
        )
        activities.open_activity(actor=self.manager, activity=clinic)
        homes = self.rng.sample(self.households, 18)
        moments = self.spread(self.at(-40, "10:30"), self.at(-31, "19:00"), len(homes))
        signups = []
        for home, moment in zip(homes, moments, strict=True):
            self.set_clock(moment)
            signups.append(
                activities.sign_up(
                    actor=home["actor"],
                    activity=clinic,
                    house=home["house"],
                    party_size=self.rng.choice((1, 2, 2)),
                )
            )
        door, people = self.at(-30, "08:45"), 0
        for signup in signups:
            if self.rng.random() < 0.14:
                continue  # did not come
            door += datetime.timedelta(minutes=self.rng.randrange(1, 5))
            self.set_clock(door)
            came = signup.party_size if self.rng.random() < 0.85 else 1
            activities.check_in(actor=self.desk, signup=signup, attended_people=came)
            people += came
        self.set_clock(self.at(-29, "16:20"))
        month = (self.today - datetime.timedelta(days=30)).month
        activities.post_recap(
            actor=self.manager,
            activity=clinic,
            text=(
                f"{month}月的社区义诊圆满结束！当天共有{people}位居民到场，6位医生为大家测量血压血糖、"
                "把脉问诊，发现3位业主血压偏高，已建议到医院进一步检查。健康讲座现场互动热烈，"
                "感谢社区卫生服务中心的医生们和志愿者的辛苦付出。下次活动我们再见！"
            ),
        )

    def _actor_of(self, house_id) -> Actor:
        return next(h["actor"] for h in self.households if h["house_id"] == house_id)

    # --- surveys and votes ------------------------------------------------------------------
    def servqual_survey(self) -> None:
        """This quarter's SERVQUAL survey (performance, 1–7) with a comment box: about 40
        households answered, 8 of them by phone at the front desk."""
        quarter = (self.today.month - 1) // 3 + 1
        self.set_clock(self.at(-6, "09:00"))
        survey = surveys.create_from_servqual_template(
            actor=self.manager,
            title=f"{self.today.year}年第{quarter}季度物业服务满意度调查",
            community=self.cuihu,
            audience=Audience.COMMUNITY,
            closes_at=self.at(14, "23:59"),
            mode="performance",
            scale=7,
        )
        comment = surveys.add_question(
            actor=self.manager,
            survey=survey,
            kind=QuestionKind.TEXT,
            text="您对物业服务还有哪些意见和建议？",
            required=False,
        )
        self.set_clock(self.at(-6, "09:30"))
        surveys.open_survey(actor=self.manager, survey=survey)
        items = list(survey.questions.exclude(pk=comment.pk).order_by("position"))
        homes = self.rng.sample(self.households, 40)
        moments = self.spread(self.at(-6, "09:40"), self.now, len(homes))
        for n, (home, moment) in enumerate(zip(homes, moments, strict=True)):
            self.set_clock(moment)
            mood = self.rng.gauss(MOOD, MOOD_SPREAD)
            answers = {
                q.pk: {"score": self.score(mood + DIMENSION_OFFSET[q.dimension])} for q in items
            }
            if self.rng.random() < 0.3:
                answers[comment.pk] = {"text": self.rng.choice(COMMENTS)}
            if n % 5 == 3:
                surveys.submit_response(
                    actor=self.desk,
                    survey=survey,
                    answers=answers,
                    house=home["house"],
                    channel=Channel.PHONE,
                )
            else:
                surveys.submit_response(
                    actor=home["actor"], survey=survey, answers=answers, house=home["house"]
                )

    def score(self, centre: float) -> int:
        return max(1, min(7, round(centre + self.rng.gauss(0, ITEM_SPREAD))))

    def owners(self) -> list[dict]:
        return [h for h in self.households if "owner" in h]

    def ballots(self, vote, homes, start, end, weights) -> None:
        options = vote.questions.get().options
        question = vote.questions.get().pk
        moments = self.spread(start, end, len(homes))
        for n, (home, moment) in enumerate(zip(homes, moments, strict=True)):
            self.set_clock(moment)
            answers = {question: {"choices": [self.rng.choices(options, weights)[0]]}}
            if n % 8 == 6:  # a paper ballot handed in at the office
                surveys.submit_response(
                    actor=self.desk,
                    survey=vote,
                    answers=answers,
                    house=home["house"],
                    channel=Channel.PAPER,
                )
            else:
                surveys.submit_response(
                    actor=home["owner"], survey=vote, answers=answers, house=home["house"]
                )

    def lift_vote(self) -> None:
        self.set_clock(self.at(-4, "14:00"))
        vote = surveys.create_vote(
            actor=self.manager,
            title="是否更换电梯维保单位",
            question="是否同意自下季度起更换小区电梯维保单位（现维保单位合同到期不再续签）？",
            intro=(
                "现电梯维保单位合同将于本季度末到期。近一年小区电梯故障停运23次，"
                "业主投诉较多。经业委会提议，拟通过公开招标重新选聘电梯维保单位，"
                "招标结果将另行公示。本次表决按业主人数和专有部分面积分别统计。"
            ),
            community=self.cuihu,
            audience=Audience.COMMUNITY,
            closes_at=self.at(10, "20:00"),
        )
        surveys.open_survey(actor=self.manager, survey=vote)
        homes = self.rng.sample(self.owners(), 30)
        self.ballots(vote, homes, self.at(-4, "14:10"), self.now, (62, 28, 10))

    def closed_vote(self) -> None:
        """Last month's vote on the 3栋 roof repair from the maintenance fund, closed by
        the sweep at its closing time: its result digest is the last ballot's hash."""
        self.set_clock(self.at(-45, "09:00"))
        vote = surveys.create_vote(
            actor=self.manager,
            title="关于使用专项维修资金维修3栋屋面防水的表决",
            question="是否同意使用住宅专项维修资金约18.6万元，对3栋屋面防水层进行翻修？",
            intro=(
                "3栋顶楼多户业主反映雨季屋面渗漏。经第三方检测，屋面防水层已老化失效，"
                "需整体翻修。预算约18.6万元，拟从住宅专项维修资金中列支，按3栋各户面积分摊。"
            ),
            community=self.cuihu,
            audience=Audience.COMMUNITY,
            closes_at=self.at(-31, "18:00"),
        )
        surveys.open_survey(actor=self.manager, survey=vote)
        homes = self.rng.sample(self.owners(), 24)
        self.ballots(vote, homes, self.at(-45, "09:10"), self.at(-31, "17:30"), (74, 17, 9))
        self.set_clock(self.at(-31, "18:00"))
        surveys.close_due_surveys(now=self.clock["now"])
