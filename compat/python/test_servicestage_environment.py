"""ServiceStage v3 environments driven by the official SDK's ServiceStageClient (typed methods).

Creates, lists, shows, updates an environment, replaces and shows its managed resources and
deletes it, checking that the values come back through the SDK's own response models.
Settings come from compat/run-python.sh: OPENSTAGE_URL, OPENSTAGE_ACCESS_KEY,
OPENSTAGE_SECRET_KEY, OPENSTAGE_PROJECT_ID.
"""
import uuid

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkservicestage.v3 import (
    CreateEnvironmentRequest,
    DeleteEnvironmentRequest,
    EnvironmentCreate,
    EnvironmentCreateLabels,
    EnvironmentModify,
    EnvironmentResourceModify,
    ModifyEnvironmentRequest,
    ModifyResourceInEnvironmentRequest,
    Resource,
    ServiceStageClient,
    ShowEnvironmentInfoRequest,
    ShowEnvironmentResourcesRequest,
    ShowEnvironmentsRequest,
)

from openstage_env import AK, PROJECT_ID, SK, URL, sdk_client


@pytest.fixture(scope="module")
def client():
    return sdk_client(ServiceStageClient)


def unique(prefix):
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def test_environment_lifecycle_through_the_sdk(client):
    name = unique("sdkenv")
    created = client.create_environment(CreateEnvironmentRequest(body=EnvironmentCreate(
        name=name, description="made by the SDK", vpc_id="vpc-sdk", deploy_mode="container",
        labels=[EnvironmentCreateLabels(key="team", value="compat")])))
    assert created.status_code == 200
    env_id = created.id
    assert env_id
    assert created.name == name
    assert created.project_id == PROJECT_ID
    assert created.description == "made by the SDK"
    assert created.vpc_id == "vpc-sdk"
    assert created.deploy_mode == "container"
    assert created.enterprise_project_id == "0"
    assert isinstance(created.create_time, int) and created.create_time > 0
    assert [(label.key, label.value) for label in created.labels] == [("team", "compat")]
    assert created.creator

    listed = client.show_environments(ShowEnvironmentsRequest(name=name, limit=10, offset=0, order_by="create_time", order="desc"))
    assert listed.count == 1
    assert [e.id for e in listed.environments] == [env_id]
    assert listed.environments[0].vpc_id == "vpc-sdk"
    assert listed.environments[0].labels[0].key == "team"
    assert client.show_environments(ShowEnvironmentsRequest(name=name, limit=10, offset=10)).environments == []

    shown = client.show_environment_info(ShowEnvironmentInfoRequest(environment_id=env_id))
    assert shown.name == name
    assert shown.deploy_mode == "container"
    assert shown.resources == []
    assert shown.create_time == created.create_time

    new_name = unique("sdkrenamed")
    modified = client.modify_environment(ModifyEnvironmentRequest(environment_id=env_id, body=EnvironmentModify(
        name=new_name, description="changed", labels=[])))
    assert modified.name == new_name
    assert modified.description == "changed"
    assert modified.labels == []
    assert modified.vpc_id == "vpc-sdk"

    replaced = client.modify_resource_in_environment(ModifyResourceInEnvironmentRequest(environment_id=env_id, body=EnvironmentResourceModify(
        resources=[Resource(id="default", name="engine", type="cse"), Resource(id="local", name="this-host", type="ecs")])))
    assert [(r.id, r.name, r.type) for r in replaced.resources] == [("default", "engine", "cse"), ("local", "this-host", "ecs")]

    resources = client.show_environment_resources(ShowEnvironmentResourcesRequest(environment_id=env_id))
    assert [(r.id, r.name, r.type) for r in resources.resources] == [("default", "engine", "cse"), ("local", "this-host", "ecs")]
    shown = client.show_environment_info(ShowEnvironmentInfoRequest(environment_id=env_id))
    assert [r.id for r in shown.resources] == ["default", "local"]

    deleted = client.delete_environment(DeleteEnvironmentRequest(environment_id=env_id))
    assert deleted.status_code == 204

    with pytest.raises(ClientRequestException) as info:
        client.show_environment_info(ShowEnvironmentInfoRequest(environment_id=env_id))
    assert info.value.status_code == 401
    assert info.value.error_code == "SVCSTG.00100401"


def test_duplicate_name_is_refused_with_svcstg_00100449(client):
    name = unique("sdkdup")
    env = client.create_environment(CreateEnvironmentRequest(body=EnvironmentCreate(name=name, vpc_id="vpc-x")))
    with pytest.raises(ClientRequestException) as info:
        client.create_environment(CreateEnvironmentRequest(body=EnvironmentCreate(name=name, vpc_id="vpc-x")))
    assert info.value.status_code == 400
    assert info.value.error_code == "SVCSTG.00100449"
    client.delete_environment(DeleteEnvironmentRequest(environment_id=env.id))
