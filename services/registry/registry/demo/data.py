"""The demo district: a fictional but realistic 创卫 registry modelled on 上饶市广丰区.

Everything here is plain data so a reader can check it against DOMAIN.md; the
loader (``loader.py``) turns it into rows. Street centres and road names are
plausible, not surveyed. Checklists follow the national 暗访 deduction style
(DOMAIN.md §1.4–1.6): every item has points, the total of a type is 100, a few
items are vetoes (``veto_below`` = the score rate under which the whole visit
fails, e.g. 活禽 20 points, veto below 70%), and tags mark the items inspectors
filter on (``epidemic`` 三防/消杀, ``vector`` 病媒, ``tobacco`` 控烟).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEMO_PASSWORD = "demo-password"

REGION_NAME = "上饶市广丰区"
TIMEZONE = "Asia/Shanghai"

# (lat_min, lat_max, lon_min, lon_max) of the real district, roughly.
BBOX = (28.33, 28.52, 118.08, 118.35)

# Fixed so every `make run` produces the same 172 points.
SEED = 20261129
SAMPLE_POINT_TOTAL = 172


# ---------------------------------------------------------------------------
# Divisions: 街道/乡镇 → 社区/村 → 网格
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Community:
    code: str  # two digits, e.g. "01" → GF-YF-01
    name: str
    grids: int


@dataclass(frozen=True)
class Street:
    code: str  # e.g. "YF" → GF-YF
    name: str
    centre: tuple[float, float]  # (lat, lon)
    # How many sample points land here relative to the others (town centre > outskirts).
    weight: int
    roads: tuple[str, ...]
    communities: tuple[Community, ...]


STREETS: tuple[Street, ...] = (
    Street(
        code="YF",
        name="永丰街道",
        centre=(28.437, 118.191),
        weight=5,
        roads=("永丰大道", "人民路", "解放路", "府前路", "东街", "西街"),
        communities=(
            Community("01", "城东社区", 3),
            Community("02", "城西社区", 3),
            Community("03", "府前社区", 2),
            Community("04", "南门社区", 2),
        ),
    ),
    Street(
        code="LL",
        name="芦林街道",
        centre=(28.452, 118.174),
        weight=4,
        roads=("芦林大道", "月兔大道", "建设路", "广信路"),
        communities=(
            Community("01", "芦林社区", 3),
            Community("02", "桥头社区", 2),
            Community("03", "月兔社区", 3),
        ),
    ),
    Street(
        code="FX",
        name="丰溪街道",
        centre=(28.430, 118.212),
        weight=4,
        roads=("丰溪路", "中山路", "滨江路", "五都大道"),
        communities=(
            Community("01", "丰溪社区", 3),
            Community("02", "东门社区", 2),
            Community("03", "新城社区", 3),
        ),
    ),
    Street(
        code="XX",
        name="下溪街道",
        centre=(28.419, 118.182),
        weight=3,
        roads=("下溪路", "塘墀路", "兴业大道", "南环路"),
        communities=(
            Community("01", "下溪社区", 2),
            Community("02", "塘墀社区", 2),
            Community("03", "湖塘社区", 3),
        ),
    ),
    Street(
        code="YK",
        name="洋口镇",
        centre=(28.392, 118.262),
        weight=2,
        roads=("洋口大道", "新街", "沿河路"),
        communities=(
            Community("01", "洋口社区", 3),
            Community("02", "新街社区", 2),
            Community("03", "上汪村", 2),
        ),
    ),
)


def division_code(street: Street, community: Community | None = None, grid: int | None = None):
    """GF-YF, GF-YF-01, GF-YF-01-G1."""
    code = f"GF-{street.code}"
    if community is not None:
        code += f"-{community.code}"
    if grid is not None:
        code += f"-G{grid}"
    return code


def street_office_code(street: Street) -> str:
    return f"GF-JD-{street.code}"


# ---------------------------------------------------------------------------
# Responsible units (责任单位): code, name, kind, contact phone
# ---------------------------------------------------------------------------

UNITS: tuple[tuple[str, str, str, str], ...] = (
    ("GF-AWB", "广丰区爱国卫生运动委员会办公室", "department", "0793-2612301"),
    ("GF-SCJG", "广丰区市场监督管理局", "department", "0793-2625315"),
    ("GF-CGJ", "广丰区城市管理局", "department", "0793-2633219"),
    ("GF-ZJJ", "广丰区住房和城乡建设局", "department", "0793-2621506"),
    ("GF-WJW", "广丰区卫生健康委员会", "department", "0793-2617120"),
    ("GF-JTJ", "广丰区教育体育局", "department", "0793-2622418"),
    ("GF-JTYS", "广丰区交通运输局", "department", "0793-2628350"),
    ("GF-WGLJ", "广丰区文化广电新闻出版旅游局", "department", "0793-2615863"),
    ("GF-SLJ", "广丰区水利局", "department", "0793-2624771"),
    ("GF-JGSW", "广丰区机关事务服务中心", "department", "0793-2611095"),
    ("GF-STHJ", "上饶市广丰生态环境局", "department", "0793-2619610"),
    ("GF-JD-YF", "永丰街道办事处", "street_office", "0793-2631108"),
    ("GF-JD-LL", "芦林街道办事处", "street_office", "0793-2652216"),
    ("GF-JD-FX", "丰溪街道办事处", "street_office", "0793-2645367"),
    ("GF-JD-XX", "下溪街道办事处", "street_office", "0793-2668032"),
    ("GF-JD-YK", "洋口镇人民政府", "street_office", "0793-2691120"),
    ("GF-NMGS", "广丰区农贸市场管理有限公司", "company", "0793-2636688"),
    ("GF-HWGS", "广丰区城乡环卫保洁服务有限公司", "company", "0793-2639012"),
    ("GF-WY-FX", "上饶丰溪物业服务有限公司", "company", "0793-2647788"),
    ("GF-WY-YF", "广丰永丰物业管理有限公司", "company", "0793-2635566"),
    ("GF-KYZ", "广丰汽车客运站有限公司", "company", "0793-2620114"),
    ("GF-ZYZ", "广丰区城区志愿者服务协会", "other", "0793-2613399"),
)

MARKET_UNIT = "GF-NMGS"
CITY_ADMIN_UNIT = "GF-CGJ"
# A point type whose unit is STREET_OFFICE answers to the street office of the
# point's own street (城中村, 背街小巷 are the streets' job).
STREET_OFFICE = "@street"


# ---------------------------------------------------------------------------
# Point types and their checklists
# ---------------------------------------------------------------------------


def item(
    code: str,
    text: str,
    points: int,
    *,
    veto_below: float | None = None,
    tags: tuple[str, ...] = (),
) -> dict[str, Any]:
    """One checklist item in the stored shape ``{code, text, points, veto_below, tags}``."""
    return {
        "code": code,
        "text": text,
        "points": points,
        "veto_below": veto_below,
        "tags": list(tags),
    }


EPI = ("epidemic",)
VEC = ("epidemic", "vector")
SMOKE = ("tobacco",)


@dataclass(frozen=True)
class PointTypeSpec:
    code: str
    name: str
    category: str  # code of a 2014 section, C1…C8
    units: tuple[str, ...]  # unit codes (one picked per point) or (STREET_OFFICE,)
    pass_mark: float
    visit_every_days: int
    count: int  # sample points of this type in the demo
    items: tuple[dict[str, Any], ...]
    # Name patterns; placeholders: {place} community, {street} street, {road},
    # {surname}, {word} (from ``words``), {n} a house number, {k} a digit.
    names: tuple[str, ...]
    words: tuple[str, ...] = ()
    # The address after "上饶市广丰区<street>", with the same placeholders.
    address: str = "{road}{n}号"
    # Street codes the type's points may land in; empty means all of them.
    streets: tuple[str, ...] = field(default=())


POINT_TYPES: tuple[PointTypeSpec, ...] = (
    PointTypeSpec(
        code="NMSC",
        name="农贸市场",
        category="C3",  # 2014 标准 places 农贸市场 under 市容环境卫生 (标准化菜市场比例)
        units=(MARKET_UNIT,),
        pass_mark=85,
        visit_every_days=7,
        count=10,
        names=("{place}农贸市场", "{road}菜市场"),
        items=(
            item(
                "NM-01",
                "五公示齐全：管理制度、功能分区图、健康教育栏（每月更新）、农残检测结果（每日公示）、禁烟标识",
                10,
            ),
            item("NM-02", "划行归市，摊位整齐，无摊外经营、占道经营", 10),
            item("NM-03", "地面、摊台、排水沟清洁，无积水无异味，一摊一桶", 10),
            item(
                "NM-04",
                "活禽经营区相对独立，实行隔离宰杀，宰杀废弃物规范处理",
                20,
                veto_below=0.7,
                tags=EPI,
            ),
            item(
                "NM-05", "直接入口食品有防蝇防尘设施，经营者亮证经营并持有效健康证明", 10, tags=EPI
            ),
            item("NM-06", "水产区给排水设施完善，无污水外溢", 10),
            item(
                "NM-07",
                "防鼠设施完好：下水道口防鼠网孔径小于1厘米，门缝小于0.6厘米，规范设置毒饵站",
                10,
                tags=VEC,
            ),
            item("NM-08", "3–11月每30–50米设置捕蝇笼，无蝇类孳生，无鼠迹", 10, tags=VEC),
            item("NM-09", "垃圾容器密闭，日产日清，无满溢无渗滤液；市场公厕清洁无异味", 10),
        ),
    ),
    PointTypeSpec(
        code="XCY",
        name="小餐饮",
        category="C6",
        units=("GF-SCJG",),
        pass_mark=80,
        visit_every_days=7,
        count=30,
        names=("{surname}记{word}", "{place}{word}店", "老{surname}家{word}"),
        words=(
            "米粉",
            "拌粉",
            "炒粉",
            "馄饨",
            "水饺",
            "麻辣烫",
            "煲仔饭",
            "快餐",
            "牛肉面",
            "烧烤",
            "土菜",
            "包子",
        ),
        items=(
            item(
                "XC-01",
                "五公示：营业执照/食品经营许可证、量化分级标识、管理制度、从业人员健康证明、禁烟标识",
                15,
            ),
            item("XC-02", "从业人员持有效健康证明，穿戴整洁工作衣帽", 10),
            item(
                "XC-03",
                "后厨布局合理，生熟分开，食品隔墙离地存放，无过期变质食品",
                20,
                veto_below=0.6,
            ),
            item(
                "XC-04",
                "门口设置风幕机或防蝇门帘，排风扇口有防虫网，下水道口有防鼠网",
                15,
                tags=VEC,
            ),
            item("XC-05", "墙根设置挡鼠板，孔洞缝隙封堵，配置灭蝇灯", 10, tags=VEC),
            item("XC-06", "餐饮具清洗消毒设施正常使用，保洁柜密闭", 15, tags=EPI),
            item("XC-07", "垃圾桶加盖，餐厨垃圾由有资质单位收运，门前无油污", 10),
            item("XC-08", "无占道经营、店外加工", 5),
        ),
    ),
    PointTypeSpec(
        code="XSPD",
        name="小食品店",
        category="C6",
        units=("GF-SCJG",),
        pass_mark=80,
        visit_every_days=7,
        count=14,
        names=("{place}{word}", "{surname}氏{word}", "{road}{word}"),
        words=("便民超市", "副食店", "烟酒副食", "熟食店", "糕点铺", "干货店", "便利店", "卤味店"),
        items=(
            item("SP-01", "证照齐全并亮证经营，公示量化等级和禁烟标识", 15),
            item("SP-02", "从业人员持有效健康证明", 10),
            item("SP-03", "无过期、变质及“三无”食品，进货查验记录完整", 25, veto_below=0.6),
            item("SP-04", "散装直接入口食品有防蝇防尘罩，生熟分开", 15, tags=EPI),
            item("SP-05", "防蝇防鼠设施完好：门帘、挡鼠板、灭蝇灯", 15, tags=VEC),
            item("SP-06", "店内整洁，货架、冷柜清洁，垃圾桶加盖", 10),
            item("SP-07", "不向未成年人售烟酒，设置禁烟标识", 10, tags=SMOKE),
        ),
    ),
    PointTypeSpec(
        code="XMRMF",
        name="小美容美发",
        category="C5",
        units=("GF-WJW",),
        pass_mark=80,
        visit_every_days=14,
        count=10,
        names=("{surname}姐{word}", "{place}{word}", "{road}{word}"),
        words=("发型设计", "美发店", "美容院", "理发店", "造型工作室", "美甲美睫"),
        items=(
            item("MF-01", "卫生许可证（备案）和营业执照公示，从业人员持有效健康证明", 20),
            item("MF-02", "毛巾、围布、梳子、剪刀等公共用品用具一客一换一消毒", 20, tags=EPI),
            item("MF-03", "设置消毒间（区），消毒设施正常运转，有消毒记录", 15, tags=EPI),
            item("MF-04", "清洁用品与待消毒用品分类存放，标识清楚", 10),
            item("MF-05", "皮肤病患者专用工具单独存放、单独使用", 10, tags=EPI),
            item("MF-06", "室内通风良好，环境整洁", 10),
            item("MF-07", "设置禁烟标识，室内无吸烟", 5, tags=SMOKE),
            item("MF-08", "防蝇防鼠设施完好", 10, tags=VEC),
        ),
    ),
    PointTypeSpec(
        code="XLD",
        name="小旅店",
        category="C5",
        units=("GF-WJW",),
        pass_mark=80,
        visit_every_days=14,
        count=6,
        names=("{place}{word}", "{road}{word}"),
        words=("旅社", "招待所", "客栈", "快捷旅馆", "商务旅馆"),
        items=(
            item("LD-01", "证照齐全，从业人员持有效健康证明", 15),
            item("LD-02", "床上用品一客一换，公共用品清洗消毒", 20, tags=EPI),
            item("LD-03", "设置布草间和消毒间，洁污分开", 15, tags=EPI),
            item("LD-04", "客房通风采光良好，卫生间清洁无异味", 15),
            item("LD-05", "一次性用品不重复使用", 10),
            item("LD-06", "防蚊蝇、防鼠设施完好，无病媒生物", 15, tags=VEC),
            item("LD-07", "设置禁烟标识，提供健康教育资料", 10, tags=SMOKE),
        ),
    ),
    PointTypeSpec(
        code="XYS",
        name="小浴室",
        category="C5",
        units=("GF-WJW",),
        pass_mark=80,
        visit_every_days=14,
        count=4,
        names=("{place}{word}", "{road}{word}"),
        words=("浴室", "澡堂", "足浴店", "洗浴中心"),
        items=(
            item("YS-01", "证照齐全，从业人员持有效健康证明", 15),
            item("YS-02", "不设公共浴池，或浴池水定期更换、消毒，水质检测合格", 20, tags=EPI),
            item("YS-03", "拖鞋、毛巾、浴巾一客一换一消毒", 20, tags=EPI),
            item("YS-04", "设置“禁止性病、传染性皮肤病患者就浴”标志", 10),
            item("YS-05", "通风换气良好，地面防滑无积水", 15),
            item("YS-06", "防蝇防鼠设施完好，无蟑螂", 10, tags=VEC),
            item("YS-07", "设置禁烟标识，室内无吸烟", 10, tags=SMOKE),
        ),
    ),
    PointTypeSpec(
        code="XGWT",
        name="小歌舞厅/网吧",
        category="C5",
        units=("GF-WGLJ",),
        pass_mark=80,
        visit_every_days=14,
        count=6,
        names=("{place}{word}", "{road}{word}"),
        words=("网吧", "网咖", "KTV", "歌舞厅", "电竞馆"),
        items=(
            item("GW-01", "证照齐全，从业人员持有效健康证明", 15),
            item("GW-02", "室内全面禁烟，设置禁烟标识和控烟监督员，无烟头烟味", 25, tags=SMOKE),
            item("GW-03", "通风设施正常运行，空气质量良好", 15),
            item("GW-04", "麦克风、耳机、键盘等公共用品定期清洁消毒", 15, tags=EPI),
            item("GW-05", "卫生间清洁无异味", 10),
            item("GW-06", "防蝇防鼠设施完好", 10, tags=VEC),
            item("GW-07", "垃圾桶加盖，场所整洁", 10),
        ),
    ),
    PointTypeSpec(
        code="JZGD",
        name="建筑工地",
        category="C3",
        units=("GF-ZJJ",),
        pass_mark=80,
        visit_every_days=14,
        count=8,
        names=("{place}{word}项目工地",),
        words=(
            "安置房",
            "学校扩建",
            "棚户区改造",
            "商住楼",
            "道路改造",
            "医院综合楼",
            "保障性住房",
        ),
        items=(
            item("GD-01", "工地连续设置硬质围挡，主干道沿线不低于2.5米，一般路段不低于1.8米", 15),
            item("GD-02", "出入口设车辆冲洗设施和沉淀池，场内道路硬化", 15),
            item("GD-03", "裸露土方覆盖，渣土车辆密闭运输，无抛洒滴漏", 15),
            item("GD-04", "生活垃圾、建筑垃圾分类集中堆放，及时清运", 10),
            item("GD-05", "工地食堂证照齐全，按小餐饮标准管理", 10),
            item("GD-06", "设置水冲式厕所，无旱厕", 10),
            item("GD-07", "规范设置毒饵站，清除积水，无蚊蝇孳生", 15, tags=VEC),
            item("GD-08", "设置健康教育宣传栏", 10),
        ),
    ),
    PointTypeSpec(
        code="CZC",
        name="城中村",
        category="C3",
        units=(STREET_OFFICE,),
        pass_mark=80,
        visit_every_days=14,
        count=6,
        names=("{word}片区",),
        address="{word}",
        words=("水南村", "前山村", "下店村", "霞峰村", "塘边村", "枫林村", "杨村", "徐家坞"),
        items=(
            item("CZ-01", "道路硬化平整，无坑洼积水", 15),
            item("CZ-02", "垃圾收集设施配套，日产日清，无暴露垃圾", 20),
            item("CZ-03", "无乱搭乱建、乱堆乱放、乱贴乱画", 15),
            item("CZ-04", "无违规畜禽散养", 10, tags=EPI),
            item("CZ-05", "公厕达到三类以上标准，无旱厕", 15),
            item("CZ-06", "无卫生死角和小型积水，蚊蝇鼠孳生地得到治理", 15, tags=VEC),
            item("CZ-07", "设置健康教育宣传栏", 10),
        ),
    ),
    PointTypeSpec(
        code="BJXX",
        name="背街小巷",
        category="C3",
        units=(STREET_OFFICE,),
        pass_mark=80,
        visit_every_days=14,
        count=16,
        names=("{word}",),
        address="{road}旁{word}",
        words=(
            "打铁巷",
            "井头巷",
            "学前巷",
            "米行弄",
            "鼓楼巷",
            "仓前弄",
            "文昌巷",
            "城隍庙巷",
            "油坊巷",
            "柴埠巷",
            "石板巷",
            "塔下巷",
            "鱼行巷",
            "后街巷",
            "义仓巷",
            "书院巷",
            "水井弄",
            "南关巷",
            "花园弄",
            "竹篙弄",
        ),
        items=(
            item("BX-01", "路面平整，无破损、坑洼积水", 15),
            item("BX-02", "保洁到位，无暴露垃圾、无卫生死角", 20),
            item("BX-03", "无乱堆乱放、乱搭乱建、乱拉乱挂", 15),
            item("BX-04", "无乱贴乱画和“牛皮癣”小广告", 10),
            item("BX-05", "垃圾桶配置合理，加盖密闭，无满溢", 15),
            item("BX-06", "路灯、窨井盖等市政设施完好", 10),
            item("BX-07", "无小型积水和蚊蝇孳生地", 15, tags=VEC),
        ),
    ),
    PointTypeSpec(
        code="ZCGD",
        name="主次干道",
        category="C3",
        units=(CITY_ADMIN_UNIT,),
        pass_mark=85,
        visit_every_days=7,
        count=10,
        names=("{road}（{word}段）",),
        address="{road}",
        streets=("YF", "LL", "FX", "XX"),
        words=("东", "西", "南", "北", "中"),
        items=(
            item("ZD-01", "路面保洁到位，主要街道每日保洁不少于16小时", 15),
            item("ZD-02", "机械化清扫、洒水作业正常", 10),
            item("ZD-03", "无占道经营、店外经营", 15),
            item("ZD-04", "无乱停乱放，非机动车停放有序", 10),
            item("ZD-05", "户外广告、门头招牌设置规范，无破损", 10),
            item("ZD-06", "无乱贴乱画，建筑立面整洁", 10),
            item("ZD-07", "果壳箱、垃圾桶完好清洁", 10),
            item("ZD-08", "绿化带无垃圾、无积水", 10, tags=EPI),
            item("ZD-09", "数字化城管系统发现的问题及时处置", 10),
        ),
    ),
    PointTypeSpec(
        code="JMXQ",
        name="居民小区",
        category="C3",
        units=("GF-WY-FX", "GF-WY-YF"),
        pass_mark=80,
        visit_every_days=14,
        count=12,
        names=("{place}{word}", "{road}{word}"),
        words=("花园", "小区", "家园", "新村", "雅苑", "名都", "公寓"),
        items=(
            item("XQ-01", "物业管理规范，保洁制度落实", 15),
            item("XQ-02", "楼道和公共区域整洁，无堆放杂物", 15),
            item("XQ-03", "垃圾分类投放设施完好，日产日清", 15),
            item("XQ-04", "无违章搭建，无毁绿种菜", 10),
            item("XQ-05", "规范设置毒饵站，无鼠迹", 15, tags=VEC),
            item("XQ-06", "无积水容器，化粪池、窨井盖密闭", 15, tags=VEC),
            item("XQ-07", "设置健康教育宣传栏并定期更新", 10),
            item("XQ-08", "无乱停车，消防通道畅通", 5),
        ),
    ),
    PointTypeSpec(
        code="GC",
        name="公厕",
        category="C3",
        units=("GF-HWGS",),
        pass_mark=85,
        visit_every_days=7,
        count=10,
        names=("{road}公厕", "{place}{k}号公厕"),
        items=(
            item("GC-01", "达到二类以上标准，指示标识醒目", 10),
            item("GC-02", "专人管理，保洁及时，无积粪、无尿垢、无异味", 25),
            item("GC-03", "洗手设施正常，提供洗手液和手纸", 15),
            item("GC-04", "照明、通风、冲水设施完好", 15),
            item("GC-05", "纱窗、灭蝇灯等防蝇设施完好，无蝇蛆", 20, tags=VEC),
            item("GC-06", "开放时间公示，管理人员在岗", 15),
        ),
    ),
    PointTypeSpec(
        code="LJZZ",
        name="垃圾中转站",
        category="C3",
        units=("GF-HWGS",),
        pass_mark=80,
        visit_every_days=7,
        count=6,
        names=("{place}垃圾中转站", "{road}垃圾中转站"),
        items=(
            item("ZZ-01", "密闭化运行，压缩设备完好", 20),
            item("ZZ-02", "站内外清洁，无散落垃圾、无渗滤液外溢", 20),
            item("ZZ-03", "垃圾日产日清，不过夜", 15),
            item("ZZ-04", "定期喷洒消杀，无蚊蝇孳生", 20, tags=VEC),
            item("ZZ-05", "设置防鼠设施，无鼠迹", 15, tags=VEC),
            item("ZZ-06", "管理制度、作业时间公示", 10),
        ),
    ),
    PointTypeSpec(
        code="XX",
        name="学校",
        category="C2",
        units=("GF-JTJ",),
        pass_mark=85,
        visit_every_days=30,
        count=6,
        names=("{place}{word}",),
        words=("小学", "中学", "幼儿园", "实验学校"),
        items=(
            item("XX-01", "开设健康教育课，有教学计划和教案", 15),
            item("XX-02", "健康教育宣传栏定期更新", 10),
            item("XX-03", "校园全面禁烟，设置禁烟标识，无烟头", 15, tags=SMOKE),
            item("XX-04", "食堂证照齐全，明厨亮灶，餐具消毒", 20, tags=EPI),
            item("XX-05", "晨午检和因病缺课登记追踪制度落实", 15, tags=EPI),
            item("XX-06", "厕所清洁，洗手设施完好", 10),
            item("XX-07", "校园环境整洁，无卫生死角和积水", 15, tags=VEC),
        ),
    ),
    PointTypeSpec(
        code="YY",
        name="医院",
        category="C7",
        units=("GF-WJW",),
        pass_mark=85,
        visit_every_days=30,
        count=4,
        names=("{word}",),
        words=("广丰区人民医院", "广丰区中医院", "广丰区妇幼保健院", "广丰区第二人民医院"),
        streets=("YF", "LL", "FX", "XX"),
        items=(
            item("YY-01", "预检分诊、发热门诊设置规范", 20, tags=EPI),
            item("YY-02", "医疗废物分类收集、暂存、交接登记规范", 20, veto_below=0.6, tags=EPI),
            item("YY-03", "传染病疫情网络直报及时", 15, tags=EPI),
            item("YY-04", "院内全面禁烟，设置控烟监督员", 10, tags=SMOKE),
            item("YY-05", "健康教育宣传栏和健康教育处方", 10),
            item("YY-06", "院区环境整洁，厕所清洁无异味", 10),
            item("YY-07", "防蝇防鼠设施完好，开展病媒生物监测", 15, tags=VEC),
        ),
    ),
    PointTypeSpec(
        code="CZ",
        name="车站",
        category="C5",
        units=("GF-KYZ",),
        pass_mark=80,
        visit_every_days=14,
        count=2,
        names=("{word}",),
        words=("广丰汽车客运站", "广丰城区公交总站"),
        streets=("YF", "LL", "FX"),
        items=(
            item("ZC-01", "候车室整洁，通风良好", 15),
            item("ZC-02", "室内禁烟，设置禁烟标识", 15, tags=SMOKE),
            item("ZC-03", "公共厕所达标，保洁及时", 15),
            item("ZC-04", "站内餐饮、食品销售点证照齐全", 15),
            item("ZC-05", "站前广场无乱停车、无占道经营", 15),
            item("ZC-06", "设置健康教育宣传设施，电子屏播放健康知识", 10),
            item("ZC-07", "防蝇防鼠设施完好，定期消杀", 15, tags=VEC),
        ),
    ),
    PointTypeSpec(
        code="JGDW",
        name="机关单位",
        category="C1",
        units=("GF-JGSW",),
        pass_mark=85,
        visit_every_days=30,
        count=4,
        names=("{word}",),
        words=(
            "广丰区行政中心",
            "广丰区委党校",
            "广丰区市场监督管理局机关",
            "广丰区卫生健康委员会机关",
        ),
        streets=("YF", "LL", "FX"),
        items=(
            item("JG-01", "成立爱国卫生组织，有年度计划和总结", 20),
            item("JG-02", "开展健康教育活动，设置宣传栏", 15),
            item("JG-03", "无烟机关建设：禁烟标识齐全，室内无吸烟", 15, tags=SMOKE),
            item("JG-04", "环境整洁，垃圾分类", 15),
            item("JG-05", "食堂证照齐全，防蝇防鼠设施完好", 20, tags=VEC),
            item("JG-06", "厕所清洁，洗手设施完好", 15),
        ),
    ),
    PointTypeSpec(
        code="BG",
        name="宾馆",
        category="C5",
        units=("GF-WJW",),
        pass_mark=85,
        visit_every_days=14,
        count=4,
        names=("{place}{word}",),
        words=("大酒店", "宾馆", "国际酒店", "商务酒店"),
        items=(
            item("BG-01", "卫生许可证公示，从业人员持有效健康证明", 15),
            item("BG-02", "床上用品一客一换，杯具清洗消毒", 20, tags=EPI),
            item("BG-03", "集中空调通风系统定期清洗，检测合格", 15),
            item("BG-04", "布草间、消毒间设置规范", 10),
            item("BG-05", "设置无烟客房和禁烟标识，提供健康教育资料", 10, tags=SMOKE),
            item("BG-06", "餐厅证照齐全，后厨生熟分开", 15),
            item("BG-07", "防蝇防鼠防蟑设施完好", 15, tags=VEC),
        ),
    ),
    PointTypeSpec(
        code="HD",
        name="河道",
        category="C4",
        units=("GF-SLJ",),
        pass_mark=80,
        visit_every_days=30,
        count=2,
        names=("丰溪河（{street}段）",),
        address="{road}沿线",
        streets=("YF", "FX", "LL", "XX"),
        items=(
            item("HD-01", "水面无漂浮物、无垃圾", 25),
            item("HD-02", "河岸无垃圾堆放，无乱搭乱建", 20),
            item("HD-03", "无污水直排口，排污口规范设置", 20),
            item("HD-04", "河长公示牌设置规范", 10),
            item("HD-05", "沿岸无蚊蝇孳生地，无小型积水", 15, tags=VEC),
            item("HD-06", "护栏、步道设施完好", 10),
        ),
    ),
    PointTypeSpec(
        code="GYLD",
        name="公园绿地",
        category="C8",  # 病媒 暗访 covers 绿化带/公园 (DOMAIN.md §1.4)
        units=(CITY_ADMIN_UNIT,),
        pass_mark=80,
        visit_every_days=14,
        count=2,
        names=("{word}",),
        words=("丰溪公园", "月兔广场"),
        streets=("YF", "LL", "FX"),
        items=(
            item("GY-01", "园内环境整洁，无暴露垃圾", 15),
            item("GY-02", "绿化带、花坛无积水容器和废弃轮胎", 20, tags=VEC),
            item("GY-03", "景观水体无蚊幼孳生", 15, tags=("vector",)),
            item("GY-04", "规范设置毒饵站，无鼠洞鼠迹", 20, tags=VEC),
            item("GY-05", "园内公厕清洁，防蝇设施完好", 15, tags=("vector",)),
            item("GY-06", "健康主题宣传栏内容定期更新", 15),
        ),
    ),
)

SURNAMES = (
    "徐",
    "吴",
    "俞",
    "周",
    "郑",
    "杨",
    "王",
    "李",
    "毛",
    "祝",
    "夏",
    "刘",
    "叶",
    "缪",
    "江",
    "管",
    "邱",
    "傅",
    "胡",
    "陈",
)
GIVEN_NAMES = (
    "建华",
    "丽萍",
    "志强",
    "海燕",
    "国平",
    "晓东",
    "秀英",
    "伟民",
    "春梅",
    "金水",
    "小红",
    "文斌",
    "桂香",
    "永明",
    "雪芳",
    "新华",
    "立新",
    "玉兰",
    "建国",
    "红梅",
    "志刚",
    "美玲",
    "国庆",
    "淑芬",
    "斌",
    "敏",
    "涛",
    "静",
    "勇",
    "芳",
)

# Main roads with a 路长 each (road chief), and the street that answers for them.
ROAD_CHIEF_ROADS: tuple[tuple[str, str], ...] = (
    ("永丰大道", "YF"),
    ("人民路", "YF"),
    ("解放路", "YF"),
    ("芦林大道", "LL"),
    ("月兔大道", "LL"),
    ("丰溪路", "FX"),
    ("五都大道", "FX"),
    ("兴业大道", "XX"),
)


# ---------------------------------------------------------------------------
# Demo accounts: (suffix, display name, role, unit code); username = "<prefix>-<suffix>"
# ---------------------------------------------------------------------------

ACCOUNTS: tuple[tuple[str, str, str, str | None], ...] = (
    ("admin", "创卫办 管理员（演示）", "admin", None),
    ("inspector", "啄木鸟巡查员 徐志强（演示）", "inspector", None),
    ("inspector2", "啄木鸟巡查员 俞丽萍（演示）", "inspector", None),
    ("leader", "区创卫指挥部 领导（演示）", "leader", None),
    ("unit-market", "农贸市场管理公司 联络员（演示）", "unit", MARKET_UNIT),
    ("unit-cityadmin", "区城管局 联络员（演示）", "unit", CITY_ADMIN_UNIT),
)


def unit_liaisons() -> tuple[tuple[str, str, str, str], ...]:
    """A liaison account (联络员) for every unit without one in ACCOUNTS, e.g. ``unit-scjg``
    for GF-SCJG: each unit rectifies and returns its own cases in the demo's history."""
    named = {unit for *_, unit in ACCOUNTS if unit}
    return tuple(
        (f"unit-{code.removeprefix('GF-').lower()}", f"{name} 联络员（演示）", "unit", code)
        for code, name, _kind, _phone in UNITS
        if code not in named
    )


# ---------------------------------------------------------------------------
# 创卫 archive: the required documents of each 2014 section (no files yet)
# ---------------------------------------------------------------------------

ARCHIVE_ITEMS: dict[str, tuple[tuple[str, str], ...]] = {
    "C1": (
        (
            "创卫工作领导小组成立文件",
            "区委、区政府成立创建国家卫生城市工作领导小组的文件及成员调整文件",
        ),
        ("创卫工作实施方案", "创建工作总体方案、任务分解表和责任清单"),
        ("爱国卫生工作年度计划和总结", "近三年爱国卫生工作计划、总结和经费保障文件"),
        ("群众满意度调查报告", "第三方开展的群众对卫生状况满意率调查报告（≥90%）"),
    ),
    "C2": (
        ("健康教育年度工作计划", "健康教育和健康促进年度计划、经费和考核资料"),
        ("健康教育宣传栏更新记录", "街道、社区、单位健康教育宣传栏定期更新的照片与登记"),
        (
            "控烟工作方案和无烟单位创建资料",
            "控烟规定、无烟党政机关、无烟医疗卫生机构和无烟学校创建资料",
        ),
    ),
    "C3": (
        ("市容环境卫生管理制度和保洁作业标准", "道路分级保洁标准、作业时间和考核办法"),
        ("农贸市场升级改造方案", "标准化菜市场建设方案及改造台账（比例≥70%）"),
        ("城中村及背街小巷整治方案", "整治计划、问题台账和验收资料"),
        ("数字化城管系统运行报告", "数字化城管案件受理、派遣、结案统计报告"),
    ),
    "C4": (
        ("环境空气质量年度报告", "近三年环境空气质量监测数据与达标情况"),
        ("集中式饮用水水源地水质监测报告", "水源地水质监测数据和保护区划定文件"),
        ("区域环境噪声监测报告", "区域环境噪声和道路交通噪声监测报告"),
    ),
    "C5": (
        ("公共场所卫生监督量化分级资料", "公共场所卫生许可、量化分级和监督检查台账"),
        (
            "六小行业整治方案",
            "小餐饮、小食品店、小浴室、小美容美发、小歌舞厅、小旅店整治方案及台账",
        ),
        ("学校卫生监督检查记录", "学校传染病防控、饮用水和教学环境卫生监督资料"),
    ),
    "C6": (
        ("餐饮服务食品安全量化分级管理资料", "餐饮服务单位量化分级管理率统计（≥90%）"),
        ("生活饮用水卫生监测报告", "出厂水、末梢水、二次供水水质监测报告"),
        ("食品安全事故应急预案", "食品安全事故应急预案及演练记录"),
    ),
    "C7": (
        ("传染病防控工作方案", "传染病疫情报告、处置和监测工作方案"),
        ("免疫规划接种率统计", "国家免疫规划疫苗接种率统计报表"),
        ("医疗废物管理制度及处置协议", "医疗机构医疗废物管理制度和集中处置协议"),
    ),
    "C8": (
        ("病媒生物防制工作方案", "年度病媒生物预防控制方案和春秋季集中灭鼠灭蟑活动资料"),
        ("病媒生物密度监测报告", "鼠、蚊、蝇、蟑螂密度监测报告（达到C级以上）"),
        ("重点场所防鼠防蝇设施检查记录", "重点行业和单位防蚊蝇、防鼠设施合格率检查记录（≥95%）"),
        ("病媒生物防制技术培训资料", "消杀人员培训签到、课件和考核资料"),
    ),
}
