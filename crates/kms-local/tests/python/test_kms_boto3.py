"""Every KMS operation and the errors KMS documents for it, driven with boto3."""

import base64
import hashlib

import pytest
from botocore.exceptions import ClientError

from conftest import error_code


def raises(code, fn, **kwargs):
    with pytest.raises(ClientError) as e:
        fn(**kwargs)
    assert error_code(e) == code, e.value.response
    return e.value.response


def test_unknown_operation_is_a_json_error(server):
    import urllib.request
    req = urllib.request.Request(server.endpoint + "/", data=b"{}", method="POST",
                                 headers={"X-Amz-Target": "TrentService.NoSuchThing",
                                          "Content-Type": "application/x-amz-json-1.1"})
    try:
        urllib.request.urlopen(req)
        raise AssertionError("expected an error")
    except urllib.error.HTTPError as e:
        assert e.code == 400
        body = e.read()
        assert b'"__type":"UnknownOperationException"' in body


def test_key_lifecycle(kms):
    meta = kms.create_key(Description="d", Tags=[{"TagKey": "a", "TagValue": "b"}])["KeyMetadata"]
    kid = meta["KeyId"]
    assert meta["KeyState"] == "Enabled" and meta["KeySpec"] == "SYMMETRIC_DEFAULT"
    assert kms.describe_key(KeyId=meta["Arn"])["KeyMetadata"]["KeyId"] == kid
    assert any(k["KeyId"] == kid for k in kms.list_keys()["Keys"])
    kms.disable_key(KeyId=kid)
    assert kms.describe_key(KeyId=kid)["KeyMetadata"]["KeyState"] == "Disabled"
    raises("DisabledException", kms.encrypt, KeyId=kid, Plaintext=b"x")
    kms.enable_key(KeyId=kid)
    kms.update_key_description(KeyId=kid, Description="new")
    assert kms.describe_key(KeyId=kid)["KeyMetadata"]["Description"] == "new"
    kms.tag_resource(KeyId=kid, Tags=[{"TagKey": "c", "TagValue": "d"}])
    assert len(kms.list_resource_tags(KeyId=kid)["Tags"]) == 2
    kms.untag_resource(KeyId=kid, TagKeys=["a"])
    assert kms.list_resource_tags(KeyId=kid)["Tags"] == [{"TagKey": "c", "TagValue": "d"}]
    raises("TagException", kms.tag_resource, KeyId=kid, Tags=[{"TagKey": "aws:x", "TagValue": "d"}])
    raises("ValidationException", kms.schedule_key_deletion, KeyId=kid, PendingWindowInDays=31)
    out = kms.schedule_key_deletion(KeyId=kid, PendingWindowInDays=7)
    assert out["KeyState"] == "PendingDeletion" and out["PendingWindowInDays"] == 7
    raises("KMSInvalidStateException", kms.encrypt, KeyId=kid, Plaintext=b"x")
    raises("KMSInvalidStateException", kms.enable_key, KeyId=kid)
    kms.cancel_key_deletion(KeyId=kid)
    assert kms.describe_key(KeyId=kid)["KeyMetadata"]["KeyState"] == "Disabled"
    raises("KMSInvalidStateException", kms.cancel_key_deletion, KeyId=kid)
    raises("NotFoundException", kms.describe_key, KeyId="1234abcd-12ab-34cd-56ef-1234567890ab")
    raises("NotFoundException", kms.describe_key, KeyId="not-a-key")
    raises("InvalidArnException", kms.describe_key, KeyId="arn:aws:s3:::bucket")
    raises("InvalidMarkerException", kms.list_keys, Marker="bogus")


def test_aliases(kms):
    a = kms.create_key()["KeyMetadata"]["KeyId"]
    b = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/app", TargetKeyId=a)
    raises("AlreadyExistsException", kms.create_alias, AliasName="alias/app", TargetKeyId=a)
    raises("ValidationException", kms.create_alias, AliasName="app", TargetKeyId=a)
    raises("NotFoundException", kms.create_alias, AliasName="alias/x", TargetKeyId="1234abcd-12ab-34cd-56ef-1234567890ab")
    assert kms.describe_key(KeyId="alias/app")["KeyMetadata"]["KeyId"] == a
    arn = [x for x in kms.list_aliases()["Aliases"] if x["AliasName"] == "alias/app"][0]["AliasArn"]
    assert kms.describe_key(KeyId=arn)["KeyMetadata"]["KeyId"] == a
    kms.update_alias(AliasName="alias/app", TargetKeyId=b)
    assert kms.list_aliases(KeyId=b)["Aliases"][0]["AliasName"] == "alias/app"
    raises("NotFoundException", kms.enable_key, KeyId="alias/app")  # key id or ARN only
    kms.delete_alias(AliasName="alias/app")
    raises("NotFoundException", kms.delete_alias, AliasName="alias/app")


def test_symmetric_crypto(kms):
    kid = kms.create_key()["KeyMetadata"]["KeyId"]
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    ct = kms.encrypt(KeyId=kid, Plaintext=b"secret", EncryptionContext={"a": "bc"})["CiphertextBlob"]
    out = kms.decrypt(CiphertextBlob=ct, EncryptionContext={"a": "bc"})
    assert out["Plaintext"] == b"secret" and out["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    raises("InvalidCiphertextException", kms.decrypt, CiphertextBlob=ct, EncryptionContext={"ab": "c"})
    raises("InvalidCiphertextException", kms.decrypt, CiphertextBlob=ct[:-1] + bytes([ct[-1] ^ 1]), EncryptionContext={"a": "bc"})
    raises("IncorrectKeyException", kms.decrypt, CiphertextBlob=ct, KeyId=other, EncryptionContext={"a": "bc"})
    raises("ValidationException", kms.encrypt, KeyId=kid, Plaintext=b"x" * 4097)
    raises("DryRunOperationException", kms.encrypt, KeyId=kid, Plaintext=b"x", DryRun=True)
    raises("DryRunOperationException", kms.decrypt, CiphertextBlob=ct, EncryptionContext={"a": "bc"}, DryRun=True)
    raises("DryRunOperationException", kms.decrypt, CiphertextBlob=b"junk", KeyId=kid, DryRun=True,
           DryRunModifiers=["IGNORE_CIPHERTEXT"])
    re = kms.re_encrypt(CiphertextBlob=ct, SourceEncryptionContext={"a": "bc"}, DestinationKeyId=other)
    assert kms.decrypt(CiphertextBlob=re["CiphertextBlob"])["Plaintext"] == b"secret"
    dk = kms.generate_data_key(KeyId=kid, KeySpec="AES_128")
    assert len(dk["Plaintext"]) == 16
    assert kms.decrypt(CiphertextBlob=dk["CiphertextBlob"])["Plaintext"] == dk["Plaintext"]
    dk = kms.generate_data_key_without_plaintext(KeyId=kid, NumberOfBytes=64)
    assert "Plaintext" not in dk
    raises("ValidationException", kms.generate_data_key, KeyId=kid)
    raises("ValidationException", kms.generate_data_key, KeyId=kid, NumberOfBytes=1025)
    assert len(kms.generate_random(NumberOfBytes=1024)["Plaintext"]) == 1024
    raises("ValidationException", kms.generate_random, NumberOfBytes=1025)
    raises("CustomKeyStoreNotFoundException", kms.generate_random, NumberOfBytes=8, CustomKeyStoreId="cks-1234567890abcdef0")
    raises("ValidationException", kms.encrypt, KeyId=kid, Plaintext=b"x", GrantTokens=["t"] * 11)


def test_asymmetric(kms):
    rsa = kms.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]
    assert rsa["EncryptionAlgorithms"] == ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]
    ct = kms.encrypt(KeyId=rsa["KeyId"], Plaintext=b"hi", EncryptionAlgorithm="RSAES_OAEP_SHA_256")["CiphertextBlob"]
    assert len(ct) == 256
    assert kms.decrypt(CiphertextBlob=ct, KeyId=rsa["KeyId"], EncryptionAlgorithm="RSAES_OAEP_SHA_256")["Plaintext"] == b"hi"
    raises("InvalidKeyUsageException", kms.encrypt, KeyId=rsa["KeyId"], Plaintext=b"hi")
    pub = kms.get_public_key(KeyId=rsa["KeyId"])
    assert pub["PublicKey"][:2] == b"\x30\x82" and pub["KeyUsage"] == "ENCRYPT_DECRYPT"

    for spec, alg in [("RSA_3072", "RSASSA_PSS_SHA_256"), ("RSA_2048", "RSASSA_PKCS1_V1_5_SHA_512"),
                      ("ECC_NIST_P256", "ECDSA_SHA_256"), ("ECC_NIST_P384", "ECDSA_SHA_384"),
                      ("ECC_NIST_P521", "ECDSA_SHA_512"), ("ECC_SECG_P256K1", "ECDSA_SHA_256"),
                      ("ECC_NIST_EDWARDS25519", "ED25519_SHA_512"), ("ML_DSA_44", "ML_DSA_SHAKE_256")]:
        kid = kms.create_key(KeySpec=spec, KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
        sig = kms.sign(KeyId=kid, Message=b"m", SigningAlgorithm=alg)["Signature"]
        assert kms.verify(KeyId=kid, Message=b"m", Signature=sig, SigningAlgorithm=alg)["SignatureValid"]
        raises("KMSInvalidSignatureException", kms.verify, KeyId=kid, Message=b"n", Signature=sig, SigningAlgorithm=alg)
    kid = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    digest = hashlib.sha256(b"m").digest()
    sig = kms.sign(KeyId=kid, Message=digest, MessageType="DIGEST", SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    assert kms.verify(KeyId=kid, Message=b"m", Signature=sig, SigningAlgorithm="ECDSA_SHA_256")["SignatureValid"]
    raises("ValidationException", kms.sign, KeyId=kid, Message=b"short", MessageType="DIGEST", SigningAlgorithm="ECDSA_SHA_256")
    raises("InvalidKeyUsageException", kms.sign, KeyId=kid, Message=b"m", SigningAlgorithm="ECDSA_SHA_384")
    raises("ValidationException", kms.create_key, KeySpec="ECC_NIST_P256")  # default usage ENCRYPT_DECRYPT


def test_hmac_ecdh_kem_and_pairs(kms):
    for spec, alg, n in [("HMAC_224", "HMAC_SHA_224", 28), ("HMAC_512", "HMAC_SHA_512", 64)]:
        kid = kms.create_key(KeySpec=spec, KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
        mac = kms.generate_mac(KeyId=kid, Message=b"m", MacAlgorithm=alg)["Mac"]
        assert len(mac) == n
        assert kms.verify_mac(KeyId=kid, Message=b"m", Mac=mac, MacAlgorithm=alg)["MacValid"]
        raises("KMSInvalidMacException", kms.verify_mac, KeyId=kid, Message=b"x", Mac=mac, MacAlgorithm=alg)
    a = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]["KeyId"]
    b = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]["KeyId"]
    pa = kms.get_public_key(KeyId=a)["PublicKey"]
    pb = kms.get_public_key(KeyId=b)["PublicKey"]
    s1 = kms.derive_shared_secret(KeyId=a, KeyAgreementAlgorithm="ECDH", PublicKey=pb)["SharedSecret"]
    s2 = kms.derive_shared_secret(KeyId=b, KeyAgreementAlgorithm="ECDH", PublicKey=pa)["SharedSecret"]
    assert s1 == s2 and len(s1) == 32
    kem = kms.create_key(KeySpec="ML_KEM_1024", KeyUsage="ENCAPSULATE_DECAPSULATE")["KeyMetadata"]["KeyId"]
    enc = kms.encapsulate(KeyId=kem, EncapsulationAlgorithm="ML_KEM")
    dec = kms.decapsulate(KeyId=kem, SharedSecretCiphertextBlob=enc["SharedSecretCiphertextBlob"], EncapsulationAlgorithm="ML_KEM")
    assert dec["SharedSecret"] == enc["SharedSecret"]
    raises("InvalidCiphertextException", kms.decapsulate, KeyId=kem, SharedSecretCiphertextBlob=b"x" * 5, EncapsulationAlgorithm="ML_KEM")
    sym = kms.create_key()["KeyMetadata"]["KeyId"]
    pair = kms.generate_data_key_pair(KeyId=sym, KeyPairSpec="ECC_NIST_P384")
    assert kms.decrypt(CiphertextBlob=pair["PrivateKeyCiphertextBlob"])["Plaintext"] == pair["PrivateKeyPlaintext"]
    pair = kms.generate_data_key_pair_without_plaintext(KeyId=sym, KeyPairSpec="ECC_NIST_EDWARDS25519")
    assert "PrivateKeyPlaintext" not in pair
    raises("InvalidKeyUsageException", kms.generate_data_key_pair, KeyId=kem, KeyPairSpec="RSA_2048")
    raises("UnsupportedOperationException", kms.get_public_key, KeyId=sym)


def test_rotation(kms):
    kid = kms.create_key()["KeyMetadata"]["KeyId"]
    old = kms.encrypt(KeyId=kid, Plaintext=b"old")["CiphertextBlob"]
    assert not kms.get_key_rotation_status(KeyId=kid)["KeyRotationEnabled"]
    kms.enable_key_rotation(KeyId=kid, RotationPeriodInDays=180)
    st = kms.get_key_rotation_status(KeyId=kid)
    assert st["KeyRotationEnabled"] and st["RotationPeriodInDays"] == 180
    kms.rotate_key_on_demand(KeyId=kid)
    kms.rotate_key_on_demand(KeyId=kid)
    rot = kms.list_key_rotations(KeyId=kid)["Rotations"]
    assert len(rot) == 2 and all(r["RotationType"] == "ON_DEMAND" for r in rot)
    assert kms.decrypt(CiphertextBlob=old)["Plaintext"] == b"old"
    new = kms.encrypt(KeyId=kid, Plaintext=b"new")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=new)["Plaintext"] == b"new"
    kms.disable_key_rotation(KeyId=kid)
    hmac = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
    raises("UnsupportedOperationException", kms.enable_key_rotation, KeyId=hmac)
    kms.disable_key(KeyId=kid)
    raises("DisabledException", kms.rotate_key_on_demand, KeyId=kid)


def test_multi_region(server):
    east, west = server.client("us-east-1"), server.client("us-west-2")
    meta = east.create_key(MultiRegion=True)["KeyMetadata"]
    assert meta["KeyId"].startswith("mrk-") and meta["MultiRegion"]
    ct = east.encrypt(KeyId=meta["KeyId"], Plaintext=b"mr", EncryptionContext={"k": "v"})["CiphertextBlob"]
    rep = east.replicate_key(KeyId=meta["KeyId"], ReplicaRegion="us-west-2")
    assert rep["ReplicaKeyMetadata"]["MultiRegionConfiguration"]["MultiRegionKeyType"] == "REPLICA"
    assert west.decrypt(CiphertextBlob=ct, EncryptionContext={"k": "v"})["Plaintext"] == b"mr"
    raises("AlreadyExistsException", east.replicate_key, KeyId=meta["KeyId"], ReplicaRegion="us-west-2")
    raises("UnsupportedOperationException", west.replicate_key, KeyId=meta["KeyId"], ReplicaRegion="eu-west-1")
    east.update_primary_region(KeyId=meta["KeyId"], PrimaryRegion="us-west-2")
    cfg = east.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]["MultiRegionConfiguration"]
    assert cfg["MultiRegionKeyType"] == "REPLICA" and cfg["PrimaryKey"]["Region"] == "us-west-2"
    single = east.create_key()["KeyMetadata"]["KeyId"]
    raises("UnsupportedOperationException", east.replicate_key, KeyId=single, ReplicaRegion="eu-west-1")


def _wrap_oaep_sha256(public_der, material):
    """RSA-OAEP-SHA256 wrapping, as a user would do it offline."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding
    key = serialization.load_der_public_key(public_der)
    return key.encrypt(material, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None))


def test_import_key_material(kms):
    meta = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]
    kid = meta["KeyId"]
    assert meta["KeyState"] == "PendingImport"
    raises("KMSInvalidStateException", kms.encrypt, KeyId=kid, Plaintext=b"x")
    params = kms.get_parameters_for_import(KeyId=kid, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048")
    material = bytes(range(32))
    wrapped = _wrap_oaep_sha256(params["PublicKey"], material)
    raises("InvalidCiphertextException", kms.import_key_material, KeyId=kid, ImportToken=params["ImportToken"],
           EncryptedKeyMaterial=b"\x00" * 256, ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    raises("InvalidImportTokenException", kms.import_key_material, KeyId=kid, ImportToken=b"garbage" * 10,
           EncryptedKeyMaterial=wrapped, ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    kms.import_key_material(KeyId=kid, ImportToken=params["ImportToken"], EncryptedKeyMaterial=wrapped,
                            ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    assert kms.describe_key(KeyId=kid)["KeyMetadata"]["KeyState"] == "Enabled"
    ct = kms.encrypt(KeyId=kid, Plaintext=b"imported")["CiphertextBlob"]
    kms.delete_imported_key_material(KeyId=kid)
    assert kms.describe_key(KeyId=kid)["KeyMetadata"]["KeyState"] == "PendingImport"
    params = kms.get_parameters_for_import(KeyId=kid, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048")
    other = _wrap_oaep_sha256(params["PublicKey"], bytes(32))
    raises("IncorrectKeyMaterialException", kms.import_key_material, KeyId=kid, ImportToken=params["ImportToken"],
           EncryptedKeyMaterial=other, ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    again = _wrap_oaep_sha256(params["PublicKey"], material)
    kms.import_key_material(KeyId=kid, ImportToken=params["ImportToken"], EncryptedKeyMaterial=again,
                            ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    assert kms.decrypt(CiphertextBlob=ct)["Plaintext"] == b"imported"
    normal = kms.create_key()["KeyMetadata"]["KeyId"]
    raises("UnsupportedOperationException", kms.get_parameters_for_import, KeyId=normal,
           WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048")


def test_policies_and_grants_permissive(kms):
    kid = kms.create_key()["KeyMetadata"]["KeyId"]
    pol = kms.get_key_policy(KeyId=kid, PolicyName="default")["Policy"]
    assert "arn:aws:iam::111122223333:root" in pol and "kms:*" in pol
    assert kms.list_key_policies(KeyId=kid)["PolicyNames"] == ["default"]
    raises("MalformedPolicyDocumentException", kms.put_key_policy, KeyId=kid, PolicyName="default", Policy="{not json")
    kms.put_key_policy(KeyId=kid, PolicyName="default", Policy=pol)
    g = kms.create_grant(KeyId=kid, GranteePrincipal="arn:aws:iam::111122223333:role/app",
                         RetiringPrincipal="arn:aws:iam::111122223333:role/admin",
                         Operations=["Encrypt", "Decrypt"], Name="g1")
    again = kms.create_grant(KeyId=kid, GranteePrincipal="arn:aws:iam::111122223333:role/app",
                             RetiringPrincipal="arn:aws:iam::111122223333:role/admin",
                             Operations=["Encrypt", "Decrypt"], Name="g1")
    assert again["GrantId"] == g["GrantId"]
    assert len(kms.list_grants(KeyId=kid)["Grants"]) == 1
    assert len(kms.list_retirable_grants(RetiringPrincipal="arn:aws:iam::111122223333:role/admin")["Grants"]) == 1
    raises("DryRunOperationException", kms.retire_grant, GrantToken=g["GrantToken"], DryRun=True)
    kms.retire_grant(GrantToken=g["GrantToken"])
    assert kms.list_grants(KeyId=kid)["Grants"] == []
    g2 = kms.create_grant(KeyId=kid, GranteePrincipal="arn:aws:iam::111122223333:role/app", Operations=["Encrypt"])
    kms.revoke_grant(KeyId=kid, GrantId=g2["GrantId"])
    raises("NotFoundException", kms.revoke_grant, KeyId=kid, GrantId=g2["GrantId"])
    raises("ValidationException", kms.create_grant, KeyId=kid, GranteePrincipal="arn:aws:iam::111122223333:role/app",
           Operations=["Sign"])


def test_custom_key_stores_are_unavailable(kms):
    cks = "cks-1234567890abcdef0"
    assert kms.describe_custom_key_stores()["CustomKeyStores"] == []
    for fn in (kms.connect_custom_key_store, kms.disconnect_custom_key_store, kms.delete_custom_key_store):
        raises("CustomKeyStoreNotFoundException", fn, CustomKeyStoreId=cks)
    raises("CustomKeyStoreNotFoundException", kms.update_custom_key_store, CustomKeyStoreId=cks, NewCustomKeyStoreName="n")
    raises("CustomKeyStoreNotFoundException", kms.describe_custom_key_stores, CustomKeyStoreId=cks)
    raises("CloudHsmClusterNotFoundException", kms.create_custom_key_store, CustomKeyStoreName="s",
           CloudHsmClusterId="cluster-1234567890a", TrustAnchorCertificate="x", KeyStorePassword="password1")
    raises("CustomKeyStoreNotFoundException", kms.create_key, CustomKeyStoreId=cks)


def test_key_last_usage(kms):
    kid = kms.create_key()["KeyMetadata"]["KeyId"]
    out = kms.get_key_last_usage(KeyId=kid)
    assert "KeyLastUsage" not in out or not out["KeyLastUsage"]
    kms.encrypt(KeyId=kid, Plaintext=b"x")
    out = kms.get_key_last_usage(KeyId=kid)
    assert out["KeyLastUsage"]["Operation"] == "Encrypt"
    raises("NotFoundException", kms.get_key_last_usage, KeyId="alias/whatever")
