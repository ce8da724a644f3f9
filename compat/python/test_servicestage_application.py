"""ServiceStage v3 applications, application configuration and runtime stacks driven by the
official Huawei Cloud Python SDK (huaweicloudsdkservicestage, ServiceStageClient v3).

Typed methods exist for applications, their configuration, environments and GET
runtimestacks; custom runtime stacks are driven through the same client's signed
do_http_request. Settings come from compat/run-python.sh: OPENSTAGE_URL,
OPENSTAGE_ACCESS_KEY, OPENSTAGE_SECRET_KEY, OPENSTAGE_PROJECT_ID.
"""
import json
import uuid

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkservicestage.v3 import (
    ApplicationConfigModify,
    ApplicationConfigModifyConfiguration,
    ApplicationConfigModifyConfigurationEnv,
    ApplicationCreate,
    ApplicationModify,
    CreateApplicationRequest,
    CreateEnvironmentRequest,
    DeleteApplicationConfigurationRequest,
    DeleteApplicationRequest,
    EnvironmentCreate,
    EnvironmentCreateLabels,
    ModifyApplicationConfigurationRequest,
    ModifyApplicationRequest,
    ServiceStageClient,
    ShowApplicationConfigurationRequest,
    ShowApplicationInfoRequest,
    ShowApplicationsRequest,
    ShowRuntimeStacksRequest,
)

from openstage_env import AK, PROJECT_ID, SK, URL, sdk_client


def client():
    return sdk_client(ServiceStageClient)


def name(prefix):
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def raw(c, method, path, body=None):
    """A signed call through the SDK client; returns (status, parsed JSON or None)."""
    response = c.do_http_request(method, "/v3/{project_id}/cas" + path, path_params={}, query_params=[],
                                 header_params={"Content-Type": "application/json"}, body=body,
                                 response_type="DeleteApplicationResponse", response_headers=[])
    text = response.raw_content
    return response.status_code, (json.loads(text) if text else None)


def create_environment(c):
    body = EnvironmentCreate(name=name("sdkenv"), vpc_id="vpc-sdk", deploy_mode="virtualmachine", description="for app config")
    return c.create_environment(CreateEnvironmentRequest(body=body)).id


def test_application_create_list_show_update_delete():
    c = client()
    app_name = name("sdkapp")
    labels = [EnvironmentCreateLabels(key="team", value="compat")]
    created = c.create_application(CreateApplicationRequest(body=ApplicationCreate(name=app_name, description="made by the SDK", labels=labels)))
    assert created.name == app_name
    assert created.description == "made by the SDK"
    assert created.enterprise_project_id == "0"
    assert created.project_id == PROJECT_ID
    assert isinstance(created.create_time, int) and created.create_time > 0
    assert [(l.key, l.value) for l in created.labels] == [("team", "compat")]

    listed = c.show_applications(ShowApplicationsRequest(limit=100, offset=0, order_by="name", order="asc"))
    assert listed.count >= 1
    assert app_name in [a.name for a in listed.applications]

    shown = c.show_application_info(ShowApplicationInfoRequest(application_id=created.id))
    assert shown.id == created.id
    assert shown.component_count == 0
    assert shown.creator == created.creator

    new_name = name("sdkren")
    modified = c.modify_application(ModifyApplicationRequest(application_id=created.id, body=ApplicationModify(name=new_name, description="changed", labels=[])))
    assert modified.name == new_name
    assert modified.description == "changed"
    assert modified.labels == []
    assert c.show_application_info(ShowApplicationInfoRequest(application_id=created.id)).name == new_name

    deleted = c.delete_application(DeleteApplicationRequest(application_id=created.id))
    assert deleted.status_code == 204
    with pytest.raises(ClientRequestException) as info:
        c.show_application_info(ShowApplicationInfoRequest(application_id=created.id))
    assert info.value.status_code == 401
    assert info.value.error_code == "SVCSTG.00100401"


def test_application_name_clash_is_refused():
    c = client()
    app_name = name("sdkdup")
    c.create_application(CreateApplicationRequest(body=ApplicationCreate(name=app_name)))
    with pytest.raises(ClientRequestException) as info:
        c.create_application(CreateApplicationRequest(body=ApplicationCreate(name=app_name)))
    assert info.value.status_code == 400
    assert info.value.error_code == "SVCSTG.00100458"


def test_application_configuration_update_show_delete():
    c = client()
    env_id = create_environment(c)
    app = c.create_application(CreateApplicationRequest(body=ApplicationCreate(name=name("sdkcfg"))))
    env = [ApplicationConfigModifyConfigurationEnv(name="DB_HOST", value="db.local"),
           ApplicationConfigModifyConfigurationEnv(name="log.level", value="debug")]
    body = ApplicationConfigModify(environment_id=env_id, configuration=ApplicationConfigModifyConfiguration(env=env))
    modified = c.modify_application_configuration(ModifyApplicationConfigurationRequest(application_id=app.id, body=body))
    assert modified.application_id == app.id
    assert modified.environment_id == env_id
    assert [(e.name, e.value) for e in modified.configuration.env] == [("DB_HOST", "db.local"), ("log.level", "debug")]

    shown = c.show_application_configuration(ShowApplicationConfigurationRequest(application_id=app.id, environment_id=env_id))
    assert len(shown.configuration) == 1
    assert shown.configuration[0].environment_id == env_id
    assert [(e.name, e.value) for e in shown.configuration[0].configuration.env] == [("DB_HOST", "db.local"), ("log.level", "debug")]

    all_envs = c.show_application_configuration(ShowApplicationConfigurationRequest(application_id=app.id))
    assert [x.environment_id for x in all_envs.configuration] == [env_id]

    deleted = c.delete_application_configuration(DeleteApplicationConfigurationRequest(application_id=app.id, environment_id=env_id))
    assert deleted.status_code == 204
    with pytest.raises(ClientRequestException) as info:
        c.show_application_configuration(ShowApplicationConfigurationRequest(application_id=app.id, environment_id=env_id))
    assert info.value.status_code == 404
    assert c.show_application_configuration(ShowApplicationConfigurationRequest(application_id=app.id)).configuration == []


def test_runtime_stacks_typed_list():
    stacks = client().show_runtime_stacks(ShowRuntimeStacksRequest()).runtimestacks
    by_type = {s.type: s for s in stacks}
    for stack_type in ["Java", "Tomcat", "Nodejs", "Python", "Go"]:
        assert by_type[stack_type].deploy_mode == "virtualmachine"
        assert by_type[stack_type].status == "Supported"
    assert by_type["Docker"].deploy_mode == "container"
    assert by_type["Java"].name == "OpenJDK17"


def test_custom_runtime_stack_create_show_modify_release_delete():
    c = client()
    stack_name = name("sdk/stack-")
    body = {"name": stack_name, "deploy_mode": "virtualmachine", "type": "Java", "version": "1.0.1",
            "spec": {"parameters": {"jdk_url": "obs://bucket/jdk.tar.gz"}}, "description": "from the SDK"}
    status, created = raw(c, "POST", "/runtimestacks", body)
    assert status == 200
    stack_id = created["id"]
    assert created["status"] == "Disable"
    assert created["system"] == 0

    status, shown = raw(c, "GET", f"/runtimestacks/{stack_id}")
    assert status == 200
    assert shown["name"] == stack_name
    assert shown["spec"] == body["spec"]

    status, modified = raw(c, "PUT", f"/runtimestacks/{stack_id}", {**body, "version": "1.0.2", "description": "changed"})
    assert status == 200
    assert modified["version"] == "1.0.2"
    assert modified["description"] == "changed"

    status, _ = raw(c, "POST", "/runtimestacks/action", {"action": "Supported", "parameters": {"runtimestacks": [{"id": stack_id}]}})
    assert status == 204
    assert raw(c, "GET", f"/runtimestacks/{stack_id}")[1]["status"] == "Supported"
    listed = client().show_runtime_stacks(ShowRuntimeStacksRequest()).runtimestacks
    assert (stack_name, "Supported") in [(s.name, s.status) for s in listed]

    status, _ = raw(c, "DELETE", f"/runtimestacks/{stack_id}", body)
    assert status == 204
    with pytest.raises(ClientRequestException) as info:
        raw(c, "GET", f"/runtimestacks/{stack_id}")
    assert info.value.status_code == 404
