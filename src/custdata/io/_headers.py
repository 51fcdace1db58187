"""The column tables: header synonyms a reader maps to record fields, and the columns the writer writes.

Both tables live here (and only here) so that they can be derived from one description of each record's
fields.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from custdata._fields import fields_of
from custdata._records import Customer, Interaction, Transaction

__all__ = [
    "COLUMNS",
    "CUSTOMER_COLUMNS",
    "CUSTOMER_SYNONYMS",
    "INTERACTION_COLUMNS",
    "INTERACTION_SYNONYMS",
    "SYNONYMS",
    "TRANSACTION_COLUMNS",
    "TRANSACTION_SYNONYMS",
    "header_key",
]


def header_key(header: str) -> str:
    """A header as compared with the synonyms: no spaces, punctuation or BOM, case-folded."""
    return re.sub(r"[\s_\-./()（）:：]+", "", header.strip().lstrip("\ufeff")).casefold()


def _synonyms(table: Mapping[str, Iterable[str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for field, names in table.items():
        out[header_key(field)] = field
        for n in names:
            out[header_key(n)] = field
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

SYNONYMS = {
    "customer": CUSTOMER_SYNONYMS,
    "transaction": TRANSACTION_SYNONYMS,
    "interaction": INTERACTION_SYNONYMS,
}


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
COLUMNS = {Customer: CUSTOMER_COLUMNS, Transaction: TRANSACTION_COLUMNS, Interaction: INTERACTION_COLUMNS}


def _add_described(cls: type, columns: list[str], synonyms: dict[str, str]) -> None:
    """Fields of the record's description that the tables above do not name: a column each (the field's
    name), read back under that name and the header synonyms its spec lists. So a field added to a
    record is written and read without a change here."""
    for f in fields_of(cls):
        if f.name not in columns and f.name not in synonyms.values():
            columns.append(f.name)
        for name in (f.name, *f.spec.synonyms):
            synonyms.setdefault(header_key(name), f.name)


_add_described(Customer, CUSTOMER_COLUMNS, CUSTOMER_SYNONYMS)
_add_described(Transaction, TRANSACTION_COLUMNS, TRANSACTION_SYNONYMS)
_add_described(Interaction, INTERACTION_COLUMNS, INTERACTION_SYNONYMS)
