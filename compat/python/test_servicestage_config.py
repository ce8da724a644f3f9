"""ServiceStage v3 configuration management driven by the official Python SDK.

The SDK's v3 ServiceStageClient has no typed methods for config groups, config files or
their records, so these tests use the same client's signed do_http_request (AK/SK
SDK-HMAC-SHA256, project id from BasicCredentials) on the documented paths and assert the
answers' values. Settings come from compat/run-python.sh (see test_huaweicloud_sdk.py).
"""
import uuid

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkservicestage.v3 import ServiceStageClient

from openstage_env import AK, PROJECT_ID, SK, URL, sdk_client


def client():
    return sdk_client(ServiceStageClient)


def call(method, path, body=None, query=None):
    headers = {"Content-Type": "application/json;charset=utf8"}
    # Any generated response model works as a holder: status_code and raw_content are kept.
    response = client().do_http_request(method, "/v3/{project_id}/cas" + path, path_params={}, query_params=query or [],
                                        header_params=headers, body=body, response_type="DeleteApplicationResponse",
                                        response_headers=[])
    return response.status_code, response.to_json_object()


def unique(prefix):
    return prefix + uuid.uuid4().hex[:10]


def test_group_and_file_lifecycle_with_histories():
    group_name = unique("sdkgroup")
    status, group = call("POST", "/config-groups", {"name": group_name, "description": "from the SDK"})
    assert status == 200
    assert group["name"] == group_name
    assert group["project_id"] == PROJECT_ID
    assert group["description"] == "from the SDK"
    assert group["enterprise_project_id"] == "0"
    assert isinstance(group["create_time"], int)

    status, listed = call("GET", "/config-groups", query=[("name", group_name)])
    assert status == 200
    assert listed["count"] == 1
    assert [g["id"] for g in listed["config_groups"]] == [group["id"]]

    status, shown = call("GET", "/config-groups/" + group["id"])
    assert status == 200
    assert shown == group

    status, config = call("POST", "/configs", {"config_group_id": group["id"], "name": "sdk-app", "type": "yaml",
                                               "content": "app: ${CAS_APPLICATION_NAME}\nport: 8080\n"})
    assert status == 200
    assert config["version"] == "1"
    assert config["sensitive"] is False
    assert config["components"] == []

    status, configs = call("GET", "/configs", query=[("config_group_id", group["id"])])
    assert status == 200
    assert configs["count"] == 1
    assert configs["configs"][0]["content"] == "app: ${CAS_APPLICATION_NAME}\nport: 8080\n"

    status, modified = call("PUT", "/configs/" + config["id"], {"config_group_id": group["id"], "name": "sdk-app",
                                                                 "type": "properties", "content": "port=9090\n",
                                                                 "description": "moved to properties"})
    assert status == 200
    assert modified["version"] == "2"
    assert modified["type"] == "properties"
    assert modified["description"] == "moved to properties"

    status, shown = call("GET", "/configs/" + config["id"])
    assert status == 200
    assert shown["content"] == "port=9090\n"

    status, histories = call("GET", "/configs/" + config["id"] + "/histories")
    assert status == 200
    assert histories["count"] == 1
    record = histories["histories"][0]
    assert (record["version"], record["type"], record["content"]) == ("1", "yaml", "app: ${CAS_APPLICATION_NAME}\nport: 8080\n")
    assert record["config_id"] == config["id"]
    assert record["group_id"] == group["id"]

    status, one = call("GET", "/configs/" + config["id"] + "/histories/" + record["config_history_id"])
    assert status == 200
    assert one == record

    status, _ = call("DELETE", "/configs/" + config["id"])
    assert status == 200
    with pytest.raises(ClientRequestException) as info:
        call("GET", "/configs/" + config["id"])
    assert info.value.status_code == 404
    assert info.value.error_code == "SVCSTG.00100404"

    status, _ = call("DELETE", "/config-groups/" + group["id"])
    assert status == 200
    # Deleting again answers 404 as GET does (issue #15 L3; Terraform's delete reads a 404 as
    # "already deleted").
    with pytest.raises(ClientRequestException) as info:
        call("DELETE", "/config-groups/" + group["id"])
    assert info.value.status_code == 404
    assert info.value.error_code == "SVCSTG.00100404"


def test_bad_config_body_is_refused_with_the_field_named():
    status, group = call("POST", "/config-groups", {"name": unique("sdkbad")})
    assert status == 200
    with pytest.raises(ClientRequestException) as info:
        call("POST", "/configs", {"config_group_id": group["id"], "name": "sdk-bad", "type": "json", "content": "{}"})
    assert info.value.status_code == 400
    assert info.value.error_code == "SVCSTG.00100400"
    assert "body/type" in info.value.error_msg
