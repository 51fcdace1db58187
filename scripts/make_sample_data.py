"""Generate the sample data shipped in src/custdata/data/ (run from the repository root).

    python scripts/make_sample_data.py [OUT_DIR]

Deterministic: a fixed seed and no clock, so running it twice gives byte-identical files. The customers are
written the way real exports look (UTF-8 with a BOM, mixed Chinese and English headers, phones and
birthdays written many ways, an unknown column, some duplicates of the same person from other channels).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import random
from pathlib import Path

SEED = 20261123
N_PEOPLE = 2500
OUT = Path(__file__).resolve().parents[1] / "src" / "custdata" / "data"

FAMILY = [
    "王",
    "李",
    "张",
    "刘",
    "陈",
    "杨",
    "黄",
    "赵",
    "吴",
    "周",
    "徐",
    "孙",
    "马",
    "朱",
    "胡",
    "郭",
    "何",
    "高",
    "林",
    "罗",
    "欧阳",
    "司马",
    "诸葛",
    "上官",
]
GIVEN = [
    "伟",
    "芳",
    "娜",
    "秀英",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀兰",
    "霞",
    "平",
    "刚",
    "桂英",
    "䶮",
    "堃",
    "喆",
    "子涵",
    "浩然",
    "梓萱",
    "一诺",
]
LATIN_FAMILY = [
    "Smith",
    "Johnson",
    "Müller",
    "García",
    "Brown",
    "Martin",
    "Rossi",
    "Nguyen",
    "O'Brien",
    "Dubois",
]
LATIN_GIVEN = ["James", "Mary", "Zoë", "José", "Emma", "Lucas", "Chloé", "Noah", "Olivia", "Liam", "Søren"]
PLACES = [
    ("北京市", "北京市"),
    ("上海市", "上海市"),
    ("广东省", "广州市"),
    ("广东省", "深圳市"),
    ("浙江省", "杭州市"),
    ("江苏省", "南京市"),
    ("江苏省", "苏州市"),
    ("四川省", "成都市"),
    ("湖北省", "武汉市"),
    ("陕西省", "西安市"),
    ("天津市", "天津市"),
    ("重庆市", "重庆市"),
    ("福建省", "厦门市"),
    ("山东省", "青岛市"),
]
PREFIXES = ["138", "139", "135", "136", "137", "150", "151", "152", "158", "159", "186", "187", "188", "177"]
DOMAINS = ["qq.com", "163.com", "126.com", "gmail.com", "outlook.com", "sina.com", "example.com"]
CHANNELS = ["官网", "微信", "门店", "展会", "电销", "website", "store", "expo", "social", "导入"]
TAGS = ["VIP", "会员", "新客", "老客户", "母婴", "数码", "图书", "户外"]
COMPANIES = ["", "", "", "星辰科技有限公司", "华南贸易", "ACME Ltd", "蓝海咨询", "Contoso GmbH"]
NOTES = ["", "", "", "老客户", "偏好周末联系", "需要发票", "call after 6pm", "曾投诉物流"]
START = dt.date(2024, 1, 1)
END = dt.date(2025, 12, 31)


def phone_forms(rng: random.Random, digits: str) -> str:
    """One of the ways people write the same mobile number."""
    forms = [
        digits,
        f"{digits[:3]} {digits[3:7]} {digits[7:]}",
        f"{digits[:3]}-{digits[3:7]}-{digits[7:]}",
        f"+86 {digits}",
        f"+86-{digits[:3]}-{digits[3:7]}-{digits[7:]}",
        f"0086{digits}",
        "".join(chr(ord("０") + int(c)) for c in digits),
        f"手机：{digits}",
        f"({digits[:3]}) {digits[3:]}",
    ]
    return rng.choice(forms)


def birthday_forms(rng: random.Random, d: dt.date) -> str:
    return rng.choice(
        [
            d.isoformat(),
            f"{d.year}/{d.month}/{d.day}",
            d.strftime("%Y%m%d"),
            f"{d.year}年{d.month}月{d.day}日",
            d.isoformat(),
            f"--{d.month:02d}-{d.day:02d}",
        ]
    )


def person(rng: random.Random, i: int) -> dict[str, object]:
    chinese = rng.random() < 0.75
    if chinese:
        fam, giv = rng.choice(FAMILY), rng.choice(GIVEN)
        name, local = fam + giv, f"user{i}"
    else:
        fam, giv = rng.choice(LATIN_FAMILY), rng.choice(LATIN_GIVEN)
        ascii_name = f"{giv}.{fam}".lower().translate(str.maketrans("üëéíøç", "ueeioc", "'"))
        name, local = f"{giv} {fam}", f"{ascii_name}{i}"
    born = dt.date(1955, 1, 1) + dt.timedelta(days=rng.randrange(365 * 50))
    province, city = rng.choice(PLACES)
    return {
        "chinese": chinese,
        "name": name,
        "family": fam,
        "given": giv,
        "mobile": rng.choice(PREFIXES) + f"{rng.randrange(10**8):08d}",
        "email": f"{local}@{rng.choice(DOMAINS)}",
        "born": born,
        "province": province,
        "city": city,
        "gender": rng.choice(["男", "女", "M", "F", ""]),
        "company": rng.choice(COMPANIES),
        "tags": rng.sample(TAGS, rng.choice([0, 0, 1, 1, 2])),
        "joined": START + dt.timedelta(days=rng.randrange((END - START).days - 60)),
    }


def typo(rng: random.Random, text: str) -> str:
    if len(text) < 3:
        return text
    i = rng.randrange(len(text) - 1)
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def customer_rows(
    rng: random.Random, people: list[dict[str, object]]
) -> list[tuple[str, dict[str, object], list[str]]]:
    rows = []
    n = 0
    for p in people:
        copies = 1 + (rng.random() < 0.18) + (rng.random() < 0.04)
        for copy in range(copies):
            n += 1
            cid = f"C{n:05d}"
            name = str(p["name"])
            email = str(p["email"])
            if copy:  # a duplicate from another channel: written differently, sometimes with a typo
                if not p["chinese"] and rng.random() < 0.5:
                    name = typo(rng, name)
                email = email.upper() if rng.random() < 0.3 else email
                if rng.random() < 0.3:
                    email = ""
            mobile = str(p["mobile"])
            row = [
                cid,
                name,
                phone_forms(rng, mobile),
                email,
                str(p["province"]),
                str(p["city"]),
                birthday_forms(rng, p["born"]) if rng.random() < 0.8 else "",  # type: ignore[arg-type]
                str(p["gender"]),
                str(p["company"]),
                "、".join(p["tags"]),  # type: ignore[arg-type]
                rng.choice(CHANNELS),
                rng.choice(NOTES),
                f"{p['joined']}T{rng.randrange(9, 21):02d}:00:00+08:00",
            ]
            rows.append((cid, p, row))
    return rows


def main(out: Path = OUT) -> None:
    rng = random.Random(SEED)
    people = [person(rng, i) for i in range(N_PEOPLE)]
    rows = customer_rows(rng, people)
    # A few broken rows, as real exports have: impossible birthdays.
    for k, bad in ((17, "1990-02-30"), (404, "1988-13-01"), (1201, "2001-04-31")):
        rows[k][2][6] = bad
    out.mkdir(parents=True, exist_ok=True)
    header = [
        "id",
        "姓名",
        "手机",
        "邮箱",
        "省份",
        "城市",
        "生日",
        "性别",
        "公司",
        "标签",
        "来源",
        "备注",
        "注册时间",
    ]
    with open(out / "sample_customers.csv", "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        w.writerow(header)
        for _cid, _p, row in rows:
            w.writerow(row)

    # Transactions: each customer buys at a personal rate until an unobserved drop-out (the BG/NBD story).
    tx_rows = []
    order = 0
    for cid, p, _row in rows:
        if rng.random() < 0.15:
            continue  # never bought
        rate = rng.gammavariate(0.9, 1 / 35)  # purchases per day
        p_drop = rng.betavariate(1.0, 4.0)
        spend = rng.gammavariate(6, 1 / 6) * rng.choice([60, 120, 250, 500])
        day = p["joined"] + dt.timedelta(days=rng.randrange(30))  # type: ignore[operator]
        while day <= END:
            order += 1
            amount = max(1.0, rng.lognormvariate(math.log(spend), 0.4))
            tx_rows.append(
                [
                    cid,
                    f"O{order:06d}",
                    f"{day.isoformat()}T{rng.randrange(9, 22):02d}:{rng.randrange(60):02d}:00+08:00",
                    f"{amount:.2f}",
                    "CNY",
                    rng.choice(["web", "store", "app", "wechat"]),
                ]
            )
            if rng.random() < p_drop:
                break
            day += dt.timedelta(days=max(1, int(rng.expovariate(rate)) if rate > 0 else 10_000))
    with open(out / "sample_transactions.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["customer_id", "order_id", "at", "amount", "currency", "channel"])
        w.writerows(tx_rows)

    kinds = ["call", "email", "visit", "chat", "complaint", "feedback", "survey"]
    notes = {
        "complaint": ["物流太慢", "商品破损", "退款未到账"],
        "feedback": ["很满意", "包装很好", "希望增加门店"],
        "call": ["回访", "咨询会员权益"],
        "survey": ["年度满意度调查"],
        "visit": ["到店体验"],
        "chat": ["在线咨询尺码"],
        "email": ["订单确认"],
    }
    it_rows = []
    for _ in range(5000):
        cid, p, _row = rng.choice(rows)
        kind = rng.choice(kinds)
        day = p["joined"] + dt.timedelta(days=rng.randrange(max(1, (END - p["joined"]).days)))  # type: ignore[operator]
        sat = (
            str(rng.choice([1, 2, 3, 4, 4, 5, 5, 5]))
            if kind in ("survey", "feedback", "complaint", "call")
            else ""
        )
        nps = str(rng.choice([0, 3, 6, 7, 8, 9, 9, 10, 10])) if kind == "survey" else ""
        it_rows.append(
            [
                cid,
                f"{day.isoformat()}T{rng.randrange(9, 20):02d}:00:00+08:00",
                kind,
                rng.choice(["phone", "wechat", "email", "store"]),
                sat,
                nps,
                rng.choice(notes[kind]),
            ]
        )
    it_rows.sort(key=lambda r: (r[1], r[0]))
    with open(out / "sample_interactions.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["customer_id", "at", "kind", "channel", "satisfaction", "nps", "note"])
        w.writerows(it_rows)
    print(
        f"{len(rows)} customers ({N_PEOPLE} people), {len(tx_rows)} transactions, {len(it_rows)} interactions"
    )


if __name__ == "__main__":
    import sys

    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
