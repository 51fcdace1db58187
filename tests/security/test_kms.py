"""AwsKmsKeyProvider against AWS KMS's API, served by moto's server mode started here (as s3fs's tests do)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest

from tests.conftest import has

pytestmark = pytest.mark.skipif(
    not (has("boto3") and has("moto") and has("flask")),
    reason="needs boto3 and moto[server] (the kms extra and the test group)",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def kms_endpoint():
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.skip("moto's server did not start")
                time.sleep(0.1)
        else:
            pytest.skip("moto's server did not start in 30 s")
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def client(kms_endpoint, monkeypatch):
    import boto3

    for var, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(var, value)
    return boto3.client("kms", region_name="us-east-1", endpoint_url=kms_endpoint)


def test_keyring_wrapped_by_kms_round_trips(client, tmp_path):
    from custdata.security import AwsKmsKeyProvider, FieldEncryptor, Keyring

    key_id = client.create_key(Description="custdata test")["KeyMetadata"]["KeyId"]
    provider = AwsKmsKeyProvider(key_id, client=client)
    ring = Keyring.generate()
    token = FieldEncryptor(ring).encrypt("+8613812345678", record_id="c1", field="phone")
    ring.save(tmp_path / "k.json", provider=provider)
    back = Keyring.load(tmp_path / "k.json", provider=provider)
    assert FieldEncryptor(back).decrypt(token, record_id="c1", field="phone") == "+8613812345678"


def test_kms_errors_are_custdata_errors(client):
    from custdata.exceptions import AccessDenied, DecryptionError, KeyProviderError
    from custdata.security import AwsKmsKeyProvider

    key_id = client.create_key()["KeyMetadata"]["KeyId"]
    provider = AwsKmsKeyProvider(key_id, client=client)
    wrapped = provider.wrap(b"k" * 32)
    assert provider.unwrap(wrapped) == b"k" * 32
    with pytest.raises(DecryptionError):
        provider.unwrap(wrapped[:-3] + b"xyz")
    other = AwsKmsKeyProvider(client.create_key()["KeyMetadata"]["KeyId"], client=client)
    with pytest.raises((DecryptionError, AccessDenied)):
        other.unwrap(wrapped)
    with pytest.raises((KeyProviderError, AccessDenied)):
        AwsKmsKeyProvider("alias/does-not-exist", client=client).wrap(b"k" * 32)
