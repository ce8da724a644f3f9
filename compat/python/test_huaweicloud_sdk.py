"""OpenStage driven by the official Huawei Cloud Python SDK (huaweicloudsdkcore).

The SDK signs every request with SDK-HMAC-SHA256 from BasicCredentials(ak, sk, project_id);
the server must accept those signatures, refuse a wrong secret key with 401, and refuse a
project the key's user is not in with 403. Settings come from the environment that
compat/run-python.sh sets: OPENSTAGE_URL, OPENSTAGE_ACCESS_KEY, OPENSTAGE_SECRET_KEY,
OPENSTAGE_PROJECT_ID.
"""
import json

import pytest
from huaweicloudsdkcse.v1 import CseClient
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException

from openstage_env import AK, PROJECT_ID, SK, URL, sdk_client


def client(ak=AK, sk=SK, project_id=PROJECT_ID):
    return sdk_client(CseClient, ak, sk, project_id)


def call(c, method, path, body=None, query=None):
    headers = {"Content-Type": "application/json"}
    # Any generated response model works as a holder: status_code and raw_content are kept.
    return c.do_http_request(method, path, path_params={}, query_params=query or [], header_params=headers, body=body,
                             response_type="UploadKieResponse", response_headers=[])


def test_signed_get_succeeds():
    response = call(client(), "GET", "/v3/projects/{project_id}")
    assert response.status_code == 200
    assert response.to_json_object()["project"]["id"] == PROJECT_ID


def test_signed_get_with_query_succeeds():
    response = call(client(), "GET", "/v3/projects", query=[("name", "default")])
    assert response.status_code == 200
    assert [p["id"] for p in response.to_json_object()["projects"]] == [PROJECT_ID]


def test_signed_post_with_body_succeeds():
    response = call(client(), "POST", "/v3/projects", body={"project": {"name": "sdk-made"}})
    assert response.status_code == 201
    assert response.to_json_object()["project"]["name"] == "sdk-made"


def test_wrong_secret_key_is_refused_with_401():
    with pytest.raises(ClientRequestException) as info:
        call(client(sk="x" * 40), "GET", "/v3/projects/{project_id}")
    assert info.value.status_code == 401
    assert info.value.error_code == "APIGW.0301"


def test_unknown_access_key_is_refused_with_401():
    with pytest.raises(ClientRequestException) as info:
        call(client(ak="NOSUCHACCESSKEY00000"), "GET", "/v3/projects/{project_id}")
    assert info.value.status_code == 401


def test_project_outside_the_key_is_refused_with_403():
    with pytest.raises(ClientRequestException) as info:
        call(client(project_id="f" * 32), "GET", "/v3/projects/{project_id}")
    assert info.value.status_code == 403
    assert info.value.error_code == "APIGW.0302"


def test_cse_sdk_imports_multipart_and_exports_config_with_signed_calls(tmp_path):
    """The CSE SDK's upload_kie (multipart, UNSIGNED-PAYLOAD) and download_kie (JSON body)."""
    from huaweicloudsdkcore.http.formdata import FormFile
    from huaweicloudsdkcse.v1 import DownloadKieReqBody, DownloadKieRequest, UploadKieRequest, UploadKieRequestBody

    export_file = tmp_path / "kie.json"
    export_file.write_text(json.dumps({"data": [
        {"key": "sdk.timeout", "value": "30", "labels": {"app": "sdkapp"}, "status": "enabled", "value_type": "text"},
        {"key": "sdk.retries", "value": "3", "labels": {"app": "sdkapp"}, "status": "enabled", "value_type": "text"},
    ]}))
    c = client()
    with open(export_file, "rb") as f:
        uploaded = c.upload_kie(UploadKieRequest(override="force", body=UploadKieRequestBody(upload_file=FormFile(f))))
    assert uploaded.status_code == 200
    assert sorted(kv.key for kv in uploaded.success) == ["sdk.retries", "sdk.timeout"]
    assert not uploaded.failure

    downloaded = c.download_kie(DownloadKieRequest(label="app:sdkapp", body=DownloadKieReqBody()))
    assert downloaded.status_code == 200
    assert sorted((kv.key, kv.value) for kv in downloaded.data) == [("sdk.retries", "3"), ("sdk.timeout", "30")]

    with pytest.raises(ClientRequestException) as info:
        client(sk="y" * 40).download_kie(DownloadKieRequest(label="app:sdkapp", body=DownloadKieReqBody()))
    assert info.value.status_code == 401
