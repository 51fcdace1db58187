"""AWS KMS as a key provider (the ``kms`` extra: boto3). botocore's errors are mapped here, once."""

from __future__ import annotations

from typing import Any

from custdata.exceptions import AccessDenied, DecryptionError, KeyProviderError, MissingExtraError

__all__ = ["AwsKmsKeyProvider"]

_CONTEXT = {"purpose": "custdata-keyring"}


class AwsKmsKeyProvider:
    """Data keys wrapped by an AWS KMS key (``key_id``: a key id, ARN or alias). The master key never
    leaves KMS; every wrap and unwrap is a KMS call (logged by CloudTrail), with a fixed encryption
    context so a wrapped key cannot be unwrapped for another purpose.

    ``client`` is a boto3 KMS client; without one, one is made from ``client_options`` (``region_name``,
    ``endpoint_url``, credentials …) and the usual AWS configuration.
    """

    name = "aws-kms"

    def __init__(self, key_id: str, *, client: Any = None, **client_options: Any) -> None:
        try:
            import boto3
            import botocore.exceptions
        except ImportError as exc:
            raise MissingExtraError("kms", "AwsKmsKeyProvider", ["boto3"]) from exc
        self.key_id = key_id
        self._errors = botocore.exceptions
        self._client = client if client is not None else boto3.client("kms", **client_options)

    def _call(self, what: str, **kwargs: Any) -> Any:
        errors = self._errors
        try:
            return getattr(self._client, what)(**kwargs)
        except errors.ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in {"InvalidCiphertextException", "IncorrectKeyException"}:
                raise DecryptionError("AWS KMS cannot unwrap this data key (wrong key or damaged)") from None
            if code in {"AccessDeniedException", "KMSInvalidStateException", "DisabledException"}:
                raise AccessDenied(f"AWS KMS refused to {what} with this key ({code})") from None
            raise KeyProviderError(f"AWS KMS {what} failed ({code or 'unknown error'})") from None
        except (errors.BotoCoreError, OSError) as exc:
            raise KeyProviderError(f"AWS KMS {what} failed ({type(exc).__name__})") from None

    def wrap(self, data_key: bytes) -> bytes:
        out = self._call("encrypt", KeyId=self.key_id, Plaintext=data_key, EncryptionContext=_CONTEXT)
        return bytes(out["CiphertextBlob"])

    def unwrap(self, wrapped: bytes) -> bytes:
        out = self._call("decrypt", KeyId=self.key_id, CiphertextBlob=wrapped, EncryptionContext=_CONTEXT)
        return bytes(out["Plaintext"])
