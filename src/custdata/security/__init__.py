"""Security and privacy: keys, field encryption, blind indexes, masking, access policy and audit.

See docs/security.md for the threat model and key handling.
"""

from custdata.security._audit import AuditLog, AuditSink, AuditVerdict, JsonlSink, MemorySink, StoreSink
from custdata.security._breach import EXPOSING_ACTIONS, BreachReport, breach_report
from custdata.security._consent import (
    CONSENT_REASONS,
    REACHABLE,
    ConsentSplit,
    ConsentStatus,
    consent_key,
    consent_status,
    consented,
    contact_channel,
    may_contact,
    record_consent,
)
from custdata.security._encryptor import BlindIndex, FieldEncryptor
from custdata.security._export import EXPORT_FORMATS, ExportReport, export_customers
from custdata.security._keyring import Key, KeyProvider, Keyring, KeyState, LocalKeyProvider
from custdata.security._kms import AwsKmsKeyProvider
from custdata.security._mask import (
    Pseudonymizer,
    debug_pii,
    mask_email,
    mask_name,
    mask_phone,
    mask_resident_id,
    set_debug_pii,
)
from custdata.security._policy import Access, Action, Policy
from custdata.security._records import PII_FIELDS, RecordCipher
from custdata.security._retention import RETENTION_KINDS, RetentionPolicy, RetentionReport, apply_retention
from custdata.security._rotate import encrypt_store, key_usage, rotate
from custdata.security._subject import erase_subject, export_subject
from custdata.security._view import StoreView

__all__ = [
    "CONSENT_REASONS",
    "EXPORT_FORMATS",
    "EXPOSING_ACTIONS",
    "PII_FIELDS",
    "REACHABLE",
    "RETENTION_KINDS",
    "Access",
    "Action",
    "AuditLog",
    "AuditSink",
    "AuditVerdict",
    "AwsKmsKeyProvider",
    "BlindIndex",
    "BreachReport",
    "ConsentSplit",
    "ConsentStatus",
    "ExportReport",
    "FieldEncryptor",
    "JsonlSink",
    "Key",
    "KeyProvider",
    "KeyState",
    "Keyring",
    "LocalKeyProvider",
    "MemorySink",
    "Policy",
    "Pseudonymizer",
    "RecordCipher",
    "RetentionPolicy",
    "RetentionReport",
    "StoreSink",
    "StoreView",
    "apply_retention",
    "breach_report",
    "consent_key",
    "consent_status",
    "consented",
    "contact_channel",
    "debug_pii",
    "encrypt_store",
    "erase_subject",
    "export_customers",
    "export_subject",
    "key_usage",
    "mask_email",
    "mask_name",
    "mask_phone",
    "mask_resident_id",
    "may_contact",
    "record_consent",
    "rotate",
    "set_debug_pii",
]
