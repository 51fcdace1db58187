"""Reading and writing customer, transaction and interaction files: CSV and JSON Lines.

Readers stream (one row in memory at a time), sniff encodings (BOMs, UTF-8, then GB18030), map the
user's headers through built-in English and Chinese synonyms, keep unknown columns as custom attributes,
and report bad rows with ``errors="raise" | "skip" | "collect"``. Writers are atomic (a temporary file
renamed into place) and neutralise spreadsheet formula injection.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import itertools
import json
import logging
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, Generic, Literal, TypeVar

import attrs

from custdata._records import (
    Channel,
    Customer,
    EmailKind,
    Interaction,
    InteractionKind,
    LifecycleStage,
    MonthDay,
    PhoneKind,
    Transaction,
)
from custdata.exceptions import FieldError, ParseError, ValidationError

__all__ = [
    "Errors",
    "Kind",
    "RecordReader",
    "RowProblem",
    "guard_cell",
    "read_csv",
    "read_jsonl",
    "unguard_cell",
    "write_csv",
    "write_jsonl",
]

log = logging.getLogger(__name__)

Kind = Literal["customer", "transaction", "interaction"]
Errors = Literal["raise", "skip", "collect"]
Record = Customer | Transaction | Interaction
R = TypeVar("R", Customer, Transaction, Interaction)
PathLike = str | os.PathLike[str]

_KINDS: dict[str, type[Record]] = {
    "customer": Customer,
    "transaction": Transaction,
    "interaction": Interaction,
}


# ------------------------------------------------------------------------------------ formula guard
_DANGER = re.compile(r"'*[=+\-@\t\r]")
_FIRST = frozenset("'=+-@\t\r")


def guard_cell(text: str) -> str:
    """Neutralise spreadsheet formula injection: a cell starting with ``= + - @``, a tab or a carriage
    return (after any run of ``'``) gets a leading ``'``, so a spreadsheet shows it as text.

    >>> guard_cell("=1+1"), guard_cell("+8613800138000"), guard_cell("plain")
    ("'=1+1", "'+8613800138000", 'plain')
    """
    if not text or text[0] not in _FIRST:
        return text
    return "'" + text if _DANGER.match(text) else text


def unguard_cell(text: str) -> str:
    """Undo :func:`guard_cell`: drop one leading ``'`` that stands before a guarded cell."""
    return text[1:] if text[:1] == "'" and _DANGER.match(text, 1) else text


# ------------------------------------------------------------------------------------ problems
@attrs.frozen
class RowProblem:
    """One problem in one row. ``row`` counts like a spreadsheet (the header is row 1) for CSV, and
    lines (from 1) for JSON Lines. ``field`` is the record field (or column) concerned."""

    row: int
    field: str
    reason: str
    value: str | None = None

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", {self.field}" if self.field else "")
        return f"{where}: {self.reason}"


class RecordReader(Iterator[R], Generic[R]):
    """An iterator of records read from a file.

    Besides the records it keeps: ``problems`` (the :class:`RowProblem` list with ``errors="collect"``),
    ``rows`` (rows read), ``skipped`` (bad rows left out), ``encoding`` (as detected), ``columns``
    (header → field it was mapped to; None for custom columns). Use it as a context manager, or read it
    to the end, to close the file.
    """

    def __init__(self, rows: Iterator[R], fh: IO[Any] | None, encoding: str | None) -> None:
        self._rows: Iterator[R] = rows
        self._fh = fh
        self.encoding = encoding
        self.problems: list[RowProblem] = []
        self.rows = 0
        self.skipped = 0
        self.columns: dict[str, str | None] = {}

    def __iter__(self) -> RecordReader[R]:
        return self

    def __next__(self) -> R:
        try:
            return next(self._rows)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Close the underlying file (reading stops)."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> RecordReader[R]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_errors(errors: str) -> None:
    if errors not in ("raise", "skip", "collect"):
        raise ValueError(f"errors must be 'raise', 'skip' or 'collect', got {errors!r}")


def _kind(kind: str) -> type[Record]:
    try:
        return _KINDS[kind]
    except KeyError:
        raise ValueError(f"kind must be one of {', '.join(_KINDS)}, got {kind!r}") from None


# ------------------------------------------------------------------------------------ encodings
_BOMS = [(codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")]


def detect_encoding(path: PathLike) -> str:
    """The encoding of a file: a BOM's, else UTF-8 if every byte decodes, else GB18030."""
    with open(path, "rb") as fh:
        head = fh.read(4)
        for bom, name in _BOMS:
            if head.startswith(bom):
                return name
        fh.seek(0)
        decoder: codecs.IncrementalDecoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := fh.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            pass
        else:
            return "utf-8"
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("gb18030")()
        try:
            while chunk := fh.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise ParseError(
                "the file is neither UTF-8 nor GB18030; pass encoding= (e.g. encoding='big5')", path=str(path)
            ) from None
    return "gb18030"


def _open_text(path: PathLike, encoding: str) -> tuple[IO[str], str]:
    if encoding == "auto":
        encoding = detect_encoding(path)
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ValueError(f"unknown encoding {encoding!r}") from None
    if encoding.lower().replace("_", "-") in ("gbk", "gb2312", "cp936"):
        encoding = "gb18030"  # a superset: GBK loses rare name characters such as 䶮
    return open(path, encoding=encoding, newline=""), encoding


# ------------------------------------------------------------------------------------ header synonyms
def _key(header: str) -> str:
    return re.sub(r"[\s_\-./()（）:：]+", "", header.strip().lstrip("\ufeff")).casefold()


def _synonyms(table: Mapping[str, Iterable[str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for field, names in table.items():
        out[_key(field)] = field
        for n in names:
            out[_key(n)] = field
    return out


# Canonical input fields of a customer row. Our own writer uses the first group; the flat ones
# (phone, mobile, email, city …) are what people's spreadsheets have.
CUSTOMER_SYNONYMS = _synonyms(
    {
        "id": [
            "customer id",
            "customer_id",
            "cust id",
            "客户编号",
            "客户id",
            "客户号",
            "会员号",
            "会员编号",
            "编号",
            "uid",
        ],
        "name": [
            "full name",
            "customer name",
            "contact",
            "contact name",
            "姓名",
            "名字",
            "客户名称",
            "客户姓名",
            "联系人",
            "会员姓名",
        ],
        "family_name": ["surname", "last name", "lastname", "family", "姓", "姓氏"],
        "given_name": ["first name", "firstname", "forename", "given", "名"],
        "phones": [],
        "emails": [],
        "addresses": [],
        "phone": ["phone number", "tel", "telephone", "电话", "联系电话", "电话号码", "联系方式"],
        "mobile": [
            "mobile phone",
            "mobile number",
            "cell",
            "cellphone",
            "cell phone",
            "手机",
            "手机号",
            "手机号码",
            "移动电话",
        ],
        "home_phone": ["home phone", "home", "家庭电话", "住宅电话", "座机"],
        "work_phone": ["work phone", "office phone", "business phone", "办公电话", "工作电话", "单位电话"],
        "fax": ["fax number", "传真", "传真号码"],
        "email": [
            "e-mail",
            "mail",
            "email address",
            "e-mail address",
            "邮箱",
            "电子邮箱",
            "电子邮件",
            "邮件",
            "邮箱地址",
        ],
        "work_email": ["work email", "business email", "工作邮箱", "公司邮箱"],
        "address": [
            "addr",
            "street address",
            "full address",
            "地址",
            "详细地址",
            "联系地址",
            "通讯地址",
            "收货地址",
        ],
        "country": ["country code", "国家", "国家地区"],
        "province": ["state", "region", "prefecture", "省", "省份", "州"],
        "city": ["town", "suburb", "城市", "市"],
        "district": ["county", "区", "区县", "县区", "县"],
        "street": ["street name", "街道"],
        "postal_code": ["postcode", "post code", "zip", "zipcode", "zip code", "邮编", "邮政编码"],
        "birthday": ["birth date", "birthdate", "date of birth", "dob", "生日", "出生日期", "出生年月日"],
        "gender": ["sex", "性别"],
        "company": [
            "organization",
            "organisation",
            "employer",
            "company name",
            "公司",
            "单位",
            "公司名称",
            "工作单位",
        ],
        "title": ["job title", "position", "role", "职位", "职务", "头衔"],
        "tags": ["labels", "tag", "标签"],
        "channel": ["source", "lead source", "来源", "渠道", "来源渠道", "获客渠道"],
        "lifecycle_stage": ["stage", "lifecycle", "lifecycle stage", "阶段", "生命周期", "客户阶段"],
        "owner": ["account owner", "sales rep", "负责人", "客户经理", "销售", "归属人"],
        "consents": [],
        "external_ids": [],
        "custom": [],
        "created_at": ["created", "created on", "signup date", "创建时间", "注册时间", "注册日期"],
        "updated_at": ["updated", "modified", "last modified", "更新时间", "修改时间"],
        "version": [],
    }
)

TRANSACTION_SYNONYMS = _synonyms(
    {
        "id": ["transaction id", "txn id", "交易编号", "流水号"],
        "customer_id": [
            "customer",
            "cust id",
            "member id",
            "客户编号",
            "客户id",
            "会员号",
            "会员编号",
            "客户号",
        ],
        "at": [
            "date",
            "time",
            "datetime",
            "timestamp",
            "order date",
            "purchase date",
            "日期",
            "时间",
            "下单时间",
            "交易时间",
            "订单时间",
            "购买日期",
            "消费时间",
        ],
        "amount": [
            "total",
            "value",
            "revenue",
            "sales",
            "金额",
            "消费金额",
            "订单金额",
            "交易金额",
            "实付金额",
        ],
        "currency": ["币种", "货币"],
        "order_id": ["order", "order no", "order number", "订单号", "订单编号"],
        "channel": ["source", "store", "渠道", "来源", "门店"],
        "items": [],
    }
)

INTERACTION_SYNONYMS = _synonyms(
    {
        "id": ["interaction id", "编号"],
        "customer_id": ["customer", "cust id", "客户编号", "客户id", "会员号", "客户号"],
        "at": ["date", "time", "datetime", "timestamp", "日期", "时间", "联系时间"],
        "kind": ["type", "interaction type", "类型", "方式", "联系方式"],
        "channel": ["source", "渠道"],
        "satisfaction": ["csat", "satisfaction score", "满意度", "满意度评分"],
        "nps": ["nps score", "recommend", "推荐度", "净推荐值"],
        "note": ["notes", "comment", "comments", "remark", "备注", "内容", "记录"],
    }
)

_SYNONYMS = {
    "customer": CUSTOMER_SYNONYMS,
    "transaction": TRANSACTION_SYNONYMS,
    "interaction": INTERACTION_SYNONYMS,
}

_CHANNEL_WORDS = {
    "官网": "website",
    "网站": "website",
    "网页": "website",
    "web": "website",
    "online": "website",
    "社交": "social",
    "社交媒体": "social",
    "微信": "social",
    "微博": "social",
    "抖音": "social",
    "小红书": "social",
    "邮件": "email",
    "问卷": "survey",
    "调查": "survey",
    "门店": "store",
    "线下": "store",
    "店铺": "store",
    "shop": "store",
    "展会": "expo",
    "电销": "telemarketing",
    "电话营销": "telemarketing",
    "导入": "import",
    "其他": "other",
    "其它": "other",
}
_STAGE_WORDS = {
    "订阅者": "subscriber",
    "线索": "lead",
    "潜在客户": "lead",
    "mql": "marketing_qualified",
    "sql": "sales_qualified",
    "商机": "opportunity",
    "客户": "customer",
    "成交客户": "customer",
    "推荐者": "evangelist",
    "其他": "other",
}
_KIND_WORDS = {
    "电话": "call",
    "来电": "call",
    "phone": "call",
    "邮件": "email",
    "拜访": "visit",
    "到店": "visit",
    "聊天": "chat",
    "在线咨询": "chat",
    "投诉": "complaint",
    "反馈": "feedback",
    "问卷": "survey",
    "调查": "survey",
    "其他": "other",
}

_SPLIT = re.compile(r"\s*[;,，；、|]\s*")
_PHONE_SPLIT = re.compile(r"\s*[;,，；、|/]\s*")

# ------------------------------------------------------------------------------------ value parsing
_DATE_RE = re.compile(
    r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"
    r"(?:[T\s]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$"
)


def parse_when(text: str, default_tz: dt.tzinfo) -> dt.datetime:
    """A date-time from the forms spreadsheets hold: ISO 8601, ``2024/1/2 10:00``, ``2024年1月2日``,
    ``20240102``. A date alone is midnight; a time without an offset is in ``default_tz``."""
    t = text.strip()
    if len(t) == 8 and t.isdigit():
        t = f"{t[:4]}-{t[4:6]}-{t[6:]}"
    m = _DATE_RE.match(t)
    if not m:
        raise ValueError(f"not a date or date-time: {text!r}")
    y, mo, d, hh, mi, ss, frac, off = m.groups()
    tz: dt.tzinfo = default_tz
    if off:
        if off == "Z":
            tz = dt.timezone.utc
        else:
            sign = -1 if off[0] == "-" else 1
            digits = off[1:].replace(":", "")
            tz = dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    micro = int((frac or "0").ljust(6, "0"))
    return dt.datetime(int(y), int(mo), int(d), int(hh or 0), int(mi or 0), int(ss or 0), micro, tzinfo=tz)


def _parse_birthday(text: str) -> Any:
    t = text.strip()
    if t.startswith("--"):
        return MonthDay.parse(t)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", t):
        return dt.date.fromisoformat(t)  # a bad ISO date (1990-02-30) is an error, not another form
    from custdata.normalize import normalize_date  # lazy: the other written forms

    return normalize_date(t)


_AMOUNT_CLEAN = re.compile(r"^[¥￥$€£]|^(?:RMB|CNY|USD)\s*", re.IGNORECASE)
_THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")


def _amount(text: str) -> str:
    t = _AMOUNT_CLEAN.sub("", text.strip()).strip()
    if _THOUSANDS.match(t):
        t = t.replace(",", "")
    return t


def _number(text: str) -> int | float:
    t = text.strip()
    try:
        return int(t)
    except ValueError:
        return float(t)


def _json_cell(text: str, default: Any) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return default


def _list_cell(text: str) -> list[str]:
    """A multi-value cell: a JSON array (as our writer writes when needed), else split on , ; 、 |."""
    t = text
    if t.startswith("["):
        v = _json_cell(t, None)
        if isinstance(v, list):
            return v
    return [x for x in _SPLIT.split(t.strip()) if x]


def _word(value: str, words: Mapping[str, str]) -> str:
    v = value.strip()
    return words.get(v, words.get(v.casefold(), v.casefold()))


# ------------------------------------------------------------------------------------ row → dict
_PHONE_COLUMNS = {
    "phone": PhoneKind.OTHER,
    "mobile": PhoneKind.MOBILE,
    "home_phone": PhoneKind.HOME,
    "work_phone": PhoneKind.WORK,
    "fax": PhoneKind.FAX,
}
_EMAIL_COLUMNS = {"email": EmailKind.OTHER, "work_email": EmailKind.WORK}
_ADDRESS_COLUMNS = {"country", "province", "city", "district", "street", "postal_code", "address"}


def _customer_dict(cells: Mapping[str, str], custom: dict[str, Any], tz: dt.tzinfo) -> dict[str, Any]:
    d: dict[str, Any] = {}
    problems: list[FieldError] = []
    name: dict[str, str] = {}
    phones: list[Any] = []
    emails: list[Any] = []
    address: dict[str, str] = {}
    for field, raw in cells.items():
        try:
            if field == "name":
                name["full"] = raw
            elif field == "family_name":
                name["family"] = raw
            elif field == "given_name":
                name["given"] = raw
            elif field in ("phones", "emails", "addresses"):
                v = _json_cell(raw, None) if raw.startswith("[") else None
                items: list[Any] = v if isinstance(v, list) else [x for x in _PHONE_SPLIT.split(raw) if x]
                if field == "phones":
                    phones.extend(items)
                elif field == "emails":
                    emails.extend(items)
                else:
                    d["addresses"] = items
            elif field in _PHONE_COLUMNS:
                phones.extend(
                    {"number": n, "kind": _PHONE_COLUMNS[field].value}
                    for n in _PHONE_SPLIT.split(raw.strip())
                    if n
                )
            elif field in _EMAIL_COLUMNS:
                emails.extend(
                    {"address": e, "kind": _EMAIL_COLUMNS[field].value}
                    for e in _SPLIT.split(raw.strip())
                    if e
                )
            elif field in _ADDRESS_COLUMNS:
                address["raw" if field == "address" else field] = raw
            elif field == "birthday":
                d["birthday"] = _parse_birthday(raw)
            elif field == "tags":
                d["tags"] = _list_cell(raw)
            elif field == "channel":
                v = _word(raw, _CHANNEL_WORDS)
                if v in Channel._value2member_map_:
                    d["channel"] = v
                else:  # keep what the file said, losslessly
                    d["channel"] = "other"
                    custom.setdefault("channel_raw", raw)
            elif field == "lifecycle_stage":
                v = _word(raw, _STAGE_WORDS)
                if v in LifecycleStage._value2member_map_:
                    d["lifecycle_stage"] = v
                else:
                    d["lifecycle_stage"] = "other"
                    custom.setdefault("lifecycle_stage_raw", raw)
            elif field in ("consents", "external_ids", "custom"):
                v = json.loads(raw)
                if field == "custom" and isinstance(v, dict):
                    custom.update(v)
                else:
                    d[field] = v
            elif field in ("created_at", "updated_at"):
                d[field] = parse_when(raw, tz)
            elif field == "version":
                d["version"] = int(raw.strip())
            else:
                d[field] = raw
        except (ValueError, ValidationError) as exc:
            problems.append(FieldError(field, str(exc)))
    if problems:
        raise ValidationError(problems)
    if name:
        d["name"] = name
    if phones:
        d["phones"] = phones
    if emails:
        d["emails"] = emails
    if address:
        d["addresses"] = [address, *d.get("addresses", [])]
    if custom:
        d["custom"] = custom
    return d


def _activity_dict(kind: str, cells: Mapping[str, str], tz: dt.tzinfo) -> dict[str, Any]:
    d: dict[str, Any] = {}
    problems: list[FieldError] = []
    for field, raw in cells.items():
        try:
            if field == "at":
                d["at"] = parse_when(raw, tz)
            elif field == "amount":
                d["amount"] = _amount(raw)
            elif field == "items":
                d["items"] = json.loads(raw)
            elif field in ("satisfaction", "nps"):
                d[field] = _number(raw)
            elif field == "kind":
                v = _word(raw, _KIND_WORDS)
                d["kind"] = v if v in InteractionKind._value2member_map_ else raw
            else:
                d[field] = raw
        except ValueError as exc:
            problems.append(FieldError(field, str(exc)))
    if problems:
        raise ValidationError(problems)
    return d


# ------------------------------------------------------------------------------------ reading
def _tzinfo(default_tz: str | dt.tzinfo) -> dt.tzinfo:
    if isinstance(default_tz, dt.tzinfo):
        return default_tz
    if default_tz.upper() == "UTC":
        return dt.timezone.utc
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(default_tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {default_tz!r}") from None


def read_csv(
    path: PathLike,
    *,
    kind: Kind = "customer",
    mapping: Mapping[str, str | None] | None = None,
    encoding: str = "auto",
    errors: Errors = "raise",
    delimiter: str = ",",
    default_tz: str | dt.tzinfo = "UTC",
) -> RecordReader[Any]:
    """Stream records from a CSV file.

    ``kind`` is ``"customer"``, ``"transaction"`` or ``"interaction"``. Headers are matched to fields
    through built-in English and Chinese synonyms (姓名, 手机, 邮箱 …); ``mapping`` (header → field, or
    None to ignore a column) overrides them. Unknown customer columns are kept in ``custom``.
    ``encoding="auto"`` reads a BOM, else UTF-8, else GB18030. Times without an offset are taken in
    ``default_tz``. ``errors``: ``"raise"`` stops at the first bad row with a :class:`ParseError`;
    ``"skip"`` leaves bad rows out; ``"collect"`` leaves them out and lists them in ``.problems``.
    """
    _check_errors(errors)
    cls = _kind(kind)
    tz = _tzinfo(default_tz)
    name = os.fspath(path)
    try:
        fh, enc = _open_text(path, encoding)
    except FileNotFoundError:
        raise ParseError("no such file", path=name) from None
    except IsADirectoryError:
        raise ParseError("is a directory, not a file", path=name) from None
    except PermissionError:
        raise ParseError("permission denied", path=name) from None
    reader: RecordReader[Any] = RecordReader(iter(()), fh, enc)
    reader._rows = _csv_rows(reader, fh, cls, kind, mapping or {}, errors, tz, name, delimiter)
    return reader


def _csv_rows(
    reader: RecordReader[Any],
    fh: IO[str],
    cls: type[Record],
    kind: str,
    mapping: Mapping[str, str | None],
    errors: str,
    tz: dt.tzinfo,
    name: str,
    delimiter: str,
) -> Iterator[Any]:
    rows = csv.reader(fh, delimiter=delimiter)
    synonyms = _SYNONYMS[kind]
    user_map = {_key(k): v for k, v in mapping.items()}
    try:
        header = next(rows)
    except StopIteration:
        return
    except (csv.Error, UnicodeDecodeError) as exc:
        raise ParseError(f"cannot read the header: {exc}", path=name, row=1) from None
    fields: list[str | None] = []
    seen: set[str] = set()
    for h in header:
        k = _key(h)
        field = user_map[k] if k in user_map else synonyms.get(k)
        if field in seen and field is not None:
            field = None  # a second column for the same field is kept as custom
        if field is not None:
            seen.add(field)
        fields.append(field)
        reader.columns[h.lstrip("\ufeff")] = field
    if kind != "customer" and "customer_id" not in seen:
        raise ParseError(
            f"no customer id column among {header!r}; pass mapping={{'<header>': 'customer_id'}}", path=name
        )
    ignored = {_key(k) for k, v in mapping.items() if v is None}
    rownum = 1
    while True:
        try:
            cells = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:
            rownum += 1
            reader.rows += 1
            problem = RowProblem(rownum, "", f"unreadable row: {exc}")
            if not _handle(reader, [problem], errors, name):
                continue
            return
        except UnicodeDecodeError as exc:
            raise ParseError(
                f"bad bytes for encoding {reader.encoding}: {exc}; pass encoding=", path=name, row=rownum + 1
            ) from None
        rownum += 1
        if not any(cells):
            continue  # a blank line
        reader.rows += 1
        values: dict[str, str] = {}
        custom: dict[str, Any] = {}
        for h, field, raw in zip(header, fields, cells, strict=False):
            if raw == "":
                continue
            raw = unguard_cell(raw)
            if field is None:
                if _key(h) not in ignored and kind == "customer":
                    custom[h.lstrip("\ufeff")] = raw
                continue
            values[field] = raw
        if len(cells) > len(header) and any(cells[len(header) :]):
            extra = RowProblem(rownum, "", f"{len(cells)} cells but {len(header)} columns in the header")
            if not _handle(reader, [extra], errors, name):
                continue
        try:
            d = _customer_dict(values, custom, tz) if kind == "customer" else _activity_dict(kind, values, tz)
            yield cls.from_dict(d)
        except ValidationError as exc:
            problems = [
                RowProblem(rownum, e.field, e.reason, values.get(e.field.split(".")[0])) for e in exc.errors
            ]
            if not _handle(reader, problems, errors, name):
                continue


def _handle(reader: RecordReader[Any], problems: list[RowProblem], errors: str, name: str) -> bool:
    """Deal with a bad row; returns False to go on with the next row (raises with errors='raise')."""
    if errors == "raise":
        raise ParseError(
            "; ".join(f"{p.field}: {p.reason}" if p.field else p.reason for p in problems),
            path=name,
            row=problems[0].row,
        )
    reader.skipped += 1
    if errors == "collect":
        reader.problems.extend(problems)
    log.debug("skipped bad row %d of %s", problems[0].row, name)
    return False


def read_jsonl(path: PathLike, *, kind: Kind = "customer", errors: Errors = "raise") -> RecordReader[Any]:
    """Stream records from a JSON Lines file (one ``to_dict`` object per line), UTF-8."""
    _check_errors(errors)
    cls = _kind(kind)
    name = os.fspath(path)
    try:
        fh = open(path, encoding="utf-8-sig")  # noqa: SIM115 - closed by the reader
    except FileNotFoundError:
        raise ParseError("no such file", path=name) from None
    except (IsADirectoryError, PermissionError) as exc:
        raise ParseError(exc.strerror or str(exc), path=name) from None
    reader: RecordReader[Any] = RecordReader(iter(()), fh, "utf-8")

    def rows() -> Iterator[Any]:
        lineno = 0
        while True:
            try:
                line = fh.readline()
            except UnicodeDecodeError as exc:
                raise ParseError(f"not UTF-8: {exc}", path=name, row=lineno + 1) from None
            if not line:
                return
            lineno += 1
            if not line.strip():
                continue
            reader.rows += 1
            try:
                data = json.loads(line)
                yield cls.from_dict(data)
            except ValueError as exc:  # JSON errors and ValidationError
                errs = (
                    exc.errors if isinstance(exc, ValidationError) else [FieldError("", f"bad JSON: {exc}")]
                )
                if not _handle(reader, [RowProblem(lineno, e.field, e.reason) for e in errs], errors, name):
                    continue

    reader._rows = rows()
    return reader


# ------------------------------------------------------------------------------------ writing
CUSTOMER_COLUMNS = [
    "id",
    "name",
    "family_name",
    "given_name",
    "phones",
    "emails",
    "addresses",
    "birthday",
    "gender",
    "company",
    "title",
    "tags",
    "channel",
    "lifecycle_stage",
    "owner",
    "consents",
    "external_ids",
    "custom",
    "created_at",
    "updated_at",
    "version",
]
TRANSACTION_COLUMNS = ["id", "customer_id", "at", "amount", "currency", "order_id", "channel", "items"]
INTERACTION_COLUMNS = ["id", "customer_id", "at", "kind", "channel", "satisfaction", "nps", "note"]
_COLUMNS = {Customer: CUSTOMER_COLUMNS, Transaction: TRANSACTION_COLUMNS, Interaction: INTERACTION_COLUMNS}

_SIMPLE_ITEM = re.compile(r"[^\s;,，；、|/\[]([^;,，；、|/]*[^\s;,，；、|/])?")


def _simple_list(values: list[str]) -> bool:
    return all(_SIMPLE_ITEM.fullmatch(v) for v in values)


def _dumps(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


def _contact_cell(items: list[dict[str, Any]], key: str) -> str:
    if not items:
        return ""
    plain = [i[key] for i in items]
    defaults = all(i["kind"] == "other" and not i["primary"] and i["verified_at"] is None for i in items)
    if defaults and _simple_list(plain):
        return "; ".join(plain)
    return _dumps(items)


def customer_row(c: Customer) -> list[str]:
    """The CSV cells of a customer (without the formula guard)."""
    d = c.to_dict()
    tags = d["tags"]
    cells: dict[str, Any] = {
        **d,
        "name": d["name"]["full"],
        "family_name": d["name"]["family"],
        "given_name": d["name"]["given"],
        "phones": _contact_cell(d["phones"], "number"),
        "emails": _contact_cell(d["emails"], "address"),
        "addresses": _dumps(d["addresses"]) if d["addresses"] else "",
        "tags": ("; ".join(tags) if _simple_list(tags) else _dumps(tags)) if tags else "",
        "consents": _dumps(d["consents"]) if d["consents"] else "",
        "external_ids": _dumps(d["external_ids"]) if d["external_ids"] else "",
        "custom": _dumps(d["custom"]) if d["custom"] else "",
        "version": str(d["version"]),
    }
    return ["" if cells[k] is None else str(cells[k]) for k in CUSTOMER_COLUMNS]


def _activity_row(r: Transaction | Interaction) -> list[str]:
    d = r.to_dict()
    if "items" in d:
        d["items"] = _dumps(d["items"]) if d["items"] else ""
    return ["" if d[k] is None else str(d[k]) for k in _COLUMNS[type(r)]]


@contextlib.contextmanager
def _atomic(path: PathLike, encoding: str, newline: str | None) -> Iterator[IO[str]]:
    """A text file that appears at ``path`` only when the block finishes without an error."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except FileNotFoundError:
        raise ParseError("the folder does not exist", path=str(path)) from None
    try:
        with open(fd, "w", encoding=encoding, newline=newline) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_csv(
    records: Iterable[Record], path: PathLike, *, encoding: str = "utf-8-sig", kind: Kind | None = None
) -> int:
    """Write records to CSV atomically; returns the number of rows written.

    The default ``utf-8-sig`` puts a BOM first so Excel reads the text right. Multi-valued fields are
    written as ``a; b`` when that reads back unambiguously, else as JSON. Every cell passes through the
    formula guard (:func:`guard_cell`). :func:`read_csv` gives back equal records.
    """
    rest = iter(records)
    first = next(rest, None)
    cls: type[Record] = _kind(kind) if kind else (type(first) if first is not None else Customer)
    if cls not in _COLUMNS:
        raise TypeError(f"write_csv writes Customer, Transaction or Interaction records, got {cls.__name__}")
    n = 0
    with _atomic(path, encoding, "") as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        w.writerow(_COLUMNS[cls])
        if first is None:
            return 0
        for rec in itertools.chain([first], rest):
            if type(rec) is not cls:
                raise TypeError(f"write_csv: all records must be {cls.__name__}, got {type(rec).__name__}")
            row = customer_row(rec) if isinstance(rec, Customer) else _activity_row(rec)
            w.writerow([guard_cell(c) for c in row])
            n += 1
    return n


def write_jsonl(records: Iterable[Record], path: PathLike) -> int:
    """Write records as JSON Lines (UTF-8, one ``to_dict`` object per line) atomically; returns the count."""
    n = 0
    with _atomic(path, "utf-8", "\n") as fh:
        for rec in records:
            fh.write(rec.to_json())
            fh.write("\n")
            n += 1
    return n


def to_rows(records: Iterable[Record]) -> Iterator[dict[str, str]]:
    """The flat rows ``write_csv`` writes, as dicts (no formula guard): for DataFrames and other sinks."""
    for rec in records:
        cells = customer_row(rec) if isinstance(rec, Customer) else _activity_row(rec)
        yield dict(zip(_COLUMNS[type(rec)], cells, strict=True))


def from_rows(
    rows: Iterable[Mapping[str, Any]], *, kind: Kind = "customer", default_tz: str | dt.tzinfo = "UTC"
) -> Iterator[Record]:
    """Records from flat rows (dicts of header → cell), with the same header synonyms as ``read_csv``."""
    cls = _kind(kind)
    tz = _tzinfo(default_tz)
    synonyms = _SYNONYMS[kind]
    for row in rows:
        values: dict[str, str] = {}
        custom: dict[str, Any] = {}
        for h, raw in row.items():
            if raw is None or raw == "" or (isinstance(raw, float) and raw != raw):
                continue
            text = raw if isinstance(raw, str) else str(raw)
            field = synonyms.get(_key(h))
            if field is None:
                if kind == "customer":
                    custom[h] = raw if isinstance(raw, (str, int, float, bool)) else text
                continue
            values[field] = text
        d = _customer_dict(values, custom, tz) if kind == "customer" else _activity_dict(kind, values, tz)
        yield cls.from_dict(d)
