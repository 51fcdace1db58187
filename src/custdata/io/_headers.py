"""The column tables: header synonyms a reader maps to record fields, and the columns the writer writes.

Both are derived from the records' field descriptions (``custdata._fields``): a field's column is its name,
read back under that name and the synonyms its spec declares. Only what is not a record field lives here:
the flat customer columns (``mobile``, ``city`` …) and their synonyms.
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
    "FLAT_CUSTOMER_SYNONYMS",
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


#: Header synonyms of the flat customer columns: the columns people's spreadsheets have that are not
#: record fields (a name split in two, one column per phone or e-mail kind, an address in parts). The
#: record fields' own synonyms are declared with the fields (``custdata._records``) and added below.
FLAT_CUSTOMER_SYNONYMS: dict[str, list[str]] = {
    "family_name": ["surname", "last name", "lastname", "family", "姓", "姓氏"],
    "given_name": ["first name", "firstname", "forename", "given", "名"],
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
}

#: Columns the writer writes in place of one record field (a customer's name also as its two parts).
_WRITTEN_AS: dict[type, dict[str, tuple[str, ...]]] = {
    Customer: {"name": ("name", "family_name", "given_name")}
}


def _columns(cls: type) -> list[str]:
    """The columns written for a record class: its fields in the description's order."""
    expand = _WRITTEN_AS.get(cls, {})
    return [col for f in fields_of(cls) for col in expand.get(f.name, (f.name,))]


def _field_synonyms(cls: type, flat: Mapping[str, Iterable[str]] = {}) -> dict[str, str]:
    """Header key → field: each field's name and the synonyms its spec lists, then the flat columns'."""
    out: dict[str, str] = {}
    for f in fields_of(cls):
        for name in (f.name, *f.spec.synonyms):
            out.setdefault(header_key(name), f.name)
    for field, names in flat.items():
        for name in (field, *names):
            out.setdefault(header_key(name), field)
    return out


CUSTOMER_SYNONYMS = _field_synonyms(Customer, FLAT_CUSTOMER_SYNONYMS)
TRANSACTION_SYNONYMS = _field_synonyms(Transaction)
INTERACTION_SYNONYMS = _field_synonyms(Interaction)

SYNONYMS = {
    "customer": CUSTOMER_SYNONYMS,
    "transaction": TRANSACTION_SYNONYMS,
    "interaction": INTERACTION_SYNONYMS,
}

CUSTOMER_COLUMNS = _columns(Customer)
TRANSACTION_COLUMNS = _columns(Transaction)
INTERACTION_COLUMNS = _columns(Interaction)
COLUMNS = {Customer: CUSTOMER_COLUMNS, Transaction: TRANSACTION_COLUMNS, Interaction: INTERACTION_COLUMNS}
